"""Bad input, cancellation and failed fits: a clear RegistrationError, never a silent 'ok'."""

from __future__ import annotations

import numpy as np
import pytest

import registration_phantom as phantom
from mdaread.errors import Cancelled, RegistrationError
from mdaread.geometry import rigid
from mdaread.model.volume import Volume
from mdaread.registration import landmark_rigid, register_rigid
from mdaread.registration.region import CT_CEMENT_HU, _mask_cement

SMALL = {"shape": (40, 80, 80), "spacing": (1.5, 1.5, 2.5)}


@pytest.fixture(scope="module")
def pair() -> tuple[Volume, Volume, np.ndarray]:
    truth = rigid.translation([4.0, -3.0, 6.0])
    return (phantom.make_volume("CT", **SMALL),
            phantom.make_volume("CT", truth=truth, seed=1, **SMALL), truth)


def test_region_outside_the_baseline(pair) -> None:
    fixed, moving, _ = pair
    with pytest.raises(RegistrationError, match="outside the baseline"):
        register_rigid(fixed, moving, center_lps=[500.0, 0.0, 0.0])


def test_region_outside_the_follow_up(pair) -> None:
    fixed, _, _ = pair
    # a follow-up of another body part: the same frame, 600 mm higher (no vertebra there)
    far = phantom.make_volume("CT", center=(0.0, 0.0, 600.0), **SMALL)
    with pytest.raises(RegistrationError, match="outside the follow-up"):
        register_rigid(fixed, far, center_lps=[0.0, 0.0, 0.0], initial=np.eye(4))
    # with the search (which also tries aligning the two grids' centres) it is never "ok"
    try:
        result = register_rigid(fixed, far, center_lps=[0.0, 0.0, 0.0])
    except RegistrationError:
        return
    assert result.quality == "failed", result.details


def test_uniform_baseline_has_nothing_to_register_on(pair) -> None:
    fixed, moving, _ = pair
    flat = Volume(array=np.full(fixed.shape, 40, np.int16), affine=fixed.affine, modality="CT")
    with pytest.raises(RegistrationError, match="uniform"):
        register_rigid(flat, moving)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"radius_mm": 0.0}, "radius"),
        ({"radius_mm": float("nan")}, "radius"),
        ({"center_lps": [0.0, 1.0]}, "centre"),
        ({"initial": np.diag([2.0, 1.0, 1.0, 1.0])}, "rigid"),
    ],
)
def test_bad_arguments(pair, kwargs: dict, match: str) -> None:
    fixed, moving, _ = pair
    with pytest.raises(RegistrationError, match=match):
        register_rigid(fixed, moving, **kwargs)


def test_unrelated_images_are_never_ok(pair) -> None:
    fixed, _, _ = pair
    rng = np.random.default_rng(7)
    noise = Volume(array=rng.normal(0.0, 300.0, fixed.shape).astype(np.float32),
                   affine=fixed.affine, modality="CT")
    try:
        result = register_rigid(fixed, noise)
    except RegistrationError:
        return
    assert result.quality == "failed", result.details
    assert result.warnings


def test_cancel_stops_the_job(pair) -> None:
    fixed, moving, _ = pair
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        register_rigid(fixed, moving, cancel=cancel)


def test_progress_is_reported_up_to_done(pair) -> None:
    fixed, moving, truth = pair
    seen: list[float] = []
    result = register_rigid(fixed, moving, progress=lambda f, _msg: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)
    assert rigid.tre_box(result.matrix, truth, fixed.center_world()) <= 1.0


def test_cement_and_its_rim_are_masked() -> None:
    values = np.zeros((20, 20, 20), np.float32)
    values[8:12, 8:12, 8:12] = 3000.0
    valid = np.ones(values.shape, bool)
    _mask_cement(values, valid, (1.0, 1.0, 1.0), rim_mm=2.0)
    assert not valid[values > CT_CEMENT_HU].any()
    assert not valid[10, 10, 6] and not valid[10, 10, 13]  # 2 mm rim
    assert valid[10, 10, 4] and valid[0, 0, 0]


@pytest.mark.parametrize(
    ("fixed", "moving", "match"),
    [
        ([[0, 0, 0], [10, 0, 0]], [[0, 0, 0], [10, 0, 0]], "at least 3"),
        ([[0, 0, 0], [10, 0, 0], [20, 0, 0]], [[0, 0, 0], [10, 0, 0], [20, 0, 0]], "collinear"),
        ([[0, 0, 0], [10, 0, 0], [0, 10, 0]], [[0, 0, 0], [10, 0, 0]], r"\(N, 3\)"),
        ([[0, 0, 0], [10, 0, 0], [0, np.nan, 0]], [[0, 0, 0], [10, 0, 0], [0, 1, 0]], "finite"),
    ],
)
def test_landmark_input_errors(fixed: list, moving: list, match: str) -> None:
    with pytest.raises(RegistrationError, match=match):
        landmark_rigid(fixed, moving)


def test_landmark_quality_reflects_the_residual() -> None:
    pts = np.array([[0.0, 0.0, 0.0], [40.0, 0.0, 0.0], [0.0, 40.0, 0.0], [0.0, 0.0, 40.0]])
    good = landmark_rigid(pts, pts + np.array([1.0, 2.0, 3.0]))
    assert good.quality == "ok" and good.residual_mm == pytest.approx(0.0, abs=1e-9)
    swapped = pts[[1, 0, 2, 3]]
    bad = landmark_rigid(pts, swapped)
    assert bad.quality == "failed" and bad.residual_mm > 5.0
    assert any("pair" in w for w in bad.warnings)
