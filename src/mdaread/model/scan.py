"""What a header-only scan of files finds: series candidates with warnings, and skipped files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SkippedFile:
    """A file that is not part of any loadable series, and why (one line).

    ``series_uid`` is set when a file of a series was skipped for a damaged or implausible
    value, so that the series it belongs to can say it lost the file.
    """

    path: Path
    reason: str
    series_uid: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "reason": self.reason}


@dataclass
class SeriesCandidate:
    """One loadable volume found by a scan.

    A Series Instance UID holding several volumes (orientations, echoes, sizes) gives several
    candidates with the same ``series_uid`` and distinct ``key``. ``shape`` is ``[k, j, i]``;
    ``spacing`` is ``[x, y, z]`` mm (column, row, slice); ``origin`` is the LPS mm centre of the
    first voxel after ordering along the slice normal; ``direction`` is the 3×3 direction matrix
    (columns = i, j, k axes in LPS) flattened row by row.
    """

    series_uid: str
    key: str
    modality: str
    description: str
    files: list[Path]
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    study_uid: str = ""
    frame_of_reference_uid: str = ""
    patient_id: str = ""
    study_date: str = ""
    series_number: int | None = None
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_files(self) -> int:
        return len(self.files)

    def to_json(self, show_ids: bool = False) -> dict[str, Any]:
        """The stable `mdaread scan --json` record (see README); ``patient_id`` only with
        ``show_ids`` (a PatientID is a hospital identifier, shown on request only)."""
        record = {
            "series_uid": self.series_uid,
            "key": self.key,
            "modality": self.modality,
            "description": self.description,
            "n_files": self.n_files,
            "shape": list(self.shape),
            "spacing": list(self.spacing),
            "origin": list(self.origin),
            "direction": list(self.direction),
            "study_uid": self.study_uid,
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "patient_id": self.patient_id,
            "study_date": self.study_date,
            "series_number": self.series_number,
            "warnings": list(self.warnings),
        }
        if not show_ids:
            del record["patient_id"]
        return record


@dataclass
class ScanResult:
    """Every series candidate and skipped file under a scanned path."""

    series: list[SeriesCandidate] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def to_json(self, show_ids: bool = False) -> dict[str, Any]:
        return {
            "series": [s.to_json(show_ids) for s in self.series],
            "skipped": [s.to_json() for s in self.skipped],
        }
