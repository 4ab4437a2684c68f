"""The final level of a registration: one optimisation over a wider, tapered ball.

In the 40 mm ball alone the optimum settles off the truth (sample trial with a rigidly moving
spine, median 0.13 mm CT↔CT and 0.6 mm with thick-slice MR, from the true transform); a wider
ball holds parts of the neighbouring vertebrae too. They may have moved differently, so they
count less: the metric mask thins out from the radius to the wide edge (see
:func:`.region.tapered_ball_mask`).

Where the metric is sampled depends on the baseline:

- a thin-slice baseline (every voxel edge ≤ NATIVE_MAX_SPACING_MM, i.e. a CT), or a CT
  baseline whose thick axis crosses the follow-up's (axial CT → sagittal MR) — on the
  baseline's own grid at full resolution, with a fixed number of samples; the follow-up on its
  own grid too. A resampled 1.5 mm grid blurs the edges that decide the last tenths of a
  millimetre (rigid-spine sample trial, from the truth: CT↔CT TRE median/max 0.083/0.31 →
  0.068/0.20 mm).
- an MR baseline, or a thick CT baseline with a follow-up thick along the same axis — on an
  isotropic grid. When both images have thick slices along the same axis, mutual information
  on their own grids prefers positions where the slices line up (the interpolation artefact):
  from the truth, MR↔MR pairs drifted to 0.9 mm on native grids, 0.25 mm on a 2.5 mm grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from mdaread.errors import RegistrationError
from mdaread.model.jobs import Cancel
from mdaread.model.volume import Volume
from mdaread.registration import optimise as opt
from mdaread.registration import region as rg

FloatArray = npt.NDArray[np.float64]

NATIVE_MAX_SPACING_MM = 1.5
STEPS = (0.3, 0.002, 0.7)  # starts within ~0.5 mm of the optimum: small, slowly shrinking steps
FLOOR = 0.3  # sampling density at the wide ball's edge relative to the inner ball
BINS = 64
SMALL_LEVELS: opt.Levels = ((1, 0.0, 0.1),)  # the 40 mm ball at the region's spacing


@dataclass(frozen=True)
class Plan:
    """How the final level samples the metric: the wide ball is ``factor`` × the radius; on the
    native grids with about ``samples`` points, or on an isotropic ``spacing_mm`` grid (None:
    the candidates' spacing) sampling ``fraction`` of the mask."""

    factor: float
    native: bool
    samples: int = 0
    spacing_mm: float | None = None
    fraction: float = 0.0


# Chosen on two bent-spine sample trials (seeds 1 and 2, 84 pairs) and the real sagittal T1
# moved by known transforms, see benchmarks/registration.py. The neighbours have moved
# differently (the spine bends between scans), so the wide ball stays small: 1.5× with CT
# baselines (1.25× and 2× were no better over both seeds), 2× where thick MR slices leave few
# edges in the 40 mm ball. An MR baseline's in-plane detail is worth a 2 mm grid (real T1: TRE
# 0.07/0.10 → 0.06/0.06 mm at 2.5 → 2 mm). A thick axial CT → sagittal MR pair runs native (seed
# 2: median 0.32 → 0.21 mm). Resampled CT↔CT samples 10 % of the mask: at 5 % sampling noise
# left the median at 0.115 mm (seed 1).
NATIVE_CT = Plan(factor=1.5, native=True, samples=40_000)
NATIVE_WITH_MR = Plan(factor=1.5, native=True, samples=30_000)
RESAMPLED_CT = Plan(factor=1.5, native=False, spacing_mm=None, fraction=0.1)
RESAMPLED_MR_BASELINE = Plan(factor=2.0, native=False, spacing_mm=2.0, fraction=0.1)
RESAMPLED_CT_TO_MR = Plan(factor=2.0, native=False, spacing_mm=2.5, fraction=0.3)


def plan_for(fixed: Volume, moving: Volume) -> Plan:
    """The final-level plan for this pair (see the module docstring): native grids for a
    thin-slice baseline, and for a CT baseline whose thick axis crosses the follow-up's (a thick
    axial CT → sagittal MR: their slices cannot line up); an MR baseline — thick slices whose
    in-plane detail a 2 mm grid keeps — and same-axis thick pairs on an isotropic grid."""
    kind_f, kind_m = rg.modality_kind(fixed), rg.modality_kind(moving)
    thin = max(fixed.spacing) <= NATIVE_MAX_SPACING_MM
    if thin or (kind_f == "CT" and not _thick_along_same_axis(fixed, moving)):
        return NATIVE_CT if kind_f == kind_m == "CT" else NATIVE_WITH_MR
    if kind_f == "MR":
        return RESAMPLED_MR_BASELINE
    return RESAMPLED_CT_TO_MR if kind_m == "MR" else RESAMPLED_CT


def _thick_along_same_axis(fixed: Volume, moving: Volume) -> bool:
    """Both volumes have a voxel edge > NATIVE_MAX_SPACING_MM, along (nearly) parallel axes."""
    axes = []
    for volume in (fixed, moving):
        spacing = np.asarray(volume.spacing, dtype=np.float64)
        thickest = int(np.argmax(spacing))
        if spacing[thickest] <= NATIVE_MAX_SPACING_MM:
            return False
        axes.append(np.asarray(volume.direction, dtype=np.float64)[:, thickest])
    return abs(float(np.dot(axes[0], axes[1]))) > 0.9


def refine_wide(fixed: Volume, moving: Volume, fixed_small: tuple[sitk.Image, sitk.Image],
                fit: opt.Fit, center: FloatArray, radius: float, max_iterations: int,
                cancel: Cancel) -> opt.Fit:
    """The final level from the best candidate ``fit``. Falls back to the candidates' 40 mm
    region (``fixed_small``: baseline region image and metric mask) when the wide region cannot
    be cut (e.g. it lies mostly outside the baseline)."""
    plan = plan_for(fixed, moving)
    try:
        fixed_img, fixed_mask, moving_r, fraction = _wide_regions(
            plan, fixed, moving, fit, center, radius)
    except RegistrationError:
        return refine_small(*fixed_small, fit, center, max_iterations, cancel)
    final = opt.run(fixed_img, fixed_mask, moving_r, center, fit.matrix, max_iterations,
                    cancel, ((1, 0.0, fraction),), STEPS, bins=BINS,
                    regular=plan.native, settle=True)
    return opt.chain(fit, final)


def refine_small(fixed_img: sitk.Image, fixed_mask: sitk.Image, fit: opt.Fit,
                 center: FloatArray, max_iterations: int, cancel: Cancel) -> opt.Fit:
    """The full-resolution level over the candidates' own region (the 40 mm ball)."""
    final = opt.run(fixed_img, fixed_mask, fit.moving, center, fit.matrix, max_iterations,
                    cancel, SMALL_LEVELS, STEPS, settle=True)
    return opt.chain(fit, final)


def _wide_regions(plan: Plan, fixed: Volume, moving: Volume, fit: opt.Fit, center: FloatArray,
                  radius: float) -> tuple[sitk.Image, sitk.Image, rg.RegionImage, float]:
    """Baseline image, its tapered metric mask, the follow-up region and the sampled fraction
    of the mask, for ``plan``. RegistrationError when a region cannot be cut."""
    wide = plan.factor * radius
    kind_f, kind_m = rg.modality_kind(fixed), rg.modality_kind(moving)
    if plan.native:
        fixed_r = rg.native_region(fixed, center, wide, kind=kind_f, role="baseline")
        moving_r = rg.native_region(moving, center, wide + 10.0, kind=kind_m, mask_cement=True,
                                    matrix=fit.matrix, role="follow-up")
    else:
        spacing = plan.spacing_mm or fit.moving.image.GetSpacing()[0]
        fixed_r = rg.region_image(fixed, center, wide, spacing, kind=kind_f, role="baseline")
        moving_r = rg.region_image(moving, center, wide + 10.0, spacing, kind=kind_m,
                                   mask_cement=True, matrix=fit.matrix, role="follow-up")
    taper = rg.tapered_ball_mask(fixed_r.image, center, radius, wide, FLOOR, opt.SEED)
    mask = sitk.And(taper, fixed_r.mask)
    in_mask = float(np.count_nonzero(sitk.GetArrayViewFromImage(mask)))
    ball_voxels = 4.0 / 3.0 * np.pi * radius**3 / float(np.prod(fixed_r.image.GetSpacing()))
    if in_mask < 0.2 * ball_voxels or in_mask == 0.0:
        raise RegistrationError("the wide region lies mostly outside the baseline")
    fraction = min(1.0, plan.samples / in_mask) if plan.native else plan.fraction
    return fixed_r.image, mask, moving_r, fraction
