"""Pixel data that its TransferSyntaxUID does not describe (found by the fuzz test, issue 10
item 8): uncompressed bytes under a compressed syntax, compressed items under an uncompressed
one, big-endian data shorter than Rows × Columns. The scan skips such a file naming what is
wrong (the rest of its series loads); before, the scan listed it as loadable and the load failed
with the decoder's own words ("Found unexpected tag …") or a bare "truncated pixel data"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag

from mdaread.cli import main
from mdaread.io import scan_path

JPEG2000 = "1.2.840.10008.1.2.4.90"
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def relabel(path: Path, syntax: str) -> None:
    """Rewrite only the file meta's TransferSyntaxUID; the data set's bytes stay as they are."""
    data = path.read_bytes()
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    end = 132 + 12 + int.from_bytes(data[140:144], "little")  # after (0002,0000)'s group
    ds.file_meta.TransferSyntaxUID = syntax
    meta = pydicom.filebase.DicomBytesIO()
    pydicom.filewriter.write_file_meta_info(meta, ds.file_meta, enforce_standard=False)
    path.write_bytes(data[:128] + b"DICM" + meta.getvalue() + data[end:])


@pytest.fixture
def native(tmp_path: Path, repo_root: Path) -> Path:
    """Three sample CT slices decoded and written as explicit VR little endian."""
    folder = tmp_path / "native"
    folder.mkdir()
    for path in sorted((repo_root / "sample_dicom" / "MDA-001" / "3m_CT").iterdir())[:3]:
        ds = pydicom.dcmread(path)
        ds.decompress()
        ds.save_as(folder / path.name)
    return folder


@pytest.fixture
def compressed(tmp_path: Path, repo_root: Path) -> Path:
    folder = tmp_path / "jpegls"
    folder.mkdir()
    for path in sorted((repo_root / "sample_dicom" / "MDA-001" / "3m_CT").iterdir())[:3]:
        shutil.copy(path, folder / path.name)
    return folder


def check_skipped(folder: Path, bad: Path, words: str, tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:
    """``bad`` is skipped with ``words``; the other two slices convert; nothing 'unexpected'."""
    result = scan_path(folder)
    assert [(s.path, words in s.reason) for s in result.skipped] == [(bad, True)], \
        result.skipped
    assert result.series[0].n_files == 2
    assert main(["scan", "--json", str(bad)]) == 0
    (skip,) = json.loads(capsys.readouterr().out)["skipped"]
    assert words in skip["reason"]
    assert main(["convert", str(folder), str(tmp_path / "o.nii")]) == 0
    err = capsys.readouterr().err
    assert str(bad) in err and words in err and "unexpected" not in err


def test_uncompressed_data_under_a_compressed_syntax_is_skipped(
        native: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = native / "IM_0002.dcm"
    relabel(bad, JPEG2000)
    check_skipped(native, bad, "pixel data is not encapsulated as TransferSyntaxUID JPEG 2000",
                  tmp_path, capsys)
    assert main(["convert", str(bad), str(tmp_path / "one.nii")]) == 2
    err = capsys.readouterr().err
    assert "unexpected" not in err and "not encapsulated" in err


def test_compressed_data_under_an_uncompressed_syntax_is_skipped(
        compressed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = compressed / "IM_0001.dcm"
    relabel(bad, EXPLICIT_LE)
    check_skipped(compressed, bad, "pixel data is encapsulated (compressed) but "
                  "TransferSyntaxUID says Explicit VR Little Endian", tmp_path, capsys)


def test_short_big_endian_pixel_data_is_skipped_before_decoding(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Big endian was not checked against Rows × Columns: pydicom found out while decoding."""
    from pydicom.data import get_testdata_file

    source = get_testdata_file("MR_small_bigendian.dcm", download=False)
    if source is None:
        pytest.skip("pydicom's MR_small_bigendian.dcm is not installed")
    ds = pydicom.dcmread(str(source))
    half = bytes(ds.PixelData)[: len(ds.PixelData) // 2]
    ds._dict[Tag("PixelData")] = RawDataElement(Tag("PixelData"), "OW", len(half), half, 0,
                                                False, False, True, False)
    bad = tmp_path / "big.dcm"
    ds.save_as(bad, enforce_file_format=False)
    (skip,) = scan_path(bad).skipped
    assert f"pixel data holds {len(half)} bytes" in skip.reason
    assert main(["convert", str(bad), str(tmp_path / "o.nii")]) == 2
    err = capsys.readouterr().err
    assert f"pixel data holds {len(half)} bytes" in err and "unexpected" not in err


def test_a_cut_jpeg_ls_frame_is_refused_by_its_missing_end_marker(
        compressed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A frame cut short inside valid encapsulation: CharLS spent ~13 s per slice before
    failing with "general structural problem" (the fuzz test's slowest cases), and a JPEG
    decoder may return a partly made-up image. The missing end-of-image marker says it."""
    from pydicom.encaps import encapsulate, generate_frames

    bad = compressed / "IM_0002.dcm"
    ds = pydicom.dcmread(bad)
    (frame,) = generate_frames(ds.PixelData, number_of_frames=1)
    assert frame[-2:] == b"\xff\xd9"
    ds.PixelData = encapsulate([frame[:-100]])
    ds.save_as(bad)
    assert main(["convert", str(compressed), str(tmp_path / "o.nii")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"mdaread: error: {bad}: cannot decode pixel data (JPEG-LS Lossless Image "
                   "Compression): frame 1 is cut short (no end-of-image marker)")
