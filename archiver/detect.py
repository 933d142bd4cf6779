"""Find embedded X (Twitter) posts in article bytes, with exact byte spans.

The input is *scan bytes* (see ``archiver.encoding``): any ASCII-compatible charset,
never decoded as a whole.  A regex lexer finds only the tokens that matter:

* comments (HTML5 rules: ``<!-->``, ``<!--->``, closed by ``-->`` or ``--!>``; an unclosed
  comment runs to EOF), including Gutenberg block comments ``<!-- wp:embed {...} -->``;
* CDATA sections;
* raw-text elements, whose content is skipped: script (with the HTML5 escaped /
  double-escaped states), style, textarea, title, xmp, noscript, noembed, noframes,
  iframe, plaintext (to EOF), and template (inert content, nesting counted);
* start tags of blockquote, amp-twitter and iframe, and of ``figure`` only when the tag
  mentions ``wp-block-embed-``.  (The ``div.twitter-tweet-rendered`` wrapper of a widget
  iframe is found backwards from the iframe, so ``<div`` never stops the engine.)

Every other byte is skipped inside the regex engine, which is what makes this fast (the
measured best approach in the project's performance notes).  Candidate start tags have
their attributes parsed (HTML5: case-insensitive names, any quoting, ``>`` inside quoted
values, first duplicate wins); classes are matched by whole token.  A candidate's end is
found by a second lexer that counts nested elements of the same name while still
skipping comments and raw text; an unclosed candidate is never extended to EOF.
"""

from __future__ import annotations

import bisect
import html
import json
import re
import time
from dataclasses import dataclass
from typing import Final

from archiver.detect_ssg import SsgOptions, find_ssg_embeds, might_contain_ssg
from archiver.errors import DetectionTimeout as DetectionTimeout
from archiver.models import (
    FORM_AMP,
    FORM_ARCHIVED,
    FORM_BLOCKQUOTE,
    FORM_IFRAME,
    FORM_WP_BLOCK,
    PLATFORM_X,
    EmbedSpan,
)
from archiver.status_urls import STATUS_CORE

__all__ = [
    "DetectionTimeout",
    "canonical_status_url",
    "find_embeds",
    "might_contain_embeds",
    "parse_status_url",
]

# ---------------------------------------------------------------------------------------
# Status URLs

# Path segments that can follow the host but are not user handles.
_RESERVED_HANDLES: Final = frozenset({"i", "intent", "share", "search", "hashtag", "home"})

# From the shared markup notes.  The id is 1-19 digits (a signed 64-bit snowflake); the
# lookahead stops "status/123abc" and 20-digit runs.  ``)``, ``.``, ``,`` etc. are allowed
# after the id so a URL at the end of a sentence or in Markdown link syntax still counts.
_STATUS_PATTERN: Final = (
    STATUS_CORE + r"(?:/(?:photo|video)/[0-9]+)?"
    r"(?=[/?#\"'<>\s&),.;:!\]\\]|$)"
)
# ``parse_status_url``: the whole string is a URL, scheme optional.
_STATUS_URL_RE: Final = re.compile(r"\s*(?:(?:https?:)?//)?" + _STATUS_PATTERN, re.I)
# Raw attribute values and text, as bytes: an explicit ``//`` is required so that
# ``fox.com/…`` or prose cannot match.
_STATUS_B: Final = re.compile(rb"(?:https?:)?//" + _STATUS_PATTERN.encode(), re.I)
_STATUS_ATTR_B: Final = re.compile(rb"\s*(?:https?:)?//" + _STATUS_PATTERN.encode(), re.I)


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
    if handle is not None and handle.lower() in _RESERVED_HANDLES:
        return None
    return handle, m.group("id")


def canonical_status_url(handle: str | None, post_id: str) -> str:
    """``https://x.com/HANDLE/status/ID``, or ``https://x.com/i/status/ID`` without a handle."""
    return f"https://x.com/{handle or 'i'}/status/{post_id}"


def _status_from_bytes(value: bytes, *, anchored: bool) -> tuple[str | None, str, str] | None:
    """``(handle, id, url)`` for a status URL in raw bytes, or None.

    ``anchored``: the value must *be* a URL (an ``href``); otherwise search within text.
    The returned URL has HTML entities decoded (``&amp;`` -> ``&``).
    """
    m = (_STATUS_ATTR_B.match if anchored else _STATUS_B.search)(value)
    if m is None:
        return None
    return _status_from_match(m, value.strip() if anchored else None)


def _status_from_match(
    m: re.Match[bytes], href: bytes | None
) -> tuple[str | None, str, str] | None:
    """``_status_from_bytes`` for a match; ``href`` is the whole value when anchored."""
    raw_handle = m.group("handle")
    handle = raw_handle.decode("ascii") if raw_handle is not None else None
    if handle is not None and handle.lower() in _RESERVED_HANDLES:
        return None
    # An href is the URL as written; in text, only the matched URL itself.
    url = href.decode("utf-8", "replace") if href is not None else m.group().decode("ascii")
    return handle, m.group("id").decode("ascii"), html.unescape(url)


# ---------------------------------------------------------------------------------------
# Prefilter

# Lower-case markers, tested with ``bytes in`` (a fast substring search, 2-5 GB/s; longer
# needles skip faster).  Each marker is one pass over an embed-free page, so related
# markers share a pass where possible (``data-tweet`` covers data-tweet-id and AMP's
# data-tweetid; ``wp-block-embed-`` covers -twitter and -x).
_MARKERS: Final[tuple[bytes, ...]] = (
    b"twitter-tweet",  # blockquote class; also twitter-tweet-rendered
    b"twitter-video",
    b"amp-twitter",
    b"data-tweet",
    b"wp-block-embed-",
    b"data-archived-post",
    b"platform.twitter.com/embed",
    b"platform.x.com/embed",
)
# Gutenberg block comments: checked only on pages that have block comments at all.
_GATED_MARKERS: Final[tuple[tuple[bytes, tuple[bytes, ...]], ...]] = (
    (b"wp:", (b"wp:embed", b"wp:core/embed", b"wp:core-embed/twitter")),
)
# Tag and attribute names are case-insensitive, and the detector matches class tokens
# case-insensitively too.  Lower-casing every page would cost more than all the other
# tests together, so it is done only when the all-capitals hint "TWITTER" is present
# (TWITTER-TWEET, TWITTER-VIDEO, AMP-TWITTER, WP-BLOCK-EMBED-TWITTER).
_UPPER_HINTS: Final[tuple[bytes, ...]] = (b"TWITTER",)


