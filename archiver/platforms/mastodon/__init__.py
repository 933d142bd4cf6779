"""Mastodon (and the servers that speak its API: Pleroma, Akkoma, GoToSocial).

Register with one line in ``archiver.platforms``: ``mastodon.PLATFORM``.
Keys are ``mastodon:HOST/ID`` (see ``urls``); files ``embeds/mastodon/<stem>.html``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from archiver.models import EmbedSpan, PostSnapshot

from ..base import CardInfo, PostRef, Recogniser
from . import urls
from .card import MASTODON_CARD
from .markup import snapshot_from_markup
from .recognisers import RECOGNISERS

if TYPE_CHECKING:
    from archiver.fetch.base import FetchContext

    from .fetch import MastodonFetcher

__all__ = ["PLATFORM", "MastodonPlatform"]


class MastodonPlatform:
    """The ``Platform`` of Mastodon."""

    name = "mastodon"
    label = "Mastodon"
    # astro-embed's MDX component: <MastodonPost id="https://HOST/@user/ID" />; its id
    # goes through ``parse_url`` (only there: a bare URL on any host is not a post).
    mdx_components: tuple[str, ...] = ("MastodonPost",)
    card: CardInfo = MASTODON_CARD
    recognisers: Sequence[Recogniser] = RECOGNISERS

    def parse_url(self, url: str) -> PostRef | None:
        """Any URL form of a post (web, ``/embed``, ``/users/…/statuses/…``…)."""
        return urls.parse_url(url)

    def canonical_url(self, post_id: str, handle: str | None) -> str:
        """``https://HOST/@user/ID``."""
        return urls.canonical_url(post_id, handle)

    def is_post_id(self, post_id: str) -> bool:
        """``HOST/ID`` with a valid host and a ``[0-9A-Za-z]{1,32}`` id."""
        return urls.is_post_id(post_id)

    def file_stem(self, post_id: str) -> str:
        """Safe, injective file name (see ``urls.file_stem``)."""
        return urls.file_stem(post_id)

    def created_at_from_id(self, post_id: str) -> str | None:
        """The time a snowflake id encodes; None for other id kinds."""
        return urls.created_at_from_id(post_id)

    def snapshot_from_markup(self, span: EmbedSpan, fragment: str) -> PostSnapshot | None:
        """What the embed markup says (little: see ``markup``)."""
        return snapshot_from_markup(span, fragment)

    def fetcher(self, ctx: FetchContext) -> MastodonFetcher:
        """One status per request through the guarded session."""
        # Imported here: the fetcher sits in the fetch layer, whose import may be what
        # set up this registry (as for X's fetcher).
        from .fetch import MastodonFetcher

        return MastodonFetcher(ctx)


PLATFORM = MastodonPlatform()
