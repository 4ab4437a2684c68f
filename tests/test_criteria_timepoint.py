"""Steps 0–6 of mda-criteria.md at one follow-up timepoint: table-driven cases per step/boundary."""

from __future__ import annotations

from typing import Any

import pytest

from criteria_cases.builders import assess, base, baseline, fu, new, tp

TI = base("L1", 30, 20, treated_index=True)  # 600 mm², the treated index lesion
SMALL = base("L1", 8, 6, treated_index=True)  # not measurable (< 10 mm)

# id, baseline lesions, follow-up timepoint (day 91 unless given), category, rule, change %
CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], str, str, float | None]] = [
    ("step0_no_scan", [TI], tp("3m", 91, scan_available=False), "NE", "no_scan", None),
    ("pr_minus_50_exactly", [base("L1", 20, 10, treated_index=True)],
     tp("3m", 91, [fu("L1", 10, 10)]), "PR", "pr_spd", -50.0),
    # 10.2 × 17.0 → 10.2 × 8.5: naive floating point gives −49.99999999999999
    ("pr_minus_50_exactly_decimals", [base("L1", 17.0, 10.2, treated_index=True)],
     tp("3m", 91, [fu("L1", 10.2, 8.5)]), "PR", "pr_spd", -50.0),
    ("just_inside_pr", [base("L1", 40, 25, treated_index=True)],
     tp("3m", 91, [fu("L1", 50.1, 10)]), "SD", "sd", -49.9),
    ("pd_plus_25_exactly", [base("L1", 20, 10, treated_index=True)],
     tp("3m", 91, [fu("L1", 25, 10)]), "PD", "pd_spd", 25.0),
    # 11.4 × 10.2 → 12.75 × 11.4: naive floating point gives 24.999999999999993
    ("pd_plus_25_exactly_decimals", [base("L1", 11.4, 10.2, treated_index=True)],
     tp("3m", 91, [fu("L1", 12.75, 11.4)]), "PD", "pd_spd", 25.0),
    ("just_inside_pd", [base("L1", 40, 25, treated_index=True)],
     tp("3m", 91, [fu("L1", 124.9, 10)]), "SD", "sd", 24.9),
    ("no_measurable_lesions", [SMALL], tp("3m", 91, [fu("L1", 3, 2)]), "SD", "sd", None),
    ("ill_defined_not_measurable", [base("L1", None, None, well_defined=False,
                                         treated_index=True)],
     tp("3m", 91, [fu("L1")]), "SD", "sd", None),
    ("ill_defined_subjective_increase", [base("L1", 30, 20, well_defined=False,
                                              treated_index=True)],
     tp("3m", 91, [fu("L1", signs=("subjective_increase_25",))]), "PD", "pd_sign", None),
    ("ill_defined_subjective_decrease", [base("L1", 30, 20, well_defined=False,
                                              treated_index=True)],
     tp("3m", 91, [fu("L1", signs=("subjective_decrease_50",))]), "PR", "pr_sign", None),
    ("treated_index_not_evaluable", [TI, base("L2", 40, 40, level="L3")],
     tp("3m", 91, [fu("L1", evaluable=False), fu("L2", 40, 40)]), "NE", "ne_nonevaluable", 0.0),
    ("treated_index_missing_from_list", [TI, base("L2", 40, 40, level="L3")],
     tp("3m", 91, [fu("L2", 40, 40)]), "NE", "ne_nonevaluable", 0.0),
    ("nonevaluable_hold_50pct_exactly", [base("L1", 30, 20), base("L2", 30, 20,
                                                                  treated_index=True)],
     tp("3m", 91, [fu("L1", evaluable=False), fu("L2", 30, 20)]), "NE", "ne_nonevaluable", 0.0),
    ("nonevaluable_hold_under_50pct", [base("L1", 20, 20), base("L2", 30, 20,
                                                                treated_index=True)],
     tp("3m", 91, [fu("L1", evaluable=False), fu("L2", 30, 20)]), "SD", "sd", 0.0),
    ("cr_never_with_nonevaluable", [base("L1", 20, 20), TI | {"id": "L2"}],
     tp("3m", 91, [fu("L1", evaluable=False),
                   fu("L2", 30, 20, signs=("complete_fill_in",))]), "PR", "pr_sign", 0.0),
    ("cr_every_lesion", [TI, base("L2", 12, 12, phenotype="blastic")],
     tp("3m", 91, [fu("L1", 30, 20, signs=("complete_fill_in",)),
                   fu("L2", 12, 12, signs=("density_normalized",))]), "CR", "cr", 0.0),
    ("cr_mr_signal", [TI], tp("3m", 91, [fu("L1", 30, 20, signs=("signal_normalized",))],
                              modality="MR"), "CR", "cr", 0.0),
    ("cr_blocked_by_equivocal_new_lesion", [TI],
     tp("3m", 91, [fu("L1", 30, 20, signs=("complete_fill_in",))],
        new_lesions=[new(status="equivocal", phenotype="lytic")]), "PR", "pr_sign", 0.0),
    ("cr_needs_every_lesion", [TI, base("L2", 12, 12, phenotype="blastic")],
     tp("3m", 91, [fu("L1", 30, 20, signs=("complete_fill_in",)), fu("L2", 12, 12)]),
     "PR", "pr_sign", 0.0),
    ("split_lesion_sum_of_parts_pr", [TI],
     tp("3m", 91, [fu("L1", parts=[(10, 10), (10, 10)])]), "PR", "pr_spd", -200 / 3),
    ("split_lesion_sum_of_parts_sd", [TI],
     tp("3m", 91, [fu("L1", parts=[(20, 15), (15, 10)])]), "SD", "sd", -25.0),
    ("disappeared_lesion_zero", [TI], tp("3m", 91, [fu("L1", 0, 0)]), "PR", "pr_spd", -100.0),
    ("flare_sclerotic_new_with_response", [TI],
     tp("3m", 91, [fu("L1", 30, 20, signs=("sclerotic_rim",))],
        new_lesions=[new("T9", "definite", "sclerotic")]), "PR", "flare", 0.0),
    ("flare_by_spd_decrease", [TI],
     tp("3m", 91, [fu("L1", 20, 15)], new_lesions=[new("T9", "definite", "sclerotic")]),
     "PR", "flare", -50.0),
    ("flare_against_new_lytic", [TI],
     tp("3m", 91, [fu("L1", 30, 20, signs=("sclerotic_rim",))],
        new_lesions=[new("T9", "definite", "sclerotic"), new("T10", "definite", "lytic")]),
     "PD", "pd_new_lesion", 0.0),
    ("flare_blocked_by_other_trigger", [TI],
     tp("3m", 91, [fu("L1", 30, 20, signs=("sclerotic_rim",))],
        new_lesions=[new("T9", "definite", "sclerotic")], epidural_progression=True),
     "PD", "pd_new_lesion", 0.0),
    ("sclerotic_only_without_response_is_equivocal", [TI],
     tp("3m", 91, [fu("L1", 30, 20)], new_lesions=[new("T9", "definite", "sclerotic")]),
     "SD", "sd", 0.0),
    ("equivocal_lytic_new_lesion_not_pd", [TI],
     tp("3m", 91, [fu("L1", 30, 20)], new_lesions=[new("T9", "equivocal", "lytic")]),
     "SD", "sd", 0.0),
    ("definite_new_lytic", [TI], tp("3m", 91, [fu("L1", 30, 20)], new_lesions=[new()]),
     "PD", "pd_new_lesion", 0.0),
    ("definite_soft_tissue", [TI], tp("3m", 91, [fu("L1", 30, 20)],
                                      new_lesions=[new(phenotype="soft_tissue")]),
     "PD", "pd_new_lesion", 0.0),
    ("epidural", [TI], tp("3m", 91, [fu("L1", 30, 20)], epidural_progression=True),
     "PD", "pd_epidural", 0.0),
    ("pd_sign_beats_pr_spd", [TI],
     tp("3m", 91, [fu("L1", 10, 10, signs=("new_soft_tissue",))]), "PD", "pd_sign", -500 / 6),
    ("pd_sign_on_nonevaluable_ignored", [TI, base("L2", 40, 40, level="L3")],
     tp("3m", 91, [fu("L1", 30, 20), fu("L2", evaluable=False, signs=("qualitative_increase",))]),
     "NE", "ne_nonevaluable", 0.0),
    ("fracture_is_recorded_only", [TI], tp("3m", 91, [fu("L1", 30, 20)], fracture=True),
     "SD", "sd", 0.0),
    ("no_evaluable_lesion_no_baseline_lesions", [],
     tp("3m", 91, []), "NE", "ne_no_evaluable", None),
    ("pdu_flagged_flare", [TI], tp("1m", 30, [fu("L1", 30, 20)], new_lesions=[new()],
                                   possible_flare=True), "PDu", "pd_new_lesion", 0.0),
    ("pdu_window_inclusive", [TI], tp("6m", 183, [fu("L1", 40, 20)],
                                      possible_pseudoprogression=True), "PDu", "pd_spd", 100 / 3),
    ("pdu_window_past", [TI], tp("6m", 184, [fu("L1", 40, 20)],
                                 possible_pseudoprogression=True), "PD", "pd_spd", 100 / 3),
    ("flag_without_trigger", [TI], tp("1m", 30, [fu("L1", 30, 20)], possible_flare=True),
     "SD", "sd", 0.0),
]


