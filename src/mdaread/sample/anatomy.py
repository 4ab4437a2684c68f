"""The thoracolumbar spine phantom: tissue labels and the solids that carry them.

The anatomy is defined once per subject in the BASELINE patient frame (LPS mm), with the centre of
the treated vertebral body (or the midpoint of two treated bodies) at the origin. Parts are painted
in list order, later parts over earlier ones, so the list reads from the skin inwards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from mdaread.sample.shapes import Capsule, EllipticCylinderZ, PlateZ, Shape, VertebralBody

# Tissue labels (uint8). Intensities per modality live in mdaread.sample.render.
AIR, SKIN, FAT, SOFT, MUSCLE, LUNG, BLOOD, ANNULUS, NUCLEUS = range(9)
CORTEX, CANCELLOUS, CSF, CORD, RIB = range(9, 14)
LYTIC, BLASTIC, RIM, SCLEROTIC, CEMENT = range(14, 19)
N_LABELS = 19
BONE = frozenset({CORTEX, CANCELLOUS})

LEVELS = [f"T{n}" for n in range(1, 13)] + [f"L{n}" for n in range(1, 6)] + ["S1"]


@dataclass(frozen=True)
class Part:
    """A solid painted with ``label``; ``only_over`` restricts it to voxels already holding one of
    those labels (lesions stay inside bone); where the tissue texture exceeds ``alt_threshold`` the
    voxel takes ``alt_label`` instead (patchy sclerosis)."""

    shape: Shape
    label: int
    only_over: frozenset[int] | None = None
    alt_label: int | None = None
    alt_threshold: float = 0.0
    alt_scale_mm: float = 2.0


@dataclass(frozen=True)
class Vertebra:
    """One vertebral body in baseline LPS mm: centre, half-width a (x), half-depth b (y), height."""

    level: str
    cx: float
    cy: float
    cz: float
    a: float
    b: float
    height: float

    @property
    def thoracic(self) -> bool:
        return self.level.startswith("T")

    def centre(self) -> tuple[float, float, float]:
        return (self.cx, self.cy, self.cz)


@dataclass
class Anatomy:
    """A subject's spine: vertebrae by level and the ordered parts to paint."""

    vertebrae: dict[str, Vertebra]
    parts: list[Part] = field(default_factory=list)
    z_thoracolumbar: float = 0.0


def _interp(level: str, thoracic: tuple[float, float], lumbar: tuple[float, float]) -> float:
    """A size that grows linearly from T1 to T12 and from L1 to L5 (S1 as L5)."""
    name = "L5" if level == "S1" else level
    n = int(name[1:])
    lo, hi = thoracic if name[0] == "T" else lumbar
    span = 11 if name[0] == "T" else 4
    return lo + (hi - lo) * (n - 1) / span


def build_vertebrae(centre_levels: list[str], scale: float) -> tuple[dict[str, Vertebra], float]:
    """Stack every level T1–S1 along z so the mean centre of ``centre_levels`` sits at z = 0 and
    y = 0; the spine curves gently (kyphosis in the thorax, lordosis in the lumbar spine).
    Returns the vertebrae and the z of the T12/L1 disc (where the chest ends)."""
    heights = {lv: scale * _interp(lv, (16.0, 23.0), (25.0, 27.5)) for lv in LEVELS}
    discs = {lv: scale * _interp(lv, (4.0, 6.0), (8.0, 11.0)) for lv in LEVELS}
    z = {LEVELS[-1]: 0.0}
    for above, below in zip(reversed(LEVELS[:-1]), reversed(LEVELS[1:]), strict=True):
        # walk upward from S1: half the body below, the disc under ``above``, half of ``above``
        z[above] = z[below] + heights[below] / 2 + discs[above] + heights[above] / 2
    z0 = sum(z[lv] for lv in centre_levels) / len(centre_levels)
    thoracic_centre = centre_levels[0].startswith("T")
    curvature = -0.0006 if thoracic_centre else 0.0008
    vertebrae = {}
    for lv in LEVELS:
        zz = z[lv] - z0
        vertebrae[lv] = Vertebra(
            level=lv, cx=0.0, cy=curvature * zz * zz, cz=zz,
            a=scale * _interp(lv, (13.0, 20.0), (21.0, 25.0)),
            b=scale * _interp(lv, (10.0, 15.0), (15.5, 17.0)),
            height=heights[lv],
        )
    t12, l1 = vertebrae["T12"], vertebrae["L1"]
    return vertebrae, (t12.cz - t12.height / 2 + l1.cz + l1.height / 2) / 2


