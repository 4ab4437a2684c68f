"""Lesions of known size for the segmentation tests: ellipsoids with partial-volume edges."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from mdaread.model.volume import Volume


def ellipsoid_fraction(volume: Volume, centre_lps: tuple[float, float, float],
                       radii_mm: tuple[float, float, float], theta_deg: float = 0.0,
                       supersample: int = 4) -> npt.NDArray[np.float32]:
    """Fraction (0–1) of each voxel inside an ellipsoid: semi-axes ``radii_mm`` along x, y, z
    (LPS), turned ``theta_deg`` in the axial plane from +x toward +y. Each voxel is sampled at
    ``supersample``³ sub-points, so edge voxels get their partial volume."""
    shape = volume.shape
    out = np.zeros(shape, dtype=np.float32)
    reach = max(radii_mm) + 2 * max(volume.spacing)
    centre_ijk = volume.world_to_index(centre_lps)
    half = np.ceil(reach / np.array(volume.spacing)).astype(int)
    lo = np.maximum(np.round(centre_ijk).astype(int) - half, 0)
    hi = np.minimum(np.round(centre_ijk).astype(int) + half + 1, np.array(shape[::-1]))
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    ii, jj, kk = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]),
                             np.arange(lo[2], hi[2]), indexing="ij")
    c, s = math.cos(math.radians(theta_deg)), math.sin(math.radians(theta_deg))
    acc = np.zeros(ii.shape, dtype=np.float32)
    for di in offsets:
        for dj in offsets:
            for dk in offsets:
                pts = np.stack([ii + di, jj + dj, kk + dk], axis=-1)
                xyz = volume.index_to_world(pts) - np.asarray(centre_lps)
                u = (xyz[..., 0] * c + xyz[..., 1] * s) / radii_mm[0]
                w = (-xyz[..., 0] * s + xyz[..., 1] * c) / radii_mm[1]
                z = xyz[..., 2] / radii_mm[2]
                acc += (u * u + w * w + z * z <= 1.0)
    acc /= supersample ** 3
    out[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]] = np.transpose(acc, (2, 1, 0))
    return out


def ellipsoid_ml(radii_mm: tuple[float, float, float]) -> float:
    return 4.0 / 3.0 * math.pi * radii_mm[0] * radii_mm[1] * radii_mm[2] / 1000.0


def insert(volume: Volume, fraction: npt.NDArray[np.float32], value: float,
           noise_sd: float = 0.0, seed: int = 0) -> Volume:
    """A copy of ``volume`` with ``value`` (+ Gaussian noise) blended in by ``fraction``."""
    base = np.asarray(volume.array, dtype=np.float32)
    rng = np.random.default_rng(seed)
    lesion = value + rng.normal(0.0, noise_sd, base.shape).astype(np.float32) if noise_sd \
        else np.float32(value)
    array = base * (1 - fraction) + lesion * fraction
    return Volume(array=array, affine=volume.affine, modality=volume.modality,
                  series_uid=volume.series_uid, description=volume.description)


def synthetic_ct(shape: tuple[int, int, int] = (40, 96, 96),
                 spacing: tuple[float, float, float] = (0.8, 0.8, 2.0),
                 background: float = 250.0, noise_sd: float = 20.0, seed: int = 1) -> Volume:
    """A block of 'cancellous bone' (HU) with white noise, axial, centred on the origin."""
    rng = np.random.default_rng(seed)
    array = (background + rng.normal(0.0, noise_sd, shape)).astype(np.float32)
    affine = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    affine[:3, 3] = -np.array(spacing) * (np.array(shape[::-1]) - 1) / 2
    return Volume(array=array, affine=affine, modality="CT", series_uid="2.25.1")
