"""The Qt-free reading session: opening, linked navigation (identity and a known matrix),
scrolling, presets, readout, and the worklist model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mdaread.errors import InputError
from mdaread.geometry import PRESETS, Window
from mdaread.geometry.rigid import rigid_matrix
from mdaread.model import Volume
from mdaread.workflow.reading import MR_PRESET, ReadingSession, level_at
from mdaread.workflow.worklist import (
    InMemorySource,
    Landmark,
    WorklistEntry,
    filter_worklist,
    sort_worklist,
)


def _volume(uid: str, modality: str = "CT", spacing=(0.8, 0.8, 2.0), origin=(-20.0, -20.0, 0.0),
            shape=(30, 50, 50)) -> Volume:
    rng = np.random.default_rng(sum(map(ord, uid)))
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = origin
    array = rng.integers(-200, 1500, size=shape).astype(np.int16)
    return Volume(array, affine, modality=modality, series_uid=uid, description=f"{modality} {uid}")


MATRIX = rigid_matrix((0.02, -0.01, 0.05), (3.0, -2.0, 5.0))


def _source() -> InMemorySource:
    src = InMemorySource("test")
    src.add("MDA-001", "baseline", [_volume("b-ct"), _volume("b-mr", "MR")], days=-3,
            landmarks=[Landmark("L1", (0.0, 0.0, 20.0), treated=True),
                       Landmark("L2", (0.0, 0.0, 50.0))])
    src.add("MDA-001", "1m", [_volume("f1-mr", "MR"), _volume("f1-ct")], days=30, status="draft")
    src.add("MDA-001", "3m", [_volume("f3-ct", origin=(-25.0, -18.0, 4.0))], days=91,
            status="signed")
    src.add("MDA-002", "baseline", [_volume("x-ct")], days=0)
    return src


def _load_all(session: ReadingSession) -> None:
    for side in ("baseline", "followup"):
        choice = session.preferred_series(side)
        assert choice is not None
        session.show(side, choice, session.load_volume(choice))


def test_open_shows_baseline_and_chosen_followup_with_matching_modality() -> None:
    session = ReadingSession(_source())
    session.open("MDA-001", "3m")
    assert session.sides["baseline"].timepoint == "baseline"
    assert session.sides["followup"].timepoint == "3m"
    session.open("MDA-001", "baseline")  # a baseline entry: the first follow-up beside it
    assert session.sides["followup"].timepoint == "1m"
    _load_all(session)
    assert session.sides["baseline"].series.series_uid == "b-ct"
    assert session.sides["followup"].series.series_uid == "f1-ct"  # CT like the baseline
    assert session.followup_labels() == ["1m", "3m"]


def test_cursor_starts_on_the_treated_vertebra_and_followup_follows() -> None:
    session = ReadingSession(_source())
    session.open("MDA-001", "1m")
    _load_all(session)
    assert np.allclose(session.sides["baseline"].cursor, (0, 0, 20))
    assert np.allclose(session.sides["followup"].cursor, (0, 0, 20))


def test_linked_navigation_through_a_known_matrix_both_ways() -> None:
    src = _source()
    src.set_registration("MDA-001", "b-ct", "f3-ct", MATRIX)
    session = ReadingSession(src)
    session.open("MDA-001", "3m")
    _load_all(session)
    assert np.allclose(session.registration, MATRIX)
    p = np.array([4.0, -3.0, 27.0])
    session.set_cursor("baseline", p)
    assert np.allclose(session.sides["followup"].cursor, MATRIX[:3, :3] @ p + MATRIX[:3, 3])
    q = np.array([1.0, 2.0, 30.0])
    session.set_cursor("followup", q)
    expected = np.linalg.solve(MATRIX, np.append(q, 1.0))[:3]
    assert np.allclose(session.sides["baseline"].cursor, expected)


def test_scroll_moves_one_slice_and_the_other_side_follows_unless_unlinked() -> None:
    session = ReadingSession(_source())
    session.open("MDA-001", "1m")
    _load_all(session)
    start = session.sides["baseline"].cursor.copy()
    session.step("baseline", "axial", 3)
    assert np.allclose(session.sides["baseline"].cursor - start, (0, 0, 6.0))
    assert np.allclose(session.sides["followup"].cursor, session.sides["baseline"].cursor)
    session.set_linked(False)
    session.step("baseline", "sagittal", 1)
    assert not np.allclose(session.sides["followup"].cursor, session.sides["baseline"].cursor)
    session.set_linked(True)  # re-linking re-aligns
    assert np.allclose(session.sides["followup"].cursor, session.sides["baseline"].cursor)


def test_signals_announce_changes() -> None:
    session = ReadingSession(_source())
    seen: list[tuple[str, str]] = []
    session.cursor_changed.connect(lambda side: seen.append(("cursor", side)))
    session.window_changed.connect(lambda side: seen.append(("window", side)))
    session.open("MDA-001", "1m")
    _load_all(session)
    seen.clear()
    session.set_cursor("followup", (0.0, 0.0, 10.0))
    assert seen == [("cursor", "followup"), ("cursor", "baseline")]
    seen.clear()
    session.apply_preset("soft tissue", "baseline")
    assert seen == [("window", "baseline")]


def test_presets_and_mr_percentiles() -> None:
    session = ReadingSession(_source())
    session.open("MDA-001", "1m")
    _load_all(session)
    assert session.sides["baseline"].window == PRESETS["bone"]  # CT opens on the bone window
    session.apply_preset("cement")
    assert session.sides["followup"].window == PRESETS["cement"]
    session.apply_preset(MR_PRESET, "followup")
    w = session.sides["followup"].window
    values = session.sides["followup"].volume.array
    assert w.low == pytest.approx(np.percentile(values, 1), abs=5)
    assert w.high == pytest.approx(np.percentile(values, 99), abs=5)
    with pytest.raises(InputError):
        session.apply_preset("lung")
    session.set_window("baseline", Window(100, 0))
    assert session.sides["baseline"].window == Window(100, 0)


def test_readout_value_position_and_level() -> None:
    session = ReadingSession(_source())
    session.open("MDA-001", "1m")
    _load_all(session)
    volume = session.sides["baseline"].volume
    point = volume.index_to_world([10, 20, 12])
    readout = session.readout("baseline", point)
    assert readout.value == volume.array[12, 20, 10]
    assert readout.level == "L1"  # (−12, −4, 24) is 13.3 mm from L1 (0, 0, 20)
    assert "L1" in readout.text() and "LPS" in readout.text()
    assert session.readout("baseline", (500.0, 0.0, 0.0)).value is None
    assert level_at([], (0, 0, 0)) is None
    assert level_at([Landmark("T9", (0, 0, 0))], (0, 0, 31)) is None


def test_bad_matrix_and_unknown_followup_are_input_errors() -> None:
    session = ReadingSession(_source())
    session.open("MDA-001", "1m")
    with pytest.raises(InputError):
        session.set_registration(np.diag([2.0, 1, 1, 1]))
    with pytest.raises(InputError):
        session.set_followup("24m")
    with pytest.raises(InputError):
        session.open("MDA-999")


def test_worklist_filter_sort_and_no_arm() -> None:
    entries = _source().worklist()
    assert "arm" not in {f.name for f in dataclasses.fields(WorklistEntry)}
    assert [e.timepoint for e in filter_worklist(entries, "mda-001")] == ["baseline", "1m", "3m"]
    assert [e.timepoint for e in filter_worklist(entries, status="signed")] == ["3m"]
    assert [e.subject for e in filter_worklist(entries, "002")] == ["MDA-002"]
    by_status = sort_worklist(entries, "status")
    assert [e.status for e in by_status] == ["not read", "not read", "draft", "signed"]
    by_days = sort_worklist(entries, "days", descending=True)
    assert [e.days for e in by_days] == [91, 30, 0, -3]
    by_tp = sort_worklist(entries, "timepoint")
    assert [e.timepoint for e in by_tp] == ["baseline", "baseline", "1m", "3m"]
    with pytest.raises(InputError):
        sort_worklist(entries, "arm")


def test_shown_volumes_get_contiguous_sagittal_slices_in_the_background() -> None:
    import time

    session = ReadingSession(_source())
    session.open("MDA-001", "3m")
    _load_all(session)
    deadline = time.monotonic() + 10.0
    for side in ("baseline", "followup"):
        mpr = session.sides[side].mpr
        assert mpr is not None
        while mpr.strided_planes() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert mpr.strided_planes() == []
