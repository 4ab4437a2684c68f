"""The trial's vocabulary, held once: vertebral levels.

Levels are named and ordered cranial → caudal (C1 … C7, T1 … T12, L1 … L5, S1 … S5). The trial
treats T5–L5; a reader labels (and the guided panel offers) T1–S1.
"""

from __future__ import annotations


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
