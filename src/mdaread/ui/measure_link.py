"""Calipers feed the guided read; the read's stored measurements are drawn again on reopening.

A caliper finished (or edited) on the side the guided read is about — the baseline side for a
baseline read, the follow-up side for a follow-up — becomes that lesion's measurement through
``GuidedRead.set_measurement`` (diameters, the four end points in LPS mm, the series UID, method
``manual`` — or ``semi-auto`` for an accepted click-to-segment proposal); saving the draft
stores them in the workspace. Which lesion: the one it measured before, else the lesion whose
step the guided read shows, else (baseline) the row selected in the lesion table; on the
baseline's lesion list with no row selected it fills the *Add lesion* form, and *Add lesion*
then keeps its end points. A ruler is a distance, never a diameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mdaread.errors import MdareadError
from mdaread.geometry.caliper import Caliper, caliper_from_endpoints
from mdaread.ui.guided_pages import BaselinePage
from mdaread.ui.measure_tools import Drawn, MeasureTools
from mdaread.workflow.guided_answers import Measurement
from mdaread.workflow.guided_read import GuidedRead


class MeasureLink:
    """Joins ``window.measure_tools`` to the guided-read controller ``guided``."""

    def __init__(self, window: Any, guided: Any) -> None:
        self.window, self.guided = window, guided
        self.tools: MeasureTools = window.measure_tools
        self.tools.on_change = self.finished
        guided.on_open.append(self.read_opened)

    def side_of(self, read: GuidedRead) -> str:
        return "baseline" if read.is_baseline else "followup"

    def _status(self, text: str) -> None:
        self.window.status_label.setText(text)

    # --- a caliper finished --------------------------------------------------------------------
    def finished(self, side: str, drawn: Drawn) -> None:
        if not isinstance(drawn.shape, Caliper):
            self._status(f"Ruler: {drawn.label()}")
            return
        read = self.guided.read
        panel = self.guided.panel
        if read is None or panel is None:
            self._status(f"Caliper {drawn.label()} (no guided read open: not recorded)")
            return
        if side != self.side_of(read):
            self._status(f"Caliper {drawn.label()} on the {side} side: not recorded "
                         f"(the guided read is {read.label}, on the {self.side_of(read)} side)")
            return
        if read.locked:
            self._status(f"Caliper {drawn.label()}: the read is signed, not recorded")
            return
        long_mm, perp_mm = drawn.shape.diameters()
        ends = [list(p) for p in drawn.shape.endpoints()]
        lesion = drawn.lesion_id or panel.current_lesion() or self._selected_baseline(panel)
        if lesion is None:
            page = panel.pages[0] if panel.pages else None
            if isinstance(page, BaselinePage):
                page.offer_measurement(long_mm, perp_mm, ends, drawn.series_uid,
                                       lambda lesion_id: self._recorded(side, drawn, lesion_id),
                                       drawn.method)
                self._status(f"Caliper {drawn.label()}: in the Add lesion form")
            else:
                self._status(f"Caliper {drawn.label()}: open a lesion's step to record it")
            return
        try:
            read.set_measurement(lesion, round(long_mm, 1), round(perp_mm, 1), ends,
                                 drawn.series_uid, drawn.method)
        except MdareadError as exc:
            self._status(f"Caliper not recorded: {exc}")
            return
        self._recorded(side, drawn, lesion)

    def _recorded(self, side: str, drawn: Drawn, lesion: str) -> None:
        drawn.lesion_id = lesion
        # one measurement per lesion and timepoint: the new caliper replaces an older one
        self.tools.drawn[side] = [d for d in self.tools.drawn[side]
                                  if d is drawn or d.lesion_id != lesion]
        self.tools.redraw(side)
        self._status(f"Lesion {drawn.label()} recorded")

    @staticmethod
    def _selected_baseline(panel: Any) -> str | None:
        page = panel.stack.currentWidget()
        if isinstance(page, BaselinePage):
            row = page.table.currentRow()
            if page.table.selectionModel().hasSelection() and 0 <= row < len(panel.read.tracked):
                return str(panel.read.tracked[row].id)
        return None

    # --- a read opened -------------------------------------------------------------------------
    def read_opened(self, read: GuidedRead) -> None:
        """Draw the read's stored calipers on its side (replacing what was drawn there); for a
        follow-up, the baseline side shows the signed read of the timepoint it shows."""
        from mdaread.workflow.reads_service import signed_measurements

        self.tools.set_drawn(self.side_of(read), drawn_from(read.measurements.values()))
        base_label = self.window.session.sides["baseline"].timepoint
        if not read.is_baseline and base_label:
            earlier = signed_measurements(self.guided.ws, read.subject, base_label, read.reader)
            self.tools.set_drawn("baseline", drawn_from(earlier))


def drawn_from(measurements: Iterable[Measurement]) -> list[Drawn]:
    """The measurements that carry four end points and a series, as calipers to draw."""
    drawn = []
    for m in measurements:
        if len(m.endpoints_lps) == 4 and m.series_uid:
            drawn.append(Drawn(caliper_from_endpoints(m.endpoints_lps), m.series_uid,
                               lesion_id=m.lesion_id, method=m.method))
    return drawn


def attach_measurements(window: Any) -> MeasureLink | None:
    """Wire the window's calipers to its guided read (None without a guided read)."""
    guided = getattr(window, "guided_read", None)
    if guided is None:
        return None
    link = MeasureLink(window, guided)
    window.measure_link = link
    return link
