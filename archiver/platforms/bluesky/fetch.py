"""Bluesky's network side: ``app.bsky.feed.getPosts`` on the AppView, 25 posts a request.

One ``fetch_batch`` call:

1. resolves the handles of handle-form ids (``HANDLE/RKEY``) with
   ``com.atproto.identity.resolveHandle``, each handle once per fetcher (per run);
2. asks ``getPosts`` for up to 25 at-URIs in one request;
3. maps each post to an answer: a ``postView`` → live (or protected/suspended/
   unavailable when its labels say so, see ``payload.gone_status``); a post *absent*
   from a valid answer → deleted (getPosts silently drops deleted and taken-down
   posts); anything else — 5xx, 429, an HTML page, invalid JSON, a timeout — is a
   failure for every post of the batch, never "deleted";
4. asks ``getPosts`` once more for the parents of replies (one request for the
   batch; a failure there only leaves the parent out);
5. downloads photos, video posters, link-card images and avatars through the run's
   ``MediaStore`` (bounded, host-checked). The HLS video itself is not downloaded:
   a playlist of segments is not one bounded file the store can check; its URL is kept.

All traffic goes through the run's one ``HttpSession`` (retries, backoff,
Retry-After, per-host rate, deadlines).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Sequence
from typing import Any
from urllib.parse import quote

from archiver.config import BlueskyConfig
from archiver.encoding import loads_json
from archiver.fetch.base import FetchContext, FetchRequest, FetchResult, download_media
from archiver.fetch.http import Budget, FetchError, HttpSession, Response, utc_now_iso
from archiver.fetch.media import MediaStore
from archiver.models import STATUS_DELETED, PostSnapshot

from .payload import (
    GONE_NOTICES,
    PLATFORM,
    SOURCE_APPVIEW,
    gone_status,
    post_id_from_uri,
    snapshot_from_post_view,
)
from .tid import created_at_from_rkey
from .urls import at_uri, canonical_url, is_did, is_handle, parse_post_id

__all__ = ["BATCH_SIZE", "BlueskyFetcher"]

log = logging.getLogger(__name__)

BATCH_SIZE = 25  # getPosts accepts at most 25 uris
GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
RESOLVE_HANDLE = "/xrpc/com.atproto.identity.resolveHandle"
# A getPosts answer for 25 posts is tens of kB; this only bounds a hostile one.
MAX_JSON_BYTES = 5_000_000
# A video's url is its HLS playlist: only its poster is a file the media store takes.
_STREAMED_KINDS = frozenset({"video", "animated_gif"})


def section(ctx: FetchContext) -> BlueskyConfig:
    """The run's ``bluesky`` config section (defaults when the caller gave none)."""
    given = ctx.sections.get("bluesky")
    if isinstance(given, BlueskyConfig):
        return given
    return ctx.config.bluesky if ctx.config is not None else BlueskyConfig()


class BadAnswer(FetchError):
    """The AppView answered, but not with what the endpoint promises (never a status)."""


