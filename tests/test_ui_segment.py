"""Click-to-segment driven with real mouse events (pytest-qt, offscreen): one click in a lesion
of known size proposes its outline and diameters on the slice where it is largest; the reader
edits the axes, accepts (A) or discards (Esc); cement is drawn as its own overlay and kept out of
the lesion; a click with no lesion says so in one line and proposes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt

from mdaread.geometry.mask_slice import mask_on_slice
from mdaread.ui.main_window import MainWindow
from mdaread.ui.mask_overlay import proposal_items
from mdaread.workflow.worklist import InMemorySource
from segmentation_helpers import ellipsoid_fraction, insert, synthetic_ct

CENTRE = (4.0, -3.0, 1.0)
RADII = (9.0, 6.0, 7.0)   # mm along the turned x, y and z
THETA = 30.0
CEMENT_CENTRE = (4.0, -3.0, 1.0 + 7.0 + 3.5)   # a cement ball over the lesion's upper pole
CEMENT_R = 4.0


def _ct(uid: str, cement: bool = False):
    volume = synthetic_ct((40, 96, 96), (0.8, 0.8, 2.0), background=260.0, noise_sd=15.0)
    volume = insert(volume, ellipsoid_fraction(volume, CENTRE, RADII, THETA), 30.0)
    if cement:
        volume = insert(volume, ellipsoid_fraction(volume, CEMENT_CENTRE, (CEMENT_R,) * 3),
                        3000.0)
    from mdaread.model import Volume

    return Volume(volume.array, volume.affine, modality="CT", series_uid=uid, description=uid)


def _window(qtbot, cement: bool = False) -> MainWindow:
    src = InMemorySource("segment test")
    src.add("MDA-001", "baseline", [_ct("base", cement)], days=0)
    src.add("MDA-001", "3m", [_ct("follow", cement)], days=90)
    w = MainWindow(src)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.open_case("MDA-001", "3m")
    qtbot.waitUntil(lambda: not w.is_loading, timeout=10_000)
    return w


@pytest.fixture
def window(qtbot):
    w = _window(qtbot)
    yield w
    w.close()


def _pixel(w: MainWindow, side: str, plane: str, world) -> QPoint:
    view = w.panels[side].views[plane]
    return view.graphics.mapFromScene(view.world_to_scene(np.asarray(world, dtype=float)))


def _click_segment(qtbot, w: MainWindow, side: str, world) -> None:
    """Arm the tool with its key and click ``world`` on the axial view of ``side``."""
    view = w.panels[side].views["axial"]
    w.session.set_linked(False)
    w.session.set_cursor(side, world)        # show the clicked slice
    w.session.set_linked(True)
    if w.measure_tools.tool != "segment":
        qtbot.keyClick(view, Qt.Key.Key_S)
    assert w.measure_tools.tool == "segment"
    qtbot.mouseClick(view.graphics.viewport(), Qt.MouseButton.LeftButton,
                     pos=_pixel(w, side, "axial", world))
    qtbot.waitUntil(lambda: not w.segment_tool.busy, timeout=20_000)


def test_one_click_proposes_the_lesion_on_its_largest_slice(qtbot, window) -> None:
    w = window
    off_centre = (CENTRE[0] + 2.0, CENTRE[1] - 1.5, CENTRE[2] - 4.0)   # a few mm off, 2 slices
    _click_segment(qtbot, w, "followup", off_centre)
    assert w.segment_tool.pending is not None
    side, drawn = w.segment_tool.pending
    assert side == "followup" and drawn.pending and drawn.method == "semi-auto"
    voxel = 0.8
    long_mm, perp_mm = drawn.shape.diameters()
    assert long_mm == pytest.approx(2 * RADII[0], abs=voxel)
    assert perp_mm == pytest.approx(2 * RADII[1], abs=voxel)
    # the cursor moved to the plane of largest extent (the centre slice, z = 1 mm)
    assert w.session.sides["followup"].cursor[2] == pytest.approx(1.0, abs=1.0)
    axial = w.panels["followup"].views["axial"]
    items = w.measure_tools._items[id(axial)].items
    assert len(items) >= 4, "outline image + caliper lines, handles and label on the axial view"
    sagittal = w.panels["followup"].views["sagittal"]
    assert proposal_items(sagittal, drawn.proposal, "#ffffff", True), "outline on sagittal too"
    assert w.segment_tool.bar.isVisible() and "mL" in w.segment_tool.bar.text.text()

    # drag the long axis' end 3 mm further out before accepting: the bar follows the edit
    cal = drawn.shape
    end = np.asarray(cal.b) + 3.0 * (np.subtract(cal.b, cal.a) / cal.axis_mm)
    viewport = axial.graphics.viewport()
    a, b = _pixel(w, "followup", "axial", cal.b), _pixel(w, "followup", "axial", end)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(viewport, (a + b) / 2)
    qtbot.mouseMove(viewport, b)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
    assert drawn.shape.axis_mm == pytest.approx(long_mm + 3.0, abs=1.0)
    assert "edited" in w.segment_tool.bar.text.text()

    qtbot.keyClick(axial, Qt.Key.Key_A)
    assert w.segment_tool.pending is None and not drawn.pending
    assert drawn in w.measure_tools.drawn["followup"]
    assert not w.segment_tool.bar.isVisible()
    assert w.status_label.text().startswith("Accepted")


def test_esc_discards_the_proposal(qtbot, window) -> None:
    w = window
    _click_segment(qtbot, w, "baseline", CENTRE)
    assert w.segment_tool.pending is not None
    qtbot.keyClick(w.panels["baseline"].views["axial"], Qt.Key.Key_Escape)
    assert w.segment_tool.pending is None
    assert w.measure_tools.drawn["baseline"] == []
    assert w.measure_tools.tool == "segment"     # a second Esc disarms
    qtbot.keyClick(w.panels["baseline"].views["axial"], Qt.Key.Key_Escape)
    assert w.measure_tools.tool is None


def test_a_click_with_no_lesion_proposes_nothing(qtbot, window) -> None:
    w = window
    _click_segment(qtbot, w, "followup", (-25.0, 20.0, 1.0))   # plain bone, far from it
    assert w.segment_tool.pending is None
    assert w.measure_tools.drawn["followup"] == []
    text = w.segment_tool.bar.text.text()
    assert text.startswith("No lesion proposed:") and "\n" not in text
    assert not w.segment_tool.bar.accept_button.isVisible()


def test_cement_is_drawn_on_its_own_and_kept_out(qtbot) -> None:
    w = _window(qtbot, cement=True)
    try:
        _click_segment(qtbot, w, "followup", CENTRE)
        assert w.segment_tool.pending is not None
        _, drawn = w.segment_tool.pending
        proposal = drawn.proposal
        assert proposal.cement is not None
        truth_ml = 4 / 3 * np.pi * CEMENT_R ** 3 / 1000
        assert proposal.cement.volume_ml == pytest.approx(truth_ml, rel=0.25)
        assert proposal.lesion.stats.percentiles[95] < 1000, "no cement in the lesion's values"
        lesion = proposal.lesion.mask.full()
        cement = proposal.cement.mask.full()
        assert not (lesion & cement).any()
        assert "cement" in w.segment_tool.bar.text.text()
        # on a sagittal slice through both, the lesion and the cement are two overlays
        w.session.set_cursor("followup", CENTRE)
        sagittal = w.panels["followup"].views["sagittal"]
        g = sagittal.geometry_
        assert mask_on_slice(cement, (0, 0, 0), proposal.cement.mask.grid_affine, g,
                             sagittal.slice_index) is not None
        assert len(proposal_items(sagittal, proposal, "#ffffff", True)) == 2
    finally:
        w.close()
