"""Bluesky as a platform (issue 12): ``BLUESKY`` is what the registry registers.

Ids are ``DID/RKEY`` (``bluesky:did:plc:z72i7hdynmk6r22z27h6tvur/3lbv5is6h6c2k``), see
``urls``; forms in ``recognisers``; the markup snapshot in ``markup``; the time in a TID
rkey in ``tid``; the AppView in ``fetch`` and ``payload``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archiver.models import EmbedSpan, PostSnapshot
from archiver.platforms.base import CardInfo, Platform, PostRef, Recogniser

from . import markup, tid, urls
from .card import BLUESKY_CARD
from .recognisers import RECOGNISERS

if TYPE_CHECKING:
    from archiver.fetch.base import FetchContext, PlatformFetcher

__all__ = ["BLUESKY", "Bluesky"]


class Bluesky:
    """The Bluesky platform: one instance, ``BLUESKY``."""

    name = "bluesky"
    label = "Bluesky"
    card: CardInfo = BLUESKY_CARD
    # astro-embed's MDX component: <BlueskyPost id="https://bsky.app/profile/…/post/…" />
    # (or an at:// URI); its id goes through ``parse_url``.
    mdx_components: tuple[str, ...] = ("BlueskyPost",)

    recognisers: Sequence[Recogniser] = RECOGNISERS

    def parse_url(self, url: str) -> PostRef | None:
        """Any URL form of a post: bsky.app permalink, at:// URI, embed iframe src."""
        return urls.parse_url(url)

    def canonical_url(self, post_id: str, handle: str | None) -> str:
        """``https://bsky.app/profile/DID/post/RKEY``."""
        return urls.canonical_url(post_id, handle)

    def is_post_id(self, post_id: str) -> bool:
        """True for ``DID/RKEY`` only (a handle-form id must be resolved first)."""
        return urls.is_post_id(post_id)

    def file_stem(self, post_id: str) -> str:
        """Safe, injective stem for ``embeds/bluesky/<stem>.html``."""
        return urls.file_stem(post_id)

    def created_at_from_id(self, post_id: str) -> str | None:
        """The TID rkey's time (ms, the archive's format); None for other rkeys."""
        parts = urls.parse_post_id(post_id)
        return tid.created_at_from_rkey(parts[1]) if parts else None

    def snapshot_from_markup(self, span: EmbedSpan, fragment: str) -> PostSnapshot | None:
        """What the embed markup (decoded by the pipeline) says: text, author, time from
        the rkey."""
        return markup.snapshot_from_markup(span, fragment)

    def fetcher(self, ctx: FetchContext) -> PlatformFetcher:
        """The AppView fetcher for one run (getPosts, 25 posts a request)."""
        # Imported here: the fetcher sits in the fetch layer, whose import may be what
        # set up this registry (as for X's fetcher).
        from .fetch import BlueskyFetcher

        return BlueskyFetcher(ctx)


BLUESKY = Bluesky()

if TYPE_CHECKING:
    # mypy proves the class keeps to the interface.
    _conforms: Platform = BLUESKY
