"""Agreement between two reads of the same timepoints: pure functions, no workspace, no Qt.

- ``confusion_matrix``: counts of (category of read a, category of read b), rows = read a;
- ``percent_agreement``: the share of identical categories, with the Wilson 95 % interval;
- ``kappa``: Cohen's (1960) kappa, or with a weight matrix Cohen's (1968) weighted kappa, with
  the 95 % interval kappa ± 1.96 · SE from the large-sample standard error of Fleiss, Cohen &
  Everitt (1969, Psychol Bull 72:323-327) — the non-null SE, not the SE under kappa = 0 — clipped
  to [−1, 1]; ``linear_weights`` are Cicchetti & Allison's 1 − |i − j| / (k − 1);
- ``bland_altman``: bias (mean of b − a), SD of the differences, 95 % limits of agreement
  bias ± 1.96 SD (Bland & Altman 1986, Lancet i:307-310) and the t interval of the bias;
- ``agreement_summary``: all of it for pairs of final categories on the ordinal scale
  CR > PR > SD > PD, plus kappa for disease control (CR, PR, SD) vs PD.

Which pairs count (``agreement_summary``): a pair with NE in either read is left out, and so is
one with an unresolved PDu in either (it is neither disease control decided nor PD on the
ordinal scale) or a category in only one read; each kind is counted. Pairs with no category in
both reads (reference timepoints) are not compared timepoints and are not counted.

Intervals are asymptotic: with few pairs, or kappa near 1 (SE → 0), they are too narrow; an
undefined statistic (no pairs; chance agreement 1, i.e. one category only) is None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mdaread.criteria.dcr import Z_95, wilson_interval

ORDINAL = ("CR", "PR", "SD", "PD")
"""The response categories from best to worst: the weighted kappa's ordinal scale."""
DC_PD = ("DC", "PD")
"""Disease control (CR, PR or SD) vs progression."""
KAPPA_METHOD = "Fleiss-Cohen-Everitt 1969 large-sample SE, kappa ± 1.96 SE, clipped to [-1, 1]"
WILSON_METHOD = "Wilson score interval"
LEFT_OUT_KINDS = ("ne", "pdu", "one_sided")
"""Why a pair was left out: NE in either read, an unresolved PDu in either, a category in one
read only."""

Table = list[list[int]]


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95 % interval (all None when undefined) and how it was computed."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None = None
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "se": self.se, "method": self.method}


@dataclass(frozen=True)
class BlandAltman:
    """Bland–Altman of paired values (units of the input, SPD in mm²): d = b − a."""

    n: int
    bias: float | None
    sd: float | None
    loa_low: float | None
    loa_high: float | None
    bias_ci_low: float | None
    bias_ci_high: float | None
    means: tuple[float, ...] = ()
    differences: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "bias": self.bias, "sd": self.sd, "loa_low": self.loa_low,
                "loa_high": self.loa_high, "bias_ci_low": self.bias_ci_low,
                "bias_ci_high": self.bias_ci_high,
                "method": "bias = mean(b - a) with its t 95 % interval; limits of agreement "
                          "bias ± 1.96 SD (SD with n - 1)"}


def confusion_matrix(pairs: Sequence[tuple[str, str]], categories: Sequence[str]) -> Table:
    """Counts ``table[i][j]`` of pairs (categories[i] in read a, categories[j] in read b).

    ValueError for a category not in ``categories``.
    """
    index = {c: i for i, c in enumerate(categories)}
    table = [[0] * len(categories) for _ in categories]
    for a, b in pairs:
        if a not in index or b not in index:
            raise ValueError(f"category {a if a not in index else b!r} is not one of "
                             f"{', '.join(categories)}")
        table[index[a]][index[b]] += 1
    return table


def _check_table(table: Sequence[Sequence[float]]) -> int:
    k = len(table)
    if k == 0 or any(len(row) != k for row in table):
        raise ValueError("the table must be square and not empty")
    if any(not math.isfinite(v) or v < 0 for row in table for v in row):
        raise ValueError("the table holds a negative or non-finite count")
    return k


