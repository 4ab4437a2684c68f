"""Import of the synthetic sample trial (sample_dicom/, skipped while it is absent): every series
lands on the timepoint its folder is named after, with no ambiguity and no PHI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mdaread.storage import Actor, create_workspace
from mdaread.workflow.ingest import ingest_path
from mdaread.workflow.workspace_service import load_randomisation

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom"
DM = Actor("dana", "data_manager")


def _sample() -> Path:
    if not (SAMPLE / "randomisation.csv").is_file():
        pytest.skip("sample trial not generated (sample_dicom/randomisation.csv absent)")
    return SAMPLE


def _import_and_check(folder: Path, source: Path, tmp_path: Path) -> int:
    with create_workspace(tmp_path / "W", DM) as ws:
        load_randomisation(ws, DM, _sample() / "randomisation.csv")
        report = ingest_path(ws, DM, source)
        assert report.ambiguous == [] and report.conflicts == []
        assert report.added
        labels = {t.id: t.label for t in ws.list_timepoints()}
        for series in ws.list_series():
            first = Path(ws.series_files(series.id)[0].path)
            subject_dir, series_dir = first.parent.parent.name, first.parent.name
            assert series.subject == subject_dir
            assert labels[series.timepoint_id] == series_dir.split("_")[0]
        again = ingest_path(ws, DM, source)
        assert again.added == [] and len(again.unchanged) == len(report.added)
        assert ws.verify_audit().ok
        return len(report.added)


def test_two_sample_subjects_import_onto_their_timepoints(tmp_path: Path) -> None:
    subjects = sorted(p for p in _sample().iterdir() if p.is_dir())[:2]
    if not subjects:
        pytest.skip("sample trial has no subject folders yet")
    part = tmp_path / "part"
    for s in subjects:
        shutil.copytree(s, part / s.name)
    assert _import_and_check(tmp_path, part, tmp_path) > 0


@pytest.mark.slow
def test_the_whole_sample_trial_imports(tmp_path: Path) -> None:
    assert _import_and_check(tmp_path, _sample(), tmp_path) > 0