def _json_body(response: Response, what: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; anything else raises ``BadAnswer``."""
    if response.status != 200:
        raise BadAnswer(f"{what}: HTTP {response.status}")
    if response.content_type not in ("application/json", ""):
        raise BadAnswer(f"{what}: answered {response.content_type or 'no type'}, not JSON")
    try:
        data = loads_json(response.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadAnswer(f"{what}: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadAnswer(f"{what}: JSON is not an object")
    return data


class BlueskyFetcher:
    """A ``PlatformFetcher`` for Bluesky posts (see the module docstring)."""

    batch_size = BATCH_SIZE

    def __init__(self, ctx: FetchContext) -> None:
        self.ctx = ctx
        self.session: HttpSession = ctx.session
        self.config = section(ctx)
        self.media: MediaStore | None = ctx.media if ctx.media_config.download else None
        self.appview = self.config.appview.rstrip("/")
        self.deadline = ctx.http.post_deadline
        # handle -> its resolution (a DID, or the FetchError it raised), once per run.
        self._handles: dict[str, asyncio.Task[str]] = {}

    async def fetch_batch(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """One answer or failure per request (at most ``batch_size`` of them)."""
        if len(requests) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} posts per batch, got {len(requests)}")
        if not self.config.enabled:
            return [FetchResult(r.post_id, None, "bluesky.enabled is false") for r in requests]
        budget = self.ctx.budget()
        try:
            async with asyncio.timeout(self.deadline + 1.0):
                results = await self._batch(requests, budget)
        except TimeoutError:
            return self._all_failed(requests, "post deadline exceeded", budget)
        except Exception as exc:  # a parser bug must not end the run for every post
            log.exception("fetching a Bluesky batch failed unexpectedly")
            return self._all_failed(requests, f"internal error: {exc!r}", budget)
        if self.media is not None:
            await self._download_all(results, requests, Budget(deadline=budget.deadline))
        return results

    @staticmethod
    def _all_failed(
        requests: Sequence[FetchRequest], error: str, budget: Budget
    ) -> list[FetchResult]:
        # The batch's attempts are counted once, on its first post, so sums stay true.
        return [
            FetchResult(r.post_id, None, error, budget.attempts if i == 0 else 0)
            for i, r in enumerate(requests)
        ]

    async def _batch(self, requests: Sequence[FetchRequest], budget: Budget) -> list[FetchResult]:
        results: dict[int, FetchResult] = {}
        wanted: dict[str, list[int]] = {}  # DID-form id -> indexes of its requests
        parsed = {i: parse_post_id(r.post_id) for i, r in enumerate(requests)}
        # The batch's handles, resolved together (each once per run).
        handles = sorted({p[0] for p in parsed.values() if p and not is_did(p[0])})
        outcomes = await asyncio.gather(
            *(self._resolve(h, budget) for h in handles), return_exceptions=True
        )
        dids = dict(zip(handles, outcomes, strict=True))
        for index, request in enumerate(requests):
            parts = parsed[index]
            if parts is None:
                results[index] = FetchResult(request.post_id, None, "not a Bluesky post id")
                continue
            author, rkey = parts
            if not is_did(author):
                did = dids[author]
                if isinstance(did, FetchError):
                    results[index] = FetchResult(request.post_id, None, str(did))
                    continue
                if isinstance(did, BaseException):
                    raise did
                author = did
            wanted.setdefault(f"{author}/{rkey}", []).append(index)
        if wanted:
            try:
                views = await self._get_posts(list(wanted), budget)
            except FetchError as exc:
                for indexes in wanted.values():
                    for index in indexes:
                        results[index] = FetchResult(requests[index].post_id, None, str(exc))
            else:
                fetched_at = utc_now_iso()
                snaps = {
                    post_id: self._answer(post_id, views.get(post_id), requests[idx[0]], fetched_at)
                    for post_id, idx in wanted.items()
                }
                await self._add_parents(list(snaps.values()), budget)
                for post_id, indexes in wanted.items():
                    for index in indexes:
                        results[index] = FetchResult(requests[index].post_id, snaps[post_id])
        ordered = [results[i] for i in range(len(requests))]
        if ordered:
            ordered[0].attempts = budget.attempts
        return ordered

    async def _resolve(self, handle: str, budget: Budget) -> str:
        """The DID of ``handle``, asked once per run (a failure is remembered too)."""
        task = self._handles.get(handle)
        if task is None:
            task = asyncio.ensure_future(self._resolve_once(handle, budget))
            self._handles[handle] = task
        return await asyncio.shield(task)

    async def _resolve_once(self, handle: str, budget: Budget) -> str:
        if not is_handle(handle):
            raise FetchError(f"not a handle: {handle[:100]!r}")
        response = await self.session.get(
            self.appview + RESOLVE_HANDLE,
            params={"handle": handle},
            budget=budget,
            max_bytes=64_000,
        )
        if response.status == 400:
            # {"error":"InvalidRequest","message":"Unable to resolve handle"}: the handle
            # changed or never existed. The post may live on under its DID, which we do
            # not know: a failure to learn, not a deletion.
            raise FetchError(f"handle {handle} does not resolve (HTTP 400)")
        did = _json_body(response, "resolveHandle").get("did")
        if not isinstance(did, str) or not is_did(did):
            raise BadAnswer(f"resolveHandle: {handle} gave no usable DID")
        return did

    async def _get_posts(self, post_ids: list[str], budget: Budget) -> dict[str, dict[str, Any]]:
        """The postViews getPosts returns, by DID-form post id."""
        query = "&".join(f"uris={quote(at_uri(pid), safe='')}" for pid in post_ids)
        response = await self.session.get(
            f"{self.appview}{GET_POSTS}?{query}", budget=budget, max_bytes=MAX_JSON_BYTES
        )
        posts = _json_body(response, "getPosts").get("posts")
        if not isinstance(posts, list):
            raise BadAnswer("getPosts: no 'posts' list in the answer")
        views: dict[str, dict[str, Any]] = {}
        for view in posts[: 2 * BATCH_SIZE]:
            post_id = post_id_from_uri(view.get("uri")) if isinstance(view, dict) else None
            if post_id is not None:
                views[post_id] = view
        return views

    def _source_url(self, post_id: str) -> str:
        return f"{self.appview}{GET_POSTS}?uris={quote(at_uri(post_id), safe='')}"

    def _answer(
        self,
        post_id: str,
        view: dict[str, Any] | None,
        request: FetchRequest,
        fetched_at: str,
    ) -> PostSnapshot:
        raw = json.dumps(view, ensure_ascii=False) if view is not None else ""
        status = STATUS_DELETED if view is None else gone_status(view)
        if status is None:
            assert view is not None
            snap = snapshot_from_post_view(
                view, raw=raw, source_url=self._source_url(post_id), fetched_at=fetched_at
            )
            if snap is not None:
                return snap
            status = STATUS_DELETED  # unreachable: the view was keyed by its own URI
        # Gone: the status and a notice, no content (the author or a moderator took it
        # down, or asked logged-out readers not to see it).
        return PostSnapshot(
            post_id=post_id,
            platform=PLATFORM,
            url=canonical_url(post_id),
            author_handle=request.handle,
            author_id=post_id.rpartition("/")[0],
            created_at=created_at_from_rkey(post_id.rpartition("/")[2]),
            status=status,
            source=SOURCE_APPVIEW,
            source_url=self._source_url(post_id),
            http_status=200,
            fetched_at=fetched_at,
            notice=GONE_NOTICES[status],
        )

    async def _add_parents(self, snaps: list[PostSnapshot], budget: Budget) -> None:
        """Fetch the posts replied to (one getPosts for the batch) into ``related``."""
        parents = sorted(
            {s.reply_to_post_id for s in snaps if s.reply_to_post_id and s.status == "live"}
        )[:BATCH_SIZE]
        if not parents:
            return
        try:
            views = await self._get_posts(parents, budget)
        except FetchError as exc:
            log.info("reply parents not fetched: %s", exc)
            return
        fetched_at = utc_now_iso()
        answers: dict[str, PostSnapshot] = {}
        for parent_id in parents:
            # Absent from this valid answer: the parent was deleted, as for any post.
            parent = self._answer(
                parent_id, views.get(parent_id), FetchRequest(parent_id), fetched_at
            )
            parent.related = []  # the parent's own quote is not archived with it
            answers[parent_id] = parent
        for snap in snaps:
            if snap.reply_to_post_id in answers:
                snap.related.append(answers[snap.reply_to_post_id])

    async def _download_all(
        self, results: list[FetchResult], requests: Sequence[FetchRequest], budget: Budget
    ) -> None:
        media = self.media
        assert media is not None
        jobs: list[Awaitable[None]] = []
        done: set[int] = set()
        for result, request in zip(results, requests, strict=True):
            snap = result.snapshot
            if snap is None or id(snap) in done:
                continue
            done.add(id(snap))
            jobs.append(
                download_media(
                    snap, media, budget, request.stored_media, streamed_kinds=_STREAMED_KINDS
                )
            )
        await asyncio.gather(*jobs)
