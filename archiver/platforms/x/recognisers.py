"""X's embed forms: what marks them, which start tags they claim, and which post each is.

The byte lexer (``archiver.detect``) finds these forms with built-in handlers (see
``Recogniser.native``): X's blockquotes must be resolved from their last status link
with a remembered walk to stay linear on nested or unclosed markup, Gutenberg blocks
are comments, and rendered figures nest. What is X's to know lives here: the markers
of the prefilter, the class names and attributes that claim a tag, the widget iframe's
URL, the widgets.js loader, the Gutenberg block JSON, and ``identify`` for a single
element's bytes (the same answers as the lexer's, without its memo).
"""

from __future__ import annotations

import re
from typing import Final

from archiver.encoding import loads_json
from archiver.models import FORM_AMP, FORM_ARCHIVED, FORM_BLOCKQUOTE, FORM_IFRAME, FORM_WP_BLOCK
from archiver.platforms.base import PostRef, Recogniser, StartTag
from archiver.platforms.x.urls import (
    STATUS_B,
    canonical_status_url,
    parse_status_url,
    status_from_bytes,
)

__all__ = [
    "ARCHIVED_RE",
    "DIGITS_RE",
    "GATED_MARKERS",
    "RECOGNISERS",
    "UPPER_HINTS",
    "WIDGETS_SRC_RE",
    "WP_CLOSE_NAMES",
    "claims_blockquote",
    "claims_figure",
    "iframe_post_id",
    "wp_comment_embed",
]

# Gutenberg block comments: checked only on pages that have block comments at all.
GATED_MARKERS: Final[tuple[tuple[bytes, tuple[bytes, ...]], ...]] = (
    (b"wp:", (b"wp:embed", b"wp:core/embed", b"wp:core-embed/twitter")),
)
# Tag and attribute names are case-insensitive, and the detector matches class tokens
# case-insensitively too. Lower-casing every page would cost more than all the other
# tests together, so it is done only when the all-capitals hint "TWITTER" is present
# (TWITTER-TWEET, TWITTER-VIDEO, AMP-TWITTER, WP-BLOCK-EMBED-TWITTER).
UPPER_HINTS: Final[tuple[bytes, ...]] = (b"TWITTER",)

# What may follow a tweet blockquote and belongs to it: the widgets.js loader.
WIDGETS_SRC_RE: Final = re.compile(
    # platform.twitter.com / platform.x.com, with scheme, protocol-relative, or behind a
    # relative path (oddity_07: "../../platform.twitter.com/widgets.js")…
    rb"\s*(?:(?:https?:)?//|(?:\.\.?/)*)platform\.(?:twitter|x)\.com/widgets\.js(?:[?#]|\s*$)"
    # …or a local copy, e.g. a browser "save page" folder ("./page_files/widgets.js").
    rb"|\s*(?![a-z][a-z0-9+.\-]*:|//)[^?#:]*?(?:^|/)widgets\.js(?:[?#]|\s*$)",
    re.I,
)
# Rendered widget iframe: ``…/embed/Tweet.html?…&id=ID…`` (``&amp;id=`` in raw markup).
_IFRAME_SRC_RE: Final = re.compile(
    rb"(?:^|/)platform\.(?:twitter|x)\.com/embed/Tweet\.html\?(?:[^#]*?[&;])?id=([0-9]{1,19})(?![0-9])",
    re.I,
)
DIGITS_RE: Final = re.compile(rb"\s*([0-9]{1,19})\s*")
ARCHIVED_RE: Final = re.compile(rb"\s*x:([0-9]{1,19})\s*")

# Gutenberg block comments. Block names: ``embed`` (also ``core/embed``) and the legacy
# ``core-embed/twitter``. The JSON may contain ``\u002d``-style escapes, never ``--``.
_WP_OPEN_RE: Final = re.compile(
    rb"\s*wp:((?:core/)?embed|core-embed/twitter)\s+(\{.*\})\s*$", re.DOTALL
)
WP_CLOSE_NAMES: Final = (b"embed", b"core/embed", b"core-embed/twitter")

