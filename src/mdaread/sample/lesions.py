"""Lesions and cement as paintable parts, placed in the baseline anatomy (LPS mm).

Lesions are ellipsoids whose axial diameters are exactly the scripted ``long_mm`` × ``perp_mm``
(long axis turned ``theta`` in the axial plane); their cranio-caudal extent is the perpendicular
diameter, limited to the vertebral body's height. Lesions only replace bone of their vertebra.
PMMA cement (present from the first follow-up) is a bolus in each treated body plus a unipedicular
needle track; the bolus is placed where it stays clear of every lesion of that body at its largest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mdaread.sample import anatomy as an
from mdaread.sample.anatomy import Anatomy, Part, Vertebra
from mdaread.sample.scenarios import Lesion, NewLesion, Scenario, State
from mdaread.sample.shapes import Capsule, Ellipsoid

RIM_MM = 2.0  # thickness of a sclerotic rim
BONE_OR_LESION = an.BONE | {an.LYTIC, an.BLASTIC, an.RIM, an.SCLEROTIC}


def lesion_centre(v: Vertebra, offset: tuple[float, float, float]) -> tuple[float, float, float]:
    """Baseline LPS mm centre of a lesion placed at ``offset`` from its body's centre."""
    return (v.cx + offset[0], v.cy + offset[1], v.cz + offset[2])


def lesion_ellipsoid(v: Vertebra, offset: tuple[float, float, float], long_mm: float,
                     perp_mm: float, theta_deg: float) -> Ellipsoid:
    """The lesion solid: axial semi-axes long/2 and perp/2, cranio-caudal semi-axis perp/2 but
    at most 2.5 mm short of the body's half height."""
    cx, cy, cz = lesion_centre(v, offset)
    rz = min(perp_mm / 2, v.height / 2 - 2.5)
    return Ellipsoid(cx, cy, cz, long_mm / 2, perp_mm / 2, rz, math.radians(theta_deg))


def _look_parts(solid: Ellipsoid, look: str) -> list[Part]:
    """Paint one lesion in its rendered look (see scenarios.LOOKS)."""
    inner = Ellipsoid(solid.cx, solid.cy, solid.cz, max(solid.rx - RIM_MM, 0.5),
                      max(solid.ry - RIM_MM, 0.5), max(solid.rz - RIM_MM, 0.5), solid.theta)
    if look == "lytic":
        return [Part(solid, an.LYTIC, an.BONE)]
    if look == "lytic_rim":
        return [Part(solid, an.RIM, an.BONE), Part(inner, an.LYTIC, frozenset({an.RIM}))]
    if look == "partial_fill":
        return [Part(solid, an.RIM, an.BONE),
                Part(inner, an.LYTIC, frozenset({an.RIM}), an.SCLEROTIC, 0.2)]
    if look == "filled":
        return [Part(solid, an.SCLEROTIC, an.BONE)]
    if look == "blastic":
        return [Part(solid, an.BLASTIC, an.BONE)]
    if look == "mixed":
        return [Part(solid, an.LYTIC, an.BONE, an.BLASTIC, 0.3)]
    if look == "gone":
        return []
    raise ValueError(f"unknown lesion look {look!r}")


def lesion_parts(anatomy: Anatomy, scenario: Scenario, t: int) -> list[Part]:
    """Every baseline and new lesion of ``scenario`` as it looks at timepoint ``t`` (0-4)."""
    parts: list[Part] = []
    for lesion in scenario.lesions:
        state = lesion.states[t]
        if state.long_mm > 0:
            v = anatomy.vertebrae[lesion.level]
            solid = lesion_ellipsoid(v, lesion.offset, state.long_mm, state.perp_mm,
                                     lesion.theta_deg)
            parts += _look_parts(solid, state.look)
    for new in scenario.new_lesions:
        seen = new.states[t]
        if seen is not None:
            v = anatomy.vertebrae[new.level]
            solid = lesion_ellipsoid(v, new.offset, seen[1], seen[2], 0.0)
            look = "blastic" if new.phenotype == "sclerotic" else "lytic"
            parts += _look_parts(solid, look)
    return parts


