"""Spine posture at a follow-up: flexion/extension and lateral bending beyond the treated level.

Two frames, both in baseline LPS mm (+x patient left, +y posterior, +z superior):
- *rest*: the baseline anatomy as built by ``mdaread.sample.anatomy`` (treated body at the origin);
- *posed*: the same anatomy as the patient lies at a follow-up, before the rigid
  ``baseline_to_timepoint`` move. A follow-up's LPS point q shows the rest anatomy at
  ``to_rest(M⁻¹ q)``; a rest point p appears at ``M · to_posed(p)`` in the follow-up's frame.

Model: a *rigid zone* z_lo ≤ z ≤ z_hi (the treated body or bodies and half of each adjacent disc)
does not move, so the treated vertebra and its cement move exactly by ``baseline_to_timepoint``.
Beyond each end the spine is bent like a uniformly curved rod: the axial cross-section at
cranio-caudal distance s beyond the end is turned by κ·s about an axis in the axial plane through
the end of the zone (a combination of the L-R axis, flexion/extension, and the A-P axis, lateral
bending) and carried along a circular arc of radius 1/κ, so lengths along the spine's axis
(x = y = 0) are kept. Both ends curve toward the same side (the centre of curvature), as a flexed
or side-bent spine does. The map is the identity at the zone's ends with an identity derivative
there: no jump and no kink at the edge.

Curvatures are drawn per follow-up in degrees per vertebral level and turned into κ (rad/mm) with
the subject's level pitch (centre-to-centre distance of the bodies around the treated level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mdaread.sample.anatomy import LEVELS, Vertebra

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Bounds = tuple[tuple[float, float, float], tuple[float, float, float]]

# Between two supine scans on different days the thoracolumbar posture differs (pillows, knee
# support, how the patient settled): a small fraction of the segmental range of motion, which is
# several degrees per level in flexion/extension and a few in lateral bending. ±1.5°/level
# sagittally and ±1.0°/level laterally add up to ≈ ±5° and ±3.5° over the 3-4 levels an MR field
# shows either side of the treated level — the order of the changes of regional kyphosis or
# lordosis seen between repeated supine scans — and move a body two levels away by up to ≈ 1 mm,
# three levels away by up to ≈ 3.5 mm, and turn it by up to ≈ 5°.
SAGITTAL_DEG_PER_LEVEL = 1.5
LATERAL_DEG_PER_LEVEL = 1.0
POSTURE_STREAM = 7  # the rng stream [seed, index, t, 7]: no other draw of the trial uses it
BOUNDS_STEP_MM = 10.0  # z sampling of a part's box when bounding its bent image
BOUNDS_MARGIN_MM = 0.5  # covers the arc's bulge between samples (κ·step²/8 < 0.02 mm)


@dataclass(frozen=True)
class Posture:
    """One follow-up's bend of the spine (see the module docstring).

    ``sagittal_deg_per_level`` > 0 is flexion (the spine curves toward anterior, −y);
    ``lateral_deg_per_level`` > 0 bends it toward the patient's left (+x); ``level_mm`` is the
    level pitch used to turn degrees per level into rad/mm; the rigid zone is
    ``z_lo`` ≤ z ≤ ``z_hi`` (baseline LPS mm).
    """

    sagittal_deg_per_level: float
    lateral_deg_per_level: float
    level_mm: float
    z_lo: float
    z_hi: float

    @property
    def curvature(self) -> tuple[float, float]:
        """(kx, ky) rad/mm: the curvature vector, pointing from the spine toward the centre of
        curvature in the axial plane, with length κ."""
        kx = math.radians(self.lateral_deg_per_level) / self.level_mm
        ky = -math.radians(self.sagittal_deg_per_level) / self.level_mm
        return kx, ky

    @property
    def is_identity(self) -> bool:
        return self.sagittal_deg_per_level == 0.0 and self.lateral_deg_per_level == 0.0

    def to_rest(self, x: F32, y: F32, z: F32) -> tuple[F32, F32, F32]:
        """Posed → rest, elementwise on arrays of baseline LPS mm (float32 in and out). Points in
        the rigid zone come back unchanged, bit for bit. Valid within 1/κ (≥ 500 mm) of the
        spine's axis on the side of the centre of curvature — everywhere in a scan."""
        if self.is_identity:
            return x, y, z
        f32 = np.float32
        kx, ky = (f32(k) for k in self.curvature)
        kappa = f32(math.hypot(*self.curvature))
        # distance beyond the nearer end of the zone (0 inside it)
        w = np.maximum(z - f32(self.z_hi), f32(0)) + np.maximum(f32(self.z_lo) - z, f32(0))
        b = kappa * w
        t = f32(1) - (kx * x + ky * y)  # 1 − κ × offset toward the centre of curvature
        # the posed point, seen from the centre of curvature, has turned by φ = κ·s
        s = np.arctan(b / t) / kappa  # rest distance beyond the zone's end
        # κ × (rest − posed offset toward the centre), in a form that is exactly 0 where b is
        shift = -(b * b) / (t + np.hypot(t, b)) / (kappa * kappa)
        z_rest = z + np.sign(z - f32((self.z_lo + self.z_hi) / 2)) * (s - w)  # ± by the end
        return x + kx * shift, y + ky * shift, z_rest

    def to_posed(self, points: npt.ArrayLike) -> F64:
        """Rest → posed for points (..., 3) in baseline LPS mm (float64)."""
        p = np.array(points, dtype=np.float64)
        if self.is_identity:
            return p
        kx, ky = self.curvature
        kappa = math.hypot(kx, ky)
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        s = np.maximum(np.maximum(z - self.z_hi, self.z_lo - z), 0.0)
        a = kx * x + ky * y
        phi = kappa * s
        shift = (1.0 - a) * 2.0 * np.sin(phi / 2) ** 2  # κ × (posed − rest) offset toward centre
        along = (1.0 - a) * np.sin(phi) / kappa  # posed distance beyond the zone's end
        out = p.copy()
        out[..., 0] = x + kx * shift / kappa**2
        out[..., 1] = y + ky * shift / kappa**2
        out[..., 2] = np.where(z > self.z_hi, self.z_hi + along,
                               np.where(z < self.z_lo, self.z_lo - along, z))
        return out

    def posed_bounds(self, bounds: Bounds) -> Bounds:
        """An axis-aligned box holding the posed image of the rest box ``bounds`` (LPS mm)."""
        if self.is_identity:
            return bounds
        (x0, y0, z0), (x1, y1, z1) = bounds
        zs = set(np.linspace(z0, z1, max(2, math.ceil((z1 - z0) / BOUNDS_STEP_MM) + 1)).tolist())
        zs |= {z for z in (self.z_lo, self.z_hi) if z0 < z < z1}
        # each cross-section moves affinely (turn + shift), so its 4 corners bound its image
        corners = np.array([(x, y, z) for z in sorted(zs) for x in (x0, x1) for y in (y0, y1)])
        posed = self.to_posed(corners)
        lo = posed.min(axis=0) - BOUNDS_MARGIN_MM
        hi = posed.max(axis=0) + BOUNDS_MARGIN_MM
        return ((float(lo[0]), float(lo[1]), float(lo[2])),
                (float(hi[0]), float(hi[1]), float(hi[2])))

    def to_json(self) -> dict[str, object]:
        """The truth.json record (degrees per level, level pitch and rigid zone in mm)."""
        return {
            "sagittal_deg_per_level": round(self.sagittal_deg_per_level, 6),
            "lateral_deg_per_level": round(self.lateral_deg_per_level, 6),
            "level_mm": round(self.level_mm, 4),
            "rigid_zone_z_baseline_lps": [round(self.z_lo, 4), round(self.z_hi, 4)],
        }


