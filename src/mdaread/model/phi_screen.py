"""A screen for identifying text in a free-text header value before the workspace keeps it.

A site can type a patient's name, birth date or hospital number into SeriesDescription; the
workspace stores the description and its audit trail cannot be rewritten, so the text is screened
once, where the header is read. Removed: the header's own identifiers (each part of PatientName,
PatientID, OtherPatientIDs, AccessionNumber, PatientBirthDate in the usual spellings) and any
calendar date. Each hit becomes ``[removed]``. Over-removal (a family name that is also a word)
is the accepted direction of error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

REMOVED = "[removed]"

_DATE_PATTERNS = (
    r"(?:19|20)\d{2}[-/.]?(?:0[1-9]|1[0-2])[-/.]?(?:0[1-9]|[12]\d|3[01])",  # 20250105, 2025-01-05
    r"(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|1[0-2])[-/.](?:19|20)?\d{2}",  # 05.01.2025, 5/1/25
    r"(?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)\d{2}",  # 01/31/2025
)
_DATE = re.compile(r"(?<!\d)(?:" + "|".join(_DATE_PATTERNS) + r")(?!\d)")


@dataclass(frozen=True)
class HeaderIdentifiers:
    """The identifying values of one header, as text (DICOM PN with ``^`` separators)."""

    patient_name: str = ""
    patient_ids: tuple[str, ...] = ()  # PatientID, OtherPatientIDs, AccessionNumber
    birth_date: str = ""  # YYYYMMDD


@dataclass(frozen=True)
class Screened:
    text: str
    removed: tuple[str, ...]  # what kinds were removed: "name", "id", "birth date", "date"


def _name_parts(patient_name: str) -> list[str]:
    """Each word of every PN component (family, given, middle …) of two letters or more."""
    words = re.split(r"[\^=\s,]+", patient_name)
    return sorted({w for w in words if len(w) >= 2 and any(c.isalpha() for c in w)},
                  key=len, reverse=True)


def _birth_date_spellings(yyyymmdd: str) -> list[str]:
    if not re.fullmatch(r"\d{8}", yyyymmdd):
        return []
    y, m, d = yyyymmdd[:4], yyyymmdd[4:6], yyyymmdd[6:]
    return [yyyymmdd, f"{y}-{m}-{d}", f"{d}.{m}.{y}", f"{d}/{m}/{y}", f"{m}/{d}/{y}",
            f"{d}-{m}-{y}"]


def _remove(text: str, values: Iterable[str], *, words: bool) -> tuple[str, bool]:
    found = False
    for value in values:
        edge = r"(?<![^\W_])" if words else ""
        tail = r"(?![^\W_])" if words else ""
        pattern = re.compile(edge + re.escape(value) + tail, re.IGNORECASE)
        text, n = pattern.subn(REMOVED, text)
        found = found or n > 0
    return text, found


def screen(text: str, ids: HeaderIdentifiers) -> Screened:
    """``text`` without the header's identifiers and dates; what kinds were removed."""
    if not text:
        return Screened(text, ())
    removed: list[str] = []
    text, hit = _remove(text, _birth_date_spellings(ids.birth_date), words=False)
    if hit:
        removed.append("birth date")
    text, hit = _remove(text, sorted((i for i in ids.patient_ids if len(i) >= 3), key=len,
                                     reverse=True), words=False)
    if hit:
        removed.append("id")
    text, hit = _remove(text, _name_parts(ids.patient_name), words=True)
    if hit:
        removed.append("name")
    text, n = _DATE.subn(REMOVED, text)
    if n:
        removed.append("date")
    return Screened(text, tuple(removed))
