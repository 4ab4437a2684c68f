"""Seeded 3-D lesion segmentation from one click, on CT and MR.

The recipe (all inside a box of ``settings.search_radius_mm`` around the seed, the vertebra's
neighbourhood, on a lightly smoothed copy):

1. Cement (CT: at or above ``cement_min_hu``; MR: signal voids below ``mr_void_fraction`` of the
   local median) and a rim of ``cement_rim_mm`` are a barrier no lesion crosses.
2. The lesion's core value is the median near the seed. Regions of values within a tolerance of
   it, connected to the seed, are grown for a ladder of tolerances; each one that stays inside
   the box and below ``max_volume_ml`` is scored by the mean gradient on its boundary. The best
   one is where the region's edge sits on the strongest edge around the seed — a lesion's wall.
   This needs no prior polarity: lytic, blastic, T1-dark and STIR-bright lesions all work.
3. Partial volume: the core value and the surroundings' value (the median of a 1–3.5 mm shell
   outside that region) give the edge threshold at their midpoint (half the contrast). The
   final mask is the seed's connected region beyond that threshold, kept within 3 mm of step 2's
   region, opened by a 1.5 mm ball (cuts thin bridges: a cortex touching a blastic lesion, a
   channel through a broken cortex) and with its holes filled (a mixed lesion's islands).
4. Volume counts interior voxels as 1 and edge voxels by their fraction of the contrast, so it
   does not depend on where the threshold cuts the blurred edge.

Refused (SegmentationError, one line): a seed off the image, in air, in cement or a signal void,
and a seed with no lesion-like boundary (every region leaks out of the box, or the contrast is
below ``min_contrast_sd`` noise standard deviations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from mdaread.errors import SegmentationError
from mdaread.model.measurement import (
    GridMask,
    IntensityStats,
    LesionSegmentation,
    Point,
    SegmentationSettings,
)
from mdaread.model.volume import Volume
from mdaread.segmentation import grid
from mdaread.segmentation.bidimensional import bidimensional_from_fraction
from mdaread.segmentation.grid import F32, Bool, Box

PERCENTILES = (5, 25, 50, 75, 95)
N_LEVELS = 18
OPENING_MM = 1.5
KEEP_WITHIN_MM = 3.0


@dataclass
class _Crop:
    """The searched box: raw and smoothed values, barrier, the seed and the geometry."""

    box: Box
    raw: F32
    smooth: F32
    barrier: Bool
    cement: Bool
    seed: tuple[int, int, int]
    spacing: tuple[float, float, float]
    voxel_mm3: float


def segment_lesion(volume: Volume, seed_lps: Point,
                   settings: SegmentationSettings | None = None,
                   cement_mask: GridMask | npt.NDArray[np.bool_] | None = None,
                   ) -> LesionSegmentation:
    """Segment the lesion under ``seed_lps`` (LPS mm) in ``volume`` (CT in HU, or MR).

    ``cement_mask`` (a ``GridMask`` or a boolean array on the volume's grid, e.g. from
    ``segment_cement``) is added to the cement found automatically near the seed; cement and a
    ``settings.cement_rim_mm`` rim are kept out of the lesion and its statistics.
    Returns the mask on the series' own grid, the partial-volume volume (mL), the values' mean,
    SD and percentiles, and the bidimensional measurement on the patient-axial plane where the
    lesion is largest. Raises SegmentationError (one line) for a seed that gives no lesion.
    """
    settings = settings or SegmentationSettings()
    seed_lps = (float(seed_lps[0]), float(seed_lps[1]), float(seed_lps[2]))
    centre = grid.seed_index(volume, seed_lps)
    crop = _crop(volume, centre, settings, cement_mask)
    _check_seed(crop, volume, seed_lps, settings)
    first = _best_region(crop, settings, seed_lps)
    mask, core, surround = _partial_volume_mask(crop, first, settings, seed_lps)
    fraction, volume_mm3 = _fraction(crop, mask, core, surround)
    affine = crop.box.affine(volume.affine)
    measurement = bidimensional_from_fraction(fraction, affine, k_offset=crop.box.lo[0])
    warnings = _warnings(crop, mask, volume, settings, measurement.slice_index is None)
    return LesionSegmentation(
        seed_lps=seed_lps, series_uid=volume.series_uid, modality=volume.modality,
        mask=GridMask(mask, crop.box.lo, volume.shape, volume.affine),
        volume_ml=volume_mm3 / 1000.0, stats=_stats(crop.raw[mask]), measurement=measurement,
        polarity="low" if core < surround else "high", lesion_value=core,
        surround_value=surround, threshold=(core + surround) / 2,
        cement_ml_near=float(np.count_nonzero(crop.cement)) * crop.voxel_mm3 / 1000.0,
        settings=settings, warnings=tuple(warnings))


def _crop(volume: Volume, centre: npt.NDArray[np.float64], settings: SegmentationSettings,
          cement_mask: GridMask | npt.NDArray[np.bool_] | None) -> _Crop:
    box = grid.box_around(volume, centre, settings.search_radius_mm)
    raw = np.asarray(volume.array[box.slices], dtype=np.float32)
    spacing = grid.spacing_kji(volume)
    sigma = [settings.smoothing_mm / s for s in spacing]
    smooth = ndimage.gaussian_filter(raw, sigma, mode="nearest") if settings.smoothing_mm else raw
    cement = _auto_cement(volume.modality, raw, smooth, settings)
    if cement_mask is not None:
        cement |= _given_mask(cement_mask, box)
    barrier = grid.within_mm(cement, settings.cement_rim_mm, spacing) if cement.any() else cement
    seed = tuple(int(v) for v in centre - np.array(box.lo))
    voxel_mm3 = float(abs(np.linalg.det(volume.affine[:3, :3])))
    return _Crop(box, raw, smooth.astype(np.float32), barrier, cement,
                 (seed[0], seed[1], seed[2]), spacing, voxel_mm3)


def _auto_cement(modality: str, raw: F32, smooth: F32, settings: SegmentationSettings) -> Bool:
    """Cement (CT) or signal voids (MR) in the box."""
    if modality == "CT":
        result: Bool = raw >= settings.cement_min_hu
        return result
    level = float(np.median(smooth))
    voids: Bool = smooth < settings.mr_void_fraction * level
    return voids


def _given_mask(mask: GridMask | npt.NDArray[np.bool_], box: Box) -> Bool:
    if isinstance(mask, GridMask):
        full = np.zeros(box.shape, dtype=bool)
        lo = np.maximum(np.array(mask.offset), box.lo)
        hi = np.minimum(np.array(mask.offset) + mask.array.shape, box.hi)
        if np.all(hi > lo):
            src = tuple(slice(int(a - o), int(b - o))
                        for a, b, o in zip(lo, hi, mask.offset, strict=True))
            dst = tuple(slice(int(a - s), int(b - s)) for a, b, s in zip(lo, hi, box.lo,
                                                                           strict=True))
            full[dst] = mask.array[src]
        return full
    array = np.asarray(mask, dtype=bool)
    if array.shape != box.grid_shape:
        raise SegmentationError(f"cement mask shape {array.shape} is not the series grid "
                                f"{box.grid_shape}")
    result: Bool = array[box.slices]
    return result


def _ball_median(values: F32, seed: tuple[int, int, int], radius_mm: float,
                 spacing: tuple[float, float, float], exclude: Bool | None = None) -> float:
    sel = _ball_at(values.shape, seed, radius_mm, spacing)
    if exclude is not None:
        sel &= ~exclude
    picked = values[sel]
    return float(np.median(picked)) if picked.size else float(values[seed])


def _ball_at(shape: tuple[int, ...], seed: tuple[int, int, int], radius_mm: float,
             spacing: tuple[float, float, float]) -> Bool:
    element = grid.ball(radius_mm, spacing)
    half = np.array(element.shape) // 2
    out = np.zeros(shape, dtype=bool)
    lo = np.array(seed) - half
    src_lo = np.maximum(-lo, 0)
    dst_lo = np.maximum(lo, 0)
    dst_hi = np.minimum(lo + element.shape, shape)
    src_hi = src_lo + (dst_hi - dst_lo)
    out[tuple(slice(a, b) for a, b in zip(dst_lo, dst_hi, strict=True))] = element[
        tuple(slice(a, b) for a, b in zip(src_lo, src_hi, strict=True))]
    return out


def _check_seed(crop: _Crop, volume: Volume, seed_lps: Point,
                settings: SegmentationSettings) -> None:
    where = grid.format_point(seed_lps)
    if crop.cement[crop.seed]:
        what = "cement" if volume.modality == "CT" else "a signal void (cement or air)"
        raise SegmentationError(f"seed {where} mm is in {what}: no lesion to measure there")
    if crop.barrier[crop.seed]:
        raise SegmentationError(f"seed {where} mm is within {settings.cement_rim_mm:g} mm of "
                                "cement, which is kept out of every lesion")
    if volume.modality == "CT":
        value = _ball_median(crop.smooth, crop.seed, 1.5, crop.spacing)
        if value < settings.air_max_hu:
            raise SegmentationError(f"seed {where} mm is in air ({value:.0f} HU)")


def _region_at(crop: _Crop, core: float, tolerance: float) -> Bool:
    """The seed's connected region of values within ``tolerance`` of ``core`` (6-connected)."""
    inside = (np.abs(crop.smooth - core) <= tolerance) & ~crop.barrier
    return _component(inside, crop.seed)


