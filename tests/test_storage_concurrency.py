"""Two processes writing the same workspace at once: both finish (the second waits for the
write lock), nothing is lost, the audit chain stays whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mdaread.storage import Actor, create_workspace, open_workspace

SRC = Path(__file__).resolve().parents[1] / "src"
DM = Actor("dana", "data_manager")
N = 40

WRITER = r"""
import sys
from mdaread.storage import Actor, NewMeasurement, open_workspace
folder, name = sys.argv[1], sys.argv[2]
me = Actor(name, "reader")
with open_workspace(folder) as ws:
    tp = ws.find_timepoint("MDA-001", "1m").id
    for i in range(int(sys.argv[3])):
        read = ws.create_read(me, "MDA-001", tp, purpose="reread")  # one primary only
        ws.sign_read(me, read.id, category="SD", observations={"i": i},
                     measurements=[NewMeasurement("L1", 10.0 + i, 5.0)])
print("done", flush=True)
"""


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    with create_workspace(tmp_path / "W", DM) as ws:
        ws.ensure_subject(DM, "MDA-001")
        ws.ensure_timepoint(DM, "MDA-001", "1m")
        ws.add_lesion(Actor("rita", "reader"), "MDA-001", "L1")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "W"), name, str(N)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name in ("rita", "rob")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out.strip() == "done", err
    with open_workspace(tmp_path / "W") as ws:
        for reader in ("rita", "rob"):
            reads = ws.list_reads(reader=reader, status="signed")
            assert sorted(r.observations["i"] for r in reads) == list(range(N))
            assert all(len(ws.list_measurements(r.id)) == 1 for r in reads)
        assert ws.verify_audit().ok
        assert ws.integrity_check() == "ok"


def test_two_threads_sharing_one_workspace_object(tmp_path: Path) -> None:
    import threading

    reader = Actor("rita", "reader")
    ws = create_workspace(tmp_path / "W", DM)
    ws.ensure_subject(DM, "MDA-001")
    tp = ws.ensure_timepoint(DM, "MDA-001", "1m")
    errors: list[BaseException] = []

    def work(tag: str) -> None:
        try:
            for i in range(30):
                read = ws.create_read(reader, "MDA-001", tp.id)
                ws.save_draft(reader, read.id, observations={"tag": tag, "i": i})
                ws.list_reads()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    reads = ws.list_reads()
    assert sorted((r.observations["tag"], r.observations["i"]) for r in reads) == sorted(
        (t, i) for t in ("a", "b") for i in range(30))
    assert ws.verify_audit().ok
    ws.close()
