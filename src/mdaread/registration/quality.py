"""How far to trust a finished registration: overlap of the region and sharpness of the optimum.

Mutual information values are not comparable between pairs (they depend on content, modality and
noise), so the call uses two pair-independent measures computed at 3 mm on the registered region:

- ``overlap``: the fraction of the baseline ball whose mapped points fall on usable follow-up
  voxels (not outside the follow-up's field of view, not cement);
- normalised mutual information ``nmi = (H(A) + H(B)) / H(A, B)`` (1 = independent, 2 =
  identical) at the result, and at the result shifted by ±3 mm along each LPS axis. A correct
  alignment is a clear maximum: ``sharpness = (nmi − mean(nmi shifted)) / (nmi − 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from mdaread.geometry import rigid
from mdaread.registration import region as rg
from mdaread.registration.convert import to_transform

MIN_OVERLAP = 0.3  # below: failed — the result maps the region mostly off the follow-up
GOOD_OVERLAP = 0.7  # below: poor
MIN_NMI = 1.05  # below: failed — the images share (almost) no information
WEAK_NMI = 1.10  # below: poor (correct fits on the sample trial and real MR: 1.2–1.5)
MIN_SHARPNESS = 0.03  # below: poor — a flat optimum
CLEAR_SHARPNESS = 0.1  # below, with another problem (beaten, half off the image): failed
PROBE_MM = 3.0
BINS = 32


@dataclass(frozen=True)
class Verdict:
    """``quality`` (ok | poor | failed), the warnings that explain it and the numbers behind it."""

    quality: str
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def nmi(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating], bins: int = BINS) -> float:
    """Normalised mutual information of two equally long samples (1 … 2)."""
    if a.size < 2:
        return float("nan")
    hist, _, _ = np.histogram2d(a, b, bins=bins)
    p = hist / hist.sum()
    px, py = p.sum(axis=1), p.sum(axis=0)

    def entropy(q: npt.NDArray[np.float64]) -> float:
        q = q[q > 0]
        return float(-np.sum(q * np.log(q)))

    joint = entropy(p.ravel())
    return (entropy(px) + entropy(py)) / joint if joint > 0 else float("nan")


def assess(fixed_img: sitk.Image, fixed_mask: sitk.Image, moving_img: sitk.Image,
           moving_mask: sitk.Image, matrix: npt.NDArray[np.float64],
           center: npt.NDArray[np.float64]) -> Verdict:
    """The quality call for ``matrix`` (fixed → moving LPS) on the prepared region images."""
    fixed_small = sitk.BinShrink(fixed_img, [2, 2, 2])
    mask_small = sitk.Shrink(fixed_mask, [2, 2, 2])
    fixed_values = sitk.GetArrayViewFromImage(fixed_small)
    fixed_in = sitk.GetArrayViewFromImage(mask_small) > 0
    n_fixed = int(fixed_in.sum())

    def sample(m: npt.NDArray[np.float64]) -> tuple[float, float]:
        transform = to_transform(m, center)
        values = sitk.GetArrayFromImage(rg.resample(moving_img, fixed_small, transform))
        inside = sitk.GetArrayFromImage(
            rg.resample(moving_mask, fixed_small, transform,
                        interpolator=sitk.sitkNearestNeighbor, pixel_type=sitk.sitkUInt8)) > 0
        both = fixed_in & inside
        overlap = float(both.sum()) / max(n_fixed, 1)
        return overlap, nmi(fixed_values[both], values[both])

    overlap, value = sample(matrix)
    shifted = [sample(rigid.compose(matrix, rigid.translation(sign * PROBE_MM * axis)))[1]
               for axis in np.eye(3) for sign in (-1.0, 1.0)]
    shifted_arr = np.asarray(shifted)
    sharpness = float((value - np.nanmean(shifted_arr)) / (value - 1.0)) if value > 1.0 else 0.0
    details = {"overlap": overlap, "nmi": value, "sharpness": sharpness}
    return _call(overlap, value, sharpness, bool(np.nanmax(shifted_arr) > value), details)


def _call(overlap: float, value: float, sharpness: float, beaten: bool,
          details: dict[str, Any]) -> Verdict:
    problems: list[str] = []
    if overlap < GOOD_OVERLAP:
        problems.append(f"only {100 * overlap:.0f}% of the region maps onto the follow-up")
    if not np.isfinite(value) or value < MIN_NMI:
        problems.append(f"the aligned images share almost no information (normalised MI "
                        f"{value:.3f})")
    elif value < WEAK_NMI:
        problems.append(f"the aligned images share little information (normalised MI "
                        f"{value:.3f})")
    if beaten:
        problems.append(f"a {PROBE_MM:.0f} mm shift matches better: the fit is not at an optimum")
    elif sharpness < MIN_SHARPNESS:
        problems.append(f"flat optimum (sharpness {sharpness:.3f}): alignment poorly determined")
    weak = sharpness < CLEAR_SHARPNESS
    failed = (overlap < MIN_OVERLAP or not np.isfinite(value) or value < MIN_NMI
              or (beaten and weak) or (overlap < 0.5 and weak))
    if failed:
        return Verdict("failed", tuple(problems), details)
    return Verdict("poor" if problems else "ok", tuple(problems), details)
