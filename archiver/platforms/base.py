"""The platform interface: what a platform package gives the rest of the archiver.

A platform (X, Bluesky, Mastodon, or one a test registers) owns its post URLs and ids,
its embed recognisers (plugged into the one byte lexer, ``archiver.detect``), the time
its ids encode, the snapshot read from its markup, and its network fetcher. The rest of
the code asks the registry (``archiver.platforms``) and these types, never a platform
package directly. The names follow the agreed interface (issue 12).

Keys are ``f"{platform.name}:{post_id}"``; ``post_id`` is the platform's documented id
form, checked with ``is_post_id`` wherever ids arrive (markup, network, an old database).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from archiver.models import EmbedSpan, PostSnapshot

# The fetch layer's side of the interface has one definition, in ``archiver.fetch.base``
# (``PostFetcher`` uses it too): ``PlatformFetcher`` (batch_size, fetch_batch),
# ``FetchContext``, requests and results. They are re-exported here lazily: importing the
# fetch package while this registry is being set up would tie the two initialisations.
_FETCH_NAMES = frozenset({"FetchContext", "FetchRequest", "FetchResult", "PlatformFetcher"})
if TYPE_CHECKING:
    from archiver.fetch.base import FetchContext as FetchContext
    from archiver.fetch.base import FetchRequest as FetchRequest
    from archiver.fetch.base import FetchResult as FetchResult
    from archiver.fetch.base import PlatformFetcher as PlatformFetcher


def __getattr__(name: str) -> Any:
    if name in _FETCH_NAMES:
        from archiver.fetch import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CardInfo",
    "FetchContext",
    "FetchRequest",
    "FetchResult",
    "Platform",
    "PlatformFetcher",
    "PostRef",
    "Recogniser",
    "StartTag",
    "card_info",
    "safe_stem",
]


@dataclass(frozen=True)
class PostRef:
    """A post named by markup or a URL."""

    post_id: str  # the platform's documented id form
    handle: str | None  # as written (X: screen name; Bluesky: handle or None; Mastodon: user)
    url: str  # canonical https URL of the post (or the URL as written, for reported forms)


@dataclass(frozen=True)
class StartTag:
    """A parsed start tag, as the byte lexer sees it."""

    name: bytes  # lower-case element name, b"blockquote"
    attrs: Mapping[bytes, bytes]  # lower-case names, raw (undecoded-entity) values
    classes: frozenset[bytes]  # class tokens, ASCII-lower-cased


@dataclass(frozen=True)
class Recogniser:
    """One markup form of one platform, plugged into the one byte lexer (archiver.detect).

    The lexer stops at start tags of ``element``, asks ``claims`` (cheap: the start tag
    only), finds the element's end (nested same-name elements counted, comments and raw
    text skipped; an unclosed element is never extended to EOF), then asks ``identify``
    with the whole element's bytes. ``script``: a directly following ``<script src=…>``
    whose src matches is absorbed into the span (e.g. embed.js). ``reported``: the form
    is found and listed but never archived or rewritten.

    ``native`` (an extension of the agreed interface, used by X only): the name of a
    built-in lexer handler that finds this form in linear time with the lexer's
    remembered walks (X's forms nest, come as Gutenberg comments and figures, and are
    most of the corpus). A recogniser with ``native`` set still declares its element,
    markers and ``claims``; the lexer calls the handler instead of ``identify``.
    """

    element: bytes  # the element the form starts at: b"blockquote", b"iframe", b"div"
    # Prefilter: a page holding none of these (lower-case, matched as written) cannot hold
    # the form; spellings ``claims`` accepts but no marker matches (capitals) are missed
    # by the prefilter, as X's mixed-case ones are. All markers of all forms are found
    # in one pass (archiver.detect.markers: a marker costs about nothing, bench/
    # bench_prefilter.py); a form starting at an element the lexer does not parse
    # anyway (div) makes it stop at every such element on pages holding a marker, so
    # distinctive ones.
    markers: tuple[bytes, ...]
    form: str  # value recorded in embeds.form (an EmbedForm member or a new one)
    claims: Callable[[StartTag], bool]  # cheap test on the start tag only
    identify: Callable[[StartTag, bytes], PostRef | None]  # which post (None: not a post)
    script: re.Pattern[bytes] | None = None  # a following <script src=…> to absorb
    reported: bool = False  # found and recorded, never archived or rewritten
    native: str | None = None  # a built-in lexer handler (see above)


def _no_url(_name: str, _post_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class CardInfo:
    """What a post card shows of its platform (``archiver.render`` asks, never a package).

    The card's own words come from ``label`` ("Post on X", "View on Bluesky", "Quoted
    post on Mastodon", "not checked on X yet", "no longer available on X"). Every URL a
    function here returns is checked again (http(s) only) before a template sees it.
    """

    label: str  # "X", "Bluesky", "Mastodon"
    # Whether an author handle may be shown and linked (X: a screen name; Bluesky: a
    # DNS-name handle; Mastodon: user or user@host).
    is_handle: Callable[[str], bool] = lambda _handle: False
    # (handle, post_id) -> the author's profile: a post's host matters for Mastodon.
    profile_url: Callable[[str, str], str | None] = _no_url
    # (tag without "#", post_id) -> the hashtag's page, for "#tag" in plain post text.
    tag_url: Callable[[str, str], str | None] = _no_url
    # An @mention in plain post text (group 1: the handle ``profile_url`` takes); None:
    # mentions are linked by the platform's own HTML or not at all.
    mention: re.Pattern[str] | None = None
    # X only: an id that encodes no time means the time came from day-level date text,
    # so the card shows the day alone.
    day_only_without_id_time: bool = False
    # What introduces a post's stored notice on its page (X's tombstone text is X's own
    # words; the other platforms' notices are the archive's).
    notice_intro: str = "Note from the archive"
    # Shown next to the date when the post was edited after it was written.
    edited: Callable[[str | None], bool] = lambda _notice: False


def card_info(platform: Platform) -> CardInfo:
    """The platform's ``card`` (see ``CardInfo``), or a plain one from its label: a
    platform that says nothing about its cards still gets a card naming it."""
    info = getattr(platform, "card", None)
    return info if isinstance(info, CardInfo) else CardInfo(label=platform.label)


class Platform(Protocol):
    """A platform package's one entry point (see the module docstring).

    A platform may also have a ``card`` attribute, a ``CardInfo`` (read through
    ``card_info``): what its post cards show of it.
    """

    name: str  # key prefix, folder embeds/<name>/, --platform value: "x", "bluesky"…
    label: str  # shown on cards: "X", "Bluesky", "Mastodon"
    recognisers: Sequence[Recogniser]

    def parse_url(self, url: str) -> PostRef | None:
        """Any URL form of a post (web, embed iframe src, at:// URI…), or None."""
        ...

    def canonical_url(self, post_id: str, handle: str | None) -> str:
        """The canonical https URL of a post."""
        ...

    def is_post_id(self, post_id: str) -> bool:
        """Whether ``post_id`` has the platform's documented id form."""
        ...

    def file_stem(self, post_id: str) -> str:
        """A safe, injective file name for embeds/<name>/<stem>.html: only
        ``[A-Za-z0-9._-]``, no leading dot, at most 120 characters."""
        ...

    def created_at_from_id(self, post_id: str) -> str | None:
        """The creation time encoded in the id, ISO 8601 UTC ("…T…Z"), or None."""
        ...

    def snapshot_from_markup(self, span: EmbedSpan, fragment: str) -> PostSnapshot | None:
        """What the embed's own markup says about the post.

        ``fragment`` is the span's markup decoded from the article's charset (only the
        pipeline knows it; the agreed interface said bytes, see the seam report)."""
        ...

    def fetcher(self, ctx: FetchContext) -> PlatformFetcher:
        """The platform's fetcher for one run (one HTTP session, media store, config)."""
        ...


_STEM_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


def safe_stem(stem: str) -> str | None:
    """``stem`` if it is a safe file stem (see ``Platform.file_stem``), else None.

    The pipeline checks every platform's answer with this before building a path, so a
    platform bug cannot write outside embeds/<name>/.
    """
    return stem if _STEM_OK.fullmatch(stem) and stem not in (".", "..") else None
