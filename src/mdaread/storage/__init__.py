"""The trial workspace: one SQLite file (the only package importing sqlite3), an audit trail.

Public API (see docs/storage.md)::

    from mdaread.storage import Actor, open_workspace, create_workspace
    with open_workspace("W") as ws:
        ws.list_subjects(Actor("dm", "data_manager"))
"""

from mdaread.storage.audit import verify_chain
from mdaread.storage.errors import (
    AlreadySigned,
    ImmutableRecord,
    NotAWorkspace,
    PermissionDenied,
    RecordNotFound,
    SchemaTooNew,
    WorkspaceBusy,
    WorkspaceDamaged,
    WorkspaceError,
)
from mdaread.storage.files import (
    combined_hash,
    file_records,
    hash_file,
    refuse_overwriting_database,
)
from mdaread.storage.records import (
    PURPOSES,
    ROLES,
    VERTEBRAL_LEVELS,
    Actor,
    AssessmentRecord,
    AuditCheck,
    AuditRecord,
    FileCheck,
    LesionRecord,
    LevelLabelRecord,
    MeasurementRecord,
    NewMeasurement,
    NewSeries,
    ReadRecord,
    RegistrationRecord,
    SeriesFileRecord,
    SeriesRecord,
    SubjectRecord,
    TimepointRecord,
    vertebral_level,
)
from mdaread.storage.repository import WorkspaceRepository
from mdaread.storage.schema import SCHEMA_VERSION
from mdaread.storage.sqlite_db import DB_NAME, files_open_to_others
from mdaread.storage.sqlite_workspace import SqliteWorkspace, create_workspace, open_workspace


def verify_series_files(workspace: WorkspaceRepository, series_id: int) -> FileCheck:
    """Re-hash a stored series' files; call when a case is opened and warn unless ``.ok``."""
    return workspace.verify_series_files(series_id)


__all__ = [
    "DB_NAME",
    "PURPOSES",
    "ROLES",
    "SCHEMA_VERSION",
    "VERTEBRAL_LEVELS",
    "Actor",
    "AlreadySigned",
    "AssessmentRecord",
    "AuditCheck",
    "AuditRecord",
    "FileCheck",
    "ImmutableRecord",
    "LesionRecord",
    "LevelLabelRecord",
    "MeasurementRecord",
    "NewMeasurement",
    "NewSeries",
    "NotAWorkspace",
    "PermissionDenied",
    "ReadRecord",
    "RecordNotFound",
    "RegistrationRecord",
    "SchemaTooNew",
    "SeriesFileRecord",
    "SeriesRecord",
    "SqliteWorkspace",
    "SubjectRecord",
    "TimepointRecord",
    "WorkspaceBusy",
    "WorkspaceDamaged",
    "WorkspaceError",
    "WorkspaceRepository",
    "combined_hash",
    "create_workspace",
    "file_records",
    "files_open_to_others",
    "hash_file",
    "open_workspace",
    "refuse_overwriting_database",
    "verify_chain",
    "verify_series_files",
    "vertebral_level",
]
