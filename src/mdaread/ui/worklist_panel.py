"""The worklist: subjects × timepoints with read status, filtered and sorted.

Rows come from ``ReadingSource.worklist()`` through the Qt-free ``filter_worklist`` and
``sort_worklist``; a WorklistEntry has no arm, so the reader can never see it here.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mdaread.ui import theme
from mdaread.workflow.worklist import (
    READ_STATUSES,
    WorklistEntry,
    filter_worklist,
    sort_worklist,
)

COLUMNS = ("Subject", "Timepoint", "Day", "Mod.", "Status")
SORT_KEYS = {"Subject": "subject", "Timepoint": "timepoint", "Status": "status", "Day": "days"}
STATUS_COLOURS = {"not read": theme.TEXT, "draft": theme.ACCENT, "signed": theme.MUTED}


class WorklistPanel(QWidget):
    """Emits ``entry_activated(WorklistEntry)`` on double click or Enter."""

    entry_activated = pyqtSignal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[WorklistEntry] = []
        self.shown: list[WorklistEntry] = []
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter subject or timepoint")
        self.filter_edit.setClearButtonEnabled(True)
        self.status_combo = QComboBox()
        self.status_combo.addItems(["any status", *READ_STATUSES])
        self.sort_combo = QComboBox()
        self.sort_combo.addItems([f"by {name.lower()}" for name in SORT_KEYS])
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setShowGrid(False)
        # `activated`: double click, or Enter/Return on the current row
        self.table.activated.connect(lambda index: self._activate(index.row()))

        controls = QHBoxLayout()
        controls.addWidget(self.status_combo)
        controls.addWidget(self.sort_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_edit)
        layout.addLayout(controls)
        layout.addWidget(self.table, 1)
        self.descending = False
        self.table.horizontalHeader().sectionClicked.connect(self._header_clicked)
        self.filter_edit.textChanged.connect(self.refresh)
        self.status_combo.currentIndexChanged.connect(self.refresh)
        self.sort_combo.currentIndexChanged.connect(self.refresh)

    def set_entries(self, entries: list[WorklistEntry]) -> None:
        self._entries = list(entries)
        self.refresh()

    def refresh(self) -> None:
        status = self.status_combo.currentText()
        key = list(SORT_KEYS.values())[self.sort_combo.currentIndex()]
        rows = filter_worklist(self._entries, self.filter_edit.text(),
                               None if status == "any status" else status)
        self.shown = sort_worklist(rows, key, descending=self.descending)
        self.table.setRowCount(len(self.shown))
        for row, entry in enumerate(self.shown):
            day = "" if entry.days is None else str(entry.days)
            values = (entry.subject, entry.timepoint, day, entry.modality, entry.status)
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                if column == 4:
                    item.setForeground(QColor(STATUS_COLOURS.get(entry.status, theme.TEXT)))
                self.table.setItem(row, column, item)

    def _header_clicked(self, column: int) -> None:
        """A click on a sortable column header sorts by it; a second click reverses."""
        name = COLUMNS[column]
        if name not in SORT_KEYS:
            return
        index = list(SORT_KEYS).index(name)
        if index == self.sort_combo.currentIndex():
            self.descending = not self.descending
            self.refresh()
        else:
            self.descending = False
            self.sort_combo.setCurrentIndex(index)  # refreshes

    def cell_texts(self) -> list[list[str]]:
        """Every visible cell's text (tests check what the reader can see)."""
        rows = []
        for r in range(self.table.rowCount()):
            items = [self.table.item(r, c) for c in range(self.table.columnCount())]
            rows.append([item.text() if item is not None else "" for item in items])
        return rows

    def select(self, subject: str, timepoint: str) -> None:
        for row, entry in enumerate(self.shown):
            if (entry.subject, entry.timepoint) == (subject, timepoint):
                self.table.selectRow(row)

    def _activate(self, row: int) -> None:
        if 0 <= row < len(self.shown):
            self.entry_activated.emit(self.shown[row])
