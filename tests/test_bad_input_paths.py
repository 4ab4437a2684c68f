"""Bad paths and options for the image commands (scan, convert, register): one
`mdaread: error:` line naming the path and the problem, exit 2, never 'unexpected …'."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdaread.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
BASELINE = str(SAMPLE / "MDA-001" / "baseline_CT")
FOLLOW_UP = str(SAMPLE / "MDA-001" / "1m_CT")


def _one_error(capsys: pytest.CaptureFixture[str], *names: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("mdaread: error: ")
    assert "unexpected" not in err
    for name in names:
        assert name in err, err
    return err


@pytest.mark.parametrize("argv", [["scan", "{long}"], ["scan", "{long}", "--json"],
                                  ["convert", "{long}", "{tmp}/out.nii"],
                                  ["register", "{long}", FOLLOW_UP],
                                  ["register", BASELINE, "{long}"]])
def test_a_path_too_long(tmp_path: Path, argv: list[str],
                         capsys: pytest.CaptureFixture[str]) -> None:
    long = str(tmp_path / ("a" * 300))
    args = [a.format(long=long, tmp=tmp_path) for a in argv]
    assert main(args) == 2
    _one_error(capsys, "a" * 300)


@pytest.mark.parametrize("radius", ["1e9", "100.5", "inf"])
def test_register_radius_too_large(radius: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["register", BASELINE, FOLLOW_UP, "--radius", radius, "--json"]) == 2
    err = _one_error(capsys, "radius")
    assert "at most 100 mm" in err or "positive number" in err
