"""The Qt-free registration use case on the synthetic spine (known baseline → follow-up matrix):
propose → accept/reject with who and when, nudges, landmarks, refinement, failures."""

from __future__ import annotations

import numpy as np
import pytest

import registration_phantom as phantom
from mdaread.errors import InputError
from mdaread.geometry import rigid
from mdaread.model import Volume
from mdaread.workflow.reading import ReadingSession
from mdaread.workflow.registration_session import (
    MemoryRegistrationStore,
    RegistrationSession,
    store_for,
)
from mdaread.workflow.worklist import InMemorySource, Landmark

CENTRE = np.zeros(3)  # the phantom's treated vertebra, baseline LPS mm
TRUTH = rigid.rigid_matrix(np.radians([3.0, -2.0, 4.0]), [8.0, -5.0, 6.0], CENTRE)
GRID = {"shape": (40, 90, 90), "spacing": (1.2, 1.2, 2.5)}


def make_pair(truth: np.ndarray = TRUTH) -> tuple[Volume, Volume]:
    """A baseline CT of the phantom and a follow-up CT (with cement) imaged under ``truth``."""
    base = phantom.make_volume("CT", **GRID)
    follow = phantom.make_volume("CT", truth=truth, cement=True, seed=1, **GRID)
    return (Volume(base.array, base.affine, modality="CT", series_uid="1.2.826.0.1.1",
                   description="baseline CT"),
            Volume(follow.array, follow.affine, modality="CT", series_uid="1.2.826.0.1.2",
                   description="follow-up CT"))


def make_source(pair: tuple[Volume, Volume]) -> InMemorySource:
    source = InMemorySource("registration test")
    source.add("MDA-050", "baseline", [pair[0]], days=-3,
               landmarks=[Landmark("L2", (0.0, 0.0, 0.0), treated=True)])
    source.add("MDA-050", "3m", [pair[1]], days=92)
    return source


def open_case(reading: ReadingSession) -> None:
    reading.open("MDA-050", "3m")
    for side in ("baseline", "followup"):
        choice = reading.preferred_series(side)
        assert choice is not None
        reading.show(side, choice, reading.load_volume(choice))


@pytest.fixture(scope="module")
def pair() -> tuple[Volume, Volume]:
    return make_pair()


@pytest.fixture
def case(pair):
    source = make_source(pair)
    reading = ReadingSession(source)
    store = MemoryRegistrationStore("rita", source)
    session = RegistrationSession(reading, store)
    failures: list[str] = []
    session.failed.connect(failures.append)
    open_case(reading)
    return source, reading, store, session, failures


def test_register_accept_stores_who_and_links_navigation(case) -> None:
    source, reading, store, session, failures = case
    assert np.allclose(session.center, CENTRE)  # the treated vertebra's landmark
    proposal = session.register()
    assert proposal is not None, failures
    assert rigid.tre_box(proposal.matrix, TRUTH, CENTRE) <= 1.0
    assert reading.registration is None  # proposed is not accepted
    decision = session.accept("looks right")
    assert decision.accepted and decision.by == "rita" and decision.at.startswith("20")
    assert store.decisions == [decision]
    assert session.proposal is None
    np.testing.assert_allclose(reading.registration, proposal.matrix)
    point = np.array([10.0, -8.0, 12.0])
    reading.set_cursor("baseline", point)
    follow = reading.sides["followup"].cursor
    assert np.linalg.norm(follow - rigid.apply(TRUTH, point)) <= 1.0
    # the case opened again links through the accepted matrix
    again = ReadingSession(source)
    open_case(again)
    np.testing.assert_allclose(again.registration, proposal.matrix)


def test_reject_is_stored_and_keeps_the_previous_mapping(case) -> None:
    _, reading, store, session, _ = case
    session.nudge(translation_mm=(2.0, 0.0, 0.0))
    decision = session.reject("wrong vertebra")
    assert not decision.accepted and store.decisions == [decision]
    assert reading.registration is None and session.proposal is None
    with pytest.raises(InputError):
        session.accept()  # nothing left to accept


def test_nudge_changes_the_matrix_by_exactly_the_nudge(case) -> None:
    _, reading, _, session, _ = case
    reading.set_registration(TRUTH)
    first = session.nudge(translation_mm=(1.0, 0.0, 0.0))
    # the overlay moves by +1 mm along x: baseline point p now shows what p − x̂ showed
    p = np.array([5.0, 3.0, -7.0])
    np.testing.assert_allclose(rigid.apply(first.matrix, p),
                               rigid.apply(TRUTH, p - [1.0, 0.0, 0.0]), atol=1e-9)
    second = session.nudge(rotation_deg=(0.0, 0.0, 1.0))
    turn = rigid.rotation_about(rigid.euler_to_matrix(0.0, 0.0, np.radians(1.0)), CENTRE)
    np.testing.assert_allclose(second.matrix @ turn, first.matrix, atol=1e-12)
    assert second.nudges == 2 and second.method == "manual"
    assert rigid.is_rigid(second.matrix)
    # the centre of rotation stays put: the centre maps as after the translation alone
    np.testing.assert_allclose(rigid.apply(second.matrix, CENTRE),
                               rigid.apply(first.matrix, CENTRE), atol=1e-9)


