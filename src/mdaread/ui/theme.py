"""A calm dark reading theme: low-glare greys, one accent colour, no pure white."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

BACKGROUND = "#111315"
PANEL = "#1a1d20"
TEXT = "#c9cdd1"
MUTED = "#7d848b"
ACCENT = "#d9a441"       # crosshair, focus, the active timepoint
BASELINE = "#5fa8d3"     # side colours in headers
FOLLOWUP = "#9ccf7a"
ERROR = "#e06c5f"
LABEL_PLATE_ALPHA = 215  # the dark plate under letters drawn over images (orientation, slice)
INDICATOR = "#9aa1a8"    # check box and radio button outlines: visible on the dark panels

STYLESHEET = f"""
QWidget {{ background: {PANEL}; color: {TEXT}; font-size: 12px; }}
QMainWindow, QDockWidget {{ background: {BACKGROUND}; }}
QDockWidget::title {{ padding: 4px; background: {BACKGROUND}; color: {MUTED}; }}
QLineEdit, QComboBox, QTableWidget {{ background: {BACKGROUND}; border: 1px solid #2c3035;
    padding: 2px 4px; selection-background-color: #3a3f45; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; padding: 3px; }}
QPushButton, QToolButton {{ background: #24282c; border: 1px solid #2f3439; padding: 3px 8px;
    border-radius: 3px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {ACCENT}; }}
QPushButton:checked, QToolButton:checked {{ background: #3b3322; border-color: {ACCENT};
    color: {ACCENT}; }}
QProgressBar {{ background: {BACKGROUND}; border: 1px solid #2f3439; height: 12px;
    text-align: center; }}
QProgressBar::chunk {{ background: {ACCENT}; }}
QLabel#sideTitle {{ font-size: 14px; font-weight: bold; }}
QLabel#muted {{ color: {MUTED}; }}
QCheckBox::indicator, QRadioButton::indicator {{ width: 12px; height: 12px;
    border: 1px solid {INDICATOR}; background: {BACKGROUND}; }}
QCheckBox::indicator {{ border-radius: 2px; }}
QRadioButton::indicator {{ border-radius: 7px; }}
QCheckBox::indicator:hover, QRadioButton::indicator:hover {{ border-color: {ACCENT}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QRadioButton::indicator:checked {{ background: qradialgradient(cx: 0.5, cy: 0.5, radius: 0.5,
    fx: 0.5, fy: 0.5, stop: 0 {ACCENT}, stop: 0.55 {ACCENT}, stop: 0.65 {BACKGROUND},
    stop: 1 {BACKGROUND}); border-color: {ACCENT}; }}
QCheckBox::indicator:disabled, QRadioButton::indicator:disabled {{ border-color: #4a5056; }}
QCheckBox::indicator:checked:disabled {{ background: #6b5a36; }}
QFrame#shortcutOverlay {{ background: rgba(10, 12, 14, 225); border: 1px solid {ACCENT};
    border-radius: 6px; }}
QFrame#shortcutOverlay QLabel {{ background: transparent; }}
"""


def configure_pyqtgraph() -> None:
    """Row-major images (array[row, col]) and the dark background; call before any ImageItem."""
    pg.setConfigOptions(imageAxisOrder="row-major", background=BACKGROUND, foreground=TEXT,
                        antialias=False)


def apply_theme(app: QApplication) -> None:
    """Fusion style, a dark palette and the stylesheet, on the whole application."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, PANEL), (QPalette.ColorRole.Base, BACKGROUND),
        (QPalette.ColorRole.Text, TEXT), (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Button, "#24282c"), (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, "#3a3f45"), (QPalette.ColorRole.HighlightedText, TEXT),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
    configure_pyqtgraph()
