"""Opening workspaces: pragmas, forward migrations, newer schema refused, not-a-workspace,
two writers."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from mdaread.storage import (
    SCHEMA_VERSION,
    Actor,
    NotAWorkspace,
    PermissionDenied,
    SchemaTooNew,
    WorkspaceBusy,
    WorkspaceError,
    create_workspace,
    open_workspace,
)
from mdaread.storage.audit import verify_chain
from mdaread.storage.sqlite_db import SqliteDatabase

DM = Actor("dana", "data_manager")


def test_pragmas_wal_foreign_keys_busy_timeout(tmp_path: Path) -> None:
    with create_workspace(tmp_path / "W", DM) as ws:
        conn = ws.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
        assert ws.schema_version == SCHEMA_VERSION
        with pytest.raises(WorkspaceError, match="FOREIGN KEY"), ws.transaction():
            conn.execute("INSERT INTO timepoints(subject, label) VALUES ('nobody', 'x')")


def test_create_refuses_an_existing_workspace_and_a_non_data_manager(tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="data manager"):
        create_workspace(tmp_path / "W", Actor("rita", "reader"))
    assert not (tmp_path / "W").exists()
    create_workspace(tmp_path / "W", DM).close()
    with pytest.raises(WorkspaceError, match="already a workspace"):
        create_workspace(tmp_path / "W", DM)


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "other_sqlite"])
def test_not_a_workspace(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "W"
    if kind != "missing":
        folder.mkdir()
    if kind == "garbage":
        (folder / "workspace.sqlite").write_bytes(b"this is not a database at all" * 100)
    if kind == "other_sqlite":
        other = sqlite3.connect(folder / "workspace.sqlite")
        other.execute("CREATE TABLE t(x)")
        other.commit()
        other.close()
    with pytest.raises(NotAWorkspace, match="not an mdaread workspace"):
        open_workspace(folder)
    assert not (tmp_path / "W" / "workspace.sqlite").exists() or kind in ("garbage",
                                                                           "other_sqlite")


def test_an_older_workspace_is_migrated_forward(tmp_path: Path) -> None:
    folder = tmp_path / "W"
    folder.mkdir()
    db = SqliteDatabase(folder, create=True)
    db.migrate(target=1)  # a workspace written by the first release
    with db.write():
        db.conn.execute("INSERT INTO subjects(trial_id, created_at) VALUES ('MDA-1', 'then')")
    db.close()
    with open_workspace(folder) as ws:
        assert ws.schema_version == SCHEMA_VERSION
        assert [s.trial_id for s in ws.list_subjects(DM)] == ["MDA-1"]
        assert ws.list_assessments() == []  # table of migration 2 exists
        migrate = [r for r in ws.audit_rows() if r.action == "migrate"]
        assert migrate[-1].before == '{"schema_version":1}'
        # the fixture wrote rows with SQL, without the audit rows mdaread writes:
        # the chain is whole and the replay names what it never saw
        assert verify_chain(ws.audit_rows(), ws.db.highest_audit_id_issued()).ok
        assert "no audit entry (written outside mdaread)" in ws.verify_audit().problem


def test_a_newer_workspace_is_refused_untouched(tmp_path: Path) -> None:
    create_workspace(tmp_path / "W", DM).close()
    raw = sqlite3.connect(tmp_path / "W" / "workspace.sqlite")
    raw.execute("INSERT INTO schema_version VALUES (?, 'future')", (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    with pytest.raises(SchemaTooNew, match="newer than this mdaread supports"):
        open_workspace(tmp_path / "W")
    raw = sqlite3.connect(tmp_path / "W" / "workspace.sqlite")
    assert raw.execute("SELECT max(version) FROM schema_version").fetchone()[0] == \
        SCHEMA_VERSION + 1
    raw.close()


def test_a_second_writer_gets_workspace_busy_after_its_timeout(tmp_path: Path) -> None:
    create_workspace(tmp_path / "W", DM).close()
    holder = sqlite3.connect(tmp_path / "W" / "workspace.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with open_workspace(tmp_path / "W", busy_timeout_ms=200) as ws:
            assert ws.list_subjects(DM) == []  # readers are not blocked (WAL)
            with pytest.raises(WorkspaceBusy, match="workspace busy"):
                ws.ensure_subject(DM, "MDA-1")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    create_workspace(tmp_path / "W", DM).close()
    holder = sqlite3.connect(tmp_path / "W" / "workspace.sqlite", isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO settings VALUES ('held', '1')")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with open_workspace(tmp_path / "W", busy_timeout_ms=5000) as ws:
            ws.ensure_subject(DM, "MDA-1")  # blocks until the holder commits
            assert [s.trial_id for s in ws.list_subjects(DM)] == ["MDA-1"]
            # the fixture wrote rows with SQL, without the audit rows mdaread writes:
            # the chain is whole and the replay names what it never saw
            assert verify_chain(ws.audit_rows(), ws.db.highest_audit_id_issued()).ok
            assert "no audit entry (written outside mdaread)" in ws.verify_audit().problem
    finally:
        release.join()
        holder.close()
    time.sleep(0)
