"""The overlays of ``mdaread.registration`` (blend, checkerboard, difference) are pure numpy
and live in :mod:`mdaread.geometry.overlay`, where the viewer takes them without reaching into
the registration adapter; re-exported here for the registration API."""

from mdaread.geometry.overlay import blend, checkerboard, difference

__all__ = ["blend", "checkerboard", "difference"]
