"""Subjects, timepoints, series, registrations and lesions in the SQLite workspace."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from mdaread.storage import sqlite_rows as rows
from mdaread.storage.errors import RecordNotFound, WorkspaceError
from mdaread.storage.files import check_files, combined_hash
from mdaread.storage.records import (
    Actor,
    FileCheck,
    LesionRecord,
    NewSeries,
    RegistrationRecord,
    SeriesFileRecord,
    SeriesRecord,
    SubjectRecord,
    TimepointRecord,
    vertebral_level,
)
from mdaread.storage.sqlite_base import SqliteBase
from mdaread.storage.sqlite_db import utc_now

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LESION_FIELDS = ("level", "phenotype", "well_defined", "treated_index")


def _check_date(value: str | None, what: str) -> None:
    if value is not None and not _DATE.match(value):
        raise WorkspaceError(f"{what}: date {value!r} is not YYYY-MM-DD")


class _Where:
    """Where a registration was computed, checked before it is stored (see RegistrationRecord):
    region centre (LPS mm) and radius, vertebral level, landmark pairs and their RMS."""

    def __init__(self, center: Sequence[float] | None, radius_mm: float | None,
                 level: str | None, pairs: Sequence[Sequence[Sequence[float]]],
                 residual_mm: float | None, path: object) -> None:
        what = f"{path}: registration"
        self.center = None if center is None else rows.lps_point(center, f"{what} centre")
        self.radius_mm = _positive(radius_mm, f"{what} radius")
        try:
            self.level = None if level is None else vertebral_level(level)
        except ValueError as exc:
            raise WorkspaceError(f"{what}: {exc}") from exc
        self.pairs = [[rows.lps_point(pair[0], f"{what} landmark pair {n} baseline"),
                       rows.lps_point(pair[1], f"{what} landmark pair {n} follow-up")]
                      for n, pair in enumerate(pairs, start=1) if _is_pair(pair, what, n)]
        self.residual_mm = _positive(residual_mm, f"{what} residual", allow_zero=True)

    def columns(self) -> tuple[object, ...]:
        center = None if self.center is None else rows.to_json(self.center, "centre")
        return (center, self.radius_mm, self.level, rows.to_json(self.pairs, "landmark pairs"),
                self.residual_mm)


def _is_pair(pair: Sequence[Sequence[float]], what: str, n: int) -> bool:
    if len(pair) != 2:
        raise WorkspaceError(f"{what}: landmark pair {n} needs 2 points (baseline, follow-up), "
                             f"got {len(pair)}")
    return True


def _positive(value: float | None, what: str, allow_zero: bool = False) -> float | None:
    """None, or a finite number > 0 (≥ 0 with ``allow_zero``); WorkspaceError otherwise."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise WorkspaceError(f"{what}: {value!r} mm is not a usable distance")
    return number


