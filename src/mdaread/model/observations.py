"""Typed records of what a reader records for the MD Anderson (MDA) bone response criteria.

The vocabulary and the defaults are those of ``mda-criteria.md`` (the project's specification).
Diameters are in millimetres, measured on the timepoint's own image grid; ``days`` are days since
treatment (baseline ≤ 0). Records validate their vocabulary at creation (``ValueError``); the batch
parser (``mdaread.criteria.parse_batch``) checks the same things first and reports them with the
subject, timepoint and key, so these errors only reach code that builds records by hand.

Numbers and standard library only: the records are shared by storage, workflow and the GUI.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PROTOCOL_VERSION = "1"
"""Version of the set of protocol settings (bumped when a setting is added or changes meaning)."""

MODALITIES = frozenset({"CT", "MR"})
BASELINE_PHENOTYPES = frozenset({"lytic", "blastic", "mixed"})
NEW_LESION_PHENOTYPES = frozenset({"sclerotic", "lytic", "mixed", "soft_tissue"})
NEW_LESION_STATUSES = frozenset({"equivocal", "definite"})
NE_REASONS = frozenset({"artifact", "not_imaged", "cement_obscures", "other"})

CR_SIGNS = frozenset({"complete_fill_in", "density_normalized", "signal_normalized"})
PR_SIGNS = frozenset({"sclerotic_rim", "partial_fill_in", "subjective_decrease_50"})
PD_SIGNS = frozenset({"subjective_increase_25", "new_soft_tissue", "qualitative_increase"})
SIGNS = CR_SIGNS | PR_SIGNS | PD_SIGNS

CATEGORIES = ("CR", "PR", "SD", "PD", "PDu", "NE")
"""Every category a timepoint can take (``None`` = no category: the reference and before)."""


def _check_choice(name: str, value: object, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")


def _check_mm(name: str, value: float | None) -> None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise ValueError(f"{name} must be a finite number of mm ≥ 0, got {value!r}")


@dataclass(frozen=True)
class ProtocolSettings:
    """The trial's choices where the published criteria are silent (defaults of the spec).

    Stored with every read (``to_dict``) so that every category can be recomputed.
    ``pr_threshold_pct`` / ``pd_threshold_pct`` are SPD changes in percent (at or below: PR; at or
    above: PD); ``reference`` is the label of the timepoint SPD change is measured against;
    ``unconfirmed_window_days``: PD triggers flagged as possible flare/pseudoprogression up to this
    day (inclusive) give PDu; ``pd_carry_forward``: a final PD stays PD at later timepoints.
    ``max_diameter_mm`` / ``max_days``: plausibility limits — a diameter above the first (mm) or a
    day count beyond ± the second is refused as a typing or unit error, never computed with.
    """

    measurable_min_mm: float = 10.0
    pr_threshold_pct: float = -50.0
    pd_threshold_pct: float = 25.0
    reference: str = "baseline"
    unconfirmed_window_days: float = 183.0
    pd_carry_forward: bool = True
    max_diameter_mm: float = 300.0
    max_days: float = 3650.0
    version: str = PROTOCOL_VERSION

    def __post_init__(self) -> None:
        for name in ("measurable_min_mm", "pr_threshold_pct", "pd_threshold_pct",
                     "unconfirmed_window_days", "max_diameter_mm", "max_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        if self.measurable_min_mm <= 0:
            raise ValueError("measurable_min_mm must be > 0")
        if self.pr_threshold_pct >= 0:
            raise ValueError("pr_threshold_pct must be < 0 (a decrease)")
        if self.pd_threshold_pct <= 0:
            raise ValueError("pd_threshold_pct must be > 0 (an increase)")
        if self.max_diameter_mm <= self.measurable_min_mm or self.max_days <= 0:
            raise ValueError("max_diameter_mm must exceed measurable_min_mm, max_days be > 0")
        if self.unconfirmed_window_days < 0:
            raise ValueError("unconfirmed_window_days must be ≥ 0")
        if not isinstance(self.reference, str) or not self.reference:
            raise ValueError("reference must be a non-empty timepoint label")
        if not isinstance(self.pd_carry_forward, bool):
            raise ValueError("pd_carry_forward must be true or false")
        if self.version != PROTOCOL_VERSION:
            raise ValueError(f"unsupported protocol version {self.version!r}")

    def to_dict(self) -> dict[str, Any]:
        """Every setting, JSON-ready, including ``version``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProtocolSettings:
        """Settings from a (possibly partial) dict; absent keys take the defaults.

        Raises ``KeyError`` naming an unknown key and ``ValueError`` for a bad value.
        """
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise KeyError(key)
        return cls(**data)