def test_refine_from_a_nudge_returns_to_the_truth(case) -> None:
    _, reading, _, session, failures = case
    reading.set_registration(TRUTH)
    session.nudge(translation_mm=(3.0, -2.0, 2.0), rotation_deg=(2.0, 0.0, -2.0))
    assert rigid.tre_box(session.proposal.matrix, TRUTH, CENTRE) > 3.0
    refined = session.refine()
    assert refined is not None, failures
    assert refined.method == "manual+refine" and refined.nudges == 0
    assert rigid.tre_box(refined.matrix, TRUTH, CENTRE) <= 1.0


def test_landmarks_from_three_or_more_pairs(case) -> None:
    _, _, _, session, failures = case
    base_points = np.array([[0.0, 0.0, 10.0], [15.0, 0.0, -5.0], [0.0, 20.0, 0.0],
                            [-12.0, -8.0, 6.0]])
    follow_points = rigid.apply(TRUTH, base_points)
    session.add_landmark("baseline", base_points[0] + 5.0)  # a misplaced click …
    session.add_landmark("baseline", base_points[0])        # … corrected by clicking again
    session.add_landmark("followup", follow_points[0])
    for b, f in zip(base_points[1:3], follow_points[1:3], strict=True):
        session.add_landmark("followup", f)  # either side may come first
        session.add_landmark("baseline", b)
    assert len(session.pairs) == 3
    session.add_landmark("baseline", base_points[3])  # an open fourth pair is left out
    fixed, moving = session.complete_pairs()
    assert len(fixed) == 3
    np.testing.assert_allclose(fixed, base_points[:3])
    np.testing.assert_allclose(moving, follow_points[:3])
    proposal = session.fit_landmarks()
    assert proposal is not None, failures
    assert proposal.method == "landmarks" and proposal.quality == "ok"
    np.testing.assert_allclose(proposal.matrix, TRUTH, atol=1e-6)
    session.add_landmark("followup", follow_points[3])
    assert len(session.complete_pairs()[0]) == 4


def test_too_few_or_collinear_landmarks_fail_and_say_why(case) -> None:
    _, reading, _, session, failures = case
    session.add_landmark("baseline", (0.0, 0.0, 0.0))
    session.add_landmark("followup", (1.0, 0.0, 0.0))
    assert session.fit_landmarks() is None
    assert "at least 3" in failures[-1]
    for n in (1, 2):
        session.add_landmark("baseline", (10.0 * n, 0.0, 0.0))
        session.add_landmark("followup", (10.0 * n + 1.0, 0.0, 0.0))
    assert session.fit_landmarks() is None
    assert "collinear" in failures[-1] and "previous mapping is kept" in failures[-1]
    assert session.proposal is None and reading.registration is None
    session.remove_last_landmark()
    assert len(session.pairs) == 2


def test_failed_registration_keeps_the_accepted_mapping_and_reports(case) -> None:
    _, reading, _, session, failures = case
    reading.set_registration(TRUTH)
    session.set_center((900.0, 900.0, 900.0))  # far outside the baseline
    assert session.register() is None
    assert "previous mapping is kept" in failures[-1]
    assert "outside" in failures[-1]
    assert session.proposal is None
    np.testing.assert_allclose(reading.registration, TRUTH)


def test_a_job_for_another_pair_is_dropped(case) -> None:
    _, reading, _, session, _ = case
    job = session.prepare_register()
    result = job.run()
    reading.set_followup("3m")  # the same follow-up chosen again: a new pair on show
    assert session.finish(job, result) is None and session.proposal is None


def test_overlay_volumes_share_the_baseline_grid_and_show_the_alignment(case, pair) -> None:
    _, reading, _, session, _ = case
    region, moved = session.overlay_volumes()  # identity: scanner coordinates
    assert region.shape == moved.shape
    np.testing.assert_allclose(region.affine, moved.affine)
    np.testing.assert_allclose(region.spacing, pair[0].spacing)
    misaligned = np.corrcoef(region.array.ravel(), moved.array.ravel())[0, 1]
    reading.set_registration(TRUTH)
    region2, aligned = session.overlay_volumes()
    assert region2 is region or np.array_equal(region2.array, region.array)
    matched = np.corrcoef(region.array.ravel(), aligned.array.ravel())[0, 1]
    assert matched > 0.6 and matched > misaligned + 0.2


def test_store_for_an_in_memory_source(pair) -> None:
    source = make_source(pair)
    store = store_for(source)
    assert isinstance(store, MemoryRegistrationStore) and store.source is source


def test_without_a_treated_level_the_centre_is_the_cursor_when_first_asked(pair) -> None:
    source = InMemorySource("no levels")
    source.add("MDA-051", "baseline", [pair[0]], days=-3)
    source.add("MDA-051", "3m", [pair[1]], days=92)
    reading = ReadingSession(source)
    session = RegistrationSession(reading, MemoryRegistrationStore())
    reading.open("MDA-051", "3m")
    for side in ("baseline", "followup"):
        choice = reading.preferred_series(side)
        reading.show(side, choice, reading.load_volume(choice))
    reading.set_cursor("baseline", (5.0, 2.0, -3.0))
    np.testing.assert_allclose(session.center, (5.0, 2.0, -3.0))
    reading.set_cursor("baseline", (20.0, 2.0, -3.0))
    np.testing.assert_allclose(session.center, (5.0, 2.0, -3.0))  # kept while navigating
    session.set_center((20.0, 2.0, -3.0))
    np.testing.assert_allclose(session.center, (20.0, 2.0, -3.0))
    reading.set_followup("3m")  # another pair on show: the centre is chosen again
    reading.set_cursor("baseline", (0.0, 0.0, 0.0))
    np.testing.assert_allclose(session.center, (0.0, 0.0, 0.0))
