"""PACS adapters: query and retrieve over DICOMweb (dicomweb-client) and DIMSE (pynetdicom).

``open_node(target)`` gives a node from an ``http[s]://…`` DICOMweb base URL or an
``AE@host:port`` DIMSE node; every node has ``label``, ``query(QueryFilter)``,
``locate(series_uid)`` and ``fetch(location, folder, progress=, cancel=)``. Failures are one-line
``PacsError``s naming the server. Credentials come from the environment (secrets.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mdaread.errors import PacsError
from mdaread.model.jobs import Cancel, Progress
from mdaread.pacs.records import (
    QueryFilter,
    SeriesHit,
    SeriesLocation,
    StudyHit,
    check_uid,
)
from mdaread.pacs.secrets import (
    PASSWORD_ENV,
    TOKEN_ENV,
    USER_ENV,
    Credentials,
    credentials_from_env,
)

__all__ = ["PASSWORD_ENV", "TOKEN_ENV", "USER_ENV", "Credentials", "PacsError", "PacsNode",
           "QueryFilter", "SeriesHit", "SeriesLocation", "StudyHit", "check_uid",
           "credentials_from_env", "open_node"]


class PacsNode(Protocol):
    protocol: str
    label: str

    def query(self, flt: QueryFilter) -> list[StudyHit]: ...
    def locate(self, series_uid: str) -> SeriesLocation: ...
    def fetch(self, where: SeriesLocation, folder: Path, *, progress: Progress = ...,
              cancel: Cancel = ...) -> int: ...


def open_node(target: str, credentials: Credentials | None = None, *,
              calling_ae: str = "MDAREAD") -> PacsNode:
    """A DICOMweb node for an ``http[s]://`` URL, else a DIMSE node for ``AE@host:port``."""
    creds = credentials or credentials_from_env()
    if target.startswith(("http://", "https://")):
        from mdaread.pacs.dicomweb import DicomwebNode  # lazy: requests only when used

        return DicomwebNode(target, creds)
    from mdaread.pacs.dimse import DimseNode  # lazy: pynetdicom only when used

    return DimseNode.parse(target, calling_ae=calling_ae)
