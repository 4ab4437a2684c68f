"""Shared plumbing of the SQLite repository: the database, role checks, user registration."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from mdaread.storage.errors import PermissionDenied, RecordNotFound
from mdaread.storage.records import Actor
from mdaread.storage.sqlite_db import SqliteDatabase, utc_now


class SqliteBase:
    """Owns the SqliteDatabase; the entity mixins build on these helpers."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    @property
    def path(self) -> Path:
        """The workspace folder."""
        return self.db.folder

    @property
    def schema_version(self) -> int:
        return self.db.schema_version()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[object]:
        """Group several repository calls into one atomic change (re-entrant): all of them
        commit together, or none does (an exception, a crash, a kill -9)."""
        return self.db.write()

    # --- helpers ------------------------------------------------------------------------------

    def _require(self, actor: Actor, roles: tuple[str, ...], what: str) -> None:
        if actor.role not in roles:
            raise PermissionDenied(
                f"{self.path}: {actor.user} acting as {actor.role} may not {what} "
                f"(needs role {' or '.join(roles)})")

    def _touch_user(self, actor: Actor) -> None:
        """Record a user/role pair the first time it acts (roles are declared, not
        authenticated: the embedded workspace trusts the workstation's login)."""
        cur = self.db.conn.execute(
            "INSERT OR IGNORE INTO users(name, role, created_at) VALUES (?, ?, ?)",
            (actor.user, actor.role, utc_now()))
        if cur.rowcount == 1:
            self.db.append_audit(actor, "register", "user", f"{actor.user}/{actor.role}",
                                 None, {"name": actor.user, "role": actor.role}, "first action")

    def _one(self, sql: str, params: tuple[Any, ...], what: str) -> sqlite3.Row:
        rows = self.db.query(sql, params)
        if not rows:
            raise RecordNotFound(f"{self.path}: no {what}")
        return rows[0]

    def _audit(self, actor: Actor, action: str, entity: str, entity_id: object,
               before: Any, after: Any, reason: str = "") -> None:
        self.db.append_audit(actor, action, entity, str(entity_id), before, after, reason)
