"""kill -9 during a real `mdaread workspace import`: on reopen every series is whole (all its
files) or absent, and running the import again completes it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mdaread.storage import Actor, create_workspace, open_workspace
from mdaread.workflow.ingest import ingest_path
from test_workspace_ingest import write_series

SRC = Path(__file__).resolve().parents[1] / "src"
DM = Actor("dana", "data_manager")
N_SERIES = 12


def _trial(tmp_path: Path) -> tuple[Path, Path]:
    scans = tmp_path / "scans"
    with create_workspace(tmp_path / "W", DM) as ws:
        for s in range(N_SERIES // 4):
            subject = f"MDA-{s:03d}"
            ws.set_randomisation(DM, subject, arm="A", centre="C", treatment_date="2025-01-10")
            for label, date in (("b", "20250105"), ("1", "20250210"), ("3", "20250411"),
                                ("6", "20250711")):
                write_series(scans / subject / label, subject, date, f"{subject}{label}",
                             n=4 + s)
    return tmp_path / "W", scans


def _wait_for_first_write(wal: Path, proc: subprocess.Popen[bytes]) -> None:
    """Return once the importer has committed something (its WAL grows), so that the kill
    lands while series are being attached rather than during start-up or the scan."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 0:
            return
        time.sleep(0.005)


def _kill_imports(tmp_path: Path, kills: int, seed: int) -> None:
    workspace, scans = _trial(tmp_path)
    rng = random.Random(seed)
    killed = 0
    env = {**os.environ, "PYTHONPATH": str(SRC), "MDAREAD_USER": "dana"}
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-m", "mdaread", "workspace", "import",
                                 str(workspace), str(scans)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_first_write(workspace / "workspace.sqlite-wal", proc)
        time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the attaching phase
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed += proc.returncode == -signal.SIGKILL
        with open_workspace(workspace) as ws:
            assert ws.integrity_check() == "ok" and ws.verify_audit().ok
            for series in ws.list_series():
                assert len(ws.series_files(series.id)) == series.n_files == series.shape[0]
                assert ws.verify_series_files(series.id).ok
    assert killed >= 1  # at least one import was cut short
    with open_workspace(workspace) as ws:
        report = ingest_path(ws, DM, scans)
        assert not report.needs_attention
        assert len(report.added) + len(report.unchanged) == N_SERIES
        assert len(ws.list_series()) == N_SERIES


def test_kill_nine_during_import(tmp_path: Path) -> None:
    _kill_imports(tmp_path, kills=3, seed=3)


@pytest.mark.slow
def test_kill_nine_during_import_many_times(tmp_path: Path) -> None:
    _kill_imports(tmp_path, kills=40, seed=11)
