"""The archive's one clock: every time it stores has the same fixed-width format."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from archiver.clock import iso_ms, utc_now

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_utc_now_is_iso_ms_of_the_current_time() -> None:
    before = datetime.now(UTC)
    now = utc_now()
    after = datetime.now(UTC)
    assert ISO_MS.fullmatch(now), now
    # String order is time order: the stored time lies between the two readings.
    assert iso_ms(before - timedelta(milliseconds=1)) <= now <= iso_ms(after)


def test_iso_ms_truncates_to_milliseconds_in_utc() -> None:
    moment = datetime(2026, 2, 16, 12, 24, 4, 484999, tzinfo=UTC)
    assert iso_ms(moment) == "2026-02-16T12:24:04.484Z"
    assert iso_ms(moment.replace(microsecond=0)) == "2026-02-16T12:24:04.000Z"
    assert iso_ms(moment.replace(tzinfo=None)) == "2026-02-16T12:24:04.484Z"
