"""Issue 15 #6: each view is fitted to its image when a case opens, and the reader's zoom stays
across follow-up switches (centred on the crosshair) instead of snapping back to the fit.
The whole window on a small workspace (pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtCore import Qt

from mdaread.storage import open_workspace
from mdaread.workflow.demo import build_demo_workspace
from mdaread.workflow.workspace_source import WorkspaceSource
from workstation_helpers import RITA, SUBJECT, click, open_case, show_window, write_trial


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> Path:
    return write_trial(tmp_path_factory.mktemp("zoom") / "dicom")


@pytest.fixture
def window(qtbot, trial, tmp_path):
    build_demo_workspace(tmp_path / "W", trial)
    with open_workspace(tmp_path / "W") as ws:
        w = show_window(qtbot, WorkspaceSource(ws, RITA))
        yield w
        w.close()


def _switch(qtbot, w, label: str) -> None:
    (button,) = [b for b in w.timepoint_group.buttons() if b.text() == label]
    click(qtbot, button)
    qtbot.waitUntil(lambda: not w.is_loading, timeout=20_000)
    assert w.session.sides["followup"].timepoint == label


def _fits(view) -> bool:
    """The whole slice is in the view and fills it along one axis (2 % padding)."""
    shown, image = view.view_box.viewRect(), view.image.mapRectToParent(view.image.boundingRect())
    return shown.contains(image) and max(image.width() / shown.width(),
                                         image.height() / shown.height()) > 0.9


def test_views_open_fitted_and_keep_the_zoom_across_followups(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    views = [window.panels[side].views[plane] for side in ("baseline", "followup")
             for plane in ("axial", "sagittal", "coronal")]
    assert all(_fits(view) for view in views)
    axial = window.panels["followup"].views["axial"]
    for _ in range(3):
        qtbot.keyClick(axial, Qt.Key.Key_Plus)
    zoomed = axial.view_box.viewRect()
    assert zoomed.width() < 0.6 * axial.image.boundingRect().width() * axial.geometry_.pixel_mm[0]
    _switch(qtbot, window, "3m")
    kept = axial.view_box.viewRect()
    assert kept.width() == pytest.approx(zoomed.width(), rel=0.02)
    assert kept.height() == pytest.approx(zoomed.height(), rel=0.02)
    cross = (axial.vline.value(), axial.hline.value())
    assert kept.center().x() == pytest.approx(cross[0], abs=0.5)
    assert kept.center().y() == pytest.approx(cross[1], abs=0.5)
    assert _fits(window.panels["followup"].views["sagittal"])  # never zoomed: fitted again
    window.open_case(SUBJECT, "1m")                           # a case opens fitted
    qtbot.waitUntil(lambda: not window.is_loading, timeout=20_000)
    assert _fits(axial)
