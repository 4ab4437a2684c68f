"""Runs the workstation: the QApplication, the theme, the main window, and the screenshot mode
used by `mdaread gui --screenshot` and `mdaread demo --screenshot` (see mdaread.app)."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PyQt6.QtCore import QEventLoop, QTimer
from PyQt6.QtWidgets import QApplication

from mdaread.errors import InputError
from mdaread.ui.guided_read_panel import attach_guided_read
from mdaread.ui.main_window import MainWindow
from mdaread.ui.measure_link import attach_measurements
from mdaread.ui.registration_toolbar import attach_registration
from mdaread.ui.theme import apply_theme
from mdaread.workflow.worklist import ReadingSource, sort_worklist
from mdaread.workflow.workspace_service import refuse_overwriting_database

WINDOW_SIZE = (1600, 1000)


def application() -> QApplication:
    """The process's QApplication (created on first use) with the reading theme."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        _check_display()
        app = QApplication(sys.argv[:1])
        app.setApplicationName("mdaread")
    apply_theme(app)
    return app


def _check_display() -> None:
    """Qt aborts the whole process (SIGABRT, a core dump) when it finds no display at all: say
    so in one line instead. (A display that is set but unreachable still ends in Qt's abort.)"""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise InputError("no display to open the window on (DISPLAY is not set): run it in a "
                         "desktop session, or headless with `xvfb-run -a mdaread …` or "
                         "QT_QPA_PLATFORM=offscreen and --screenshot")


def first_case(source: ReadingSource) -> tuple[str, str] | None:
    """The first worklist entry that has a follow-up beside its baseline (subject, timepoint)."""
    entries = sort_worklist(source.worklist(), "subject")
    followups = [e for e in entries if e.timepoint != "baseline"]
    chosen = (followups or entries)[:1]
    return (chosen[0].subject, chosen[0].timepoint) if chosen else None


def build_window(source: ReadingSource) -> MainWindow:
    """The workstation's main window on ``source`` with everything attached: the guided read
    dock (workspace readers), calipers feeding it, the registration toolbar."""
    window = MainWindow(source)
    attach_guided_read(window)  # the guided read dock follows the open case (workspace only)
    attach_measurements(window)  # calipers feed the guided read, its measurements redraw
    attach_registration(window)  # register / overlay / accept on the registration toolbar
    return window


def run_workstation(source: ReadingSource, *, subject: str | None = None,
                    timepoint: str | None = None, screenshot: str | Path | None = None,
                    message: str = "") -> int:
    """Show the workstation on ``source``; open ``subject``/``timepoint`` when given.

    With ``screenshot`` the window opens a case (the first one when ``subject`` is None), waits
    for loading to finish, saves a PNG and returns 0 without entering the event loop; a case that
    fails to load raises InputError instead.
    """
    app = application()
    window = build_window(source)
    previous_hook = sys.excepthook
    sys.excepthook = _unexpected_error_hook(window)
    try:
        window.resize(*WINDOW_SIZE)
        window.show()
        if message:
            window.status_label.setText(message)
        if screenshot is not None and subject is None:
            case = first_case(source)
            if case is None:
                raise InputError(f"{source.name}: nothing to show (the worklist is empty)")
            subject, timepoint = case
        if subject is not None:
            window.open_case(subject, timepoint)
        if screenshot is None:
            return int(app.exec())
        return _screenshot(app, window, Path(screenshot))
    finally:
        window.close()
        sys.excepthook = previous_hook


def _screenshot(app: QApplication, window: MainWindow, out: Path) -> int:
    if not window.wait_until_loaded():
        raise InputError(f"{out}: loading did not finish in time")
    if window.last_error:
        raise InputError(f"{out}: not saved, the case did not load: {window.last_error}")
    if window.session.subject is None:
        raise InputError(f"{out}: not saved, no case is open")
    # let layouts settle and every view paint once before grabbing
    settle = QEventLoop()
    QTimer.singleShot(150, settle.quit)
    settle.exec()
    app.processEvents()
    refuse_overwriting_database(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent that is a file, no permission
        reason = "a parent is not a folder" if isinstance(exc, FileExistsError) else exc.strerror
        raise InputError(f"{out}: cannot write the PNG ({reason})") from None
    if not window.grab().save(str(out), "PNG"):
        raise InputError(f"{out}: cannot write the PNG")
    return 0


def _unexpected_error_hook(window: MainWindow) -> Callable[..., None]:
    """A bug in a slot must not abort the reading (PyQt's default for unhandled exceptions):
    the traceback goes to stderr, the reader gets a one-line dialog."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, exc, tb)
        window.show_error("Unexpected error", f"unexpected {kind.__name__}: {exc}")

    return hook
