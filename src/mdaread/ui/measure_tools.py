"""Calipers and rulers on the slice views: draw, edit by their handles, live millimetres.

A tool (``caliper`` — bidimensional, B; ``ruler`` — D; ``segment`` — S, click-to-segment, whose
click goes to ``on_seed`` and whose proposals are ``pending`` calipers with a lesion mask, drawn
here and edited like any caliper until the reader accepts them) is armed for the whole window; a
left press in any view then starts a new measurement on that view's slice, a drag draws its long
axis (the perpendicular follows, half as long, and stays perpendicular) and the release finishes
it. A left press on a handle of an existing measurement edits it, armed or not. Esc cancels a
drawing in progress, then disarms the tool. Measurements are drawn in their side's colour, on
every view whose current slice holds them, only while their series is shown. The maths is
``mdaread.geometry.caliper`` (LPS mm); this module only maps mouse positions to LPS and draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QObject, QPointF, Qt
from PyQt6.QtGui import QMouseEvent

from mdaread.geometry.caliper import Caliper, Ruler, as_point, plane_normal
from mdaread.ui import theme
from mdaread.ui.mask_overlay import proposal_items
from mdaread.ui.slice_view import SliceView
from mdaread.workflow.measure_service import Proposal
from mdaread.workflow.reading import SIDES, ReadingSession, SideState

TOOLS = ("caliper", "ruler", "segment")
HANDLE_PICK_PX = 8.0
"""A press this close (screen pixels) to a handle grabs it."""
SLICE_TOLERANCE = 0.5
"""A measurement is on a view's slice when every point lies within half a slice of it."""
MIN_LENGTH_MM = 1.0
"""A drawn line shorter than this is a click, not a measurement: it is dropped."""


@dataclass
class Drawn:
    """One measurement on one side: its shape (LPS mm), the series it was drawn on, and the
    tracked lesion it measures (None until assigned)."""

    shape: Caliper | Ruler
    series_uid: str
    lesion_id: str | None = None
    method: str = "manual"
    proposal: Proposal | None = None
    """The segmentation it came from (click-to-segment): its mask and cement are drawn too."""
    pending: bool = False
    """A proposal not yet accepted: edits do not reach the guided read."""

    @property
    def kind(self) -> str:
        return "caliper" if isinstance(self.shape, Caliper) else "ruler"

    def label(self) -> str:
        if isinstance(self.shape, Caliper):
            long_mm, perp_mm = self.shape.diameters()
            text = f"{long_mm:.1f} × {perp_mm:.1f} mm"
        else:
            text = f"{self.shape.length_mm:.1f} mm"
        if self.pending:
            text = f"proposed {text}"
        return f"{self.lesion_id}: {text}" if self.lesion_id else text


@dataclass
class _Grab:
    side: str
    index: int       # into MeasureTools.drawn[side]
    handle: int      # into shape.points
    new: bool        # True while the first long axis is being drawn


@dataclass
class _ViewItems:
    items: list[pg.GraphicsObject] = field(default_factory=list)


