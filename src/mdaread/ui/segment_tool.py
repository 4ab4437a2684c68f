"""Click-to-segment in the workstation: one click proposes a lesion; the reader accepts or not.

With the segment tool armed (S), a left click on a view sends its LPS point to
``workflow.measure_service.propose`` in a worker thread (the window stays live; a newer click
supersedes an older one). The proposal appears as a *pending* caliper on the patient-axial slice
where the lesion is largest — the cursor moves there — with the lesion's outline on every view,
cement in its own colour and leakage in red, and a bar above the views with the diameters,
volume, mean value, cement and warnings. The reader drags the caliper's handles to correct the
axes, then accepts (A, or the bar's button): the caliper becomes a measurement like a drawn one
(method ``semi-auto``) and reaches the guided read; Esc or *Discard* drops it. A seed that
gives no lesion is said in one line on the bar.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from mdaread.geometry.caliper import caliper_from_endpoints
from mdaread.model.measurement import SegmentationSettings
from mdaread.ui import loader, theme
from mdaread.ui.measure_tools import Drawn, MeasureTools
from mdaread.workflow.measure_service import Proposal, propose

SIDE_NAMES = {"baseline": "baseline", "followup": "follow-up"}


class ProposalBar(QFrame):
    """The line above the views that shows a proposal (or a refusal) and its two buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("proposalBar")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.accept_button = QPushButton("Accept (A)")
        self.accept_button.setToolTip("Record the proposed diameters for the lesion (A)")
        self.discard_button = QPushButton("Discard (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.accept_button)
        layout.addWidget(self.discard_button)
        self.hide()

    def say(self, text: str, colour: str, buttons: bool) -> None:
        self.text.setText(text)
        self.text.setStyleSheet(f"color: {colour};")
        self.accept_button.setVisible(buttons)
        self.discard_button.setVisible(buttons)
        self.show()


class SegmentTool:
    """Runs the segmentation for ``window.measure_tools``' segment clicks and holds the one
    pending proposal (``pending``: (side, Drawn) or None)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.tools: MeasureTools = window.measure_tools
        self.tools.on_seed = self.seed
        self.tools.on_pending = self._edited
        self.settings = SegmentationSettings()
        self.bar = ProposalBar()
        self.bar.accept_button.clicked.connect(self.accept)
        self.bar.discard_button.clicked.connect(self.discard)
        self.job: loader.Job | None = None
        self.pending: tuple[str, Drawn] | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def seed(self, side: str, world: np.ndarray) -> None:
        """Segment at ``world`` (LPS mm) on ``side``'s series, in the worker pool."""
        volume = self.window.session.sides[side].volume
        if volume is None:
            return
        if self.job is not None:
            self.job.cancel()
        seed = (float(world[0]), float(world[1]), float(world[2]))
        settings = self.settings
        job = loader.Job(f"segment {side}",
                         lambda progress, cancel: propose(volume, seed, settings, cancel))
        open_only = self.window.while_open
        job.signals.succeeded.connect(open_only(lambda p, s=side, j=job: self._done(s, j, p)))
        job.signals.failed.connect(open_only(lambda message, j=job: self._failed(j, message)))
        job.signals.finished.connect(lambda j=job: self._finished(j))
        self.job = job
        self.bar.say(f"Segmenting at LPS ({seed[0]:.1f}, {seed[1]:.1f}, {seed[2]:.1f}) mm…",
                     theme.MUTED, buttons=False)
        loader.start(job)

    def _finished(self, job: loader.Job) -> None:
        if self.job is job:
            self.job = None

    def _failed(self, job: loader.Job, message: str) -> None:
        if job is self.job and not job.is_cancelled:
            self.bar.say(f"No lesion proposed: {message}", theme.ERROR, buttons=False)
            self.window.status_label.setText(f"Segment: {message}")

    def _done(self, side: str, job: loader.Job, proposal: Proposal) -> None:
        if job is not self.job or job.is_cancelled:
            return
        volume = self.window.session.sides[side].volume
        if volume is None or volume.series_uid != proposal.lesion.series_uid:
            return  # the side shows another series now
        self.discard()
        drawn = Drawn(caliper_from_endpoints(proposal.endpoints_lps), proposal.lesion.series_uid,
                      method="semi-auto", proposal=proposal, pending=True)
        self.tools.drawn[side].append(drawn)
        self.pending = (side, drawn)
        self.window.session.set_cursor(side, proposal.centre_lps)  # the measured slice
        self.tools.redraw(side)
        self._show(side, drawn)

    def _show(self, side: str, drawn: Drawn) -> None:
        assert drawn.proposal is not None
        text = f"Proposed on the {SIDE_NAMES[side]} side: {drawn.proposal.summary()}"
        long_mm, perp_mm = drawn.shape.diameters()  # type: ignore[union-attr]
        m = drawn.proposal.lesion.measurement
        if abs(long_mm - m.long_mm) > 0.05 or abs(perp_mm - m.perp_mm) > 0.05:
            text += f" — axes edited to {long_mm:.1f} × {perp_mm:.1f} mm"
        warnings = [*drawn.proposal.lesion.warnings,
                    *(drawn.proposal.cement.warnings if drawn.proposal.cement else ())]
        text += "".join(f"\n⚠ {w}" for w in warnings)
        self.bar.say(text, theme.BASELINE if side == "baseline" else theme.FOLLOWUP,
                     buttons=True)

    def _edited(self, side: str, drawn: Drawn) -> None:
        if self.pending is not None and self.pending[1] is drawn:
            self._show(side, drawn)

    def accept(self) -> bool:
        """Make the pending proposal a measurement (it reaches the guided read)."""
        if self.pending is None:
            return False
        side, drawn = self.pending
        self.pending = None
        drawn.pending = False
        self.bar.hide()
        self.tools.redraw(side)
        self.window.status_label.setText(f"Accepted {drawn.label()} (semi-automatic)")
        self.tools.on_change(side, drawn)  # the guided read's link, when one is attached
        return True

    def discard(self) -> bool:
        """Drop the pending proposal (and a segmentation still running). False if none."""
        had = self.pending is not None or self.job is not None or self.bar.isVisible()
        if self.job is not None:
            self.job.cancel()
            self.job = None
        if self.pending is not None:
            side, drawn = self.pending
            self.pending = None
            self.tools.drawn[side] = [d for d in self.tools.drawn[side] if d is not drawn]
            self.tools.redraw(side)
        self.bar.hide()
        return had
