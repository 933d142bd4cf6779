"""Time from a Bluesky record key: a TID (timestamp identifier) encodes its creation time.

A TID is 13 characters of base32-sortable (``234567abcdefghijklmnopqrstuvwxyz``): a
64-bit integer whose top bit is 0, then 53 bits of microseconds since the Unix epoch
(the syntax, first character up to "j", admits a 54th), then a 10-bit clock id
(atproto.com/specs/tid). Other record keys ("self", custom
strings) carry no time.

The archive stores times with milliseconds (``archiver.clock``: fixed width, so string
order is time order), so ``created_at_from_rkey`` rounds *down* to the millisecond. The
exact microseconds are available from ``tid_micros``; note the reference TID generator
(atproto common-web ``tid.ts``) takes ``Date.now()`` in ms and fills the sub-millisecond
digits with a per-process counter, so they are an ordering aid, not time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from archiver.clock import iso_from_unix_ms

__all__ = ["created_at_from_rkey", "is_tid", "tid_iso_micros", "tid_micros"]

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_VALUE = {ch: index for index, ch in enumerate(_ALPHABET)}
# The first character holds the top bit (always 0) and four timestamp bits: 2-7, a-j.
_TID_RE = re.compile(r"[234567a-j][234567a-z]{12}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_tid(rkey: str) -> bool:
    """Whether ``rkey`` has the TID syntax (13 base32-sortable characters, top bit 0)."""
    return isinstance(rkey, str) and _TID_RE.fullmatch(rkey) is not None


def tid_micros(rkey: str) -> int | None:
    """Microseconds since the Unix epoch encoded in a TID rkey; None for other rkeys."""
    if not is_tid(rkey):
        return None
    value = 0
    for ch in rkey:
        value = (value << 5) | _VALUE[ch]
    return value >> 10


def tid_iso_micros(rkey: str) -> str | None:
    """The TID's time with all six fraction digits, ``2024-11-26T23:04:02.981123Z``."""
    micros = tid_micros(rkey)
    if micros is None:
        return None
    seconds, fraction = divmod(micros, 1_000_000)
    # At most 2**54 µs (the syntax allows "j" first): the year 2540, no overflow.
    moment = _EPOCH + timedelta(seconds=seconds)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:06d}Z"


def created_at_from_rkey(rkey: str) -> str | None:
    """The archive's form of the TID time: ISO 8601 UTC, milliseconds (rounded down), Z."""
    micros = tid_micros(rkey)
    return None if micros is None else iso_from_unix_ms(micros // 1000)
