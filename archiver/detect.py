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

import html
import json
import re
from dataclasses import dataclass
from typing import Final

from archiver.models import (
    FORM_AMP,
    FORM_ARCHIVED,
    FORM_BLOCKQUOTE,
    FORM_IFRAME,
    FORM_WP_BLOCK,
    PLATFORM_X,
    EmbedSpan,
)

__all__ = [
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
    r"(?:(?:www|mobile|m)\.)?(?:twitter|x)\.com/"
    r"(?:#!/)?"
    r"(?:i(?:/web)?(?=/status)|(?P<handle>[A-Za-z0-9_]{1,15}))"
    r"/status(?:es)?/(?P<id>[0-9]{1,19})"
    r"(?:/(?:photo|video)/[0-9]+)?"
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
    raw_handle = m.group("handle")
    handle = raw_handle.decode("ascii") if raw_handle is not None else None
    if handle is not None and handle.lower() in _RESERVED_HANDLES:
        return None
    # An href is the URL as written; in text, only the matched URL itself.
    url = value.strip().decode("utf-8", "replace") if anchored else m.group().decode("ascii")
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


def might_contain_embeds(data: bytes) -> bool:
    """Fast prefilter: False means ``find_embeds(data)`` finds nothing.

    Plain substring tests for the markers every embed form carries: class names
    (twitter-tweet, twitter-video, wp-block-embed-twitter/-x), ``amp-twitter``,
    ``data-tweet-id``, ``data-archived-post``, ``platform.twitter.com/embed`` and
    ``platform.x.com/embed``, and Gutenberg ``wp:embed`` / ``wp:core-embed/twitter``
    block comments.  All-capitals spellings containing ``TWITTER`` (``<AMP-TWITTER``,
    ``TWITTER-TWEET``) are caught too; mixed-case ones such as ``Twitter-Tweet`` are not.
    """
    if _has_marker(data):
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
# ``wp-block-embed-``; Python then checks the class properly.  ``div`` is not a token at
# all: the rendered-widget wrapper div is found backwards from its iframe.
_MAIN_RE: Final = re.compile(
    rb"<(?=[!sStTxXnNiIpPbBaAfF])(?:(!--)|(!\[CDATA\[)|(?i:("
    + b"|".join(_SKIPPED)
    + rb"|blockquote|amp-twitter"
    + rb"|figure(?=[\s/>])(?=[^>]*wp-block-embed-|[^<]*wp-block-embed-)"
    + rb")(?=[\s/>])))"
)


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


# Results of ``_find_close`` for elements whose end was already worked out while
# scanning an unclosed ancestor, keyed by (name, content start, limit).  Without it, a
# page of N unclosed tweet blockquotes would be rescanned to EOF N times.
_CloseCache = dict[tuple[bytes, int, int], "_Close | None"]


def _skip(data: bytes, name: bytes, name_end: int, limit: int, cache: _CloseCache) -> int:
    """Where lexing resumes after a skipped element whose start tag's name ends at
    ``name_end``: after its end tag, or ``limit`` if it is unclosed (HTML5: the rest of
    the page is its text)."""
    fast = _RAW_ELEMENT.get(name)
    if fast is not None:
        whole = fast.match(data, name_end, limit)
        if whole is not None:
            return whole.end()
    tail = _TAG_TAIL_RE.match(data, name_end, limit)
    if tail is None or name == b"plaintext":
        return limit
    if name == b"template":
        inert = _find_close(data, name, tail.end(), limit, cache)
        return inert.end if inert is not None else limit
    close = _raw_close(data, name, tail.end(), limit)
    return close[1] if close is not None else limit


@dataclass
class _Close:
    """Where a container element ends, and the status links found inside it.

    The links are a range of a list shared by every element settled in one scan, so
    settling thousands of nested elements does not copy the list thousands of times.
    """

    start: int
    end: int
    shared_links: list[tuple[str | None, str, str]]
    first_link: int = 0
    end_link: int | None = None

    @property
    def links(self) -> list[tuple[str | None, str, str]]:
        return self.shared_links[self.first_link : self.end_link]


def _find_close(
    data: bytes,
    name: bytes,
    pos: int,
    limit: int,
    cache: _CloseCache,
    *,
    links: bool = False,
) -> _Close | None:
    """Find the end tag matching an element of ``name`` whose content starts at ``pos``.

    Nested same-name elements are counted; comments, CDATA and raw-text elements inside
    are skipped, so a ``</blockquote>`` in a comment or script does not count.  With
    ``links``, collects ``(handle, id, url)`` of every ``<a href>`` status link inside.
    None if the element is not closed before ``limit`` (never extend to EOF).
    """
    key = (name, pos, limit)
    if key in cache:
        return cache[key]
    rx = _INNER[name]
    found: list[tuple[str | None, str, str]] = []
    # Nested same-name elements: (content start, index into ``found`` at their start).
    # Used to settle them all at once if this element turns out to be unclosed.
    nested: list[tuple[int, int]] = []
    settled: dict[int, _Close] = {}
    while True:
        m = rx.search(data, pos, limit)
        if m is None:
            break
        if m.group(1):  # comment
            pos = _comment_end(data, m.end(), limit)[1]
        elif m.group(2):  # CDATA
            pos = _cdata_end(data, m.end(), limit)
        elif m.group(3):  # raw text / template / plaintext
            pos = _skip(data, m.group(3).lower(), m.end(), limit, cache)
        elif m.group(5):  # <name or </name
            if m.group(4):
                end = _end_tag_end(data, m.end(), limit)
                if not nested:
                    return _Close(m.start(), end, found)
                inner_start, first_link = nested.pop()
                settled[inner_start] = _Close(m.start(), end, found, first_link, len(found))
                pos = m.end()
            else:
                tail = _TAG_TAIL_RE.match(data, m.end(), limit)
                if tail is None:
                    break
                nested.append((tail.end(), len(found)))
                pos = tail.end()
        else:  # <a
            tail = _TAG_TAIL_RE.match(data, m.end(), limit)
            if tail is None:
                break
            pos = tail.end()
            # Most links in a post are t.co, hashtag and mention links: only parse the
            # attributes of tags that could hold a status URL.
            if data.find(b"tatus", m.end(), pos) < 0 and data.find(b"TATUS", m.end(), pos) < 0:
                continue
            tag = _parse_tag(data, m.start(), m.end(), limit)
            href = tag.attrs.get(b"href") if tag is not None else None
            if href:
                status = _status_from_bytes(href, anchored=True)
                if status is not None:
                    found.append(status)
    # Unclosed.  Every nested element met on the way is now settled too: a later scan
    # from its start would see exactly the same tokens.
    cache[key] = None
    for inner_start, close in settled.items():
        cache[(name, inner_start, limit)] = close
    for inner_start, _ in nested:
        cache[(name, inner_start, limit)] = None
    return None


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


def _scan(
    data: bytes,
    pos: int,
    limit: int,
    out: list[EmbedSpan],
    fences: list[tuple[int, int]],
    cache: _CloseCache,
) -> None:
    """Append the embeds in ``data[pos:limit]`` to ``out``, in document order."""
    fi = 0
    while True:
        floor = pos
        m = _MAIN_RE.search(data, pos, limit)
        if m is None:
            return
        start = m.start()
        if fences:
            while fi < len(fences) and fences[fi][1] <= start:
                fi += 1
            if fi < len(fences) and fences[fi][0] <= start:
                pos = fences[fi][1]
                continue

        if m.group(1):  # comment
            body_end, end = _comment_end(data, m.end(), limit)
            pos = end
            if data.startswith(b" wp:", m.end()) or data.startswith(b"wp:", m.end()):
                wp = _wp_comment_embed(data, m.end(), body_end)
                if wp is not None:
                    block, handle, post_id, url = wp
                    close = _WP_CLOSE_RE[block].search(data, end, limit)
                    if close is not None:
                        out.append(
                            EmbedSpan(
                                start, close.end(), FORM_WP_BLOCK, post_id, PLATFORM_X, handle, url
                            )
                        )
                        pos = close.end()
            continue
        if m.group(2):  # CDATA
            pos = _cdata_end(data, m.end(), limit)
            continue

        name = m.group(3).lower()
        if name not in _CANDIDATES:
            pos = _skip(data, name, m.end(), limit, cache)
            continue
        tag = _parse_tag(data, start, m.end(), limit)
        if tag is None:
            return  # EOF inside a tag: nothing more to find

        if name == b"blockquote":
            pos = _blockquote(data, tag, limit, out, cache)
        elif name == b"iframe":
            pos = _iframe(data, tag, floor, limit, out)
        elif name == b"amp-twitter":
            pos = _amp(data, tag, limit, out, cache)
        else:
            pos = _figure(data, tag, limit, out, fences, cache)


def _blockquote(
    data: bytes, tag: _Tag, limit: int, out: list[EmbedSpan], cache: _CloseCache
) -> int:
    """Handle a ``<blockquote>`` start tag; return where lexing resumes."""
    archived = tag.attrs.get(b"data-archived-post")
    archived_id = _ARCHIVED_RE.fullmatch(archived) if archived is not None else None
    if archived_id is None:
        classes = _classes(tag)
        if b"twitter-tweet" not in classes and b"twitter-video" not in classes:
            return tag.end
    close = _find_close(data, b"blockquote", tag.end, limit, cache, links=True)
    if close is None:
        return tag.end  # unclosed: not an embed, and never extended to EOF
    if archived_id is not None:
        post_id = archived_id.group(1).decode("ascii")
        own = [link for link in close.links if link[1] == post_id]
        handle, url = (own[-1][0], own[-1][2]) if own else (None, None)
        out.append(EmbedSpan(tag.start, close.end, FORM_ARCHIVED, post_id, PLATFORM_X, handle, url))
        return close.end
    if not close.links:
        return tag.end  # e.g. only a profile link: not a post
    handle, post_id, url = close.links[-1]  # the permalink is the last status link
    end = _following_script(data, close.end, limit) or close.end
    out.append(EmbedSpan(tag.start, end, FORM_BLOCKQUOTE, post_id, PLATFORM_X, handle, url))
    return end


def _amp(data: bytes, tag: _Tag, limit: int, out: list[EmbedSpan], cache: _CloseCache) -> int:
    """Handle ``<amp-twitter>``: the whole element, placeholder blockquote included."""
    close = _find_close(data, b"amp-twitter", tag.end, limit, cache, links=True)
    if close is None:
        return tag.end
    raw_id = tag.attrs.get(b"data-tweetid")  # "[data-tweetid]" (amp-bind) is another name
    m = _DIGITS_RE.fullmatch(raw_id) if raw_id is not None else None
    if m is not None:
        post_id = m.group(1).decode("ascii")
        own = [link for link in close.links if link[1] == post_id]
        handle, url = (own[-1][0], own[-1][2]) if own else (None, None)
        out.append(EmbedSpan(tag.start, close.end, FORM_AMP, post_id, PLATFORM_X, handle, url))
    # Without a literal id the element is bound at runtime; its placeholder is not ours
    # to rewrite either, so the whole element is skipped.
    return close.end


def _figure(
    data: bytes,
    tag: _Tag,
    limit: int,
    out: list[EmbedSpan],
    fences: list[tuple[int, int]],
    cache: _CloseCache,
) -> int:
    """Handle a rendered Gutenberg embed ``<figure class="wp-block-embed-twitter …">``."""
    classes = _classes(tag)
    if b"wp-block-embed-twitter" not in classes and b"wp-block-embed-x" not in classes:
        return tag.end
    close = _find_close(data, b"figure", tag.end, limit, cache)
    if close is None:
        return tag.end
    inner: list[EmbedSpan] = []
    _scan(data, tag.end, close.start, inner, fences, cache)
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
    caption = _FIGCAPTION_RE.search(data, tag.end, close.start)
    wrapper_end = caption.start() if caption is not None else close.start
    status = _status_from_bytes(data[tag.end : wrapper_end], anchored=False)
    if status is None:
        return close.end  # e.g. a timeline in a twitter embed block
    handle, post_id, url = status
    out.append(EmbedSpan(tag.start, close.end, FORM_WP_BLOCK, post_id, PLATFORM_X, handle, url))
    return close.end


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


def find_embeds(data: bytes, markdown: bool = False) -> list[EmbedSpan]:
    """Every embedded X post in ``data`` (scan bytes), in document order, non-overlapping.

    ``data[span.start:span.end]`` is the whole embed: a tweet blockquote through its
    ``</blockquote>`` plus a directly following widgets.js script; an ``<amp-twitter>``
    element; a rendered widget iframe (or its ``div.twitter-tweet-rendered`` wrapper); a
    Gutenberg embed block (comments included) or rendered ``figure``; or one of our own
    ``data-archived-post`` blockquotes.  Nothing inside comments, raw-text elements,
    ``<template>`` or escaped markup is reported.  With ``markdown=True``, fenced code
    blocks (``` and ~~~) are skipped too.
    """
    out: list[EmbedSpan] = []
    _scan(data, 0, len(data), out, _fences(data) if markdown else [], {})
    return out
