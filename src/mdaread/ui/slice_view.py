"""One MPR view (axial, sagittal or coronal) of one side: image, crosshair, orientation labels.

Gestures (left click/drag: move the cursor; wheel or arrows: scroll; right drag: window/level;
middle drag or Shift+left drag: pan; Ctrl+wheel or +/−: zoom; R: reset) are turned into calls on
the owner's callbacks; the view redraws only from ``show_state``. The scene is in millimetres: the
centre of pixel (c, r) sits at (c × du, r × dv) where (du, dv) = SliceGeometry.pixel_mm, so the
aspect is right for anisotropic voxels with the aspect locked at 1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from mdaread.geometry.mpr import SliceGeometry
from mdaread.geometry.window import Window, apply_window
from mdaread.ui import theme
from mdaread.ui.keyboard import typing
from mdaread.workflow.reading import SideState

theme.configure_pyqtgraph()

Callback = Callable[..., None]
# short plane names keep the corner label clear of the orientation letter in narrow views
PLANE_SHORT = {"axial": "Ax", "sagittal": "Sag", "coronal": "Cor"}
SCROLL_KEYS = {
    Qt.Key.Key_Up: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Down: -1, Qt.Key.Key_Left: -1,
    Qt.Key.Key_PageUp: 10, Qt.Key.Key_PageDown: -10,
}


class _ReadingViewBox(pg.ViewBox):
    """A ViewBox whose mouse gestures are those of a reading workstation."""

    def __init__(self, owner: SliceView) -> None:
        super().__init__(invertY=True, lockAspect=1.0, enableMenu=False)
        self._owner = owner

    def wheelEvent(self, ev, axis=None):
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            before = self.viewRect().width()
            super().wheelEvent(ev, axis)  # zoom about the mouse
            self._owner.fitted = False
            after = self.viewRect().width()
            if after > 0:
                self._owner.on_zoom(self._owner.plane, before / after)
            return
        delta = ev.delta()
        if delta:
            self._owner.scroll_slices(1 if delta > 0 else -1)
        ev.accept()

    def mouseClickEvent(self, ev):
        ev.accept()
        if ev.button() == Qt.MouseButton.LeftButton:
            self._owner.point_at_scene(ev.scenePos())

    def mouseDragEvent(self, ev, axis=None):
        button = ev.button()
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton
                                                     and shift):
            ev.accept()
            delta = self.mapSceneToView(ev.lastScenePos()) - self.mapSceneToView(ev.scenePos())
            self.translateBy(x=delta.x(), y=delta.y())
            self._owner.fitted = False
            return
        ev.accept()
        if button == Qt.MouseButton.LeftButton:
            self._owner.point_at_scene(ev.scenePos())
        elif button == Qt.MouseButton.RightButton:
            step = ev.screenPos() - ev.lastScreenPos()
            self._owner.window_drag(step.x(), step.y())


class CrosshairLine(pg.InfiniteLine):
    """A crosshair line that outlives its ViewBox. While a window is torn down, Qt may still ask
    a line for its bounds after its ViewBox has been collected (the line keeps only a weak
    reference and a cached view rect); pyqtgraph's InfiniteLine then raises inside the C++
    virtual call, and the process died with a segmentation fault in full test runs. The ViewBox
    can vanish between two calls (garbage collection), so the error is caught, not pre-checked:
    without a ViewBox the line is simply empty."""

    def boundingRect(self) -> QRectF:
        try:
            return super().boundingRect()
        except AttributeError:
            return QRectF()

    def paint(self, p, *args):  # type: ignore[no-untyped-def]
        with contextlib.suppress(AttributeError):
            super().paint(p, *args)


class SliceView(QWidget):
    """Shows ``plane`` of a SideState. Callbacks: ``on_point(plane, world)``,
    ``on_scroll(plane, delta)``, ``on_window_drag(dx, dy)``, ``on_hover(world)``.

    Extra per-side overlays (registration blend, lesion outlines) add their items to
    ``view_box`` in scene millimetres (see module docstring) and read ``geometry``/``slice_index``.
    """

    def __init__(self, plane: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plane = plane
        self.on_point: Callback = _ignore
        self.on_scroll: Callback = _ignore
        self.on_window_drag: Callback = _ignore
        self.on_hover: Callback = _ignore
        self.on_zoom: Callback = _ignore   # (plane, factor) after the reader zooms this view
        self.on_reset: Callback = _ignore  # (plane,) after the reader resets this view
        self.overlays: list[Callable[[SliceView, SideState], None]] = []
        self.geometry_: SliceGeometry | None = None
        self.slice_index = -1
        self._window: Window | None = None
        self._image_source: object = None
        self.fitted = True
        """The view shows the whole slice (``reset_view``); False once the reader zooms or pans."""
        self.keep_view = False
        """The next volume keeps the reader's zoom (a follow-up switch), centred on the
        crosshair, instead of being fitted (a case opened). Used once."""

        self.graphics = pg.GraphicsView(self)
        self.view_box = _ReadingViewBox(self)
        # the view fits the slice only on request (reset_view): re-fitting on every new slice
        # image would cost time and undo the reader's zoom
        self.view_box.disableAutoRange()
        self.graphics.setCentralItem(self.view_box)
        self.image = pg.ImageItem(axisOrder="row-major")
        # the crosshair moves far more often than the slice changes: keep the scaled image as a
        # device pixmap so that a crosshair move is a blit, not a rescale of the whole slice
        self.image.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.view_box.addItem(self.image)
        pen = pg.mkPen(theme.ACCENT, width=1)
        pen.setCosmetic(True)
        self.vline = CrosshairLine(angle=90, movable=False, pen=pen)
        self.hline = CrosshairLine(angle=0, movable=False, pen=pen)
        for line in (self.vline, self.hline):
            line.setOpacity(0.7)
            line.setZValue(10)
            self.view_box.addItem(line, ignoreBounds=True)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.labels = {edge: self._overlay_label() for edge in ("left", "right", "top", "bottom")}
        self.info = self._overlay_label()
        self.warning = self._overlay_label(colour=theme.ERROR)
        self.setMinimumSize(160, 140)

    def release(self) -> None:
        """Empty the scene before Qt destroys the widgets (pyqtgraph's own teardown): items
        left in a scene while its view and ViewBox are deleted were painted or measured after
        their ViewBox had gone, and the process crashed. The view draws nothing afterwards."""
        self.overlays.clear()
        self.graphics.close()

    def _overlay_label(self, colour: str = theme.TEXT) -> QLabel:
        label = QLabel(self.graphics)
        # a dark plate keeps the letters legible over bright bone and the crosshair (the plate
        # at alpha 150 with grey letters left them at a contrast of ~1:1 over white bone)
        label.setStyleSheet(f"background: rgba(17, 19, 21, {theme.LABEL_PLATE_ALPHA}); "
                            f"color: {colour}; font-weight: bold; padding: 0px 2px;")
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        return label

    # --- drawing -----------------------------------------------------------------------------
    def show_state(self, state: SideState) -> None:
        """Redraw from ``state``: new geometry → reset the view; new slice/window → new image;
        always the crosshair."""
        if state.mpr is None or state.cursor is None or state.window is None:
            self.clear()
            return
        g = state.mpr.geometry(self.plane)
        new_volume = self._image_source is not state.mpr
        index = g.slice_index(state.cursor)
        if new_volume or index != self.slice_index or state.window != self._window:
            self.slice_index, self._window = index, state.window
            self.image.setImage(apply_window(state.mpr.image(self.plane, index), state.window),
                                autoLevels=False, levels=(0, 255))
        if new_volume:
            # after setImage: setRect scales by the current image's size in pixels
            self._set_geometry(g)
            self._image_source = state.mpr
        c, r, _ = g.to_display(state.cursor)
        du, dv = g.pixel_mm
        self.vline.setPos(c * du)
        self.hline.setPos(r * dv)
        self.info.setText(f"{PLANE_SHORT[self.plane]} {index + 1}/{g.n_slices}")
        self._place_labels()
        if new_volume:
            self._fit_or_keep(QPointF(c * du, r * dv))
        else:
            self._keep_in_view(QPointF(c * du, r * dv))
        for overlay in self.overlays:
            overlay(self, state)

    def add_overlay(self, callback: Callable[[SliceView, SideState], None]) -> None:
        """Call ``callback(view, state)`` after every redraw: the hook for per-side overlays
        (registration blend, lesion outlines). It draws its own items in ``view_box``
        (scene mm: pixel (c, r) of ``geometry_`` at (c × du, r × dv)) on slice ``slice_index``."""
        self.overlays.append(callback)

    def _set_geometry(self, g: SliceGeometry) -> None:
        self.geometry_ = g
        rows, cols = g.shape
        du, dv = g.pixel_mm
        self.image.setRect(QRectF(-0.5 * du, -0.5 * dv, cols * du, rows * dv))
        for edge, label in self.labels.items():
            label.setText(g.labels[edge])
        self.warning.setText("oblique: nearest native plane" if g.warning else "")
        self.warning.setToolTip(g.warning)

    def clear(self) -> None:
        self.image.clear()
        self.geometry_, self.slice_index, self._image_source = None, -1, None
        for label in (*self.labels.values(), self.info, self.warning):
            label.setText("")
            label.hide()

    def reset_view(self) -> None:
        """Fit the whole slice in the view."""
        if self.geometry_ is not None:
            self.view_box.autoRange(items=[self.image], padding=0.02)
            self.fitted = True

    def _fit_or_keep(self, crosshair: QPointF) -> None:
        """A new volume on show: fit it, or, after a follow-up switch of a view the reader had
        zoomed or panned, keep the millimetres shown (the zoom) around the crosshair, which
        linked navigation put on the same anatomy."""
        keep, self.keep_view = self.keep_view and not self.fitted, False
        rect = self.view_box.viewRect()
        if not keep or rect.width() <= 0 or rect.height() <= 0:
            self.reset_view()
            return
        rect.moveCenter(crosshair)
        self.view_box.setRange(rect, padding=0.0)

    def _keep_in_view(self, point: QPointF) -> None:
        """Pan (never zoom) so that the crosshair stays visible when the cursor moves off the
        zoomed-in view, e.g. when the other side leads."""
        rect = self.view_box.viewRect()
        if not rect.contains(point):
            self.center_on(point)

    def center_on(self, point: QPointF | None = None) -> None:
        """Pan so that ``point`` (scene mm; default: the crosshair) is in the middle."""
        if point is None:
            point = QPointF(self.vline.value(), self.hline.value())
        centre = self.view_box.viewRect().center()
        self.view_box.translateBy(x=point.x() - centre.x(), y=point.y() - centre.y())

    def zoom(self, factor: float, about_crosshair: bool = False) -> None:
        """Zoom by ``factor`` (> 1 magnifies) about the view centre, or about the crosshair."""
        centre = QPointF(self.vline.value(), self.hline.value()) if about_crosshair else None
        self.view_box.scaleBy((1.0 / factor, 1.0 / factor), center=centre)
        self.fitted = False

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_labels()

    def _place_labels(self) -> None:
        w, h = self.graphics.width(), self.graphics.height()
        for label in (*self.labels.values(), self.info, self.warning):
            label.setVisible(bool(label.text()))
            label.adjustSize()
        lab = self.labels
        lab["left"].move(4, (h - lab["left"].height()) // 2)
        lab["right"].move(w - lab["right"].width() - 4, (h - lab["right"].height()) // 2)
        lab["top"].move((w - lab["top"].width()) // 2, 2)
        lab["bottom"].move((w - lab["bottom"].width()) // 2, h - lab["bottom"].height() - 2)
        self.info.move(4, 2)
        self.warning.move(4, h - self.warning.height() - 2)

    # --- gestures ----------------------------------------------------------------------------
    def scene_to_world(self, scene_pos: QPointF) -> np.ndarray | None:
        """LPS mm of a scene position on the current slice (None before a volume is shown)."""
        g = self.geometry_
        if g is None:
            return None
        p = self.view_box.mapSceneToView(scene_pos)
        du, dv = g.pixel_mm
        return g.to_world(p.x() / du, p.y() / dv, self.slice_index)

    def world_to_scene(self, world: np.ndarray) -> QPointF:
        """Scene position of an LPS mm point projected on this view's plane."""
        assert self.geometry_ is not None
        c, r, _ = self.geometry_.to_display(world)
        du, dv = self.geometry_.pixel_mm
        return self.view_box.mapViewToScene(QPointF(c * du, r * dv))

    def crosshair_world(self) -> np.ndarray | None:
        """LPS mm of the crosshair centre as drawn (on the centre of the shown slice)."""
        g = self.geometry_
        if g is None:
            return None
        du, dv = g.pixel_mm
        return g.to_world(self.vline.value() / du, self.hline.value() / dv, self.slice_index)

    def point_at_scene(self, scene_pos: QPointF) -> None:
        world = self.scene_to_world(scene_pos)
        if world is not None:
            self.setFocus()
            self.on_point(self.plane, world)

    def scroll_slices(self, delta: int) -> None:
        self.on_scroll(self.plane, delta)

    def window_drag(self, dx: float, dy: float) -> None:
        self.on_window_drag(dx, dy)

    def _mouse_moved(self, scene_pos: QPointF) -> None:
        if self.view_box.sceneBoundingRect().contains(scene_pos):
            world = self.scene_to_world(scene_pos)
            if world is not None:
                self.on_hover(world)

    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        if event is None:
            return
        key = Qt.Key(event.key())
        if key in SCROLL_KEYS:
            self.scroll_slices(SCROLL_KEYS[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            factor = 0.8 if key == Qt.Key.Key_Minus else 1.25
            self.zoom(factor)
            self.on_zoom(self.plane, factor)
        elif key in (Qt.Key.Key_R, Qt.Key.Key_Home):
            self.reset_view()
            self.on_reset(self.plane)
        elif key == Qt.Key.Key_C:
            self.center_on()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def enterEvent(self, event):
        # keys go to the view under the mouse, as on a reading workstation — unless the reader
        # is typing somewhere (a diameter, a filter): hovering must not steal the text cursor
        if self.window().isActiveWindow() and not typing():
            self.setFocus()
        super().enterEvent(event)


def _ignore(*args: object) -> None:
    """Default callback: nothing is wired yet."""
