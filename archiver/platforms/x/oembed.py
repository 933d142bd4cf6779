"""X oEmbed (``publish.x.com/oembed``): the fallback when syndication does not know a post.

oEmbed gives the blockquote markup only: text, author, a day-level date. No media,
no exact time (``created_at`` comes from the snowflake id). A 404 means the post is
gone, a 403 that the account is protected: both are answers, not failures.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from archiver.config import XConfig
from archiver.fetch.http import (
    Budget,
    FetchError,
    HttpSession,
    Response,
    created_at_from_id,
    safe_http_url,
)
from archiver.models import SOURCE_OEMBED, STATUS_LIVE, PostSnapshot

from .syndication import HANDLE_RE, decode_json_body, status_url

_MEDIA_LINK = re.compile(r"^(?:https?://)?pic\.(?:twitter|x)\.com/", re.I)


@dataclass
class OembedAnswer:
    """``ok`` (payload is the JSON), ``not_found`` (404) or ``protected`` (403)."""

    kind: Literal["ok", "not_found", "protected"]
    payload: dict[str, Any]
    response: Response


async def fetch_oembed(
    session: HttpSession,
    x: XConfig,
    post_id: str,
    handle: str | None,
    budget: Budget,
    max_bytes: int,
) -> OembedAnswer:
    """Ask oEmbed about one post (``/i/status/ID`` when the handle is unknown)."""
    params = {
        "url": status_url(handle, post_id, host="twitter.com"),
        "omit_script": "1",
        "dnt": "true",
    }
    # publish.twitter.com redirects to publish.x.com: redirects are followed here.
    response = await session.get(x.oembed_url, params=params, budget=budget, max_bytes=max_bytes)
    if response.status == 404:
        return OembedAnswer("not_found", {}, response)
    if response.status == 403:
        return OembedAnswer("protected", {}, response)
    if response.status != 200:
        raise FetchError(f"oEmbed answered HTTP {response.status}")
    payload = decode_json_body(response, "oEmbed")
    if not isinstance(payload, dict) or not isinstance(payload.get("html"), str):
        raise FetchError("oEmbed answered JSON without 'html'")
    return OembedAnswer("ok", payload, response)


def _walk(node: Tag, text: list[str], html: list[str]) -> None:
    """Plain text and sanitized HTML of the blockquote's paragraph: ``<br>`` and
    http(s) links survive, everything else becomes escaped text."""
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is not NavigableString:
                continue  # comments, CDATA, doctype: not text of the post
            value = str(child)
            text.append(value)
            html.append(htmllib.escape(value).replace("\n", "<br>"))
        elif isinstance(child, Tag):
            if child.name == "br":
                text.append("\n")
                html.append("<br>")
            elif child.name == "a":
                label = child.get_text()
                if _MEDIA_LINK.match(label.strip()):
                    continue  # attached media link: oEmbed gives no media to show
                raw_href = child.get("href")
                href = safe_http_url(raw_href) if isinstance(raw_href, str) else None
                text.append(label)
                if href:
                    html.append(f'<a href="{htmllib.escape(href)}">{htmllib.escape(label)}</a>')
                else:
                    html.append(htmllib.escape(label))
            elif child.name not in ("script", "style"):
                _walk(child, text, html)


def parse_oembed(
    payload: dict[str, Any],
    *,
    post_id: str,
    raw: str,
    source_url: str | None,
    http_status: int | None,
    fetched_at: str | None,
    handle_hint: str | None = None,
) -> PostSnapshot:
    """A live snapshot from an oEmbed answer (BeautifulSoup decodes entities once)."""
    soup = BeautifulSoup(str(payload.get("html") or ""), "html.parser")
    quote = soup.find("blockquote")
    para = quote.find("p") if isinstance(quote, Tag) else None
    text_parts: list[str] = []
    html_parts: list[str] = []
    lang = direction = None
    if isinstance(para, Tag):
        _walk(para, text_parts, html_parts)
        lang = para.get("lang")
        direction = para.get("dir")
    date_text = None
    if isinstance(quote, Tag):
        links = [a for a in quote.find_all("a", recursive=False) if isinstance(a, Tag)]
        if links:
            date_text = links[-1].get_text().strip() or None
    text = "".join(text_parts).rstrip()
    html = re.sub(r"(?:\s|<br>)+$", "", "".join(html_parts))

    handle = None
    author_url = safe_http_url(payload.get("author_url"))
    if author_url:
        first = urlsplit(author_url).path.strip("/").split("/")[0]
        handle = first if HANDLE_RE.match(first) else None
    handle = handle or handle_hint
    name = payload.get("author_name")
    return PostSnapshot(
        post_id=post_id,
        url=status_url(handle, post_id),
        author_handle=handle,
        author_name=name if isinstance(name, str) and name else None,
        text=text,
        html=html,
        lang=lang if isinstance(lang, str) and lang else None,
        dir=direction if isinstance(direction, str) and direction else None,
        created_at=created_at_from_id(post_id),
        date_text=date_text,
        status=STATUS_LIVE,
        source=SOURCE_OEMBED,
        source_url=source_url,
        http_status=http_status,
        fetched_at=fetched_at,
        raw=raw,
    )
