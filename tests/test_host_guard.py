"""The host guard: requests to hosts named by untrusted markup (Mastodon instances,
their media hosts) are refused before anything is sent unless they are https to a
public host, on the first URL and on every redirect; ``http.host_overrides`` routes a
host elsewhere and trusts it; per-host concurrency holds.

Every refusal is checked against a real listening server on 127.0.0.1 that counts
the connections it accepts: a refused request must leave the count at zero.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archiver.config import ConfigError, HttpConfig, MediaConfig, config_from_dict
from archiver.fetch.errors import HostRefused
from archiver.fetch.http import Budget, HttpSession, Response
from archiver.fetch.media import MediaStore


class CountingServer(ThreadingHTTPServer):
    """A real HTTP server that counts accepted connections and per-Host concurrency.

    ``routes`` maps a path to (status, headers, body); anything else is 200 "ok".
    """

    daemon_threads = True

    def __init__(self, delay: float = 0.0) -> None:
        self.connections = 0
        self.delay = delay
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hosts_seen: list[str] = []
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.max_total = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _CountingHandler)

    def get_request(self) -> Any:
        request = super().get_request()
        with self.lock:
            self.connections += 1
        return request

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _CountingHandler(BaseHTTPRequestHandler):
    server: CountingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        host = self.headers.get("Host", "")
        with server.lock:
            server.hosts_seen.append(host)
            server.in_flight[host] = server.in_flight.get(host, 0) + 1
            server.max_in_flight[host] = max(
                server.max_in_flight.get(host, 0), server.in_flight[host]
            )
            server.max_total = max(server.max_total, sum(server.in_flight.values()))
        try:
            if server.delay:
                time.sleep(server.delay)
            status, headers, body = server.routes.get(self.path, (200, {}, b"ok"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with server.lock:
                server.in_flight[host] -= 1


def _serve(delay: float = 0.0) -> Iterator[CountingServer]:
    server = CountingServer(delay)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server() -> Iterator[CountingServer]:
    yield from _serve()


@pytest.fixture
def other() -> Iterator[CountingServer]:
    yield from _serve()


def _http(**overrides: Any) -> HttpConfig:
    return HttpConfig(retries=0, timeout=5, post_deadline=10, **overrides)


def _get(http: HttpConfig, url: str) -> Response:
    async def run() -> Response:
        async with HttpSession(http, backoff_base=0.01, backoff_cap=0.05) as session:
            return await session.get(
                url, budget=Budget.for_seconds(10), max_bytes=1_000_000, guarded=True
            )

    return asyncio.run(run())


def _refused(http: HttpConfig, url: str) -> str:
    with pytest.raises(HostRefused) as caught:
        _get(http, url)
    return str(caught.value)


# Forms that all mean "this machine" or a private network, each refused by the guard.
LOOPBACK_FORMS = [
    "https://127.0.0.1:{port}/",
    "https://2130706433:{port}/",  # decimal
    "https://0177.0.0.1:{port}/",  # octal
    "https://0x7f.0.0.1:{port}/",  # hex
    "https://0x7f000001:{port}/",  # one hex number
    "https://127.1:{port}/",  # short
    "https://127.0.1:{port}/",
    "https://017700000001:{port}/",  # one octal number
    "https://[::1]:{port}/",
    "https://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped IPv6
    "https://[::ffff:7f00:1]:{port}/",
    "https://[0:0:0:0:0:0:0:1]:{port}/",
    "https://[::127.0.0.1]:{port}/",  # IPv4-compatible
    "https://[64:ff9b::7f00:1]:{port}/",  # NAT64
    "https://[::ffff:0:7f00:1]:{port}/",  # SIIT
    "https://[2002:7f00:1::1]:{port}/",  # 6to4
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/",  # Teredo, client 127.0.0.1
    "https://0.0.0.0:{port}/",  # unspecified: Linux connects it to loopback
    "https://[::]:{port}/",
    "https://localhost:{port}/",
    "https://LOCALHOST.:{port}/",
    "https://127.0.0.1.:{port}/",  # trailing dot
    "https://0:{port}/",  # 0.0.0.0
    "https://%31%32%37.0.0.1:{port}/",  # percent-encoded
    "https://api.localhost:{port}/",
    "https://good@127.0.0.1:{port}/",  # userinfo tricks
    "https://good.example@127.0.0.1:{port}/",
    "https://good.example:443@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}/",  # not https
]


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_loopback_in_any_form_is_refused_and_nothing_is_sent(
    form: str, server: CountingServer
) -> None:
    message = _refused(_http(), form.format(port=server.port))
    assert message.startswith("refused ")
    assert server.connections == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.1/", "internal address"),
        ("https://172.16.5.4/", "internal address"),
        ("https://192.168.1.1/", "internal address"),
        ("https://169.254.169.254/latest/meta-data/", "internal address"),  # cloud metadata
        ("https://100.64.0.1/", "internal address"),  # carrier-grade NAT
        ("https://224.0.0.1/", "internal address"),  # multicast
        ("https://240.0.0.1/", "internal address"),  # reserved
        ("https://255.255.255.255/", "internal address"),
        ("https://[fe80::1]/", "internal address"),  # link-local
        ("https://[fc00::1]/", "internal address"),  # unique local
        ("https://[fd12:3456::1]/", "internal address"),
        ("https://[fec0::1]/", "internal address"),  # deprecated site-local
        ("https://[64:ff9b::a9fe:a9fe]/", "internal address"),  # NAT64 of 169.254.169.254
        ("https://[ff02::1]/", "internal address"),  # multicast
        ("https://[::ffff:10.0.0.1]/", "internal address"),
        ("https://[::ffff:169.254.169.254]/", "internal address"),
        ("https://[fe80::1%25eth0]/", "zone"),
        ("https://012.0.0.1/", "canonical"),  # octal 10.0.0.1
        ("https://0xa9.0xfe.0xa9.0xfe/", "canonical"),  # hex 169.254.169.254
        ("https://2852039166/", "canonical"),  # decimal 169.254.169.254
        ("https://3232235777/", "canonical"),  # decimal 192.168.1.1
        ("http://mastodon.example/", "only https"),
        ("ftp://mastodon.example/", "only https"),
        ("file:///etc/passwd", "only https"),
        ("https://user:pw@mastodon.example/", "credentials"),
        ("https://under_score.example/", "not a valid host name"),
        ("https://single/", "not a valid host name"),
    ],
)
def test_private_and_malformed_targets_are_refused(url: str, reason: str) -> None:
    message = _refused(_http(), url)
    assert reason in message
    assert message.startswith("refused ")


def test_public_canonical_literals_pass_the_url_check() -> None:
    """The guard is not a blanket IP-literal ban: a public address written the one
    canonical way is a host like any other (its connection is then attempted)."""
    guard = HttpSession(_http()).guard
    guard.check("https://93.184.215.14/x")
    guard.check("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x")
    guard.check("https://[64:ff9b::5db8:d70e]/x")  # NAT64 of a public address
    guard.check("https://mastodon.social/api/v1/statuses/1")
    guard.check("https://xn--mnchen-3ya.example/@a/1")


def test_overridden_host_is_routed_and_trusted(server: CountingServer) -> None:
    http = _http(host_overrides={"mastodon.example": server.base})
    response = _get(http, "https://mastodon.example/api/v1/statuses/1")
    assert response.status == 200 and response.body == b"ok"
    assert server.connections == 1
    # The instance is named in the Host header, so one fake can play several.
    assert server.hosts_seen == ["mastodon.example"]


def test_override_with_a_port_matches_that_port_only(server: CountingServer) -> None:
    http = _http(host_overrides={"mastodon.example:8443": server.base})
    assert _get(http, "https://mastodon.example:8443/x").status == 200
    _refused(http, "http://mastodon.example/x")  # not the overridden host: the guard applies
    assert server.connections == 1


def test_redirect_into_loopback_is_refused_before_it_is_followed(
    server: CountingServer, other: CountingServer
) -> None:
    server.routes["/start"] = (302, {"Location": f"https://127.0.0.1:{other.port}/x"}, b"")
    http = _http(host_overrides={"trusted.example": server.base})
    message = _refused(http, "https://trusted.example/start")
    assert "internal address 127.0.0.1" in message
    assert server.connections == 1  # the trusted first hop
    assert other.connections == 0  # never reached


@pytest.mark.parametrize(
    "location",
    [
        "http://public.example/x",
        "https://[::1]:{port}/x",
        "https://2130706433:{port}/x",
        "https://0177.1:{port}/x",
        "https://evil@127.0.0.1:{port}/x",
        "https://localhost:{port}/x",
    ],
)
def test_redirect_forms_are_refused(
    location: str, server: CountingServer, other: CountingServer
) -> None:
    server.routes["/start"] = (301, {"Location": location.format(port=other.port)}, b"")
    http = _http(host_overrides={"trusted.example": server.base})
    _refused(http, "https://trusted.example/start")
    assert other.connections == 0


def test_relative_redirect_on_an_overridden_host_stays_on_it(server: CountingServer) -> None:
    server.routes["/a"] = (302, {"Location": "/b"}, b"")
    server.routes["/b"] = (302, {"Location": f"{server.base}/c"}, b"")  # the routed address
    server.routes["/c"] = (200, {}, b"landed")
    http = _http(host_overrides={"mastodon.example": server.base})
    response = _get(http, "https://mastodon.example/a")
    assert response.body == b"landed"
    assert server.hosts_seen == ["mastodon.example"] * 3


def test_per_host_concurrency_holds_and_hosts_run_side_by_side() -> None:
    serving = _serve(delay=0.15)
    server = next(serving)
    http = _http(
        concurrency=16,
        per_host_rate=1000,
        per_host_concurrency=2,
        host_overrides={"a.example": server.base, "b.example": server.base},
    )

    async def run() -> None:
        async with HttpSession(http) as session:
            await asyncio.gather(
                *(
                    session.get(
                        f"https://{host}.example/{n}",
                        budget=Budget.for_seconds(20),
                        max_bytes=1000,
                        guarded=True,
                    )
                    for n in range(6)
                    for host in ("a", "b")
                )
            )

    try:
        asyncio.run(run())
    finally:
        serving.close()
    assert server.max_in_flight == {"a.example": 2, "b.example": 2}
    assert server.max_total == 4  # the two hosts did not wait for each other


def test_unguarded_requests_keep_their_old_behaviour(server: CountingServer) -> None:
    """Configured hosts (X, the fakes of the other tests) are not subject to the guard."""

    async def run() -> Response:
        async with HttpSession(_http()) as session:
            return await session.get(
                f"{server.base}/plain", budget=Budget.for_seconds(5), max_bytes=1000
            )

    assert asyncio.run(run()).status == 200


def test_guarded_media_download_refuses_internal_hosts(
    tmp_path: Path, server: CountingServer
) -> None:
    """Media of untrusted posts go through the guard, not the X allow-list."""
    media = MediaConfig(allowed_hosts=[f"127.0.0.1:{server.port}"])

    async def run() -> tuple[Any, dict[str, str]]:
        async with HttpSession(_http()) as session:
            store = MediaStore(session, media, tmp_path / "media")
            url = f"https://127.0.0.1:{server.port}/a.png"
            stored = await store.fetch(url, Budget.for_seconds(5), guarded=True)
            return stored, store.failures

    stored, failures = asyncio.run(run())
    assert stored is None
    assert "internal address" in next(iter(failures.values()))
    assert server.connections == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"mastodon.example": "ftp://127.0.0.1:8123"},
        {"mastodon.example": "127.0.0.1:8123"},
        {"mastodon.example": "http://user@127.0.0.1:8123"},
        {"mastodon.example/path": "http://127.0.0.1:8123"},
        {"bad host": "http://127.0.0.1:8123"},
    ],
)
def test_bad_host_overrides_are_config_errors(tmp_path: Path, overrides: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"http": {"host_overrides": overrides}}, base=tmp_path)
    assert "http.host_overrides" in str(caught.value)
