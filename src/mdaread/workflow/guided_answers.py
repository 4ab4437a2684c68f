"""The answers of one guided read, and their batch-form dict (``mda-criteria.md``). Qt-free.

A draft keeps "not answered yet" apart from "answered no": ``None`` means unanswered. The stored
observations of a read are the batch-form dict of its timepoint; a key that a draft has not
answered is simply absent from that dict (the batch parser would give it the spec's default, so
``provisional`` dicts — used to show a live category — fill the gaps explicitly instead).
Diameters are millimetres on the timepoint's own grid; endpoints are LPS millimetres.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from mdaread.errors import InputError
from mdaread.model.observations import (
    BASELINE_PHENOTYPES,
    LesionBaseline,
    NewLesion,
    Override,
)
from mdaread.model.vocabulary import LABELLED_LEVELS, VERTEBRAL_LEVELS, describe_levels

PANEL_LEVELS: tuple[str, ...] = LABELLED_LEVELS
"""The levels the guided panel offers (model.vocabulary; the trial treats T5–L5)."""
FLAGS: tuple[str, ...] = ("epidural_progression", "possible_flare", "possible_pseudoprogression",
                          "fracture")
FLAG_QUESTIONS = {
    "epidural_progression": "Epidural progression?",
    "possible_flare": "Possible osteoblastic flare?",
    "possible_pseudoprogression": "Possible pseudoprogression after SBRT?",
    "fracture": "Vertebral compression fracture? (recorded only, never PD by itself)",
}
MEASUREMENT_METHODS: tuple[str, ...] = ("manual", "semi-auto")
_LESION_ID = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")


def check_level(level: str) -> str:
    """The level if it is a vertebra (``T1`` … ``S5``), else InputError."""
    if level not in VERTEBRAL_LEVELS:
        raise InputError(f"{level!r} is not a vertebral level "
                         f"({describe_levels(VERTEBRAL_LEVELS)})")
    return level


def check_mm(name: str, value: float | None) -> float | None:
    """A diameter in mm (finite, ≥ 0) or None; InputError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0:
        raise InputError(f"{name} must be a number of mm ≥ 0, got {value!r}")
    return float(value)


def lps_points(lesion_id: str, points: Any) -> tuple[tuple[float, float, float], ...]:
    """Endpoints as (x, y, z) LPS mm tuples; InputError when a point is not three numbers."""
    out = []
    for p in points if points is not None else ():
        values = [float(c) for c in p]
        if len(values) != 3 or not all(math.isfinite(v) for v in values):
            raise InputError(f"lesion {lesion_id}: endpoints must be (x, y, z) LPS mm points")
        out.append((values[0], values[1], values[2]))
    return tuple(out)


@dataclass(frozen=True)
class Measurement:
    """A bidimensional measurement of one lesion at one timepoint, whatever tool made it.

    ``long_mm``/``perp_mm`` in mm; ``endpoints_lps``: the points that define them, LPS mm
    (e.g. two per diameter from calipers); ``series_uid`` the series measured on; ``method``
    ``manual`` (typed or calipers) or ``semi-auto`` (segmentation).
    """

    lesion_id: str
    long_mm: float
    perp_mm: float
    endpoints_lps: tuple[tuple[float, float, float], ...] = ()
    series_uid: str = ""
    method: str = "manual"


@dataclass
class FollowUpAnswers:
    """What the reader answered for one tracked lesion at a follow-up (None = unanswered)."""

    lesion_id: str
    evaluable: bool | None = None
    ne_reason: str | None = None
    long_mm: float | None = None
    perp_mm: float | None = None
    parts: list[dict[str, float]] = field(default_factory=list)
    signs: set[str] = field(default_factory=set)
    signs_reviewed: bool = False

    def to_dict(self, provisional: bool) -> dict[str, Any] | None:
        """The batch-form lesion record; provisional: None when it cannot count yet."""
        evaluable = self.evaluable
        measured = self.long_mm is not None and self.perp_mm is not None
        if provisional and evaluable is None:
            if not measured and not self.signs:
                return None  # nothing known yet: counts as not evaluable for now
            evaluable = True
        out: dict[str, Any] = {"id": self.lesion_id}
        if evaluable is not None:
            out["evaluable"] = evaluable
        if evaluable is False:
            if self.ne_reason is not None:
                out["ne_reason"] = self.ne_reason
            return out
        if self.parts:
            out["parts"] = [dict(p) for p in self.parts]
        elif measured:
            out["long_mm"], out["perp_mm"] = self.long_mm, self.perp_mm
        if self.signs_reviewed or provisional or self.signs:
            out["signs"] = sorted(self.signs)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FollowUpAnswers:
        return cls(lesion_id=str(data["id"]), evaluable=data.get("evaluable"),
                   ne_reason=data.get("ne_reason"), long_mm=data.get("long_mm"),
                   perp_mm=data.get("perp_mm"), parts=list(data.get("parts", [])),
                   signs=set(data.get("signs", [])), signs_reviewed="signs" in data)


def baseline_lesion(lesion_id: str, level: str, phenotype: str, well_defined: bool,
                    long_mm: float | None, perp_mm: float | None,
                    treated_index: bool) -> LesionBaseline:
    """A validated baseline lesion (InputError naming the problem)."""
    if not _LESION_ID.match(lesion_id or ""):
        raise InputError(f"lesion id {lesion_id!r}: use 1–16 letters, digits, '_', '-' or '.'")
    check_level(level)
    if phenotype not in BASELINE_PHENOTYPES:
        raise InputError(f"lesion {lesion_id}: phenotype {phenotype!r} is not one of "
                         f"{', '.join(sorted(BASELINE_PHENOTYPES))}")
    try:
        return LesionBaseline(lesion_id, level, phenotype, bool(well_defined),
                              check_mm("long_mm", long_mm), check_mm("perp_mm", perp_mm),
                              bool(treated_index))
    except ValueError as exc:
        raise InputError(f"lesion {lesion_id}: {exc}") from None


def baseline_dict(lesion: LesionBaseline) -> dict[str, Any]:
    """The batch-form record of a baseline lesion."""
    return {"id": lesion.id, "level": lesion.level, "phenotype": lesion.phenotype,
            "well_defined": lesion.well_defined, "long_mm": lesion.long_mm,
            "perp_mm": lesion.perp_mm, "treated_index": lesion.treated_index}


def baseline_from_dict(data: dict[str, Any]) -> LesionBaseline:
    return LesionBaseline(str(data["id"]), str(data["level"]), str(data["phenotype"]),
                          bool(data["well_defined"]), data.get("long_mm"), data.get("perp_mm"),
                          bool(data["treated_index"]))


def new_lesion_dict(lesion: NewLesion) -> dict[str, Any]:
    out: dict[str, Any] = {"level": lesion.level, "status": lesion.status,
                           "phenotype": lesion.phenotype}
    if lesion.id:
        out["id"] = lesion.id
    return out


def new_lesion_from_dict(data: dict[str, Any]) -> NewLesion:
    return NewLesion(level=str(data["level"]), status=str(data["status"]),
                     phenotype=str(data["phenotype"]), id=data.get("id"))


def override_dict(override: Override | None) -> dict[str, Any] | None:
    return None if override is None else {"category": override.category,
                                           "reason": override.reason}