def _component(inside: Bool, seed: tuple[int, int, int]) -> Bool:
    if not inside[seed]:
        return np.zeros_like(inside)
    labels, _ = ndimage.label(inside)
    result: Bool = labels == labels[seed]
    return result


def _noise_sd(crop: _Crop) -> float:
    """Robust spread (MAD × 1.4826) of the smoothed values near the seed: texture + noise."""
    sel = _ball_at(crop.smooth.shape, crop.seed, 2.5, crop.spacing) & ~crop.barrier
    values = crop.smooth[sel]
    return max(float(np.median(np.abs(values - np.median(values)))) * 1.4826, 1e-3)


def _best_region(crop: _Crop, settings: SegmentationSettings, seed_lps: Point) -> Bool:
    """Step 2: the tolerance whose region's edge has the strongest mean gradient."""
    core = _ball_median(crop.smooth, crop.seed, 1.5, crop.spacing, crop.barrier)
    noise = _noise_sd(crop)
    valid = crop.smooth[~crop.barrier]
    span = max(float(valid.max()) - core, core - float(valid.min()), 2 * noise)
    low = min(2.0 * noise, span / 2)
    levels = np.geomspace(low, span, N_LEVELS)
    gradient = _gradient_magnitude(crop)
    faces = crop.box.interior_faces()
    max_voxels = settings.max_volume_ml * 1000.0 / crop.voxel_mm3
    min_voxels = max(4.0, 8.0 / crop.voxel_mm3)
    best: tuple[float, Bool] | None = None
    for tolerance in levels:
        region = _region_at(crop, core, float(tolerance))
        count = int(np.count_nonzero(region))
        if count > max_voxels or grid.touches_faces(region, faces):
            break  # larger tolerances only grow the region
        if count < min_voxels:
            continue
        shell = ndimage.binary_dilation(region) & ~region & ~crop.barrier
        if not shell.any():
            continue
        score = float(gradient[shell].mean())
        if best is None or score > best[0]:
            best = (score, region)
    if best is None:
        raise SegmentationError(f"seed {grid.format_point(seed_lps)} mm: no lesion-like "
                                "boundary around it (the region leaks out of the vertebra's "
                                "neighbourhood or is too small)")
    return best[1]


