"""The registration toolbar's vertebral level controls: the Level combo and the Label menu.

- Level: the levels known on the baseline series on show (the reader's labels, lesion levels;
  treated first, e.g. "L2 (treated)"), then "Cursor". Picking a level centres the registered
  region on it (``RegistrationSession.set_level``); "Cursor" centres it on the baseline cursor.
  The combo is refilled whenever the session's region or labels change.
- Label: "the cursor on <side> is …" T1–T12 (submenu), L1–L5, S1; and "Remove label". The side
  is the one clicked last (``RegistrationController.active_side``). Labels are stored by the
  session's LevelStore (the workspace, per series, audited).
"""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QComboBox, QLabel, QMenu, QToolButton

from mdaread.errors import MdareadError
from mdaread.model.vocabulary import LABELLED_LEVELS
from mdaread.ui.main_window import MainWindow
from mdaread.workflow.registration_session import Decision, RegistrationSession


class RegistrationHost(Protocol):
    """What the level controls use of their RegistrationController (registration_toolbar),
    named here so that the two modules do not import each other."""

    window: MainWindow
    session: RegistrationSession
    active_side: str
    info: QLabel

    def centre_on_cursor(self) -> None: ...

    def redraw(self) -> None: ...


CURSOR_ITEM = "Cursor"
"""The Level combo's last entry: centre the region on the baseline cursor."""


class LevelControls:
    """The Level combo (``box``) and the Label button (``button``) of one controller."""

    def __init__(self, controller: RegistrationHost) -> None:
        self.controller = controller
        self.session = controller.session
        self._shown_stored: Decision | None = None
        bar = controller.window.registration_toolbar
        self.box = QComboBox()
        self.box.setToolTip(
            "Centre of the registered region: a vertebral level known on the baseline (your "
            "labels, lesion levels; treated first) or the baseline cursor")
        self.box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.box.setMinimumContentsLength(8)
        self.box.activated.connect(self._picked)
        bar.addWidget(self.box)
        self.button = QToolButton()
        self.button.setText("Label")
        self.button.setToolTip(
            "Label the vertebral level at the cursor of the side you clicked last "
            "(stored with the series; labelling a level again moves it)")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu, self.header, self.actions, self.remove_menu = self._build_menu()
        self.button.setMenu(self.menu)
        bar.addWidget(self.button)
        self.session.region_changed.connect(self.refresh)
        self.refresh()

    def _build_menu(self) -> tuple[QMenu, QAction, dict[str, QAction], QMenu]:
        menu = QMenu(self.button)
        header = QAction("", menu)
        header.setEnabled(False)
        menu.addAction(header)
        thoracic = QMenu("T1 – T12", menu)
        menu.addMenu(thoracic)
        actions: dict[str, QAction] = {}
        for level in LABELLED_LEVELS:
            parent = thoracic if level.startswith("T") else menu
            action = QAction(level, parent)
            action.triggered.connect(lambda _=False, name=level: self.label(name))
            parent.addAction(action)
            actions[level] = action
        menu.addSeparator()
        remove = QMenu("Remove label", menu)
        menu.addMenu(remove)
        menu.aboutToShow.connect(self._update_menu)
        return menu, header, actions, remove

    # --- commands ------------------------------------------------------------------------------
    def pick(self, level: str | None) -> None:
        """Centre the region on the baseline's ``level`` (None: on the baseline cursor)."""
        if level is None:
            self.controller.centre_on_cursor()
            return
        try:
            landmark = self.session.set_level(level)
        except MdareadError as exc:
            self.controller.window.show_error("Registration", str(exc))
            self.refresh()
            return
        x, y, z = landmark.center
        self._say(f"region centre: {landmark.level}, LPS ({x:.0f}, {y:.0f}, {z:.0f}) mm")
        self.controller.redraw()

    def label(self, level: str, side: str | None = None) -> None:
        """Label ``level`` at the cursor of ``side`` (default: the side clicked last)."""
        side = side or self.controller.active_side
        try:
            landmark = self.session.label_level(side, level)
        except MdareadError as exc:
            self.controller.window.show_error("Label level", str(exc))
            return
        x, y, z = landmark.center
        self._say(f"{landmark.level} labelled on the {side} at LPS ({x:.0f}, {y:.0f}, "
                  f"{z:.0f}) mm")
        self._refresh_readout(side)

    def remove(self, level: str, side: str | None = None) -> None:
        """Remove the label of ``level`` on ``side`` (default: the side clicked last)."""
        side = side or self.controller.active_side
        try:
            self.session.remove_label(side, level)
        except MdareadError as exc:
            self.controller.window.show_error("Label level", str(exc))
            return
        self._say(f"label {level} removed from the {side}")
        self._refresh_readout(side)

    # --- session → widgets ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Refill the combo (known baseline levels, then Cursor) and select the one the region
        is centred on; say once when an accepted registration was taken up for the pair."""
        self.box.blockSignals(True)
        self.box.clear()
        for landmark in self.session.levels():
            text = f"{landmark.level} (treated)" if landmark.treated else landmark.level
            self.box.addItem(text, landmark.level)
        self.box.addItem(CURSOR_ITEM, "")
        current = self.session.level
        found = self.box.findData(current) if current else -1
        self.box.setCurrentIndex(found if found >= 0 else self.box.count() - 1)
        self.box.blockSignals(False)
        stored = self.session.stored
        if stored is not None and stored is not self._shown_stored:
            self._shown_stored = stored
            pairs = len(stored.provenance.pairs)
            where = f" on {stored.level}" if stored.level else ""
            shown = f", its {pairs} landmark pair(s) shown" if pairs else ""
            self._say(f"accepted {stored.method}{where} by {stored.by}{shown}")

    def _picked(self, index: int) -> None:
        data = self.box.itemData(index)
        self.pick(data if isinstance(data, str) and data else None)

    def _update_menu(self) -> None:
        side = self.controller.active_side
        self.header.setText(f"Cursor on the {side} is…")
        done = self.session.labelled(side)
        for level, action in self.actions.items():
            action.setText(f"{level}  ✓" if level in done else level)
        self.remove_menu.clear()
        for level in done:
            action = QAction(level, self.remove_menu)
            action.triggered.connect(lambda _=False, name=level: self.remove(name))
            self.remove_menu.addAction(action)
        self.remove_menu.setEnabled(bool(done))

    def _refresh_readout(self, side: str) -> None:
        """The readout names the level at the cursor: put the cursor back where it is."""
        cursor = self.controller.window.session.sides[side].cursor
        if cursor is not None:
            self.controller.window.session.set_cursor(side, cursor)

    def _say(self, text: str) -> None:
        self.controller.info.setText(f"  {text}  ")
