"""Fill-in evidence: the baseline lesion mapped onto the follow-up through the registration.

Each baseline mask voxel centre (baseline LPS mm) is moved by the accepted registration matrix
(baseline LPS → follow-up LPS, the convention of ``mdaread register``) and the follow-up is
sampled there (linear interpolation). Voxels in cement at either timepoint, or within
``settings.cement_rim_mm`` of follow-up cement, are left out. Evidence for the reader, never
the answer to the fill-in / density questions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from mdaread.errors import SegmentationError
from mdaread.model.measurement import (
    FillInEvidence,
    GridMask,
    LesionSegmentation,
    SegmentationSettings,
)
from mdaread.model.volume import Volume
from mdaread.segmentation import grid

HISTOGRAM_EDGES_HU = tuple(float(v) for v in np.arange(-200.0, 1601.0, 100.0))


def fill_in_evidence(baseline_mask: LesionSegmentation | GridMask | npt.NDArray[np.bool_],
                     baseline_volume: Volume, followup_volume: Volume,
                     transform: npt.ArrayLike,
                     settings: SegmentationSettings | None = None) -> FillInEvidence:
    """Compare the baseline lesion with the same tissue on the follow-up (both CT, HU).

    ``baseline_mask``: the lesion on the baseline grid (a ``LesionSegmentation``, a
    ``GridMask`` or a full boolean array); ``transform``: 4×4, baseline LPS → follow-up LPS.
    Raises SegmentationError when either series is not CT or the mask is empty.
    """
    if isinstance(baseline_mask, LesionSegmentation):
        settings = settings or baseline_mask.settings
        baseline_mask = baseline_mask.mask
    settings = settings or SegmentationSettings()
    for role, vol in (("baseline", baseline_volume), ("follow-up", followup_volume)):
        if vol.modality != "CT":
            raise SegmentationError(f"fill-in evidence needs CT at both timepoints; the {role} "
                                    f"is {vol.modality or 'of unknown modality'}")
    matrix = np.asarray(transform, dtype=np.float64)
    if matrix.shape != (4, 4):
        raise SegmentationError(f"the registration matrix must be 4×4, got {matrix.shape}")
    kji = _mask_voxels(baseline_mask, baseline_volume)
    if kji.shape[0] == 0:
        raise SegmentationError("the baseline lesion mask is empty")
    base_values = np.asarray(baseline_volume.array, dtype=np.float32)[tuple(kji.T)]
    world = baseline_volume.index_to_world(kji[:, ::-1].astype(np.float64))
    moved = world @ matrix[:3, :3].T + matrix[:3, 3]
    follow_ijk = followup_volume.world_to_index(moved)
    inside = np.all((follow_ijk > -0.5) & (follow_ijk < np.array(followup_volume.shape[::-1])
                                                         - 0.5), axis=1)
    follow_values, follow_cement = _sample_followup(followup_volume, follow_ijk, settings)
    cement = (base_values >= settings.cement_min_hu) | follow_cement
    compared = inside & ~cement
    warnings = []
    n = int(kji.shape[0])
    if not compared.any():
        raise SegmentationError("no part of the baseline lesion maps onto comparable follow-up "
                                "tissue (outside the image or all cement)")
    if inside.mean() < 0.9:
        warnings.append(f"{100 * (1 - inside.mean()):.0f}% of the lesion maps outside the "
                        "follow-up image")
    b, f = base_values[compared].astype(np.float64), follow_values[compared]
    edges = np.asarray(HISTOGRAM_EDGES_HU)
    return FillInEvidence(
        n_voxels=n, n_compared=int(compared.sum()),
        fraction_sclerotic=float(np.mean(f >= settings.sclerotic_min_hu)),
        baseline_mean_hu=float(b.mean()), followup_mean_hu=float(f.mean()),
        mean_change_hu=float((f - b).mean()),
        cement_excluded_fraction=float((inside & cement).sum() / n),
        outside_fraction=float(1 - inside.mean()),
        histogram_edges_hu=HISTOGRAM_EDGES_HU,
        baseline_counts=tuple(int(c) for c in np.histogram(np.clip(b, edges[0], edges[-1]),
                                                           edges)[0]),
        followup_counts=tuple(int(c) for c in np.histogram(np.clip(f, edges[0], edges[-1]),
                                                           edges)[0]),
        settings=settings, warnings=tuple(warnings))


def _mask_voxels(mask: GridMask | npt.NDArray[np.bool_], volume: Volume) -> npt.NDArray[np.intp]:
    """(k, j, i) indices of the mask's voxels on the baseline grid."""
    if isinstance(mask, GridMask):
        if mask.grid_shape != volume.shape:
            raise SegmentationError(f"the lesion mask's grid {mask.grid_shape} is not the "
                                    f"baseline's {volume.shape}")
        result: npt.NDArray[np.intp] = np.argwhere(mask.array) + np.array(mask.offset)
        return result
    array = np.asarray(mask, dtype=bool)
    if array.shape != volume.shape:
        raise SegmentationError(f"the lesion mask's shape {array.shape} is not the baseline's "
                                f"{volume.shape}")
    return np.argwhere(array)


def _sample_followup(volume: Volume, ijk: npt.NDArray[np.float64],
                     settings: SegmentationSettings) -> tuple[npt.NDArray[np.float64],
                                                              npt.NDArray[np.bool_]]:
    """Follow-up HU at the points (linear) and whether each lies in cement or its rim."""
    kji = ijk[:, ::-1]
    lo = np.maximum(np.floor(kji.min(axis=0)).astype(int) - 4, 0)
    hi = np.minimum(np.ceil(kji.max(axis=0)).astype(int) + 5, volume.shape)
    if np.any(hi <= lo):
        return np.zeros(len(ijk)), np.zeros(len(ijk), dtype=bool)
    sub = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    values = np.asarray(volume.array[sub], dtype=np.float32)
    local = (kji - lo).T
    sampled = ndimage.map_coordinates(values, local, order=1, mode="nearest")
    cement = values >= settings.cement_min_hu
    rim = grid.within_mm(cement, settings.cement_rim_mm, grid.spacing_kji(volume))
    near = ndimage.map_coordinates(rim.astype(np.float32), local, order=0, mode="nearest") > 0
    return sampled.astype(np.float64), near
