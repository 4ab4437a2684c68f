"""mdaread.criteria.agreement against published worked examples and hand computations.

Published figures:
- Cohen J. Weighted kappa. Psychol Bull 1968;70:213-220, Table 1: two judges, 200 cases, three
  diagnoses, proportions .44 .07 .09 / .05 .20 .05 / .01 .03 .06 (judge B rows); Cohen reports
  kappa = .492 and, with the disagreement weights 1, 3, 6, weighted kappa = .348.
- Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted kappa.
  Psychol Bull 1969;72:323-327: counts 106 10 4 / 22 28 10 / 2 12 6 (n = 200); kappa = .429 and,
  with the agreement weights 1, 0, .4444 / 0, 1, .6667 / .4444, .6667, 1, weighted kappa = .507.
  Their standard error is checked here against an independent derivation (the delta method on
  the multinomial, by numerical differentiation) and against a seeded simulation.
- Bland JM, Altman DG. Statistical methods for assessing agreement between two methods of
  clinical measurement. Lancet 1986;i:307-310, Table 1: PEFR (l/min) of 17 subjects by the Wright
  and the mini Wright meter (first readings); mean difference -2.1 l/min, SD 38.8 l/min.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdaread.criteria.agreement import (
    ORDINAL,
    agreement_summary,
    bland_altman,
    classify_pair,
    confusion_matrix,
    kappa,
    linear_weights,
    percent_agreement,
)

COHEN_1968 = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]  # Table 1 proportions × 200
COHEN_1968_DISAGREEMENT = [[0, 1, 3], [1, 0, 6], [3, 6, 0]]
FCE_1969 = [[106, 10, 4], [22, 28, 10], [2, 12, 6]]
FCE_1969_WEIGHTS = [[1, 0, .4444], [0, 1, .6667], [.4444, .6667, 1]]
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI_WRIGHT = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350,
               451]


def _delta_method_se(table: list[list[int]], weights: np.ndarray) -> float:
    """SE of kappa from var = g' (diag p − p p') g / n with g the numerical gradient of kappa
    in the cell proportions: the large-sample variance derived without the closed form."""
    counts = np.asarray(table, float)
    n = counts.sum()
    p = (counts / n).ravel()
    k = counts.shape[0]

    def kappa_of(q: np.ndarray) -> float:
        q = q.reshape(k, k) / q.sum()
        p_o = float((weights * q).sum())
        p_e = float((weights * np.outer(q.sum(1), q.sum(0))).sum())
        return (p_o - p_e) / (1 - p_e)

    grad = np.zeros(p.size)
    for i in range(p.size):
        up, down = p.copy(), p.copy()
        up[i] += 1e-6
        down[i] -= 1e-6
        grad[i] = (kappa_of(up) - kappa_of(down)) / 2e-6
    return float(np.sqrt(grad @ (np.diag(p) - np.outer(p, p)) @ grad / n))


def test_cohen_1968_kappa_and_weighted_kappa() -> None:
    assert kappa(COHEN_1968).value == pytest.approx(0.492, abs=5e-4)
    agreement_weights = [[1 - v / 6 for v in row] for row in COHEN_1968_DISAGREEMENT]
    assert kappa(COHEN_1968, agreement_weights).value == pytest.approx(0.348, abs=5e-4)


def test_fleiss_cohen_everitt_1969_kappa_values() -> None:
    assert kappa(FCE_1969).value == pytest.approx(0.429, abs=5e-4)
    assert kappa(FCE_1969, FCE_1969_WEIGHTS).value == pytest.approx(0.507, abs=5e-4)


@pytest.mark.parametrize("weights", [None, FCE_1969_WEIGHTS])
def test_standard_error_is_the_large_sample_one(weights: list[list[float]] | None) -> None:
    estimate = kappa(FCE_1969, weights)
    w = np.eye(3) if weights is None else np.asarray(weights, float)
    assert estimate.se == pytest.approx(_delta_method_se(FCE_1969, w), rel=1e-6)
    assert estimate.value is not None and estimate.se is not None
    assert estimate.ci_low == pytest.approx(estimate.value - 1.959964 * estimate.se, abs=1e-6)
    assert estimate.ci_high == pytest.approx(estimate.value + 1.959964 * estimate.se, abs=1e-6)


def test_standard_error_matches_a_seeded_simulation() -> None:
    """Kappa of 4000 multinomial samples (n = 200) from the FCE table's proportions: their SD
    is the sampling SE the formula estimates."""
    rng = np.random.default_rng(1969)
    p = np.asarray(FCE_1969, float).ravel() / 200
    values = [kappa(rng.multinomial(200, p).reshape(3, 3).tolist()).value
              for _ in range(4000)]
    se = kappa(FCE_1969).se
    assert se is not None
    assert float(np.std([v for v in values if v is not None], ddof=1)) == pytest.approx(
        se, rel=0.08)


def test_two_by_two_by_hand() -> None:
    """20 5 / 10 15 (n = 50): p_o = .7, p_e = .5·.6 + .5·.4 = .5, kappa = .4. FCE variance:
    cells .4·(.5 − 1.1·.3)² + .3·(.5 − .9·.3)² + .1·(1.1·.3)² + .2·(.9·.3)² = .0529, minus
    (.7·.5 − 1 + .7)² = .0025, over 50·.5⁴ = 3.125 → var .016128, SE .12700."""
    estimate = kappa([[20, 5], [10, 15]])
    assert estimate.value == pytest.approx(0.4)
    assert estimate.se == pytest.approx(math.sqrt(0.0504 / 3.125))
    assert estimate.ci_low == pytest.approx(0.4 - 1.959964 * 0.127000, abs=1e-5)


def test_linear_weighted_kappa_by_hand() -> None:
    """Rows CR 1 1 0 0 / PR 0 3 1 0 / SD 0 0 2 1 / PD 0 0 0 1 (n = 10), margins rows
    .2 .4 .3 .1, columns .1 .4 .3 .2. Unweighted: p_o .7, p_e .29, kappa 41/71. Linear weights
    1, 2/3, 1/3, 0: p_o .7 + 3·(2/3)/10 = .9; p_e .29 + (2/3)·.45 + (1/3)·.21 = .66;
    kappa_w = .24/.34 = 12/17."""
    table = [[1, 1, 0, 0], [0, 3, 1, 0], [0, 0, 2, 1], [0, 0, 0, 1]]
    assert kappa(table).value == pytest.approx(41 / 71)
    assert kappa(table, linear_weights(4)).value == pytest.approx(12 / 17)
    assert linear_weights(4)[0] == pytest.approx([1, 2 / 3, 1 / 3, 0])


def test_summary_by_hand() -> None:
    """The pairs of the table above, plus one NE, one PDu, one category on one side and a
    reference timepoint: n 10; DC vs PD 8 1 / 0 1 → p_o .9, p_e .9·.8 + .1·.2 = .74,
    kappa 8/13; agreement 7/10 with the Wilson interval .3968–.8922."""
    pairs: list[tuple[str | None, str | None]] = [
        ("CR", "CR"), ("CR", "PR"), ("PR", "PR"), ("PR", "PR"), ("PR", "PR"), ("PR", "SD"),
        ("SD", "SD"), ("SD", "SD"), ("SD", "PD"), ("PD", "PD"),
        ("NE", "PD"), ("PR", "PDu"), (None, "SD"), (None, None)]
    summary = agreement_summary(pairs)
    assert summary.n == 10
    assert summary.left_out == {"ne": 1, "pdu": 1, "one_sided": 1}
    assert summary.n_left_out == 3
    assert summary.confusion == [[1, 1, 0, 0], [0, 3, 1, 0], [0, 0, 2, 1], [0, 0, 0, 1]]
    assert summary.confusion_dc_pd == [[8, 1], [0, 1]]
    assert summary.kappa_dc_pd.value == pytest.approx(8 / 13)
    assert summary.weighted_kappa.value == pytest.approx(12 / 17)
    assert summary.percent_agreement.value == pytest.approx(0.7)
    assert summary.percent_agreement.ci_low == pytest.approx(0.3968, abs=1e-4)
    assert summary.percent_agreement.ci_high == pytest.approx(0.8922, abs=1e-4)
    assert summary.to_dict()["confusion"]["categories"] == list(ORDINAL)


def test_ne_in_either_read_is_left_out_whichever_side() -> None:
    assert classify_pair("NE", "SD") == classify_pair("SD", "NE") == "ne"
    assert classify_pair("NE", None) == "ne"
    assert classify_pair("PDu", "PD") == "pdu"
    assert classify_pair(None, None) is None
    with pytest.raises(ValueError, match="XX"):
        classify_pair("XX", "PD")


def test_undefined_statistics_are_none() -> None:
    empty = agreement_summary([])
    assert empty.n == 0 and empty.kappa.value is None and empty.percent_agreement.value is None
    one_category = kappa([[5, 0], [0, 0]])  # chance agreement 1: kappa is 0/0
    assert one_category.value is None and one_category.ci_low is None
    perfect = kappa([[3, 0], [0, 2]])
    assert (perfect.value, perfect.ci_low, perfect.ci_high) == (1.0, 1.0, 1.0)


def test_interval_is_clipped_to_the_kappa_range() -> None:
    estimate = kappa([[1, 2], [2, 0]])  # kappa −0.8 on 5 pairs: a wide interval
    assert estimate.value is not None and estimate.value < 0
    assert estimate.ci_low == -1.0 and estimate.ci_high is not None and estimate.ci_high <= 1


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        kappa([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="negative"):
        percent_agreement([[1, -1], [0, 1]])
    with pytest.raises(ValueError, match="weights"):
        kappa([[1, 0], [0, 1]], [[1, 2], [0, 1]])
    with pytest.raises(ValueError, match="'XX'"):
        confusion_matrix([("XX", "CR")], ORDINAL)


def test_bland_altman_1986_pefr() -> None:
    result = bland_altman(MINI_WRIGHT, WRIGHT)  # d = Wright − mini Wright, as in the paper
    assert result.n == 17
    assert result.bias == pytest.approx(-2.1, abs=0.05)
    assert result.sd == pytest.approx(38.8, abs=0.05)
    assert result.loa_low == pytest.approx(-2.1176 - 1.959964 * 38.7651, abs=1e-3)
    assert result.loa_high == pytest.approx(-2.1176 + 1.959964 * 38.7651, abs=1e-3)


def test_bland_altman_by_hand() -> None:
    """a 1 2 3, b 2 4 3: d 1 2 0, bias 1, SD 1; t(0.975, 2) = 4.3027 → bias 1 ± 2.4841."""
    result = bland_altman([1, 2, 3], [2, 4, 3])
    assert (result.bias, result.sd) == (pytest.approx(1.0), pytest.approx(1.0))
    assert (result.loa_low, result.loa_high) == (pytest.approx(1 - 1.959964),
                                                 pytest.approx(1 + 1.959964))
    assert result.bias_ci_low == pytest.approx(1 - 4.302653 / math.sqrt(3))
    assert result.differences == (1.0, 2.0, 0.0) and result.means == (1.5, 3.0, 3.0)
    single = bland_altman([1], [3])
    assert single.bias == 2.0 and single.sd is None and single.loa_low is None
    with pytest.raises(ValueError, match="finite"):
        bland_altman([1.0], [math.nan])