def _has_marker(data: bytes) -> bool:
    for marker in _MARKERS:
        if marker in data:
            return True
    for gate, markers in _GATED_MARKERS:
        if gate in data:
            for marker in markers:
                if marker in data:
                    return True
    return False


def might_contain_embeds(data: bytes, ssg: SsgOptions | None = None) -> bool:
    """Fast prefilter: False means ``find_embeds(data)`` finds nothing.

    Plain substring tests for the markers every embed form carries: class names
    (twitter-tweet, twitter-video, wp-block-embed-twitter/-x), ``amp-twitter``,
    ``data-tweet-id``, ``data-archived-post``, ``platform.twitter.com/embed`` and
    ``platform.x.com/embed``, and Gutenberg ``wp:embed`` / ``wp:core-embed/twitter``
    block comments.  All-capitals spellings containing ``TWITTER`` (``<AMP-TWITTER``,
    ``TWITTER-TWEET``) are caught too; mixed-case ones such as ``Twitter-Tweet`` are not.
    With ``ssg``, the static-site generator forms' markers count too (``detect_ssg``).
    """
    # The HTML markers first: they flag most pages (theme JS, follow links name the
    # class), and for those find_embeds runs the SSG prefilter itself anyway.
    if _has_marker(data):
        return True
    if ssg is not None and might_contain_ssg(data, ssg):
        return True
    if not any(hint in data for hint in _UPPER_HINTS):
        return False
    return _has_marker(data.lower())


# ---------------------------------------------------------------------------------------
# Lexer building blocks

# Raw-text (and RCDATA) elements: content is text, not markup, up to the end tag.
_RAW_TEXT: Final = (
    b"script",
    b"style",
    b"textarea",
    b"title",
    b"xmp",
    b"noscript",
    b"noembed",
    b"noframes",
    b"iframe",
)
_SKIPPED: Final = (*_RAW_TEXT, b"template", b"plaintext")
# Start tags whose attributes are parsed (iframe is both raw text and a candidate).
_CANDIDATES: Final = frozenset({b"blockquote", b"amp-twitter", b"iframe", b"figure"})

# The rest of a tag after its name, through ``>``.  HTML5: quotes only delimit values
# directly after ``=``, so ``>`` inside a quoted value does not end the tag, but a stray
# quote in a name or unquoted value is literal.  Possessive quantifiers: no backtracking,
# so an unterminated tag at EOF fails in linear time.
_TAG_TAIL_RE: Final = re.compile(rb"""(?:[^>=]++|=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+))*+>""")
# One attribute: name (anything but whitespace, "/", ">", "="; may start with "=") and an
# optional value.
_ATTR_RE: Final = re.compile(
    rb"""([^\s/>][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?"""
)

# Top-level lexer.  The one-character lookahead lets the engine reject most ``<`` (``<div``,
# ``<li``, ``<span``…) before trying the alternation, which roughly doubles throughput.
# ``figure`` is common on WordPress sites, so the engine only stops at those whose tag (or,
# when a ``>`` hides inside a quoted value, the text up to the next ``<``) mentions
# ``wp-block-embed-``; Python then checks the class properly.  A ``<`` before the tag's
# ``>`` also stops it (group 4), and ``_next_token`` checks the mention with remembered
# searches: a ``[^>]*`` lookahead here would rescan to the next ``>`` from every such
# ``<figure``.  ``div`` is not a token at all: the rendered-widget wrapper div is found
# backwards from its iframe.
_MAIN_RE: Final = re.compile(
    rb"<(?=[!sStTxXnNiIpPbBaAfF])(?:(!--)|(!\[CDATA\[)|(?i:("
    + b"|".join(_SKIPPED)
    + rb"|blockquote|amp-twitter"
    + rb"|figure(?=[\s/>])(?=[^<]*wp-block-embed-|[^<>]*+(<))"
    + rb")(?=[\s/>])))"
)
# The same, for the rest of a page that no longer mentions ``wp-block-embed-`` at all.
_MAIN_NO_FIGURE_RE: Final = re.compile(_MAIN_RE.pattern.replace(rb"figure(?=", rb"figure(?!)(?="))


def _inner_re(name: bytes, *, anchors: bool) -> re.Pattern[bytes]:
    """Lexer for the content of element ``name``: nested same-name tags, skipped regions
    and (optionally) ``<a`` start tags."""
    skipped = b"|".join(s for s in _SKIPPED if s != name)
    alt_a = rb"|(?i:(a)(?=[\s/>]))" if anchors else rb"|()(?!)"
    return re.compile(
        rb"<(?:(!--)|(!\[CDATA\[)|(?i:("
        + skipped
        + rb")(?=[\s/>]))|(?i:(/?)("
        + re.escape(name)
        + rb")(?=[\s/>]))"
        + alt_a
        + b")"
    )


