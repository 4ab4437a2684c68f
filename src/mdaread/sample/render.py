"""Rasterise the phantom onto a scanner grid and turn tissue labels into CT or MR intensities.

A timepoint's grid lives in that timepoint's own patient frame (LPS mm). Each voxel centre is
mapped through ``to_baseline`` (follow-up LPS → baseline LPS, the inverse of the truth transform)
into the posed anatomy, then through the timepoint's ``Posture`` (posed → rest: the spine's bend
beyond the treated vertebra) into the anatomy's frame, where the analytic parts are evaluated.
Each slice integrates over its thickness: it is painted at several sub-positions along its normal
and the tissue values are averaged (partial volume). Work is done slice by slice, and each part
only inside its bounding box, so no Python loop runs per voxel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from mdaread.sample import anatomy as an
from mdaread.sample.anatomy import Part
from mdaread.sample.posture import Posture
from mdaread.sample.shapes import Bounds

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

# label → (value, texture amplitude, texture scale in mm); CT in HU, MR in arbitrary units.
# Two texture scales only (1.5 mm trabecular, 4 mm soft tissue): each scale costs a pass.
CT_TABLE: dict[int, tuple[float, float, float]] = {
    an.AIR: (-1000, 0, 1), an.SKIN: (30, 0, 1), an.FAT: (-105, 8, 4), an.SOFT: (38, 10, 4),
    an.MUSCLE: (52, 5, 4), an.LUNG: (-860, 40, 4), an.BLOOD: (42, 0, 1),
    an.ANNULUS: (95, 6, 1.5), an.NUCLEUS: (75, 4, 1.5), an.CORTEX: (1150, 90, 1.5),
    an.CANCELLOUS: (230, 75, 1.5), an.CSF: (8, 0, 1), an.CORD: (32, 0, 1), an.RIB: (520, 90, 1.5),
    an.LYTIC: (45, 6, 1.5), an.BLASTIC: (1000, 80, 1.5), an.RIM: (950, 60, 1.5),
    an.SCLEROTIC: (760, 60, 1.5), an.CEMENT: (3400, 0, 1),
}
T1_TABLE: dict[int, tuple[float, float, float]] = {
    an.AIR: (0, 0, 1), an.SKIN: (450, 0, 1), an.FAT: (900, 30, 4), an.SOFT: (380, 40, 4),
    an.MUSCLE: (300, 15, 4), an.LUNG: (20, 0, 1), an.BLOOD: (120, 0, 1),
    an.ANNULUS: (280, 10, 1.5), an.NUCLEUS: (330, 10, 1.5), an.CORTEX: (40, 0, 1),
    an.CANCELLOUS: (620, 60, 1.5), an.CSF: (130, 0, 1), an.CORD: (420, 0, 1),
    an.RIB: (500, 40, 1.5),
    an.LYTIC: (230, 15, 1.5), an.BLASTIC: (90, 15, 1.5), an.RIM: (60, 0, 1),
    an.SCLEROTIC: (110, 15, 1.5), an.CEMENT: (10, 0, 1),
}
STIR_TABLE: dict[int, tuple[float, float, float]] = {
    an.AIR: (0, 0, 1), an.SKIN: (200, 0, 1), an.FAT: (60, 10, 4), an.SOFT: (260, 40, 4),
    an.MUSCLE: (180, 10, 4), an.LUNG: (15, 0, 1), an.BLOOD: (80, 0, 1),
    an.ANNULUS: (220, 10, 1.5), an.NUCLEUS: (700, 20, 1.5), an.CORTEX: (30, 0, 1),
    an.CANCELLOUS: (150, 30, 1.5), an.CSF: (950, 0, 1), an.CORD: (380, 0, 1),
    an.RIB: (140, 20, 1.5),
    an.LYTIC: (820, 30, 1.5), an.BLASTIC: (180, 20, 1.5), an.RIM: (90, 0, 1),
    an.SCLEROTIC: (120, 15, 1.5), an.CEMENT: (10, 0, 1),
}
TABLES = {"CT": CT_TABLE, "T1": T1_TABLE, "STIR": STIR_TABLE}


@dataclass(frozen=True)
class Grid:
    """A scanner grid: ``shape`` (k, j, i) and ``affine`` (i, j, k, 1) → this timepoint's LPS mm."""

    shape: tuple[int, int, int]
    affine: F64


def axial_grid(centre: npt.ArrayLike, pixel_mm: float, n_xy: int, slice_mm: float,
               n_z: int) -> Grid:
    """Axial slices (rows → +y posterior, columns → +x left, slices → +z superior) centred on
    ``centre`` (LPS mm)."""
    return _grid(np.eye(3), centre, (pixel_mm, pixel_mm, slice_mm), (n_z, n_xy, n_xy))


