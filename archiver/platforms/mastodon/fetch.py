"""Mastodon's network fetcher: ``GET https://HOST/api/v1/statuses/ID`` per post.

Every request goes through the one ``HttpSession`` with ``guarded=True``: the
instance is named by article markup, so the host guard (https, public addresses,
every redirect, per-host slots) applies, and ``http.host_overrides`` can route an
instance elsewhere (an operator's mirror, the tests' fake). Public posts need no
token. Answers, matched on the status code, never on the message text (it changed
between Mastodon versions: "Record not found", "Not Found"):

* 200 with a Status -> live snapshot; when ``edited_at`` is set, ``/history`` too;
* 404 or 410 with a JSON body -> deleted (Mastodon also answers 404 for private posts);
* 401 / 403 -> unavailable (the instance requires sign-in for its API);
* 5xx, 429 (Retry-After honoured), HTML or non-JSON bodies, a 404 that is an HTML
  page (the server is not answering as Mastodon), timeouts -> a failure;
* connection refused / DNS failure -> a failure (``HostUnreachable``): instances
  come back. ``host_down_note`` words the note the pipeline adds once the host has
  failed for ``mastodon.host_down_note_after``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from archiver.config import MastodonConfig, parse_duration
from archiver.encoding import loads_json
from archiver.fetch.base import FetchContext, FetchRequest, FetchResult, download_media
from archiver.fetch.errors import FetchError, HostUnreachable
from archiver.fetch.http import Budget, Response, utc_now_iso
from archiver.models import (
    STATUS_DELETED,
    STATUS_UNAVAILABLE,
    PostSnapshot,
    SnapshotSource,
)

from .payload import PLATFORM, snapshot_from_status
from .urls import canonical_url, created_at_from_id, split_post_id

__all__ = ["MastodonFetcher", "host_down_note"]

log = logging.getLogger(__name__)

_JSON_TYPES = ("application/json", "application/activity+json", "application/ld+json")
_GONE = {404: STATUS_DELETED, 410: STATUS_DELETED, 401: STATUS_UNAVAILABLE, 403: STATUS_UNAVAILABLE}
# A Status with its history is small; anything past this is not an honest answer.
MAX_STATUS_BYTES = 2_000_000


def host_down_note(host: str, failing_since: str, now: str, after: str) -> str | None:
    """The note for a post whose instance has been unreachable since
    ``failing_since`` (ISO 8601), once that is longer than ``after`` (a duration
    such as ``30d``); None before. Times are the archive's ``…T…Z`` strings."""
    from datetime import datetime

    def parse(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    elapsed = (parse(now) - parse(failing_since)).total_seconds()
    if elapsed < parse_duration(after):
        return None
    days = int(elapsed // 86400)
    return (
        f"The instance {host} has not been reachable since {failing_since[:10]} "
        f"({days} days); it may have shut down. The archived copy is the last one seen."
    )


def section(ctx: FetchContext) -> MastodonConfig:
    """The run's ``mastodon`` config section (defaults when the caller gave none)."""
    given = ctx.sections.get("mastodon")
    if isinstance(given, MastodonConfig):
        return given
    return ctx.config.mastodon if ctx.config is not None else MastodonConfig()


class MastodonFetcher:
    """The ``PlatformFetcher`` of Mastodon: one status per request (``batch_size = 1``)."""

    batch_size = 1

    def __init__(self, ctx: FetchContext) -> None:
        self.ctx = ctx
        self.config = section(ctx)
        self.cap = min(ctx.http.max_article_bytes, MAX_STATUS_BYTES)

    async def fetch_batch(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """One result per request; a failure is a result with ``error``, never raised."""
        if not self.config.enabled:
            return [FetchResult(r.post_id, None, "mastodon.enabled is false") for r in requests]
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    async def _one(self, request: FetchRequest) -> FetchResult:
        post_id = request.post_id
        parts = split_post_id(post_id)
        if parts is None:
            return FetchResult(post_id, None, "not a Mastodon post id (HOST/ID)")
        budget = self.ctx.budget()
        deadline = max(0.0, budget.remaining())
        try:
            async with asyncio.timeout(deadline + 1.0):
                snapshot = await self._lookup(request, parts[0], parts[1], budget)
        except HostUnreachable as exc:
            error = f"instance unreachable: {exc}"
            if request.failing_since:
                note = host_down_note(
                    parts[0], request.failing_since, utc_now_iso(), self.config.host_down_note_after
                )
                error += f". {note}" if note else ""
            return FetchResult(post_id, None, error, budget.attempts)
        except FetchError as exc:
            return FetchResult(post_id, None, str(exc), budget.attempts)
        except TimeoutError:
            return FetchResult(post_id, None, "post deadline exceeded", budget.attempts)
        except Exception as exc:  # a parser bug must not end the run for every post
            log.exception("fetching Mastodon post %s failed unexpectedly", post_id)
            return FetchResult(post_id, None, f"internal error: {exc!r}", budget.attempts)
        if self.ctx.media_config.download and snapshot.status not in _GONE.values():
            await self._download(snapshot, Budget(deadline=budget.deadline), request)
        return FetchResult(post_id, snapshot, None, budget.attempts)

    async def _get(self, url: str, budget: Budget) -> Response:
        return await self.ctx.session.get(
            url,
            budget=budget,
            headers={"Accept": "application/json"},
            max_bytes=self.cap,
            guarded=True,
        )

    async def _lookup(
        self, request: FetchRequest, host: str, status_id: str, budget: Budget
    ) -> PostSnapshot:
        api = f"https://{host}/api/v1/statuses/{status_id}"
        response = await self._get(api, budget)
        if response.status in _GONE:
            if response.content_type not in _JSON_TYPES:
                raise FetchError(
                    f"HTTP {response.status} with a {response.content_type or 'typeless'} body: "
                    "not an answer from the Mastodon API"
                )
            return self._gone(request, _GONE[response.status], response)
        if response.status != 200:
            raise FetchError(f"HTTP {response.status}")
        payload = _json_object(response)
        if payload.get("id") != status_id:
            raise FetchError("the answer names another status")
        history: list[Any] | None = None
        raw = response.text()
        if payload.get("edited_at"):
            history = await self._history(f"{api}/history", budget)
            if history is not None:
                raw = json.dumps({"status": payload, "history": history}, ensure_ascii=False)
        return snapshot_from_status(
            payload,
            host=host,
            post_id=request.post_id,
            raw=raw,
            source_url=api,
            http_status=response.status,
            fetched_at=utc_now_iso(),
            history=history,
        )

    async def _history(self, url: str, budget: Budget) -> list[Any] | None:
        """The edit history, or None when it cannot be had (the status stands alone)."""
        try:
            response = await self._get(url, budget)
            if response.status != 200 or response.content_type not in _JSON_TYPES:
                return None
            data = loads_json(response.body)
        except (FetchError, ValueError) as exc:
            log.info("edit history not fetched: %s: %s", url, exc)
            return None
        return data if isinstance(data, list) else None

    def _gone(self, request: FetchRequest, status: str, response: Response) -> PostSnapshot:
        return PostSnapshot(
            post_id=request.post_id,
            platform=PLATFORM,
            url=canonical_url(request.post_id, request.handle),
            author_handle=request.handle,
            created_at=created_at_from_id(request.post_id),
            status=status,
            source=SnapshotSource.API,
            source_url=response.url,
            http_status=response.status,
            fetched_at=utc_now_iso(),
            raw=response.text(),
        )

    async def _download(
        self, snapshot: PostSnapshot, budget: Budget, request: FetchRequest
    ) -> None:
        """Media, avatars and card images of the post and its quote, through the guard;
        files the archive already holds for this post are not fetched again."""
        await download_media(snapshot, self.ctx.media, budget, request.stored_media, guarded=True)


def _json_object(response: Response) -> dict[str, Any]:
    """The body as a JSON object, or a failure (an HTML page is not an answer)."""
    if response.content_type not in _JSON_TYPES:
        raise FetchError(f"not JSON ({response.content_type or 'no content type'})")
    try:
        data = loads_json(response.body)
    except ValueError as exc:
        raise FetchError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FetchError("the answer is not a JSON object")
    return data
