"""Observation records, protocol settings and the batch parser's defaults."""

from __future__ import annotations

import json

import pytest

from criteria_cases.builders import base, baseline, batch, fu, tp
from mdaread.criteria import parse_batch, parse_timepoint
from mdaread.errors import CriteriaInputError
from mdaread.model.observations import (
    LesionFollowUp,
    LesionPart,
    NewLesion,
    ProtocolSettings,
    TimepointObservation,
)


def test_protocol_defaults_match_spec() -> None:
    p = ProtocolSettings()
    assert (p.measurable_min_mm, p.pr_threshold_pct, p.pd_threshold_pct) == (10, -50, 25)
    assert (p.reference, p.unconfirmed_window_days, p.pd_carry_forward) == ("baseline", 183, True)
    assert p.version == "1"


def test_protocol_round_trip_through_json() -> None:
    p = ProtocolSettings(measurable_min_mm=15, reference="1m", pd_carry_forward=False)
    stored = json.loads(json.dumps(p.to_dict()))
    assert ProtocolSettings.from_dict(stored) == p
    assert set(stored) == {"measurable_min_mm", "pr_threshold_pct", "pd_threshold_pct",
                           "reference", "unconfirmed_window_days", "pd_carry_forward",
                           "max_diameter_mm", "max_days", "version"}


@pytest.mark.parametrize("bad", [{"measurable_min_mm": 0}, {"pr_threshold_pct": 10},
                                 {"pd_threshold_pct": -5}, {"reference": ""},
                                 {"version": "99"}, {"unconfirmed_window_days": -1},
                                 {"max_diameter_mm": 5}, {"max_days": 0}])
def test_protocol_rejects_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ProtocolSettings.from_dict(bad)
    with pytest.raises(CriteriaInputError, match="protocol"):
        parse_batch(batch(baseline(), protocol=bad))


def test_protocol_from_dict_rejects_unknown_key() -> None:
    with pytest.raises(KeyError):
        ProtocolSettings.from_dict({"pd_threshold": 20})


def test_records_validate_vocabulary() -> None:
    with pytest.raises(ValueError):
        LesionFollowUp("L1", signs=("bigger",))
    with pytest.raises(ValueError):
        NewLesion("T9", "possible", "lytic")
    with pytest.raises(ValueError):
        TimepointObservation("1m", 30, "PET")
    with pytest.raises(ValueError):
        LesionPart(-1, 2)


def test_batch_defaults() -> None:
    _, [subject] = parse_batch(batch(baseline(), {"label": "3m", "days": 91, "modality": "CT",
                                                  "lesions": [{"id": "L1", "long_mm": 30,
                                                               "perp_mm": 20}]}))
    follow = subject.timepoints[1]
    assert follow.scan_available and not follow.new_lesions
    assert not (follow.epidural_progression or follow.possible_flare
                or follow.possible_pseudoprogression or follow.fracture)
    lesion = follow.follow_up("L1")
    assert lesion is not None and lesion.evaluable and lesion.signs == ()


def test_lesions_required_only_when_scan_available() -> None:
    parse_batch(batch(baseline(), tp("3m", 91, scan_available=False)))
    with pytest.raises(CriteriaInputError, match="timepoint 3m, key lesions: missing"):
        parse_batch(batch(baseline(), tp("3m", 91)))


def test_ill_defined_baseline_lesion_needs_no_diameters() -> None:
    lesion = base(well_defined=False)
    del lesion["long_mm"], lesion["perp_mm"]
    parse_batch(batch(baseline(lesion)))
    well = base()
    del well["perp_mm"]
    with pytest.raises(CriteriaInputError, match=r"key lesions\[0\].perp_mm: missing"):
        parse_batch(batch(baseline(well)))


def test_measurable_evaluable_lesion_needs_diameters() -> None:
    with pytest.raises(CriteriaInputError, match=r"timepoint 3m, key lesions\[0\].long_mm"):
        parse_batch(batch(baseline(), tp("3m", 91, [fu("L1")])))
    parse_batch(batch(baseline(), tp("3m", 91, [fu("L1", evaluable=False)])))


def test_split_lesion_parts_parse() -> None:
    _, [subject] = parse_batch(batch(baseline(), tp("3m", 91, [fu("L1", parts=[(12, 10),
                                                                              (8, 6)])])))
    lesion = subject.timepoints[1].follow_up("L1")
    assert lesion is not None and lesion.parts == (LesionPart(12, 10), LesionPart(8, 6))
    both = fu("L1", 30, 20)
    both["parts"] = [{"long_mm": 1, "perp_mm": 1}]
    with pytest.raises(CriteriaInputError, match="parts"):
        parse_batch(batch(baseline(), tp("3m", 91, [both])))


def test_duplicate_labels_and_lesion_ids_refused() -> None:
    with pytest.raises(CriteriaInputError, match="duplicate timepoint label"):
        parse_batch(batch(baseline(), tp("3m", 91, [fu("L1", 1, 1)]),
                          tp("3m", 92, [fu("L1", 1, 1)])))
    with pytest.raises(CriteriaInputError, match="duplicate lesion id"):
        parse_batch(batch(baseline(base("L1"), base("L1"))))


def test_parse_timepoint_for_a_stored_read() -> None:
    stored = tp("1m", 30, [fu("L1", 20, 14, signs=("sclerotic_rim",))], possible_flare=True)
    obs = parse_timepoint(json.loads(json.dumps(stored)), baseline=False, subject="MDA-001")
    assert obs.possible_flare and obs.follow_up("L1") is not None
    with pytest.raises(CriteriaInputError, match="subject MDA-001, timepoint 1m, key days"):
        parse_timepoint({**stored, "days": None}, baseline=False, subject="MDA-001")


def test_every_sign_and_rule_has_help() -> None:
    from mdaread.criteria import RULE_HELP, SIGN_HELP
    from mdaread.criteria import vocabulary as v
    from mdaread.model.observations import SIGNS

    assert set(SIGN_HELP) == set(SIGNS)
    rules = {value for name, value in vars(v).items() if name.startswith("RULE_")
             and isinstance(value, str)}
    assert set(RULE_HELP) == rules
