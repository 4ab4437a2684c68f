"""`mdaread gui --screenshot` with bad input, in a real process (offscreen Qt): one
`mdaread: error:` line naming the file and the problem, exit 2, no PNG claimed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdaread.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gui") / "ws"
    env = {"MDAREAD_USER": "dana", "MDAREAD_ROLE": "data_manager"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert main(["workspace", "init", str(folder)]) == 0
        assert main(["workspace", "randomisation", str(folder),
                     str(SAMPLE / "randomisation.csv")]) == 0
        assert main(["workspace", "import", str(folder), str(SAMPLE / "MDA-001" / "1m_CT"),
                     ]) == 0
        assert main(["workspace", "import", str(folder),
                     str(SAMPLE / "MDA-001" / "baseline_CT")]) == 0
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return folder


def _gui(*args: str) -> tuple[int, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MDAREAD_USER": "rita"}
    proc = subprocess.run([sys.executable, "-m", "mdaread", "gui", *args], env=env,
                          capture_output=True, text=True, timeout=120)
    # the offscreen platform plugin's own notice is not ours
    lines = [line for line in proc.stderr.splitlines() if "propagateSizeHints" not in line]
    assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr, proc.stderr
    return proc.returncode, "\n".join(lines)


def test_not_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    code, err = _gui("--workspace", str(tmp_path), "--screenshot", str(tmp_path / "x.png"))
    assert code == 2
    assert err.startswith("mdaread: error: ") and len(err.splitlines()) == 1, err
    assert str(tmp_path) in err and "not an mdaread workspace" in err
    assert not (tmp_path / "x.png").exists()


def test_unknown_timepoint_is_refused_not_replaced(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    code, err = _gui("--workspace", str(ws), "--subject", "MDA-001", "--timepoint", "99m",
                     "--screenshot", str(out))
    assert code == 2, err
    assert "no timepoint '99m'" in err and err.startswith("mdaread: error: ")
    assert not out.exists()


def test_screenshot_under_a_file(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    code, err = _gui("--workspace", str(ws), "--screenshot", str(tmp_path / "notes.txt" / "x.png"))
    assert code == 2, err
    assert err.startswith("mdaread: error: ") and len(err.splitlines()) == 1, err
    assert "notes.txt/x.png: cannot write the PNG" in err


def test_no_display_is_a_message_not_a_core_dump(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "mdaread", "gui"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr  # Qt's own abort: -6 (SIGABRT)
    assert proc.stderr.startswith("mdaread: error: no display"), proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_screenshot_never_overwrites_the_workspace(ws: Path) -> None:
    db = ws / "workspace.sqlite"
    code, err = _gui("--workspace", str(ws), "--screenshot", str(db))
    assert code == 2, err
    assert "refusing to overwrite a database file" in err
    assert db.read_bytes().startswith(b"SQLite format 3\x00")  # it once became a PNG
    assert main(["audit", "verify", str(ws)]) == 0
