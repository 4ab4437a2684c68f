"""Loader geometry and values on small series written here, where the truth is known exactly.

Every synthetic image stores f(world) = a linear function of the LPS position of each pixel, so a
correct volume satisfies value[k, j, i] == f(affine @ (i, j, k)) for every voxel, whatever the
ordering, orientation, tilt or interpolation (linear interpolation of a linear field is exact up to
rounding).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from mdaread.errors import Cancelled, DicomError, GeometryError
from mdaread.io import load_path, load_series, read_nifti, scan_path, write_nifti
from mdaread.model.scan import SeriesCandidate

CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
GRADIENT = np.array([2.0, 3.0, 5.0])  # HU per mm along L, P, S


def field(points: np.ndarray) -> np.ndarray:
    """The value every synthetic image stores at LPS points (..., 3)."""
    return points @ GRADIENT + 100.0


def write_slice(
    path: Path, position: tuple[float, ...], orientation: tuple[float, ...] = AXIAL, *,
    rows: int = 12, cols: int = 10, spacing: tuple[float, float] = (1.5, 1.0),
    series_uid: str = "1.2.3.4", slope: float = 1.0, intercept: float = 0.0,
    instance: int = 1, syntax: str = ExplicitVRLittleEndian, signed: bool = True,
    stored: np.ndarray | None = None, **attrs: Any,
) -> None:
    """One CT slice whose stored value is (f(world) - intercept) / slope, rounded."""
    row = np.array(orientation[:3])
    col = np.array(orientation[3:])
    jj, ii = np.mgrid[0:rows, 0:cols]
    world = (np.asarray(position) + ii[..., None] * spacing[1] * row
             + jj[..., None] * spacing[0] * col)
    if stored is None:
        stored = np.rint((field(world) - intercept) / slope)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CT_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.PatientID = "MDA-TEST"
    ds.StudyInstanceUID = "1.2.3"
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = "1.2.3.9"
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [f"{v:.6f}" for v in position]
    ds.ImageOrientationPatient = [f"{v:.8f}" for v in orientation]
    ds.PixelSpacing = [spacing[0], spacing[1]]
    ds.SliceThickness = 2.0
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if signed else 0
    for name, value in attrs.items():
        setattr(ds, name, value)
    ds.PixelData = stored.astype(np.int16 if signed else np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def write_stack(folder: Path, positions: list[tuple[float, ...]], **kwargs: Any) -> Path:
    """A series with one file per position; file names and instance numbers reversed."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(positions)
    for index, position in enumerate(positions):
        write_slice(folder / f"IM{n - index:04d}.dcm", position, instance=n - index, **kwargs)
    return folder


def assert_matches_field(volume: Any, tolerance: float = 1.0, margin: int = 0) -> None:
    """Every voxel (away from ``margin`` edge rows, where a tilt shifts data in) equals f(its
    world position)."""
    k, j, i = volume.shape
    kk, jj, ii = np.mgrid[0:k, 0:j, 0:i]
    world = volume.index_to_world(np.stack([ii, jj, kk], axis=-1))
    expected = field(world)
    values = volume.array.astype(np.float64)
    if margin:
        values = values[:, margin:-margin]
        expected = expected[:, margin:-margin]
    assert np.max(np.abs(values - expected)) <= tolerance


def only(folder: Path) -> SeriesCandidate:
    result = scan_path(folder)
    assert len(result.series) == 1, [c.key for c in result.series]
    return result.series[0]


def test_slices_are_ordered_by_position_not_instance_number(tmp_path: Path) -> None:
    positions = [(-5.0, -7.0, z) for z in (10.0, 12.5, 15.0, 17.5)]
    folder = write_stack(tmp_path / "s", positions)
    candidate = only(folder)
    volume = load_series(candidate)
    assert volume.shape == (4, 12, 10)
    assert volume.spacing == pytest.approx((1.0, 1.5, 2.5))
    assert volume.origin == pytest.approx((-5.0, -7.0, 10.0))
    assert candidate.warnings == []
    assert_matches_field(volume, tolerance=0.5)


