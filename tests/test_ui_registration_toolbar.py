"""Registration through the workstation's toolbar (pytest-qt, offscreen) on the synthetic spine
with a known baseline → follow-up matrix: register in the worker, overlays, accept → linked
navigation follows the truth; nudge keys; landmark clicks; failure dialog; cancel."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from mdaread.geometry import rigid
from mdaread.geometry.mpr import Mpr
from mdaread.geometry.window import apply_window
from mdaread.ui.main_window import MainWindow
from mdaread.ui.registration_overlay import compose
from mdaread.ui.registration_toolbar import RegistrationController, attach_registration
from test_regsession_session import CENTRE, TRUTH, make_pair, make_source


@pytest.fixture(scope="module")
def pair():
    return make_pair()


@pytest.fixture
def window(qtbot, pair):
    source = make_source(pair)
    w = MainWindow(source)
    controller = attach_registration(w)
    qtbot.addWidget(w)
    w.resize(1500, 950)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.open_case("MDA-050", "3m")
    qtbot.waitUntil(lambda: not w.is_loading, timeout=20_000)
    yield w, controller
    if controller.job is not None:
        controller.cancel()
    w.close()


def _register(qtbot, controller: RegistrationController) -> None:
    qtbot.mouseClick(controller.register_button, Qt.MouseButton.LeftButton)
    assert controller.busy
    qtbot.waitUntil(lambda: controller.cancel_button.isVisible() or not controller.busy)
    qtbot.waitUntil(lambda: not controller.busy, timeout=60_000)


def _inputs(w: MainWindow, controller: RegistrationController, plane: str):
    """The windowed baseline and follow-up slices the overlay of ``plane`` is made from."""
    region, moved = controller.session.overlay_volumes()
    view = w.panels["baseline"].views[plane]
    world = view.geometry_.to_world(0.0, 0.0, view.slice_index)
    index = Mpr(region).geometry(plane).slice_index(world)
    sides = w.session.sides
    return (apply_window(Mpr(region).image(plane, index), sides["baseline"].window),
            apply_window(Mpr(moved).image(plane, index), sides["followup"].window))


def test_register_accept_and_linked_navigation_follows_the_truth(qtbot, window) -> None:
    w, controller = window
    assert not controller.accept_button.isEnabled()
    _register(qtbot, controller)
    proposal = controller.session.proposal
    assert proposal is not None, w.last_error
    assert "Proposed" in controller.info.text()
    assert w.session.registration is None  # not linked through it before acceptance
    # the proposal is shown at once as a blend over the baseline views
    assert controller.mode == "blend"
    for overlay in controller.overlays.values():
        assert overlay.image.isVisible() and overlay.shown is not None
        assert overlay.shown.ndim == 3 and overlay.shown.std() > 5  # not a blank image
    qtbot.mouseClick(controller.accept_button, Qt.MouseButton.LeftButton)
    assert controller.session.last_decision.accepted
    assert "accepted" in w.registration_status.text()
    np.testing.assert_allclose(w.session.registration, proposal.matrix)
    # a click on the baseline axial view moves the follow-up to the true corresponding point
    for target in (np.array([6.0, -4.0, 8.0]), np.array([-12.0, 10.0, -15.0])):
        w.session.set_cursor("baseline", target)
        expected = rigid.apply(TRUTH, w.session.sides["baseline"].cursor)
        assert np.linalg.norm(w.session.sides["followup"].cursor - expected) <= 1.5
        shown = w.panels["followup"].views["axial"].crosshair_world()
        # in-plane exactly at the mapped point, through-plane on the nearest 2.5 mm slice
        assert np.linalg.norm((shown - expected)[:2]) <= 1.5
        assert abs(shown[2] - expected[2]) <= 1.25 + 1.5


def test_checkerboard_and_difference_overlays(qtbot, window) -> None:
    w, controller = window
    w.session.set_registration(TRUTH)
    w.session.set_cursor("baseline", CENTRE)
    controller.set_mode("checkerboard")
    for plane in ("axial", "sagittal", "coronal"):
        overlay = controller.overlays[plane]
        base, follow = _inputs(w, controller, plane)
        assert overlay.shown is not None and overlay.shown.shape == base.shape
        np.testing.assert_array_equal(overlay.shown, compose("checkerboard", base, follow,
                                                             tile_px=_tile(w, plane)))
        rows, cols = _tile(w, plane)
        assert np.array_equal(overlay.shown[:rows, :cols], base[:rows, :cols])
        assert np.array_equal(overlay.shown[:rows, cols:2 * cols], follow[:rows, cols:2 * cols])
        assert not np.array_equal(base, follow)
    controller.next_mode()
    assert controller.mode == "difference"
    aligned = controller.overlays["axial"].shown
    w.session.set_registration(rigid.translation((6.0, 0.0, 0.0)) @ TRUTH)
    shifted = controller.overlays["axial"].shown
    # aligned: the difference sits near mid-grey; a 6 mm shift leaves bright/dark edges
    assert np.mean(np.abs(aligned.astype(float) - 128)) < np.mean(
        np.abs(shifted.astype(float) - 128))
    controller.next_mode()
    assert controller.mode == "off" and not controller.overlays["axial"].image.isVisible()


def test_the_overlay_follows_a_change_of_the_followup_window_alone(qtbot, window) -> None:
    """Issue 15 #2: with the checkerboard on, the follow-up's window set by its own preset
    button repaints the baseline's tiles at once, with no baseline slice step."""
    w, controller = window
    w.session.set_registration(TRUTH)
    w.session.set_cursor("baseline", CENTRE)
    controller.set_mode("checkerboard")
    before = controller.overlays["axial"].shown.copy()
    qtbot.mouseClick(w.panels["followup"].preset_buttons["soft tissue"],
                     Qt.MouseButton.LeftButton)
    assert w.session.sides["baseline"].window != w.session.sides["followup"].window
    for plane in ("axial", "sagittal", "coronal"):
        base, follow = _inputs(w, controller, plane)
        np.testing.assert_array_equal(controller.overlays[plane].shown, compose(
            "checkerboard", base, follow, tile_px=_tile(w, plane)))
    assert not np.array_equal(controller.overlays["axial"].shown, before)


