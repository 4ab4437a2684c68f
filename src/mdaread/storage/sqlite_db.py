"""The SQLite connection under a workspace: pragmas, migrations, write transactions, audit append.

Every change runs inside ``write()``: ``BEGIN IMMEDIATE`` takes the write lock up front (a second
writer waits up to ``busy_timeout`` ms, then gets WorkspaceBusy), the change and its audit rows
commit together or not at all. WAL + synchronous=FULL: a committed transaction survives a
``kill -9`` and a power cut; an interrupted one leaves no trace.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mdaread.storage.audit import GENESIS_HASH, canonical_json, row_hash
from mdaread.storage.errors import (
    ImmutableRecord,
    NotAWorkspace,
    SchemaTooNew,
    WorkspaceBusy,
    WorkspaceDamaged,
    WorkspaceError,
)
from mdaread.storage.records import Actor
from mdaread.storage.schema import MIGRATIONS, SCHEMA_VERSION

DB_NAME = "workspace.sqlite"
DEFAULT_BUSY_TIMEOUT_MS = 10_000
# the workspace holds subject IDs, dates and reads: owner only (a new folder is made 0700)
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700
SYSTEM_ACTOR = ("mdaread", "system")


def utc_now() -> str:
    """The current instant, UTC ISO 8601 with microseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (trigger bodies hold semicolons)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                yield pending
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        raise ValueError(f"incomplete SQL statement in migration: {pending[:60]!r}")


