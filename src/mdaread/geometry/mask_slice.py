"""A box mask of a series grid as it appears on one displayed slice (for lesion outlines).

A mask lives on a box ``[k, j, i]`` of its series' grid (``offset`` = the box's first voxel,
``grid_affine`` = the series' index → LPS mm). A view shows display pixels ``(c, r)`` of slice
``s`` (``SliceGeometry``, mdaread.geometry.mpr); on the same series every display pixel is a voxel
centre, so the slice of the mask is read off the box voxel for voxel (no resampling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mdaread.geometry.mpr import SliceGeometry

Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MaskSlice:
    """The mask on one displayed slice: ``image[row, col]`` covering display columns
    ``c0 … c0 + cols − 1`` and rows ``r0 … r0 + rows − 1``."""

    image: Bool
    c0: int
    r0: int


def mask_on_slice(array: Bool, offset: tuple[int, int, int],
                  grid_affine: npt.NDArray[np.float64], geometry: SliceGeometry,
                  slice_index: int) -> MaskSlice | None:
    """The part of the box mask ``array`` (``[k, j, i]`` at ``offset`` on the grid whose affine is
    ``grid_affine``) on display slice ``slice_index`` of ``geometry``; None when the slice
    misses it or ``geometry`` is not on the same grid (its pixels are not voxel centres)."""
    if not array.any():
        return None
    d2i = np.linalg.inv(grid_affine) @ geometry.display_to_world
    if not np.allclose(d2i, np.rint(d2i), atol=1e-3):
        return None
    d2i = np.rint(d2i)
    i2d = np.linalg.inv(d2i)
    k0, j0, i0 = offset
    kk, jj, ii = array.shape
    corners = np.array([[i, j, k, 1.0] for i in (i0, i0 + ii - 1) for j in (j0, j0 + jj - 1)
                        for k in (k0, k0 + kk - 1)])
    display = np.rint(corners @ i2d.T)[:, :3]
    lo, hi = display.min(axis=0).astype(int), display.max(axis=0).astype(int)
    if not lo[2] <= slice_index <= hi[2]:
        return None
    cc, rr = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1))
    points = np.stack([cc, rr, np.full(cc.shape, slice_index), np.ones(cc.shape)], axis=-1)
    index = np.rint(points @ d2i.T).astype(np.int64)
    image = array[index[..., 2] - k0, index[..., 1] - j0, index[..., 0] - i0]
    if not image.any():
        return None
    return MaskSlice(np.ascontiguousarray(image), int(lo[0]), int(lo[1]))


def outline(image: Bool) -> Bool:
    """Pixels of ``image`` with a 4-neighbour outside it (the drawn contour)."""
    padded = np.pad(image, 1, constant_values=False)
    inner = (padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1]
             & padded[1:-1, :-2] & padded[1:-1, 2:])
    result: Bool = image & ~inner
    return result
