"""Reads, their measurements, and derived assessments in the SQLite workspace.

A read is created as a draft, saved any number of times, then signed. The schema's triggers
refuse any UPDATE or DELETE of a signed read and of its measurements; a correction is a new
draft read that ``supersedes`` the old one and carries a reason.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Any

from mdaread.storage import sqlite_rows as rows
from mdaread.storage.audit_replay import CONTENT_HASH_KEY, read_content_hash
from mdaread.storage.errors import (
    AlreadySigned,
    ImmutableRecord,
    PermissionDenied,
    WorkspaceError,
)
from mdaread.storage.records import (
    MEASUREMENT_METHODS,
    PURPOSES,
    Actor,
    AssessmentRecord,
    MeasurementRecord,
    NewMeasurement,
    ReadRecord,
)
from mdaread.storage.sqlite_db import utc_now
from mdaread.storage.sqlite_entities import EntitiesMixin

CATEGORIES = ("CR", "PR", "SD", "PD", "PDu", "NE")
_READ_SELECT = ("SELECT r.*, t.label AS label FROM reads r "
                "JOIN timepoints t ON t.id = r.timepoint_id")
_MEASUREMENT_SELECT = (
    "SELECT m.id, m.read_id, m.timepoint_id, m.long_mm, m.perp_mm, m.endpoints, m.series_uid, "
    "m.method, l.id AS lesion_pk, l.lesion_id AS lesion_label "
    "FROM measurements m JOIN lesions l ON l.id = m.lesion_id")


def _check_category(value: str | None, what: str) -> None:
    if value is not None and value not in CATEGORIES:
        raise WorkspaceError(f"{what} {value!r} is not one of {', '.join(CATEGORIES)}")


def _check_measurement(m: NewMeasurement) -> None:
    what = f"measurement of lesion {m.lesion_id}"
    if m.method not in MEASUREMENT_METHODS:
        raise WorkspaceError(f"{what}: method {m.method!r} is not one of "
                             f"{', '.join(MEASUREMENT_METHODS)}")
    for name, value in (("long_mm", m.long_mm), ("perp_mm", m.perp_mm)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise WorkspaceError(f"{what}: {name} must be a finite length ≥ 0 mm, got {value}")
    if any(len(p) != 3 for p in m.endpoints):
        raise WorkspaceError(f"{what}: endpoints must be [x, y, z] LPS mm points")


class ReadsMixin(EntitiesMixin):
    """Reads and measurements (the trial's primary data) and recomputable assessments."""

    def create_read(self, actor: Actor, subject: str, timepoint_id: int, *,
                    purpose: str = "primary", blinded: bool = False,
                    protocol: dict[str, Any] | None = None, criteria_version: str = "",
                    observations: dict[str, Any] | None = None) -> ReadRecord:
        self._check_purpose(actor, purpose)
        with self.db.write():
            self._touch_user(actor)
            tp = self.get_timepoint(timepoint_id)
            if tp.subject != subject:
                raise WorkspaceError(f"{self.path}: timepoint {timepoint_id} belongs to "
                                     f"{tp.subject}, not {subject}")
            settings = self.get_protocol() if protocol is None else protocol
            created = self._insert_read(actor, subject, timepoint_id, purpose, blinded, settings,
                                        criteria_version, observations or {}, None, None)
            self._audit(actor, "create", "read", created.id, None, rows.snapshot(created))
        return created

    def _check_purpose(self, actor: Actor, purpose: str) -> None:
        if purpose not in PURPOSES:
            raise WorkspaceError(f"read purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
        roles = ("adjudicator",) if purpose == "adjudication" else ("reader", "adjudicator")
        self._require(actor, roles, f"create a {purpose} read")

    def _insert_read(self, actor: Actor, subject: str, timepoint_id: int, purpose: str,
                     blinded: bool, protocol: dict[str, Any], criteria_version: str,
                     observations: dict[str, Any], supersedes: int | None,
                     correction_reason: str | None) -> ReadRecord:
        now = utc_now()
        cur = self.db.conn.execute(
            "INSERT INTO reads(subject, timepoint_id, reader, purpose, protocol, "
            "criteria_version, observations, blinded, supersedes, correction_reason, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (subject, timepoint_id, actor.user, purpose, rows.to_json(protocol, "protocol"),
             criteria_version, rows.to_json(observations, "observations"), int(blinded),
             supersedes, correction_reason, now, now))
        return self.get_read(int(cur.lastrowid or 0))

    def _editable(self, actor: Actor, read_id: int, what: str) -> ReadRecord:
        read = self.get_read(read_id)
        if read.status == "signed":
            raise ImmutableRecord(f"{self.path}: read {read_id} is signed and cannot be "
                                  f"changed ({what}); make a correction instead")
        if read.reader != actor.user:
            raise PermissionDenied(f"{self.path}: read {read_id} belongs to {read.reader}; "
                                   f"{actor.user} may not {what} it")
        return read

    def _state(self, read: ReadRecord) -> dict[str, Any]:
        state = rows.snapshot(read)
        state["measurements"] = [rows.snapshot(m) for m in self.list_measurements(read.id)]
        return state

    def _replace_measurements(self, read: ReadRecord,
                              measurements: Sequence[NewMeasurement]) -> None:
        conn = self.db.conn
        conn.execute("DELETE FROM measurements WHERE read_id = ?", (read.id,))
        for m in measurements:
            _check_measurement(m)
            lesion = self._lesion_row(read.subject, m.lesion_id)
            if lesion is None:
                raise WorkspaceError(f"{self.path}: subject {read.subject} has no lesion "
                                     f"{m.lesion_id!r} (add it before measuring it)")
            conn.execute(
                "INSERT INTO measurements(read_id, lesion_id, timepoint_id, long_mm, perp_mm, "
                "endpoints, series_uid, method) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (read.id, lesion["id"], read.timepoint_id, m.long_mm, m.perp_mm,
                 rows.to_json(m.endpoints, "endpoints"), m.series_uid, m.method))

    def _apply_draft(self, read: ReadRecord, observations: dict[str, Any] | None,
                     measurements: Sequence[NewMeasurement] | None) -> None:
        if observations is not None:
            self.db.conn.execute("UPDATE reads SET observations = ?, updated_at = ? WHERE id = ?",
                                 (rows.to_json(observations, "observations"), utc_now(), read.id))
        if measurements is not None:
            self._replace_measurements(read, measurements)

    def save_draft(self, actor: Actor, read_id: int, *,
                   observations: dict[str, Any] | None = None,
                   measurements: Sequence[NewMeasurement] | None = None,
                   reason: str = "") -> ReadRecord:
        """Save a draft's observations and/or replace its measurements, atomically."""
        with self.db.write():
            self._touch_user(actor)
            read = self._editable(actor, read_id, "save")
            before = self._state(read)
            self._apply_draft(read, observations, measurements)
            saved = self.get_read(read_id)
            self._audit(actor, "save", "read", read_id, before, self._state(saved), reason)
        return saved

    def sign_read(self, actor: Actor, read_id: int, *, category: str | None,
                  final_category: str | None = None, rule: str | None = None,
                  override_category: str | None = None, override_reason: str | None = None,
                  observations: dict[str, Any] | None = None,
                  measurements: Sequence[NewMeasurement] | None = None) -> ReadRecord:
        """Save the final content and sign, in one transaction; the read is then immutable."""
        _check_category(category, "category")
        _check_category(final_category, "final category")
        _check_category(override_category, "override category")
        if override_category and not (override_reason or "").strip():
            raise WorkspaceError(f"read {read_id}: an override category needs a reason")
        with self.db.write() as conn:
            self._touch_user(actor)
            read = self._editable(actor, read_id, "sign")
            before = self._state(read)
            self._apply_draft(read, observations, measurements)
            now = utc_now()
            try:
                conn.execute(
                    "UPDATE reads SET status = 'signed', category = ?, final_category = ?, "
                    "rule = ?, override_category = ?, override_reason = ?, signed_at = ?, "
                    "updated_at = ? WHERE id = ?", (category, final_category, rule,
                                                    override_category, override_reason, now,
                                                    now, read_id))
            except sqlite3.IntegrityError as exc:
                raise self._already_signed(read, exc) from exc
            signed = self.get_read(read_id)
            after = self._state(signed)
            after[CONTENT_HASH_KEY] = read_content_hash(after)  # what a signature covers
            self._audit(actor, "sign", "read", read_id, before, after, override_reason or "")
        return signed

    def _already_signed(self, read: ReadRecord, exc: sqlite3.IntegrityError) -> WorkspaceError:
        """The one-signed-primary-read constraint fired: name the read that holds the place."""
        if "reads.subject" not in str(exc):
            return WorkspaceError(f"{self.path}: read {read.id}: {exc}")
        holder = self.db.conn.execute(
            "SELECT id, reader FROM reads WHERE subject = ? AND timepoint_id = ? AND "
            "purpose = 'primary' AND status = 'signed' AND supersedes IS NULL",
            (read.subject, read.timepoint_id)).fetchone()
        who = f"read {holder[0]} by {holder[1]}" if holder else "another read"
        return AlreadySigned(
            f"{self.path}: subject {read.subject}, timepoint {read.timepoint_label}: a primary "
            f"read is already signed ({who}); read {read.id} stays a draft — correct the signed "
            "read instead")

    def correct_read(self, actor: Actor, read_id: int, reason: str) -> ReadRecord:
        """A new draft copying a signed read (observations, measurements) that supersedes it."""
        if not reason.strip():
            raise WorkspaceError(f"read {read_id}: a correction needs a reason")
        with self.db.write():
            self._touch_user(actor)
            old = self.get_read(read_id)
            self._check_purpose(actor, old.purpose)
            if old.status != "signed":
                raise WorkspaceError(f"read {read_id} is a draft: edit it instead of correcting")
            later = self.db.query("SELECT id FROM reads WHERE supersedes = ?", (read_id,))
            if later:
                raise WorkspaceError(f"read {read_id} is already superseded by read "
                                     f"{later[0][0]}; correct that one")
            try:
                new = self._insert_read(actor, old.subject, old.timepoint_id, old.purpose,
                                        old.blinded, old.protocol, old.criteria_version,
                                        old.observations, old.id, reason)
            except sqlite3.IntegrityError as exc:  # a racing correction committed first
                raise AlreadySigned(f"{self.path}: read {read_id} was just corrected by "
                                    f"another session; correct the newer read") from exc
            copies = [NewMeasurement(m.lesion_id, m.long_mm, m.perp_mm, m.endpoints,
                                     m.series_uid, m.method)
                      for m in self.list_measurements(read_id)]
            self._replace_measurements(new, copies)
            self._audit(actor, "correct", "read", new.id, {"supersedes": read_id},
                        self._state(new), reason)
        return new

    def discard_draft(self, actor: Actor, read_id: int, reason: str = "") -> None:
        with self.db.write() as conn:
            self._touch_user(actor)
            read = self._editable(actor, read_id, "discard")
            before = self._state(read)
            conn.execute("DELETE FROM measurements WHERE read_id = ?", (read_id,))
            conn.execute("DELETE FROM reads WHERE id = ?", (read_id,))
            self._audit(actor, "discard", "read", read_id, before, None, reason)

    def get_read(self, read_id: int) -> ReadRecord:
        return rows.read(self._one(_READ_SELECT + " WHERE r.id = ?", (read_id,),
                                   f"read {read_id}"))

    def list_reads(self, subject: str | None = None, timepoint_id: int | None = None, *,
                   status: str | None = None, reader: str | None = None,
                   purpose: str | None = None, current_only: bool = False) -> list[ReadRecord]:
        """Reads matching every filter given, by id; ``current_only`` drops superseded ones."""
        filters = {"r.subject": subject, "r.timepoint_id": timepoint_id, "r.status": status,
                   "r.reader": reader, "r.purpose": purpose}
        clauses = [f"{col} = ?" for col, v in filters.items() if v is not None]
        params = [v for v in filters.values() if v is not None]
        if current_only:
            clauses.append("NOT EXISTS (SELECT 1 FROM reads s WHERE s.supersedes = r.id)")
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return [rows.read(r) for r in self.db.query(_READ_SELECT + where + " ORDER BY r.id",
                                                    params)]

    def list_measurements(self, read_id: int) -> list[MeasurementRecord]:
        return [rows.measurement(r) for r in self.db.query(
            _MEASUREMENT_SELECT + " WHERE m.read_id = ? ORDER BY m.id", (read_id,))]

    # --- assessments --------------------------------------------------------------------------

    def add_assessment(self, actor: Actor, subject: str, timepoint_id: int, *,
                       read_id: int | None, category: str | None, final_category: str | None,
                       rule: str | None, criteria_version: str = "",
                       details: dict[str, Any] | None = None) -> AssessmentRecord:
        _check_category(category, "category")
        _check_category(final_category, "final category")
        with self.db.write() as conn:
            self._touch_user(actor)
            cur = conn.execute(
                "INSERT INTO assessments(subject, timepoint_id, read_id, category, "
                "final_category, rule, criteria_version, details, computed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (subject, timepoint_id, read_id, category, final_category, rule,
                 criteria_version, rows.to_json(details or {}, "details"), utc_now()))
            created = rows.assessment(self._one("SELECT * FROM assessments WHERE id = ?",
                                                (int(cur.lastrowid or 0),), "assessment"))
            self._audit(actor, "create", "assessment", created.id, None, rows.snapshot(created))
        return created

    def list_assessments(self, subject: str | None = None) -> list[AssessmentRecord]:
        sql = "SELECT * FROM assessments"
        params: tuple[str, ...] = ()
        if subject is not None:
            sql, params = sql + " WHERE subject = ?", (subject,)
        return [rows.assessment(r) for r in self.db.query(sql + " ORDER BY id", params)]
