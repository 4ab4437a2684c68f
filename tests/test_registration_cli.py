"""`mdaread register FIXED MOVING --json` end to end on NIfTI files (no Qt, no DICOM writer)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import registration_phantom as phantom
from mdaread.cli import main
from mdaread.geometry import rigid
from mdaread.io import write_nifti

SMALL = {"shape": (40, 80, 80), "spacing": (1.5, 1.5, 2.5)}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    folder = tmp_path_factory.mktemp("register")
    truth = rigid.rigid_matrix(np.radians([2.0, -2.0, 3.0]), [5.0, -4.0, 7.0], [0.0, 0.0, 0.0])
    write_nifti(phantom.make_volume("CT", **SMALL), folder / "baseline.nii.gz")
    write_nifti(phantom.make_volume("CT", truth=truth, cement=True, seed=1, **SMALL),
                folder / "followup.nii.gz")
    return folder / "baseline.nii.gz", folder / "followup.nii.gz", truth


def test_json_output(files, capsys: pytest.CaptureFixture[str]) -> None:
    fixed, moving, truth = files
    status = main(["register", str(fixed), str(moving), "--center", "0", "0", "0",
                   "--radius", "35", "--json"])
    out = capsys.readouterr()
    assert status == 0, out.err
    payload = json.loads(out.out)
    for key in ("matrix", "metric", "seconds", "warnings", "iterations", "quality"):
        assert key in payload
    matrix = np.asarray(payload["matrix"])
    assert matrix.shape == (4, 4)
    assert rigid.tre_box(matrix, truth, [0.0, 0.0, 0.0]) <= 1.0
    assert payload["quality"] == "ok" and payload["radius_mm"] == 35.0
    assert payload["center"] == [0.0, 0.0, 0.0]
    assert isinstance(payload["warnings"], list) and payload["iterations"] > 0


def test_text_output(files, capsys: pytest.CaptureFixture[str]) -> None:
    fixed, moving, _ = files
    assert main(["register", str(fixed), str(moving)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("matrix (baseline LPS mm -> follow-up LPS mm):")
    assert "quality ok" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing.nii.gz", "{moving}"], "no such file"),
        (["{fixed}", "{moving}", "--radius", "-3"], "--radius"),
        (["{fixed}", "{moving}", "--center", "900", "0", "0"], "outside the baseline"),
    ],
)
def test_errors_are_one_line_with_status_2(files, capsys: pytest.CaptureFixture[str],
                                           args: list[str], fragment: str) -> None:
    fixed, moving, _ = files
    argv = ["register", *(a.format(fixed=fixed, moving=moving) for a in args), "--json"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mdaread: error: ") and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_failed_fit_is_printed_and_exits_1(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # a follow-up of pure noise on the same grid: nothing to align with
    baseline = phantom.make_volume("CT", **SMALL)
    rng = np.random.default_rng(3)
    noise = type(baseline)(array=rng.normal(0, 300, baseline.shape).astype(np.float32),
                           affine=baseline.affine, modality="CT")
    write_nifti(baseline, tmp_path / "b.nii.gz")
    write_nifti(noise, tmp_path / "n.nii.gz")
    status = main(["register", str(tmp_path / "b.nii.gz"), str(tmp_path / "n.nii.gz"), "--json"])
    out = capsys.readouterr()
    assert status in (1, 2)
    assert out.err.startswith("mdaread: error: ") and out.err.count("\n") == 1
    if status == 1:
        assert json.loads(out.out)["quality"] == "failed"
