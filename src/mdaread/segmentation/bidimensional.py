"""The bidimensional measurement: longest axial diameter and the longest one perpendicular to it.

Measured on patient-axial planes (z = const in LPS), also for sagittal or oblique acquisitions:
an axially acquired series is measured on its own slices (exact values); any other is resampled
onto axial planes (linear interpolation of the lesion fraction). Edges are found with sub-voxel
precision as the 0.5 iso-contour of the lesion fraction (1 inside, 0 outside; partial-volume edge
voxels in between), so a diameter is edge to edge, not voxel centre to voxel centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError
from skimage.measure import find_contours

from mdaread.errors import SegmentationError
from mdaread.model.measurement import BidimensionalMeasurement, GridMask, Point

F64 = npt.NDArray[np.float64]
AXIAL_COS = float(np.cos(np.radians(1.0)))  # slice normal within 1° of z: native axial planes


def bidimensional_from_mask(mask: GridMask | npt.NDArray[np.bool_],
                            affine: npt.ArrayLike | None = None) -> BidimensionalMeasurement:
    """Bidimensional measurement of a boolean mask ``[k, j, i]`` whose grid ``affine`` maps
    (i, j, k, 1) → LPS mm (a ``GridMask`` carries its own affine and offset).

    The edge is halfway between a mask voxel and its outside neighbour. Raises
    SegmentationError for an empty mask.
    """
    if isinstance(mask, GridMask):
        array, box_affine, k_offset = mask.array, mask.box_affine, mask.offset[0]
    else:
        if affine is None:
            raise ValueError("bidimensional_from_mask needs the affine of a plain array")
        array, box_affine, k_offset = np.asarray(mask, dtype=bool), np.asarray(affine), 0
    return bidimensional_from_fraction(array.astype(np.float32), box_affine, k_offset)


def bidimensional_from_fraction(fraction: npt.NDArray[np.floating], affine: F64,
                                k_offset: int = 0) -> BidimensionalMeasurement:
    """Bidimensional measurement of a lesion fraction map (0–1, edge at 0.5) on a grid whose
    ``affine`` maps (i, j, k, 1) → LPS mm; ``k_offset`` is added to the reported slice index."""
    if not np.any(fraction >= 0.5):
        raise SegmentationError("the lesion mask is empty: nothing to measure")
    if _is_axial(affine):
        planes = _native_planes(fraction, affine)
    else:
        planes = _resampled_planes(fraction, affine)
    best = max(planes, key=lambda p: p.area)
    contours = [c @ best.to_xy[:, :2].T + best.to_xy[:, 2] for c in _contours(best.values)]
    if sum(len(c) for c in contours) < 3:
        raise SegmentationError("the lesion is too small to measure")
    long_xy, perp_xy = _diameters(contours)
    long_lps = (best.lps(long_xy[0]), best.lps(long_xy[1]))
    perp_lps = (best.lps(perp_xy[0]), best.lps(perp_xy[1]))
    return BidimensionalMeasurement(
        long_mm=_distance(long_lps), perp_mm=_distance(perp_lps),
        long_axis_lps=long_lps, perp_axis_lps=perp_lps, plane_z_mm=best.z_mm,
        slice_index=None if best.k is None else int(best.k + k_offset), area_mm2=best.area)


@dataclass(frozen=True)
class _Plane:
    """One axial plane: lesion fraction ``values`` [row, col], its area (mm²), z (mm), native k
    (or None when resampled), and ``to_xy`` (2×3: (row, col, 1) → plane x, y in LPS mm), with
    ``to_lps3`` (3×3: (row, col, 1) → LPS mm)."""

    values: F64
    area: float
    z_mm: float
    k: int | None
    to_xy: F64
    to_lps3: F64

    def lps(self, xy: F64) -> Point:
        """LPS mm of the plane point at LPS (x, y)."""
        rc = np.linalg.solve(self.to_xy[:, :2], np.asarray(xy) - self.to_xy[:, 2])
        p = self.to_lps3 @ np.array([rc[0], rc[1], 1.0])
        return (float(p[0]), float(p[1]), float(p[2]))


def _is_axial(affine: F64) -> bool:
    cols = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    return bool(abs(cols[2, 2]) >= AXIAL_COS)


def _native_planes(fraction: npt.NDArray[np.floating], affine: F64) -> list[_Plane]:
    """Each k slice holding lesion; plane coordinates through the slice's (i, j) axes."""
    pixel_area = float(np.linalg.norm(np.cross(affine[:3, 0], affine[:3, 1])))
    planes: list[_Plane] = []
    for k in np.flatnonzero((fraction >= 0.5).any(axis=(1, 2))):
        values = fraction[k].astype(np.float64)
        # (row, col, 1) = (j, i, 1) → LPS: columns j, i and the slice origin
        origin = affine[:3, 2] * float(k) + affine[:3, 3]
        to_lps3 = np.column_stack([affine[:3, 1], affine[:3, 0], origin])
        planes.append(_Plane(values, float(np.clip(values, 0, 1).sum()) * pixel_area,
                             float(origin[2] + 0.5 * (affine[2, 0] * values.shape[1]
                                                      + affine[2, 1] * values.shape[0])),
                             int(k), to_lps3[:2], to_lps3))
    return planes


