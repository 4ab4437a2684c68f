"""Boxes around a seed on a series grid, and structuring elements in millimetres.

Index order is the array's ``[k, j, i]``; ``Volume.affine`` maps ``(i, j, k, 1)`` to LPS mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from mdaread.errors import SegmentationError
from mdaread.model.volume import Volume

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Box:
    """A box of the series grid: ``lo`` inclusive, ``hi`` exclusive, both ``(k, j, i)``."""

    lo: tuple[int, int, int]
    hi: tuple[int, int, int]
    grid_shape: tuple[int, int, int]

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return (slice(self.lo[0], self.hi[0]), slice(self.lo[1], self.hi[1]),
                slice(self.lo[2], self.hi[2]))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.hi[0] - self.lo[0], self.hi[1] - self.lo[1], self.hi[2] - self.lo[2])

    def interior_faces(self) -> list[tuple[int, int]]:
        """(axis, 0 | -1) of each face that lies inside the image: a region reaching one of these
        faces ran out of the searched box (the image's own edges are not counted)."""
        faces = []
        for axis in range(3):
            if self.lo[axis] > 0:
                faces.append((axis, 0))
            if self.hi[axis] < self.grid_shape[axis]:
                faces.append((axis, -1))
        return faces

    def affine(self, grid_affine: F64) -> F64:
        """Affine of the box: its (i, j, k) index → LPS mm."""
        shift = np.eye(4)
        shift[:3, 3] = (self.lo[2], self.lo[1], self.lo[0])
        result: F64 = grid_affine @ shift
        return result


def seed_index(volume: Volume, seed_lps: tuple[float, float, float]) -> F64:
    """Continuous (k, j, i) index of an LPS point; SegmentationError when it is off the grid."""
    i, j, k = volume.world_to_index(seed_lps)
    index = np.array([k, j, i])
    if not np.all(np.isfinite(index)):
        raise SegmentationError(f"seed {_fmt(seed_lps)} mm is not a finite point")
    shape = np.array(volume.shape)
    if np.any(index < -0.5) or np.any(index > shape - 0.5):
        raise SegmentationError(f"seed {_fmt(seed_lps)} mm is outside the image")
    result: F64 = np.clip(np.round(index), 0, shape - 1)
    return result


def box_around(volume: Volume, centre_kji: F64, radius_mm: float) -> Box:
    """The grid box of half-edge ``radius_mm`` (per axis, in mm) around a (k, j, i) index."""
    sx, sy, sz = volume.spacing
    half = np.ceil(radius_mm / np.array([sz, sy, sx])).astype(int)
    shape = np.array(volume.shape)
    lo = np.maximum(centre_kji.astype(int) - half, 0)
    hi = np.minimum(centre_kji.astype(int) + half + 1, shape)
    return Box(lo=(int(lo[0]), int(lo[1]), int(lo[2])), hi=(int(hi[0]), int(hi[1]), int(hi[2])),
               grid_shape=volume.shape)


def spacing_kji(volume: Volume) -> tuple[float, float, float]:
    """Voxel size in mm along k, j, i (array order)."""
    sx, sy, sz = volume.spacing
    return (sz, sy, sx)


def ball(radius_mm: float, spacing: tuple[float, float, float]) -> Bool:
    """An ellipsoidal structuring element of ``radius_mm`` on a grid of ``spacing`` (k, j, i)."""
    half = [int(np.floor(radius_mm / s + 1e-9)) for s in spacing]
    axes = [np.arange(-h, h + 1) * s for h, s in zip(half, spacing, strict=True)]
    kk, jj, ii = np.meshgrid(*axes, indexing="ij")
    result: Bool = kk**2 + jj**2 + ii**2 <= radius_mm**2 + 1e-9
    return result


def within_mm(mask: Bool, distance_mm: float, spacing: tuple[float, float, float]) -> Bool:
    """Voxels within ``distance_mm`` of ``mask`` (the mask included)."""
    if not mask.any():
        return mask.copy()
    if distance_mm <= 0:
        return mask.copy()
    # distance transform on the bounding box grown by the distance only: cheaper than the crop
    margin = [int(np.ceil(distance_mm / s)) + 1 for s in spacing]
    where = np.argwhere(mask)
    lo = np.maximum(where.min(axis=0) - margin, 0)
    hi = np.minimum(where.max(axis=0) + np.array(margin) + 1, mask.shape)
    sub = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    distance = ndimage.distance_transform_edt(~mask[sub], sampling=spacing)
    out = np.zeros_like(mask)
    out[sub] = distance <= distance_mm + 1e-6
    return out


def touches_faces(mask: Bool, faces: Sequence[tuple[int, int]]) -> bool:
    """True when ``mask`` has a voxel on any of ``faces`` ((axis, 0 | -1) pairs)."""
    return any(np.take(mask, side, axis=axis).any() for axis, side in faces)


def _fmt(point: tuple[float, float, float]) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in point) + ")"


def format_point(point: tuple[float, float, float]) -> str:
    """An LPS point as ``(x, y, z)`` with one decimal, for messages."""
    return _fmt(point)
