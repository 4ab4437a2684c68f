"""Rigid (6 DOF) intensity registration of a follow-up to the baseline around one vertebra.

Recipe (each step keeps the job small, so that a pair takes a fraction of a second):

1. Cut the baseline to a cube of half-edge ``radius_mm`` around the vertebra centre and resample
   it to ``spacing_mm`` isotropic on an LPS-aligned grid; the metric only sees a ball of
   ``radius_mm`` in it. For each candidate position, cut the follow-up to a cube 10 mm larger
   around the centre mapped through the candidate, resampled the same way.
2. CT values are clamped to [-200, 1500] HU and follow-up CT voxels above 2000 HU (cement,
   metal) are masked out of the metric. MR values are clamped to their 0.5–99.5 percentiles;
   dark cement on MR is left to mutual information (it is a small part of the ball).
3. Coarse exhaustive search over translations (±``search_mm``) at 6 mm resolution (numpy, see
   :mod:`.search`), from the initial transform and from the alignment of the two volumes'
   centres: up to 3 distinct candidates, plus the seeds themselves across modalities, each
   polished on a 3 mm grid.
4. Mattes mutual information, regular-step gradient descent with scales from physical shift
   (:mod:`.optimise`): each candidate at 6 mm. Candidates are ranked by mutual information ×
   overlap in a ball of twice the radius (the wider context tells adjacent vertebrae apart);
   the best is registered at 3 mm, then refined over a wider ball whose mask thins out beyond
   the radius, so that the neighbouring vertebrae count less — on the images' own grids or on
   an isotropic one depending on their slices (:mod:`.final`).
5. A quality call from the overlap of the region after mapping and from the sharpness of the
   optimum (normalised MI at the result vs. at ±3 mm shifts) — see :mod:`.quality`.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from mdaread.errors import RegistrationError
from mdaread.geometry import rigid
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.model.volume import Volume
from mdaread.registration import final
from mdaread.registration import optimise as opt
from mdaread.registration import region as rg
from mdaread.registration import search as search_mod
from mdaread.registration.quality import assess
from mdaread.registration.result import RegistrationResult

FloatArray = npt.NDArray[np.float64]

MAX_RADIUS_MM = 100.0  # the GUI offers 15–100 mm; beyond, the context grid needs gigabytes
COARSE_MM = 6.0
# (shrink factor, smoothing sigma in mm, sampled fraction of the ball) per resolution level
LEVELS_CANDIDATE = ((4, 3.0, 1.0),)  # 6 mm, for every candidate
LEVELS_WINNER = ((2, 1.5, 0.5),)  # then 3 mm, for the best-ranked candidate only
# regular-step gradient descent per stage: (first step ≈ mm, smallest step, relaxation)
STEPS_CANDIDATE = (2.0, 0.01, 0.5)
PRIOR = 0.05  # candidate score penalty for moving the centre by the whole search range
# Across modalities the wide-context MI separates adjacent vertebrae poorly (CT↔STIR on the sample
# trial preferred the next vertebra by > 10 %), so the scanner frame weighs more there.
PRIOR_CROSS_MODALITY = 0.25
AMBIGUITY = 0.10  # a distant fit scoring within 10 % of the best is "almost as good"


def register_rigid(
    fixed: Volume,
    moving: Volume,
    *,
    center_lps: npt.ArrayLike | None = None,
    radius_mm: float = 40.0,
    initial: npt.ArrayLike | None = None,
    search_mm: float | None = None,
    spacing_mm: float = 1.5,
    max_iterations: int = 200,
    progress: Progress = no_progress,
    cancel: Cancel = never_cancel,
) -> RegistrationResult:
    """Rigidly register ``moving`` (follow-up) to ``fixed`` (baseline) around ``center_lps``.

    ``center_lps`` is the treated vertebra's centre in baseline LPS mm (default: the centre of the
    baseline grid); ``radius_mm`` the radius of the ball the metric sees. ``initial`` is a 4×4
    fixed→moving matrix to start from (default identity: scanner coordinates). ``search_mm`` is
    the half-range of the coarse translation search (default 30 mm without ``initial``, 0 — no
    search — with it, e.g. when refining a reader's nudge or a landmark fit).

    Returns a RegistrationResult whose ``matrix`` maps baseline LPS → follow-up LPS. Raises
    RegistrationError when the region lies outside an image, the region holds no usable voxels
    or the metric is not a number; Cancelled when ``cancel()`` becomes true.
    """
    start = time.perf_counter()
    center = _center(fixed, center_lps)
    init = _initial(initial)
    if not (np.isfinite(radius_mm) and radius_mm > 0.0):
        raise RegistrationError(f"the registration radius must be a positive number of mm, "
                                f"got {radius_mm}")
    if radius_mm > MAX_RADIUS_MM:  # the context grid is 4 radii wide: memory grows as r³
        raise RegistrationError(f"the registration radius must be at most {MAX_RADIUS_MM:.0f} "
                                f"mm (a region around the treated vertebra), got {radius_mm:g}")
    for volume, role in ((fixed, "baseline"), (moving, "follow-up")):
        if min(volume.shape) < 3:
            raise RegistrationError(f"the {role} has only {min(volume.shape)} slice(s) along one "
                                    "axis: a 3-D registration needs a volume")
    search = (30.0 if initial is None else 0.0) if search_mm is None else float(search_mm)
    progress(0.0, "preparing the region")
    fixed_r, fixed_mask = _fixed_region(fixed, center, radius_mm, spacing_mm)
    check_cancel(cancel)
    warnings: list[str] = []
    starts = [init]
    if search > 0.0:
        progress(0.1, "coarse search")
        starts = _coarse_search(fixed, moving, center, radius_mm, init, search)
    fits = _candidate_fits(fixed_r.image, fixed_mask, moving, center, radius_mm, starts,
                           spacing_mm, max_iterations, progress, cancel)
    if len(fits) > 1:
        progress(0.6, "comparing candidates")
        anchors = [rigid.apply(m, center) for m in _seeds(fixed, moving, center, init)]
        fits = _rank_by_context(fixed, moving, center, radius_mm, fits, anchors, search,
                                warnings)
    progress(0.7, "registering (3 mm)")
    winner = opt.chain(fits[0], opt.run(fixed_r.image, fixed_mask, fits[0].moving, center,
                                     fits[0].matrix, max_iterations, cancel, LEVELS_WINNER,
                                     STEPS_CANDIDATE))
    progress(0.75, "registering (full resolution)")
    best = final.refine_wide(fixed, moving, (fixed_r.image, fixed_mask), winner, center,
                             radius_mm, max_iterations, cancel)
    progress(0.95, "checking the result")
    verdict = assess(fixed_r.image, fixed_mask, best.moving.image, best.moving.mask,
                     best.matrix, center)
    warnings.extend(verdict.warnings)
    if not best.converged:
        warnings.append(f"the optimiser did not converge ({best.stop})")
    quality = verdict.quality
    if warnings and quality == "ok":
        quality = "poor"
    shift = float(np.linalg.norm(rigid.apply(best.matrix, center) - rigid.apply(init, center)))
    progress(1.0, "done")
    return RegistrationResult(
        matrix=best.matrix, metric=best.metric,
        iterations=best.iterations + sum(f.iterations for f in fits[1:]),
        seconds=time.perf_counter() - start, quality=quality, warnings=tuple(warnings),
        converged=best.converged, stop_condition=best.stop, method="intensity",
        center_lps=(float(center[0]), float(center[1]), float(center[2])),
        radius_mm=float(radius_mm),
        details={**verdict.details, "shift_from_initial_mm": shift, "candidates": len(fits)},
    )


def _candidate_fits(fixed_img: sitk.Image, fixed_mask: sitk.Image, moving: Volume,
                    center: FloatArray, radius: float, starts: list[FloatArray], spacing: float,
                    max_iterations: int, progress: Progress, cancel: Cancel) -> list[opt.Fit]:
    """The 6 mm registration from every start; starts whose region misses the follow-up are
    dropped (RegistrationError only when none is left)."""
    fits: list[opt.Fit] = []
    for n, candidate in enumerate(starts):
        check_cancel(cancel)
        progress(0.2 + 0.4 * n / len(starts), f"registering ({n + 1} of {len(starts)})")
        try:
            fits.append(_fine(fixed_img, fixed_mask, moving, center, radius, candidate, spacing,
                              max_iterations, cancel))
        except RegistrationError:
            if not fits and n == len(starts) - 1:
                raise
    return fits


def _center(fixed: Volume, center_lps: npt.ArrayLike | None) -> FloatArray:
    center = fixed.center_world() if center_lps is None else np.asarray(center_lps, float)
    if center.shape != (3,) or not np.all(np.isfinite(center)):
        raise RegistrationError(f"the registration centre must be 3 finite LPS mm numbers, "
                                f"got {center_lps!r}")
    return center


def _initial(initial: npt.ArrayLike | None) -> FloatArray:
    if initial is None:
        return np.eye(4)
    m = np.asarray(initial, dtype=np.float64)
    if m.shape != (4, 4) or not rigid.is_rigid(m, 1e-4):
        raise RegistrationError("the initial transform must be a rigid 4x4 matrix")
    return m


def _fixed_region(fixed: Volume, center: FloatArray, radius: float,
                  spacing: float) -> tuple[rg.RegionImage, sitk.Image]:
    """The baseline cut to the region and the metric mask (the ball ∩ the baseline's data)."""
    fixed_r = rg.region_image(fixed, center, radius, spacing, kind=rg.modality_kind(fixed),
                              role="baseline")
    ball = rg.sphere_mask(fixed_r.image, center, radius)
    fixed_mask = sitk.And(ball, fixed_r.mask)
    usable = float(np.sum(sitk.GetArrayViewFromImage(fixed_mask)))
    if usable < 0.2 * float(np.sum(sitk.GetArrayViewFromImage(ball))):
        raise RegistrationError(
            f"the registration region (centre {rg.fmt_point(center)} mm, radius {radius:.0f} mm)"
            " lies mostly outside the baseline volume")
    if _flat(fixed_r.image, fixed_mask):
        raise RegistrationError("the baseline region is uniform: nothing to register on")
    return fixed_r, fixed_mask


def _flat(image: sitk.Image, mask: sitk.Image) -> bool:
    values = sitk.GetArrayViewFromImage(image)[sitk.GetArrayViewFromImage(mask) > 0]
    return values.size == 0 or float(np.ptp(values)) <= 1e-6


def _seeds(fixed: Volume, moving: Volume, center: FloatArray,
           init: FloatArray) -> list[FloatArray]:
    """Starting points of the coarse search: the initial transform and, when it differs by more
    than the coarse step, the alignment of the two grids' centres (a follow-up whose field of
    view was centred on the same vertebra)."""
    seeds = [init]
    offset = moving.center_world() - fixed.center_world()
    centred = rigid.translation(offset)
    if np.linalg.norm(rigid.apply(centred, center) - rigid.apply(init, center)) > COARSE_MM:
        seeds.append(centred)
    return seeds


def _coarse_search(fixed: Volume, moving: Volume, center: FloatArray, radius: float,
                   init: FloatArray, search: float) -> list[FloatArray]:
    """Starting matrices: up to 3 best distinct translations (±search around each seed, on a
    COARSE_MM grid) by mutual information; across modalities also each seed that none of them is
    near. There a 6 mm grid can miss the true position: a shift of half a vertebral level
    (bodies onto discs) can out-score it (sample trial, CT→STIR: the truth was no local maximum
    at 6 mm but the best one at 3 mm). Within a modality the 6 mm search has not missed it."""
    n = int(np.ceil(2.0 * radius / COARSE_MM)) + 1
    steps = int(np.ceil(search / COARSE_MM))
    f_vals, f_valid = rg.sampled_in_fixed_frame(fixed, center, n, COARSE_MM,
                                                kind=rg.modality_kind(fixed), matrix=np.eye(4))
    f_valid &= _ball(n, COARSE_MM, radius)
    seeds = _seeds(fixed, moving, center, init)
    found: list[tuple[float, FloatArray]] = []
    sampled = rg.sampled_many(moving, center, n + 2 * steps, COARSE_MM,
                              kind=rg.modality_kind(moving), matrices=seeds, mask_cement=True)
    for seed, (m_vals, m_valid) in zip(seeds, sampled, strict=True):
        scores = search_mod.mi_map(f_vals, f_valid, m_vals, m_valid, steps)
        found.extend((c.mi, seed @ rigid.translation(c.shift_mm))
                     for c in search_mod.candidates(scores, COARSE_MM))
    if not found:
        raise RegistrationError("the registration region lies outside the follow-up volume "
                                "(no overlap anywhere in the search range)")
    found.sort(key=lambda item: -item[0])
    chosen: list[FloatArray] = []
    for value, m in found:
        far = all(np.linalg.norm(rigid.apply(m, center) - rigid.apply(c, center)) >= 12.0
                  for c in chosen)
        if far and value >= 0.75 * found[0][0]:
            chosen.append(m)
    chosen = chosen[:3]
    cross_modality = rg.modality_kind(fixed) != rg.modality_kind(moving)
    for seed in seeds if cross_modality else []:
        if all(np.linalg.norm(rigid.apply(seed, center) - rigid.apply(c, center)) >= 12.0
               for c in chosen):
            chosen.append(seed)
    step = COARSE_MM / 2.0
    n = int(np.ceil(2.0 * radius / step)) + 1
    f_vals, f_valid = rg.sampled_in_fixed_frame(fixed, center, n, step,
                                                kind=rg.modality_kind(fixed), matrix=np.eye(4))
    f_valid &= _ball(n, step, radius)
    sampled = rg.sampled_many(moving, center, n + 4, step, kind=rg.modality_kind(moving),
                              matrices=chosen, mask_cement=True)
    return [_polish((f_vals, f_valid), moving_3mm, step, m)
            for m, moving_3mm in zip(chosen, sampled, strict=True)]


def _polish(fixed_3mm: tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]],
            moving_3mm: tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]], step: float,
            start: FloatArray) -> FloatArray:
    """The best translation within ±2 steps of a coarse candidate on a ``step`` (3 mm) grid, the
    baseline ball and the follow-up (2 steps wider, through ``start``) already sampled there:
    the gradient descent then starts within ~1.5 mm (plus rotation) of the optimum."""
    f_vals, f_valid = fixed_3mm
    m_vals, m_valid = moving_3mm
    best = search_mod.candidates(search_mod.mi_map(f_vals, f_valid, m_vals, m_valid, 2), step,
                                 keep=1)
    return start @ rigid.translation(best[0].shift_mm) if best else start


