"""A post's text from X's JSON: entities placed, ``t.co`` links expanded, then the plain
text and the sanitized HTML (decoded exactly once, escaped exactly once)."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from archiver.fetch.http import (
    safe_http_url,
)

from .payload import HANDLE_RE, as_dict, as_int, as_list, as_str


@dataclass
class _Span:
    start: int
    end: int
    kind: str  # url | media | mention | hashtag | symbol
    entity: dict[str, Any]


def _indices(entity: dict[str, Any]) -> tuple[int, int] | None:
    pair = entity.get("indices")
    if isinstance(pair, list) and len(pair) == 2:
        start, end = as_int(pair[0]), as_int(pair[1])
        if start is not None and end is not None and 0 <= start < end:
            return start, end
    return None


def _needle(kind: str, entity: dict[str, Any]) -> str | None:
    """The text an entity covers in the post, used to check (or find) its position."""
    if kind in ("url", "media"):
        return as_str(entity.get("url"))
    if kind == "mention":
        name = as_str(entity.get("screen_name"))
        return "@" + name if name else None
    tag = as_str(entity.get("text"))
    if tag is None:
        return None
    return ("#" if kind == "hashtag" else "$") + tag


def _collect_entities(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    entities = as_dict(payload.get("entities"))
    found: list[tuple[str, dict[str, Any]]] = []
    for key, kind in (
        ("urls", "url"),
        ("media", "media"),
        ("user_mentions", "mention"),
        ("hashtags", "hashtag"),
        ("symbols", "symbol"),
    ):
        found.extend((kind, e) for e in as_list(entities.get(key)) if isinstance(e, dict))
    if not any(kind == "media" for kind, _ in found):
        # Some shapes only list the media link in mediaDetails.
        found.extend(
            ("media", m) for m in as_list(payload.get("mediaDetails")) if isinstance(m, dict)
        )
    return found


def _locate(text: str, entities: list[tuple[str, dict[str, Any]]]) -> tuple[list[_Span], int]:
    """Place entities in ``text``: at their indices when the text there matches, else
    at the first free occurrence of their text. Returns spans and how many matched
    at their indices (to choose between escaped and decoded text)."""
    spans: list[_Span] = []
    exact = 0
    lowered = text.lower()
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for kind, entity in entities:
        needle = _needle(kind, entity)
        if needle is None:
            continue
        where = _indices(entity)
        placed: tuple[int, int] | None = None
        if where and lowered[where[0] : where[1]] == needle.lower() and free(*where):
            placed = where
            exact += 1
        else:
            at = lowered.find(needle.lower())
            while at >= 0 and not free(at, at + len(needle)):
                at = lowered.find(needle.lower(), at + 1)
            if at >= 0:
                placed = (at, at + len(needle))
        if placed is None:
            continue
        if kind == "media" and any(s.kind == "media" and s.start == placed[0] for s in spans):
            continue  # several photos share one link
        taken.append(placed)
        spans.append(_Span(placed[0], placed[1], kind, entity))
    spans.sort(key=lambda s: s.start)
    return spans, exact


def render_text(payload: dict[str, Any]) -> tuple[str, str]:
    """(plain text, sanitized HTML) of a post: decoded once, ``t.co`` links expanded,
    the trailing media link removed, limited to ``display_text_range``."""
    raw = payload.get("full_text") or payload.get("text")
    escaped = raw if isinstance(raw, str) else ""
    decoded = htmllib.unescape(escaped)
    entities = _collect_entities(payload)

    # Indices are in code points (Python's str indexing), but whether they count the
    # escaped or the decoded text has varied (Twitter4J #349): use the reading under
    # which more entities sit where their indices say; ties go to the escaped text.
    base, base_is_escaped = decoded, False
    spans, dec_exact = _locate(decoded, entities)
    if escaped != decoded:
        esc_spans, esc_exact = _locate(escaped, entities)
        if esc_exact >= dec_exact:
            base, base_is_escaped, spans = escaped, True, esc_spans

    start, end = 0, len(base)
    rng = payload.get("display_text_range")
    if isinstance(rng, list) and len(rng) == 2:
        lo, hi = as_int(rng[0]), as_int(rng[1])
        if lo is not None and hi is not None and 0 <= lo <= hi:
            start, end = min(lo, len(base)), min(hi, len(base))

    def plain(segment: str) -> str:
        return htmllib.unescape(segment) if base_is_escaped else segment

    text_parts: list[str] = []
    html_parts: list[str] = []

    def add_text(segment: str) -> None:
        if segment:
            value = plain(segment)
            text_parts.append(value)
            html_parts.append(htmllib.escape(value).replace("\n", "<br>"))

    cursor = start
    for span in spans:
        if span.start < start or span.end > end:
            continue  # outside the displayed range (reply mentions, media link)
        add_text(base[cursor : span.start])
        cursor = span.end
        written = plain(base[span.start : span.end])
        entity = span.entity
        if span.kind == "media":
            continue  # the attached media's link: shown as media, not as text
        if span.kind == "url":
            expanded = safe_http_url(entity.get("expanded_url"))
            display = as_str(entity.get("display_url")) or expanded or written
            if expanded:
                text_parts.append(expanded)
                html_parts.append(
                    f'<a href="{htmllib.escape(expanded)}">{htmllib.escape(display)}</a>'
                )
            else:
                text_parts.append(written)
                html_parts.append(htmllib.escape(written))
            continue
        text_parts.append(written)
        href = _entity_link(span.kind, entity)
        if href:
            html_parts.append(f'<a href="{htmllib.escape(href)}">{htmllib.escape(written)}</a>')
        else:
            html_parts.append(htmllib.escape(written))
    add_text(base[cursor:end])

    text = "".join(text_parts)
    html = "".join(html_parts)
    # Removing the media link leaves the space before it.
    stripped = text.rstrip()
    if stripped != text:
        html = re.sub(r"(?:\s|<br>)+$", "", html)
    return stripped, html


def _entity_link(kind: str, entity: dict[str, Any]) -> str | None:
    if kind == "mention":
        name = as_str(entity.get("screen_name"))
        return f"https://x.com/{name}" if name and HANDLE_RE.match(name) else None
    tag = as_str(entity.get("text"))
    if not tag:
        return None
    if kind == "hashtag":
        return f"https://x.com/hashtag/{quote(tag, safe='')}"
    return f"https://x.com/search?q={quote('$' + tag, safe='')}"
