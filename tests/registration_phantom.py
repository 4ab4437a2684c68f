"""A synthetic lumbar spine (numpy only) for registration tests, benchmarks and demos.

The anatomy is defined in the BASELINE patient frame (LPS mm) around the origin: vertebral bodies
every 30 mm along z (vertebra 0 — the treated one — centred on (0, 0, 0)) with cortical shells,
discs, a spinal canal with its bony ring and processes, the aorta, and a body outline. Vertebra 0
holds a lytic lesion; a follow-up may hold PMMA cement in it. A follow-up is imaged under a known
rigid ``truth`` matrix (baseline LPS → follow-up LPS): its voxel at follow-up point q shows the
anatomy at ``truth⁻¹ q``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from mdaread.geometry import rigid
from mdaread.model.volume import Volume

AIR, FAT, MUSCLE, MARROW, CORTEX, DISC, CSF, LESION, CEMENT, BLOOD = range(10)
CT_HU = {AIR: -1000, FAT: -100, MUSCLE: 45, MARROW: 220, CORTEX: 900, DISC: 90, CSF: 10,
         LESION: 30, CEMENT: 2800, BLOOD: 160}
MR_T1 = {AIR: 0, FAT: 900, MUSCLE: 350, MARROW: 650, CORTEX: 60, DISC: 300, CSF: 150,
         LESION: 250, CEMENT: 30, BLOOD: 120}
SPACING_Z = 30.0


def _ellipse(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], a: float,
             b: float) -> npt.NDArray[np.bool_]:
    return (x / a) ** 2 + (y / b) ** 2 <= 1.0


def labels_at(points: npt.NDArray[np.float64], *, cement: bool = False,
              curvature_mm: float = 0.0) -> npt.NDArray[np.uint8]:
    """Tissue labels at baseline LPS points ``(N, 3)`` mm. ``curvature_mm`` moves vertebra n
    by ``curvature_mm · n² / 9`` posteriorly (a changed spinal curve; vertebra 0 stays put)."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    lab = np.full(len(points), AIR, np.uint8)
    lab[_ellipse(x, y - 15, 120, 95)] = FAT
    lab[_ellipse(x, y - 15, 108, 83)] = MUSCLE
    lab[_ellipse(x - 22 - 0.05 * z, y + 30, 11, 11)] = BLOOD
    for n in range(-4, 5):
        _vertebra(lab, x, y - curvature_mm * n * n / 9.0, z, n)
    lab[_ellipse(x, y - 30, 9, 8)] = CSF  # the canal runs through every level
    lesion = x**2 + (y + 3) ** 2 + (z - 2) ** 2 <= 8.0**2
    lab[lesion & (lab == MARROW)] = LESION
    if cement:
        blob = ((x + 4) / 9) ** 2 + ((y + 2) / 7) ** 2 + ((z + 1) / 8) ** 2 <= 1.0
        lab[blob] = CEMENT
    return lab


def _vertebra(lab: npt.NDArray[np.uint8], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
              z: npt.NDArray[np.float64], n: int) -> None:
    a, b, h = 20.0 + 0.6 * n, 16.0 + 0.5 * n, 23.0 + 0.5 * n  # caudal vertebrae are larger
    zc = SPACING_Z * n + 1.5 * np.sin(n)
    dz = z - zc
    body = _ellipse(x, y, a, b) & (np.abs(dz) <= h / 2)
    lab[body] = CORTEX
    lab[body & _ellipse(x, y, a - 1.5, b - 1.5) & (np.abs(dz) <= h / 2 - 1.5)] = MARROW
    disc = _ellipse(x, y, a, b) & (dz > h / 2) & (dz < SPACING_Z - h / 2)
    lab[disc] = DISC
    level = np.abs(dz) <= h / 2 - 2.0
    ring = _ellipse(x, y - 30, 15, 14) & level
    lab[ring] = CORTEX
    lab[ring & _ellipse(x, y - 30, 13.5, 12.5)] = MARROW
    spine = (np.abs(x) <= 3) & (y >= 42) & (y <= 70) & (np.abs(dz + 0.4 * (y - 42)) <= 6)
    transverse = (np.abs(x) >= 12) & (np.abs(x) <= 38) & (np.abs(y - 30) <= 4) & (np.abs(dz) <= 5)
    lab[spine | transverse] = CORTEX


def make_volume(
    modality: str,
    *,
    shape: Sequence[int] = (80, 140, 140),
    spacing: Sequence[float] = (1.0, 1.0, 2.0),
    direction: npt.ArrayLike | None = None,
    center: Sequence[float] = (0.0, 0.0, 0.0),
    truth: npt.ArrayLike | None = None,
    cement: bool = False,
    curvature_mm: float = 0.0,
    noise: float | None = None,
    seed: int = 0,
) -> Volume:
    """A CT (HU) or MR (T1-like) Volume of the phantom. ``shape`` is ``(k, j, i)``, ``spacing``
    ``(i, j, k)`` mm, ``direction`` the 3×3 LPS directions of i, j, k (columns; default axial),
    ``center`` the LPS mm position of the grid centre in the imaged (follow-up) frame, ``truth``
    the baseline → imaged-frame rigid matrix (default identity: a baseline)."""
    affine = np.eye(4)
    d = np.eye(3) if direction is None else np.asarray(direction, dtype=np.float64)
    affine[:3, :3] = d * np.asarray(spacing, dtype=np.float64)
    k, j, i = shape
    affine[:3, 3] = np.asarray(center, float) - affine[:3, :3] @ ((np.array([i, j, k]) - 1) / 2)
    table = CT_HU if modality == "CT" else MR_T1
    lut = np.array([table[n] for n in range(len(table))], dtype=np.float32)
    inverse = None if truth is None else rigid.invert(truth)
    # partial volume: average several sub-voxel samples along each axis coarser than 1 mm, so
    # that edges move smoothly with the anatomy instead of snapping to voxel centres
    subs = [np.arange(n) / n - (n - 1) / (2 * n)
            for n in (max(1, round(float(sp) / 1.25)) for sp in spacing)]
    kk, jj, ii = np.meshgrid(np.arange(k), np.arange(j), np.arange(i), indexing="ij")
    ijk = np.stack([ii.ravel(), jj.ravel(), kk.ravel()], axis=1).astype(np.float64)
    total = np.zeros(int(np.prod(shape)), np.float32)
    count = 0
    for di in subs[0]:
        for dj in subs[1]:
            for dk in subs[2]:
                world = (ijk + np.array([di, dj, dk])) @ affine[:3, :3].T + affine[:3, 3]
                if inverse is not None:
                    world = rigid.apply(inverse, world)
                total += lut[labels_at(world, cement=cement, curvature_mm=curvature_mm)]
                count += 1
    values = ndimage.gaussian_filter((total / count).reshape(shape), sigma=0.5)
    rng = np.random.default_rng(seed)
    sigma = (15.0 if modality == "CT" else 20.0) if noise is None else noise
    values = values + rng.normal(0.0, sigma, values.shape).astype(np.float32)
    if modality == "CT":
        values = np.clip(np.round(values), -1024, 3071).astype(np.int16)
    else:
        values = np.clip(values, 0, None).astype(np.float32)
    return Volume(array=values, affine=affine, modality=modality,
                  description=f"phantom {modality}")
