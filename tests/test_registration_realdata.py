"""Registration on real scanner data: the largest real volume in ../shared/testdata (a Siemens
sagittal T1 series, 35 × 256 × 256 at 1.0 × 1.0 × 4.8 mm) moved by known rigid transforms.

The follow-up is made independently of mdaread's resampling: scipy interpolates the real voxels
at ``truth⁻¹ q`` for every voxel centre q of a shifted field of view. (The shared data holds no
volumetric CT — the real CT there is a single slice — so CT↔CT accuracy is measured on the
sample trial and the phantom.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from mdaread.geometry import rigid
from mdaread.model.volume import Volume
from mdaread.registration import register_rigid

pytestmark = pytest.mark.realdata
SERIES = Path("dcm_qa_decubitus") / "In" / "HFS" / "3_t1_fl2d_sag"


@pytest.fixture(scope="module")
def real(testdata: Path) -> Volume:
    from mdaread.io import load_path

    return load_path(testdata / SERIES)


def moved(volume: Volume, truth: np.ndarray, fov_shift_mm: list[float]) -> Volume:
    """``volume`` imaged under ``truth`` (baseline LPS → follow-up LPS) on its own grid shifted
    by ``fov_shift_mm``: follow-up voxel q shows the baseline at truth⁻¹ q."""
    affine = volume.affine.copy()
    affine[:3, 3] += fov_shift_mm
    k, j, i = volume.shape
    kk, jj, ii = np.meshgrid(np.arange(k), np.arange(j), np.arange(i), indexing="ij")
    ijk = np.stack([ii, jj, kk], axis=-1).reshape(-1, 3).astype(np.float64)
    q = ijk @ affine[:3, :3].T + affine[:3, 3]
    src = volume.world_to_index(rigid.apply(rigid.invert(truth), q))  # (i, j, k)
    values = ndimage.map_coordinates(volume.array.astype(np.float32), src[:, ::-1].T, order=1,
                                     cval=0.0)
    return Volume(array=values.reshape(volume.shape), affine=affine, modality="MR")


@pytest.mark.parametrize(
    ("angles_deg", "shift_mm"),
    [
        ([3.0, -2.0, 4.0], [8.0, -6.0, 10.0]),
        pytest.param([-4.0, 3.0, -2.0], [-15.0, 12.0, -20.0], marks=pytest.mark.slow),
    ],
)
def test_real_mr_under_a_known_transform(real: Volume, angles_deg: list[float],
                                         shift_mm: list[float]) -> None:
    centre = real.center_world()
    truth = rigid.rigid_matrix(np.radians(angles_deg), shift_mm, centre)
    follow_up = moved(real, truth, [5.0, -7.0, 9.0])
    assert rigid.tre_box(np.eye(4), truth, centre) > 10.0
    result = register_rigid(real, follow_up, center_lps=centre)
    assert rigid.tre_box(result.matrix, truth, centre) <= 2.0  # MR: ≤ 2 mm (issue 5)
    assert result.quality == "ok", result.warnings


def test_a_single_real_ct_slice_is_refused_clearly(testdata: Path, real: Volume) -> None:
    from mdaread.errors import RegistrationError
    from mdaread.io import load_path

    ct = load_path(testdata / "cornerstoneWADOImageLoader" / "testImages" / "CTImage.dcm")
    assert ct.shape[0] == 1
    with pytest.raises(RegistrationError, match="only 1 slice"):
        register_rigid(ct, real)
    with pytest.raises(RegistrationError, match="follow-up has only 1 slice"):
        register_rigid(real, ct)
