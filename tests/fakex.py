"""A local fake of X, the Wayback Machine, a media CDN and a news site, for tests.

``FakeX`` is a real HTTP server on 127.0.0.1 (threaded, port 0, background thread)
so tests exercise the real client: sockets, timeouts, retries, streaming. It serves

* ``/tweet-result?id=…``   syndication: posts, tombstones, ``{}``, 404, HTML bodies
* ``/oembed?url=…``        oEmbed: JSON, 404 (HTML body) or 403
* ``/cdx?url=…``           Wayback CDX (JSON table, header row first)
* ``/web/<ts>id_/<url>``   Wayback raw captures
* ``/media/…``             media bytes registered by path
* any other registered path: pages/sitemaps/feeds (ETag/Last-Modified, 304), redirects

and injects faults per path or per post id (latency, 5xx bursts, 429 with
Retry-After, hangs, truncated bodies, HTML block pages, bodies dripped slowly). Every request is recorded.

Usage::

    with FakeX() as fake:
        fake.add_post(make_tweet_payload("1641086480675225601", "hello", "sam", "Sam"))
        cfg = config_for(fake)
"""

from __future__ import annotations

import html
import json
import re
import struct
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from archiver.config import HttpConfig, MediaConfig, WaybackConfig, XConfig
from archiver.fetch import PostFetcher

PAYLOAD_DIR = Path(__file__).parent / "data" / "payloads"


