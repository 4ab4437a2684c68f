"""Spine posture between timepoints (the bend beyond the treated vertebra's rigid zone) and the
slice profile (each slice integrates the object over its thickness)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdaread.sample import anatomy as an
from mdaread.sample.anatomy import Part, build_anatomy
from mdaread.sample.posture import (
    LATERAL_DEG_PER_LEVEL,
    SAGITTAL_DEG_PER_LEVEL,
    Posture,
    draw_posture,
    rigid_zone,
)
from mdaread.sample.render import axial_grid, render, sagittal_grid, slice_offsets
from mdaread.sample.shapes import EllipticCylinderZ

F32 = np.float32


def _to_rest(posture: Posture, points: np.ndarray) -> np.ndarray:
    x, y, z = (np.ascontiguousarray(points[:, n], dtype=F32) for n in range(3))
    return np.stack(posture.to_rest(x, y, z), axis=-1)


@pytest.fixture(scope="module")
def spine() -> an.Anatomy:
    return build_anatomy(["L2"], 1.0, 15.0)


def test_rigid_zone_holds_the_treated_body_and_half_of_each_disc(spine: an.Anatomy) -> None:
    z_lo, z_hi = rigid_zone(spine.vertebrae, ["L2"])
    l1, l2, l3 = (spine.vertebrae[lv] for lv in ("L1", "L2", "L3"))
    assert z_hi == pytest.approx(((l2.cz + l2.height / 2) + (l1.cz - l1.height / 2)) / 2)
    assert z_lo == pytest.approx(((l2.cz - l2.height / 2) + (l3.cz + l3.height / 2)) / 2)
    two = rigid_zone(spine.vertebrae, ["L3", "L2"])  # two treated levels: both bodies
    assert two[1] == pytest.approx(z_hi) and two[0] < l3.cz - l3.height / 2


def test_treated_vertebra_maps_exactly(spine: an.Anatomy) -> None:
    posture = draw_posture(1, 0, 2, spine.vertebrae, ["L2"])
    assert not posture.is_identity
    v = spine.vertebrae["L2"]
    rng = np.random.default_rng(0)
    body = np.column_stack([rng.uniform(-v.a, v.a, 500), rng.uniform(-v.b, v.b, 500),
                            rng.uniform(v.cz - v.height / 2, v.cz + v.height / 2, 500)])
    body = body.astype(F32)
    assert np.array_equal(_to_rest(posture, body), body)  # bit for bit
    assert np.array_equal(posture.to_posed(body.astype(np.float64)), body.astype(np.float64))


@pytest.mark.parametrize(("sagittal", "lateral"), [(1.5, 0.0), (-1.2, 0.0), (0.0, 1.0),
                                                   (1.0, -0.8)])
def test_a_point_two_levels_away_lies_on_the_bend_arc(sagittal: float, lateral: float) -> None:
    """A point of the spine's axis s mm beyond the zone lies on the circle of radius 1/κ that
    touches the axis at the zone's end, turned by κ·s about its centre, on the side the
    curvature points to (flexion: anterior, −y; lateral > 0: the patient's left, +x)."""
    level, z_lo, z_hi = 30.0, -14.0, 16.0
    posture = Posture(sagittal, lateral, level, z_lo, z_hi)
    kappa = math.radians(math.hypot(sagittal, lateral)) / level
    toward = np.array([lateral, -sagittal, 0.0]) / math.hypot(sagittal, lateral)
    for end, sign in ((z_hi, 1.0), (z_lo, -1.0)):
        s = 2 * level
        rest = np.array([0.0, 0.0, end + sign * s])
        posed = posture.to_posed(rest)
        centre = np.array([0.0, 0.0, end]) + toward / kappa
        assert np.linalg.norm(posed - centre) == pytest.approx(1 / kappa, rel=1e-9)
        start = np.array([0.0, 0.0, end]) - centre
        turned = math.acos(float(np.dot(start, posed - centre)) * kappa * kappa)
        assert turned == pytest.approx(kappa * s, rel=1e-6)
        moved = posed - rest
        # ≈ κ·s²/2 toward the centre of curvature: 2 levels at 1.5°/level ≈ 1.6 mm
        assert float(np.dot(moved, toward)) == pytest.approx(kappa * s * s / 2, rel=0.01)
        assert float(np.dot(moved, toward)) > 0.5
        back = _to_rest(posture, posed[None, :].astype(F32))[0]
        assert np.allclose(back, rest, atol=1e-3)


def test_the_bend_is_continuous_and_starts_flat_at_the_zone_edge() -> None:
    posture = Posture(1.5, -1.0, 28.0, -13.0, 14.0)
    for x, y in ((0.0, 0.0), (40.0, -30.0), (-120.0, 90.0)):
        z = np.arange(14.0 - 2.0, 14.0 + 2.0, 0.01)
        rest = np.column_stack([np.full_like(z, x), np.full_like(z, y), z])
        moved = posture.to_posed(rest) - rest
        steps = np.linalg.norm(np.diff(moved, axis=0), axis=1)
        # no jump: neighbouring points 0.01 mm apart move alike, within the strain of a bent rod
        # (κ × distance from the axis), also across the edge at z = 14
        kappa = math.hypot(*posture.curvature)
        assert steps.max() < 0.01 * kappa * (math.hypot(x, y) + 5.0)
        assert np.all(moved[z <= 14.0] == 0.0)
    # on the spine's axis the displacement grows as s², with no linear term at the edge
    near = posture.to_posed(np.array([[0.0, 0.0, 14.0 + s] for s in (0.5, 1.0, 2.0)]))
    growth = np.linalg.norm(near - np.array([[0, 0, 14.5], [0, 0, 15.0], [0, 0, 16.0]]), axis=1)
    assert growth[2] == pytest.approx(4 * growth[1], rel=0.01)
    assert growth[1] == pytest.approx(4 * growth[0], rel=0.01)


def test_rest_and_posed_are_inverse_over_a_whole_scan() -> None:
    posture = Posture(-1.4, 0.9, 26.0, -12.0, 13.0)
    rng = np.random.default_rng(3)
    points = rng.uniform(-170.0, 170.0, size=(20000, 3))
    posed = posture.to_posed(points)
    assert np.abs(posed - points).max() > 10.0  # the far field really moves
    assert np.allclose(_to_rest(posture, posed), points, atol=2e-3)


def test_postures_are_deterministic_bounded_and_identity_at_baseline(spine: an.Anatomy) -> None:
    drawn = [draw_posture(5, i, t, spine.vertebrae, ["L2"]) for i in range(8) for t in (1, 2, 3)]
    assert drawn == [draw_posture(5, i, t, spine.vertebrae, ["L2"])
                     for i in range(8) for t in (1, 2, 3)]
    assert len({(p.sagittal_deg_per_level, p.lateral_deg_per_level) for p in drawn}) == 24
    assert all(abs(p.sagittal_deg_per_level) <= SAGITTAL_DEG_PER_LEVEL for p in drawn)
    assert all(abs(p.lateral_deg_per_level) <= LATERAL_DEG_PER_LEVEL for p in drawn)
    assert draw_posture(5, 0, 0, spine.vertebrae, ["L2"]).is_identity
    pitch = drawn[0].level_mm
    assert spine.vertebrae["L2"].height < pitch < spine.vertebrae["L2"].height + 12


def test_rendering_bends_other_levels_and_keeps_the_treated_one(spine: an.Anatomy) -> None:
    posture = Posture(1.5, 1.0, 30.0, *rigid_zone(spine.vertebrae, ["L2"]))
    grid = sagittal_grid([0.0, 10.0, -20.0], 1.5, 120, 3.3, 3)
    straight, _ = render(spine.parts, grid, np.eye(4), ("CT",))
    bent, _ = render(spine.parts, grid, np.eye(4), ("CT",), posture=posture)
    to_index = np.linalg.inv(grid.affine)
    z = grid.affine[2, 3] + grid.affine[2, 1] * np.arange(120)  # row → z (LPS mm)
    inside = (z > posture.z_lo + 1) & (z < posture.z_hi - 1)
    # identical there, but for bowel fat patches: their coarse texture is interpolated from a
    # lattice laid on each part's window, and the bent render's windows are wider
    patchy = np.isin(straight, [an.FAT, an.SOFT]) & np.isin(bent, [an.FAT, an.SOFT])
    same = (straight == bent) | patchy
    assert same[:, inside].all()
    assert np.array_equal(straight[:, inside] == an.CORTEX, bent[:, inside] == an.CORTEX)
    assert (straight != bent).sum() > 200
    for level in ("L4", "L5"):  # the body's centre is where the posture puts it
        v = spine.vertebrae[level]
        i, j, k = np.rint(to_index[:3, :3] @ posture.to_posed(v.centre()) + to_index[:3, 3])
        assert bent[int(k), int(j), int(i)] == an.CANCELLOUS, level


def test_slice_offsets_spread_evenly_over_the_thickness() -> None:
    assert slice_offsets(0.0, 1.0) == [0.0]
    assert slice_offsets(0.8, 0.8) == [0.0]
    assert len(slice_offsets(1.0, 1.0)) == 2 and len(slice_offsets(3.0, 3.3)) == 4
    for thickness, spacing in ((1.5, 1.5), (2.5, 2.5), (3.0, 3.3)):
        offsets = np.array(slice_offsets(thickness, spacing)) * spacing  # mm
        assert offsets.mean() == pytest.approx(0.0, abs=1e-12)
        gaps = np.diff(offsets)
        assert np.allclose(gaps, thickness / len(offsets))
        assert offsets[0] - gaps[0] / 2 == pytest.approx(-thickness / 2)


def _plate(z0: float, z1: float) -> list[Part]:
    """A wide, flat plate of blood (42 HU, no texture) between z0 and z1 mm, in air."""
    return [Part(EllipticCylinderZ(0.0, 0.0, 40.0, 40.0, z0, z1), an.BLOOD)]


def _centre_value(parts: list[Part], thickness: float) -> tuple[int, float]:
    grid = axial_grid([0.0, 0.0, 0.0], 1.0, 16, 3.3, 1)
    labels, values = render(parts, grid, np.eye(4), ("CT",), thickness_mm=thickness)
    return int(labels[0, 8, 8]), float(values["CT"][0, 8, 8])


def test_a_plate_thinner_than_the_slice_gets_a_partial_value() -> None:
    label, point = _centre_value(_plate(-0.5, 0.5), 0.0)
    assert (label, point) == (an.BLOOD, 42.0)  # a point sample sees the plate only
    label, thick = _centre_value(_plate(-0.5, 0.5), 3.0)
    assert label == an.BLOOD  # labels come from the slice centre
    fraction = (thick + 1000.0) / 1042.0
    assert 0.2 < fraction < 0.6  # ideal 1/3 (1 mm of a 3 mm slice)
    # the profile is symmetric, and a plate off the centre but inside the slice still counts
    below = _centre_value(_plate(-1.4, -0.6), 3.0)
    above = _centre_value(_plate(0.6, 1.4), 3.0)
    assert below[0] == above[0] == an.AIR
    assert below[1] == pytest.approx(above[1]) and -1000.0 < above[1] < 0.0
    assert _centre_value(_plate(-5.0, 5.0), 3.0) == (an.BLOOD, 42.0)  # fills the slice
    assert _centre_value(_plate(1.6, 3.0), 3.0) == (an.AIR, -1000.0)  # beyond the slice


def test_thickness_changes_values_not_labels(spine: an.Anatomy) -> None:
    grid = axial_grid([0.0, 10.0, 0.0], 2.0, 48, 3.0, 6)
    thin_labels, thin = render(spine.parts, grid, np.eye(4), ("CT",))
    thick_labels, thick = render(spine.parts, grid, np.eye(4), ("CT",), thickness_mm=3.0)
    assert np.array_equal(thin_labels, thick_labels)
    assert not np.array_equal(thin["CT"], thick["CT"])
