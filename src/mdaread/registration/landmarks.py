"""Landmark fallback: a rigid transform from ≥ 3 corresponding points clicked by the reader."""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from mdaread.errors import RegistrationError
from mdaread.geometry import rigid
from mdaread.registration.result import RegistrationResult

GOOD_RMS_MM = 2.0  # above: poor — the points disagree more than a careful click does
MAX_RMS_MM = 5.0  # above: failed — some pair is wrong (swapped or on another vertebra)


def landmark_rigid(fixed_points_lps: npt.ArrayLike,
                   moving_points_lps: npt.ArrayLike) -> RegistrationResult:
    """Least-squares rigid matrix (baseline LPS → follow-up LPS) taking each baseline point to
    its follow-up partner. Needs ≥ 3 pairs not on one line; ``residual_mm`` (and ``metric``) is
    the RMS distance in mm left after the fit, and ``details["residuals_mm"]`` the per-pair ones.

    Quality: ok up to 2 mm RMS, poor up to 5 mm, failed beyond. Refine an accepted landmark fit
    with ``register_rigid(..., initial=result.matrix)``. Raises RegistrationError for unusable
    point sets (too few, mismatched, collinear, not finite).
    """
    start = time.perf_counter()
    fixed = np.asarray(fixed_points_lps, dtype=np.float64)
    moving = np.asarray(moving_points_lps, dtype=np.float64)
    try:
        fit = rigid.fit_rigid_points(fixed, moving)
    except ValueError as exc:
        raise RegistrationError(f"landmark registration: {exc}") from exc
    warnings: list[str] = []
    quality = "ok"
    worst = int(np.argmax(fit.residuals_mm))
    if fit.rms_mm > GOOD_RMS_MM:
        quality = "failed" if fit.rms_mm > MAX_RMS_MM else "poor"
        warnings.append(f"landmarks disagree by {fit.rms_mm:.1f} mm RMS (pair {worst + 1} is "
                        f"off by {fit.residuals_mm[worst]:.1f} mm)")
    if len(fixed) == 3:
        warnings.append("only 3 landmark pairs: the residual cannot reveal a misplaced point")
    center = fixed.mean(axis=0)
    return RegistrationResult(
        matrix=fit.matrix, metric=fit.rms_mm, iterations=0,
        seconds=time.perf_counter() - start, quality=quality, warnings=tuple(warnings),
        converged=True, stop_condition="closed-form least squares", method="landmarks",
        center_lps=(float(center[0]), float(center[1]), float(center[2])), radius_mm=0.0,
        residual_mm=fit.rms_mm,
        details={"residuals_mm": [float(r) for r in fit.residuals_mm], "pairs": len(fixed)},
    )
