"""What every platform's fetcher shares: the request and result of one post, the
context of one run (one HTTP session, one media store, the config), the fetcher
protocol, and the generic media download.

``PostFetcher`` (``archiver.fetch``) groups requests by platform and hands each
platform's fetcher batches of up to its ``batch_size``; a platform's fetcher answers
with one ``FetchResult`` per request and never raises for a post.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from archiver.config import Config, HttpConfig, MediaConfig
from archiver.models import PLATFORM_X, MediaItem, PostSnapshot

if TYPE_CHECKING:  # at run time only once a fetch happens: httpx costs 0.18 s to import
    from .http import Budget, HttpSession
    from .media import MediaStore

__all__ = [
    "FetchContext",
    "FetchRequest",
    "FetchResult",
    "FetcherSource",
    "PlatformFetcher",
    "download_media",
]


@dataclass(frozen=True)
class FetchRequest:
    """One post to look up."""

    post_id: str
    handle: str | None = None  # from the markup, for building status URLs
    have_content: bool = False  # the archive already holds text: no Wayback lookup
    # Media URLs whose files the archive already holds: not downloaded again.
    stored_media: frozenset[str] = frozenset()
    platform: str = PLATFORM_X
    # When the post's current run of failed checks began (None: its last check
    # answered): a platform may say so in its failure (Mastodon's host-down note).
    failing_since: str | None = None


@dataclass
class FetchResult:
    """The outcome for one post: an answer (``snapshot``) or a failure (``error``)."""

    post_id: str
    snapshot: PostSnapshot | None
    error: str | None = None
    attempts: int = 0  # HTTP attempts spent on the lookup (media downloads not counted)
    platform: str = PLATFORM_X

    @property
    def key(self) -> str:
        """The post's archive key, ``platform:post_id``."""
        return f"{self.platform}:{self.post_id}"


@dataclass
class FetchContext:
    """One run's shared pieces, handed to every platform's fetcher."""

    session: HttpSession  # the one transport: one retry, backoff and rate policy
    media: MediaStore
    http: HttpConfig
    media_config: MediaConfig
    # Each platform's config section by name ("x", "wayback"…), as PostFetcher was given.
    sections: Mapping[str, Any] = field(default_factory=dict)
    # The whole loaded config when the caller has one (Archive does): a platform reads
    # its own section from it (``ctx.config.bluesky``).
    config: Config | None = None

    def budget(self) -> Budget:
        """A fresh per-post budget: ``http.post_deadline`` from now."""
        from .http import Budget

        return Budget.for_seconds(self.http.post_deadline)


class PlatformFetcher(Protocol):
    """A platform's network side (see ``archiver.platforms.base``)."""

    batch_size: int

    async def fetch_batch(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """One ``FetchResult`` per request, in any order; failures are results."""
        ...


class FetcherSource(Protocol):
    """What ``PostFetcher`` needs of a platform: its name and its fetcher."""

    @property
    def name(self) -> str: ...

    def fetcher(self, ctx: FetchContext) -> PlatformFetcher:
        """The platform's fetcher for one run."""
        ...


async def download_media(
    snapshot: PostSnapshot,
    media: MediaStore,
    budget: Budget,
    stored: frozenset[str] = frozenset(),
    *,
    guarded: bool = False,
    streamed_kinds: frozenset[str] = frozenset(),
) -> None:
    """Download the snapshot's (and related posts') media and card images.

    URLs in ``stored`` are already archived for this post; a recheck does not fetch
    them again (storage keeps their files on the new snapshot). ``guarded``: the hosts
    come from untrusted content and go through the host guard (``MediaStore.fetch``).
    ``streamed_kinds``: media kinds whose ``url`` is a stream playlist, not a file
    (Bluesky's HLS videos): only their poster is downloaded.
    """
    jobs: list[Awaitable[None]] = []
    for snap in [snapshot, *snapshot.related]:
        skip = stored if snap is snapshot else frozenset()
        jobs.extend(
            _store_item(item, media, budget, skip, guarded, item.kind in streamed_kinds)
            for item in snap.media
        )
        card = snap.card
        if card and card.get("type") == "link" and isinstance(card.get("image_url"), str):
            jobs.append(_store_card_image(card, media, budget, guarded))
    await asyncio.gather(*jobs)


async def _store_item(
    item: MediaItem,
    media: MediaStore,
    budget: Budget,
    skip: frozenset[str],
    guarded: bool,
    streamed: bool,
) -> None:
    if not streamed and item.url and item.url not in skip:
        stored = await media.fetch(item.url, budget, guarded=guarded)
        if stored is not None:
            item.local_path = stored.name
            item.sha256 = stored.sha256
            item.bytes = stored.size
            item.content_type = stored.content_type
    if item.poster_url and item.poster_url not in skip:
        poster = await media.fetch(item.poster_url, budget, guarded=guarded)
        item.poster_local_path = poster.name if poster else None


async def _store_card_image(
    card: dict[str, Any], media: MediaStore, budget: Budget, guarded: bool
) -> None:
    image = await media.fetch(card["image_url"], budget, guarded=guarded)
    card["image"] = image.name if image else None
