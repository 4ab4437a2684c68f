"""Issue 15, defect 1: the keys act on the views unless the reader clicked a text box on purpose.
After signing, after a follow-up switch, on opening the window, the focus that Qt moves by
itself must not land in the worklist filter (a "2" filtered the worklist instead of setting the
soft-tissue window). Defect 4: Ctrl+Return signs, wherever the keyboard is, and never accepts a
registration proposal (Ctrl+Shift+A does). Driven through the whole window on a small workspace
(pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication

from mdaread.geometry import PRESETS
from mdaread.storage import open_workspace
from mdaread.workflow.demo import build_demo_workspace
from mdaread.workflow.workspace_source import WorkspaceSource
from workstation_helpers import (
    RITA,
    SUBJECT,
    activate,
    click,
    fill_baseline,
    open_case,
    press,
    show_window,
    write_trial,
)

SOFT = PRESETS["soft tissue"]


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    return write_trial(tmp_path_factory.mktemp("keys") / "dicom")


@pytest.fixture
def ws(trial, tmp_path):
    build_demo_workspace(tmp_path / "W", trial)
    with open_workspace(tmp_path / "W") as ws:
        yield ws


@pytest.fixture
def window(qtbot, ws):
    w = show_window(qtbot, WorkspaceSource(ws, RITA))
    yield w
    w.close()


def _windows(w) -> list:
    return [w.session.sides[side].window for side in ("baseline", "followup")]


def _sign_baseline(qtbot, w) -> None:
    panel = w.guided_read.panel
    fill_baseline(qtbot, w)
    click(qtbot, panel.sign_button)
    qtbot.waitUntil(lambda: w.guided_read.panel is not panel, timeout=3000)


def test_a_key_after_signing_sets_the_window_not_the_filter(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    _sign_baseline(qtbot, window)
    activate(qtbot, window)
    assert QApplication.focusWidget() is not window.worklist.filter_edit
    press(qtbot, window, Qt.Key.Key_2)
    assert window.worklist.filter_edit.text() == ""
    assert _windows(window) == [SOFT, SOFT]
    assert len(window.worklist.shown) == 3        # the worklist was not filtered


def test_a_key_after_a_followup_button_sets_the_window(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    _sign_baseline(qtbot, window)
    panel = window.guided_read.panel
    assert panel.read.label == "1m"
    click(qtbot, panel.pages[0].cement.no)       # the keyboard is in the guided read …
    (button,) = [b for b in window.timepoint_group.buttons() if b.text() == "3m"]
    click(qtbot, button)                         # … whose panel the switch replaces
    qtbot.waitUntil(lambda: not window.is_loading, timeout=20_000)
    qtbot.waitUntil(lambda: window.guided_read.panel.read.label == "3m", timeout=3000)
    activate(qtbot, window)
    press(qtbot, window, Qt.Key.Key_2)
    assert window.worklist.filter_edit.text() == ""
    assert _windows(window) == [SOFT, SOFT]


def test_the_keys_start_on_the_views_not_in_the_filter(qtbot, window) -> None:
    assert QApplication.focusWidget() is not window.worklist.filter_edit
    open_case(qtbot, window, SUBJECT, "1m")
    assert QApplication.focusWidget() is not window.worklist.filter_edit
    press(qtbot, window, Qt.Key.Key_2)
    assert window.worklist.filter_edit.text() == "" and _windows(window) == [SOFT, SOFT]


def test_a_text_box_clicked_on_purpose_takes_the_keys(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    windows = _windows(window)
    click(qtbot, window.worklist.filter_edit)
    press(qtbot, window, Qt.Key.Key_3)
    assert window.worklist.filter_edit.text() == "3" and _windows(window) == windows
    window.worklist.filter_edit.clear()
    click(qtbot, window.panels["baseline"].views["axial"].graphics.viewport())
    press(qtbot, window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # Ctrl+F
    qtbot.keyClicks(QApplication.focusWidget(), "3m")
    assert window.worklist.filter_edit.text() == "3m"
    assert [e.timepoint for e in window.worklist.shown] == ["3m"]


def _nudged(qtbot, w):
    """A registration proposal pending, made as a reader does: Alt+→ on a view."""
    view = w.panels["baseline"].views["axial"]
    click(qtbot, view.graphics.viewport())
    press(qtbot, w, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert w.registration.session.proposal is not None
    return view


@pytest.mark.parametrize("keyboard_in", ["a view", "the guided read"])
def test_ctrl_return_signs_and_never_accepts_a_pending_registration(qtbot, window, ws,
                                                                    keyboard_in) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    _nudged(qtbot, window)
    fill_baseline(qtbot, window)
    panel = window.guided_read.panel
    if keyboard_in == "a view":
        click(qtbot, window.panels["followup"].views["sagittal"].graphics.viewport())
    else:
        click(qtbot, panel.save_button)                  # the keyboard is in the panel
    activate(qtbot, window)
    press(qtbot, window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.read.locked, panel.error.text()         # signed …
    assert ws.list_registrations() == []                 # … and no registration stored
    assert window.registration.session.proposal is not None  # the proposal still waits
    activate(qtbot, window)
    press(qtbot, window, Qt.Key.Key_A,
          Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [r.status for r in ws.list_registrations()] == ["accepted"]


def test_ctrl_return_with_nothing_to_sign_says_what_is_missing(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    panel = window.guided_read.panel
    click(qtbot, window.panels["baseline"].views["axial"].graphics.viewport())
    press(qtbot, window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not panel.read.locked and panel.error.text() != ""


def test_one_meaning_per_key_in_tooltips_and_on_the_card(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    card = window.overlay.actions()
    assert "sign" in card["Ctrl+Return"]
    assert "accept" in card["Ctrl+Shift+A / Ctrl+Backspace"]
    assert not [k for k in card if "Ctrl+Return" in k and k != "Ctrl+Return"]
    assert "(Ctrl+Return)" in window.guided_read.panel.sign_button.toolTip()
    assert "(Ctrl+Shift+A)" in window.registration.accept_button.toolTip()

