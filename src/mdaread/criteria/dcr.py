"""Disease control rate (DCR) per arm and timepoint, with Wilson 95 % intervals.

DC = final category in {CR, PR, SD}, plus PDu while unresolved. DCR = DC / subjects whose final
category is not NE (null categories — the reference and before — are left out). NE counts are
reported beside it, and a sensitivity row counts NE as failure (DC / (non-NE + NE)).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mdaread.criteria.vocabulary import DISEASE_CONTROL

Z_95 = 1.959963984540054
"""Two-sided 95 % normal quantile."""


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion successes/n; None when n = 0."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class DcrRow:
    """One arm × timepoint: DC count, denominator (non-NE), NE count, rate and interval.

    ``ne_as_failure`` is True for the sensitivity row (denominator non-NE + NE).
    """

    arm: str
    label: str
    ne_as_failure: bool
    dc: int
    n: int
    ne: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def dcr_summary(rows: Iterable[tuple[str, str, str, str | None]]) -> list[DcrRow]:
    """DCR rows from (subject, arm, timepoint label, final category) tuples.

    Arms and labels keep their first-seen order; each arm × label gives the primary row then the
    NE-as-failure row. A subject counted twice at the same arm × label is a ValueError.
    """
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for subject, arm, label, category in rows:
        if category is None:
            continue
        group = groups.setdefault((arm, label), {})
        if subject in group:
            raise ValueError(f"subject {subject} counted twice at {arm} {label}")
        group[subject] = category
    out: list[DcrRow] = []
    for (arm, label), group in groups.items():
        cats = list(group.values())
        dc = sum(c in DISEASE_CONTROL for c in cats)
        ne = sum(c == "NE" for c in cats)
        for ne_fails in (False, True):
            n = len(cats) if ne_fails else len(cats) - ne
            ci = wilson_interval(dc, n)
            out.append(DcrRow(arm, label, ne_fails, dc, n, ne, dc / n if n else None,
                              ci[0] if ci else None, ci[1] if ci else None))
    return out