@pytest.mark.parametrize(("name", "lesions", "follow_up", "category", "rule", "change"), CASES,
                         ids=[c[0] for c in CASES])
def test_timepoint_case(name: str, lesions: list[dict[str, Any]], follow_up: dict[str, Any],
                        category: str, rule: str, change: float | None) -> None:
    first = baseline(*lesions) if lesions else tp("baseline", 0, [])
    result = assess(first, follow_up)[follow_up["label"]]
    assert (result.category, result.rule) == (category, rule)
    if change is None:
        assert result.spd_change_pct is None
    else:
        assert result.spd_change_pct == pytest.approx(change, abs=1e-9)


def test_boundaries_are_exact_not_approximately() -> None:
    """The decimal boundary cases give exactly −50.0 and +25.0, not a float neighbour."""
    pr = assess(baseline(base("L1", 17.0, 10.2, treated_index=True)),
                tp("3m", 91, [fu("L1", 10.2, 8.5)]))["3m"]
    pd = assess(baseline(base("L1", 11.4, 10.2, treated_index=True)),
                tp("3m", 91, [fu("L1", 12.75, 11.4)]))["3m"]
    assert pr.spd_change_pct == -50.0
    assert pd.spd_change_pct == 25.0


def test_spd_uses_lesions_measurable_at_reference_and_evaluable_at_both() -> None:
    lesions = [TI, base("L2", 20, 10, level="L3"), base("L3", 9, 9, level="L4")]
    result = assess(baseline(*lesions),
                    tp("3m", 91, [fu("L1", 30, 10), fu("L2", evaluable=False), fu("L3", 20, 20)]))
    r = result["3m"]
    assert r.lesions_in_spd == ["L1"]  # L2 not evaluable here, L3 not measurable at baseline
    assert (r.spd_mm2, r.spd_ref_mm2) == (300.0, 600.0)
    assert r.spd_change_pct == -50.0
    assert r.nonevaluable == ["L2"]
    assert result["baseline"].spd_mm2 == 800.0  # the full reference SPD (L1 + L2)


