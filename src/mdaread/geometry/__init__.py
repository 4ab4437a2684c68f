"""Geometry without a window: MPR slice extraction, screen ↔ world mapping, window/level.

Every world position is patient LPS millimetres; volumes are ``array[k, j, i]`` with an affine
mapping ``(i, j, k, 1)`` to LPS mm (see mdaread.model.Volume).
"""

from mdaread.geometry.mpr import PLANES, Mpr, SliceGeometry, axis_assignment
from mdaread.geometry.window import PRESETS, Window, apply_window, drag_window, percentile_window

__all__ = [
    "PLANES",
    "PRESETS",
    "Mpr",
    "SliceGeometry",
    "Window",
    "apply_window",
    "axis_assignment",
    "drag_window",
    "percentile_window",
]
