"""What the command line prints about files it did not make (issue 10, item 7, CLI part):
control and bidirectional-override characters in IDs, paths and header text are escaped by one
helper (``commands.output.printable``) before they reach the terminal; a library warning is one
``mdaread: warning:`` line; ``scan`` shows PatientIDs only with ``--show-ids``."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from bad_input_helpers import as_data_manager, one_error  # noqa: F401 (autouse fixture)
from dicom_mutation import rewrite
from mdaread.cli import main
from mdaread.commands import scan as scan_command
from mdaread.commands.output import printable

ESC, RLO, BELL = "\x1b", "\u202e", "\x07"
RAW = {ESC, RLO, BELL, "\r", "\x00", "\u2066"}


def test_printable_escapes_controls_and_overrides_only() -> None:
    assert printable("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert printable("gpj\u202e.exe") == "gpj\\u202e.exe"
    assert printable("one\nline\ttab\r") == "one\\x0aline\\x09tab\\x0d"
    assert printable("\x7f\x85\u2066\u2069\u200f\u061c\u2028") == (
        "\\x7f\\x85\\u2066\\u2069\\u200f\\u061c\\u2028")
    assert printable("bad\udcffname") == "bad\\udcffname"  # a name that is not UTF-8
    text = "Müller 髙橋 ÿ → ‘quoted’ … ok"
    assert printable(text) == text


def test_an_id_in_an_error_line_is_escaped(tmp_path: Path, repo_root: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A subject ID holding an override and a terminal escape was echoed raw."""
    data = json.loads((repo_root / "sample_dicom" / "observations.json").read_text())
    subject = data["subjects"][0]
    subject["subject"] = f"MDA{RLO}-1{ESC}[2J"
    subject["timepoints"][0]["lesions"][0]["long_mm"] = "abc"
    data["subjects"] = [subject]
    path = tmp_path / "obs.json"
    path.write_text(json.dumps(data))
    assert main(["assess", str(path)]) == 2
    err = one_error(capsys, "MDA\\u202e-1\\x1b[2J", "long_mm")
    assert not RAW & set(err)


@pytest.mark.parametrize("name", [f"IM{ESC}[2J.dcm", f"{RLO}gpj.dcm", "new\nline.dcm",
                                  f"bell{BELL}"])
def test_a_path_in_an_error_line_is_escaped(tmp_path: Path, name: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / name
    bad.write_text("not DICOM\n")
    assert main(["convert", str(bad), str(tmp_path / "o.nii")]) == 2
    err = one_error(capsys, printable(name), "no loadable DICOM series")
    assert not RAW & set(err)


@pytest.fixture
def series(tmp_path: Path, repo_root: Path) -> Path:
    """Three slices of a sample CT (PatientID MDA-001)."""
    folder = tmp_path / "ct"
    folder.mkdir()
    for path in sorted((repo_root / "sample_dicom" / "MDA-001" / "3m_CT").iterdir())[:3]:
        shutil.copy(path, folder / path.name)
    return folder


def test_header_text_in_scan_table_and_warnings_is_escaped(
        series: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    second = sorted(series.iterdir())[1]
    for path in series.iterdir():
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.SeriesDescription = f"T1{RLO}x{BELL}"
        ds.save_as(path)
    rewrite(second, "RescaleSlope", "DS", f"1{ESC}[2J".encode())
    assert main(["scan", str(series)]) == 0
    out = capsys.readouterr().out
    assert "T1\\u202ex\\x07" in out
    assert '"1\\x1b[2J" is not numeric' in out  # the skip reason quotes the value
    assert not RAW & set(out)
    assert main(["convert", str(series), str(tmp_path / "o.nii")]) == 0
    err = capsys.readouterr().err
    assert "mdaread: warning: file skipped: " in err and "\\x1b[2J" in err
    assert not RAW & set(err)


def test_scan_shows_patient_ids_only_when_asked(series: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--json", str(series)]) == 0
    (found,) = json.loads(capsys.readouterr().out)["series"]
    assert "patient_id" not in found
    assert main(["scan", str(series)]) == 0
    assert "MDA-001" not in capsys.readouterr().out
    assert main(["scan", "--json", "--show-ids", str(series)]) == 0
    (found,) = json.loads(capsys.readouterr().out)["series"]
    assert found["patient_id"] == "MDA-001"
    assert main(["scan", "--show-ids", str(series)]) == 0
    assert "patient MDA-001" in capsys.readouterr().out


def test_a_library_warning_is_one_mdaread_line(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """numpy's RuntimeWarning printed its own two lines (file:line and the source line)."""
    def overflowing(args: object) -> int:
        np.float32(np.float64(1e300))  # numpy: "overflow encountered in cast"
        return 0

    monkeypatch.setattr(scan_command, "run", overflowing)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["scan", "anything"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == ["mdaread: warning: RuntimeWarning: overflow encountered in cast"]
