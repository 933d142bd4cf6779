"""The Bluesky embed forms, as recognisers for the one byte lexer (``archiver.detect``).

* ``<blockquote class="bluesky-embed" data-bluesky-uri="at://DID/app.bsky.feed.post/RKEY">``
  as the app's "Embed post" dialog and oEmbed write it, followed by
  ``<script async src="https://embed.bsky.app/static/embed.js">`` (absorbed into the
  span). Older snippets lack ``data-bluesky-embed-color-mode``; ``lang`` may be empty.
* The same blockquote inside a Ghost embed card, which drops ``data-bluesky-uri``:
  the post is the ``bsky.app/profile/…/post/…`` permalink inside (the date link, last).
* The iframe embed.js puts in its place,
  ``<iframe src="https://embed.bsky.app/embed/DID/app.bsky.feed.post/RKEY?id=…">``,
  and the ``<div class="bluesky-embed">`` embed.js wraps it in (a saved rendered page).

``claims`` looks at the start tag only; ``identify`` reads the element's bytes.
Attribute values arrive raw: entities are decoded here, once.
"""

from __future__ import annotations

import html
import re

from archiver.models import EmbedForm
from archiver.platforms.base import PostRef, Recogniser, StartTag

from .urls import parse_url

__all__ = ["RECOGNISERS", "identify_blockquote", "identify_div", "identify_iframe"]

_CLASS = b"bluesky-embed"
_URI_ATTR = b"data-bluesky-uri"
# embed.js, with scheme or protocol-relative: matched against the ``src`` value of the
# script that follows the blockquote (as detect matches widgets.js).
EMBED_JS_RE = re.compile(rb"\s*(?:https?:)?//embed\.bsky\.app/static/embed\.js(?:[?#]|\s*$)", re.I)
# A post permalink in raw markup (an href value; ``&amp;`` may follow).
_PERMALINK_RE = re.compile(
    rb"""https?://bsky\.app/profile/[^/\s"'<>?#]{1,300}/post/[A-Za-z0-9._:~-]{1,512}""", re.I
)
_IFRAME_SRC_RE = re.compile(
    rb"""<iframe\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I
)


def _attr(tag: StartTag, name: bytes) -> str | None:
    value = tag.attrs.get(name)
    return None if value is None else html.unescape(value.decode("utf-8", "replace")).strip()


def claims_blockquote(tag: StartTag) -> bool:
    """``blockquote.bluesky-embed``, or any blockquote with ``data-bluesky-uri``."""
    return _CLASS in tag.classes or _URI_ATTR in tag.attrs


def identify_blockquote(tag: StartTag, element: bytes) -> PostRef | None:
    """The post of a blockquote: its ``data-bluesky-uri``, else (Ghost cards, mangled
    URIs) the last post permalink inside it, which is the date link of the snippet."""
    uri = _attr(tag, _URI_ATTR)
    ref = parse_url(uri) if uri else None
    if ref is not None:
        return ref
    # No usable URI (a Ghost card dropped it, or it was mangled): the date link.
    found = _PERMALINK_RE.findall(element)
    for raw in reversed(found):
        ref = parse_url(html.unescape(raw.decode("utf-8", "replace")))
        if ref is not None:
            return ref
    return None


def claims_iframe(tag: StartTag) -> bool:
    """An iframe whose src is on embed.bsky.app/embed/."""
    src = tag.attrs.get(b"src", b"")
    return b"embed.bsky.app/embed/" in src.lower()


def identify_iframe(tag: StartTag, element: bytes) -> PostRef | None:
    """The post of an embed iframe, from its src."""
    src = _attr(tag, b"src")
    return parse_url(src) if src else None


def claims_div(tag: StartTag) -> bool:
    """embed.js's wrapper: ``div.bluesky-embed``."""
    return _CLASS in tag.classes


def identify_div(tag: StartTag, element: bytes) -> PostRef | None:
    """The post of embed.js's wrapper div: the src of the embed iframe inside it."""
    for m in _IFRAME_SRC_RE.finditer(element):
        raw = m.group(1) or m.group(2) or m.group(3) or b""
        if b"embed.bsky.app/embed/" in raw.lower():
            return parse_url(html.unescape(raw.decode("utf-8", "replace")))
    return None


RECOGNISERS: tuple[Recogniser, ...] = (
    Recogniser(
        element=b"blockquote",
        markers=(_CLASS, _URI_ATTR),
        form=EmbedForm.BLOCKQUOTE,
        claims=claims_blockquote,
        identify=identify_blockquote,
        script=EMBED_JS_RE,
    ),
    Recogniser(
        element=b"div",
        markers=(_CLASS,),
        form=EmbedForm.IFRAME,
        claims=claims_div,
        identify=identify_div,
    ),
    Recogniser(
        element=b"iframe",
        markers=(b"embed.bsky.app/embed/",),
        form=EmbedForm.IFRAME,
        claims=claims_iframe,
        identify=identify_iframe,
    ),
)
