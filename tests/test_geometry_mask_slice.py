"""A box mask cut by each displayed plane: the same voxels as slicing the full grid through the
Mpr, for axial and flipped (reversed-storage) grids; off-slice and off-grid views give None."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.geometry.mask_slice import mask_on_slice, outline
from mdaread.geometry.mpr import PLANES, Mpr
from mdaread.model import Volume


def _grids():
    plain = np.diag([0.7, 0.9, 2.5, 1.0])
    flipped = np.diag([-0.7, 0.9, -2.5, 1.0])  # i runs to the right, k downwards
    flipped[:3, 3] = (40.0, -10.0, 30.0)
    return [plain, flipped]


@pytest.mark.parametrize("affine", _grids())
@pytest.mark.parametrize("plane", PLANES)
def test_cut_matches_the_full_grid_through_the_mpr(affine, plane) -> None:
    rng = np.random.default_rng(3)
    shape = (12, 30, 40)
    box = rng.random((5, 7, 9)) > 0.4
    offset = (3, 11, 20)
    full = np.zeros(shape, dtype=bool)
    full[3:8, 11:18, 20:29] = box
    mpr = Mpr(Volume(full.astype(np.uint8), affine))
    g = mpr.geometry(plane)
    hits = 0
    for s in range(g.n_slices):
        cut = mask_on_slice(box, offset, affine, g, s)
        expected = mpr.image(plane, s).astype(bool)
        if not expected.any():
            assert cut is None
            continue
        hits += 1
        assert cut is not None
        drawn = np.zeros_like(expected)
        rows, cols = cut.image.shape
        drawn[cut.r0:cut.r0 + rows, cut.c0:cut.c0 + cols] = cut.image
        np.testing.assert_array_equal(drawn, expected)
    assert hits >= 5


def test_another_grid_is_not_cut() -> None:
    affine = np.diag([0.7, 0.9, 2.5, 1.0])
    other = Mpr(Volume(np.zeros((10, 10, 10), dtype=np.uint8), np.diag([0.5, 0.5, 1.0, 1.0])))
    box = np.ones((2, 2, 2), dtype=bool)
    assert mask_on_slice(box, (0, 0, 0), affine, other.geometry("axial"), 0) is None


def test_outline_keeps_the_edge_only() -> None:
    image = np.zeros((7, 7), dtype=bool)
    image[1:6, 1:6] = True
    edge = outline(image)
    assert edge.sum() == 16 and not edge[3, 3] and edge[1, 3]
