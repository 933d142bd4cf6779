"""Scrape what an embed's own markup says about a post.

This is the snapshot every embed gets, before (and whether or not) the network is
reachable. It only reads the fragment it is given (the exact bytes of the embed span,
decoded); detection and span boundaries are the detect module's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup
from bs4.element import Comment, NavigableString, PageElement, Tag

from archiver.models import (
    FORM_ARCHIVED,
    SOURCE_ARCHIVED_COPY,
    SOURCE_MARKUP,
    STATUS_UNKNOWN,
    EmbedSpan,
    PostSnapshot,
)
from archiver.platforms.x import markup_lxml
from archiver.platforms.x.markup_lxml import FastNode
from archiver.platforms.x.snowflake import created_at_from_id, parse_date_text
from archiver.platforms.x.urls import STATUS_CORE, canonical_status_url
from archiver.snapshot.sanitize import (
    html_to_text,
    parse_fragment,
    sanitize_post_html,
    text_to_html,
)

__all__ = ["STATUS_URL_RE", "canonical_url", "snapshot_from_markup"]

# A status permalink, on any host form X has used: X's one URL grammar
# (``archiver.platforms.x.urls``), matched on raw attribute values and raw text, hence
# the explicit ``//`` and ``&`` in the lookahead.
STATUS_URL_RE = re.compile(
    r"(?:https?:)?//" + STATUS_CORE + r"(?:/(?:photo|video)/[0-9]+)?" + r"""(?=[/?#"'<\s&\\]|$)""",
    re.I,
)

# The author in the attribution line: the last "(@handle)".
_ATTRIBUTION_HANDLE = re.compile(r"\(\s*@([A-Za-z0-9_]{1,15})\s*\)")
# The dash that opens the attribution; all entity spellings decode to U+2014.
_DASH = "\u2014"
# JSX-ified embeds write spaces as {" "} (mdx_tweet_03).
_JSX_SPACE = re.compile(r"""\{\s*(["'])[ ]?\1\s*\}""")
_JSX_CLASSNAME = re.compile(r"<blockquote\b[^>]*\sclassName\s*=")
_WS = re.compile(r"[ \t\n\r\f]+")


@dataclass
class _Permalink:
    handle: str | None
    post_id: str
    tag: Tag | None


def canonical_url(post_id: str, handle: str | None) -> str:
    """``https://x.com/HANDLE/status/ID``, or ``https://x.com/i/status/ID`` without a handle."""
    return canonical_status_url(handle, post_id)


def _handle_of(m: re.Match[str]) -> str | None:
    h = m.group("handle")
    # The handle alternative also matches the literal "i" of /i/status/ID.
    if not h or h.lower() == "i":
        return None
    return h


def _attr(tag: Tag, name: str) -> str | None:
    v = tag.get(name)
    if isinstance(v, list):  # multi-valued attributes (class) come back as lists
        return " ".join(v)
    return v


def _collapse(s: str) -> str:
    return _WS.sub(" ", s).strip()


def _find_permalink(root: Tag, post_id: str) -> _Permalink | None:
    """The last status ``<a>`` in ``root``, preferring one that links to ``post_id``.

    Earlier status links can be part of the text (replies, quoted links); the
    permalink that closes the attribution is last.
    """
    best: _Permalink | None = None
    for a in root.find_all("a"):
        href = _attr(a, "href")
        if not href:
            continue
        m = STATUS_URL_RE.search(href)
        if not m:
            continue
        found = _Permalink(_handle_of(m), m.group("id"), a)
        if found.post_id == post_id or best is None or best.post_id != post_id:
            best = found
    return best


def _scan_handle(fragment: str, post_id: str) -> str | None:
    """A handle from any status URL for ``post_id`` in the raw fragment (WP blocks, bare URLs)."""
    for m in STATUS_URL_RE.finditer(fragment):
        if m.group("id") == post_id:
            h = _handle_of(m)
            if h:
                return h
    return None


def _strings_before(root: Tag, stop: PageElement, skip: Tag | None) -> str:
    """Text of ``root`` in document order up to ``stop``, leaving out ``skip``'s subtree."""
    parts: list[str] = []
    for el in root.descendants:
        if el is stop:
            break
        if not isinstance(el, NavigableString) or isinstance(el, Comment):
            continue
        # Identity, not ``in``: bs4 tags compare equal by content.
        if skip is not None and any(par is skip for par in el.parents):
            continue
        if any(par.name in ("script", "style") for par in el.parents):
            continue
        parts.append(str(el))
    return "".join(parts)


def _text_paragraph(bq: Tag, permalink: Tag | None) -> Tag | None:
    """The first ``<p>`` of the blockquote, unless it is the attribution line itself."""
    p = bq.find("p")
    if not isinstance(p, Tag):
        return None
    if permalink is not None and any(par is p for par in permalink.parents):
        return None  # wpautop'd attribution only, no text paragraph
    return p


def _lang_dir(p: Tag) -> tuple[str | None, str | None]:
    return _clean_lang_dir(_attr(p, "lang") or _attr(p, "xml:lang"), _attr(p, "dir"))


def _clean_lang_dir(lang: str | None, d: str | None) -> tuple[str | None, str | None]:
    lang = lang.strip() if lang else None
    d = d.strip().lower() if d else None
    return (lang or None), (d if d in ("ltr", "rtl", "auto") else None)


def _archived_snapshot(span: EmbedSpan, soup: BeautifulSoup, fragment: str) -> PostSnapshot:
    """Read a post back from our own stable embed (see templates/embed.html.j2).

    The archive normally holds the post already and storage ignores this
    snapshot; it matters when the archive was lost, so that a rescan of rewritten
    articles rebuilds the post instead of rendering an empty one.
    """
    handle = None
    perm = _find_permalink(soup, span.post_id)
    if perm is not None and perm.post_id == span.post_id:
        handle = perm.handle
    handle = handle or span.handle or _span_url_handle(span)
    snap = PostSnapshot(
        post_id=span.post_id,
        platform=span.platform,
        url=canonical_url(span.post_id, handle),
        author_handle=handle,
        status=STATUS_UNKNOWN,
        source=SOURCE_ARCHIVED_COPY,
        raw=fragment,
    )
    block = soup.find(_is_archived_marker)
    if not isinstance(block, Tag):
        return snap
    # Direct children only: a nested quoted post has the same classes.
    text_p = block.find("p", class_="archived-post-text", recursive=False)
    # The card keeps the post's lang/dir on its text (older embeds: on the blockquote).
    has_lang = isinstance(text_p, Tag) and text_p.has_attr("lang")
    snap.lang, snap.dir = _lang_dir(text_p if has_lang and isinstance(text_p, Tag) else block)
    if isinstance(text_p, Tag):
        snap.text = html_to_text(text_p).strip() or None
        snap.html = sanitize_post_html(text_p) or None
    # The card's header (a div) holds the name, its footer the time; older embeds
    # had both in one <p class="archived-post-byline">.
    byline = block.find(class_="archived-post-byline", recursive=False)
    footer = block.find(class_="archived-post-footer", recursive=False)
    if isinstance(byline, Tag):
        name = byline.find(class_="archived-post-name")
        if isinstance(name, Tag):
            snap.author_name = _collapse(name.get_text()) or None
        when = byline.find("time")
        if when is None and isinstance(footer, Tag):
            when = footer.find("time")
        if isinstance(when, Tag):
            snap.date_text = _collapse(when.get_text()) or None
            stamp = when.get("datetime")
            if isinstance(stamp, str) and _ISO_MS.match(stamp):
                snap.created_at = stamp
    snap.created_at = created_at_from_id(span.post_id) or snap.created_at
    return snap


_ISO_MS = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")


def _is_archived_marker(tag: Tag) -> bool:
    return tag.has_attr("data-archived-post")


def _span_url_handle(span: EmbedSpan) -> str | None:
    if not span.url:
        return None
    m = STATUS_URL_RE.search(span.url)
    return _handle_of(m) if m and m.group("id") == span.post_id else None


def snapshot_from_markup(span: EmbedSpan, fragment: str, *, fast: bool = True) -> PostSnapshot:
    """Build a ``PostSnapshot`` from the decoded markup of one embed span.

    Handles the widget blockquote (with its script), ``amp-twitter`` (with or without
    a placeholder blockquote), rendered iframes, WordPress embed blocks and figures,
    JSX-ified blockquotes, and our own archived embed (``data-archived-post``: only
    id, url and handle are returned, text stays None). Whatever the markup does not
    carry stays None. ``span.post_id`` always wins over ids in the markup.

    Plain, well-nested markup is read with lxml (``markup_lxml``), anything else with
    BeautifulSoup; both give the same snapshot. ``fast=False`` forces BeautifulSoup,
    the reference the tests compare the fast path with.
    """
    # JSX-ified embeds (mdx_tweet_03) write inter-element spaces as {" "}; drop them
    # before parsing so they do not end up in names and text. ``raw`` stays verbatim.
    markup = fragment
    if _JSX_CLASSNAME.search(fragment):
        markup = _JSX_SPACE.sub(" ", fragment)
    post_id = span.post_id
    snap = PostSnapshot(
        post_id=post_id,
        platform=span.platform,
        status=STATUS_UNKNOWN,
        source=SOURCE_MARKUP,
        raw=fragment,
    )
    # The fast path (lxml) reads the same fields from the same tree; it refuses markup
    # the two parsers might read differently (see markup_lxml), and bs4 runs instead.
    wrapper = markup_lxml.fast_tree(markup) if fast and span.form != FORM_ARCHIVED else None
    if wrapper is not None:
        url_handle, attr_handle = _fill_fast(snap, wrapper)
    else:
        soup = parse_fragment(markup)
        if span.form == FORM_ARCHIVED or soup.find(_is_archived_marker) is not None:
            return _archived_snapshot(span, soup, fragment)
        url_handle, attr_handle = _fill_bs4(snap, soup)
    return _finish(snap, span, fragment, url_handle, attr_handle)


def _fill_bs4(snap: PostSnapshot, soup: BeautifulSoup) -> tuple[str | None, str | None]:
    """Fill text, html, lang, dir, name and date from a bs4 tree.

    Returns the handles of the permalink URL and of the attribution line.
    """
    post_id = snap.post_id
    bq = soup.find("blockquote")
    url_handle: str | None = None
    attr_handle: str | None = None
    if isinstance(bq, Tag):
        perm = _find_permalink(bq, post_id)
        perm_tag = perm.tag if perm is not None else None
        if perm is not None and perm.post_id == post_id:
            url_handle = perm.handle
        p = _text_paragraph(bq, perm_tag)

        if p is not None:
            snap.lang, snap.dir = _lang_dir(p)
            text = html_to_text(p)
            text = "\n".join(_collapse(line) for line in text.split("\n")).strip()
            if text:
                snap.text = text
                snap.html = sanitize_post_html(p)

        if perm_tag is not None:
            before = _strings_before(bq, perm_tag, p)
            attr_handle = _attribution(snap, before, p is None, perm_tag.get_text(" "))
    return url_handle, attr_handle


def _fill_fast(snap: PostSnapshot, wrapper: FastNode) -> tuple[str | None, str | None]:
    """``_fill_bs4`` on the lxml tree of ``markup_lxml.fast_tree``, step for step."""
    post_id = snap.post_id
    bq = next(wrapper.iter("blockquote"), None)
    url_handle: str | None = None
    attr_handle: str | None = None
    if bq is None:
        return url_handle, attr_handle
    # _find_permalink: the last status link, preferring one to post_id.
    perm_tag: FastNode | None = None
    perm_id: str | None = None
    perm_handle: str | None = None
    for a in bq.iter("a"):
        href = a.get("href")
        m = STATUS_URL_RE.search(href) if href else None
        if m is None:
            continue
        if m.group("id") == post_id or perm_tag is None or perm_id != post_id:
            perm_tag, perm_id, perm_handle = a, m.group("id"), _handle_of(m)
    if perm_id == post_id:
        url_handle = perm_handle
    # _text_paragraph: the first <p>, unless the permalink sits inside it.
    p = next(bq.iter("p"), None)
    if p is not None and perm_tag is not None and any(par is p for par in perm_tag.iterancestors()):
        p = None
    if p is not None:
        lang = p.get("lang") or p.get("xml:lang")
        d = p.get("dir")
        snap.lang, snap.dir = _clean_lang_dir(lang, d)
        post_html, text = markup_lxml.html_and_text(p)
        text = "\n".join(_collapse(line) for line in text.split("\n")).strip()
        if text:
            snap.text = text
            snap.html = post_html
    if perm_tag is not None:
        before = markup_lxml.strings_before(bq, perm_tag, p)
        attr_handle = _attribution(snap, before, p is None, markup_lxml.get_text(perm_tag, " "))
    return url_handle, attr_handle


def _attribution(snap: PostSnapshot, before: str, no_paragraph: bool, link_text: str) -> str | None:
    """Name (and loose text) from the attribution line before the permalink; its handle."""
    attr_handle: str | None = None
    matches = list(_ATTRIBUTION_HANDLE.finditer(before))
    if matches:
        last = matches[-1]
        attr_handle = last.group(1)
        dash = before.rfind(_DASH, 0, last.start())
        if dash >= 0:
            name = _collapse(before[dash + 1 : last.start()])
            snap.author_name = name or None
            if no_paragraph and snap.text is None:
                # Old embeds without a <p>: the text runs up to the dash.
                loose = _collapse(before[:dash])
                if loose:
                    snap.text = loose
                    snap.html = text_to_html(loose)
    date_text = _collapse(link_text)
    # Only call the anchor text a date when it sits in an attribution line:
    # otherwise it is a site's placeholder ("Tweet may have been deleted").
    if date_text and (matches or parse_date_text(date_text)):
        snap.date_text = date_text
    return attr_handle


def _finish(
    snap: PostSnapshot,
    span: EmbedSpan,
    fragment: str,
    url_handle: str | None,
    attr_handle: str | None,
) -> PostSnapshot:
    """Handle, canonical url and creation time, shared by both paths."""
    post_id = snap.post_id
    url_handle = (
        url_handle or span.handle or _span_url_handle(span) or _scan_handle(fragment, post_id)
    )
    snap.author_handle = attr_handle or url_handle
    snap.url = canonical_url(post_id, url_handle or attr_handle)
    snap.created_at = created_at_from_id(post_id)
    if snap.created_at is None and snap.date_text:
        snap.created_at = parse_date_text(snap.date_text)
    return snap
