"""Lesions and cement of known size inserted into the real T12 body of the TotalSegmentator CT.

The CT (../shared/testdata/totalsegmentator/example_ct_dicom: Siemens, Br38f, 512² at 0.977 mm,
20 slices every 2 mm) holds the T12 body on slices k 2–14, cancellous bone of ~100–250 HU with
the basivertebral veins and fatty marrow spaces (30–70 HU) near its centre on k 7–9, a cortex
of 400–900 HU, and fat (−100 HU) outside it.

A shape is a predicate on LPS points; each voxel gets the fraction of ``SUPERSAMPLE``³ sub-points
inside it (the partial-volume edge), and its value is blended: ``native × (1 − f) + value × f``,
the inserted value carrying Gaussian noise of the CT's own level (12 HU, the SD in the aorta).
The truth diameters are measured on the analytic shape, not on voxels: every point of a 0.05 mm
grid on the plane, the farthest pair of hull points (long), and the longest extent at right angles
to it at one position along it (perpendicular) — the definition the MDA reader applies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.spatial import ConvexHull

from mdaread.model.volume import Volume

F64 = npt.NDArray[np.float64]
Shape = Callable[[F64], npt.NDArray[np.bool_]]  # (..., 3) LPS mm → inside
SUPERSAMPLE = 5
NOISE_HU = 12.0
CT_DIR = "totalsegmentator/example_ct_dicom"


@dataclass(frozen=True)
class Ellipsoid:
    """Semi-axes ``radii`` (mm) along the axial long axis, its in-plane normal and z; the long axis
    turned ``theta_deg`` from +x toward +y (LPS). ``centre_ijk`` is a voxel index of the CT."""

    centre_ijk: tuple[int, int, int]
    radii: tuple[float, float, float]
    theta_deg: float = 0.0

    def centre(self, volume: Volume) -> F64:
        return np.asarray(volume.index_to_world(np.asarray(self.centre_ijk, float)), float)

    def shape(self, volume: Volume) -> Shape:
        c = self.centre(volume)
        cos, sin = math.cos(math.radians(self.theta_deg)), math.sin(math.radians(self.theta_deg))
        a, b, h = self.radii

        def inside(p: F64) -> npt.NDArray[np.bool_]:
            d = p - c
            u = (d[..., 0] * cos + d[..., 1] * sin) / a
            w = (-d[..., 0] * sin + d[..., 1] * cos) / b
            z = d[..., 2] / h
            result: npt.NDArray[np.bool_] = u * u + w * w + z * z <= 1.0
            return result
        return inside

    def pole(self, volume: Volume, sign: float = 1.0) -> F64:
        """LPS of the end of the long axis (``sign`` +1 or −1)."""
        t = math.radians(self.theta_deg)
        return self.centre(volume) + sign * self.radii[0] * np.array([math.cos(t), math.sin(t),
                                                                      0.0])

    @property
    def volume_ml(self) -> float:
        return 4.0 / 3.0 * math.pi * math.prod(self.radii) / 1000.0


def ball(centre: F64, radius: float) -> Shape:
    def inside(p: F64) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = ((p - centre) ** 2).sum(axis=-1) <= radius * radius
        return result
    return inside


def minus(shape: Shape, cut: Shape) -> Shape:
    def inside(p: F64) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = shape(p) & ~cut(p)
        return result
    return inside


def fraction(volume: Volume, shape: Shape, centre: F64, reach_mm: float,
             supersample: int = SUPERSAMPLE) -> npt.NDArray[np.float32]:
    """Fraction of each voxel ``[k, j, i]`` inside ``shape`` (only within ``reach_mm`` of
    ``centre``: the shape must fit there)."""
    out = np.zeros(volume.shape, dtype=np.float32)
    centre_ijk = np.asarray(volume.world_to_index(tuple(centre)), float)
    half = np.ceil(reach_mm / np.asarray(volume.spacing)).astype(int) + 1
    lo = np.maximum(np.round(centre_ijk).astype(int) - half, 0)
    hi = np.minimum(np.round(centre_ijk).astype(int) + half + 1, np.asarray(volume.shape[::-1]))
    ii, jj, kk = np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)),
                             indexing="ij")
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    acc = np.zeros(ii.shape, dtype=np.float32)
    for di in offsets:
        for dj in offsets:
            for dk in offsets:
                pts = np.stack([ii + di, jj + dj, kk + dk], axis=-1)
                acc += shape(np.asarray(volume.index_to_world(pts), float))
    acc /= supersample ** 3
    out[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]] = np.transpose(acc, (2, 1, 0))
    return out


def blend(volume: Volume, frac: npt.NDArray[np.float32], value: float,
          noise_sd: float = NOISE_HU, seed: int = 0) -> Volume:
    """``volume`` with ``value`` (+ noise) blended in by ``frac``."""
    base = np.asarray(volume.array, dtype=np.float32)
    rng = np.random.default_rng(seed)
    insert = (value + rng.normal(0.0, noise_sd, base.shape)).astype(np.float32) if noise_sd \
        else np.float32(value)
    array = np.where(frac > 0, base * (1 - frac) + insert * frac, base).astype(np.float32)
    return Volume(array=array, affine=volume.affine, modality="CT",
                  series_uid=volume.series_uid, description=volume.description)


@dataclass(frozen=True)
class PlaneTruth:
    """The bidimensional measurement of the analytic shape on one axial plane (mm)."""

    long_mm: float
    perp_mm: float
    long_angle_deg: float  # of the long axis, from +x toward +y, in [0, 180)
    area_mm2: float = field(default=0.0)


def plane_truth(shape: Shape, centre: F64, z_mm: float, reach_mm: float,
                step: float = 0.05) -> PlaneTruth:
    """Brute force on a ``step`` mm grid of the plane z = ``z_mm`` (see the module note)."""
    axis = np.arange(-reach_mm, reach_mm + step, step)
    xx, yy = np.meshgrid(centre[0] + axis, centre[1] + axis, indexing="ij")
    pts = np.stack([xx, yy, np.full(xx.shape, z_mm)], axis=-1)
    inside = shape(pts)
    xy = np.stack([xx[inside], yy[inside]], axis=-1)
    hull = xy[ConvexHull(xy).vertices]
    d2 = ((hull[:, None, :] - hull[None, :, :]) ** 2).sum(axis=-1)
    a, b = np.unravel_index(int(np.argmax(d2)), d2.shape)
    # the sampled points are pixel centres: their extent is one step short of the shape's
    long_mm = float(np.sqrt(d2[a, b])) + step
    u = (hull[b] - hull[a]) / np.linalg.norm(hull[b] - hull[a])
    v = np.array([-u[1], u[0]])
    along = np.round((xy - hull[a]) @ u / step).astype(int)
    across = (xy - hull[a]) @ v
    order = np.argsort(along)
    along, across = along[order], across[order]
    starts = np.flatnonzero(np.r_[True, np.diff(along) > 0])
    spans = np.maximum.reduceat(across, starts) - np.minimum.reduceat(across, starts)
    angle = math.degrees(math.atan2(u[1], u[0])) % 180.0
    return PlaneTruth(long_mm, float(spans.max()) + step, angle,
                      float(inside.sum()) * step * step)


def angle_between(a_deg: float, b_deg: float) -> float:
    """Difference of two axis directions (mod 180°), in [0, 90]."""
    d = abs(a_deg - b_deg) % 180.0
    return min(d, 180.0 - d)


def label_on(volume: Volume, labels: Volume, value: int) -> npt.NDArray[np.bool_]:
    """Voxels of ``labels`` equal to ``value``, mapped through world space onto ``volume``'s grid
    (nearest voxel; the label map's j axis may run opposite to the CT's)."""
    kji = np.argwhere(np.asarray(labels.array) == value)
    world = labels.index_to_world(kji[:, ::-1].astype(float))
    ijk = np.rint(volume.world_to_index(world)).astype(int)
    out = np.zeros(volume.shape, dtype=bool)
    out[ijk[:, 2], ijk[:, 1], ijk[:, 0]] = True
    return out


@dataclass(frozen=True)
class Inserted:
    """A CT with a lesion (and maybe cement) inserted, and the truth to measure it against."""

    volume: Volume
    seed_lps: tuple[float, float, float]
    truth_shape: Shape  # the lesion as the protocol measures it (cement and its rim left out)
    truth_ml: float
    centre: F64
    reach_mm: float
    cement_ml: float = 0.0


def insert_lesion(ct: Volume, lesion: Ellipsoid, value: float, cement_radius_mm: float = 0.0,
                  rim_mm: float = 1.5, cement_hu: float = 3000.0, seed: int = 1) -> Inserted:
    """``lesion`` of ``value`` HU blended into ``ct``; with ``cement_radius_mm`` a cement sphere
    of ``cement_hu`` centred on the long axis's + pole replaces the lesion there. The truth is
    the lesion outside the cement and its ``rim_mm`` rim (what the protocol keeps out)."""
    centre = lesion.centre(ct)
    reach = max(lesion.radii) + 4.0
    shape = lesion.shape(ct)
    truth = shape
    volume = ct
    cement_ml = 0.0
    if cement_radius_mm:
        pole = lesion.pole(ct)
        shape = minus(shape, ball(pole, cement_radius_mm))
        truth = minus(lesion.shape(ct), ball(pole, cement_radius_mm + rim_mm))
        cement_ml = 4.0 / 3.0 * math.pi * cement_radius_mm ** 3 / 1000.0
    frac = fraction(ct, shape, centre, reach)
    volume = blend(volume, frac, value, seed=seed)
    if cement_radius_mm:
        pole = lesion.pole(ct)
        volume = blend(volume, fraction(ct, ball(pole, cement_radius_mm), pole,
                                        cement_radius_mm + 3.0), cement_hu, seed=seed + 1)
        frac = fraction(ct, truth, centre, reach)
    voxel_mm3 = float(abs(np.linalg.det(ct.affine[:3, :3])))
    return Inserted(volume, (float(centre[0]), float(centre[1]), float(centre[2])), truth,
                    float(frac.sum()) * voxel_mm3 / 1000.0, centre, reach, cement_ml)


def insert_cement(volume: Volume, ct: Volume, centre_ijk: tuple[int, int, int], radius_mm: float,
                  value: float = 3000.0, seed: int = 5) -> Volume:
    """A cement sphere of ``radius_mm`` at voxel ``centre_ijk`` of ``ct`` blended into ``volume``
    (same grid)."""
    centre = np.asarray(ct.index_to_world(np.asarray(centre_ijk, float)), float)
    return blend(volume, fraction(ct, ball(centre, radius_mm), centre, radius_mm + 3.0), value,
                 seed=seed)
