"""Final categories across a subject's timepoints.

Order of the rules: per-timepoint categories (steps 0–6) → PDu resolution → equivocal new lesions
confirmed later (back-dated PD) → carry-forward of a final PD.
"""

from __future__ import annotations

from mdaread.criteria import vocabulary as v
from mdaread.criteria.result import TimepointResult
from mdaread.criteria.spd import ReferenceState, reference_state
from mdaread.criteria.timepoint import assess_timepoint
from mdaread.criteria.validate import validate_subject
from mdaread.model.observations import (
    NewLesion,
    ProtocolSettings,
    SubjectObservations,
    TimepointObservation,
)

EARLY_DAYS = 56
"""WHO: no "no change" call before 8 weeks; a read before day 56 is flagged early."""


def assess_subject(subject: SubjectObservations,
                   protocol: ProtocolSettings | None = None) -> list[TimepointResult]:
    """Every timepoint's category and final category, in the subject's input order.

    Raises CriteriaInputError (naming subject, timepoint and key) for observations the criteria
    cannot evaluate.
    """
    protocol = protocol or ProtocolSettings()
    validate_subject(subject, protocol)
    ref = reference_state(subject, protocol)
    chrono = subject.chronological()
    ref_index = next(i for i, tp in enumerate(chrono) if tp.label == ref.label)
    results = [_before_reference(tp, i == ref_index, ref) if i <= ref_index
               else assess_timepoint(tp, subject.baseline_lesions, ref, protocol)
               for i, tp in enumerate(chrono)]
    for tp, result in zip(chrono, results, strict=True):
        _add_warnings(result, tp, ref, subject, result.category is not None)
    after = list(range(ref_index + 1, len(chrono)))
    _resolve_pdu(results, after)
    _backdate_equivocal(results, chrono, after)
    if protocol.pd_carry_forward:
        _carry_forward(results, after)
    for result in results:  # a PD not dated elsewhere is dated to its own timepoint
        if result.final_category == "PD" and result.pd_dated_to is None:
            result.pd_dated_to = result.label
    by_label = {r.label: r for r in results}
    return [by_label[tp.label] for tp in subject.timepoints]


def _before_reference(tp: TimepointObservation, is_reference: bool,
                      ref: ReferenceState) -> TimepointResult:
    """The reference and earlier timepoints have no category (null)."""
    rule = v.RULE_REFERENCE if is_reference else v.RULE_BEFORE_REFERENCE
    result = TimepointResult(label=tp.label, days=tp.days, category=None, rule=rule,
                             final_category=None, final_rule=rule, reference=ref.label,
                             computed_rule=rule)
    if is_reference and ref.measurable:
        result.lesions_in_spd = list(ref.measurable)
        result.spd_mm2 = result.spd_ref_mm2 = float(ref.spd)
    return result


def _add_warnings(result: TimepointResult, tp: TimepointObservation, ref: ReferenceState,
                  subject: SubjectObservations, has_category: bool) -> None:
    result.early = tp.days < EARLY_DAYS
    if has_category and result.early:
        result.warnings.append(v.WARNING_EARLY)
    if has_category and tp.scan_available and tp.modality != ref.modality:
        result.warnings.append(v.WARNING_MODALITY_MISMATCH)
    levels = {les.level for les in subject.baseline_lesions} | {
        nl.level for nl in tp.new_lesions}
    if tp.scan_available and levels & set(tp.cement_levels):
        result.warnings.append(v.WARNING_CEMENT)


def _resolve_pdu(results: list[TimepointResult], after: list[int]) -> None:
    """A PDu resolves at the next timepoint whose category is not NE: PD or PDu there → both PD
    (dated to the first); anything else → the PDu takes its steps 2–6 category. Else stays PDu."""
    for pos, i in enumerate(after):
        first = results[i]
        if first.final_category != "PDu":
            continue
        nxt = next((results[j] for j in after[pos + 1:] if results[j].category != "NE"), None)
        if nxt is None:
            continue
        if nxt.category in ("PD", "PDu"):
            first.final_category, first.final_rule = "PD", v.FINAL_PDU_CONFIRMED
            first.pd_dated_to = first.label
            if nxt.final_category == "PDu":
                nxt.final_category, nxt.final_rule = "PD", v.FINAL_PDU_CONFIRMED
            nxt.pd_dated_to = first.label
        else:
            first.final_category, first.final_rule = first.alt_category, v.FINAL_PDU_RESOLVED
        first.resolved_by = nxt.label


def _matches(later: NewLesion, earlier: NewLesion) -> bool:
    """New lesions match by id when both have one, otherwise by vertebral level."""
    if later.id and earlier.id:
        return later.id == earlier.id
    return later.level == earlier.level


def _backdate_equivocal(results: list[TimepointResult], chrono: list[TimepointObservation],
                        after: list[int]) -> None:
    """A new lesion that counted as definite at a timepoint whose final category is PD, first
    shown as equivocal at an earlier timepoint → that earlier timepoint's final category is PD."""
    for pos, j in enumerate(after):
        if results[j].final_category != "PD":
            continue
        for index in results[j].new_lesions_definite:
            lesion = chrono[j].new_lesions[index]
            for i in after[:pos]:
                shown = [k for k, nl in enumerate(chrono[i].new_lesions) if _matches(lesion, nl)]
                if not shown:
                    continue
                if any(k in results[i].new_lesions_equivocal for k in shown):
                    earlier = results[i]
                    if earlier.final_category != "PD":
                        earlier.final_category, earlier.final_rule = "PD", v.FINAL_PD_BACKDATED
                    earlier.pd_dated_to = earlier.label
                    results[j].pd_dated_to = earlier.label
                break  # only the first timepoint that showed it


def _carry_forward(results: list[TimepointResult], after: list[int]) -> None:
    """Every timepoint after a final PD is PD."""
    seen_pd: str | None = None
    for i in after:
        result = results[i]
        if seen_pd is not None and result.final_category != "PD":
            result.final_category, result.final_rule = "PD", v.FINAL_PD_CARRIED_FORWARD
            result.pd_dated_to = result.pd_dated_to or seen_pd
        if result.final_category == "PD" and seen_pd is None:
            seen_pd = result.pd_dated_to or result.label