def load_payload(name: str) -> dict[str, Any]:
    """A real response body from ``tests/data/payloads`` (see its SOURCES.md)."""
    data = json.loads((PAYLOAD_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# --- tiny real media files ----------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(seed: int = 0) -> bytes:
    """A valid 1×1 RGB PNG; ``seed`` changes the pixel so files differ."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = bytes([0, seed % 256, (seed >> 8) % 256, 128])
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(pixel))
        + _png_chunk(b"IEND", b"")
    )


def tiny_jpeg(seed: int = 0) -> bytes:
    """JPEG-framed bytes (SOI, JFIF APP0, a comment, EOI): enough for type sniffing."""
    comment = f"fake jpeg {seed}".encode()
    return (
        b"\xff\xd8"
        + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


TINY_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def tiny_mp4(seed: int = 0) -> bytes:
    """An ISO BMFF ``ftyp`` box and an ``mdat`` box: an mp4 as far as sniffing goes."""
    ftyp = b"ftyp" + b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41"
    mdat = b"mdat" + f"frames {seed}".encode()
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", len(mdat) + 4) + mdat


# --- payload builder ----------------------------------------------------------------


def x_escape(text: str) -> str:
    """Escape like X's ``text`` field: only ``&``, ``<`` and ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tco(seed: str) -> str:
    return "https://t.co/" + re.sub(r"[^A-Za-z0-9]", "", seed)[-10:].rjust(10, "x")


def make_tweet_payload(
    post_id: str,
    text: str,
    handle: str = "someone",
    name: str = "Some One",
    *,
    media: list[dict[str, Any]] | None = None,
    quoted: dict[str, Any] | None = None,
    parent: dict[str, Any] | None = None,
    created_at: str | None = None,
    links: dict[str, str] | None = None,
    avatar: str | None = None,
    card: dict[str, Any] | None = None,
    edit_ids: list[str] | None = None,
    note_tweet: bool = False,
    lang: str = "en",
    user_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A syndication ``Tweet`` shaped like the real 2023–2026 payloads.

    ``text`` is plain text (escaped here as X does). ``links`` maps ``t.co`` URLs that
    appear in ``text`` to their expanded URLs. ``media`` items: ``{"type": "photo",
    "url": …, "alt": …}`` or ``{"type": "video"|"animated_gif", "url": mp4, "poster":
    …, "variants": [...]}``; their ``t.co`` link is appended to the text, as X does.
    Mentions and hashtags in ``text`` get entities. Indices count code points.
    """
    escaped = x_escape(text)
    entities: dict[str, Any] = {
        "hashtags": [],
        "urls": [],
        "user_mentions": [],
        "symbols": [],
    }
    for short, expanded in (links or {}).items():
        at = escaped.find(short)
        assert at >= 0, f"{short} not in text"
        display = re.sub(r"^https?://(www\.)?", "", expanded)
        entities["urls"].append(
            {
                "display_url": display[:26] + ("…" if len(display) > 26 else ""),
                "expanded_url": expanded,
                "indices": [at, at + len(short)],
                "url": short,
            }
        )
    for match in re.finditer(r"(?<!\w)@(\w{1,15})", escaped):
        entities["user_mentions"].append(
            {
                "id_str": str(abs(hash(match.group(1))) % 10**9),
                "indices": [match.start(), match.end()],
                "name": match.group(1),
                "screen_name": match.group(1),
            }
        )
    for match in re.finditer(r"(?<![\w&])#(\w+)", escaped):
        entities["hashtags"].append(
            {"indices": [match.start(), match.end()], "text": match.group(1)}
        )
    display_end = len(escaped)
    details: list[dict[str, Any]] = []
    if media:
        link = _tco(f"m{post_id}")
        start = len(escaped) + 1
        escaped = f"{escaped} {link}"
        indices = [start, start + len(link)]
        expanded = f"https://x.com/{handle}/status/{post_id}/photo/1"
        entities["media"] = [
            {
                "display_url": "pic.x.com/" + link.rsplit("/", 1)[1],
                "expanded_url": expanded,
                "indices": indices,
                "url": link,
            }
        ]
        for item in media:
            kind = item.get("type", "photo")
            detail: dict[str, Any] = {
                "display_url": "pic.x.com/" + link.rsplit("/", 1)[1],
                "expanded_url": expanded,
                "ext_media_availability": {"status": "Available"},
                "indices": indices,
                "media_url_https": item["poster"] if kind != "photo" else item["url"],
                "original_info": {
                    "height": item.get("height", 896),
                    "width": item.get("width", 1995),
                    "focus_rects": [],
                },
                "type": kind,
                "url": link,
            }
            if item.get("alt"):
                detail["ext_alt_text"] = item["alt"]
            if kind != "photo":
                detail["video_info"] = {
                    "aspect_ratio": [16, 9],
                    "duration_millis": item.get("duration_millis", 9516),
                    "variants": item.get(
                        "variants",
                        [
                            {"content_type": "application/x-mpegURL", "url": item["url"] + ".m3u8"},
                            {"bitrate": 256000, "content_type": "video/mp4", "url": item["url"]},
                        ],
                    ),
                }
            details.append(detail)
    user: dict[str, Any] = {
        "id_str": str(abs(hash(handle)) % 10**9),
        "name": name,
        "profile_image_url_https": avatar
        or f"https://pbs.twimg.com/profile_images/1/{handle}_normal.jpg",
        "screen_name": handle,
        "verified": False,
        "is_blue_verified": False,
    }
    user.update(user_extra or {})
    payload: dict[str, Any] = {
        "__typename": "Tweet",
        "lang": lang,
        "favorite_count": 7,
        "possibly_sensitive": False,
        "created_at": created_at or _created_at_for(post_id),
        "display_text_range": [0, display_end],
        "entities": entities,
        "id_str": post_id,
        "text": escaped,
        "user": user,
        "edit_control": {
            "edit_tweet_ids": edit_ids or [post_id],
            "editable_until_msecs": "1680102281000",
            "is_edit_eligible": True,
            "edits_remaining": "5",
        },
        "conversation_count": 3,
        "news_action_type": "conversation",
        "isEdited": bool(edit_ids and len(edit_ids) > 1),
        "isStaleEdit": bool(edit_ids and edit_ids[-1] != post_id),
    }
    if details:
        payload["mediaDetails"] = details
        payload["photos"] = []
    if quoted is not None:
        payload["quoted_tweet"] = {k: v for k, v in quoted.items() if k != "__typename"}
    if parent is not None:
        payload["parent"] = {k: v for k, v in parent.items() if k != "__typename"}
        payload["in_reply_to_status_id_str"] = parent["id_str"]
        payload["in_reply_to_screen_name"] = parent["user"]["screen_name"]
    if card is not None:
        payload["card"] = card
    if note_tweet:
        payload["note_tweet"] = {"id": "Tm90ZVR3ZWV0OjE="}
    return payload


def _created_at_for(post_id: str) -> str:
    """The payload's whole-second time for a snowflake id (as X rounds it)."""
    value = int(post_id)
    if value < 29_700_859_247:
        return "2010-01-01T00:00:00.000Z"
    seconds = ((value >> 22) + 1288834974657) // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))


def tombstone_payload(text: str) -> dict[str, Any]:
    """A ``TweetTombstone`` like the real "deleted" one, with any message."""
    return {
        "__typename": "TweetTombstone",
        "tombstone": {"text": {"text": text, "entities": [], "rtl": False}},
    }


def oembed_payload(post_id: str, text_html: str, handle: str, name: str) -> dict[str, Any]:
    """An oEmbed answer shaped like publish.x.com's (``omit_script=1``)."""
    url = f"https://x.com/{handle}/status/{post_id}"
    return {
        "url": url,
        "author_name": name,
        "author_url": f"https://x.com/{handle}",
        "html": (
            '<blockquote class="twitter-tweet" data-dnt="true"><p lang="en" dir="ltr">'
            f"{text_html}</p>&mdash; {html.escape(name)} (@{handle}) "
            f'<a href="{url}?ref_src=twsrc%5Etfw">March 29, 2023</a></blockquote>\n'
        ),
        "width": 550,
        "height": None,
        "type": "rich",
        "cache_age": "3153600000",
        "provider_name": "X",
        "provider_url": "https://x.com",
        "version": "1.0",
    }


BLOCK_PAGE = (
    b"<!DOCTYPE html><html><head><title>Rate limited</title></head>"
    b"<body><h1>Something went wrong</h1></body></html>"
)


# --- the server ---------------------------------------------------------------------


@dataclass
class Fault:
    """Misbehaviour for matching requests; counters are used up one request at a time."""

    latency: float = 0.0  # every matching request waits this long first
    status_5xx: int = 0  # the next N answer 503
    rate_limit: int = 0  # the next N answer 429 …
    retry_after: str | None = "1"  # … with this Retry-After …
    rate_limit_reset: float | None = None  # … and/or this x-rate-limit-reset (epoch s)
    hang: int = 0  # the next N sleep ``hang_seconds`` before answering
    hang_seconds: float = 3.0
    truncate: int = 0  # the next N declare a Content-Length larger than they send
    html: int = 0  # the next N answer 200 with an HTML block page
    no_length: int = 0  # the next N send no Content-Length (body ends when the socket closes)
    drip: float = 0.0  # every matching body goes out in 4 KB pieces, this many seconds apart


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    time: float  # time.monotonic()
    headers: dict[str, str]

    @property
    def post_id(self) -> str | None:
        if "id" in self.query:
            return self.query["id"]
        match = re.search(r"/status/(\d+)", self.query.get("url", ""))
        return match.group(1) if match else None


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _norm_url(url: str) -> str:
    """CDX-style key: no scheme, no ``www.``, lower-case host."""
    url = re.sub(r"^https?://", "", url.strip(), flags=re.I)
    host, _, rest = url.partition("/")
    host = host.lower().removeprefix("www.")
    return f"{host}/{rest}" if rest else host


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the benchmark opens many connections at once
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (timed out, or killed by a stress test) is not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeX:
    """The fake services on one port. Use as a context manager or call start()/stop()."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._posts: dict[str, _Reply] = {}
        self._oembed: dict[str, _Reply] = {}
        self._captures: dict[str, list[tuple[str, bytes, str]]] = {}
        self._capture_originals: dict[tuple[str, str], str] = {}
        self._files: dict[str, _Reply] = {}
        self._pages: dict[str, tuple[_Reply, str | None, str | None]] = {}
        self._faults: list[tuple[Fault, str | None, str | None]] = []
        self._server: _Server | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeX:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeX:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port (still known after stop(): a closed port for "network down" tests)."""
        assert self._port is not None, "FakeX not started"
        return self._port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    # registration: syndication
    def add_post(self, payload: dict[str, Any]) -> str:
        """Serve a Tweet payload for its ``id_str``; returns the id."""
        post_id = str(payload["id_str"])
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._posts[post_id] = _Reply(200, body)
        return post_id

    def add_tombstone(self, post_id: str, text: str) -> None:
        self._posts[post_id] = _Reply(200, json.dumps(tombstone_payload(text)).encode())

    def add_empty(self, post_id: str) -> None:
        """Syndication answers ``{}`` (not found)."""
        self._posts[post_id] = _Reply(200, b"{}")

    def add_not_found(self, post_id: str) -> None:
        """Syndication answers 404 (also the default for unknown ids)."""
        self._posts[post_id] = _Reply(404, b"")

    def add_blocked(self, post_id: str) -> None:
        """Syndication answers 200 with an HTML page (a block page)."""
        self._posts[post_id] = _Reply(200, BLOCK_PAGE, "text/html; charset=utf-8")

    def add_raw(self, post_id: str, status: int, body: bytes, content_type: str) -> None:
        self._posts[post_id] = _Reply(status, body, content_type)

    # registration: oEmbed (unknown ids: 404 with an HTML body, like publish.x.com)
    def add_oembed(self, post_id: str, payload: dict[str, Any]) -> None:
        self._oembed[post_id] = _Reply(200, json.dumps(payload, ensure_ascii=False).encode())

    def set_oembed_status(self, post_id: str, status: int) -> None:
        self._oembed[post_id] = _Reply(status, b"<html><body>Error</body></html>", "text/html")

    # registration: Wayback
    def add_capture(self, original: str, timestamp: str, body: bytes | str, mimetype: str) -> None:
        """An archived copy of ``original`` (e.g. ``https://twitter.com/a/status/1``)."""
        data = body.encode() if isinstance(body, str) else body
        self._captures.setdefault(_norm_url(original), []).append((timestamp, data, mimetype))
        self._capture_originals[(_norm_url(original), timestamp)] = original

    # registration: files and pages
    def add_media(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve bytes at ``/media/<path>``; returns the absolute URL."""
        path = "/media/" + path.lstrip("/")
        self._files[path] = _Reply(200, data, content_type)
        return self.base_url + path

    def add_redirect(self, path: str, location: str, status: int = 302) -> str:
        self._files[path] = _Reply(status, b"", "text/plain", {"Location": location})
        return self.base_url + path

    def add_page(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> str:
        """Serve an article/sitemap/feed; conditional requests get 304 when unchanged."""
        data = body.encode() if isinstance(body, str) else body
        headers = {}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        self._pages[path] = (_Reply(200, data, content_type, headers), etag, last_modified)
        return self.base_url + path

    def add_fault(
        self, fault: Fault, *, path: str | None = None, post_id: str | None = None
    ) -> Fault:
        """Apply ``fault`` to requests for ``path`` and/or about ``post_id`` (both None:
        every request)."""
        self._faults.append((fault, path, post_id))
        return fault

    # inspection
    def count(self, path: str | None = None, post_id: str | None = None) -> int:
        return len(list(self.requests_for(path, post_id)))

    def requests_for(
        self, path: str | None = None, post_id: str | None = None
    ) -> Iterator[RecordedRequest]:
        with self._lock:
            recorded = list(self.requests)
        for r in recorded:
            if (path is None or r.path == path) and (post_id is None or r.post_id == post_id):
                yield r

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # request handling (called from server threads)
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _take(self, fault: Fault, name: str) -> bool:
        with self._lock:
            left = getattr(fault, name)
            if left > 0:
                setattr(fault, name, left - 1)
                return True
            return False

    def _faults_for(self, request: RecordedRequest) -> list[Fault]:
        return [
            f
            for f, path, post_id in self._faults
            if (path is None or path == request.path)
            and (post_id is None or post_id == request.post_id)
        ]

    def _route(self, request: RecordedRequest, headers: dict[str, str]) -> _Reply:
        path, query = request.path, request.query
        if path == "/tweet-result":
            return self._posts.get(query.get("id", ""), _Reply(404, b""))
        if path == "/oembed":
            post_id = request.post_id or ""
            return self._oembed.get(
                post_id, _Reply(404, b"<html><body>Not found</body></html>", "text/html")
            )
        if path == "/cdx":
            key = _norm_url(query.get("url", ""))
            rows: list[list[str]] = []
            originals = self._capture_originals
            for stamp, data, mime in sorted(self._captures.get(key, [])):
                original = originals.get((key, stamp), "https://" + key)
                rows.append(["urlkey", stamp, original, mime, "200", "DIGEST", str(len(data))])
            limit = query.get("limit", "")
            if limit.startswith("-") and limit[1:].isdigit():
                rows = rows[-int(limit[1:]) :]
            header = [
                "urlkey",
                "timestamp",
                "original",
                "mimetype",
                "statuscode",
                "digest",
                "length",
            ]
            table = [header, *rows] if rows else []
            return _Reply(200, json.dumps(table).encode())
        match = re.match(r"^/web/(\d{14})id_/(.+)$", path)
        if match:
            stamp, original = match.groups()
            for cap_stamp, data, mime in self._captures.get(_norm_url(original), []):
                if cap_stamp == stamp:
                    return _Reply(200, data, mime)
            return _Reply(404, b"not archived", "text/plain")
        if path in self._files:
            return self._files[path]
        if path in self._pages:
            reply, etag, last_modified = self._pages[path]
            if etag and headers.get("if-none-match") == etag:
                return _Reply(304, b"", reply.content_type, dict(reply.headers))
            since = headers.get("if-modified-since")
            if last_modified and since and not headers.get("if-none-match"):
                try:
                    if parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified):
                        return _Reply(304, b"", reply.content_type, dict(reply.headers))
                except (TypeError, ValueError):
                    pass
            return reply
        return _Reply(404, b"not found", "text/plain")


_DRIP_PIECE = 4096


class _Handler(BaseHTTPRequestHandler):
    owner: FakeX
    protocol_version = "HTTP/1.1"  # keep-alive, as real CDNs do
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the
    # client's delayed ACK adds ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read ``FakeX.requests`` instead

    def do_GET(self) -> None:
        fake = self.owner
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path
        # Wayback: the original URL's own query string belongs to the path part.
        if path.startswith("/web/") and parts.query:
            path = f"{path}?{parts.query}"
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = RecordedRequest("GET", path, query, time.monotonic(), headers)
        fake._record(request)
        faults = fake._faults_for(request)

        delay = fake.latency + sum(f.latency for f in faults)
        if delay:
            time.sleep(delay)
        for fault in faults:
            if fake._take(fault, "hang"):
                time.sleep(fault.hang_seconds)
                break
        for fault in faults:
            if fake._take(fault, "status_5xx"):
                return self._send(_Reply(503, b"busy", "text/plain"))
            if fake._take(fault, "rate_limit"):
                extra = {}
                if fault.retry_after is not None:
                    extra["Retry-After"] = fault.retry_after
                if fault.rate_limit_reset is not None:
                    extra["x-rate-limit-reset"] = str(int(fault.rate_limit_reset))
                return self._send(_Reply(429, b"slow down", "text/plain", extra))
            if fake._take(fault, "html"):
                return self._send(_Reply(200, BLOCK_PAGE, "text/html; charset=utf-8"))
        reply = fake._route(request, headers)
        for fault in faults:
            if fake._take(fault, "truncate"):
                return self._send(reply, truncate=True)
            if fake._take(fault, "no_length"):
                return self._send(reply, no_length=True)
        self._send(reply, drip=max((f.drip for f in faults), default=0.0))

    def _send(
        self, reply: _Reply, truncate: bool = False, no_length: bool = False, drip: float = 0.0
    ) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            body = b"" if reply.status == 304 else reply.body
            declared = len(body) + (1000 if truncate else 0)
            if reply.status != 304 and not no_length:
                self.send_header("Content-Length", str(declared))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if truncate or no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if drip:
                # A slow download: the client holds a partial body for a while.
                for at in range(0, len(body), _DRIP_PIECE):
                    self.wfile.write(body[at : at + _DRIP_PIECE])
                    self.wfile.flush()
                    time.sleep(drip)
            else:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): fine


# --- configuration helpers ----------------------------------------------------------


class FakeEndpoint(Protocol):
    """What the config helpers need: a ``FakeX``, or one running in another process."""

    @property
    def base_url(self) -> str: ...

    @property
    def host(self) -> str: ...


def config_for(fake: FakeEndpoint, **overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Config fragments (``x``, ``wayback``, ``media``, ``http``) pointing at ``fake``,
    with fast test values; ``overrides`` update a section, e.g. ``http={"retries": 0}``."""
    base = fake.base_url
    fragments: dict[str, dict[str, Any]] = {
        "x": {
            "fetch": True,
            "syndication_url": f"{base}/tweet-result",
            "oembed_url": f"{base}/oembed",
        },
        "wayback": {"enabled": True, "cdx_url": f"{base}/cdx", "base_url": f"{base}/web"},
        "media": {"download": True, "max_bytes": 1_000_000, "allowed_hosts": [fake.host]},
        "http": {
            "concurrency": 8,
            "per_host_rate": 10_000,  # never the bottleneck against 127.0.0.1
            "timeout": 1.0,
            "retries": 2,
            "post_deadline": 5.0,
        },
    }
    for section, values in overrides.items():
        fragments[section].update(values)
    return fragments


def make_fetcher(
    fake: FakeEndpoint, media_root: Path, *, backoff_base: float = 0.02, **overrides: dict[str, Any]
) -> PostFetcher:
    """A ``PostFetcher`` wired to ``fake`` with small timeouts and backoff."""
    cfg = config_for(fake, **overrides)
    return PostFetcher(
        XConfig(**cfg["x"]),
        WaybackConfig(**cfg["wayback"]),
        HttpConfig(**cfg["http"]),
        MediaConfig(**cfg["media"]),
        media_root,
        backoff_base=backoff_base,
        backoff_cap=0.5,
    )