def _gradient_magnitude(crop: _Crop) -> F32:
    parts = np.gradient(crop.smooth, *crop.spacing)
    result: F32 = np.sqrt(sum(p * p for p in parts)).astype(np.float32)
    return result


def _partial_volume_mask(crop: _Crop, first: Bool, settings: SegmentationSettings,
                         seed_lps: Point) -> tuple[Bool, float, float]:
    """Step 3: the half-contrast mask; returns it with the core and surrounding values."""
    eroded = ndimage.binary_erosion(first)
    core = float(np.median(crop.smooth[eroded if eroded.any() else first]))
    near = grid.within_mm(first, 1.0, crop.spacing)
    far = grid.within_mm(first, 3.5, crop.spacing)
    shell = far & ~near & ~crop.barrier
    if not shell.any():
        shell = far & ~first & ~crop.barrier
    surround = float(np.median(crop.smooth[shell]))
    noise = _noise_sd(crop)
    if abs(surround - core) < settings.min_contrast_sd * noise:
        raise SegmentationError(
            f"seed {grid.format_point(seed_lps)} mm: no lesion-like boundary (contrast "
            f"{abs(surround - core):.0f} against noise {noise:.0f})")
    threshold = (core + surround) / 2
    beyond = crop.smooth <= threshold if core < surround else crop.smooth >= threshold
    beyond &= ~crop.barrier & grid.within_mm(first, KEEP_WITHIN_MM, crop.spacing)
    opened = ndimage.binary_opening(beyond, grid.ball(OPENING_MM, crop.spacing))
    seed = _nearest_inside(opened, crop.seed, first)
    mask = _component(opened, seed) if seed is not None else first & beyond
    mask = _fill_holes(mask) & ~crop.barrier
    return mask, core, surround


