"""Find embedded posts in article bytes, with exact byte spans.

The input is *scan bytes* (see ``archiver.encoding``): any ASCII-compatible charset,
never decoded as a whole. One regex lexer finds only the tokens that matter: comments
(including Gutenberg block comments), CDATA, raw-text elements (skipped, see
``lexer``), and the start tags of the elements the registered platforms' recognisers
name (``archiver.platforms``: X's blockquote, amp-twitter, iframe and
``figure.wp-block-embed-*``; other platforms' forms; with ``reported=True`` the forms of
platforms that are only reported).

Every other byte is skipped inside the regex engine, which is what makes this fast (the
measured best approach in the project's performance notes). Elements that are common on
every page (``div``) are tokens only on pages that carry a marker of a form starting
there, so a page without one pays nothing for it. A candidate's end is found by a
second lexer that counts nested elements of the same name while still skipping comments
and raw text (``walk``); an unclosed candidate is never extended to EOF.

X's forms go through built-in handlers (``xforms``, see ``Recogniser.native``); any other
recogniser is asked ``claims`` on the start tag, then ``identify`` on the element's bytes,
and a directly following loader script matching its ``script`` joins the span.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass
from typing import Final

import ahocorasick_rs

from archiver import platforms
from archiver.detect.lexer import (
    _GT_RE,
    _RAW_TEXT,
    _SKIPPED,
    _cdata_end,
    _classes,
    _fences,
    _following_script,
    _parse_tag,
    _raw_close,
    _State,
    _Tag,
    inner_lexer,
)
from archiver.detect.markers import TokenStarts, lookahead, token_automaton
from archiver.detect.prefilter import (
    _Entry,
    _View,
    _view,
    might_contain_embeds,
    page_markers,
    with_platform_components,
)
from archiver.detect.walk import _find_close, _skip
from archiver.detect.xforms import (
    _amp,
    _blockquote,
    _comment,
    _figure_close,
    _figure_done,
    _Frame,
    _iframe,
)
from archiver.detect_ssg import SsgOptions, find_ssg_embeds
from archiver.errors import DetectionTimeout as DetectionTimeout
from archiver.models import FORM_ARCHIVED, PLATFORM_X, EmbedForm, EmbedSpan
from archiver.platforms.base import StartTag
from archiver.platforms.x.urls import canonical_status_url, parse_status_url

__all__ = [
    "DetectionTimeout",
    "canonical_status_url",
    "find_embeds",
    "might_contain_embeds",
    "parse_status_url",
]

# ---------------------------------------------------------------------------------------
# The top-level lexer, built from the elements in use

# The one-character lookahead lets the engine reject most ``<`` (``<div``, ``<li``,
# ``<span``…) before trying the alternation, which roughly doubles throughput.
# ``figure`` is common on WordPress sites, so the engine only stops at those whose tag (or,
# when a ``>`` hides inside a quoted value, the text up to the next ``<``) mentions
# ``wp-block-embed-``; Python then checks the class properly. A ``<`` before the tag's
# ``>`` also stops it (group 4), and ``_next_token`` checks the mention with remembered
# searches: a ``[^>]*`` lookahead here would rescan to the next ``>`` from every such
# ``<figure``. X's rendered-widget wrapper div is not a token: it is found backwards
# from its iframe.
_FIGURE: Final = rb"figure(?=[\s/>])(?=[^<]*wp-block-embed-|[^<>]*+(<))"
_WP_EMBED_CLASS_RE: Final = re.compile(rb"(?i:wp-block-embed-)")


@dataclass(frozen=True)
class _Lexer:
    """The top-level lexer for one set of elements, and who handles each."""

    main: re.Pattern[bytes]
    starts: ahocorasick_rs.BytesAhoCorasick  # where its tokens may start (TokenStarts)
    main_no_figure: re.Pattern[bytes]  # for the rest of a page without "wp-block-embed-"
    candidates: frozenset[bytes]  # elements whose start tags are parsed
    natives: frozenset[str]
    comments: bool  # Gutenberg block comments are looked at (X's WordPress forms)
    generic: dict[bytes, tuple[_Entry, ...]]  # element -> recognisers without a handler


def _build_lexer(view: _View, generic: tuple[_Entry, ...]) -> _Lexer:
    figure = "x.figure" in view.natives
    elements = [e for e in view.native_elements if e != b"figure"]
    elements += [r.element for _, r in generic]
    names = [n for n in dict.fromkeys(elements) if n not in _SKIPPED]
    starts = (b"!-", b"![", *_SKIPPED, *names, *([b"fi"] if figure else []))
    alternatives = b"|".join(_SKIPPED) + b"".join(b"|" + re.escape(n) for n in names)
    pattern = (
        rb"<(?="
        + lookahead(starts)
        + rb")(?:(!--)|(!\[CDATA\[)|(?i:("
        + alternatives
        + (b"|" + _FIGURE if figure else rb"|()(?!)")
        + rb")(?=[\s/>])))"
    )
    by_element: dict[bytes, tuple[_Entry, ...]] = {}
    for entry in generic:
        by_element[entry[1].element] = (*by_element.get(entry[1].element, ()), entry)
        if entry[1].element not in _RAW_TEXT:
            inner_lexer(entry[1].element)  # the content walk of its elements
    return _Lexer(
        main=re.compile(pattern),
        starts=token_automaton(starts),
        main_no_figure=re.compile(pattern.replace(rb"figure(?=", rb"figure(?!)(?=")),
        candidates=frozenset((*view.native_elements, *by_element)),
        natives=view.natives,
        comments=figure,
        generic=by_element,
    )


_LEXERS: dict[tuple[int, bool, tuple[int, ...]], _Lexer] = {}


def _lexer_for(present: frozenset[bytes], reported: bool) -> _Lexer:
    """The lexer for a page holding the markers ``present`` (``page_markers``): the
    built-in forms, the other recognisers of elements the lexer stops at anyway
    (blockquote, iframe: their start tags are parsed already, so asking ``claims`` costs
    nothing more), and those of other elements (div) whose markers the page holds."""
    view = _view(reported)
    active = view.always
    if view.gated_markers and not present.isdisjoint(view.gated_markers):
        active = tuple(
            i
            for i, (_, r) in enumerate(view.generic)
            if i in view.always or not present.isdisjoint(r.markers)
        )
    key = (platforms.generation(), reported, active)
    lexer = _LEXERS.get(key)
    if lexer is None:
        if len(_LEXERS) > 256:
            _LEXERS.clear()
        lexer = _LEXERS[key] = _build_lexer(view, tuple(view.generic[i] for i in active))
    return lexer


def _next_token(
    st: _State, lexer: _Lexer, starts: TokenStarts, pos: int, limit: int
) -> re.Match[bytes] | None:
    """The next top-level token at or after ``pos``.

    The lexer's figure lookahead stops at a ``<figure`` that mentions ``wp-block-embed-``
    before the next ``<``, or that has a ``<`` before any ``>``; the latter, rare, is
    checked here: the class must come before the tag's ``>`` (a ``[^>]*`` lookahead in the
    regex would rescan to the next ``>`` at every such ``<figure``, quadratic on a page
    of them).
    """
    while True:
        no_mention = st.no_mention.get(limit)
        rx = lexer.main_no_figure if no_mention is not None and pos >= no_mention else lexer.main
        m = starts.search(rx, pos, limit)
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


def _scan(st: _State, lexer: _Lexer) -> list[EmbedSpan]:
    """Every embed in the page, in document order."""
    data = st.data
    main = lexer.main
    candidates = lexer.candidates
    natives = lexer.natives
    fences = st.fences
    starts = TokenStarts(lexer.starts, data)
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
            m = _next_token(st, lexer, starts, pos, limit)
        else:  # the common case, inline: it is most of the lexer's Python time
            m = starts.search(main, pos, limit)
            if m is not None and m.group(4) is not None:
                m = _next_token(st, lexer, starts, m.start(), limit)
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
                pos = _comment(st, m, limit, out, lexer.comments)
                continue
            if m.group(2):  # CDATA
                pos = _cdata_end(data, m.end(), limit)
                continue
            name = m.group(3).lower()
            if name not in candidates:
                pos = _skip(st, name, m.end(), limit)
                continue
            tag = _parse_tag(data, start, m.end(), limit)
        if tag is not None:  # else: the end, or EOF inside a tag (nothing more to find)
            if lexer.generic:
                generic = lexer.generic.get(name)
                if generic is not None:
                    claimed = _generic(st, name, tag, limit, out, generic)
                    if claimed is not None:
                        pos = claimed
                        continue
            if name == b"blockquote" and "x.blockquote" in natives:
                pos = _blockquote(st, tag, limit, out)
            elif name == b"iframe" and "x.iframe" in natives:
                pos = _iframe(data, tag, floor, limit, out)
            elif name == b"amp-twitter" and "x.amp" in natives:
                pos = _amp(st, tag, limit, out)
            elif name != b"figure" or "x.figure" not in natives:
                pos = _unclaimed(data, name, tag, limit)
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


def _unclaimed(data: bytes, name: bytes, tag: _Tag, limit: int) -> int:
    """Where lexing resumes after a start tag no recogniser claimed: after a raw-text
    element's end tag (its text is not markup), else just after the tag."""
    if name in _RAW_TEXT:
        close = _raw_close(data, name, tag.end, limit)
        return limit if close is None else close[1]
    return tag.end


