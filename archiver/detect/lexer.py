"""The byte lexer's building blocks: what any embed form needs, whatever its platform.

The input is *scan bytes* (see ``archiver.encoding``): any ASCII-compatible charset,
never decoded as a whole. The lexer (``archiver.detect``) finds only the tokens that
matter; this module holds the pieces it is built from:

* comments (HTML5 rules: ``<!-->``, ``<!--->``, closed by ``-->`` or ``--!>``; an unclosed
  comment runs to EOF) and CDATA sections;
* raw-text elements, whose content is skipped: script (with the HTML5 escaped /
  double-escaped states), style, textarea, title, xmp, noscript, noembed, noframes,
  iframe, plaintext (to EOF), and template (inert content, nesting counted);
* start tags, with their attributes parsed (HTML5: case-insensitive names, any quoting,
  ``>`` inside quoted values, first duplicate wins);
* Markdown fenced code blocks, a following loader ``<script src=…>``, and the state one
  ``find_embeds`` call keeps (remembered searches, the deadline).

No platform is known here. The content walk (nested elements, links) is in ``walk``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Final

from archiver.errors import DetectionTimeout

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


# Content lexers by element name. Containers that can hold a post's links lex ``<a``
# tags; the others (figure, template) only count nesting. Other elements a recogniser
# names get theirs when the top-level lexer for them is built (``inner_lexer``), so
# the content walk, which asks for one at every token, only subscripts this dict.
_INNER: Final[dict[bytes, re.Pattern[bytes]]] = {
    b"blockquote": _inner_re(b"blockquote", anchors=True),
    b"amp-twitter": _inner_re(b"amp-twitter", anchors=True),
    b"figure": _inner_re(b"figure", anchors=False),
    b"template": _inner_re(b"template", anchors=False),
}


def inner_lexer(name: bytes) -> re.Pattern[bytes]:
    """The content lexer of element ``name`` (built once per name)."""
    rx = _INNER.get(name)
    if rx is None:
        rx = _INNER[name] = _inner_re(name, anchors=True)
    return rx


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

# wrapped in ``<p>…</p>`` by wpautop.
_FOLLOW_SCRIPT_RE: Final = re.compile(rb"\s*+(<(?i:p)\s*+>\s*+)?<(?i:script)(?=[\s/>])")
_P_CLOSE_RE: Final = re.compile(rb"\s*+</(?i:p)\s*+>")
_SCRIPT_SRC_ATTRS: Final = (b"src", b"data-cmp-src", b"data-src")

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


def _following_script(data: bytes, pos: int, limit: int, src_re: re.Pattern[bytes]) -> int | None:
    """End of a loader ``<script>`` directly after ``pos`` (whitespace between), or None.

    Also takes wpautop's ``<p><script …></script></p>`` (then the ``</p>`` is included).
    The script counts if ``src`` (or a consent manager's ``data-cmp-src`` / ``data-src``)
    matches ``src_re`` (for X: widgets.js on platform.twitter.com / platform.x.com, or a
    local copy).
    """
    m = _FOLLOW_SCRIPT_RE.match(data, pos, limit)
    if m is None:
        return None
    tag = _parse_tag(data, m.start(), m.end(), limit)
    if tag is None:
        return None
    if not any(src_re.match(tag.attrs[attr]) for attr in _SCRIPT_SRC_ATTRS if attr in tag.attrs):
        return None
    close = _script_close(data, tag.end, limit)
    if close is None or not data.startswith(b">", close[1] - 1):
        return None  # no end tag, or one cut off by the end of the page: leave it alone
    end = close[1]
    if m.group(1):
        p = _P_CLOSE_RE.match(data, end, limit)
        if p is None:
            return None  # "<p>" without its "</p>": leave the script alone
        end = p.end()
    return end


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
