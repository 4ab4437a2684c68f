"""Steps 0–6 of the criteria at one timepoint (the first step that applies wins)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from mdaread.criteria import vocabulary as v
from mdaread.criteria.result import TimepointResult
from mdaread.criteria.spd import ReferenceState, SpdFigures, exact, lesion_product, spd_figures
from mdaread.model.observations import (
    CR_SIGNS,
    PD_SIGNS,
    LesionBaseline,
    LesionFollowUp,
    ProtocolSettings,
    TimepointObservation,
)


@dataclass
class _Findings:
    """What the steps look at, gathered once from the observation (products in mm², exact)."""

    evaluable: dict[str, LesionFollowUp]
    nonevaluable: list[str]
    spd: SpdFigures
    pd_sign: bool
    response_sign: bool
    triggers: list[str] = field(default_factory=list)
    all_sclerotic: bool = False
    response: bool = False


def _gather(tp: TimepointObservation, baseline: list[LesionBaseline], ref: ReferenceState,
            protocol: ProtocolSettings) -> _Findings:
    evaluable: dict[str, LesionFollowUp] = {}
    nonevaluable: list[str] = []
    for base in baseline:
        record = tp.follow_up(base.id)
        if record is not None and record.evaluable:
            evaluable[base.id] = record
        else:  # missing from the list, or marked not evaluable
            nonevaluable.append(base.id)
    products = {lid: p for lid, rec in evaluable.items() if (p := lesion_product(rec)) is not None}
    figures = spd_figures(products, ref)
    signs = {s for rec in evaluable.values() for s in rec.signs}
    found = _Findings(evaluable, nonevaluable, figures, bool(signs & PD_SIGNS),
                      bool(signs & v.RESPONSE_SIGNS))
    change = figures.change_pct
    found.response = found.response_sign or (
        change is not None and change <= exact(protocol.pr_threshold_pct))
    found.all_sclerotic = bool(tp.new_lesions) and all(
        nl.phenotype == "sclerotic" for nl in tp.new_lesions)
    found.triggers = _triggers(tp, found, protocol)
    return found


def _triggers(tp: TimepointObservation, found: _Findings, protocol: ProtocolSettings) -> list[str]:
    """Step 1's PD triggers that fired, in precedence order.

    A definite new lesion triggers unless the new lesions are all sclerotic and either there is no
    other sign of response (then they count as equivocal) or flare applies (a response sign and no
    other trigger).
    """
    change = found.spd.change_pct
    others = []
    if tp.epidural_progression:
        others.append(v.RULE_PD_EPIDURAL)
    if found.pd_sign:
        others.append(v.RULE_PD_SIGN)
    if change is not None and change >= exact(protocol.pd_threshold_pct):
        others.append(v.RULE_PD_SPD)
    definite = any(nl.status == "definite" for nl in tp.new_lesions)
    new_fires = definite and (not found.all_sclerotic or (found.response and bool(others)))
    return ([v.RULE_PD_NEW_LESION] if new_fires else []) + others


def _steps_2_to_6(tp: TimepointObservation, baseline: list[LesionBaseline], ref: ReferenceState,
                  found: _Findings, protocol: ProtocolSettings) -> tuple[str, str]:
    """Category and rule of steps 2–6, step 1's triggers set aside (or none fired)."""
    change = found.spd.change_pct
    if found.all_sclerotic and found.response:
        return "PR", v.RULE_FLARE
    if (baseline and not found.nonevaluable and not tp.new_lesions
            and all(set(rec.signs) & CR_SIGNS for rec in found.evaluable.values())):
        return "CR", v.RULE_CR
    if change is not None and change <= exact(protocol.pr_threshold_pct):
        return "PR", v.RULE_PR_SPD
    if found.response_sign:
        return "PR", v.RULE_PR_SIGN
    if found.nonevaluable and _nonevaluable_dominates(baseline, found.nonevaluable, ref):
        return "NE", v.RULE_NE_NONEVALUABLE
    if found.evaluable:
        return "SD", v.RULE_SD
    return "NE", v.RULE_NE_NO_EVALUABLE


def _nonevaluable_dominates(baseline: list[LesionBaseline], nonevaluable: list[str],
                            ref: ReferenceState) -> bool:
    """Step 5: the treated index lesion is not evaluable, or those not evaluable held ≥ 50 % of
    the reference SPD (skipped when the reference SPD is 0)."""
    missing = set(nonevaluable)
    if any(les.treated_index and les.id in missing for les in baseline):
        return True
    total = ref.spd
    held = sum((p for lid, p in ref.measurable.items() if lid in missing), Fraction(0))
    return total > 0 and 2 * held >= total


def assess_timepoint(tp: TimepointObservation, baseline: list[LesionBaseline],
                     ref: ReferenceState, protocol: ProtocolSettings) -> TimepointResult:
    """The per-timepoint category of a timepoint after the reference (steps 0–6).

    ``baseline`` are the subject's tracked lesions; ``ref`` the reference state
    (``spd.reference_state``). Warnings and the across-timepoint categories are added by
    ``assess_subject``; ``final_category`` here equals ``category``.
    """
    result = TimepointResult(label=tp.label, days=tp.days, category="NE", rule=v.RULE_NO_SCAN,
                             reference=ref.label)
    if not tp.scan_available:  # step 0
        result.alt_category, result.alt_rule = "NE", v.RULE_NO_SCAN
        result.nonevaluable = [les.id for les in baseline]
        return _finish(result, tp)
    found = _gather(tp, baseline, ref, protocol)
    _set_numbers(result, found)
    result.alt_category, result.alt_rule = _steps_2_to_6(tp, baseline, ref, found, protocol)
    if found.triggers:  # step 1
        flagged = tp.possible_flare or tp.possible_pseudoprogression
        within = exact(tp.days) <= exact(protocol.unconfirmed_window_days)
        result.category = "PDu" if flagged and within else "PD"
        result.rule = found.triggers[0]
    else:
        result.category, result.rule = result.alt_category, result.alt_rule
    _classify_new_lesions(result, tp, found)
    return _finish(result, tp)


def _set_numbers(result: TimepointResult, found: _Findings) -> None:
    figures = found.spd
    change = figures.change_pct
    result.lesions_in_spd = list(figures.lesion_ids)
    result.nonevaluable = list(found.nonevaluable)
    result.triggers = list(found.triggers)
    if figures.lesion_ids:
        result.spd_mm2 = float(figures.spd)
        result.spd_ref_mm2 = float(figures.spd_ref)
    result.spd_change_pct = None if change is None else float(change)


def _classify_new_lesions(result: TimepointResult, tp: TimepointObservation,
                          found: _Findings) -> None:
    """Which new lesions counted as definite (a PD trigger) and which as equivocal here."""
    fired = v.RULE_PD_NEW_LESION in found.triggers
    demoted = found.all_sclerotic and not found.response
    for index, nl in enumerate(tp.new_lesions):
        if nl.status == "definite" and fired:
            result.new_lesions_definite.append(index)
        elif nl.status == "equivocal" or demoted:
            result.new_lesions_equivocal.append(index)


def _finish(result: TimepointResult, tp: TimepointObservation) -> TimepointResult:
    result.computed_category, result.computed_rule = result.category, result.rule
    if tp.override is not None:
        result.category, result.rule = tp.override.category, v.RULE_OVERRIDE
    result.final_category, result.final_rule = result.category, result.rule
    return result
