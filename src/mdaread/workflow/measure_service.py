"""Click-to-segment: one seed point → a proposed lesion measurement with cement kept out.

Qt-free, safe in a worker thread (reads the volume, changes no state). The UI (and the
``mdaread measure`` command) call ``propose``; the reader then accepts, edits or discards the
proposal. Cement is looked for first around the seed (CT: any voxel at or above the protocol's
``cement_min_hu`` within ``CEMENT_LOOK_MM``); when there is some, ``segment_cement`` gives its mask,
volume and leakage, and that mask is kept out of the lesion with its rim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdaread.errors import Cancelled
from mdaread.model.jobs import Cancel, never_cancel
from mdaread.model.measurement import (
    CementSegmentation,
    LesionSegmentation,
    Point,
    SegmentationSettings,
)
from mdaread.model.volume import Volume
from mdaread.segmentation import segment_cement, segment_lesion

CEMENT_LOOK_MM = 45.0
"""Half-edge (mm) of the box around the seed searched for cement (the treated vertebra)."""


@dataclass(frozen=True, eq=False)
class Proposal:
    """A lesion segmented from ``seed_lps`` (LPS mm) on ``volume``'s series, and the cement near
    it (None when there is none within CEMENT_LOOK_MM)."""

    lesion: LesionSegmentation
    cement: CementSegmentation | None

    @property
    def endpoints_lps(self) -> tuple[Point, Point, Point, Point]:
        """Long axis then perpendicular end points (LPS mm), as a caliper stores them."""
        m = self.lesion.measurement
        return (*m.long_axis_lps, *m.perp_axis_lps)

    @property
    def centre_lps(self) -> Point:
        """Middle of the long axis: on the patient-axial plane where the lesion is largest."""
        a, b = self.lesion.measurement.long_axis_lps
        return (0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]), 0.5 * (a[2] + b[2]))

    def summary(self) -> str:
        """One line for the reader: diameters, volume, mean value, cement and leakage."""
        les, m = self.lesion, self.lesion.measurement
        unit = "HU" if les.modality == "CT" else ""
        text = (f"{m.long_mm:.1f} × {m.perp_mm:.1f} mm · {les.volume_ml:.2f} mL · "
                f"mean {les.stats.mean:.0f} {unit}".rstrip())
        if self.cement is not None and self.cement.volume_ml > 0:
            text += f" · cement {self.cement.volume_ml:.2f} mL kept out"
            if self.cement.leakage:
                text += f" · LEAKAGE {self.cement.leakage_ml:.2f} mL outside the body"
        return text

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = dict(self.lesion.to_json())
        cement = self.cement
        data["cement_ml"] = cement.volume_ml if cement is not None else 0.0
        data["cement_leakage"] = bool(cement.leakage) if cement is not None else False
        data["cement_leakage_ml"] = cement.leakage_ml if cement is not None else 0.0
        if cement is not None:
            data["warnings"] = [*self.lesion.warnings, *cement.warnings]
        return data


def propose(volume: Volume, seed_lps: Point, settings: SegmentationSettings | None = None,
            cancel: Cancel = never_cancel) -> Proposal:
    """Segment the lesion under ``seed_lps`` with the cement near it kept out.

    Raises ``mdaread.errors.SegmentationError`` (one line) for a seed that gives no lesion, and
    ``Cancelled`` when ``cancel()`` turns true between the two steps.
    """
    settings = settings or SegmentationSettings()
    cement = None
    if _has_cement_near(volume, seed_lps, settings):
        cement = segment_cement(volume, settings, vertebra_hint=seed_lps)
    if cancel():
        raise Cancelled("segmentation cancelled")
    lesion = segment_lesion(volume, seed_lps, settings,
                            cement_mask=cement.mask if cement is not None else None)
    return Proposal(lesion, cement)


def _has_cement_near(volume: Volume, seed_lps: Point, settings: SegmentationSettings) -> bool:
    """CT only (MR signal voids are handled inside the lesion segmentation)."""
    if volume.modality != "CT":
        return False
    i, j, k = volume.world_to_index(seed_lps)
    if not np.all(np.isfinite((i, j, k))):
        return False
    sx, sy, sz = volume.spacing
    centre = np.rint([k, j, i]).astype(int)
    half = np.ceil(CEMENT_LOOK_MM / np.array([sz, sy, sx])).astype(int)
    lo = np.clip(centre - half, 0, np.array(volume.shape))
    hi = np.clip(centre + half + 1, 0, np.array(volume.shape))
    box = np.asarray(volume.array[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], dtype=np.float32)
    return bool(box.size) and bool((box >= settings.cement_min_hu).any())
