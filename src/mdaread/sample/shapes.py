"""Analytic solids in baseline patient coordinates (LPS mm) used to build the spine phantom.

Every shape answers two questions: its axis-aligned bounding box (so the renderer only evaluates it
where it can be) and which of a set of points lie inside it. Points are given as three arrays of
the same shape (x, y, z in LPS mm: +x patient left, +y posterior, +z superior).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]
BoolArray = npt.NDArray[np.bool_]
Bounds = tuple[tuple[float, float, float], tuple[float, float, float]]


class Shape:
    """Base class: a solid region of baseline LPS space."""

    def bounds(self) -> Bounds:
        """((xmin, ymin, zmin), (xmax, ymax, zmax)) in LPS mm."""
        raise NotImplementedError

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        """True where the point (x, y, z) in LPS mm is inside the solid."""
        raise NotImplementedError


@dataclass(frozen=True)
class EllipticCylinderZ(Shape):
    """A (super-)elliptic cylinder along z: |dx/a|^p + |dy/b|^p ≤ 1 for z0 ≤ z ≤ z1 (mm).

    p = 2 is an ellipse; p ≈ 2.5-3 gives the squarer outline of a vertebral body.
    """

    cx: float
    cy: float
    a: float
    b: float
    z0: float
    z1: float
    power: float = 2.0

    def bounds(self) -> Bounds:
        return ((self.cx - self.a, self.cy - self.b, self.z0),
                (self.cx + self.a, self.cy + self.b, self.z1))

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        if self.power == 2.0:
            r = ((x - self.cx) / self.a) ** 2 + ((y - self.cy) / self.b) ** 2
        else:
            r = (np.abs((x - self.cx) / self.a) ** self.power
                 + np.abs((y - self.cy) / self.b) ** self.power)
        inside: BoolArray = (r <= 1.0) & (z >= self.z0) & (z <= self.z1)
        return inside


@dataclass(frozen=True)
class Ellipsoid(Shape):
    """An ellipsoid centred at (cx, cy, cz) mm with semi-axes (rx, ry, rz) mm.

    The x/y semi-axes are turned by ``theta`` radians about +z (the axial plane of the baseline
    frame), so the ellipsoid's axial diameters are exactly 2·rx and 2·ry.
    """

    cx: float
    cy: float
    cz: float
    rx: float
    ry: float
    rz: float
    theta: float = 0.0

    def bounds(self) -> Bounds:
        c, s = abs(np.cos(self.theta)), abs(np.sin(self.theta))
        hx = float(np.hypot(self.rx * c, self.ry * s))
        hy = float(np.hypot(self.rx * s, self.ry * c))
        return ((self.cx - hx, self.cy - hy, self.cz - self.rz),
                (self.cx + hx, self.cy + hy, self.cz + self.rz))

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        dx, dy = x - self.cx, y - self.cy
        c, s = np.cos(self.theta), np.sin(self.theta)
        u = (dx * c + dy * s) / self.rx
        v = (-dx * s + dy * c) / self.ry
        w = (z - self.cz) / self.rz
        inside: BoolArray = u * u + v * v + w * w <= 1.0
        return inside


@dataclass(frozen=True)
class Capsule(Shape):
    """All points within ``r`` mm of the segment p0–p1 (LPS mm): pedicles, processes, ribs."""

    p0: tuple[float, float, float]
    p1: tuple[float, float, float]
    r: float

    def bounds(self) -> Bounds:
        lo = tuple(min(a, b) - self.r for a, b in zip(self.p0, self.p1, strict=True))
        hi = tuple(max(a, b) + self.r for a, b in zip(self.p0, self.p1, strict=True))
        return ((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        ax, ay, az = self.p0
        dx, dy, dz = (self.p1[0] - ax, self.p1[1] - ay, self.p1[2] - az)
        length2 = dx * dx + dy * dy + dz * dz
        px, py, pz = x - ax, y - ay, z - az
        # in place: this test runs on most slices for every pedicle, lamina, process and rib
        t = px * dx
        t += py * dy
        t += pz * dz
        t /= length2
        np.minimum(np.maximum(t, 0.0, out=t), 1.0, out=t)
        px -= t * dx
        py -= t * dy
        pz -= t * dz
        px *= px
        px += py * py
        px += pz * pz
        inside: BoolArray = px <= self.r * self.r
        return inside


@dataclass(frozen=True)
class VertebralBody(Shape):
    """A vertebral body: a super-elliptic cylinder along z (centre cx, cy, cz; half-width a,
    half-depth b, height h, mm) whose sides are waisted (``waist``: fraction narrower at
    mid-height) and whose endplates are concave (``dish`` mm deeper at the centre than at the
    rim), as on a sagittal or coronal view of a real spine."""

    cx: float
    cy: float
    cz: float
    a: float
    b: float
    h: float
    power: float = 2.6
    waist: float = 0.06
    dish: float = 1.5

    def bounds(self) -> Bounds:
        h2 = self.h / 2
        return ((self.cx - self.a, self.cy - self.b, self.cz - h2),
                (self.cx + self.a, self.cy + self.b, self.cz + h2))

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        h2 = self.h / 2
        t = (z - self.cz) / h2
        scale = 1.0 - self.waist * (1.0 - np.minimum(t * t, 1.0))
        q = (np.abs((x - self.cx) / (self.a * scale)) ** self.power
             + np.abs((y - self.cy) / (self.b * scale)) ** self.power)
        limit = h2 - self.dish * (1.0 - np.minimum(q, 1.0))
        inside: BoolArray = (q <= 1.0) & (np.abs(z - self.cz) <= limit)
        return inside


@dataclass(frozen=True)
class PlateZ(Shape):
    """A vertical plate: points within ``r`` mm (in the axial plane) of the segment
    (x0, y0)–(x1, y1), for z0 ≤ z ≤ z1 (LPS mm). Flat bones such as the iliac wings."""

    x0: float
    y0: float
    x1: float
    y1: float
    r: float
    z0: float
    z1: float

    def bounds(self) -> Bounds:
        return ((min(self.x0, self.x1) - self.r, min(self.y0, self.y1) - self.r, self.z0),
                (max(self.x0, self.x1) + self.r, max(self.y0, self.y1) + self.r, self.z1))

    def contains(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        dx, dy = self.x1 - self.x0, self.y1 - self.y0
        px, py = x - self.x0, y - self.y0
        t = np.clip((px * dx + py * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        ex, ey = px - t * dx, py - t * dy
        inside: BoolArray = (ex * ex + ey * ey <= self.r * self.r) & (z >= self.z0) & (z <= self.z1)
        return inside
