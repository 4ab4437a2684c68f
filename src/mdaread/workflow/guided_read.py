"""The guided read of one subject at one timepoint: answers, what is still required, the live
category, override, draft and sign-off. Qt-free; the panel (``mdaread.ui.guided_read_panel``)
only shows this object and calls its commands.

At the baseline the reader adds the tracked lesions (id, vertebral level, phenotype, well defined,
diameters in mm, treated index). At a follow-up the reader answers, per tracked lesion: cement in
its vertebra, evaluable (else why), its diameters when it was measurable at baseline, the signs
that apply to its phenotype and the modality; then new lesions and the timepoint questions.
After every answer the criteria engine (``mdaread.criteria.assess_subject``) runs on the subject's
earlier signed timepoints plus this draft, and ``changed`` fires.

Diameters enter through ``set_measurement`` only, so calipers or segmentation can feed the same
read as typing does. Persistence goes through a ``ReadStore`` (``mdaread.workflow.reads_service``
implements it on the workspace).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mdaread.criteria import (
    CEMENT_REMINDER,
    RULE_HELP,
    SIGN_HELP,
    TimepointResult,
    applicable_signs,
    assess_subject,
    parse_timepoint,
)
from mdaread.errors import InputError, MdareadError
from mdaread.model.observations import (
    CATEGORIES,
    MODALITIES,
    NE_REASONS,
    NEW_LESION_PHENOTYPES,
    NEW_LESION_STATUSES,
    LesionBaseline,
    NewLesion,
    Override,
    ProtocolSettings,
    SubjectObservations,
    TimepointObservation,
)
from mdaread.workflow import guided_answers as ga
from mdaread.workflow.guided_answers import FollowUpAnswers, Measurement
from mdaread.workflow.signals import Signal


class ReadLocked(MdareadError):
    """The read is signed: it never changes (make a correction instead)."""


class IncompleteRead(InputError):
    """Sign-off refused: required answers are missing (the message lists them)."""


@dataclass(frozen=True)
class SignInfo:
    """Who signed and when (UTC ISO 8601 with ``Z``)."""

    reader: str
    signed_at: str
    read_id: int | None = None


class ReadStore(Protocol):
    """Where a guided read is kept (the workspace, in ``reads_service``)."""

    def save(self, read: GuidedRead) -> None: ...
    def sign(self, read: GuidedRead) -> SignInfo: ...


@dataclass(frozen=True)
class EarlierTimepoint:
    """An earlier signed timepoint of the same subject, as the reader may see it."""

    label: str
    days: float
    category: str | None
    final_category: str | None
    observation: TimepointObservation
    signed_at: str = ""
    read_id: int | None = None
    timepoint_id: int | None = None


@dataclass
class GuidedRead:
    """One subject × timepoint being read. ``None`` answers are unanswered.

    ``tracked`` are the subject's baseline lesions (at the baseline: the ones the reader adds);
    ``earlier`` the subject's earlier signed timepoints (the baseline first at a follow-up).
    """

    subject: str
    label: str
    is_baseline: bool
    protocol: ProtocolSettings = field(default_factory=ProtocolSettings)
    days: float | None = None
    modality: str | None = None
    modalities: tuple[str, ...] = ("CT", "MR")
    earlier: list[EarlierTimepoint] = field(default_factory=list)
    tracked: list[LesionBaseline] = field(default_factory=list)
    reader: str = ""
    read_id: int | None = None
    supersedes: int | None = None
    status: str = "draft"
    signed_at: str = ""
    store: ReadStore | None = None

    def __post_init__(self) -> None:
        self.scan_available = True
        self.answers: dict[str, FollowUpAnswers] = {
            les.id: FollowUpAnswers(les.id) for les in ([] if self.is_baseline else self.tracked)}
        self.cement: dict[str, bool] = {}
        self.new_lesions: list[NewLesion] | None = [] if self.is_baseline else None
        self.flags: dict[str, bool | None] = {f: None for f in ga.FLAGS}
        self.override_category: str | None = None
        self.override_reason = ""
        self.measurements: dict[str, Measurement] = {}
        self.changed = Signal()
        self.result: TimepointResult | None = None
        self.results: list[TimepointResult] = []
        self.error: str | None = None
        self.dirty = False  # answers changed since the last save (or since opening)
        self.recompute()

    # --- what the reader sees ------------------------------------------------------------------
    def lesion(self, lesion_id: str) -> LesionBaseline:
        for les in self.tracked:
            if les.id == lesion_id:
                return les
        raise InputError(f"subject {self.subject}: no tracked lesion {lesion_id!r}")

    def measurable(self, lesion_id: str) -> bool:
        """Measurable at baseline: well defined and both diameters ≥ the protocol minimum."""
        les = self.lesion(lesion_id)
        low = self.protocol.measurable_min_mm
        return bool(les.well_defined and les.long_mm is not None and les.perp_mm is not None
                    and les.long_mm >= low and les.perp_mm >= low)

    def signs_for(self, lesion_id: str) -> list[tuple[str, str]]:
        """(sign, one-line explanation) valid for the lesion's phenotype and the modality."""
        les = self.lesion(lesion_id)
        allowed = applicable_signs(les.phenotype, les.well_defined, self.modality or "")
        return [(s, SIGN_HELP[s]) for s in SIGN_HELP if s in allowed]

    def cement_reminder(self, lesion_id: str) -> str | None:
        """The PMMA reminder when the lesion's vertebra holds cement at this timepoint."""
        return CEMENT_REMINDER if self.cement.get(self.lesion(lesion_id).level) else None

    def cement_levels(self) -> list[str]:
        return [level for level, present in self.cement.items() if present]

    @property
    def override(self) -> Override | None:
        if self.override_category is None or not self.override_reason.strip():
            return None
        return Override(self.override_category, self.override_reason.strip())

    @property
    def rule_help(self) -> str:
        return RULE_HELP.get(self.result.computed_rule, "") if self.result else ""

    @property
    def locked(self) -> bool:
        return self.status == "signed"

    def missing(self) -> list[str]:
        """Every required answer still missing, one short line each (empty: may be signed)."""
        out = []
        if self.modality is None:
            out.append("modality (CT or MR)")
        if self.days is None:
            out.append("days since treatment")
        if self.is_baseline:
            if not self.tracked:
                out.append("at least one tracked lesion")
            return out
        if self.scan_available:
            out += self._missing_lesions()
            if self.new_lesions is None:
                out.append("new lesions (none, or list them)")
            out += [ga.FLAG_QUESTIONS[f] for f, v in self.flags.items() if v is None]
        if self.override_category is not None and not self.override_reason.strip():
            out.append("a reason for the override")
        return out

    def _missing_lesions(self) -> list[str]:
        out = []
        asked: set[str] = set()
        for les in self.tracked:
            a = self.answers[les.id]
            if les.level not in self.cement and les.level not in asked:
                out.append(f"{les.id}: cement in {les.level}?")
                asked.add(les.level)
            if a.evaluable is None:
                out.append(f"{les.id}: evaluable?")
            elif a.evaluable is False and a.ne_reason is None:
                out.append(f"{les.id}: why not evaluable")
            elif a.evaluable:
                if self.measurable(les.id) and not a.parts and (
                        a.long_mm is None or a.perp_mm is None):
                    out.append(f"{les.id}: diameters (long and perpendicular, mm)")
                if not a.signs_reviewed:
                    out.append(f"{les.id}: signs reviewed")
        return out

    def lesion_complete(self, lesion_id: str) -> bool:
        return not any(m.startswith(f"{lesion_id}:") for m in self.missing())

    # --- answers (each one recomputes and fires ``changed``) -----------------------------------
    def _edit(self) -> None:
        if self.locked:
            raise ReadLocked(f"subject {self.subject}, timepoint {self.label}: the read is "
                             "signed and cannot change; make a correction")

    def _done(self) -> None:
        self.dirty = True
        self.recompute()
        self.changed.emit()

    def set_modality(self, modality: str) -> None:
        self._edit()
        if modality not in MODALITIES:
            raise InputError(f"modality {modality!r} is not CT or MR")
        self.modality = modality
        for a in self.answers.values():  # signs that no longer apply are dropped
            allowed = {s for s, _ in self.signs_for(a.lesion_id)}
            a.signs &= allowed
        self._done()

    def set_days(self, days: float) -> None:
        self._edit()
        self.days = float(days)
        self._done()

    def set_scan_available(self, available: bool) -> None:
        self._edit()
        self.scan_available = bool(available)
        self._done()

    def set_cement(self, level: str, present: bool) -> None:
        """Record whether vertebra ``level`` holds PMMA cement on this scan."""
        self._edit()
        self.cement[ga.check_level(level)] = bool(present)
        self._done()

    def set_evaluable(self, lesion_id: str, evaluable: bool, ne_reason: str | None = None) -> None:
        self._edit()
        if ne_reason is not None and ne_reason not in NE_REASONS:
            raise InputError(f"ne_reason {ne_reason!r} is not one of {', '.join(NE_REASONS)}")
        a = self._answers(lesion_id)
        a.evaluable = bool(evaluable)
        a.ne_reason = None if evaluable else ne_reason
        self._done()

    def set_measurement(self, lesion_id: str, long_mm: float | None, perp_mm: float | None,
                        endpoints_lps: Any = None, series_uid: str | None = None,
                        method: str = "manual") -> None:
        """The lesion's diameters (mm) at this timepoint, from typing, calipers or segmentation.

        ``endpoints_lps``: the points that define them (LPS mm), ``series_uid`` the series
        measured on. ``None`` diameters clear the measurement. The long diameter is the larger.
        """
        self._edit()
        if method not in ga.MEASUREMENT_METHODS:
            raise InputError(f"measurement method {method!r} is not one of "
                             f"{', '.join(ga.MEASUREMENT_METHODS)}")
        long_v, perp_v = ga.check_mm("long_mm", long_mm), ga.check_mm("perp_mm", perp_mm)
        if long_v is not None and perp_v is not None and perp_v > long_v:
            raise InputError(f"lesion {lesion_id}: the perpendicular diameter ({perp_v:g} mm) "
                             f"is longer than the long one ({long_v:g} mm)")
        points = ga.lps_points(lesion_id, endpoints_lps)
        if self.is_baseline:
            les = self.lesion(lesion_id)
            self._replace_tracked(ga.baseline_lesion(les.id, les.level, les.phenotype,
                                                     les.well_defined, long_v, perp_v,
                                                     les.treated_index))
        else:
            a = self._answers(lesion_id)
            a.long_mm, a.perp_mm, a.parts = long_v, perp_v, []
        if long_v is None or perp_v is None:
            self.measurements.pop(lesion_id, None)
        else:
            self.measurements[lesion_id] = Measurement(lesion_id, long_v, perp_v, points,
                                                       series_uid or "", method)
        self._done()

    def set_sign(self, lesion_id: str, sign: str, present: bool) -> None:
        self._edit()
        allowed = {s for s, _ in self.signs_for(lesion_id)}
        if sign not in allowed:
            raise InputError(f"sign {sign} does not apply to lesion {lesion_id} "
                             f"({self.modality or 'no modality yet'})")
        a = self._answers(lesion_id)
        if present:
            a.signs.add(sign)
        else:
            a.signs.discard(sign)
        a.signs_reviewed = True
        self._done()

    def confirm_signs(self, lesion_id: str) -> None:
        """The reader has looked for every sign of this lesion (none ticked = none present)."""
        self._edit()
        self._answers(lesion_id).signs_reviewed = True
        self._done()

    def set_no_new_lesions(self) -> None:
        self._edit()
        self.new_lesions = []
        self._done()

    def add_new_lesion(self, level: str, status: str, phenotype: str,
                       lesion_id: str | None = None) -> None:
        self._edit()
        ga.check_level(level)
        if status not in NEW_LESION_STATUSES or phenotype not in NEW_LESION_PHENOTYPES:
            raise InputError(f"new lesion at {level}: status must be equivocal or definite and "
                             f"phenotype one of {', '.join(sorted(NEW_LESION_PHENOTYPES))}")
        self.new_lesions = [*(self.new_lesions or []),
                            NewLesion(level, status, phenotype, lesion_id or None)]
        self._done()

    def remove_new_lesion(self, index: int) -> None:
        self._edit()
        if self.new_lesions and 0 <= index < len(self.new_lesions):
            del self.new_lesions[index]
        self._done()

    def set_flag(self, name: str, value: bool) -> None:
        self._edit()
        if name not in self.flags:
            raise InputError(f"unknown question {name!r} (one of {', '.join(ga.FLAGS)})")
        self.flags[name] = bool(value)
        self._done()

    def set_override(self, category: str | None, reason: str = "") -> None:
        """The reader's category instead of the computed one (None clears it); it takes effect
        once ``reason`` is given, and sign-off is refused without one."""
        self._edit()
        if category is not None and category not in CATEGORIES:
            raise InputError(f"override category {category!r} is not one of "
                             f"{', '.join(CATEGORIES)}")
        if category is not None and self.is_baseline:
            raise InputError(f"{self.label}: the reference timepoint has no category to override")
        self.override_category, self.override_reason = category, reason if category else ""
        self._done()

    def add_lesion(self, lesion_id: str, level: str, phenotype: str, well_defined: bool,
                   long_mm: float | None, perp_mm: float | None, treated_index: bool) -> None:
        """Add a tracked lesion (baseline only); diameters in mm."""
        self._edit()
        if not self.is_baseline:
            raise InputError(f"{self.label}: lesions are added at baseline; a lesion first seen "
                             "here is a new lesion")
        if any(les.id == lesion_id for les in self.tracked):
            raise InputError(f"subject {self.subject}: lesion {lesion_id} already exists")
        lesion = ga.baseline_lesion(lesion_id, level, phenotype, well_defined, long_mm, perp_mm,
                                    treated_index)
        self.tracked.append(lesion)
        if long_mm is not None and perp_mm is not None:
            self.measurements[lesion_id] = Measurement(lesion_id, float(long_mm), float(perp_mm))
        self._done()

    def remove_lesion(self, lesion_id: str) -> None:
        """Remove a tracked lesion from this baseline draft."""
        self._edit()
        if not self.is_baseline:
            raise InputError(f"{self.label}: tracked lesions are removed at baseline only")
        self.tracked = [les for les in self.tracked if les.id != lesion_id]
        self.measurements.pop(lesion_id, None)
        self._done()

    def next_lesion_id(self) -> str:
        """The first free default lesion id, ``Les1``, ``Les2`` … (not ``L1``, ``L2``: those
        name lumbar vertebrae, and "L1 (L2, lytic)" reads as two levels)."""
        taken = {les.id for les in self.tracked}
        return next(f"Les{n}" for n in range(1, len(taken) + 2) if f"Les{n}" not in taken)

    def _replace_tracked(self, lesion: LesionBaseline) -> None:
        self.tracked = [lesion if les.id == lesion.id else les for les in self.tracked]

    def _answers(self, lesion_id: str) -> FollowUpAnswers:
        if self.is_baseline or lesion_id not in self.answers:
            raise InputError(f"subject {self.subject}, timepoint {self.label}: no tracked "
                             f"lesion {lesion_id!r} to answer for")
        return self.answers[lesion_id]

    # --- the batch form and the criteria ------------------------------------------------------
    def observations(self, provisional: bool = False) -> dict[str, Any]:
        """This timepoint's batch-form dict. Unanswered keys are absent; ``provisional`` fills
        them so the engine can run (unanswered questions count as "no")."""
        out: dict[str, Any] = {"label": self.label}
        if self.days is not None or provisional:
            out["days"] = self.days if self.days is not None else 0
        if self.modality is not None or provisional:
            out["modality"] = self.modality or (self.modalities[0] if self.modalities else "CT")
        out["scan_available"] = self.scan_available
        if self.is_baseline:
            out["lesions"] = [ga.baseline_dict(les) for les in self.tracked]
        else:
            records = [a.to_dict(provisional) for a in self.answers.values()]
            out["lesions"] = [r for r in records if r is not None]
            if self.new_lesions is not None or provisional:
                out["new_lesions"] = [ga.new_lesion_dict(n) for n in self.new_lesions or []]
            for name, value in self.flags.items():
                if value is not None or provisional:
                    out[name] = bool(value)
        if self.cement:
            out["cement_levels"] = self.cement_levels()
        if self.override is not None:
            out["override"] = ga.override_dict(self.override)
        return out

    def recompute(self) -> None:
        """Run the criteria on the earlier signed timepoints plus this draft."""
        try:
            draft = parse_timepoint(self.observations(provisional=True),
                                    baseline=self.is_baseline, subject=self.subject)
            earlier = [e.observation for e in self.earlier if e.label != self.label]
            subject = SubjectObservations(self.subject, (*earlier, draft))
            self.results = assess_subject(subject, self.protocol)
            self.result = next(r for r in self.results if r.label == self.label)
            self.error = None
        except (InputError, ValueError) as exc:
            self.result, self.results, self.error = None, [], str(exc)

    def final_of(self, label: str) -> str | None:
        """The final category of an earlier timepoint, recomputed with this draft."""
        return next((r.final_category for r in self.results if r.label == label), None)

    def restore(self, data: dict[str, Any], measurements: list[Measurement]) -> None:
        """Load a stored read's batch-form dict (absent keys stay unanswered) and its
        measurements. Used when a draft or a signed read is reopened; fires nothing."""
        self.days = data.get("days", self.days)
        self.modality = data.get("modality", self.modality)
        self.scan_available = bool(data.get("scan_available", True))
        if self.is_baseline:
            self.tracked = [ga.baseline_from_dict(d) for d in data.get("lesions", [])]
        else:
            for record in data.get("lesions", []):
                if record.get("id") in self.answers:
                    self.answers[record["id"]] = FollowUpAnswers.from_dict(record)
            if "new_lesions" in data:
                self.new_lesions = [ga.new_lesion_from_dict(d) for d in data["new_lesions"]]
            for name in ga.FLAGS:
                if name in data:
                    self.flags[name] = bool(data[name])
        if "cement_levels" in data:
            levels = set(data["cement_levels"])
            self.cement = {les.level: les.level in levels for les in self.tracked}
            self.cement.update({level: True for level in levels})
        override = data.get("override")
        if override:
            self.override_category = override["category"]
            self.override_reason = override["reason"]
        self.measurements = {m.lesion_id: m for m in measurements}
        self.recompute()

    # --- persistence --------------------------------------------------------------------------
    def save_draft(self) -> None:
        """Keep the answers as a draft (nothing required yet)."""
        self._edit()
        if self.store is None:
            raise InputError(f"subject {self.subject}, timepoint {self.label}: nowhere to save")
        self.store.save(self)
        self.dirty = False
        self.changed.emit()

    def sign(self) -> SignInfo:
        """Sign and lock this timepoint; refused while a required answer is missing."""
        self._edit()
        missing = self.missing()
        if missing:
            raise IncompleteRead(f"subject {self.subject}, timepoint {self.label}: cannot sign, "
                                 f"missing: {'; '.join(missing)}")
        self.recompute()
        if self.error is not None or self.result is None:
            raise IncompleteRead(f"subject {self.subject}, timepoint {self.label}: cannot sign, "
                                 f"the criteria cannot be evaluated: {self.error}")
        if self.store is None:
            raise InputError(f"subject {self.subject}, timepoint {self.label}: nowhere to sign")
        info = self.store.sign(self)
        self.status, self.signed_at, self.reader = "signed", info.signed_at, info.reader
        self.dirty = False
        self.read_id = info.read_id if info.read_id is not None else self.read_id
        self.changed.emit()
        return info
