"""The trial's vocabulary and calendar, held once: vertebral levels, timepoints, roles.

Levels are named and ordered cranial → caudal (C1 … C7, T1 … T12, L1 … L5, S1 … S5). The trial
treats T5–L5; a reader labels (and the guided panel offers) T1–S1.

Timepoints are labelled ``baseline``, ``1m``, ``3m``, ``6m``, ``12m``; each has a window of days
since treatment (used to place a scan by its date) and a nominal day. Days since treatment are
``scan date − treatment date`` in whole days, computed by :func:`days_since_treatment` only.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

# --- vertebral levels --------------------------------------------------------------------------


def _span(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{n}" for n in range(1, count + 1))


VERTEBRAL_LEVELS: tuple[str, ...] = (*_span("C", 7), *_span("T", 12), *_span("L", 5),
                                     *_span("S", 5))
"""Every vertebral level a lesion may sit in, cranial to caudal."""


def levels_between(first: str, last: str) -> tuple[str, ...]:
    """The levels from ``first`` to ``last`` inclusive, cranial to caudal (ValueError if either
    is not a level or ``last`` lies above ``first``)."""
    start, stop = VERTEBRAL_LEVELS.index(first), VERTEBRAL_LEVELS.index(last)
    if stop < start:
        raise ValueError(f"{last} lies above {first}")
    return VERTEBRAL_LEVELS[start:stop + 1]


LABELLED_LEVELS: tuple[str, ...] = levels_between("T1", "S1")
"""The levels a reader may label on a series and pick for a lesion in the guided panel."""

TRIAL_LEVELS: tuple[str, ...] = levels_between("T5", "L5")
"""The levels the trial treats."""


def describe_levels(levels: tuple[str, ...]) -> str:
    """``T1–T12, L1–L5 or S1``: the levels as runs per region, for messages."""
    runs: list[list[str]] = []
    for name in levels:
        if runs and runs[-1][0][0] == name[0]:
            runs[-1].append(name)
        else:
            runs.append([name])
    parts = [run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"


def level_name(text: str, allowed: tuple[str, ...] = VERTEBRAL_LEVELS) -> str:
    """The canonical name of a level typed as ``l1`` or `` L1 `` → ``L1``; ValueError with a
    one-line message listing the ``allowed`` names for anything else."""
    name = str(text).strip().upper()
    if name not in allowed:
        raise ValueError(f"{str(text).strip()!r} is not a vertebral level "
                         f"({describe_levels(allowed)})")
    return name


def level_rank(level: str) -> tuple[int, str]:
    """Sort key cranial to caudal (case-insensitive); names that are not levels after them."""
    upper = level.upper()
    index = VERTEBRAL_LEVELS.index(upper) if upper in VERTEBRAL_LEVELS else len(VERTEBRAL_LEVELS)
    return (index, upper)


# --- timepoints and the trial calendar ----------------------------------------------------------

TIMEPOINT_LABELS: tuple[str, ...] = ("baseline", "1m", "3m", "6m", "12m")
"""The protocol's timepoints in order."""

TIMEPOINT_WINDOWS: tuple[tuple[str, int | None, int], ...] = (
    ("baseline", None, 0), ("1m", 14, 60), ("3m", 61, 135), ("6m", 136, 270), ("12m", 271, 500),
)
"""(label, first day, last day) since treatment; None = open-ended (docs/contracts.md)."""

NOMINAL_DAYS: dict[str, int] = {"baseline": 0, "1m": 30, "3m": 91, "6m": 182, "12m": 365}
"""The protocol's day since treatment of each timepoint."""


def timepoint_rank(label: str) -> tuple[int, str]:
    """Sort key putting the protocol's timepoints in order, unknown labels after them."""
    if label in TIMEPOINT_LABELS:
        return (TIMEPOINT_LABELS.index(label), label)
    return (len(TIMEPOINT_LABELS), label)


def label_for_days(days: int) -> str | None:
    """The timepoint label whose window holds ``days`` since treatment, or None (ambiguous)."""
    for label, first, last in TIMEPOINT_WINDOWS:
        if (first is None or days >= first) and days <= last:
            return label
    return None


def parse_study_date(value: str) -> date | None:
    """DICOM DA (YYYYMMDD) or ISO (YYYY-MM-DD) → date; None when empty or malformed."""
    text = value.strip().replace("-", "")
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def days_since_treatment(scan_date: str | date | None,
                         treatment_date: str | date | None) -> int | None:
    """Whole days from treatment to the scan (negative before treatment); None when either date
    is missing or malformed. Dates are ``date`` objects, ISO or DICOM DA strings."""
    scanned = scan_date if isinstance(scan_date, date) else parse_study_date(scan_date or "")
    treated = (treatment_date if isinstance(treatment_date, date)
               else parse_study_date(treatment_date or ""))
    return (scanned - treated).days if scanned and treated else None


# --- who acts ----------------------------------------------------------------------------------

Role = Literal["reader", "adjudicator", "data_manager"]
ROLES: tuple[str, ...] = ("reader", "adjudicator", "data_manager")
"""The roles a workspace user acts in (design.md: reader, adjudicator, data manager)."""
