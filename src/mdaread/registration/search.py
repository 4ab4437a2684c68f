"""Coarse exhaustive translation search (numpy): where could the vertebra be in the follow-up?

Both images are sampled at COARSE_MM in the BASELINE frame (the follow-up through a seed
transform), so every candidate translation is a whole-voxel shift and the mutual information of
each shift is one ``bincount`` of pre-quantised intensities — thousands of shifts cost tens of
milliseconds. Neighbouring vertebrae look alike, so the search returns several local maxima;
the fine registration decides between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

BINS = 16
MIN_OVERLAP = 0.5


@dataclass(frozen=True)
class Candidate:
    """A translation ``shift_mm`` (baseline frame, applied before the seed) and its MI (nats)."""

    mi: float
    shift_mm: npt.NDArray[np.float64]


def _quantise(values: npt.NDArray[np.floating], valid: npt.NDArray[np.bool_],
              bins: int) -> npt.NDArray[np.intp]:
    """Bin index 0…bins−1 for valid voxels, ``bins`` for invalid ones."""
    q = np.full(values.shape, bins, dtype=np.intp)
    if valid.any():
        lo, hi = float(values[valid].min()), float(values[valid].max())
        scale = bins / (hi - lo) if hi > lo else 0.0
        scaled = (values[valid].astype(np.float64) - lo) * scale
        q[valid] = np.clip(scaled.astype(np.intp), 0, bins - 1)
    return q


def _mi(joints: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Mutual information (nats) of each joint histogram in a ``(S, B, B)`` stack."""
    totals = joints.sum(axis=(1, 2), keepdims=True)
    p = joints / np.maximum(totals, 1.0)
    outer = p.sum(axis=2, keepdims=True) * p.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / np.where(outer > 0, outer, 1.0)), 0.0)
    return np.asarray(terms.sum(axis=(1, 2)), dtype=np.float64)


def mi_map(fixed: npt.NDArray[np.floating], fixed_valid: npt.NDArray[np.bool_],
           moving: npt.NDArray[np.floating], moving_valid: npt.NDArray[np.bool_],
           steps: int) -> npt.NDArray[np.float64]:
    """Mutual information × overlap fraction for every whole-voxel shift ``(dk, dj, di)`` in
    ``[-steps, steps]³``.

    ``fixed`` is an ``n³`` cube, ``moving`` an ``(n + 2·steps)³`` cube with the same spacing and
    centre; shift 0 compares ``fixed`` with the middle of ``moving``. Shifts where less than half
    the fixed voxels land on valid moving voxels get −inf.
    """
    n = fixed.shape[0]
    fq = _quantise(fixed, fixed_valid, BINS)[fixed_valid] * (BINS + 1)
    mq = _quantise(moving, moving_valid, BINS)
    size = 2 * steps + 1
    joints = np.empty((size**3, BINS, BINS), dtype=np.float64)
    for s, (a, b, c) in enumerate(np.ndindex(size, size, size)):
        window = mq[a:a + n, b:b + n, c:c + n][fixed_valid]
        counts = np.bincount(fq + window, minlength=BINS * (BINS + 1))
        joints[s] = counts.reshape(BINS, BINS + 1)[:, :BINS]  # last column: invalid moving
    overlap = joints.sum(axis=(1, 2)) / max(fq.size, 1)
    # MI of a small overlap can beat MI of the whole region (fewer mixed tissues): weigh by it
    scores = _mi(joints) * overlap
    scores[overlap < MIN_OVERLAP] = float("-inf")
    return scores.reshape(size, size, size)


def candidates(scores: npt.NDArray[np.float64], spacing_mm: float, *, keep: int = 3,
               min_separation_mm: float = 12.0, within: float = 0.75) -> list[Candidate]:
    """Local maxima of ``scores`` (from :func:`mi_map`), best first: at most ``keep``, at least
    ``min_separation_mm`` apart, each scoring at least ``within`` × the best."""
    finite = np.isfinite(scores)
    if not finite.any():
        return []
    filled = np.where(finite, scores, -1e9)
    peaks = (filled == ndimage.maximum_filter(filled, size=3, mode="nearest")) & finite
    steps = (scores.shape[0] - 1) // 2
    order = np.argsort(filled[peaks])[::-1]
    idx = np.argwhere(peaks)[order]
    best = float(filled[tuple(idx[0])])
    chosen: list[Candidate] = []
    for kji in idx:
        value = float(filled[tuple(kji)])
        if chosen and value < within * best:
            break
        shift = (kji[::-1] - steps).astype(np.float64) * spacing_mm  # (k, j, i) → (x, y, z)
        if all(np.linalg.norm(shift - c.shift_mm) >= min_separation_mm for c in chosen):
            chosen.append(Candidate(value, shift))
        if len(chosen) == keep:
            break
    return chosen
