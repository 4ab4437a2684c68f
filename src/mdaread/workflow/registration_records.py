"""What a registration in the reading session is made of (Qt-free): proposals, decisions,
where a mapping was computed (``Provenance``), landmark pairs, and the store protocols.

Every matrix maps baseline (fixed) LPS mm → follow-up (moving) LPS mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from mdaread.errors import InputError
from mdaread.storage import vertebral_level
from mdaread.workflow.worklist import Landmark, SeriesChoice

if TYPE_CHECKING:
    from mdaread.registration import RegistrationResult

FloatArray = npt.NDArray[np.float64]

PointPair = tuple[tuple[float, float, float], tuple[float, float, float]]
"""A landmark pair: (baseline LPS mm, follow-up LPS mm)."""


@dataclass(frozen=True)
class Provenance:
    """Where a mapping was computed: the region ``center`` (baseline LPS mm) and
    ``radius_mm``, the vertebral ``level`` of that centre (None when the centre came from
    the cursor or the grid), and for a landmark fit its ``pairs`` and RMS ``residual_mm``."""

    center: tuple[float, float, float] | None = None
    radius_mm: float | None = None
    level: str | None = None
    pairs: tuple[PointPair, ...] = ()
    residual_mm: float | None = None


@dataclass(frozen=True)
class Proposal:
    """A mapping on show, not yet accepted: ``matrix`` (baseline LPS → follow-up LPS), how it was
    made (``method``: intensity, landmarks, manual, with ``+nudge``/``+refine`` suffixes), its
    quality and metric from the last fit, warnings, and how many nudges since that fit."""

    matrix: FloatArray
    method: str
    quality: str
    metric: float | None = None
    warnings: tuple[str, ...] = ()
    nudges: int = 0
    result: RegistrationResult | None = None
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def level(self) -> str | None:
        """The vertebral level the region was centred on (None: cursor, grid centre)."""
        return self.provenance.level


@dataclass(frozen=True)
class Decision:
    """An accepted or rejected proposal as stored: who decided and when (UTC ISO text), and
    where the mapping was computed (``provenance``)."""

    accepted: bool
    matrix: FloatArray
    method: str
    by: str
    at: str
    record_id: int | None = None
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def level(self) -> str | None:
        return self.provenance.level


class RegistrationStore(Protocol):
    """Where decisions go. ``decide`` stores the proposal for the (baseline, follow-up) series
    pair with the decision, atomically, and returns it; raises MdareadError when it cannot."""

    def decide(self, subject: str, baseline: SeriesChoice, followup: SeriesChoice,
               proposal: Proposal, accept: bool, reason: str) -> Decision: ...

    def accepted(self, subject: str, baseline: SeriesChoice,
                 followup: SeriesChoice) -> Decision | None:
        """The latest accepted decision for the pair, None when there is none."""
        ...


class LevelStore(Protocol):
    """Where the reader's vertebral level labels live (per series; LPS mm of that series).
    ``level_labels`` returns Landmarks of kind ``label``; errors are MdareadError."""

    def level_labels(self, subject: str, timepoint: str) -> list[Landmark]: ...

    def label_level(self, subject: str, timepoint: str, series: SeriesChoice, level: str,
                    center: npt.ArrayLike, reason: str = "") -> Landmark: ...

    def remove_level_label(self, subject: str, timepoint: str, series: SeriesChoice,
                           level: str, reason: str = "") -> None: ...


@dataclass
class LandmarkPair:
    """One pair of corresponding points (LPS mm of each side); a side is None until clicked."""

    baseline: FloatArray | None = None
    followup: FloatArray | None = None

    @property
    def complete(self) -> bool:
        return self.baseline is not None and self.followup is not None


def checked_level(name: str) -> str:
    """The canonical level name (``l1`` → ``L1``); InputError naming the valid ones."""
    try:
        return vertebral_level(name)
    except ValueError as exc:
        raise InputError(f"label a level: {exc}") from exc


def lps_tuple(values: npt.ArrayLike) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in np.asarray(values, dtype=np.float64).reshape(3))
    return (x, y, z)


def describe(proposal: Proposal) -> str:
    """One line for the toolbar: method, quality, metric and nudges."""
    parts = [proposal.method, proposal.quality]
    if proposal.metric is not None and np.isfinite(proposal.metric):
        unit = " mm RMS" if proposal.method.startswith("landmarks") and "+refine" not in \
            proposal.method else ""
        parts.append(f"metric {proposal.metric:.3g}{unit}")
    if proposal.nudges:
        parts.append(f"{proposal.nudges} nudge(s)")
    return ", ".join(parts)
