"""A hostile web server on 127.0.0.1 for the fetch tests: bombs and drips.

``HostileServer.add(path, body, headers=...)`` serves fixed bytes with any headers
(``Content-Encoding: gzip, gzip`` included); ``add_drip`` sends a response one
byte at a time, slowly (in the headers or in the body). ``gzip_bomb`` and
``deflate_bomb`` build small bodies that decode to ``size`` zero bytes, streamed
through zlib so building one never holds the decoded bytes.
"""

from __future__ import annotations

import functools
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_BLOCK = b"\0" * (1 << 20)


def _compress(size: int, wbits: int, data: bytes | None = None, prefix: bytes = b"") -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = [packer.compress(prefix)]
    if data is not None:
        out.append(packer.compress(data))
    else:
        left = size
        while left > 0:
            piece = _BLOCK[: min(left, len(_BLOCK))]
            out.append(packer.compress(piece))
            left -= len(piece)
    out.append(packer.flush())
    return b"".join(out)


@functools.cache
def gzip_bomb(size: int, layers: int = 1, prefix: bytes = b"") -> bytes:
    """``prefix`` and ``size`` zero bytes, gzipped ``layers`` times."""
    body = _compress(size, 16 + zlib.MAX_WBITS, prefix=prefix)
    for _ in range(layers - 1):
        body = _compress(0, 16 + zlib.MAX_WBITS, body)
    return body


@functools.cache
def deflate_bomb(size: int, raw: bool = False, prefix: bytes = b"") -> bytes:
    """``prefix`` and ``size`` zero bytes as zlib-wrapped deflate (or raw deflate)."""
    return _compress(size, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS, prefix=prefix)


@dataclass
class _Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drip_interval: float = 0.0  # seconds between bytes; 0: send at once
    drip_headers: bool = False  # drip the status line and headers too


class HostileServer:
    """Serves registered paths on 127.0.0.1; records the paths requested."""

    def __init__(self) -> None:
        self.routes: dict[str, _Route] = {}
        self.requested: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._stop = threading.Event()

    def __enter__(self) -> HostileServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def add(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` with ``headers`` (Content-Length is added)."""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        self.routes[path] = _Route(body, status, all_headers)
        return self.base_url + path

    def add_drip(self, path: str, body: bytes, interval: float, *, in_headers: bool = False) -> str:
        """Serve ``body`` one byte every ``interval`` seconds (no Content-Length)."""
        headers = {"Content-Type": "text/html; charset=utf-8"}
        self.routes[path] = _Route(body, 200, headers, interval, in_headers)
        return self.base_url + path


class _Handler(BaseHTTPRequestHandler):
    server_owner: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server_owner
        path = self.path.split("?", 1)[0]
        owner.requested.append(path)
        route = owner.routes.get(path)
        if route is None:
            route = _Route(b"not found", 404, {"Content-Type": "text/plain"})
        try:
            if route.drip_interval:
                self._drip(route)
                return
            self.send_response(route.status)
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _drip(self, route: _Route) -> None:
        self.close_connection = True
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
        if not route.drip_headers:
            self.wfile.write(head)
            self.wfile.flush()
            head = b""
        for byte in head + route.body:
            if self.server_owner._stop.is_set():
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(route.drip_interval)
