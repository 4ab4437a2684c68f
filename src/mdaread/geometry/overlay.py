"""Pure-numpy overlays of a baseline slice/volume ``a`` and the resampled follow-up ``b``
(same shape, same grid): blend, checkerboard, difference. Inputs are raw values (HU or MR
units); the viewer applies window/level to the result (or to each input first)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating]


def _pair(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[Array, Array]:
    x = np.asarray(a, dtype=np.float32)
    y = np.asarray(b, dtype=np.float32)
    if x.shape != y.shape:
        raise ValueError(f"overlay inputs must have the same shape, got {x.shape} and {y.shape}")
    return x, y


def blend(a: npt.ArrayLike, b: npt.ArrayLike, opacity: float = 0.5) -> Array:
    """``(1 − opacity)·a + opacity·b`` (float32); opacity 0 shows the baseline only."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    x, y = _pair(a, b)
    return (1.0 - opacity) * x + opacity * y


def checkerboard(a: npt.ArrayLike, b: npt.ArrayLike, tile: int | Sequence[int] = 16) -> Array:
    """Tiles alternating between ``a`` (the tile at index 0, 0, …) and ``b``; ``tile`` is the tile
    edge in pixels, one number or one per axis."""
    x, y = _pair(a, b)
    tiles = [tile] * x.ndim if isinstance(tile, int) else list(tile)
    if len(tiles) != x.ndim or min(tiles) < 1:
        raise ValueError(f"tile must be ≥ 1 pixel per axis ({x.ndim} axes), got {tile}")
    parity = np.zeros(x.shape, dtype=np.int64)
    for axis, size in enumerate(tiles):
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        parity = parity + (np.arange(x.shape[axis]) // size).reshape(shape)
    return np.where(parity % 2 == 0, x, y)


def difference(a: npt.ArrayLike, b: npt.ArrayLike) -> Array:
    """``b − a`` (follow-up minus baseline), float32: zero where they agree."""
    x, y = _pair(a, b)
    return y - x
