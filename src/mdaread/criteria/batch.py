"""The batch form of the spec (``mdaread assess FILE.json``): parse it, and write results.

Parsing is strict: a missing key, a wrong type, an unknown key or an unknown vocabulary value
raises CriteriaInputError naming subject, timepoint and key. Missing keys with a default in the
spec take it (``scan_available`` true, ``evaluable`` true, ``signs`` [], ``new_lesions`` [],
flags false). ``notes`` (free text) is accepted everywhere and ignored.
"""

from __future__ import annotations

import math
from typing import Any

from mdaread.criteria.result import TimepointResult
from mdaread.criteria.validate import validate_subject
from mdaread.criteria.vocabulary import input_error
from mdaread.errors import CriteriaInputError
from mdaread.model.observations import (
    BASELINE_PHENOTYPES,
    CATEGORIES,
    MODALITIES,
    NE_REASONS,
    NEW_LESION_PHENOTYPES,
    NEW_LESION_STATUSES,
    SIGNS,
    LesionBaseline,
    LesionFollowUp,
    LesionPart,
    NewLesion,
    Override,
    ProtocolSettings,
    SubjectObservations,
    TimepointObservation,
)

_MISSING = object()


class _Where:
    """The subject / timepoint being parsed, for error messages."""

    def __init__(self, subject: str, timepoint: str | None = None, prefix: str = "") -> None:
        self.subject, self.timepoint, self.prefix = subject, timepoint, prefix

    def at(self, prefix: str) -> _Where:
        return _Where(self.subject, self.timepoint, prefix)

    def error(self, key: str, problem: str) -> CriteriaInputError:
        return input_error(self.subject, self.timepoint, (self.prefix + key).rstrip("."), problem)

    def obj(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, f"expected an object, got {_kind(value)}")
        for name in value:
            if name not in allowed and name != "notes":
                raise self.error(f"{key}.{name}" if key else name, "unknown key")
        return value

    def get(self, data: dict[str, Any], key: str, default: Any = _MISSING) -> Any:
        if key not in data:
            if default is _MISSING:
                raise self.error(key, "missing")
            return default
        return data[key]

    def string(self, data: dict[str, Any], key: str, default: Any = _MISSING) -> Any:
        value = self.get(data, key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value:
            raise self.error(key, f"expected a non-empty string, got {_kind(value)}")
        return value

    def boolean(self, data: dict[str, Any], key: str, default: Any = _MISSING) -> bool:
        value = self.get(data, key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_kind(value)}")
        return value

    def number(self, data: dict[str, Any], key: str, default: Any = _MISSING,
               minimum: float | None = None) -> Any:
        value = self.get(data, key, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            raise self.error(key, f"expected a number, got {_kind(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be ≥ {minimum:g}, got {value!r}")
        return value

    def choice(self, data: dict[str, Any], key: str, allowed: frozenset[str] | tuple[str, ...],
               default: Any = _MISSING) -> Any:
        value = self.get(data, key, default)
        if value is default and default is not _MISSING:
            return value
        if value not in allowed:
            raise self.error(key, f"unknown value {value!r} (expected one of "
                                  f"{', '.join(sorted(allowed))})")
        return value

    def array(self, data: dict[str, Any], key: str, default: Any = _MISSING) -> list[Any]:
        value = self.get(data, key, default)
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {value!r}"[:60]
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return {"list": "a list", "dict": "an object"}.get(type(value).__name__, type(value).__name__)


def parse_protocol(data: Any) -> ProtocolSettings:
    """ProtocolSettings from the batch's ``protocol`` object (absent keys take the defaults)."""
    if not isinstance(data, dict):
        raise CriteriaInputError(f"key protocol: expected an object, got {_kind(data)}")
    types: dict[str, tuple[type, ...]] = {
        "measurable_min_mm": (int, float), "pr_threshold_pct": (int, float),
        "pd_threshold_pct": (int, float), "unconfirmed_window_days": (int, float),
        "max_diameter_mm": (int, float), "max_days": (int, float),
        "reference": (str,), "pd_carry_forward": (bool,), "version": (str,),
    }
    for key, value in data.items():
        if key not in types:
            raise CriteriaInputError(f"key protocol.{key}: unknown protocol setting")
        wanted = types[key]
        if (isinstance(value, bool) and bool not in wanted) or not isinstance(value, wanted):
            raise CriteriaInputError(f"key protocol.{key}: wrong type ({_kind(value)})")
    try:
        return ProtocolSettings.from_dict(data)
    except ValueError as exc:
        raise CriteriaInputError(f"key protocol: {exc}") from None


def parse_batch(data: Any) -> tuple[ProtocolSettings, list[SubjectObservations]]:
    """The protocol settings and every subject of a batch-form document (parsed JSON).

    Also runs the cross-record checks (``validate_subject``) so that a batch that parses can be
    assessed. Raises CriteriaInputError naming subject, timepoint and key.
    """
    if not isinstance(data, dict):
        raise CriteriaInputError(f"the file must hold a JSON object, got {_kind(data)}")
    for key in data:
        if key not in ("protocol", "subjects", "notes"):
            raise CriteriaInputError(f"key {key}: unknown key")
    protocol = parse_protocol(data.get("protocol", {}))
    if "subjects" not in data:
        raise CriteriaInputError("key subjects: missing")
    if not isinstance(data["subjects"], list):
        raise CriteriaInputError(f"key subjects: expected a list, got {_kind(data['subjects'])}")
    subjects = [parse_subject(item, index) for index, item in enumerate(data["subjects"])]
    names = [s.subject for s in subjects]
    for name in names:
        if names.count(name) > 1:
            raise input_error(name, None, "subject", "duplicate subject")
    for subject in subjects:
        validate_subject(subject, protocol)
    return protocol, subjects


def parse_subject(data: Any, index: int = 0) -> SubjectObservations:
    """One subject of the batch form."""
    where = _Where(f"subjects[{index}]")
    if isinstance(data, dict) and isinstance(data.get("subject"), str) and data["subject"]:
        where = _Where(data["subject"])
    data = where.obj(data, "", {"subject", "timepoints", "arm"})
    name = where.string(data, "subject")
    arm = where.string(data, "arm", None)
    items = where.array(data, "timepoints")
    if not items:
        raise where.error("timepoints", "no timepoint")
    heads = [_timepoint_head(where, item, j) for j, item in enumerate(items)]
    earliest = min(range(len(heads)), key=lambda j: heads[j][1])  # first one on ties
    timepoints = tuple(_timepoint(_Where(name, label), items[j], label, days, j == earliest)
                       for j, (label, days) in enumerate(heads))
    return SubjectObservations(name, timepoints, arm)


def parse_timepoint(data: Any, *, baseline: bool, subject: str = "?") -> TimepointObservation:
    """One timepoint's batch-form dict (as a read stores it).

    ``baseline`` selects the lesion form (baseline records, or follow-up records).
    """
    label, days = _timepoint_head(_Where(subject), data, 0)
    return _timepoint(_Where(subject, label), data, label, days, baseline)


_TIMEPOINT_KEYS = {"label", "days", "modality", "scan_available", "lesions", "new_lesions",
                   "epidural_progression", "possible_flare", "possible_pseudoprogression",
                   "fracture", "cement_levels", "override"}
_FLAGS = ("epidural_progression", "possible_flare", "possible_pseudoprogression", "fracture")


def _timepoint_head(where: _Where, data: Any, index: int) -> tuple[str, float]:
    """Label and days of a timepoint (read first: the earliest timepoint is the baseline)."""
    unnamed = _Where(where.subject, f"timepoints[{index}]")
    if not isinstance(data, dict):
        raise where.error(f"timepoints[{index}]", f"expected an object, got {_kind(data)}")
    label = unnamed.string(data, "label")
    named = _Where(where.subject, label)
    named.obj(data, "", _TIMEPOINT_KEYS)
    return label, float(named.number(data, "days"))


def _timepoint(where: _Where, data: dict[str, Any], label: str, days: float,
               baseline: bool) -> TimepointObservation:
    modality = where.choice(data, "modality", MODALITIES)
    scan = where.boolean(data, "scan_available", True)
    raw_lesions = where.array(data, "lesions", _MISSING if scan else [])
    if baseline:
        lesions: tuple[LesionBaseline | LesionFollowUp, ...] = tuple(
            _baseline_lesion(where.at(f"lesions[{i}]."), item)
            for i, item in enumerate(raw_lesions))
    else:
        lesions = tuple(_follow_up_lesion(where.at(f"lesions[{i}]."), item)
                        for i, item in enumerate(raw_lesions))
    new = tuple(_new_lesion(where.at(f"new_lesions[{i}]."), item)
                for i, item in enumerate(where.array(data, "new_lesions", [])))
    flags = {flag: where.boolean(data, flag, False) for flag in _FLAGS}
    cement = where.array(data, "cement_levels", [])
    for i, level in enumerate(cement):
        if not isinstance(level, str) or not level:
            raise where.error(f"cement_levels[{i}]", f"expected a level, got {_kind(level)}")
    override = None
    if "override" in data and data["override"] is not None:
        raw = where.obj(data["override"], "override", {"category", "reason"})
        sub = where.at("override.")
        reason = sub.string(raw, "reason")
        if not reason.strip():
            raise sub.error("reason", "only white space: say why the category is overridden")
        override = Override(sub.choice(raw, "category", CATEGORIES), reason)
    return TimepointObservation(label, days, modality, scan, lesions, new, cement_levels=tuple(
        cement), override=override, **flags)


def _baseline_lesion(where: _Where, data: Any) -> LesionBaseline:
    data = where.obj(data, "", {"id", "level", "phenotype", "well_defined", "long_mm", "perp_mm",
                                "treated_index"})
    well_defined = where.boolean(data, "well_defined")
    needed = _MISSING if well_defined else None
    return LesionBaseline(
        id=where.string(data, "id"), level=where.string(data, "level"),
        phenotype=where.choice(data, "phenotype", BASELINE_PHENOTYPES),
        well_defined=well_defined,
        long_mm=where.number(data, "long_mm", needed, minimum=0),
        perp_mm=where.number(data, "perp_mm", needed, minimum=0),
        treated_index=where.boolean(data, "treated_index"))


def _follow_up_lesion(where: _Where, data: Any) -> LesionFollowUp:
    data = where.obj(data, "", {"id", "evaluable", "ne_reason", "long_mm", "perp_mm", "parts",
                                "signs"})
    parts = tuple(_part(where.at(f"{where.prefix}parts[{i}]."), item)
                  for i, item in enumerate(where.array(data, "parts", [])))
    long_mm = where.number(data, "long_mm", None, minimum=0)
    perp_mm = where.number(data, "perp_mm", None, minimum=0)
    if parts and (long_mm is not None or perp_mm is not None):
        raise where.error("parts", "give either parts or long_mm/perp_mm, not both")
    if (long_mm is None) != (perp_mm is None):
        raise where.error("perp_mm" if perp_mm is None else "long_mm",
                          "missing (both diameters or neither)")
    signs = where.array(data, "signs", [])
    for i, sign in enumerate(signs):
        if sign not in SIGNS:
            raise where.error(f"signs[{i}]", f"unknown sign {sign!r}")
    ne_reason = None
    if data.get("ne_reason") is not None:
        ne_reason = where.choice(data, "ne_reason", NE_REASONS)
    return LesionFollowUp(id=where.string(data, "id"), evaluable=where.boolean(
        data, "evaluable", True), ne_reason=ne_reason, long_mm=long_mm, perp_mm=perp_mm,
        parts=parts, signs=tuple(signs))


def _part(where: _Where, data: Any) -> LesionPart:
    data = where.obj(data, "", {"long_mm", "perp_mm"})
    return LesionPart(where.number(data, "long_mm", minimum=0),
                      where.number(data, "perp_mm", minimum=0))


def _new_lesion(where: _Where, data: Any) -> NewLesion:
    data = where.obj(data, "", {"id", "level", "status", "phenotype"})
    return NewLesion(level=where.string(data, "level"),
                     status=where.choice(data, "status", NEW_LESION_STATUSES),
                     phenotype=where.choice(data, "phenotype", NEW_LESION_PHENOTYPES),
                     id=where.string(data, "id", None))


def results_to_batch_json(subjects: list[SubjectObservations],
                          results: list[list[TimepointResult]]) -> dict[str, Any]:
    """The `mdaread assess --json` document: subjects and timepoints in input order."""
    return {"subjects": [
        {"subject": subject.subject, "timepoints": [r.to_batch_json() for r in per_subject]}
        for subject, per_subject in zip(subjects, results, strict=True)]}
