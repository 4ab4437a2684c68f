"""The Level combo and the Label menu of the registration toolbar (pytest-qt, offscreen): label
the cursor → the level appears in the combo (and in the workspace); pick it → the region is
centred on it; an accepted landmark fit shows its pairs again when the case reopens; the
toolbar is no wider than before the level controls."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtWidgets import QLabel, QToolButton

from mdaread.geometry import rigid
from mdaread.storage import Actor, open_workspace
from mdaread.ui.main_window import MainWindow
from mdaread.ui.registration_toolbar import RegistrationController, attach_registration
from mdaread.workflow.workspace_source import WorkspaceSource
from test_regsession_session import CENTRE, TRUTH, make_pair, make_source
from test_regsession_workspace import READER, SUBJECT, workspace  # noqa: F401 (fixture)

L1_CENTRE = np.array([0.0, 0.0, 32.0])


@pytest.fixture(scope="module")
def pair():
    return make_pair()


def _window(qtbot, source) -> tuple[MainWindow, RegistrationController]:
    window = MainWindow(source)
    controller = attach_registration(window)
    qtbot.addWidget(window)
    window.resize(1500, 950)
    window.show()
    qtbot.waitExposed(window)
    return window, controller


def _open(qtbot, window: MainWindow) -> None:
    window.open_case(SUBJECT, "3m")
    qtbot.waitUntil(lambda: not window.is_loading, timeout=30_000)


def _click(window: MainWindow, side: str, world) -> None:
    """What a left click at ``world`` (LPS mm) in ``side``'s axial view does."""
    view = window.panels[side].views["axial"]
    window.session.set_cursor(side, world)
    view.point_at_scene(view.world_to_scene(np.asarray(world, dtype=float)))


def _items(controller: RegistrationController) -> list[str]:
    box = controller.level_box
    return [box.itemText(i) for i in range(box.count())]


def _pick(controller: RegistrationController, text: str) -> None:
    box = controller.level_box
    index = box.findText(text)
    assert index >= 0, _items(controller)
    box.setCurrentIndex(index)
    box.activated.emit(index)


def _marks(controller, side: str) -> set[str]:  # type: ignore[no-untyped-def]
    """Level names written on ``side``'s views (each view shows the cursor's slice)."""
    return {item.textItem.toPlainText() for m in controller.level_markers if m.side == side
            for item in m.items}


def test_label_the_cursor_then_pick_the_level(qtbot, pair) -> None:
    window, controller = _window(qtbot, make_source(pair))
    try:
        window.open_case("MDA-050", "3m")
        qtbot.waitUntil(lambda: not window.is_loading, timeout=30_000)
        assert _items(controller) == ["L2 (treated)", "Cursor"]
        assert controller.level_box.currentText() == "L2 (treated)"
        _click(window, "baseline", L1_CENTRE)
        assert controller.active_side == "baseline"
        controller.levels.menu.aboutToShow.emit()
        assert controller.levels.header.text() == "Cursor on the baseline is…"
        controller.levels.actions["L1"].trigger()
        assert _items(controller) == ["L2 (treated)", "L1", "Cursor"]
        assert "L1 labelled on the baseline" in controller.info.text()
        assert window.panels["baseline"].readout.text().endswith("L1")  # the readout knows it
        assert _marks(controller, "baseline") == {"L1"}  # written on the baseline's slices
        assert _marks(controller, "followup") == set()
        _pick(controller, "L1")
        session = controller.session
        landmark = next(lm for lm in session.levels() if lm.level == "L1")
        np.testing.assert_allclose(session.center, landmark.center)
        np.testing.assert_allclose(session.center, window.session.sides["baseline"].cursor)
        assert session.level == "L1" and "region centre: L1" in controller.info.text()
        _pick(controller, "L2 (treated)")
        np.testing.assert_allclose(session.center, CENTRE)
        # the follow-up's label stays on its side; the menu offers to remove what is labelled
        _click(window, "followup", rigid.apply(TRUTH, L1_CENTRE))
        controller.levels.actions["L1"].trigger()
        assert session.labelled("followup") == ["L1"]
        _click(window, "baseline", L1_CENTRE)
        controller.levels.menu.aboutToShow.emit()
        assert controller.levels.actions["L1"].text().endswith("✓")
        removals = controller.levels.remove_menu.actions()
        assert [a.text() for a in removals] == ["L1"]
        removals[0].trigger()
        assert _items(controller) == ["L2 (treated)", "Cursor"]
        assert _marks(controller, "baseline") == set()
        assert session.labelled("followup") == ["L1"]
    finally:
        window.close()


def test_the_toolbar_is_no_wider_than_before(qtbot, pair) -> None:
    """The level controls took the room of what they replaced, measured in this very style:
    "Centre here" (now the combo's Cursor entry), the " Opacity " label, "Undo pair" → "Undo"."""
    window, controller = _window(qtbot, make_source(pair))
    try:
        window.open_case("MDA-050", "3m")
        qtbot.waitUntil(lambda: not window.is_loading, timeout=30_000)
        added = sum(w.sizeHint().width() for w in (
            controller.level_box, controller.label_button, controller.undo_button))
        gone = [QToolButton(), QLabel(" Opacity "), QToolButton()]
        gone[0].setText("Centre here")
        gone[2].setText("Undo pair")
        assert added <= sum(w.sizeHint().width() for w in gone)
        bar = window.registration_toolbar
        assert bar.sizeHint().width() <= window.width() == 1500
        assert controller.label_button.isVisible() and controller.level_box.isVisible()
        assert controller.opacity_slider.isVisible()  # nothing pushed into the overflow menu
    finally:
        window.close()


def test_labels_and_landmark_pairs_live_in_the_workspace(qtbot, workspace) -> None:  # noqa: F811
    base = np.array([[0.0, 0.0, 5.0], [14.0, 2.0, 0.0], [0.0, 18.0, -5.0]])
    with open_workspace(workspace) as ws:
        window, controller = _window(qtbot, WorkspaceSource(ws, Actor("ulla", "reader")))
        try:
            _open(qtbot, window)
            _click(window, "baseline", L1_CENTRE)
            controller.levels.actions["L1"].trigger()
            assert "L1" in _items(controller)
            (label,) = [r for r in ws.list_level_labels() if r.level == "L1"]
            assert label.labelled_by == "ulla"
            np.testing.assert_allclose(label.center, window.session.sides["baseline"].cursor)
            _pick(controller, "L1")
            controller.radius_box.setValue(35)
            controller.landmarks_button.setChecked(True)
            for point in base:
                _click(window, "baseline", point)
                _click(window, "followup", rigid.apply(TRUTH, point))
            controller.fit_landmarks()
            assert controller.session.proposal is not None
            controller.accept()
            record = ws.list_registrations()[-1]
            assert (record.method, record.level, len(record.landmark_pairs)) == (
                "landmarks", "L1", 3)
        finally:
            window.close()
        again, controller = _window(qtbot, WorkspaceSource(ws, READER))
        try:
            _open(qtbot, again)
            assert "L1" in _items(controller) and controller.level_box.currentText() == "L1"
            assert controller.radius_box.value() == 35 and controller.session.radius_mm == 35.0
            assert "3 landmark pair(s) shown" in controller.info.text()
            assert len(controller.session.complete_pairs()[0]) == 3
            again.session.set_cursor("baseline", base[0])
            markers = next(m for m in controller.markers
                           if m.side == "baseline" and m.view.plane == "axial")
            assert len(markers.scatter.data) >= 1  # the stored pair is drawn again
        finally:
            again.close()