def _ball(n: int, spacing: float, radius: float) -> npt.NDArray[np.bool_]:
    """The ball of ``radius`` mm centred in an ``n³`` grid of ``spacing`` mm."""
    axis = (np.arange(n) - (n - 1) / 2.0) * spacing
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.asarray(x**2 + y**2 + z**2 <= radius**2)


def _rank_by_context(fixed: Volume, moving: Volume, center: FloatArray, radius: float,
                     fits: list[opt.Fit], anchors: list[FloatArray], search: float,
                     warnings: list[str]) -> list[opt.Fit]:
    """Candidates best first, by mutual information × overlap in a ball of twice the radius at
    3 mm, times a mild prior for staying near the starting positions (``anchors``: where the
    seeds put the centre): −PRIOR at a distance of ``search``. Adjacent vertebrae look alike
    within the registration ball; the wider context (neighbours, spinal curve, ribs) usually
    tells them apart, and when it cannot (CT↔STIR), the scanner frame is the better guess.
    Warns when a distant candidate scores almost as well."""
    step = COARSE_MM / 2.0
    n = int(np.ceil(4.0 * radius / step)) + 1
    f_vals, f_valid = rg.sampled_in_fixed_frame(fixed, center, n, step,
                                                kind=rg.modality_kind(fixed), matrix=np.eye(4))
    f_valid &= _ball(n, step, 2.0 * radius)
    prior = PRIOR if rg.modality_kind(fixed) == rg.modality_kind(moving) else PRIOR_CROSS_MODALITY
    scored = []  # (score with prior, raw score, fit)
    sampled = rg.sampled_many(moving, center, n, step, kind=rg.modality_kind(moving),
                              matrices=[fit.matrix for fit in fits], mask_cement=True)
    for fit, (m_vals, m_valid) in zip(fits, sampled, strict=True):
        raw = float(search_mod.mi_map(f_vals, f_valid, m_vals, m_valid, 0)[0, 0, 0])
        raw = raw if np.isfinite(raw) else -np.inf
        moved = min(float(np.linalg.norm(rigid.apply(fit.matrix, center) - a)) for a in anchors)
        scored.append((raw * (1.0 - prior * min(moved / max(search, COARSE_MM), 2.0)), raw, fit))
    scored.sort(key=lambda item: -item[0])
    # the warning looks at the raw scores: the prior breaks ties, it does not remove the doubt
    best_raw = max(raw for _, raw, _ in scored)
    target = rigid.apply(scored[0][2].matrix, center)
    for _, raw, fit in scored[1:]:
        distance = float(np.linalg.norm(rigid.apply(fit.matrix, center) - target))
        if distance > 10.0 and raw > (1.0 - AMBIGUITY) * best_raw:
            warnings.append(f"ambiguous alignment: a position {distance:.0f} mm away matches "
                            "almost as well (adjacent vertebra?) — check by eye")
            break
    return [fit for _, _, fit in scored]


def _fine(fixed_img: sitk.Image, fixed_mask: sitk.Image, moving: Volume, center: FloatArray,
          radius: float, start: FloatArray, spacing: float, max_iterations: int,
          cancel: Cancel) -> opt.Fit:
    """Cut the follow-up around the candidate and optimise from it."""
    moving_r = rg.region_image(moving, center, radius + 10.0, spacing,
                               kind=rg.modality_kind(moving), mask_cement=True, matrix=start,
                               role="follow-up")
    if moving_r.inside_fraction < 0.05:
        raise RegistrationError("the registration region lies outside the follow-up volume")
    return opt.run(fixed_img, fixed_mask, moving_r, center, start, max_iterations, cancel,
                   LEVELS_CANDIDATE, STEPS_CANDIDATE)
