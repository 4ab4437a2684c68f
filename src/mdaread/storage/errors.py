"""Workspace errors: all are WorkspaceError, so the command line prints one line and exits 2."""

from __future__ import annotations

from mdaread.errors import WorkspaceError


class NotAWorkspace(WorkspaceError):
    """The folder holds no mdaread workspace (or the file is not an SQLite database)."""


class WorkspaceDamaged(WorkspaceError):
    """``workspace.sqlite`` fails SQLite's structural check: refused before anything is written."""


class SchemaTooNew(WorkspaceError):
    """The workspace was written by a newer mdaread; it is refused, never downgraded."""


class WorkspaceBusy(WorkspaceError):
    """Another process held the write lock for longer than the busy timeout."""


class PermissionDenied(WorkspaceError):
    """The acting user's role may not do this (e.g. a reader setting the randomisation)."""


class ImmutableRecord(WorkspaceError):
    """A change to a signed read, or to the audit trail, was refused."""


class AlreadySigned(WorkspaceError):
    """Another signed read already holds this place (one signed primary read per subject and
    timepoint; a signed read is corrected at most once)."""


class RecordNotFound(WorkspaceError):
    """A subject, timepoint, series, read … that the workspace does not hold."""


__all__ = [
    "AlreadySigned",
    "ImmutableRecord",
    "NotAWorkspace",
    "PermissionDenied",
    "RecordNotFound",
    "SchemaTooNew",
    "WorkspaceBusy",
    "WorkspaceDamaged",
    "WorkspaceError",
]