def _disc_parts(lower: Vertebra, upper: Vertebra) -> list[Part]:
    # reach 1.5 mm into both bodies: the disc fills their concave endplates
    z0, z1 = lower.cz + lower.height / 2 - 1.5, upper.cz - upper.height / 2 + 1.5
    cx, cy = (lower.cx + upper.cx) / 2, (lower.cy + upper.cy) / 2
    a, b = (lower.a + upper.a) / 2 + 1.0, (lower.b + upper.b) / 2 + 1.0
    return [
        Part(EllipticCylinderZ(cx, cy, a, b, z0, z1, 2.5), ANNULUS),
        Part(EllipticCylinderZ(cx, cy - 1.0, a * 0.55, b * 0.5, z0 + 1.0, z1 - 1.0), NUCLEUS),
    ]


def body_shape(v: Vertebra) -> VertebralBody:
    """The outer surface of a vertebral body (waisted sides, concave endplates)."""
    return VertebralBody(v.cx, v.cy, v.cz, v.a, v.b, v.height)


def _bone(capsules: list[Capsule], cortex_mm: float = 1.2) -> list[Part]:
    """Capsules of bone: every cortical shell first, then every cancellous core, so capsules
    stacked into one element show no inner cortex (stack them closer than their core radius)."""
    cores = [Capsule(c.p0, c.p1, max(c.r - cortex_mm, 0.5)) for c in capsules]
    return [Part(c, CORTEX) for c in capsules] + [Part(c, CANCELLOUS) for c in cores]


def _stack(p0: tuple[float, float, float], p1: tuple[float, float, float], r: float,
           dzs: tuple[float, ...]) -> list[Capsule]:
    """Capsules p0–p1 repeated at z offsets ``dzs``: a plate taller than it is thick."""
    return [Capsule((p0[0], p0[1], p0[2] + dz), (p1[0], p1[1], p1[2] + dz), r) for dz in dzs]


