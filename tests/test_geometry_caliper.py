"""Caliper maths in patient mm: anisotropic pixels and oblique planes measure what the patient
measures, and the perpendicular stays perpendicular (in LPS) while the long axis moves."""

from __future__ import annotations

import numpy as np
import pytest

from mdaread.geometry import Mpr
from mdaread.geometry.caliper import (
    Caliper,
    Ruler,
    caliper_from_endpoints,
    distance_mm,
    plane_normal,
)
from mdaread.model import Volume


def _volume(direction: np.ndarray, spacing=(0.5, 1.5, 3.0), shape=(6, 20, 30)) -> Volume:
    affine = np.eye(4)
    affine[:3, :3] = np.asarray(direction, dtype=float) * np.asarray(spacing)
    affine[:3, 3] = (-10.0, 4.0, 100.0)
    return Volume(np.zeros(shape, dtype=np.int16), affine, modality="CT")


def _rotation(axis: int, deg: float) -> np.ndarray:
    t = np.radians(deg)
    c, s = np.cos(t), np.sin(t)
    i, j = [k for k in range(3) if k != axis]
    m = np.eye(3)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


DIRECTIONS = {"axial": np.eye(3), "oblique": _rotation(0, 20.0) @ _rotation(2, 25.0)}


@pytest.mark.parametrize("name", sorted(DIRECTIONS))
@pytest.mark.parametrize("plane", ["axial", "sagittal", "coronal"])
def test_pixel_steps_measure_their_spacing(name: str, plane: str) -> None:
    """Ten columns and ten rows on screen are 10 × du and 10 × dv mm in the patient."""
    g = Mpr(_volume(DIRECTIONS[name])).geometry(plane)
    du, dv = g.pixel_mm
    origin = g.to_world(2, 3, 1)
    ruler_x = Ruler(tuple(origin), tuple(g.to_world(12, 3, 1)))
    ruler_y = Ruler(tuple(origin), tuple(g.to_world(2, 13, 1)))
    assert ruler_x.length_mm == pytest.approx(10 * du)
    assert ruler_y.length_mm == pytest.approx(10 * dv)
    assert du != dv or plane == "axial"  # the fixture is anisotropic off-axial


@pytest.mark.parametrize("name", sorted(DIRECTIONS))
def test_caliper_perpendicular_in_patient_and_on_slice(name: str) -> None:
    g = Mpr(_volume(DIRECTIONS[name])).geometry("coronal")
    normal = np.asarray(plane_normal(g))
    a, b = g.to_world(3, 2, 2), g.to_world(20, 5, 2)
    cal = Caliper.start(a, normal).drawing_to(b)
    p, q = cal.perp_points
    assert np.dot(np.subtract(q, p), np.subtract(b, a)) == pytest.approx(0.0, abs=1e-9)
    for point in cal.points:  # every handle stays on the shown slice
        assert g.to_display(point)[2] == pytest.approx(2.0, abs=1e-9)
    assert cal.axis_mm == pytest.approx(distance_mm(a, b))
    assert cal.perp_mm == pytest.approx(0.5 * distance_mm(a, b))


def test_moving_the_long_axis_keeps_the_perpendicular() -> None:
    cal = Caliper.start((0, 0, 0), (0, 0, 1)).drawing_to((20, 0, 0))
    cal = cal.with_point(3, (5, 7, 0))          # plus side to 7 mm, crossing at 1/4
    assert cal.perp_plus == pytest.approx(7.0) and cal.cross == pytest.approx(0.25)
    turned = cal.with_point(1, (0, 20, 0))      # long axis turned by 90°
    p, q = turned.perp_points
    assert np.dot(np.subtract(q, p), (0, 20, 0)) == pytest.approx(0.0, abs=1e-9)
    assert turned.perp_mm == pytest.approx(cal.perp_mm)
    assert np.dot(p, (0, 1, 0)) == pytest.approx(5.0)  # still crosses at a quarter


def test_handle_off_the_plane_is_projected_back() -> None:
    cal = Caliper.start((0, 0, 5), (0, 0, 1)).drawing_to((10, 0, 9))
    assert cal.b == pytest.approx((10.0, 0.0, 5.0))
    assert cal.axis_mm == pytest.approx(10.0)


def test_longer_perpendicular_becomes_the_long_diameter() -> None:
    cal = Caliper.start((0, 0, 0), (0, 0, 1)).drawing_to((10, 0, 0))
    cal = cal.with_point(2, (5, -8, 0)).with_point(3, (5, 8, 0))
    assert cal.diameters() == pytest.approx((16.0, 10.0))
    ends = cal.endpoints()
    assert distance_mm(ends[0], ends[1]) == pytest.approx(16.0)


def test_caliper_round_trips_through_its_endpoints() -> None:
    g = Mpr(_volume(DIRECTIONS["oblique"])).geometry("axial")
    normal = plane_normal(g)
    cal = Caliper.start(g.to_world(1, 1, 0), normal).drawing_to(g.to_world(25, 14, 0))
    cal = cal.with_point(2, g.to_world(9, 12, 0))
    again = caliper_from_endpoints(cal.endpoints())
    assert again.diameters() == pytest.approx(cal.diameters())
    assert np.allclose(np.asarray(again.points), np.asarray(cal.points), atol=1e-9)