@dataclass(frozen=True)
class LesionBaseline:
    """A tracked lesion as recorded at baseline.

    ``level`` is the vertebra (``T5``, ``L2`` …); diameters in mm (``None`` allowed for an
    ill-defined lesion). Measurable = ``well_defined`` and both diameters ≥ the protocol minimum.
    """

    id: str
    level: str
    phenotype: str
    well_defined: bool
    long_mm: float | None
    perp_mm: float | None
    treated_index: bool

    def __post_init__(self) -> None:
        _check_choice("phenotype", self.phenotype, BASELINE_PHENOTYPES)
        _check_mm("long_mm", self.long_mm)
        _check_mm("perp_mm", self.perp_mm)
        if self.well_defined and (self.long_mm is None or self.perp_mm is None):
            raise ValueError(f"well-defined lesion {self.id} needs long_mm and perp_mm")


@dataclass(frozen=True)
class LesionPart:
    """One part of a lesion that split: its two diameters in mm."""

    long_mm: float
    perp_mm: float

    def __post_init__(self) -> None:
        _check_mm("long_mm", self.long_mm)
        _check_mm("perp_mm", self.perp_mm)


@dataclass(frozen=True)
class LesionFollowUp:
    """A tracked lesion (by its baseline ``id``) at a later timepoint.

    A lesion that split is recorded once, with ``parts`` (the diameters of each part) instead of
    ``long_mm``/``perp_mm``; its product is the sum of the parts' products. A lesion that
    disappeared is recorded with ``long_mm = perp_mm = 0``.
    """

    id: str
    evaluable: bool = True
    ne_reason: str | None = None
    long_mm: float | None = None
    perp_mm: float | None = None
    parts: tuple[LesionPart, ...] = ()
    signs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.ne_reason is not None:
            _check_choice("ne_reason", self.ne_reason, NE_REASONS)
        for sign in self.signs:
            _check_choice("sign", sign, SIGNS)
        _check_mm("long_mm", self.long_mm)
        _check_mm("perp_mm", self.perp_mm)
        if self.parts and (self.long_mm is not None or self.perp_mm is not None):
            raise ValueError(f"lesion {self.id}: give either parts or long_mm/perp_mm")

    @property
    def has_diameters(self) -> bool:
        """True when the lesion's size is recorded (both diameters, or its parts)."""
        return bool(self.parts) or (self.long_mm is not None and self.perp_mm is not None)


@dataclass(frozen=True)
class NewLesion:
    """A new bone lesion seen at a follow-up; matched across timepoints by ``id``, else level."""

    level: str
    status: str
    phenotype: str
    id: str | None = None

    def __post_init__(self) -> None:
        _check_choice("status", self.status, NEW_LESION_STATUSES)
        _check_choice("phenotype", self.phenotype, NEW_LESION_PHENOTYPES)


@dataclass(frozen=True)
class Override:
    """The reader's category when it differs from the computed one, with the mandatory reason."""

    category: str
    reason: str

    def __post_init__(self) -> None:
        _check_choice("override category", self.category, frozenset(CATEGORIES))
        if not self.reason.strip():
            raise ValueError("an override needs a reason")


@dataclass(frozen=True)
class TimepointObservation:
    """Everything recorded at one timepoint.

    At the subject's baseline (its earliest timepoint) ``lesions`` holds ``LesionBaseline``
    records; at every later timepoint ``LesionFollowUp`` records, and a baseline lesion missing
    from that list is not evaluable there. ``cement_levels`` lists the vertebrae holding cement
    (PMMA) at this scan, when recorded; ``fracture`` is recorded only (never PD by itself).
    """

    label: str
    days: float
    modality: str
    scan_available: bool = True
    lesions: tuple[LesionBaseline | LesionFollowUp, ...] = ()
    new_lesions: tuple[NewLesion, ...] = ()
    epidural_progression: bool = False
    possible_flare: bool = False
    possible_pseudoprogression: bool = False
    fracture: bool = False
    cement_levels: tuple[str, ...] = ()
    override: Override | None = None

    def __post_init__(self) -> None:
        _check_choice("modality", self.modality, MODALITIES)
        if not math.isfinite(self.days):
            raise ValueError(f"days must be finite, got {self.days!r}")

    def follow_up(self, lesion_id: str) -> LesionFollowUp | None:
        """The follow-up record of a tracked lesion, or None when it is not in the list."""
        for lesion in self.lesions:
            if isinstance(lesion, LesionFollowUp) and lesion.id == lesion_id:
                return lesion
        return None


@dataclass(frozen=True)
class SubjectObservations:
    """One subject's timepoints in input order (``arm`` optional, for DCR summaries)."""

    subject: str
    timepoints: tuple[TimepointObservation, ...] = field(default_factory=tuple)
    arm: str | None = None

    def chronological(self) -> list[TimepointObservation]:
        """Timepoints sorted by ``days`` (stable for equal days)."""
        return sorted(self.timepoints, key=lambda tp: tp.days)

    @property
    def baseline(self) -> TimepointObservation:
        """The earliest timepoint: where tracked lesions are defined."""
        return self.chronological()[0]

    @property
    def baseline_lesions(self) -> list[LesionBaseline]:
        return [les for les in self.baseline.lesions if isinstance(les, LesionBaseline)]
