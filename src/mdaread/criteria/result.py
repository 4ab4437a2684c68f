"""TimepointResult: the category of one timepoint, the rule that decided and what it used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TimepointResult:
    """The outcome of the criteria at one timepoint.

    ``category`` is the per-timepoint category (steps 0–6, or the reader's override);
    ``final_category`` the category after the across-timepoint rules (PDu resolution, equivocal
    new lesions back-dated, carry-forward). ``None`` for both at the reference and before it.
    ``rule`` names the step that decided ``category``; ``final_rule`` what set ``final_category``.
    ``spd_mm2`` is the sum of products (mm²) at this timepoint over ``lesions_in_spd`` (measurable
    at the reference, evaluable at both); ``spd_ref_mm2`` the same lesions at the reference;
    ``spd_change_pct`` = 100 × (SPD − SPD_ref) / SPD_ref, unrounded, ``None`` when SPD_ref = 0.
    ``triggers`` lists the PD triggers that fired (step 1); ``alt_category``/``alt_rule`` are what
    steps 2–6 give with those triggers set aside (used when a PDu resolves as not progression).
    """

    label: str
    days: float
    category: str | None
    rule: str
    final_category: str | None = None
    final_rule: str = ""
    reference: str = "baseline"
    spd_mm2: float | None = None
    spd_ref_mm2: float | None = None
    spd_change_pct: float | None = None
    early: bool = False
    warnings: list[str] = field(default_factory=list)
    lesions_in_spd: list[str] = field(default_factory=list)
    nonevaluable: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    alt_category: str | None = None
    alt_rule: str = ""
    computed_category: str | None = None
    computed_rule: str = ""
    new_lesions_definite: list[int] = field(default_factory=list)
    new_lesions_equivocal: list[int] = field(default_factory=list)
    pd_dated_to: str | None = None
    resolved_by: str | None = None

    def to_batch_json(self) -> dict[str, Any]:
        """The timepoint record of the `mdaread assess --json` output (spec form, unrounded)."""
        return {
            "label": self.label,
            "category": self.category,
            "final_category": self.final_category,
            "rule": self.rule,
            "spd_mm2": self.spd_mm2,
            "spd_change_pct": self.spd_change_pct,
            "early": self.early,
            "warnings": list(self.warnings),
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (for storage with a read and for the GUI)."""
        return dict(self.__dict__)