_INNER: Final[dict[bytes, re.Pattern[bytes]]] = {
    b"blockquote": _inner_re(b"blockquote", anchors=True),
    b"amp-twitter": _inner_re(b"amp-twitter", anchors=True),
    b"figure": _inner_re(b"figure", anchors=False),
    b"template": _inner_re(b"template", anchors=False),
}
_RAW_CLOSE: Final[dict[bytes, re.Pattern[bytes]]] = {
    name: re.compile(rb"</(?i:" + name + rb")(?=[\s/>])") for name in _RAW_TEXT
}
# Fast path for skipping a whole raw-text element in one regex call: the rest of the
# start tag, the text, and the end tag.  For script the text must not contain "<!--"
# (which may change where the script ends); the match then fails and the state machine
# in ``_script_close`` takes over, as it does for an unclosed element.
_RAW_ELEMENT: Final[dict[bytes, re.Pattern[bytes]]] = {
    name: re.compile(
        _TAG_TAIL_RE.pattern
        + rb"(?:[^<]++|<(?!/(?i:"
        + name
        + rb")[\s/>]"
        + (rb"|!--" if name == b"script" else b"")
        + rb"))*+</(?i:"
        + name
        + rb")(?=[\s/>])"
        + _TAG_TAIL_RE.pattern
    )
    for name in _RAW_TEXT
}
# Script data states (HTML5 13.2.5.4ff).  ``<!--`` enters the escaped state unless it is
# immediately closed (``<!-->``, ``<!--->``); in the escaped state ``<script`` enters the
# double-escaped state, where ``</script>`` only returns to escaped; ``-->`` leaves both.
_SCRIPT_STATE_RE: Final = re.compile(rb"<!--(-*>)?|-->|<(/?)(?i:script)(?=[\s/>])")
_COMMENT_CLOSE_RE: Final = re.compile(rb"--!?>")
_CDATA_CLOSE: Final = b"]]>"

# Gutenberg block comments.  Block names: ``embed`` (also ``core/embed``) and the legacy
# ``core-embed/twitter``.  The JSON may contain ``\u002d``-style escapes, never ``--``.
_WP_OPEN_RE: Final = re.compile(
    rb"\s*wp:((?:core/)?embed|core-embed/twitter)\s+(\{.*\})\s*$", re.DOTALL
)
_WP_CLOSE_RE: Final[dict[bytes, re.Pattern[bytes]]] = {
    name: re.compile(rb"<!--\s*/wp:" + re.escape(name) + rb"\s*-->")
    for name in (b"embed", b"core/embed", b"core-embed/twitter")
}

# What may follow a tweet blockquote and belongs to it: the widgets.js loader, possibly
# wrapped in ``<p>…</p>`` by wpautop.
_FOLLOW_SCRIPT_RE: Final = re.compile(rb"\s*+(<(?i:p)\s*+>\s*+)?<(?i:script)(?=[\s/>])")
_P_CLOSE_RE: Final = re.compile(rb"\s*+</(?i:p)\s*+>")
_WIDGETS_SRC_RE: Final = re.compile(
    # platform.twitter.com / platform.x.com, with scheme, protocol-relative, or behind a
    # relative path (oddity_07: "../../platform.twitter.com/widgets.js")…
    rb"\s*(?:(?:https?:)?//|(?:\.\.?/)*)platform\.(?:twitter|x)\.com/widgets\.js(?:[?#]|\s*$)"
    # …or a local copy, e.g. a browser "save page" folder ("./page_files/widgets.js").
    rb"|\s*(?![a-z][a-z0-9+.\-]*:|//)[^?#:]*?(?:^|/)widgets\.js(?:[?#]|\s*$)",
    re.I,
)
_SCRIPT_SRC_ATTRS: Final = (b"src", b"data-cmp-src", b"data-src")

# Rendered widget iframe: ``…/embed/Tweet.html?…&id=ID…`` (``&amp;id=`` in raw markup).
_IFRAME_SRC_RE: Final = re.compile(
    rb"(?:^|/)platform\.(?:twitter|x)\.com/embed/Tweet\.html\?(?:[^#]*?[&;])?id=([0-9]{1,19})(?![0-9])",
    re.I,
)
_DIGITS_RE: Final = re.compile(rb"\s*([0-9]{1,19})\s*")
_ARCHIVED_RE: Final = re.compile(rb"\s*x:([0-9]{1,19})\s*")
_DIV_START_RE: Final = re.compile(rb"<(?i:div)(?=[\s/>])")
# How far before a widget iframe its wrapper div's start tag may begin.
_DIV_LOOKBACK: Final = 4096
_DIV_CLOSE_RE: Final = re.compile(rb"\s*+</(?i:div)(?=[\s/>])")
_FIGCAPTION_RE: Final = re.compile(rb"<(?i:figcaption)(?=[\s/>])")

# Markdown fenced code blocks (CommonMark: up to 3 spaces of indent, 3+ backticks/tildes).
_FENCE_OPEN_RE: Final = re.compile(rb"^ {0,3}(`{3,}|~{3,})", re.M)


@dataclass(frozen=True)
class _Tag:
    """A start tag: ``data[start:end]`` is the whole tag, attributes already parsed."""

    start: int
    end: int
    attrs: dict[bytes, bytes]


def _parse_tag(data: bytes, start: int, name_end: int, limit: int) -> _Tag | None:
    """Parse the start tag whose name ends at ``name_end``; None if no ``>`` before limit."""
    tail = _TAG_TAIL_RE.match(data, name_end, limit)
    if tail is None:
        return None
    attrs: dict[bytes, bytes] = {}
    for m in _ATTR_RE.finditer(data, name_end, tail.end() - 1):
        name = m.group(1).lower()
        if name in attrs:
            continue  # HTML5: the first of duplicate attributes wins
        value = m.group(2)
        if value is None:
            value = m.group(3)
        if value is None:
            value = m.group(4) or b""
        attrs[name] = value
    return _Tag(start, tail.end(), attrs)


def _classes(tag: _Tag) -> set[bytes]:
    """Class tokens, ASCII-lower-cased (split on ASCII whitespace as HTML does)."""
    value = tag.attrs.get(b"class")
    return set(value.lower().split()) if value else set()


def _end_tag_end(data: bytes, name_end: int, limit: int) -> int:
    """Offset just past an end tag whose name ends at ``name_end`` (``limit`` if cut off)."""
    tail = _TAG_TAIL_RE.match(data, name_end, limit)
    return tail.end() if tail is not None else limit


def _comment_end(data: bytes, pos: int, limit: int) -> tuple[int, int]:
    """``(body_end, end)`` for a comment whose ``<!--`` ends at ``pos``."""
    if data.startswith(b">", pos, limit):
        return pos, pos + 1  # <!-->
    if data.startswith(b"->", pos, limit):
        return pos, pos + 2  # <!--->
    m = _COMMENT_CLOSE_RE.search(data, pos, limit)
    if m is None:
        return limit, limit  # unclosed: runs to EOF
    return m.start(), m.end()


