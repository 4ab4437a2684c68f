"""Import: subject and timepoint placement, ambiguity listed not guessed, idempotent re-import,
moved and altered files, no PHI stored. Small CT series are written with pydicom here."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from mdaread.errors import InputError
from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series
from mdaread.model import Volume
from mdaread.storage import Actor, SqliteWorkspace, create_workspace
from mdaread.workflow.ingest import (
    ingest_path,
    label_for_days,
    parse_study_date,
    read_id_map,
    read_timepoint_map,
)

DM = Actor("dana", "data_manager")


def write_series(folder: Path, patient_id: str, study_date: str, tag: str, n: int = 3,
                 fill: int = 0, name: str | None = None) -> list[Path]:
    """A tiny CT series (n slices of 6×5) with UIDs derived from ``tag``."""
    array = np.full((n, 5, 6), fill, dtype=np.int16)
    array[0, 0, 0] = n  # some content
    volume = Volume(array, np.diag([0.7, 0.7, 2.5, 1.0]))
    info = SeriesInfo(patient_id=patient_id, study_uid=derived_uid("study", tag),
                      series_uid=derived_uid("series", tag),
                      frame_of_reference_uid=derived_uid("for", tag), study_date=study_date,
                      study_time="101010", series_number=1, series_description=f"CT {tag}")
    paths = write_ct_series(volume, folder, info)
    if name is not None:  # a scanner that did write PHI: it must not reach the workspace
        for p in paths:
            ds = pydicom.dcmread(p)
            ds.PatientName = name
            ds.PatientBirthDate = "19510203"
            ds.save_as(p)
    return paths


@pytest.fixture
def ws(tmp_path: Path) -> SqliteWorkspace:
    workspace = create_workspace(tmp_path / "W", DM)
    workspace.set_randomisation(DM, "MDA-001", arm="RFA+VP", centre="A",
                                treatment_date="2025-01-10")
    yield workspace
    workspace.close()


@pytest.mark.parametrize(("days", "label"), [
    (-30, "baseline"), (0, "baseline"), (1, None), (13, None), (14, "1m"), (60, "1m"),
    (61, "3m"), (135, "3m"), (136, "6m"), (270, "6m"), (271, "12m"), (500, "12m"), (501, None),
])
def test_timepoint_windows(days: int, label: str | None) -> None:
    assert label_for_days(days) == label


def test_study_dates() -> None:
    assert str(parse_study_date("20250110")) == "2025-01-10"
    assert str(parse_study_date("2025-01-10")) == "2025-01-10"
    assert parse_study_date("") is None and parse_study_date("20251340") is None


def test_import_places_series_by_window(ws: SqliteWorkspace, tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    write_series(scans / "a", "MDA-001", "20250105", "base")
    write_series(scans / "b", "MDA-001", "20250411", "m3", n=4)   # day 91
    write_series(scans / "c", "MDA-001", "20250120", "early")     # day 10: no window
    write_series(scans / "d", "MDA-009", "20250411", "norand")    # no treatment date
    report = ingest_path(ws, DM, scans)
    assert sorted((o.subject, o.timepoint, o.n_files) for o in report.added) == [
        ("MDA-001", "3m", 4), ("MDA-001", "baseline", 3)]
    reasons = sorted(o.reason for o in report.ambiguous)
    assert "day 10 since treatment is outside every timepoint window" in reasons
    assert any("no treatment date for subject MDA-009" in r for r in reasons)
    assert report.needs_attention
    tp = ws.find_timepoint("MDA-001", "3m")
    assert tp is not None and (tp.scan_date, tp.nominal_day) == ("2025-04-11", 91)
    [series] = ws.list_series(timepoint_id=tp.id)
    assert series.shape == (4, 5, 6) and series.modality == "CT"
    assert series.spacing == pytest.approx((0.7, 0.7, 2.5))
    files = ws.series_files(series.id)
    assert [Path(f.path).name for f in files] == [f"IM_{i:04d}.dcm" for i in range(1, 5)]
    assert ws.verify_series_files(series.id).ok
    assert [s.trial_id for s in ws.list_subjects(DM)] == ["MDA-001"]  # MDA-009 not created


def test_reimport_is_idempotent_and_detects_moves_and_changes(ws: SqliteWorkspace,
                                                                tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    write_series(scans / "a", "MDA-001", "20250105", "base")
    write_series(scans / "b", "MDA-001", "20250211", "m1")
    assert len(ingest_path(ws, DM, scans).added) == 2
    n_audit = len(ws.audit_rows())
    again = ingest_path(ws, DM, scans)
    assert (len(again.added), len(again.unchanged)) == (0, 2)
    assert len(ws.audit_rows()) == n_audit  # nothing changed, nothing recorded

    moved = tmp_path / "moved"
    shutil.move(scans, moved)
    [series_a] = [s for s in ws.list_series() if s.description == "CT base"]
    assert not ws.verify_series_files(series_a.id).ok  # detected when the case is opened
    relinked = ingest_path(ws, DM, moved)
    assert len(relinked.relinked) == 2
    assert ws.verify_series_files(series_a.id).ok

    write_series(moved / "a", "MDA-001", "20250105", "base", fill=100)  # same UIDs, new pixels
    changed = ingest_path(ws, DM, moved)
    assert [o.reason.split(" (")[0] for o in changed.conflicts] == ["series already imported"]
    check = ws.verify_series_files(series_a.id)
    assert len(check.altered) == 3
    assert ws.verify_audit().ok


def test_two_visits_in_one_window_are_listed_then_mapped(ws: SqliteWorkspace,
                                                          tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    write_series(scans / "x", "MDA-001", "20250401", "v1")  # day 81
    write_series(scans / "y", "MDA-001", "20250420", "v2")  # day 100
    report = ingest_path(ws, DM, scans)
    assert report.added == [] and len(report.ambiguous) == 2
    expected = "2 scan dates (2025-04-01, 2025-04-20) fall in timepoint 3m"
    assert expected in report.ambiguous[0].reason
    mapping = tmp_path / "map.csv"
    mapping.write_text("study_uid,timepoint\n"
                       f"{derived_uid('study', 'v1')},3m\n"
                       f"{derived_uid('study', 'v2')},unscheduled\n")
    mapped = ingest_path(ws, DM, scans, mapping=read_timepoint_map(mapping))
    assert sorted(o.timepoint for o in mapped.added) == ["3m", "unscheduled"]
    assert not mapped.needs_attention
    again = ingest_path(ws, DM, scans)  # without the mapping: series keep their place
    assert (len(again.unchanged), again.ambiguous) == (2, [])
    write_series(scans / "z", "MDA-001", "20250425", "v3")  # a third visit in the 3m window
    third = ingest_path(ws, DM, scans)
    assert "2 scan dates (2025-04-01, 2025-04-25)" in third.ambiguous[0].reason


def test_mapping_takes_precedence_and_checks_subject(ws: SqliteWorkspace, tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    write_series(scans / "x", "MDA-001", "20250120", "early")  # day 10: no window
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"subject,series_uid,timepoint\nMDA-002,{derived_uid('series', 'early')},"
                       "1m\n")
    report = ingest_path(ws, DM, scans, mapping=read_timepoint_map(mapping))
    assert "mapping row is for subject MDA-002" in report.ambiguous[0].reason
    mapping.write_text(f"series_uid,timepoint\n{derived_uid('series', 'early')},1m\n")
    report = ingest_path(ws, DM, scans, mapping=read_timepoint_map(mapping))
    assert [(o.subject, o.timepoint) for o in report.added] == [("MDA-001", "1m")]


def test_id_mapping_and_no_phi_stored(ws: SqliteWorkspace, tmp_path: Path) -> None:
    ws.set_randomisation(DM, "MDA-002", arm="RFA+VP", centre="B", treatment_date="2025-03-01")
    scans = tmp_path / "scans"
    write_series(scans / "p", "HOSP-778899", "20250301", "hosp", name="Doe^Jane")
    write_series(scans / "q", "HOSP-111111", "20250301", "other", name="Roe^Richard")
    ids = tmp_path / "ids.csv"
    ids.write_text("patient_id,trial_id\nHOSP-778899,MDA-002\n")
    report = ingest_path(ws, DM, scans, ids=read_id_map(ids))
    assert [(o.subject, o.timepoint) for o in report.added] == [("MDA-002", "baseline")]
    assert [o.reason for o in report.ambiguous] == ["PatientID not in the ID mapping file"]
    ws.close()
    stored = b"".join(p.read_bytes() for p in (tmp_path / "W").iterdir())
    for phi in (b"Doe^Jane", b"Roe^Richard", b"19510203", b"HOSP-778899", b"HOSP-111111"):
        assert phi not in stored


@pytest.mark.parametrize(("text", "message"), [
    ("patient,trial\nA,B\n", "missing column(s) patient_id, trial_id"),
    ("patient_id,trial_id\nA,B\nA,C\n", "line 3: PatientID 'A' mapped twice"),
    ("patient_id,trial_id\nA,\n", "line 2: empty patient_id or trial_id"),
])
def test_bad_id_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_id_map(path)
    with pytest.raises(InputError, match="cannot read"):
        read_id_map(tmp_path / "absent.csv")


def test_bad_mapping_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("subject,timepoint\nS,3m\n")
    with pytest.raises(InputError, match="needs a column series_uid or study_uid"):
        read_timepoint_map(path)
    path.write_text("series_uid,timepoint\n1.2.3,\n")
    with pytest.raises(InputError, match="line 2"):
        read_timepoint_map(path)


def test_a_file_gone_between_scan_and_hash_is_listed(ws: SqliteWorkspace, tmp_path: Path) -> None:
    from mdaread.io import scan_path
    from mdaread.workflow.ingest import ingest_scan

    scans = tmp_path / "scans"
    paths = write_series(scans / "a", "MDA-001", "20250105", "gone")
    scan = scan_path(scans)
    paths[1].unlink()
    report = ingest_scan(ws, DM, scan)
    assert report.added == [] and report.conflicts[0].reason.startswith(f"cannot read {paths[1]}")
    assert ws.list_series() == []
