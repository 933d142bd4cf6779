"""The one clock and the one timestamp format of the archive.

Every time the archive stores or compares is ISO 8601 UTC with exactly three fraction
digits and ``Z`` (``2026-02-16T11:24:04.484Z``): fixed width, so string order is time
order in SQL. Everything that formats a time goes through here, so no two writers can
disagree on a digit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_ms(moment: datetime) -> str:
    """Format a datetime as ISO 8601 UTC with milliseconds and ``Z``.

    A naive datetime is taken to be UTC already (the archive never stores local time).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def iso_from_unix_ms(ms: int) -> str:
    """Format integer Unix milliseconds, without a float (ids and payload times exceed 2^53)."""
    seconds, millis = divmod(ms, 1000)
    return f"{_UNIX_EPOCH + timedelta(seconds=seconds):%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def utc_now() -> str:
    """Now, as stored in the archive (``iso_ms`` of the current time)."""
    # isoformat is C code, several times cheaper than strftime, and a pass asks for the
    # time once per article; its "+00:00" becomes the archive's "Z".
    return datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


__all__ = ["iso_from_unix_ms", "iso_ms", "utc_now"]