def _cdata_end(data: bytes, pos: int, limit: int) -> int:
    i = data.find(_CDATA_CLOSE, pos, limit)
    return limit if i < 0 else i + len(_CDATA_CLOSE)


def _script_close(data: bytes, pos: int, limit: int) -> tuple[int, int] | None:
    """``(close_start, close_end)`` of the ``</script>`` ending script text at ``pos``."""
    first = _RAW_CLOSE[b"script"].search(data, pos, limit)
    first_at = first.start() if first is not None else limit
    if data.find(b"<!--", pos, first_at) < 0:
        # Common case: no escape sequence before the first </script.
        if first is None:
            return None
        return first.start(), _end_tag_end(data, first.end(), limit)
    return _script_states(data, pos, limit)


def _script_states(data: bytes, pos: int, limit: int) -> tuple[int, int] | None:
    """``_script_close`` when the text has ``<!--``: the HTML5 script data states."""
    state = 0  # 0 = script data, 1 = escaped, 2 = double escaped
    for m in _SCRIPT_STATE_RE.finditer(data, pos, limit):
        token = m.group()
        if token.startswith(b"<!--"):
            if m.group(1) is not None:
                state = 0  # "<!-->" / "<!--->": entered and left (or left) at once
            elif state == 0:
                state = 1
        elif token == b"-->":
            state = 0
        elif m.group(2):  # </script
            if state == 2:
                state = 1
            else:
                return m.start(), _end_tag_end(data, m.end(), limit)
        elif state == 1:  # <script inside escaped text
            state = 2
    return None


def _raw_close(data: bytes, name: bytes, pos: int, limit: int) -> tuple[int, int] | None:
    """``(close_start, close_end)`` of the end tag ending raw text at ``pos``; None if none."""
    if name == b"script":
        return _script_close(data, pos, limit)
    m = _RAW_CLOSE[name].search(data, pos, limit)
    if m is None:
        return None
    return m.start(), _end_tag_end(data, m.end(), limit)


# ---------------------------------------------------------------------------------------
# Linear time on any input
#
# The top-level lexer only moves forward, so on its own it is linear.  What can make a
# scan super-linear is work repeated from many starting points: the end of each nested
# or unclosed candidate, a search to EOF from every unclosed comment or tag, a nested
# figure rescanned at every level.  The helpers below remember such work so that each
# byte is examined a bounded number of times, and a cooperative deadline bounds the rest.


class _Finder:
    """The leftmost match of a pattern at or after a position, remembering the last answer.

    Knowing that the leftmost match from ``lo`` starts at ``hi`` answers every query in
    ``[lo, hi]`` at once.  A query before ``lo`` only needs to search ``[pos, lo)``
    (plus ``span``, the longest match and lookahead), so queries that come in any order
    over one region cost about one pass over it.  ``span=None``: the pattern has no
    bounded length, and such a query searches again from scratch.
    """

    __slots__ = ("data", "hi", "limit", "lo", "match", "rx", "span")

    def __init__(self, rx: re.Pattern[bytes], data: bytes, limit: int, span: int | None) -> None:
        self.rx = rx
        self.data = data
        self.limit = limit
        self.span = span
        self.lo = limit + 1  # nothing known yet
        self.hi = limit
        self.match: re.Match[bytes] | None = None

    def search(self, pos: int) -> re.Match[bytes] | None:
        """Like ``rx.search(data, pos, limit)``."""
        if self.lo <= pos <= self.hi:
            return self.match
        if pos < self.lo <= self.limit and self.span is not None:
            m = self.rx.search(self.data, pos, min(self.limit, self.lo + self.span))
            if m is None or m.start() >= self.lo:
                self.lo = pos  # nothing new before lo: the known answer stands
                return self.match
        else:
            m = self.rx.search(self.data, pos, self.limit)
        self.lo, self.hi, self.match = pos, (m.start() if m is not None else self.limit), m
        return m


_CDATA_CLOSE_RE: Final = re.compile(re.escape(_CDATA_CLOSE))
_COMMENT_OPEN_RE: Final = re.compile(rb"<!--")
_GT_RE: Final = re.compile(rb">")
_WP_EMBED_CLASS_RE: Final = re.compile(rb"(?i:wp-block-embed-)")
# Spans (longest match plus lookahead) for the patterns searched through ``_Finder``.
_SPANS: Final[dict[re.Pattern[bytes], int]] = {
    _COMMENT_CLOSE_RE: 4,
    _CDATA_CLOSE_RE: 3,
    _COMMENT_OPEN_RE: 4,
    **{rx: len(name) + 3 for name, rx in _RAW_CLOSE.items()},
}


