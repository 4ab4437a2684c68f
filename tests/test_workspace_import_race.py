"""Two `workspace import`s of the same folder started together (the probe's race)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mdaread.cli import main
from mdaread.storage import open_workspace
from mdaread.storage.sqlite_db import DB_NAME
from test_workspace_ingest import write_series

SRC = Path(__file__).resolve().parents[1] / "src"


def test_two_imports_of_the_same_folder_both_finish_and_attach_once(tmp_path: Path) -> None:
    """The test holds the write lock while both start, so both find every series new and then
    queue for the lock: before, the second failed with SQLite's bare 'UNIQUE constraint failed'.
    Now the decision is taken again under the lock: the later import finds the series the
    earlier one attached and reports them unchanged."""
    folder = tmp_path / "W"
    assert main(["workspace", "init", str(folder), "--user", "dana"]) == 0
    rand = tmp_path / "rand.csv"
    rand.write_text("subject,arm,centre,treatment_date\nMDA-001,RFA+VP,A,2025-01-10\n")
    assert main(["workspace", "randomisation", str(folder), str(rand), "--user", "dana"]) == 0
    scans = tmp_path / "scans"
    write_series(scans / "1", "MDA-001", "20250105", "a")
    write_series(scans / "2", "MDA-001", "20250211", "b")
    env = {**os.environ, "PYTHONPATH": str(SRC), "MDAREAD_USER": "dana"}
    lock = sqlite3.connect(folder / DB_NAME, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    procs = [subprocess.Popen([sys.executable, "-m", "mdaread", "workspace", "import",
                               str(folder), str(scans)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(3.0)  # both scan, hash and wait for the lock (10 s busy timeout)
    lock.execute("COMMIT")
    lock.close()
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    for _, out, err in results:
        assert "UNIQUE" not in out + err and "Traceback" not in err
    outs = sorted(out for _, out, _ in results)
    assert any("added 2" in out for out in outs) and any("unchanged 2" in out for out in outs)
    with open_workspace(folder) as ws:
        assert len(ws.list_series()) == 2
        assert ws.verify_audit().ok


def test_a_unique_clash_left_to_sqlite_names_the_concurrent_writer(tmp_path: Path) -> None:
    """Any clash the workflow does not pre-empt still reads as a message, not SQLite's text."""
    from mdaread.storage.sqlite_db import _translate

    exc = sqlite3.IntegrityError("UNIQUE constraint failed: series.series_uid, series.key")
    message = str(_translate(exc, tmp_path))
    assert "another import running?" in message and "series record" in message
    assert "UNIQUE" not in message and "run the command again" in message
