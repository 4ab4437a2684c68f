"""What every DICOM object of an export shares: deterministic UIDs, de-identified identity and
dates, the local coding scheme, and byte-stable writing.

De-identification (DICOM PS3.15 Annex E, Basic Application Confidentiality Profile, with the
Retain UIDs option and one of the two Retain Longitudinal Temporal Information options):

- the source headers are never copied: the objects are built from ``SeriesReference`` records
  (UIDs, dates and geometry only) and from the workspace's own records;
- Patient's Name and Patient ID are the subject's trial ID (pseudonymous), Birth Date and Sex
  empty; Accession Number, Study ID and Referring Physician empty; no descriptions from the
  source; Patient Identity Removed = YES with the method's text and codes (CID 7050);
- the UIDs of the source study, series, images and frame of reference are kept, so that the
  SR and SEG still point at their images;
- dates follow the protocol setting ``dicom_dates``: ``shift`` (default) moves every date of a
  subject by the same number of days so that its treatment date falls on ``SHIFT_ANCHOR``
  (intervals and times of day are kept: Modified Dates option); ``keep`` keeps them (Full Dates
  option). The objects' own dates are the read's signing time, shifted the same way.

Every UID an export creates is ``pydicom.uid.generate_uid`` over its parts (the trial's identity
first), so an export made twice gives the same UIDs and the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from highdicom import UID
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.uid import PYDICOM_ROOT_UID, generate_uid

from mdaread import __version__
from mdaread.export.deid import Identity
from mdaread.model.references import SeriesReference

UID_PREFIX = PYDICOM_ROOT_UID
LOCAL_SCHEME = "99MDAREAD"
LOCAL_SCHEME_NAME = "mdaread MD Anderson bone response vocabulary"
MANUFACTURER = "mdaread"
IMPLEMENTATION_VERSION = "MDAREAD"


def dicom_uid(trial: str, *parts: object) -> UID:
    """A UID derived from ``trial`` and ``parts`` only: the same inputs, the same UID."""
    entropy = json.dumps(["mdaread", trial, *[str(p) for p in parts]], ensure_ascii=False)
    return UID(generate_uid(prefix=UID_PREFIX, entropy_srcs=[entropy]))


def local_code(value: str, meaning: str) -> CodedConcept:
    """A concept of mdaread's own coding scheme (``99MDAREAD``); meaning cut to 64 characters."""
    return CodedConcept(value=value, scheme_designator=LOCAL_SCHEME, meaning=meaning[:64])


def evidence(series: SeriesReference, who: Identity) -> list[Dataset]:
    """One minimal data set per source image: its UIDs and the de-identified patient and study
    (what highdicom copies into the SR or SEG), nothing read from a source header's text."""
    out = []
    for image in series.images:
        ds = Dataset()
        ds.SOPClassUID = image.sop_class_uid
        ds.SOPInstanceUID = image.sop_instance_uid
        ds.StudyInstanceUID = series.study_uid
        ds.SeriesInstanceUID = series.series_uid
        ds.Modality = series.modality
        ds.FrameOfReferenceUID = series.frame_of_reference_uid
        _identity(ds, who, series)
        out.append(ds)
    return out


def person_name(text: str) -> str:
    """A one-component DICOM person name (``rita`` → ``rita^``): a pseudonym or an account."""
    return text if "^" in text else f"{text}^"


def _identity(ds: Dataset, who: Identity, series: SeriesReference) -> None:
    ds.PatientName = person_name(who.subject)
    ds.PatientID = who.subject
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyDate = who.date(series.study_date)
    ds.StudyTime = series.study_time
    ds.AccessionNumber = ""
    ds.StudyID = ""
    ds.ReferringPhysicianName = ""


def deidentify(ds: Dataset, who: Identity, signed_at: str) -> None:
    """Stamp a built SR/SEG: pseudonymous patient, de-identification method, the read's own
    (shifted) time as every creation and content time, a fixed implementation identity."""
    ds.PatientName = person_name(who.subject)
    ds.PatientID = who.subject
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.PatientIdentityRemoved = "YES"
    temporal = ("RetainLongitudinalTemporalInformationFullDatesOption" if who.dates == "keep"
                else "RetainLongitudinalTemporalInformationModifiedDatesOption")
    options = ("BasicApplicationConfidentialityProfile", "RetainUidsOption", temporal)
    ds.DeidentificationMethod = ("PS3.15 Basic Profile, Retain UIDs, "
                                 + ("Full Dates" if who.dates == "keep" else "Modified Dates"))
    ds.DeidentificationMethodCodeSequence = [_cid7050(name) for name in options]
    when = who.instant(signed_at)
    day, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    ds.InstanceCreationDate, ds.InstanceCreationTime = day, time
    if "ContentDate" in ds:
        ds.ContentDate, ds.ContentTime = day, time
    if "SeriesDate" in ds or "SeriesTime" in ds:
        ds.SeriesDate, ds.SeriesTime = day, time
    for item in ds.get("VerifyingObserverSequence", []):
        item.VerificationDateTime = when.strftime("%Y%m%d%H%M%S")
    for item in ds.get("ContributingEquipmentSequence", []):  # highdicom stamps the wall clock
        item.ContributionDateTime = when.strftime("%Y%m%d%H%M%S")
    ds.SoftwareVersions = __version__
    meta = ds.file_meta
    meta.ImplementationClassUID = dicom_uid("", "implementation class")
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION


def _cid7050(name: str) -> Dataset:
    from pydicom.sr.codedict import codes

    code = getattr(codes.DCM, name)
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    return item


def write(ds: Dataset, path: Path) -> None:
    """Write ``ds`` as a DICOM file (preamble, file meta) — the same data set, the same bytes."""
    ds.save_as(path, enforce_file_format=True)


def safe_name(text: str) -> str:
    """A file-name part from a trial ID or label: letters, digits, ``-`` and ``_`` only."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in text)
    return cleaned.strip("_") or "x"