def _tile(w: MainWindow, plane: str) -> tuple[int, int]:
    du, dv = w.panels["baseline"].views[plane].geometry_.pixel_mm
    return max(1, round(10.0 / dv)), max(1, round(10.0 / du))


def test_opacity_slider_changes_the_blend(qtbot, window) -> None:
    w, controller = window
    w.session.set_cursor("baseline", CENTRE)
    controller.set_mode("blend")
    controller.opacity_slider.setValue(0)
    base, follow = _inputs(w, controller, "axial")
    only_base = controller.overlays["axial"].shown
    np.testing.assert_array_equal(only_base[..., 0], base)  # opacity 0: the baseline alone
    controller.opacity_slider.setValue(100)
    np.testing.assert_array_equal(controller.overlays["axial"].shown,
                                  compose("blend", base, follow, 1.0))


def test_nudge_keys_move_the_proposal_by_one_mm_and_one_degree(qtbot, window) -> None:
    w, controller = window
    view = w.panels["baseline"].views["axial"]
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    first = controller.session.proposal
    assert first is not None and first.nudges == 1
    p = np.array([3.0, 4.0, 5.0])
    np.testing.assert_allclose(rigid.apply(first.matrix, p), p - [1.0, 0.0, 0.0], atol=1e-9)
    qtbot.keyClick(view, Qt.Key.Key_Up,
                   Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier)
    second = controller.session.proposal
    turn = rigid.rotation_about(rigid.euler_to_matrix(np.radians(1.0), 0.0, 0.0),
                                controller.session.center)
    np.testing.assert_allclose(second.matrix @ turn, first.matrix, atol=1e-12)
    assert controller.mode == "blend" and controller.accept_button.isEnabled()
    qtbot.mouseClick(controller.reject_button, Qt.MouseButton.LeftButton)
    assert controller.session.proposal is None and w.session.registration is None
    assert not controller.session.last_decision.accepted


