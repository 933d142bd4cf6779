"""X (Twitter): the first platform behind the interface of ``archiver.platforms.base``.

What X owns, by module: ``urls`` (status URLs and ids), ``snowflake`` (the time in an
id, and the markup's date text), ``recognisers`` (embed forms; the lexer's built-in
handlers for them are ``archiver.detect.xforms``), ``ssg`` (its static-site names),
``markup`` and ``markup_lxml`` (the markup snapshot and its lxml fast path), and
``fetcher`` with ``syndication``, ``token``, ``oembed`` and ``wayback`` (the network, as
one ``PlatformFetcher``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from archiver.models import PLATFORM_X, EmbedSpan, PostSnapshot
from archiver.platforms.base import CardInfo, PostRef, Recogniser
from archiver.platforms.x.card import X_CARD
from archiver.platforms.x.recognisers import RECOGNISERS
from archiver.platforms.x.snowflake import created_at_from_id
from archiver.platforms.x.urls import canonical_status_url, is_post_id, parse_status_url

if TYPE_CHECKING:
    from archiver.fetch.base import FetchContext, PlatformFetcher

__all__ = ["X", "XPlatform"]


class XPlatform:
    """X's answers to the platform interface."""

    name: str = PLATFORM_X
    label: str = "X"
    card: CardInfo = X_CARD

    def __init__(self) -> None:
        self.recognisers: Sequence[Recogniser] = RECOGNISERS

    def parse_url(self, url: str) -> PostRef | None:
        """Any X/Twitter status URL (see ``urls.parse_status_url``)."""
        status = parse_status_url(url)
        if status is None:
            return None
        handle, post_id = status
        return PostRef(post_id, handle, canonical_status_url(handle, post_id))

    def canonical_url(self, post_id: str, handle: str | None) -> str:
        """``https://x.com/HANDLE/status/ID`` (``/i/status/ID`` without a handle)."""
        return canonical_status_url(handle, post_id)

    def is_post_id(self, post_id: str) -> bool:
        """1-20 ASCII digits."""
        return is_post_id(post_id)

    def file_stem(self, post_id: str) -> str:
        """The id itself: digits are a safe, injective file name."""
        if not is_post_id(post_id):
            raise ValueError(f"not an X post id: {post_id!r}")
        return post_id

    def created_at_from_id(self, post_id: str) -> str | None:
        """The snowflake's exact millisecond, or None for pre-snowflake ids."""
        return created_at_from_id(post_id)

    def snapshot_from_markup(self, span: EmbedSpan, fragment: str) -> PostSnapshot | None:
        """The markup snapshot (``markup``, with its lxml fast path ``markup_lxml``)."""
        # Imported here: the scraper imports archiver.snapshot, which re-exports it.
        from archiver.platforms.x.markup import snapshot_from_markup

        return snapshot_from_markup(span, fragment)

    def fetcher(self, ctx: FetchContext) -> PlatformFetcher:
        """Syndication, then oEmbed, then the Wayback Machine, one post at a time."""
        # Imported here: the fetcher sits in the fetch layer, which itself falls back to
        # it, so importing it at the top would tie the two packages' initialisation.
        from archiver.platforms.x.fetcher import XFetcher

        return XFetcher(ctx)


X: Final = XPlatform()
