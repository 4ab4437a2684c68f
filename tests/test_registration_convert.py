"""Volume ↔ SimpleITK and matrix ↔ transform conversions keep LPS geometry exact."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from mdaread.geometry import rigid
from mdaread.model.volume import Volume
from mdaread.registration.convert import affine_of, from_sitk, to_matrix, to_sitk, to_transform


def _oblique_volume() -> Volume:
    rot = rigid.euler_to_matrix(*np.radians([10.0, -20.0, 30.0]))
    affine = np.eye(4)
    affine[:3, :3] = rot * np.array([0.7, 0.8, 2.5])
    affine[:3, 3] = [-100.0, 50.0, 300.0]
    array = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    return Volume(array=array, affine=affine, modality="CT", series_uid="1.2.3")


def test_volume_round_trip_keeps_affine_and_array_order() -> None:
    volume = _oblique_volume()
    image = to_sitk(volume)
    assert image.GetSize() == (6, 5, 4)  # (i, j, k)
    np.testing.assert_allclose(affine_of(image), volume.affine, atol=1e-9)
    # the same voxel index gives the same LPS point in both
    ijk = (3, 2, 1)
    np.testing.assert_allclose(image.TransformIndexToPhysicalPoint(ijk),
                               volume.index_to_world(ijk), atol=1e-9)
    assert image[ijk] == volume.array[1, 2, 3]
    back = from_sitk(image, like=volume)
    np.testing.assert_array_equal(back.array, volume.array.astype(np.float32))
    np.testing.assert_allclose(back.affine, volume.affine, atol=1e-9)
    assert back.series_uid == "1.2.3"


def test_transform_round_trip_and_point_mapping() -> None:
    m = rigid.rigid_matrix(np.radians([5.0, -7.0, 12.0]), [3.0, -4.0, 10.0], [1.0, 2.0, 3.0])
    center = np.array([40.0, -20.0, 100.0])
    tx = to_transform(m, center)
    np.testing.assert_allclose(to_matrix(tx), m, atol=1e-9)
    p = np.array([12.0, -30.0, 95.0])
    np.testing.assert_allclose(tx.TransformPoint(tuple(p)), rigid.apply(m, p), atol=1e-9)


def test_resampling_through_a_matrix_maps_fixed_points_to_moving_points() -> None:
    # a bright voxel at moving point q appears at fixed point p = M⁻¹ q after resampling
    moving = np.zeros((20, 20, 20), np.float32)
    moving[12, 8, 5] = 1000.0
    moving_img = sitk.GetImageFromArray(moving)
    m = rigid.translation([3.0, -2.0, 4.0])
    out = sitk.Resample(moving_img, moving_img, to_transform(m, np.zeros(3)), sitk.sitkLinear)
    k, j, i = np.unravel_index(np.argmax(sitk.GetArrayFromImage(out)), moving.shape)
    np.testing.assert_allclose(rigid.apply(m, [i, j, k]), [5, 8, 12])


def test_numpy_parts_do_not_load_simpleitk() -> None:
    """Overlays, results and landmark fits are importable without SimpleITK (lazy package)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from mdaread.registration import blend, landmark_rigid, RegistrationResult\n"
            "print('SimpleITK' in sys.modules)\n"
            "from mdaread.registration import register_rigid\n"
            "print('SimpleITK' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]
