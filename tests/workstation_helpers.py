"""The whole workstation on a small trial workspace, for tests that drive it as a reader does:
the window as ``mdaread gui`` builds it (guided read dock, calipers, registration toolbar), a
subject with a baseline and two follow-ups written as real DICOM and imported through the
demo use case, and keys sent where the keyboard is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QWidget

from mdaread.model import Volume
from mdaread.storage import Actor
from mdaread.ui.application import build_window
from mdaread.ui.main_window import MainWindow

SUBJECT = "MDA-301"
TREATED = dt.date(2026, 1, 10)
TIMEPOINTS = (("baseline", -2), ("1m", 30), ("3m", 91))
RITA = Actor("rita", "reader")


def write_trial(root: Path) -> Path:
    """One subject, a 32 × 32 × 8 CT (1 × 1 × 2.5 mm) per timepoint, and its randomisation
    list, under ``root``; returns ``root``."""
    from mdaread.io.writer import SeriesInfo, derived_uid, write_ct_series

    rng = np.random.default_rng(5)
    for label, days in TIMEPOINTS:
        array = rng.integers(0, 1500, size=(8, 32, 32)).astype(np.int16)
        volume = Volume(array, np.diag([1.0, 1.0, 2.5, 1.0]), modality="CT")
        info = SeriesInfo(
            patient_id=SUBJECT, study_uid=derived_uid(SUBJECT, label, "study"),
            series_uid=derived_uid(SUBJECT, label, "ct"),
            frame_of_reference_uid=derived_uid(SUBJECT, label, "for"),
            study_date=(TREATED + dt.timedelta(days=days)).strftime("%Y%m%d"),
            study_time="101010", series_number=2, series_description=f"CT SPINE {label}")
        write_ct_series(volume, root / SUBJECT / f"{label}_CT", info)
    (root / "randomisation.csv").write_text(
        f"subject,arm,centre,treatment_date\n{SUBJECT},RFA+VP,C1,{TREATED.isoformat()}\n",
        encoding="utf-8")
    return root


def activate(qtbot, window: QWidget) -> None:
    """Make ``window`` the active window (window shortcuts and focus need it; the offscreen
    platform deactivates it when docks are rearranged)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def show_window(qtbot, source, size: tuple[int, int] = (1400, 900)) -> MainWindow:
    window = build_window(source)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    activate(qtbot, window)
    return window


def open_case(qtbot, window: MainWindow, subject: str, timepoint: str) -> None:
    """Open a case, wait for both sides and the guided read dock, and re-activate."""
    window.open_case(subject, timepoint)
    qtbot.waitUntil(lambda: not window.is_loading, timeout=20_000)
    guided = getattr(window, "guided_read", None)
    if guided is not None:
        qtbot.waitUntil(lambda: guided.panel is not None, timeout=3000)
    activate(qtbot, window)


def press(qtbot, window: QWidget, key: Qt.Key,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed by the reader: it goes to the widget holding the keyboard."""
    qtbot.keyClick(QApplication.focusWidget() or window, key, modifier)


def click(qtbot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def fill_baseline(qtbot, w) -> None:
    """Answer the baseline read in the dock (one treated lytic L2 lesion, 15 × 12 mm), unsigned."""
    panel = w.guided_read.panel
    page = panel.pages[0]
    page.level.setCurrentText("L2")
    page.phenotype.setCurrentText("lytic")
    page.long_mm.setText("15")
    page.perp_mm.setText("12")
    page.treated.setChecked(True)
    click(qtbot, page.add)
    assert panel.read.tracked, panel.error.text()
