"""One side of the reading (baseline or follow-up): header, series picker, three MPR views and
an info cell with window, series and the readout under the cursor."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mdaread.geometry.mpr import PLANES
from mdaread.geometry.window import drag_window
from mdaread.ui import theme
from mdaread.ui.slice_view import SliceView
from mdaread.workflow.reading import PRESET_NAMES, ReadingSession
from mdaread.workflow.worklist import SeriesChoice

SIDE_TITLES = {"baseline": "Baseline", "followup": "Follow-up"}
PRESET_LABELS = {"bone": "Bone", "soft tissue": "Soft", "cement": "Cem", "MR auto": "MR"}
# grid cell (row, column, row span, column span) of each view: the sagittal view — the spine's
# long axis, and usually a wide image — gets the whole top row
VIEW_CELLS = {"sagittal": (0, 0, 1, 2), "axial": (1, 0, 1, 1), "coronal": (1, 1, 1, 1)}


class SidePanel(QWidget):
    """Observes ``session`` for one ``side`` and turns gestures into session commands.

    ``series_requested(side, SeriesChoice)`` asks the main window to load another series.
    ``views`` maps plane → SliceView, where later overlays attach.
    """

    series_requested = pyqtSignal(str, object)
    view_zoomed = pyqtSignal(str, str, float)  # side, plane, factor: the reader zoomed a view
    view_reset = pyqtSignal(str, str)          # side, plane: the reader reset a view

    def __init__(self, session: ReadingSession, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.side = session, side
        colour = theme.BASELINE if side == "baseline" else theme.FOLLOWUP
        self.title = QLabel(SIDE_TITLES[side])
        self.title.setObjectName("sideTitle")
        self.title.setStyleSheet(f"color: {colour};")
        self.series_picker = QComboBox()
        # narrow enough for two sides and a dock on a 1280-pixel screen; the full name is in
        # the drop-down list
        self.series_picker.setMinimumContentsLength(10)
        self.series_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.series_picker.setToolTip("Series of this timepoint (CT, MR sequences)")
        self.series_picker.activated.connect(self._series_picked)
        self.preset_buttons: dict[str, QToolButton] = {}
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.series_picker, 1)
        for name in PRESET_NAMES:
            button = QToolButton()
            button.setText(PRESET_LABELS[name])
            button.setToolTip(f"Window preset: {name}")
            button.setStyleSheet("padding: 2px 5px;")
            button.clicked.connect(lambda _=False, n=name: self.session.apply_preset(n, side))
            self.preset_buttons[name] = button
            header.addWidget(button)

        self.views: dict[str, SliceView] = {}
        grid = QGridLayout()
        grid.setSpacing(2)
        for plane in PLANES:
            view = SliceView(plane)
            view.on_point = self._point
            view.on_scroll = self._scroll
            view.on_window_drag = self._window_drag
            view.on_hover = self._hover
            view.on_zoom = lambda plane, factor: self.view_zoomed.emit(self.side, plane, factor)
            view.on_reset = lambda plane: self.view_reset.emit(self.side, plane)
            self.views[plane] = view
            grid.addWidget(view, *VIEW_CELLS[plane])
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.readout = QLabel()
        self.readout.setWordWrap(True)
        self.readout.setStyleSheet(f"color: {theme.ACCENT};")
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(header)
        layout.addLayout(grid, 1)
        layout.addWidget(self.info)
        layout.addWidget(self.readout)

        session.timepoint_changed.connect(self._timepoint_changed)
        session.series_changed.connect(self._redraw_if_mine)
        session.cursor_changed.connect(self._redraw_if_mine)
        session.window_changed.connect(self._redraw_if_mine)

    # --- session → view ----------------------------------------------------------------------
    def _timepoint_changed(self, side: str) -> None:
        if side != self.side:
            return
        state = self.session.sides[side]
        label = state.timepoint or ""
        same = label.lower() == SIDE_TITLES[side].lower()
        self.title.setText(SIDE_TITLES[side] if same else f"{SIDE_TITLES[side]} · {label}")
        self.series_picker.clear()
        for choice in state.choices:
            self.series_picker.addItem(_choice_text(choice), choice)
            self.series_picker.setItemData(self.series_picker.count() - 1, _choice_tip(choice),
                                           Qt.ItemDataRole.ToolTipRole)
        self._fit_picker_list()
        for view in self.views.values():
            view.clear()
        self.info.setText("loading…" if state.choices else "no series at this timepoint")
        self.readout.setText("")

    def _fit_picker_list(self) -> None:
        """The drop-down list is as wide as its longest series name (the closed box may clip)."""
        picker = self.series_picker
        metrics = picker.fontMetrics()
        widest = max((metrics.horizontalAdvance(picker.itemText(i))
                      for i in range(picker.count())), default=0)
        view = picker.view()
        if view is not None:
            view.setMinimumWidth(widest + 40)  # frame, margins, a scroll bar

    def _redraw_if_mine(self, side: str) -> None:
        if side == self.side:
            self.redraw()

    def redraw(self) -> None:
        state = self.session.sides[self.side]
        for view in self.views.values():
            view.show_state(state)
        if state.series is not None:
            index = self.series_picker.findText(_choice_text(state.series))
            if index >= 0:
                self.series_picker.setCurrentIndex(index)
                self.series_picker.setToolTip(_choice_tip(state.series))
        if state.volume is not None and state.window is not None and state.cursor is not None:
            sx, sy, sz = state.volume.spacing
            k, j, i = state.volume.shape
            warnings = [w for w in (state.mpr.geometry("axial").warning if state.mpr else "",
                                    *state.volume.warnings) if w]
            self.info.setText(
                f"{state.volume.modality}  {i}×{j}×{k}  {sx:.2f}×{sy:.2f}×{sz:.2f} mm   "
                f"{state.window.label()}" + "".join(f"\n⚠ {w}" for w in warnings))
            self.readout.setText("cursor  " + self.session.readout(self.side, state.cursor).text())

    # --- gestures → session ------------------------------------------------------------------
    def _point(self, plane: str, world: object) -> None:
        self.session.set_cursor(self.side, world)  # type: ignore[arg-type]

    def _scroll(self, plane: str, delta: int) -> None:
        self.session.step(self.side, plane, delta)

    def _window_drag(self, dx: float, dy: float) -> None:
        window = self.session.sides[self.side].window
        if window is not None:
            self.session.set_window(self.side, drag_window(window, dx, dy))

    def _hover(self, world: object) -> None:
        self.readout.setText("mouse  " + self.session.readout(self.side, world).text())  # type: ignore[arg-type]

    def _series_picked(self, index: int) -> None:
        choice = self.series_picker.itemData(index)
        if isinstance(choice, SeriesChoice) and choice != self.session.sides[self.side].series:
            self.series_requested.emit(self.side, choice)


def _choice_text(choice: SeriesChoice) -> str:
    """The series as the picker lists it: its description, with the modality in front unless
    the description starts with it already ("CT SPINE 2mm", not "CT · CT SPINE 2mm")."""
    description = choice.description.strip()
    if not description:
        return choice.modality
    if description.upper().startswith(choice.modality.upper()):
        return description
    return f"{choice.modality} · {description}"


def _choice_tip(choice: SeriesChoice) -> str:
    """The picker's tooltip: the whole series name, whatever the combo box has room for."""
    return f"{choice.modality} series: {choice.description or '(no description)'}"
