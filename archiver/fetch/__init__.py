"""The network snapshot layer: everything the project fetches about posts.

``PostFetcher.fetch_many`` is the only entry point the pipeline uses. It groups the
requests by platform (``FetchRequest.platform``), fills batches up to each platform
fetcher's ``batch_size`` and keeps at most ``2 × http.concurrency`` batches in flight
overall (for X, one post a batch), all over one HTTP session and one media store
(``FetchContext``). Each
platform's fetcher says what it learnt: X's (``archiver.platforms.x.fetcher``) asks
syndication, then oEmbed, then the Wayback Machine.

A snapshot is an *answer* about the post; ``snapshot=None`` with ``error`` is a
failure to get one (retry later, keep what is archived). A gone post's snapshot
carries the status and notice but no text unless Wayback had a copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from archiver.config import Config, HttpConfig, MediaConfig, WaybackConfig, XConfig

from .base import (
    FetchContext,
    FetcherSource,
    FetchRequest,
    FetchResult,
    PlatformFetcher,
    download_media,
)
from .retry import DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP

__all__ = [
    "FetchContext",
    "FetchRequest",
    "FetchResult",
    "PlatformFetcher",
    "PostFetcher",
    "download_media",
]

log = logging.getLogger(__name__)


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
        platforms: Sequence[FetcherSource] | None = None,
        sections: Mapping[str, Any] | None = None,
        config: Config | None = None,
    ) -> None:
        """``platforms``: whose posts can be fetched (the registry's, from the caller;
        default X alone). ``sections``: platform config sections by name, beyond
        ``x`` and ``wayback``; ``config``: the whole loaded config. Both are handed to
        the fetchers (``FetchContext``)."""
        self.x = x
        self.wayback = wayback
        self.http = http
        self.media = media
        self.media_root = Path(media_root)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.platforms = tuple(platforms) if platforms is not None else None
        self.sections: dict[str, Any] = {"x": x, "wayback": wayback, **(sections or {})}
        self.config = config
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

    def platform_names(self) -> tuple[str, ...]:
        """The platforms whose posts this fetcher looks up."""
        return tuple(p.name for p in self.platforms) if self.platforms is not None else ("x",)

    def close(self) -> None:
        """Nothing stays open between runs (each run owns its client); this only
        makes later use an error."""
        self._closed = True

    def fetch_many(self, requests: Iterable[FetchRequest]) -> Iterator[FetchResult]:
        """Fetch each unique post once (deduplicated by platform and id), concurrently,
        yielding results as they complete.

        Runs a private event loop in the calling thread, so it works from any thread
        (APScheduler jobs) and can be called again afterwards. ``requests`` is read
        lazily: at most ``2 × http.concurrency`` batches (requests: one post each for
        X and Mastodon, up to 25 for Bluesky) are in flight or being filled, and a batch
        goes out full unless the input has run out or nothing else is in flight. (A
        window counted in posts would send Bluesky's batches part-empty: 32 posts in
        flight at concurrency 16 hold one batch of 25 and one of 7.) The loop only
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

    def _fetchers(self, ctx: FetchContext) -> dict[str, PlatformFetcher]:
        if self.platforms is None:
            # Imported here: X's fetcher imports this package's modules, and may be the
            # first of the two to be imported.
            from archiver.platforms.x.fetcher import XFetcher

            return {"x": XFetcher(ctx)}
        return {p.name: p.fetcher(ctx) for p in self.platforms}

    async def _run(self, requests: Iterator[FetchRequest]) -> AsyncGenerator[FetchResult, None]:
        window = 2 * self.http.concurrency  # batches sent or being filled
        seen: set[tuple[str, str]] = set()
        pending: dict[asyncio.Task[list[FetchResult]], list[FetchRequest]] = {}
        waiting: dict[str, list[FetchRequest]] = {}  # per platform, a batch being filled
        carry: FetchRequest | None = None  # read, but no room for a new batch yet
        # Imported when a fetch runs: httpx costs a fresh process 0.18 s, which a run
        # that fetches nothing (an offline backfill) need not pay.
        from .http import HttpSession
        from .media import MediaStore

        async with HttpSession(
            self.http, backoff_base=self.backoff_base, backoff_cap=self.backoff_cap
        ) as session:
            media = MediaStore(session, self.media, self.media_root)
            ctx = FetchContext(session, media, self.http, self.media, self.sections, self.config)
            fetchers = self._fetchers(ctx)

            def launch(platform: str) -> None:
                batch = waiting.pop(platform)
                task = asyncio.create_task(_guarded(fetchers[platform], platform, batch))
                pending[task] = batch

            try:
                exhausted = False
                while True:
                    while not exhausted:
                        request, carry = carry, None
                        if request is None:
                            request = next(requests, None)
                            if request is None:
                                exhausted = True
                                break
                            key = (request.platform, request.post_id)
                            if key in seen:
                                continue
                            seen.add(key)
                        fetcher = fetchers.get(request.platform)
                        if fetcher is None:
                            yield FetchResult(
                                request.post_id,
                                None,
                                f"no fetcher for platform {request.platform!r}",
                                platform=request.platform,
                            )
                            continue
                        batch = waiting.get(request.platform)
                        if batch is None:
                            if len(pending) + len(waiting) >= window:
                                carry = request  # wait for a batch to come back
                                break
                            batch = waiting[request.platform] = []
                        batch.append(request)
                        if len(batch) >= max(1, fetcher.batch_size):
                            launch(request.platform)
                    # Part-filled batches go out when nothing more will come, or when
                    # nothing else is in flight to wait for.
                    if exhausted or not pending:
                        for platform in list(waiting):
                            launch(platform)
                    if not pending:
                        break
                    done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        pending.pop(task)
                        for result in task.result():
                            yield result
            finally:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                await media.aclose()


async def _guarded(
    fetcher: PlatformFetcher, platform: str, batch: list[FetchRequest]
) -> list[FetchResult]:
    """A batch's results, each tagged with its platform; a fetcher that raises (a bug)
    fails its batch, never the run."""
    try:
        results = await fetcher.fetch_batch(batch)
    except Exception as exc:
        log.exception("fetching a %s batch failed unexpectedly", platform)
        results = [
            FetchResult(r.post_id, None, f"internal error: {exc!r}", platform=platform)
            for r in batch
        ]
    for result in results:
        result.platform = platform
    return results
