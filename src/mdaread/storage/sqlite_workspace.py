"""SqliteWorkspace: the embedded default implementation of WorkspaceRepository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mdaread.storage import sqlite_rows as rows
from mdaread.storage.audit import verify_chain, write_csv
from mdaread.storage.errors import PermissionDenied, WorkspaceDamaged, WorkspaceError
from mdaread.storage.files import refuse_overwriting_database
from mdaread.storage.records import Actor, AuditCheck, AuditRecord
from mdaread.storage.schema import SCHEMA_VERSION
from mdaread.storage.sqlite_db import DB_NAME, DEFAULT_BUSY_TIMEOUT_MS, SqliteDatabase
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
        """Walk the whole hash chain; names the first row changed, inserted or deleted."""
        return verify_chain(self.audit_rows(), self.db.highest_audit_id_issued())

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
        path.mkdir(parents=True, exist_ok=True)
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
