"""`mdaread export W --out DIR`: the trial's response tables, DCR summary and manifest.

Qt-free; the workstation's menu calls the same ``export_trial`` in a worker thread with its
progress bar and Cancel. Everything is written into a staging folder beside DIR and moved into
place at the end (``mdaread.export.staged``): a failure or a cancel leaves DIR as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdaread import __version__
from mdaread.errors import InputError
from mdaread.export import (
    AuditHead,
    dcr_table,
    lesion_table,
    parse_utc,
    staged,
    timepoint_table,
    write_csv,
    write_manifest,
    write_xlsx,
)
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.storage import Actor, WorkspaceRepository
from mdaread.workflow.export_collect import ExportData, collect
from mdaread.workflow.export_dicom import dicom_context, write_sr

FORMATS: tuple[str, ...] = ("csv", "xlsx", "plots", "sr")
"""The formats this version writes, in the order they are written."""
PLANNED = ("seg", "nifti", "pdf")
"""Formats named by the export's specification that this version does not write yet."""
XLSX_NAME = "response.xlsx"


@dataclass
class ExportReport:
    """What an export wrote: each file (relative path) with its size in bytes, and timing."""

    out: Path
    files: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0
    n_reads: int = 0
    audit_head: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "n_reads": self.n_reads, "audit_head": self.audit_head,
                "seconds": round(self.seconds, 3),
                "files": [{"path": p, "size": s} for p, s in self.files],
                "warnings": list(self.warnings)}


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``csv,xlsx`` → the formats in writing order; None/empty → all; InputError otherwise."""
    if not text:
        return FORMATS
    wanted = [w.strip().lower() for w in text.split(",") if w.strip()]
    for name in wanted:
        if name in PLANNED:
            raise InputError(f"--format {name}: not written by this version yet "
                             f"(available: {', '.join(FORMATS)})")
        if name not in FORMATS:
            raise InputError(f"--format {name}: unknown (available: {', '.join(FORMATS)})")
    return tuple(f for f in FORMATS if f in wanted)


def export_trial(ws: WorkspaceRepository, actor: Actor, out: str | Path, *,
                 formats: tuple[str, ...] = FORMATS, subjects: list[str] | None = None,
                 unblinded: bool = False, progress: Progress = no_progress,
                 cancel: Cancel = never_cancel) -> ExportReport:
    """Write the export of ``subjects`` (all when None) into the folder ``out``."""
    started = time.perf_counter()
    target = Path(out)
    progress(0.0, "reading the workspace")
    data = collect(ws, actor, subjects, unblinded=unblinded)
    dicom = dicom_context(ws) if "sr" in formats else None
    audit = ws.verify_audit()
    report = ExportReport(target, n_reads=len(data.reads), audit_head=audit.head)
    with staged(target) as stage:
        _write_tables(stage, data, formats, unblinded, progress, cancel)
        if dicom is not None:
            write_sr(ws, data, dicom, stage / "sr", progress, cancel)
            report.warnings.extend(dicom.warnings)
        check_cancel(cancel)
        options = {"formats": list(formats), "unblinded": unblinded,
                   "subjects": sorted(data.subjects)}
        manifest = write_manifest(stage, audit=AuditHead(audit.n_rows, audit.head, audit.ok),
                                  options=options, version=__version__)
        report.files = [(f["path"], f["size"]) for f in manifest["files"]]
        report.files.append(("manifest.json", (stage / "manifest.json").stat().st_size))
    report.seconds = time.perf_counter() - started
    progress(1.0, f"exported {len(report.files)} files")
    return report


def _write_tables(stage: Path, data: ExportData, formats: tuple[str, ...], unblinded: bool,
                  progress: Progress, cancel: Cancel) -> None:
    tables = [timepoint_table(data.timepoints, unblinded), lesion_table(data.lesions),
              dcr_table(data.endpoint, unblinded)]
    if "csv" in formats:
        for table in tables:
            check_cancel(cancel)
            progress(0.2, f"writing {table.name}.csv")
            write_csv(table, stage / f"{table.name}.csv")
    if "xlsx" in formats:
        check_cancel(cancel)
        progress(0.5, f"writing {XLSX_NAME}")
        stamp = parse_utc(data.latest_signed_at) if data.latest_signed_at else None
        write_xlsx(tables, stage / XLSX_NAME, stamp)
    if "plots" in formats:
        check_cancel(cancel)
        progress(0.6, "drawing the plots")
        from mdaread.export.plots import write_plots  # lazy: matplotlib takes a second

        write_plots(stage / "plots", data.timepoints, tables[2], unblinded)
