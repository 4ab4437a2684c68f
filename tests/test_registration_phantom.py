"""Accuracy of register_rigid on the synthetic spine under known transforms.

TRE = the largest error over the 8 corners of a 40 mm box around the treated vertebra:
≤ 1.0 mm CT↔CT, ≤ 2.0 mm when MR is involved (issue 5).
"""

from __future__ import annotations

import numpy as np
import pytest

import registration_phantom as phantom
from mdaread.geometry import rigid
from mdaread.model.volume import Volume
from mdaread.registration import landmark_rigid, register_rigid

CENTRE = np.zeros(3)  # the treated vertebra of the phantom, baseline LPS mm
SAGITTAL = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])  # i→P, j→I, k→L


@pytest.fixture(scope="module")
def baseline_ct() -> Volume:
    return phantom.make_volume("CT", shape=(60, 110, 110))


def _truth(angles_deg: list[float], shift_mm: list[float]) -> np.ndarray:
    return rigid.rigid_matrix(np.radians(angles_deg), shift_mm, CENTRE)


def test_ct_to_ct_with_cement_and_a_large_offset(baseline_ct: Volume) -> None:
    truth = _truth([4.0, -3.0, 5.0], [18.0, -12.0, 22.0])  # 31 mm away, cement, other FOV
    follow_up = phantom.make_volume("CT", shape=(60, 110, 110), truth=truth, cement=True,
                                    center=(8.0, -5.0, 12.0), curvature_mm=2.0, seed=1)
    result = register_rigid(baseline_ct, follow_up, center_lps=CENTRE)
    assert rigid.tre_box(result.matrix, truth, CENTRE) <= 1.0
    assert result.quality == "ok", result.warnings
    assert rigid.is_rigid(result.matrix)
    assert result.iterations > 0 and result.seconds > 0.0 and result.metric < 0.0
    again = register_rigid(baseline_ct, follow_up, center_lps=CENTRE)
    # fixed sampling seed: the same answer up to the order of multithreaded sums
    np.testing.assert_allclose(again.matrix, result.matrix, atol=1e-6)


def test_ct_to_sagittal_mr(baseline_ct: Volume) -> None:
    truth = _truth([-3.0, 2.0, -4.0], [-10.0, 15.0, -20.0])
    follow_up = phantom.make_volume("MR", truth=truth, cement=True, center=(0.0, 10.0, -15.0),
                                    direction=SAGITTAL, spacing=(1.0, 1.0, 4.0),
                                    shape=(30, 130, 130), seed=2)
    result = register_rigid(baseline_ct, follow_up, center_lps=CENTRE)
    assert rigid.tre_box(result.matrix, truth, CENTRE) <= 2.0
    assert result.quality in {"ok", "poor"}


def test_mr_to_mr_refined_from_a_nudged_start() -> None:
    baseline = phantom.make_volume("MR", direction=SAGITTAL, spacing=(0.9, 0.9, 3.5),
                                   shape=(34, 130, 130), seed=3)
    truth = _truth([2.0, 3.0, -2.0], [5.0, -4.0, 6.0])
    follow_up = phantom.make_volume("MR", truth=truth, cement=True, direction=SAGITTAL,
                                    spacing=(1.0, 1.0, 4.0), shape=(30, 130, 130), seed=4)
    start = rigid.nudge_overlay(truth, translation_mm=(3.0, -2.0, 2.0),
                                rotation_deg=(2.0, 0.0, -2.0), center_mm=CENTRE)
    assert rigid.tre_box(start, truth, CENTRE) > 3.0
    result = register_rigid(baseline, follow_up, center_lps=CENTRE, initial=start)
    assert rigid.tre_box(result.matrix, truth, CENTRE) <= 2.0


def test_landmarks_then_refinement(baseline_ct: Volume) -> None:
    truth = _truth([3.0, 0.0, -6.0], [-6.0, 9.0, 14.0])
    follow_up = phantom.make_volume("CT", shape=(60, 110, 110), truth=truth, seed=5)
    rng = np.random.default_rng(0)
    clicks = np.array([[0.0, -16.0, 0.0], [0.0, 30.0, 0.0], [-30.0, 30.0, 0.0],
                       [0.0, 0.0, 30.0]])
    partners = rigid.apply(truth, clicks) + rng.normal(0.0, 1.0, clicks.shape)
    coarse = landmark_rigid(clicks, partners)
    assert coarse.method == "landmarks" and coarse.residual_mm is not None
    assert rigid.tre_box(coarse.matrix, truth, CENTRE) < 4.0
    refined = register_rigid(baseline_ct, follow_up, center_lps=CENTRE, initial=coarse.matrix)
    assert rigid.tre_box(refined.matrix, truth, CENTRE) <= 1.0
    assert rigid.tre_box(refined.matrix, truth, CENTRE) < rigid.tre_box(coarse.matrix, truth,
                                                                        CENTRE)
