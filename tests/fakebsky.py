"""A local fake of Bluesky's AppView and CDN, for tests: a real HTTP server on 127.0.0.1.

``FakeBsky`` speaks the shapes of the real API (see ../shared/platforms/bluesky/api/:
``postView`` with ``author``, ``record``, ``embed`` views, ``labels``; getPosts answers
``{"posts": [...]}`` and silently leaves out posts it does not have). The payloads are
built fresh by the helpers below, not copied. It serves

* ``/xrpc/app.bsky.feed.getPosts?uris=…&uris=…``   at most 25 uris (more: 400, as the
  real one); every call's uri list is kept in ``get_posts_calls``;
* ``/xrpc/com.atproto.identity.resolveHandle?handle=…``   ``{"did": …}`` or 400;
* ``/img/…`` and ``/watch/…``   media bytes registered with ``add_media``;

and injects ``fakex.Fault``s per path (5xx bursts, 429 with Retry-After, HTML pages,
hangs). Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fakex import BLOCK_PAGE, Fault, RecordedRequest, _Handler, _Reply, _Server

from archiver.config import Config
from archiver.fetch import FetchRequest, FetchResult
from archiver.fetch.base import FetchContext
from archiver.fetch.http import HttpSession
from archiver.fetch.media import MediaStore
from archiver.platforms.bluesky import BLUESKY

GET_POSTS = "/xrpc/app.bsky.feed.getPosts"
RESOLVE_HANDLE = "/xrpc/com.atproto.identity.resolveHandle"
MAX_URIS = 25

# Well-formed DIDs for tests (did:plc: + 24 characters of [a-z2-7]).
ALICE = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
BOB = "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"
CAROL = "did:plc:cccccccccccccccccccccccc"


def at_uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def make_post_view(
    did: str,
    rkey: str,
    text: str,
    *,
    handle: str = "alice.example.com",
    name: str | None = "Alice",
    avatar: str | None = None,
    created_at: str = "2024-11-26T23:04:02.981Z",
    indexed_at: str = "2024-11-26T23:04:03.500Z",
    facets: list[dict[str, Any]] | None = None,
    embed: dict[str, Any] | None = None,
    labels: Sequence[str] = (),
    author_labels: Sequence[str] = (),
    reply_parent: str | None = None,
    langs: Sequence[str] = ("en",),
    likes: int = 3,
    replies: int = 1,
) -> dict[str, Any]:
    """An ``app.bsky.feed.defs#postView`` as getPosts returns it."""
    uri = at_uri(did, rkey)
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": created_at,
        "langs": list(langs),
        "text": text,
    }
    if facets:
        record["facets"] = facets
    if reply_parent:
        ref = {"cid": "bafyreiparent", "uri": reply_parent}
        record["reply"] = {"parent": ref, "root": ref}
    author: dict[str, Any] = {
        "did": did,
        "handle": handle,
        "labels": [_label(did, v) for v in author_labels],
        "viewer": {"muted": False, "blockedBy": False},
        "createdAt": "2023-04-26T19:05:34.249Z",
    }
    if name is not None:
        author["displayName"] = name
    if avatar is not None:
        author["avatar"] = avatar
    view: dict[str, Any] = {
        "uri": uri,
        "cid": "bafyrei" + rkey,
        "author": author,
        "record": record,
        "replyCount": replies,
        "repostCount": 0,
        "likeCount": likes,
        "quoteCount": 0,
        "indexedAt": indexed_at,
        "viewer": {"threadMuted": False},
        "labels": [_label(uri, v) for v in labels],
    }
    if embed is not None:
        view["embed"] = embed
    return view


def _label(uri: str, value: str) -> dict[str, Any]:
    return {
        "src": "did:plc:ar7c4by46qjdydhdevvrndac",
        "uri": uri,
        "val": value,
        "cts": "2024-11-27T00:00:00.000Z",
    }


def facet(start: int, end: int, kind: str, value: str) -> dict[str, Any]:
    """A richtext facet over UTF-8 byte offsets; kind is link, mention or tag."""
    key = {"link": "uri", "mention": "did", "tag": "tag"}[kind]
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", key: value}],
    }


def images_view(base: str, did: str, cids: Sequence[str], alts: Sequence[str]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.images#view",
        "images": [
            {
                "thumb": f"{base}/img/feed_thumbnail/plain/{did}/{cid}@jpeg",
                "fullsize": f"{base}/img/feed_fullsize/plain/{did}/{cid}@jpeg",
                "alt": alt,
                "aspectRatio": {"width": 1200, "height": 800},
            }
            for cid, alt in zip(cids, alts, strict=True)
        ],
    }


