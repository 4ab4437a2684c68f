"""Registration in the workstation: the toolbar, the worker job, nudge keys and landmark clicks.

``attach_registration(window)`` wires a ``RegistrationSession`` (mdaread.workflow) into a
MainWindow through its extension points only: ``registration_toolbar`` takes the actions,
``panels[side].views[plane]`` take the overlay and landmark markers (``add_overlay``), and
each view's ``on_point`` callback is wrapped to collect landmark clicks. Accepting sets the
reading session's matrix, so linked navigation follows it.

The region is centred on a vertebral level picked in the Level combo (the baseline's labels and
lesion levels, treated first; "Cursor" = the baseline cursor); "Label" stores "this is L1" at
the cursor of the side clicked last (labels go to the workspace and update the combo).

Keys (window-wide): Ctrl+Shift+R register, Ctrl+Shift+F refine, Ctrl+Shift+A accept,
Ctrl+Backspace reject (Ctrl+Return signs the guided read, never accepts), O next overlay
mode, M landmark mode; nudges move the overlaid follow-up
in baseline LPS axes about the region centre, 1 mm / 1° per press: Alt+←/→ along x (right/left),
Alt+↑/↓ along z (up = superior), Alt+PgUp/PgDn along y (anterior/posterior); with Shift the
same keys rotate: about z, about x, about y.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QComboBox,
    QLabel,
    QProgressBar,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from mdaread.errors import MdareadError
from mdaread.ui import loader, theme
from mdaread.ui.main_window import MainWindow
from mdaread.ui.registration_levels import LevelControls
from mdaread.ui.registration_overlay import (
    MODES,
    BaselineOverlay,
    LandmarkMarkers,
    LevelMarkers,
)
from mdaread.workflow.reading import SIDES
from mdaread.workflow.registration_session import (
    NUDGE_DEG,
    NUDGE_MM,
    Decision,
    Proposal,
    RegistrationJob,
    RegistrationSession,
    describe,
    store_for,
)

# key → (translation mm, rotation deg) per press, in baseline LPS (x → patient left,
# y → posterior, z → superior)
NUDGE_KEYS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "Alt+Right": ((NUDGE_MM, 0, 0), (0, 0, 0)), "Alt+Left": ((-NUDGE_MM, 0, 0), (0, 0, 0)),
    "Alt+Up": ((0, 0, NUDGE_MM), (0, 0, 0)), "Alt+Down": ((0, 0, -NUDGE_MM), (0, 0, 0)),
    "Alt+PgUp": ((0, -NUDGE_MM, 0), (0, 0, 0)), "Alt+PgDown": ((0, NUDGE_MM, 0), (0, 0, 0)),
    "Alt+Shift+Right": ((0, 0, 0), (0, 0, NUDGE_DEG)),
    "Alt+Shift+Left": ((0, 0, 0), (0, 0, -NUDGE_DEG)),
    "Alt+Shift+Up": ((0, 0, 0), (NUDGE_DEG, 0, 0)),
    "Alt+Shift+Down": ((0, 0, 0), (-NUDGE_DEG, 0, 0)),
    "Alt+Shift+PgUp": ((0, 0, 0), (0, NUDGE_DEG, 0)),
    "Alt+Shift+PgDown": ((0, 0, 0), (0, -NUDGE_DEG, 0)),
}

KEY_HELP: tuple[tuple[str, str], ...] = (
    ("Ctrl+Shift+R / Ctrl+Shift+F", "register / refine the proposal"),
    ("Ctrl+Shift+A / Ctrl+Backspace", "accept / reject the registration proposal"),
    ("O, M", "next overlay mode (blend, checkerboard, difference, off) / landmark mode"),
    ("Alt+← → / ↑ ↓ / PgUp PgDn", "nudge the follow-up 1 mm along x / z / y"),
    ("Alt+Shift+same keys", "rotate it 1° about z / x / y (region centre)"),
)


class _CloseWatcher(QObject):
    """Cancels a running registration when the window closes (its pool waits for jobs)."""

    def __init__(self, controller: RegistrationController) -> None:
        super().__init__(controller.window)
        self.controller = controller

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.Close:
            self.controller.cancel()
        return False


class RegistrationController:
    """Owns the RegistrationSession of one MainWindow and its widgets."""

    def __init__(self, window: MainWindow, session: RegistrationSession) -> None:
        self.window, self.session = window, session
        self.job: loader.Job | None = None
        self.active_side = "baseline"  # the side clicked last: "Label" labels its cursor
        self.overlays = {plane: BaselineOverlay(session, view)
                         for plane, view in window.panels["baseline"].views.items()}
        self.markers = [LandmarkMarkers(session, side, view)
                        for side in SIDES for view in window.panels[side].views.values()]
        self.level_markers = [LevelMarkers(side, view)
                              for side in SIDES for view in window.panels[side].views.values()]
        self._build_toolbar()
        self._build_shortcuts()
        self._wrap_clicks()
        session.proposal_changed.connect(self._proposal_changed)
        session.decided.connect(self._decided)
        session.failed.connect(lambda message: window.show_error("Registration", message))
        session.landmarks_changed.connect(self._landmarks_changed)
        window.session.registration_changed.connect(lambda *_: self.redraw())
        window.session.window_changed.connect(self._window_changed)
        self._close_watcher = _CloseWatcher(self)
        window.installEventFilter(self._close_watcher)
        self._update_actions()

    # --- building ----------------------------------------------------------------------------
    def _button(self, text: str, tip: str, slot: Callable[[], object],
                checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        if checkable:
            button.toggled.connect(lambda _=False: slot())
        else:
            button.clicked.connect(lambda _=False: slot())
        self.window.registration_toolbar.addWidget(button)
        return button

    def _build_toolbar(self) -> None:
        bar = self.window.registration_toolbar
        # a row of its own: beside the reading toolbar it would overflow into a hidden menu
        self.window.removeToolBar(bar)
        self.window.addToolBarBreak()
        self.window.addToolBar(bar)
        bar.show()
        bar.addSeparator()
        self.register_button = self._button(
            "Register", "Register the follow-up to the baseline around the treated vertebra "
            "(Ctrl+Shift+R)", self.register)
        self.refine_button = self._button(
            "Refine", "Refine the proposal (after nudges or landmarks) by intensity "
            "(Ctrl+Shift+F)", self.refine)
        self.accept_button = self._button(
            "Accept", "Accept the proposal: it is stored and linked navigation follows it "
            "(Ctrl+Shift+A)", self.accept)
        self.reject_button = self._button(
            "Reject", "Reject the proposal; the previous mapping stays (Ctrl+Backspace)",
            self.reject)
        self.levels = LevelControls(self)
        self.level_box, self.label_button = self.levels.box, self.levels.button
        self.radius_box = QSpinBox()
        self.radius_box.setRange(15, 100)
        self.radius_box.setSuffix(" mm")
        self.radius_box.setValue(round(self.session.radius_mm))
        self.radius_box.setToolTip("Radius of the region around the centre that is registered "
                                   "and overlaid")
        self.radius_box.valueChanged.connect(self.set_radius)
        self.session.region_changed.connect(self._show_radius)
        bar.addWidget(self.radius_box)
        bar.addSeparator()
        self.landmarks_button = self._button(
            "Landmarks", "Landmark mode (M): click a point on the baseline, then the same point "
            "on the follow-up; 3 pairs or more, then Fit", self._landmark_mode, checkable=True)
        self.fit_button = self._button("Fit", "Propose the rigid fit of the landmark pairs",
                                       self.fit_landmarks)
        self.undo_button = self._button("Undo", "Remove the last landmark pair",
                                        self.session.remove_last_landmark)
        bar.addSeparator()
        bar.addWidget(QLabel(" Overlay: "))
        self.mode_box = QComboBox()
        self.mode_box.addItems([m.capitalize() for m in MODES])
        self.mode_box.setToolTip("The follow-up resampled over the baseline views (O)")
        self.mode_box.currentIndexChanged.connect(lambda i: self.set_mode(MODES[i]))
        bar.addWidget(self.mode_box)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setMaximumWidth(100)
        self.opacity_slider.setToolTip("Blend opacity of the follow-up")
        self.opacity_slider.valueChanged.connect(lambda v: self.set_opacity(v / 100.0))
        bar.addWidget(self.opacity_slider)
        # messages, progress and cancel live in the status bar: the toolbar row is full
        status = self.window.statusBar()
        assert status is not None  # QMainWindow creates it on first use
        self.info = QLabel()
        self.info.setStyleSheet(f"color: {theme.ACCENT};")
        status.addWidget(self.info, 2)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(140)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop the registration")
        self.cancel_button.clicked.connect(self.cancel)
        self._busy_widgets: list[QWidget] = [self.progress, self.cancel_button]
        for widget in self._busy_widgets:
            status.addPermanentWidget(widget)
        self._show_busy(False)

    def _build_shortcuts(self) -> None:
        keys: dict[str, Callable[[], object]] = {
            "Ctrl+Shift+R": self.register, "Ctrl+Shift+F": self.refine,
            "Ctrl+Shift+A": self.accept, "Ctrl+Backspace": self.reject,
            "O": self.next_mode, "M": self.landmarks_button.toggle,
        }
        for key, (shift, turn) in NUDGE_KEYS.items():
            keys[key] = self._nudger(shift, turn)
        self._describe_keys()
        self.shortcuts = []
        for key, slot in keys.items():
            shortcut = QShortcut(QKeySequence(key), self.window)
            shortcut.activated.connect(slot)
            self.shortcuts.append(shortcut)

    def _describe_keys(self) -> None:
        """Add the registration keys to the window's shortcut card (F1)."""
        self.window.overlay.add(KEY_HELP)

    def _nudger(self, shift: tuple[float, float, float],
                turn: tuple[float, float, float]) -> Callable[[], None]:
        return lambda: self.nudge(shift, turn)

    def _wrap_clicks(self) -> None:
        """Landmark clicks: each view's on_point also records the point in landmark mode. A
        drag reports points with the button held: only the release (a click, a drag's end)
        counts, so a drag does not drop a trail of landmarks."""
        for side in SIDES:
            for view in self.window.panels[side].views.values():
                original = view.on_point

                def on_point(plane: str, world: object, side: str = side,
                             original: Callable[..., None] = original) -> None:
                    held = QGuiApplication.mouseButtons() & Qt.MouseButton.LeftButton
                    self.active_side = side
                    if self.landmarks_button.isChecked() and not held:
                        self.session.add_landmark(side, np.asarray(world, dtype=float))
                    original(plane, world)

                view.on_point = on_point

    # --- commands ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None

    def register(self) -> None:
        self._start(self.session.prepare_register)

    def refine(self) -> None:
        self._start(self.session.prepare_refine)

    def _start(self, prepare: Callable[[], RegistrationJob]) -> None:
        if self.busy:
            return
        try:
            job = prepare()
        except MdareadError as exc:
            self.window.show_error("Registration", str(exc))
            return
        worker = loader.Job(f"registration ({job.kind})",
                            lambda progress, cancel: job.run(progress, cancel))
        guard = self.window.while_open
        worker.signals.progress.connect(guard(self._progress))
        worker.signals.succeeded.connect(guard(lambda result: self.session.finish(job, result)))
        worker.signals.failed.connect(guard(
            lambda message: self.session.fail(job, f"registration failed, the previous "
                                                   f"mapping is kept: {message}")))
        worker.signals.cancelled.connect(
            guard(lambda: self.info.setText("  registration cancelled  ")))
        worker.signals.finished.connect(lambda w=worker: self._finished(w))
        self.job = worker
        self._progress(0.0, "registering…")
        self._show_busy(True)
        self._update_actions()
        loader.start(worker)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(100 * fraction))
        if message:
            self.info.setText(f"  {message}  ")

    def _finished(self, worker: loader.Job) -> None:
        if self.job is worker:
            self.job = None
        if self.window.closed:
            return  # the bookkeeping above only: the widgets may be gone
        self._show_busy(False)
        self._update_actions()

    def _show_busy(self, busy: bool) -> None:
        for widget in self._busy_widgets:
            widget.setVisible(busy)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def accept(self) -> None:
        self._decide(self.session.accept)

    def reject(self) -> None:
        self._decide(self.session.reject)

    def _decide(self, decide: Callable[[], Decision]) -> None:
        if self.session.proposal is None or self.busy:
            return
        try:
            decide()
        except MdareadError as exc:
            self.window.show_error("Registration not stored", str(exc))

    def nudge(self, shift: tuple[float, float, float], turn: tuple[float, float, float]) -> None:
        if self.busy:
            return
        try:
            self.session.nudge(shift, turn)
        except MdareadError as exc:
            self.window.show_error("Registration", str(exc))
            return
        if self.mode == "off":
            self.set_mode("blend")

    def centre_on_cursor(self) -> None:
        """Register (and overlay) around the baseline cursor from now on."""
        cursor = self.window.session.sides["baseline"].cursor
        if cursor is None:
            return
        self.session.set_center(cursor)
        x, y, z = (float(v) for v in cursor)
        self.info.setText(f"  region centre: LPS ({x:.0f}, {y:.0f}, {z:.0f}) mm  ")
        self.redraw()

    def _show_radius(self) -> None:
        """The box follows the session (a reopened pair brings its accepted radius back)."""
        if self.radius_box.value() != round(self.session.radius_mm):
            self.radius_box.blockSignals(True)
            self.radius_box.setValue(round(self.session.radius_mm))
            self.radius_box.blockSignals(False)

    def set_radius(self, radius_mm: float) -> None:
        self.session.radius_mm = float(radius_mm)
        self.redraw()

    def fit_landmarks(self) -> None:
        if self.session.fit_landmarks() is not None and self.mode == "off":
            self.set_mode("blend")

    # --- overlay -------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return MODES[self.mode_box.currentIndex()]

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"overlay mode must be one of {MODES}, got {mode!r}")
        if self.mode_box.currentIndex() != MODES.index(mode):
            self.mode_box.setCurrentIndex(MODES.index(mode))  # calls back here
            return
        for overlay in self.overlays.values():
            overlay.mode = mode
        self.redraw()

    def next_mode(self) -> None:
        self.set_mode(MODES[(MODES.index(self.mode) + 1) % len(MODES)])

    def set_opacity(self, opacity: float) -> None:
        for overlay in self.overlays.values():
            overlay.opacity = float(opacity)
        if self.mode == "blend":
            self.redraw()

    def redraw(self) -> None:
        """Redraw both sides (overlays and markers run after each view's own redraw)."""
        for panel in self.window.panels.values():
            panel.redraw()
        errors = {o.error for o in self.overlays.values() if o.error}
        if errors:
            self.info.setText("  overlay: " + "; ".join(sorted(errors)) + "  ")

    # --- session → widgets ---------------------------------------------------------------------
    def _window_changed(self, side: str) -> None:
        # the overlay over the baseline shows the follow-up in the follow-up's window: a change
        # of that window alone must repaint the baseline's views too (their own redraw does not)
        if side == "followup" and self.mode != "off":
            self.window.panels["baseline"].redraw()

    def _proposal_changed(self, proposal: Proposal | None) -> None:
        if proposal is not None:
            warn = f" — ⚠ {'; '.join(proposal.warnings)}" if proposal.warnings else ""
            self.info.setText(f"  Proposed: {describe(proposal)}{warn}  ")
            if self.mode == "off":
                self.set_mode("blend")  # show it: a registration is checked by eye
        else:
            self.info.setText("")
        self._update_actions()
        self.redraw()

    def _decided(self, decision: Decision) -> None:
        verb = "accepted" if decision.accepted else "rejected"
        self.info.setText(f"  {decision.method} {verb} by {decision.by} at {decision.at}  ")

    def _landmarks_changed(self) -> None:
        done = len(self.session.complete_pairs()[0])
        if self.landmarks_button.isChecked() or self.session.pairs:
            hint = " — click the other side" if len(self.session.pairs) > done else ""
            self.info.setText(f"  landmarks: {done} complete pair(s){hint}  ")
        self._update_actions()
        self.redraw()

    def _landmark_mode(self) -> None:
        self._landmarks_changed()

    def _update_actions(self) -> None:
        proposed = self.session.proposal is not None and not self.busy
        self.register_button.setEnabled(not self.busy)
        self.refine_button.setEnabled(proposed)
        self.accept_button.setEnabled(proposed)
        self.reject_button.setEnabled(proposed)
        self.fit_button.setEnabled(len(self.session.complete_pairs()[0]) >= 3 and not self.busy)
        self.undo_button.setEnabled(bool(self.session.pairs))


def attach_registration(window: MainWindow) -> RegistrationController:
    """Add registration to ``window``: decisions go to the workspace behind its source (or,
    for an in-memory source, back to the source). Kept as ``window.registration``."""
    session = RegistrationSession(window.session, store_for(window.source))
    controller = RegistrationController(window, session)
    window.registration = controller  # type: ignore[attr-defined]
    return controller
