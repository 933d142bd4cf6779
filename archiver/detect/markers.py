"""Which of many markers a page holds, in one pass over it; where the lexer's tokens
may start (``TokenStarts``).

Each ``marker in data`` is a pass over the page (20-70 µs on 150 KB, the shorter the
needle the slower), and a page without embeds but with decoys (theme JavaScript naming
``twitter-tweet``) used to pay a dozen of them between the prefilter, the lexer's gated
recognisers and the SSG prefilter. ``MarkerSet`` asks an Aho-Corasick automaton
(``ahocorasick_rs``, the Rust ``aho-corasick`` crate: a SIMD prefilter, about the cost
of one ``in`` for all markers together) instead.

Its non-overlapping search does not report an occurrence that overlaps an earlier
match (``amp-twitter-tweet`` hides ``twitter-tweet`` behind ``amp-twitter``), so each
match is followed by exact ``startswith`` tests at the offsets where another marker can
start inside it (precomputed): the result is exactly ``{m for m in markers if m in
data}``.
"""

from __future__ import annotations

import array
import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from typing import Final

import ahocorasick_rs


class MarkerSet:
    """A fixed set of byte markers, and which of them a page holds."""

    def __init__(self, markers: Iterable[bytes]) -> None:
        self.markers: tuple[bytes, ...] = tuple(dict.fromkeys(markers))
        # An empty marker is in every page (as ``b"" in data`` says).
        self._always: frozenset[bytes] = frozenset(m for m in self.markers if not m)
        # Sorted: the order decides how the SIMD prefilter groups the needles into
        # buckets. On the bench corpus, the pipeline's set (reported forms and SSG
        # markers, 38 needles) took 25 µs a page sorted, 38 µs in registration order.
        needles = sorted(m for m in self.markers if m)
        self._needles = tuple(needles)
        self._automaton = (
            ahocorasick_rs.BytesAhoCorasick(
                needles, matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST
            )
            if needles
            else None
        )
        # For each needle: (index of another needle, offsets inside it where that one
        # could start while overlapping it), only where there is such an offset.
        self._inside = tuple(_overlaps(n, needles) for n in needles)
        self._span = max(map(len, needles), default=1) - 1

    def present(self, data: bytes) -> frozenset[bytes]:
        """The markers ``data`` holds: exactly ``{m for m in markers if m in data}``."""
        if self._automaton is None:
            return self._always
        found: set[int] = set()
        needles = self._needles
        for lo, matches in self._windows(data):
            if len(matches) > _FEW:
                # A page crowded with markers: one search for each marker still unknown
                # is cheaper than a look at each match.
                found.update(i for i, needle in enumerate(needles) if i in found or needle in data)
                break
            found.update(index for index, _start, _end in matches)
            self._hidden(data, lo, matches, found)
        return self._always | frozenset(needles[i] for i in found)

    def _hidden(
        self, data: bytes, lo: int, matches: list[tuple[int, int, int]], found: set[int]
    ) -> None:
        """Add to ``found`` the markers hidden inside ``matches`` (of a window at ``lo``)."""
        inside, needles = self._inside, self._needles
        for index, start, _end in matches:
            for other, offsets in inside[index]:
                if other not in found:
                    for offset in offsets:
                        if data.startswith(needles[other], lo + start + offset):
                            found.add(other)
                            break

    def _windows(self, data: bytes) -> Iterator[tuple[int, list[tuple[int, int, int]]]]:
        """``(window start, its matches)`` for each window of the page in turn. The
        search starts afresh at each window, so an occurrence starting in it is either
        reported or hidden inside a match of the same window; windows overlap by the
        longest marker, so none is cut in two. A window's matches are at most a third
        of its size (4 MB as Python tuples), whatever the page."""
        assert self._automaton is not None
        view = memoryview(data)
        for lo in range(0, len(data), _WINDOW):
            yield lo, self._automaton.find_matches_as_indexes(view[lo : lo + _WINDOW + self._span])

    def any_in(self, data: bytes) -> bool:
        """Whether ``data`` holds at least one of the markers."""
        if self._always:
            return True
        # The leftmost occurrence of any marker is always reported: no overlap matters.
        return self._automaton is not None and any(m for _, m in self._windows(data))


_WINDOW: Final = 1 << 17
# Up to this many matches in a window, each is checked for markers hidden inside it;
# beyond, each marker not found yet is searched for once (a page made of markers).
_FEW: Final = 256


def _overlaps(needle: bytes, needles: list[bytes]) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """The other needles (by index) that can start inside ``needle`` (at offset 0 too,
    when one is a prefix of it) and overlap it, with those offsets: an occurrence there
    is hidden by a match of ``needle``."""
    out: list[tuple[int, tuple[int, ...]]] = []
    for index, other in enumerate(needles):
        if other == needle:
            continue
        offsets = tuple(
            k
            for k in range(len(needle))
            if needle[k : k + len(other)] == other[: len(needle) - k]
            and (k > 0 or len(other) < len(needle))
        )
        if offsets:
            out.append((index, offsets))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Where the lexer's tokens may start

