"""Issue 15 #8: what the reader must read stays legible — orientation letters and slice labels
over bright bone, check boxes and radio buttons in the dark theme, series names in the pickers.
Measured on rendered pixels (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QCheckBox, QRadioButton, QWidget

from mdaread.geometry.window import Window
from mdaread.storage import open_workspace
from mdaread.ui import theme
from mdaread.workflow.demo import build_demo_workspace
from mdaread.workflow.worklist import SeriesChoice
from mdaread.workflow.workspace_source import WorkspaceSource
from workstation_helpers import RITA, SUBJECT, open_case, show_window, write_trial


def _rgb(widget: QWidget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    bits = image.constBits()
    assert bits is not None
    bits.setsize(image.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).astype(float)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB pixels (0–1)."""
    c = rgb / 255.0
    linear = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("kind", [QCheckBox, QRadioButton])
def test_check_boxes_and_radio_buttons_show_on_the_dark_panels(qtbot, kind) -> None:
    box = kind("Well defined")
    box.setStyleSheet(theme.STYLESHEET)
    qtbot.addWidget(box)
    box.resize(140, 24)
    panel = _luminance(np.array([[0x1A, 0x1D, 0x20]], float))[0]
    indicator = _luminance(_rgb(box)[:, :16])           # the box or circle, not the text
    assert _contrast(float(indicator.max()), float(panel)) >= 4.5  # its outline
    box.setChecked(True)
    checked = _luminance(_rgb(box)[:, :16])
    assert np.abs(checked - indicator).mean() > 0.05     # checked is told apart at a glance


@pytest.fixture
def window(qtbot, tmp_path: Path):
    trial = write_trial(tmp_path / "dicom")
    build_demo_workspace(tmp_path / "W", trial)
    with open_workspace(tmp_path / "W") as ws:
        w = show_window(qtbot, WorkspaceSource(ws, RITA))
        yield w
        w.close()


def test_orientation_letters_and_slice_labels_read_over_white_bone(qtbot, window) -> None:
    open_case(qtbot, window, SUBJECT, "1m")
    view = window.panels["baseline"].views["axial"]
    for _ in range(6):                                    # the image fills the view …
        qtbot.keyClick(view, Qt.Key.Key_Plus)
    window.session.set_window("baseline", Window(1.0, -3000.0))  # … and is white
    qtbot.wait(50)
    pixels = _rgb(view.graphics)
    for label in (*view.labels.values(), view.info):
        g = label.geometry()
        patch = _luminance(pixels[g.top():g.bottom() + 1, g.left():g.right() + 1])
        plate, letters = float(np.median(patch)), float(patch.max())
        assert _contrast(letters, plate) >= 4.5, (label.text(), letters, plate)


def test_series_names_are_not_clipped_in_the_pickers(qtbot, window) -> None:
    from mdaread.ui.side_panel import _choice_text

    assert _choice_text(SeriesChoice("1", "CT", "CT SPINE 2mm")) == "CT SPINE 2mm"
    assert _choice_text(SeriesChoice("2", "MR", "T1 SAG")) == "MR · T1 SAG"
    open_case(qtbot, window, SUBJECT, "1m")
    picker = window.panels["followup"].series_picker
    name = picker.itemText(0)
    assert name == "CT SPINE 1m"
    assert picker.view().minimumWidth() >= picker.fontMetrics().horizontalAdvance(name)
    assert "CT SPINE 1m" in picker.toolTip()
    assert "CT SPINE 1m" in picker.itemData(0, Qt.ItemDataRole.ToolTipRole)
