"""The Internet Archive, for posts that were already gone when we first saw them.

CDX lists captures of the status URL (both twitter.com and x.com forms); the raw
capture (``TIMESTAMPid_``: no banner, no link rewriting) is read newest first until
one yields text. X pages are often captured as JSON from its APIs (syndication- or
API-shaped), otherwise as HTML status pages (``og:description``/``og:title``).
Everything here is best effort: a failure means "no capture", never a failed post.
"""

from __future__ import annotations

import html as htmllib
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from archiver.config import WaybackConfig
from archiver.encoding import loads_json
from archiver.fetch.http import (
    Budget,
    FetchError,
    HttpSession,
    Response,
    best_created_at,
    safe_http_url,
)
from archiver.models import SOURCE_WAYBACK, PostSnapshot

from .syndication import HANDLE_RE, snapshot_from_tweet, status_url

log = logging.getLogger(__name__)

MAX_CAPTURES_TRIED = 4
_TIMESTAMP = re.compile(r"^\d{14}$")
_OG_TITLE = re.compile(r"^(?P<name>.+?) on (?:X|Twitter)\s*:?\s*(?P<rest>.*)$", re.S)


def capture_time_iso(timestamp: str) -> str:
    """``20230401123456`` -> ``2023-04-01T12:34:56.000Z``."""
    t = timestamp
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}.000Z"


async def _cdx_rows(
    session: HttpSession, wb: WaybackConfig, target: str, budget: Budget, max_bytes: int
) -> list[dict[str, str]]:
    params = {"url": target, "output": "json", "filter": "statuscode:200", "limit": "-5"}
    response = await session.get(wb.cdx_url, params=params, budget=budget, max_bytes=max_bytes)
    if response.status != 200:
        return []
    try:
        table = loads_json(response.text())
    except ValueError:
        return []
    if not isinstance(table, list) or len(table) < 2 or not isinstance(table[0], list):
        return []
    header = [str(h) for h in table[0]]
    rows = []
    for row in table[1:]:
        if isinstance(row, list) and len(row) == len(header):
            rows.append(dict(zip(header, (str(v) for v in row), strict=True)))
    return rows


async def find_capture(
    session: HttpSession,
    wb: WaybackConfig,
    post_id: str,
    handle: str | None,
    budget: Budget,
    *,
    max_bytes: int,
    max_video_bytes: int,
) -> PostSnapshot | None:
    """The newest usable archived copy of the post, or None. Never raises FetchError."""
    name = handle if handle and HANDLE_RE.match(handle) else "i"
    rows: list[dict[str, str]] = []
    for host in ("twitter.com", "x.com"):
        try:
            rows.extend(
                await _cdx_rows(session, wb, f"{host}/{name}/status/{post_id}", budget, max_bytes)
            )
        except FetchError as exc:
            log.info("wayback CDX lookup failed for %s: %s", post_id, exc)
    seen: set[tuple[str, str]] = set()
    captures = []
    for row in sorted(rows, key=lambda r: r.get("timestamp", ""), reverse=True):
        stamp, original = row.get("timestamp", ""), safe_http_url(row.get("original"))
        if not _TIMESTAMP.match(stamp) or original is None or (stamp, original) in seen:
            continue
        seen.add((stamp, original))
        captures.append((stamp, original))
    for stamp, original in captures[:MAX_CAPTURES_TRIED]:
        capture_url = f"{wb.base_url.rstrip('/')}/{stamp}id_/{original}"
        try:
            response = await session.get(capture_url, budget=budget, max_bytes=max_bytes)
        except FetchError as exc:
            log.info("wayback capture %s failed: %s", capture_url, exc)
            continue
        if response.status != 200:
            continue
        snap = parse_capture(
            response,
            post_id=post_id,
            handle=handle,
            timestamp=stamp,
            original=original,
            capture_url=capture_url,
            max_video_bytes=max_video_bytes,
        )
        if snap is not None and snap.text:
            return snap
    return None