def _generic(
    st: _State,
    name: bytes,
    tag: _Tag,
    limit: int,
    out: list[EmbedSpan],
    entries: tuple[_Entry, ...],
) -> int | None:
    """Ask the recognisers without a built-in handler about one start tag; the end of
    the span one of them reports, or None if none claims it.

    An element claimed but naming no post is skipped whole: ``identify`` then sees each
    byte of the page at most once per recogniser, so nested claimed elements (a page of
    ``<div class="fb-post">`` nested 10,000 deep) stay linear.
    """
    data = st.data
    start_tag = StartTag(name, tag.attrs, frozenset(_classes(tag)))
    skipped: int | None = None
    for platform, recogniser in entries:
        if not recogniser.claims(start_tag):
            continue
        if name in _RAW_TEXT:
            raw = _raw_close(data, name, tag.end, limit)
            if raw is None:
                return None  # unclosed: the rest of the page is its text, not an embed
            end = raw[1]
        else:
            close = _find_close(st, name, tag.end, limit)
            if close is None:
                return None  # unclosed: not an embed, and never extended to EOF
            end = close.end
        ref = recogniser.identify(start_tag, data[tag.start : end])
        if ref is None:
            skipped = end if skipped is None else max(skipped, end)
            continue
        if recogniser.script is not None:
            end = _following_script(data, end, limit, recogniser.script) or end
        out.append(
            EmbedSpan(
                tag.start,
                end,
                recogniser.form,
                ref.post_id,
                platform,
                ref.handle,
                ref.url,
                reported=recogniser.reported,
            )
        )
        return end
    return skipped


