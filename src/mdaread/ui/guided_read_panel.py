"""The guided read panel (right-hand dock): one subject × timepoint, step by step.

It shows a ``GuidedRead`` (``mdaread.workflow.guided_read``) and forwards every gesture to it;
the read recomputes the category after each answer and the panel redraws from it. Steps: at the
baseline the lesion list; at a follow-up one page per tracked lesion, then the timepoint
questions. Keys: Ctrl+PgDown / Ctrl+PgUp next / previous step, Ctrl+S save draft, Ctrl+Return sign.

``attach_guided_read(window)`` wires it into the main window: the panel follows the follow-up
side's timepoint (the baseline while the baseline read is not signed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QIntValidator, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mdaread.errors import MdareadError
from mdaread.model.observations import CATEGORIES
from mdaread.ui import theme
from mdaread.ui.guided_pages import BaselinePage, LesionPage, Page, TimepointPage
from mdaread.ui.guided_widgets import ResultBox, muted
from mdaread.workflow.guided_read import GuidedRead
from mdaread.workflow.timestamps import reader_time

NO_MODALITY = "modality?"


class GuidedReadPanel(QWidget):
    """Emits ``signed()`` after a sign-off and ``timepoint_requested(label)`` from its combo."""

    signed = pyqtSignal()
    saved = pyqtSignal()  # a draft was stored (the worklist shows it)
    timepoint_requested = pyqtSignal(str)

    def __init__(self, read: GuidedRead, *, labels: list[str] | None = None,
                 correct: Callable[[GuidedRead, str], GuidedRead] | None = None,
                 note: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guidedReadPanel")
        self.setMinimumWidth(320)
        self._correct = correct
        self.header = QLabel()
        self.header.setStyleSheet("font-size: 14px; font-weight: bold;")
        self.timepoint = QComboBox()
        self.timepoint.addItems(labels or [read.label])
        self.timepoint.setToolTip("Timepoint to read (follow-ups switch the viewer too)")
        self.timepoint.activated.connect(
            lambda _: self.timepoint_requested.emit(self.timepoint.currentText()))
        self.modality = QComboBox()
        self.modality.addItems([NO_MODALITY, "CT", "MR"])
        self.modality.activated.connect(self._modality)
        self.days = QLineEdit()
        self.days.setPlaceholderText("days?")
        self.days.setToolTip("Days since treatment (no scan date or nominal day is known)")
        self.days.setValidator(QIntValidator(-3650, 3650, self.days))
        self.days.setMaximumWidth(60)
        self.days.editingFinished.connect(self._days)
        self.state = muted(wrap=True)
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {theme.ACCENT};")
        self.note.setVisible(bool(note))
        self.earlier = muted()
        self.result = ResultBox()
        self.steps = QListWidget()
        self.steps.currentRowChanged.connect(self._show_step)
        self.stack = QStackedWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.stack)
        self._build_override()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {theme.ERROR};")
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        top = QHBoxLayout()
        top.addWidget(QLabel("Timepoint"))
        top.addWidget(self.timepoint)
        top.addWidget(QLabel("Modality"))
        top.addWidget(self.modality)
        top.addWidget(self.days)
        top.addStretch(1)
        layout.addLayout(top)
        for widget in (self.state, self.note, self.earlier, self.result, self.steps):
            layout.addWidget(widget)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.override_row)
        layout.addWidget(self.error)
        layout.addLayout(self.buttons)
        layout.addWidget(self.correction_row)
        # Ctrl+S and Ctrl+Return save and sign wherever the keyboard is in the window (a view,
        # the worklist, this panel); the step keys only inside the panel
        inside, everywhere = (Qt.ShortcutContext.WidgetWithChildrenShortcut,
                              Qt.ShortcutContext.WindowShortcut)
        for keys, slot, context in (("Ctrl+PgDown", lambda: self.step(1), inside),
                                    ("Ctrl+PgUp", lambda: self.step(-1), inside),
                                    ("Ctrl+S", self.save, everywhere),
                                    ("Ctrl+Return", self.sign, everywhere)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)
        self.read: GuidedRead
        self.pages: list[Page] = []
        self.set_read(read)

    # --- building ----------------------------------------------------------------------------
    def _build_override(self) -> None:
        self.override_row = QWidget()
        self.override_box = QCheckBox("Override")
        self.override_box.setToolTip("Replace the computed category (a reason is required)")
        self.override_category = QComboBox()
        self.override_category.addItems(list(CATEGORIES))
        self.override_reason = QLineEdit()
        self.override_reason.setPlaceholderText("reason (required)")
        self.override_box.toggled.connect(lambda _: self._override())
        self.override_category.activated.connect(lambda _: self._override())
        self.override_reason.editingFinished.connect(self._override)
        row = QHBoxLayout(self.override_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.override_box)
        row.addWidget(self.override_category)
        row.addWidget(self.override_reason, 1)

    def _build_buttons(self) -> None:
        self.prev_button = QPushButton("◂ Prev")
        self.next_button = QPushButton("Next ▸")
        self.save_button = QPushButton("Save draft")
        self.sign_button = QPushButton("Sign")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.save_button.clicked.connect(self.save)
        self.sign_button.clicked.connect(self.sign)
        self.buttons = QHBoxLayout()
        for button in (self.prev_button, self.next_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        for button in (self.save_button, self.sign_button):
            self.buttons.addWidget(button)
        self.correction_row = QWidget()
        self.correction_reason = QLineEdit()
        self.correction_reason.setPlaceholderText("reason for a correction")
        self.correct_button = QPushButton("Correct…")
        self.correct_button.setToolTip("A new draft that supersedes this signed read")
        self.correct_button.clicked.connect(self.correct)
        row = QHBoxLayout(self.correction_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.correction_reason, 1)
        row.addWidget(self.correct_button)

    def set_read(self, read: GuidedRead) -> None:
        """Show ``read`` (a new one after a correction): rebuild the steps."""
        self.read = read
        read.changed.connect(self.refresh)
        while self.stack.count():
            widget = self.stack.widget(0)
            self.stack.removeWidget(widget)
            if widget is not None:
                widget.deleteLater()
        if read.is_baseline:
            self.pages = [BaselinePage(read, self.report)]
        else:
            self.pages = [*(LesionPage(read, self.report, les.id) for les in read.tracked),
                          TimepointPage(read, self.report)]
        self.steps.blockSignals(True)
        self.steps.clear()
        for page in self.pages:
            self.stack.addWidget(page)
            self.steps.addItem(page.title())
        self.steps.blockSignals(False)
        self.steps.setFixedHeight(min(len(self.pages), 5) * 22 + 6)
        self.timepoint.setCurrentText(read.label)
        self.override_row.setVisible(not read.is_baseline)
        self.steps.setCurrentRow(0)
        self.refresh()

    # --- gestures ----------------------------------------------------------------------------
    def report(self, message: str) -> None:
        """One line under the steps (empty clears it)."""
        self.error.setText(message)

    def _run(self, command: Callable[..., Any], *args: Any) -> bool:
        try:
            command(*args)
        except MdareadError as exc:
            self.report(str(exc))
            return False
        self.report("")
        return True

    def _modality(self, _: int) -> None:
        text = self.modality.currentText()
        if text != NO_MODALITY:
            self._run(self.read.set_modality, text)

    def _days(self) -> None:
        text = self.days.text().strip()
        if text.lstrip("-").isdigit():
            self._run(self.read.set_days, int(text))

    def _override(self) -> None:
        if self.read.locked:
            return
        category = self.override_category.currentText() if self.override_box.isChecked() else None
        self._run(self.read.set_override, category, self.override_reason.text())

    def _show_step(self, row: int) -> None:
        if 0 <= row < len(self.pages):
            self.stack.setCurrentIndex(row)
            self.pages[row].refresh()

    def suggest_level(self, level: str) -> None:
        """Preset the level of the next lesion to add (the vertebra under the viewer's cursor)
        unless the reader is choosing one."""
        for page in self.pages:
            box = getattr(page, "level", None)
            if isinstance(box, QComboBox) and not box.hasFocus() and box.findText(level) >= 0:
                box.setCurrentText(level)

    def current_lesion(self) -> str | None:
        """The tracked lesion whose step is shown (a measuring tool feeds its diameters with
        ``self.read.set_measurement(lesion_id, …)``), or None on another step."""
        page = self.stack.currentWidget()
        return page.lesion_id if isinstance(page, LesionPage) else None

    def step(self, delta: int) -> None:
        row = min(max(self.steps.currentRow() + delta, 0), len(self.pages) - 1)
        self.steps.setCurrentRow(row)

    def save(self) -> None:
        if not self.read.locked and self._run(self.read.save_draft):
            self.report("Draft saved")
            self.saved.emit()

    def sign(self) -> None:
        if not self.read.locked and self._run(self.read.sign):
            self.signed.emit()

    def correct(self) -> None:
        if self._correct is None or not self.read.locked:
            return
        try:
            new = self._correct(self.read, self.correction_reason.text())
        except MdareadError as exc:
            self.report(str(exc))
            return
        self.read.changed.disconnect(self.refresh)
        self.correction_reason.clear()
        self.set_read(new)
        self.report(f"Correction of read {new.supersedes}: edit and sign again")

    # --- showing -----------------------------------------------------------------------------
    def refresh(self) -> None:
        read = self.read
        day = "day ?" if read.days is None else f"day {read.days:g}"
        self.header.setText(f"{read.subject} · {read.label} · {day}")
        self.modality.setCurrentText(read.modality or NO_MODALITY)
        self.modality.setEnabled(not read.locked)
        self.days.setVisible(read.days is None and not read.locked)
        signed = reader_time(read.signed_at)
        self.state.setText(f"Signed by {read.reader} at {signed} (locked)" if read.locked
                           else f"Draft by {read.reader}" + (
                               f" · correction of read {read.supersedes}" if read.supersedes
                               else ""))
        self.earlier.setText(self._earlier_text())
        self.result.show_read(read)
        for row, page in enumerate(self.pages):
            page.refresh()
            page.setEnabled(not read.locked)
            item = self.steps.item(row)
            if item is not None:
                item.setText(("✓ " if page.complete() else "• ") + page.title())
        self._refresh_override()
        self._refresh_buttons()

    def _earlier_text(self) -> str:
        read = self.read
        lines = [f"{e.label}: {e.category or '—'}"
                 + (f" → final {read.final_of(e.label)}" if read.final_of(e.label) else "")
                 for e in read.earlier if e.label != read.label]
        return "Earlier signed: " + ("; ".join(lines) if lines else "none")

    def _refresh_override(self) -> None:
        read = self.read
        for widget in (self.override_box, self.override_category, self.override_reason):
            widget.blockSignals(True)
            widget.setEnabled(not read.locked)
        self.override_box.setChecked(read.override_category is not None)
        if read.override_category is not None:
            self.override_category.setCurrentText(read.override_category)
        if not self.override_reason.hasFocus():
            self.override_reason.setText(read.override_reason)
        for widget in (self.override_box, self.override_category, self.override_reason):
            widget.blockSignals(False)

    def _refresh_buttons(self) -> None:
        read = self.read
        missing = read.missing()
        self.save_button.setEnabled(not read.locked)
        self.sign_button.setText(f"Sign as {read.reader}" if read.reader else "Sign")
        self.sign_button.setEnabled(not read.locked and not missing and read.error is None)
        tip = ("Signed" if read.locked else
               "Sign and lock this timepoint (Ctrl+Return)"
               + ("\nMissing:\n• " + "\n• ".join(missing) if missing else
                  f"\n{read.error}" if read.error else ""))
        self.sign_button.setToolTip(tip)
        self.correction_row.setVisible(read.locked and self._correct is not None)


GUIDED_KEYS: tuple[tuple[str, str], ...] = (
    ("Ctrl+Return", "sign the guided read (never anything else; accept a registration: "
                    "Ctrl+Shift+A)"),
    ("Ctrl+S", "save the guided read as a draft"),
    ("Ctrl+PgDown / Ctrl+PgUp", "next / previous step of the guided read"),
)


class GuidedReadController(QObject):
    """Keeps the main window's right-hand dock on the open case's guided read; unsaved answers
    are kept as a draft when the case, the timepoint or the window changes."""

    def __init__(self, window: Any, ws: Any, actor: Any) -> None:
        super().__init__(window)
        self.window, self.ws, self.actor = window, ws, actor
        window.installEventFilter(self)
        self.panel: GuidedReadPanel | None = None
        self.current: tuple[str, str] | None = None
        self.tabbed = False
        self.on_open: list[Callable[[GuidedRead], None]] = []
        """Called with each read the dock opens (the calipers redraw its measurements)."""
        window.session.timepoint_changed.connect(lambda _side: self._later())
        window.session.cursor_changed.connect(self._cursor)

    @property
    def read(self) -> GuidedRead | None:
        """The guided read shown in the dock (for measuring tools), or None."""
        return self.panel.read if self.panel is not None else None

    def _cursor(self, side: str) -> None:
        """Baseline lesions are added on the baseline side, new lesions on the follow-up."""
        panel = self.panel
        if panel is None or panel.read.locked or (side == "baseline") != panel.read.is_baseline:
            return
        session = self.window.session
        cursor = session.sides[side].cursor
        level = session.readout(side, cursor).level if cursor is not None else None
        if level:
            panel.suggest_level(level)

    def _later(self) -> None:
        QTimer.singleShot(0, self.sync)  # after the session has chosen both sides

    def wanted(self) -> tuple[str, str] | None:
        session = self.window.session
        if session.subject is None:
            return None
        label = session.sides["followup"].timepoint or session.sides["baseline"].timepoint
        return (session.subject, label) if label else None

    def sync(self, force: bool = False) -> None:
        if not self.window.isVisible():
            return  # closed (a deferred call may arrive after the workspace is gone)
        wanted = self.wanted()
        if wanted is not None and (force or wanted != self.current):
            self.open(*wanted)

    def open(self, subject: str, label: str) -> None:
        """Show the guided read of ``subject`` at ``label`` (its baseline when that is not
        signed yet, with a note saying so)."""
        from mdaread.workflow.reads_service import baseline_label, correct, open_guided_read

        note = ""
        try:
            read = open_guided_read(self.ws, self.actor, subject, label)
        except MdareadError as exc:
            base = baseline_label(self.ws, subject)
            if base is None or base == label:
                self.window.show_error("Cannot open the guided read", str(exc))
                return
            note = f"{exc}."
            read = open_guided_read(self.ws, self.actor, subject, base)
        labels = [t.label for t in self.ws.list_timepoints(subject)]
        panel = GuidedReadPanel(
            read, labels=labels, note=note,
            correct=lambda r, reason: correct(self.ws, self.actor, r, reason))
        panel.signed.connect(self._signed)
        panel.saved.connect(self.window.refresh_worklist)  # "draft", not "not read"
        panel.timepoint_requested.connect(self._requested)
        previous, self.panel, self.current = self.panel, panel, (subject, label)
        size = self.window.size()
        self._place_dock(panel)
        self.window.set_side_panel(panel, "Guided read")
        self.window.guided_read_dock.raise_()
        if self.tabbed:
            self.window.resize(size)  # the dock shares the worklist's column: no wider window
        if previous is not None:  # the dock does not delete the widget it held
            self._keep(previous.read)
            previous.hide()
            previous.deleteLater()
        for callback in self.on_open:
            callback(read)

    def _place_dock(self, panel: QWidget) -> None:
        """Beside the viewers when the screen is wide enough; else as a tab beside the worklist,
        so the window never grows wider than the screen (raised while a case is read)."""
        window = self.window
        dock, worklist = window.guided_read_dock, window.findChild(QDockWidget, "worklistDock")
        screen = window.screen()
        available = screen.availableGeometry().width() if screen is not None else 1600
        central = window.centralWidget()
        need = (central.minimumSizeHint().width() if central is not None else 0) + (
            worklist.minimumSizeHint().width() if worklist is not None else 0
        ) + panel.minimumSizeHint().width() + 24
        if worklist is not None and need > available and not self.tabbed:
            window.tabifyDockWidget(worklist, dock)
            self.tabbed = True

    def _keep(self, read: GuidedRead, refresh: bool = True) -> None:
        """Save unsaved answers as a draft before their panel goes away (switching timepoint or
        case, closing the window); a refusal is shown in the status bar."""
        if read.dirty and not read.locked:
            try:
                read.save_draft()
                self.window.status_label.setText(
                    f"Draft of {read.subject} {read.label} saved")
                if refresh:
                    self.window.refresh_worklist()  # its row says "draft" now
            except MdareadError as exc:
                self.window.status_label.setText(f"Draft not saved: {exc}")

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if event.type() == QEvent.Type.Close and self.panel is not None:
            self._keep(self.panel.read, refresh=False)  # the window closes
        return False

    def _signed(self) -> None:
        self.window.refresh_worklist()
        if self.panel is not None and self.panel.read.is_baseline:
            QTimer.singleShot(0, lambda: self.sync(force=True))  # the follow-up can start now

    def _requested(self, label: str) -> None:
        if label in self.window.session.followup_labels():
            self.window.set_followup(label)
        elif self.current is not None:
            self.open(self.current[0], label)


def attach_guided_read(window: Any) -> GuidedReadController | None:
    """Wire the guided read into ``window`` when its source is a workspace (has ``ws`` and
    ``actor``) and the actor reads (reader or adjudicator); other sources (in-memory tests, no
    workspace) and the data manager get no panel."""
    ws, actor = getattr(window.source, "ws", None), getattr(window.source, "actor", None)
    if ws is None or actor is None or getattr(actor, "role", "") not in ("reader", "adjudicator"):
        return None  # the data manager does not read
    controller = GuidedReadController(window, ws, actor)
    window.guided_read = controller  # kept alive with the window
    window.overlay.add(GUIDED_KEYS)  # its keys on the shortcut card (F1)
    return controller
