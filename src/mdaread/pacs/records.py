"""What a PACS query answers: studies with their series and instance counts (plain records)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from mdaread.errors import InputError

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_uid(uid: str, what: str = "series UID") -> str:
    """``uid`` if it is a DICOM UID (digits and dots, at most 64 characters), else InputError;
    a UID names a cache folder, so nothing else may pass."""
    if not (_UID.match(uid) and len(uid) <= 64):
        raise InputError(f"{what} {uid!r} is not a DICOM UID (digits and dots, ≤ 64 characters)")
    return uid


@dataclass(frozen=True)
class QueryFilter:
    """Query keys: PatientID (exact), modality (e.g. CT), studies on or after ``since``."""

    patient_id: str = ""
    modality: str = ""
    since: str = ""  # YYYY-MM-DD

    def __post_init__(self) -> None:
        if self.since and not _DATE.match(self.since):
            raise InputError(f"--since {self.since!r}: expected a date YYYY-MM-DD")
        if self.modality and not re.match(r"^[A-Z0-9]{1,16}$", self.modality):
            raise InputError(f"--modality {self.modality!r}: expected a DICOM modality like CT")

    @property
    def since_dicom(self) -> str:
        """The DICOM range ``YYYYMMDD-`` (open end) or ''."""
        return f"{self.since.replace('-', '')}-" if self.since else ""


@dataclass(frozen=True)
class SeriesHit:
    series_uid: str
    modality: str
    description: str
    number: str
    n_instances: int | None


@dataclass(frozen=True)
class StudyHit:
    study_uid: str
    patient_id: str
    study_date: str
    description: str
    series: list[SeriesHit] = field(default_factory=list)

    @property
    def n_instances(self) -> int | None:
        counts = [s.n_instances for s in self.series]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    def to_json(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if k != "series"},
                "n_series": len(self.series), "n_instances": self.n_instances,
                "series": [asdict(s) for s in self.series]}


@dataclass(frozen=True)
class SeriesLocation:
    """Where a series lives on the server: its study and how many instances it holds."""

    study_uid: str
    series_uid: str
    n_instances: int | None