def parse_capture(
    response: Response,
    *,
    post_id: str,
    handle: str | None,
    timestamp: str,
    original: str,
    capture_url: str,
    max_video_bytes: int,
) -> PostSnapshot | None:
    """A snapshot from one raw capture (JSON or HTML), or None if it holds no post."""
    raw = response.text()
    fetched_at = capture_time_iso(timestamp)
    url_handle = urlsplit(original).path.strip("/").split("/")[0]
    handle_hint = url_handle if HANDLE_RE.match(url_handle) and url_handle != "i" else handle
    stripped = raw.lstrip()
    if stripped.startswith("{"):
        try:
            data = loads_json(stripped)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return _from_json(data, post_id, raw, capture_url, fetched_at, handle_hint, max_video_bytes)
    if "html" in response.content_type or stripped.startswith("<"):
        return _from_html(raw, post_id, capture_url, fetched_at, handle_hint)
    return None


def _from_json(
    data: dict[str, Any],
    post_id: str,
    raw: str,
    capture_url: str,
    fetched_at: str,
    handle_hint: str | None,
    max_video_bytes: int,
) -> PostSnapshot | None:
    common: dict[str, Any] = {
        "raw": raw,
        "source": SOURCE_WAYBACK,
        "source_url": capture_url,
        "http_status": 200,
        "fetched_at": fetched_at,
        "handle_hint": handle_hint,
    }
    # API v2 shape: {"data": {...}, "includes": {"users": [...]}}
    inner = data.get("data")
    if isinstance(inner, dict) and isinstance(inner.get("text"), str):
        if str(inner.get("id", post_id)) != post_id:
            return None
        includes = data.get("includes")
        users = includes.get("users") if isinstance(includes, dict) else None
        author_id = inner.get("author_id")
        author = next(
            (u for u in users or [] if isinstance(u, dict) and u.get("id") == author_id), {}
        )
        converted = {
            "id_str": post_id,
            "text": inner["text"],
            "lang": inner.get("lang"),
            "created_at": inner.get("created_at"),
            "user": {
                "id_str": author.get("id"),
                "name": author.get("name"),
                "screen_name": author.get("username"),
                "profile_image_url_https": author.get("profile_image_url"),
            },
        }
        return snapshot_from_tweet(
            converted, post_id=post_id, max_video_bytes=max_video_bytes, **common
        )
    # Syndication shape, or the v1.1 API's (``full_text``, ``entities``, ``user``).
    text = data.get("full_text", data.get("text"))
    if not isinstance(text, str):
        return None
    found_id = data.get("id_str", data.get("id"))
    if found_id is not None and str(found_id) != post_id:
        return None
    return snapshot_from_tweet(data, post_id=post_id, max_video_bytes=max_video_bytes, **common)


def _meta(soup: BeautifulSoup, key: str) -> str | None:
    tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
    if isinstance(tag, Tag):
        content = tag.get("content")
        if isinstance(content, str) and content.strip():
            return content.strip()
    return None


def _from_html(
    raw: str, post_id: str, capture_url: str, fetched_at: str, handle_hint: str | None
) -> PostSnapshot | None:
    soup = BeautifulSoup(raw, "html.parser")
    text: str | None = None
    # Older twitter.com pages have the text in the markup; newer ones only in og tags.
    node = soup.select_one("[data-testid=tweetText]") or soup.select_one("p.tweet-text")
    if isinstance(node, Tag):
        for br in node.find_all("br"):
            br.replace_with("\n")
        text = node.get_text().strip() or None
    if text is None:
        description = _meta(soup, "og:description")
        if description:
            # Shown in curly quotes on status pages: “…”
            text = description.strip().removeprefix("“").removesuffix("”").strip() or None
    if not text:
        return None
    author_name = None
    title = _meta(soup, "og:title")
    if title:
        match = _OG_TITLE.match(title)
        author_name = match.group("name").strip() if match else None
    return PostSnapshot(
        post_id=post_id,
        url=status_url(handle_hint, post_id),
        author_handle=handle_hint,
        author_name=author_name,
        text=text,
        html=htmllib.escape(text).replace("\n", "<br>"),
        created_at=best_created_at(post_id, None),
        source=SOURCE_WAYBACK,
        source_url=capture_url,
        http_status=200,
        fetched_at=fetched_at,
        raw=raw,
    )
