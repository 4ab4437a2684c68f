"""Vertebral levels in the Qt-free registration session (in-memory source and label store):
levels known on the baseline, labelling at the cursor, the region centred on a level, and the
level / landmark pairs carried by proposals and decisions, restored when the pair reopens."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.errors import InputError
from mdaread.geometry import rigid
from mdaread.workflow.reading import ReadingSession
from mdaread.workflow.registration_session import (
    MemoryLevelStore,
    MemoryRegistrationStore,
    RegistrationSession,
)
from mdaread.workflow.worklist import InMemorySource, Landmark
from test_regsession_session import CENTRE, TRUTH, make_pair, make_source, open_case

L1_CENTRE = np.array([0.0, 0.0, 32.0])  # one vertebra above the phantom's treated L2


@pytest.fixture(scope="module")
def pair():
    return make_pair()


@pytest.fixture
def case(pair):
    source = make_source(pair)  # baseline knows L2 (treated) at the origin
    reading = ReadingSession(source)
    store = MemoryRegistrationStore("rita", source)
    session = RegistrationSession(reading, store)
    assert isinstance(session.labels, MemoryLevelStore)
    open_case(reading)
    return reading, store, session


def test_label_at_the_cursor_then_centre_on_that_level(case) -> None:
    reading, _, session = case
    assert [(lm.level, lm.treated) for lm in session.levels()] == [("L2", True)]
    assert session.level == "L2" and np.allclose(session.center, CENTRE)
    changes: list[int] = []
    session.region_changed.connect(lambda: changes.append(1))
    reading.set_cursor("baseline", L1_CENTRE)
    label = session.label_level("baseline", " l1 ")
    assert (label.level, label.kind) == ("L1", "label")
    np.testing.assert_allclose(label.center, L1_CENTRE)
    assert changes  # the toolbar's combo refreshes on this
    assert [(lm.level, lm.treated) for lm in session.levels()] == [("L2", True), ("L1", False)]
    assert reading.readout("baseline", L1_CENTRE + 2.0).level == "L1"  # readout knows it
    assert session.set_level("L1").level == "L1"
    np.testing.assert_allclose(session.center, L1_CENTRE)
    assert session.level == "L1"
    session.set_center((5.0, 5.0, 5.0))  # "centre here": no level any more
    assert session.level is None
    session.set_level("l2")
    assert session.level == "L2" and np.allclose(session.center, CENTRE)


def test_unknown_and_invalid_levels_are_refused(case) -> None:
    _, _, session = case
    with pytest.raises(InputError, match=r"level 'L4' is not known on the baseline \(known: L2\)"):
        session.set_level("L4")
    for bad in ("L6", "C7", "T13", "lumbar"):
        with pytest.raises(InputError, match="is not a vertebral level"):
            session.label_level("baseline", bad)
    assert [lm.level for lm in session.levels()] == ["L2"]
    with pytest.raises(InputError, match="unknown side"):
        session.label_level("middle", "L1")
    with pytest.raises(InputError, match="no label L3"):
        session.remove_label("baseline", "L3")


def test_relabel_moves_the_level_and_the_region_on_it_and_remove(case) -> None:
    _, _, session = case
    session.label_level("baseline", "L1", L1_CENTRE + 10.0)
    session.set_level("L1")
    session.label_level("baseline", "L1", L1_CENTRE)  # corrected: replaces, never duplicates
    assert [lm.level for lm in session.levels()].count("L1") == 1
    np.testing.assert_allclose(session.center, L1_CENTRE)  # the region followed the label
    assert session.labelled("baseline") == ["L1"]
    session.remove_label("baseline", "L1")
    assert session.labelled("baseline") == [] and [lm.level for lm in session.levels()] == ["L2"]


def test_a_label_of_the_treated_level_overrides_the_lesion_landmark(case) -> None:
    _, _, session = case
    session.label_level("baseline", "L2", (1.0, 2.0, 3.0))
    (l2,) = session.levels()
    assert l2.kind == "label" and l2.treated  # the treated flag comes from the lesion level
    assert session.level == "L2"
    np.testing.assert_allclose(session.center, (1.0, 2.0, 3.0))


def test_follow_up_labels_stay_on_their_side(case) -> None:
    reading, _, session = case
    reading.set_cursor("followup", rigid.apply(TRUTH, L1_CENTRE))
    session.label_level("followup", "L1")
    assert session.labelled("followup") == ["L1"] and session.labelled("baseline") == []
    assert [lm.level for lm in session.levels()] == ["L2"]  # levels() is the baseline's
    point = reading.sides["followup"].cursor
    assert reading.readout("followup", point).level == "L1"


def test_the_level_goes_with_the_proposal_and_the_decision(case) -> None:
    _, store, session = case
    session.label_level("baseline", "L1", L1_CENTRE)
    session.set_level("L1")
    proposal = session.nudge(translation_mm=(1.0, 0.0, 0.0))
    assert proposal.level == "L1"
    assert proposal.provenance.center == pytest.approx(tuple(L1_CENTRE))
    assert proposal.provenance.radius_mm == session.radius_mm and not proposal.provenance.pairs
    decision = session.accept()
    assert decision.level == "L1" and store.decisions[-1].provenance == proposal.provenance
    session.set_center((0.0, 0.0, 10.0))
    assert session.nudge(translation_mm=(1.0, 0.0, 0.0)).level is None


def test_an_intensity_registration_records_its_region(case) -> None:
    _, _, session = case
    session.radius_mm = 35.0
    proposal = session.register()
    assert proposal is not None and proposal.method == "intensity"
    assert (proposal.level, proposal.provenance.radius_mm) == ("L2", 35.0)
    assert proposal.provenance.center == pytest.approx(tuple(CENTRE))


def test_landmark_pairs_are_kept_and_shown_again_when_the_pair_reopens(case) -> None:
    reading, store, session = case
    base = np.array([[0.0, 0.0, 5.0], [14.0, 2.0, 0.0], [0.0, 18.0, -5.0], [-9.0, 4.0, 12.0]])
    for point in base:
        session.add_landmark("baseline", point)
        session.add_landmark("followup", rigid.apply(TRUTH, point))
    proposal = session.fit_landmarks()
    assert proposal is not None
    where = proposal.provenance
    assert len(where.pairs) == 4 and where.residual_mm == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose([b for b, _ in where.pairs], base)
    np.testing.assert_allclose([f for _, f in where.pairs], rigid.apply(TRUTH, base))
    decision = session.accept()
    assert decision.provenance.pairs == where.pairs and decision.level == "L2"
    # the case opened again (a new session on the same source and store)
    again = RegistrationSession(ReadingSession(reading.source), store)
    assert again.stored is None
    open_case(again.reading)
    assert again.stored is not None and again.stored.record_id == decision.record_id
    again_base, again_follow = again.complete_pairs()
    np.testing.assert_allclose(again_base, base)
    np.testing.assert_allclose(again_follow, rigid.apply(TRUTH, base))
    assert again.level == "L2" and again.proposal is None
    np.testing.assert_allclose(again.reading.registration, proposal.matrix)


def test_the_accepted_radius_comes_back_when_the_pair_reopens(case) -> None:
    reading, store, session = case
    session.radius_mm = 35.0
    session.nudge(translation_mm=(1.0, 0.0, 0.0))
    session.accept()
    again = RegistrationSession(ReadingSession(reading.source), store)
    assert again.radius_mm != 35.0
    open_case(again.reading)
    assert again.radius_mm == 35.0


def test_a_treated_lesion_without_a_level_name_still_centres_the_region(pair) -> None:
    source = InMemorySource("unnamed level")
    source.add("MDA-050", "baseline", [pair[0]],
               landmarks=[Landmark("", (3.0, 4.0, 5.0), treated=True, kind="lesion")])
    source.add("MDA-050", "3m", [pair[1]])
    session = RegistrationSession(ReadingSession(source), MemoryRegistrationStore())
    open_case(session.reading)
    assert session.levels() == [] and session.level is None
    np.testing.assert_allclose(session.center, (3.0, 4.0, 5.0))
