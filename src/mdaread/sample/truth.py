"""The records of truth.json and observations.json for one subject's timepoint.

truth.json is what the generator knows (geometry, transforms, true sizes, expected categories);
observations.json is what a correct reader would record, in the batch form of
../shared/mda-criteria.md. Coordinates are LPS mm; ``*_baseline_lps`` points are in the baseline
scan's frame, ``*_lps`` points in the timepoint's own frame: bent by the timepoint's posture, then
moved by ``baseline_to_timepoint`` (which is exact for the treated vertebra's rigid zone only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mdaread.sample.anatomy import Anatomy
from mdaread.sample.lesions import Cement, lesion_centre, new_lesion_centre
from mdaread.sample.posture import Posture
from mdaread.sample.scenarios import LABELS, Scenario, State

F64 = npt.NDArray[np.float64]


@dataclass
class TimepointFacts:
    """What the generator decided for one timepoint of one subject."""

    t: int  # 0 = baseline … 4 = 12m
    days: int
    date: str  # YYYY-MM-DD
    modality: str  # CT | MR
    matrix: F64  # baseline LPS → this timepoint's LPS (4×4), exact in the rigid zone only
    series: list[dict[str, Any]]
    posture: Posture | None = None  # the spine's bend at this timepoint (None: unbent)

    @property
    def label(self) -> str:
        return LABELS[self.t]


def _point(facts: TimepointFacts, p: tuple[float, float, float]) -> list[float]:
    """Where the rest-anatomy point ``p`` (baseline LPS mm) lies in this timepoint's LPS mm:
    bent by the posture, then moved by the rigid transform."""
    m = facts.matrix
    posed = facts.posture.to_posed(p) if facts.posture else np.asarray(p, dtype=np.float64)
    return [round(float(v), 4) for v in m[:3, :3] @ posed + m[:3, 3]]


def _rounded(p: tuple[float, float, float]) -> list[float]:
    return [round(float(v), 4) for v in p]


def _flags(scenario: Scenario, label: str) -> dict[str, bool]:
    raised = scenario.flags.get(label, ())
    return {name: name in raised for name in ("possible_flare", "possible_pseudoprogression")}


def _expected(scenario: Scenario, t: int) -> tuple[str | None, str | None]:
    return (None, None) if t == 0 else scenario.expected[t - 1]


def timepoint_truth(anatomy: Anatomy, scenario: Scenario, cement: list[Cement],
                    facts: TimepointFacts) -> dict[str, Any]:
    """The truth.json record of one timepoint."""
    t, m = facts.t, facts.matrix
    lesions = []
    for les in scenario.lesions:
        state = les.states[t]
        centre = lesion_centre(anatomy.vertebrae[les.level], les.offset)
        lesions.append({
            "id": les.id, "level": les.level, "phenotype": les.phenotype,
            "treated_index": les.treated_index, "look": state.look,
            "long_mm": state.long_mm, "perp_mm": state.perp_mm,
            "centre_baseline_lps": _rounded(centre), "centre_lps": _point(facts, centre),
            "evaluable": state.evaluable, "ne_reason": state.ne_reason,
            "signs": list(state.signs),
        })
    new_lesions = []
    for new in scenario.new_lesions:
        seen = new.states[t]
        if seen is None:
            continue
        centre = new_lesion_centre(anatomy, new)
        new_lesions.append({
            "id": new.id, "level": new.level, "phenotype": new.phenotype, "status": seen[0],
            "long_mm": seen[1], "perp_mm": seen[2],
            "centre_baseline_lps": _rounded(centre), "centre_lps": _point(facts, centre),
        })
    boluses = [{"level": c.level, "centre_baseline_lps": _rounded(c.centre),
                "centre_lps": _point(facts, c.centre), "radii_mm": _rounded(c.radii)}
               for c in cement] if t > 0 else []
    category, final = _expected(scenario, t)
    return {
        "label": facts.label, "days": facts.days, "date": facts.date,
        "modality": facts.modality, "series": facts.series,
        "baseline_to_timepoint": [[round(float(v), 10) for v in row] for row in m],
        "lesions": lesions, "new_lesions": new_lesions,
        "cement": {"present": bool(boluses), "boluses": boluses},
        "posture": facts.posture.to_json() if facts.posture else None,
        "vertebral_body_centres_lps": {lv: _point(facts, v.centre())
                                       for lv, v in anatomy.vertebrae.items()},
        "flags": _flags(scenario, facts.label),
        "artifact": facts.label in scenario.artifacts,
        "expected_category": category, "expected_final_category": final,
    }


def timepoint_observation(scenario: Scenario, facts: TimepointFacts) -> dict[str, Any]:
    """The observations.json record of one timepoint (batch form of mda-criteria.md)."""
    t = facts.t
    record: dict[str, Any] = {"label": facts.label, "days": facts.days,
                              "modality": facts.modality, "scan_available": True}
    if t == 0:
        record["lesions"] = [{
            "id": les.id, "level": les.level, "phenotype": les.phenotype,
            "well_defined": les.well_defined, "long_mm": les.states[0].long_mm,
            "perp_mm": les.states[0].perp_mm, "treated_index": les.treated_index,
        } for les in scenario.lesions]
        return record
    record["lesions"] = [_follow_up_lesion(les.id, les.states[t]) for les in scenario.lesions]
    record["new_lesions"] = [{"id": new.id, "level": new.level, "status": seen[0],
                              "phenotype": new.phenotype}
                             for new in scenario.new_lesions
                             if (seen := new.states[t]) is not None]
    record.update(_flags(scenario, facts.label))
    record["epidural_progression"] = False
    record["fracture"] = False
    return record


def _follow_up_lesion(lesion_id: str, state: State) -> dict[str, Any]:
    """A baseline lesion as read at a follow-up: diameters and signs, or why it is not
    evaluable (then without diameters: the reader could not measure it)."""
    if not state.evaluable:
        return {"id": lesion_id, "evaluable": False, "ne_reason": state.ne_reason}
    return {"id": lesion_id, "evaluable": True, "long_mm": state.long_mm,
            "perp_mm": state.perp_mm, "signs": list(state.signs)}