class _State:
    """Everything one ``find_embeds`` call remembers, and its deadline."""

    __slots__ = (
        "data",
        "deadline",
        "fences",
        "figure_index",
        "figure_root",
        "finders",
        "memos",
        "no_mention",
        "ticks",
    )

    def __init__(self, data: bytes, fences: list[tuple[int, int]], deadline: float | None):
        self.data = data
        self.fences = fences
        self.deadline = deadline
        self.ticks = 0
        # Per content-lexer name: token start -> (closing token start, first status link
        # token start, limit it was worked out under); -1 for none.
        self.memos: dict[bytes, dict[int, tuple[int, int, int]]] = {}
        self.finders: dict[tuple[re.Pattern[bytes], int], _Finder] = {}
        # Caption and status-URL positions inside the outermost figure being scanned.
        # Per limit: from where on the text no longer mentions "wp-block-embed-".
        self.no_mention: dict[int, int] = {}
        self.figure_root = (0, 0)
        self.figure_index: tuple[list[int], list[re.Match[bytes]]] | None = None

    def tick(self) -> None:
        """Raise ``DetectionTimeout`` once the deadline has passed (checked every 64 steps;
        hot loops count their own steps and call ``check``)."""
        self.ticks += 1
        if self.ticks & 63 == 0:
            self.check()

    def check(self) -> None:
        """Raise ``DetectionTimeout`` if the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DetectionTimeout(
                f"detection of this page ({len(self.data):,} bytes) ran past its time budget"
            )

    def finder(self, rx: re.Pattern[bytes], limit: int) -> _Finder:
        """The remembered searcher of ``rx`` up to ``limit``."""
        key = (rx, limit)
        f = self.finders.get(key)
        if f is None:
            f = self.finders[key] = _Finder(rx, self.data, limit, _SPANS.get(rx))
        return f


def _skip(st: _State, name: bytes, name_end: int, limit: int, *, fast: bool = True) -> int:
    """Where lexing resumes after a skipped element whose start tag's name ends at
    ``name_end``: after its end tag, or ``limit`` if it is unclosed (HTML5: the rest of
    the page is its text).

    ``fast``: try the one-regex path first.  It costs a pass to ``limit`` when the element
    is unclosed, which the top-level lexer pays once (it then stops); content lexers, which
    may meet many unclosed elements from many starting points, use remembered searches.
    """
    data = st.data
    if fast:
        whole = _RAW_ELEMENT[name].match(data, name_end, limit) if name in _RAW_ELEMENT else None
        if whole is not None:
            return whole.end()
    tail = _TAG_TAIL_RE.match(data, name_end, limit)
    if tail is None or name == b"plaintext":
        return limit
    if name == b"template":
        inert = _find_close(st, name, tail.end(), limit)
        return inert.end if inert is not None else limit
    if fast:
        close = _raw_close(data, name, tail.end(), limit)
        return close[1] if close is not None else limit
    pos = tail.end()
    m = st.finder(_RAW_CLOSE[name], limit).search(pos)
    if name == b"script":
        opener = st.finder(_COMMENT_OPEN_RE, limit).search(pos)
        if opener is not None and (m is None or opener.start() < m.start()):
            states = _script_states(data, pos, limit)
            return states[1] if states is not None else limit
    return _end_tag_end(data, m.end(), limit) if m is not None else limit


_Link = tuple[str | None, str, str]  # (handle, post id, URL) of a status link


@dataclass(slots=True)
class _Close:
    """Where a container element ends, and whether it holds a status link."""

    start: int  # of its end tag
    end: int
    content: int  # where its content starts
    has_links: bool
    links: list[_Link] | None  # its status links, when the walk saw them all


# Content-lexer tokens.
_SKIPPED_TOKEN, _LINK, _OPEN, _CLOSE, _DEAD = range(5)
# A walk remembers its first token, the first after every nested start or end tag, and
# one in this many of the rest: a walk that joins an earlier one meets a remembered
# token within this many steps.
_CHECKPOINT: Final = 32

_Token = tuple[int, int, int, "_Link | None"]


def _token(st: _State, name: bytes, pos: int, limit: int) -> _Token:
    """``(start, kind, resume, link)`` of the first content token of ``name`` at ``pos``.

    ``start`` is -1 when there is none.  ``resume`` is where the content lexer goes on
    (for an end tag: just after its name, as nested end tags are counted there).
    """
    m = _INNER[name].search(st.data, pos, limit)
    if m is None:
        return -1, _DEAD, limit, None
    return _token_of(st, m, limit)


def _token_of(st: _State, m: re.Match[bytes], limit: int) -> _Token:
    """``_token`` for the content lexer's match ``m``."""
    data = st.data
    start = m.start()
    if m.group(1):  # comment
        if data.startswith(b">", m.end(), limit) or data.startswith(b"->", m.end(), limit):
            return start, _SKIPPED_TOKEN, _comment_end(data, m.end(), limit)[1], None
        close = st.finder(_COMMENT_CLOSE_RE, limit).search(m.end())
        return start, _SKIPPED_TOKEN, close.end() if close is not None else limit, None
    if m.group(2):  # CDATA
        close = st.finder(_CDATA_CLOSE_RE, limit).search(m.end())
        return start, _SKIPPED_TOKEN, close.end() if close is not None else limit, None
    if m.group(3):  # raw text / template / plaintext
        return (
            start,
            _SKIPPED_TOKEN,
            _skip(st, m.group(3).lower(), m.end(), limit, fast=False),
            None,
        )
    if m.group(5):  # <name or </name
        if m.group(4):
            return start, _CLOSE, m.end(), None
        tail = _TAG_TAIL_RE.match(data, m.end(), limit)
        if tail is None:
            return start, _DEAD, limit, None
        return start, _OPEN, tail.end(), None
    # <a
    tail = _TAG_TAIL_RE.match(data, m.end(), limit)
    if tail is None:
        return start, _DEAD, limit, None
    end = tail.end()
    # Most links in a post are t.co, hashtag and mention links: only parse the
    # attributes of tags that could hold a status URL.
    if data.find(b"tatus", m.end(), end) < 0 and data.find(b"TATUS", m.end(), end) < 0:
        return start, _SKIPPED_TOKEN, end, None
    tag = _parse_tag(data, start, m.end(), limit)
    href = tag.attrs.get(b"href") if tag is not None else None
    status = _status_from_bytes(href, anchored=True) if href else None
    return start, (_SKIPPED_TOKEN if status is None else _LINK), end, status


