"""The two Mastodon embed forms, as ``Recogniser`` s for the one byte lexer.

* ``<iframe class="mastodon-embed" src="https://HOST/@user/ID/embed">`` (up to
  4.2), often followed by ``<script src="https://HOST/embed.js" async>``;
* ``<blockquote class="mastodon-embed" data-embed-url="https://HOST/@user/ID/embed">``
  (4.3+), followed by ``<script data-allowed-prefixes=… src="https://HOST/embed.js">``.
  It holds no post text ("Post by @user@HOST", "View on Mastodon"): the network
  must fill it.

astro-embed's ``<MastodonPost id="URL">`` is a static-site form: ``parse_url``
serves it, the static-site pass wires it.
"""

from __future__ import annotations

import html
import re

from archiver.models import EmbedForm

from ..base import PostRef, Recogniser, StartTag
from .urls import parse_url

__all__ = ["BLOCKQUOTE", "IFRAME", "RECOGNISERS", "attr_text"]

_CLASS = b"mastodon-embed"
# The src of the embed.js script that follows either form (on the post's instance; any
# https host here, the span only absorbs it, nothing fetches it). The lexer matches it
# against the src value of a directly following <script> (as for X's widgets.js).
EMBED_SCRIPT = re.compile(rb"""\s*https://[^"'\s<>/?#]+/embed\.js(?:[?#]|\s*$)""", re.IGNORECASE)
_ANCHOR_HREF = re.compile(rb"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def attr_text(value: bytes) -> str:
    """An attribute's raw bytes as text, entities decoded once."""
    return html.unescape(value.decode("utf-8", "replace")).strip()


def _claims_iframe(tag: StartTag) -> bool:
    return _CLASS in tag.classes and b"src" in tag.attrs


def _identify_iframe(tag: StartTag, element: bytes) -> PostRef | None:
    src = tag.attrs.get(b"src")
    return parse_url(attr_text(src)) if src else None


def _claims_blockquote(tag: StartTag) -> bool:
    return _CLASS in tag.classes and b"data-embed-url" in tag.attrs


def _identify_blockquote(tag: StartTag, element: bytes) -> PostRef | None:
    url = tag.attrs.get(b"data-embed-url")
    found = parse_url(attr_text(url)) if url else None
    if found is None:
        # A copy that lost data-embed-url still links the post ("View on Mastodon").
        match = _ANCHOR_HREF.search(element)
        if match:
            found = parse_url(attr_text(match.group(1) or match.group(2) or b""))
    return found


IFRAME = Recogniser(
    element=b"iframe",
    markers=(_CLASS,),
    form=EmbedForm.IFRAME,
    claims=_claims_iframe,
    identify=_identify_iframe,
    script=EMBED_SCRIPT,
)
BLOCKQUOTE = Recogniser(
    element=b"blockquote",
    markers=(_CLASS,),
    form=EmbedForm.BLOCKQUOTE,
    claims=_claims_blockquote,
    identify=_identify_blockquote,
    script=EMBED_SCRIPT,
)
RECOGNISERS = (BLOCKQUOTE, IFRAME)
