"""`mdaread scan` / `mdaread convert`, and bad input: skipped with a reason or one line + exit 2."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from pydicom.data import get_testdata_file

from mdaread.cli import main
from mdaread.io import scan_path

CORNERSTONE = "cornerstoneWADOImageLoader/testImages"
HITACHI = "dicom2nifti/tests/data/hitachi/anatomical/001"
SERIES_KEYS = {
    "series_uid", "key", "modality", "description", "n_files", "shape", "spacing", "origin",
    "direction", "study_uid", "frame_of_reference_uid", "study_date", "series_number",
    "warnings",
}  # patient_id only with --show-ids (tests/test_cli_output_safety.py)


def pydicom_file(name: str) -> Path:
    found = get_testdata_file(name, download=False)
    if found is None:
        pytest.skip(f"pydicom test file {name} not installed")
    return Path(str(found))


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mdaread: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.realdata
def test_scan_json_has_exactly_the_documented_shape(
    testdata: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["scan", str(testdata / "dcmstack"), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert set(payload) == {"series", "skipped"}
    assert len(payload["series"]) == 3
    for series in payload["series"]:
        assert set(series) == SERIES_KEYS
        assert len(series["shape"]) == 3 and len(series["spacing"]) == 3
        assert len(series["origin"]) == 3 and len(series["direction"]) == 9
    for skipped in payload["skipped"]:
        assert set(skipped) == {"path", "reason"}
    assert any(s["path"].endswith("COPYING") for s in payload["skipped"])


@pytest.mark.realdata
def test_scan_table_lists_series_warnings_and_skips(
    testdata: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["scan", str(testdata / "dcmstack")], capsys)
    assert code == 0
    assert out.startswith("3 series, 8 skipped file(s)")
    assert "warning: series UID holds 3 volumes" in out
    assert "skipped (8): not DICOM" in out


@pytest.mark.realdata
def test_convert_writes_nifti_in_ras(
    testdata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "hitachi.nii.gz"
    code, out, err = run_cli(["convert", str(testdata / HITACHI), str(out_file)], capsys)
    assert code == 0, err
    assert "wrote" in out
    image: Any = nib.as_closest_canonical(nib.load(out_file))
    reference: Any = nib.as_closest_canonical(
        nib.load(testdata / (HITACHI[:-4] + "/001_ground_truth.nii.gz"))
    )
    assert image.shape == reference.shape
    assert np.allclose(image.affine, reference.affine, atol=0.01)
    assert np.array_equal(np.asanyarray(image.dataobj), np.asanyarray(reference.dataobj))


@pytest.mark.realdata
def test_convert_reports_warnings_on_stderr(
    testdata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = testdata / "dicom2nifti/tests/data/failing/gantrytilting/001"
    code, _, err = run_cli(["convert", str(folder), str(tmp_path / "t.nii")], capsys)
    assert code == 0
    assert "mdaread: warning: gantry tilt" in err


@pytest.mark.realdata
def test_convert_refused_series_exits_2_with_one_line(
    testdata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = testdata / "dicom2nifti/tests/data/generic"
    scan = scan_path(folder)
    mixed = next(c for c in scan.series if c.n_files == 16)
    code, _, err = run_cli(
        ["convert", str(folder), str(tmp_path / "x.nii"), "--series", mixed.key], capsys
    )
    assert code == 2
    assert_one_error_line(err, "duplicate slice positions")
    assert not (tmp_path / "x.nii").exists()


@pytest.mark.realdata
def test_convert_selects_a_split_volume_by_key(
    testdata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = testdata / "dcmstack"
    key = scan_path(folder).series[2].key
    code, _, err = run_cli(["convert", str(folder), str(tmp_path / "te60.nii"),
                            "--series", key], capsys)
    assert code == 0, err
    image: Any = nib.load(tmp_path / "te60.nii")
    assert image.shape == (192, 192, 2)


def test_text_files_are_skipped_as_not_dicom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        (tmp_path / f"notes{n}.txt").write_text(f"not an image {n}\n")
    result = scan_path(tmp_path)
    assert result.series == []
    assert [s.reason for s in result.skipped] == ["not DICOM"] * 3
    code, _, err = run_cli(["convert", str(tmp_path), str(tmp_path / "o.nii")], capsys)
    assert code == 2
    assert_one_error_line(err, "no loadable DICOM series", "not DICOM")


def test_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = scan_path(tmp_path)
    assert [(s.path, s.reason) for s in result.skipped] == [(tmp_path, "directory empty")]
    code, out, _ = run_cli(["scan", str(tmp_path), "--json"], capsys)
    assert code == 0
    assert json.loads(out) == {
        "series": [], "skipped": [{"path": str(tmp_path), "reason": "directory empty"}],
    }


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["scan", str(tmp_path / "nope")], capsys)
    assert code == 2
    assert_one_error_line(err, "no such file or directory")


def test_truncated_file_is_skipped(tmp_path: Path) -> None:
    shutil.copy(pydicom_file("MR_truncated.dcm"), tmp_path / "MR_truncated.dcm")
    result = scan_path(tmp_path)
    assert result.series == []
    assert result.skipped[0].reason.startswith("truncated: pixel data has")


@pytest.mark.realdata
def test_no_pixel_data_is_skipped(testdata: Path) -> None:
    result = scan_path(testdata / CORNERSTONE / "no-pixel-data.dcm")
    assert result.series == []
    assert result.skipped[0].reason.startswith("no pixel data")


def test_damaged_and_empty_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "zero.dcm").write_bytes(b"")
    (tmp_path / "garbage.dcm").write_bytes(b"\0" * 128 + b"DICM" + bytes(range(256)) * 2)
    result = scan_path(tmp_path)
    assert result.series == []
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert reasons["zero.dcm"] == "not DICOM"
    assert reasons["garbage.dcm"]  # damaged header or no pixel data: some one-line reason
    assert all("\n" not in r for r in reasons.values())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.timeout(30)
def test_named_pipe_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.dcm")
    result = scan_path(tmp_path)
    assert [s.reason for s in result.skipped] == ["not a regular file"]


@pytest.mark.realdata
def test_truncated_compressed_pixels_fail_with_one_line(
    testdata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = testdata / CORNERSTONE / (
        "CTImage.dcm_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm"
    )
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(source.read_bytes()[:100_000])
    code, _, err = run_cli(["convert", str(cut), str(tmp_path / "o.nii")], capsys)
    assert code == 2
    assert_one_error_line(err, "cut.dcm", "cannot decode pixel data")


@pytest.mark.realdata
@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_skipped(testdata: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked.dcm"
    shutil.copy(testdata / CORNERSTONE / "CTImage.dcm", locked)
    locked.chmod(0)
    try:
        result = scan_path(tmp_path)
    finally:
        locked.chmod(0o644)
    assert result.skipped[0].reason == "unreadable: permission denied"


@pytest.mark.realdata
def test_permission_denied_is_a_skip_reason_even_as_root(
    testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root reads any file, so the refusal is simulated where the scan opens files."""
    import builtins

    from mdaread.io import headers

    shutil.copy(testdata / CORNERSTONE / "CTImage.dcm", tmp_path / "locked.dcm")
    real_open = builtins.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith("locked.dcm"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(headers, "open", guarded_open, raising=False)
    result = scan_path(tmp_path)
    assert result.series == []
    assert [s.reason for s in result.skipped] == ["unreadable: permission denied"]


def test_dicomdir_is_followed(capsys: pytest.CaptureFixture[str]) -> None:
    dicomdir = pydicom_file("DICOMDIR")
    result = scan_path(dicomdir)
    assert len(result.series) >= 5
    reasons = {s.reason for s in result.skipped}
    assert "DICOMDIR index (its files are scanned)" in reasons
    assert any(r.startswith("localizer") for r in reasons)
    code, out, _ = run_cli(["scan", str(dicomdir), "--json"], capsys)
    assert code == 0
    assert len(json.loads(out)["series"]) == len(result.series)


def test_scan_subprocess_has_no_traceback_and_no_qt(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    code = (
        "import sys; from mdaread.cli import main; rc = main(sys.argv[1:]); "
        "qt = [m for m in sys.modules if m.startswith('PyQt6')]; "
        "print('QT', qt, file=sys.stderr); sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "convert", str(tmp_path), str(tmp_path / "o.nii")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "QT []" in done.stderr


@pytest.mark.realdata
@pytest.mark.parametrize("seed", [0, 1])
def test_damaged_copies_of_real_files_never_raise_anything_but_mdaread_errors(
    testdata: Path, tmp_path: Path, seed: int, capfd: pytest.CaptureFixture[str]
) -> None:
    """Random byte damage (header and pixel data) and truncation: skipped, warned or refused,
    and nothing (e.g. a decoder's panic backtrace) written to the process's stderr."""
    from mdaread.errors import MdareadError
    from mdaread.io import load_series

    sources = [
        testdata / CORNERSTONE / "CTImage.dcm",
        testdata / CORNERSTONE / "CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm",
        testdata / CORNERSTONE
        / "CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm",
        testdata / "dcm_qa_enh/In/Siemens/XA10/6_1.dcm",
        testdata / HITACHI / "001.dcm",
    ]
    rng = np.random.default_rng(seed)
    for n in range(40):
        data = bytearray(sources[n % len(sources)].read_bytes())
        limit = min(len(data), 4000) if n % 2 == 0 else len(data)
        for _ in range(int(rng.integers(1, 20))):
            data[int(rng.integers(0, limit))] = int(rng.integers(0, 256))
        if n % 5 == 0:
            data = data[: int(rng.integers(132, len(data)))]
        damaged = tmp_path / f"damaged{n}.dcm"
        damaged.write_bytes(bytes(data))
        for candidate in scan_path(damaged).series:
            with contextlib.suppress(MdareadError):
                load_series(candidate)
        damaged.unlink()
    assert capfd.readouterr().err == ""


@pytest.mark.realdata
def test_damaged_rle_prints_no_decoder_backtrace(
    testdata: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """This damage makes the pylibjpeg-rle decoder panic (in Rust, backtrace on stderr) on an
    out-of-bounds run; the loader must decode it quietly or refuse it in one line."""
    source = testdata / CORNERSTONE / (
        "CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm"
    )
    data = bytearray(source.read_bytes())
    rng = np.random.default_rng(22)
    for _ in range(5):
        data[int(rng.integers(len(data) - 200_000, len(data)))] = int(rng.integers(0, 256))
    damaged = tmp_path / "damaged_rle.dcm"
    damaged.write_bytes(bytes(data))
    code = main(["convert", str(damaged), str(tmp_path / "o.nii")])
    captured = capfd.readouterr()
    assert "panicked" not in captured.err
    if code == 0:
        assert all(line.startswith("mdaread: warning:") for line in captured.err.splitlines())
    else:
        assert code == 2
        assert_one_error_line(captured.err, "damaged_rle.dcm")
