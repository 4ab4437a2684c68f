"""Registration in the reading session: propose → look → nudge/refine → accept or reject (Qt-free).

A ``RegistrationSession`` works on the pair a ``ReadingSession`` shows (baseline volume, follow-up
volume) around the treated vertebra. Every matrix maps baseline (fixed) LPS mm → follow-up
(moving) LPS mm, as in docs/contracts.md.

- ``prepare_register()`` / ``prepare_refine()`` snapshot the inputs into a ``RegistrationJob``
  whose ``run(progress, cancel)`` is safe in a worker thread (it changes no state);
  ``finish(job, result)`` / ``fail(job, message)`` bring the outcome back on the main thread.
  ``register()`` / ``refine()`` do both synchronously (tests, scripts).
- A result of quality ``failed`` (or an error) is never proposed: the previous mapping stays
  (the accepted one, else shared patient coordinates) and ``failed`` says why.
- ``nudge`` moves the proposal by a small rigid motion in baseline LPS axes about the region
  centre (see ``rigid.nudge_overlay``); with no proposal it starts one from the current mapping.
- Landmarks: ``add_landmark(side, world)`` collects corresponding clicks; ``fit_landmarks()``
  proposes the point-based fit; ``refine`` then polishes it by intensity.
- ``accept`` stores the proposal in the workspace with who and when (``RegistrationStore``) and
  makes linked navigation follow it (``ReadingSession.set_registration``); ``reject`` stores the
  refusal and keeps the previous mapping. Each proposal carries its ``Provenance`` (region
  centre and radius, vertebral level, landmark pairs and RMS), stored with the decision; when
  a pair opens again, the accepted one is ``stored`` and its landmark pairs are shown again.
- Levels: ``levels()`` are the vertebrae known on the baseline (the reader's labels, lesion
  levels, treated first); ``set_level`` centres the region on one; ``label_level(side, name)``
  stores "this is L1" at a side's cursor (``LevelStore``: the workspace, else memory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mdaread.errors import InputError, RegistrationError
from mdaread.geometry import rigid
from mdaread.model import Volume
from mdaread.model.jobs import Cancel, Progress, never_cancel, no_progress
from mdaread.workflow.reading import SIDES, ReadingSession
from mdaread.workflow.registration_levels import (
    known_levels,
    labelled_levels,
    refresh_labels,
    side_series,
)
from mdaread.workflow.registration_records import (
    Decision,
    LandmarkPair,
    LevelStore,
    PointPair,
    Proposal,
    Provenance,
    RegistrationStore,
    checked_level,
    describe,
    lps_tuple,
)
from mdaread.workflow.registration_stores import (
    MemoryLevelStore,
    MemoryRegistrationStore,
    WorkspaceRegistrationStore,
    level_store_for,
    store_for,
)
from mdaread.workflow.signals import Signal
from mdaread.workflow.worklist import Landmark

if TYPE_CHECKING:
    from mdaread.registration import RegistrationResult

# mdaread.registration (SimpleITK, ~1 s to import) is imported on first use, not when the
# workstation starts

FloatArray = npt.NDArray[np.float64]

DEFAULT_RADIUS_MM = 40.0
"""Radius (mm) of the ball around the vertebra centre that the registration metric sees."""
NUDGE_MM = 1.0
"""One nudge key press: translation in mm along a baseline LPS axis."""
NUDGE_DEG = 1.0
"""One nudge key press: rotation in degrees about a baseline LPS axis through the centre."""



@dataclass(frozen=True)
class RegistrationJob:
    """A registration to run off the main thread. ``run(progress, cancel)`` returns a
    RegistrationResult; ``generation`` ties it to the pair it was started for."""

    kind: str  # "register" or "refine"
    generation: int
    base_method: str
    func: Callable[[Progress, Cancel], RegistrationResult]
    provenance: Provenance = field(default_factory=Provenance)

    def run(self, progress: Progress = no_progress,
            cancel: Cancel = never_cancel) -> RegistrationResult:
        return self.func(progress, cancel)


@dataclass
class _OverlayCache:
    key: tuple[Any, ...] = ()
    volumes: tuple[Volume, Volume] | None = None


class RegistrationSession:
    """Registration of the follow-up shown in ``reading`` to its baseline, with decisions kept
    in ``store`` and level labels in ``labels`` (default: ``level_store_for(source)``).
    Signals: ``proposal_changed(proposal | None)``, ``decided(decision)``, ``failed(message)``,
    ``landmarks_changed()``, ``region_changed()`` (centre, level or known levels changed)."""

    def __init__(self, reading: ReadingSession, store: RegistrationStore,
                 radius_mm: float = DEFAULT_RADIUS_MM, labels: LevelStore | None = None) -> None:
        self.reading, self.store, self.radius_mm = reading, store, float(radius_mm)
        self.labels = labels if labels is not None else level_store_for(reading.source)
        self.proposal: Proposal | None = None
        self.last_decision: Decision | None = None
        self.stored: Decision | None = None
        self.last_error = ""
        self.pairs: list[LandmarkPair] = []
        self.generation = 0
        self._center: FloatArray | None = None
        self._level: str | None = None
        self._overlay = _OverlayCache()
        self.proposal_changed = Signal()
        self.decided = Signal()
        self.failed = Signal()
        self.landmarks_changed = Signal()
        self.region_changed = Signal()
        reading.opened.connect(lambda *_: self.reset())
        reading.timepoint_changed.connect(lambda *_: self.reset())
        reading.series_changed.connect(lambda *_: self.reset())

    # --- the pair and its region ---------------------------------------------------------------
    def reset(self) -> None:
        """Forget the proposal, landmarks and centre (another case, follow-up or series); then,
        when both series are on show, take up the accepted registration stored for the pair:
        its region (centre, radius, level) and its landmark pairs, shown again."""
        self.generation += 1
        self._center, self._level = None, None
        self.pairs = []
        self.stored = None
        self._overlay = _OverlayCache()
        for side in SIDES:
            self._refresh_labels(side)
        self._restore_stored()
        self._set_proposal(None)
        self.landmarks_changed.emit()
        self.region_changed.emit()

    def _restore_stored(self) -> None:
        subject = self.reading.subject
        base, follow = (self.reading.sides[s].series for s in SIDES)
        if subject is None or base is None or follow is None:
            return
        self.stored = self.store.accepted(subject, base, follow)
        if self.stored is None:
            return
        where = self.stored.provenance
        if where.center is not None:
            self._center = np.asarray(where.center, dtype=np.float64)
            self._level = where.level
        if where.radius_mm is not None and np.isfinite(where.radius_mm):
            self.radius_mm = float(where.radius_mm)  # the region it was accepted on
        self.pairs = [LandmarkPair(np.asarray(b, dtype=np.float64),
                                   np.asarray(f, dtype=np.float64)) for b, f in where.pairs]

    def volumes(self) -> tuple[Volume, Volume]:
        """(baseline, follow-up) volumes on show; InputError when one is not loaded."""
        base, follow = (self.reading.sides[s].volume for s in SIDES)
        if base is None or follow is None:
            raise InputError("registration: load a baseline and a follow-up series first")
        return base, follow

    @property
    def center(self) -> FloatArray:
        """The region centre in baseline LPS mm: set by ``set_center``/``set_level``, else the
        treated vertebra's level on the baseline (a label, else a lesion landmark), else the
        baseline cursor when first asked (then kept, so the region does not follow every
        cursor move), else the grid centre."""
        if self._center is not None:
            return self._center
        state = self.reading.sides["baseline"]
        # a treated lesion whose level is not named yet still marks the vertebra
        treated = [lm for lm in self.levels() if lm.treated] or [
            lm for lm in state.landmarks if lm.treated and lm.kind != "label"]
        if treated:
            return np.asarray(treated[0].center, dtype=np.float64)
        if state.cursor is not None:
            self._center = np.asarray(state.cursor, dtype=np.float64).copy()
            return self._center
        base, _ = self.volumes()
        return base.center_world()

    @property
    def level(self) -> str | None:
        """The vertebral level the region is centred on, None when the centre came from
        elsewhere (``set_center``, the cursor, the grid centre)."""
        if self._center is not None:
            return self._level
        treated = [lm for lm in self.levels() if lm.treated]
        return treated[0].level if treated else None

    def set_center(self, world: npt.ArrayLike | None) -> None:
        """Register around ``world`` (baseline LPS mm) from now on; None = the default."""
        self._center = None if world is None else np.asarray(world, float).reshape(3).copy()
        self._level = None
        self._overlay = _OverlayCache()
        self.region_changed.emit()

    # --- vertebral levels ----------------------------------------------------------------------
    def levels(self) -> list[Landmark]:
        """The vertebral levels known on the baseline series on show (labels win over lesion
        landmarks; treated first, then cranial to caudal). Centres in baseline LPS mm."""
        return known_levels(self.reading.sides["baseline"])

    def set_level(self, name: str) -> Landmark:
        """Centre the region on the baseline's level ``name`` (``levels()``); InputError for a
        level that is not known there."""
        wanted = str(name).strip().upper()
        for landmark in self.levels():
            if landmark.level.upper() == wanted:
                self._center = np.asarray(landmark.center, dtype=np.float64).copy()
                self._level = landmark.level
                self._overlay = _OverlayCache()
                self.region_changed.emit()
                return landmark
        known = ", ".join(lm.level for lm in self.levels()) or "none — label one first"
        raise InputError(f"registration: level {str(name).strip()!r} is not known on the "
                         f"baseline (known: {known})")

    def label_level(self, side: str, name: str, world: npt.ArrayLike | None = None,
                    reason: str = "") -> Landmark:
        """Store "this is ``name``" (T1–T12, L1–L5, S1) at ``world`` on ``side``'s series
        (default: that side's cursor, LPS mm). Re-labelling a level on the same series moves
        it. InputError for another name, no series or no point."""
        level = checked_level(name)
        subject, timepoint, series = side_series(self.reading, side)
        point = world if world is not None else self.reading.sides[side].cursor
        if point is None:
            raise InputError(f"label {level}: no cursor on the {side} side")
        landmark = self.labels.label_level(subject, timepoint, series, level, point, reason)
        self._labels_changed(side)
        return landmark

    def remove_label(self, side: str, name: str, reason: str = "") -> None:
        """Remove the label of ``name`` on ``side``'s series (MdareadError when none)."""
        level = checked_level(name)
        subject, timepoint, series = side_series(self.reading, side)
        self.labels.remove_level_label(subject, timepoint, series, level, reason)
        self._labels_changed(side)

    def labelled(self, side: str) -> list[str]:
        """Levels the reader labelled on ``side``'s series on show, cranial to caudal."""
        return labelled_levels(self.reading.sides[side])

    def _labels_changed(self, side: str) -> None:
        self._refresh_labels(side)
        if self._level is not None and self._center is not None and side == "baseline":
            # a moved label moves the region centred on it
            moved = [lm for lm in self.levels() if lm.level == self._level]
            if moved:
                self._center = np.asarray(moved[0].center, dtype=np.float64)
                self._overlay = _OverlayCache()
        self.region_changed.emit()

    def _refresh_labels(self, side: str) -> None:
        refresh_labels(self.reading, self.labels, side)

    def _provenance(self) -> Provenance:
        """The region on show now (centre, radius, level), without landmark pairs."""
        x, y, z = (float(v) for v in self.center)
        return Provenance((x, y, z), float(self.radius_mm), self.level)

    def current_matrix(self) -> FloatArray:
        """What the overlay shows: the proposal, else the accepted mapping, else identity."""
        if self.proposal is not None:
            return self.proposal.matrix
        if self.reading.registration is not None:
            return self.reading.registration
        return np.eye(4)

    # --- intensity registration ------------------------------------------------------------
    def prepare_register(self) -> RegistrationJob:
        """A job registering from scratch (coarse search around the current mapping)."""
        base, follow = self.volumes()
        center, radius = self.center.copy(), self.radius_mm
        start = self.reading.registration

        def run(progress: Progress, cancel: Cancel) -> RegistrationResult:
            from mdaread.registration import register_rigid

            return register_rigid(base, follow, center_lps=center, radius_mm=radius,
                                  initial=start, search_mm=30.0,
                                  progress=progress, cancel=cancel)

        return RegistrationJob("register", self.generation, "intensity", run,
                               self._provenance())

    def prepare_refine(self) -> RegistrationJob:
        """A job refining the current proposal (a nudge, a landmark fit) by intensity, without
        the coarse search; InputError without a proposal."""
        if self.proposal is None:
            raise InputError("registration: nothing to refine (register, nudge or fit "
                             "landmarks first)")
        base, follow = self.volumes()
        center, radius = self.center.copy(), self.radius_mm
        initial = self.proposal.matrix.copy()

        def run(progress: Progress, cancel: Cancel) -> RegistrationResult:
            from mdaread.registration import register_rigid

            return register_rigid(base, follow, center_lps=center, radius_mm=radius,
                                  initial=initial, search_mm=0.0,
                                  progress=progress, cancel=cancel)

        # a refined landmark fit keeps its pairs: they say where it started from
        where = replace(self._provenance(), pairs=self.proposal.provenance.pairs,
                        residual_mm=self.proposal.provenance.residual_mm)
        return RegistrationJob("refine", self.generation, self.proposal.method + "+refine", run,
                               where)

    def finish(self, job: RegistrationJob, result: RegistrationResult) -> Proposal | None:
        """Propose ``result`` (main thread). A failed fit is not proposed: the previous mapping
        stays and ``failed`` says why. A job for another pair is dropped (None)."""
        if job.generation != self.generation:
            return None
        if result.quality == "failed" or not rigid.is_rigid(result.matrix, 1e-4):
            why = "; ".join(result.warnings) or "the fit is not usable"
            self.fail(job, f"registration failed, the previous mapping is kept: {why}")
            return None
        method = job.base_method if job.kind == "refine" else result.method
        proposal = Proposal(np.asarray(result.matrix, dtype=np.float64), method, result.quality,
                            float(result.metric), tuple(result.warnings), 0, result,
                            job.provenance)
        self._set_proposal(proposal)
        return proposal

    def fail(self, job: RegistrationJob | None, message: str) -> None:
        """Report a registration that could not run; nothing changes."""
        if job is not None and job.generation != self.generation:
            return
        self.last_error = message
        self.failed.emit(message)

    def register(self, progress: Progress = no_progress,
                 cancel: Cancel = never_cancel) -> Proposal | None:
        """``prepare_register`` + run + ``finish`` in this thread. Errors are reported through
        ``failed`` (and return None), except Cancelled, which propagates."""
        return self._run_now(self.prepare_register(), progress, cancel)

    def refine(self, progress: Progress = no_progress,
               cancel: Cancel = never_cancel) -> Proposal | None:
        """``prepare_refine`` + run + ``finish`` in this thread (see ``register``)."""
        return self._run_now(self.prepare_refine(), progress, cancel)

    def _run_now(self, job: RegistrationJob, progress: Progress,
                 cancel: Cancel) -> Proposal | None:
        try:
            result = job.run(progress, cancel)
        except RegistrationError as exc:
            self.fail(job, f"registration failed, the previous mapping is kept: {exc}")
            return None
        return self.finish(job, result)

    # --- nudges -------------------------------------------------------------------------------
    def nudge(self, translation_mm: npt.ArrayLike = (0.0, 0.0, 0.0),
              rotation_deg: npt.ArrayLike = (0.0, 0.0, 0.0)) -> Proposal:
        """Move the overlaid follow-up by ``translation_mm`` (baseline LPS mm) and rotate it by
        ``rotation_deg`` (Euler degrees about LPS x, y, z) about the region centre. The new
        matrix is ``M @ N⁻¹`` where N is that motion: the follow-up point shown at baseline
        point p is now the one shown before at ``N⁻¹ p``."""
        self.volumes()
        current = self.proposal or Proposal(self.current_matrix(), "manual", "ok",
                                            provenance=self._provenance())
        shift = tuple(float(v) for v in np.asarray(translation_mm, float).reshape(3))
        turn = tuple(float(v) for v in np.asarray(rotation_deg, float).reshape(3))
        matrix = rigid.nudge_overlay(current.matrix, translation_mm=shift, rotation_deg=turn,
                                     center_mm=tuple(float(v) for v in self.center))
        method = current.method if current.method.endswith("+nudge") else (
            current.method + "+nudge" if current.method != "manual" else "manual")
        proposal = replace(current, matrix=matrix, method=method, nudges=current.nudges + 1)
        self._set_proposal(proposal)
        return proposal

    # --- landmarks ----------------------------------------------------------------------------
    def add_landmark(self, side: str, world: npt.ArrayLike) -> None:
        """Record a click on ``side`` (LPS mm of that side). It fills the open (incomplete)
        pair: its empty side, or — clicked again on the same side — moves that point (a
        correction). After a complete pair, a click starts a new one."""
        if side not in SIDES:
            raise InputError(f"registration: unknown side {side!r}")
        point = np.asarray(world, dtype=np.float64).reshape(3).copy()
        if self.pairs and not self.pairs[-1].complete:
            setattr(self.pairs[-1], side, point)
        else:
            self.pairs.append(LandmarkPair(**{side: point}))
        self.landmarks_changed.emit()

    def remove_last_landmark(self) -> None:
        """Undo the last pair (complete or not)."""
        if self.pairs:
            self.pairs.pop()
            self.landmarks_changed.emit()

    def clear_landmarks(self) -> None:
        self.pairs = []
        self.landmarks_changed.emit()

    def complete_pairs(self) -> tuple[FloatArray, FloatArray]:
        """Baseline and follow-up points ``(N, 3)`` of the complete pairs."""
        done = [p for p in self.pairs if p.complete]
        base = np.array([p.baseline for p in done], dtype=np.float64).reshape(-1, 3)
        follow = np.array([p.followup for p in done], dtype=np.float64).reshape(-1, 3)
        return base, follow

    def fit_landmarks(self) -> Proposal | None:
        """Propose the rigid fit of the complete pairs (≥ 3). Too few, collinear or disagreeing
        points are reported through ``failed`` and leave the mapping as it was (None)."""
        base, follow = self.complete_pairs()
        if len(base) < 3:
            self.fail(None, f"landmarks: {len(base)} complete pair(s), at least 3 are needed")
            return None
        from mdaread.registration import landmark_rigid

        try:
            result = landmark_rigid(base, follow)
        except RegistrationError as exc:
            self.fail(None, f"{exc}; the previous mapping is kept")
            return None
        if result.quality == "failed":
            self.fail(None, "landmarks: " + "; ".join(result.warnings)
                      + "; the previous mapping is kept")
            return None
        pairs = tuple((lps_tuple(b), lps_tuple(f)) for b, f in zip(base, follow, strict=True))
        where = replace(self._provenance(), pairs=pairs, residual_mm=result.residual_mm)
        proposal = Proposal(result.matrix, "landmarks", result.quality, result.residual_mm,
                            result.warnings, 0, result, where)
        self._set_proposal(proposal)
        return proposal

    # --- decisions ----------------------------------------------------------------------------
    def accept(self, reason: str = "") -> Decision:
        """Store the proposal as accepted (who, when) and link navigation through it."""
        decision = self._decide(True, reason)
        self.reading.set_registration(decision.matrix)
        return decision

    def reject(self, reason: str = "") -> Decision:
        """Store the proposal as rejected; the previous mapping stays in use."""
        return self._decide(False, reason)

    def _decide(self, accept: bool, reason: str) -> Decision:
        if self.proposal is None:
            raise InputError("registration: no proposal to accept or reject")
        subject = self.reading.subject
        base, follow = (self.reading.sides[s].series for s in SIDES)
        if subject is None or base is None or follow is None:
            raise InputError("registration: no baseline/follow-up pair is open")
        decision = self.store.decide(subject, base, follow, self.proposal, accept, reason)
        self.last_decision = decision
        self._set_proposal(None)
        self.decided.emit(decision)
        return decision

    def _set_proposal(self, proposal: Proposal | None) -> None:
        self.proposal = proposal
        self.proposal_changed.emit(proposal)

    # --- overlay ------------------------------------------------------------------------------
    def overlay_volumes(self) -> tuple[Volume, Volume]:
        """(baseline region, follow-up resampled on it) for the overlay views: the baseline's
        own voxels in the cube of half-edge ``radius_mm`` around the centre, and the follow-up
        sampled at ``current_matrix() @ p`` for each of those voxel centres p. Both share the
        baseline grid (spacing, direction). Cached per matrix; RegistrationError when the
        region misses the baseline."""
        base, follow = self.volumes()
        matrix = self.current_matrix()
        key = (id(base), id(follow), matrix.tobytes(), self.center.tobytes(), self.radius_mm)
        if self._overlay.key != key or self._overlay.volumes is None:
            from mdaread.registration import fixed_region, resample_to_fixed

            region = fixed_region(base, self.center, self.radius_mm)
            moved = resample_to_fixed(follow, base, matrix, center_lps=self.center,
                                      radius_mm=self.radius_mm)
            self._overlay = _OverlayCache(key, (region, moved))
        assert self._overlay.volumes is not None
        return self._overlay.volumes


__all__ = [
    "DEFAULT_RADIUS_MM",
    "NUDGE_DEG",
    "NUDGE_MM",
    "Decision",
    "LandmarkPair",
    "LevelStore",
    "MemoryLevelStore",
    "MemoryRegistrationStore",
    "PointPair",
    "Proposal",
    "Provenance",
    "RegistrationJob",
    "RegistrationSession",
    "RegistrationStore",
    "WorkspaceRegistrationStore",
    "describe",
    "level_store_for",
    "store_for",
]
