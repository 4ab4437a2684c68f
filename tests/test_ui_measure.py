"""Calipers and rulers driven with real mouse events on the views' viewports (pytest-qt,
offscreen): the millimetres are patient mm on anisotropic pixels, the perpendicular follows
the long axis, handles edit, Esc cancels, and a measurement is drawn on its slice only."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt

from mdaread.model import Volume
from mdaread.ui.main_window import MainWindow
from mdaread.ui.measure_tools import Caliper
from mdaread.workflow.worklist import InMemorySource

SPACING = (0.6, 0.9, 2.0)  # anisotropic in-plane pixels: columns 0.6 mm, rows 0.9 mm


def _volume(uid: str) -> Volume:
    array = np.full((20, 80, 100), 200, dtype=np.int16)
    affine = np.diag([*SPACING, 1.0])
    affine[:3, 3] = (-30.0, -36.0, -20.0)
    return Volume(array, affine, modality="CT", series_uid=uid, description=uid)


@pytest.fixture
def window(qtbot):
    src = InMemorySource("measure test")
    src.add("MDA-001", "baseline", [_volume("base")], days=0)
    src.add("MDA-001", "3m", [_volume("follow")], days=90)
    w = MainWindow(src)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.open_case("MDA-001", "3m")
    qtbot.waitUntil(lambda: not w.is_loading, timeout=10_000)
    yield w
    w.close()


def _pixel(w: MainWindow, side: str, plane: str, world) -> QPoint:
    """Viewport pixel of an LPS point on the view."""
    view = w.panels[side].views[plane]
    return view.graphics.mapFromScene(view.world_to_scene(np.asarray(world, dtype=float)))


def _drag(qtbot, w: MainWindow, side: str, plane: str, start, end) -> None:
    viewport = w.panels[side].views[plane].graphics.viewport()
    a, b = _pixel(w, side, plane, start), _pixel(w, side, plane, end)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    for t in np.linspace(0.25, 1.0, 4):
        qtbot.mouseMove(viewport, QPoint(round(a.x() + t * (b.x() - a.x())),
                                         round(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)


def _mm_per_screen_pixel(w: MainWindow, side: str, plane: str) -> float:
    view = w.panels[side].views[plane]
    return view.view_box.viewRect().width() / view.view_box.width()


def test_caliper_drawn_with_the_mouse_measures_patient_mm(qtbot, window) -> None:
    w = window
    cursor = w.session.sides["followup"].cursor
    z = float(cursor[2])
    start, end = (-20.0, -20.0, z), (4.0, -2.0, z)          # 30 mm oblique on screen
    qtbot.keyClick(w.panels["followup"].views["axial"], Qt.Key.Key_B)
    assert w.measure_tools.tool == "caliper"
    _drag(qtbot, w, "followup", "axial", start, end)
    drawn = w.measure_tools.drawn["followup"]
    assert len(drawn) == 1 and isinstance(drawn[0].shape, Caliper)
    tolerance = 1.5 * _mm_per_screen_pixel(w, "followup", "axial")
    cal = drawn[0].shape
    assert cal.axis_mm == pytest.approx(30.0, abs=tolerance)
    assert cal.perp_mm == pytest.approx(15.0, abs=tolerance)   # follows, half as long
    assert drawn[0].series_uid == "follow"

    # drag the perpendicular's plus handle 4 mm further out: it stays perpendicular
    p_plus = np.asarray(cal.perp_points[1])
    direction = np.asarray(cal.perp_direction)
    _drag(qtbot, w, "followup", "axial", p_plus, p_plus + 4.0 * direction)
    cal = w.measure_tools.drawn["followup"][0].shape
    assert cal.perp_mm == pytest.approx(19.0, abs=2 * tolerance)
    p, q = cal.perp_points
    assert abs(np.dot(np.subtract(q, p), np.subtract(cal.b, cal.a))) < 1e-6
    assert cal.axis_mm == pytest.approx(30.0, abs=tolerance)  # the long axis did not move


def test_measurement_is_drawn_on_its_slice_only(qtbot, window) -> None:
    w = window
    z = float(w.session.sides["followup"].cursor[2])
    w.measure_tools.arm("ruler")
    _drag(qtbot, w, "followup", "axial", (-20.0, -20.0, z), (-20.0, 7.0, z))
    ruler = w.measure_tools.drawn["followup"][0].shape
    assert ruler.length_mm == pytest.approx(27.0, abs=1.5 * _mm_per_screen_pixel(
        w, "followup", "axial"))
    items = w.measure_tools._items
    axial = w.panels["followup"].views["axial"]
    assert items[id(axial)].items, "drawn on the slice it was measured on"
    assert not items[id(w.panels["baseline"].views["axial"])].items, "not on the other side"
    assert not items[id(w.panels["followup"].views["sagittal"])].items, "not across planes"
    w.session.set_linked(False)
    axial.scroll_slices(1)
    assert not items[id(axial)].items, "gone from the next slice"
    axial.scroll_slices(-1)
    assert items[id(axial)].items


def test_esc_cancels_a_drawing_then_disarms(qtbot, window) -> None:
    w = window
    z = float(w.session.sides["followup"].cursor[2])
    w.measure_tools.arm("caliper")
    viewport = w.panels["followup"].views["axial"].graphics.viewport()
    a = _pixel(w, "followup", "axial", (-20.0, -20.0, z))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(viewport, a + QPoint(60, 10))
    assert len(w.measure_tools.drawn["followup"]) == 1
    qtbot.keyClick(w.panels["followup"].views["axial"], Qt.Key.Key_Escape)
    assert w.measure_tools.drawn["followup"] == []
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=a + QPoint(60, 10))
    assert w.measure_tools.drawn["followup"] == []
    assert w.measure_tools.tool == "caliper"
    qtbot.keyClick(w.panels["followup"].views["axial"], Qt.Key.Key_Escape)
    assert w.measure_tools.tool is None
    assert not w.tool_buttons["caliper"].isChecked()


def test_tool_key_types_into_a_text_box_instead_of_arming(qtbot, window) -> None:
    w = window
    qtbot.mouseClick(w.worklist.filter_edit, Qt.MouseButton.LeftButton)  # typing on purpose
    qtbot.keyClicks(w.worklist.filter_edit, "b")
    assert w.worklist.filter_edit.text() == "b"
    assert w.measure_tools.tool is None


def test_unarmed_click_moves_the_cursor_not_a_caliper(qtbot, window) -> None:
    w = window
    z = float(w.session.sides["followup"].cursor[2])
    viewport = w.panels["followup"].views["axial"].graphics.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                     pos=_pixel(w, "followup", "axial", (-10.0, -10.0, z)))
    assert w.measure_tools.drawn["followup"] == []
