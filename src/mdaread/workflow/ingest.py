"""Import scans into a trial workspace: attach each series to a subject and a timepoint.

Subject: the PatientID, or its trial ID from an ID mapping file (``patient_id,trial_id``); with
a mapping file, a PatientID missing from it is listed, never imported under the PatientID.
Timepoint: from an explicit mapping CSV (``timepoint`` plus ``series_uid`` and/or ``study_uid``,
optional ``subject``), else from the study date's day since the subject's treatment date through
the windows of docs/contracts.md. Whatever cannot be placed with certainty is listed as ambiguous
with the reason, never guessed. Each series is attached in one transaction (subject, timepoint,
series and file hashes together), so an interrupted import leaves whole series or none.
Re-importing is idempotent: same content → unchanged; same content at new paths → relinked;
different content under a known series UID → listed as a conflict, nothing changed.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from mdaread.errors import InputError
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.model.scan import ScanResult, SeriesCandidate
from mdaread.model.vocabulary import (
    NOMINAL_DAYS,
    days_since_treatment,
    label_for_days,
    parse_study_date,
)
from mdaread.storage import (
    Actor,
    NewSeries,
    RecordNotFound,
    SeriesFileRecord,
    SeriesRecord,
    WorkspaceRepository,
    file_records,
)
from mdaread.storage.files import combined_hash

# --- input files ---------------------------------------------------------------------------


def _csv_rows(path: str | Path, required: set[str], any_of: set[str] | None = None
              ) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV with a header (line numbers included); InputError names file and problem."""
    source = Path(path)
    try:
        with open(source, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = {h.strip() for h in (reader.fieldnames or [])}
            missing = required - header
            if missing:
                hint = " (separated by ';'? use commas)" if ";" in "".join(header) else ""
                raise InputError(f"{source}: missing column(s) "
                                 f"{', '.join(sorted(missing))}{hint}")
            if any_of and not any_of & header:
                raise InputError(f"{source}: needs a column {' or '.join(sorted(any_of))}")
            return [(n + 2, _csv_row(source, reader.line_num, row))
                    for n, row in enumerate(reader)]
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror})") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{source}: not a readable CSV file ({exc})") from exc


def _csv_row(source: Path, line: int, row: dict[str | None, Any]) -> dict[str, str]:
    """One stripped row; csv puts the fields beyond the header under the key None."""
    if None in row:
        raise InputError(f"{source}: line {line}: more fields than the header has "
                         "(an unquoted comma inside a value?)")
    return {(k or "").strip(): (v or "").strip() for k, v in row.items()}


def read_id_map(path: str | Path) -> dict[str, str]:
    """``patient_id,trial_id`` CSV → {PatientID: trial ID}; conflicting duplicates refused."""
    ids: dict[str, str] = {}
    for line, row in _csv_rows(path, {"patient_id", "trial_id"}):
        pid, trial = row["patient_id"], row["trial_id"]
        if not pid or not trial:
            raise InputError(f"{path}: line {line}: empty patient_id or trial_id")
        if ids.get(pid, trial) != trial:
            raise InputError(f"{path}: line {line}: PatientID {pid!r} mapped twice "
                             f"({ids[pid]!r} and {trial!r})")
        ids[pid] = trial
    return ids


@dataclass(frozen=True)
class MappingRow:
    """One row of a timepoint mapping CSV: a series or study UID → a timepoint label."""

    timepoint: str
    series_uid: str = ""
    study_uid: str = ""
    subject: str = ""


def read_timepoint_map(path: str | Path) -> list[MappingRow]:
    """Timepoint mapping CSV: ``timepoint`` plus ``series_uid`` and/or ``study_uid``,
    optional ``subject`` (the trial ID the row is meant for)."""
    rows = []
    for line, row in _csv_rows(path, {"timepoint"}, {"series_uid", "study_uid"}):
        item = MappingRow(row["timepoint"], row.get("series_uid", ""), row.get("study_uid", ""),
                          row.get("subject", ""))
        if not item.timepoint or not (item.series_uid or item.study_uid):
            raise InputError(f"{path}: line {line}: needs a timepoint and a series_uid or "
                             "study_uid")
        _check_label(path, line, item.timepoint)
        rows.append(item)
    return rows


