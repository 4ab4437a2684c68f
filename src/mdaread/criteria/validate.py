"""Checks across records that the criteria need (one subject at a time).

Every problem raises CriteriaInputError naming subject, timepoint and key: the same checks run
for a batch file and for observations built by the guided read.
"""

from __future__ import annotations

from mdaread.criteria.spd import exact, find_reference, reference_state
from mdaread.criteria.vocabulary import applicable_signs, input_error
from mdaread.model.observations import (
    LesionBaseline,
    LesionFollowUp,
    ProtocolSettings,
    SubjectObservations,
    TimepointObservation,
)


def validate_subject(subject: SubjectObservations, protocol: ProtocolSettings) -> None:
    """Raise CriteriaInputError for observations the criteria cannot evaluate."""
    name = subject.subject
    if not subject.timepoints:
        raise input_error(name, None, "timepoints", "no timepoint")
    labels = [tp.label for tp in subject.timepoints]
    for label in labels:
        if labels.count(label) > 1:
            raise input_error(name, label, "label", "duplicate timepoint label")
    if find_reference(subject, protocol.reference) is None:
        raise input_error(name, None, "protocol.reference",
                          f"no timepoint labelled {protocol.reference!r}")
    baseline = subject.baseline
    _check_baseline(name, baseline)
    known = {les.id: les for les in subject.baseline_lesions}
    for tp in subject.timepoints:
        if tp is not baseline:
            _check_follow_up(name, tp, known)
    _check_diameters(subject, protocol)
    _check_plausible(subject, protocol)


def _diameter_pairs(lesion: LesionBaseline | LesionFollowUp) -> list[tuple[str, float | None,
                                                                        float | None]]:
    """(key suffix, long, perpendicular) of a lesion and, for a split one, of each part."""
    pairs: list[tuple[str, float | None, float | None]] = [("", lesion.long_mm, lesion.perp_mm)]
    if isinstance(lesion, LesionFollowUp):
        pairs += [(f".parts[{i}]", part.long_mm, part.perp_mm)
                  for i, part in enumerate(lesion.parts)]
    return pairs


def _check_plausible(subject: SubjectObservations, protocol: ProtocolSettings) -> None:
    """Values no scan can produce — a typing or unit error — are refused before any arithmetic
    (a 1e200 mm diameter overflowed the product): days beyond ± ``max_days``, diameters above
    ``max_diameter_mm``, a perpendicular longer than the long axis."""
    for tp in subject.timepoints:
        if abs(tp.days) > protocol.max_days:
            raise input_error(subject.subject, tp.label, "days",
                              f"{tp.days:g} days is beyond the plausible ±{protocol.max_days:g} "
                              "(protocol max_days)")
        for index, lesion in enumerate(tp.lesions):
            for suffix, long_mm, perp_mm in _diameter_pairs(lesion):
                key = f"lesions[{index}]{suffix}"
                for name, value in (("long_mm", long_mm), ("perp_mm", perp_mm)):
                    if value is not None and value > protocol.max_diameter_mm:
                        raise input_error(
                            subject.subject, tp.label, f"{key}.{name}",
                            f"{value:g} mm is beyond the plausible maximum "
                            f"{protocol.max_diameter_mm:g} mm (protocol max_diameter_mm)")
                if long_mm is not None and perp_mm is not None and perp_mm > long_mm:
                    raise input_error(subject.subject, tp.label, f"{key}.perp_mm",
                                      f"{perp_mm:g} mm is longer than long_mm {long_mm:g} mm "
                                      "(the perpendicular is the shorter diameter)")


def _check_baseline(name: str, baseline: TimepointObservation) -> None:
    seen: set[str] = set()
    for index, lesion in enumerate(baseline.lesions):
        key = f"lesions[{index}]"
        if not isinstance(lesion, LesionBaseline):
            raise input_error(name, baseline.label, key,
                              "the earliest timepoint must hold baseline lesion records")
        if lesion.id in seen:
            raise input_error(name, baseline.label, f"{key}.id", f"duplicate lesion id {lesion.id}")
        seen.add(lesion.id)


def _check_follow_up(name: str, tp: TimepointObservation,
                     known: dict[str, LesionBaseline]) -> None:
    seen: set[str] = set()
    for index, lesion in enumerate(tp.lesions):
        key = f"lesions[{index}]"
        if not isinstance(lesion, LesionFollowUp):
            raise input_error(name, tp.label, key, "expected a follow-up lesion record")
        base = known.get(lesion.id)
        if base is None:
            raise input_error(name, tp.label, f"{key}.id",
                              f"unknown lesion {lesion.id} (not recorded at baseline; "
                              "new lesions go in new_lesions)")
        if lesion.id in seen:
            raise input_error(name, tp.label, f"{key}.id", f"duplicate lesion id {lesion.id}")
        seen.add(lesion.id)
        allowed = applicable_signs(base.phenotype, base.well_defined, tp.modality)
        for i, sign in enumerate(lesion.signs):
            if sign not in allowed:
                raise input_error(
                    name, tp.label, f"{key}.signs[{i}]",
                    f"sign {sign} does not apply to lesion {lesion.id} "
                    f"({base.phenotype}, {'well' if base.well_defined else 'ill'}-defined, "
                    f"{tp.modality}); allowed: {', '.join(sorted(allowed))}")


def _check_diameters(subject: SubjectObservations, protocol: ProtocolSettings) -> None:
    """An evaluable lesion measurable at baseline or at the reference needs its diameters."""
    minimum = exact(protocol.measurable_min_mm)
    must_measure = {
        les.id for les in subject.baseline_lesions
        if les.well_defined and les.long_mm is not None and les.perp_mm is not None
        and exact(les.long_mm) >= minimum and exact(les.perp_mm) >= minimum
    }
    must_measure |= set(reference_state(subject, protocol).measurable)
    baseline = subject.baseline
    for tp in subject.timepoints:
        if tp is baseline or not tp.scan_available:
            continue
        for index, lesion in enumerate(tp.lesions):
            if (isinstance(lesion, LesionFollowUp) and lesion.evaluable
                    and lesion.id in must_measure and not lesion.has_diameters):
                raise input_error(subject.subject, tp.label, f"lesions[{index}].long_mm",
                                  f"missing: lesion {lesion.id} is measurable and evaluable "
                                  "(give long_mm and perp_mm, or parts)")
