"""Timestamps as a reader reads them. Stored times are ISO 8601 UTC with microseconds
("2026-12-04T05:09:12.345678Z"); the workstation shows them in the machine's local time zone to
the minute ("2026-12-04 06:09 CET")."""

from __future__ import annotations

import datetime as dt


def reader_time(stored: str, zone: dt.tzinfo | None = None) -> str:
    """``stored`` (ISO 8601; no offset taken as UTC) in ``zone`` (default: local) to the minute,
    with the zone's name; an empty or unreadable value comes back as it is (never raises)."""
    text = stored.strip()
    if not text:
        return stored
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return stored
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    shown = moment.astimezone(zone)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname() or ''}".rstrip()