def percent_agreement(table: Sequence[Sequence[int]]) -> Estimate:
    """Share of pairs on the diagonal (0–1), with the Wilson score 95 % interval."""
    k = _check_table(table)
    n = int(sum(sum(row) for row in table))
    agree = int(sum(table[i][i] for i in range(k)))
    ci = wilson_interval(agree, n)
    if ci is None:
        return Estimate(None, None, None, None, WILSON_METHOD)
    return Estimate(agree / n, ci[0], ci[1], None, WILSON_METHOD)


def linear_weights(k: int) -> list[list[float]]:
    """Agreement weights 1 − |i − j| / (k − 1) for k ≥ 2 ordered categories."""
    if k < 2:
        raise ValueError("linear weights need at least two categories")
    return [[1.0 - abs(i - j) / (k - 1) for j in range(k)] for i in range(k)]


def identity_weights(k: int) -> list[list[float]]:
    """Agreement weights of the unweighted kappa: 1 on the diagonal, 0 elsewhere."""
    return [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]


def kappa(table: Sequence[Sequence[float]],
          weights: Sequence[Sequence[float]] | None = None, z: float = Z_95) -> Estimate:
    """Cohen's kappa of a k × k table of counts (rows: read a), weighted when ``weights``
    (agreement weights, 1 on the diagonal, 0 ≤ w ≤ 1) is given.

    With p_ij = n_ij / n, row and column margins p_i., p_.j, w̄_i. = Σ_j w_ij p_.j and
    w̄_.j = Σ_i w_ij p_i.: p_o = Σ w_ij p_ij, p_e = Σ w_ij p_i. p_.j, κ = (p_o − p_e)/(1 − p_e),
    and (Fleiss, Cohen & Everitt 1969, eq. for the non-null variance)

        var κ = [Σ_ij p_ij (w_ij (1 − p_e) − (w̄_i. + w̄_.j)(1 − p_o))²
                 − (p_o p_e − 2 p_e + p_o)²] / (n (1 − p_e)⁴).

    The interval is κ ± z·SE clipped to [−1, 1]; None throughout when n = 0 or p_e = 1.
    """
    k = _check_table(table)
    w = identity_weights(k) if weights is None else [list(map(float, r)) for r in weights]
    if len(w) != k or any(len(r) != k for r in w):
        raise ValueError("the weights must be a matrix of the table's size")
    if any(w[i][i] != 1.0 for i in range(k)) or any(not 0 <= v <= 1 for r in w for v in r):
        raise ValueError("agreement weights are 1 on the diagonal and between 0 and 1")
    n = float(sum(sum(row) for row in table))
    if n <= 0:
        return Estimate(None, None, None, None, KAPPA_METHOD)
    p = [[v / n for v in row] for row in table]
    rows = [sum(r) for r in p]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    p_o = sum(w[i][j] * p[i][j] for i in range(k) for j in range(k))
    p_e = sum(w[i][j] * rows[i] * cols[j] for i in range(k) for j in range(k))
    if p_e >= 1.0 - 1e-12:
        return Estimate(None, None, None, None, KAPPA_METHOD)
    value = (p_o - p_e) / (1 - p_e)
    w_row = [sum(w[i][j] * cols[j] for j in range(k)) for i in range(k)]
    w_col = [sum(w[i][j] * rows[i] for i in range(k)) for j in range(k)]
    total = sum(p[i][j] * (w[i][j] * (1 - p_e) - (w_row[i] + w_col[j]) * (1 - p_o)) ** 2
                for i in range(k) for j in range(k))
    variance = (total - (p_o * p_e - 2 * p_e + p_o) ** 2) / (n * (1 - p_e) ** 4)
    se = math.sqrt(max(variance, 0.0))
    return Estimate(value, max(-1.0, value - z * se), min(1.0, value + z * se), se,
                    KAPPA_METHOD)


