"""Vertebral levels on the sides of a reading session (Qt-free helpers of RegistrationSession).

Levels are ``Landmark``s: the reader's labels ("this is L1", kind ``label``, per series) and the
levels of lesions or other known landmarks. Centres are LPS mm of the side's own frame.
"""

from __future__ import annotations

from dataclasses import replace

from mdaread.errors import InputError
from mdaread.model.vocabulary import level_rank
from mdaread.workflow.reading import SIDES, ReadingSession, SideState
from mdaread.workflow.registration_records import LevelStore
from mdaread.workflow.worklist import Landmark, SeriesChoice


def known_levels(state: SideState) -> list[Landmark]:
    """The levels known on ``state``'s series, one per name: the reader's label of a level
    wins over a lesion (or other) landmark of the same name; treated levels first, then cranial
    to caudal."""
    uid = state.series.series_uid if state.series is not None else None
    usable = [lm for lm in state.landmarks if lm.level and (
        lm.kind != "label" or uid is None or lm.series_uid in ("", uid))]
    best: dict[str, Landmark] = {}
    for lm in sorted(usable, key=lambda lm: lm.kind != "label"):  # labels first, stable
        best.setdefault(lm.level, lm)
    treated = {lm.level for lm in usable if lm.treated}
    return sorted((replace(lm, treated=lm.level in treated) for lm in best.values()),
                  key=lambda lm: (not lm.treated, level_rank(lm.level)))


def labelled_levels(state: SideState) -> list[str]:
    """Levels the reader labelled on ``state``'s series, cranial to caudal."""
    series = state.series
    names = {lm.level for lm in state.landmarks
             if lm.kind == "label" and series is not None
             and lm.series_uid in ("", series.series_uid)}
    return sorted(names, key=level_rank)


def side_series(reading: ReadingSession, side: str) -> tuple[str, str, SeriesChoice]:
    """(subject, timepoint, series) on ``side``; InputError when nothing is on show there."""
    if side not in SIDES:
        raise InputError(f"registration: unknown side {side!r}")
    state = reading.sides[side]
    if reading.subject is None or state.timepoint is None or state.series is None:
        raise InputError(f"label a level: no series on the {side} side")
    return reading.subject, state.timepoint, state.series


def refresh_labels(reading: ReadingSession, labels: LevelStore, side: str) -> None:
    """Put the store's current labels in ``side``'s landmarks (the readout shows them)."""
    state = reading.sides[side]
    if reading.subject is None or state.timepoint is None:
        return
    others = [lm for lm in state.landmarks if lm.kind != "label"]
    state.landmarks = labels.level_labels(reading.subject, state.timepoint) + others
