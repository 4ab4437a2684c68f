"""Reads in the trial workspace: open a guided read, keep it (draft, sign, correct), list reads.
Qt-free; the GUI and the `mdaread reads` commands call these.

Which earlier timepoints a guided read sees: the same subject's current (not superseded) signed
reads of the same purpose — for a ``reread`` or ``adjudication`` also by the same reader — at
timepoints before this one (by days). Nothing of other subjects, and never the arm.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from mdaread.criteria import CRITERIA_VERSION, parse_timepoint
from mdaread.errors import InputError
from mdaread.model.observations import LesionBaseline, ProtocolSettings
from mdaread.model.vocabulary import days_since_treatment
from mdaread.storage import (
    Actor,
    AssessmentRecord,
    MeasurementRecord,
    NewMeasurement,
    ReadRecord,
    WorkspaceRepository,
)
from mdaread.workflow.guided_answers import Measurement
from mdaread.workflow.guided_read import EarlierTimepoint, GuidedRead, SignInfo

_SETTINGS = {f.name for f in fields(ProtocolSettings)}


def workspace_protocol(ws: WorkspaceRepository,
                       overrides: dict[str, Any] | None = None) -> ProtocolSettings:
    """The workspace's protocol settings (criteria keys only), with ``overrides`` on top."""
    data = {k: v for k, v in ws.get_protocol().items() if k in _SETTINGS}
    data.update(overrides or {})
    try:
        return ProtocolSettings.from_dict(data)
    except (KeyError, ValueError) as exc:
        raise InputError(f"{ws.path}: protocol settings: {exc}") from None


def timepoint_days(ws: WorkspaceRepository, actor: Actor, subject: str, label: str) -> float | None:
    """Days since treatment of a timepoint: scan date − treatment date, else its nominal day."""
    tp = ws.find_timepoint(subject, label)
    if tp is None:
        return None
    days = days_since_treatment(tp.scan_date, ws.get_subject(actor, subject).treatment_date)
    if days is None:
        days = tp.nominal_day
    return None if days is None else float(days)


def baseline_label(ws: WorkspaceRepository, subject: str) -> str | None:
    """The subject's baseline: the timepoint labelled ``baseline``, else its earliest one."""
    labels = [t.label for t in ws.list_timepoints(subject)]
    return "baseline" if "baseline" in labels else (labels[0] if labels else None)


def _measurements(records: list[MeasurementRecord]) -> list[Measurement]:
    return [Measurement(m.lesion_id, m.long_mm, m.perp_mm,
                        tuple((float(p[0]), float(p[1]), float(p[2])) for p in m.endpoints),
                        m.series_uid, m.method)
            for m in records if m.long_mm is not None and m.perp_mm is not None]


def signed_reads(ws: WorkspaceRepository, subject: str, purpose: str,
                 reader: str) -> dict[str, ReadRecord]:
    """Label → the current signed read of that timepoint a guided read may build on."""
    out: dict[str, ReadRecord] = {}
    for read in ws.list_reads(subject, status="signed", purpose=purpose, current_only=True):
        if purpose != "primary" and read.reader != reader:
            continue
        out[read.timepoint_label] = read  # by id: the latest wins
    return out


def earlier_timepoints(ws: WorkspaceRepository, subject: str, label: str, days: float | None,
                       purpose: str, reader: str) -> list[EarlierTimepoint]:
    """The subject's earlier signed timepoints (baseline first), parsed for the criteria."""
    base = baseline_label(ws, subject)
    out = []
    for read_label, read in signed_reads(ws, subject, purpose, reader).items():
        obs_days = read.observations.get("days")
        if read_label == label or (read_label != base and (
                days is None or obs_days is None or obs_days >= days)):
            continue
        try:
            observation = parse_timepoint(read.observations, baseline=read_label == base,
                                          subject=subject)
        except InputError as exc:
            raise InputError(f"{ws.path}: signed read {read.id} cannot be used: {exc}") from None
        out.append(EarlierTimepoint(read_label, observation.days, read.effective_category,
                                    read.final_category, observation, read.signed_at or "",
                                    read.id, read.timepoint_id))
    return sorted(out, key=lambda e: (e.label != base, e.days))


