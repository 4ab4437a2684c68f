"""kill -9 during a real `mdaread workspace import`: on reopen every series is whole (all its
files) or absent, and running the import again completes it."""

from __future__ import annotations

import os
import random
import shutil
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


SUBJECTS = [f"MDA-{s:03d}" for s in range(N_SERIES // 4)]


def _new_workspace(workspace: Path) -> None:
    if workspace.exists():
        shutil.rmtree(workspace)
    with create_workspace(workspace, DM) as ws:
        for subject in SUBJECTS:
            ws.set_randomisation(DM, subject, arm="A", centre="C", treatment_date="2025-01-10")


def _trial(tmp_path: Path) -> tuple[Path, Path]:
    scans = tmp_path / "scans"
    for s, subject in enumerate(SUBJECTS):
        for label, date in (("b", "20250105"), ("1", "20250210"), ("3", "20250411"),
                            ("6", "20250711")):
            write_series(scans / subject / label, subject, date, f"{subject}{label}", n=4 + s)
    _new_workspace(tmp_path / "W")
    return tmp_path / "W", scans


def _wait_for_first_write(wal: Path, proc: subprocess.Popen[bytes]) -> float:
    """Return the time once the importer has committed something (its WAL grows), so that the
    kill lands while series are being attached rather than during start-up or the scan."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 0:
            break
        time.sleep(0.002)
    return time.monotonic()


def _check_whole_or_absent(workspace: Path) -> None:
    with open_workspace(workspace) as ws:
        assert ws.integrity_check() == "ok" and ws.verify_audit().ok
        for series in ws.list_series():
            assert len(ws.series_files(series.id)) == series.n_files == series.shape[0]
            assert ws.verify_series_files(series.id).ok


def _kill_imports(tmp_path: Path, kills: int, seed: int) -> None:
    """Kill imports until ``kills`` of them were cut short. The kill comes at a random moment of
    the attaching phase, whose length is learnt from imports that finished first (on an idle
    machine a small import can outrun a fixed delay); a finished import starts a fresh workspace."""
    workspace, scans = _trial(tmp_path)
    rng = random.Random(seed)
    attach_seconds = 0.05
    killed = attempts = 0
    env = {**os.environ, "PYTHONPATH": str(SRC), "MDAREAD_USER": "dana"}
    while killed < kills:
        attempts += 1
        assert attempts <= 10 * kills, f"only {killed} of {attempts} imports were cut short"
        proc = subprocess.Popen([sys.executable, "-m", "mdaread", "workspace", "import",
                                 str(workspace), str(scans)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = _wait_for_first_write(workspace / "workspace.sqlite-wal", proc)
        time.sleep(rng.uniform(0.0, attach_seconds))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        _check_whole_or_absent(workspace)
        if proc.returncode == -signal.SIGKILL:
            killed += 1
        else:  # finished before the kill: aim earlier, and start again from an empty workspace
            attach_seconds = max(0.005, 0.8 * min(attach_seconds, time.monotonic() - started))
            _new_workspace(workspace)
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
