"""`mdaread demo`: a fresh workspace built from the sample trial through the ordinary use cases
(create → randomisation list → import), so the demo exercises the same path as a real trial."""

from __future__ import annotations

from pathlib import Path

from mdaread.errors import InputError
from mdaread.model.jobs import Cancel, Progress, never_cancel, no_progress
from mdaread.storage import Actor, create_workspace
from mdaread.workflow.ingest import IngestReport, ingest_path
from mdaread.workflow.workspace_service import load_randomisation

DEMO_DATA_MANAGER = Actor("demo data manager", "data_manager")


def default_sample_dir() -> Path:
    """The repository's ``sample_dicom/`` (next to ``src/``)."""
    return Path(__file__).resolve().parents[3] / "sample_dicom"


def build_demo_workspace(folder: str | Path, sample: str | Path, *,
                         progress: Progress = no_progress,
                         cancel: Cancel = never_cancel) -> IngestReport:
    """Create a workspace in ``folder`` and import the sample trial at ``sample`` into it.

    Raises InputError when ``sample`` holds no sample trial (no ``randomisation.csv``).
    """
    sample_dir = Path(sample)
    randomisation = sample_dir / "randomisation.csv"
    if not randomisation.is_file():
        raise InputError(f"{sample_dir}: no sample trial here (randomisation.csv missing); "
                         "write one with `mdaread sample DIR` and pass --sample DIR")
    ws = create_workspace(folder, DEMO_DATA_MANAGER)
    try:
        load_randomisation(ws, DEMO_DATA_MANAGER, randomisation)
        report = ingest_path(ws, DEMO_DATA_MANAGER, sample_dir, progress=progress, cancel=cancel)
    finally:
        ws.close()
    if not report.added and not report.unchanged:
        raise InputError(f"{sample_dir}: the sample trial holds no importable series")
    return report
