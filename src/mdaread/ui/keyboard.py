"""Where the keyboard goes: to the views, unless the reader put a text box in charge on purpose.

The workstation's single keys (1–4 window presets, L, B, D, S, A, arrows …) act on the views.
A text box (the worklist filter, a diameter, a reason) takes the keys only when the reader chose
it: a click on it, Tab / Shift+Tab onto it, or a shortcut that says so (Ctrl+F). Qt also moves
the focus by itself — the focused button was hidden, disabled or deleted (after signing, after
a follow-up switch rebuilt the guided read), a page of a stack changed, the window opened or
came back — and then it lands on the next widget of the focus chain, often the worklist filter:
the next "2" typed into the filter instead of setting the soft-tissue window. ``KeyboardGuard``
sends such focus straight back to the views.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QFocusEvent, QKeyEvent
from PyQt6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

TEXT_BOXES = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)
_ON_PURPOSE = (Qt.FocusReason.MouseFocusReason, Qt.FocusReason.ShortcutFocusReason)
_BY_TAB = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason)
# the focus coming back to the box the reader was typing in (window re-activated, a completer
# or a menu closed)
_BACK = (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason,
         Qt.FocusReason.MenuBarFocusReason)


def is_text_box(widget: QObject | None) -> bool:
    """True for a widget that types the keys it receives (line edits, spin boxes, editable
    combo boxes, text edits)."""
    return isinstance(widget, TEXT_BOXES) or (isinstance(widget, QComboBox)
                                               and widget.isEditable())


def typing() -> bool:
    """True when the widget holding the keyboard is a text box."""
    return is_text_box(QApplication.focusWidget())


class KeyboardGuard(QObject):
    """Watches the focus of ``window``'s text boxes (an application event filter) and gives a
    focus that the reader did not ask for to ``home()`` (a view)."""

    def __init__(self, window: QWidget, home: Callable[[], QWidget | None]) -> None:
        super().__init__(window)
        self._window, self._home = window, home
        self._chosen: weakref.ref[QWidget] | None = None
        self._tab = False  # the last key pressed was Tab or Shift+Tab
        self.redirected = 0
        """How many times a text box was denied the focus (for tests and diagnostics)."""
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def stop(self) -> None:
        """Stop watching (the window closes)."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def choose(self, box: QWidget) -> None:
        """Give ``box`` the keyboard on the reader's request (a shortcut such as Ctrl+F)."""
        self._chosen = weakref.ref(box)
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @property
    def chosen(self) -> QWidget | None:
        """The text box the reader chose last (it may have lost the focus since)."""
        return self._chosen() if self._chosen is not None else None

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is None:
            return False
        kind = event.type()
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            self._tab = event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
        elif kind == QEvent.Type.MouseButtonPress:
            self._tab = False
        elif (kind == QEvent.Type.FocusIn and isinstance(event, QFocusEvent)
              and isinstance(watched, QWidget) and is_text_box(watched)
              and watched.window() is self._window):
            return self._focus_in(watched, event.reason())
        return False

    def _focus_in(self, box: QWidget, reason: Qt.FocusReason) -> bool:
        by_tab, self._tab = self._tab and reason in _BY_TAB, False
        if reason in _ON_PURPOSE or by_tab:
            self._chosen = weakref.ref(box)
            return False
        if box is self.chosen and reason in _BACK:
            return False
        home = self._home()
        if home is None or not home.isVisible() or not home.isEnabled():
            box.clearFocus()
        else:
            home.setFocus(Qt.FocusReason.OtherFocusReason)
        self.redirected += 1
        return True  # the box never starts a text cursor
