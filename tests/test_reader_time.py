"""Signed times are shown to the minute in the reader's zone, not as raw UTC microseconds."""

from __future__ import annotations

import datetime as dt

from mdaread.workflow.timestamps import reader_time

PLUS_TWO = dt.timezone(dt.timedelta(hours=2), "EET")


def test_stored_utc_microseconds_shown_to_the_minute_in_the_zone() -> None:
    assert reader_time("2026-12-04T05:09:12.345678Z", PLUS_TWO) == "2026-12-04 07:09 EET"


def test_naive_time_is_taken_as_utc() -> None:
    assert reader_time("2026-12-04T23:30:00", PLUS_TWO) == "2026-12-05 01:30 EET"


def test_offset_time_is_converted() -> None:
    assert reader_time("2026-12-04T05:09:00+00:00", dt.UTC) == "2026-12-04 05:09 UTC"


def test_empty_and_unreadable_values_come_back_unchanged() -> None:
    assert reader_time("", PLUS_TWO) == ""
    assert reader_time("yesterday", PLUS_TWO) == "yesterday"