def _resampled_planes(fraction: npt.NDArray[np.floating], affine: F64) -> list[_Plane]:
    """Axial planes through the lesion's bounding box at the finest voxel size, sampled from the
    fraction map by linear interpolation; plane rows run along +y, columns along +x (LPS)."""
    step = float(np.linalg.norm(affine[:3, :3], axis=0).min())
    where = np.argwhere(fraction > 0)  # (k, j, i)
    lo_idx, hi_idx = where.min(axis=0) - 1, where.max(axis=0) + 1
    corners = np.array([[i, j, k, 1.0] for k in (lo_idx[0], hi_idx[0])
                        for j in (lo_idx[1], hi_idx[1]) for i in (lo_idx[2], hi_idx[2])])
    lps = corners @ affine.T
    lo, hi = lps[:, :3].min(axis=0), lps[:, :3].max(axis=0)
    xs = np.arange(lo[0], hi[0] + step, step)
    ys = np.arange(lo[1], hi[1] + step, step)
    zs = np.arange(lo[2], hi[2] + step, step)
    inverse = np.linalg.inv(affine)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    source = np.ascontiguousarray(fraction, dtype=np.float32)
    planes: list[_Plane] = []
    for z in zs:
        world = np.stack([xx.ravel(), yy.ravel(), np.full(xx.size, z), np.ones(xx.size)])
        ijk = inverse @ world
        values = ndimage.map_coordinates(source, ijk[2::-1], order=1, mode="constant", cval=0.0)
        plane = values.reshape(xx.shape).astype(np.float64)
        if not np.any(plane >= 0.5):
            continue
        to_lps3 = np.array([[0.0, step, xs[0]], [step, 0.0, ys[0]], [0.0, 0.0, float(z)]])
        planes.append(_Plane(plane, float(np.clip(plane, 0, 1).sum()) * step * step, float(z),
                             None, to_lps3[:2], to_lps3))
    if not planes:
        raise SegmentationError("the lesion is thinner than one axial plane: nothing to measure")
    return planes


def _contours(values: F64) -> list[F64]:
    """Sub-pixel (row, col) paths of the 0.5 iso-contour (padded, so every path closes)."""
    padded = np.pad(values, 1, constant_values=0.0)
    return [c - 1.0 for c in find_contours(padded, 0.5)]


def _diameters(contours: list[F64]) -> tuple[tuple[F64, F64], tuple[F64, F64]]:
    """Long axis end points (the farthest pair of edge points) and perpendicular end points (the
    longest chord at right angles to the long axis), in plane (x, y) mm."""
    points = np.concatenate(contours)
    hull_points = _hull(points)
    diff = hull_points[:, None, :] - hull_points[None, :, :]
    dist2 = (diff**2).sum(axis=2)
    a, b = np.unravel_index(int(np.argmax(dist2)), dist2.shape)
    p, q = hull_points[a], hull_points[b]
    u = (q - p) / np.linalg.norm(q - p)
    v = np.array([-u[1], u[0]])
    return (p, q), _longest_chord(contours, p, u, v)


def _hull(points: F64) -> F64:
    try:
        hull = ConvexHull(points)
    except (QhullError, ValueError):
        return points
    result: F64 = points[hull.vertices]
    return result


def _longest_chord(contours: list[F64], origin: F64, u: F64,
                   v: F64) -> tuple[F64, F64]:
    """The longest segment along ``v`` between edge crossings at one position along ``u``
    (positions every 0.05 mm), as two (x, y) points."""
    seg_a0, seg_a1, seg_b0, seg_b1 = [], [], [], []
    for c in contours:
        a, b = (c - origin) @ u, (c - origin) @ v
        seg_a0.append(a[:-1])
        seg_a1.append(a[1:])
        seg_b0.append(b[:-1])
        seg_b1.append(b[1:])
    a0, a1 = np.concatenate(seg_a0), np.concatenate(seg_a1)
    b0, b1 = np.concatenate(seg_b0), np.concatenate(seg_b1)
    positions = np.arange(min(a0.min(), a1.min()), max(a0.max(), a1.max()), 0.05)
    if positions.size == 0:
        return origin, origin
    lo_a, hi_a = np.minimum(a0, a1), np.maximum(a0, a1)
    crosses = (positions[:, None] >= lo_a[None, :]) & (positions[:, None] < hi_a[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (positions[:, None] - a0[None, :]) / (a1 - a0)[None, :]
    cross_b = b0[None, :] + t * (b1 - b0)[None, :]
    has = crosses.any(axis=1)
    if not has.any():
        return origin, origin
    bmax = np.where(crosses, cross_b, -np.inf).max(axis=1)
    bmin = np.where(crosses, cross_b, np.inf).min(axis=1)
    length = np.where(has, bmax - bmin, -1.0)
    best = int(np.argmax(length))
    at = origin + positions[best] * u
    return at + bmin[best] * v, at + bmax[best] * v


def _distance(pair: tuple[Point, Point]) -> float:
    return float(np.linalg.norm(np.subtract(pair[0], pair[1])))