def _walk(st: _State, name: bytes, pos: int, limit: int) -> tuple[int, int, list[_Link] | None]:
    """``(close, link, links)`` for an element of ``name`` whose content starts at ``pos``.

    ``close`` is the start of its matching end tag (nested elements of the same name are
    counted; comments, CDATA and raw text are skipped), ``link`` the start of the first
    ``<a>`` with a status URL before it; -1 for none.  ``links`` are those status links,
    unless the walk jumped over a part (then None: ``_links`` lexes the element again).

    The lexer has no state but its position, so a walk that reaches a token an earlier
    walk has settled takes that token's answer and jumps to it: the end of every nested
    element is worked out once, however many times it is asked for, and without
    recursion.

    An answer worked out under a larger ``limit`` holds under this one when its end tag
    lies within it; otherwise the element is unclosed here too (every step of the lexer
    only sees bytes before the limit it was given).
    """
    memo = st.memos.get(name)
    if memo is None:
        memo = st.memos[name] = {}
    name_len = 2 + len(name)  # "</" + name: where the lexer resumes after an end tag
    depth = 0
    pending: list[list[int]] = [[]]  # remembered tokens awaiting their level's end tag
    waiting: list[tuple[int, int]] = []  # (token, depth) not yet followed by a link
    links: dict[int, int] = {}  # remembered token -> first link after it
    # Where the tokens walked since the last remembered one begin (all at the current
    # depth).  If this walk joins an earlier one they are remembered too, so the next
    # walk from nearby joins at once; they are lexed again then, not listed on the way.
    recent = -1
    first_link = -1
    found: list[_Link] | None = []
    since = _CHECKPOINT  # remember the first token
    steps = 0
    data = st.data
    rx = _INNER[name]
    start, kind, resume, payload = _token(st, name, pos, limit)
    while True:
        steps += 1
        if not steps & 63:
            st.check()
        if start < 0 or kind == _DEAD:
            return _walk_dead(memo, pending, limit)
        hit = memo.get(start)
        if hit is not None:
            close, link, lim = hit
            if lim < limit:
                hit = None  # worked out under a smaller limit: says nothing here
            elif close < 0 or (lim > limit and close + name_len >= limit):
                # Unclosed (under a larger limit, its end tag is past this one).
                if recent >= 0:
                    _walk_recent(st, name, recent, start, limit, memo, (-1, -1, limit))
                return _walk_dead(memo, pending, limit)
        if hit is not None:
            if recent >= 0:
                next_link = link
                for token, token_kind in reversed(_recent(st, name, recent, start, limit)):
                    if token_kind == _LINK:
                        next_link = token
                    pending[depth].append(token)
                    if next_link >= 0:
                        links[token] = next_link
                    else:
                        waiting.append((token, depth))
                recent = -1
            found = None
            if link >= 0:
                if first_link < 0:
                    first_link = link
                for token, _ in waiting:
                    links[token] = link
                waiting.clear()
            start, kind, resume = close, _CLOSE, close + name_len
        else:
            if since >= _CHECKPOINT:
                pending[depth].append(start)
                waiting.append((start, depth))
                since = 0
                recent = resume
            since += 1
            if kind == _LINK:
                if found is not None and payload is not None:
                    found.append(payload)
                if first_link < 0:
                    first_link = start
                if waiting:
                    for token, _ in waiting:
                        links[token] = start
                    waiting.clear()
            elif kind == _OPEN:
                depth += 1
                if len(pending) <= depth:
                    pending.append([])
                since = _CHECKPOINT
        if kind == _CLOSE:
            level = pending[depth]
            for token in level:
                memo[token] = (start, links.pop(token, -1), limit)
            level.clear()
            while waiting and waiting[-1][1] == depth:
                waiting.pop()
            if depth == 0:
                return start, first_link, found
            depth -= 1
            since = _CHECKPOINT
        # The next token.  The two most common ones, an end tag and an <a> that holds no
        # status link (t.co, hashtag and mention links), are lexed here: this loop is
        # most of the time spent on a page with embeds.
        m = rx.search(data, resume, limit)
        if m is None:
            start, kind = -1, _DEAD
        elif m.group(5) and m.group(4):
            start, kind, resume = m.start(), _CLOSE, m.end()
        elif m.group(6) is not None:
            tail = _TAG_TAIL_RE.match(data, m.end(), limit)
            if tail is None:
                start, kind = -1, _DEAD
            elif data.find(b"tatus", m.end(), tail.end()) < 0 and (
                data.find(b"TATUS", m.end(), tail.end()) < 0
            ):
                start, kind, resume, payload = m.start(), _SKIPPED_TOKEN, tail.end(), None
            else:
                start, kind, resume, payload = _token_of(st, m, limit)
        else:
            start, kind, resume, payload = _token_of(st, m, limit)


def _recent(st: _State, name: bytes, pos: int, stop: int, limit: int) -> list[tuple[int, int]]:
    """``(start, kind)`` of the content tokens from ``pos`` up to the one at ``stop``."""
    tokens: list[tuple[int, int]] = []
    start, kind, resume, _ = _token(st, name, pos, limit)
    while 0 <= start < stop:
        tokens.append((start, kind))
        start, kind, resume, _ = _token(st, name, resume, limit)
    return tokens


def _walk_recent(
    st: _State,
    name: bytes,
    pos: int,
    stop: int,
    limit: int,
    memo: dict[int, tuple[int, int, int]],
    answer: tuple[int, int, int],
) -> None:
    """Remember ``answer`` for the content tokens from ``pos`` up to the one at ``stop``."""
    for token, _ in _recent(st, name, pos, stop, limit):
        memo[token] = answer


def _walk_dead(
    memo: dict[int, tuple[int, int, int]], pending: list[list[int]], limit: int
) -> tuple[int, int, None]:
    """End a walk whose element is unclosed: so is every element it remembered."""
    for level in pending:
        for token in level:
            memo[token] = (-1, -1, limit)
    return -1, -1, None


def _find_close(st: _State, name: bytes, pos: int, limit: int) -> _Close | None:
    """Find the end tag matching an element of ``name`` whose content starts at ``pos``.

    Nested same-name elements are counted; comments, CDATA and raw-text elements inside
    are skipped, so a ``</blockquote>`` in a comment or script does not count.
    None if the element is not closed before ``limit`` (never extend to EOF).
    """
    close, link, links = _walk(st, name, pos, limit)
    if close < 0:
        return None
    end = _end_tag_end(st.data, close + 2 + len(name), limit)
    return _Close(close, end, pos, link >= 0, links)


def _links(st: _State, name: bytes, close: _Close, limit: int) -> list[tuple[str | None, str, str]]:
    """``(handle, id, url)`` of every ``<a href>`` status link inside a closed element,
    in document order (nested elements included).  Only asked for an element that
    becomes an embed, so each byte is lexed here at most once per page."""
    if close.links is not None:
        return close.links
    found: list[_Link] = []
    start, _, resume, link = _token(st, name, close.content, limit)
    while 0 <= start < close.start:
        st.tick()
        if link is not None:
            found.append(link)
        start, _, resume, link = _token(st, name, resume, limit)
    return found


