"""SqliteWorkspace: the embedded default implementation of WorkspaceRepository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mdaread.storage import sqlite_rows as rows
from mdaread.storage.audit import verify_chain, write_csv
from mdaread.storage.audit_replay import CurrentState, replay
from mdaread.storage.errors import PermissionDenied, WorkspaceDamaged, WorkspaceError
from mdaread.storage.files import refuse_overwriting_database
from mdaread.storage.records import Actor, AuditCheck, AuditRecord
from mdaread.storage.schema import SCHEMA_VERSION
from mdaread.storage.sqlite_db import (
    DB_NAME,
    DEFAULT_BUSY_TIMEOUT_MS,
    PRIVATE_FOLDER_MODE,
    SqliteDatabase,
)
from mdaread.storage.sqlite_levels import LevelsMixin
from mdaread.storage.sqlite_reads import ReadsMixin


class SqliteWorkspace(ReadsMixin, LevelsMixin):
    """A workspace folder holding ``workspace.sqlite``. Open with ``open_workspace``."""

    def audit_rows(self, entity: str | None = None,
                   entity_id: str | None = None) -> list[AuditRecord]:
        where, params = rows.where_equal(
            entity=entity, entity_id=None if entity_id is None else str(entity_id))
        return [rows.audit(r) for r in
                self.db.query(f"SELECT * FROM audit{where} ORDER BY id", params)]

    def verify_audit(self) -> AuditCheck:
        """Walk the hash chain, then replay it against the data; names the first row changed,
        inserted or deleted, or the first entity whose data disagrees with its audit trail
        (``first_broken`` 0 when no audit row is involved: data the audit never saw)."""
        with self.db.read_snapshot():  # the chain and the data as of one commit
            audit = self.audit_rows()
            check = verify_chain(audit, self.db.highest_audit_id_issued())
            if not check.ok:
                return check
            gap = next((r for i, r in enumerate(audit, start=1) if r.id != i), None)
            if gap is not None:
                return AuditCheck(check.n_rows, gap.id, f"audit row ids jump to {gap.id}: rows "
                                                        "before it are missing")
            mismatch = replay(audit, current_state(self))
        if mismatch is not None:
            return AuditCheck(check.n_rows, mismatch.row_id or 0, mismatch.problem,
                              head=check.head)
        return AuditCheck(check.n_rows, None, f"{check.problem}; data matches the audit trail",
                          head=check.head)

    def export_audit_csv(self, path: str | Path) -> int:
        refuse_overwriting_database(path)
        return write_csv(self.audit_rows(), path)

    def integrity_check(self) -> str:
        return self.db.integrity_check()


def create_workspace(folder: str | Path, actor: Actor, *, protocol: dict[str, Any] | None = None,
                     busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> SqliteWorkspace:
    """Make a new workspace in ``folder`` (created if needed); refuses an existing one."""
    path = Path(folder)
    if actor.role != "data_manager":
        raise PermissionDenied(f"{path}: creating a workspace is for the data manager role "
                               f"({actor.user} acts as {actor.role})")
    _check_new_folder(path)
    db = SqliteDatabase(path, create=True, busy_timeout_ms=busy_timeout_ms)
    try:
        db.migrate()
        ws = SqliteWorkspace(db)
        with db.write():
            ws._touch_user(actor)
            ws._audit(actor, "create", "workspace", path.name, None,
                      {"schema_version": SCHEMA_VERSION})
            if protocol is not None:
                ws.set_protocol(actor, protocol, "initial protocol settings")
    except BaseException:
        db.close()
        raise
    return ws


def _check_new_folder(path: Path) -> None:
    """Create ``path`` for a new workspace, or say in one line why it cannot be one."""
    try:
        path.name.encode("utf-8")  # the folder name goes into the audit trail (UTF-8 text)
    except UnicodeEncodeError:
        raise WorkspaceError(f"{path}: the folder name is not valid UTF-8; choose another "
                             "name") from None
    try:
        if (path / DB_NAME).exists():
            raise WorkspaceError(f"{path}: already a workspace ({DB_NAME} exists)")
        if path.exists() and not path.is_dir():
            raise WorkspaceError(f"{path}: exists and is not a folder")
        if not path.exists():  # a folder the data manager made keeps the permissions given it
            path.mkdir(parents=True, mode=PRIVATE_FOLDER_MODE)
    except OSError as exc:  # a parent that is a file, a name too long, no permission
        raise WorkspaceError(f"{path}: cannot create the workspace folder "
                             f"({exc.strerror})") from exc


def open_workspace(folder: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                   check: bool = True) -> SqliteWorkspace:
    """Open an existing workspace, migrating an older schema forward (NotAWorkspace,
    SchemaTooNew or WorkspaceBusy otherwise).

    With ``check`` (the default) a file that fails ``PRAGMA quick_check`` is refused
    (WorkspaceDamaged) before anything reads or writes it: damage in a page no query happens to
    touch would otherwise go unnoticed while new data is written beside it.
    """
    db = SqliteDatabase(folder, busy_timeout_ms=busy_timeout_ms)
    try:
        version = db.schema_version()
        problems = db.quick_check() if check else "ok"
        if problems != "ok":
            raise WorkspaceDamaged(f"{db.file}: the workspace database is damaged (PRAGMA "
                                   f"quick_check: {problems}); nothing was changed — restore "
                                   f"{DB_NAME} from a backup")
        if version != SCHEMA_VERSION:
            db.migrate()
    except BaseException:
        db.close()
        raise
    return SqliteWorkspace(db)


def _by_id(records: list[Any]) -> dict[str, dict[str, Any]]:
    return {str(r.id): rows.snapshot(r) for r in records}


def current_state(ws: SqliteWorkspace) -> CurrentState:
    """Every replayed entity of ``ws`` as JSON-shaped state (one consistent read: callers hold
    the database's lock or accept a concurrent writer's partial picture)."""
    query = ws.db.query
    state = CurrentState()
    state.of("read").update({str(r.id): ws._state(r) for r in ws.list_reads()})
    state.of("lesion").update(_by_id([rows.lesion(r) for r in query("SELECT * FROM lesions")]))
    state.of("registration").update(_by_id(ws.list_registrations()))
    state.of("level_label").update(_by_id(ws.list_level_labels()))
    state.of("timepoint").update(_by_id(ws.list_timepoints()))
    state.of("series").update(_by_id(ws.list_series()))
    state.of("assessment").update(_by_id(ws.list_assessments()))
    state.of("subject").update({
        r["trial_id"]: rows.snapshot(rows.subject(r, sees_arm=True))
        for r in query("SELECT * FROM subjects")})
    state.of("user").update({f"{name}/{role}": {} for name, role in ws.list_users()})
    state.of("settings").update({r["key"]: json.loads(r["value"])
                                 for r in query("SELECT key, value FROM settings")})
    return state