def _check_label(path: str | Path, line: int, label: str) -> None:
    """Other labels are allowed (unscheduled visits), but 'Baseline' or '1M' would silently
    open a second timepoint beside 'baseline' / '1m': refuse a near miss of a standard label."""
    wanted = label.replace(" ", "").lower()
    for standard in NOMINAL_DAYS:
        if label != standard and wanted in (standard, standard.replace("m", "mo")):
            raise InputError(f"{path}: line {line}: timepoint {label!r} — did you mean "
                             f"{standard!r}? (labels are case-sensitive)")


# --- planning ------------------------------------------------------------------------------


@dataclass
class Placement:
    """Where a series goes: subject, timepoint label, scan date, day since treatment."""

    candidate: SeriesCandidate
    subject: str
    label: str
    scan_date: str | None
    days: int | None
    source: str  # "mapping" | "window" | "known" (already in the workspace)


@dataclass(frozen=True)
class SeriesOutcome:
    """One line of the import report."""

    series_uid: str
    key: str
    modality: str
    n_files: int
    subject: str = ""
    timepoint: str = ""
    series_id: int | None = None
    reason: str = ""
    first_file: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"series_uid": self.series_uid, "key": self.key, "modality": self.modality,
                "n_files": self.n_files, "subject": self.subject, "timepoint": self.timepoint,
                "series_id": self.series_id, "reason": self.reason,
                "first_file": self.first_file}


@dataclass
class IngestReport:
    """What an import did; ``needs_attention`` when something was listed, not imported."""

    added: list[SeriesOutcome] = field(default_factory=list)
    unchanged: list[SeriesOutcome] = field(default_factory=list)
    relinked: list[SeriesOutcome] = field(default_factory=list)
    conflicts: list[SeriesOutcome] = field(default_factory=list)
    ambiguous: list[SeriesOutcome] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    # mapping rows whose UID matched nothing scanned: a typo, or rows for another folder (a
    # trial-wide mapping file is fine, so these are reported, not an error)
    unmatched_mapping: list[MappingRow] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(self.conflicts or self.ambiguous)

    def to_json(self) -> dict[str, Any]:
        groups = ("added", "unchanged", "relinked", "conflicts", "ambiguous")
        payload: dict[str, Any] = {g: [o.to_json() for o in getattr(self, g)] for g in groups}
        payload["skipped"] = list(self.skipped)
        payload["unmatched_mapping"] = [
            {"timepoint": m.timepoint, "series_uid": m.series_uid, "study_uid": m.study_uid,
             "subject": m.subject} for m in self.unmatched_mapping]
        return payload


def _outcome(c: SeriesCandidate, reason: str = "", subject: str = "", timepoint: str = "",
             series_id: int | None = None) -> SeriesOutcome:
    return SeriesOutcome(c.series_uid, c.key, c.modality, c.n_files, subject, timepoint,
                         series_id, reason, str(c.files[0]) if c.files else "")


