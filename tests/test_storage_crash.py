"""kill -9 in the middle of saves, sign-offs and imports: on reopen the database is intact,
every acknowledged signed read is there, and each interrupted change is whole or absent.

Real subprocesses, killed at random moments with SIGKILL. The default run does ~20 kills; the
slow-marked run does many more.
"""

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

SRC = Path(__file__).resolve().parents[1] / "src"
DM = Actor("dana", "data_manager")
READER = Actor("rita", "reader")
N_LESIONS = 6

WORKER = r"""
import sys
from mdaread.storage import (Actor, NewMeasurement, NewSeries, SeriesFileRecord,
                             combined_hash, open_workspace)

folder, seed = sys.argv[1], int(sys.argv[2])
reader, dm = Actor("rita", "reader"), Actor("dana", "data_manager")
ws = open_workspace(folder)
tp = ws.find_timepoint("MDA-001", "3m").id
print("ready", flush=True)
i = 0
while True:
    i += 1
    k = 1 + (seed + i) % 6
    tag = f"{seed}-{i}"
    ms = [NewMeasurement(f"L{j}", 10.0 + j, 5.0 + j, [[j, 0, 0], [j, 1, 0]]) for j in range(k)]
    step = i % 3
    if step == 0:   # one transaction: final save + sign-off (re-reads: one primary per timepoint)
        read = ws.create_read(reader, "MDA-001", tp, purpose="reread")
        ws.sign_read(reader, read.id, category="SD", observations={"k": k, "tag": tag},
                     measurements=ms)
        print(f"signed {read.id} {k}", flush=True)
    elif step == 1:  # a draft save replacing all measurements
        read = ws.create_read(reader, "MDA-001", tp)
        for again in range(3):
            ms2 = ms[: 1 + (k + again) % len(ms)]
            ws.save_draft(reader, read.id, observations={"k": len(ms2), "tag": tag},
                          measurements=ms2)
        print(f"draft {read.id}", flush=True)
    else:            # an import: subject, timepoint and series with k files together
        files = tuple(SeriesFileRecord(j, f"/data/{tag}/{j}.dcm", f"{j:064x}", 100 + j)
                      for j in range(k))
        with ws.transaction():
            ws.ensure_subject(dm, f"S-{tag}")
            t = ws.ensure_timepoint(dm, f"S-{tag}", "baseline", nominal_day=0)
            ws.add_series(dm, NewSeries(
                subject=f"S-{tag}", timepoint_id=t.id, series_uid=f"1.2.{seed}.{i}", key="k",
                study_uid="", frame_of_reference_uid="", modality="CT", description="",
                study_date="", shape=(k, 2, 2), spacing=(1.0, 1.0, 1.0),
                origin=(0.0, 0.0, 0.0), direction=(1, 0, 0, 0, 1, 0, 0, 0, 1), files=files,
                content_hash=combined_hash(f.sha256 for f in files)))
        print(f"import S-{tag}", flush=True)
"""


def _prepare(folder: Path) -> None:
    with create_workspace(folder, DM) as ws:
        ws.set_randomisation(DM, "MDA-001", arm="A", centre="C", treatment_date="2025-01-01")
        ws.ensure_timepoint(DM, "MDA-001", "3m", nominal_day=91)
        for j in range(N_LESIONS):
            ws.add_lesion(READER, "MDA-001", f"L{j}", level="L1")


def _run_and_kill(folder: Path, seed: int, rng: random.Random) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(folder), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.strip() == "ready", proc.stderr.read() if proc.stderr else first
    time.sleep(rng.uniform(0.0, 0.2))
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err  # it was still working when killed
    return out.splitlines()


def _check(folder: Path, signed: dict[int, int], imported: set[str]) -> None:
    with open_workspace(folder) as ws:
        assert ws.integrity_check() == "ok"
        audit = ws.verify_audit()
        assert audit.ok, audit.problem
        reads = {r.id: r for r in ws.list_reads()}
        for read_id, k in signed.items():  # every acknowledged sign-off survived, intact
            assert reads[read_id].status == "signed"
            assert len(ws.list_measurements(read_id)) == k
        for read in reads.values():  # whole or absent: measurements match the observations
            if read.observations:
                assert len(ws.list_measurements(read.id)) == read.observations["k"]
            else:
                assert ws.list_measurements(read.id) == []
        subjects = {s.trial_id for s in ws.list_subjects(DM)}
        assert imported <= subjects
        for series in ws.list_series():
            assert len(ws.series_files(series.id)) == series.n_files == series.shape[0]
        series_subjects = {s.subject for s in ws.list_series()}
        assert subjects - series_subjects == {"MDA-001"}  # no subject without its series


def _kill_many(folder: Path, kills: int, seed: int) -> int:
    rng = random.Random(seed)
    _prepare(folder)
    signed: dict[int, int] = {}
    imported: set[str] = set()
    for n in range(kills):
        for line in _run_and_kill(folder, seed * 1000 + n, rng):
            word, *rest = line.split()
            if word == "signed":
                signed[int(rest[0])] = int(rest[1])
            elif word == "import":
                imported.add(rest[0])
        _check(folder, signed, imported)
    return len(signed)


def test_kill_nine_twenty_times(tmp_path: Path) -> None:
    n_signed = _kill_many(tmp_path / "W", kills=20, seed=1)
    assert n_signed > 0  # the workers got real work done between kills


@pytest.mark.slow
def test_kill_nine_two_hundred_times(tmp_path: Path) -> None:
    assert _kill_many(tmp_path / "W", kills=200, seed=7) > 0
