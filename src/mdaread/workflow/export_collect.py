"""The workspace read into export records (Qt-free): which reads leave it and with what.

Only current signed reads are exported (drafts and superseded reads never). One row per read in
the timepoint table; per lesion × read in the lesion table. The endpoint read of a subject ×
timepoint — the one that counts in the DCR — is its latest adjudication read, else its latest
primary read; rereads are exported but never counted. The final category is the latest
assessment's (recomputed when a later timepoint was signed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mdaread.errors import InputError
from mdaread.export import EndpointEntry, LesionRow, TimepointRow
from mdaread.model.vocabulary import days_since_treatment, timepoint_rank
from mdaread.storage import (
    Actor,
    AssessmentRecord,
    LesionRecord,
    MeasurementRecord,
    ReadRecord,
    SubjectRecord,
    TimepointRecord,
    WorkspaceRepository,
)
from mdaread.workflow.reads_service import baseline_label, latest_assessments

PURPOSE_ORDER = {"primary": 0, "reread": 1, "adjudication": 2}
DEFAULT_MEASURABLE_MIN_MM = 10.0


@dataclass
class ExportData:
    """Everything an export writes, in its final order (subject, timepoint, purpose, read)."""

    timepoints: list[TimepointRow] = field(default_factory=list)
    lesions: list[LesionRow] = field(default_factory=list)
    endpoint: list[EndpointEntry] = field(default_factory=list)
    reads: list[ReadRecord] = field(default_factory=list)
    subjects: dict[str, SubjectRecord] = field(default_factory=dict)

    @property
    def latest_signed_at(self) -> str | None:
        """The latest signing time of the exported reads (the content's own time)."""
        times = [r.signed_at for r in self.reads if r.signed_at]
        return max(times) if times else None


def choose_subjects(ws: WorkspaceRepository, actor: Actor,
                    wanted: list[str] | None) -> list[SubjectRecord]:
    """The workspace's subjects, or those named (InputError naming an unknown one)."""
    known = {s.trial_id: s for s in ws.list_subjects(actor)}
    if not wanted:
        return [known[k] for k in sorted(known)]
    missing = [w for w in wanted if w not in known]
    if missing:
        raise InputError(f"{ws.path}: no subject {missing[0]!r} in the workspace")
    return [known[k] for k in sorted(set(wanted))]


def collect(ws: WorkspaceRepository, actor: Actor, subjects: list[str] | None = None, *,
            unblinded: bool = False) -> ExportData:
    """The export records of ``subjects`` (all when None). ``unblinded`` (data manager only)
    fills the arm; otherwise no arm is read at all."""
    if unblinded and not actor.sees_arm:
        raise InputError(f"{actor.user} acts as {actor.role}: only the data manager exports "
                         "unblinded (--role data_manager)")
    data = ExportData()
    for subject in choose_subjects(ws, actor, subjects):
        data.subjects[subject.trial_id] = subject
        _collect_subject(ws, subject, unblinded, data)
    return data


def _order(read: ReadRecord, ranks: dict[int, tuple[int, str]]) -> tuple[Any, ...]:
    return (ranks.get(read.timepoint_id, (99, "")), PURPOSE_ORDER.get(read.purpose, 9), read.id)


def _collect_subject(ws: WorkspaceRepository, subject: SubjectRecord, unblinded: bool,
                     data: ExportData) -> None:
    sid = subject.trial_id
    timepoints = {t.id: t for t in ws.list_timepoints(sid)}
    ranks = {t.id: timepoint_rank(t.label) for t in timepoints.values()}
    reads = sorted(ws.list_reads(sid, status="signed", current_only=True),
                   key=lambda r: _order(r, ranks))
    latest = latest_assessments(ws, sid)
    lesions = sorted(ws.list_lesions(sid), key=lambda les: les.lesion_id)
    endpoint = _endpoint_reads(reads)
    base = baseline_label(ws, sid)
    baseline_obs = _baseline_lesions(reads, base)
    arm = subject.arm if unblinded else None
    for read in reads:
        tp = timepoints[read.timepoint_id]
        assessment = latest.get(read.id)
        counted = endpoint.get(read.timepoint_id) == read.id
        data.reads.append(read)
        data.timepoints.append(_timepoint_row(ws, subject, arm, tp, read, assessment, counted))
        measurements = {m.lesion_id: m for m in ws.list_measurements(read.id)}
        in_spd = set((assessment.details if assessment else {}).get("lesions_in_spd") or [])
        minimum = float(read.protocol.get("measurable_min_mm", DEFAULT_MEASURABLE_MIN_MM))
        is_base = read.timepoint_label == base
        for les in lesions:
            data.lesions.append(_lesion_row(read, les, measurements.get(les.lesion_id),
                                            baseline_obs.get(les.lesion_id), minimum,
                                            les.lesion_id in in_spd, is_base))
        if counted:
            final = assessment.final_category if assessment else read.final_category
            data.endpoint.append(EndpointEntry(sid, arm, tp.label, final))


def _endpoint_reads(reads: list[ReadRecord]) -> dict[int, int]:
    """Timepoint id → the id of its endpoint read (latest adjudication, else latest primary)."""
    chosen: dict[int, ReadRecord] = {}
    for read in reads:
        if read.purpose not in ("primary", "adjudication"):
            continue
        best = chosen.get(read.timepoint_id)
        if best is None or _priority(read) > _priority(best):
            chosen[read.timepoint_id] = read
    return {tp: r.id for tp, r in chosen.items()}


def _priority(read: ReadRecord) -> tuple[bool, int]:
    return (read.purpose == "adjudication", read.id)


def _baseline_lesions(reads: list[ReadRecord], base: str | None) -> dict[str, dict[str, Any]]:
    """Lesion id → its record in the baseline's endpoint-purpose read (primary first)."""
    for read in reads:
        if read.timepoint_label == base:
            return {d["id"]: d for d in read.observations.get("lesions", []) if "id" in d}
    return {}


def _joined(values: Any) -> str:
    return ";".join(str(v) for v in values or [])


def _timepoint_row(ws: WorkspaceRepository, subject: SubjectRecord, arm: str | None,
                   tp: TimepointRecord, read: ReadRecord, assessment: AssessmentRecord | None,
                   counted: bool) -> TimepointRow:
    obs = read.observations
    details = assessment.details if assessment else {}
    series = ws.list_series(subject.trial_id, tp.id)
    actual = days_since_treatment(tp.scan_date, subject.treatment_date)
    if actual is None and isinstance(obs.get("days"), int | float):
        actual = round(obs["days"])
    leakage = obs.get("cement_leakage")
    return TimepointRow(
        trial_id=subject.trial_id, centre=subject.centre, arm=arm, timepoint=tp.label,
        nominal_day=tp.nominal_day, actual_day=actual,
        modality=obs.get("modality") or _joined(sorted({s.modality for s in series})) or None,
        series_uids=_joined(sorted({s.series_uid for s in series})),
        reader=read.reader, purpose=read.purpose, read_id=read.id, signed_at=read.signed_at,
        in_endpoint=counted, spd_mm2=_number(details.get("spd_mm2")),
        spd_change_pct=_number(details.get("spd_change_pct")),
        computed_category=read.category, category=read.effective_category,
        final_category=assessment.final_category if assessment else read.final_category,
        rule=assessment.rule if assessment else read.rule,
        override_category=read.override_category, override_reason=read.override_reason,
        early=bool(details.get("early")) if read.category else None,
        warnings=_joined(details.get("warnings")),
        cement_levels=_joined(obs.get("cement_levels")),
        cement_leakage=leakage if isinstance(leakage, bool) else None)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _lesion_row(read: ReadRecord, lesion: LesionRecord, measurement: MeasurementRecord | None,
                baseline: dict[str, Any] | None, minimum: float, in_spd: bool,
                is_baseline: bool) -> LesionRow:
    records = {d.get("id"): d for d in read.observations.get("lesions", [])}
    obs = records.get(lesion.lesion_id) or {}
    long_mm, perp_mm, product = _diameters(measurement, obs)
    if is_baseline:
        evaluable, ne_reason = None, None
    else:  # a tracked lesion missing from a follow-up's list is not evaluable there
        evaluable = bool(obs.get("evaluable", True)) if obs else False
        ne_reason = obs.get("ne_reason")
    return LesionRow(
        trial_id=read.subject, timepoint=read.timepoint_label, reader=read.reader,
        purpose=read.purpose, read_id=read.id, lesion_id=lesion.lesion_id, level=lesion.level,
        phenotype=lesion.phenotype, treated_index=lesion.treated_index,
        well_defined=lesion.well_defined, measurable=_measurable(baseline, minimum),
        in_spd=in_spd, evaluable=evaluable, ne_reason=ne_reason, long_mm=long_mm,
        perp_mm=perp_mm, product_mm2=product,
        method=measurement.method if measurement else None,
        series_uid=(measurement.series_uid or None) if measurement else None,
        signs=_joined(obs.get("signs")), volume_ml=_number(obs.get("volume_ml")),
        fill_in_fraction=_number(obs.get("fill_in_fraction")),
        hu_change=_number(obs.get("hu_change")))


def _diameters(measurement: MeasurementRecord | None, obs: dict[str, Any]
               ) -> tuple[float | None, float | None, float | None]:
    """(long, perp, product): the stored measurement, else the recorded diameters; a split
    lesion has no single pair, only the sum of its parts' products."""
    if measurement is not None and measurement.long_mm is not None \
            and measurement.perp_mm is not None:
        return measurement.long_mm, measurement.perp_mm, measurement.long_mm * measurement.perp_mm
    parts = obs.get("parts") or []
    if parts:
        return None, None, float(sum(float(p["long_mm"]) * float(p["perp_mm"]) for p in parts))
    long_mm, perp_mm = _number(obs.get("long_mm")), _number(obs.get("perp_mm"))
    product = long_mm * perp_mm if long_mm is not None and perp_mm is not None else None
    return long_mm, perp_mm, product


def _measurable(baseline: dict[str, Any] | None, minimum: float) -> bool | None:
    """Well defined with both baseline diameters ≥ ``minimum``; None without a baseline read."""
    if baseline is None:
        return None
    long_mm, perp_mm = _number(baseline.get("long_mm")), _number(baseline.get("perp_mm"))
    return bool(baseline.get("well_defined", True)) and long_mm is not None \
        and perp_mm is not None and long_mm >= minimum and perp_mm >= minimum
