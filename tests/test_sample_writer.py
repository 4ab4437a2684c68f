"""mdaread.io.writer: a Volume written as a DICOM series reads back with the same geometry and
values, whatever the compression."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest

from mdaread.errors import InputError
from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series, write_mr_series
from mdaread.model.volume import Volume
from mdaread.sample.trial import rotation


def _info(**extra: object) -> SeriesInfo:
    info = SeriesInfo("MDA-999", derived_uid("study"), derived_uid("series"),
                      derived_uid("frame"), "20250102", "101500", 7, "test series")
    for key, value in extra.items():
        setattr(info, key, value)
    return info


def _oblique_volume(values: np.ndarray) -> Volume:
    """Spacing (0.7, 0.8, 2.5) mm, turned 20° about an oblique axis, origin off-centre."""
    affine = np.eye(4)
    affine[:3, :3] = rotation([1.0, 2.0, 3.0], 20.0) @ np.diag([0.7, 0.8, 2.5])
    affine[:3, 3] = [-50.5, 20.25, 110.0]
    return Volume(values, affine)


SYNTAX = {"none": pydicom.uid.ExplicitVRLittleEndian, "rle": pydicom.uid.RLELossless,
          "jpegls": pydicom.uid.JPEGLSLossless}


@pytest.mark.parametrize("compression", sorted(SYNTAX))
def test_ct_geometry_and_values_round_trip(tmp_path: Path, compression: str) -> None:
    rng = np.random.default_rng(0)
    k, j, i = np.indices((4, 24, 20))
    hu = (-1024 + 40 * i + 90 * j + 200 * k + rng.integers(-20, 21, size=i.shape))
    hu = np.clip(hu, -1024, 3071).astype(np.int16)  # an image an encoder can shrink
    volume = _oblique_volume(hu)
    paths = write_ct_series(volume, tmp_path / "ct", _info(), compression)
    assert [p.name for p in paths] == [f"IM_{n:04d}.dcm" for n in range(1, 5)]
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == pydicom.uid.CTImageStorage
        assert ds.file_meta.TransferSyntaxUID == SYNTAX[compression]
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.InstanceNumber == k + 1
        iop = np.array(ds.ImageOrientationPatient, dtype=float)
        assert np.allclose(iop[:3], volume.direction[:, 0], atol=1e-6)
        assert np.allclose(iop[3:], volume.direction[:, 1], atol=1e-6)
        assert np.allclose(np.array(ds.ImagePositionPatient, dtype=float),
                           volume.index_to_world([0, 0, k]), atol=1e-5)
        assert np.allclose(np.array(ds.PixelSpacing, dtype=float), [0.8, 0.7])
        assert float(ds.SliceThickness) == pytest.approx(2.5)
        stored = ds.pixel_array.astype(np.int32)
        hu_back = stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        assert np.array_equal(hu_back, hu[k])
    uids = {pydicom.dcmread(p).SOPInstanceUID for p in paths}
    assert len(uids) == 4


def test_incompressible_slices_stay_uncompressed(tmp_path: Path) -> None:
    noise = np.random.default_rng(1).integers(-1024, 3072, size=(2, 6, 5)).astype(np.int16)
    paths = write_ct_series(_oblique_volume(noise), tmp_path / "ct", _info(), "jpegls")
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID in (pydicom.uid.JPEGLSLossless,
                                                  pydicom.uid.ExplicitVRLittleEndian)
        assert np.array_equal(ds.pixel_array.astype(np.int32) - 1024, noise[k])


def test_mr_values_and_attributes(tmp_path: Path) -> None:
    values = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4) * 100
    info = _info(spacing_between_slices=2.75, slice_thickness=2.5,
                 mr={"ScanningSequence": ["SE", "IR"], "InversionTime": "150"})
    paths = write_mr_series(_oblique_volume(values), tmp_path / "mr", info)
    ds = pydicom.dcmread(paths[1])
    assert ds.SOPClassUID == pydicom.uid.MRImageStorage
    assert list(ds.ScanningSequence) == ["SE", "IR"] and float(ds.InversionTime) == 150
    assert float(ds.SpacingBetweenSlices) == 2.75 and float(ds.SliceThickness) == 2.5
    assert "RescaleIntercept" not in ds
    assert np.array_equal(ds.pixel_array, values[1])


def test_out_of_range_values_and_unknown_compression_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="outside"):
        write_ct_series(_oblique_volume(np.full((1, 2, 2), 3100, np.int16)), tmp_path, _info())
    with pytest.raises(InputError, match="outside"):
        write_mr_series(_oblique_volume(np.full((1, 2, 2), -1, np.int16)), tmp_path, _info())
    with pytest.raises(InputError, match="compression"):
        write_ct_series(_oblique_volume(np.zeros((1, 2, 2), np.int16)), tmp_path, _info(),
                        "jpeg2000")


def test_derived_uids_are_stable_and_valid() -> None:
    uid = derived_uid("a", 1)
    assert uid == derived_uid("a", 1) != derived_uid("a", 2)
    assert uid.startswith("2.25.") and len(uid) <= 64 and pydicom.uid.UID(uid).is_valid


@pytest.mark.parametrize("compression", ["none", "jpegls"])
def test_files_are_what_pydicom_itself_would_write(tmp_path: Path, compression: str) -> None:
    """The writer encodes shared elements once per series; each file must still be exactly
    what pydicom's own save_as makes of the dataset read from it (element order, lengths,
    file meta). Per-slice values are checked in test_ct_geometry_and_values_round_trip."""
    values = (np.indices((3, 16, 16)).sum(axis=0) * 50).astype(np.uint16)
    info = _info(mr={"ScanningSequence": "SE"}, spacing_between_slices=2.5)
    for path in write_mr_series(_oblique_volume(values), tmp_path / "mr", info, compression):
        ds = pydicom.dcmread(path)
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        assert buffer.getvalue() == path.read_bytes()
