"""`mdaread sample` on the command line, and the committed copy in sample_dicom/."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mdaread.cli import main

# The exact command that regenerates sample_dicom/ (also in README.md).
SAMPLE_DICOM_ARGS = ["--subjects", "4", "--compression", "jpegls", "--matrix", "176"]


def test_sample_command_writes_a_trial(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "trial"
    status = main(["sample", str(out), "--subjects", "1", "--matrix", "32", "--seed", "9",
                   "--jobs", "1", "--json"])
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    truth = json.loads((out / "truth.json").read_text())
    assert summary["subjects"] == ["MDA-001"] == [s["subject"] for s in truth["subjects"]]
    assert summary["seed"] == 9 == truth["seed"]
    assert summary["files"] == len(list(out.rglob("*.dcm")))
    assert summary["series"] == sum(len(tp["series"]) for tp in truth["subjects"][0]["timepoints"])


@pytest.mark.parametrize("args, message", [
    (["--subjects", "0"], "--subjects must be at least 1"),
    (["--matrix", "8"], "--matrix must be between"),
    (["--jobs", "0"], "--jobs must be at least 1"),
])
def test_bad_options_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         args: list[str], message: str) -> None:
    assert main(["sample", str(tmp_path / "t"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mdaread: error: ") and message in err and err.count("\n") == 1


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("data")
    assert main(["sample", str(tmp_path), "--matrix", "32"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "not empty" in err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_unwritable_output_is_a_one_line_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    assert main(["sample", str(blocker / "trial"), "--matrix", "32"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mdaread: error: ") and "cannot write the sample trial" in err
    assert err.count("\n") == 1 and str(blocker) in err


def test_command_module_imports_nothing_heavy() -> None:
    code = ("import sys, mdaread.commands.sample; "
            "print(any(m.split('.')[0] in ('pydicom', 'scipy', 'PyQt6') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_committed_copy_is_small_and_complete(repo_root: Path) -> None:
    root = repo_root / "sample_dicom"
    if not (root / "truth.json").is_file():
        pytest.skip("sample_dicom/ has not been generated")
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size <= 30 * 1024 * 1024
    truth = json.loads((root / "truth.json").read_text())
    assert truth["compression"] == "jpegls" and truth["matrix"] == 176
    for subject in truth["subjects"]:
        for tp in subject["timepoints"]:
            for series in tp["series"]:
                assert len(list((root / series["folder"]).glob("*.dcm"))) == series["n_files"]
    from test_sample_trial import ALL_OUTCOMES, _outcomes

    assert _outcomes(truth) == ALL_OUTCOMES


@pytest.mark.slow
def test_committed_copy_regenerates_identically(repo_root: Path, tmp_path: Path) -> None:
    root = repo_root / "sample_dicom"
    if not (root / "truth.json").is_file():
        pytest.skip("sample_dicom/ has not been generated")
    assert main(["sample", str(tmp_path / "again"), *SAMPLE_DICOM_ARGS]) == 0

    def digest(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    assert digest(tmp_path / "again") == digest(root)


@pytest.mark.slow
def test_default_trial_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mdaread sample OUT` with every default, then scan, load and assess all of it."""
    io = pytest.importorskip("mdaread.io")
    criteria = pytest.importorskip("mdaread.criteria")
    out = tmp_path / "trial"
    assert main(["sample", str(out)]) == 0
    truth = json.loads((out / "truth.json").read_text())
    assert len(truth["subjects"]) == 8
    found = {c.series_uid: c for c in io.scan_path(out).series}
    records = [r for s in truth["subjects"] for tp in s["timepoints"] for r in tp["series"]]
    assert len(found) == len(records) == 49
    for record in records:
        candidate = found[record["series_uid"]]
        assert candidate.warnings == [] and list(candidate.shape) == record["shape"]
        assert candidate.n_files == record["n_files"]
    protocol, subjects = criteria.parse_batch(json.loads((out / "observations.json").read_text()))
    for subject, t_subject in zip(subjects, truth["subjects"], strict=True):
        got = [(r.category, r.final_category) for r in criteria.assess_subject(subject, protocol)]
        assert got == [(tp["expected_category"], tp["expected_final_category"])
                       for tp in t_subject["timepoints"]]
