"""One SimpleITK rigid optimisation: Mattes mutual information, regular-step gradient descent.

Shared by the candidate fits (:mod:`.intensity`) and the final level (:mod:`.final`). Matrices
are 4×4 baseline LPS mm → follow-up LPS mm; the Euler transform rotates about the region centre,
so that rotation and translation scales stay comparable (scales from physical shift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from mdaread.errors import Cancelled, RegistrationError
from mdaread.geometry import rigid
from mdaread.model.jobs import Cancel
from mdaread.registration import region as rg
from mdaread.registration.convert import to_matrix, to_transform

FloatArray = npt.NDArray[np.float64]

BINS = 32
SEED = 20260521  # fixed sampling seed: the same pair always gives the same answer
SETTLE_WINDOW = 10  # iterations
SETTLE_MM = 0.01
"""A settling run stops once the corners of a 40 mm box around the centre have moved less than
SETTLE_MM over the last SETTLE_WINDOW iterations: regular-step descent on a sampled metric can
wander in sub-0.01 mm steps for a hundred iterations before its step shrinks below the minimum
(a CT→STIR pair of the sample trial took 191 iterations, 1.1 s, for no change in the result)."""
Levels = tuple[tuple[int, float, float], ...]
"""(shrink factor, smoothing sigma in mm, sampled fraction of the mask) per resolution level."""
Steps = tuple[float, float, float]
"""Regular-step gradient descent: (first step ≈ mm, smallest step, relaxation)."""


@dataclass(frozen=True)
class Fit:
    """One optimisation's outcome: the matrix (baseline LPS → follow-up LPS), final metric
    (negative MI), iterations, the optimiser's stop condition, and the follow-up region it ran
    on (the final level may re-cut it)."""

    matrix: FloatArray
    metric: float
    iterations: int
    stop: str
    converged: bool
    moving: rg.RegionImage


def run(fixed_img: sitk.Image, fixed_mask: sitk.Image, moving_r: rg.RegionImage,
        center: FloatArray, start: FloatArray, max_iterations: int, cancel: Cancel,
        levels: Levels, steps: Steps, bins: int = BINS, regular: bool = False,
        settle: bool = False) -> Fit:
    """Optimise from ``start``; RegistrationError when the result is not a number or not rigid,
    Cancelled when ``cancel()`` becomes true. ``regular``: sample the mask on a regular pattern
    (jittered within each voxel) rather than at random voxels — the same number of points,
    visited in memory order, which costs less on large native grids. ``settle``: stop (converged)
    once the result no longer moves (see SETTLE_MM)."""
    matrix, metric, iterations, stop, converged = _optimise(
        fixed_img, fixed_mask, moving_r, center, start, max_iterations, cancel, levels, steps,
        bins, regular, settle)
    if not np.isfinite(metric) or not rigid.is_rigid(matrix, 1e-4):
        raise RegistrationError("the registration produced no valid metric (no overlap between "
                                "the images in the region?)")
    return Fit(matrix, metric, iterations, stop, converged, moving_r)


def chain(first: Fit, then: Fit) -> Fit:
    """``then`` run from ``first``'s result: the iterations add up, convergence needs both, and
    ``first``'s follow-up region stays with the fit (the quality call is calibrated on it)."""
    return Fit(then.matrix, then.metric, first.iterations + then.iterations, then.stop,
               first.converged and then.converged, first.moving)


def _method(fixed_mask: sitk.Image, moving_r: rg.RegionImage,
            bins: int) -> sitk.ImageRegistrationMethod:
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=bins)
    reg.SetMetricFixedMask(fixed_mask)
    if not moving_r.all_valid:
        reg.SetMetricMovingMask(moving_r.mask)
    reg.SetInterpolator(sitk.sitkLinear)
    # gradients at the sample points only: cheaper than filtering whole images at every level
    reg.MetricUseFixedImageGradientFilterOff()
    reg.MetricUseMovingImageGradientFilterOff()
    reg.SetNumberOfThreads(rg.THREADS)
    return reg


def _optimise(fixed_img: sitk.Image, fixed_mask: sitk.Image, moving_r: rg.RegionImage,
              center: FloatArray, init: FloatArray, max_iterations: int, cancel: Cancel,
              levels: Levels, steps: Steps, bins: int, regular: bool,
              settle: bool) -> tuple[FloatArray, float, int, str, bool]:
    reg = _method(fixed_mask, moving_r, bins)
    reg.SetMetricSamplingStrategy(reg.REGULAR if regular else reg.RANDOM)
    reg.SetMetricSamplingPercentagePerLevel([lv[2] for lv in levels], seed=SEED)
    reg.SetShrinkFactorsPerLevel([lv[0] for lv in levels])
    reg.SetSmoothingSigmasPerLevel([lv[1] for lv in levels])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    reg.SetOptimizerAsRegularStepGradientDescent(
        learningRate=steps[0], minStep=steps[1], numberOfIterations=max_iterations,
        relaxationFactor=steps[2], gradientMagnitudeTolerance=1e-8)
    reg.SetOptimizerScalesFromPhysicalShift()
    transform = to_transform(init, center)
    reg.SetInitialTransform(transform, inPlace=True)
    state = {"iterations": 0, "level_iterations": 0, "cancelled": False, "settled": False}
    watch = _Settling(center) if settle else None

    def on_iteration() -> None:
        state["iterations"] += 1
        state["level_iterations"] = reg.GetOptimizerIteration() + 1
        if cancel():
            state["cancelled"] = True
            reg.StopRegistration()
        elif watch is not None and watch.settled(reg.GetOptimizerPosition()):
            state["settled"] = True
            reg.StopRegistration()

    reg.AddCommand(sitk.sitkIterationEvent, on_iteration)
    try:
        reg.Execute(fixed_img, moving_r.image)
    except RuntimeError as exc:
        raise RegistrationError(f"registration failed: {_first_line(exc)}") from exc
    if state["cancelled"]:
        raise Cancelled("registration cancelled by the user")
    stop = reg.GetOptimizerStopConditionDescription()
    if state["settled"]:
        stop = (f"settled: moved less than {SETTLE_MM} mm over the last {SETTLE_WINDOW} "
                "iterations")
    converged = bool(state["settled"]) or state["level_iterations"] < max_iterations
    return (to_matrix(transform), float(reg.GetMetricValue()), int(state["iterations"]), stop,
            converged)


class _Settling:
    """Watches an optimisation: where do the corners of a 40 mm box around ``center`` go?"""

    def __init__(self, center: FloatArray) -> None:
        self.transform = to_transform(np.eye(4), center)
        self.corners = rigid.box_corners(center, 40.0)
        self.history: list[FloatArray] = []

    def settled(self, position: tuple[float, ...]) -> bool:
        """True once the corners moved < SETTLE_MM over the last SETTLE_WINDOW iterations."""
        self.transform.SetParameters(position)
        self.history.append(rigid.apply(to_matrix(self.transform), self.corners))
        if len(self.history) <= SETTLE_WINDOW:
            return False
        moved = np.linalg.norm(self.history[-1] - self.history[-1 - SETTLE_WINDOW], axis=1)
        return bool(np.max(moved) < SETTLE_MM)


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
