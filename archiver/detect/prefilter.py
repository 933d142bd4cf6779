"""What the lexer asks of the registry, and the prefilter built from it.

``_view`` turns the registered recognisers (``archiver.platforms.recognisers``) into
what the prefilter and the lexer use, once per registry change: the built-in X handlers
in use with their markers, and every other recogniser. ``might_contain_embeds`` is the
union of their markers; ``page_markers`` finds them all in one pass (``markers``), with
the SSG forms' markers and those that turn on the lexer's gated recognisers.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archiver import platforms
from archiver.detect.markers import MarkerSet
from archiver.detect_ssg import SsgOptions, ssg_markers
from archiver.platforms.base import Recogniser
from archiver.platforms.x.recognisers import GATED_MARKERS, UPPER_HINTS

_Entry = tuple[str, Recogniser]  # (platform name, recogniser)


@dataclass(frozen=True)
class _View:
    """The registered recognisers, as the prefilter and the lexer use them."""

    natives: frozenset[str]  # the built-in handlers in use ("x.blockquote"…)
    native_elements: tuple[bytes, ...]  # their elements, in registration order
    # Lower-case markers of the built-in forms. Every marker of every form is found in
    # one pass over the page (``page_markers``), whatever their number.
    native_markers: tuple[bytes, ...]
    gated: tuple[tuple[bytes, tuple[bytes, ...]], ...]  # Gutenberg comments (with figures)
    generic: tuple[_Entry, ...]  # every other recogniser
    # The lexer's view: generic recognisers of elements it parses anyway are always on
    # (indexes into ``generic``); the others are on for pages holding one of their markers.
    always: tuple[int, ...]
    gated_markers: tuple[bytes, ...]


_VIEWS: dict[tuple[int, bool], _View] = {}


def _view(reported: bool) -> _View:
    key = (platforms.generation(), reported)
    view = _VIEWS.get(key)
    if view is None:
        if len(_VIEWS) > 64:
            _VIEWS.clear()  # a test suite registering and unregistering platforms
        view = _VIEWS[key] = _build_view(platforms.recognisers(reported=reported))
    return view


def _build_view(entries: Sequence[_Entry]) -> _View:
    natives = [r for _, r in entries if r.native]
    names = frozenset(r.native for r in natives if r.native)
    native_markers = tuple(dict.fromkeys(m for r in natives for m in r.markers))
    generic = tuple(e for e in entries if not e[1].native)
    parsed = {r.element for r in natives}
    always = tuple(i for i, (_, r) in enumerate(generic) if r.element in parsed)
    return _View(
        natives=names,
        native_elements=tuple(dict.fromkeys(r.element for r in natives)),
        native_markers=native_markers,
        gated=GATED_MARKERS if "x.figure" in names else (),
        generic=generic,
        always=always,
        gated_markers=tuple(
            dict.fromkeys(
                m for i, (_, r) in enumerate(generic) if i not in always for m in r.markers
            )
        ),
    )


def with_platform_components(ssg: SsgOptions) -> SsgOptions:
    """``ssg`` with the registered platforms' static-site components (astro-embed's
    ``BlueskyPost``, ``MastodonPost``: a platform's ``mdx_components``) added."""
    return _with_components(ssg, platforms.generation())


@functools.lru_cache(maxsize=64)
def _with_components(ssg: SsgOptions, _generation: int) -> SsgOptions:
    # Cached per options object and registry state: the options compile their regexes
    # once (SsgOptions._compiled), so a run keeps reusing one augmented object.
    pairs = tuple((name, p.name) for p in platforms.all_platforms() for name in _mdx_components(p))
    if not pairs or ssg.platform_components == pairs:
        return ssg
    return dataclasses.replace(ssg, platform_components=pairs, _compiled={})


def _mdx_components(platform: platforms.Platform) -> tuple[str, ...]:
    # An optional extension of the interface: X's component is built into detect_ssg.
    names = getattr(platform, "mdx_components", ())
    return tuple(names) if platform.name != "x" else ()


def _has_marker(data: bytes, view: _View) -> bool:
    for marker in view.native_markers:
        if marker in data:
            return True
    for gate, markers in view.gated:
        if gate in data:
            for marker in markers:
                if marker in data:
                    return True
    return False


def page_markers(
    data: bytes, ssg: SsgOptions | None = None, *, reported: bool = False
) -> frozenset[bytes]:
    """Which of the markers detection asks about ``data`` holds, found in one pass: the
    registered forms' (``_View``), the SSG forms' (``ssg_markers``, with ``ssg``; give it
    with its platform components, ``with_platform_components``) and ``UPPER_HINTS``.

    The last page's answer is remembered, so ``find_embeds`` right after
    ``might_contain_embeds`` on the same bytes object does not search again.
    """
    global _LAST
    key = (platforms.generation(), reported, ssg)
    last = _LAST  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is data and last[1] == key:
        return last[2]
    present = _marker_set(*key).present(data)
    _LAST = (data, key, present)
    return present


# The last page asked about: (its bytes object, key, its markers). Holding the page until
# the next one is asked about costs its size once, and an identity test cannot be fooled
# (bytes are immutable).
_LAST: tuple[bytes, tuple[Any, ...], frozenset[bytes]] | None = None


@functools.lru_cache(maxsize=64)
def _marker_set(_generation: int, reported: bool, ssg: SsgOptions | None) -> MarkerSet:
    view = _view(reported)
    markers = [*view.native_markers, *(m for _, ms in view.gated for m in ms)]
    markers += [m for _, r in view.generic for m in r.markers]
    markers += ssg_markers(ssg) if ssg is not None else ()
    return MarkerSet([*markers, *UPPER_HINTS])


def might_contain_embeds(
    data: bytes, ssg: SsgOptions | None = None, *, reported: bool = False
) -> bool:
    """Fast prefilter: False means ``find_embeds(data, reported=reported)`` finds nothing.

    Plain substring tests for the markers every registered form carries. For X: class
    names (twitter-tweet, twitter-video, wp-block-embed-twitter/-x), ``amp-twitter``,
    ``data-tweet-id``, ``data-archived-post``, ``platform.twitter.com/embed`` and
    ``platform.x.com/embed``, and Gutenberg ``wp:embed`` / ``wp:core-embed/twitter``
    block comments. All-capitals spellings (``<AMP-TWITTER``, ``TWITTER-TWEET``) are
    caught too; mixed-case ones such as ``Twitter-Tweet`` are not. Other platforms'
    markers are matched as written. With ``ssg``, the static-site generator forms'
    markers count too (``detect_ssg``). All of them are found in one pass
    (``page_markers``).
    """
    view = _view(reported)
    ssg = with_platform_components(ssg) if ssg is not None else None
    present = page_markers(data, ssg, reported=reported)
    if not present.issubset(UPPER_HINTS):
        return True
    if not view.natives or not present:
        return False
    return _has_marker(data.lower(), view)