def test_oblique_stack_affine_matches_the_stored_field(tmp_path: Path) -> None:
    angle = np.radians(20.0)
    row = (np.cos(angle), np.sin(angle), 0.0)
    col = (0.0, 0.0, -1.0)  # a coronal-ish oblique plane
    normal = np.cross(row, col)
    positions = [tuple(np.array([3.0, 4.0, 5.0]) + s * 3.0 * normal) for s in range(5)]
    volume = load_series(only(write_stack(tmp_path / "s", positions, orientation=(*row, *col))))
    assert volume.shape[0] == 5
    assert volume.spacing[2] == pytest.approx(3.0)
    assert_matches_field(volume, tolerance=0.5)


def test_gantry_tilt_is_resampled_onto_an_orthogonal_grid(tmp_path: Path) -> None:
    tilt = np.radians(15.0)
    orientation = (1.0, 0.0, 0.0, 0.0, np.cos(tilt), -np.sin(tilt))
    positions = [(0.0, 0.0, 4.0 * s) for s in range(5)]  # table steps along z, planes tilted
    candidate = only(write_stack(tmp_path / "s", positions, orientation=orientation,
                                 rows=40, cols=10))
    assert any("tilt" in w for w in candidate.warnings)
    volume = load_series(candidate)
    direction = volume.direction
    assert np.allclose(direction.T @ direction, np.eye(3), atol=1e-9)
    assert volume.spacing[2] == pytest.approx(4.0 * np.cos(tilt), abs=1e-6)
    # rows shifted in from outside the field hold the fill value: check the interior
    assert_matches_field(volume, tolerance=1.0, margin=4)


def test_a_negligible_tilt_keeps_the_stored_values(tmp_path: Path) -> None:
    """0.005° of drift (cosines rounded by the scanner) is not resampled."""
    tilt = np.radians(0.005)
    orientation = (1.0, 0.0, 0.0, 0.0, np.cos(tilt), -np.sin(tilt))
    positions = [(0.0, 0.0, 50.0 * s) for s in range(8)]  # drift 0.03 mm ≈ 0.02+ px at the end
    candidate = only(write_stack(tmp_path / "s", positions, orientation=orientation,
                                 spacing=(1.0, 1.0)))
    assert candidate.warnings == []
    volume = load_series(candidate)
    stored = [pydicom.dcmread(f).pixel_array for f in sorted(candidate.files, reverse=True)]
    assert np.array_equal(volume.array, np.stack(stored))


def test_missing_slice_is_interpolated_with_a_warning(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 2.0, 4.0, 8.0, 10.0)]
    candidate = only(write_stack(tmp_path / "s", positions))
    assert any("non-uniform slice spacing" in w for w in candidate.warnings)
    assert candidate.shape[0] == 6
    volume = load_series(candidate)
    assert volume.shape[0] == 6
    assert volume.warnings == tuple(candidate.warnings)
    assert_matches_field(volume, tolerance=1.0)


def test_large_gap_is_refused(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 2.0, 4.0, 20.0)]
    candidate = only(write_stack(tmp_path / "s", positions))
    assert any(w.startswith("cannot be loaded") for w in candidate.warnings)
    with pytest.raises(GeometryError, match="slice gap"):
        load_series(candidate)


def test_duplicate_positions_without_a_separating_key_are_refused(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, z) for z in (0.0, 2.0, 2.0, 4.0)]
    candidate = only(write_stack(tmp_path / "s", positions))
    with pytest.raises(GeometryError, match="duplicate slice positions"):
        load_series(candidate)


