"""The workstation's main window: worklist on the left, baseline | follow-up in the centre, a
right-hand dock for the guided read (issue 6), a registration toolbar (issue 5), and loading in a
worker thread with a progress bar and a cancel button."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QEventLoop, Qt, QThreadPool, QTimer, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mdaread.errors import MdareadError
from mdaread.ui import loader
from mdaread.ui.keyboard import KeyboardGuard
from mdaread.ui.measure_tools import TOOLS, MeasureTools
from mdaread.ui.segment_tool import SegmentTool
from mdaread.ui.shortcuts import ShortcutOverlay
from mdaread.ui.side_panel import SidePanel
from mdaread.ui.slice_view import SliceView
from mdaread.ui.worklist_panel import WorklistPanel
from mdaread.workflow.reading import PRESET_NAMES, SIDES, ReadingSession
from mdaread.workflow.worklist import ReadingSource, SeriesChoice, WorklistEntry


class MainWindow(QMainWindow):
    """``loading_finished`` fires when no load is running any more (screenshots wait for it).

    Extension points: ``set_side_panel(widget)`` fills the right-hand dock; ``registration_toolbar``
    takes the registration actions; ``panels[side].views[plane].view_box`` takes overlays.
    """

    loading_finished = pyqtSignal()

    def __init__(self, source: ReadingSource) -> None:
        super().__init__()
        self.source = source
        self.session = ReadingSession(source)
        self.jobs: dict[str, loader.Job] = {}
        self.closed = False
        """True once the window closed: worker results still queued for it are dropped (the
        job signals reach plain Python callables, which Qt does not disconnect when the
        window's widgets are destroyed — drawing into them crashed the test process)."""
        self._progress: dict[str, float] = {}
        self.error_dialog: QMessageBox | None = None
        self.last_error = ""
        self.setWindowTitle(f"mdaread — {source.name}")

        self.worklist = WorklistPanel()
        self.worklist.entry_activated.connect(self.open_entry)
        dock = QDockWidget("Worklist", self)
        dock.setObjectName("worklistDock")
        dock.setWidget(self.worklist)
        self.worklist.setMinimumWidth(310)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        self.guided_read_dock = QDockWidget("Guided read", self)
        self.guided_read_dock.setObjectName("guidedReadDock")
        placeholder = QLabel("The guided read panel\nappears here.")
        placeholder.setObjectName("muted")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.guided_read_dock.setWidget(placeholder)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.guided_read_dock)
        self.guided_read_dock.hide()  # shown by set_side_panel

        self._build_toolbars()
        self.panels = {side: SidePanel(self.session, side) for side in SIDES}
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for panel in self.panels.values():
            panel.series_requested.connect(self.load_side)
            panel.view_zoomed.connect(self._mirror_zoom)
            panel.view_reset.connect(self._mirror_reset)
            splitter.addWidget(panel)
        self.measure_tools = MeasureTools(self.session,
                                          {side: p.views for side, p in self.panels.items()})
        self.measure_tools.on_tool = self._tool_armed
        self.segment_tool = SegmentTool(self)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.segment_tool.bar)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.overlay = ShortcutOverlay(central)
        self._last_view: SliceView | None = None
        self.keyboard = KeyboardGuard(self, self.home_view)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        self._build_status_bar()
        self._build_shortcuts()
        self.session.link_changed.connect(self._link_changed)
        self.session.registration_changed.connect(self._registration_changed)
        self.session.series_changed.connect(
            lambda side: self._registration_changed(self.session.registration))
        self.refresh_worklist()

    # --- building ----------------------------------------------------------------------------
    def _build_toolbars(self) -> None:
        bar = QToolBar("Reading")
        bar.setObjectName("readingToolbar")
        bar.setMovable(False)
        self.case_label = QLabel("No case open — double-click a worklist entry")
        self.case_label.setObjectName("muted")
        bar.addWidget(self.case_label)
        bar.addSeparator()
        bar.addWidget(QLabel(" Follow-up: "))
        self.timepoint_strip = QWidget()
        self.timepoint_layout = QHBoxLayout(self.timepoint_strip)
        self.timepoint_layout.setContentsMargins(0, 0, 0, 0)
        self.timepoint_group = QButtonGroup(self)
        self.timepoint_group.setExclusive(True)
        bar.addWidget(self.timepoint_strip)
        bar.addSeparator()
        self.link_button = QToolButton()
        self.link_button.setText("Linked")
        self.link_button.setCheckable(True)
        self.link_button.setChecked(True)
        self.link_button.setToolTip("Link navigation between baseline and follow-up (L)")
        self.link_button.toggled.connect(self.session.set_linked)
        bar.addWidget(self.link_button)
        self.tool_buttons: dict[str, QToolButton] = {}
        for tool, text, key, tip in (
                ("caliper", "Caliper", "B", "drag on a slice; drag a handle to edit; Esc cancels"),
                ("ruler", "Ruler", "D", "drag on a slice; drag a handle to edit; Esc cancels"),
                ("segment", "Segment", "S", "click in a lesion: proposed outline and diameters; "
                 "A accepts, Esc discards")):
            button = QToolButton()
            button.setText(f"{text} ({key})")
            button.setCheckable(True)
            button.setToolTip(f"{text}: {tip}")
            button.clicked.connect(lambda _=False, t=tool: self.measure_tools.arm(t))
            self.tool_buttons[tool] = button
            bar.addWidget(button)
        help_button = QToolButton()
        help_button.setText("Shortcuts (F1)")
        help_button.clicked.connect(lambda: self.overlay.toggle())
        bar.addWidget(help_button)
        self.addToolBar(bar)

        self.registration_toolbar = QToolBar("Registration")
        self.registration_toolbar.setObjectName("registrationToolbar")
        self.registration_status = QLabel()
        self.registration_toolbar.addWidget(self.registration_status)
        self.addToolBar(self.registration_toolbar)
        self._registration_changed(None)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        assert status is not None  # QMainWindow creates it on first use
        self.status_label = QLabel("Ready")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop loading (Esc)")
        self.cancel_button.clicked.connect(self.cancel_loading)
        status.addWidget(self.status_label, 1)
        status.addPermanentWidget(self.progress_bar)
        status.addPermanentWidget(self.cancel_button)
        self.progress_bar.hide()
        self.cancel_button.hide()

    def _build_shortcuts(self) -> None:
        for number, name in enumerate(PRESET_NAMES, start=1):
            self._shortcut(str(number), lambda n=name: self.session.apply_preset(n))
        self._shortcut("L", self.link_button.toggle)
        self._shortcut("F1", self.overlay.toggle)
        self._shortcut("?", self.overlay.toggle)
        self._shortcut("Ctrl+]", lambda: self.step_followup(1))
        self._shortcut("Ctrl+[", lambda: self.step_followup(-1))
        self._shortcut("Ctrl+F", lambda: self.keyboard.choose(self.worklist.filter_edit))
        self._shortcut("B", lambda: self.measure_tools.arm("caliper"))
        self._shortcut("D", lambda: self.measure_tools.arm("ruler"))
        self._shortcut("S", lambda: self.measure_tools.arm("segment"))
        self._shortcut("A", self.segment_tool.accept)
        self._shortcut("Esc", self._escape)

    def _escape(self) -> None:
        """Esc closes the shortcut card when it is open, else drops a caliper being drawn, else a
        segmentation proposal, else disarms the measuring tool, else cancels loading."""
        tools = self.measure_tools
        if self.overlay.isVisible():
            self.overlay.hide()
        elif tools.grab is not None:
            tools.cancel()
        elif not (self.segment_tool.discard() or tools.cancel()):
            self.cancel_loading()

    def home_view(self) -> SliceView:
        """The view the keys go to when no text box was chosen: the view focused last, else
        the baseline's axial view."""
        return self._last_view or self.panels["baseline"].views["axial"]

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if isinstance(new, SliceView) and new.window() is self:
            self._last_view = new

    def _tool_armed(self, tool: str | None) -> None:
        for name in TOOLS:
            self.tool_buttons[name].setChecked(name == tool)

    def _shortcut(self, keys: str, slot) -> None:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.activated.connect(slot)

    def set_side_panel(self, widget: QWidget, title: str = "Guided read") -> None:
        """Put ``widget`` (e.g. the guided-read panel) in the right-hand dock and show it."""
        self.guided_read_dock.setWindowTitle(title)
        self.guided_read_dock.setWidget(widget)
        self.guided_read_dock.show()

    # --- worklist and cases ------------------------------------------------------------------
    def refresh_worklist(self) -> None:
        try:
            self.worklist.set_entries(self.source.worklist())
        except MdareadError as exc:
            self.show_error("Cannot read the worklist", str(exc))

    def open_entry(self, entry: WorklistEntry) -> None:
        self.open_case(entry.subject, entry.timepoint)

    def open_case(self, subject: str, timepoint: str | None = None) -> None:
        """Show ``subject``'s baseline beside ``timepoint`` (or its first follow-up); loads both."""
        self.cancel_loading()
        self.last_error = ""
        try:
            self.session.open(subject, timepoint)
        except MdareadError as exc:
            self.show_error("Cannot open the case", str(exc))
            return
        self.case_label.setText(f"  {subject}  ")
        self.case_label.setStyleSheet("font-weight: bold;")
        self._rebuild_timepoint_strip()
        self.worklist.select(subject, self.session.sides["followup"].timepoint
                             or self.session.sides["baseline"].timepoint or "")
        for side in SIDES:
            for view in self.panels[side].views.values():
                view.keep_view = False  # a case opens fitted to its images
            self._load_preferred(side)

    def set_followup(self, timepoint: str) -> None:
        """Switch the right side to another follow-up of the open subject and load it."""
        try:
            self.session.set_followup(timepoint)
        except MdareadError as exc:
            self.show_error("Cannot switch follow-up", str(exc))
            return
        self._check_timepoint(timepoint)
        for view in self.panels["followup"].views.values():
            view.keep_view = True  # the reader's zoom stays across follow-ups
        self._load_preferred("followup")

    def step_followup(self, delta: int) -> None:
        labels = self.session.followup_labels()
        current = self.session.sides["followup"].timepoint
        if not labels or current not in labels:
            return
        index = min(max(labels.index(current) + delta, 0), len(labels) - 1)
        if labels[index] != current:
            self.set_followup(labels[index])

    def _rebuild_timepoint_strip(self) -> None:
        layout = self.timepoint_layout
        for button in self.timepoint_group.buttons():
            self.timepoint_group.removeButton(button)
            layout.removeWidget(button)
            button.deleteLater()
        for label in self.session.followup_labels():
            button = QToolButton()
            button.setText(label)
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, t=label: self.set_followup(t))
            self.timepoint_group.addButton(button)
            layout.addWidget(button)
        self._check_timepoint(self.session.sides["followup"].timepoint)

    def _check_timepoint(self, label: str | None) -> None:
        for button in self.timepoint_group.buttons():
            button.setChecked(button.text() == label)

    # --- loading -----------------------------------------------------------------------------
    @property
    def is_loading(self) -> bool:
        return bool(self.jobs)

    def _load_preferred(self, side: str) -> None:
        choice = self.session.preferred_series(side)
        if choice is not None:
            self.load_side(side, choice)

    def load_side(self, side: str, choice: SeriesChoice) -> None:
        """Load ``choice`` in the worker pool and show it on ``side`` when done."""
        old = self.jobs.pop(side, None)
        if old is not None:
            old.cancel()
        job = loader.Job(f"{side}: {choice.description}",
                         lambda progress, cancel: self.session.load_volume(choice, progress,
                                                                           cancel))
        job.signals.progress.connect(self.while_open(
            lambda f, m, s=side: self._job_progress(s, f, m)))
        job.signals.succeeded.connect(self.while_open(
            lambda volume, s=side, j=job: self._loaded(s, j, choice, volume)))
        job.signals.failed.connect(self.while_open(
            lambda message, s=side, j=job: self._load_failed(s, j, message)))
        job.signals.finished.connect(lambda s=side, j=job: self._job_finished(s, j))
        self.jobs[side] = job
        self._progress[side] = 0.0
        self.status_label.setText(f"Loading {job.name}…")
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()
        loader.start(job)

    def _job_progress(self, side: str, fraction: float, message: str) -> None:
        if side in self.jobs:
            self._progress[side] = fraction
            done = sum(self._progress.get(s, 0.0) for s in self.jobs) / len(self.jobs)
            self.progress_bar.setValue(round(100 * done))
            if message:
                self.status_label.setText(message)

    def _loaded(self, side: str, job: loader.Job, choice: SeriesChoice, volume) -> None:
        if self.jobs.get(side) is not job or job.is_cancelled:
            return  # superseded or cancelled: drop it
        try:
            self.session.show(side, choice, volume)
        except MdareadError as exc:
            self._load_failed(side, job, str(exc))

    def _load_failed(self, side: str, job: loader.Job, message: str) -> None:
        if self.jobs.get(side) is not job:
            return
        self.panels[side].info.setText(f"Not loaded: {message}")
        self.show_error("Cannot load the series", message)

    def _job_finished(self, side: str, job: loader.Job) -> None:
        if self.jobs.get(side) is job:
            del self.jobs[side]
        if self.closed:
            return  # the bookkeeping above only: the widgets may be gone
        if not self.jobs:
            self.progress_bar.hide()
            self.cancel_button.hide()
            if not self.last_error:
                self.status_label.setText("Ready")
            self.loading_finished.emit()

    def cancel_loading(self) -> None:
        """Stop every running load (their results are dropped)."""
        if not self.jobs:
            return
        for side, job in list(self.jobs.items()):
            job.cancel()
            self.panels[side].info.setText("Loading cancelled")
        self.status_label.setText("Loading cancelled")

    def wait_until_loaded(self, timeout_ms: int = 120_000) -> bool:
        """Run the event loop until no load is running (True) or the timeout passes (False)."""
        if not self.is_loading:
            return True
        loop = QEventLoop()
        self.loading_finished.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self.loading_finished.disconnect(loop.quit)
        return not self.is_loading

    # --- linked zoom -------------------------------------------------------------------------
    def _other_view(self, side: str, plane: str):  # -> SliceView | None
        other = SIDES[1] if side == SIDES[0] else SIDES[0]
        view = self.panels[other].views[plane]
        return view if self.session.linked and view.geometry_ is not None else None

    def _mirror_zoom(self, side: str, plane: str, factor: float) -> None:
        """With linked navigation, zooming one side zooms the same view of the other side by
        the same factor, about its crosshair (the same anatomy)."""
        view = self._other_view(side, plane)
        if view is not None:
            view.zoom(factor, about_crosshair=True)

    def _mirror_reset(self, side: str, plane: str) -> None:
        view = self._other_view(side, plane)
        if view is not None:
            view.reset_view()

    # --- feedback ----------------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """A non-blocking error dialog with a one-line message (never a traceback)."""
        self.last_error = message
        self.status_label.setText(f"{title}: {message}")
        box = QMessageBox(QMessageBox.Icon.Warning, title, message,
                          QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.error_dialog = box
        box.open()

    def _link_changed(self, linked: bool) -> None:
        self.link_button.blockSignals(True)
        self.link_button.setChecked(linked)
        self.link_button.blockSignals(False)
        self.link_button.setText("Linked" if linked else "Unlinked")

    def _registration_changed(self, matrix) -> None:
        if matrix is not None:
            text, tip = " Linked via accepted registration ", "baseline LPS → follow-up LPS"
        else:
            text = " Linked in patient coordinates "
            tip = "no accepted registration: the same LPS point on both sides"
            volumes = [self.session.sides[s].volume for s in SIDES]
            frames = {v.frame_of_reference_uid for v in volumes if v is not None}
            if len(frames) > 1:
                # different scanner frames: patient coordinates only roughly correspond
                text = " Linked in patient coordinates (approximate) "
                tip += "; the scans have different frames of reference"
        self.registration_status.setText(text)
        self.registration_status.setToolTip(tip)

    def while_open(self, callback: Callable[..., None]) -> Callable[..., None]:
        """``callback`` for a worker signal, skipped once the window has closed."""
        def guarded(*args: object) -> None:
            if not self.closed:
                callback(*args)
        return guarded

    def closeEvent(self, event):
        app = QApplication.instance()
        if not self.closed and isinstance(app, QApplication):
            self.keyboard.stop()
            app.focusChanged.disconnect(self._focus_changed)
        self.closed = True
        for job in self.jobs.values():
            job.cancel()
        QThreadPool.globalInstance().waitForDone(5000)
        for panel in self.panels.values():
            for view in panel.views.values():
                view.release()
        super().closeEvent(event)
