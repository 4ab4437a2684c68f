"""The quality call: overlap, normalised MI and sharpness → ok / poor / failed."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.registration.quality import _call, nmi


def test_nmi_bounds() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=20000)
    assert nmi(a, a) == pytest.approx(2.0, abs=0.01)
    assert nmi(a, rng.normal(size=20000)) < 1.02
    assert 1.1 < nmi(a, a + rng.normal(scale=0.5, size=20000)) < 1.9


@pytest.mark.parametrize(
    ("overlap", "value", "sharpness", "beaten", "expected"),
    [
        (1.0, 1.40, 0.40, False, "ok"),
        (0.6, 1.40, 0.40, False, "poor"),  # partial overlap
        (1.0, 1.08, 0.40, False, "poor"),  # weak shared information
        (1.0, 1.40, 0.01, False, "poor"),  # flat optimum
        (1.0, 1.40, 0.40, True, "poor"),  # a shifted position is better, but the peak is clear
        (0.2, 1.40, 0.40, False, "failed"),  # the region maps mostly off the follow-up
        (1.0, 1.03, 0.40, False, "failed"),  # nothing in common
        (1.0, float("nan"), 0.40, False, "failed"),
        (1.0, 1.40, 0.05, True, "failed"),  # not at an optimum and no clear peak
        (0.45, 1.40, 0.05, False, "failed"),  # half off the image and no clear peak
    ],
)
def test_quality_call(overlap: float, value: float, sharpness: float, beaten: bool,
                      expected: str) -> None:
    verdict = _call(overlap, value, sharpness, beaten, {})
    assert verdict.quality == expected
    assert bool(verdict.warnings) == (expected != "ok")


def test_result_json_round_trip() -> None:
    from mdaread.geometry import rigid
    from mdaread.registration import RegistrationResult

    matrix = rigid.rigid_matrix(np.radians([1.0, 2.0, 3.0]), [4.0, 5.0, 6.0], [0.0, 0.0, 0.0])
    result = RegistrationResult(matrix=matrix, metric=-0.9, iterations=12, seconds=0.5,
                                quality="poor", warnings=("w",), center_lps=(1.0, 2.0, 3.0),
                                details={"overlap": 0.8})
    back = RegistrationResult.from_json(result.to_json())
    np.testing.assert_allclose(back.matrix, matrix)
    assert (back.quality, back.warnings, back.center_lps) == ("poor", ("w",), (1.0, 2.0, 3.0))
    assert back.metric == pytest.approx(-0.9) and back.details == {"overlap": 0.8}
    with pytest.raises(ValueError):
        RegistrationResult(matrix=matrix, metric=0.0, iterations=0, seconds=0.0, quality="great")
    with pytest.raises(ValueError):
        RegistrationResult.from_json({"matrix": [[1.0]], "quality": "ok"})
