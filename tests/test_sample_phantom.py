"""The spine phantom: tissue intensities in the expected order, lesions and cement where they
belong, and the follow-up rendered through the inverse of the truth transform."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from mdaread.sample import anatomy as an
from mdaread.sample.anatomy import build_anatomy
from mdaread.sample.lesions import lesion_ellipsoid, lesion_parts, place_cement
from mdaread.sample.render import add_streaks, axial_grid, finish_ct, render
from mdaread.sample.scenarios import SCENARIOS
from mdaread.sample.shapes import Ellipsoid
from mdaread.sample.trial import random_rigid


@pytest.fixture(scope="module")
def ct_at_1m() -> tuple[np.ndarray, np.ndarray]:
    """Subject 1's anatomy at 1 month (lesion + cement), 0.8 mm pixels, 1 mm slices."""
    scenario = SCENARIOS[0]
    anatomy = build_anatomy(list(scenario.treated_levels), 1.0, 15.0)
    parts = anatomy.parts + lesion_parts(anatomy, scenario, 1)
    for bolus in place_cement(anatomy, scenario):
        parts += bolus.parts(anatomy.vertebrae[bolus.level])
    grid = axial_grid([0.0, 10.0, 0.0], 0.8, 128, 1.0, 40)
    labels, values = render(parts, grid, np.eye(4), ("CT",))
    hu = finish_ct(values["CT"], np.random.default_rng(0), 10.0)
    return labels, hu


def _mean(hu: np.ndarray, labels: np.ndarray, label: int) -> float:
    inner = ndimage.binary_erosion(labels == label)  # away from partial-volume edges
    assert inner.sum() > 20, label
    return float(hu[inner].mean())


def test_ct_intensity_order(ct_at_1m: tuple[np.ndarray, np.ndarray]) -> None:
    labels, hu = ct_at_1m
    cortex = float(hu[labels == an.CORTEX].mean())  # a thin shell: no erosion
    cancellous = _mean(hu, labels, an.CANCELLOUS)
    muscle = _mean(hu, labels, an.MUSCLE)
    fat = _mean(hu, labels, an.FAT)
    assert cortex > cancellous > muscle > fat
    assert 150 < cancellous < 400 and 30 < muscle < 80 and -150 < fat < -50
    lytic = _mean(hu, labels, an.LYTIC)
    assert 30 <= lytic <= 60


def test_cement_saturates_near_the_top_of_the_range(
        ct_at_1m: tuple[np.ndarray, np.ndarray]) -> None:
    labels, hu = ct_at_1m
    inner = ndimage.binary_erosion(labels == an.CEMENT)
    assert inner.sum() > 50
    assert np.percentile(hu[inner], 5) >= 3000
    assert hu.max() == 3071


def test_blastic_lesions_are_dense() -> None:
    scenario = SCENARIOS[2]  # lytic L4 + blastic L5
    anatomy = build_anatomy(list(scenario.treated_levels), 1.0, 15.0)
    grid = axial_grid([0.0, 10.0, anatomy.vertebrae["L5"].cz], 0.8, 96, 1.0, 16)
    labels, values = render(anatomy.parts + lesion_parts(anatomy, scenario, 0), grid,
                            np.eye(4), ("CT",))
    hu = finish_ct(values["CT"], np.random.default_rng(1), 10.0)
    assert 800 <= _mean(hu, labels, an.BLASTIC) <= 1200


def _body_contains(v: an.Vertebra, pts: np.ndarray) -> np.ndarray:
    shape = an.body_shape(v)
    return shape.contains(pts[:, 0], pts[:, 1], pts[:, 2])


def _surface(e: Ellipsoid, n: int = 400) -> np.ndarray:
    """Points spread over the ellipsoid's surface (baseline LPS mm)."""
    rng = np.random.default_rng(0)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    c, s = np.cos(e.theta), np.sin(e.theta)
    u, w, z = d[:, 0] * e.rx, d[:, 1] * e.ry, d[:, 2] * e.rz
    return np.stack([e.cx + u * c - w * s, e.cy + u * s + w * c, e.cz + z], axis=1)


