"""The loader against real scanner data (../shared/testdata) and its reference volumes.

Comparisons are in world space: both volumes are reoriented to the closest canonical RAS with
nibabel, then shape must match exactly, the affine within 0.01 mm, and values exactly for
lossless data.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from mdaread.errors import GeometryError
from mdaread.io import load_path, load_series, scan_path
from mdaread.model.volume import Volume

pytestmark = pytest.mark.realdata

D2N = "dicom2nifti/tests/data"
REF = "reference_dcm2niix_v1.0.20260724"
CORNERSTONE = "cornerstoneWADOImageLoader/testImages"
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

# (DICOM folder or file, reference NIfTI, value tolerance) — every reference in testdata
GENERIC = f"{D2N}/generic"
REFERENCES = [
    *((f"{GENERIC}/compressed_{codec}/001",
       f"{GENERIC}/compressed_{codec}/001_ground_truth.nii.gz", 0)
      for codec in ("j2k", "jpeg", "jpegls", "rle")),
    # per-slice rescale slopes: float32 here, float64 in the reference
    (f"{D2N}/generic/anatomical/002_non_isotropic",
     f"{D2N}/generic/anatomical/002_non_isotropic_ground_truth.nii.gz", 1e-4),
    (f"{D2N}/hitachi/anatomical/001", f"{D2N}/hitachi/anatomical/001_ground_truth.nii.gz", 0),
    (f"{D2N}/siemens_multiframe/anatomical/001",
     f"{D2N}/siemens_multiframe/anatomical/001_ground_truth.nii.gz", 0),
    ("dcm_qa_decubitus/In/HFS", f"{REF}/decubitus_HFS_t1/t1_fl2d_sag_3.nii.gz", 0),
    (f"{CORNERSTONE}/CTImage.dcm", f"{REF}/cornerstone_CTImage/HELICAL_CHEST_2.nii.gz", 0),
]


def canonical(array_ijk: np.ndarray, ras_affine: np.ndarray) -> Any:
    return nib.as_closest_canonical(nib.Nifti1Image(array_ijk, ras_affine))


def assert_same_in_world(volume: Volume, reference: Any, tolerance: float) -> None:
    ours = canonical(np.asarray(volume.array).transpose(2, 1, 0), LPS_TO_RAS @ volume.affine)
    ref = nib.as_closest_canonical(reference)
    assert ours.shape == ref.shape
    assert np.max(np.abs(ours.affine - ref.affine)) <= 0.01
    mine = np.asanyarray(ours.dataobj).astype(np.float64)
    theirs = np.asanyarray(ref.dataobj).astype(np.float64)
    if tolerance == 0:
        assert np.array_equal(mine, theirs)
    else:
        assert np.max(np.abs(mine - theirs) / np.maximum(np.abs(theirs), 1.0)) <= tolerance


def one_candidate(path: Path) -> Any:
    result = scan_path(path)
    assert len(result.series) == 1, [c.key for c in result.series]
    return result.series[0]


@pytest.mark.parametrize(("source", "reference", "tolerance"), REFERENCES,
                         ids=[r[0].split("/")[-2] + "/" + r[0].split("/")[-1] for r in REFERENCES])
def test_volume_equals_reference_in_world_space(
    testdata: Path, source: str, reference: str, tolerance: float
) -> None:
    volume = load_series(one_candidate(testdata / source))
    assert_same_in_world(volume, nib.load(testdata / reference), tolerance)


def volume_of_4d(path: Path, index: int) -> Any:
    image: Any = nib.load(path)
    return nib.Nifti1Image(np.asanyarray(image.dataobj)[..., index], image.affine)


def test_enhanced_multiframe_time_points_equal_reference(testdata: Path) -> None:
    """dcm_qa_enh: four enhanced MR files, one time point each (the reference is 4-D)."""
    result = scan_path(testdata / "dcm_qa_enh/In")
    assert len(result.series) == 4
    reference = testdata / "dcm_qa_enh/Ref/Siemens_REST1_w_SMS_PF7-8_6.nii"
    for index, candidate in enumerate(result.series):
        assert_same_in_world(load_series(candidate), volume_of_4d(reference, index), 0)


@pytest.mark.parametrize("vendor", ["Siemens", "Agfa"])
def test_agfa_rewrite_equals_reference(testdata: Path, vendor: str) -> None:
    result = scan_path(testdata / "dcm_qa_agfa" / vendor)
    reference = testdata / REF / f"agfa_{vendor}/ep2d_fid_weisskoff_25slc_11.nii.gz"
    assert len(result.series) == 4
    for index, candidate in enumerate(result.series):
        assert_same_in_world(load_series(candidate), volume_of_4d(reference, index), 0)


def test_agfa_and_siemens_give_identical_volumes(testdata: Path) -> None:
    siemens = scan_path(testdata / "dcm_qa_agfa/Siemens").series
    agfa = scan_path(testdata / "dcm_qa_agfa/Agfa").series
    assert len(siemens) == len(agfa) == 4
    for a, b in zip(siemens, agfa, strict=True):
        va, vb = load_series(a), load_series(b)
        assert np.array_equal(va.array, vb.array)
        assert np.allclose(va.affine, vb.affine, atol=1e-6)


DCMSTACK = "dcmstack/test/data/dcmstack/2D_16Echo_qT2"


def test_dcmstack_echoes_split_and_match_reference(testdata: Path) -> None:
    folder = testdata / DCMSTACK
    result = scan_path(folder)
    assert [c.n_files for c in result.series] == [3, 2, 2]  # TE 20, 40, 60
    assert all("split by echo" in c.warnings[0] for c in result.series)
    two_time = folder / "two_time_vol.nii.gz"  # TE 20 and TE 40, two slices each
    assert_same_in_world(load_series(result.series[1]), volume_of_4d(two_time, 1), 0)


def test_dcmstack_two_slice_volume_equals_reference(testdata: Path, tmp_path: Path) -> None:
    for name in ("TE_20_SlcPos_-23.207628249046.dcm", "TE_20_SlcPos_-33.707626341697.dcm"):
        shutil.copy(testdata / DCMSTACK / name, tmp_path / name)
    volume = load_series(one_candidate(tmp_path))
    assert_same_in_world(volume, nib.load(testdata / DCMSTACK / "single_vol.nii.gz"), 0)


def test_dcmstack_echo_with_a_missing_slice_is_interpolated(testdata: Path) -> None:
    te20 = scan_path(testdata / DCMSTACK).series[0]
    assert any("non-uniform slice spacing" in w for w in te20.warnings)
    volume = load_series(te20)
    assert volume.shape[0] == 4  # -33.7, -23.2, (-12.7 interpolated), -2.2 mm
    assert volume.spacing[2] == pytest.approx(10.5, abs=1e-3)


LOSSLESS = [
    "LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2",
    "LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1",
    "BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2",
    "DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99",
    "JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57",
    "JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70",
    "JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80",
    "JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90",
    "RLELosslessTransferSyntax_1.2.840.10008.1.2.5",
]
LOSSY = [
    "JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50",
    "JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51",
    "JPEGLSLossyTransferSyntax_1.2.840.10008.1.2.4.81",
    "JPEG2000TransferSyntax_1.2.840.10008.1.2.4.91",
]
RETIRED = [
    "JPEGProcess6_8TransferSyntax_1.2.840.10008.1.2.4.53",
    "JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55",
]


@pytest.fixture(scope="module")
def ct_reference(testdata: Path) -> Volume:
    return load_path(testdata / CORNERSTONE / "CTImage.dcm")


@pytest.mark.parametrize("variant", LOSSLESS)
def test_lossless_variants_decode_to_identical_pixels(
    testdata: Path, ct_reference: Volume, variant: str
) -> None:
    volume = load_path(testdata / CORNERSTONE / f"CTImage.dcm_{variant}.dcm")
    assert volume.array.dtype == ct_reference.array.dtype
    assert np.array_equal(volume.array, ct_reference.array)
    assert np.allclose(volume.affine, ct_reference.affine)


@pytest.mark.parametrize("variant", LOSSY)
def test_lossy_variants_decode_close(testdata: Path, ct_reference: Volume, variant: str) -> None:
    volume = load_path(testdata / CORNERSTONE / f"CTImage.dcm_{variant}.dcm")
    difference = np.abs(volume.array.astype(np.float64) - ct_reference.array)
    value_range = float(np.ptp(ct_reference.array))
    assert difference.mean() <= 0.01 * value_range
    assert difference.max() <= 0.02 * value_range
    assert not np.array_equal(volume.array, ct_reference.array)  # really lossy: test can see


@pytest.mark.parametrize("variant", RETIRED)
def test_retired_jpeg_processes_are_skipped_as_unsupported(testdata: Path, variant: str) -> None:
    result = scan_path(testdata / CORNERSTONE / f"CTImage.dcm_{variant}.dcm")
    assert result.series == []
    assert result.skipped[0].reason.startswith("unsupported transfer syntax")


def test_fragmented_multiframe_jpeg_loads(testdata: Path) -> None:
    name = "CT0012.fragmented_no_bot_jpeg_baseline.51.dcm"
    candidate = one_candidate(testdata / CORNERSTONE / name)
    volume = load_series(candidate)
    assert volume.shape == (2, 512, 512)
    assert not np.array_equal(volume.array[0], volume.array[1])


FAILING = f"{D2N}/failing"


def test_failing_gantry_tilt_warns_and_gives_an_orthogonal_grid(testdata: Path) -> None:
    candidate = one_candidate(testdata / FAILING / "gantrytilting/001")
    assert any("gantry tilt" in w and "14.00°" in w for w in candidate.warnings)
    volume = load_series(candidate)
    assert np.allclose(volume.direction.T @ volume.direction, np.eye(3), atol=1e-6)
    assert any("gantry tilt" in w for w in volume.warnings)


def test_failing_missing_slice_warns(testdata: Path) -> None:
    candidate = one_candidate(testdata / FAILING / "sliceincrement/001")
    assert any("non-uniform slice spacing" in w for w in candidate.warnings)
    volume = load_series(candidate)
    assert volume.shape[0] == 5  # 18.1, 23.1, 28.1, (33.1), 38.1 mm
    assert volume.spacing[2] == pytest.approx(5.0, abs=1e-3)


def test_failing_not_a_volume_is_split_with_warnings(testdata: Path) -> None:
    """Four monitoring scans at one position: four single slices, each flagged."""
    result = scan_path(testdata / FAILING / "notavolume/001")
    assert [c.shape[0] for c in result.series] == [1, 1, 1, 1]
    for candidate in result.series:
        assert any("split by acquisition number" in w for w in candidate.warnings)
        assert any("single slice" in w for w in candidate.warnings)


def test_failing_two_orientations_are_split(testdata: Path) -> None:
    result = scan_path(testdata / FAILING / "sliceorientation/001")
    assert len(result.series) == 2
    assert len({c.direction for c in result.series}) == 2
    assert all("orientation" in c.warnings[0] for c in result.series)


def test_mixed_codec_copies_of_one_series_are_refused(testdata: Path) -> None:
    """The four codec folders hold the same series UID and positions: never stack them."""
    result = scan_path(testdata / GENERIC)
    mixed = [c for c in result.series if c.n_files == 16]
    assert len(mixed) == 1
    with pytest.raises(GeometryError, match="duplicate slice positions"):
        load_series(mixed[0])
