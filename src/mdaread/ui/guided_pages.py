"""The steps of the guided read panel: the baseline's lesion list, one page per tracked lesion
at a follow-up, and the timepoint questions. Each page shows the ``GuidedRead`` (``refresh``)
and turns gestures into its commands; errors go to ``report`` (one line, no dialog)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mdaread.errors import MdareadError
from mdaread.model.observations import (
    BASELINE_PHENOTYPES,
    NE_REASONS,
    NEW_LESION_PHENOTYPES,
    NEW_LESION_STATUSES,
)
from mdaread.ui import theme
from mdaread.ui.guided_widgets import MmEdit, YesNo, muted
from mdaread.workflow.guided_answers import FLAG_QUESTIONS, PANEL_LEVELS
from mdaread.workflow.guided_read import GuidedRead

DEFAULT_PHENOTYPE = "lytic"  # the form's phenotype for each new baseline lesion

Report = Callable[[str], None]


def combo(items: list[str] | tuple[str, ...], current: str | None = None) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    if current is not None:
        box.setCurrentText(current)
    return box


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    vertical, horizontal = table.verticalHeader(), table.horizontalHeader()
    if vertical is not None and horizontal is not None:
        vertical.setVisible(False)
        horizontal.setStretchLastSection(True)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setMaximumHeight(130)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()


class Page(QWidget):
    """A step: ``refresh`` shows the read; ``complete`` says whether its answers are all in."""

    def __init__(self, read: GuidedRead, report: Report) -> None:
        super().__init__()
        self.read, self.report = read, report

    def call(self, command: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run a GuidedRead command; a refusal is reported, never raised into Qt."""
        try:
            command(*args, **kwargs)
            self.report("")
        except MdareadError as exc:
            self.report(str(exc))

    def refresh(self) -> None: ...

    def title(self) -> str:
        return ""

    def complete(self) -> bool:
        return True


