"""`mdaread reads import` and `reads list` as Qt-free use cases.

Import: observations in the batch form of ``mda-criteria.md`` become reads in the workspace, one
per subject × timepoint, all or nothing (one transaction). The baseline's lesions are created or
updated in the lesions table, every recorded pair of diameters becomes a measurement, and the
criteria engine's category, final category and rule are stored with the protocol settings
(the workspace's, with the file's ``protocol`` keys on top) and the criteria version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mdaread.criteria import CRITERIA_VERSION, TimepointResult, assess_subject, parse_batch
from mdaread.errors import InputError
from mdaread.model.observations import (
    LesionBaseline,
    LesionFollowUp,
    ProtocolSettings,
    SubjectObservations,
)
from mdaread.storage import Actor, NewMeasurement, ReadRecord, WorkspaceRepository
from mdaread.workflow.blinding import visible_reads
from mdaread.workflow.reads_service import latest_assessments, sync_lesions, workspace_protocol

PURPOSE_ROLE = {"primary": "reader", "reread": "reader", "adjudication": "adjudicator"}


@dataclass(frozen=True)
class ImportedRead:
    """One read written by an import."""

    subject: str
    timepoint: str
    read_id: int
    status: str
    category: str | None
    final_category: str | None
    rule: str

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "timepoint": self.timepoint, "read_id": self.read_id,
                "status": self.status, "category": self.category,
                "final_category": self.final_category, "rule": self.rule}


def import_reads(ws: WorkspaceRepository, actor: Actor, data: Any, *, purpose: str = "primary",
                 sign: bool = False) -> list[ImportedRead]:
    """Import a parsed batch document as ``actor``'s reads; nothing is written on any error.

    Raises CriteriaInputError (subject, timepoint, key) for a malformed batch and InputError for
    a subject or timepoint the workspace does not hold, or a timepoint ``actor`` already read
    for this purpose.
    """
    if purpose not in PURPOSE_ROLE:
        raise InputError(f"purpose {purpose!r} is not one of {', '.join(PURPOSE_ROLE)}")
    _, subjects = parse_batch(data)  # validates the file on its own first
    protocol = workspace_protocol(ws, data.get("protocol") or {})
    raw = {s["subject"]: {t["label"]: t for t in s["timepoints"]} for s in data["subjects"]}
    results = {s.subject: assess_subject(s, protocol) for s in subjects}
    timepoint_ids = {s.subject: _check_target(ws, actor, s, purpose) for s in subjects}
    out = []
    with ws.transaction():
        for subject in subjects:
            sync_lesions(ws, actor, subject.subject, subject.baseline_lesions, "reads import")
            for tp, result in zip(subject.timepoints, results[subject.subject], strict=True):
                out.append(_write_read(ws, actor, subject, raw[subject.subject][tp.label],
                                       timepoint_ids[subject.subject][tp.label], result,
                                       protocol, purpose, sign))
    return out


def _check_target(ws: WorkspaceRepository, actor: Actor, subject: SubjectObservations,
                  purpose: str) -> dict[str, int]:
    """Label → workspace timepoint id; InputError for what the workspace lacks or holds."""
    if subject.subject not in {s.trial_id for s in ws.list_subjects(actor)}:
        raise InputError(f"subject {subject.subject} is not in the workspace {ws.path}")
    ids = {}
    for tp in subject.timepoints:
        found = ws.find_timepoint(subject.subject, tp.label)
        if found is None:
            raise InputError(f"subject {subject.subject}, timepoint {tp.label}: not in the "
                             f"workspace {ws.path} (import its scans first)")
        existing = ws.list_reads(subject.subject, found.id, purpose=purpose, reader=actor.user,
                                 current_only=True)
        if existing:
            raise InputError(f"subject {subject.subject}, timepoint {tp.label}: {actor.user} "
                             f"already has a {existing[-1].status} {purpose} read "
                             f"(read {existing[-1].id})")
        signed = ws.list_reads(subject.subject, found.id, purpose="primary", status="signed",
                               current_only=True) if purpose == "primary" else []
        if signed:
            raise InputError(f"subject {subject.subject}, timepoint {tp.label}: already signed "
                             f"by {signed[-1].reader} (read {signed[-1].id}); correct that read")
        ids[tp.label] = found.id
    return ids


def _measurements(lesions: tuple[LesionBaseline | LesionFollowUp, ...]) -> list[NewMeasurement]:
    """One manual measurement per lesion with both diameters (split lesions: in observations)."""
    return [NewMeasurement(les.id, float(les.long_mm), float(les.perp_mm), method="manual")
            for les in lesions if les.long_mm is not None and les.perp_mm is not None]


def _write_read(ws: WorkspaceRepository, actor: Actor, subject: SubjectObservations,
                observations: dict[str, Any], timepoint_id: int, result: TimepointResult,
                protocol: ProtocolSettings, purpose: str, sign: bool) -> ImportedRead:
    tp = next(t for t in subject.timepoints if t.label == result.label)
    stored = {k: v for k, v in observations.items() if k != "notes"}
    read = ws.create_read(actor, subject.subject, timepoint_id, purpose=purpose,
                          protocol=protocol.to_dict(), criteria_version=CRITERIA_VERSION,
                          observations=stored)
    measurements = _measurements(tp.lesions)
    if sign:
        read = ws.sign_read(actor, read.id, category=result.computed_category,
                            final_category=result.final_category, rule=result.computed_rule,
                            override_category=tp.override.category if tp.override else None,
                            override_reason=tp.override.reason if tp.override else None,
                            measurements=measurements)
    elif measurements:
        read = ws.save_draft(actor, read.id, measurements=measurements)
    ws.add_assessment(actor, subject.subject, timepoint_id, read_id=read.id,
                      category=result.category, final_category=result.final_category,
                      rule=result.rule, criteria_version=CRITERIA_VERSION,
                      details={**result.to_dict(), "protocol": protocol.to_dict()})
    return ImportedRead(subject.subject, tp.label, read.id, read.status, result.category,
                        result.final_category, result.rule)


@dataclass(frozen=True)
class ReadRow:
    """One line of `mdaread reads list` (never the arm). ``final_category`` is the latest
    assessment's (recomputed when a later timepoint was signed); a draft's category and rule
    also come from its latest assessment (None when there is none)."""

    read_id: int
    subject: str
    timepoint: str
    reader: str
    purpose: str
    status: str
    category: str | None
    override_category: str | None
    final_category: str | None
    rule: str | None
    signed_at: str | None
    supersedes: int | None
    superseded: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.read_id, "subject": self.subject, "timepoint": self.timepoint,
                "reader": self.reader, "purpose": self.purpose, "status": self.status,
                "category": self.category, "override_category": self.override_category,
                "final_category": self.final_category, "rule": self.rule,
                "signed_at": self.signed_at, "supersedes": self.supersedes,
                "superseded": self.superseded}


def list_read_rows(ws: WorkspaceRepository, actor: Actor, subject: str | None = None,
                   include_superseded: bool = False) -> list[ReadRow]:
    """The reads ``actor`` may see (mdaread.workflow.blinding: a reader, their own), by
    subject, timepoint order of the workspace, then id."""
    reads = visible_reads(actor, ws.list_reads(subject))
    superseded = {r.supersedes for r in reads if r.supersedes is not None}
    latest = latest_assessments(ws, subject)
    order = {t.id: i for i, t in enumerate(ws.list_timepoints(subject))}
    rows = [_row(r, latest.get(r.id), r.id in superseded) for r in reads
            if include_superseded or r.id not in superseded]
    by_id = {r.id: r for r in reads}
    return sorted(rows, key=lambda row: (row.subject, order.get(by_id[row.read_id].timepoint_id,
                                                                 0), row.read_id))


def _row(read: ReadRecord, assessment: Any, superseded: bool) -> ReadRow:
    if read.status == "signed":  # the final category may have been recomputed since
        category, override, rule = read.category, read.override_category, read.rule
        final = assessment.final_category if assessment else read.final_category
    else:  # a draft: what the engine computed when it was last assessed
        details = assessment.details if assessment else {}
        category = details.get("computed_category")
        rule = details.get("computed_rule")
        final = assessment.final_category if assessment else None
        override = (read.observations.get("override") or {}).get("category")
    return ReadRow(read.id, read.subject, read.timepoint_label, read.reader, read.purpose,
                   read.status, category, override, final, rule, read.signed_at,
                   read.supersedes, superseded)
