"""The audit trail's hash chain: canonical row content, SHA-256 links, verification, CSV export.

Each row's ``hash`` is SHA-256 over the previous row's hash and the row's canonical content
(its id, instant, user, role, action, entity, entity id, before, after and reason as compact
sorted JSON). Changing, inserting, reordering or deleting a row breaks the chain at that row.
Pure functions: the repository feeds them rows, so any backend can reuse them.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mdaread.storage.records import AuditCheck, AuditRecord

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first row."""

CSV_COLUMNS = (
    "id", "at", "user", "role", "action", "entity", "entity_id",
    "before", "after", "reason", "prev_hash", "hash",
)


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def row_hash(
    prev_hash: str, row_id: int, at: str, user: str, role: str, action: str, entity: str,
    entity_id: str, before: str | None, after: str | None, reason: str,
) -> str:
    """SHA-256 (hex) linking one audit row to the previous one."""
    content = canonical_json(
        [row_id, at, user, role, action, entity, entity_id, before, after, reason]
    )
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def expected_hash(row: AuditRecord, prev_hash: str) -> str:
    """The hash a stored row must carry if nothing was changed."""
    return row_hash(prev_hash, row.id, row.at, row.user, row.role, row.action, row.entity,
                    row.entity_id, row.before, row.after, row.reason)


def verify_chain(rows: Iterable[AuditRecord], highest_id_issued: int | None = None) -> AuditCheck:
    """Walk rows in id order; name the first row whose link or content does not match.

    ``highest_id_issued`` (SQLite's AUTOINCREMENT counter) detects rows cut from the end.
    """
    prev = GENESIS_HASH
    n = 0
    last_id = 0
    for row in rows:
        n += 1
        if row.prev_hash != prev:
            return AuditCheck(n, row.id, f"audit row {row.id}: link to the previous row is broken "
                                         "(a row before it was changed, inserted or deleted)")
        if expected_hash(row, prev) != row.hash:
            return AuditCheck(n, row.id, f"audit row {row.id}: content does not match its hash "
                                         "(the row was changed)")
        prev = row.hash
        last_id = row.id
    if highest_id_issued is not None and highest_id_issued > last_id:
        return AuditCheck(n, last_id + 1, f"audit rows {last_id + 1}..{highest_id_issued} "
                                          "are missing (deleted from the end)")
    return AuditCheck(n, None, f"audit chain intact: {n} rows", head=prev)


def write_csv(rows: Iterable[AuditRecord], path: str | Path) -> int:
    """Write the audit trail as CSV (UTF-8, header row, columns CSV_COLUMNS); returns the count."""
    out = Path(path)
    # /dev/stdout, a pipe, a link: written directly (os.path never raises, the open() reports)
    if os.path.islink(out) or (os.path.exists(out) and not os.path.isfile(out)):
        return _write_rows(rows, out)
    # a plain file is written beside and renamed: an interrupted export never looks complete
    partial = out.with_name(f".mdaread-partial-{os.getpid()}.csv")  # short: any name fits
    try:
        n = _write_rows(rows, partial)
        os.replace(partial, out)
    except BaseException:
        with contextlib.suppress(OSError):  # never written (a parent that is a file, …)
            partial.unlink()
        raise
    return n


def _write_rows(rows: Iterable[AuditRecord], path: Path) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([row.id, row.at, row.user, row.role, row.action, row.entity,
                             row.entity_id, row.before or "", row.after or "", row.reason,
                             row.prev_hash, row.hash])
            n += 1
    return n
