"""Bad paths and options for the image commands (scan, convert, register): one
`mdaread: error:` line naming the path and the problem, exit 2, never 'unexpected …'."""

from __future__ import annotations

from pathlib import Path

import pytest

from bad_input_helpers import one_error
from mdaread.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
BASELINE = str(SAMPLE / "MDA-001" / "baseline_CT")
FOLLOW_UP = str(SAMPLE / "MDA-001" / "1m_CT")


@pytest.mark.parametrize("argv", [["scan", "{long}"], ["scan", "{long}", "--json"],
                                  ["convert", "{long}", "{tmp}/out.nii"],
                                  ["register", "{long}", FOLLOW_UP],
                                  ["register", BASELINE, "{long}"]])
def test_a_path_too_long(tmp_path: Path, argv: list[str],
                         capsys: pytest.CaptureFixture[str]) -> None:
    long = str(tmp_path / ("a" * 300))
    args = [a.format(long=long, tmp=tmp_path) for a in argv]
    assert main(args) == 2
    one_error(capsys, "a" * 300)


@pytest.mark.parametrize("radius", ["1e9", "100.5", "inf"])
def test_register_radius_too_large(radius: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["register", BASELINE, FOLLOW_UP, "--radius", radius, "--json"]) == 2
    err = one_error(capsys, "radius")
    assert "at most 100 mm" in err or "positive number" in err


def test_a_fifo_in_a_folder_or_named_directly_is_skipped_not_opened(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import os
    import shutil

    shutil.copy(SAMPLE / "MDA-001" / "1m_CT" / "IM_0001.dcm", tmp_path / "IM_0001.dcm")
    os.mkfifo(tmp_path / "pipe")  # reading it would block for ever
    assert main(["scan", str(tmp_path), "--json"]) == 0
    skipped = json.loads(capsys.readouterr().out)["skipped"]
    assert {"path": str(tmp_path / "pipe"), "reason": "not a regular file"} in skipped
    assert main(["scan", str(tmp_path / "pipe"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == [
        {"path": str(tmp_path / "pipe"), "reason": "not a regular file"}]
    assert main(["convert", str(tmp_path / "pipe"), str(tmp_path / "o.nii")]) == 2
    one_error(capsys, "pipe", "not a regular file")


def test_sample_negative_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(tmp_path / "out"), "--seed", "-1", "--subjects", "1"]) == 2
    one_error(capsys, "--seed must be 0 or more")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, OSError])
def test_sample_interrupted_leaves_no_half_trial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 interrupt: type[BaseException],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import mdaread.sample.trial as trial

    def half_write(out: str, *args: object, **kwargs: object) -> None:
        (Path(out) / "MDA-001").mkdir(parents=True)
        (Path(out) / "MDA-001" / "IM_0001.dcm").write_bytes(b"x")
        raise interrupt(28, "No space left on device")

    monkeypatch.setattr(trial, "generate_trial", half_write)
    out = tmp_path / "trial"
    code = main(["sample", str(out), "--subjects", "1"])
    assert code == (130 if interrupt is KeyboardInterrupt else 2)
    assert not out.exists() or not any(out.iterdir())  # a second run is not refused
    capsys.readouterr()


def test_sample_never_removes_what_was_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import mdaread.sample.trial as trial

    def interrupted(out: str, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(trial, "generate_trial", interrupted)
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["sample", str(tmp_path), "--subjects", "1"]) == 130
    assert (tmp_path / "notes.txt").read_text() == "mine"
    capsys.readouterr()


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), OSError(28, "No space left on device")])
def test_convert_failing_mid_write_keeps_the_old_output(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        failure: BaseException,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import nibabel

    out = tmp_path / "out.nii.gz"
    out.write_bytes(b"an earlier good file")

    def half_save(image: object, filename: object) -> None:
        Path(str(filename)).write_bytes(b"trunc")
        raise failure

    monkeypatch.setattr(nibabel, "save", half_save)
    code = main(["convert", FOLLOW_UP, str(out)])
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 2)
    assert out.read_bytes() == b"an earlier good file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nii.gz"]
    if isinstance(failure, OSError):
        one_error(capsys, "out.nii.gz", "No space left on device")


@pytest.mark.parametrize("name, problem", [("notes.txt/out.nii", "Not a directory"),
                                           ("a" * 300 + ".nii", "File name too long"),
                                           ("missing/dir/out.nii.gz", "No such file")])
def test_convert_output_that_cannot_be_written(tmp_path: Path, name: str, problem: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("x")
    assert main(["convert", FOLLOW_UP, str(tmp_path / name)]) == 2
    one_error(capsys, "cannot write", problem)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_convert_output_name_of_250_characters(tmp_path: Path) -> None:
    out = tmp_path / ("b" * 246 + ".nii")  # the longest names still work (no longer temp name)
    assert main(["convert", FOLLOW_UP, str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]