def vertebra_parts(v: Vertebra) -> list[Part]:
    """Body (cortical shell, cancellous core), pedicles, laminae, spinous and transverse
    processes, articular pillars, and the spinal canal with cord/CSF, for one vertebra."""
    h2 = v.height / 2
    parts = [
        Part(body_shape(v), CORTEX),
        Part(VertebralBody(v.cx, v.cy, v.cz, v.a - 1.8, v.b - 1.8, v.height - 2.4), CANCELLOUS),
    ]
    lumbar = not v.thoracic
    rc_x, rc_y = (11.0, 8.5) if lumbar else (8.0, 7.5)
    canal_y = v.cy + v.b + rc_y + 0.5
    zp = v.cz + 0.1 * v.height  # posterior arch sits a little above mid-body
    ped_r = 4.5 if lumbar else 3.5
    spine_len = 32.0 if lumbar else 28.0
    tip_drop = 4.0 if lumbar else 14.0  # thoracic spinous processes slope steeply down
    tp_len = 24.0 if lumbar else 16.0
    lam_back = canal_y + rc_y + 3.0
    tall = (-6.0, -3.0, 0.0, 3.0, 6.0) if lumbar else (-4.0, -1.5, 1.5, 4.0)
    for side in (-1.0, 1.0):
        ped0 = (side * (rc_x + 1.5), v.cy + v.b - 4.0, zp)
        ped1 = (side * (rc_x + 3.0), canal_y + 2.0, zp)
        tp_tip = (side * (rc_x + 3.0 + tp_len), canal_y + 4.0, zp + 1.0)
        pillar = (side * (rc_x + 4.0), canal_y + 3.0)
        parts += _bone(_stack(ped0, ped1, ped_r, (-2.5, 0.0, 2.5)))
        parts += _bone(_stack(ped1, (0.0, lam_back, zp - 2.0), 3.0, tall))
        parts += _bone(_stack(ped1, tp_tip, 3.5 if lumbar else 3.0,
                              (-2.0, 2.0) if lumbar else (-1.5, 1.5)))
        parts += _bone([Capsule((*pillar, v.cz - h2 - 2.0), (*pillar, v.cz + h2 + 1.0), 4.0)])
    parts += _bone(_stack((0.0, lam_back, zp - 2.0), (0.0, lam_back + spine_len,
                                                       zp - 2.0 - tip_drop), 3.0, tall))
    canal_z = (v.cz - h2 - 8.0, v.cz + h2 + 8.0)
    parts.append(Part(EllipticCylinderZ(0.0, canal_y, rc_x, rc_y, *canal_z), CSF))
    if v.thoracic or v.level == "L1":
        parts.append(Part(EllipticCylinderZ(0.0, canal_y - 0.5, 4.5, 3.8, *canal_z), CORD))
    return parts


def rib_parts(v: Vertebra) -> list[Part]:
    """A pair of ribs leaving a thoracic vertebra: posterolateral, then curving forward and down."""
    rc_y = 7.5
    y0 = v.cy + v.b + rc_y + 4.0
    parts: list[Part] = []
    for side in (-1.0, 1.0):
        points = [(side * 26.0, y0, v.cz + 2.0), (side * 55.0, y0 + 6.0, v.cz - 3.0),
                  (side * 85.0, y0 - 12.0, v.cz - 9.0), (side * 108.0, y0 - 50.0, v.cz - 16.0),
                  (side * 115.0, y0 - 95.0, v.cz - 24.0)]
        for p0, p1 in itertools.pairwise(points):
            parts.append(Part(Capsule(p0, p1, 5.0), RIB))
    return parts


def pelvis_parts(s1: Vertebra, l5: Vertebra) -> list[Part]:
    """Sacral alae beside S1 and the iliac wings from below S1 up to the L4/L5 disc, each a
    cortical shell over cancellous bone."""
    z0, z1 = s1.cz - s1.height / 2 - 20.0, l5.cz + l5.height / 2 + 4.0
    plates: list[PlateZ] = []
    for side in (-1.0, 1.0):
        plates.append(PlateZ(side * (s1.a - 6.0), s1.cy + 4.0, side * 46.0, s1.cy + 14.0, 8.0,
                             s1.cz - s1.height / 2 + 1.0, s1.cz + s1.height / 2 - 1.0))
        wing = [(50.0, s1.cy + 22.0), (72.0, s1.cy + 8.0), (92.0, s1.cy - 22.0),
                (100.0, s1.cy - 55.0)]
        for (xa, ya), (xb, yb) in itertools.pairwise(wing):
            plates.append(PlateZ(side * xa, ya, side * xb, yb, 5.0, z0, z1))
    cores = [PlateZ(p.x0, p.y0, p.x1, p.y1, p.r - 1.5, p.z0 + 1.5, p.z1 - 1.5) for p in plates]
    return [Part(p, CORTEX) for p in plates] + [Part(c, CANCELLOUS) for c in cores]


