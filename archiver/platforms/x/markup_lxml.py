"""The fast path of the markup scraper: the same fields as ``markup.py``, read with lxml.

BeautifulSoup (html.parser) stays the reference. This path parses the fragment with
libxml2 (about 5x faster on the embed fragments we see) and then reads exactly what the
BeautifulSoup path reads, from the same tree. The two parsers only build the same tree on
markup that is plain and well nested, so ``fast_tree`` refuses (returns None) anything it
is not sure of, and the caller runs the BeautifulSoup path instead. The rule, checked on
the raw fragment before and after parsing:

* only ASCII tag names outside ``_REFUSED_TAGS`` (elements either parser rebuilds or reads
  differently: raw text, tables, forms, ruby, foreign content, document structure);
* strictly nested markup: every non-void element closed by its own end tag, no end tag
  for a void element, no ``<x/>`` on a non-void element, well-formed attributes;
* no construct the two tokenizers read differently: ``<!`` other than a plain comment,
  ``<?``, ``</`` without a name, ``--!>``, NUL, CR and other control characters,
  character references other than HTML 4 names and plain numeric code points, raw text
  (script, style, iframe) holding a ``<``, archived embeds (``data-archived-post``);
* after parsing, libxml2's tree has exactly the elements, comments and texts of the
  source, in source order (so it moved, dropped or added nothing).

The rule was checked against libxml2 2.14 (lxml 6), whose tokenizer follows HTML5;
with an older libxml2 the fast path stays off.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.entities import name2codepoint
from typing import Any, TypeAlias

from lxml import etree

from archiver.snapshot.sanitize import (
    _BLOCKS,
    _DROP_WITH_CONTENT,
    _render,
    _Token,
    safe_http_url,
    strip_tracking_params,
)

__all__ = ["FastNode", "fast_tree", "get_text", "html_and_text", "strings_before"]

# An lxml element. lxml ships no type hints (lxml-stubs is a separate project), so
# the alias only documents what the functions take.
FastNode: TypeAlias = Any

_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
# Raw text in libxml2 (HTML5) but markup for html.parser, or raw text in both: accepted
# only when their content has no "<", so both read the same single text.
_RAW_TEXT = frozenset({"script", "style", "iframe"})
_REFUSED_TAGS = frozenset(
    {
        # document structure: libxml2 merges them into its own html/head/body
        "html",
        "head",
        "body",
        "frameset",
        "frame",
        # RCDATA / raw text / plaintext, or a leading newline dropped by HTML5 only
        "title",
        "textarea",
        "xmp",
        "plaintext",
        "noembed",
        "noframes",
        "noscript",
        "pre",
        "listing",
        # content models HTML5 repairs (foster parenting, implied elements)
        "table",
        "caption",
        "colgroup",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "td",
        "th",
        "form",
        "select",
        "option",
        "optgroup",
        "button",
        "image",
        "isindex",
        # bs4 keeps their text out of get_text() (its own string classes)
        "template",
        "ruby",
        "rt",
        "rp",
        # foreign content
        "svg",
        "math",
    }
)

# One token of the source: a comment, a start or end tag, or anything else starting
# with "<!", "<?" or "</" (refused). A lone "<" before a non-letter is text in both.
_TOKEN_RE = re.compile(
    r"""
    <!--(?P<comment>.*?)-->
    | <(?P<end>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>[^>]*)>
    | (?P<odd><[!?/])
    """,
    re.S | re.X,
)
# The attributes of a start tag, strictly: quoted or plain unquoted values only.
_ATTRS_RE = re.compile(
    r"""
    (?:[ \t\n\f]+[A-Za-z_:][-A-Za-z0-9_:.]*                      # name
       (?:[ \t\n\f]*=[ \t\n\f]*(?:"[^"]*"|'[^']*'|[^ \t\n\f"'=<>`]+))?  # value
    )*
    [ \t\n\f]*/?\Z
    """,
    re.X,
)
# Control characters (other than tab, newline, form feed), CR and NUL, and comment
# forms the tokenizers end differently.
_BAD_CHARS_RE = re.compile(r"[\x00-\x08\x0b\r\x0e-\x1f\x7f]")
_BAD_COMMENTS = ("--!>", "<!-->", "<!--->")
# Every "&": a reference both parsers decode alike, or one that is plainly not a reference.
_AMP_RE = re.compile(
    r"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|([A-Za-z][A-Za-z0-9]{0,31});|(?![A-Za-z0-9#]))"
)
_ENTITY_NAMES = frozenset(name2codepoint) | {"apos"}


def _safe_references(markup: str) -> bool:
    """True if every ``&`` in ``markup`` is read the same way by html.parser and libxml2."""
    start = 0
    while (amp := markup.find("&", start)) >= 0:
        m = _AMP_RE.match(markup, amp)
        if m is None:
            return False
        ref = m.group(0)
        if ref.startswith("&#"):
            digits = ref[2:-1]
            cp = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
            # Plain code points only: the C1 range, surrogates, NUL and controls are
            # remapped or replaced by rules the two parsers do not share.
            if not (0x20 <= cp < 0x7F or 0xA0 <= cp < 0xD800 or 0xE000 <= cp < 0xFDD0) and not (
                0xFDF0 <= cp <= 0x10FFFF and cp & 0xFFFE != 0xFFFE
            ):
                return False
        elif m.group(1) is not None and m.group(1) not in _ENTITY_NAMES:
            return False
        start = amp + 1
    return True


# Events compared between the source and the parsed tree.
_Event = tuple[str, str]


def _unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


_RAW_CLOSE = {name: re.compile(rf"</{name}[ \t\n\f]*>", re.I) for name in _RAW_TEXT}


def _source_events(markup: str) -> list[_Event] | None:
    """The elements, comments and texts of ``markup`` as html.parser reads them, or None."""
    events: list[_Event] = []
    stack: list[str] = []
    pos = 0
    text = ""  # pending text: html.parser (and bs4) join adjacent data into one string
    for m in _TOKEN_RE.finditer(markup):
        start = m.start()
        if start < pos:
            continue  # inside raw text already consumed
        if start > pos:
            text += _unescape(markup[pos:start])
        pos = m.end()
        comment, end, name, attrs, odd = m.groups()
        if odd is not None:
            return None
        if text:
            events.append(("t", text))
            text = ""
        if comment is not None:
            events.append(("c", ""))
            continue
        name = name.lower()
        if name in _REFUSED_TAGS:
            return None
        if end:
            if name in _VOID or not stack or stack.pop() != name or attrs.strip():
                return None
            events.append(("e", name))
            continue
        if not _ATTRS_RE.match(attrs):
            return None
        events.append(("s", name))
        if name in _VOID:
            events.append(("e", name))
            continue
        if attrs.endswith("/"):
            return None  # <div/>: html.parser closes it, HTML5 does not
        if name in _RAW_TEXT:
            close = _RAW_CLOSE[name].search(markup, pos)
            if close is None:
                return None
            content = markup[pos : close.start()]
            # Raw text is not unescaped by libxml2; an iframe's is by html.parser.
            if "<" in content or (name == "iframe" and "&" in content):
                return None
            if content:
                events.append(("t", content))
            events.append(("e", name))
            pos = close.end()
            continue
        stack.append(name)
    if pos < len(markup):
        text += _unescape(markup[pos:])
    if text:
        events.append(("t", text))
    return events if not stack else None


def _tree_events(root: FastNode) -> list[_Event]:
    """The same events for the content of ``root`` as parsed by libxml2."""
    events: list[_Event] = []

    def add_text(s: str | None) -> None:
        if s:
            if events and events[-1][0] == "t":
                events[-1] = ("t", events[-1][1] + s)
            else:
                events.append(("t", s))

    def walk(el: FastNode) -> None:
        add_text(el.text)
        for child in el:
            if isinstance(child.tag, str):
                events.append(("s", child.tag))
                walk(child)
                events.append(("e", child.tag))
            else:
                events.append(("c", ""))  # comments (PIs and others never pass the checks)
            add_text(child.tail)

    walk(root)
    return events


_PARSER = etree.HTMLParser(no_network=True, remove_comments=False, remove_pis=False)


# Older libxml2 tokenizers decode references and comments by pre-HTML5 rules.
_ENABLED = etree.LIBXML_VERSION >= (2, 14)


def fast_tree(markup: str) -> FastNode | None:
    """Parse ``markup`` with libxml2 into a wrapper element, or None if unsure (see module)."""
    if not _ENABLED:
        return None
    if _BAD_CHARS_RE.search(markup) or "data-archived-post" in markup:
        return None
    if "<!-" in markup and any(bad in markup for bad in _BAD_COMMENTS):
        return None
    if not _safe_references(markup):
        return None
    expected = _source_events(markup)
    if expected is None:
        return None
    try:
        doc = etree.fromstring(f"<div>{markup}</div>", _PARSER)
    except (etree.ParserError, ValueError):  # e.g. lone surrogates from a lenient decode
        return None
    if doc is None:
        return None
    body = doc.find("body")
    if body is None or len(body) != 1 or body.text or body[0].tail:
        return None
    wrapper = body[0]
    if _tree_events(wrapper) != expected:
        return None
    return wrapper


def _tokens(node: FastNode, in_link: bool = False) -> Iterator[_Token]:
    """``sanitize._tokens`` for an lxml element: the allow-listed structure of its content."""
    if node.text:
        yield ("text", node.text)
    for child in node:
        name = child.tag
        if isinstance(name, str):
            name = name.lower()
            if name in _DROP_WITH_CONTENT:
                pass
            elif name == "br":
                yield ("br", "")
            elif name == "img":
                alt = child.get("alt")
                if alt:
                    yield ("text", alt)
            elif name == "a" and not in_link:
                href = child.get("href")
                safe = safe_http_url(strip_tracking_params(href)) if href is not None else None
                if safe:
                    yield ("a", safe)
                    yield from _tokens(child, in_link=True)
                    yield ("/a", "")
                else:
                    yield from _tokens(child, in_link=in_link)
            elif name in _BLOCKS:
                yield ("blk", "")
                yield from _tokens(child, in_link=in_link)
                yield ("blk", "")
            else:
                yield from _tokens(child, in_link=in_link)
        if child.tail:
            yield ("text", child.tail)


def html_and_text(node: FastNode) -> tuple[str, str]:
    """``(sanitize_post_html(node), html_to_text(node))`` of the bs4 path, in one walk."""
    return _render(_tokens(node), rel=None)


_NO_TEXT = frozenset({"script", "style"})


def get_text(node: FastNode, separator: str) -> str:
    """bs4's ``Tag.get_text(separator)``: every text inside, not script or style content."""
    parts: list[str] = []

    def walk(el: FastNode) -> None:
        if el.text and el.tag not in _NO_TEXT:
            parts.append(el.text)
        for child in el:
            if isinstance(child.tag, str) and child.tag not in _NO_TEXT:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(node)
    return separator.join(parts)


def strings_before(root: FastNode, stop: FastNode, skip: FastNode | None) -> str:
    """``markup._strings_before`` for lxml: text of ``root`` up to ``stop``, without ``skip``."""
    parts: list[str] = []

    def walk(el: FastNode, hidden: bool) -> bool:
        """Collect text under ``el``; True once ``stop`` is reached."""
        # ``hidden``: inside ``skip`` or inside script/style, whose text is not the line's.
        if el.text and not hidden:
            parts.append(el.text)
        for child in el:
            if child is stop:
                return True
            if isinstance(child.tag, str) and walk(
                child, hidden or child is skip or child.tag in _NO_TEXT
            ):
                return True
            if child.tail and not hidden:
                parts.append(child.tail)
        return False

    walk(root, root is skip or root.tag in _NO_TEXT)
    return "".join(parts)