def _nearest_inside(inside: Bool, seed: tuple[int, int, int],
                    fallback: Bool) -> tuple[int, int, int] | None:
    """The seed, or the voxel of ``inside`` ∩ ``fallback`` nearest to it."""
    if inside[seed]:
        return seed
    candidates = np.argwhere(inside & fallback)
    if candidates.size == 0:
        return None
    d = ((candidates - np.array(seed)) ** 2).sum(axis=1)
    k, j, i = candidates[int(np.argmin(d))]
    return (int(k), int(j), int(i))


def _fill_holes(mask: Bool) -> Bool:
    """Holes closed in 3-D and on every native slice (a mixed lesion's dense islands)."""
    filled = ndimage.binary_fill_holes(mask)
    for k in np.flatnonzero(filled.any(axis=(1, 2))):
        filled[k] = ndimage.binary_fill_holes(filled[k])
    result: Bool = filled
    return result


def _fraction(crop: _Crop, mask: Bool, core: float,
              surround: float) -> tuple[F32, float]:
    """Step 4: lesion fraction per voxel (1 inside, contrast fraction on the edge band, 0
    beyond) and the partial-volume volume in mm³."""
    contrast = np.clip((surround - crop.smooth) / (surround - core), 0.0, 1.0)
    inner = ndimage.binary_erosion(mask)
    outer = ndimage.binary_dilation(mask) & ~crop.barrier
    fraction = np.zeros(mask.shape, dtype=np.float32)
    fraction[outer] = np.minimum(contrast[outer], 0.49)  # outside neighbours: below the edge
    edge = mask & ~inner
    fraction[edge] = np.maximum(contrast[edge], 0.51)
    fraction[inner] = 1.0
    volume_voxels = (float(np.count_nonzero(inner)) + float(contrast[edge].sum())
                     + float(contrast[outer & ~mask].sum()))
    return fraction, volume_voxels * crop.voxel_mm3


def _stats(values: F32) -> IntensityStats:
    if values.size == 0:
        return IntensityStats(0, float("nan"), float("nan"), {p: float("nan") for p in PERCENTILES})
    pct = np.percentile(values.astype(np.float64), PERCENTILES)
    return IntensityStats(int(values.size), float(values.mean()), float(values.std()),
                          {p: float(v) for p, v in zip(PERCENTILES, pct, strict=True)})


def _warnings(crop: _Crop, mask: Bool, volume: Volume, settings: SegmentationSettings,
              resampled: bool) -> list[str]:
    warnings = []
    image_faces = [(a, s) for a in range(3) for s in (0, -1)
                   if (s == 0 and crop.box.lo[a] == 0)
                   or (s == -1 and crop.box.hi[a] == volume.shape[a])]
    if grid.touches_faces(mask, image_faces):
        warnings.append("the lesion reaches the edge of the image: it may be larger")
    if crop.cement.any() and (grid.within_mm(mask, 3.0, crop.spacing) & crop.cement).any():
        warnings.append("cement next to the lesion: cement and a "
                        f"{settings.cement_rim_mm:g} mm rim were left out")
    if resampled:
        warnings.append("the series is not axial: diameters measured on resampled "
                        "patient-axial planes")
    return warnings
