"""Helpers shared by the storage and workspace tests (no tests here)."""

from __future__ import annotations

from mdaread.storage import NewSeries, SeriesRecord, WorkspaceRepository, combined_hash
from mdaread.storage.records import Actor, SeriesFileRecord


def add_fake_series(ws: WorkspaceRepository, subject: str, label: str, uid: str,
                    files: tuple[SeriesFileRecord, ...] | None = None) -> SeriesRecord:
    """Attach a series record (no real files unless given) to a subject's timepoint."""
    actor = Actor("dana", "data_manager")
    tp = ws.ensure_timepoint(actor, subject, label)
    files = files or (SeriesFileRecord(0, f"/nowhere/{uid}.dcm", "ab" * 32, 10),)
    return ws.add_series(actor, NewSeries(
        subject=subject, timepoint_id=tp.id, series_uid=uid, key=uid, study_uid="9.9",
        frame_of_reference_uid="8.8", modality="CT", description="test", study_date="",
        shape=(2, 3, 4), spacing=(0.5, 0.5, 2.0), origin=(0.0, 0.0, 0.0),
        direction=(1, 0, 0, 0, 1, 0, 0, 0, 1), files=files,
        content_hash=combined_hash(f.sha256 for f in files)))