def open_guided_read(ws: WorkspaceRepository, actor: Actor, subject: str, label: str,
                     purpose: str = "primary") -> GuidedRead:
    """The guided read of ``subject`` at ``label`` for ``actor``: their current read there
    (draft, or signed and locked) when there is one; for a primary read, else anyone's signed
    primary read there (locked: one primary read per timepoint); else a new unsaved draft.

    InputError when the timepoint is unknown, or when a follow-up is opened before the
    baseline read is signed (the tracked lesions come from it).
    """
    tp = ws.find_timepoint(subject, label)
    if tp is None:
        raise InputError(f"{ws.path}: subject {subject} has no timepoint {label!r}")
    base = baseline_label(ws, subject)
    days = timepoint_days(ws, actor, subject, label)
    earlier = earlier_timepoints(ws, subject, label, days, purpose, actor.user)
    is_baseline = label == base
    tracked: list[LesionBaseline] = []
    if not is_baseline:
        first = next((e for e in earlier if e.label == base), None)
        if first is None:
            raise InputError(f"subject {subject}: sign the {base} read before reading {label} "
                             "(the tracked lesions are defined there)")
        tracked = [les for les in first.observation.lesions if isinstance(les, LesionBaseline)]
    modalities = tuple(sorted({s.modality for s in ws.list_series(subject, tp.id)
                               if s.modality in ("CT", "MR")})) or ("CT", "MR")
    guided = GuidedRead(subject, label, is_baseline, protocol=workspace_protocol(ws), days=days,
                        modality=modalities[0] if len(modalities) == 1 else None,
                        modalities=modalities, earlier=earlier,
                        tracked=tracked,
                        reader=actor.user, store=WorkspaceReadStore(ws, actor, tp.id, purpose))
    mine = ws.list_reads(subject, tp.id, purpose=purpose, reader=actor.user, current_only=True)
    if not mine and purpose == "primary":  # a signed primary read locks the timepoint
        mine = ws.list_reads(subject, tp.id, purpose=purpose, status="signed",
                             current_only=True)
    if mine:
        _load(ws, guided, mine[-1])
    return guided


def _load(ws: WorkspaceRepository, guided: GuidedRead, read: ReadRecord) -> None:
    guided.read_id, guided.supersedes, guided.reader = read.id, read.supersedes, read.reader
    guided.restore(read.observations, _measurements(ws.list_measurements(read.id)))
    if read.protocol:
        guided.protocol = ProtocolSettings.from_dict(
            {k: v for k, v in read.protocol.items() if k in _SETTINGS})
        guided.recompute()
    if read.status == "signed":
        guided.status, guided.signed_at = "signed", read.signed_at or ""


@dataclass
class WorkspaceReadStore:
    """Keeps a guided read in the workspace (one transaction per save or sign)."""

    ws: WorkspaceRepository
    actor: Actor
    timepoint_id: int
    purpose: str = "primary"

    def _prepare(self, read: GuidedRead) -> int:
        if read.is_baseline:
            sync_lesions(self.ws, self.actor, read.subject, read.tracked,
                         f"baseline read of {read.label}")
        if read.read_id is None:
            created = self.ws.create_read(self.actor, read.subject, self.timepoint_id,
                                          purpose=self.purpose, protocol=read.protocol.to_dict(),
                                          criteria_version=CRITERIA_VERSION)
            read.read_id = created.id
        return read.read_id

    def save(self, read: GuidedRead) -> None:
        with self.ws.transaction():
            read_id = self._prepare(read)
            self.ws.save_draft(self.actor, read_id, observations=read.observations(),
                               measurements=stored_measurements(read))

    def sign(self, read: GuidedRead) -> SignInfo:
        result = read.result
        assert result is not None  # GuidedRead.sign checked it
        override = read.override
        with self.ws.transaction():
            read_id = self._prepare(read)
            signed = self.ws.sign_read(
                self.actor, read_id, category=result.computed_category,
                final_category=result.final_category, rule=result.computed_rule,
                override_category=override.category if override else None,
                override_reason=override.reason if override else None,
                observations=read.observations(), measurements=stored_measurements(read))
            self.ws.add_assessment(self.actor, read.subject, self.timepoint_id, read_id=read_id,
                                   category=result.category, final_category=result.final_category,
                                   rule=result.rule, criteria_version=CRITERIA_VERSION,
                                   details={**result.to_dict(),
                                            "protocol": read.protocol.to_dict()})
            self._reassess_earlier(read, read_id)
        return SignInfo(signed.reader, signed.signed_at or "", signed.id)

    def _reassess_earlier(self, read: GuidedRead, read_id: int) -> None:
        """Earlier timepoints whose final category this sign-off changes (a PDu confirmed or
        resolved, an equivocal lesion back-dated, carry-forward) get a new assessment; their
        signed reads stay as they are."""
        latest = latest_assessments(self.ws, read.subject)
        for earlier in read.earlier:
            result = next((r for r in read.results if r.label == earlier.label), None)
            if result is None or earlier.read_id is None or earlier.timepoint_id is None:
                continue
            known = latest.get(earlier.read_id)
            before = known.final_category if known is not None else earlier.final_category
            if result.final_category != before:
                self.ws.add_assessment(
                    self.actor, read.subject, earlier.timepoint_id, read_id=earlier.read_id,
                    category=result.category, final_category=result.final_category,
                    rule=result.rule, criteria_version=CRITERIA_VERSION,
                    details={**result.to_dict(), "protocol": read.protocol.to_dict(),
                             "recomputed_after": {"label": read.label, "read_id": read_id}})


