"""The registration overlay on the baseline views, and landmark markers on both sides.

The follow-up, resampled through the mapping on show onto the baseline's own grid in a cube
around the vertebra (``RegistrationSession.overlay_volumes``), is drawn over each baseline view
as blend (opacity slider), checkerboard or difference. Because that grid is a sub-grid of the
baseline's, each overlay slice is an exact baseline slice: it is placed at an integer pixel
offset in the view's scene millimetres (see slice_view's module docstring).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtWidgets import QGraphicsRectItem

from mdaread.errors import MdareadError
from mdaread.geometry.mpr import Mpr
from mdaread.geometry.overlay import blend, checkerboard, difference
from mdaread.geometry.window import apply_window
from mdaread.model import Volume
from mdaread.ui import theme
from mdaread.ui.slice_view import SliceView
from mdaread.workflow.reading import SideState
from mdaread.workflow.registration_session import RegistrationSession

MODES: tuple[str, ...] = ("off", "blend", "checkerboard", "difference")
TILE_MM = 10.0
"""Checkerboard tile edge in mm (converted to pixels of each view)."""
FOLLOWUP_TINT = np.array([156, 207, 122], dtype=np.float32) / 255.0  # theme.FOLLOWUP
Uint8 = npt.NDArray[np.uint8]


def compose(mode: str, base: Uint8, follow: Uint8, opacity: float = 0.5,
            tile_px: tuple[int, int] = (16, 16)) -> Uint8:
    """One overlay image from two windowed slices (uint8 grey, same shape).

    - ``blend``: RGB; the baseline in grey, the follow-up tinted green, mixed with ``opacity``
      (0 = baseline only): aligned edges coincide, a shift shows as green/grey fringes;
    - ``checkerboard``: grey tiles of ``tile_px`` (rows, cols) alternating baseline (first tile)
      and follow-up: edges must run on across tile borders;
    - ``difference``: grey, 128 where the windowed values agree, darker/brighter where the
      follow-up is lower/higher.
    """

    if mode == "blend":
        grey = np.repeat(base[..., None].astype(np.float32), 3, axis=2)
        tinted = follow[..., None].astype(np.float32) * FOLLOWUP_TINT
        return np.clip(blend(grey, tinted, opacity), 0, 255).astype(np.uint8)
    if mode == "checkerboard":
        return checkerboard(base, follow, tile=tile_px).astype(np.uint8)
    if mode == "difference":
        diff = difference(base, follow)  # follow-up − baseline, in windowed grey levels
        return np.clip(128.0 + 0.5 * diff, 0, 255).astype(np.uint8)
    raise ValueError(f"overlay mode must be one of {MODES[1:]}, got {mode!r}")


class BaselineOverlay:
    """Draws the overlay in one baseline SliceView; ``update(view, state)`` is its redraw
    hook (``SliceView.add_overlay``)."""

    def __init__(self, session: RegistrationSession, view: SliceView) -> None:
        self.session, self.view = session, view
        self.mode = "off"
        self.opacity = 0.5
        self.error = ""
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(5)  # above the baseline slice, below the crosshair (10)
        self.image.hide()
        view.view_box.addItem(self.image, ignoreBounds=True)
        # the cube's edge: in checkerboard/difference mode nothing else shows where it ends
        self.outline = QGraphicsRectItem()
        pen = pg.mkPen(theme.FOLLOWUP, width=1, style=Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.setZValue(6)
        self.outline.hide()
        view.view_box.addItem(self.outline, ignoreBounds=True)
        self._mprs: tuple[Volume, Mpr, Volume, Mpr] | None = None
        self.shown: Uint8 | None = None  # the last overlay image drawn (tests, screenshots)
        self._rect = QRectF()
        view.add_overlay(self.update)

    def update(self, view: SliceView, state: SideState) -> None:
        self.error = ""
        image = self._render(view, state) if self.mode != "off" else None
        self.shown = image
        if image is None:
            self.image.hide()
            self.outline.hide()
            return
        self.image.setImage(image, autoLevels=False, levels=(0, 255))
        self.image.setRect(self._rect)
        self.outline.setRect(self._rect)
        self.image.show()
        self.outline.show()

    def _render(self, view: SliceView, state: SideState) -> Uint8 | None:
        g = view.geometry_
        follow_window = self.session.reading.sides["followup"].window
        if g is None or state.window is None or follow_window is None:
            return None
        try:
            region, moved = self.session.overlay_volumes()
        except MdareadError as exc:
            self.error = str(exc)
            return None
        mpr_r, mpr_m = self._mpr(region, moved)
        g_r = mpr_r.geometry(view.plane)
        s = float(g_r.to_display(g.to_world(0.0, 0.0, view.slice_index))[2])
        index = int(np.rint(s))
        if abs(s - index) > 0.05 or not 0 <= index < g_r.n_slices:
            return None  # this baseline slice is outside the cube around the vertebra
        c0, r0, _ = g.to_display(g_r.to_world(0.0, 0.0, index))
        rows, cols = g_r.shape
        du, dv = g.pixel_mm
        self._rect = QRectF((c0 - 0.5) * du, (r0 - 0.5) * dv, cols * du, rows * dv)
        base = apply_window(mpr_r.image(view.plane, index), state.window)
        follow = apply_window(mpr_m.image(view.plane, index), follow_window)
        tile = (max(1, round(TILE_MM / dv)), max(1, round(TILE_MM / du)))
        return compose(self.mode, base, follow, self.opacity, tile)

    def _mpr(self, region: Volume, moved: Volume) -> tuple[Mpr, Mpr]:
        if self._mprs is None or self._mprs[0] is not region or self._mprs[2] is not moved:
            self._mprs = (region, Mpr(region), moved, Mpr(moved))
        return self._mprs[1], self._mprs[3]


class LandmarkMarkers:
    """Numbered crosses at the landmark clicks of one side, on the slices that hold them."""

    def __init__(self, session: RegistrationSession, side: str, view: SliceView) -> None:
        self.session, self.side, self.view = session, side, view
        pen = pg.mkPen(theme.ACCENT if side == "baseline" else theme.FOLLOWUP, width=2)
        self.scatter = pg.ScatterPlotItem(symbol="+", size=16, pen=pen, brush=None)
        self.scatter.setZValue(11)
        view.view_box.addItem(self.scatter, ignoreBounds=True)
        self.labels: list[pg.TextItem] = []
        view.add_overlay(self.update)

    def update(self, view: SliceView, state: SideState) -> None:
        self.labels = _cleared(view, self.labels)
        g = view.geometry_
        points: list[tuple[float, float]] = []
        if g is not None:
            du, dv = g.pixel_mm
            for number, pair in enumerate(self.session.pairs, start=1):
                world = getattr(pair, self.side)
                if world is None:
                    continue
                c, r, s = g.to_display(world)
                if abs(s - view.slice_index) > 0.5:
                    continue  # on another slice of this view
                points.append((c * du, r * dv))
                self.labels.append(_text_at(view, str(number), (c * du, r * dv), theme.ACCENT,
                                            anchor=(-0.2, 1.1)))
        if points:
            self.scatter.setData(pos=points)
        else:
            self.scatter.clear()


LEVEL_MARK_MM = 10.0
"""A level label shows on slices within this distance of its centre (about half a body)."""


class LevelMarkers:
    """The reader's vertebral level labels ("L1") of one side, written at their centres on the
    slices within LEVEL_MARK_MM of them, so that a label can be checked where it was put."""

    def __init__(self, side: str, view: SliceView) -> None:
        self.side, self.view = side, view
        self.items: list[pg.TextItem] = []
        view.add_overlay(self.update)

    def update(self, view: SliceView, state: SideState) -> None:
        self.items = _cleared(view, self.items)
        g, series = view.geometry_, state.series
        if g is None or series is None:
            return
        du, dv = g.pixel_mm
        for landmark in state.landmarks:
            if landmark.kind != "label" or landmark.series_uid not in ("", series.series_uid):
                continue
            c, r, s = g.to_display(landmark.center)
            if abs(s - view.slice_index) * g.slice_mm > LEVEL_MARK_MM:
                continue
            colour = theme.BASELINE if self.side == "baseline" else theme.FOLLOWUP
            # a translucent plate keeps the name legible over bright bone, as the view labels
            self.items.append(_text_at(view, landmark.level, (c * du, r * dv), colour,
                                       anchor=(0.5, 0.5), fill=pg.mkBrush(17, 19, 21, 170)))


def _cleared(view: SliceView, items: list[pg.TextItem]) -> list[pg.TextItem]:
    """Take ``items`` off ``view``; returns the empty list that replaces them."""
    for item in items:
        view.view_box.removeItem(item)
    return []


def _text_at(view: SliceView, text: str, position: tuple[float, float], colour: str, *,
             anchor: tuple[float, float], fill: object = None) -> pg.TextItem:
    """A text item at ``position`` (view coordinates, mm) above the image and crosshair."""
    item = pg.TextItem(text, color=colour, anchor=anchor, fill=fill)
    item.setPos(*position)
    item.setZValue(11)
    view.view_box.addItem(item, ignoreBounds=True)
    return item
