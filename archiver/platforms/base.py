"""The platform interface (issue 12): what a platform package provides.

Written to the agreed spec so the Bluesky package stands alone; the seam helper owns
this file and its version replaces this one at merge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from archiver.config import Config
    from archiver.fetch import FetchRequest, FetchResult
    from archiver.fetch.http import Budget, HttpSession
    from archiver.fetch.media import MediaStore
    from archiver.models import EmbedSpan, PostSnapshot


@dataclass(frozen=True)
class PostRef:
    """A post named by markup or a URL."""

    post_id: str  # the platform's documented id form
    handle: str | None  # as written
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

    element: bytes
    markers: tuple[bytes, ...]
    form: str
    claims: Callable[[StartTag], bool]
    identify: Callable[[StartTag, bytes], PostRef | None]
    script: re.Pattern[bytes] | None = None
    reported: bool = False


@dataclass(frozen=True)
class FetchContext:
    """What a platform's fetcher gets from the run: the one transport, the media store,
    the loaded config and a factory of per-post budgets."""

    session: HttpSession
    media: MediaStore | None
    config: Config
    budget: Callable[[], Budget]


class PlatformFetcher(Protocol):
    """Looks posts up in batches; a failure is a ``FetchResult`` with ``error``."""

    batch_size: int

    async def fetch_batch(self, requests: Sequence[FetchRequest]) -> list[FetchResult]: ...


class Platform(Protocol):
    """A platform package's entry point (one registration line in the registry)."""

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
