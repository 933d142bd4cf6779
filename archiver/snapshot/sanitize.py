"""Turn untrusted post markup into inert HTML and plain text.

Post text, names and links come from strangers and end up inside other people's
articles, so the allow-list is tiny: ``<a href>`` with an absolute http(s) URL and
``<br>``. Everything else is unwrapped (its text kept) or dropped with its content
(script, style, …). Text is escaped exactly once on output; entities are decoded
exactly once on input (by the parser), so nothing shows up double-escaped.

Shared by the markup scraper and the network snapshot modules: keep it free of
anything X-specific except the tracking-parameter list.
"""

from __future__ import annotations

import html
import re
import unicodedata
import warnings
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from bs4.element import (
    CData,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    PageElement,
    ProcessingInstruction,
    Tag,
)

__all__ = [
    "html_to_text",
    "parse_fragment",
    "safe_http_url",
    "sanitize_post_html",
    "strip_tracking_params",
    "text_to_html",
]

# Elements whose content is never post text.
_DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "textarea",
        "select",
        "title",
        "head",
    }
)
# Block elements become line breaks so that paragraphs do not run together.
_BLOCKS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
# Non-text node types (comments, CDATA, doctype…) are dropped.
_SKIP_STRINGS = (Comment, CData, Declaration, Doctype, ProcessingInstruction)

# HTML's own whitespace: collapsing NBSP or the ideographic space would change text.
_HTML_WS = re.compile(r"[ \t\n\r\f]+")
_WS_SPLIT = re.compile(r"([ \t\n\r\f]+)")
# Characters that never belong in a URL we emit: quotes and angle brackets would
# only matter if escaping failed, backslash is read as "/" by browsers, backtick
# was an old IE attribute delimiter.
_BAD_URL_CHARS = frozenset('"<>\\`')

# Query parameters that only track where a click came from.
_TRACKING_PARAMS = frozenset({"ref_src", "ref_url"})
# On X's own hosts these are share/UI parameters, not part of the resource;
# elsewhere (``t=`` on YouTube, ``lang=``) they may matter, so they stay.
_X_TRACKING_PARAMS = frozenset({"s", "t", "lang", "ref_src", "ref_url"})
_X_HOSTS = frozenset(
    {
        "twitter.com",
        "www.twitter.com",
        "mobile.twitter.com",
        "m.twitter.com",
        "x.com",
        "www.x.com",
        "mobile.x.com",
    }
)


@lru_cache(maxsize=8192)
def safe_http_url(url: str | None) -> str | None:
    """Return ``url`` if it is an absolute http(s) URL safe to put in ``href``/``src``.

    Cached: rendering checks the same few URLs of a post many times.

    Rejected (None): other schemes (``javascript:``, ``data:``, ``vbscript:`` …),
    relative or protocol-relative URLs, credentials (``user:pw@``), missing host,
    and any whitespace or control character inside (browsers strip tabs and newlines
    from URLs, which is how ``java&#x09;script:`` sneaks past naive checks).
    Surrounding ASCII whitespace, common in pretty-printed markup, is trimmed first.
    The scheme is returned in lower case.
    """
    if url is None or not isinstance(url, str):
        return None
    s = url.strip(" \t\n\r\f")
    if not s or len(s) > 8192:
        return None
    for ch in s:
        if ch in _BAD_URL_CHARS or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
            return None
    lower = s[:8].lower()
    if not (lower.startswith("http://") or lower.startswith("https://")):
        return None
    try:
        parts = urlsplit(s)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if "@" in parts.netloc:  # credentials, or a host-confusion trick
        return None
    return parts.scheme.lower() + s[len(parts.scheme) :]