def soft_tissue_parts(z_tl: float, fat_mm: float, zmin: float, zmax: float) -> list[Part]:
    """Skin, subcutaneous fat, body contents; lungs, mediastinum and aorta above the T12/L1
    disc (``z_tl``); abdomen with fat, kidneys, psoas, aorta and vena cava below; erector spinae
    along the whole spine. Muscles and organs only replace body contents, never the fat layer."""
    parts: list[Part] = []
    chest = (max(z_tl, zmin), zmax)
    belly = (zmin, min(z_tl, zmax))
    for (z0, z1), a, b, cy in ((belly, 170.0, 128.0, -38.0), (chest, 160.0, 122.0, -34.0)):
        if z1 <= z0:
            continue
        parts.append(Part(EllipticCylinderZ(0.0, cy, a, b, z0, z1), SKIN))
        parts.append(Part(EllipticCylinderZ(0.0, cy, a - 2.0, b - 2.0, z0, z1), FAT))
        inner = EllipticCylinderZ(0.0, cy, a - 2.0 - fat_mm, b - 2.0 - fat_mm, z0, z1)
        # bowel and mesentery: soft tissue with patches of fat
        if z1 <= z_tl:
            parts.append(Part(inner, SOFT, None, FAT, 0.8, 9.0))
        else:
            parts.append(Part(inner, SOFT))
    soft = frozenset({SOFT, FAT})
    if chest[1] > chest[0]:
        for side in (-1.0, 1.0):
            parts.append(Part(EllipticCylinderZ(side * 72.0, -28.0, 58.0, 80.0, *chest), LUNG,
                              soft))
        parts.append(Part(EllipticCylinderZ(0.0, -105.0, 48.0, 62.0, *chest), SOFT))
        parts.append(Part(EllipticCylinderZ(24.0, -24.0, 12.5, 12.5, *chest), BLOOD))
    if belly[1] > belly[0]:
        parts.append(Part(EllipticCylinderZ(0.0, 5.0, 75.0, 45.0, *belly), FAT, soft))
        for side in (-1.0, 1.0):
            parts.append(Part(EllipticCylinderZ(side * 72.0, 18.0, 26.0, 38.0,
                                                max(belly[0], z_tl - 130.0), belly[1]), SOFT))
            parts.append(Part(EllipticCylinderZ(side * 38.0, 4.0, 14.0, 16.0, *belly), MUSCLE))
        parts.append(Part(EllipticCylinderZ(14.0, -34.0, 11.0, 11.0, *belly), BLOOD))
        parts.append(Part(EllipticCylinderZ(-22.0, -32.0, 14.0, 9.0, *belly), BLOOD))
    for side in (-1.0, 1.0):
        # erector spinae and multifidus: the two sides meet behind the spinous processes
        parts.append(Part(EllipticCylinderZ(side * 27.0, 52.0, 29.0, 22.0, zmin, zmax), MUSCLE,
                          soft | {LUNG}))
    return parts


def build_anatomy(centre_levels: list[str], scale: float, fat_mm: float,
                  zmin: float = -160.0, zmax: float = 160.0) -> Anatomy:
    """The whole phantom between baseline z = zmin and zmax (mm) around ``centre_levels``."""
    vertebrae, z_tl = build_vertebrae(centre_levels, scale)
    anatomy = Anatomy(vertebrae=vertebrae, z_thoracolumbar=z_tl)
    anatomy.parts += soft_tissue_parts(z_tl, fat_mm, zmin, zmax)
    near = [v for v in vertebrae.values() if zmin - 40 < v.cz < zmax + 40]
    for v in near:
        if v.thoracic:
            anatomy.parts += rib_parts(v)
    for lower, upper in zip(near[1:], near[:-1], strict=True):
        anatomy.parts += _disc_parts(lower, upper)
    for v in near:
        anatomy.parts += vertebra_parts(v)
    s1, l5 = vertebrae["S1"], vertebrae["L5"]
    if s1.cz + 60.0 > zmin:  # the pelvis reaches the field of view
        anatomy.parts += pelvis_parts(s1, l5)
    return anatomy
