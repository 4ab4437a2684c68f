"""Damaged or implausible header values in one file (issue 10, items 3–5): that file is skipped
with its path and the tag, its series says it lost the file, every other series still loads;
non-finite or absurd geometry and rescale values never reach a volume, a NIfTI or --json."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from bad_input_helpers import as_data_manager  # noqa: F401 (autouse fixture)
from dicom_mutation import rewrite
from mdaread.cli import main
from mdaread.io import load_path, scan_path

SUBJECT = "MDA-001"


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """One subject of the sample (five CT series, JPEG-LS), never modified."""
    folder = tmp_path_factory.mktemp("clean") / SUBJECT
    shutil.copytree(repo_root / "sample_dicom" / SUBJECT, folder)
    return folder


@pytest.fixture
def subject(clean_copy: Path, tmp_path: Path) -> Path:
    folder = tmp_path / SUBJECT
    shutil.copytree(clean_copy, folder)
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_zero_orientation_in_one_slice_skips_that_file_only(
        subject: Path, clean_copy: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = subject / "baseline_CT" / "IM_0010.dcm"
    rewrite(bad, "ImageOrientationPatient", "DS", b"0\\0\\0\\0\\0\\0")
    code, out, err = run(capsys, "scan", "--json", str(subject))
    assert code == 0, err
    found = json.loads(out)
    assert len(found["series"]) == len(scan_path(clean_copy).series) == 5
    skipped = [s for s in found["skipped"] if s["path"] == str(bad)]
    assert len(skipped) == 1
    assert "ImageOrientationPatient" in skipped[0]["reason"]
    assert "degenerate" in skipped[0]["reason"]
    (lost,) = [s for s in found["series"]
               if s["n_files"] == len(list(bad.parent.iterdir())) - 1]
    assert any(str(bad) in w and "ImageOrientationPatient" in w for w in lost["warnings"])
    # the series still converts, its gap interpolated (a warning, not a refusal)
    code, out, err = run(capsys, "convert", str(subject / "baseline_CT"), str(tmp_path / "o.nii"))
    assert code == 0, err
    assert str(bad) in err and "unexpected" not in err


def test_zero_orientation_in_one_slice_imports_every_series(
        subject: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rewrite(subject / "1m_CT" / "IM_0001.dcm", "ImageOrientationPatient", "DS",
            b"0\\0\\0\\0\\0\\0")
    workspace = tmp_path / "ws"
    assert main(["workspace", "init", str(workspace)]) == 0
    mapping = tmp_path / "map.csv"
    found = scan_path(subject)
    rows = [f"{label},{c.series_uid}" for label, c in
            zip(("baseline", "1m", "3m", "6m", "12m"), found.series, strict=True)]
    mapping.write_text("timepoint,series_uid\n" + "\n".join(rows) + "\n")
    capsys.readouterr()
    code, out, err = run(capsys, "workspace", "import", str(workspace), str(subject),
                         "--mapping", str(mapping), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert len(report["added"]) == 5
    assert any(s["path"].endswith("1m_CT/IM_0001.dcm") and "ImageOrientationPatient"
               in s["reason"] for s in report["skipped"])


@pytest.mark.parametrize(("keyword", "vr", "value", "words"), [
    ("ImageOrientationPatient", "DS", b"1\\0\\0\\1\\0\\0", "not perpendicular"),
    ("ImageOrientationPatient", "DS", b"2\\0\\0\\0\\1\\0", "not unit vectors"),
    ("ImageOrientationPatient", "DS", b"nan\\0\\0\\0\\1\\0", "not finite"),
    ("ImagePositionPatient", "DS", b"1e300\\0\\0 ", "outside"),
    ("PixelSpacing", "DS", b"1e308\\1 ", "outside"),
    ("PixelSpacing", "DS", b"inf\\1 ", "not finite"),
    ("RescaleSlope", "DS", b"1e-30 ", "outside"),
    ("RescaleSlope", "DS", b"0 ", "outside"),
    ("RescaleSlope", "DS", b"nan ", "not finite"),
    ("RescaleSlope", "DS", b"abc ", "not numeric"),
    ("RescaleSlope", "DS", b"1e300 ", "outside"),
    ("RescaleIntercept", "DS", b"1e300 ", "outside"),
    ("Rows", "US", 0, "not an image size"),
    ("Rows", "IS", b"-1", "not an image size"),
    ("Columns", "IS", b"99999999999 ", "not an image size"),
    ("Columns", "UL", 99999999999 % 2**32, "not an image size"),
])
def test_implausible_value_is_a_skip_naming_the_tag(
        subject: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        keyword: str, vr: str, value: bytes | int, words: str) -> None:
    bad = subject / "3m_CT" / "IM_0001.dcm"
    rewrite(bad, keyword, vr, value)
    code, out, err = run(capsys, "scan", "--json", str(bad))
    assert code == 0, err
    (skip,) = json.loads(out)["skipped"]
    assert keyword in skip["reason"] and words in skip["reason"], skip
    code, out, err = run(capsys, "convert", str(bad), str(tmp_path / "o.nii"))
    assert code == 2
    one_error_text = err.strip()
    assert keyword in one_error_text and "unexpected" not in one_error_text
    assert not (tmp_path / "o.nii").exists()


def test_slope_zero_is_never_read_as_one(subject: Path) -> None:
    """RescaleSlope 0 once became 1 silently (``_float(...) or 1.0``)."""
    bad = subject / "3m_CT" / "IM_0002.dcm"
    rewrite(bad, "RescaleSlope", "DS", b"0 ")
    result = scan_path(subject / "3m_CT")
    assert [s.path for s in result.skipped] == [bad]
    assert result.series[0].n_files == len(list(bad.parent.iterdir())) - 1


def test_integral_rescale_beyond_int32_is_float_not_wrapped(subject: Path) -> None:
    """slope 1e6 × stored 4095 overflows int32: the values were wrapped around silently."""
    folder = subject / "6m_CT"
    for path in folder.iterdir():
        rewrite(path, "RescaleSlope", "DS", b"1000000 ")
        rewrite(path, "RescaleIntercept", "DS", b"0 ")
    volume = load_path(folder)
    stored = load_path_stored(folder)
    assert volume.array.dtype == np.float32
    assert np.all(np.isfinite(volume.array))
    np.testing.assert_allclose(volume.array, stored.astype(np.float64) * 1e6, rtol=1e-6)


def load_path_stored(folder: Path) -> np.ndarray:
    """The stored values of a folder's slices, in slice order (pydicom, no rescale)."""
    slices = [pydicom.dcmread(p) for p in folder.iterdir()]
    slices.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    return np.stack([d.pixel_array for d in slices])


