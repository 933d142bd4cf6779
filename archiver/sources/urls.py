"""Article URLs from sitemaps, feeds and lists: cleaned, dated, and mapped to output paths."""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from archiver.clock import iso_ms

# File names longer than this are shortened with a hash (NAME_MAX is 255 bytes).
MAX_SEGMENT_BYTES = 150


def clean_url(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without its fragment, or None for anything else.

    Relative URLs (in feeds) are resolved against ``base``. Control characters,
    whitespace inside the URL, quotes and backslashes are refused rather than
    repaired: a URL that needs repair is not one we should guess at.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    if not url or re.search(r"[\x00-\x20\x7f<>\"'`\\]", url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def _safe_segment(segment: str) -> str:
    """One path segment, percent-decoded, as a file name that cannot leave its folder."""
    name = unquote(segment, errors="replace")
    # Decoding may produce '/' or '\\' (%2F, %5C) or control characters: never separators.
    name = "".join("_" if ch in "/\\" or unicodedata.category(ch) == "Cc" else ch for ch in name)
    if name in ("", ".", ".."):
        return ""
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_SEGMENT_BYTES:
        digest = hashlib.sha256(encoded).hexdigest()[:12]
        stem, ext = posixpath.splitext(name)
        if len(ext.encode("utf-8")) > 16:
            ext = ""
        short = stem.encode("utf-8")[: MAX_SEGMENT_BYTES - 30].decode("utf-8", "ignore")
        name = f"{short}-{digest}{ext}"
    return name


def output_relpath(url: str) -> str:
    """Where the rewritten copy of ``url`` goes under ``output.dir``: ``host/path``.

    ``https://news.example/2024/story`` -> ``news.example/2024/story.html``;
    a trailing slash or empty path gives ``index.html``; a non-default port is kept
    as ``host_port`` (':' would read as a URL scheme in relative links). Every
    segment is percent-decoded on its own, so ``%2F`` cannot create a folder, and
    ``.``/``..``/empty segments are dropped, so the result never leaves output.dir.
    A query string (``?p=123``) becomes a short hash in the file name, so two
    articles that differ only by query do not overwrite each other.
    """
    parts = urlsplit(url)
    host = _safe_segment((parts.hostname or "").lower()) or "_"
    if parts.port and parts.port not in (80, 443):
        host = f"{host}_{parts.port}"
    raw_segments = parts.path.split("/")
    trailing = parts.path.endswith("/") or not parts.path.strip("/")
    segments = [s for s in (_safe_segment(seg) for seg in raw_segments) if s]
    if trailing or not segments:
        segments.append("index.html")
    last = segments[-1]
    stem, ext = posixpath.splitext(last)
    if not ext or not re.fullmatch(r"\.[A-Za-z0-9]{1,8}", ext):
        stem, ext = last, ".html"
    if parts.query:
        stem = f"{stem}-q{hashlib.sha256(parts.query.encode('utf-8')).hexdigest()[:10]}"
    segments[-1] = f"{stem}{ext}"
    return "/".join([host, *segments])


# -- dates ---------------------------------------------------------------------------

_W3C_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def normalise_date(value: str | None) -> str | None:
    """A sitemap/Atom (W3C) or RSS (RFC 822) date as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` UTC.

    A date without a time means "some time that day": it becomes the day's last
    millisecond, so an article updated later on the day it was scanned is still
    re-read. A time without a zone is taken as UTC. Unparseable dates give None
    (the article is then always fetched, conditionally).
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    moment: datetime | None = None
    if _W3C_DATE.match(text):
        pieces = [int(p) for p in text.split("-")] + [1, 1]
        try:
            day = datetime(pieces[0], pieces[1], pieces[2], tzinfo=UTC)
        except ValueError:
            return None
        # End of the period given (year, month or day).
        if len(text) == 4:
            end = day.replace(year=day.year + 1)
        elif len(text) == 7:
            end = (day + timedelta(days=32)).replace(day=1)
        else:
            end = day + timedelta(days=1)
        moment = end - timedelta(milliseconds=1)
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if moment is None:
        return None
    return iso_ms(moment)  # naive means UTC


def latest(*values: str | None) -> str | None:
    """The latest of the normalised timestamps given, or None."""
    present = [v for v in values if v]
    return max(present) if present else None
