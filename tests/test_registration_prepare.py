"""The registration's value preparation: the integer fast path gives the float path's answer."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from mdaread.model.volume import Volume
from mdaread.registration import optimise as opt
from mdaread.registration import region as rg


def _ct(dtype: type) -> np.ndarray:
    rng = np.random.default_rng(3)
    values = rng.integers(-1000, 1800, size=(12, 20, 20))
    values[5:7, 8:11, 8:11] = 3000  # cement
    return np.asarray(values, dtype=dtype)


def test_integer_ct_is_clamped_like_the_float_path() -> None:
    ints = _ct(np.int16)
    fast, fast_valid = rg.prepared_values(ints, (1.0, 1.0, 1.0), "CT", True)
    slow, slow_valid = rg.prepared_values(ints.astype(np.float64), (1.0, 1.0, 1.0), "CT", True)
    assert fast.dtype == np.float32
    assert np.array_equal(fast, slow)
    assert fast_valid is not None and slow_valid is not None
    assert np.array_equal(fast_valid, slow_valid)
    assert not fast_valid[6, 9, 9] and fast_valid[0, 0, 0]  # cement and its rim masked out
    assert float(fast.min()) == rg.CT_CLAMP_HU[0] and float(fast.max()) == rg.CT_CLAMP_HU[1]


def test_no_cement_and_unsigned_data_need_no_mask() -> None:
    ints = np.clip(_ct(np.int16), 0, 1500).astype(np.uint16)
    values, valid = rg.prepared_values(ints, (1.0, 1.0, 1.0), "CT", True)
    assert valid is None
    assert np.array_equal(values, ints.astype(np.float32))


def test_nan_voxels_are_invalid_and_filled() -> None:
    values = _ct(np.int16).astype(np.float32)
    values[0, 0, 0] = np.nan
    out, valid = rg.prepared_values(values, (1.0, 1.0, 1.0), "MR", False)
    assert valid is not None and not valid[0, 0, 0] and valid[1, 1, 1]
    assert np.isfinite(out).all()


def _volume(values: np.ndarray) -> Volume:
    return Volume(values, np.diag([1.0, 1.0, 1.0, 1.0]), modality="CT")


def test_a_region_without_cement_needs_no_moving_mask_in_the_metric() -> None:
    """``all_valid`` (the optimiser then sets no moving mask) only when every voxel is usable:
    a native cut without cement, a resampled cut wholly inside the volume."""
    plain = _volume(np.clip(_ct(np.int16), -1000, 1500))
    centre = np.array([9.5, 9.5, 5.5])
    assert rg.native_region(plain, centre, 4.0, kind="CT", mask_cement=True).all_valid
    cement = _volume(_ct(np.int16))
    region = rg.native_region(cement, centre, 4.0, kind="CT", mask_cement=True)
    assert not region.all_valid
    assert not sitk.GetArrayViewFromImage(region.mask).all()
    inside = rg.region_image(plain, centre, 3.0, 1.0, kind="CT")
    assert inside.inside_fraction == 1.0 and inside.all_valid
    beyond = rg.region_image(plain, centre, 12.0, 1.0, kind="CT")  # reaches past the volume
    assert beyond.inside_fraction < 1.0 and not beyond.all_valid


def test_the_metric_gets_the_moving_mask_only_when_some_voxel_is_unusable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[sitk.Image] = []
    monkeypatch.setattr(sitk.ImageRegistrationMethod, "SetMetricMovingMask",
                        lambda self, mask: calls.append(mask))
    centre = np.array([9.5, 9.5, 5.5])
    plain = rg.native_region(_volume(np.clip(_ct(np.int16), -1000, 1500)), centre, 4.0,
                             kind="CT", mask_cement=True)
    cement = rg.native_region(_volume(_ct(np.int16)), centre, 4.0, kind="CT", mask_cement=True)
    opt._method(plain.mask, plain, 32)
    assert calls == []
    opt._method(plain.mask, cement, 32)
    assert calls == [cement.mask]
