"""De-identified identity and dates of a subject's DICOM objects (stdlib only).

``dicom_dates`` (a protocol setting): ``shift`` (default) moves every date of a subject by the
same number of days so that its treatment date falls on ``SHIFT_ANCHOR`` — intervals and times of
day are kept (PS3.15 Retain Longitudinal Temporal Information, Modified Dates option); ``keep``
keeps the dates (Full Dates option).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mdaread.errors import InputError

DATE_POLICIES = ("shift", "keep")
SHIFT_ANCHOR = dt.date(2000, 1, 1)
"""Under ``dicom_dates: shift`` each subject's treatment date becomes this date."""


@dataclass(frozen=True)
class Identity:
    """Who a subject's DICOM objects are about, de-identified.

    ``trial``: the trial's identity in every UID (protocol ``trial_id``, else the workspace's
    own); ``subject``: the trial ID written as Patient's Name and Patient ID; ``shift_days``:
    added to every date (0 under ``keep``); ``dates``: the policy, ``shift`` or ``keep``.
    """

    trial: str
    subject: str
    shift_days: int
    dates: str

    def date(self, yyyymmdd: str) -> str:
        """A source date (``YYYYMMDD``) as written; "" stays ""; an unreadable one is dropped."""
        try:
            day = dt.datetime.strptime(yyyymmdd.strip()[:8], "%Y%m%d").date()
        except ValueError:
            return ""
        return (day + dt.timedelta(days=self.shift_days)).strftime("%Y%m%d")

    def instant(self, iso_utc: str) -> dt.datetime:
        """A UTC ISO 8601 instant (the read's signing time) shifted, as naive UTC."""
        when = dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
        if when.tzinfo is not None:
            when = when.astimezone(dt.UTC).replace(tzinfo=None)
        return when + dt.timedelta(days=self.shift_days)


def shift_for(dates: str, treatment_date: str | None, study_dates: list[str]) -> int:
    """The day shift of a subject under the policy ``dates``: 0 for ``keep``; for ``shift``,
    SHIFT_ANCHOR − treatment date (else − the earliest study date, else 0)."""
    if dates == "keep":
        return 0
    anchor: dt.date | None = None
    if treatment_date:
        try:
            anchor = dt.date.fromisoformat(treatment_date)
        except ValueError:
            anchor = None
    if anchor is None:
        parsed = []
        for text in study_dates:
            try:
                parsed.append(dt.datetime.strptime(text[:8], "%Y%m%d").date())
            except ValueError:
                continue
        anchor = min(parsed) if parsed else None
    return (SHIFT_ANCHOR - anchor).days if anchor is not None else 0


DICOM_SETTINGS = {"dicom_dates": DATE_POLICIES, "trial_id": None}
"""Protocol settings read by the DICOM export (beside the criteria's): name → allowed values
(None: any non-empty text)."""


def check_dicom_settings(protocol: dict[str, Any], where: str) -> None:
    """InputError naming ``where`` and the key for a bad ``dicom_dates`` or ``trial_id``."""
    for key, allowed in DICOM_SETTINGS.items():
        if key not in protocol:
            continue
        value = protocol[key]
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: protocol setting {key} must be a non-empty text")
        if allowed is not None and value not in allowed:
            raise InputError(f"{where}: protocol setting {key} must be one of "
                             f"{', '.join(allowed)} (got {value!r})")