def test_absurd_slice_spacing_of_a_single_slice_falls_back_with_a_warning(
        subject: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SpacingBetweenSlices 1e308 once gave `spacing … inf mm` in the NIfTI."""
    one = subject / "12m_CT" / "IM_0005.dcm"
    rewrite(one, "SpacingBetweenSlices", "DS", b"1e308 ")
    rewrite(one, "SliceThickness", "DS", b"-3 ")
    out = tmp_path / "one.nii"
    code, _, err = run(capsys, "convert", str(one), str(out))
    assert code == 0, err
    assert "SpacingBetweenSlices" in err and "SliceThickness" in err and str(one) in err
    image = nib.load(out)
    assert np.all(np.isfinite(image.affine))
    spacing = np.linalg.norm(image.affine[:3, :3], axis=0)
    assert spacing[2] == pytest.approx(min(spacing[:2]))


def test_scan_json_of_non_finite_geometry_is_valid_json(
        subject: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """inf in one header once killed `scan --json` ("Out of range float values")."""
    # cosines of 1e200: their norm overflows to inf, the direction became NaN
    rewrite(subject / "12m_CT" / "IM_0003.dcm", "ImageOrientationPatient", "DS",
            b"1e200\\0\\0\\0\\1e200\\0 ")
    rewrite(subject / "12m_CT" / "IM_0004.dcm", "PixelSpacing", "DS", b"nan\\1 ")
    code, out, err = run(capsys, "scan", "--json", str(subject / "12m_CT"))
    assert code == 0, err
    payload = json.loads(out)
    assert len(payload["skipped"]) == 2
    (series,) = payload["series"]
    assert all(math.isfinite(v) for v in series["spacing"] + series["origin"])


def test_columns_larger_than_the_pixel_data_never_allocates(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           testdata: Path) -> None:
    """Uncompressed: the declared pixel data length is checked against Rows × Columns."""
    source = testdata / "cornerstoneWADOImageLoader" / "testImages" / "CTImage.dcm"
    bad = tmp_path / "ct.dcm"
    shutil.copy(source, bad)
    rewrite(bad, "Columns", "US", 65535)
    code, out, err = run(capsys, "scan", "--json", str(bad))
    assert code == 0, err
    (skip,) = json.loads(out)["skipped"]
    assert "pixel data holds" in skip["reason"]
    code, _, err = run(capsys, "convert", str(bad), str(tmp_path / "o.nii"))
    assert code == 2 and "unexpected" not in err
