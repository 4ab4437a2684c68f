"""The guided read use case without a window: required answers, live category, override,
sign-off, immutability, corrections, drafts, earlier timepoints (on a real SQLite workspace)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdaread.errors import InputError
from mdaread.storage import Actor, ImmutableRecord, create_workspace
from mdaread.workflow.guided_read import GuidedRead, IncompleteRead, ReadLocked
from mdaread.workflow.reads_service import correct, open_guided_read

DM = Actor("dana", "data_manager")
RITA = Actor("rita", "reader")
TIMEPOINTS = (("baseline", 0, "2026-01-05"), ("3m", 91, "2026-04-11"), ("6m", 182, "2026-07-11"))


@pytest.fixture
def ws(tmp_path: Path):
    ws = create_workspace(tmp_path / "W", DM)
    for subject in ("S01", "S02"):
        ws.set_randomisation(DM, subject, arm="RFA+VP", centre="C1", treatment_date="2026-01-10")
        for label, day, date in TIMEPOINTS:
            ws.ensure_timepoint(DM, subject, label, nominal_day=day, scan_date=date)
    yield ws
    ws.close()


def sign_baseline(ws, subject: str = "S01", long_mm: float = 30, perp_mm: float = 20) -> None:
    read = open_guided_read(ws, RITA, subject, "baseline")
    read.set_modality("CT")
    read.add_lesion("L1", "L2", "lytic", True, long_mm, perp_mm, True)
    read.sign()


def answer_follow_up(read: GuidedRead, long_mm: float, perp_mm: float) -> None:
    """Every required answer of a one-lesion follow-up, with the given diameters."""
    read.set_modality("CT")
    read.set_cement("L2", False)
    read.set_evaluable("L1", True)
    read.set_measurement("L1", long_mm, perp_mm)
    read.confirm_signs("L1")
    read.set_no_new_lesions()
    for flag in read.flags:
        read.set_flag(flag, False)


def test_baseline_read_adds_lesions_and_signs(ws) -> None:
    read = open_guided_read(ws, RITA, "S01", "baseline")
    assert read.is_baseline and read.days == -5
    assert "at least one tracked lesion" in read.missing()
    assert "modality (CT or MR)" in read.missing()
    with pytest.raises(IncompleteRead, match="at least one tracked lesion"):
        read.sign()
    read.set_modality("CT")
    read.add_lesion(read.next_lesion_id(), "L2", "lytic", True, 30, 20, True)
    with pytest.raises(InputError, match="not a vertebral level"):
        read.add_lesion("L2", "X9", "lytic", True, 30, 20, False)
    assert read.missing() == []
    assert read.result is not None and read.result.category is None
    assert read.result.spd_mm2 == 600
    info = read.sign()
    assert info.reader == "rita" and info.signed_at.endswith("Z")
    (stored,) = ws.list_reads("S01", status="signed")
    assert stored.observations["lesions"][0]["level"] == "L2"
    assert stored.rule == "reference" and stored.category is None
    (lesion,) = ws.list_lesions("S01")
    assert (lesion.lesion_id, lesion.phenotype, lesion.treated_index) == ("Les1", "lytic", True)
    (m,) = ws.list_measurements(stored.id)
    assert (m.long_mm, m.perp_mm) == (30, 20)


def test_follow_up_needs_a_signed_baseline(ws) -> None:
    with pytest.raises(InputError, match="sign the baseline read before reading 3m"):
        open_guided_read(ws, RITA, "S01", "3m")


def test_required_answers_and_live_category(ws) -> None:
    sign_baseline(ws)
    read = open_guided_read(ws, RITA, "S01", "3m")
    assert read.days == 91 and [les.id for les in read.tracked] == ["L1"]
    missing = read.missing()
    for item in ("modality (CT or MR)", "L1: cement in L2?", "L1: evaluable?",
                 "new lesions (none, or list them)", "Epidural progression?"):
        assert item in missing
    read.set_modality("CT")
    read.set_evaluable("L1", True)
    assert "L1: diameters (long and perpendicular, mm)" in read.missing()
    read.set_measurement("L1", 20, 15)          # 300 / 600 → −50.0 % exactly: PR
    assert read.result is not None
    assert (read.result.category, read.result.rule) == ("PR", "pr_spd")
    assert read.result.spd_change_pct == pytest.approx(-50.0)
    read.set_measurement("L1", 30, 25)          # 750 / 600 → +25.0 % exactly: PD
    assert (read.result.category, read.result.rule) == ("PD", "pd_spd")
    read.set_flag("possible_flare", True)       # flagged within the window: PDu
    assert read.result.category == "PDu"
    read.set_evaluable("L1", False, "artifact")  # treated index not evaluable: NE
    assert (read.result.category, read.result.rule) == ("NE", "ne_nonevaluable")
    assert "L1: diameters (long and perpendicular, mm)" not in read.missing()


def test_sign_refused_while_incomplete_then_signed_read_is_immutable(ws) -> None:
    sign_baseline(ws)
    read = open_guided_read(ws, RITA, "S01", "3m")
    read.set_modality("CT")
    read.set_evaluable("L1", True)
    read.set_measurement("L1", 12, 10)
    with pytest.raises(IncompleteRead) as refused:
        read.sign()
    message = str(refused.value)
    assert "L1: signs reviewed" in message and "new lesions" in message
    assert ws.list_reads("S01", status="signed", purpose="primary")[-1].timepoint_label == \
        "baseline"
    answer_follow_up(read, 12, 10)
    read.sign()
    assert read.locked
    stored = ws.get_read(read.read_id)
    assert (stored.status, stored.category, stored.rule) == ("signed", "PR", "pr_spd")
    assert stored.protocol["measurable_min_mm"] == 10 and stored.criteria_version
    with pytest.raises(ReadLocked):
        read.set_measurement("L1", 30, 20)
    with pytest.raises(ImmutableRecord):
        ws.save_draft(RITA, read.read_id, observations={})
    reopened = open_guided_read(ws, RITA, "S01", "3m")
    assert reopened.locked and reopened.answers["L1"].long_mm == 12


def test_signs_follow_phenotype_and_modality(ws) -> None:
    sign_baseline(ws)
    read = open_guided_read(ws, RITA, "S01", "3m")
    read.set_modality("CT")
    ct = {s for s, _ in read.signs_for("L1")}
    assert {"complete_fill_in", "sclerotic_rim", "partial_fill_in"} <= ct
    assert "density_normalized" not in ct and "signal_normalized" not in ct
    assert all(help_text for _, help_text in read.signs_for("L1"))
    read.set_sign("L1", "sclerotic_rim", True)
    read.set_modality("MR")                     # CT-only signs are dropped
    assert read.answers["L1"].signs == set()
    assert "signal_normalized" in {s for s, _ in read.signs_for("L1")}
    with pytest.raises(InputError, match="does not apply"):
        read.set_sign("L1", "complete_fill_in", True)


def test_cement_reminder_and_warning(ws) -> None:
    sign_baseline(ws)
    read = open_guided_read(ws, RITA, "S01", "3m")
    assert read.cement_reminder("L1") is None
    read.set_cement("L2", True)
    assert "cement" in (read.cement_reminder("L1") or "")
    answer_follow_up(read, 20, 15)
    read.set_cement("L2", True)
    assert read.result is not None and "cement_present" in read.result.warnings
    assert read.observations()["cement_levels"] == ["L2"]


def test_override_needs_a_reason_and_both_are_stored(ws) -> None:
    sign_baseline(ws)
    read = open_guided_read(ws, RITA, "S01", "3m")
    answer_follow_up(read, 20, 15)
    read.set_override("SD", "")
    assert "a reason for the override" in read.missing()
    assert read.result is not None and read.result.category == "PR"  # no reason: no effect
    with pytest.raises(IncompleteRead, match="reason for the override"):
        read.sign()
    read.set_override("SD", "rim is cement, not sclerosis")
    assert (read.result.category, read.result.computed_category) == ("SD", "PR")
    read.sign()
    stored = ws.get_read(read.read_id)
    assert (stored.category, stored.override_category) == ("PR", "SD")
    assert stored.override_reason == "rim is cement, not sclerosis"
    assert stored.effective_category == "SD"


def test_correction_is_a_new_read_referencing_the_old(ws) -> None:
    sign_baseline(ws)
    read = open_guided_read(ws, RITA, "S01", "3m")
    answer_follow_up(read, 20, 15)
    read.sign()
    with pytest.raises(InputError, match="needs a reason"):
        correct(ws, RITA, read, " ")
    fixed = correct(ws, RITA, read, "measured the wrong vertebra")
    assert not fixed.locked and fixed.supersedes == read.read_id
    assert fixed.read_id != read.read_id and fixed.answers["L1"].long_mm == 20
    fixed.set_measurement("L1", 28, 20)
    fixed.sign()
    assert ws.get_read(read.read_id).category == "PR"          # the old one never changed
    current = ws.list_reads("S01", status="signed", current_only=True)
    assert [r.id for r in current if r.timepoint_label == "3m"] == [fixed.read_id]
    assert ws.get_read(fixed.read_id).correction_reason == "measured the wrong vertebra"


def test_draft_saved_and_reopened_keeps_unanswered_questions(ws) -> None:
    sign_baseline(ws)
    read = open_guided_read(ws, RITA, "S01", "3m")
    read.set_modality("CT")
    read.set_evaluable("L1", True)
    read.set_measurement("L1", 18, 12, endpoints_lps=[(1, 2, 3), (19, 2, 3)],
                         series_uid="1.2.3", method="semi-auto")
    read.save_draft()
    (draft,) = ws.list_reads("S01", status="draft")
    (m,) = ws.list_measurements(draft.id)
    assert (m.method, m.series_uid, m.endpoints) == ("semi-auto", "1.2.3",
                                                      [[1, 2, 3], [19, 2, 3]])
    again = open_guided_read(ws, RITA, "S01", "3m")
    assert again.read_id == draft.id and again.answers["L1"].long_mm == 18
    assert again.measurements["L1"].method == "semi-auto"
    assert "L1: signs reviewed" in again.missing() and again.flags["fracture"] is None
    with pytest.raises(InputError, match="perpendicular diameter"):
        again.set_measurement("L1", 10, 12)
    again.set_evaluable("L1", False, "artifact")      # a measurement that no longer counts
    again.save_draft()
    assert ws.list_measurements(draft.id) == []
    assert "long_mm" not in again.observations()["lesions"][0]


def test_earlier_signed_timepoints_of_the_same_subject_only(ws) -> None:
    sign_baseline(ws)
    sign_baseline(ws, "S02")
    first = open_guided_read(ws, RITA, "S01", "3m")
    answer_follow_up(first, 30, 25)                 # +25 %: PD trigger …
    first.set_flag("possible_pseudoprogression", True)   # … flagged: PDu
    first.sign()
    assert ws.get_read(first.read_id).category == "PDu"
    later = open_guided_read(ws, RITA, "S01", "6m")
    assert [e.label for e in later.earlier] == ["baseline", "3m"]
    assert later.earlier[1].category == "PDu"
    answer_follow_up(later, 35, 30)
    assert later.final_of("3m") == "PD"             # confirmed by this draft
    answer_follow_up(later, 14, 10)
    assert later.final_of("3m") == "SD"             # resolved: steps 2-6 at 3m
    other = open_guided_read(ws, RITA, "S02", "6m")
    assert [e.label for e in other.earlier] == ["baseline"]


def test_a_signed_primary_read_locks_the_timepoint_for_other_readers(ws) -> None:
    sign_baseline(ws)
    bob = Actor("bob", "reader")
    read = open_guided_read(ws, bob, "S01", "baseline")
    assert read.locked and read.reader == "rita" and read.tracked[0].id == "L1"
    with pytest.raises(ReadLocked):
        read.add_lesion("L2", "T9", "lytic", True, 20, 15, False)
    reread = open_guided_read(ws, bob, "S01", "baseline", purpose="reread")
    assert not reread.locked and reread.tracked == []