class _Planner:
    """Decides each candidate's placement; collects the ones it will not guess."""

    def __init__(self, ws: WorkspaceRepository, actor: Actor, ids: dict[str, str] | None,
                 mapping: list[MappingRow] | None) -> None:
        self.ws, self.actor, self.ids, self.mapping = ws, actor, ids, mapping or []
        self.ambiguous: list[SeriesOutcome] = []

    def subject_for(self, c: SeriesCandidate) -> str | None:
        if not c.patient_id:
            self.ambiguous.append(_outcome(c, "no PatientID"))
            return None
        if self.ids is None:
            return c.patient_id
        if c.patient_id not in self.ids:
            self.ambiguous.append(_outcome(c, "PatientID not in the ID mapping file"))
            return None
        return self.ids[c.patient_id]

    def _mapped(self, c: SeriesCandidate) -> MappingRow | None:
        by_series = [m for m in self.mapping if m.series_uid and m.series_uid == c.series_uid]
        by_study = [m for m in self.mapping if not m.series_uid and m.study_uid
                    and m.study_uid == c.study_uid]
        found = by_series or by_study
        return found[0] if found else None

    def place(self, c: SeriesCandidate) -> Placement | None:
        subject = self.subject_for(c)
        if subject is None:
            return None
        study = parse_study_date(c.study_date)
        scan_date = study.isoformat() if study else None
        treatment = self._treatment_date(subject)
        days = days_since_treatment(study, treatment)
        row = self._mapped(c)
        known = self.ws.find_series(c.series_uid, c.key)
        if known and row is None:  # a re-import keeps a series where it was put
            kept = self.ws.get_timepoint(known[0].timepoint_id).label
            return Placement(c, known[0].subject, kept, scan_date, days, "known")
        if row is not None:
            if row.subject and row.subject != subject:
                self.ambiguous.append(_outcome(c, f"mapping row is for subject {row.subject}, "
                                                  f"the series belongs to {subject}", subject))
                return None
            return Placement(c, subject, row.timepoint, scan_date, days, "mapping")
        reason = self._why_no_window(study, treatment, subject)
        label = label_for_days(days) if days is not None else None
        if reason is None and label is None:
            reason = f"day {days} since treatment is outside every timepoint window"
        if reason is not None or label is None:
            self.ambiguous.append(_outcome(c, reason or "no timepoint", subject))
            return None
        return Placement(c, subject, label, scan_date, days, "window")

    def _treatment_date(self, subject: str) -> date | None:
        try:
            record = self.ws.get_subject(self.actor, subject)
        except RecordNotFound:
            return None
        return parse_study_date(record.treatment_date or "")

    @staticmethod
    def _why_no_window(study: date | None, treatment: date | None, subject: str) -> str | None:
        if treatment is None:
            return (f"no treatment date for subject {subject} (load the randomisation list "
                    "first, or give a timepoint mapping)")
        if study is None:
            return "no valid StudyDate"
        return None

    def drop_clashes(self, placements: list[Placement]) -> list[Placement]:
        """Two scan dates in one window: which one is the visit? List them all, guess none."""
        groups: dict[tuple[str, str], list[Placement]] = defaultdict(list)
        for p in placements:
            groups[(p.subject, p.label)].append(p)
        kept: list[Placement] = []
        for (subject, label), members in groups.items():
            dates = {p.scan_date for p in members if p.source == "window"}
            existing = self.ws.find_timepoint(subject, label)
            if existing is not None and existing.scan_date and dates:
                dates.add(existing.scan_date)
            if len(dates) <= 1:
                kept.extend(members)
                continue
            reason = (f"{len(dates)} scan dates ({', '.join(sorted(d or '?' for d in dates))}) "
                      f"fall in timepoint {label}")
            for p in members:
                if p.source in ("mapping", "known"):
                    kept.append(p)
                else:
                    self.ambiguous.append(_outcome(p.candidate, reason, subject, label))
        return kept


def plan_import(ws: WorkspaceRepository, actor: Actor, scan: ScanResult, *,
                ids: dict[str, str] | None = None, mapping: list[MappingRow] | None = None,
                ) -> tuple[list[Placement], list[SeriesOutcome]]:
    """Placements for the candidates that can be placed with certainty, and the rest listed."""
    planner = _Planner(ws, actor, ids, mapping)
    placed = [p for p in (planner.place(c) for c in scan.series) if p is not None]
    return planner.drop_clashes(placed), planner.ambiguous


# --- applying ------------------------------------------------------------------------------


def _attach(ws: WorkspaceRepository, actor: Actor, p: Placement, report: IngestReport) -> None:
    c = p.candidate
    unstorable = next((f for f in c.files if not _storable(str(f))), None)
    if unstorable is not None:  # SQLite text is UTF-8: such a path could not be saved
        report.conflicts.append(_outcome(c, f"file name is not valid UTF-8: {str(unstorable)!r}; "
                                            "rename it and import again", p.subject, p.label))
        return
    try:
        files = file_records(c.files)
    except OSError as exc:  # a file removed or unreadable since the scan
        report.conflicts.append(_outcome(c, f"cannot read {exc.filename}: {exc.strerror}",
                                         p.subject, p.label))
        return
    digest = combined_hash(f.sha256 for f in files)
    # Decided under the write lock: another import may have attached the series since the plan.
    with ws.transaction():
        outcome = _attach_known(ws, actor, p, files, digest)
        if outcome is None:
            stored = _add_series(ws, actor, p, files, digest)
            outcome = ("added", _outcome(c, "", p.subject, p.label, stored.id))
    kind, entry = outcome
    if kind != "conflicts":
        _cache_headers(c, digest)
    lists = {"added": report.added, "unchanged": report.unchanged,
             "relinked": report.relinked, "conflicts": report.conflicts}
    lists[kind].append(entry)


