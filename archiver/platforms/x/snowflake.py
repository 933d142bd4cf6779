"""Timestamps for X post ids and the one ISO 8601 format the archive uses.

X status ids since November 2010 are "snowflakes": the top 41 bits (after the sign
bit) are milliseconds since the Twitter epoch, so an id carries its exact creation
time. All arithmetic here is on ``int``: ids exceed 2^53, so a float would silently
round them (the classic JavaScript bug the notes warn about).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from archiver.clock import iso_from_unix_ms, iso_ms, utc_now

# 2010-11-04T01:42:54.657Z, in Unix milliseconds.
TWITTER_EPOCH_MS = 1288834974657
# Ids below this predate snowflakes; the shift formula gives nonsense for them.
MIN_SNOWFLAKE_ID = 29700859247
# Ids are signed 64-bit integers.
MAX_ID_EXCLUSIVE = 1 << 63


def created_at_from_id(post_id: str) -> str | None:
    """Exact UTC creation time of a snowflake status id, e.g. ``2026-02-16T11:24:04.484Z``.

    Returns None for anything that is not a decimal id in the snowflake range
    (``29700859247 <= id < 2**63``): pre-snowflake ids, junk, or overlong strings.
    """
    s = post_id.strip()
    # isdigit() alone accepts non-ASCII digits such as "²"; the length check keeps
    # int() away from huge inputs (and 2^63 has 19 digits).
    if not s or not s.isascii() or not s.isdigit() or len(s) > 19:
        return None
    n = int(s)
    if n < MIN_SNOWFLAKE_ID or n >= MAX_ID_EXCLUSIVE:
        return None
    return iso_from_unix_ms((n >> 22) + TWITTER_EPOCH_MS)


# The current time in the archive's format, under the name the fetchers know.
utc_now_iso = utc_now


_MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    start=1,
):
    _MONTHS[_name] = _i
    _MONTHS[_name[:3]] = _i
_MONTHS["sept"] = 9

_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "February 9, 2026", "Feb 9 2026", "February 9th, 2026"
_MDY = re.compile(
    rf"\b(?P<m>{_MONTH_ALT})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b", re.I
)
# "9 February 2026", "27. January 2016", "9th of February, 2026"
_DMY = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?P<m>{_MONTH_ALT})\.?,?\s+(?P<y>\d{{4}})\b",
    re.I,
)
_ISO_DATE = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")


def parse_date_text(text: str) -> str | None:
    """Best-effort parse of an English date as shown in embed markup.

    ``"February 9, 2026"`` and ``"9 February 2026"`` give ``2026-02-09T00:00:00.000Z``.
    The time of day is not known from such text (and would be in the viewer's time
    zone anyway), so it is always midnight UTC. Localized dates
    ("2018年3月21日", "30 de julho de 2016") return None.
    """
    if not text:
        return None
    for rx in (_MDY, _DMY):
        m = rx.search(text)
        if m:
            month = _MONTHS[m.group("m").lower()]
            return _date_iso(int(m.group("y")), month, int(m.group("d")))
    m = _ISO_DATE.search(text)
    if m:
        return _date_iso(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    return None


def _date_iso(year: int, month: int, day: int) -> str | None:
    try:
        dt = datetime(year, month, day, tzinfo=UTC)
    except ValueError:  # "February 30, 2026"
        return None
    return iso_ms(dt)
