"""Lesion and cement masks drawn on a slice view: a translucent fill and a solid outline.

The lesion is drawn in its side's colour (a fainter fill while it is only proposed), cement in
``CEMENT`` and cement leaking outside the vertebral body in ``theme.ERROR``, on every view whose
shown slice cuts the mask (the caliper itself sits on its axial slice only).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QColor

from mdaread.geometry.mask_slice import mask_on_slice, outline
from mdaread.model.measurement import GridMask
from mdaread.ui import theme
from mdaread.ui.slice_view import SliceView
from mdaread.workflow.measure_service import Proposal

CEMENT = "#d67ad6"
"""Cement overlay colour: far from both side colours and from the crosshair's amber."""


def proposal_items(view: SliceView, proposal: Proposal, colour: str,
                   pending: bool) -> list[pg.GraphicsObject]:
    """Image items (scene mm) for the lesion mask, the cement and its leakage on ``view``."""
    items = []
    lesion = mask_item(view, proposal.lesion.mask, colour, fill_alpha=40 if pending else 70)
    if lesion is not None:
        items.append(lesion)
    cement = proposal.cement
    if cement is not None:
        for mask, tint in ((cement.mask, CEMENT), (cement.leakage_mask, theme.ERROR)):
            item = mask_item(view, mask, tint, fill_alpha=60) if mask is not None else None
            if item is not None:
                items.append(item)
    return items


def mask_item(view: SliceView, mask: GridMask, colour: str,
              fill_alpha: int = 60) -> pg.ImageItem | None:
    """An RGBA image of ``mask`` on the view's shown slice (None when the slice misses it)."""
    g = view.geometry_
    if g is None:
        return None
    cut = mask_on_slice(mask.array, mask.offset, mask.grid_affine, g, view.slice_index)
    if cut is None:
        return None
    rgb = QColor(colour)
    rgba = np.zeros((*cut.image.shape, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = rgb.red(), rgb.green(), rgb.blue()
    rgba[..., 3] = np.where(cut.image, fill_alpha, 0)
    rgba[outline(cut.image), 3] = 235
    item = pg.ImageItem(rgba, axisOrder="row-major")
    rows, cols = cut.image.shape
    du, dv = g.pixel_mm
    item.setRect(QRectF((cut.c0 - 0.5) * du, (cut.r0 - 0.5) * dv, cols * du, rows * dv))
    item.setZValue(15)
    return item