def _following_script(data: bytes, pos: int, limit: int) -> int | None:
    """End of a widgets.js ``<script>`` directly after ``pos`` (whitespace between), or None.

    Also takes wpautop's ``<p><script …></script></p>`` (then the ``</p>`` is included).
    The script counts if ``src`` (or a consent manager's ``data-cmp-src`` / ``data-src``)
    points at widgets.js on platform.twitter.com / platform.x.com, or at a local copy.
    """
    m = _FOLLOW_SCRIPT_RE.match(data, pos, limit)
    if m is None:
        return None
    tag = _parse_tag(data, m.start(), m.end(), limit)
    if tag is None:
        return None
    if not any(
        _WIDGETS_SRC_RE.match(tag.attrs[attr]) for attr in _SCRIPT_SRC_ATTRS if attr in tag.attrs
    ):
        return None
    close = _script_close(data, tag.end, limit)
    if close is None:
        return None
    end = close[1]
    if m.group(1):
        p = _P_CLOSE_RE.match(data, end, limit)
        if p is None:
            return None  # "<p>" without its "</p>": leave the script alone
        end = p.end()
    return end


def _iframe_post_id(tag: _Tag) -> str | None:
    """The post id of a rendered widget iframe, or None if it is not one.

    Either the src is ``platform.(twitter|x).com/embed/Tweet.html?…id=ID`` or the iframe
    carries ``data-tweet-id`` (2016 form with class twitter-tweet-rendered and no src;
    browser-saved pages whose src became ``./x_files/Tweet.html``).  Share-button
    iframes (``twitter-tweet-button``) have neither.
    """
    src = tag.attrs.get(b"src")
    if src:
        m = _IFRAME_SRC_RE.search(src.strip())
        if m is not None:
            return m.group(1).decode("ascii")
    tweet_id = tag.attrs.get(b"data-tweet-id")
    if tweet_id:
        d = _DIGITS_RE.fullmatch(tweet_id)
        if d is not None:
            return d.group(1).decode("ascii")
    return None


def _wp_comment_embed(
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
        attrs = json.loads(m.group(2).decode("utf-8", "replace"))
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
        and str(slug).lower()
        not in (
            "twitter",
            "x",
        )
    ):
        return None
    return block, status[0], status[1], url