@dataclass(frozen=True)
class Cement:
    """A PMMA bolus in one treated body: centre and semi-axes (baseline LPS mm), and the side
    (−1 right, +1 left) of the pedicle its needle went through."""

    level: str
    centre: tuple[float, float, float]
    radii: tuple[float, float, float]
    side: float

    def parts(self, v: Vertebra) -> list[Part]:
        bolus = Ellipsoid(*self.centre, *self.radii)
        # through the pedicle (pedicles sit 12-14 mm off the midline) to the back of the arch
        entry = (self.side * (11.0 if v.thoracic else 14.0), v.cy + v.b + 14.0,
                 v.cz + 0.1 * v.height)
        track = Capsule(self.centre, entry, 1.5)
        return [Part(track, an.CEMENT, frozenset(BONE_OR_LESION)), Part(bolus, an.CEMENT)]


def _largest(lesion: Lesion) -> State:
    return max(lesion.states, key=lambda s: s.long_mm * s.perp_mm)


def _clearance(centre: np.ndarray, radii: np.ndarray, solids: list[Ellipsoid]) -> float:
    """Smallest normalised radius (>1 = outside) of the bolus surface in any lesion solid."""
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    ring = [(np.cos(a) * s, np.sin(a) * s, c) for a in angles for s, c in
            ((1.0, 0.0), (0.7, 0.7), (0.7, -0.7))]
    pts = centre + np.array(ring) * radii
    best = np.inf
    for e in solids:
        dx, dy = pts[:, 0] - e.cx, pts[:, 1] - e.cy
        c, s = math.cos(e.theta), math.sin(e.theta)
        u = (dx * c + dy * s) / e.rx
        w = (-dx * s + dy * c) / e.ry
        z = (pts[:, 2] - e.cz) / e.rz
        best = min(best, float(np.sqrt(u * u + w * w + z * z).min()))
    return best


def _best_position(v: Vertebra, radii: np.ndarray,
                   solids: list[Ellipsoid]) -> tuple[float, np.ndarray]:
    """The candidate bolus centre (front half of the body) farthest from the lesions."""
    best: tuple[float, np.ndarray] | None = None
    for fx in (-0.5, -0.35, -0.2, 0.2, 0.35, 0.5):
        for fy in (-0.45, -0.3, -0.15, 0.0):
            centre = np.array([v.cx + fx * v.a, v.cy + fy * v.b, v.cz])
            score = _clearance(centre, radii, solids) if solids else 10.0 - abs(fx)
            if best is None or score > best[0] + 1e-9:
                best = (score, centre)
    assert best is not None
    return best


def place_cement(anatomy: Anatomy, scenario: Scenario) -> list[Cement]:
    """One bolus per treated level, in the front half of the body, clear of that body's lesions
    at their largest (the candidate position with the most clearance wins)."""
    boluses = []
    for level in scenario.treated_levels:
        v = anatomy.vertebrae[level]
        solids = [lesion_ellipsoid(v, les.offset, _largest(les).long_mm, _largest(les).perp_mm,
                                   les.theta_deg)
                  for les in scenario.lesions if les.level == level]
        solids += [lesion_ellipsoid(v, n.offset, max(s[1] for s in n.states if s),
                                    max(s[2] for s in n.states if s), 0.0)
                   for n in scenario.new_lesions if n.level == level]
        radii = np.array([0.26 * v.a, 0.28 * v.b, min(0.32 * v.height, 8.0)])
        while True:
            score, centre = _best_position(v, radii, solids)
            # a large lesion leaves little room: a smaller bolus rather than cement in it
            if score >= 1.1 or radii[0] < 0.12 * v.a:
                break
            radii = radii * 0.9
        side = 1.0 if centre[0] >= v.cx else -1.0
        boluses.append(Cement(level, (float(centre[0]), float(centre[1]), float(centre[2])),
                              (float(radii[0]), float(radii[1]), float(radii[2])), side))
    return boluses


def new_lesion_centre(anatomy: Anatomy, new: NewLesion) -> tuple[float, float, float]:
    """Baseline LPS mm centre of a new lesion."""
    return lesion_centre(anatomy.vertebrae[new.level], new.offset)