# What may follow a one-letter element name: ``\s`` of a bytes regex, ``/`` or ``>``.
_AFTER_NAME: Final = b" \t\n\r\f\v/>"


def _pairs(starts: tuple[bytes, ...]) -> list[tuple[bytes, bytes]]:
    """The first two bytes after ``<`` of each token start, in every ASCII case."""
    out: dict[tuple[bytes, bytes], None] = {}
    for start in starts:
        firsts = dict.fromkeys((start[:1].lower(), start[:1].upper()))
        if len(start) > 1:
            seconds = dict.fromkeys((start[1:2].lower(), start[1:2].upper()))
        else:
            seconds = dict.fromkeys(bytes([c]) for c in _AFTER_NAME)
        out.update(dict.fromkeys((a, b) for a in firsts for b in seconds))
    return list(out)


def lookahead(starts: tuple[bytes, ...]) -> bytes:
    """A regex lookahead body for the first two bytes after ``<`` of a token starting
    with one of ``starts`` (in either case): a class for each byte.

    The regex engine then rejects nearly every other tag (``<p>``, ``<a href``,
    ``<span``, ``<table``) in two byte comparisons instead of trying each alternative.
    A one-letter name is followed by whitespace, ``/`` or ``>``."""
    pairs = _pairs(starts)
    first = dict.fromkeys(a for a, _ in pairs)
    second = dict.fromkeys(b for _, b in pairs)
    return b"".join(
        b"[" + b"".join(re.escape(c) for c in chars) + b"]" for chars in (first, second)
    )


class TokenStarts:
    """Where a token of a lexer may start in one page: ``<`` and two bytes that begin
    one of its tokens (``starts``, in any case), found in one SIMD pass
    (``ahocorasick_rs``).

    The lexer's regex search crawls through every byte at ~3 GB/s; started only at
    these places with ``match``, it finds the same tokens (every match begins so) and
    the page is crossed about five times as fast. The page is searched a window at a
    time, in order, as the lexer gets there, each byte once whatever order the lexer
    asks in (it goes back into figures); the starts are kept as 8-byte integers. A page
    crowded with starts (hostile, or made of them) gets the plain regex search instead.
    """

    WINDOW = 1 << 17

    def __init__(
        self, automaton: ahocorasick_rs.BytesAhoCorasick, data: bytes, window: int | None = None
    ) -> None:
        self._automaton = automaton
        self._window = window or self.WINDOW
        self._data = data
        self._view = memoryview(data)
        self._hi = 0  # the starts before it are known
        self._found = array.array("q")
        self._crowded = False  # a window full of starts: the plain regex search is used

    def search(self, rx: re.Pattern[bytes], pos: int, limit: int) -> re.Match[bytes] | None:
        """``rx.search(data, pos, limit)`` for a regex whose matches all begin at one of
        these starts."""
        data = self._data
        while True:
            start = self.next(pos)
            if start == _CROWDED:
                return rx.search(data, pos, limit)
            if start < 0 or start >= limit:
                return None
            m = rx.match(data, start, limit)
            if m is not None:
                return m
            pos = start + 1

    def next(self, pos: int) -> int:
        """The first possible token start at or after ``pos``, -1 if none, or
        ``_CROWDED`` on a page where they are too many to be worth listing."""
        found = self._found
        while not self._crowded:
            i = bisect.bisect_left(found, pos)
            if i < len(found):
                return found[i]
            lo = self._hi
            if lo >= len(self._data):
                return -1
            # No three-byte start can hide another (none holds a "<" after the first
            # byte), so the non-overlapping search reports every one.
            hi = min(len(self._data), lo + self._window)
            matches = self._automaton.find_matches_as_indexes(self._view[lo : hi + 2])
            # One start in 64 bytes is ten times a real page's worst (a page of short
            # tags in a raw-text element): one Python step per start would cost more
            # than the regex engine's own crawl, so the rest of the page is left to it.
            self._crowded = len(matches) > max(16, self._window // 64)
            found.extend(lo + s for _, s, _ in matches if lo + s < hi)
            self._hi = hi
        return _CROWDED


_CROWDED: Final = -2


@functools.lru_cache(maxsize=256)
def token_automaton(starts: tuple[bytes, ...]) -> ahocorasick_rs.BytesAhoCorasick:
    """The automaton of ``TokenStarts`` for tokens beginning with ``starts``."""
    return ahocorasick_rs.BytesAhoCorasick(
        sorted(b"<" + a + b for a, b in _pairs(starts)),
        matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST,
    )