def test_repeated_acquisitions_are_split_into_volumes(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    for acquisition in (1, 2):
        for z in range(3):
            write_slice(folder / f"a{acquisition}_{z}.dcm", (0.0, 0.0, 2.0 * z),
                        AcquisitionNumber=acquisition)
    result = scan_path(folder)
    assert [c.shape[0] for c in result.series] == [3, 3]
    assert len({c.key for c in result.series}) == 2
    assert all("split by acquisition number" in c.warnings[0] for c in result.series)
    assert result.series[0].description.endswith("acquisition number 1]")
    assert result.series[1].description.endswith("acquisition number 2]")
    for candidate in result.series:
        assert_matches_field(load_series(candidate), tolerance=0.5)


def test_echoes_and_orientations_are_separate_candidates(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    for echo in (10.0, 20.0):
        for z in range(3):
            write_slice(folder / f"e{echo:g}_{z}.dcm", (0.0, 0.0, 2.0 * z), EchoTime=echo)
    sagittal = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    for x in range(3):
        write_slice(folder / f"sag{x}.dcm", (2.0 * x, 0.0, 0.0), sagittal)
    result = scan_path(folder)
    assert sorted(c.n_files for c in result.series) == [3, 3, 3]
    assert len({c.key for c in result.series}) == 3
    for candidate in result.series:
        assert_matches_field(load_series(candidate), tolerance=0.5)


@pytest.mark.parametrize(
    ("slope", "intercept", "signed", "dtype"),
    [
        (1.0, 0.0, True, np.int16),
        (1.0, -1024.0, True, np.int16),
        (1.0, -1024.0, False, np.int16),
        (0.5, -20.0, True, np.float32),
        (2.0, 0.0, True, np.int16),
    ],
)
def test_rescale_gives_values_in_hu_and_a_fitting_dtype(
    tmp_path: Path, slope: float, intercept: float, signed: bool, dtype: type
) -> None:
    positions = [(0.0, 0.0, 2.0 * z) for z in range(3)]
    folder = write_stack(tmp_path / "s", positions, slope=slope, intercept=intercept,
                         signed=signed)
    volume = load_series(only(folder))
    assert volume.array.dtype == np.dtype(dtype)
    assert_matches_field(volume, tolerance=abs(slope) / 2 + 1e-3)


def test_integer_rescale_beyond_int16_uses_int32_without_overflow(tmp_path: Path) -> None:
    stored = np.full((12, 10), 65000, dtype=np.uint16)
    stored[0, 0] = 0
    folder = tmp_path / "s"
    folder.mkdir()
    for z in range(2):
        write_slice(folder / f"{z}.dcm", (0.0, 0.0, 2.0 * z), intercept=-1024.0,
                    signed=False, stored=stored)
    volume = load_series(only(folder))
    assert volume.array.dtype == np.int32
    assert int(volume.array.max()) == 65000 - 1024
    assert int(volume.array.min()) == -1024


def test_implicit_vr_files_load_like_explicit_ones(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.0 * z) for z in range(3)]
    explicit = load_series(only(write_stack(tmp_path / "e", positions)))
    implicit = load_series(
        only(write_stack(tmp_path / "i", positions, syntax=ImplicitVRLittleEndian))
    )
    assert np.array_equal(explicit.array, implicit.array)
    assert np.allclose(explicit.affine, implicit.affine)


def test_candidate_without_scan_state_is_reloaded_from_its_files(tmp_path: Path) -> None:
    positions = [(0.0, 0.0, 2.0 * z) for z in range(4)]
    candidate = only(write_stack(tmp_path / "s", positions))
    bare = SeriesCandidate(
        series_uid=candidate.series_uid, key=candidate.key, modality="CT", description="",
        files=list(candidate.files), shape=candidate.shape, spacing=candidate.spacing,
        origin=candidate.origin, direction=candidate.direction,
    )
    assert np.array_equal(load_series(bare).array, load_series(candidate).array)


def test_split_candidate_rebuilt_from_its_files_loads_the_same_volume(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    for echo in (10.0, 20.0, 30.0):
        for z in range(3):
            write_slice(folder / f"e{echo:g}_{z}.dcm", (0.0, 0.0, 2.0 * z), EchoTime=echo,
                        stored=np.full((12, 10), int(echo)))
    second = scan_path(folder).series[1]
    bare = SeriesCandidate(
        series_uid=second.series_uid, key=second.key, modality="CT",
        description=second.description, files=list(second.files), shape=second.shape,
        spacing=second.spacing, origin=second.origin, direction=second.direction,
    )
    assert np.all(load_series(bare).array == 20)
    assert np.all(load_series(second).array == 20)


def test_localizer_and_secondary_capture_are_skipped(tmp_path: Path) -> None:
    folder = write_stack(tmp_path / "s", [(0.0, 0.0, 2.0 * z) for z in range(3)])
    write_slice(folder / "scout.dcm", (0.0, 0.0, 0.0), series_uid="9.9",
                ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    write_slice(folder / "sc.dcm", (0.0, 0.0, 0.0), series_uid="9.8",
                SOPClassUID="1.2.840.10008.5.1.4.1.1.7")
    result = scan_path(folder)
    assert len(result.series) == 1
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert reasons["scout.dcm"].startswith("localizer")
    assert reasons["sc.dcm"].startswith("secondary capture")


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ({"PhotometricInterpretation": "PALETTE COLOR"}, "unsupported: PALETTE COLOR image"),
        ({"ImagePositionPatient": None}, "no image position/orientation"),
        ({"PixelSpacing": None}, "no valid pixel spacing"),
        ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7.2"}, "secondary capture"),
    ],
)
def test_images_that_are_not_volume_slices_are_skipped(
    tmp_path: Path, attrs: dict[str, Any], reason: str
) -> None:
    write_slice(tmp_path / "x.dcm", (0.0, 0.0, 0.0), **attrs)
    result = scan_path(tmp_path)
    assert result.series == []
    assert result.skipped[0].reason.startswith(reason)


def test_three_orthogonal_single_slices_are_a_localizer(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    write_slice(folder / "ax.dcm", (0.0, 0.0, 0.0), AXIAL)
    write_slice(folder / "sag.dcm", (0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0, 0.0, -1.0))
    write_slice(folder / "cor.dcm", (0.0, 0.0, 0.0), (1.0, 0.0, 0.0, 0.0, 0.0, -1.0))
    result = scan_path(folder)
    assert result.series == []
    assert all("localizer" in s.reason for s in result.skipped)


def test_load_path_picks_the_largest_volume_and_names_the_others(tmp_path: Path) -> None:
    write_stack(tmp_path / "a", [(0.0, 0.0, 2.0 * z) for z in range(5)], series_uid="1.1")
    write_stack(tmp_path / "b", [(0.0, 0.0, 2.0 * z) for z in range(3)], series_uid="1.2")
    volume = load_path(tmp_path)
    assert volume.series_uid == "1.1"
    assert any("not 1.2" in w for w in volume.warnings)
    assert load_path(tmp_path, series_uid="1.2").shape[0] == 3
    with pytest.raises(DicomError, match=r"no series 7\.7"):
        load_path(tmp_path, series_uid="7.7")


def test_progress_is_reported_and_cancel_stops(tmp_path: Path) -> None:
    folder = write_stack(tmp_path / "s", [(0.0, 0.0, 2.0 * z) for z in range(3)])
    seen: list[float] = []
    load_path(folder, progress=lambda fraction, message: seen.append(fraction))
    assert seen and seen[-1] == pytest.approx(1.0)
    assert all(0.0 <= f <= 1.0 for f in seen)
    with pytest.raises(Cancelled):
        load_path(folder, cancel=lambda: True)


@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_round_trip_keeps_array_and_lps_affine(tmp_path: Path, suffix: str) -> None:
    angle = np.radians(10.0)
    orientation = (np.cos(angle), np.sin(angle), 0.0, -np.sin(angle), np.cos(angle), 0.0)
    folder = write_stack(tmp_path / "s", [(1.0, 2.0, 2.0 * z) for z in range(3)],
                         orientation=orientation)
    volume = load_path(folder)
    out = tmp_path / f"v{suffix}"
    write_nifti(volume, out)
    back = read_nifti(out)
    assert np.array_equal(back.array, volume.array)
    assert np.allclose(back.affine, volume.affine, atol=1e-5)
    header_affine = nifti_header_affine(out)
    assert np.allclose(header_affine, np.diag([-1.0, -1.0, 1.0, 1.0]) @ volume.affine, atol=1e-5)


def nifti_header_affine(path: Path) -> np.ndarray:
    import nibabel as nib

    image: Any = nib.load(path)
    return np.asarray(image.affine)


def test_written_files_are_real_dicom(tmp_path: Path) -> None:
    """Guards the writer above: a broken writer would make every test here meaningless."""
    write_slice(tmp_path / "x.dcm", (0.0, 0.0, 0.0))
    ds = pydicom.dcmread(tmp_path / "x.dcm")
    assert ds.pixel_array.shape == (12, 10)
    assert ds.pixel_array[0, 1] == pytest.approx(field(np.array([1.0, 0.0, 0.0])))
