"""The keyboard-shortcut overlay (F1 or ?): every gesture of the workstation on one card."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Left click / drag", "move the cursor (both sides follow when linked)"),
    ("Wheel, ↑ ↓ ← →", "previous / next slice"),
    ("Page Up / Page Down", "10 slices"),
    ("Right drag", "window (left–right) / level (up–down)"),
    ("Middle drag, Shift+left drag", "pan"),
    ("Ctrl+wheel, + / −", "zoom (the other side too, when linked)"),
    ("R, Home", "reset zoom and pan (both sides when linked)"),
    ("C", "centre the view on the crosshair"),
    ("1  2  3  4", "bone / soft tissue / cement / MR auto window (both sides)"),
    ("B", "bidimensional caliper: drag the long axis, then drag a handle"),
    ("D", "ruler (distance in mm)"),
    ("S", "segment: click in a lesion for its outline, diameters and volume (cement kept out)"),
    ("A", "accept the proposed lesion measurement (drag its handles first to correct it)"),
    ("L", "link or unlink navigation"),
    ("Ctrl+] / Ctrl+[", "next / previous follow-up"),
    ("Ctrl+F", "filter the worklist"),
    ("Esc", "close this card, cancel the caliper / ruler, discard a proposal, or cancel loading"),
    ("F1, ?", "show or hide this card"),
)


class ShortcutOverlay(QFrame):
    """A card drawn over the views; hidden until toggled."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutOverlay")
        grid = QGridLayout(self)
        grid.setContentsMargins(18, 14, 18, 14)
        title = QLabel("<b>Keyboard and mouse</b>")
        grid.addWidget(title, 0, 0, 1, 2)
        for row, (keys, action) in enumerate(SHORTCUTS, start=1):
            key_label = QLabel(f"<b>{keys}</b>")
            key_label.setTextFormat(Qt.TextFormat.RichText)
            grid.addWidget(key_label, row, 0)
            grid.addWidget(QLabel(action), row, 1)
        self.hide()

    def add(self, rows: tuple[tuple[str, str], ...]) -> None:
        """Add ``(keys, action)`` rows below the card's own (registration, guided read)."""
        grid = self.layout()
        if not isinstance(grid, QGridLayout):
            return
        for keys, action in rows:
            row = grid.rowCount()
            key_label = QLabel(f"<b>{keys}</b>")
            key_label.setTextFormat(Qt.TextFormat.RichText)
            grid.addWidget(key_label, row, 0)
            grid.addWidget(QLabel(action), row, 1)

    def actions(self) -> dict[str, str]:
        """The card as {keys: action} (tests, help)."""
        grid = self.layout()
        assert isinstance(grid, QGridLayout)
        out = {}
        for row in range(1, grid.rowCount()):
            keys, action = grid.itemAtPosition(row, 0), grid.itemAtPosition(row, 1)
            if keys is not None and action is not None:
                k, v = keys.widget(), action.widget()
                if isinstance(k, QLabel) and isinstance(v, QLabel):
                    out[k.text().removeprefix("<b>").removesuffix("</b>")] = v.text()
        return out

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
            return
        self.adjustSize()
        parent = self.parentWidget()
        if parent is not None:
            self.move((parent.width() - self.width()) // 2, (parent.height() - self.height()) // 2)
        self.show()
        self.raise_()