def _attach_known(ws: WorkspaceRepository, actor: Actor, p: Placement,
                  files: tuple[SeriesFileRecord, ...], digest: str,
                  ) -> tuple[str, SeriesOutcome] | None:
    """(report list, entry) for a series the workspace already holds, None for a new one."""
    c = p.candidate
    known = ws.find_series(c.series_uid, c.key)
    if not known:
        return None
    old = known[0]
    old_label = ws.get_timepoint(old.timepoint_id).label
    if (old.subject, old_label) != (p.subject, p.label):
        return "conflicts", _outcome(c, f"series already attached to {old.subject} {old_label} "
                                        f"(id {old.id}); not moved", p.subject, p.label, old.id)
    if old.content_hash != digest:
        return "conflicts", _outcome(c, f"series already imported (id {old.id}) with different "
                                        "content; not changed", old.subject, p.label, old.id)
    if [f.path for f in ws.series_files(old.id)] != [f.path for f in files]:
        ws.relink_series_files(actor, old.id, files, "re-import found the files moved")
        return "relinked", _outcome(c, "", old.subject, p.label, old.id)
    return "unchanged", _outcome(c, "", old.subject, p.label, old.id)


def _add_series(ws: WorkspaceRepository, actor: Actor, p: Placement,
                files: tuple[SeriesFileRecord, ...], digest: str) -> SeriesRecord:
    c = p.candidate
    ws.ensure_subject(actor, p.subject)
    tp = ws.ensure_timepoint(actor, p.subject, p.label,
                             nominal_day=NOMINAL_DAYS.get(p.label), scan_date=p.scan_date)
    return ws.add_series(actor, NewSeries(
        subject=p.subject, timepoint_id=tp.id, series_uid=c.series_uid, key=c.key,
        study_uid=c.study_uid, frame_of_reference_uid=c.frame_of_reference_uid,
        modality=c.modality, description=c.description, study_date=p.scan_date or "",
        shape=c.shape, spacing=c.spacing, origin=c.origin, direction=c.direction,
        files=files, content_hash=digest))


def _cache_headers(c: SeriesCandidate, digest: str) -> None:
    """The scan's headers into the header cache, so that the first open reads no header."""
    from mdaread.io import header_cache
    from mdaread.io.geometry import GeometryPlan

    plan = c.extra.get("plan")
    if isinstance(plan, GeometryPlan):
        header_cache.save(header_cache.header_key(digest, c.key), c.files, plan.frames)


def _storable(text: str) -> bool:
    """Whether ``text`` (a path as Python decoded it) can be stored as UTF-8 text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unmatched(mapping: list[MappingRow], scan: ScanResult) -> list[MappingRow]:
    """Mapping rows whose series UID (or, without one, study UID) no scanned series has."""
    series = {c.series_uid for c in scan.series}
    studies = {c.study_uid for c in scan.series}
    return [m for m in mapping
            if (m.series_uid not in series if m.series_uid else m.study_uid not in studies)]


def ingest_scan(ws: WorkspaceRepository, actor: Actor, scan: ScanResult, *,
                ids: dict[str, str] | None = None, mapping: list[MappingRow] | None = None,
                progress: Progress = no_progress, cancel: Cancel = never_cancel) -> IngestReport:
    """Attach the series of an existing scan result (one transaction per series)."""
    placements, ambiguous = plan_import(ws, actor, scan, ids=ids, mapping=mapping)
    report = IngestReport(ambiguous=ambiguous, skipped=[s.to_json() for s in scan.skipped],
                          unmatched_mapping=_unmatched(mapping or [], scan))
    for n, p in enumerate(placements):
        check_cancel(cancel)
        progress(n / max(len(placements), 1), f"hashing and attaching {p.candidate.series_uid}")
        _attach(ws, actor, p, report)
    progress(1.0, f"{len(report.added)} series added")
    return report


def ingest_path(ws: WorkspaceRepository, actor: Actor, path: str | Path, *,
                ids: dict[str, str] | None = None, mapping: list[MappingRow] | None = None,
                progress: Progress = no_progress, cancel: Cancel = never_cancel,
                scan: Callable[..., ScanResult] | None = None) -> IngestReport:
    """Scan ``path`` (folder, file or DICOMDIR) with mdaread.io and attach what it finds.

    Progress: scanning is the first half, hashing and attaching the second.
    """
    scanner = scan
    if scanner is None:
        from mdaread.io import scan_path  # lazy: pydicom only when importing

        scanner = scan_path
    result = scanner(path, progress=lambda f, m: progress(0.5 * f, m), cancel=cancel)
    return ingest_scan(ws, actor, result, ids=ids, mapping=mapping,
                       progress=lambda f, m: progress(0.5 + 0.5 * f, m), cancel=cancel)