def test_measurable_minimum_is_a_protocol_setting() -> None:
    """A 9 mm lesion is measurable when the protocol's minimum is 5 mm."""
    lesions = [base("L1", 9, 9, treated_index=True)]
    follow = tp("3m", 91, [fu("L1", 9, 4)])
    assert assess(baseline(*lesions), follow)["3m"].spd_change_pct is None
    strict = assess(baseline(*lesions), follow, protocol={"measurable_min_mm": 5})["3m"]
    assert strict.spd_change_pct == pytest.approx(100 * (36 - 81) / 81)
    assert (strict.category, strict.rule) == ("PR", "pr_spd")


def test_thresholds_are_protocol_settings() -> None:
    follow = tp("3m", 91, [fu("L1", 24, 20)])  # −20 %
    assert assess(baseline(TI), follow)["3m"].category == "SD"
    tuned = assess(baseline(TI), follow, protocol={"pr_threshold_pct": -20})["3m"]
    assert (tuned.category, tuned.rule) == ("PR", "pr_spd")
    grow = tp("3m", 91, [fu("L1", 33, 20)])  # +10 %
    assert assess(baseline(TI), grow, protocol={"pd_threshold_pct": 10})["3m"].rule == "pd_spd"


def test_triggers_listed_in_precedence_order() -> None:
    r = assess(baseline(TI), tp("3m", 91, [fu("L1", 60, 20, signs=("qualitative_increase",))],
                                new_lesions=[new()], epidural_progression=True))["3m"]
    assert r.triggers == ["pd_new_lesion", "pd_epidural", "pd_sign", "pd_spd"]
    assert r.rule == "pd_new_lesion"


def test_pdu_keeps_steps_2_to_6_category_aside() -> None:
    r = assess(baseline(TI), tp("1m", 30, [fu("L1", 30, 20, signs=("sclerotic_rim",))],
                                epidural_progression=True, possible_flare=True))["1m"]
    assert (r.category, r.alt_category, r.alt_rule) == ("PDu", "PR", "pr_sign")


def test_override_replaces_category_and_keeps_computed() -> None:
    r = assess(baseline(TI), tp("3m", 91, [fu("L1", 30, 20)],
                                override={"category": "PR", "reason": "sclerotic rim on MPR"}))
    assert (r["3m"].category, r["3m"].rule) == ("PR", "reader_override")
    assert (r["3m"].computed_category, r["3m"].computed_rule) == ("SD", "sd")
