"""The content walk: where a container element ends, and the status links inside it.

``_find_close`` counts nested elements of the same name while skipping comments, CDATA
and raw text (``_skip``), and remembers every answer so that nested or unclosed
candidates cost one pass over the page in all (see ``_walk``). On the way it lists the
``<a href>`` links that are X status URLs (X's forms name their post by the last such
link; the test for them is X's parser, ``archiver.platforms.x.urls``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from archiver.detect.lexer import (
    _CDATA_CLOSE_RE,
    _COMMENT_CLOSE_RE,
    _COMMENT_OPEN_RE,
    _INNER,
    _RAW_CLOSE,
    _RAW_ELEMENT,
    _TAG_TAIL_RE,
    _comment_end,
    _end_tag_end,
    _parse_tag,
    _raw_close,
    _script_states,
    _State,
)
from archiver.platforms.x.urls import status_from_bytes


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
    status = status_from_bytes(href, anchored=True) if href else None
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