def test_landmark_clicks_then_fit(qtbot, window) -> None:
    w, controller = window
    qtbot.mouseClick(controller.landmarks_button, Qt.MouseButton.LeftButton)
    assert controller.landmarks_button.isChecked()
    base_points = np.array([[0.0, 0.0, 5.0], [14.0, 2.0, 0.0], [0.0, 18.0, -5.0]])
    for point in base_points:
        for side, world in (("baseline", point), ("followup", rigid.apply(TRUTH, point))):
            view = w.panels[side].views["axial"]
            w.session.set_cursor(side, world)  # bring the slice holding the point on screen
            view.point_at_scene(view.world_to_scene(world))  # what a left click does
    assert len(controller.session.complete_pairs()[0]) == 3
    assert controller.fit_button.isEnabled()
    markers = next(m for m in controller.markers
                   if m.side == "baseline" and m.view.plane == "axial")
    assert len(markers.scatter.data) >= 1  # the point on this slice is marked
    qtbot.mouseClick(controller.fit_button, Qt.MouseButton.LeftButton)
    proposal = controller.session.proposal
    assert proposal is not None and proposal.method == "landmarks"
    # clicks land on pixel centres of each slice: within a voxel of the truth
    assert rigid.tre_box(proposal.matrix, TRUTH, CENTRE) <= 3.0


def test_failure_opens_a_dialog_and_keeps_the_mapping(qtbot, window) -> None:
    w, controller = window
    w.session.set_registration(TRUTH)
    controller.session.set_center((800.0, 800.0, 800.0))
    _register(qtbot, controller)
    assert controller.session.proposal is None
    assert w.error_dialog is not None and w.error_dialog.isVisible()
    assert "previous mapping is kept" in w.error_dialog.text()
    np.testing.assert_allclose(w.session.registration, TRUTH)
    w.error_dialog.close()


def test_cancel_stops_the_job_without_a_proposal(qtbot, window) -> None:
    w, controller = window
    qtbot.mouseClick(controller.register_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.busy, timeout=60_000)
    assert controller.session.proposal is None and not w.last_error
    qtbot.waitUntil(lambda: not controller.cancel_button.isVisible())


def test_centre_radius_and_key_card(qtbot, window) -> None:
    w, controller = window
    controller.set_mode("checkerboard")
    w.session.set_cursor("baseline", (0.0, 0.0, 20.0))
    box = controller.level_box  # "Cursor", the combo's last entry, centres on the cursor
    assert box.currentText() == "L2 (treated)" and box.itemText(box.count() - 1) == "Cursor"
    box.setCurrentIndex(box.count() - 1)
    box.activated.emit(box.count() - 1)
    np.testing.assert_allclose(controller.session.center, w.session.sides["baseline"].cursor)
    wide = controller.overlays["axial"].shown.shape
    controller.radius_box.setValue(20)
    narrow = controller.overlays["axial"].shown.shape
    du, dv = w.panels["baseline"].views["axial"].geometry_.pixel_mm
    # the cube's edge is 2 × radius (+ up to 4 voxels of crop margin) in each in-plane direction
    assert 40.0 - du <= narrow[1] * du <= 40.0 + 5 * du
    assert 40.0 - dv <= narrow[0] * dv <= 40.0 + 5 * dv
    assert wide[0] > narrow[0] and wide[1] > narrow[1]
    card = " ".join(label.text() for label in w.overlay.findChildren(type(controller.info)))
    assert "nudge the follow-up" in card and "accept / reject" in card


def test_closing_the_window_cancels_a_running_registration(qtbot, window) -> None:
    w, controller = window
    qtbot.mouseClick(controller.register_button, Qt.MouseButton.LeftButton)
    worker = controller.job
    assert worker is not None and not worker.is_cancelled
    w.close()
    assert worker.is_cancelled
    qtbot.waitUntil(lambda: not controller.busy, timeout=60_000)
    assert controller.session.proposal is None


def test_the_workstation_starts_without_importing_simpleitk() -> None:
    import subprocess
    import sys

    code = ("import sys, mdaread.ui.application, mdaread.workflow.registration_session; "
            "print('SimpleITK' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"