def _fences(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of Markdown fenced code blocks (an unclosed fence runs to EOF)."""
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _FENCE_OPEN_RE.search(data, pos)
        if m is None:
            return out
        fence = m.group(1)
        line_end = data.find(b"\n", m.end())
        if line_end < 0:
            out.append((m.start(), len(data)))
            return out
        if fence[:1] == b"`" and b"`" in data[m.end() : line_end]:
            pos = line_end + 1  # backtick fence info strings cannot contain backticks
            continue
        close = re.compile(
            rb"^ {0,3}" + re.escape(fence) + re.escape(fence[:1]) + rb"*[ \t]*\r?$", re.M
        ).search(data, line_end + 1)
        end = len(data) if close is None else close.end()
        out.append((m.start(), end))
        pos = end


# ---------------------------------------------------------------------------------------
# The scanner


@dataclass
class _Frame:
    """A rendered Gutenberg figure whose content is being scanned, and the scan around it
    (a stack of these replaces recursion, so nesting depth is not bounded by Python's)."""

    tag: _Tag
    close: _Close
    out: list[EmbedSpan]  # the enclosing scan's results
    limit: int  # the enclosing scan's limit


def _next_token(st: _State, pos: int, limit: int) -> re.Match[bytes] | None:
    """The next top-level token at or after ``pos``.

    The lexer's figure lookahead stops at a ``<figure`` that mentions ``wp-block-embed-``
    before the next ``<``, or that has a ``<`` before any ``>``; the latter, rare, is
    checked here: the class must come before the tag's ``>`` (a ``[^>]*`` lookahead in the
    regex would rescan to the next ``>`` at every such ``<figure``, quadratic on a page
    of them).
    """
    data = st.data
    while True:
        no_mention = st.no_mention.get(limit)
        rx = _MAIN_NO_FIGURE_RE if no_mention is not None and pos >= no_mention else _MAIN_RE
        m = rx.search(data, pos, limit)
        if m is None or m.group(4) is None:
            return m
        mention = st.finder(_WP_EMBED_CLASS_RE, limit).search(m.end())
        if mention is None:
            st.no_mention[limit] = m.end()  # no figure can qualify from here on
        else:
            gt = st.finder(_GT_RE, limit).search(m.end())
            if gt is None or mention.start() < gt.start():
                return m
        pos = m.start() + 1
        st.tick()


def _scan(st: _State) -> list[EmbedSpan]:
    """Every embed in the page, in document order."""
    data = st.data
    fences = st.fences
    frames: list[_Frame] = []
    out: list[EmbedSpan] = []
    fi = 0  # index into fences: positions only grow, across figure levels too
    pos, limit = 0, len(data)
    steps = 0
    while True:
        steps += 1
        if not steps & 63:
            st.check()
        floor = pos
        if st.no_mention:
            m = _next_token(st, pos, limit)
        else:  # the common case, inline: it is most of the lexer's Python time
            m = _MAIN_RE.search(data, pos, limit)
            if m is not None and m.group(4) is not None:
                m = _next_token(st, m.start(), limit)
        tag: _Tag | None = None
        if m is not None:
            start = m.start()
            if fences:
                while fi < len(fences) and fences[fi][1] <= start:
                    fi += 1
                if fi < len(fences) and fences[fi][0] <= start:
                    pos = fences[fi][1]
                    continue
            if m.group(1):  # comment
                pos = _comment(st, m, limit, out)
                continue
            if m.group(2):  # CDATA
                pos = _cdata_end(data, m.end(), limit)
                continue
            name = m.group(3).lower()
            if name not in _CANDIDATES:
                pos = _skip(st, name, m.end(), limit)
                continue
            tag = _parse_tag(data, start, m.end(), limit)
        if tag is not None:  # else: the end, or EOF inside a tag (nothing more to find)
            if name == b"blockquote":
                pos = _blockquote(st, tag, limit, out)
            elif name == b"iframe":
                pos = _iframe(data, tag, floor, limit, out)
            elif name == b"amp-twitter":
                pos = _amp(st, tag, limit, out)
            else:
                close = _figure_close(st, tag, limit)
                if close is None:
                    pos = tag.end
                else:
                    if not frames:  # a new outermost figure
                        st.figure_root, st.figure_index = (tag.end, close.start), None
                    frames.append(_Frame(tag, close, out, limit))
                    out, pos, limit = [], tag.end, close.start
            continue
        if not frames:
            return out
        frame = frames.pop()
        inner, out, limit = out, frame.out, frame.limit
        pos = _figure_done(st, frame, inner, out)


def _comment(st: _State, m: re.Match[bytes], limit: int, out: list[EmbedSpan]) -> int:
    """Handle a top-level comment (maybe a Gutenberg embed block); return where to resume."""
    data = st.data
    start = m.start()
    body_end, end = _comment_end(data, m.end(), limit)
    if data.startswith(b" wp:", m.end()) or data.startswith(b"wp:", m.end()):
        wp = _wp_comment_embed(data, m.end(), body_end)
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
    archived_id = _ARCHIVED_RE.fullmatch(archived) if archived is not None else None
    if archived_id is None:
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
    end = _following_script(st.data, close.end, limit) or close.end
    out.append(EmbedSpan(tag.start, end, FORM_BLOCKQUOTE, post_id, PLATFORM_X, handle, url))
    return end


def _amp(st: _State, tag: _Tag, limit: int, out: list[EmbedSpan]) -> int:
    """Handle ``<amp-twitter>``: the whole element, placeholder blockquote included."""
    close = _find_close(st, b"amp-twitter", tag.end, limit)
    if close is None:
        return tag.end
    raw_id = tag.attrs.get(b"data-tweetid")  # "[data-tweetid]" (amp-bind) is another name
    m = _DIGITS_RE.fullmatch(raw_id) if raw_id is not None else None
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
    ``<figcaption``, as ``_status_from_bytes(..., anchored=False)`` finds it.

    Nested figures ask about nested ranges, so the captions and URLs of the outermost
    figure (``st.figure_root``) are listed once and looked up.  Listing the whole range
    and searching a slice agree because ``start`` follows a ``>`` and ``end`` is a ``<``, neither of
    which a status URL contains.
    """
    if st.figure_index is None:
        data = st.data
        lo, hi = st.figure_root
        captions = [m.start() for m in _FIGCAPTION_RE.finditer(data, lo, hi)]
        st.figure_index = (captions, list(_STATUS_B.finditer(data, lo, hi)))
    captions, urls = st.figure_index
    i = bisect.bisect_left(captions, start)
    wrapper_end = captions[i] if i < len(captions) and captions[i] < end else end
    j = bisect.bisect_left(urls, start, key=lambda m: m.start())
    if j == len(urls) or urls[j].start() >= wrapper_end:
        return None
    return _status_from_match(urls[j], None)


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
    post_id = _iframe_post_id(tag)
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
                end = _following_script(data, end, limit) or end
    out.append(EmbedSpan(start, end, FORM_IFRAME, post_id))
    return end


def find_embeds(
    data: bytes,
    markdown: bool = False,
    *,
    deadline: float | None = None,
    ssg: SsgOptions | None = None,
) -> list[EmbedSpan]:
    """Every embedded X post in ``data`` (scan bytes), in document order, non-overlapping.

    ``data[span.start:span.end]`` is the whole embed: a tweet blockquote through its
    ``</blockquote>`` plus a directly following widgets.js script; an ``<amp-twitter>``
    element; a rendered widget iframe (or its ``div.twitter-tweet-rendered`` wrapper); a
    Gutenberg embed block (comments included) or rendered ``figure``; or one of our own
    ``data-archived-post`` blockquotes.  Nothing inside comments, raw-text elements,
    ``<template>`` or escaped markup is reported.  With ``markdown=True``, fenced code
    blocks (``` and ~~~) are skipped too.

    Time is linear in ``len(data)`` whatever the markup (nesting, unclosed tags).
    ``deadline`` (a ``time.monotonic()`` value) bounds it anyway: past it,
    ``DetectionTimeout`` is raised.

    ``ssg``: also find the static-site generator forms (shortcodes, Liquid tags,
    components, bare URLs, non-iframe rendered widgets; see ``archiver.detect_ssg``).
    Where a span of each pass overlaps, our own archived Hugo/MDX forms win (they wrap
    an archived card), otherwise the HTML span wins.
    """
    st = _State(data, _fences(data) if markdown else [], deadline)
    spans = _scan(st)
    if ssg is None:
        return spans
    st.check()
    return _merge_ssg(spans, find_ssg_embeds(data, ssg, markdown))


def _merge_ssg(html_spans: list[EmbedSpan], ssg_spans: list[EmbedSpan]) -> list[EmbedSpan]:
    """Both passes' spans, in order and disjoint (see ``find_embeds``).

    Each list is sorted and disjoint, so ends grow with starts: one bisection per span
    finds the only span of the other list it can overlap (linear-logarithmic overall).
    """
    if not ssg_spans:
        return html_spans
    wrappers = [s for s in ssg_spans if s.flavor is not None]
    w_starts = [w.start for w in wrappers]
    kept: list[EmbedSpan] = []
    for h in html_spans:
        i = bisect.bisect_right(w_starts, h.start) - 1
        if i < 0 or h.end > wrappers[i].end:  # not inside our own wrapper
            kept.append(h)
    k_starts = [h.start for h in kept]
    out = list(kept)
    for s in ssg_spans:
        i = bisect.bisect_left(k_starts, s.end) - 1  # the last kept span starting before s ends
        if s.flavor is not None or i < 0 or kept[i].end <= s.start:
            out.append(s)
    out.sort(key=lambda e: e.start)
    return out
