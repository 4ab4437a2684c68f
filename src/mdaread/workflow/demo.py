"""`mdaread demo`: a fresh workspace built from the sample trial through the ordinary use cases
(create → randomisation list → import), so the demo exercises the same path as a real trial."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from mdaread.errors import InputError
from mdaread.model.jobs import Cancel, Progress, never_cancel, no_progress
from mdaread.storage import Actor, create_workspace
from mdaread.workflow.ingest import IngestReport, ingest_path
from mdaread.workflow.worklist import Landmark
from mdaread.workflow.workspace_service import load_randomisation

DEMO_DATA_MANAGER = Actor("demo data manager", "data_manager")


DEMO_SUBJECTS = 4
"""Subjects written when the demo has to generate the sample trial (the first 4 cover every
outcome of the criteria)."""


def has_trial(folder: Path) -> bool:
    """True when ``folder`` holds a sample trial (its randomisation list at least)."""
    return (folder / "randomisation.csv").is_file()


def default_sample_dir() -> Path:
    """The repository's ``sample_dicom/`` (next to ``src/``)."""
    return Path(__file__).resolve().parents[3] / "sample_dicom"


def cached_sample_dir() -> Path:
    """Where the demo keeps a sample trial it generated: ``$XDG_CACHE_HOME/mdaread`` or
    ``~/.cache/mdaread`` — outside the repository, so the shipped ``sample_dicom/`` is never
    written to."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "mdaread" / f"sample-trial-{DEMO_SUBJECTS}"


def ensure_sample_trial(progress: Progress = no_progress,
                        cancel: Cancel = never_cancel) -> Path:
    """The repository's sample trial when present; otherwise a cached one, generated with
    mdaread.sample on the first run (about a minute)."""
    shipped = default_sample_dir()
    if has_trial(shipped):
        return shipped
    cached = cached_sample_dir()
    if has_trial(cached):
        return cached
    from mdaread.sample.trial import generate_trial  # lazy: the renderer is heavy

    partial = cached.with_name(cached.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    generate_trial(partial, DEMO_SUBJECTS, progress=progress, cancel=cancel)
    partial.rename(cached)  # only a complete trial is ever found in the cache
    return cached


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


def truth_landmarks(sample: str | Path) -> dict[tuple[str, str], list[Landmark]]:
    """Vertebral body centres per (subject, timepoint) from the sample trial's ``truth.json``
    (each timepoint's own LPS mm; treated levels flagged), so the demo's readout names the level
    under the cursor and each case opens on the treated vertebra. Empty when there is no truth."""
    path = Path(sample) / "truth.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[tuple[str, str], list[Landmark]] = {}
    try:
        for subject in data.get("subjects", []):
            treated = set(subject.get("treated_levels", []))
            for tp in subject.get("timepoints", []):
                centres = tp.get("vertebral_body_centres_lps") or {}
                out[(subject["subject"], tp["label"])] = [
                    Landmark(level, (float(c[0]), float(c[1]), float(c[2])), level in treated)
                    for level, c in centres.items()]
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise InputError(f"{path}: not a sample trial truth file ({type(exc).__name__}: "
                         f"{exc})") from None
    return out