class BaselinePage(Page):
    """Baseline: the tracked lesions (add / remove), each with level, phenotype and size."""

    def __init__(self, read: GuidedRead, report: Report) -> None:
        super().__init__(read, report)
        self.table = _table(["Id", "Level", "Type", "Defined", "mm"])
        self.remove = QPushButton("Remove selected lesion")
        self.remove.clicked.connect(self._remove)
        self.lesion_id = QLineEdit()
        self.lesion_id.setMaximumWidth(70)
        self.level = combo(PANEL_LEVELS, "L1")
        self.phenotype = combo(sorted(BASELINE_PHENOTYPES), DEFAULT_PHENOTYPE)
        self.well_defined = QCheckBox("Well defined")
        self.well_defined.setChecked(True)
        self.long_mm, self.perp_mm = MmEdit("long mm"), MmEdit("perp mm")
        self.treated = QCheckBox("Treated index lesion")
        self.add = QPushButton("Add lesion")
        self.add.clicked.connect(self._add)
        # a caliper's diameters in the form: end points, series, who to tell, method
        self.pending: tuple[float, float, list[list[float]], str, Callable[[str], None],
                            str] | None = None
        form = QGridLayout()
        form.addWidget(QLabel("Id"), 0, 0)
        form.addWidget(self.lesion_id, 0, 1)
        form.addWidget(QLabel("Level"), 0, 2)
        form.addWidget(self.level, 0, 3)
        form.addWidget(QLabel("Phenotype"), 1, 0)
        form.addWidget(self.phenotype, 1, 1, 1, 3)
        form.addWidget(QLabel("Diameters"), 2, 0)
        sizes = QHBoxLayout()
        sizes.addWidget(self.long_mm)
        sizes.addWidget(QLabel("×"))
        sizes.addWidget(self.perp_mm)
        sizes.addWidget(QLabel("mm"))
        sizes.addStretch(1)
        form.addLayout(sizes, 2, 1, 1, 3)
        form.addWidget(self.well_defined, 3, 0, 1, 2)
        form.addWidget(self.treated, 3, 2, 1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tracked lesions (★ treated index)"))
        layout.addWidget(self.table)
        layout.addWidget(self.remove)
        layout.addWidget(muted("Add a lesion (measurable: well defined, both diameters ≥ "
                               f"{read.protocol.measurable_min_mm:g} mm)"))
        layout.addLayout(form)
        layout.addWidget(self.add)
        layout.addStretch(1)

    def title(self) -> str:
        return "Baseline lesions"

    def complete(self) -> bool:
        return bool(self.read.tracked)

    def offer_measurement(self, long_mm: float, perp_mm: float, endpoints: list[list[float]],
                          series_uid: str, recorded: Callable[[str], None],
                          method: str = "manual") -> None:
        """Fill the form's diameters from a caliper or a segmentation (``method``); *Add lesion*
        keeps its end points (LPS mm), series and method unless the reader retypes a diameter;
        ``recorded(lesion_id)`` follows."""
        long_mm, perp_mm = round(long_mm, 1), round(perp_mm, 1)
        self.long_mm.setText(f"{long_mm:g}")
        self.perp_mm.setText(f"{perp_mm:g}")
        self.pending = (long_mm, perp_mm, endpoints, series_uid, recorded, method)

    def _add(self) -> None:
        lesion_id = self.lesion_id.text().strip()
        long_mm, perp_mm = self.long_mm.value(), self.perp_mm.value()
        self.call(self.read.add_lesion, lesion_id, self.level.currentText(),
                  self.phenotype.currentText(), self.well_defined.isChecked(),
                  long_mm, perp_mm, self.treated.isChecked())
        added = any(les.id == lesion_id for les in self.read.tracked)
        pending, self.pending = self.pending, None
        if added and pending is not None and pending[:2] == (long_mm, perp_mm):
            self.call(self.read.set_measurement, lesion_id, long_mm, perp_mm, pending[2],
                      pending[3], pending[5])
            pending[4](lesion_id)
        if added:  # a fresh form for the next lesion: only the level (the cursor's) stays
            for edit in (self.long_mm, self.perp_mm):
                edit.clear()
            self.phenotype.setCurrentText(DEFAULT_PHENOTYPE)
            self.well_defined.setChecked(True)
            self.treated.setChecked(False)
            self.refresh()
            self.lesion_id.setText(self.read.next_lesion_id())

    def _remove(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.read.tracked):
            self.call(self.read.remove_lesion, self.read.tracked[row].id)

    def refresh(self) -> None:
        _fill(self.table, [[les.id + (" ★" if les.treated_index else ""), les.level,
                            les.phenotype, "well" if les.well_defined else "ill",
                            "—" if les.long_mm is None or les.perp_mm is None
                            else f"{les.long_mm:g} × {les.perp_mm:g}"]
                           for les in self.read.tracked])
        if not self.lesion_id.hasFocus():
            self.lesion_id.setText(self.read.next_lesion_id())


class LesionPage(Page):
    """A follow-up's questions on one tracked lesion."""

    def __init__(self, read: GuidedRead, report: Report, lesion_id: str) -> None:
        super().__init__(read, report)
        self.lesion_id = lesion_id
        les = read.lesion(lesion_id)
        size = ("ill defined" if not les.well_defined else
                f"baseline {les.long_mm:g} × {les.perp_mm:g} mm")
        measurable = "measurable" if read.measurable(lesion_id) else "not measurable"
        heading = QLabel(f"{les.id} — {les.level}, {les.phenotype}"
                         f"{', treated index' if les.treated_index else ''}")
        heading.setStyleSheet("font-weight: bold;")
        self.cement = YesNo(f"PMMA cement in {les.level}?")
        self.cement.answered.connect(lambda v: self.call(read.set_cement, les.level, v))
        self.reminder = QLabel()
        self.reminder.setWordWrap(True)
        self.reminder.setStyleSheet(f"color: {theme.ACCENT};")
        self.evaluable = YesNo("Evaluable?")
        self.evaluable.answered.connect(self._evaluable)
        self.reason = combo(["(why not?)", *sorted(NE_REASONS)])
        self.reason.activated.connect(lambda _: self._evaluable(False))
        self.long_mm, self.perp_mm = MmEdit("long mm"), MmEdit("perp mm")
        for edit in (self.long_mm, self.perp_mm):
            edit.editingFinished.connect(self._measure)
        self.method = muted(wrap=False)
        sizes = QHBoxLayout()
        sizes.addWidget(QLabel("Diameters"))
        sizes.addWidget(self.long_mm)
        sizes.addWidget(QLabel("×"))
        sizes.addWidget(self.perp_mm)
        sizes.addWidget(QLabel("mm"))
        sizes.addWidget(self.method, 1)
        self.signs: dict[str, QCheckBox] = {}
        self.sign_box = QVBoxLayout()
        self.reviewed = QPushButton("Signs reviewed")
        self.reviewed.setToolTip("Confirm the signs of this lesion (none ticked = none present)")
        self.reviewed.clicked.connect(lambda: self.call(read.confirm_signs, lesion_id))
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(muted(f"{size} ({measurable})"))
        for widget in (self.cement, self.reminder, self.evaluable, self.reason):
            layout.addWidget(widget)
        layout.addLayout(sizes)
        layout.addWidget(QLabel("Signs"))
        layout.addLayout(self.sign_box)
        layout.addWidget(self.reviewed)
        layout.addStretch(1)
        self._modality: str | None = "?"

    def title(self) -> str:
        les = self.read.lesion(self.lesion_id)
        return f"{les.id} ({les.level}, {les.phenotype})"

    def complete(self) -> bool:
        return self.read.lesion_complete(self.lesion_id)

    def _evaluable(self, value: bool) -> None:
        reason = self.reason.currentText() if self.reason.currentIndex() > 0 else None
        self.call(self.read.set_evaluable, self.lesion_id, value, None if value else reason)

    def _measure(self) -> None:
        long_mm, perp_mm = self.long_mm.value(), self.perp_mm.value()
        answers = self.read.answers[self.lesion_id]
        if (long_mm, perp_mm) == (answers.long_mm, answers.perp_mm):
            return
        if (long_mm is None) != (perp_mm is None):
            return  # wait for the other diameter
        self.call(self.read.set_measurement, self.lesion_id, long_mm, perp_mm)

    def _rebuild_signs(self) -> None:
        while self.sign_box.count():
            item = self.sign_box.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()  # type: ignore[union-attr]
        self.signs = {}
        for sign, help_text in self.read.signs_for(self.lesion_id):
            box = QCheckBox(sign.replace("_", " "))
            box.setToolTip(help_text)
            box.toggled.connect(lambda on, s=sign: self.call(self.read.set_sign, self.lesion_id,
                                                             s, on))
            self.signs[sign] = box
            self.sign_box.addWidget(box)
            explanation = muted(help_text)
            explanation.setContentsMargins(22, 0, 0, 4)
            self.sign_box.addWidget(explanation)

    def refresh(self) -> None:
        read, les = self.read, self.read.lesion(self.lesion_id)
        answers = read.answers[self.lesion_id]
        if read.modality != self._modality:
            self._modality = read.modality
            self._rebuild_signs()
        self.cement.set_value(read.cement.get(les.level))
        reminder = read.cement_reminder(self.lesion_id)
        self.reminder.setText(reminder or "")
        self.reminder.setVisible(reminder is not None)
        self.evaluable.set_value(answers.evaluable)
        self.reason.setEnabled(answers.evaluable is False)
        self.reason.setCurrentText(answers.ne_reason or "(why not?)")
        evaluable = answers.evaluable is not False
        for edit, value in ((self.long_mm, answers.long_mm), (self.perp_mm, answers.perp_mm)):
            edit.set_value(value)
            edit.setEnabled(evaluable)
        m = read.measurements.get(self.lesion_id)
        self.method.setText("" if m is None or (m.method == "manual" and not m.endpoints_lps)
                            else f"{m.method}{' · ' + m.series_uid[-12:] if m.series_uid else ''}")
        for sign, box in self.signs.items():
            box.blockSignals(True)
            box.setChecked(sign in answers.signs)
            box.setEnabled(evaluable)
            box.blockSignals(False)
        self.reviewed.setEnabled(evaluable)
        self.reviewed.setText("Signs reviewed ✓" if answers.signs_reviewed else "Signs reviewed")


class TimepointPage(Page):
    """A follow-up's questions on the whole timepoint: new lesions and the flags."""

    def __init__(self, read: GuidedRead, report: Report) -> None:
        super().__init__(read, report)
        self.scan = QCheckBox("Scan available")
        self.scan.toggled.connect(lambda on: self.call(read.set_scan_available, on))
        self._said_yes = False
        self.new_any = YesNo("New bone lesions?")
        self.new_any.answered.connect(self._new_any)
        self.table = _table(["Level", "Status", "Phenotype", "Id"])
        self.remove = QPushButton("Remove selected")
        self.remove.clicked.connect(self._remove)
        self.level = combo(PANEL_LEVELS, "L1")
        self.status = combo(sorted(NEW_LESION_STATUSES), "definite")
        self.phenotype = combo(sorted(NEW_LESION_PHENOTYPES), "lytic")
        self.new_id = QLineEdit()
        self.new_id.setPlaceholderText("id (optional)")
        self.new_id.setMaximumWidth(100)
        self.add = QPushButton("Add new lesion")
        self.add.clicked.connect(self._add)
        form = QHBoxLayout()
        for widget in (self.level, self.status, self.phenotype, self.new_id):
            form.addWidget(widget)
        self.flags = {name: YesNo(question) for name, question in FLAG_QUESTIONS.items()}
        for name, question in self.flags.items():
            question.answered.connect(lambda v, n=name: self.call(read.set_flag, n, v))
        layout = QVBoxLayout(self)
        layout.addWidget(self.scan)
        layout.addWidget(self.new_any)
        layout.addWidget(self.table)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        layout.addLayout(buttons)
        for question in self.flags.values():
            layout.addWidget(question)
        layout.addStretch(1)

    def title(self) -> str:
        return "Timepoint questions"

    def complete(self) -> bool:
        read = self.read
        return not read.scan_available or (read.new_lesions is not None and all(
            value is not None for value in read.flags.values()))

    def _new_any(self, value: bool) -> None:
        self._said_yes = value
        if not value:
            self.call(self.read.set_no_new_lesions)
        else:
            self.report("Add each new lesion below (level, status, phenotype)")

    def _add(self) -> None:
        self.call(self.read.add_new_lesion, self.level.currentText(), self.status.currentText(),
                  self.phenotype.currentText(), self.new_id.text().strip() or None)

    def _remove(self) -> None:
        self.call(self.read.remove_new_lesion, self.table.currentRow())

    def refresh(self) -> None:
        read = self.read
        self.scan.blockSignals(True)
        self.scan.setChecked(read.scan_available)
        self.scan.blockSignals(False)
        lesions = read.new_lesions
        if lesions is None:  # "Yes" stays ticked until the first new lesion is added
            self.new_any.set_value(True if self._said_yes else None)
        else:
            self._said_yes = bool(lesions)
            self.new_any.set_value(bool(lesions))
        _fill(self.table, [[n.level, n.status, n.phenotype, n.id or ""] for n in lesions or []])
        for name, question in self.flags.items():
            question.set_value(read.flags[name])
            question.setEnabled(read.scan_available)