def strip_tracking_params(url: str) -> str:
    """Drop click-tracking query parameters (``?ref_src=twsrc%5Etfw`` …) from ``url``.

    Remaining parameters keep their original encoding and order.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    host = (parts.hostname or "").lower()
    drop = _X_TRACKING_PARAMS if host in _X_HOSTS else _TRACKING_PARAMS
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in drop]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))


# --- tokenising -------------------------------------------------------------------------

# Token kinds: ("text", s), ("br", ""), ("blk", "") (block boundary), ("a", href), ("/a", "").
_Token = tuple[str, str]


def parse_fragment(markup: str) -> BeautifulSoup:
    """Parse an HTML fragment the one way the snapshot code does (html.parser).

    Duplicate attributes keep the first value, as browsers do.
    """
    with warnings.catch_warnings():
        # A bare status URL is a legitimate fragment (WordPress auto-embeds); bs4
        # would warn that it "looks like a URL".
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(markup, "html.parser", on_duplicate_attribute="ignore")


def _as_node(fragment_or_tag: str | PageElement) -> PageElement:
    if isinstance(fragment_or_tag, str) and not isinstance(fragment_or_tag, NavigableString):
        return parse_fragment(fragment_or_tag)
    return fragment_or_tag


def _tokens(node: PageElement, in_link: bool = False) -> Iterator[_Token]:
    """Yield the allow-listed structure of ``node``'s content (not of ``node`` itself)."""
    if isinstance(node, NavigableString):
        if not isinstance(node, _SKIP_STRINGS):
            yield ("text", str(node))
        return
    if not isinstance(node, Tag):
        return
    for child in node.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, _SKIP_STRINGS):
                yield ("text", str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = (child.name or "").lower()
        if name in _DROP_WITH_CONTENT:
            continue
        if name == "br":
            yield ("br", "")
        elif name == "img":
            # Emoji are sometimes <img alt="😂">: keep what a reader would see.
            alt = child.get("alt")
            if isinstance(alt, str) and alt:
                yield ("text", alt)
        elif name == "a" and not in_link:
            href = child.get("href")
            safe = safe_http_url(strip_tracking_params(href)) if isinstance(href, str) else None
            if safe:
                yield ("a", safe)
                yield from _tokens(child, in_link=True)
                yield ("/a", "")
            else:  # unsafe or missing href: keep the visible text only
                yield from _tokens(child, in_link=in_link)
        elif name in _BLOCKS:
            yield ("blk", "")
            yield from _tokens(child, in_link=in_link)
            yield ("blk", "")
        else:
            yield from _tokens(child, in_link=in_link)


def _render(tokens: Iterator[_Token], *, rel: str | None) -> tuple[str, str]:
    """Collapse whitespace like a browser would and produce (html, text) together.

    Doing both from one token stream keeps ``text`` and ``html`` consistent.
    """
    h: list[str] = []
    t: list[str] = []
    pending_space = False
    pending_block = False
    line_start = True
    rel_attr = f' rel="{html.escape(rel)}"' if rel else ""
    link_start = -1
    link_has_text = False

    def separate() -> None:
        # Emit what must come before visible content: a paragraph gap or one space.
        nonlocal pending_space, pending_block, line_start
        if pending_block and t:
            tail = "".join(t[-2:])
            need = 0 if tail.endswith("\n\n") else 1 if tail.endswith("\n") else 2
            h.extend(["<br>"] * need)
            t.extend(["\n"] * need)
            line_start = True
        elif pending_space and not line_start:
            h.append(" ")
            t.append(" ")
        pending_space = False
        pending_block = False

    for kind, value in tokens:
        if kind == "text":
            for piece in _WS_SPLIT.split(value):
                if not piece:
                    continue
                if _HTML_WS.fullmatch(piece):
                    pending_space = True
                    continue
                separate()
                h.append(html.escape(piece, quote=False))
                t.append(piece)
                line_start = False
                link_has_text = True
        elif kind == "br":
            if not t:
                continue  # no leading breaks
            pending_block = False
            h.append("<br>")
            t.append("\n")
            pending_space = False
            line_start = True
        elif kind == "blk":
            pending_block = True
        elif kind == "a":
            separate()
            link_start = len(h)
            link_has_text = False
            h.append(f'<a href="{html.escape(value, quote=True)}"{rel_attr}>')
        elif kind == "/a":
            if link_start >= 0 and not link_has_text:
                del h[link_start:]  # an empty link shows nothing: drop it
            else:
                h.append("</a>")
            link_start = -1
    # Trailing breaks are layout noise, not content.
    # (A dropped empty link can leave the space that preceded it.)
    html_out = re.sub(r"(?:<br>)+$", "", "".join(h).rstrip(" "))
    text_out = "".join(t).rstrip(" ").rstrip("\n")
    return html_out, text_out


def sanitize_post_html(fragment_or_tag: str | PageElement, *, rel: str | None = None) -> str:
    """Sanitized HTML of a post's text: only ``<a href="http(s)…">`` and ``<br>``.

    Accepts a markup string (parsed with html.parser) or a BeautifulSoup node, whose
    *content* is sanitized (pass a ``<p>`` to get its inside). All text is escaped;
    unsafe links become plain text; tracking parameters are stripped from links;
    whitespace is collapsed as a browser would; block elements become ``<br>``.
    ``rel`` adds a ``rel`` attribute to every link (the renderer uses it).
    Idempotent: sanitizing the output again gives the same string.
    """
    return _render(_tokens(_as_node(fragment_or_tag)), rel=rel)[0]


def html_to_text(fragment_or_tag: str | PageElement) -> str:
    """Plain text of post markup: ``<br>`` → newline, entities decoded once, links as text."""
    return _render(_tokens(_as_node(fragment_or_tag)), rel=None)[1]


def text_to_html(text: str) -> str:
    """Escape plain text for HTML, keeping its line breaks as ``<br>``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(html.escape(line, quote=False) for line in lines)
