"""mdaread.geometry.rigid: pure-numpy rigid transforms, point fits and TRE."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.geometry import rigid


def _random_rigid(rng: np.random.Generator, max_deg: float = 30.0, max_mm: float = 50.0):
    angles = np.radians(rng.uniform(-max_deg, max_deg, 3))
    return rigid.rigid_matrix(angles, rng.uniform(-max_mm, max_mm, 3), rng.uniform(-100, 100, 3))


def test_euler_round_trip_and_order() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        angles = rng.uniform(-1.4, 1.4, 3)
        back = rigid.euler_from_matrix(rigid.euler_to_matrix(*angles))
        np.testing.assert_allclose(back, angles, atol=1e-9)
    # x is applied first: a 90° turn about x then about z sends +y to +z, then +z stays +z
    r = rigid.euler_to_matrix(np.pi / 2, 0.0, np.pi / 2)
    np.testing.assert_allclose(r @ [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(r @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-12)


def test_axis_angle_round_trip_including_pi() -> None:
    rng = np.random.default_rng(2)
    for angle in (0.0, 0.3, 1.0, 2.5, np.pi):
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        r = rigid.axis_angle_to_matrix(axis, angle)
        assert rigid.is_rigid(np.block([[r, np.zeros((3, 1))], [np.zeros((1, 3)), 1.0]]))
        back_axis, back_angle = rigid.matrix_to_axis_angle(r)
        np.testing.assert_allclose(rigid.axis_angle_to_matrix(back_axis, back_angle), r,
                                   atol=1e-8)
        assert back_angle == pytest.approx(angle, abs=1e-8)


def test_invert_and_compose() -> None:
    rng = np.random.default_rng(3)
    a, b = _random_rigid(rng), _random_rigid(rng)
    np.testing.assert_allclose(rigid.compose(a, rigid.invert(a)), np.eye(4), atol=1e-12)
    np.testing.assert_allclose(rigid.invert(a), np.linalg.inv(a), atol=1e-12)
    p = rng.uniform(-50, 50, (5, 3))
    np.testing.assert_allclose(rigid.apply(rigid.compose(a, b), p),
                               rigid.apply(a, rigid.apply(b, p)), atol=1e-9)
    assert not rigid.is_rigid(np.diag([1.0, 1.0, -1.0, 1.0]))
    assert not rigid.is_rigid(np.diag([2.0, 1.0, 1.0, 1.0]))


def test_rigid_matrix_keeps_centre_under_pure_rotation() -> None:
    centre = np.array([10.0, -20.0, 300.0])
    m = rigid.rigid_matrix(np.radians([5.0, -3.0, 7.0]), (0.0, 0.0, 0.0), centre)
    np.testing.assert_allclose(rigid.apply(m, centre), centre, atol=1e-12)
    shifted = rigid.rigid_matrix((0.0, 0.0, 0.0), (1.0, 2.0, 3.0), centre)
    np.testing.assert_allclose(rigid.apply(shifted, [0.0, 0.0, 0.0]), [1.0, 2.0, 3.0])


def test_fit_rigid_points_recovers_transform_and_residual() -> None:
    rng = np.random.default_rng(4)
    truth = _random_rigid(rng)
    src = rng.uniform(-40, 40, (6, 3))
    fit = rigid.fit_rigid_points(src, rigid.apply(truth, src))
    np.testing.assert_allclose(fit.matrix, truth, atol=1e-9)
    assert fit.rms_mm < 1e-9
    noisy = rigid.apply(truth, src) + rng.normal(0.0, 1.0, src.shape)
    fit = rigid.fit_rigid_points(src, noisy)
    assert 0.2 < fit.rms_mm < 2.0
    assert rigid.is_rigid(fit.matrix)
    assert fit.residuals_mm.shape == (6,)


def test_fit_rigid_points_never_returns_a_reflection() -> None:
    src = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    mirrored = src * [1.0, 1.0, -1.0]
    fit = rigid.fit_rigid_points(src, mirrored)
    assert rigid.is_rigid(fit.matrix)
    assert fit.rms_mm > 1.0


@pytest.mark.parametrize(
    "src",
    [
        [[0, 0, 0], [1, 1, 1]],
        [[0, 0, 0], [10, 0, 0], [20, 0, 0], [30, 0.01, 0]],
        [[5, 5, 5]] * 4,
    ],
)
def test_fit_rigid_points_refuses_degenerate_sets(src: list) -> None:
    with pytest.raises(ValueError):
        rigid.fit_rigid_points(src, src)


def test_tre_box_is_the_largest_corner_error() -> None:
    centre = np.array([0.0, 0.0, 100.0])
    truth = np.eye(4)
    assert rigid.tre_box(rigid.translation([3.0, 4.0, 0.0]), truth, centre) == pytest.approx(5.0)
    # a rotation of θ about the box centre moves corners by 2·r·sin(θ/2), r = half-diagonal of
    # the corner's circle: about z the corners are √2·20 mm away from the axis
    theta = np.radians(2.0)
    rot = rigid.rotation_about(rigid.euler_to_matrix(0.0, 0.0, theta), centre)
    expected = 2 * np.sqrt(2) * 20.0 * np.sin(theta / 2)
    assert rigid.tre_box(rot, truth, centre) == pytest.approx(expected, rel=1e-9)
    assert len(rigid.box_corners(centre)) == 8


def test_nudge_overlay_moves_the_resampled_view() -> None:
    m = rigid.translation([5.0, 0.0, 0.0])
    nudged = rigid.nudge_overlay(m, translation_mm=(1.0, 0.0, 0.0))
    # the overlay moved +1 mm in x: baseline point p now shows what p − 1 showed before
    p = np.array([[10.0, 0.0, 0.0]])
    np.testing.assert_allclose(rigid.apply(nudged, p), rigid.apply(m, p - [1.0, 0.0, 0.0]))
    centre = np.array([0.0, 0.0, 50.0])
    turned = rigid.nudge_overlay(np.eye(4), rotation_deg=(0.0, 0.0, 90.0), center_mm=centre)
    np.testing.assert_allclose(rigid.apply(turned, centre), centre, atol=1e-12)
    np.testing.assert_allclose(rigid.apply(turned, centre + np.array([0.0, 1.0, 0.0])),
                               centre + np.array([1.0, 0.0, 0.0]), atol=1e-12)