_HREF_RE: Final = re.compile(rb"""<(?i:a)\s[^>]*?(?i:href)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def claims_blockquote(tag: StartTag) -> bool:
    """A widget blockquote (class twitter-tweet / twitter-video) or our own archived one."""
    archived = tag.attrs.get(b"data-archived-post")
    if archived is not None and ARCHIVED_RE.fullmatch(archived) is not None:
        return True
    return b"twitter-tweet" in tag.classes or b"twitter-video" in tag.classes


def claims_figure(tag: StartTag) -> bool:
    """A rendered Gutenberg embed figure for X (``wp-block-embed-twitter`` / ``-x``)."""
    return b"wp-block-embed-twitter" in tag.classes or b"wp-block-embed-x" in tag.classes


def iframe_post_id(attrs: dict[bytes, bytes] | StartTag) -> str | None:
    """The post id of a rendered widget iframe, or None if it is not one.

    Either the src is ``platform.(twitter|x).com/embed/Tweet.html?…id=ID`` or the iframe
    carries ``data-tweet-id`` (2016 form with class twitter-tweet-rendered and no src;
    browser-saved pages whose src became ``./x_files/Tweet.html``). Share-button
    iframes (``twitter-tweet-button``) have neither.
    """
    values = attrs.attrs if isinstance(attrs, StartTag) else attrs
    src = values.get(b"src")
    if src:
        m = _IFRAME_SRC_RE.search(src.strip())
        if m is not None:
            return m.group(1).decode("ascii")
    tweet_id = values.get(b"data-tweet-id")
    if tweet_id:
        d = DIGITS_RE.fullmatch(tweet_id)
        if d is not None:
            return d.group(1).decode("ascii")
    return None


def wp_comment_embed(
    data: bytes, body_start: int, body_end: int
) -> tuple[bytes, str | None, str, str] | None:
    """For a Gutenberg embed-block opening comment: ``(block name, handle, id, url)``.

    None unless the block's JSON parses, its provider is Twitter/X (``providerNameSlug``,
    the legacy block name, or the URL host) and its ``url`` is a status URL (a profile
    URL is a timeline, not a post).
    """
    m = _WP_OPEN_RE.match(data, body_start, body_end)
    if m is None:
        return None
    try:
        attrs = loads_json(m.group(2).decode("utf-8", "replace"))
    except ValueError:
        return None
    if not isinstance(attrs, dict):
        return None
    url = attrs.get("url")
    if not isinstance(url, str):
        return None
    status = parse_status_url(url)
    if status is None:
        return None
    block = m.group(1)
    slug = attrs.get("providerNameSlug")
    if (
        block != b"core-embed/twitter"
        and slug is not None
        and str(slug).lower() not in ("twitter", "x")
    ):
        return None
    return block, status[0], status[1], url


# ``identify`` for one element's bytes (the lexer's native handlers give the same answers
# in linear time over a whole page; these serve a caller holding a single element).


def _ref(handle: str | None, post_id: str, url: str | None) -> PostRef:
    return PostRef(post_id, handle, url or canonical_status_url(handle, post_id))


def _last_link(element: bytes, post_id: str | None = None) -> PostRef | None:
    found: PostRef | None = None
    for m in _HREF_RE.finditer(element):
        status = status_from_bytes(m.group(1) or m.group(2) or b"", anchored=True)
        if status is not None and (post_id is None or status[1] == post_id):
            found = _ref(*status)
    return found


def identify_blockquote(tag: StartTag, element: bytes) -> PostRef | None:
    """The post of a widget blockquote (its last status link) or an archived one."""
    archived = tag.attrs.get(b"data-archived-post")
    m = ARCHIVED_RE.fullmatch(archived) if archived is not None else None
    if m is not None:
        post_id = m.group(1).decode("ascii")
        return _last_link(element, post_id) or _ref(None, post_id, None)
    return _last_link(element)


def identify_amp(tag: StartTag, element: bytes) -> PostRef | None:
    """``<amp-twitter data-tweetid=ID>`` (without a literal id it is bound at runtime)."""
    raw = tag.attrs.get(b"data-tweetid")
    m = DIGITS_RE.fullmatch(raw) if raw is not None else None
    if m is None:
        return None
    post_id = m.group(1).decode("ascii")
    return _last_link(element, post_id) or _ref(None, post_id, None)


def identify_iframe(tag: StartTag, element: bytes) -> PostRef | None:
    """A rendered widget iframe: the id from its src or ``data-tweet-id``."""
    post_id = iframe_post_id(tag)
    return None if post_id is None else PostRef(post_id, None, canonical_status_url(None, post_id))


def identify_figure(tag: StartTag, element: bytes) -> PostRef | None:
    """A rendered Gutenberg figure: its blockquote's post, or the bare status URL."""
    inner = _last_link(element)
    if inner is not None:
        return inner
    m = STATUS_B.search(element)
    status = status_from_bytes(m.group(), anchored=False) if m is not None else None
    return None if status is None else _ref(*status)


RECOGNISERS: Final[tuple[Recogniser, ...]] = (
    Recogniser(
        element=b"blockquote",
        # Lower-case markers, tested with ``bytes in`` (2-5 GB/s; longer needles skip
        # faster). ``twitter-tweet`` also covers twitter-tweet-rendered.
        markers=(b"twitter-tweet", b"twitter-video", b"data-archived-post"),
        form=FORM_BLOCKQUOTE,  # FORM_ARCHIVED for data-archived-post
        claims=claims_blockquote,
        identify=identify_blockquote,
        script=WIDGETS_SRC_RE,
        native="x.blockquote",
    ),
    Recogniser(
        element=b"amp-twitter",
        # ``data-tweet`` covers data-tweet-id and AMP's data-tweetid.
        markers=(b"amp-twitter", b"data-tweet"),
        form=FORM_AMP,
        claims=lambda tag: True,
        identify=identify_amp,
        native="x.amp",
    ),
    Recogniser(
        element=b"iframe",
        markers=(b"platform.twitter.com/embed", b"platform.x.com/embed", b"data-tweet"),
        form=FORM_IFRAME,
        claims=lambda tag: iframe_post_id(tag) is not None,
        identify=identify_iframe,
        script=WIDGETS_SRC_RE,
        native="x.iframe",
    ),
    Recogniser(
        element=b"figure",
        # ``wp-block-embed-`` covers -twitter and -x.
        markers=(b"wp-block-embed-",),
        form=FORM_WP_BLOCK,
        claims=claims_figure,
        identify=identify_figure,
        native="x.figure",
    ),
)

# Kept for the archived form's name: the blockquote recogniser records FORM_ARCHIVED
# for our own ``data-archived-post`` blockquotes.
ARCHIVED_FORM: Final = FORM_ARCHIVED
