"""X's network side as a ``PlatformFetcher``: syndication, then oEmbed, then the Wayback
Machine, one post at a time (``batch_size`` 1).

For each post: syndication (``tweet-result``): a Tweet -> live snapshot (media
downloaded, the latest edit followed); a tombstone -> deleted/protected/suspended/
unavailable; ``{}`` or 404 -> not found, go on; an HTML body, 5xx, timeouts -> failure.
oEmbed, when syndication does not know the post: 200 -> live (poorer) snapshot, 404 ->
deleted, 403 -> protected. The Wayback Machine, when the post is gone and the archive
has no text for it. The endpoint clients are this package's ``syndication`` (with its
``token``), ``oembed`` and ``wayback``; the transport they share is ``archiver.fetch.http``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from archiver.config import WaybackConfig, XConfig
from archiver.fetch.base import FetchContext, FetchRequest, FetchResult, download_media
from archiver.fetch.http import Budget, FetchError, HttpSession, Response, utc_now_iso
from archiver.models import (
    GONE_STATUSES,
    SOURCE_OEMBED,
    SOURCE_SYNDICATION,
    STATUS_DELETED,
    STATUS_PROTECTED,
    PostSnapshot,
)
from archiver.platforms.x.oembed import fetch_oembed, parse_oembed
from archiver.platforms.x.snowflake import created_at_from_id
from archiver.platforms.x.syndication import (
    fetch_syndication,
    snapshot_from_tweet,
    status_url,
    tombstone_status,
    tombstone_text,
)
from archiver.platforms.x.urls import is_post_id
from archiver.platforms.x.wayback import find_capture

__all__ = ["XFetcher"]

log = logging.getLogger("archiver.fetch")


class XFetcher:
    """X's ``PlatformFetcher`` for one run (see the module docstring)."""

    batch_size = 1

    def __init__(self, ctx: FetchContext) -> None:
        self.ctx = ctx
        self.x: XConfig = ctx.sections["x"]
        self.wayback: WaybackConfig = ctx.sections["wayback"]
        self.http = ctx.http
        self.media = ctx.media_config

    async def fetch_batch(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """Each post on its own (X has no batch endpoint the archive may use)."""
        return [await self._one(request, self.ctx.session) for request in requests]

    async def _one(self, request: FetchRequest, session: HttpSession) -> FetchResult:
        post_id = request.post_id
        if not is_post_id(post_id):
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
            await download_media(
                snapshot, self.ctx.media, Budget(deadline=budget.deadline), request.stored_media
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
