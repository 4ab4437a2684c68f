"""Window/level: stored values (HU for CT, stored units for MR) → uint8 grey levels.

A window of width W and level L maps L − W/2 → 0 and L + W/2 → 255, linearly, clipped. Integer
images go through a cached lookup table (one gather per pixel); others through float32 arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Window:
    """Width and level (centre) in the image's stored units (HU for CT)."""

    width: float
    level: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.width) and math.isfinite(self.level)) or self.width <= 0:
            raise ValueError(f"window needs a finite width > 0, got W{self.width}/L{self.level}")

    @property
    def low(self) -> float:
        return self.level - self.width / 2.0

    @property
    def high(self) -> float:
        return self.level + self.width / 2.0

    def label(self) -> str:
        return f"W {self.width:.0f}  L {self.level:.0f}"


PRESETS: dict[str, Window] = {
    "bone": Window(2000.0, 500.0),
    "soft tissue": Window(400.0, 40.0),
    "cement": Window(4000.0, 1000.0),
}
"""CT presets in HU. MR windows come from intensity percentiles (``percentile_window``)."""

# integer dtypes small enough for a lookup table over every value
_LUT_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.uint16))


def percentile_window(
    array: npt.ArrayLike, low_pct: float = 1.0, high_pct: float = 99.0, max_samples: int = 1 << 20
) -> Window:
    """A window spanning the ``low_pct``–``high_pct`` intensity percentiles (the MR preset).

    Large arrays are subsampled with a regular stride (at most ``max_samples`` values) so that the
    preset is instant on a 512² × 300 volume.
    """
    flat = np.asarray(array).reshape(-1)
    if flat.size == 0:
        return Window(1.0, 0.0)
    stride = max(1, flat.size // max_samples)
    sample = flat[::stride].astype(np.float64)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return Window(1.0, 0.0)
    lo, hi = np.percentile(sample, [low_pct, high_pct])
    width = max(float(hi - lo), 1.0)
    return Window(width, float(lo + hi) / 2.0)


def default_window(modality: str, array: npt.ArrayLike) -> Window:
    """The window a series opens with: bone for CT (spine reading), percentiles otherwise."""
    if modality.upper() == "CT":
        return PRESETS["bone"]
    return percentile_window(array)


@lru_cache(maxsize=16)
def _lut(dtype_str: str, width: float, level: float) -> np.ndarray:
    """uint8 table indexed by the unsigned bit pattern of every value of an integer dtype."""
    dtype = np.dtype(dtype_str)
    unsigned = np.dtype(f"u{dtype.itemsize}")
    values = np.arange(2 ** (8 * dtype.itemsize), dtype=unsigned).view(dtype)
    return _scale(values, Window(width, level))


def _scale(values: np.ndarray, window: Window) -> np.ndarray:
    out = values.astype(np.float32)
    out -= np.float32(window.low)
    out *= np.float32(255.0 / window.width)
    np.clip(out, 0.0, 255.0, out=out)
    # rounding to nearest keeps the level exactly mid-grey
    return np.rint(out).astype(np.uint8)


def apply_window(image: npt.ArrayLike, window: Window) -> npt.NDArray[np.uint8]:
    """Window an image (any shape, any real dtype) to uint8 grey levels; NaN → 0."""
    a = np.asarray(image)
    if a.dtype in _LUT_DTYPES:
        unsigned = np.dtype(f"u{a.dtype.itemsize}")
        table = _lut(a.dtype.str, float(window.width), float(window.level))
        # np.take on a contiguous copy beats fancy indexing on a strided view (measured 2×)
        return np.take(table, np.ascontiguousarray(a).view(unsigned))
    out = _scale(np.nan_to_num(a.astype(np.float32, copy=False), nan=window.low), window)
    return out


def drag_window(window: Window, dx_px: float, dy_px: float) -> Window:
    """Window after a right-drag of (dx, dy) screen pixels.

    Right widens the window, up (negative dy) raises the level; the step scales with the current
    width so that the same gesture is useful on CT (thousands of HU) and MR (arbitrary units).
    """
    width = max(window.width * math.exp(dx_px / 200.0), 1e-3)
    level = window.level - dy_px * window.width / 256.0
    return Window(width, level)
