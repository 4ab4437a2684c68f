"""The DICOM part of an export (``--format sr``): one SR per exported signed read.

Qt-free. The source series are re-read header-only through ``mdaread.io.references`` (UIDs,
dates and geometry; nothing else of their headers reaches an export). De-identification and the
trial identity come from the workspace's protocol settings:

- ``dicom_dates``: ``shift`` (default) or ``keep`` — see ``mdaread.export.dicom_common``;
- ``trial_id``: the trial's identity in every UID an export creates (default: the hash of the
  workspace's first audit row, i.e. its creation); set it once, before the first export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mdaread.export import LesionRow, TimepointRow
from mdaread.export.deid import Identity, check_dicom_settings, shift_for
from mdaread.model.jobs import Cancel, Progress, check_cancel
from mdaread.model.references import Point, SeriesReference
from mdaread.model.vocabulary import timepoint_rank
from mdaread.storage import ReadRecord, WorkspaceRepository
from mdaread.workflow.export_collect import ExportData
from mdaread.workflow.reads_service import baseline_label

if TYPE_CHECKING:
    from mdaread.export.sr import SrRead

@dataclass
class DicomContext:
    """What every DICOM object of one export shares, and the series read so far."""

    trial: str
    dates: str
    series: dict[int, SeriesReference] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def dicom_context(ws: WorkspaceRepository) -> DicomContext:
    """The trial identity and date policy of ``ws`` (InputError for bad settings)."""
    protocol = ws.get_protocol()
    check_dicom_settings(protocol, f"{ws.path}")
    trial = str(protocol.get("trial_id") or "").strip()
    if not trial:
        rows = ws.audit_rows()
        trial = rows[0].hash if rows else str(ws.path.resolve())
    return DicomContext(trial=trial, dates=str(protocol.get("dicom_dates", "shift")))


def identity(ctx: DicomContext, data: ExportData, subject: str,
             series: list[SeriesReference]) -> Identity:
    """The de-identified identity of ``subject``'s DICOM objects."""
    record = data.subjects.get(subject)
    treatment = record.treatment_date if record is not None else None
    shift = shift_for(ctx.dates, treatment, [s.study_date for s in series])
    return Identity(trial=ctx.trial, subject=subject, shift_days=shift, dates=ctx.dates)


def timepoint_series(ws: WorkspaceRepository, ctx: DicomContext, subject: str,
                     timepoint_id: int) -> list[SeriesReference]:
    """The source series of one timepoint, read once per export (sorted by series UID)."""
    out = []
    for record in sorted(ws.list_series(subject, timepoint_id), key=lambda s: s.series_uid):
        if record.id not in ctx.series:
            from mdaread.io.references import read_series_reference

            paths = [Path(f.path) for f in ws.series_files(record.id)]
            ctx.series[record.id] = read_series_reference(paths, record.series_uid)
        out.append(ctx.series[record.id])
    return out


def write_sr(ws: WorkspaceRepository, data: ExportData, ctx: DicomContext, folder: Path,
             progress: Progress, cancel: Cancel) -> list[Path]:
    """One SR per exported read into ``folder``; a read without images is skipped (warning)."""
    from mdaread.export.dicom_common import write  # lazy: highdicom takes a second
    from mdaread.export.sr import build_sr, sr_file_name

    rows = {row.read_id: row for row in data.timepoints}
    lesions: dict[int, list[LesionRow]] = {}
    for lesion in data.lesions:
        lesions.setdefault(lesion.read_id, []).append(lesion)
    written = []
    folder.mkdir(parents=True, exist_ok=True)
    for n, read in enumerate(data.reads):
        check_cancel(cancel)
        progress(0.7 + 0.2 * n / max(1, len(data.reads)),
                 f"SR {read.subject} {read.timepoint_label}")
        series = timepoint_series(ws, ctx, read.subject, read.timepoint_id)
        if not series:
            ctx.warnings.append(f"{read.subject} {read.timepoint_label} (read {read.id}): "
                                "no series in the workspace, no SR written")
            continue
        sr_read = _sr_read(ws, read, rows[read.id], lesions.get(read.id, []), series)
        who = identity(ctx, data, read.subject,
                       _subject_series(ws, ctx, read.subject))
        path = folder / sr_file_name(sr_read)
        write(build_sr(sr_read, who), path)
        written.append(path)
    return written


def _subject_series(ws: WorkspaceRepository, ctx: DicomContext,
                    subject: str) -> list[SeriesReference]:
    """Every series of a subject (for the shift when the treatment date is unknown)."""
    return [s for tp in ws.list_timepoints(subject)
            for s in timepoint_series(ws, ctx, subject, tp.id)]


def _sr_read(ws: WorkspaceRepository, read: ReadRecord, row: TimepointRow,
             lesions: list[LesionRow], series: list[SeriesReference]) -> SrRead:
    from mdaread.export.sr import SrLesion, SrRead

    labels = sorted((t.label for t in ws.list_timepoints(read.subject)), key=timepoint_rank)
    ends = {m.lesion_id: m for m in ws.list_measurements(read.id)}
    obs = {d.get("id"): d for d in read.observations.get("lesions", [])}
    out = []
    for les in lesions:
        m = ends.get(les.lesion_id)
        points: tuple[Point, ...] = ()
        if m is not None and len(m.endpoints) == 4:
            points = tuple((float(p[0]), float(p[1]), float(p[2])) for p in m.endpoints)
        signs = tuple(sorted(str(s) for s in (obs.get(les.lesion_id) or {}).get("signs") or []))
        out.append(SrLesion(
            lesion_id=les.lesion_id, level=les.level, phenotype=les.phenotype,
            treated_index=les.treated_index, evaluable=les.evaluable, long_mm=les.long_mm,
            perp_mm=les.perp_mm, method=les.method, endpoints_lps=points,
            series_uid=les.series_uid or "", signs=signs))
    modality = row.modality if row.modality in ("CT", "MR") else series[0].modality
    return SrRead(
        subject=read.subject, timepoint=read.timepoint_label,
        order=labels.index(read.timepoint_label) + 1 if read.timepoint_label in labels else 1,
        is_baseline=read.timepoint_label == baseline_label(ws, read.subject),
        days=row.actual_day, read_id=read.id, purpose=read.purpose, reader=read.reader,
        signed_at=read.signed_at or read.updated_at, modality=modality,
        category=row.category, computed_category=row.computed_category,
        final_category=row.final_category, rule=row.rule, spd_mm2=row.spd_mm2,
        spd_change_pct=row.spd_change_pct, lesions=tuple(out), series=tuple(series))