def sagittal_grid(centre: npt.ArrayLike, pixel_mm: float, n_yz: int, slice_mm: float,
                  n_x: int) -> Grid:
    """Sagittal slices (columns → +y posterior, rows → −z inferior, slices → −x toward the
    patient's right, so the grid is right-handed) centred on ``centre`` (LPS mm)."""
    direction = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    return _grid(direction, centre, (pixel_mm, pixel_mm, slice_mm), (n_x, n_yz, n_yz))


def _grid(direction: F64, centre: npt.ArrayLike, spacing: tuple[float, float, float],
          shape: tuple[int, int, int]) -> Grid:
    affine = np.eye(4)
    affine[:3, :3] = direction * np.asarray(spacing)
    half = (np.array(shape[::-1], dtype=np.float64) - 1) / 2
    affine[:3, 3] = np.asarray(centre, dtype=np.float64) - affine[:3, :3] @ half
    return Grid(shape=shape, affine=affine)


COARSE_SCALE_MM = 4.0  # textures at least this coarse are computed on a sparse lattice


@lru_cache(maxsize=1)
def _texture_field() -> F32:
    """A fixed, periodic 48³ field of smooth noise (mean 0, sd 1) sampled at 1 mm per cell."""
    rng = np.random.default_rng(20240611)
    field = ndimage.gaussian_filter(rng.standard_normal((48, 48, 48)), 1.0, mode="wrap")
    field = (field - field.mean()) / field.std()
    return field.astype(np.float32)


def texture(x: F32, y: F32, z: F32, scale_mm: float, smooth: bool = False) -> F32:
    """Smooth noise (≈ N(0, 1)) fixed to the anatomy: points in baseline LPS mm, features about
    ``scale_mm`` across; the same point gives the same value at every timepoint."""
    coords = np.stack([x / scale_mm, y / scale_mm, z / scale_mm])
    # Coarse textures sit under the noise, so nearest-cell lookup (3× cheaper) is invisible
    # there; thresholded textures (``smooth``) need interpolation or their patches look blocky.
    order = 1 if smooth or scale_mm < 2.5 else 0
    values: F32 = ndimage.map_coordinates(_texture_field(), coords, order=order, mode="grid-wrap")
    return values


def _index_box(bounds: Bounds, to_index: F64, shape: tuple[int, int, int],
               k_margin: int = 1) -> tuple[int, ...] | None:
    """Index bounds (k0, k1, j0, j1, i0, i1), inclusive, holding the LPS box ``bounds`` (one
    voxel of margin, ``k_margin`` across slices); None if off-grid."""
    lo, hi = bounds
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])])
    ijk = (corners @ to_index.T)[:, :3]
    first = np.floor(ijk.min(axis=0)).astype(int) - np.array([1, 1, k_margin])
    last = np.ceil(ijk.max(axis=0)).astype(int) + np.array([1, 1, k_margin])
    limits = np.array(shape[::-1]) - 1
    first, last = np.maximum(first, 0), np.minimum(last, limits)
    if np.any(first > last):
        return None
    return (int(first[2]), int(last[2]), int(first[1]), int(last[1]),
            int(first[0]), int(last[0]))


SUB_SLICE_MM = 0.8  # slice-profile sampling: one sub-position per 0.8 mm of slice thickness


def slice_offsets(thickness_mm: float, spacing_mm: float) -> list[float]:
    """Sub-slice positions (in slice-index units, relative to the slice centre) that sample a
    slice ``thickness_mm`` thick: n = max(1, ceil(thickness / 0.8 mm)) points spread evenly
    (centres of n equal parts of the slice), so averaging them integrates a box profile."""
    n = max(1, math.ceil(round(thickness_mm / SUB_SLICE_MM, 9)))
    return [thickness_mm * ((m + 0.5) / n - 0.5) / spacing_mm for m in range(n)]


def render(parts: list[Part], grid: Grid, to_baseline: F64, contrasts: tuple[str, ...], *,
           thickness_mm: float = 0.0,
           posture: Posture | None = None) -> tuple[npt.NDArray[np.uint8], dict[str, F32]]:
    """Paint ``parts`` on ``grid`` and return (labels, {contrast: noiseless intensities}).

    ``to_baseline`` maps this grid's LPS mm to the posed anatomy (baseline LPS mm); ``posture``
    (None: none) then maps posed points to the rest anatomy the parts are defined in. Each slice
    integrates the object over ``thickness_mm`` along its normal (0: a point sample at the slice
    centre): tissue values are averaged over ``slice_offsets`` sub-positions, the texture is
    sampled at the slice centre, and the labels are those at the slice centre. Contrasts are
    "CT" (HU), "T1" and "STIR" (arbitrary MR units).
    """
    labels = np.zeros(grid.shape, dtype=np.uint8)
    values = _render(parts, grid, to_baseline, contrasts, thickness_mm, posture, labels)
    return labels, values


