"""Small widgets of the guided read panel: a Yes/No question, a millimetre field, the result box.

They hold no state of their own beyond what they display: the panel sets them from the
``GuidedRead`` (with signals blocked) and forwards the reader's gestures to it.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QDoubleValidator
from PyQt6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from mdaread.ui import theme
from mdaread.workflow.guided_read import GuidedRead


def muted(text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setObjectName("muted")
    label.setWordWrap(wrap)
    return label


class YesNo(QWidget):
    """A question answered Yes or No (neither ticked = unanswered). Emits ``answered(bool)``."""

    answered = pyqtSignal(bool)

    def __init__(self, question: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(question)
        self.label.setWordWrap(True)
        self.yes, self.no = QRadioButton("Yes"), QRadioButton("No")
        self.group = QButtonGroup(self)
        for button in (self.yes, self.no):
            self.group.addButton(button)
        self.yes.clicked.connect(lambda: self.answered.emit(True))
        self.no.clicked.connect(lambda: self.answered.emit(False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.yes)
        layout.addWidget(self.no)

    def set_value(self, value: bool | None) -> None:
        """Show ``value`` without emitting (None unticks both)."""
        self.group.setExclusive(False)
        for button, checked in ((self.yes, value is True), (self.no, value is False)):
            button.blockSignals(True)
            button.setChecked(checked)
            button.blockSignals(False)
        self.group.setExclusive(True)


class MmEdit(QLineEdit):
    """A length in millimetres (empty = not given)."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        validator = QDoubleValidator(0.0, 1000.0, 1, self)
        validator.setNotation(QDoubleValidator.Notation.StandardNotation)
        self.setValidator(validator)
        self.setMaximumWidth(90)

    def value(self) -> float | None:
        text = self.text().strip().replace(",", ".")
        try:
            return float(text) if text else None
        except ValueError:
            return None

    def set_value(self, value: float | None) -> None:
        if self.hasFocus() and self.value() == value:
            return  # do not disturb the reader's typing
        self.blockSignals(True)
        self.setText("" if value is None else f"{value:g}")
        self.blockSignals(False)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} %"


def _mm2(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} mm²"


class ResultBox(QFrame):
    """The computed category, the deciding rule, SPD and change %, warnings: live."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guidedResult")
        self.setStyleSheet("QFrame#guidedResult { border: 1px solid #2f3439; "
                           "border-radius: 4px; } QFrame#guidedResult QLabel "
                           "{ background: transparent; }")
        self.category = QLabel("—")
        self.category.setStyleSheet(f"font-size: 20px; font-weight: bold; color: {theme.ACCENT};")
        self.status = muted()
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.numbers = muted()
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {theme.ERROR};")
        top = QHBoxLayout()
        top.addWidget(self.category)
        top.addWidget(self.status, 1, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        layout.addLayout(top)
        for widget in (self.rule, self.numbers, self.warnings):
            layout.addWidget(widget)

    def show_read(self, read: GuidedRead) -> None:
        result = read.result
        if result is None:
            self.category.setText("?")
            self.status.setText("cannot compute yet")
            self.rule.setText(read.error or "")
            self.numbers.setText("")
            self.warnings.setText("")
            return
        shown = result.category or "no category"
        self.category.setText(shown)
        missing = len(read.missing())
        state = ("signed" if read.locked else
                 f"provisional — {missing} answer{'s' * (missing != 1)} missing" if missing
                 else "complete — ready to sign")
        final = f"final {result.final_category}" if result.final_category else ""
        self.status.setText("  ".join(t for t in (final, state) if t))
        rule = f"Rule {result.computed_rule}: {read.rule_help}"
        if read.override is not None:
            rule = (f"Override of computed {result.computed_category} ({result.computed_rule})"
                    f": {read.override.reason}")
        self.rule.setText(rule)
        self.numbers.setText(f"SPD {_mm2(result.spd_mm2)} (reference {result.reference} "
                             f"{_mm2(result.spd_ref_mm2)}), change {_pct(result.spd_change_pct)}")
        self.warnings.setText(", ".join(result.warnings))
