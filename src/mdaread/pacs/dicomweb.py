"""DICOMweb (QIDO-RS query, WADO-RS retrieve) with dicomweb-client: the only module using it.

The base URL is the server's DICOMweb root (Orthanc: ``http://host:8042/dicom-web``).
Credentials come from mdaread.pacs.secrets (the environment), never from the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from dicomweb_client.api import DICOMwebClient

from mdaread.errors import InputError, PacsError
from mdaread.model.jobs import Cancel, Progress, check_cancel, never_cancel, no_progress
from mdaread.pacs.records import QueryFilter, SeriesHit, SeriesLocation, StudyHit, check_uid
from mdaread.pacs.secrets import PASSWORD_ENV, TOKEN_ENV, Credentials

TIMEOUT_S = 30.0
"""Seconds to wait for a connection or for the next bytes of an answer."""

_STUDY_FIELDS = ["StudyDescription", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"]
_SERIES_FIELDS = ["SeriesDescription", "SeriesNumber", "NumberOfSeriesRelatedInstances"]


class _TimeoutSession(requests.Session):
    """A requests session whose every request has a timeout (requests waits forever)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def _first(item: dict[str, Any], tag: str) -> Any:
    value = item.get(tag, {}).get("Value") or [""]
    first = value[0]
    return first.get("Alphabetic", "") if isinstance(first, dict) else first


def _count(item: dict[str, Any], tag: str) -> int | None:
    value = _first(item, tag)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class DicomwebNode:
    """One DICOMweb server: ``query`` studies → series, ``locate`` and ``fetch`` a series."""

    protocol = "dicomweb"

    def __init__(self, url: str, credentials: Credentials, *, timeout: float = TIMEOUT_S) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"{url!r}: not a DICOMweb URL (http[s]://host[:port]/path)")
        if parts.username or parts.password:
            raise InputError(f"{parts.hostname}: put no user or password in the URL "
                             f"(use ${PASSWORD_ENV} or ${TOKEN_ENV})")
        self.url = url.rstrip("/")
        self.label = f"DICOMweb server {self.url}"
        self._timeout = timeout
        session = _TimeoutSession(timeout)
        if credentials.token:
            session.headers["Authorization"] = f"Bearer {credentials.token}"
        elif credentials.user or credentials.password:
            session.auth = (credentials.user, credentials.password)
        self._client = DICOMwebClient(url=self.url, session=session)

    @contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        """requests' and dicomweb-client's exceptions → one-line PacsError naming the server."""
        try:
            yield
        except requests.exceptions.HTTPError as exc:
            code = exc.response.status_code if exc.response is not None else 0
            if code in (401, 403):
                raise PacsError(f"{self.label}: authentication refused (HTTP {code}) while "
                                f"{doing}; check $MDAREAD_PACS_USER and ${PASSWORD_ENV} "
                                f"(or ${TOKEN_ENV})") from None
            raise PacsError(f"{self.label}: HTTP {code} while {doing}") from None
        except requests.exceptions.Timeout:
            raise PacsError(f"{self.label}: no answer within {self._timeout:g} s "
                            f"while {doing}") from None
        except requests.exceptions.ConnectionError as exc:
            why = "connection refused" if "refused" in str(exc).lower() else "cannot connect"
            raise PacsError(f"{self.label}: {why} while {doing} (is the server running?)"
                            ) from None
        except requests.exceptions.RequestException as exc:
            raise PacsError(f"{self.label}: {type(exc).__name__} while {doing}") from None
        except ValueError as exc:  # a malformed answer (not JSON / not multipart)
            raise PacsError(f"{self.label}: unreadable answer while {doing} ({exc})") from None

    def query(self, flt: QueryFilter) -> list[StudyHit]:
        """QIDO-RS: studies matching ``flt``, each with its series (filtered by modality)."""
        filters: dict[str, Any] = {}
        if flt.patient_id:
            filters["PatientID"] = flt.patient_id
        if flt.modality:
            filters["ModalitiesInStudy"] = flt.modality
        if flt.since:
            filters["StudyDate"] = flt.since_dicom
        with self._talking("searching studies"):
            studies = self._client.search_for_studies(search_filters=filters,
                                                      fields=_STUDY_FIELDS)
        hits = []
        for study in studies:
            uid = str(_first(study, "0020000D"))
            series_filters = {"Modality": flt.modality} if flt.modality else {}
            with self._talking(f"searching the series of study {uid}"):
                found = self._client.search_for_series(uid, search_filters=series_filters,
                                                       fields=_SERIES_FIELDS)
            series = [SeriesHit(str(_first(s, "0020000E")), str(_first(s, "00080060")),
                                str(_first(s, "0008103E")), str(_first(s, "00200011")),
                                _count(s, "00201209")) for s in found]
            hits.append(StudyHit(uid, str(_first(study, "00100020")),
                                 str(_first(study, "00080020")), str(_first(study, "00081030")),
                                 sorted(series, key=lambda s: (s.number, s.series_uid))))
        return sorted(hits, key=lambda h: (h.patient_id, h.study_date, h.study_uid))

    def locate(self, series_uid: str) -> SeriesLocation:
        """The study of a series (QIDO-RS /series); PacsError when the server lacks it."""
        check_uid(series_uid)
        with self._talking(f"looking for series {series_uid}"):
            found = self._client.search_for_series(
                search_filters={"SeriesInstanceUID": series_uid},
                fields=["NumberOfSeriesRelatedInstances"])
        matches = [s for s in found if _first(s, "0020000E") == series_uid]
        if not matches:
            raise PacsError(f"{self.label}: no series {series_uid} on the server")
        return SeriesLocation(str(_first(matches[0], "0020000D")), series_uid,
                              _count(matches[0], "00201209"))

    def fetch(self, where: SeriesLocation, folder: Path, *, progress: Progress = no_progress,
              cancel: Cancel = never_cancel) -> int:
        """WADO-RS: every instance of the series, in its stored transfer syntax, written as
        ``folder/NNNNN.dcm``; the number written. ``folder`` must exist."""
        total = where.n_instances or 0
        written = 0
        with self._talking(f"retrieving series {where.series_uid}"):
            instances = self._client.iter_series(where.study_uid, where.series_uid,
                                                 media_types=(("application/dicom", "*"),))
            for dataset in instances:
                check_cancel(cancel)
                dataset.save_as(folder / f"{written:05d}.dcm", enforce_file_format=True)
                written += 1
                progress(written / total if total else 0.0,
                         f"{written}/{total or '?'} instances")
        if written == 0:
            raise PacsError(f"{self.label}: series {where.series_uid} returned no instances")
        return written
