"""sqlite3.Row → typed record converters, and record → audit-JSON snapshots."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from typing import Any

from mdaread.storage.errors import WorkspaceError
from mdaread.storage.records import (
    AssessmentRecord,
    AuditRecord,
    LesionRecord,
    LevelLabelRecord,
    MeasurementRecord,
    ReadRecord,
    RegistrationRecord,
    SeriesFileRecord,
    SeriesRecord,
    SubjectRecord,
    TimepointRecord,
)


def to_json(value: Any, what: str) -> str:
    """Strict JSON text for a stored value (no NaN/Infinity, plain types only)."""
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise WorkspaceError(f"{what}: not storable as JSON ({exc})") from exc


def lps_point(value: Any, what: str) -> list[float]:
    """Three finite numbers (a point in LPS mm) as a list of floats; WorkspaceError otherwise."""
    try:
        point = [float(v) for v in value]
    except (TypeError, ValueError) as exc:
        raise WorkspaceError(f"{what}: not a point [x, y, z] in mm ({exc})") from exc
    if len(point) != 3 or not all(math.isfinite(v) for v in point):
        raise WorkspaceError(f"{what}: a point needs 3 finite coordinates in mm, got {point}")
    return point


def snapshot(record: Any) -> dict[str, Any]:
    """A record as a plain dict for the audit's before/after JSON."""
    return dataclasses.asdict(record)


def subject(row: sqlite3.Row, sees_arm: bool) -> SubjectRecord:
    return SubjectRecord(row["trial_id"], row["centre"], row["arm"] if sees_arm else None,
                         row["treatment_date"])


def timepoint(row: sqlite3.Row) -> TimepointRecord:
    return TimepointRecord(row["id"], row["subject"], row["label"], row["nominal_day"],
                           row["scan_date"])


def series(row: sqlite3.Row) -> SeriesRecord:
    return SeriesRecord(
        id=row["id"], subject=row["subject"], timepoint_id=row["timepoint_id"],
        series_uid=row["series_uid"], key=row["key"], study_uid=row["study_uid"],
        frame_of_reference_uid=row["frame_of_reference_uid"], modality=row["modality"],
        description=row["description"], study_date=row["study_date"],
        shape=tuple(json.loads(row["shape"])),
        spacing=tuple(json.loads(row["spacing"])),
        origin=tuple(json.loads(row["origin"])),
        direction=tuple(json.loads(row["direction"])),
        content_hash=row["content_hash"], n_files=row["n_files"], imported_at=row["imported_at"],
    )


def series_file(row: sqlite3.Row) -> SeriesFileRecord:
    return SeriesFileRecord(row["idx"], row["path"], row["sha256"], row["size"])


def registration(row: sqlite3.Row) -> RegistrationRecord:
    return RegistrationRecord(
        id=row["id"], baseline_series_id=row["baseline_series_id"],
        followup_series_id=row["followup_series_id"], matrix=json.loads(row["matrix"]),
        metric=row["metric"], quality=row["quality"], method=row["method"],
        status=row["status"], created_by=row["created_by"], created_at=row["created_at"],
        accepted_by=row["accepted_by"], accepted_at=row["accepted_at"],
        center=None if row["center"] is None else json.loads(row["center"]),
        radius_mm=row["radius_mm"], level=row["level"],
        landmark_pairs=json.loads(row["landmark_pairs"]), residual_mm=row["residual_mm"],
    )


def level_label(row: sqlite3.Row) -> LevelLabelRecord:
    return LevelLabelRecord(row["id"], row["series_id"], row["level"], json.loads(row["center"]),
                            row["labelled_by"], row["labelled_at"])


def lesion(row: sqlite3.Row) -> LesionRecord:
    return LesionRecord(row["id"], row["subject"], row["lesion_id"], row["level"],
                        row["phenotype"], bool(row["well_defined"]), bool(row["treated_index"]))


def measurement(row: sqlite3.Row) -> MeasurementRecord:
    return MeasurementRecord(
        id=row["id"], read_id=row["read_id"], lesion_pk=row["lesion_pk"],
        lesion_id=row["lesion_label"], timepoint_id=row["timepoint_id"],
        long_mm=row["long_mm"], perp_mm=row["perp_mm"], endpoints=json.loads(row["endpoints"]),
        series_uid=row["series_uid"], method=row["method"],
    )


def read(row: sqlite3.Row) -> ReadRecord:
    return ReadRecord(
        id=row["id"], subject=row["subject"], timepoint_id=row["timepoint_id"],
        timepoint_label=row["label"], reader=row["reader"], purpose=row["purpose"],
        status=row["status"], protocol=json.loads(row["protocol"]),
        criteria_version=row["criteria_version"], observations=json.loads(row["observations"]),
        category=row["category"], final_category=row["final_category"], rule=row["rule"],
        override_category=row["override_category"], override_reason=row["override_reason"],
        blinded=bool(row["blinded"]), supersedes=row["supersedes"],
        correction_reason=row["correction_reason"], created_at=row["created_at"],
        updated_at=row["updated_at"], signed_at=row["signed_at"],
    )


def assessment(row: sqlite3.Row) -> AssessmentRecord:
    return AssessmentRecord(
        id=row["id"], subject=row["subject"], timepoint_id=row["timepoint_id"],
        read_id=row["read_id"], category=row["category"], final_category=row["final_category"],
        rule=row["rule"], criteria_version=row["criteria_version"],
        details=json.loads(row["details"]), computed_at=row["computed_at"],
    )


def audit(row: sqlite3.Row) -> AuditRecord:
    return AuditRecord(
        id=row["id"], at=row["at"], user=row["user"], role=row["role"], action=row["action"],
        entity=row["entity"], entity_id=row["entity_id"], before=row["before"],
        after=row["after"], reason=row["reason"], prev_hash=row["prev_hash"], hash=row["hash"],
    )


def where_equal(**filters: Any) -> tuple[str, list[Any]]:
    """A ``" WHERE a = ? AND b = ?"`` clause and its parameters for the filters that are not
    None (column names are the keyword names, never user input); ``("", [])`` for none."""
    given = {column: value for column, value in filters.items() if value is not None}
    if not given:
        return "", []
    return " WHERE " + " AND ".join(f"{column} = ?" for column in given), list(given.values())
