"""Where registration decisions and level labels go (Qt-free): the trial workspace behind a
WorkspaceSource, or memory for other sources. ``store_for(source)`` / ``level_store_for(source)``
pick the right one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from mdaread.errors import InputError
from mdaread.model.vocabulary import level_rank
from mdaread.workflow.registration_records import (
    Decision,
    LevelStore,
    Proposal,
    Provenance,
    RegistrationStore,
    checked_level,
    lps_tuple,
)
from mdaread.workflow.worklist import Landmark, SeriesChoice


def utc_now() -> str:
    """Now in UTC as ISO 8601 text (seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class MemoryRegistrationStore:
    """Decisions kept in a list (tests, in-memory sources). When ``source`` has
    ``set_registration(subject, baseline_uid, followup_uid, matrix)`` (InMemorySource), an
    accepted matrix is handed to it, so a case opened again links through it."""

    def __init__(self, user: str = "reader", source: object | None = None) -> None:
        self.user, self.source = user, source
        self.decisions: list[Decision] = []
        self._accepted: dict[tuple[str, str, str], Decision] = {}

    def decide(self, subject: str, baseline: SeriesChoice, followup: SeriesChoice,
               proposal: Proposal, accept: bool, reason: str) -> Decision:
        decision = Decision(accept, proposal.matrix.copy(), proposal.method, self.user,
                            utc_now(), len(self.decisions) + 1, proposal.provenance)
        self.decisions.append(decision)
        if accept:
            self._accepted[(subject, baseline.series_uid, followup.series_uid)] = decision
        setter = getattr(self.source, "set_registration", None)
        if accept and callable(setter):
            setter(subject, baseline.series_uid, followup.series_uid, decision.matrix)
        return decision

    def accepted(self, subject: str, baseline: SeriesChoice,
                 followup: SeriesChoice) -> Decision | None:
        return self._accepted.get((subject, baseline.series_uid, followup.series_uid))


class WorkspaceRegistrationStore:
    """Decisions in the trial workspace: one ``add_registration`` (the proposal) and one
    ``decide_registration`` (accepted/rejected, by the actor, now) in a single transaction.
    ``series_id(choice)`` turns a SeriesChoice into the workspace series id."""

    def __init__(self, ws: Any, actor: Any,
                 series_id: Callable[[SeriesChoice], int | None]) -> None:
        self.ws, self.actor, self.series_id = ws, actor, series_id

    def decide(self, subject: str, baseline: SeriesChoice, followup: SeriesChoice,
               proposal: Proposal, accept: bool, reason: str) -> Decision:
        ids = (self.series_id(baseline), self.series_id(followup))
        if ids[0] is None or ids[1] is None:
            raise InputError(f"registration: {subject}: the series are not in the workspace")
        metric = proposal.metric if proposal.metric is not None and np.isfinite(
            proposal.metric) else None
        where = proposal.provenance
        residual = where.residual_mm if where.residual_mm is not None and np.isfinite(
            where.residual_mm) else None
        with self.ws.transaction():
            record = self.ws.add_registration(
                self.actor, ids[0], ids[1], proposal.matrix.tolist(), metric=metric,
                quality=proposal.quality, method=proposal.method, center=where.center,
                radius_mm=where.radius_mm, level=where.level,
                landmark_pairs=[[list(b), list(f)] for b, f in where.pairs],
                residual_mm=residual)
            record = self.ws.decide_registration(self.actor, record.id, accept, reason)
        return _decision(record, self.actor.user)

    def accepted(self, subject: str, baseline: SeriesChoice,
                 followup: SeriesChoice) -> Decision | None:
        ids = (self.series_id(baseline), self.series_id(followup))
        if ids[0] is None or ids[1] is None:
            return None
        record = latest_accepted(self.ws, ids[0], ids[1])
        return None if record is None else _decision(record, self.actor.user)


def latest_accepted(ws: Any, baseline_id: int, followup_id: int) -> Any | None:
    """The newest accepted registration record of a (baseline, follow-up) series pair in the
    workspace ``ws`` (by acceptance time, then id), None when there is none."""
    accepted = [r for r in ws.list_registrations(baseline_id, followup_id)
                if r.status == "accepted"]
    return max(accepted, key=lambda r: (r.accepted_at or "", r.id)) if accepted else None


def _decision(record: Any, user: str) -> Decision:
    """A Decision from a stored RegistrationRecord (``user`` when it names nobody)."""
    center = None if record.center is None else lps_tuple(record.center)
    pairs = tuple((lps_tuple(b), lps_tuple(f)) for b, f in record.landmark_pairs)
    where = Provenance(center, record.radius_mm, record.level, pairs, record.residual_mm)
    return Decision(record.status == "accepted", np.asarray(record.matrix, dtype=np.float64),
                    record.method, record.accepted_by or user, record.accepted_at or utc_now(),
                    record.id, where)


class MemoryLevelStore:
    """Level labels kept in memory per (subject, timepoint, series UID) — for sources without
    a workspace (tests, in-memory demos)."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, str], dict[tuple[str, str], Landmark]] = {}

    def level_labels(self, subject: str, timepoint: str) -> list[Landmark]:
        found = self._labels.get((subject, timepoint), {})
        return sorted(found.values(), key=lambda lm: (lm.series_uid, level_rank(lm.level)))

    def label_level(self, subject: str, timepoint: str, series: SeriesChoice, level: str,
                    center: npt.ArrayLike, reason: str = "") -> Landmark:
        name = checked_level(level)
        landmark = Landmark(name, lps_tuple(center), kind="label", series_uid=series.series_uid)
        self._labels.setdefault((subject, timepoint), {})[(series.series_uid, name)] = landmark
        return landmark

    def remove_level_label(self, subject: str, timepoint: str, series: SeriesChoice,
                           level: str, reason: str = "") -> None:
        name = checked_level(level)
        found = self._labels.get((subject, timepoint), {})
        if found.pop((series.series_uid, name), None) is None:
            raise InputError(f"{subject} {timepoint}: no label {name} on series "
                             f"{series.series_uid}")


def level_store_for(source: object) -> LevelStore:
    """The source itself when it stores labels (WorkspaceSource), else a MemoryLevelStore."""
    if all(callable(getattr(source, name, None)) for name in
           ("level_labels", "label_level", "remove_level_label")):
        return source  # type: ignore[return-value]
    return MemoryLevelStore()


def store_for(source: object) -> RegistrationStore:
    """The store matching a ReadingSource: the workspace behind a WorkspaceSource (decisions
    by its actor), else an in-memory store handing accepted matrices back to the source."""
    ws, actor = getattr(source, "ws", None), getattr(source, "actor", None)
    if ws is not None and actor is not None:
        return WorkspaceRegistrationStore(ws, actor, lambda c: _workspace_series_id(source, c))
    user = getattr(actor, "user", None) or "reader"
    return MemoryRegistrationStore(user, source)


def _workspace_series_id(source: object, choice: SeriesChoice) -> int | None:
    """The workspace id of a series listed by a WorkspaceSource (its ``ref`` is resolved by
    the source when it lists the series)."""
    files = getattr(source, "_files", {})
    if choice.ref in files:
        return int(files[choice.ref][0])
    return None


