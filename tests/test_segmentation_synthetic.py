"""mdaread.segmentation on synthetic blocks: known ellipsoids, bad seeds, the settings record."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdaread.errors import SegmentationError
from mdaread.model.volume import Volume
from mdaread.segmentation import (
    SegmentationSettings,
    bidimensional_from_mask,
    segment_lesion,
)
from segmentation_helpers import ellipsoid_fraction, ellipsoid_ml, insert, synthetic_ct

CENTRE = (2.0, 1.0, 1.0)  # on a slice centre of synthetic_ct (z = …, −1, 1, 3, …)


def _expected_axes(radii: tuple[float, float, float], dz: float) -> tuple[float, float]:
    """Axial diameters of an ellipsoid on the plane ``dz`` mm from its centre."""
    scale = math.sqrt(max(1 - (dz / radii[2]) ** 2, 0.0))
    return 2 * radii[0] * scale, 2 * radii[1] * scale


@pytest.mark.parametrize(("value", "theta"), [(40.0, 30.0), (950.0, -50.0), (40.0, 90.0)])
def test_ellipsoid_diameters_within_a_voxel_and_volume_within_5_percent(
        value: float, theta: float) -> None:
    volume = synthetic_ct()
    radii = (12.0, 8.0, 7.0)
    lesion = insert(volume, ellipsoid_fraction(volume, CENTRE, radii, theta), value)
    result = segment_lesion(lesion, (CENTRE[0] + 3, CENTRE[1] - 2, CENTRE[2]))  # off centre
    m = result.measurement
    long_mm, perp_mm = _expected_axes(radii, 0.0)
    pixel = volume.spacing[0]
    assert abs(m.long_mm - long_mm) <= pixel
    assert abs(m.perp_mm - perp_mm) <= pixel
    assert result.volume_ml == pytest.approx(ellipsoid_ml(radii), rel=0.05)
    assert m.plane_z_mm == pytest.approx(CENTRE[2])
    assert result.polarity == ("low" if value < 250 else "high")
    # the long axis is turned by theta in the axial plane (x toward y)
    (x0, y0, _), (x1, y1, _) = m.long_axis_lps
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) % 180
    assert min(abs(angle - theta % 180), 180 - abs(angle - theta % 180)) < 5
    # the perpendicular is perpendicular
    long_v = np.subtract(m.long_axis_lps[1], m.long_axis_lps[0])
    perp_v = np.subtract(m.perp_axis_lps[1], m.perp_axis_lps[0])
    assert abs(np.dot(long_v, perp_v)) / (m.long_mm * m.perp_mm) < 1e-6


def test_noisy_lesion_taller_than_long() -> None:
    volume = synthetic_ct(shape=(60, 80, 80), spacing=(0.8, 0.8, 1.0), noise_sd=40.0)
    radii = (8.0, 6.0, 16.0)
    centre = (0.0, 0.0, 0.5)
    lesion = insert(volume, ellipsoid_fraction(volume, centre, radii), 40.0)
    result = segment_lesion(lesion, centre)
    assert abs(result.measurement.long_mm - 16.0) <= 0.8
    assert abs(result.measurement.perp_mm - 12.0) <= 0.8
    assert result.volume_ml == pytest.approx(ellipsoid_ml(radii), rel=0.05)


def test_mask_is_on_the_series_grid() -> None:
    volume = synthetic_ct()
    fraction = ellipsoid_fraction(volume, CENTRE, (10.0, 10.0, 6.0))
    result = segment_lesion(insert(volume, fraction, 40.0), CENTRE)
    full = result.mask.full()
    assert full.shape == volume.shape
    # the mask is the half-contrast region of the inserted fraction, give or take the edge
    truth = fraction >= 0.5
    overlap = (full & truth).sum() / max(truth.sum(), 1)
    assert overlap > 0.9 and (full & ~truth).sum() < 0.1 * truth.sum()
    assert result.stats.mean == pytest.approx(40.0, abs=25)


def test_bad_seeds_are_refused_with_one_line() -> None:
    volume = synthetic_ct()
    lesion = insert(volume, ellipsoid_fraction(volume, CENTRE, (10.0, 8.0, 6.0)), 40.0)
    with pytest.raises(SegmentationError, match="outside the image"):
        segment_lesion(lesion, (500.0, 0.0, 0.0))
    with pytest.raises(SegmentationError, match="no lesion-like boundary"):
        segment_lesion(volume, CENTRE)  # uniform bone: every region leaks out of the box
    air = Volume(array=np.full(volume.shape, -1000.0, dtype=np.float32), affine=volume.affine,
                 modality="CT")
    with pytest.raises(SegmentationError, match="in air"):
        segment_lesion(air, CENTRE)
    cement = insert(volume, ellipsoid_fraction(volume, CENTRE, (6.0, 6.0, 6.0)), 3400.0)
    with pytest.raises(SegmentationError, match="in cement"):
        segment_lesion(cement, CENTRE)
    for error in (SegmentationError,):
        with pytest.raises(error) as info:
            segment_lesion(lesion, (500.0, 0.0, 0.0))
        assert "\n" not in str(info.value)


def test_bidimensional_from_a_mask_of_a_rectangle() -> None:
    mask = np.zeros((3, 40, 60), dtype=bool)
    mask[1, 10:20, 5:45] = True  # 40 columns × 10 rows of 0.5 × 0.7 mm pixels
    affine = np.diag([0.5, 0.7, 3.0, 1.0])
    m = bidimensional_from_mask(mask, affine)
    assert m.long_mm == pytest.approx(math.hypot(20.0, 7.0), abs=0.3)  # the diagonal
    assert m.slice_index == 1 and m.plane_z_mm == pytest.approx(3.0)
    assert m.area_mm2 == pytest.approx(400 * 0.35, rel=0.01)
    with pytest.raises(SegmentationError, match="empty"):
        bidimensional_from_mask(np.zeros((2, 4, 4), dtype=bool), affine)


def test_settings_round_trip_and_validation() -> None:
    settings = SegmentationSettings(cement_min_hu=2000.0)
    assert SegmentationSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(KeyError):
        SegmentationSettings.from_dict({"nonsense": 1})
    with pytest.raises(ValueError, match="search_radius_mm"):
        SegmentationSettings(search_radius_mm=0)
    with pytest.raises(ValueError, match="finite"):
        SegmentationSettings(cement_min_hu=float("nan"))
