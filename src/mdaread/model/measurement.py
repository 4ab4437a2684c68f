"""Lesion measurement records: segmentation settings and results. numpy and stdlib only.

Every point is in patient LPS millimetres; every mask lives on its series' own voxel grid
(``[k, j, i]``, the grid of ``Volume.array``). Results carry the ``SegmentationSettings`` that made
them, so that a stored measurement can be recomputed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

SEGMENTATION_SETTINGS_VERSION = "1"

Point = tuple[float, float, float]


@dataclass(frozen=True)
class SegmentationSettings:
    """Protocol settings of semi-automatic measurement (thresholds), stored with every result.

    CT values are Hounsfield units; MR thresholds are fractions of the local marrow level
    (the median of the region searched around the seed), because MR units are arbitrary.

    - ``cement_min_hu``: CT voxels at or above this are PMMA cement (far denser than cortex).
    - ``mr_void_fraction``: MR voxels below this fraction of the local median are signal voids
      (cement, air): never lesion.
    - ``cement_rim_mm``: the rim around cement also left out of every lesion (partial volume and
      streaks at the cement edge).
    - ``sclerotic_min_hu``: fill-in evidence counts a follow-up voxel at or above this as sclerotic.
    - ``air_max_hu``: a seed whose neighbourhood is below this is in air (refused).
    - ``search_radius_mm``: the lesion is searched in a box of this half-edge around the seed (the
      vertebra's neighbourhood); a region reaching the box's edge is not a lesion.
    - ``max_volume_ml``: larger regions are refused as leaks into the surroundings.
    - ``min_contrast_sd``: the lesion's edge must differ from its surroundings by at least this
      many noise standard deviations.
    - ``smoothing_mm``: Gaussian sigma of the denoising applied before thresholding.
    - ``leak_min_ml``: cement outside the vertebral body below this volume is ignored.
    """

    cement_min_hu: float = 2200.0
    mr_void_fraction: float = 0.1
    cement_rim_mm: float = 1.5
    sclerotic_min_hu: float = 500.0
    air_max_hu: float = -500.0
    search_radius_mm: float = 35.0
    max_volume_ml: float = 60.0
    min_contrast_sd: float = 3.0
    smoothing_mm: float = 0.6
    leak_min_ml: float = 0.05
    version: str = SEGMENTATION_SETTINGS_VERSION

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "version":
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{f.name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, got {value!r}")
        for name in ("mr_void_fraction", "search_radius_mm", "max_volume_ml", "min_contrast_sd"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("cement_rim_mm", "smoothing_mm", "leak_min_ml"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0")
        if self.version != SEGMENTATION_SETTINGS_VERSION:
            raise ValueError(f"unsupported segmentation settings version {self.version!r}")

    def to_dict(self) -> dict[str, Any]:
        """Every setting, JSON-ready, including ``version``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentationSettings:
        """Settings from a (possibly partial) dict; absent keys take the defaults.

        Raises ``KeyError`` naming an unknown key and ``ValueError`` for a bad value.
        """
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise KeyError(key)
        return cls(**data)


@dataclass(frozen=True)
class BidimensionalMeasurement:
    """The MDA bidimensional measurement of one lesion on one patient-axial plane.

    ``long_mm`` is the longest diameter on the axial plane where the lesion is largest;
    ``perp_mm`` the longest diameter perpendicular to it on the same plane. End points are LPS mm
    (all four share ``plane_z_mm``). ``slice_index`` is the series' k index of that plane when the
    series is acquired axially, else None (the plane was resampled: see ``plane_z_mm``).
    """

    long_mm: float
    perp_mm: float
    long_axis_lps: tuple[Point, Point]
    perp_axis_lps: tuple[Point, Point]
    plane_z_mm: float
    slice_index: int | None
    area_mm2: float

    @property
    def product_mm2(self) -> float:
        """long × perpendicular, the lesion's term in the SPD (mm²)."""
        return self.long_mm * self.perp_mm

    def to_json(self) -> dict[str, Any]:
        return {
            "long_mm": self.long_mm, "perp_mm": self.perp_mm,
            "product_mm2": self.product_mm2,
            "long_axis_lps": [list(p) for p in self.long_axis_lps],
            "perp_axis_lps": [list(p) for p in self.perp_axis_lps],
            "plane_z_mm": self.plane_z_mm, "slice_index": self.slice_index,
            "area_mm2": self.area_mm2,
        }


@dataclass(frozen=True)
class IntensityStats:
    """Values inside a mask (HU on CT, stored units on MR), cement and its rim left out."""

    n_voxels: int
    mean: float
    sd: float
    percentiles: dict[int, float]  # {5, 25, 50, 75, 95} → value

    def to_json(self) -> dict[str, Any]:
        return {"n_voxels": self.n_voxels, "mean": self.mean, "sd": self.sd,
                "percentiles": {str(k): v for k, v in self.percentiles.items()}}


@dataclass(frozen=True, eq=False)
class GridMask:
    """A boolean mask on a box of a series' grid.

    ``array`` is the box ``[k, j, i]``; ``offset`` its first voxel (k0, j0, i0) in the series'
    array; ``grid_shape`` and ``grid_affine`` are the series' (``Volume.shape`` and ``affine``).
    Only the box is kept so that a click on a 512×512×300 CT does not allocate the whole grid.
    """

    array: npt.NDArray[np.bool_]
    offset: tuple[int, int, int]
    grid_shape: tuple[int, int, int]
    grid_affine: npt.NDArray[np.float64]

    @property
    def n_voxels(self) -> int:
        return int(np.count_nonzero(self.array))

    @property
    def voxel_ml(self) -> float:
        """Volume of one voxel in millilitres."""
        return float(abs(np.linalg.det(self.grid_affine[:3, :3]))) / 1000.0

    @property
    def box_affine(self) -> npt.NDArray[np.float64]:
        """Affine of the box: its (i, j, k) index → LPS mm."""
        k0, j0, i0 = self.offset
        shift = np.eye(4)
        shift[:3, 3] = (i0, j0, k0)
        result: npt.NDArray[np.float64] = self.grid_affine @ shift
        return result

    def full(self) -> npt.NDArray[np.bool_]:
        """The mask on the whole series grid (allocates ``grid_shape``)."""
        out = np.zeros(self.grid_shape, dtype=bool)
        k0, j0, i0 = self.offset
        kk, jj, ii = self.array.shape
        out[k0:k0 + kk, j0:j0 + jj, i0:i0 + ii] = self.array
        return out


@dataclass(frozen=True, eq=False)
class LesionSegmentation:
    """One lesion segmented from a seed point.

    ``mask``: the lesion on the series' own grid, cement and its rim excluded; ``volume_ml`` is the
    partial-volume estimate (edge voxels count by their fraction of lesion contrast), which is
    closer to the truth than ``mask.n_voxels × voxel volume``. ``stats``: values inside the mask.
    ``polarity``: ``"low"`` (lytic on CT, T1-hypointense, …) or ``"high"`` (blastic, STIR-bright).
    ``lesion_value`` / ``surround_value``: the lesion's core and its surroundings (same units as
    the image) whose midpoint is the edge threshold ``threshold``.
    """

    seed_lps: Point
    series_uid: str
    modality: str
    mask: GridMask
    volume_ml: float
    stats: IntensityStats
    measurement: BidimensionalMeasurement
    polarity: str
    lesion_value: float
    surround_value: float
    threshold: float
    cement_ml_near: float
    settings: SegmentationSettings
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        m = self.measurement
        return {
            "long_mm": m.long_mm, "perp_mm": m.perp_mm, "volume_ml": self.volume_ml,
            "mean_hu": self.stats.mean if self.modality == "CT" else None,
            "mean": self.stats.mean, "sd": self.stats.sd,
            "percentiles": {str(k): v for k, v in self.stats.percentiles.items()},
            "long_axis_lps": [list(p) for p in m.long_axis_lps],
            "perp_axis_lps": [list(p) for p in m.perp_axis_lps],
            "slice_index": m.slice_index, "plane_z_mm": m.plane_z_mm,
            "polarity": self.polarity, "threshold": self.threshold,
            "seed_lps": list(self.seed_lps), "series_uid": self.series_uid,
            "modality": self.modality, "mask_voxels": self.mask.n_voxels,
            "settings": self.settings.to_dict(), "warnings": list(self.warnings),
        }


@dataclass(frozen=True, eq=False)
class CementSegmentation:
    """PMMA cement near a vertebra: mask on the series grid, volume, leakage.

    ``leakage`` is True when at least ``settings.leak_min_ml`` of cement lies outside the vertebral
    body (epidural, foraminal, venous, disc); ``leakage_ml`` is that volume and ``leakage_mask``
    those voxels. On MR leakage is not assessed (``leakage`` False, with a warning).
    """

    mask: GridMask
    volume_ml: float
    leakage: bool
    leakage_ml: float
    leakage_mask: GridMask | None
    body_mask: GridMask | None
    settings: SegmentationSettings
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"cement_ml": self.volume_ml, "leakage": self.leakage,
                "leakage_ml": self.leakage_ml, "warnings": list(self.warnings)}


@dataclass(frozen=True)
class FillInEvidence:
    """A baseline lesion mapped onto the follow-up: how much of it is now sclerotic.

    Evidence beside the reader's fill-in / density answers, never the answer. HU on CT.
    ``fraction_sclerotic``: of the mapped voxels not in cement (or its rim) and inside the
    follow-up, the fraction at or above ``settings.sclerotic_min_hu``. ``histogram_edges_hu`` has
    one more entry than each count list.
    """

    n_voxels: int
    n_compared: int
    fraction_sclerotic: float
    baseline_mean_hu: float
    followup_mean_hu: float
    mean_change_hu: float
    cement_excluded_fraction: float
    outside_fraction: float
    histogram_edges_hu: tuple[float, ...]
    baseline_counts: tuple[int, ...]
    followup_counts: tuple[int, ...]
    settings: SegmentationSettings
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["histogram_edges_hu"] = list(self.histogram_edges_hu)
        data["baseline_counts"] = list(self.baseline_counts)
        data["followup_counts"] = list(self.followup_counts)
        data["settings"] = self.settings.to_dict()
        data["warnings"] = list(self.warnings)
        return data