def gallery_view(base: str, did: str, cids: Sequence[str]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.gallery#view",
        "items": [
            {
                "$type": "app.bsky.embed.gallery#viewImage",
                "thumbnail": f"{base}/img/feed_thumbnail/plain/{did}/{cid}@jpeg",
                "fullsize": f"{base}/img/feed_fullsize/plain/{did}/{cid}@jpeg",
                "alt": f"picture {cid}",
                "aspectRatio": {"width": 4, "height": 3},
            }
            for cid in cids
        ],
    }


def video_view(base: str, did: str, cid: str) -> dict[str, Any]:
    watch = f"{base}/watch/{quote(did, safe='')}/{cid}"
    return {
        "$type": "app.bsky.embed.video#view",
        "cid": cid,
        "playlist": f"{watch}/playlist.m3u8",
        "thumbnail": f"{watch}/thumbnail.jpg",
        "alt": "a short clip",
        "aspectRatio": {"width": 1080, "height": 1920},
    }


def external_view(url: str, title: str, description: str, thumb: str | None) -> dict[str, Any]:
    external: dict[str, Any] = {"uri": url, "title": title, "description": description}
    if thumb:
        external["thumb"] = thumb
    return {"$type": "app.bsky.embed.external#view", "external": external}


def quote_view(quoted: dict[str, Any]) -> dict[str, Any]:
    """``app.bsky.embed.record#view`` of a quoted post (a postView turned viewRecord)."""
    inner = {
        "$type": "app.bsky.embed.record#viewRecord",
        "uri": quoted["uri"],
        "cid": quoted["cid"],
        "author": quoted["author"],
        "value": quoted["record"],
        "labels": [],
        "likeCount": quoted.get("likeCount", 0),
        "replyCount": quoted.get("replyCount", 0),
        "indexedAt": quoted["indexedAt"],
        "embeds": [quoted["embed"]] if "embed" in quoted else [],
    }
    return {"$type": "app.bsky.embed.record#view", "record": inner}


def quote_gone_view(uri: str, kind: str) -> dict[str, Any]:
    """A quote of a post that is gone: kind is notFound, blocked or detached."""
    inner: dict[str, Any] = {"$type": f"app.bsky.embed.record#view{kind[0].upper()}{kind[1:]}"}
    inner["uri"] = uri
    inner[kind] = True
    if kind == "blocked":
        inner["author"] = {"did": uri.split("/")[2], "viewer": {"blockedBy": True}}
    return {"$type": "app.bsky.embed.record#view", "record": inner}


def record_with_media_view(quote: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    return {"$type": "app.bsky.embed.recordWithMedia#view", "record": quote, "media": media}


class FakeBsky:
    """The fake AppView and CDN on one port. Use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.get_posts_calls: list[list[str]] = []
        self._lock = threading.Lock()
        self._posts: dict[str, dict[str, Any]] = {}
        self._handles: dict[str, str] = {}
        self._files: dict[str, _Reply] = {}
        self._raw: dict[str, _Reply] = {}
        self._faults: list[tuple[Fault, str | None]] = []
        self._server: _Server | None = None
        self._port: int | None = None

    def __enter__(self) -> FakeBsky:
        fake = self

        class Handler(_BskyHandler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._port = int(self._server.server_address[1])
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._port is not None, "FakeBsky not started"
        return f"http://127.0.0.1:{self._port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._port}"

    # set-up
    def add_post(self, view: dict[str, Any]) -> str:
        """Serve ``view`` from getPosts; returns its DID-form post id."""
        self._posts[view["uri"]] = view
        return view["uri"].removeprefix("at://").replace("/app.bsky.feed.post/", "/")

    def delete_post(self, uri: str) -> None:
        self._posts.pop(uri, None)

    def add_handle(self, handle: str, did: str) -> None:
        self._handles[handle] = did

    def add_media(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve bytes at ``path`` (``/img/…``); returns the absolute URL."""
        self._files[path] = _Reply(200, data, content_type)
        return self.base_url + path

    def set_raw(self, path: str, status: int, body: bytes, content_type: str) -> None:
        """Answer every request for ``path`` with this, whatever it asks."""
        self._raw[path] = _Reply(status, body, content_type)

    def add_fault(self, fault: Fault, *, path: str | None = None) -> Fault:
        self._faults.append((fault, path))
        return fault

    # inspection
    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if path is None or r.path == path)

    # request handling (server threads)
    def _route(self, path: str, query: dict[str, list[str]]) -> _Reply:
        if path in self._raw:
            return self._raw[path]
        if path == GET_POSTS:
            uris = query.get("uris", [])
            with self._lock:
                self.get_posts_calls.append(list(uris))
            if len(uris) > MAX_URIS:
                return _error(400, "InvalidRequest", "uris must not have more than 25 elements")
            posts = [self._posts[u] for u in uris if u in self._posts]
            return _Reply(200, json.dumps({"posts": posts}).encode())
        if path == RESOLVE_HANDLE:
            did = self._handles.get(query.get("handle", [""])[0])
            if did is None:
                return _error(400, "InvalidRequest", "Unable to resolve handle")
            return _Reply(200, json.dumps({"did": did}).encode())
        if path in self._files:
            return self._files[path]
        return _error(404, "NotFound", "not found")


