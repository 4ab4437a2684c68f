"""The reading session: baseline and one follow-up side by side, linked by a world point.

Qt-free. A gesture in a view calls a command here (``set_cursor``, ``step``, ``set_window`` …);
the session changes its state and emits a plain-Python signal; the views redraw. Loading a series
is split in two so that the UI can run the slow half in a worker thread: ``load_volume`` (no state
change, any thread) then ``show`` (main thread).

Linked navigation maps a point between the sides through the accepted registration, a 4×4 matrix
taking baseline LPS mm to follow-up LPS mm; without one, through shared patient coordinates (the
identity). Cursor positions are stored exactly as mapped (LPS mm); each view shows the slice of
its own grid nearest to that point.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mdaread.errors import InputError
from mdaread.geometry import rigid
from mdaread.geometry.mpr import Mpr
from mdaread.geometry.window import PRESETS, Window, default_window, percentile_window
from mdaread.model import Volume
from mdaread.model.jobs import Cancel, Progress, never_cancel, no_progress
from mdaread.workflow.signals import Signal
from mdaread.workflow.worklist import Landmark, ReadingSource, SeriesChoice

SIDES: tuple[str, str] = ("baseline", "followup")
MR_PRESET = "MR auto"
"""Name of the preset computed from intensity percentiles (1–99 %)."""
PRESET_NAMES: tuple[str, ...] = (*PRESETS, MR_PRESET)
LEVEL_RADIUS_MM = 30.0
"""A cursor farther than this from every known vertebra centre has no level in the readout."""

FloatArray = npt.NDArray[np.float64]


@dataclass
class SideState:
    """What one side shows: a timepoint, its chosen series and volume, the cursor (LPS mm)."""

    timepoint: str | None = None
    choices: list[SeriesChoice] = field(default_factory=list)
    series: SeriesChoice | None = None
    volume: Volume | None = None
    mpr: Mpr | None = None
    cursor: FloatArray | None = None
    window: Window | None = None
    landmarks: list[Landmark] = field(default_factory=list)


@dataclass(frozen=True)
class Readout:
    """What the readout shows for a point: value (stored units), LPS mm, vertebral level."""

    side: str
    world: tuple[float, float, float]
    value: float | None
    level: str | None

    def text(self) -> str:
        x, y, z = self.world
        value = "outside" if self.value is None else f"{self.value:.0f}"
        level = f"  {self.level}" if self.level else ""
        return f"{value}  LPS ({x:.1f}, {y:.1f}, {z:.1f}) mm{level}"


class ReadingSession:
    """Baseline and follow-up of one subject, with linked cursors and per-side windows."""

    def __init__(self, source: ReadingSource) -> None:
        self.source = source
        self.subject: str | None = None
        self.sides: dict[str, SideState] = {s: SideState() for s in SIDES}
        self.linked = True
        self.registration: FloatArray | None = None
        self.opened = Signal()                # (subject,)
        self.timepoint_changed = Signal()     # (side,)
        self.series_changed = Signal()        # (side,)  a new volume is shown
        self.cursor_changed = Signal()        # (side,)
        self.window_changed = Signal()        # (side,)
        self.link_changed = Signal()          # (linked,)
        self.registration_changed = Signal()  # (matrix or None,)

    # --- opening -----------------------------------------------------------------------------
    def open(self, subject: str, timepoint: str | None = None) -> None:
        """Open ``subject``: baseline on the left, ``timepoint`` (or the first follow-up) on the
        right. Volumes are not loaded here: call ``load_volume`` + ``show`` per side."""
        labels = self.source.timepoints(subject)
        if not labels:
            raise InputError(f"subject {subject}: no timepoints in {self.source.name}")
        if timepoint is not None and timepoint not in labels:  # never show another one silently
            raise InputError(f"subject {subject}: no timepoint {timepoint!r} in "
                             f"{self.source.name} (has {', '.join(labels)})")
        self.subject = subject
        self.sides = {s: SideState() for s in SIDES}
        self._set_registration(None)
        baseline = labels[0]
        followups = [t for t in labels if t != baseline]
        followup = timepoint if timepoint in followups else (followups[0] if followups else None)
        self.opened.emit(subject)
        self._choose_timepoint("baseline", baseline)
        if followup is not None:
            self._choose_timepoint("followup", followup)

    def followup_labels(self) -> list[str]:
        """Every timepoint of the open subject except the baseline (the timepoint strip)."""
        if self.subject is None:
            return []
        labels = self.source.timepoints(self.subject)
        return [t for t in labels if t != self.sides["baseline"].timepoint]

    def set_followup(self, timepoint: str) -> None:
        """Switch the right side to another follow-up (load it next)."""
        if timepoint not in self.followup_labels():
            raise InputError(f"subject {self.subject}: no follow-up {timepoint!r}")
        self._choose_timepoint("followup", timepoint)

    def _choose_timepoint(self, side: str, timepoint: str) -> None:
        assert self.subject is not None
        state = SideState(timepoint=timepoint)
        state.choices = self.source.series(self.subject, timepoint)
        state.landmarks = self.source.landmarks(self.subject, timepoint)
        state.cursor = self.sides[side].cursor
        self.sides[side] = state
        if side == "followup" or self.sides["followup"].series is None:
            self._set_registration(None)
        self.timepoint_changed.emit(side)

    def preferred_series(self, side: str) -> SeriesChoice | None:
        """The series a side opens with: the follow-up matches the baseline's modality; CT before
        MR otherwise; the source's order breaks ties."""
        choices = self.sides[side].choices
        if not choices:
            return None
        other = self.sides["baseline"].series if side == "followup" else None
        if other is not None:
            same = [c for c in choices if c.modality == other.modality]
            if same:
                return same[0]
        ct = [c for c in choices if c.modality.upper() == "CT"]
        return (ct or choices)[0]

    # --- loading -----------------------------------------------------------------------------
    def load_volume(self, series: SeriesChoice, progress: Progress = no_progress,
                    cancel: Cancel = never_cancel) -> Volume:
        """Load a series through the source. Changes no state: safe in a worker thread."""
        return self.source.load(series, progress, cancel)

    def show(self, side: str, series: SeriesChoice, volume: Volume) -> None:
        """Put a loaded volume on ``side`` and place its cursor (main thread)."""
        state = self.sides[side]
        state.series, state.volume, state.mpr = series, volume, Mpr(volume)
        if state.mpr.strided_planes():
            # the sagittal plane of an axial stack gathers scattered values at every step: a
            # contiguous copy (0.3 s for 512² × 500) comes in while the first image is shown
            threading.Thread(target=state.mpr.copy_strided_planes, name="mpr-copy",
                             daemon=True).start()
        state.window = default_window(volume.modality, volume.array)
        self._refresh_registration()
        base = self.sides["baseline"]
        if side == "followup" and self.linked and base.cursor is not None:
            state.cursor = self.map_point("baseline", base.cursor)
        elif state.cursor is None or not state.mpr.contains(state.cursor):
            state.cursor = self._start_point(state)
        self.series_changed.emit(side)
        self.window_changed.emit(side)
        self.cursor_changed.emit(side)
        if side == "baseline" and self.linked and self.sides["followup"].volume is not None:
            # the baseline leads, whichever side finished loading first
            self.set_cursor("baseline", state.cursor)

    def _start_point(self, state: SideState) -> FloatArray:
        assert state.volume is not None
        treated = [lm for lm in state.landmarks if lm.treated]
        for landmark in treated or state.landmarks:
            if state.mpr is not None and state.mpr.contains(landmark.center):
                return np.asarray(landmark.center, dtype=np.float64)
        return state.volume.center_world()

    # --- navigation --------------------------------------------------------------------------
    def set_cursor(self, side: str, world: npt.ArrayLike) -> None:
        """Move ``side``'s cursor to ``world`` (LPS mm); the other side follows when linked."""
        point = np.asarray(world, dtype=np.float64).reshape(3)
        self.sides[side].cursor = point
        self.cursor_changed.emit(side)
        other = _other(side)
        if self.linked and self.sides[other].volume is not None:
            self.sides[other].cursor = self.map_point(side, point)
            self.cursor_changed.emit(other)

    def step(self, side: str, plane: str, delta: int) -> None:
        """Scroll ``side``'s ``plane`` view by ``delta`` slices (clamped to the volume)."""
        state = self.sides[side]
        if state.mpr is None or state.cursor is None:
            return
        self.set_cursor(side, state.mpr.step(plane, state.cursor, delta))

    def map_point(self, from_side: str, world: npt.ArrayLike) -> FloatArray:
        """The point on the other side that corresponds to ``world`` on ``from_side`` (LPS mm)."""
        point = np.asarray(world, dtype=np.float64)
        if self.registration is None:
            return point.copy()
        matrix = self.registration if from_side == "baseline" else rigid.invert(self.registration)
        return rigid.apply(matrix, point)

    def set_linked(self, linked: bool) -> None:
        """Switch linked navigation on or off; switching on re-aligns the follow-up."""
        self.linked = bool(linked)
        self.link_changed.emit(self.linked)
        base = self.sides["baseline"]
        if self.linked and base.cursor is not None and self.sides["followup"].volume is not None:
            self.set_cursor("baseline", base.cursor)

    def set_registration(self, matrix: npt.ArrayLike | None) -> None:
        """Use ``matrix`` (baseline LPS → follow-up LPS, 4×4) for linking; None = shared LPS."""
        if matrix is not None:
            m = np.asarray(matrix, dtype=np.float64)
            if m.shape != (4, 4) or not rigid.is_rigid(m, tol=1e-4):
                raise InputError("registration: the matrix is not a rigid 4x4 transform")
            matrix = m
        self._set_registration(matrix)
        base = self.sides["baseline"]
        if self.linked and base.cursor is not None:
            self.set_cursor("baseline", base.cursor)

    def _set_registration(self, matrix: FloatArray | None) -> None:
        self.registration = matrix
        self.registration_changed.emit(matrix)

    def _refresh_registration(self) -> None:
        base, follow = self.sides["baseline"].series, self.sides["followup"].series
        if self.subject is None or base is None or follow is None:
            return
        matrix = self.source.registration(self.subject, base, follow)
        self._set_registration(None if matrix is None else np.asarray(matrix, dtype=np.float64))

    # --- window / level ----------------------------------------------------------------------
    def set_window(self, side: str, window: Window) -> None:
        self.sides[side].window = window
        self.window_changed.emit(side)

    def apply_preset(self, name: str, side: str | None = None) -> None:
        """Apply a preset (PRESET_NAMES) to one side, or to every loaded side when None."""
        if name not in PRESET_NAMES:
            raise InputError(f"unknown window preset {name!r} (one of {', '.join(PRESET_NAMES)})")
        for s in (side,) if side else SIDES:
            volume = self.sides[s].volume
            if volume is None:
                continue
            window = percentile_window(volume.array) if name == MR_PRESET else PRESETS[name]
            self.set_window(s, window)

    # --- readout -----------------------------------------------------------------------------
    def readout(self, side: str, world: npt.ArrayLike) -> Readout:
        """Value, position and vertebral level at ``world`` (LPS mm) on ``side``."""
        state = self.sides[side]
        point = np.asarray(world, dtype=np.float64).reshape(3)
        value = state.mpr.value_at(point) if state.mpr is not None else None
        return Readout(side, (float(point[0]), float(point[1]), float(point[2])), value,
                       level_at(state.landmarks, point))


def level_at(landmarks: list[Landmark], world: npt.ArrayLike,
             radius_mm: float = LEVEL_RADIUS_MM) -> str | None:
    """The level of the nearest landmark within ``radius_mm`` of ``world`` (LPS mm), else None."""
    if not landmarks:
        return None
    point = np.asarray(world, dtype=np.float64)
    centers = np.array([lm.center for lm in landmarks], dtype=np.float64)
    distances = np.linalg.norm(centers - point, axis=1)
    best = int(np.argmin(distances))
    return landmarks[best].level if distances[best] <= radius_mm else None


def _other(side: str) -> str:
    return "followup" if side == "baseline" else "baseline"
