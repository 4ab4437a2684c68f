"""Audit replay: does the data the workspace holds today equal what its audit trail says?

The hash chain (``audit.verify_chain``) proves that the audit rows were not changed; it says
nothing about the tables beside it. Someone who drops a trigger can rewrite a signed read's
category and leave the chain intact. Replay closes that: for every audited entity the last audit
row's ``after`` must equal the row in the database now (every key the audit recorded), every row
in the database must have an audit entry, nothing deleted by the audit may still exist and
nothing the audit created may be missing, no audit row may touch a read after it was signed, and
each signed read's canonical content hash (recorded in its sign row) must match a recomputation
from the tables.

Pure functions over plain values: a backend gathers the current state (``CurrentState``) and the
rows; this module decides. State values are JSON-shaped (dicts of str → JSON values), as the
audit stores them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mdaread.storage.audit import canonical_json
from mdaread.storage.records import AuditRecord

CONTENT_HASH_KEY = "content_sha256"
"""The key of a sign row's ``after`` that holds the signed read's content hash."""

READ_CONTENT_FIELDS = (
    "subject", "timepoint_id", "timepoint_label", "reader", "purpose", "protocol",
    "criteria_version", "observations", "category", "final_category", "rule",
    "override_category", "override_reason", "blinded", "supersedes", "correction_reason",
    "signed_at",
)
"""What a signature covers: everything the reader decided and the settings it was decided
under, and the measurements (without their row ids, which a correction's copy changes)."""

MEASUREMENT_CONTENT_FIELDS = ("lesion_id", "long_mm", "perp_mm", "endpoints", "series_uid",
                              "method")

GONE_ACTIONS = frozenset({"discard", "delete"})
"""Actions after which the entity no longer exists."""

REPLAYED_ENTITIES = ("read", "lesion", "registration", "level_label", "timepoint", "subject",
                     "series", "assessment", "user", "settings")
"""Entities whose existence is replayed; for all but series and user, the content too (a
series' audit records its import, not its file paths after a relink; a user row holds only
its name and role, the entity id itself)."""

_CONTENT_CHECKED = frozenset(REPLAYED_ENTITIES) - {"series", "user"}


def _plain(value: Any) -> Any:
    """JSON-shaped copy (tuples → lists), so a record compares equal to its audit JSON."""
    return json.loads(canonical_json(value))


def read_content(state: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a read's state (``_state``: the read's fields plus ``measurements``) that
    its signature covers."""
    content = {key: state.get(key) for key in READ_CONTENT_FIELDS}
    measurements = [{key: m.get(key) for key in MEASUREMENT_CONTENT_FIELDS}
                    for m in state.get("measurements", [])]
    content["measurements"] = sorted(measurements, key=canonical_json)
    return _plain(content)


def read_content_hash(state: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a read's canonical content: the same signed read always gives the
    same hash, on any backend; any change to what it covers changes it."""
    return hashlib.sha256(canonical_json(read_content(state)).encode()).hexdigest()


@dataclass(frozen=True)
class Mismatch:
    """The first disagreement between the audit trail and the data: the audit row involved
    (or None when the data has a row the audit never saw) and a sentence naming it."""

    row_id: int | None
    problem: str


@dataclass
class CurrentState:
    """What the workspace holds now, per replayed entity: entity id (as the audit writes it)
    → JSON-shaped state. Built by a backend; ``reads`` states include ``measurements``."""

    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def of(self, entity: str) -> dict[str, dict[str, Any]]:
        return self.entities.setdefault(entity, {})


@dataclass
class _History:
    last: AuditRecord
    signed_at_row: int | None = None


def _histories(rows: Iterable[AuditRecord]) -> tuple[dict[tuple[str, str], _History],
                                                     Mismatch | None]:
    """The last audit row per replayed entity; the first row that touches a read after its
    sign row is a mismatch by itself (a signed read never changes)."""
    seen: dict[tuple[str, str], _History] = {}
    for row in rows:
        if row.entity not in REPLAYED_ENTITIES:
            continue
        key = (row.entity, row.entity_id)
        history = seen.get(key)
        if history is not None and history.signed_at_row is not None:
            return seen, Mismatch(row.id, f"audit row {row.id} ({row.action}) changes read "
                                          f"{row.entity_id} after it was signed in audit row "
                                          f"{history.signed_at_row}")
        if history is None:
            history = seen[key] = _History(row)
        history.last = row
        if row.entity == "read" and row.action == "sign":
            history.signed_at_row = row.id
    return seen, None


def _differing_key(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """The first key (sorted) that the audit recorded with a value the data no longer has."""
    now = _plain(current)
    for key in sorted(recorded):
        if key in now and _plain(recorded[key]) != now[key]:
            return key
    return None


def _after(row: AuditRecord) -> Any:
    return None if row.after is None else json.loads(row.after)


def _check_entity(entity: str, entity_id: str, history: _History,
                  current: Mapping[str, dict[str, Any]]) -> Mismatch | None:
    last = history.last
    exists = entity_id in current
    if last.action in GONE_ACTIONS:
        if exists:
            return Mismatch(last.id, f"{entity} {entity_id} was removed in audit row {last.id} "
                                     f"({last.action}) but is still in the workspace")
        return None
    if not exists:
        return Mismatch(last.id, f"{entity} {entity_id} is in the audit trail (last audit row "
                                 f"{last.id}) but not in the workspace (deleted outside "
                                 "mdaread)")
    if entity not in _CONTENT_CHECKED:
        return None
    after = _after(last)
    if not isinstance(after, dict):
        return None
    if entity == "settings" and _plain(after) != _plain(current[entity_id]):
        return Mismatch(last.id, f"settings {entity_id} differ from their last audit row "
                                 f"{last.id}: changed outside mdaread")
    if entity == "read" and last.action == "sign":
        recorded_hash = after.get(CONTENT_HASH_KEY)
        if recorded_hash is not None and read_content_hash(current[entity_id]) != recorded_hash:
            differs = _differing_key(after, current[entity_id]) or "measurements"
            return Mismatch(last.id, f"signed read {entity_id} no longer matches its signature "
                                     f"(content hash in audit row {last.id}; first difference: "
                                     f"{differs})")
    key = _differing_key(after, current[entity_id])
    if key is not None:
        return Mismatch(last.id, f"{entity} {entity_id}: {key} differs from its last audit row "
                                 f"{last.id} ({last.action}): changed outside mdaread")
    return None


def replay(rows: Iterable[AuditRecord], state: CurrentState) -> Mismatch | None:
    """The first mismatch between the audit trail and the data, or None when they agree.

    ``rows`` in id order (the chain already verified). Checks, in order: no audit row touches
    a read after its sign row; every audited entity is as its last audit row says (present
    unless removed, every recorded key equal, a signed read's content hash equal); every
    entity in the data has an audit entry.
    """
    ordered = list(rows)
    histories, early = _histories(ordered)
    if early is not None:
        return early
    found: list[Mismatch] = []
    for (entity, entity_id), history in histories.items():
        mismatch = _check_entity(entity, entity_id, history, state.of(entity))
        if mismatch is not None:
            found.append(mismatch)
    if found:
        return min(found, key=lambda m: m.row_id or 0)
    for entity in REPLAYED_ENTITIES:
        for entity_id in sorted(state.of(entity)):
            if (entity, entity_id) not in histories:
                return Mismatch(None, f"{entity} {entity_id} is in the workspace but has no "
                                      "audit entry (written outside mdaread)")
    return None
