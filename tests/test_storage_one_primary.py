"""One signed primary read per subject × timepoint, held by the database itself (issue 10 item 1).

A check before the write let two sign-offs racing from two processes both commit; the rule is
now a partial unique index, so the second commit fails whatever path it took (API, CLI, or SQL
typed into the sqlite3 shell), and corrections still supersede.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mdaread.storage import Actor, AlreadySigned, create_workspace, open_workspace
from mdaread.storage.sqlite_db import DB_NAME, SqliteDatabase

SRC = Path(__file__).resolve().parents[1] / "src"
DM = Actor("dana", "data_manager")
RITA = Actor("rita", "reader")
SAM = Actor("sam", "reader")


def _workspace(folder: Path) -> int:
    with create_workspace(folder, DM) as ws:
        ws.ensure_subject(DM, "MDA-001")
        return ws.ensure_timepoint(DM, "MDA-001", "1m").id


def test_second_signed_primary_read_refused_naming_the_first(tmp_path: Path) -> None:
    tp = _workspace(tmp_path / "W")
    with open_workspace(tmp_path / "W") as ws:
        first = ws.create_read(RITA, "MDA-001", tp)
        ws.sign_read(RITA, first.id, category="SD")
        second = ws.create_read(SAM, "MDA-001", tp)
        audit_before = len(ws.audit_rows())
        with pytest.raises(AlreadySigned, match=rf"read {first.id} by rita.*read {second.id} "
                                                "stays a draft"):
            ws.sign_read(SAM, second.id, category="PD")
        assert ws.get_read(second.id).status == "draft"
        assert len(ws.audit_rows()) == audit_before  # the refused sign-off left no audit row
        reread = ws.create_read(SAM, "MDA-001", tp, purpose="reread")  # re-reads are not primary
        ws.sign_read(SAM, reread.id, category="PD")
        assert ws.verify_audit().ok


def test_corrections_supersede_once(tmp_path: Path) -> None:
    tp = _workspace(tmp_path / "W")
    with open_workspace(tmp_path / "W") as ws:
        first = ws.create_read(RITA, "MDA-001", tp)
        ws.sign_read(RITA, first.id, category="SD")
        fix = ws.correct_read(RITA, first.id, "wrong lesion measured")
        ws.sign_read(RITA, fix.id, category="PR")
        again = ws.correct_read(RITA, fix.id, "typo in the correction")
        ws.sign_read(RITA, again.id, category="PR")
        current = ws.list_reads("MDA-001", tp, status="signed", current_only=True)
        assert [r.id for r in current] == [again.id]
    # a second correction of the same read, committed past the API's check, fails in SQLite
    conn = sqlite3.connect(tmp_path / "W" / DB_NAME)
    with pytest.raises(sqlite3.IntegrityError, match=r"reads\.supersedes"):
        conn.execute("INSERT INTO reads(subject, timepoint_id, reader, purpose, supersedes, "
                     "correction_reason, created_at, updated_at) VALUES ('MDA-001', ?, 'rita', "
                     "'primary', ?, 'again', 'now', 'now')", (tp, first.id))
    conn.close()


def test_sql_typed_by_hand_cannot_sign_a_second_primary(tmp_path: Path) -> None:
    tp = _workspace(tmp_path / "W")
    with open_workspace(tmp_path / "W") as ws:
        ws.sign_read(RITA, ws.create_read(RITA, "MDA-001", tp).id, category="SD")
        other = ws.create_read(SAM, "MDA-001", tp)
        ws.ensure_timepoint(DM, "MDA-001", "3m")
    conn = sqlite3.connect(tmp_path / "W" / DB_NAME)
    with pytest.raises(sqlite3.IntegrityError, match=r"reads\.subject, reads\.timepoint_id"):
        conn.execute("UPDATE reads SET status = 'signed', signed_at = 'now' WHERE id = ?",
                     (other.id,))
    three = conn.execute("SELECT id FROM timepoints WHERE label = '3m'").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError, match="supersedes a signed read of its timepoint"):
        conn.execute("INSERT INTO reads(subject, timepoint_id, reader, purpose, supersedes, "
                     "correction_reason, created_at, updated_at) VALUES ('MDA-001', ?, 'sam', "
                     "'primary', 1, 'moved', 'now', 'now')", (three,))
    conn.close()


def test_old_workspace_with_two_signed_primaries_is_refused_naming_them(tmp_path: Path) -> None:
    folder = tmp_path / "W"
    folder.mkdir()
    db = SqliteDatabase(folder, create=True)
    db.migrate(target=3)
    with db.write() as conn:
        conn.execute("INSERT INTO subjects(trial_id, created_at) VALUES ('MDA-001', 'then')")
        conn.execute("INSERT INTO timepoints(subject, label) VALUES ('MDA-001', '1m')")
        for reader in ("rita", "sam"):  # the race an earlier mdaread let through
            conn.execute("INSERT INTO reads(subject, timepoint_id, reader, purpose, created_at, "
                         "updated_at) VALUES ('MDA-001', 1, ?, 'primary', 'then', 'then')",
                         (reader,))
        conn.execute("UPDATE reads SET status = 'signed', signed_at = 'then'")
    db.close()
    with pytest.raises(Exception, match=r"MDA-001 1m: reads 1, 2.*Nothing was changed"):
        open_workspace(folder)
    db = SqliteDatabase(folder)
    assert db.schema_version() == 3
    db.close()


OBSERVATIONS = {"subjects": [{"subject": "MDA-001", "timepoints": [
    {"label": "baseline", "days": -5, "modality": "CT",
     "lesions": [{"id": "A", "level": "L2", "phenotype": "lytic", "well_defined": True,
                  "long_mm": 30, "perp_mm": 20, "treated_index": True}]},
    {"label": "1m", "days": 30, "modality": "CT",
     "lesions": [{"id": "A", "evaluable": True, "long_mm": 29, "perp_mm": 20}]},
    {"label": "3m", "days": 91, "modality": "CT",
     "lesions": [{"id": "A", "evaluable": True, "long_mm": 20, "perp_mm": 15}]}]}]}


def test_two_processes_signing_the_same_timepoints_one_wins(tmp_path: Path) -> None:
    """The probe's race: two `reads import --sign` started together; now exactly one exits 0
    and every timepoint holds one signed primary read, all by the same reader.

    The test holds the write lock while both start, so both pass every check made before the
    write and then queue for the lock: without the constraint both signed, every time."""
    folder = tmp_path / "W"
    with create_workspace(folder, DM) as ws:
        ws.ensure_subject(DM, "MDA-001")
        for label in ("baseline", "1m", "3m"):
            ws.ensure_timepoint(DM, "MDA-001", label)
    obs = tmp_path / "obs.json"
    obs.write_text(json.dumps(OBSERVATIONS), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SRC), "MDAREAD_ROLE": "reader"}
    lock = sqlite3.connect(folder / DB_NAME, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    procs = [subprocess.Popen([sys.executable, "-m", "mdaread", "reads", "import", str(folder),
                               str(obs), "--reader", name, "--sign"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("rita", "sam")]
    time.sleep(3.0)  # both processes read the workspace and wait for the lock (10 s timeout)
    lock.execute("COMMIT")
    lock.close()
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()
    assert sorted(code for code, _ in results) == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "already signed" in loser and "Traceback" not in loser
    with open_workspace(folder) as ws:
        signed = ws.list_reads("MDA-001", status="signed", purpose="primary")
        assert len(signed) == 3 and len({r.reader for r in signed}) == 1
        assert {r.timepoint_label for r in signed} == {"baseline", "1m", "3m"}
        assert ws.verify_audit().ok