def rigid_zone(vertebrae: dict[str, Vertebra], treated: list[str]) -> tuple[float, float]:
    """(z_lo, z_hi) baseline LPS mm: the treated bodies from the lower body's bottom to the upper
    body's top, widened by half of the disc gap beyond each end."""
    order = sorted(treated, key=LEVELS.index)
    top, bottom = vertebrae[order[0]], vertebrae[order[-1]]
    z_hi = top.cz + top.height / 2
    z_lo = bottom.cz - bottom.height / 2
    i_top, i_bottom = LEVELS.index(order[0]), LEVELS.index(order[-1])
    if i_top > 0:
        above = vertebrae[LEVELS[i_top - 1]]
        z_hi += ((above.cz - above.height / 2) - z_hi) / 2
    if i_bottom < len(LEVELS) - 1:
        below = vertebrae[LEVELS[i_bottom + 1]]
        z_lo -= (z_lo - (below.cz + below.height / 2)) / 2
    return z_lo, z_hi


def level_pitch(vertebrae: dict[str, Vertebra], treated: list[str]) -> float:
    """Mean centre-to-centre distance (mm) of the bodies from the level above the treated ones to
    the level below them."""
    indices = sorted(LEVELS.index(lv) for lv in treated)
    first, last = max(indices[0] - 1, 0), min(indices[-1] + 1, len(LEVELS) - 1)
    span = vertebrae[LEVELS[first]].cz - vertebrae[LEVELS[last]].cz
    return float(span / (last - first))


def draw_posture(seed: int, index: int, t: int, vertebrae: dict[str, Vertebra],
                 treated: list[str]) -> Posture:
    """Subject ``index``'s posture at timepoint ``t`` (identity at baseline), from its own rng
    stream so every other draw of the trial stays as it was."""
    z_lo, z_hi = rigid_zone(vertebrae, treated)
    pitch = level_pitch(vertebrae, treated)
    if t == 0:
        return Posture(0.0, 0.0, pitch, z_lo, z_hi)
    rng = np.random.default_rng([seed, index, t, POSTURE_STREAM])
    sagittal = float(rng.uniform(-SAGITTAL_DEG_PER_LEVEL, SAGITTAL_DEG_PER_LEVEL))
    lateral = float(rng.uniform(-LATERAL_DEG_PER_LEVEL, LATERAL_DEG_PER_LEVEL))
    return Posture(sagittal, lateral, pitch, z_lo, z_hi)
