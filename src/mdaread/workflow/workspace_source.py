"""The trial workspace as the workstation's ReadingSource (Qt-free).

Database calls happen on the caller's (main) thread only: ``series()`` resolves each series' file
list up front, so ``load`` — which runs in a worker thread — touches files and mdaread.io only,
never the SQLite connection (storage allows one connection per thread).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mdaread.errors import InputError
from mdaread.io import load_series
from mdaread.io.header_cache import header_key
from mdaread.model import SeriesCandidate, Volume
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.storage import (
    Actor,
    RegistrationRecord,
    SeriesFileRecord,
    WorkspaceRepository,
)
from mdaread.storage.files import check_files
from mdaread.workflow.blinding import visible_reads
from mdaread.workflow.registration_records import lps_tuple
from mdaread.workflow.registration_stores import latest_accepted
from mdaread.workflow.worklist import Landmark, SeriesChoice, WorklistEntry, timepoint_rank
from mdaread.workflow.workspace_service import workspace_status


class WorkspaceSource:
    """Worklist, series, landmarks and accepted registrations of a workspace, as ``actor`` sees
    them (a reader never receives the arm: storage hides it and WorklistEntry has no field)."""

    def __init__(self, ws: WorkspaceRepository, actor: Actor, name: str = "workspace", *,
                 extra_landmarks: dict[tuple[str, str], list[Landmark]] | None = None) -> None:
        """``extra_landmarks`` adds known vertebral levels per (subject, timepoint label), e.g.
        the sample trial's truth in the demo."""
        self.ws, self.actor, self.name = ws, actor, name
        self.extra_landmarks = dict(extra_landmarks or {})
        self._files: dict[str, tuple[int, SeriesCandidate, list[SeriesFileRecord]]] = {}

    def worklist(self) -> list[WorklistEntry]:
        entries = []
        for subject in workspace_status(self.ws, self.actor):
            for cell in subject.timepoints:
                if cell.n_series == 0:
                    continue  # nothing to read yet
                entries.append(WorklistEntry(subject.subject, cell.label, cell.days,
                                             "+".join(cell.modalities), cell.read_status,
                                             cell.n_series))
        return entries

    def timepoints(self, subject: str) -> list[str]:
        with_series = {s.timepoint_id for s in self.ws.list_series(subject=subject)}
        labels = [t.label for t in self.ws.list_timepoints(subject) if t.id in with_series]
        return sorted(labels, key=timepoint_rank)

    def series(self, subject: str, timepoint: str) -> list[SeriesChoice]:
        tp = self.ws.find_timepoint(subject, timepoint)
        if tp is None:
            return []
        choices = []
        for record in self.ws.list_series(subject=subject, timepoint_id=tp.id):
            files = self.ws.series_files(record.id)
            candidate = SeriesCandidate(
                series_uid=record.series_uid, key=record.key, modality=record.modality,
                description=record.description, files=[Path(f.path) for f in files],
                shape=record.shape, spacing=record.spacing, origin=record.origin,
                direction=record.direction, study_uid=record.study_uid,
                frame_of_reference_uid=record.frame_of_reference_uid, patient_id=subject,
                study_date=record.study_date,
                # load() checks the files against the import digests first: headers cached
                # under their combined hash then describe these very bytes
                extra={"header_key": header_key(record.content_hash, record.key)})
            ref = f"series {record.id}"
            self._files[ref] = (record.id, candidate, files)
            choices.append(SeriesChoice(record.series_uid, record.modality,
                                        record.description or record.modality, ref=ref))
        return choices

    def load(self, series: SeriesChoice, progress: Progress = no_progress,
             cancel: Cancel = never_cancel) -> Volume:
        """Check the files against their import hashes, then load (worker-thread safe)."""
        if series.ref not in self._files:
            raise InputError(f"{series.ref}: unknown series (list the timepoint's series first)")
        series_id, candidate, files = self._files[series.ref]
        progress(0.0, f"checking {len(files)} files of {series.description}")
        check = check_files(series_id, files)
        check_cancel(cancel)
        if not check.ok:
            raise InputError(f"{check.summary()} — the images changed since import; "
                             "ask the data manager to re-import or relink them")
        return load_series(candidate, progress=lambda f, m: progress(0.1 + 0.9 * f, m),
                           cancel=cancel)

    def landmarks(self, subject: str, timepoint: str) -> list[Landmark]:
        """The reader's level labels on this timepoint's series (kind ``label``), then lesion
        levels at the centres of their measurements at this timepoint (kind ``lesion``), then
        any extra landmarks given for it; centres in LPS mm. A level is ``treated`` when a
        treated index lesion of the subject lies at it."""
        extra = list(self.extra_landmarks.get((subject, timepoint), []))
        tp = self.ws.find_timepoint(subject, timepoint)
        if tp is None:
            return extra
        lesions = {lesion.lesion_id: lesion for lesion in self.ws.list_lesions(subject)}
        out = self._labels(subject, tp.id, _treated_levels(lesions.values()))
        reads = self.ws.list_reads(subject=subject, timepoint_id=tp.id, current_only=True)
        for read in visible_reads(self.actor, reads, purpose="primary"):
            for m in self.ws.list_measurements(read.id):
                lesion = lesions.get(m.lesion_id)
                if lesion is None or not m.endpoints:
                    continue
                center = np.mean(np.asarray(m.endpoints, dtype=np.float64), axis=0)
                out.append(Landmark(lesion.level, lps_tuple(center), lesion.treated_index,
                                    kind="lesion", series_uid=m.series_uid))
        return out + extra

    def level_labels(self, subject: str, timepoint: str) -> list[Landmark]:
        """Only the reader's level labels on this timepoint's series (see ``landmarks``)."""
        tp = self.ws.find_timepoint(subject, timepoint)
        if tp is None:
            return []
        return self._labels(subject, tp.id, _treated_levels(self.ws.list_lesions(subject)))

    def _labels(self, subject: str, timepoint_id: int, treated: set[str]) -> list[Landmark]:
        uids = {s.id: s.series_uid for s in self.ws.list_series(subject, timepoint_id)}
        return [Landmark(r.level, lps_tuple(r.center), r.level in treated, kind="label",
                         series_uid=uids[r.series_id])
                for r in self.ws.list_level_labels(subject=subject) if r.series_id in uids]

    def label_level(self, subject: str, timepoint: str, series: SeriesChoice, level: str,
                    center: npt.ArrayLike, reason: str = "") -> Landmark:
        """Store "this is ``level``" at ``center`` (LPS mm of ``series``) as this source's
        actor; a label of that level on the series is replaced (audited)."""
        point = lps_tuple(np.asarray(center, dtype=np.float64).reshape(3))
        record = self.ws.set_level_label(self.actor, self._series_id(series), level, point,
                                         reason)
        treated = _treated_levels(self.ws.list_lesions(subject))
        return Landmark(record.level, lps_tuple(record.center), record.level in treated,
                        kind="label", series_uid=series.series_uid)

    def remove_level_label(self, subject: str, timepoint: str, series: SeriesChoice,
                           level: str, reason: str = "") -> None:
        """Remove the label of ``level`` on ``series`` (audited); WorkspaceError when none."""
        self.ws.remove_level_label(self.actor, self._series_id(series), level, reason)

    def _series_id(self, series: SeriesChoice) -> int:
        if series.ref not in self._files:
            raise InputError(f"{series.ref}: unknown series (list the timepoint's series first)")
        return self._files[series.ref][0]

    def registration(self, subject: str, baseline: SeriesChoice,
                     followup: SeriesChoice) -> npt.NDArray[np.float64] | None:
        """The latest accepted registration of this pair (baseline LPS → follow-up LPS)."""
        record = self.registration_record(subject, baseline, followup)
        return None if record is None else np.asarray(record.matrix, dtype=np.float64)

    def registration_record(self, subject: str, baseline: SeriesChoice,
                            followup: SeriesChoice) -> RegistrationRecord | None:
        """The latest accepted registration of this pair as stored: matrix, who, when, and
        where it was computed (region, level, landmark pairs)."""
        ids = [self._files[c.ref][0] for c in (baseline, followup) if c.ref in self._files]
        if len(ids) != 2:
            return None
        record: RegistrationRecord | None = latest_accepted(self.ws, ids[0], ids[1])
        return record


def _treated_levels(lesions: Iterable[Any]) -> set[str]:
    """Levels that hold a treated index lesion (lesion records of the workspace)."""
    return {lesion.level for lesion in lesions if lesion.treated_index}