@pytest.mark.parametrize("scale", [0.95, 1.07])  # the range of subject sizes
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: "-".join(s.treated_levels))
def test_lesions_fit_their_body_and_cement_stays_clear(scenario: Any, scale: float) -> None:
    anatomy = build_anatomy(list(scenario.treated_levels), scale, 15.0)
    boluses = place_cement(anatomy, scenario)
    solids = []
    for lesion in scenario.lesions:
        v = anatomy.vertebrae[lesion.level]
        solids += [(lesion.id, v, lesion_ellipsoid(v, lesion.offset, s.long_mm, s.perp_mm,
                                                   lesion.theta_deg))
                   for s in lesion.states if s.long_mm > 0]
    for new in scenario.new_lesions:
        v = anatomy.vertebrae[new.level]
        solids += [(new.id, v, lesion_ellipsoid(v, new.offset, seen[1], seen[2], 0.0))
                   for seen in new.states if seen is not None]
    for name, v, solid in solids:
        pts = _surface(solid)
        assert _body_contains(v, pts).mean() > 0.97, name
        for bolus in boluses:
            if bolus.level == v.level:
                rel = (pts - np.array(bolus.centre)) / np.array(bolus.radii)
                assert (np.linalg.norm(rel, axis=1) > 1.0).all(), name


def test_follow_up_is_the_baseline_anatomy_moved_by_the_transform() -> None:
    anatomy = build_anatomy(["L2"], 1.0, 15.0)
    matrix = random_rigid(np.random.default_rng(4))
    grid = axial_grid([0.0, 10.0, 0.0], 1.0, 64, 2.0, 50)  # the scanner grid stays put
    base, _ = render(anatomy.parts, grid, np.eye(4), ("CT",))
    moved, _ = render(anatomy.parts, grid, np.linalg.inv(matrix), ("CT",))
    to_index = np.linalg.inv(grid.affine)
    for level in ("L1", "L2", "L3"):
        v = anatomy.vertebrae[level]
        landmarks = {an.CANCELLOUS: v.centre(),
                     an.CSF: (v.cx + 6.0, v.cy + v.b + 9.0, v.cz)}  # beside the cord
        for label, point in landmarks.items():
            i, j, k = np.rint(to_index[:3, :3] @ point + to_index[:3, 3]).astype(int)
            assert base[k, j, i] == label, (level, label)
            follow = matrix[:3, :3] @ np.asarray(point) + matrix[:3, 3]
            i, j, k = np.rint(to_index[:3, :3] @ follow + to_index[:3, 3]).astype(int)
            assert moved[k, j, i] == label, (level, label)
    # the patient moved: the same voxels no longer hold the same bone
    bone, moved_bone = np.isin(base, list(an.BONE)), np.isin(moved, list(an.BONE))
    assert (bone != moved_bone).sum() > 0.2 * bone.sum()


def test_streak_artifact_hides_the_lesion_slices_only() -> None:
    grid = axial_grid([0.0, 0.0, 0.0], 1.0, 64, 2.0, 30)
    hu = np.zeros(grid.shape, dtype=np.float32)
    add_streaks(hu, grid, [0.0, 0.0, 0.0], half_depth_mm=10.0)
    z = grid.affine[2, 2] * np.arange(grid.shape[0]) + grid.affine[2, 3]
    touched = np.abs(hu).reshape(grid.shape[0], -1).max(axis=1) > 0
    assert (touched == (np.abs(z) <= 10.0)).all()
    middle = hu[np.argmin(np.abs(z))]
    near = middle[22:42, 22:42]  # within 10 mm of the centre: strong bright and dark streaks
    assert near.max() > 200 and near.min() < -200