def _translate(exc: sqlite3.Error, where: Path) -> WorkspaceError:
    """A clear one-line WorkspaceError for an sqlite3 error."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return WorkspaceBusy(f"{where}: workspace busy (another process is writing); try again")
    if "immutable" in text or "append-only" in text:
        return ImmutableRecord(f"{where}: {text}")
    if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        return NotAWorkspace(f"{where}: not an mdaread workspace (not an SQLite database)")
    if "readonly" in text or "unable to open" in text:
        return WorkspaceError(f"{where}: cannot write the workspace ({text}): check that the "
                              f"folder, {DB_NAME} and its -wal/-shm files are writable")
    if isinstance(exc, sqlite3.IntegrityError) and text.startswith("UNIQUE constraint failed"):
        table = text.split(":", 1)[-1].strip().split(".", 1)[0]
        return WorkspaceBusy(f"{where}: another process (another import running?) wrote the same "
                             f"{table} record at the same moment; nothing of this change was "
                             "saved: run the command again")
    if "malformed" in text:
        return WorkspaceDamaged(f"{where}: the workspace database is damaged ({text}); restore "
                                f"{DB_NAME} from a backup")
    return WorkspaceError(f"{where}: {text}")


def _create_private(file: Path) -> None:
    """Create ``file`` empty and readable by its owner only (0600), unless it exists.

    SQLite gives its -wal and -shm files the database file's permissions, so those follow; left
    to SQLite the database would be created 0644 (readable by every local user)."""
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    except OSError as exc:
        raise WorkspaceError(f"{file}: cannot create the workspace database "
                             f"({exc.strerror})") from exc


def files_open_to_others(folder: str | Path) -> list[tuple[Path, int]]:
    """The workspace folder and database files that every local user may read (the "other"
    permission bit), with their permission bits: a workspace made before mdaread created them
    owner-only. Group bits are not reported: a folder shared with a group is a choice."""
    base = Path(folder)
    found: list[tuple[Path, int]] = []
    for path in (base, *(base / f"{DB_NAME}{tail}" for tail in ("", "-wal", "-shm"))):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & stat.S_IROTH:  # group bits: a folder shared with the reading team on purpose
            found.append((path, mode))
    return found


def _file_uri(file: Path) -> str:
    """The ``file:`` URI of ``file``, percent-encoded: a folder named ``trial #3`` or ``50%``
    must not be cut at the ``#`` or decoded (that silently opened another file), and a name
    that is not UTF-8 must still reach the file system byte for byte."""
    return "file:" + quote(os.fsencode(file.resolve()), safe="/")


class SqliteDatabase:
    """One open connection to ``W/workspace.sqlite``; not shared between threads."""

    def __init__(self, folder: str | Path, *, create: bool = False,
                 busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self.folder = Path(folder)
        self.file = self.folder / DB_NAME
        if create:
            _create_private(self.file)
        else:
            self._check_exists()
        mode = "rwc" if create else "rw"
        try:
            self.conn = sqlite3.connect(
                f"{_file_uri(self.file)}?mode={mode}", uri=True, isolation_level=None,
                timeout=busy_timeout_ms / 1000.0, check_same_thread=False,
            )
            self.conn.row_factory = sqlite3.Row
            self._pragmas(busy_timeout_ms)
        except sqlite3.Error as exc:
            raise _translate(exc, self.file) from exc
        self._in_write = False
        self._lock = threading.RLock()

    def _check_exists(self) -> None:
        try:
            if self.file.is_file():
                return
            reason = "folder does not exist" if not self.folder.is_dir() else f"no {DB_NAME}"
        except OSError as exc:  # a name too long, a folder that cannot be searched
            reason = str(exc.strerror)
        raise NotAWorkspace(f"{self.folder}: not an mdaread workspace ({reason})")

    def _pragmas(self, busy_timeout_ms: int) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise WorkspaceError(f"{self.file}: cannot switch to WAL mode (got {mode})")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA synchronous = FULL")

    def close(self) -> None:
        self.conn.close()

    # --- schema -------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The highest migration applied; NotAWorkspace when the file has no mdaread schema."""
        try:
            row = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise NotAWorkspace(
                    f"{self.file}: not an mdaread workspace (no schema_version table)") from exc
            raise _translate(exc, self.file) from exc
        except sqlite3.DatabaseError as exc:
            raise _translate(exc, self.file) from exc
        return int(row[0] or 0)

    def migrate(self, target: int = SCHEMA_VERSION) -> int:
        """Apply the missing migrations up to ``target`` in one transaction; returns the old
        version.

        A newer workspace is refused (SchemaTooNew), never touched.
        """
        with self.write():
            current = self._version_in_transaction()
            if current > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"{self.folder}: workspace schema version {current} is newer than this "
                    f"mdaread supports ({SCHEMA_VERSION}); upgrade mdaread to open it")
            for version in range(current + 1, target + 1):
                self._check_before_migration(version)
                for statement in _statements(MIGRATIONS[version - 1]):
                    self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_version(version, applied_at) VALUES (?, ?)",
                                  (version, utc_now()))
            if target > current:
                self.append_audit(None, "migrate", "workspace", str(self.folder.name),
                                  {"schema_version": current}, {"schema_version": target}, "")
        return current

    def _check_before_migration(self, version: int) -> None:
        """Refuse a migration whose new constraint the stored data already breaks, naming the
        rows, instead of failing with SQLite's bare "UNIQUE constraint failed"."""
        if version != 4:
            return
        clashes = self.conn.execute(
            "SELECT r.subject, t.label, group_concat(r.id, ', ') FROM reads r "
            "JOIN timepoints t ON t.id = r.timepoint_id WHERE r.purpose = 'primary' "
            "AND r.status = 'signed' AND r.supersedes IS NULL "
            "GROUP BY r.subject, r.timepoint_id HAVING count(*) > 1 ORDER BY r.subject, t.label"
        ).fetchall()
        if clashes:
            listed = "; ".join(f"{c[0]} {c[1]}: reads {c[2]}" for c in clashes)
            raise WorkspaceError(
                f"{self.folder}: cannot upgrade the workspace to schema 4 (one signed primary "
                f"read per subject and timepoint): {len(clashes)} timepoint(s) hold more than "
                f"one ({listed}); an earlier mdaread let two sign-offs race. Nothing was "
                "changed; the data manager must decide which read stands (docs/storage.md)")

    def _version_in_transaction(self) -> int:
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not exists:
            return 0
        row = self.conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    # --- transactions ------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic change: BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error.

        Re-entrant within a thread (an inner call joins the outer transaction); another thread
        using the same object waits on the lock instead of joining someone else's transaction.
        """
        with self._lock:
            if self._in_write:
                yield self.conn
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc, self.folder) from exc
            self._in_write = True
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _translate(exc, self.folder) from exc
            except BaseException:
                self._rollback()
                raise
            finally:
                self._in_write = False

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Several queries that see one committed state (a deferred transaction: WAL keeps a
        reader's snapshot while writers go on); takes no write lock, so it works on a
        workspace that cannot be written."""
        with self._lock:
            if self._in_write or self.conn.in_transaction:
                yield
                return
            try:
                self.conn.execute("BEGIN DEFERRED")
            except sqlite3.Error as exc:
                raise _translate(exc, self.folder) from exc
            try:
                yield
            finally:
                self._rollback()

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        """Run a read-only query and fetch every row (serialised with writes of other threads
        on this connection)."""
        try:
            with self._lock:
                return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc, self.folder) from exc

    # --- audit -------------------------------------------------------------------------------

    def append_audit(self, actor: Actor | None, action: str, entity: str, entity_id: str,
                     before: Any, after: Any, reason: str) -> None:
        """Append one hash-chained audit row; must run inside ``write()``."""
        if not self._in_write:
            raise RuntimeError("append_audit outside a write transaction")
        user, role = (actor.user, actor.role) if actor else SYSTEM_ACTOR
        last = self.conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        prev = last[0] if last else GENESIS_HASH
        row_id = self._next_audit_id()
        at = utc_now()
        before_text = None if before is None else canonical_json(before)
        after_text = None if after is None else canonical_json(after)
        digest = row_hash(prev, row_id, at, user, role, action, entity, entity_id,
                          before_text, after_text, reason)
        self.conn.execute(
            "INSERT INTO audit(id, at, user, role, action, entity, entity_id, before, after, "
            "reason, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row_id, at, user, role, action, entity, entity_id, before_text, after_text,
             reason, prev, digest),
        )

    def _next_audit_id(self) -> int:
        # The id goes into the hash, so it is chosen here, after AUTOINCREMENT's counter.
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        top = self.conn.execute("SELECT max(id) FROM audit").fetchone()[0] or 0
        return max(int(row[0]) if row else 0, int(top)) + 1

    def highest_audit_id_issued(self) -> int:
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        return int(row[0]) if row else 0

    def quick_check(self) -> str:
        """``PRAGMA quick_check``: 'ok' or SQLite's first problems (O(size), no index checks)."""
        try:
            rows = self.conn.execute("PRAGMA quick_check(5)").fetchall()
        except sqlite3.DatabaseError as exc:  # damage in the schema pages themselves
            return str(exc)
        return "; ".join(str(r[0]) for r in rows)

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: 'ok' or SQLite's list of problems."""
        rows = self.query("PRAGMA integrity_check")
        return "\n".join(str(r[0]) for r in rows)