def bland_altman(a: Sequence[float], b: Sequence[float]) -> BlandAltman:
    """Bland–Altman of paired values a, b (same units; d = b − a).

    Limits of agreement bias ± 1.96 SD (SD of the differences with n − 1); the bias interval
    uses Student's t with n − 1 degrees of freedom. SD and limits need n ≥ 2.
    """
    if len(a) != len(b):
        raise ValueError("Bland-Altman needs the same number of values in both reads")
    values = [(float(x), float(y)) for x, y in zip(a, b, strict=True)]
    if any(not (math.isfinite(x) and math.isfinite(y)) for x, y in values):
        raise ValueError("Bland-Altman values must be finite")
    n = len(values)
    diffs = tuple(y - x for x, y in values)
    means = tuple((x + y) / 2 for x, y in values)
    if n == 0:
        return BlandAltman(0, None, None, None, None, None, None)
    bias = sum(diffs) / n
    if n < 2:
        return BlandAltman(n, bias, None, None, None, None, None, means, diffs)
    sd = math.sqrt(sum((d - bias) ** 2 for d in diffs) / (n - 1))
    from scipy.stats import t as student_t  # lazy: scipy.stats takes a moment to import

    half = float(student_t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return BlandAltman(n, bias, sd, bias - Z_95 * sd, bias + Z_95 * sd, bias - half,
                       bias + half, means, diffs)


@dataclass(frozen=True)
class AgreementSummary:
    """Agreement of paired final categories (and SPD) between read a and read b."""

    n: int
    left_out: dict[str, int]
    confusion: Table
    percent_agreement: Estimate
    kappa: Estimate
    weighted_kappa: Estimate
    kappa_dc_pd: Estimate
    confusion_dc_pd: Table
    spd: BlandAltman = field(default_factory=lambda: bland_altman([], []))

    @property
    def n_left_out(self) -> int:
        return sum(self.left_out.values())

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "n_left_out": self.n_left_out, "left_out": dict(self.left_out),
                "percent_agreement": self.percent_agreement.to_dict(),
                "kappa": self.kappa.to_dict(), "weighted_kappa": self.weighted_kappa.to_dict(),
                "kappa_dc_pd": self.kappa_dc_pd.to_dict(),
                "confusion": {"categories": list(ORDINAL), "rows": "reader_a",
                              "columns": "reader_b", "counts": self.confusion},
                "confusion_dc_pd": {"categories": list(DC_PD), "rows": "reader_a",
                                    "columns": "reader_b", "counts": self.confusion_dc_pd},
                "spd_bland_altman": self.spd.to_dict()}


def classify_pair(a: str | None, b: str | None) -> str | None:
    """``compared``, the left-out kind (``LEFT_OUT_KINDS``), or None when neither read has a
    category (a reference timepoint). ValueError for an unknown category."""
    for c in (a, b):
        if c is not None and c not in (*ORDINAL, "PDu", "NE"):
            raise ValueError(f"unknown category {c!r}")
    if a is None and b is None:
        return None
    if "NE" in (a, b):
        return "ne"
    if "PDu" in (a, b):
        return "pdu"
    if a is None or b is None:
        return "one_sided"
    return "compared"


def agreement_summary(pairs: Sequence[tuple[str | None, str | None]],
                      spd_pairs: Sequence[tuple[float, float]] = ()) -> AgreementSummary:
    """The agreement statistics of paired final categories (read a, read b), and Bland–Altman
    of ``spd_pairs`` (mm², chosen by the caller)."""
    left_out = dict.fromkeys(LEFT_OUT_KINDS, 0)
    compared: list[tuple[str, str]] = []
    for a, b in pairs:
        kind = classify_pair(a, b)
        if kind == "compared":
            assert a is not None and b is not None
            compared.append((a, b))
        elif kind is not None:
            left_out[kind] += 1
    table = confusion_matrix(compared, ORDINAL)
    binary = confusion_matrix([(_dc(a), _dc(b)) for a, b in compared], DC_PD)
    spd = bland_altman([x for x, _ in spd_pairs], [y for _, y in spd_pairs])
    return AgreementSummary(len(compared), left_out, table, percent_agreement(table),
                            kappa(table), kappa(table, linear_weights(len(ORDINAL))),
                            kappa(binary), binary, spd)


def _dc(category: str) -> str:
    return "PD" if category == "PD" else "DC"
