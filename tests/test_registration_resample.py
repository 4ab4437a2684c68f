"""resample_to_fixed and the numpy overlays the viewer draws (blend, checkerboard, difference)."""

from __future__ import annotations

import numpy as np
import pytest

import registration_phantom as phantom
from mdaread.errors import RegistrationError
from mdaread.geometry import rigid
from mdaread.model.volume import Volume
from mdaread.registration import (
    blend,
    checkerboard,
    difference,
    fixed_region,
    resample_to_fixed,
)

SAGITTAL = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@pytest.fixture(scope="module")
def pair() -> tuple[Volume, Volume, np.ndarray]:
    truth = rigid.rigid_matrix(np.radians([2.0, -3.0, 4.0]), [6.0, -5.0, 9.0], [0.0, 0.0, 0.0])
    fixed = phantom.make_volume("CT", shape=(40, 90, 90), spacing=(1.2, 1.2, 2.0), noise=0.0)
    moving = phantom.make_volume("CT", shape=(30, 100, 100), spacing=(1.0, 1.0, 3.0),
                                 truth=truth, noise=0.0, center=(3.0, 0.0, 5.0))
    return fixed, moving, truth


def _error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.float64) - b)))


def test_resampling_with_the_true_matrix_recovers_the_baseline(pair) -> None:
    fixed, moving, truth = pair
    aligned = resample_to_fixed(moving, fixed, truth)
    assert aligned.shape == fixed.shape
    np.testing.assert_allclose(aligned.affine, fixed.affine)
    assert aligned.array.dtype == np.float32
    unaligned = resample_to_fixed(moving, fixed, np.eye(4))
    core = (slice(10, 30), slice(20, 70), slice(20, 70))  # well inside both fields of view
    good, bad = _error(aligned.array[core], fixed.array[core]), _error(unaligned.array[core],
                                                                      fixed.array[core])
    assert good < 0.25 * bad, (good, bad)


def test_region_resampling_matches_the_full_grid_there(pair) -> None:
    fixed, moving, truth = pair
    centre = np.array([0.0, 0.0, 0.0])
    sub = fixed_region(fixed, centre, 20.0)
    part = resample_to_fixed(moving, fixed, truth, center_lps=centre, radius_mm=20.0)
    assert part.shape == sub.shape and part.shape[0] < fixed.shape[0]
    np.testing.assert_allclose(part.affine, sub.affine)
    full = resample_to_fixed(moving, fixed, truth)
    k0, j0, i0 = np.round(fixed.world_to_index(sub.origin)[::-1]).astype(int)
    k, j, i = sub.shape
    np.testing.assert_allclose(part.array, full.array[k0:k0 + k, j0:j0 + j, i0:i0 + i],
                               atol=1e-2)


def test_outside_gets_the_default_and_bad_matrices_are_refused(pair) -> None:
    fixed, moving, _ = pair
    far = resample_to_fixed(moving, fixed, rigid.translation([0.0, 0.0, 1000.0]), default=-5.0)
    assert np.all(far.array == -5.0)
    with pytest.raises(RegistrationError, match="rigid"):
        resample_to_fixed(moving, fixed, np.diag([1.0, 1.0, 2.0, 1.0]))
    with pytest.raises(RegistrationError, match="outside"):
        fixed_region(fixed, [0.0, 0.0, 900.0], 20.0)


def test_oblique_grids_resample_consistently() -> None:
    # a sagittal follow-up of the same anatomy under a known transform: nearest-neighbour
    # resampling puts each label back where the baseline has it
    truth = rigid.translation([4.0, 2.0, -3.0])
    fixed = phantom.make_volume("MR", shape=(30, 70, 70), spacing=(1.5, 1.5, 2.0), noise=0.0)
    moving = phantom.make_volume("MR", shape=(50, 80, 80), spacing=(1.5, 1.5, 2.0),
                                 direction=SAGITTAL, truth=truth, noise=0.0)
    aligned = resample_to_fixed(moving, fixed, truth, interpolation="nearest")
    assert _error(aligned.array[5:25, 10:60, 10:60], fixed.array[5:25, 10:60, 10:60]) < 25.0


def test_overlays() -> None:
    a = np.zeros((4, 6), np.float32)
    b = np.full((4, 6), 10.0, np.float32)
    np.testing.assert_allclose(blend(a, b, 0.3), 3.0)
    assert np.all(blend(a, b, 0.0) == a) and np.all(blend(a, b, 1.0) == b)
    board = checkerboard(a, b, 2)
    np.testing.assert_array_equal(board[:2, :2], 0.0)
    np.testing.assert_array_equal(board[:2, 2:4], 10.0)
    np.testing.assert_array_equal(board[2:4, :2], 10.0)
    np.testing.assert_array_equal(board[2:4, 2:4], 0.0)
    assert checkerboard(a, b, (4, 3))[0, 3] == 10.0
    np.testing.assert_allclose(difference(a, b), 10.0)
    with pytest.raises(ValueError):
        blend(a, b, 1.5)
    with pytest.raises(ValueError):
        checkerboard(a, b[:2], 2)
    with pytest.raises(ValueError):
        checkerboard(a, b, 0)
