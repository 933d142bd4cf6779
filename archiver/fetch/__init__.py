"""The network snapshot layer: everything the project fetches about posts.

``PostFetcher.fetch_many`` is the only entry point the pipeline uses. For each unique
post it asks, in order:

1. syndication (``tweet-result``): a Tweet -> live snapshot (media downloaded, the
   latest edit followed); a tombstone -> deleted/protected/suspended/unavailable;
   ``{}`` or 404 -> not found, go on; an HTML body, 5xx, timeouts -> failure;
2. oEmbed, when syndication does not know the post: 200 -> live (poorer) snapshot,
   404 -> deleted, 403 -> protected;
3. the Wayback Machine, when the post is gone and the archive has no text for it.

A snapshot is an *answer* about the post; ``snapshot=None`` with ``error`` is a
failure to get one (retry later, keep what is archived). A gone post's snapshot
carries the status and notice but no text unless Wayback had a copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from archiver.config import HttpConfig, MediaConfig, WaybackConfig, XConfig
from archiver.models import (
    GONE_STATUSES,
    SOURCE_OEMBED,
    SOURCE_SYNDICATION,
    STATUS_DELETED,
    STATUS_PROTECTED,
    MediaItem,
    PostSnapshot,
)

from .http import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    Budget,
    FetchError,
    HttpSession,
    Response,
    created_at_from_id,
    utc_now_iso,
)
from .media import MediaStore
from .oembed import fetch_oembed, parse_oembed
from .syndication import (
    fetch_syndication,
    snapshot_from_tweet,
    status_url,
    tombstone_status,
    tombstone_text,
)
from .wayback import find_capture

__all__ = ["FetchRequest", "FetchResult", "PostFetcher"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchRequest:
    """One post to look up."""

    post_id: str
    handle: str | None = None  # from the markup, for building status URLs
    have_content: bool = False  # the archive already holds text: no Wayback lookup
    # Media URLs whose files the archive already holds: not downloaded again.
    stored_media: frozenset[str] = frozenset()


@dataclass
class FetchResult:
    """The outcome for one post: an answer (``snapshot``) or a failure (``error``)."""

    post_id: str
    snapshot: PostSnapshot | None
    error: str | None = None
    attempts: int = 0  # HTTP attempts spent on the lookup (media downloads not counted)


class PostFetcher:
    """Fetches post snapshots concurrently; a sync API around one asyncio run per call."""

    def __init__(
        self,
        x: XConfig,
        wayback: WaybackConfig,
        http: HttpConfig,
        media: MediaConfig,
        media_root: Path,
        *,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
    ) -> None:
        self.x = x
        self.wayback = wayback
        self.http = http
        self.media = media
        self.media_root = Path(media_root)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._closed = False

    def __enter__(self) -> PostFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing stays open between runs (each run owns its client); this only
        makes later use an error."""
        self._closed = True

    def fetch_many(self, requests: Iterable[FetchRequest]) -> Iterator[FetchResult]:
        """Fetch each unique post once (deduplicated by id), concurrently, yielding
        results as they complete.

        Runs a private event loop in the calling thread, so it works from any thread
        (APScheduler jobs) and can be called again afterwards. ``requests`` is read
        lazily: at most ``2 × http.concurrency`` posts are in flight. The loop only
        advances while the caller waits for the next result, which gives natural
        backpressure. Stopping iteration early cancels the rest cleanly.
        """
        if self._closed:
            raise RuntimeError("PostFetcher is closed")
        loop = asyncio.new_event_loop()
        results = self._run(iter(requests))
        try:
            while True:
                try:
                    result = loop.run_until_complete(results.__anext__())
                except StopAsyncIteration:
                    break
                yield result
        finally:
            try:
                loop.run_until_complete(results.aclose())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _run(self, requests: Iterator[FetchRequest]) -> AsyncGenerator[FetchResult, None]:
        window = 2 * self.http.concurrency
        seen: set[str] = set()
        pending: set[asyncio.Task[FetchResult]] = set()
        async with HttpSession(
            self.http, backoff_base=self.backoff_base, backoff_cap=self.backoff_cap
        ) as session:
            media = MediaStore(session, self.media, self.media_root)
            try:
                exhausted = False
                while True:
                    while not exhausted and len(pending) < window:
                        request = next(requests, None)
                        if request is None:
                            exhausted = True
                        elif request.post_id not in seen:
                            seen.add(request.post_id)
                            pending.add(asyncio.create_task(self._one(request, session, media)))
                    if not pending:
                        break
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        yield task.result()
            finally:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                await media.aclose()

    async def _one(
        self, request: FetchRequest, session: HttpSession, media: MediaStore
    ) -> FetchResult:
        post_id = request.post_id
        if not post_id.isdigit() or len(post_id) > 20:
            return FetchResult(post_id, None, "not a post id")
        budget = Budget.for_seconds(self.http.post_deadline)
        try:
            # The retry loop already respects the deadline; this is the backstop.
            async with asyncio.timeout(self.http.post_deadline + 1.0):
                snapshot = await self._lookup(request, session, budget)
        except FetchError as exc:
            return FetchResult(post_id, None, str(exc), budget.attempts)
        except TimeoutError:
            return FetchResult(post_id, None, "post deadline exceeded", budget.attempts)
        except Exception as exc:  # a parser bug must not end the run for every post
            log.exception("fetching post %s failed unexpectedly", post_id)
            return FetchResult(post_id, None, f"internal error: {exc!r}", budget.attempts)
        if self.media.download:
            # Own attempt counter, same deadline: media never turns an answer into a failure.
            await self._download(
                snapshot, media, Budget(deadline=budget.deadline), request.stored_media
            )
        return FetchResult(post_id, snapshot, None, budget.attempts)

    async def _lookup(
        self, request: FetchRequest, session: HttpSession, budget: Budget
    ) -> PostSnapshot:
        post_id = request.post_id
        cap = self.http.max_article_bytes
        answer = await fetch_syndication(session, self.x, post_id, budget, cap)
        if answer.kind == "tweet":
            snapshot = self._tweet_snapshot(answer.payload, answer.response, post_id, request)
            return await self._follow_edit(snapshot, session, budget, request)

        if answer.kind == "tombstone":
            notice = tombstone_text(answer.payload)
            gone = self._gone(post_id, request, tombstone_status(notice), SOURCE_SYNDICATION)
            gone.notice = notice or None
            response = answer.response
        else:
            oembed = await fetch_oembed(session, self.x, post_id, request.handle, budget, cap)
            response = oembed.response
            if oembed.kind == "ok":
                return parse_oembed(
                    oembed.payload,
                    post_id=post_id,
                    raw=response.text(),
                    source_url=response.url,
                    http_status=response.status,
                    fetched_at=utc_now_iso(),
                    handle_hint=request.handle,
                )
            status = STATUS_PROTECTED if oembed.kind == "protected" else STATUS_DELETED
            gone = self._gone(post_id, request, status, SOURCE_OEMBED)
        gone.raw = response.text()
        gone.source_url = response.url
        gone.http_status = response.status

        if self.wayback.enabled and not request.have_content:
            archived = await find_capture(
                session,
                self.wayback,
                post_id,
                request.handle,
                budget,
                max_bytes=cap,
                max_video_bytes=self.media.max_bytes,
            )
            if archived is not None:
                # The content is the archive's; the status is what X told us today.
                archived.status = gone.status
                archived.notice = gone.notice
                for related in archived.related:
                    related.source = archived.source
                return archived
        return gone

    def _tweet_snapshot(
        self, payload: dict[str, Any], response: Response, post_id: str, request: FetchRequest
    ) -> PostSnapshot:
        return snapshot_from_tweet(
            payload,
            post_id=post_id,
            raw=response.text(),
            source_url=response.url,
            http_status=response.status,
            fetched_at=utc_now_iso(),
            handle_hint=request.handle,
            max_video_bytes=self.media.max_bytes,
        )

    async def _follow_edit(
        self, snapshot: PostSnapshot, session: HttpSession, budget: Budget, request: FetchRequest
    ) -> PostSnapshot:
        """If the post was edited later, archive the latest version's content under the
        requested id, with the whole chain in ``edit_ids``."""
        chain = snapshot.edit_ids
        if not chain or chain[-1] == snapshot.post_id or snapshot.post_id not in chain:
            return snapshot
        latest_id = chain[-1]
        try:
            answer = await fetch_syndication(
                session, self.x, latest_id, budget, self.http.max_article_bytes
            )
        except FetchError as exc:
            log.info("latest edit %s of %s not fetched: %s", latest_id, snapshot.post_id, exc)
            return snapshot  # the older version is still a true snapshot
        if answer.kind != "tweet":
            return snapshot
        latest = self._tweet_snapshot(answer.payload, answer.response, snapshot.post_id, request)
        latest.url = status_url(latest.author_handle, snapshot.post_id)
        latest.created_at = snapshot.created_at  # the post's own time, not the edit's
        if len(latest.edit_ids) < len(chain):
            latest.edit_ids = chain
        return latest

    def _gone(self, post_id: str, request: FetchRequest, status: str, source: str) -> PostSnapshot:
        assert status in GONE_STATUSES
        return PostSnapshot(
            post_id=post_id,
            url=status_url(request.handle, post_id),
            author_handle=request.handle,
            created_at=created_at_from_id(post_id),
            status=status,
            source=source,
            fetched_at=utc_now_iso(),
        )

    async def _download(
        self,
        snapshot: PostSnapshot,
        media: MediaStore,
        budget: Budget,
        stored: frozenset[str] = frozenset(),
    ) -> None:
        """Download the snapshot's (and related posts') media and card images.

        URLs in ``stored`` are already archived for this post; a recheck does not
        fetch them again (storage keeps their files on the new snapshot).
        """
        jobs: list[Awaitable[None]] = []
        for snap in [snapshot, *snapshot.related]:
            skip = stored if snap is snapshot else frozenset()
            jobs.extend(self._store_item(item, media, budget, skip) for item in snap.media)
            card = snap.card
            if card and card.get("type") == "link" and isinstance(card.get("image_url"), str):
                jobs.append(self._store_card_image(card, media, budget))
        await asyncio.gather(*jobs)

    @staticmethod
    async def _store_item(
        item: MediaItem, media: MediaStore, budget: Budget, skip: frozenset[str]
    ) -> None:
        stored = await media.fetch(item.url, budget) if item.url and item.url not in skip else None
        if stored is not None:
            item.local_path = stored.name
            item.sha256 = stored.sha256
            item.bytes = stored.size
            item.content_type = stored.content_type
        if item.poster_url and item.poster_url not in skip:
            poster = await media.fetch(item.poster_url, budget)
            item.poster_local_path = poster.name if poster else None

    @staticmethod
    async def _store_card_image(card: dict[str, Any], media: MediaStore, budget: Budget) -> None:
        image = await media.fetch(card["image_url"], budget)
        card["image"] = image.name if image else None
