"""The platform interface, as agreed for issue 12 (see the seam branch for the
authoritative copy: this file only lets the Mastodon package stand alone).

A platform owns its URL forms and ids, its embed recognisers, its markup
snapshot, the time in its ids and its network fetcher; everything else knows it
only through ``Platform``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from archiver.config import Config
from archiver.fetch import FetchRequest, FetchResult
from archiver.fetch.http import Budget, HttpSession
from archiver.fetch.media import MediaStore
from archiver.models import EmbedSpan, PostSnapshot

__all__ = [
    "FetchContext",
    "Platform",
    "PlatformFetcher",
    "PostRef",
    "Recogniser",
    "StartTag",
]


@dataclass(frozen=True)
class PostRef:
    """A post named by markup or a URL."""

    post_id: str  # the platform's documented id form
    handle: str | None  # as written (X: screen name; Bluesky: handle or None; Mastodon: user)
    url: str  # canonical https URL of the post


@dataclass(frozen=True)
class StartTag:
    """A parsed start tag, as the byte lexer sees it."""

    name: bytes  # lower-case element name, b"blockquote"
    attrs: Mapping[bytes, bytes]  # lower-case names, raw (undecoded-entity) values
    classes: frozenset[bytes]


@dataclass(frozen=True)
class Recogniser:
    """One markup form of one platform, plugged into the one byte lexer (archiver.detect)."""

    element: bytes  # the element the form starts at: b"blockquote", b"iframe", b"div"
    markers: tuple[bytes, ...]  # prefilter: a page with none of these cannot hold this form
    form: str  # value recorded in embeds.form
    claims: Callable[[StartTag], bool]  # cheap test on the start tag only
    identify: Callable[[StartTag, bytes], PostRef | None]  # start tag + element bytes -> post
    script: re.Pattern[bytes] | None = None  # a directly following <script src=…> to absorb
    reported: bool = False  # found and recorded, never archived or rewritten


@dataclass(frozen=True)
class FetchContext:
    """What a platform's fetcher may use: the one session (transport, retries, rate
    limits, host guard), the media store, the loaded config, per-post budgets."""

    session: HttpSession
    media: MediaStore
    config: Config
    budget: Callable[[], Budget]


class PlatformFetcher(Protocol):
    """Fetches batches of posts; a failure is a FetchResult with ``error``, never raised."""

    batch_size: int

    async def fetch_batch(self, requests: Sequence[FetchRequest]) -> list[FetchResult]: ...


class Platform(Protocol):
    """One platform: see the module docstring."""

    name: str
    label: str
    recognisers: Sequence[Recogniser]

    def parse_url(self, url: str) -> PostRef | None: ...

    def canonical_url(self, post_id: str, handle: str | None) -> str: ...

    def is_post_id(self, post_id: str) -> bool: ...

    def file_stem(self, post_id: str) -> str: ...

    def created_at_from_id(self, post_id: str) -> str | None: ...

    def snapshot_from_markup(self, span: EmbedSpan, fragment: bytes) -> PostSnapshot | None: ...

    def fetcher(self, ctx: FetchContext) -> PlatformFetcher: ...
