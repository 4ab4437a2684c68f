"""Plausibility checks of header values, one file at a time, before they reach the geometry.

A value that cannot describe a real image (a zero-length orientation, a pixel spacing of 1e308
mm, a RescaleSlope of 0 or NaN, Rows = 0) makes its file a :class:`BadValue` skip: the reason
names the tag and the value, the scan lists the file, and the other files of the series (and
every other series) still load. The limits are far outside every scanner's range, so they never
touch real data: they only keep the arithmetic finite (float32 voxels, int64 temporaries, mm
affines) and the allocations sane.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mdaread.io.values import as_list

COSINE_TOL = 1e-2
"""Largest |‖row‖ − 1|, |‖col‖ − 1| and |cos(row, col)| accepted: scanners round the six cosines
to a few digits (≤ 1e-6 off in every file of the test data), a 1 % error is no rounding."""
MAX_POSITION_MM = 1e6
"""|ImagePositionPatient| beyond a kilometre is not a patient."""
PIXEL_SPACING_MM = (1e-4, 1e3)
"""PixelSpacing in (0.1 µm, 1 m): anything outside is a damaged value, not a scanner's."""
SLICE_SPACING_MM = (1e-4, 1e3)
"""SpacingBetweenSlices / SliceThickness usable as a single slice's z step."""
MAX_DIMENSION = 65535
"""Rows and Columns are US (unsigned 16 bits): larger values come from a wrong VR."""
SLOPE_RANGE = (1e-10, 1e10)
"""|RescaleSlope|: with |intercept| ≤ MAX_INTERCEPT and 32-bit stored values every rescaled
voxel stays a finite float32 (≤ 4.3e19 ≪ 3.4e38)."""
MAX_INTERCEPT = 1e10


class SkipFile(Exception):
    """A file that is not part of a loadable series; the message is the one-line reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.series_uid = ""


class BadValue(SkipFile):
    """A file skipped for a damaged or implausible value. ``series_uid`` (set once the header
    is known) lets the scan warn on the series that lost the file."""


def _parse(value: Any, keyword: str, n: int) -> list[float]:
    items = as_list(value)
    if len(items) != n:
        raise BadValue(f"{keyword} has {len(items)} value(s), needs {n}")
    try:
        numbers = [float(v) for v in items]
    except (TypeError, ValueError):
        raise BadValue(f"{keyword} {_show(value)} is not numeric") from None
    if not all(math.isfinite(v) for v in numbers):
        raise BadValue(f"{keyword} {_show(value)} is not finite")
    return numbers


def _show(value: Any) -> str:
    """A header value for a reason line: backslash-joined, at most 60 characters."""
    text = "\\".join(str(v) for v in as_list(value))
    return '"' + (text if len(text) <= 60 else text[:57] + "…") + '"'


def orientation(value: Any, keyword: str = "ImageOrientationPatient") -> tuple[float, ...]:
    """Six direction cosines (row then column, LPS) of unit length and orthogonal."""
    values = _parse(value, keyword, 6)
    row, col = values[:3], values[3:]
    norms = [math.sqrt(sum(v * v for v in row)), math.sqrt(sum(v * v for v in col))]
    if min(norms) < 1e-6:
        raise BadValue(f"{keyword} {_show(value)}: degenerate (zero-length direction)")
    if max(abs(n - 1.0) for n in norms) > COSINE_TOL:
        raise BadValue(f"{keyword} {_show(value)}: directions are not unit vectors")
    cosine = sum(a * b for a, b in zip(row, col, strict=True)) / (norms[0] * norms[1])
    if abs(cosine) > COSINE_TOL:
        raise BadValue(f"{keyword} {_show(value)}: row and column directions are not "
                       "perpendicular")
    return tuple(values)


def position(value: Any, keyword: str = "ImagePositionPatient") -> tuple[float, float, float]:
    """Three LPS mm coordinates, each within ±MAX_POSITION_MM."""
    x, y, z = _parse(value, keyword, 3)
    if max(abs(x), abs(y), abs(z)) > MAX_POSITION_MM:
        raise BadValue(f"{keyword} {_show(value)} mm is outside ±{MAX_POSITION_MM:g} mm")
    return x, y, z


def pixel_spacing(value: Any, keyword: str = "PixelSpacing") -> tuple[float, float]:
    """(row spacing, column spacing) mm, each inside PIXEL_SPACING_MM."""
    low, high = PIXEL_SPACING_MM
    values = _parse(value, keyword, 2)
    if not all(low <= v <= high for v in values):
        raise BadValue(f"{keyword} {_show(value)} mm is outside {low:g}…{high:g} mm")
    return values[0], values[1]


def dimension(value: Any, keyword: str) -> int:
    """Rows or Columns: an integer in 1…MAX_DIMENSION."""
    items = as_list(value)
    try:
        number = int(items[0]) if len(items) == 1 else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 1 <= number <= MAX_DIMENSION:
        raise BadValue(f"{keyword} {_show(value)} is not an image size (1…{MAX_DIMENSION})")
    return number


def rescale(value: Any, keyword: str) -> float:
    """RescaleSlope (default 1) or RescaleIntercept (default 0), refused when damaged."""
    if value is None or value == "" or as_list(value) == []:
        return 1.0 if keyword.endswith("Slope") else 0.0
    number = _parse(value, keyword, 1)[0]
    if keyword.endswith("Slope"):
        low, high = SLOPE_RANGE
        if not low <= abs(number) <= high:
            raise BadValue(f"{keyword} {_show(value)} is outside {low:g}…{high:g} in magnitude")
    elif abs(number) > MAX_INTERCEPT:
        raise BadValue(f"{keyword} {_show(value)} is outside ±{MAX_INTERCEPT:g}")
    return number


def loose_float(value: Any) -> float | None:
    """A number as written, finite or not (NaN when unreadable); None only when absent. Used
    for values with a safe fallback, so that the fallback's warning can say what was there."""
    items = as_list(value)
    if not items or items == [""]:
        return None
    try:
        return float(items[0]) if len(items) == 1 else math.nan
    except (TypeError, ValueError):
        return math.nan


def usable_step(value: float | None) -> bool:
    """Whether a SpacingBetweenSlices / SliceThickness value can serve as a z step in mm."""
    low, high = SLICE_SPACING_MM
    return value is not None and math.isfinite(value) and low <= value <= high


def all_finite(values: Sequence[float]) -> bool:
    return all(math.isfinite(v) for v in values)
