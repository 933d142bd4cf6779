"""X/Twitter status URLs and ids: the one parser every detector and reader uses.

``STATUS_CORE`` is the host and path of a status URL, without scheme and without what
may follow the id: each caller adds the prefix and the boundary its input needs (raw
bytes of an attribute, a whole string, a shortcode argument). Groups: ``handle`` (None
for ``/i/status/ID`` and ``/i/web/status/ID``) and ``id``.

The id is 1-19 digits: a signed 64-bit snowflake. Reserved first segments such as
``/i/`` are not handles. Ids held in the archive are checked with ``is_post_id``
(1-20 ASCII digits, the rule the archive has always applied).
"""

from __future__ import annotations

import html
import re
from typing import Final

from archiver.models import MAX_POST_ID_DIGITS, is_post_id

__all__ = [
    "MAX_POST_ID_DIGITS",
    "RESERVED_HANDLES",
    "STATUS_B",
    "STATUS_CORE",
    "STATUS_CORE_B",
    "canonical_status_url",
    "is_post_id",
    "parse_status_url",
    "status_from_bytes",
    "status_from_match",
]

STATUS_CORE: Final = (
    r"(?:(?:www|mobile|m)\.)?(?:twitter|x)\.com/"
    r"(?:#!/)?"  # 2010-12 hashbang URLs
    r"(?:i(?:/web)?(?=/status)|(?P<handle>[A-Za-z0-9_]{1,15}))"
    r"/status(?:es)?/(?P<id>[0-9]{1,19})"
)
# The same, for patterns that scan raw bytes.
STATUS_CORE_B: Final = STATUS_CORE.encode("ascii")

# Path segments that can follow the host but are not user handles.
RESERVED_HANDLES: Final = frozenset({"i", "intent", "share", "search", "hashtag", "home"})

# The id is 1-19 digits (a signed 64-bit snowflake); the lookahead stops "status/123abc"
# and 20-digit runs. ``)``, ``.``, ``,`` etc. are allowed after the id so a URL at the
# end of a sentence or in Markdown link syntax still counts.
_STATUS_PATTERN: Final = (
    STATUS_CORE + r"(?:/(?:photo|video)/[0-9]+)?"
    r"(?=[/?#\"'<>\s&),.;:!\]\\]|$)"
)
# ``parse_status_url``: the whole string is a URL, scheme optional.
_STATUS_URL_RE: Final = re.compile(r"\s*(?:(?:https?:)?//)?" + _STATUS_PATTERN, re.I)
# Raw attribute values and text, as bytes: an explicit ``//`` is required so that
# ``fox.com/…`` or prose cannot match.
STATUS_B: Final = re.compile(rb"(?:https?:)?//" + _STATUS_PATTERN.encode(), re.I)
_STATUS_ATTR_B: Final = re.compile(rb"\s*(?:https?:)?//" + _STATUS_PATTERN.encode(), re.I)

# X's id rule is ``models.is_post_id`` (1-20 ASCII digits), defined with the archive's
# base types so the oldest callers keep it; the X platform answers with it.


def parse_status_url(url: str) -> tuple[str | None, str] | None:
    """Parse any form of X/Twitter status URL into ``(handle, post_id)``.

    Accepts twitter.com / x.com with ``www.``, ``mobile.`` or ``m.``; http, https,
    protocol-relative or no scheme; ``#!/`` hashbang paths; ``/status/`` and legacy
    ``/statuses/``; ``/i/status/ID`` and ``/i/web/status/ID`` (handle ``None``);
    ``/photo/N`` and ``/video/N`` suffixes; any query or fragment (``&amp;`` too).
    Returns ``None`` for anything else (profiles, timelines, search, intents).
    The id stays a decimal string.
    """
    m = _STATUS_URL_RE.match(url)
    if m is None:
        return None
    handle = m.group("handle")
    if handle is not None and handle.lower() in RESERVED_HANDLES:
        return None
    return handle, m.group("id")


def canonical_status_url(handle: str | None, post_id: str) -> str:
    """``https://x.com/HANDLE/status/ID``, or ``https://x.com/i/status/ID`` without a handle."""
    return f"https://x.com/{handle or 'i'}/status/{post_id}"


def status_from_bytes(value: bytes, *, anchored: bool) -> tuple[str | None, str, str] | None:
    """``(handle, id, url)`` for a status URL in raw bytes, or None.

    ``anchored``: the value must *be* a URL (an ``href``); otherwise search within text.
    The returned URL has HTML entities decoded (``&amp;`` -> ``&``).
    """
    m = (_STATUS_ATTR_B.match if anchored else STATUS_B.search)(value)
    if m is None:
        return None
    return status_from_match(m, value.strip() if anchored else None)


def status_from_match(m: re.Match[bytes], href: bytes | None) -> tuple[str | None, str, str] | None:
    """``status_from_bytes`` for a match; ``href`` is the whole value when anchored."""
    raw_handle = m.group("handle")
    handle = raw_handle.decode("ascii") if raw_handle is not None else None
    if handle is not None and handle.lower() in RESERVED_HANDLES:
        return None
    # An href is the URL as written; in text, only the matched URL itself.
    url = href.decode("utf-8", "replace") if href is not None else m.group().decode("ascii")
    return handle, m.group("id").decode("ascii"), html.unescape(url)