class MeasureTools(QObject):
    """The window's measuring tools. ``on_change(side, drawn)`` fires after a measurement is
    finished or edited (release of the mouse), ``on_pending(side, drawn)`` after a pending
    proposal is edited, ``on_seed(side, world)`` on a click with the segment tool armed;
    ``on_tool(tool)`` when the armed tool changes."""

    def __init__(self, session: ReadingSession, views: dict[str, dict[str, SliceView]]) -> None:
        super().__init__()
        self.session = session
        self.views = views
        self.tool: str | None = None
        self.drawn: dict[str, list[Drawn]] = {side: [] for side in SIDES}
        self.grab: _Grab | None = None
        self.on_change: Callable[[str, Drawn], None] = lambda side, drawn: None
        self.on_tool: Callable[[str | None], None] = lambda tool: None
        self.on_pending: Callable[[str, Drawn], None] = lambda side, drawn: None
        self.on_seed: Callable[[str, np.ndarray], None] = lambda side, world: None
        self._items: dict[int, _ViewItems] = {}
        self._filters: dict[int, tuple[str, SliceView]] = {}
        for side, planes in views.items():
            for view in planes.values():
                view.add_overlay(self._overlay_for(side))
                viewport = view.graphics.viewport()
                assert viewport is not None
                viewport.installEventFilter(self)
                self._filters[id(viewport)] = (side, view)

    def _overlay_for(self, side: str) -> Callable[[SliceView, SideState], None]:
        def overlay(view: SliceView, state: SideState) -> None:
            self._draw(side, view, state)
        return overlay

    # --- tool state ----------------------------------------------------------------------------
    def arm(self, tool: str | None) -> None:
        """Arm ``tool`` (one of TOOLS) or disarm (None); arming the armed tool disarms it."""
        if tool is not None and tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = None if tool == self.tool else tool
        cursor = Qt.CursorShape.CrossCursor if self.tool else Qt.CursorShape.ArrowCursor
        for planes in self.views.values():
            for view in planes.values():
                view.graphics.viewport().setCursor(cursor)
        self.on_tool(self.tool)

    def cancel(self) -> bool:
        """Esc: drop a measurement being drawn, else disarm. False when there was nothing."""
        if self.grab is not None:
            grab, self.grab = self.grab, None
            if grab.new:
                del self.drawn[grab.side][grab.index]
            self.redraw(grab.side)
            return True
        if self.tool is not None:
            self.arm(None)
            return True
        return False

    def shown(self, side: str) -> list[Drawn]:
        """The side's measurements on the series it shows now."""
        uid = _series_uid(self.session.sides[side])
        return [d for d in self.drawn[side] if d.series_uid == uid]

    def set_drawn(self, side: str, drawn: list[Drawn]) -> None:
        """Replace a side's measurements (reopening a case) and redraw."""
        self.grab = None
        self.drawn[side] = list(drawn)
        self.redraw(side)

    def redraw(self, side: str) -> None:
        state = self.session.sides[side]
        for view in self.views[side].values():
            self._draw(side, view, state)

    # --- mouse ---------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if obj is None or event is None or id(obj) not in self._filters:
            return False
        side, view = self._filters[id(obj)]
        kind = event.type()
        if not isinstance(event, QMouseEvent):
            return False
        if kind == QEvent.Type.MouseButtonPress:
            return self._press(side, view, event)
        if kind == QEvent.Type.MouseMove and self.grab is not None:
            self._move(view, event)
            return True
        if kind == QEvent.Type.MouseButtonRelease and self.grab is not None:
            self._release()
            return True
        return False

    def _world(self, view: SliceView, event: QMouseEvent) -> np.ndarray | None:
        return view.scene_to_world(view.graphics.mapToScene(event.position().toPoint()))

    def _press(self, side: str, view: SliceView, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or \
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return False
        world = self._world(view, event)
        state = self.session.sides[side]
        if world is None or view.geometry_ is None:
            return False
        hit = self._pick(side, view, event.position())
        if hit is not None:
            self.grab = _Grab(side, hit[0], hit[1], new=False)
            return True
        if self.tool is None:
            return False
        if self.tool == "segment":
            view.setFocus()
            self.on_seed(side, world)
            return True
        uid = _series_uid(state)
        shape: Caliper | Ruler
        if self.tool == "caliper":
            shape = Caliper.start(world, plane_normal(view.geometry_))
        else:
            shape = Ruler(as_point(world), as_point(world))
        self.drawn[side].append(Drawn(shape, uid))
        self.grab = _Grab(side, len(self.drawn[side]) - 1, 1, new=True)
        view.setFocus()
        return True

    def _move(self, view: SliceView, event: QMouseEvent) -> None:
        grab = self.grab
        assert grab is not None
        world = self._world(view, event)
        if world is None:
            return
        drawn = self.drawn[grab.side][grab.index]
        if grab.new and isinstance(drawn.shape, Caliper):
            drawn.shape = drawn.shape.drawing_to(world)
        else:
            drawn.shape = drawn.shape.with_point(grab.handle, world)
        self.redraw(grab.side)

    def _release(self) -> None:
        grab, self.grab = self.grab, None
        assert grab is not None
        drawn = self.drawn[grab.side][grab.index]
        length = drawn.shape.axis_mm if isinstance(drawn.shape, Caliper) \
            else drawn.shape.length_mm
        if grab.new and length < MIN_LENGTH_MM:
            del self.drawn[grab.side][grab.index]
            self.redraw(grab.side)
            return
        self.redraw(grab.side)
        if drawn.pending:
            self.on_pending(grab.side, drawn)
        else:
            self.on_change(grab.side, drawn)

    def _pick(self, side: str, view: SliceView, pos: QPointF) -> tuple[int, int] | None:
        """(measurement index, handle index) of the handle nearest ``pos`` (viewport pixels)
        among those drawn on this view, when within HANDLE_PICK_PX."""
        best: tuple[float, int, int] | None = None
        uid = _series_uid(self.session.sides[side])
        for index, drawn in enumerate(self.drawn[side]):
            if drawn.series_uid != uid or not _on_slice(view, drawn):
                continue
            for handle, point in enumerate(drawn.shape.points):
                at = view.graphics.mapFromScene(view.world_to_scene(np.asarray(point)))
                d = float(np.hypot(at.x() - pos.x(), at.y() - pos.y()))
                if d <= HANDLE_PICK_PX and (best is None or d < best[0]):
                    best = (d, index, handle)
        return None if best is None else (best[1], best[2])

    # --- drawing -------------------------------------------------------------------------------
    def _draw(self, side: str, view: SliceView, state: SideState) -> None:
        slot = self._items.setdefault(id(view), _ViewItems())
        for item in slot.items:
            view.view_box.removeItem(item)
        slot.items.clear()
        g = view.geometry_
        if g is None or state.mpr is None:
            return
        colour = theme.BASELINE if side == SIDES[0] else theme.FOLLOWUP
        du, dv = g.pixel_mm
        for drawn in self.shown(side):
            if drawn.proposal is not None:
                slot.items.extend(proposal_items(view, drawn.proposal, colour, drawn.pending))
            if not _on_slice(view, drawn):
                continue
            xy = [(c * du, r * dv) for c, r, _ in (g.to_display(p) for p in drawn.shape.points)]
            slot.items.extend(_shape_items(xy, drawn, colour))
        for item in slot.items:
            view.view_box.addItem(item, ignoreBounds=True)


def _shape_items(xy: list[tuple[float, float]], drawn: Drawn,
                 colour: str) -> list[pg.GraphicsObject]:
    pen = pg.mkPen(colour, width=2)
    pen.setCosmetic(True)
    lines: list[pg.GraphicsObject] = []
    for a, b in zip(xy[0::2], xy[1::2], strict=True):
        line = pg.PlotCurveItem([a[0], b[0]], [a[1], b[1]], pen=pen)
        line.setZValue(20)
        lines.append(line)
    handles = pg.ScatterPlotItem([p[0] for p in xy], [p[1] for p in xy], size=7,
                                 pen=pg.mkPen(colour), brush=pg.mkBrush(theme.BACKGROUND),
                                 symbol="s")
    handles.setZValue(21)
    text = pg.TextItem(drawn.label(), color=colour, anchor=(0, 1),
                       fill=pg.mkBrush(17, 19, 21, 170))
    text.setPos(*xy[1])
    text.setZValue(22)
    return [*lines, handles, text]


def _on_slice(view: SliceView, drawn: Drawn) -> bool:
    g = view.geometry_
    if g is None:
        return False
    return all(abs(g.to_display(p)[2] - view.slice_index) <= SLICE_TOLERANCE + 1e-6
               for p in drawn.shape.points)


def _series_uid(state: SideState) -> str:
    return state.volume.series_uid if state.volume is not None else ""
