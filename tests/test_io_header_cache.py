"""The header cache: a stored series opens without a header parse, and a cache entry that does
not describe the series is never used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mdaread.io import header_cache, headers, load_series, scan_path
from mdaread.model import SeriesCandidate, Volume
from mdaread.storage import Actor, create_workspace
from mdaread.workflow.ingest import ingest_path
from mdaread.workflow.workspace_service import load_randomisation
from mdaread.workflow.workspace_source import WorkspaceSource

DM = Actor("dana", "data_manager")
READER = Actor("rita", "reader")


def _write(folder: Path, seed: int = 1) -> Volume:
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series

    rng = np.random.default_rng(seed)
    array = rng.integers(-100, 900, size=(6, 16, 20)).astype(np.int16)
    affine = np.diag([0.8, 0.8, 2.0, 1.0])
    affine[:3, 3] = (-8.0, -6.0, 30.0)
    volume = Volume(array, affine, modality="CT")
    write_ct_series(volume, folder, SeriesInfo(
        patient_id="MDA-201", study_uid=derived_uid("st", str(seed)),
        series_uid=derived_uid("se", str(seed)), frame_of_reference_uid=derived_uid("f", str(seed)),
        study_date="20250108", study_time="100000", series_number=1,
        series_description="CT"))
    return volume


def _stored_like(candidate: SeriesCandidate, key: str) -> SeriesCandidate:
    """The candidate as the workspace rebuilds it: geometry and files, no plan, a cache key."""
    return SeriesCandidate(
        series_uid=candidate.series_uid, key=candidate.key, modality=candidate.modality,
        description=candidate.description, files=list(candidate.files), shape=candidate.shape,
        spacing=candidate.spacing, origin=candidate.origin, direction=candidate.direction,
        extra={"header_key": key})


def _no_header_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    original = headers.frames_from_file

    def counting(path: Path) -> list[headers.FrameInfo]:
        calls.append(path)
        return original(path)

    monkeypatch.setattr(headers, "frames_from_file", counting)
    return calls


def test_frames_round_trip_bound_to_the_current_paths(tmp_path: Path) -> None:
    _write(tmp_path / "a")
    (candidate,) = scan_path(tmp_path / "a").series
    frames = candidate.extra["plan"].frames
    header_cache.save("k1", candidate.files, frames)
    moved = [tmp_path / "b" / Path(f).name for f in candidate.files]
    again = header_cache.load("k1", moved)
    assert again is not None and len(again) == len(frames)
    assert [f.path for f in again] == moved
    assert [f.position for f in again] == [f.position for f in frames]
    assert again[0].series == frames[0].series and again[0].split_keys == frames[0].split_keys
    assert header_cache.load("k2", candidate.files) is None  # another key
    assert header_cache.load("k1", candidate.files[:-1]) is None  # another file count


def test_a_damaged_or_foreign_entry_is_not_used(tmp_path: Path) -> None:
    _write(tmp_path / "a")
    (candidate,) = scan_path(tmp_path / "a").series
    header_cache.save("k3", candidate.files, candidate.extra["plan"].frames)
    entry = header_cache._entry("k3")
    assert entry is not None and entry.is_file()
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "version": 0}))
    assert header_cache.load("k3", candidate.files) is None
    entry.write_text(entry.read_text()[:50])  # truncated
    assert header_cache.load("k3", candidate.files) is None


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDAREAD_HEADER_CACHE", "off")
    assert header_cache.cache_dir() is None
    header_cache.save("k4", [tmp_path / "x"], [])
    assert header_cache.load("k4", [tmp_path / "x"]) is None


def test_a_stored_series_loads_from_the_cache_without_reading_headers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = _write(tmp_path / "a")
    (candidate,) = scan_path(tmp_path / "a").series
    stored = _stored_like(candidate, "k5")
    calls = _no_header_reads(monkeypatch)
    first = load_series(stored)  # no entry yet: reads the headers and saves them
    assert len(calls) == len(candidate.files)
    calls.clear()
    second = load_series(_stored_like(candidate, "k5"))
    assert calls == []
    for volume in (first, second):
        assert np.array_equal(volume.array, written.array)
        assert np.allclose(volume.affine, written.affine, atol=1e-4)


def test_an_entry_that_does_not_rebuild_the_stored_grid_is_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry saved for other files under the same key (it cannot happen with content
    hashes; a hand-made or stale cache could) must not give the series another geometry."""
    _write(tmp_path / "a", seed=1)
    other = _write(tmp_path / "b", seed=2)
    (a,) = scan_path(tmp_path / "a").series
    (b,) = scan_path(tmp_path / "b").series
    frames = [headers.FrameInfo(**{**f.__dict__, "position": (f.position[0] + 5.0,
                                                              *f.position[1:])})
              for f in b.extra["plan"].frames]
    header_cache.save("k6", b.files, frames)  # b's headers, shifted 5 mm
    calls = _no_header_reads(monkeypatch)
    volume = load_series(_stored_like(b, "k6"))
    assert len(calls) == len(b.files)  # the entry was refused: headers read again
    assert np.allclose(volume.affine, other.affine, atol=1e-4)
    assert a.series_uid != b.series_uid


def test_opening_an_imported_series_reads_no_header(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    written = _write(tmp_path / "dicom" / "MDA-201" / "baseline")
    (tmp_path / "dicom" / "randomisation.csv").write_text(
        "subject,arm,centre,treatment_date\nMDA-201,RFA+VP,C1,2025-01-10\n")
    with create_workspace(tmp_path / "ws", DM) as ws:
        load_randomisation(ws, DM, tmp_path / "dicom" / "randomisation.csv")
        report = ingest_path(ws, DM, tmp_path / "dicom")
        assert len(report.added) == 1
        calls = _no_header_reads(monkeypatch)
        source = WorkspaceSource(ws, READER)
        (choice,) = source.series("MDA-201", "baseline")
        volume = source.load(choice)
    assert calls == []
    assert np.array_equal(volume.array, written.array)
    assert np.allclose(volume.affine, written.affine, atol=1e-4)