def find_embeds(
    data: bytes,
    markdown: bool = False,
    *,
    deadline: float | None = None,
    ssg: SsgOptions | None = None,
    reported: bool = False,
) -> list[EmbedSpan]:
    """Every embedded post in ``data`` (scan bytes), in document order, non-overlapping.

        For X,
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

        Other registered platforms' forms are found as their recognisers say.
        ``reported``: also return the forms of platforms that are only reported (Threads,
        Instagram, TikTok, Facebook), with ``span.reported`` set; they are never to be
        rewritten. Without it those forms are not looked for at all.
    """
    st = _State(data, _fences(data) if markdown else [], deadline)
    ssg = with_platform_components(ssg) if ssg is not None else None
    # One pass finds every marker asked about below (often done by the prefilter already).
    present = page_markers(data, ssg, reported=reported)
    spans = _scan(st, _lexer_for(present, reported))
    if ssg is None:
        return spans
    st.check()
    ssg_spans = find_ssg_embeds(data, ssg, markdown, present=present)
    return _merge_ssg(spans, _identified(ssg_spans))


def _identified(spans: list[EmbedSpan]) -> list[EmbedSpan]:
    """The static-site spans, other platforms' ones asked of their platform: a
    component's ``id`` value goes through ``parse_url``, an archived wrapper's id through
    ``is_post_id``; what the platform does not take (or no platform is called so) is
    dropped."""
    out: list[EmbedSpan] = []
    for span in spans:
        if span.platform == PLATFORM_X:
            out.append(span)
            continue
        try:
            platform = platforms.get(span.platform)
        except platforms.UnknownPlatform:
            continue
        if span.form == EmbedForm.COMPONENT:
            ref = platform.parse_url(span.url or "")
            if ref is not None:
                out.append(
                    dataclasses.replace(span, post_id=ref.post_id, handle=ref.handle, url=ref.url)
                )
        elif span.form == FORM_ARCHIVED and platform.is_post_id(span.post_id):
            url = platform.canonical_url(span.post_id, None)
            out.append(dataclasses.replace(span, url=url))
    return out


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