class EntitiesMixin(SqliteBase):
    """Everything but reads: the trial's structure and its images."""

    # --- settings ------------------------------------------------------------------------------

    def get_protocol(self) -> dict[str, Any]:
        found = self.db.query("SELECT value FROM settings WHERE key = 'protocol'")
        return dict(json.loads(found[0][0])) if found else {}

    def set_protocol(self, actor: Actor, settings: dict[str, Any], reason: str = "") -> None:
        self._require(actor, ("data_manager",), "change the protocol settings")
        with self.db.write() as conn:
            self._touch_user(actor)
            before = self.get_protocol()
            conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES ('protocol', ?)",
                         (rows.to_json(settings, "protocol settings"),))
            self._audit(actor, "update", "settings", "protocol", before, settings, reason)

    def list_users(self) -> list[tuple[str, str]]:
        return [(r["name"], r["role"]) for r in
                self.db.query("SELECT name, role FROM users ORDER BY name, role")]

    # --- subjects -----------------------------------------------------------------------------

    def _subject_row(self, trial_id: str) -> Any:
        found = self.db.query("SELECT * FROM subjects WHERE trial_id = ?", (trial_id,))
        return found[0] if found else None

    def ensure_subject(self, actor: Actor, trial_id: str) -> SubjectRecord:
        if not trial_id.strip():
            raise WorkspaceError(f"{self.path}: empty trial ID")
        with self.db.write() as conn:
            self._touch_user(actor)
            if self._subject_row(trial_id) is None:
                conn.execute("INSERT INTO subjects(trial_id, created_at) VALUES (?, ?)",
                             (trial_id, utc_now()))
                self._audit(actor, "create", "subject", trial_id, None, {"trial_id": trial_id})
        return self.get_subject(actor, trial_id)

    def set_randomisation(self, actor: Actor, trial_id: str, *, arm: str, centre: str,
                          treatment_date: str, reason: str = "") -> SubjectRecord:
        self._require(actor, ("data_manager",), "set the randomisation")
        _check_date(treatment_date, f"subject {trial_id}")
        with self.db.write() as conn:
            self._touch_user(actor)
            old = self._subject_row(trial_id)
            after = {"trial_id": trial_id, "arm": arm, "centre": centre,
                     "treatment_date": treatment_date}
            if old is None:
                conn.execute("INSERT INTO subjects(trial_id, centre, arm, treatment_date, "
                             "created_at) VALUES (?, ?, ?, ?, ?)",
                             (trial_id, centre, arm, treatment_date, utc_now()))
                self._audit(actor, "create", "subject", trial_id, None, after, reason)
            else:
                before = rows.snapshot(rows.subject(old, sees_arm=True))
                if before != after:
                    conn.execute("UPDATE subjects SET centre = ?, arm = ?, treatment_date = ? "
                                 "WHERE trial_id = ?", (centre, arm, treatment_date, trial_id))
                    self._audit(actor, "update", "subject", trial_id, before, after, reason)
        return self.get_subject(actor, trial_id)

    def get_subject(self, actor: Actor, trial_id: str) -> SubjectRecord:
        row = self._subject_row(trial_id)
        if row is None:
            raise RecordNotFound(f"{self.path}: no subject {trial_id!r}")
        return rows.subject(row, actor.sees_arm)

    def list_subjects(self, actor: Actor) -> list[SubjectRecord]:
        return [rows.subject(r, actor.sees_arm)
                for r in self.db.query("SELECT * FROM subjects ORDER BY trial_id")]

    # --- timepoints ---------------------------------------------------------------------------

    def ensure_timepoint(self, actor: Actor, subject: str, label: str, *,
                         nominal_day: int | None = None,
                         scan_date: str | None = None) -> TimepointRecord:
        _check_date(scan_date, f"subject {subject} timepoint {label}")
        with self.db.write() as conn:
            self._touch_user(actor)
            if self._subject_row(subject) is None:
                raise RecordNotFound(f"{self.path}: no subject {subject!r}")
            found = self.find_timepoint(subject, label)
            if found is None:
                cur = conn.execute("INSERT INTO timepoints(subject, label, nominal_day, scan_date)"
                                   " VALUES (?, ?, ?, ?)", (subject, label, nominal_day, scan_date))
                created = self.get_timepoint(int(cur.lastrowid or 0))
                self._audit(actor, "create", "timepoint", created.id, None,
                            rows.snapshot(created))
                return created
            if scan_date is not None and found.scan_date is None:
                conn.execute("UPDATE timepoints SET scan_date = ? WHERE id = ?",
                             (scan_date, found.id))
                updated = self.get_timepoint(found.id)
                self._audit(actor, "update", "timepoint", found.id, rows.snapshot(found),
                            rows.snapshot(updated))
                return updated
            return found

    def get_timepoint(self, timepoint_id: int) -> TimepointRecord:
        return rows.timepoint(self._one("SELECT * FROM timepoints WHERE id = ?", (timepoint_id,),
                                        f"timepoint {timepoint_id}"))

    def find_timepoint(self, subject: str, label: str) -> TimepointRecord | None:
        found = self.db.query("SELECT * FROM timepoints WHERE subject = ? AND label = ?",
                              (subject, label))
        return rows.timepoint(found[0]) if found else None

    def list_timepoints(self, subject: str | None = None) -> list[TimepointRecord]:
        sql = "SELECT * FROM timepoints"
        params: tuple[Any, ...] = ()
        if subject is not None:
            sql, params = sql + " WHERE subject = ?", (subject,)
        return [rows.timepoint(r) for r in
                self.db.query(sql + " ORDER BY subject, coalesce(nominal_day, 99999), label",
                              params)]

    # --- series -------------------------------------------------------------------------------

    def add_series(self, actor: Actor, new: NewSeries) -> SeriesRecord:
        if combined_hash(f.sha256 for f in new.files) != new.content_hash:
            raise WorkspaceError(f"series {new.series_uid}: content hash does not match its files")
        with self.db.write() as conn:
            self._touch_user(actor)
            tp = self.get_timepoint(new.timepoint_id)
            if tp.subject != new.subject:
                raise WorkspaceError(f"series {new.series_uid}: timepoint {tp.id} belongs to "
                                     f"{tp.subject}, not {new.subject}")
            cur = conn.execute(
                "INSERT INTO series(subject, timepoint_id, series_uid, key, study_uid, "
                "frame_of_reference_uid, modality, description, study_date, shape, spacing, "
                "origin, direction, content_hash, n_files, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new.subject, new.timepoint_id, new.series_uid, new.key, new.study_uid,
                 new.frame_of_reference_uid, new.modality, new.description, new.study_date,
                 rows.to_json(list(new.shape), "shape"), rows.to_json(list(new.spacing), "spacing"),
                 rows.to_json(list(new.origin), "origin"),
                 rows.to_json(list(new.direction), "direction"),
                 new.content_hash, len(new.files), utc_now()))
            series_id = int(cur.lastrowid or 0)
            self._insert_files(series_id, new.files)
            created = self.get_series(series_id)
            self._audit(actor, "create", "series", series_id, None, rows.snapshot(created))
        return created

    def _insert_files(self, series_id: int, files: Sequence[SeriesFileRecord]) -> None:
        self.db.conn.executemany(
            "INSERT INTO series_files(series_id, idx, path, sha256, size) VALUES (?, ?, ?, ?, ?)",
            [(series_id, f.idx, f.path, f.sha256, f.size) for f in files])

    def relink_series_files(self, actor: Actor, series_id: int,
                            files: Sequence[SeriesFileRecord], reason: str = "") -> None:
        """New paths for the same bytes (files moved): the combined hash must be unchanged."""
        with self.db.write() as conn:
            self._touch_user(actor)
            old = self.get_series(series_id)
            if combined_hash(f.sha256 for f in files) != old.content_hash:
                raise WorkspaceError(f"series {old.series_uid}: new files differ in content; "
                                     "refusing to relink")
            before = [f.path for f in self.series_files(series_id)]
            conn.execute("DELETE FROM series_files WHERE series_id = ?", (series_id,))
            self._insert_files(series_id, files)
            self._audit(actor, "relink", "series", series_id, {"paths": before},
                        {"paths": [f.path for f in files]}, reason)

    def get_series(self, series_id: int) -> SeriesRecord:
        return rows.series(self._one("SELECT * FROM series WHERE id = ?", (series_id,),
                                     f"series {series_id}"))

    def find_series(self, series_uid: str, key: str | None = None) -> list[SeriesRecord]:
        if key is None:
            found = self.db.query("SELECT * FROM series WHERE series_uid = ? ORDER BY id",
                                  (series_uid,))
        else:
            found = self.db.query("SELECT * FROM series WHERE series_uid = ? AND key = ?",
                                  (series_uid, key))
        return [rows.series(r) for r in found]

    def list_series(self, subject: str | None = None,
                    timepoint_id: int | None = None) -> list[SeriesRecord]:
        where, params = rows.where_equal(subject=subject, timepoint_id=timepoint_id)
        return [rows.series(r) for r in
                self.db.query(f"SELECT * FROM series{where} ORDER BY id", params)]

    def series_files(self, series_id: int) -> list[SeriesFileRecord]:
        return [rows.series_file(r) for r in self.db.query(
            "SELECT * FROM series_files WHERE series_id = ? ORDER BY idx", (series_id,))]

    def verify_series_files(self, series_id: int) -> FileCheck:
        """Re-hash a series' files: call when a case is opened; warn when not ``ok``."""
        self.get_series(series_id)
        return check_files(series_id, self.series_files(series_id))

    # --- registrations ------------------------------------------------------------------------

    def add_registration(self, actor: Actor, baseline_series_id: int, followup_series_id: int,
                         matrix: Sequence[Sequence[float]], *, metric: float | None = None,
                         quality: str = "", method: str = "",
                         center: Sequence[float] | None = None, radius_mm: float | None = None,
                         level: str | None = None,
                         landmark_pairs: Sequence[Sequence[Sequence[float]]] = (),
                         residual_mm: float | None = None) -> RegistrationRecord:
        rows_ = [[float(v) for v in row] for row in matrix]
        if len(rows_) != 4 or any(len(r) != 4 for r in rows_):
            raise WorkspaceError(f"{self.path}: registration matrix must be 4x4")
        where = _Where(center, radius_mm, level, landmark_pairs, residual_mm, self.path)
        with self.db.write() as conn:
            self._touch_user(actor)
            cur = conn.execute(
                "INSERT INTO registrations(baseline_series_id, followup_series_id, matrix, "
                "metric, quality, method, created_by, created_at, center, radius_mm, level, "
                "landmark_pairs, residual_mm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (baseline_series_id, followup_series_id, rows.to_json(rows_, "matrix"), metric,
                 quality, method, actor.user, utc_now(), *where.columns()))
            created = self._registration(int(cur.lastrowid or 0))
            self._audit(actor, "create", "registration", created.id, None,
                        rows.snapshot(created))
        return created

    def _registration(self, registration_id: int) -> RegistrationRecord:
        return rows.registration(self._one("SELECT * FROM registrations WHERE id = ?",
                                           (registration_id,),
                                           f"registration {registration_id}"))

    def decide_registration(self, actor: Actor, registration_id: int, accept: bool,
                            reason: str = "") -> RegistrationRecord:
        self._require(actor, ("reader", "adjudicator"), "accept or reject a registration")
        with self.db.write() as conn:
            self._touch_user(actor)
            old = self._registration(registration_id)
            conn.execute("UPDATE registrations SET status = ?, accepted_by = ?, accepted_at = ? "
                         "WHERE id = ?", ("accepted" if accept else "rejected", actor.user,
                                          utc_now(), registration_id))
            new = self._registration(registration_id)
            self._audit(actor, "accept" if accept else "reject", "registration",
                        registration_id, rows.snapshot(old), rows.snapshot(new), reason)
        return new

    def list_registrations(self, baseline_series_id: int | None = None,
                           followup_series_id: int | None = None) -> list[RegistrationRecord]:
        where, params = rows.where_equal(baseline_series_id=baseline_series_id,
                                         followup_series_id=followup_series_id)
        return [rows.registration(r) for r in
                self.db.query(f"SELECT * FROM registrations{where} ORDER BY id", params)]

    # --- lesions ------------------------------------------------------------------------------

    def add_lesion(self, actor: Actor, subject: str, lesion_id: str, *, level: str = "",
                   phenotype: str = "", well_defined: bool = True,
                   treated_index: bool = False) -> LesionRecord:
        with self.db.write() as conn:
            self._touch_user(actor)
            if self._subject_row(subject) is None:
                raise RecordNotFound(f"{self.path}: no subject {subject!r}")
            if self._lesion_row(subject, lesion_id) is not None:
                raise WorkspaceError(f"{self.path}: subject {subject} already has lesion "
                                     f"{lesion_id!r}")
            conn.execute("INSERT INTO lesions(subject, lesion_id, level, phenotype, well_defined,"
                         " treated_index) VALUES (?, ?, ?, ?, ?, ?)",
                         (subject, lesion_id, level, phenotype, int(well_defined),
                          int(treated_index)))
            created = rows.lesion(self._lesion_row(subject, lesion_id))
            self._audit(actor, "create", "lesion", created.id, None, rows.snapshot(created))
        return created

    def _lesion_row(self, subject: str, lesion_id: str) -> Any:
        found = self.db.query("SELECT * FROM lesions WHERE subject = ? AND lesion_id = ?",
                              (subject, lesion_id))
        return found[0] if found else None

    def update_lesion(self, actor: Actor, subject: str, lesion_id: str, reason: str = "",
                      **changes: Any) -> LesionRecord:
        unknown = set(changes) - set(_LESION_FIELDS)
        if unknown:
            raise WorkspaceError(f"lesion {lesion_id}: unknown fields {sorted(unknown)}")
        with self.db.write() as conn:
            self._touch_user(actor)
            row = self._lesion_row(subject, lesion_id)
            if row is None:
                raise RecordNotFound(f"{self.path}: subject {subject} has no lesion {lesion_id!r}")
            old = rows.lesion(row)
            for name, value in changes.items():  # names checked against _LESION_FIELDS above
                stored = int(value) if isinstance(value, bool) else value
                conn.execute(f"UPDATE lesions SET {name} = ? WHERE id = ?", (stored, old.id))
            new = rows.lesion(self._lesion_row(subject, lesion_id))
            self._audit(actor, "update", "lesion", old.id, rows.snapshot(old),
                        rows.snapshot(new), reason)
        return new

    def list_lesions(self, subject: str) -> list[LesionRecord]:
        return [rows.lesion(r) for r in self.db.query(
            "SELECT * FROM lesions WHERE subject = ? ORDER BY id", (subject,))]
