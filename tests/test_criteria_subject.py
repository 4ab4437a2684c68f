"""Final categories across timepoints (mda-criteria.md, "Across timepoints")."""

from __future__ import annotations

from typing import Any

import pytest

from criteria_cases.builders import assess, base, baseline, fu, new, tp
from mdaread.criteria import assess_subject, parse_batch

TI = base("L1", 30, 20, treated_index=True)


def stable(label: str, days: float, **extra: Any) -> dict[str, Any]:
    """A follow-up where the lesion is unchanged (SD unless extra says otherwise)."""
    return tp(label, days, [fu("L1", 30, 20)], **extra)


def pdu(label: str, days: float, **extra: Any) -> dict[str, Any]:
    """Epidural progression flagged as possible pseudoprogression: PDu (steps 2–6 give SD)."""
    return stable(label, days, epidural_progression=True, possible_pseudoprogression=True,
                  **extra)


def finals(results: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    return {label: (r.category, r.final_category) for label, r in results.items()}


def test_reference_and_before_have_no_category() -> None:
    r = assess(baseline(TI), stable("1m", 30), stable("3m", 91), protocol={"reference": "1m"})
    assert finals(r)["baseline"] == (None, None)
    assert finals(r)["1m"] == (None, None)
    assert (r["baseline"].rule, r["1m"].rule) == ("before_reference", "reference")
    assert r["3m"].category == "SD"


def test_reference_other_than_baseline_measures_change_against_it() -> None:
    r = assess(baseline(TI), tp("1m", 30, [fu("L1", 20, 20)]), tp("3m", 91, [fu("L1", 20, 10)]),
               protocol={"reference": "1m"})
    assert r["1m"].spd_mm2 == 400.0
    assert r["3m"].spd_change_pct == -50.0  # against 1m's 400 mm², not baseline's 600
    assert (r["3m"].category, r["3m"].rule, r["3m"].reference) == ("PR", "pr_spd", "1m")


def test_measurable_at_reference_uses_reference_diameters() -> None:
    """A lesion too small at baseline but measurable at a later reference enters the SPD."""
    lesions = [TI, base("L2", 8, 8, level="L3")]
    r = assess(baseline(*lesions), tp("1m", 30, [fu("L1", 30, 20), fu("L2", 10, 10)]),
               tp("3m", 91, [fu("L1", 30, 20), fu("L2", 20, 20)]), protocol={"reference": "1m"})
    assert r["3m"].lesions_in_spd == ["L1", "L2"]
    assert r["3m"].spd_change_pct == pytest.approx(100 * 300 / 700)


def test_pdu_confirmed_both_pd_dated_to_first() -> None:
    r = assess(baseline(TI), pdu("1m", 30), stable("3m", 91, new_lesions=[new()]))
    assert finals(r)["1m"] == ("PDu", "PD")
    assert finals(r)["3m"] == ("PD", "PD")
    assert (r["1m"].pd_dated_to, r["3m"].pd_dated_to) == ("1m", "1m")
    assert r["1m"].final_rule == "pdu_confirmed"


def test_pdu_followed_by_pdu_both_pd() -> None:
    r = assess(baseline(TI), pdu("1m", 30), pdu("3m", 91), stable("6m", 182))
    assert finals(r)["1m"] == ("PDu", "PD")
    assert finals(r)["3m"] == ("PDu", "PD")


def test_pdu_resolved_takes_steps_2_to_6_category() -> None:
    r = assess(baseline(TI),
               tp("1m", 30, [fu("L1", 30, 20, signs=("sclerotic_rim",))],
                  epidural_progression=True, possible_flare=True),
               stable("3m", 91))
    assert finals(r)["1m"] == ("PDu", "PR")
    assert r["1m"].final_rule == "pdu_resolved"
    assert r["1m"].resolved_by == "3m"
    assert finals(r)["3m"] == ("SD", "SD")


def test_pdu_resolved_to_sd() -> None:
    r = assess(baseline(TI), pdu("1m", 30), stable("3m", 91))
    assert finals(r)["1m"] == ("PDu", "SD")


def test_pdu_unresolved_stays_pdu() -> None:
    r = assess(baseline(TI), stable("1m", 30), pdu("3m", 91))
    assert finals(r)["3m"] == ("PDu", "PDu")


def test_pdu_unresolved_when_only_ne_follows() -> None:
    r = assess(baseline(TI), pdu("1m", 30), tp("3m", 91, scan_available=False))
    assert finals(r)["1m"] == ("PDu", "PDu")
    assert finals(r)["3m"] == ("NE", "NE")


@pytest.mark.parametrize("carry", [True, False])
def test_ne_timepoints_skipped_when_resolving_pdu(carry: bool) -> None:
    r = assess(baseline(TI), pdu("1m", 30), tp("3m", 91, scan_available=False),
               tp("6m", 182, [fu("L1", evaluable=False)]),
               stable("12m", 365, epidural_progression=True),
               protocol={"pd_carry_forward": carry})
    assert finals(r)["1m"] == ("PDu", "PD")
    assert r["1m"].resolved_by == "12m"
    assert finals(r)["12m"] == ("PD", "PD")
    expected_between = "PD" if carry else "NE"
    assert finals(r)["3m"] == ("NE", expected_between)
    assert finals(r)["6m"] == ("NE", expected_between)


def test_pdu_resolution_skips_ne_then_resolves_to_alt() -> None:
    r = assess(baseline(TI), pdu("1m", 30), tp("3m", 91, scan_available=False), stable("6m", 182))
    assert finals(r)["1m"] == ("PDu", "SD")
    assert r["1m"].resolved_by == "6m"


def test_equivocal_then_definite_backdates_pd() -> None:
    r = assess(baseline(TI),
               stable("1m", 30),
               stable("3m", 91, new_lesions=[new("T9", "equivocal", "lytic")]),
               stable("6m", 182, new_lesions=[new("T9", "equivocal", "lytic")]),
               stable("12m", 365, new_lesions=[new("T9", "definite", "lytic")]),
               protocol={"pd_carry_forward": False})
    assert finals(r)["1m"] == ("SD", "SD")
    assert finals(r)["3m"] == ("SD", "PD")  # the first timepoint that showed it
    assert r["3m"].final_rule == "pd_backdated"
    assert finals(r)["6m"] == ("SD", "SD")  # not back-dated: carry-forward is off
    assert finals(r)["12m"] == ("PD", "PD")
    assert r["12m"].pd_dated_to == "3m"


def test_equivocal_then_definite_with_carry_forward() -> None:
    r = assess(baseline(TI),
               stable("3m", 91, new_lesions=[new("T9", "equivocal", "lytic")]),
               stable("6m", 182, new_lesions=[new("T9", "equivocal", "lytic")]),
               stable("12m", 365, new_lesions=[new("T9", "definite", "lytic")]))
    assert [r[x].final_category for x in ("3m", "6m", "12m")] == ["PD", "PD", "PD"]


def test_sclerotic_counted_equivocal_then_definite_backdates() -> None:
    """A definite sclerotic-only new lesion without response counts as equivocal (SD); called
    definite as a trigger later, the first timepoint becomes PD."""
    r = assess(baseline(TI),
               stable("3m", 91, new_lesions=[new("T9", "definite", "sclerotic")]),
               stable("6m", 182, new_lesions=[new("T9", "definite", "mixed")]))
    assert finals(r)["3m"] == ("SD", "PD")
    assert finals(r)["6m"] == ("PD", "PD")


def test_flare_lesion_later_definite_is_not_backdated() -> None:
    """A definite sclerotic new lesion read as flare (PR) was not equivocal: no back-dating."""
    r = assess(baseline(TI),
               tp("3m", 91, [fu("L1", 30, 20, signs=("sclerotic_rim",))],
                  new_lesions=[new("T9", "definite", "sclerotic")]),
               stable("6m", 182, new_lesions=[new("T9", "definite", "lytic")]),
               protocol={"pd_carry_forward": False})
    assert finals(r)["3m"] == ("PR", "PR")
    assert finals(r)["6m"] == ("PD", "PD")


def test_equivocal_not_backdated_when_later_pdu_resolves_as_not_pd() -> None:
    r = assess(baseline(TI),
               stable("1m", 30, new_lesions=[new("T9", "equivocal", "lytic")]),
               stable("3m", 91, new_lesions=[new("T9", "definite", "lytic")],
                      possible_flare=True),
               stable("6m", 182))
    assert finals(r)["3m"] == ("PDu", "SD")
    assert finals(r)["1m"] == ("SD", "SD")


@pytest.mark.parametrize(("earlier", "later", "matched"), [
    (new("T9", "equivocal", lid="N1"), new("T10", "definite", lid="N1"), True),   # same id
    (new("T9", "equivocal", lid="N1"), new("T9", "definite", lid="N2"), False),   # ids differ
    (new("T9", "equivocal"), new("T9", "definite", lid="N2"), True),              # level
    (new("T9", "equivocal"), new("T11", "definite"), False),                      # other level
])
def test_new_lesions_match_by_id_else_level(earlier: dict[str, Any], later: dict[str, Any],
                                             matched: bool) -> None:
    r = assess(baseline(TI), stable("3m", 91, new_lesions=[earlier]),
               stable("6m", 182, new_lesions=[later]))
    assert r["3m"].final_category == ("PD" if matched else "SD")


@pytest.mark.parametrize(("carry", "expected"), [(True, ["PD", "PD", "PD"]),
                                                 (False, ["PD", "SD", "NE"])])
def test_carry_forward(carry: bool, expected: list[str]) -> None:
    r = assess(baseline(TI), stable("3m", 91, epidural_progression=True), stable("6m", 182),
               tp("12m", 365, scan_available=False), protocol={"pd_carry_forward": carry})
    assert [r[x].final_category for x in ("3m", "6m", "12m")] == expected
    assert [r[x].category for x in ("3m", "6m", "12m")] == ["PD", "SD", "NE"]
    if carry:
        assert r["6m"].final_rule == "pd_carried_forward"
        assert r["6m"].pd_dated_to == "3m"


def test_early_is_days_under_56() -> None:
    r = assess(baseline(TI), stable("a", 55), stable("b", 56))
    assert (r["a"].early, r["b"].early) == (True, False)
    assert "early" in r["a"].warnings
    assert "early" not in r["b"].warnings


def test_modality_mismatch_warning_category_stands() -> None:
    r = assess(baseline(TI), tp("3m", 91, [fu("L1", 10, 10)],
                                modality="MR"), stable("6m", 182))
    assert r["3m"].warnings == ["modality_mismatch"]
    assert (r["3m"].category, r["3m"].rule) == ("PR", "pr_spd")
    assert r["6m"].warnings == []


def test_cement_warning_when_lesion_vertebra_holds_cement() -> None:
    r = assess(baseline(base("L1", 30, 20, level="L2", treated_index=True)),
               stable("3m", 91, cement_levels=["L2"]), stable("6m", 182, cement_levels=["T7"]),
               stable("12m", 365))
    assert "cement_present" in r["3m"].warnings
    assert "cement_present" not in r["6m"].warnings
    assert "cement_present" not in r["12m"].warnings


def test_input_order_kept_when_timepoints_are_not_chronological() -> None:
    data = {"subjects": [{"subject": "S", "timepoints": [
        stable("3m", 91, epidural_progression=True), baseline(TI), stable("1m", 30)]}]}
    settings, subjects = parse_batch(data)
    results = assess_subject(subjects[0], settings)
    assert [x.label for x in results] == ["3m", "baseline", "1m"]
    assert [x.final_category for x in results] == ["PD", None, "SD"]


def test_plain_pd_dated_to_itself_and_others_undated() -> None:
    r = assess(baseline(TI), stable("3m", 91), stable("6m", 182, epidural_progression=True))
    assert (r["3m"].pd_dated_to, r["6m"].pd_dated_to) == (None, "6m")
