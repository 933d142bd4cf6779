"""The snapshot a Bluesky embed's own markup gives, before (or without) the network.

The app's snippet is ``<p lang="…">TEXT[<br><br><a href="PERMALINK">[image or embed]</a>]</p>
&mdash; NAME (<a href="PROFILE">@HANDLE</a>) <a href="PERMALINK">LOCALIZED DATE</a>``;
oEmbed writes ``&mdash; <a href="PROFILE">NAME (@HANDLE)</a>`` instead. The text is the
post's text, escaped, its line breaks written as raw newlines. The date text is shown
as written and never parsed (it is localized); the time comes from the TID rkey.
"""

from __future__ import annotations

import re

from bs4.element import NavigableString, Tag

from archiver.models import SOURCE_MARKUP, STATUS_UNKNOWN, EmbedSpan, PostSnapshot
from archiver.snapshot.sanitize import (
    html_to_text,
    parse_fragment,
    safe_http_url,
    sanitize_post_html,
    strip_tracking_params,
)

from .payload import PLATFORM
from .tid import created_at_from_rkey
from .urls import canonical_url, is_handle, parse_post_id, parse_url

__all__ = ["PLACEHOLDER_TEXT", "snapshot_from_markup"]

# The link the snippet adds when the post has an image, video, link card or quote.
PLACEHOLDER_TEXT = "[image or embed]"
_LANG_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
# Newlines outside tags: the post's own line breaks.
_NEWLINE_OUTSIDE_TAGS = re.compile(r"(<[^>]*>)|\r\n?|\n")
_ATTRIBUTION = re.compile(r"^\s*\u2014\s*(?P<name>.*?)\s*\(\s*$", re.S)
_NAME_HANDLE = re.compile(r"^\s*(?P<name>.*?)\s*\(\s*@(?P<handle>[^\s()]+)\s*\)\s*$", re.S)
_WS = re.compile(r"\s+")


def _clean(text: str, limit: int = 300) -> str | None:
    text = _WS.sub(" ", text).strip()
    return text[:limit] or None


def _handle(value: str) -> str | None:
    value = value.strip().lstrip("@").lower()
    return value if is_handle(value) else None


def _is_placeholder(a: Tag) -> bool:
    return a.get_text().strip() == PLACEHOLDER_TEXT


def _text(p: Tag) -> tuple[str | None, str | None, str | None]:
    """(text, sanitized html, placeholder permalink) of the text paragraph."""
    placeholder = None
    for a in p.find_all("a"):
        if _is_placeholder(a):
            href = a.get("href")
            placeholder = href if isinstance(href, str) else None
            a.decompose()
    inner = _NEWLINE_OUTSIDE_TAGS.sub(lambda m: m.group(1) or "<br>", p.decode_contents())
    html_out = sanitize_post_html(inner)
    html_out = re.sub(r"(?:<br>){3,}", "<br><br>", html_out).strip()
    html_out = re.sub(r"^(?:<br>)+", "", html_out)
    text = html_to_text(inner)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return (text or None), (html_out or None), placeholder


def _author(bq: Tag, p: Tag | None) -> tuple[str | None, str | None, str | None]:
    """(display name, handle, profile URL) from the attribution after the paragraph."""
    name = handle = profile = None
    before: list[str] = []
    nodes = list(p.next_siblings) if p is not None else list(bq.children)
    for node in nodes:
        if isinstance(node, NavigableString):
            before.append(str(node))
            continue
        if not isinstance(node, Tag) or node.name != "a":
            continue
        href = node.get("href")
        link_text = node.get_text()
        if isinstance(href, str) and "/post/" not in href:
            profile = href
            both = _NAME_HANDLE.match(link_text)  # oEmbed: <a>NAME (@handle)</a>
            if both and "\u2014" in "".join(before):
                name, handle = _clean(both.group("name")), _handle(both.group("handle"))
            else:
                handle = _handle(link_text)
                lead = _ATTRIBUTION.match("".join(before))
                name = _clean(lead.group("name")) if lead else None
            break
        before = []
    return name, handle, profile


def _date_text(bq: Tag) -> str | None:
    """The text of the last permalink: the localized date, shown as written."""
    for a in reversed(bq.find_all("a")):
        href = a.get("href")
        if isinstance(href, str) and parse_url(href) is not None and not _is_placeholder(a):
            return _clean(a.get_text(), 100)
    return None


def snapshot_from_markup(span: EmbedSpan, fragment: bytes | str) -> PostSnapshot | None:
    """What the embed markup says about the post of ``span``.

    ``fragment`` is the span's bytes (UTF-8; the pipeline decodes other encodings first)
    or text. The iframe forms hold no text: their snapshot has only id, URL and time.
    Status ``unknown``, source ``markup``. None if ``span.post_id`` is not a post id.
    """
    parts = parse_post_id(span.post_id)
    if parts is None:
        return None
    text_in = fragment.decode("utf-8", "replace") if isinstance(fragment, bytes) else fragment
    snap = PostSnapshot(
        post_id=span.post_id,
        platform=PLATFORM,
        url=canonical_url(span.post_id),
        author_handle=span.handle,
        created_at=created_at_from_rkey(parts[1]),
        status=STATUS_UNKNOWN,
        source=SOURCE_MARKUP,
        raw=text_in,
    )
    if parts[0].startswith("did:"):
        snap.author_id = parts[0]
    soup = parse_fragment(text_in)
    bq = soup.find("blockquote")
    if not isinstance(bq, Tag):
        return snap
    p = bq.find("p")
    p = p if isinstance(p, Tag) else None
    snap.date_text = _date_text(bq)
    name, handle, _profile = _author(bq, p)
    snap.author_name = name
    snap.author_handle = handle or snap.author_handle
    if p is not None:
        lang = p.get("lang")
        lang = lang.strip() if isinstance(lang, str) else ""
        snap.lang = lang if _LANG_RE.fullmatch(lang) else None
        snap.text, snap.html, placeholder = _text(p)
        if placeholder is not None:
            # The post has media, a link card or a quote the snippet leaves out: the
            # card says so until the network fills it in (the renderer ignores it).
            snap.card = {
                "type": "omitted",
                "label": PLACEHOLDER_TEXT,
                "url": safe_http_url(strip_tracking_params(placeholder)),
            }
    return snap