def render_values(parts: list[Part], grid: Grid, to_baseline: F64, contrasts: tuple[str, ...],
                  *, thickness_mm: float = 0.0, posture: Posture | None = None) -> dict[str, F32]:
    """``render`` without the label map: with an even number of sub-positions per slice this
    spares painting the slice centre."""
    return _render(parts, grid, to_baseline, contrasts, thickness_mm, posture, None)


def _render(parts: list[Part], grid: Grid, to_baseline: F64, contrasts: tuple[str, ...],
            thickness_mm: float, posture: Posture | None,
            labels: npt.NDArray[np.uint8] | None) -> dict[str, F32]:
    """The work of ``render``; ``labels`` (or None) receives the slice-centre labels."""
    nk, nj, ni = grid.shape
    to_anatomy = to_baseline @ grid.affine
    to_index = np.asarray(np.linalg.inv(to_anatomy), dtype=np.float64)
    offsets = slice_offsets(thickness_mm, float(np.linalg.norm(grid.affine[:3, 2])))
    k_margin = 1 + math.ceil(max(abs(o) for o in offsets))
    warp = posture if posture is not None and not posture.is_identity else None
    boxes = [_index_box(warp.posed_bounds(p.shape.bounds()) if warp else p.shape.bounds(),
                        to_index, grid.shape, k_margin) for p in parts]
    points = _SlicePoints(to_anatomy, grid.shape, warp)
    out = {c: np.empty(grid.shape, dtype=np.float32) for c in contrasts}
    n = len(offsets)
    # the centre is the middle sub-position when n is odd, else one more position to paint
    centre = n // 2 if n % 2 else n
    for k in range(nk):
        active = [(p, (slice(None), slice(b[2], b[3] + 1), slice(b[4], b[5] + 1)))
                  for p, b in zip(parts, boxes, strict=True)
                  if b is not None and b[0] <= k <= b[1]]
        # every position of the slice stacked on a first axis: one shape test per part and slice
        where = [k + o for o in offsets] + ([float(k)] if centre == n and labels is not None
                                            else [])
        xyz = points.at(where)
        lab = np.zeros((len(where), nj, ni), dtype=np.uint8)
        for part, window in active:
            _paint(part, lab, xyz, window)
        if labels is not None:
            labels[k] = lab[centre]
        if centre < len(where):
            middle = [c[centre] for c in xyz]
        else:  # halfway between the two middle sub-positions (they are symmetric about it)
            middle = [(c[n // 2 - 1] + c[n // 2]) * np.float32(0.5) for c in xyz]
        for c in contrasts:
            out[c][k] = _intensity(lab[:n], middle, c)
    return out


class _SlicePoints:
    """Rest-anatomy LPS mm (x, y, z arrays) of the pixels of fractional slice positions.

    The posture's displacement is computed at the first and last position of a call only and
    interpolated linearly between them: across one slice's thickness (≤ 3 mm) the bend's
    displacement is linear to within κ·δ²/8 < 0.002 mm. Slices wholly inside the rigid zone are
    not warped at all."""

    def __init__(self, to_anatomy: F64, shape: tuple[int, int, int], posture: Posture | None):
        _, nj, ni = shape
        self.m = to_anatomy
        self.jj, self.ii = np.mgrid[0:nj, 0:ni].astype(np.float32)
        self.posture = posture
        mz = to_anatomy[2]
        # z over a slice is linear in (i, j): its extremes are at the corners
        span = [mz[0] * i + mz[1] * j for i in (0, ni - 1) for j in (0, nj - 1)]
        self.z_corners = (min(span) + mz[3], max(span) + mz[3], float(mz[2]))

    def linear(self, k: float) -> list[F32]:
        return [np.float32(m[0]) * self.ii + np.float32(m[1]) * self.jj
                + np.float32(m[2] * k + m[3]) for m in self.m[:3]]

    def _needs_warp(self, ks: list[float]) -> bool:
        if self.posture is None:
            return False
        lo, hi, per_k = self.z_corners
        z_ends = [per_k * k for k in (min(ks), max(ks))]
        z_min, z_max = lo + min(z_ends), hi + max(z_ends)
        return not (self.posture.z_lo <= z_min and z_max <= self.posture.z_hi)

    def at(self, ks: list[float]) -> list[F32]:
        """(x, y, z), each of shape (len(ks), nj, ni): the rest-anatomy points of slices ``ks``."""
        linear = [np.stack(c) for c in zip(*(self.linear(k) for k in ks), strict=True)]
        if self.posture is None or not self._needs_warp(ks):
            return linear
        first, last = ks.index(min(ks)), ks.index(max(ks))
        ends = {}
        for n in {first, last}:
            rest = self.posture.to_rest(linear[0][n], linear[1][n], linear[2][n])
            ends[n] = [r - c[n] for r, c in zip(rest, linear, strict=True)]
        if first == last:
            return [c + d for c, d in zip(linear, ends[first], strict=True)]
        span = ks[last] - ks[first]
        f = np.array([(k - ks[first]) / span for k in ks], dtype=np.float32)[:, None, None]
        return [c + d0 + f * (d1 - d0)
                for c, d0, d1 in zip(linear, ends[first], ends[last], strict=True)]


def _paint(part: Part, lab: npt.NDArray[np.uint8], xyz: list[F32],
           window: tuple[slice, ...]) -> None:
    """Paint ``part`` into the labels ``lab`` (one or a stack of slices) at the points ``xyz``
    (rest anatomy, LPS mm, the shape of ``lab``), inside ``window`` only."""
    x, y, z = (c[window] for c in xyz)
    mask = part.shape.contains(x, y, z)
    sub = lab[window]
    if part.only_over is not None:
        mask &= np.isin(sub, np.fromiter(part.only_over, dtype=np.uint8))
    if not mask.any():
        return
    if part.alt_label is None:
        sub[mask] = part.label
        return
    if part.alt_scale_mm >= COARSE_SCALE_MM and x.ndim == 3:
        t = np.stack([_window_texture(x[n], y[n], z[n], part.alt_scale_mm)
                      for n in range(len(x))])[mask]
    elif part.alt_scale_mm >= COARSE_SCALE_MM:
        t = _window_texture(x, y, z, part.alt_scale_mm)[mask]
    else:
        t = texture(x[mask], y[mask], z[mask], part.alt_scale_mm, smooth=True)
    sub[mask] = np.where(t > part.alt_threshold, part.alt_label, part.label).astype(np.uint8)


@lru_cache(maxsize=8)
def _lookup(contrast: str) -> tuple[F32, tuple[tuple[float, F32], ...]]:
    """Per-label base values and, per texture scale, per-label texture amplitudes."""
    table = TABLES[contrast]
    base = np.array([table[n][0] for n in range(an.N_LABELS)], dtype=np.float32)
    scales = sorted({table[n][2] for n in range(an.N_LABELS) if table[n][1] > 0})
    amps = tuple((s, np.array([table[n][1] if table[n][2] == s else 0.0
                               for n in range(an.N_LABELS)], dtype=np.float32)) for s in scales)
    return base, amps


def _intensity(lab: npt.NDArray[np.uint8], xyz: list[F32], contrast: str) -> F32:
    """One slice's intensity from the labels of its sub-positions ``lab`` (n, nj, ni): the mean
    tissue value plus the mean texture amplitude times the texture at ``xyz`` (the slice centre,
    rest anatomy LPS mm) — one texture pass per scale however many sub-positions."""
    base, amps = _lookup(contrast)
    n = len(lab)
    values: F32 = base[lab[0]] if n == 1 else base[lab].mean(axis=0, dtype=np.float32)
    for scale, amp in amps:
        gain = amp[lab[0]] if n == 1 else amp[lab].mean(axis=0, dtype=np.float32)
        where = gain > 0
        if not where.any():
            continue
        if scale >= COARSE_SCALE_MM:
            t = _window_texture(xyz[0], xyz[1], xyz[2], scale)[where]
        else:
            t = texture(xyz[0][where], xyz[1][where], xyz[2][where], scale)
        values[where] += gain[where] * t
    return values


def _window_texture(x: F32, y: F32, z: F32, scale_mm: float) -> F32:
    """The texture over a whole 2-D window of points. A coarse texture changes little from one
    pixel to the next, so it is sampled on a lattice every ≈ scale/2 mm and interpolated
    bilinearly in between — far fewer 3-D lookups, same look."""
    h, w = x.shape
    if h < 4 or w < 4:
        return texture(x, y, z, scale_mm, smooth=True)
    pixel = float(np.sqrt((x[0, 1] - x[0, 0]) ** 2 + (y[0, 1] - y[0, 0]) ** 2
                          + (z[0, 1] - z[0, 0]) ** 2))
    step = max(1, int(scale_mm / (2 * pixel)))
    if step == 1:
        return texture(x, y, z, scale_mm, smooth=True)
    rows = np.unique(np.rint(np.linspace(0, h - 1, (h - 1) // step + 2)).astype(int))
    cols = np.unique(np.rint(np.linspace(0, w - 1, (w - 1) // step + 2)).astype(int))
    lattice = np.ix_(rows, cols)
    coarse = texture(x[lattice], y[lattice], z[lattice], scale_mm, smooth=True)
    # separable linear interpolation by gathers (no BLAS: its threads fight on a busy machine)
    r0, r1, rf = _linear_steps(h, rows)
    c0, c1, cf = _linear_steps(w, cols)
    along_rows = coarse[r0] * (1 - rf)[:, None] + coarse[r1] * rf[:, None]
    fine: F32 = (along_rows[:, c0] * (1 - cf) + along_rows[:, c1] * cf).astype(np.float32)
    return fine


def _linear_steps(n: int, knots: npt.NDArray[np.int_]) -> tuple[npt.NDArray[np.int_],
                                                                 npt.NDArray[np.int_], F32]:
    """For positions 0…n−1: the knot indices either side and the fraction toward the upper."""
    positions = np.arange(n, dtype=np.float32)
    upper = np.clip(np.searchsorted(knots, positions, side="right"), 1, len(knots) - 1)
    lo, hi = knots[upper - 1], knots[upper]
    frac = ((positions - lo) / (hi - lo)).astype(np.float32)
    return upper - 1, upper, frac


def add_streaks(hu: F32, grid: Grid, centre: npt.ArrayLike, half_depth_mm: float = 15.0,
                strength_hu: float = 450.0) -> None:
    """Add streak artifact (alternately bright and dark lines through ``centre``, LPS mm of this
    grid's frame, fading over ≈ 60 mm) to the slices within ``half_depth_mm`` of it, in place —
    enough to make a lesion there unreadable."""
    to_index = np.linalg.inv(grid.affine)
    ci, cj, ck = to_index[:3, :3] @ np.asarray(centre, dtype=np.float64) + to_index[:3, 3]
    spacing = np.linalg.norm(grid.affine[:3, :3], axis=0)
    nk, nj, ni = grid.shape
    jj, ii = np.mgrid[0:nj, 0:ni]
    dx, dy = (ii - ci) * spacing[0], (jj - cj) * spacing[1]
    r = np.hypot(dx, dy)
    pattern = np.zeros((nj, ni), dtype=np.float32)
    # irregular angles and widths, alternating bright and dark, as streaks from dense cement look
    angles = (0.15, 0.5, 0.62, 1.1, 1.45, 1.9, 2.05, 2.5, 2.85)
    for n, angle in enumerate(angles):
        distance = np.abs(dx * np.sin(angle) - dy * np.cos(angle))
        sign = 1.0 if n % 2 == 0 else -1.0
        width = 1.0 + 0.5 * (n % 3)
        pattern += np.float32(sign * strength_hu) * np.exp(-(distance / width) ** 2,
                                                           dtype=np.float32)
    pattern *= np.exp(-r / 60.0).astype(np.float32)
    for k in range(nk):
        if abs(k - ck) * spacing[2] <= half_depth_mm:
            hu[k] += pattern


def finish_ct(hu: F32, rng: np.random.Generator, noise_hu: float) -> npt.NDArray[np.int16]:
    """Scanner blur (Gaussian PSF ≈ 0.6 pixel in-plane), Gaussian noise (sd ``noise_hu``), then
    rounding to integer HU clipped to the 12-bit range [−1024, 3071] (cement saturates at 3071)."""
    blurred = ndimage.gaussian_filter(hu, sigma=(0.35, 0.6, 0.6))
    noisy = blurred + np.float32(noise_hu) * rng.standard_normal(hu.shape, dtype=np.float32)
    return np.clip(np.rint(noisy), -1024, 3071).astype(np.int16)


def finish_mr(signal: F32, rng: np.random.Generator, noise: float) -> npt.NDArray[np.uint16]:
    """Blur as for CT, then Rician noise (magnitude of a complex signal with Gaussian noise of sd
    ``noise`` in each channel), rounded to unsigned 12-bit stored values."""
    blurred = ndimage.gaussian_filter(signal, sigma=(0.35, 0.6, 0.6))
    real = blurred + np.float32(noise) * rng.standard_normal(signal.shape, dtype=np.float32)
    imag = np.float32(noise) * rng.standard_normal(signal.shape, dtype=np.float32)
    return np.clip(np.rint(np.hypot(real, imag)), 0, 4095).astype(np.uint16)
