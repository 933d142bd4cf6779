"""A local fake of Mastodon instances, for tests: a real HTTP server on 127.0.0.1.

One server plays any number of instances; the instance is chosen by the ``Host``
header, which ``http.host_overrides`` keeps when it routes ``https://HOST/…`` to
the fake (``FakeMastodon.overrides``). It serves

* ``/api/v1/statuses/ID``          a Status (the shape of ``../shared/platforms/
  mastodon/api``: payloads written here by ``make_status``, not copied), or 404
  with ``{"error": "Record not found"}`` (Mastodon < 4.5) or ``{"error": "Not
  Found"}`` (the 2026 dev build): which one is per instance;
* ``/api/v1/statuses/ID/history``  the edit history (a list of versions);
* ``/media/…``                     media bytes;
* any registered reply per (host, path): 401/403 JSON, HTML error pages, redirects;

and injects faults per (host, path): 5xx bursts, 429 with Retry-After. Every
request is recorded with its host. ``refusing_base()`` is an address where
nothing listens (connection refused).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NOT_FOUND_BODIES = {
    "record": {"error": "Record not found"},
    "not-found": {"error": "Not Found"},
}
UNAUTHORIZED_BODY = {"error": "This API requires an authenticated user"}
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>We're sorry, but something went wrong (500)"
    b"</title></head><body><h1>Something went wrong</h1></body></html>"
)


@dataclass
class Reply:
    """A canned answer: status, body, content type, extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] | None = None


@dataclass
class Fault:
    """Answer ``reply`` to the next ``times`` requests of a (host, path)."""

    reply: Reply
    times: int


def json_reply(status: int, data: Any, **headers: str) -> Reply:
    """A JSON answer."""
    return Reply(status, json.dumps(data).encode(), headers=headers or None)


def make_account(
    host: str, username: str, *, acct: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An Account entity (the fields the archive reads, plus a few it ignores)."""
    account = {
        "id": "109000000000000001",
        "username": username,
        "acct": acct or username,
        "display_name": extra.pop("display_name", username.title()),
        "locked": False,
        "bot": False,
        "url": f"https://{host}/@{username}",
        "avatar": f"https://{host}/media/avatars/{username}.png",
        "avatar_static": f"https://{host}/media/avatars/{username}.png",
        "followers_count": 3,
        "emojis": [],
        "fields": [],
    }
    account.update(extra)
    return account


def make_status(
    host: str,
    status_id: str,
    content: str,
    *,
    username: str = "reporter",
    created_at: str = "2026-08-01T13:53:15.378Z",
    **extra: Any,
) -> dict[str, Any]:
    """A Status entity of ``host`` (override any field with keyword arguments)."""
    status: dict[str, Any] = {
        "id": status_id,
        "created_at": created_at,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://{host}/users/{username}/statuses/{status_id}",
        "url": f"https://{host}/@{username}/{status_id}",
        "replies_count": 1,
        "reblogs_count": 0,
        "favourites_count": 4,
        "quotes_count": 0,
        "edited_at": None,
        "content": content,
        "filtered": [],
        "reblog": None,
        "application": {"name": "Web", "website": None},
        "account": make_account(host, username),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "quote": None,
        "card": None,
        "poll": None,
    }
    status.update(extra)
    return status


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once (benchmarks)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up is not a test failure


class FakeMastodon:
    """Several Mastodon instances on one local port, chosen by the Host header."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency  # seconds each answer waits (benchmarks)
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}  # per host, for the per-host limit
        self.max_total_in_flight = 0
        self.statuses: dict[tuple[str, str], dict[str, Any]] = {}
        self.histories: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.replies: dict[tuple[str, str], Reply] = {}
        self.faults: dict[tuple[str, str], Fault] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self.not_found_style: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> FakeMastodon:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeMastodon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def overrides(self, *hosts: str) -> dict[str, str]:
        """``http.host_overrides`` sending each of ``hosts`` here."""
        return {host: self.base_url for host in hosts}

    # --- content --------------------------------------------------------------------

    def add_status(self, host: str, status: dict[str, Any]) -> str:
        """Serve ``status`` on ``host``; returns its post id ``HOST/ID``."""
        self.statuses[(host, status["id"])] = status
        return f"{host}/{status['id']}"

    def add_history(self, host: str, status_id: str, versions: list[dict[str, Any]]) -> None:
        self.histories[(host, status_id)] = versions

    def add_reply(self, host: str, path: str, reply: Reply) -> None:
        """Answer every request of (host, path) with ``reply``."""
        self.replies[(host, path)] = reply

    def add_fault(self, host: str, path: str, reply: Reply, times: int) -> None:
        """Answer the next ``times`` requests of (host, path) with ``reply``."""
        self.faults[(host, path)] = Fault(reply, times)

    def add_media(self, path: str, data: bytes, content_type: str = "image/png") -> None:
        self.media[path] = (data, content_type)

    def count(self, host: str | None = None, path: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for h, p in self.requests
                if (host is None or h == host) and (path is None or p == path)
            )

    # --- answers --------------------------------------------------------------------

    def answer(self, host: str, path: str) -> Reply:
        with self._lock:
            self.requests.append((host, path))
            fault = self.faults.get((host, path))
            if fault is not None and fault.times > 0:
                fault.times -= 1
                return fault.reply
        if (host, path) in self.replies:
            return self.replies[(host, path)]
        if path.startswith("/media/") and path in self.media:
            data, content_type = self.media[path]
            return Reply(200, data, content_type)
        parts = path.split("/")
        # /api/v1/statuses/ID[/history]
        if parts[:4] == ["", "api", "v1", "statuses"] and len(parts) in (5, 6):
            key = (host, parts[4])
            if len(parts) == 6 and parts[5] == "history" and key in self.histories:
                return json_reply(200, self.histories[key])
            if len(parts) == 5 and key in self.statuses:
                return json_reply(200, self.statuses[key])
            style = self.not_found_style.get(host, "record")
            return json_reply(404, NOT_FOUND_BODIES[style])
        return Reply(404, b"<html><body>Not here</body></html>", "text/html")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeMastodon
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle and delayed ACKs
    # add ~40 ms to every keep-alive answer (benchmarks would measure that).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").lower()
        path = self.path.split("?", 1)[0]
        owner = self.owner
        with owner._lock:
            owner.in_flight[host] = owner.in_flight.get(host, 0) + 1
            owner.max_in_flight[host] = max(owner.max_in_flight.get(host, 0), owner.in_flight[host])
            owner.max_total_in_flight = max(
                owner.max_total_in_flight, sum(owner.in_flight.values())
            )
        try:
            if owner.latency:
                time.sleep(owner.latency)
            reply = owner.answer(host, path)
        finally:
            with owner._lock:
                owner.in_flight[host] -= 1
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in (reply.headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)


def refusing_base() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def fake_mastodon() -> Iterator[FakeMastodon]:
    """A started ``FakeMastodon``, stopped afterwards."""
    with FakeMastodon() as fake:
        yield fake
