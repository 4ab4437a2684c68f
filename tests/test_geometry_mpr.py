"""MPR slice extraction and screen ↔ world mapping on anisotropic, flipped, permuted and oblique
affines. The image a view shows must be the voxels found at the world positions it claims."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.geometry import PLANES, Mpr, axis_assignment
from mdaread.model import Volume


def _rotation_z(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1.0]])


def _volume(direction: np.ndarray, spacing=(0.6, 0.8, 2.5), shape=(7, 9, 11)) -> Volume:
    rng = np.random.default_rng(3)
    array = rng.integers(-1000, 3000, size=shape).astype(np.int16)
    affine = np.eye(4)
    affine[:3, :3] = np.asarray(direction, dtype=float) * np.asarray(spacing)
    affine[:3, 3] = (-40.0, 12.5, 300.0)
    return Volume(array, affine, modality="CT")


AFFINES = {
    "axial": np.eye(3),
    # LPS flipped on x and y (a volume stored right-to-left and bottom-up)
    "flipped": np.diag([-1.0, -1.0, 1.0]),
    # sagittal acquisition: columns run posterior, rows inferior, slices left
    "sagittal": np.array([[0, 0, 1.0], [1, 0, 0], [0, -1.0, 0]]),
    # coronal acquisition with slices running anterior (−y)
    "coronal": np.array([[1.0, 0, 0], [0, 0, -1.0], [0, -1.0, 0]]),
    "oblique": _rotation_z(15.0),
}


@pytest.mark.parametrize("name", sorted(AFFINES))
@pytest.mark.parametrize("plane", PLANES)
def test_every_pixel_is_the_voxel_at_its_world_position(name: str, plane: str) -> None:
    volume = _volume(AFFINES[name])
    mpr = Mpr(volume)
    g = mpr.geometry(plane)
    for s in (0, g.n_slices // 2, g.n_slices - 1):
        image = mpr.image(plane, s)
        assert image.shape == g.shape
        rows, cols = g.shape
        for r in range(rows):
            for c in range(cols):
                assert mpr.value_at(g.to_world(c, r, s)) == image[r, c]


@pytest.mark.parametrize("name", sorted(AFFINES))
@pytest.mark.parametrize("plane", PLANES)
def test_screen_world_round_trip(name: str, plane: str) -> None:
    mpr = Mpr(_volume(AFFINES[name]))
    g = mpr.geometry(plane)
    rng = np.random.default_rng(1)
    for c, r, s in rng.uniform(-2, 12, size=(20, 3)):
        assert np.allclose(g.to_display(g.to_world(c, r, s)), (c, r, s), atol=1e-9)


@pytest.mark.parametrize("name", sorted(AFFINES))
def test_radiological_orientation(name: str) -> None:
    mpr = Mpr(_volume(AFFINES[name]))
    expected = {  # plane → (LPS axis, sign) of screen right, of screen down
        "axial": ((0, 1), (1, 1)),
        "coronal": ((0, 1), (2, -1)),
        "sagittal": ((1, 1), (2, -1)),
    }
    for plane, ((rx, rs), (dx, ds)) in expected.items():
        g = mpr.geometry(plane)
        right = g.to_world(1, 0, 0) - g.to_world(0, 0, 0)
        down = g.to_world(0, 1, 0) - g.to_world(0, 0, 0)
        assert np.sign(right[rx]) == rs and abs(right[rx]) == pytest.approx(
            np.abs(right).max())
        assert np.sign(down[dx]) == ds and abs(down[dx]) == pytest.approx(np.abs(down).max())


def test_labels_follow_the_radiological_convention() -> None:
    mpr = Mpr(_volume(AFFINES["flipped"]))
    assert mpr.geometry("axial").labels == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert mpr.geometry("coronal").labels == {"left": "R", "right": "L", "top": "S",
                                              "bottom": "I"}
    assert mpr.geometry("sagittal").labels == {"left": "A", "right": "P", "top": "S",
                                               "bottom": "I"}


def test_anisotropic_pixel_size_per_screen_axis() -> None:
    mpr = Mpr(_volume(np.eye(3), spacing=(0.6, 0.8, 2.5)))
    assert mpr.geometry("axial").pixel_mm == pytest.approx((0.6, 0.8))
    assert mpr.geometry("coronal").pixel_mm == pytest.approx((0.6, 2.5))
    assert mpr.geometry("sagittal").pixel_mm == pytest.approx((0.8, 2.5))
    assert mpr.geometry("axial").slice_mm == pytest.approx(2.5)


def test_sagittal_acquisition_shows_native_sagittal_slices_as_views() -> None:
    volume = _volume(AFFINES["sagittal"])
    mpr = Mpr(volume)
    g = mpr.geometry("sagittal")
    assert g.n_slices == volume.shape[0]  # slices along k are sagittal
    image = mpr.image("sagittal", 2)
    assert np.shares_memory(image, volume.array)
    assert g.warning == ""


def test_oblique_volume_says_it_shows_the_nearest_native_plane() -> None:
    mpr = Mpr(_volume(AFFINES["oblique"]))
    assert mpr.geometry("axial").tilt_deg == pytest.approx(15.0)
    assert "nearest native plane" in mpr.geometry("axial").warning
    assert "15.0" in mpr.geometry("axial").warning
    perm, tilt = axis_assignment(_rotation_z(60.0))
    assert perm == (1, 0, 2) and tilt == pytest.approx(30.0)


def test_step_moves_by_whole_slices_and_clamps() -> None:
    mpr = Mpr(_volume(np.eye(3), spacing=(0.6, 0.8, 2.5)))
    g = mpr.geometry("axial")
    start = g.to_world(3.2, 4.7, 2)
    moved = mpr.step("axial", start, 2)
    assert np.allclose(moved - start, (0, 0, 5.0))
    assert g.slice_index(mpr.step("axial", start, 100)) == g.n_slices - 1
    assert g.slice_index(mpr.step("axial", start, -100)) == 0


def test_slice_through_picks_the_nearest_slice_and_value_outside_is_none() -> None:
    volume = _volume(np.eye(3))
    mpr = Mpr(volume)
    point = volume.index_to_world([4, 5, 3.4])
    index, image = mpr.slice_through("axial", point)
    assert index == 3
    assert np.array_equal(image, volume.array[3])
    assert mpr.value_at(volume.index_to_world([-1, 0, 0])) is None
    assert not mpr.contains(volume.index_to_world([0, 0, 7]))


@pytest.mark.parametrize("name", sorted(AFFINES))
def test_slice_numbers_grow_toward_superior_posterior_left(name: str) -> None:
    mpr = Mpr(_volume(AFFINES[name]))
    for plane, axis in (("axial", 2), ("coronal", 1), ("sagittal", 0)):
        g = mpr.geometry(plane)
        assert (g.to_world(0, 0, 1) - g.to_world(0, 0, 0))[axis] > 0


@pytest.mark.parametrize("name", sorted(AFFINES))
def test_contiguous_copies_of_strided_planes_show_the_same_slices(name: str) -> None:
    """copy_strided_planes changes the memory layout only: every slice of every plane keeps
    its values, and no plane is left gathering scattered values (flips and permutations)."""
    volume = _volume(AFFINES[name], shape=(37, 9, 11))  # > one 16-slice slab along k
    mpr = Mpr(volume)
    before = {p: [mpr.image(p, i).copy() for i in range(mpr.geometry(p).n_slices)]
              for p in PLANES}
    strided = mpr.strided_planes()
    assert strided  # a 3-D stack always has one plane across its rows
    mpr.copy_strided_planes()
    assert mpr.strided_planes() == []
    for plane in PLANES:
        for index, image in enumerate(before[plane]):
            np.testing.assert_array_equal(mpr.image(plane, index), image)
        assert np.shares_memory(mpr.image(plane, 0), volume.array) == (plane not in strided)


def test_strided_planes_keep_their_views_above_the_size_limit() -> None:
    mpr = Mpr(_volume(AFFINES["axial"]))
    mpr.copy_strided_planes(max_bytes=16)
    assert mpr.strided_planes() == ["sagittal"]
