"""Disease control rate per arm and timepoint, Wilson 95 % interval (hand-computed values)."""

from __future__ import annotations

import pytest

from mdaread.criteria import dcr_summary, wilson_interval


def test_wilson_8_of_10_hand_computed() -> None:
    # p = 0.8, z² = 3.841459: centre 0.716735, half-width 0.226577
    low, high = wilson_interval(8, 10) or (0.0, 0.0)
    assert low == pytest.approx(0.490158, abs=1e-5)
    assert high == pytest.approx(0.943312, abs=1e-5)


def test_wilson_edges() -> None:
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(0, 5) or (1.0, 1.0)
    assert low == 0.0 and high == pytest.approx(0.434490, abs=1e-5)
    low, high = wilson_interval(5, 5) or (0.0, 0.0)
    assert high == 1.0 and low == pytest.approx(0.565510, abs=1e-5)


def test_dcr_summary_counts_and_sensitivity_row() -> None:
    finals = ["CR", "PR", "SD", "PDu", "PD", "NE", "NE", "SD", "SD", "PR", "PD", "SD"]
    rows = [(f"A{i:02d}", "RFA+VP", "3m", c) for i, c in enumerate(finals)]
    rows += [(f"A{i:02d}", "RFA+VP", "baseline", None) for i in range(len(finals))]
    rows += [("B01", "RFA+VP+SBRT", "3m", "NE")]
    out = dcr_summary(rows)
    assert [(r.arm, r.label, r.ne_as_failure) for r in out] == [
        ("RFA+VP", "3m", False), ("RFA+VP", "3m", True),
        ("RFA+VP+SBRT", "3m", False), ("RFA+VP+SBRT", "3m", True)]
    primary, sensitivity, only_ne, only_ne_fail = out
    assert (primary.dc, primary.n, primary.ne) == (8, 10, 2)  # PDu unresolved counts as DC
    assert primary.rate == pytest.approx(0.8)
    assert (primary.ci_low, primary.ci_high) == pytest.approx((0.490158, 0.943312), abs=1e-5)
    assert (sensitivity.dc, sensitivity.n, sensitivity.ne) == (8, 12, 2)
    # p = 2/3, n = 12: centre 0.626252, half-width 0.235628
    assert (sensitivity.ci_low, sensitivity.ci_high) == pytest.approx((0.390624, 0.861880),
                                                                      abs=1e-5)
    assert (only_ne.n, only_ne.rate, only_ne.ci_low) == (0, None, None)
    assert (only_ne_fail.n, only_ne_fail.rate) == (1, 0.0)


def test_dcr_summary_refuses_a_subject_twice() -> None:
    with pytest.raises(ValueError, match="S1"):
        dcr_summary([("S1", "A", "3m", "SD"), ("S1", "A", "3m", "PD")])
