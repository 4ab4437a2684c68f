"""The reader's worklist and the data source behind it (Qt-free).

A ``ReadingSource`` is what the workstation reads from: the trial workspace (``storage_source``)
or, in tests, an ``InMemorySource``. Records here carry trial IDs, timepoint labels, modalities
and read status — never the randomisation arm, so no view can show it by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mdaread.errors import InputError
from mdaread.model import Volume
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.model.vocabulary import timepoint_rank

READ_STATUSES: tuple[str, ...] = ("not read", "draft", "signed")


@dataclass(frozen=True)
class WorklistEntry:
    """One subject × timepoint to read. ``days`` is days since treatment (None when unknown)."""

    subject: str
    timepoint: str
    days: int | None
    modality: str
    status: str
    n_series: int = 0


@dataclass(frozen=True)
class SeriesChoice:
    """A series the reader can pick for a timepoint; ``ref`` is the source's own handle
    (a path, a workspace id) and is opaque to the workstation."""

    series_uid: str
    modality: str
    description: str
    ref: str = ""


@dataclass(frozen=True)
class Landmark:
    """A known vertebral level: its name (T5 … L5) and its centre in that timepoint's LPS mm.

    ``kind`` says where it comes from: ``label`` (placed by the reader on the series
    ``series_uid``, whose LPS mm the centre is in), ``lesion`` (the centre of a lesion's
    measurement), ``""`` otherwise (e.g. the sample trial's truth)."""

    level: str
    center: tuple[float, float, float]
    treated: bool = False
    kind: str = ""
    series_uid: str = ""


class ReadingSource(Protocol):
    """What the workstation needs from the trial data. Implementations must be safe to call
    ``load`` from a worker thread while the other methods run on the main thread."""

    name: str

    def worklist(self) -> list[WorklistEntry]: ...

    def timepoints(self, subject: str) -> list[str]: ...

    def series(self, subject: str, timepoint: str) -> list[SeriesChoice]: ...

    def load(self, series: SeriesChoice, progress: Progress, cancel: Cancel) -> Volume: ...

    def landmarks(self, subject: str, timepoint: str) -> list[Landmark]: ...

    def registration(
        self, subject: str, baseline: SeriesChoice, followup: SeriesChoice
    ) -> npt.NDArray[np.float64] | None: ...


def filter_worklist(
    entries: Iterable[WorklistEntry], text: str = "", status: str | None = None
) -> list[WorklistEntry]:
    """Entries whose subject or timepoint contains ``text`` (case-insensitive) and whose status
    is ``status`` (None = any)."""
    needle = text.strip().lower()
    return [
        e for e in entries
        if (not needle or needle in e.subject.lower() or needle in e.timepoint.lower())
        and (status is None or e.status == status)
    ]


def sort_worklist(
    entries: Iterable[WorklistEntry], key: str = "subject", descending: bool = False
) -> list[WorklistEntry]:
    """Sort by ``subject`` (then timepoint order), ``timepoint``, ``status`` or ``days``."""
    def by_subject(e: WorklistEntry) -> tuple[object, ...]:
        return (e.subject, timepoint_rank(e.timepoint))

    keys = {
        "subject": by_subject,
        "timepoint": lambda e: (timepoint_rank(e.timepoint), e.subject),
        "status": lambda e: (READ_STATUSES.index(e.status) if e.status in READ_STATUSES else 9,
                             *by_subject(e)),
        "days": lambda e: (e.days if e.days is not None else 10**9, *by_subject(e)),
    }
    if key not in keys:
        raise InputError(f"worklist: unknown sort key {key!r} (one of {', '.join(keys)})")
    return sorted(entries, key=keys[key], reverse=descending)


@dataclass
class _Timepoint:
    days: int | None
    status: str
    series: list[tuple[SeriesChoice, Volume]]
    landmarks: list[Landmark] = field(default_factory=list)


class InMemorySource:
    """A ReadingSource over Volumes already in memory (tests, benchmarks, demos without files)."""

    def __init__(self, name: str = "in memory") -> None:
        self.name = name
        self._data: dict[str, dict[str, _Timepoint]] = {}
        self._registrations: dict[tuple[str, str, str], npt.NDArray[np.float64]] = {}
        self.fail_uids: set[str] = set()  # loads of these raise InputError (error-path tests)

    def add(
        self, subject: str, timepoint: str, volumes: Sequence[Volume], *, days: int | None = None,
        status: str = "not read", landmarks: Sequence[Landmark] = (),
    ) -> None:
        choices = [
            (SeriesChoice(v.series_uid or f"{subject}/{timepoint}/{n}", v.modality,
                          v.description or v.modality, ref=f"{subject}/{timepoint}/{n}"), v)
            for n, v in enumerate(volumes)
        ]
        self._data.setdefault(subject, {})[timepoint] = _Timepoint(
            days, status, choices, list(landmarks))

    def set_registration(self, subject: str, baseline_uid: str, followup_uid: str,
                         matrix: npt.ArrayLike) -> None:
        self._registrations[(subject, baseline_uid, followup_uid)] = np.asarray(matrix, float)

    def worklist(self) -> list[WorklistEntry]:
        return [
            WorklistEntry(subject, label, tp.days,
                          "+".join(sorted({c.modality for c, _ in tp.series})), tp.status,
                          len(tp.series))
            for subject, tps in self._data.items() for label, tp in tps.items()
        ]

    def timepoints(self, subject: str) -> list[str]:
        return sorted(self._data.get(subject, {}), key=timepoint_rank)

    def series(self, subject: str, timepoint: str) -> list[SeriesChoice]:
        tp = self._data.get(subject, {}).get(timepoint)
        return [c for c, _ in tp.series] if tp else []

    def load(self, series: SeriesChoice, progress: Progress = no_progress,
             cancel: Cancel = never_cancel) -> Volume:
        check_cancel(cancel)
        if series.series_uid in self.fail_uids:
            raise InputError(f"{series.ref}: cannot load series {series.series_uid}")
        for tps in self._data.values():
            for tp in tps.values():
                for choice, volume in tp.series:
                    if choice == series:
                        progress(1.0, "loaded")
                        return volume
        raise InputError(f"{series.ref}: no such series {series.series_uid}")

    def landmarks(self, subject: str, timepoint: str) -> list[Landmark]:
        tp = self._data.get(subject, {}).get(timepoint)
        return list(tp.landmarks) if tp else []

    def registration(self, subject: str, baseline: SeriesChoice,
                     followup: SeriesChoice) -> npt.NDArray[np.float64] | None:
        return self._registrations.get((subject, baseline.series_uid, followup.series_uid))
