"""Sum of bidimensional products (SPD) and its change, in exact arithmetic.

Diameters arrive as floats in mm; each is taken at the decimal value it was written with
(``Fraction(repr(x))``), so products, sums, change % and the threshold comparisons are exact:
−50.0 % and +25.0 % land on their boundary however the diameters were written. Floats are made
only for output (unrounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from mdaread.model.observations import (
    LesionBaseline,
    LesionFollowUp,
    ProtocolSettings,
    SubjectObservations,
    TimepointObservation,
)


def exact(value: float) -> Fraction:
    """The decimal value a number was written with, as an exact fraction."""
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(repr(float(value)))


def lesion_product(lesion: LesionBaseline | LesionFollowUp) -> Fraction | None:
    """long × perp in mm² (sum over the parts of a split lesion); None when not measured."""
    if isinstance(lesion, LesionFollowUp) and lesion.parts:
        return sum((exact(p.long_mm) * exact(p.perp_mm) for p in lesion.parts), Fraction(0))
    if lesion.long_mm is None or lesion.perp_mm is None:
        return None
    return exact(lesion.long_mm) * exact(lesion.perp_mm)


def _big_enough(lesion: LesionBaseline | LesionFollowUp, minimum: Fraction) -> bool:
    """Both diameters ≥ minimum; a split lesion: at least one part with both ≥ minimum."""
    if isinstance(lesion, LesionFollowUp) and lesion.parts:
        return any(exact(p.long_mm) >= minimum and exact(p.perp_mm) >= minimum
                   for p in lesion.parts)
    if lesion.long_mm is None or lesion.perp_mm is None:
        return False
    return exact(lesion.long_mm) >= minimum and exact(lesion.perp_mm) >= minimum


@dataclass(frozen=True)
class ReferenceState:
    """The reference timepoint as the SPD arithmetic needs it.

    ``measurable`` maps the id of every lesion measurable at the reference (well defined at
    baseline, evaluable at the reference, both diameters ≥ ``measurable_min_mm``) to its product
    there in mm²; ``spd`` is their sum (the full reference SPD).
    """

    label: str
    days: float
    modality: str
    measurable: dict[str, Fraction]

    @property
    def spd(self) -> Fraction:
        return sum(self.measurable.values(), Fraction(0))


def find_reference(subject: SubjectObservations, label: str) -> TimepointObservation | None:
    """The timepoint named by the protocol's ``reference``, or None when the subject lacks it."""
    for tp in subject.timepoints:
        if tp.label == label:
            return tp
    return None


def reference_state(subject: SubjectObservations, protocol: ProtocolSettings) -> ReferenceState:
    """Lesions measurable at the reference timepoint and their products (mm²).

    The caller has checked that the reference exists (``validate_subject``).
    """
    ref = find_reference(subject, protocol.reference)
    if ref is None:
        raise ValueError(f"subject {subject.subject} has no timepoint {protocol.reference!r}")
    minimum = exact(protocol.measurable_min_mm)
    measurable: dict[str, Fraction] = {}
    is_baseline = ref is subject.baseline
    for base in subject.baseline_lesions:
        if not base.well_defined:
            continue
        record: LesionBaseline | LesionFollowUp = base
        if not is_baseline:
            found = ref.follow_up(base.id) if ref.scan_available else None
            if found is None or not found.evaluable:
                continue
            record = found
        product = lesion_product(record)
        if product is not None and _big_enough(record, minimum):
            measurable[base.id] = product
    return ReferenceState(ref.label, ref.days, ref.modality, measurable)


@dataclass(frozen=True)
class SpdFigures:
    """SPD at a timepoint over ``lesion_ids`` (mm², exact), at the reference, and change %."""

    lesion_ids: list[str]
    spd: Fraction
    spd_ref: Fraction

    @property
    def change_pct(self) -> Fraction | None:
        """100 × (SPD − SPD_ref) / SPD_ref; None when SPD_ref = 0 (quantitative arm skipped)."""
        if self.spd_ref == 0:
            return None
        return 100 * (self.spd - self.spd_ref) / self.spd_ref


def spd_figures(products: dict[str, Fraction], ref: ReferenceState) -> SpdFigures:
    """SPD over lesions measurable at the reference and evaluable here.

    ``products`` maps each lesion evaluable at this timepoint (with diameters) to its product.
    """
    ids = [lid for lid in ref.measurable if lid in products]
    spd = sum((products[lid] for lid in ids), Fraction(0))
    spd_ref = sum((ref.measurable[lid] for lid in ids), Fraction(0))
    return SpdFigures(ids, spd, spd_ref)