def _error(status: int, error: str, message: str) -> _Reply:
    return _Reply(status, json.dumps({"error": error, "message": message}).encode())


class _BskyHandler(_Handler):
    owner: FakeBsky  # type: ignore[assignment]

    def do_GET(self) -> None:
        fake = self.owner
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        flat = {k: v[0] for k, v in query.items()}
        request = RecordedRequest("GET", parts.path, flat, time.monotonic(), headers)
        with fake._lock:
            fake.requests.append(request)
            faults = [f for f, path in fake._faults if path is None or path == parts.path]
        for fault in faults:
            if fault.latency:
                time.sleep(fault.latency)
            if _take(fake, fault, "hang"):
                time.sleep(fault.hang_seconds)
                break
        for fault in faults:
            if _take(fake, fault, "status_5xx"):
                return self._send(_Reply(503, b"busy", "text/plain"))
            if _take(fake, fault, "rate_limit"):
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self._send(_error_429(extra))
            if _take(fake, fault, "html"):
                return self._send(_Reply(200, BLOCK_PAGE, "text/html; charset=utf-8"))
        self._send(fake._route(parts.path, query))


def _error_429(extra: dict[str, str]) -> _Reply:
    body = json.dumps({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})
    return _Reply(429, body.encode(), "application/json", {"ratelimit-remaining": "0", **extra})


def _take(fake: FakeBsky, fault: Fault, name: str) -> bool:
    with fake._lock:
        left = getattr(fault, name)
        if left > 0:
            setattr(fault, name, left - 1)
            return True
        return False


# --- running the fetcher against the fake -------------------------------------------


def bsky_config(fake: FakeBsky, **overrides: dict[str, Any]) -> Config:
    """A Config whose AppView is ``fake``, with fast test values."""
    raw: dict[str, dict[str, Any]] = {
        "bluesky": {"enabled": True, "appview": fake.base_url},
        "media": {"download": True, "max_bytes": 1_000_000, "allowed_hosts": [fake.host]},
        "http": {
            "concurrency": 8,
            "per_host_rate": 10_000,
            "timeout": 1.0,
            "retries": 2,
            "post_deadline": 5.0,
        },
    }
    for section, values in overrides.items():
        raw.setdefault(section, {}).update(values)
    return Config.model_validate(raw)


def fetch_posts(
    fake: FakeBsky,
    media_root: Path,
    post_ids: Iterable[str],
    *,
    stored_media: frozenset[str] = frozenset(),
    **overrides: dict[str, Any],
) -> list[FetchResult]:
    """Fetch ``post_ids`` in batches of the fetcher's size through a real HttpSession."""
    config = bsky_config(fake, **overrides)
    requests = [FetchRequest(post_id=p, stored_media=stored_media) for p in post_ids]

    async def run() -> list[FetchResult]:
        async with HttpSession(config.http, backoff_base=0.02, backoff_cap=0.3) as session:
            media = MediaStore(session, config.media, media_root)
            ctx = FetchContext(
                session, media, config.http, config.media, {"bluesky": config.bluesky}, config
            )
            fetcher = BLUESKY.fetcher(ctx)
            size = fetcher.batch_size
            results: list[FetchResult] = []
            try:
                for at in range(0, len(requests), size):
                    results.extend(await fetcher.fetch_batch(requests[at : at + size]))
            finally:
                await media.aclose()
            return results

    return asyncio.run(run())
