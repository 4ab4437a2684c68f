"""The trial vocabulary is held once (model.vocabulary) and every user takes it from there."""

from __future__ import annotations

from datetime import date

import pytest

from mdaread.model import vocabulary as v


def test_levels_are_one_ordered_list_with_the_trial_range_inside() -> None:
    assert len(v.VERTEBRAL_LEVELS) == 7 + 12 + 5 + 5
    assert v.VERTEBRAL_LEVELS[:2] == ("C1", "C2") and v.VERTEBRAL_LEVELS[-1] == "S5"
    assert v.VERTEBRAL_LEVELS.index("C7") + 1 == v.VERTEBRAL_LEVELS.index("T1")
    assert v.TRIAL_LEVELS[0] == "T5" and v.TRIAL_LEVELS[-1] == "L5" and len(v.TRIAL_LEVELS) == 13
    assert set(v.TRIAL_LEVELS) < set(v.LABELLED_LEVELS) < set(v.VERTEBRAL_LEVELS)
    with pytest.raises(ValueError, match="lies above"):
        v.levels_between("L1", "T12")


def test_level_name_and_rank() -> None:
    assert v.level_name(" l1 ") == "L1"
    assert v.level_name("c3") == "C3"
    with pytest.raises(ValueError, match=r"'C3' is not a vertebral level \(T1–T12, L1–L5 or S1\)"):
        v.level_name("C3", v.LABELLED_LEVELS)
    assert v.describe_levels(v.VERTEBRAL_LEVELS) == "C1–C7, T1–T12, L1–L5 or S1–S5"
    assert sorted(["s1", "L2", "T12", "C2", "x"], key=v.level_rank) == ["C2", "T12", "L2", "s1",
                                                                        "x"]


def test_days_since_treatment_reads_iso_da_and_dates() -> None:
    assert v.days_since_treatment("2025-02-10", "2025-01-10") == 31
    assert v.days_since_treatment("20250110", date(2025, 1, 17)) == -7
    assert v.days_since_treatment(None, "2025-01-10") is None
    assert v.days_since_treatment("2025-13-01", "2025-01-10") is None


def test_timepoints_in_protocol_order() -> None:
    assert sorted(["12m", "extra", "baseline", "3m"], key=v.timepoint_rank) == [
        "baseline", "3m", "12m", "extra"]
    assert [v.label_for_days(v.NOMINAL_DAYS[label]) for label in v.TIMEPOINT_LABELS] == list(
        v.TIMEPOINT_LABELS)


def test_the_copies_are_gone() -> None:
    from mdaread import storage
    from mdaread.sample import scenarios
    from mdaread.workflow import guided_answers, ingest, worklist

    assert storage.VERTEBRAL_LEVELS is v.LABELLED_LEVELS
    assert guided_answers.PANEL_LEVELS is v.LABELLED_LEVELS
    assert guided_answers.VERTEBRAL_LEVELS is v.VERTEBRAL_LEVELS
    assert storage.ROLES is v.ROLES
    assert scenarios.LABELS is v.TIMEPOINT_LABELS
    assert ingest.label_for_days is v.label_for_days
    assert worklist.timepoint_rank is v.timepoint_rank
    assert not hasattr(worklist, "TIMEPOINT_ORDER")
