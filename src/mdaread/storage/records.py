"""Typed records the workspace repository takes and returns (stdlib only, no SQL).

Dates are ``YYYY-MM-DD`` strings, instants are UTC ISO 8601 strings
(``2026-11-21T02:30:00.123456Z``).
Every coordinate is LPS millimetres; matrices are 4×4 lists of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mdaread.model.vocabulary import LABELLED_LEVELS, ROLES, level_name

PURPOSES: tuple[str, ...] = ("primary", "reread", "adjudication")
READ_STATUSES: tuple[str, ...] = ("draft", "signed")
REGISTRATION_STATUSES: tuple[str, ...] = ("proposed", "accepted", "rejected")
MEASUREMENT_METHODS: tuple[str, ...] = ("manual", "semi-auto")
VERTEBRAL_LEVELS: tuple[str, ...] = LABELLED_LEVELS
"""The vertebral levels a reader may label, cranial to caudal (model.vocabulary)."""


def vertebral_level(text: str) -> str:
    """The canonical name of a vertebral level typed as ``l1`` or `` L1 `` → ``L1``;
    ValueError (with a one-line message listing the valid names) for anything else."""
    return level_name(text, VERTEBRAL_LEVELS)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name and the role they act in. Recorded in every audit row."""

    user: str
    role: str

    def __post_init__(self) -> None:
        if not self.user.strip():
            raise ValueError("an actor needs a user name")
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} (expected one of {', '.join(ROLES)})")

    @property
    def sees_arm(self) -> bool:
        """Only the data manager sees the randomised arm (readers stay blind to treatment)."""
        return self.role == "data_manager"


@dataclass(frozen=True)
class SubjectRecord:
    """A trial subject. ``arm`` is None for every role but the data manager."""

    trial_id: str
    centre: str | None
    arm: str | None
    treatment_date: str | None


@dataclass(frozen=True)
class TimepointRecord:
    """One visit of a subject: ``label`` (baseline, 1m, …), nominal day, actual scan date."""

    id: int
    subject: str
    label: str
    nominal_day: int | None
    scan_date: str | None


@dataclass(frozen=True)
class SeriesFileRecord:
    """One image file of a series with the SHA-256 of its bytes and its size in bytes."""

    idx: int
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class NewSeries:
    """A series to attach to a subject's timepoint (what ingest builds from a scan candidate).

    ``shape`` is [k, j, i]; ``spacing`` [x, y, z] mm; ``origin`` LPS mm; ``direction`` 9 numbers.
    ``files`` are in slice order; ``content_hash`` is ``combined_hash`` of their digests.
    """

    subject: str
    timepoint_id: int
    series_uid: str
    key: str
    study_uid: str
    frame_of_reference_uid: str
    modality: str
    description: str
    study_date: str
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    files: tuple[SeriesFileRecord, ...]
    content_hash: str


@dataclass(frozen=True)
class SeriesRecord:
    """A stored series (see NewSeries for units); ``id`` is the workspace's own key."""

    id: int
    subject: str
    timepoint_id: int
    series_uid: str
    key: str
    study_uid: str
    frame_of_reference_uid: str
    modality: str
    description: str
    study_date: str
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    content_hash: str
    n_files: int
    imported_at: str


@dataclass(frozen=True)
class RegistrationRecord:
    """A rigid registration: ``matrix`` maps baseline (fixed) LPS mm → follow-up LPS mm.

    Where it was computed (schema 3; None/empty on older rows): ``center`` of the region in
    baseline LPS mm, its ``radius_mm``, the vertebral ``level`` of that centre when the reader
    picked one, and for a landmark fit the ``landmark_pairs`` ([[baseline x, y, z], [follow-up
    x, y, z]] LPS mm each) with their RMS ``residual_mm``.
    """

    id: int
    baseline_series_id: int
    followup_series_id: int
    matrix: list[list[float]]
    metric: float | None
    quality: str
    method: str
    status: str
    created_by: str
    created_at: str
    accepted_by: str | None
    accepted_at: str | None
    center: list[float] | None = None
    radius_mm: float | None = None
    level: str | None = None
    landmark_pairs: list[list[list[float]]] = field(default_factory=list)
    residual_mm: float | None = None


