"""Typed records shared by every layer. numpy and the standard library only."""

from mdaread.model.scan import ScanResult, SeriesCandidate, SkippedFile
from mdaread.model.volume import Volume

__all__ = ["ScanResult", "SeriesCandidate", "SkippedFile", "Volume"]
