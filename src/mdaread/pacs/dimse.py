"""DIMSE (C-FIND query, C-GET retrieve) with pynetdicom: the only module using it.

A node is written ``AE@host:port`` (the called AE title); this workstation calls as
``calling_ae``. pynetdicom's queries are pydicom Datasets, so this module imports pydicom too.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, build_role, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    CTImageStorage,
    EnhancedCTImageStorage,
    EnhancedMRImageStorage,
    MRImageStorage,
    SecondaryCaptureImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
)

from mdaread.errors import Cancelled, InputError, PacsError
from mdaread.model.jobs import Cancel, Progress, never_cancel, no_progress
from mdaread.pacs.records import QueryFilter, SeriesHit, SeriesLocation, StudyHit, check_uid

TIMEOUT_S = 30.0
STORAGE_CLASSES = (CTImageStorage, MRImageStorage, EnhancedCTImageStorage,
                   EnhancedMRImageStorage, SecondaryCaptureImageStorage)
"""What a C-GET accepts back: the images mdaread reads."""

_NODE = re.compile(r"^(?P<ae>[^@\\]{1,16})@(?P<host>[A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\]):"
                   r"(?P<port>\d{1,5})$")


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value)


def _count(ds: Dataset, keyword: str) -> int | None:
    try:
        return int(ds.get(keyword, ""))
    except (TypeError, ValueError):
        return None


class DimseNode:
    """One DIMSE peer: C-FIND studies → series, C-FIND a series, C-GET its instances."""

    protocol = "dimse"

    def __init__(self, called_ae: str, host: str, port: int, *, calling_ae: str = "MDAREAD",
                 timeout: float = TIMEOUT_S) -> None:
        if not 0 < port < 65536:
            raise InputError(f"{called_ae}@{host}:{port}: port out of range")
        if not 0 < len(calling_ae.strip()) <= 16 or "\\" in calling_ae:
            raise InputError(f"--calling-ae {calling_ae!r}: an AE title is 1-16 characters")
        self.called_ae, self.host, self.port = called_ae, host.strip("[]"), port
        self.calling_ae, self.timeout = calling_ae, timeout
        self.label = f"DIMSE node {called_ae}@{host}:{port}"

    @classmethod
    def parse(cls, node: str, *, calling_ae: str = "MDAREAD") -> DimseNode:
        """``AE@host:port`` → a node; InputError for anything else."""
        match = _NODE.match(node)
        if not match:
            raise InputError(f"{node!r}: expected a DICOMweb URL (http[s]://…) or a DIMSE node "
                             "AE@host:port")
        return cls(match["ae"], match["host"], int(match["port"]), calling_ae=calling_ae)

    def _associate(self, contexts: list[Any], **kwargs: Any) -> Association:
        """An established association, else PacsError: refused connection, rejection, abort."""
        try:  # pynetdicom only logs a refused connection: find out first, and say so
            socket.create_connection((self.host, self.port), timeout=self.timeout).close()
        except ConnectionRefusedError:
            raise PacsError(f"{self.label}: connection refused (is the server running?)"
                            ) from None
        except TimeoutError:
            raise PacsError(f"{self.label}: no answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise PacsError(f"{self.label}: cannot connect ({exc.strerror or exc})") from None
        ae = AE(ae_title=self.calling_ae)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = self.timeout
        for context in contexts:
            if isinstance(context, tuple):
                ae.add_requested_context(*context)
            else:
                ae.add_requested_context(context)
        assoc = ae.associate(self.host, self.port, ae_title=self.called_ae, **kwargs)
        if assoc.is_established:
            return assoc
        if assoc.is_rejected:
            raise PacsError(f"{self.label}: association rejected (does it know the called AE "
                            f"{self.called_ae!r} and our AE {self.calling_ae!r}?)")
        raise PacsError(f"{self.label}: association aborted or refused by the peer")

    def _find(self, query: Dataset) -> list[Dataset]:
        assoc = self._associate([StudyRootQueryRetrieveInformationModelFind])
        found, status = [], None
        try:
            for status, answer in assoc.send_c_find(
                    query, StudyRootQueryRetrieveInformationModelFind):
                if status is None:
                    raise PacsError(f"{self.label}: C-FIND got no answer within "
                                    f"{self.timeout:g} s")
                if status.Status in (0xFF00, 0xFF01) and answer is not None:
                    found.append(answer)
        finally:
            assoc.release()
        if status is not None and status.Status not in (0x0000, 0xFF00, 0xFF01):
            raise PacsError(f"{self.label}: C-FIND failed (status 0x{status.Status:04X})")
        return found

    def query(self, flt: QueryFilter) -> list[StudyHit]:
        """C-FIND at STUDY then SERIES level (study root)."""
        study = Dataset()
        study.QueryRetrieveLevel = "STUDY"
        study.StudyInstanceUID = ""
        study.PatientID = flt.patient_id
        study.StudyDate = flt.since_dicom
        study.StudyDescription = ""
        study.ModalitiesInStudy = flt.modality
        hits = []
        for answer in self._find(study):
            uid = _text(answer, "StudyInstanceUID")
            series_query = Dataset()
            series_query.QueryRetrieveLevel = "SERIES"
            series_query.StudyInstanceUID = uid
            series_query.SeriesInstanceUID = ""
            series_query.Modality = flt.modality
            series_query.SeriesDescription = ""
            series_query.SeriesNumber = ""
            series_query.NumberOfSeriesRelatedInstances = ""
            series = [SeriesHit(_text(s, "SeriesInstanceUID"), _text(s, "Modality"),
                                _text(s, "SeriesDescription"), _text(s, "SeriesNumber"),
                                _count(s, "NumberOfSeriesRelatedInstances"))
                      for s in self._find(series_query)]
            hits.append(StudyHit(uid, _text(answer, "PatientID"), _text(answer, "StudyDate"),
                                 _text(answer, "StudyDescription"),
                                 sorted(series, key=lambda s: (s.number, s.series_uid))))
        return sorted(hits, key=lambda h: (h.patient_id, h.study_date, h.study_uid))

    def locate(self, series_uid: str) -> SeriesLocation:
        """C-FIND at SERIES level by UID; PacsError when the peer lacks it."""
        check_uid(series_uid)
        query = Dataset()
        query.QueryRetrieveLevel = "SERIES"
        query.StudyInstanceUID = ""
        query.SeriesInstanceUID = series_uid
        query.NumberOfSeriesRelatedInstances = ""
        found = [a for a in self._find(query) if _text(a, "SeriesInstanceUID") == series_uid]
        if not found:
            raise PacsError(f"{self.label}: no series {series_uid} on the server")
        return SeriesLocation(_text(found[0], "StudyInstanceUID"), series_uid,
                              _count(found[0], "NumberOfSeriesRelatedInstances"))

    def fetch(self, where: SeriesLocation, folder: Path, *, progress: Progress = no_progress,
              cancel: Cancel = never_cancel) -> int:
        """C-GET: every instance of the series written as ``folder/NNNNN.dcm`` as sent (the
        peer's C-STORE sub-operations on this association); the number written."""
        total = where.n_instances or 0
        written = [0]

        def on_store(event: Any) -> int:
            (folder / f"{written[0]:05d}.dcm").write_bytes(event.encoded_dataset())
            written[0] += 1
            progress(written[0] / total if total else 0.0,
                     f"{written[0]}/{total or '?'} instances")
            return 0x0000

        contexts: list[Any] = [StudyRootQueryRetrieveInformationModelGet]
        contexts += [(c, ALL_TRANSFER_SYNTAXES[:]) for c in STORAGE_CLASSES]
        roles = [build_role(c, scp_role=True) for c in STORAGE_CLASSES]
        assoc = self._associate(contexts, ext_neg=roles,
                                evt_handlers=[(evt.EVT_C_STORE, on_store)])
        query = Dataset()
        query.QueryRetrieveLevel = "SERIES"
        query.StudyInstanceUID = where.study_uid
        query.SeriesInstanceUID = where.series_uid
        status = None
        try:
            for status, _ in _responses(assoc, query):
                if cancel():
                    assoc.abort()
                    raise Cancelled("cancelled by the user")
                if status is None:
                    raise PacsError(f"{self.label}: C-GET got no answer within "
                                    f"{self.timeout:g} s")
        finally:
            if assoc.is_established:
                assoc.release()
        failed = _count(status, "NumberOfFailedSuboperations") if status is not None else None
        if status is None or status.Status not in (0x0000, 0xB000) or failed:
            code = f"0x{status.Status:04X}" if status is not None else "none"
            raise PacsError(f"{self.label}: C-GET of series {where.series_uid} failed "
                            f"(status {code}, {failed or 0} failed, {written[0]} received)")
        if written[0] == 0:
            raise PacsError(f"{self.label}: series {where.series_uid} returned no instances")
        return written[0]


def _responses(assoc: Association, query: Dataset) -> Iterator[tuple[Any, Any]]:
    yield from assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet)
