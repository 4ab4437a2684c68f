"""Query a PACS and retrieve a series into the workspace: the same import as a folder.

A retrieve writes into ``W/pacs_cache/<series UID>.partial/`` and renames it to
``W/pacs_cache/<series UID>/`` only when every instance has arrived, then runs
``ingest_path`` on that folder (subject and timepoint mapping, ambiguities listed, never
guessed). A retrieve cut off half-way leaves only the partial folder, which the next run
removes and fetches again; a series already in the workspace is not fetched at all, and a
complete cache folder not yet imported is imported without fetching.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdaread.model.jobs import Cancel, Progress, never_cancel, no_progress
from mdaread.pacs import PacsNode, QueryFilter, StudyHit, check_uid
from mdaread.storage import Actor, WorkspaceRepository
from mdaread.workflow.ingest import IngestReport, MappingRow, ingest_path

CACHE_FOLDER = "pacs_cache"
PARTIAL_SUFFIX = ".partial"


def query_pacs(node: PacsNode, flt: QueryFilter) -> list[StudyHit]:
    """Studies → series (with instance counts) on ``node`` matching ``flt``."""
    return node.query(flt)


@dataclass(frozen=True)
class RetrieveReport:
    """What a retrieve did: ``fetched`` instances (0 when not fetched) and the import report
    (None when the series was already in the workspace)."""

    series_uid: str
    server: str
    status: str  # "fetched" | "cached" (complete cache folder, no fetch) | "present"
    fetched: int
    folder: str
    ingest: IngestReport | None

    @property
    def needs_attention(self) -> bool:
        return self.ingest is not None and self.ingest.needs_attention

    def to_json(self) -> dict[str, Any]:
        return {"series_uid": self.series_uid, "server": self.server, "status": self.status,
                "fetched": self.fetched, "folder": self.folder,
                "import": self.ingest.to_json() if self.ingest else None}


def cache_folder(ws: WorkspaceRepository, series_uid: str) -> Path:
    """``W/pacs_cache/<series UID>``: where a retrieved series' files stay (the workspace
    links them by path)."""
    return Path(ws.path) / CACHE_FOLDER / check_uid(series_uid)


def retrieve_series(ws: WorkspaceRepository, actor: Actor, node: PacsNode, series_uid: str, *,
                    ids: dict[str, str] | None = None, mapping: list[MappingRow] | None = None,
                    progress: Progress = no_progress, cancel: Cancel = never_cancel
                    ) -> RetrieveReport:
    """Fetch ``series_uid`` from ``node`` unless the workspace holds it, then import it.

    Progress: fetching is the first 80 %, the import the rest."""
    check_uid(series_uid)
    final = cache_folder(ws, series_uid)
    if ws.find_series(series_uid):
        return RetrieveReport(series_uid, node.label, "present", 0, str(final), None)
    fetched, status = 0, "cached"
    if not final.is_dir():
        where = node.locate(series_uid)
        partial = final.with_name(final.name + PARTIAL_SUFFIX)
        shutil.rmtree(partial, ignore_errors=True)  # a cut-off earlier run: fetch again
        partial.mkdir(parents=True)
        try:
            fetched = node.fetch(where, partial, progress=lambda f, m: progress(0.8 * f, m),
                                 cancel=cancel)
        except BaseException:  # refused, cut off, cancelled: keep nothing of it
            shutil.rmtree(partial, ignore_errors=True)
            raise
        partial.rename(final)
        status = "fetched"
    report = ingest_path(ws, actor, final, ids=ids, mapping=mapping,
                         progress=lambda f, m: progress(0.8 + 0.2 * f, m), cancel=cancel)
    return RetrieveReport(series_uid, node.label, status, fetched, str(final), report)
