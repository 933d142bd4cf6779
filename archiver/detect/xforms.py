"""X's forms in the byte lexer: built-in handlers for the recognisers of
``archiver.platforms.x`` (``Recogniser.native``).

X's embeds are most of the corpus and take shapes a single element cannot describe: a
widget blockquote is named by its *last* status link (found by the remembered walk, so
nested and unclosed blockquotes stay linear), a Gutenberg block is a pair of comments,
a rendered figure nests and may hold only a bare URL, and a rendered iframe is wrapped
in a div found backwards. What is X's to know (class names, the iframe URL, widgets.js,
the block JSON, status URLs) comes from the X platform package; these handlers only
drive the lexer with it.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass
from typing import Final

from archiver import platforms
from archiver.detect.lexer import (
    _classes,
    _comment_end,
    _end_tag_end,
    _following_script,
    _parse_tag,
    _raw_close,
    _State,
    _Tag,
)
from archiver.detect.walk import _Close, _find_close, _links
from archiver.models import (
    FORM_AMP,
    FORM_ARCHIVED,
    FORM_BLOCKQUOTE,
    FORM_IFRAME,
    FORM_WP_BLOCK,
    PLATFORM_X,
    EmbedSpan,
)
from archiver.platforms.x.recognisers import (
    ARCHIVED_RE,
    DIGITS_RE,
    WIDGETS_SRC_RE,
    WP_CLOSE_NAMES,
    iframe_post_id,
    wp_comment_embed,
)
from archiver.platforms.x.urls import STATUS_B, status_from_match

# The end of a Gutenberg embed block, per block name.
_WP_CLOSE_RE: Final[dict[bytes, re.Pattern[bytes]]] = {
    name: re.compile(rb"<!--\s*/wp:" + re.escape(name) + rb"\s*-->") for name in WP_CLOSE_NAMES
}

_DIV_START_RE: Final = re.compile(rb"<(?i:div)(?=[\s/>])")
# How far before a widget iframe its wrapper div's start tag may begin.
_DIV_LOOKBACK: Final = 4096
_DIV_CLOSE_RE: Final = re.compile(rb"\s*+</(?i:div)(?=[\s/>])")
_FIGCAPTION_RE: Final = re.compile(rb"<(?i:figcaption)(?=[\s/>])")


@dataclass
class _Frame:
    """A rendered Gutenberg figure whose content is being scanned, and the scan around it
    (a stack of these replaces recursion, so nesting depth is not bounded by Python's)."""

    tag: _Tag
    close: _Close
    out: list[EmbedSpan]  # the enclosing scan's results
    limit: int  # the enclosing scan's limit


def _comment(
    st: _State, m: re.Match[bytes], limit: int, out: list[EmbedSpan], blocks: bool = True
) -> int:
    """Handle a top-level comment (maybe a Gutenberg embed block, when ``blocks``);
    return where to resume."""
    data = st.data
    start = m.start()
    body_end, end = _comment_end(data, m.end(), limit)
    if (blocks and data.startswith(b" wp:", m.end())) or data.startswith(b"wp:", m.end()):
        wp = wp_comment_embed(data, m.end(), body_end)
        if wp is not None:
            block, handle, post_id, url = wp
            # Remembered: a page of unclosed blocks must not search to EOF from each one.
            close = st.finder(_WP_CLOSE_RE[block], limit).search(end)
            if close is not None:
                out.append(
                    EmbedSpan(start, close.end(), FORM_WP_BLOCK, post_id, PLATFORM_X, handle, url)
                )
                return close.end()
    return end


def _blockquote(st: _State, tag: _Tag, limit: int, out: list[EmbedSpan]) -> int:
    """Handle a ``<blockquote>`` start tag; return where lexing resumes."""
    archived = tag.attrs.get(b"data-archived-post")
    archived_id = ARCHIVED_RE.fullmatch(archived) if archived is not None else None
    if archived_id is None:
        if archived is not None:
            other = _other_archived(archived)
            if other is not None:
                return _archived_card(st, tag, limit, out, *other)
        classes = _classes(tag)
        if b"twitter-tweet" not in classes and b"twitter-video" not in classes:
            return tag.end
    close = _find_close(st, b"blockquote", tag.end, limit)
    if close is None:
        return tag.end  # unclosed: not an embed, and never extended to EOF
    if archived_id is not None:
        post_id = archived_id.group(1).decode("ascii")
        own = [link for link in _links(st, b"blockquote", close, limit) if link[1] == post_id]
        handle, url = (own[-1][0], own[-1][2]) if own else (None, None)
        out.append(EmbedSpan(tag.start, close.end, FORM_ARCHIVED, post_id, PLATFORM_X, handle, url))
        return close.end
    if not close.has_links:
        return tag.end  # e.g. only a profile link: not a post
    # The permalink is the last status link.
    handle, post_id, url = _links(st, b"blockquote", close, limit)[-1]
    end = _following_script(st.data, close.end, limit, WIDGETS_SRC_RE) or close.end
    out.append(EmbedSpan(tag.start, end, FORM_BLOCKQUOTE, post_id, PLATFORM_X, handle, url))
    return end


def _other_archived(value: bytes) -> tuple[platforms.Platform, str] | None:
    """``(platform, id)`` of our own archived card of another registered platform's post
    (``data-archived-post="NAME:ID"``), or None. Found here, with X's, so that the
    marker X's prefilter already tests covers every platform's cards."""
    name, colon, raw_id = html.unescape(value.decode("utf-8", "replace")).strip().partition(":")
    if not colon or name == PLATFORM_X:
        return None
    try:
        platform = platforms.get(name)
    except platforms.UnknownPlatform:
        return None
    return (platform, raw_id) if platform.is_post_id(raw_id) else None


def _archived_card(
    st: _State,
    tag: _Tag,
    limit: int,
    out: list[EmbedSpan],
    platform: platforms.Platform,
    post_id: str,
) -> int:
    close = _find_close(st, b"blockquote", tag.end, limit)
    if close is None:
        return tag.end  # unclosed: not an embed, and never extended to EOF
    url = platform.canonical_url(post_id, None)
    out.append(EmbedSpan(tag.start, close.end, FORM_ARCHIVED, post_id, platform.name, None, url))
    return close.end


def _amp(st: _State, tag: _Tag, limit: int, out: list[EmbedSpan]) -> int:
    """Handle ``<amp-twitter>``: the whole element, placeholder blockquote included."""
    close = _find_close(st, b"amp-twitter", tag.end, limit)
    if close is None:
        return tag.end
    raw_id = tag.attrs.get(b"data-tweetid")  # "[data-tweetid]" (amp-bind) is another name
    m = DIGITS_RE.fullmatch(raw_id) if raw_id is not None else None
    if m is not None:
        post_id = m.group(1).decode("ascii")
        own = [link for link in _links(st, b"amp-twitter", close, limit) if link[1] == post_id]
        handle, url = (own[-1][0], own[-1][2]) if own else (None, None)
        out.append(EmbedSpan(tag.start, close.end, FORM_AMP, post_id, PLATFORM_X, handle, url))
    # Without a literal id the element is bound at runtime; its placeholder is not ours
    # to rewrite either, so the whole element is skipped.
    return close.end


def _figure_close(st: _State, tag: _Tag, limit: int) -> _Close | None:
    """The end of a rendered Gutenberg embed ``<figure class="wp-block-embed-twitter …">``,
    or None if this figure is not one (or is unclosed)."""
    classes = _classes(tag)
    if b"wp-block-embed-twitter" not in classes and b"wp-block-embed-x" not in classes:
        return None
    return _find_close(st, b"figure", tag.end, limit)


def _figure_done(st: _State, frame: _Frame, inner: list[EmbedSpan], out: list[EmbedSpan]) -> int:
    """Report a figure whose content has been scanned into ``inner``; return where the
    enclosing scan resumes."""
    tag, close = frame.tag, frame.close
    if len(inner) > 1:
        out.extend(inner)  # several posts in one figure: rewrite each on its own
        return close.end
    if inner:
        e = inner[0]
        out.append(
            EmbedSpan(tag.start, close.end, FORM_WP_BLOCK, e.post_id, e.platform, e.handle, e.url)
        )
        return close.end
    # oEmbed failed: the wrapper holds the bare URL.  The caption is not the wrapper.
    status = _figure_bare_url(st, tag.end, close.start)
    if status is None:
        return close.end  # e.g. a timeline in a twitter embed block
    handle, post_id, url = status
    out.append(EmbedSpan(tag.start, close.end, FORM_WP_BLOCK, post_id, PLATFORM_X, handle, url))
    return close.end


def _figure_bare_url(st: _State, start: int, end: int) -> tuple[str | None, str, str] | None:
    """The first status URL in ``data[start:end]`` (a figure's content) before any
    ``<figcaption``, as ``status_from_bytes(..., anchored=False)`` finds it.

    Nested figures ask about nested ranges, so the captions and URLs of the outermost
    figure (``st.figure_root``) are listed once and looked up.  Listing the whole range
    and searching a slice agree because ``start`` follows a ``>`` and ``end`` is a ``<``, neither of
    which a status URL contains.
    """
    if st.figure_index is None:
        data = st.data
        lo, hi = st.figure_root
        captions = [m.start() for m in _FIGCAPTION_RE.finditer(data, lo, hi)]
        st.figure_index = (captions, list(STATUS_B.finditer(data, lo, hi)))
    captions, urls = st.figure_index
    i = bisect.bisect_left(captions, start)
    wrapper_end = captions[i] if i < len(captions) and captions[i] < end else end
    j = bisect.bisect_left(urls, start, key=lambda m: m.start())
    if j == len(urls) or urls[j].start() >= wrapper_end:
        return None
    return status_from_match(urls[j], None)


def _iframe(data: bytes, tag: _Tag, floor: int, limit: int, out: list[EmbedSpan]) -> int:
    """Handle an ``<iframe>`` start tag (raw text through ``</iframe>``).

    If the iframe is a post widget and the only content (whitespace aside) of a
    ``<div class="twitter-tweet twitter-tweet-rendered">``, the span is that whole div,
    plus a directly following widgets.js script.  The div is found backwards, between
    ``floor`` (where the lexer last stopped, so never inside a comment or script) and the
    iframe.
    """
    close = _raw_close(data, b"iframe", tag.end, limit)
    if close is None:
        return limit  # unclosed iframe: the rest of the page is its text
    post_id = iframe_post_id(tag.attrs)
    if post_id is None:
        return close[1]
    start, end = tag.start, close[1]
    div_start: int | None = None
    for m in _DIV_START_RE.finditer(data, max(floor, tag.start - _DIV_LOOKBACK), tag.start):
        div_start = m.start()
    if div_start is not None:
        div = _parse_tag(data, div_start, div_start + 4, tag.start)
        if (
            div is not None
            and not data[div.end : tag.start].strip()
            and b"twitter-tweet-rendered" in _classes(div)
        ):
            div_close = _DIV_CLOSE_RE.match(data, end, limit)
            if div_close is not None:
                start = div_start
                end = _end_tag_end(data, div_close.end(), limit)
                end = _following_script(data, end, limit, WIDGETS_SRC_RE) or end
    out.append(EmbedSpan(start, end, FORM_IFRAME, post_id))
    return end