def latest_assessments(ws: WorkspaceRepository, subject: str | None = None
                       ) -> dict[int, AssessmentRecord]:
    """Read id → its most recent assessment (the current final category of a signed read)."""
    out: dict[int, AssessmentRecord] = {}
    for assessment in ws.list_assessments(subject):
        if assessment.read_id is not None:
            out[assessment.read_id] = assessment  # by id: the latest wins
    return out


def stored_measurements(read: GuidedRead) -> list[NewMeasurement]:
    """The read's measurements as the workspace stores them (LPS mm endpoints); none for a
    lesion answered not evaluable, or when the scan is not available (they do not count)."""
    def counts(lesion_id: str) -> bool:
        answers = read.answers.get(lesion_id)
        return read.is_baseline or (read.scan_available and (
            answers is None or answers.evaluable is not False))

    return [NewMeasurement(m.lesion_id, m.long_mm, m.perp_mm,
                           [list(p) for p in m.endpoints_lps], m.series_uid, m.method)
            for m in read.measurements.values() if counts(m.lesion_id)]


def sync_lesions(ws: WorkspaceRepository, actor: Actor, subject: str,
                 lesions: list[LesionBaseline], reason: str) -> None:
    """Create or update the subject's lesions table from its baseline lesions."""
    known = {les.lesion_id: les for les in ws.list_lesions(subject)}
    for les in lesions:
        old = known.get(les.id)
        if old is None:
            ws.add_lesion(actor, subject, les.id, level=les.level, phenotype=les.phenotype,
                          well_defined=les.well_defined, treated_index=les.treated_index)
            continue
        wanted: dict[str, Any] = {"level": les.level, "phenotype": les.phenotype,
                                  "well_defined": les.well_defined,
                                  "treated_index": les.treated_index}
        changes = {k: v for k, v in wanted.items() if getattr(old, k) != v}
        if changes:
            ws.update_lesion(actor, subject, les.id, reason, **changes)


def correct(ws: WorkspaceRepository, actor: Actor, read: GuidedRead, reason: str) -> GuidedRead:
    """A correction of a signed guided read: a new draft that supersedes it, with a reason."""
    if read.read_id is None or not read.locked:
        raise InputError(f"subject {read.subject}, timepoint {read.label}: only a signed read "
                         "is corrected (edit the draft instead)")
    if not reason.strip():
        raise InputError(f"subject {read.subject}, timepoint {read.label}: a correction needs "
                         "a reason")
    new = ws.correct_read(actor, read.read_id, reason.strip())
    return open_guided_read(ws, actor, read.subject, read.label, new.purpose)


def signed_measurements(ws: WorkspaceRepository, subject: str, label: str,
                        reader: str | None = None, purpose: str = "primary",
                        ) -> list[Measurement]:
    """The measurements of the latest current signed read of ``subject`` at ``label`` for
    ``purpose``: the reader's own when there is one, else (a primary read only) another
    reader's signed primary read; a re-read sees no one else's (mdaread.workflow.blinding).
    Empty when none is signed."""
    reads = [r for r in ws.list_reads(subject, status="signed", purpose=purpose,
                                      current_only=True) if r.timepoint_label == label]
    mine = [r for r in reads if r.reader == reader]
    others = reads if purpose == "primary" else []
    chosen = (mine or others)[-1:]
    return _measurements(ws.list_measurements(chosen[0].id)) if chosen else []
