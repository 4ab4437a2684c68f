"""Caliper maths in patient millimetres: rulers and bidimensional calipers on one slice.

Every point is LPS mm. A slice is drawn with pixels of (du, dv) mm and, for an oblique
acquisition, its screen axes are oblique in the patient; measuring in LPS (never in screen
pixels) makes the millimetres right for anisotropic pixels and oblique planes alike. The
perpendicular diameter is perpendicular *in the patient*, within the slice plane, whose normal is
``plane_normal(geometry)`` (the cross product of the screen axes in LPS — not the slice stepping
direction, which a gantry tilt shears).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from mdaread.geometry.mpr import SliceGeometry

Point = tuple[float, float, float]
DEFAULT_PERP_FRACTION = 0.5
"""A new caliper's perpendicular starts at this fraction of the long axis, centred on it."""


def as_point(p: npt.ArrayLike) -> Point:
    """An LPS point as a plain tuple of three floats (what is stored)."""
    a = np.asarray(p, dtype=np.float64).reshape(3)
    return (float(a[0]), float(a[1]), float(a[2]))


def distance_mm(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Euclidean distance between two LPS points, in mm."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def plane_normal(geometry: SliceGeometry) -> Point:
    """Unit normal (LPS) of the plane a view shows: screen x × screen y, in the patient."""
    m = geometry.display_to_world[:3, :3]
    n = np.cross(m[:, 0], m[:, 1])
    return as_point(n / np.linalg.norm(n))


def _unit(v: npt.ArrayLike) -> np.ndarray | None:
    v = np.asarray(v, dtype=np.float64)
    norm = float(np.linalg.norm(v))
    return None if norm < 1e-9 else v / norm


def on_plane(point: npt.ArrayLike, origin: npt.ArrayLike, normal: npt.ArrayLike) -> Point:
    """``point`` projected onto the plane through ``origin`` with unit ``normal``."""
    p, o, n = (np.asarray(x, dtype=np.float64) for x in (point, origin, normal))
    return as_point(p - np.dot(p - o, n) * n)


@dataclass(frozen=True)
class Ruler:
    """A straight distance between two LPS points."""

    a: Point
    b: Point

    @property
    def length_mm(self) -> float:
        return distance_mm(self.a, self.b)

    @property
    def points(self) -> tuple[Point, ...]:
        return (self.a, self.b)

    def with_point(self, index: int, point: npt.ArrayLike) -> Ruler:
        """The ruler with end ``index`` (0 or 1) moved to ``point``."""
        return replace(self, **{"ab"[index]: as_point(point)})


@dataclass(frozen=True)
class Caliper:
    """A bidimensional caliper: a long axis ``a``–``b`` and a perpendicular crossing it.

    The perpendicular crosses the long axis at fraction ``cross`` (0 at ``a``, 1 at ``b``) and
    reaches ``perp_minus`` / ``perp_plus`` mm on either side, along ``normal × (b − a)``; so when
    the long axis moves, the perpendicular follows and stays perpendicular. ``normal`` is the
    unit normal of the slice plane (LPS).
    """

    a: Point
    b: Point
    normal: Point
    cross: float = 0.5
    perp_minus: float = 0.0
    perp_plus: float = 0.0

    @classmethod
    def start(cls, a: npt.ArrayLike, normal: npt.ArrayLike) -> Caliper:
        """A caliper being drawn: its long axis starts and ends at ``a``."""
        return cls(as_point(a), as_point(a), as_point(normal))

    def drawing_to(self, b: npt.ArrayLike) -> Caliper:
        """While the long axis is drawn: end at ``b``; the perpendicular keeps its default
        length (``DEFAULT_PERP_FRACTION`` of the long axis) centred on it."""
        b = on_plane(b, self.a, self.normal)
        half = 0.5 * DEFAULT_PERP_FRACTION * distance_mm(self.a, b)
        return replace(self, b=b, cross=0.5, perp_minus=half, perp_plus=half)

    @property
    def perp_direction(self) -> Point | None:
        """Unit LPS direction of the perpendicular (None while the long axis has no length)."""
        u = _unit(np.subtract(self.b, self.a))
        if u is None:
            return None
        return as_point(np.cross(self.normal, u))

    @property
    def perp_points(self) -> tuple[Point, Point]:
        """The perpendicular's end points (minus side, plus side), LPS mm."""
        centre = np.add(self.a, self.cross * np.subtract(self.b, self.a))
        d = self.perp_direction
        if d is None:
            return as_point(centre), as_point(centre)
        return (as_point(centre - self.perp_minus * np.asarray(d)),
                as_point(centre + self.perp_plus * np.asarray(d)))

    @property
    def points(self) -> tuple[Point, ...]:
        """Handles in order: long a, long b, perpendicular minus, perpendicular plus."""
        return (self.a, self.b, *self.perp_points)

    @property
    def axis_mm(self) -> float:
        return distance_mm(self.a, self.b)

    @property
    def perp_mm(self) -> float:
        return self.perp_minus + self.perp_plus

    def diameters(self) -> tuple[float, float]:
        """(long, perpendicular) in mm: the longer of the two lines is the long diameter."""
        return max(self.axis_mm, self.perp_mm), min(self.axis_mm, self.perp_mm)

    def endpoints(self) -> tuple[Point, Point, Point, Point]:
        """The four end points, the long diameter's first (what is stored), LPS mm."""
        p, q = self.perp_points
        if self.perp_mm > self.axis_mm:
            return p, q, self.a, self.b
        return self.a, self.b, p, q

    def with_point(self, index: int, point: npt.ArrayLike) -> Caliper:
        """The caliper with handle ``index`` (see ``points``) dragged to ``point``.

        Long-axis handles move that end (the perpendicular follows: same crossing fraction and
        lengths); a perpendicular handle slides the crossing along the long axis and sets that
        side's length, so the perpendicular stays perpendicular.
        """
        point = on_plane(point, self.a, self.normal)
        if index == 0:
            return replace(self, a=point) if distance_mm(point, self.b) > 1e-6 else self
        if index == 1:
            return replace(self, b=point) if distance_mm(point, self.a) > 1e-6 else self
        d = self.perp_direction
        if d is None:
            return self
        axis = np.subtract(self.b, self.a)
        rel = np.subtract(point, self.a)
        cross = float(np.clip(np.dot(rel, axis) / np.dot(axis, axis), 0.0, 1.0))
        side = float(np.dot(rel, d))
        if index == 2:
            return replace(self, cross=cross, perp_minus=max(0.0, -side))
        return replace(self, cross=cross, perp_plus=max(0.0, side))


def caliper_from_endpoints(endpoints: npt.ArrayLike,
                           normal: npt.ArrayLike | None = None) -> Caliper:
    """A caliper from four stored end points (long a, long b, perp a, perp b; LPS mm).

    The perpendicular is re-expressed relative to the long axis (crossing fraction and the two
    lengths), so a stored pair that is not exactly perpendicular is drawn at its closest
    perpendicular. Without ``normal`` the plane is the one the two diameters span.
    """
    pts = np.asarray(endpoints, dtype=np.float64).reshape(4, 3)
    a, b, p, q = pts
    if normal is None:
        normal = _spanned_normal(b - a, q - p)
    cal = Caliper(as_point(a), as_point(b), as_point(normal))
    return cal.with_point(2, p).with_point(3, q)


def _spanned_normal(axis: np.ndarray, perp: np.ndarray) -> np.ndarray:
    """Unit normal of the plane two diameters span; for collinear ones, any plane holding
    ``axis``."""
    n = _unit(np.cross(axis, perp))
    if n is not None:
        return n
    u = _unit(axis)
    if u is None:
        u = np.array([1.0, 0.0, 0.0])
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    n = _unit(np.cross(u, helper))
    assert n is not None  # helper is never parallel to u
    return n
