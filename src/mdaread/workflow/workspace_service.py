"""Workspace use cases besides import: who acts, the randomisation list, the protocol file, and
the status table (subjects × timepoints: scans present, read status). Qt-free."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdaread.criteria import parse_protocol
from mdaread.errors import CriteriaInputError, InputError
from mdaread.export.deid import DICOM_SETTINGS, check_dicom_settings
from mdaread.jsonfile import read_json_file
from mdaread.model.vocabulary import (
    ROLES,
    TIMEPOINT_LABELS,
    days_since_treatment,
    parse_study_date,
    timepoint_rank,
)
from mdaread.storage import Actor, ReadRecord, WorkspaceRepository
from mdaread.storage import refuse_overwriting_database as refuse_overwriting_database  # for ui
from mdaread.workflow.blinding import visible_reads
from mdaread.workflow.ingest import _csv_rows


def resolve_actor(user: str | None = None, role: str | None = None, *,
                  default_role: str = "data_manager") -> Actor:
    """The acting user: ``user`` or env MDAREAD_USER or the OS login; ``role`` or env
    MDAREAD_ROLE or ``default_role``. InputError for an unknown role."""
    name = user or os.environ.get("MDAREAD_USER") or _login()
    chosen = role or os.environ.get("MDAREAD_ROLE") or default_role
    if chosen not in ROLES:
        raise InputError(f"unknown role {chosen!r} (expected one of {', '.join(ROLES)})")
    try:
        return Actor(name, chosen)
    except ValueError as exc:  # a blank --user or MDAREAD_USER
        raise InputError(f"user {name!r}: {exc}") from None


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def load_protocol_file(path: str | Path) -> dict[str, Any]:
    """A protocol settings JSON object, checked by the criteria engine's own parser (and the
    DICOM export's ``dicom_dates``/``trial_id`` by the export's): an unknown key (a typo would
    silently leave the default in force), a wrong type or a value out of range is refused here
    rather than at the first read."""
    source = Path(path)
    data = read_json_file(source)
    if not isinstance(data, dict):
        raise InputError(f"{source}: protocol settings must be a JSON object")
    check_dicom_settings(data, str(source))
    try:
        parse_protocol({k: v for k, v in data.items() if k not in DICOM_SETTINGS})
    except CriteriaInputError as exc:
        raise InputError(f"{source}: {exc}") from None
    return data


@dataclass
class RandomisationReport:
    """Subjects created, updated (arm, centre or date changed) and unchanged."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def load_randomisation(ws: WorkspaceRepository, actor: Actor,
                       path: str | Path) -> RandomisationReport:
    """Apply ``subject,arm,centre,treatment_date`` rows in one transaction (all or nothing)."""
    rows = _csv_rows(path, {"subject", "arm", "centre", "treatment_date"})
    seen: set[str] = set()
    for line, row in rows:
        where = f"{path}: line {line}"
        if not row["subject"] or not row["arm"] or not row["centre"]:
            raise InputError(f"{where}: empty subject, arm or centre")
        if parse_study_date(row["treatment_date"]) is None or "-" not in row["treatment_date"]:
            raise InputError(f"{where}: treatment_date {row['treatment_date']!r} is not "
                             "YYYY-MM-DD")
        if row["subject"] in seen:
            raise InputError(f"{where}: subject {row['subject']} listed twice")
        seen.add(row["subject"])
    report = RandomisationReport()
    known = {s.trial_id: s for s in ws.list_subjects(actor)}
    with ws.transaction():
        for _, row in rows:
            old = known.get(row["subject"])
            new = ws.set_randomisation(actor, row["subject"], arm=row["arm"],
                                       centre=row["centre"],
                                       treatment_date=row["treatment_date"],
                                       reason=f"randomisation list {Path(path).name}")
            if old is None:
                report.created.append(new.trial_id)
            elif old == new:
                report.unchanged.append(new.trial_id)
            else:
                report.updated.append(new.trial_id)
    return report


@dataclass(frozen=True)
class TimepointStatus:
    """One cell of the status table."""

    label: str
    scan_date: str | None
    days: int | None
    n_series: int
    modalities: list[str]
    read_status: str  # "not read" | "draft" | "signed"
    reads: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "scan_date": self.scan_date, "days": self.days,
                "n_series": self.n_series, "modalities": self.modalities,
                "read_status": self.read_status, "reads": self.reads}


@dataclass(frozen=True)
class SubjectStatus:
    """One row of the status table; ``arm`` is None unless the actor is the data manager."""

    subject: str
    centre: str | None
    arm: str | None
    treatment_date: str | None
    timepoints: list[TimepointStatus]

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "centre": self.centre, "arm": self.arm,
                "treatment_date": self.treatment_date,
                "timepoints": [t.to_json() for t in self.timepoints]}


def _read_status(reads: list[ReadRecord]) -> str:
    if any(r.status == "signed" for r in reads):
        return "signed"
    return "draft" if reads else "not read"


def _read_summary(r: ReadRecord) -> dict[str, Any]:
    return {"id": r.id, "reader": r.reader, "purpose": r.purpose, "status": r.status,
            "category": r.effective_category, "supersedes": r.supersedes}


def workspace_status(ws: WorkspaceRepository, actor: Actor) -> list[SubjectStatus]:
    """Subjects × timepoints (the protocol's five plus any other label in use), with the
    series present and the status of the current primary reads ``actor`` may see
    (mdaread.workflow.blinding: a reader, their own)."""
    series_by_tp: dict[int, list[str]] = {}
    for s in ws.list_series():
        series_by_tp.setdefault(s.timepoint_id, []).append(s.modality)
    reads_by_tp: dict[int, list[ReadRecord]] = {}
    for r in visible_reads(actor, ws.list_reads(current_only=True)):
        reads_by_tp.setdefault(r.timepoint_id, []).append(r)
    out = []
    for subject in ws.list_subjects(actor):
        stored = {t.label: t for t in ws.list_timepoints(subject.trial_id)}
        cells = []
        for label in sorted(set(TIMEPOINT_LABELS) | set(stored), key=timepoint_rank):
            tp = stored.get(label)
            modalities = series_by_tp.get(tp.id, []) if tp else []
            reads = reads_by_tp.get(tp.id, []) if tp else []
            primary = [r for r in reads if r.purpose == "primary"]
            scan_date = tp.scan_date if tp else None
            cells.append(TimepointStatus(
                label, scan_date, days_since_treatment(scan_date, subject.treatment_date),
                len(modalities), sorted(set(modalities)), _read_status(primary),
                [_read_summary(r) for r in reads]))
        out.append(SubjectStatus(subject.trial_id, subject.centre, subject.arm,
                                 subject.treatment_date, cells))
    return out