@dataclass(frozen=True)
class LevelLabelRecord:
    """A vertebral level the reader labelled on a series: ``center`` in that series' LPS mm,
    who labelled it and when (UTC ISO 8601). One label per level and series."""

    id: int
    series_id: int
    level: str
    center: list[float]
    labelled_by: str
    labelled_at: str


@dataclass(frozen=True)
class LesionRecord:
    """A lesion tracked across a subject's timepoints. ``lesion_id`` is the reader's label (L1…)."""

    id: int
    subject: str
    lesion_id: str
    level: str
    phenotype: str
    well_defined: bool
    treated_index: bool


@dataclass(frozen=True)
class NewMeasurement:
    """A bidimensional measurement: diameters in mm, ``endpoints`` as [x, y, z] LPS mm points."""

    lesion_id: str
    long_mm: float | None
    perp_mm: float | None
    endpoints: list[list[float]] = field(default_factory=list)
    series_uid: str = ""
    method: str = "manual"


@dataclass(frozen=True)
class MeasurementRecord:
    """A stored measurement; ``lesion_id`` is the reader's label, ``lesion_pk`` the row key."""

    id: int
    read_id: int
    lesion_pk: int
    lesion_id: str
    timepoint_id: int
    long_mm: float | None
    perp_mm: float | None
    endpoints: list[list[float]]
    series_uid: str
    method: str


@dataclass(frozen=True)
class ReadRecord:
    """One reader's read of one timepoint. ``observations`` is the batch-form timepoint dict."""

    id: int
    subject: str
    timepoint_id: int
    timepoint_label: str
    reader: str
    purpose: str
    status: str
    protocol: dict[str, Any]
    criteria_version: str
    observations: dict[str, Any]
    category: str | None
    final_category: str | None
    rule: str | None
    override_category: str | None
    override_reason: str | None
    blinded: bool
    supersedes: int | None
    correction_reason: str | None
    created_at: str
    updated_at: str
    signed_at: str | None

    @property
    def effective_category(self) -> str | None:
        """The reader's override when there is one, else the engine's category."""
        return self.override_category or self.category


@dataclass(frozen=True)
class AssessmentRecord:
    """A derived (recomputable) category of a timepoint; ``details`` holds SPD, warnings …"""

    id: int
    subject: str
    timepoint_id: int
    read_id: int | None
    category: str | None
    final_category: str | None
    rule: str | None
    criteria_version: str
    details: dict[str, Any]
    computed_at: str


@dataclass(frozen=True)
class AuditRecord:
    """One row of the append-only, hash-chained audit trail (before/after are JSON text)."""

    id: int
    at: str
    user: str
    role: str
    action: str
    entity: str
    entity_id: str
    before: str | None
    after: str | None
    reason: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditCheck:
    """The result of walking the audit chain: ``first_broken`` is None when it is intact."""

    n_rows: int
    first_broken: int | None
    problem: str
    head: str = ""
    """Hash of the last row when intact: note it down (or export it) to detect later a
    rewrite of the whole chain, which the chain alone cannot reveal."""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


@dataclass(frozen=True)
class FileCheck:
    """What ``verify_series_files`` found: files missing or altered since import."""

    series_id: int
    n_files: int
    missing: tuple[str, ...]
    altered: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered

    def summary(self) -> str:
        """One line for a warning banner."""
        if self.ok:
            return f"all {self.n_files} files present and unchanged"
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing (first: {self.missing[0]})")
        if self.altered:
            parts.append(f"{len(self.altered)} altered (first: {self.altered[0]})")
        return f"series {self.series_id}: " + "; ".join(parts)
