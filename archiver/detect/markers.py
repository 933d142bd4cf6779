"""Which of many markers a page holds, in one pass over it.

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

from collections.abc import Iterable

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
        # For each needle: (other needle, offsets inside it where that one could start
        # while overlapping it), only where there is such an offset.
        self._inside = tuple(_overlaps(n, needles) for n in needles)

    def present(self, data: bytes) -> frozenset[bytes]:
        """The markers ``data`` holds: exactly ``{m for m in markers if m in data}``."""
        if self._automaton is None:
            return self._always
        found: set[bytes] = set(self._always)
        needles, inside = self._needles, self._inside
        for index, start, _end in self._automaton.find_matches_as_indexes(data):
            found.add(needles[index])
            for other, offsets in inside[index]:
                if other not in found:
                    for offset in offsets:
                        if data.startswith(other, start + offset):
                            found.add(other)
                            break
        return frozenset(found)

    def any_in(self, data: bytes) -> bool:
        """Whether ``data`` holds at least one of the markers."""
        if self._always:
            return True
        # The leftmost occurrence of any marker is always reported: no overlap matters.
        return self._automaton is not None and bool(self._automaton.find_matches_as_indexes(data))


def _overlaps(needle: bytes, needles: list[bytes]) -> tuple[tuple[bytes, tuple[int, ...]], ...]:
    """The other needles that can start inside ``needle`` (at offset 0 too, when one is
    a prefix of it) and overlap it, with those offsets: an occurrence there is hidden
    by a match of ``needle``."""
    out: list[tuple[bytes, tuple[int, ...]]] = []
    for other in needles:
        if other == needle:
            continue
        offsets = tuple(
            k
            for k in range(len(needle))
            if needle[k : k + len(other)] == other[: len(needle) - k]
            and (k > 0 or len(other) < len(needle))
        )
        if offsets:
            out.append((other, offsets))
    return tuple(out)
