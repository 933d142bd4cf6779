"""The one HTTP client of the project: concurrency, per-host rate, retries, deadlines.

Every request of a ``fetch_many`` run goes through one ``HttpSession`` (one
``httpx.AsyncClient``), so connection reuse, the concurrency limit and each host's
rate limit are shared by all posts of the run. Policy, in one place:

* timeouts: ``http.timeout`` per phase (connect/read/write/pool) and, for API calls,
  for the whole request; nothing ever waits past the post's deadline (``Budget``);
* retries with exponential backoff and full jitter for connection errors, timeouts,
  truncated bodies and 5xx; 429 waits for ``Retry-After``/``x-rate-limit-reset``
  (and pauses that host for every post of the run); other statuses are answers;
* a host that refuses connections several times in a row is considered down for a
  short while, so a run with the network down ends in seconds instead of hammering.

It also re-exports the small helpers the source modules share (time formats, URL
checks from ``archiver.snapshot``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib.util
import math
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from archiver.clock import iso_from_unix_ms
from archiver.config import HttpConfig
from archiver.snapshot.sanitize import safe_http_url
from archiver.snapshot.snowflake import created_at_from_id, utc_now_iso

from .body import ACCEPT_ENCODING, BoundedDecoder, CorruptBody
from .errors import (
    BodyTooLarge,
    FetchError,
    HostRefused,
    HostUnreachable,
    Refused,
    UnsupportedEncoding,
)
from .policy import HostGuard, guard_transport, is_internal

__all__ = [
    "BodyTooLarge",
    "Budget",
    "FetchError",
    "HostRefused",
    "HostUnreachable",
    "HttpSession",
    "Refused",
    "Response",
    "UnsupportedEncoding",
    "backoff_delay",
    "best_created_at",
    "created_at_from_id",
    "host_key",
    "iso_from_epoch_ms",
    "parse_time_ms",
    "retry_after_seconds",
    "safe_http_url",
    "utc_now_iso",
]

# httpcore runs ``import sniffio`` on every request. Without sniffio installed, each
# failed import searches sys.path again (~10 stat() calls per request: most of the
# client's CPU in bench/bench_fetch.py). Recording the absence once makes it a dict
# lookup; httpcore then assumes asyncio, as it does anyway. Only when truly absent.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

# Backoff defaults: small on purpose, a post's retries must fit in its deadline and a
# run with the network down must end quickly. PostFetcher lets tests shrink them.
DEFAULT_BACKOFF_BASE = 0.25
DEFAULT_BACKOFF_CAP = 8.0
# Consecutive refused connections before a host is treated as down, and for how long.
BREAKER_THRESHOLD = 3
BREAKER_COOLDOWN = 15.0
# Error pages (404 HTML, 403, …) are read only this far: we need their status, not them.
ERROR_BODY_CAP = 256 * 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
# A check run on every URL before it is requested (first hop and each redirect);
# it raises (``HostRefused``) to stop the request.
UrlCheck = Callable[[str], None]


@dataclass
class Budget:
    """What one post may still spend: a monotonic deadline, and a count of attempts."""

    deadline: float
    attempts: int = 0

    @classmethod
    def for_seconds(cls, seconds: float) -> Budget:
        return cls(deadline=time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class Sink(Protocol):
    """Receives the body of a 2xx response chunk by chunk (media go to a temp file)."""

    def write(self, chunk: bytes) -> None: ...

    def discard(self) -> None: ...


@dataclass
class Response:
    """A finished response; ``body`` is empty when a ``Sink`` consumed it."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str
    sink: Sink | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8, never raising."""
        charset = "utf-8"
        match = re.search(r"charset=([\w.-]+)", self.headers.get("content-type", ""), re.I)
        if match:
            charset = match.group(1)
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


@dataclass
class _Host:
    """Per-host state: a token bucket, a 429 pause, and the refused-connection breaker."""

    rate: float
    tokens: float
    updated: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    not_before: float = 0.0  # monotonic; set by a 429's Retry-After
    refused: int = 0
    down_until: float = 0.0


def host_key(url: str) -> str:
    """``host:port`` (port only when explicit), lower-cased: the unit of rate limiting."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    return random.uniform(0.0, min(cap, base * (2 ** max(0, attempt - 1))))


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP-date) or ``x-rate-limit-reset``."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    reset = headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset.strip()) - now)
        except ValueError:
            return None
    return None


class HttpSession:
    """One shared ``httpx.AsyncClient`` plus the run's limits. Use ``async with``."""

    def __init__(
        self,
        http: HttpConfig,
        *,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
    ) -> None:
        self.config = http
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._semaphore = asyncio.Semaphore(http.concurrency)
        self._hosts: dict[str, _Host] = {}
        self._client: httpx.AsyncClient | None = None
        # The gate for hosts named by untrusted content (``get(..., guarded=True)``).
        self.guard = HostGuard(http.host_overrides, http.per_host_concurrency)

    async def __aenter__(self) -> HttpSession:
        limits = httpx.Limits(
            max_connections=self.config.concurrency,
            max_keepalive_connections=self.config.concurrency,
        )
        # Our own transport, so the address check can sit in its connection pool.
        transport = httpx.AsyncHTTPTransport(limits=limits)
        guard_transport(transport)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": self.config.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(self.config.timeout),
            # The semaphore bounds requests in flight; the pool only has to match it.
            limits=limits,
            transport=transport,
            follow_redirects=False,  # followed in ``get``, each hop checked
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("HttpSession used outside 'async with'")
        return self._client

    def _host(self, url: str, key: str | None = None) -> _Host:
        key = key or host_key(url)
        state = self._hosts.get(key)
        if state is None:
            rate = self.config.per_host_rate
            state = _Host(rate=rate, tokens=max(1.0, rate), updated=time.monotonic())
            self._hosts[key] = state
        return state

    async def _wait_turn(self, state: _Host, budget: Budget) -> None:
        """Take a token from the host's bucket (and honour a 429 pause), within budget."""
        async with state.lock:
            now = time.monotonic()
            wait = max(0.0, state.not_before - now)
            capacity = max(1.0, state.rate)
            state.tokens = min(capacity, state.tokens + (now - state.updated) * state.rate)
            state.updated = now
            if state.tokens < 1.0:
                wait = max(wait, (1.0 - state.tokens) / state.rate)
            if wait > budget.remaining():
                raise FetchError(f"host rate limit would wait {wait:.1f}s, past the deadline")
            if wait > 0:
                # Sleeping under the lock queues this host's requests in arrival order.
                await asyncio.sleep(wait)
                now = time.monotonic()
                state.tokens = min(capacity, state.tokens + (now - state.updated) * state.rate)
                state.updated = now
            state.tokens -= 1.0

    async def get(
        self,
        url: str,
        *,
        budget: Budget,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
        follow_redirects: bool = True,
        check: UrlCheck | None = None,
        sink_factory: Callable[[], Sink] | None = None,
        whole_request_timeout: bool = True,
        guarded: bool = False,
    ) -> Response:
        """GET with retries; returns any non-retryable response (2xx, 3xx, 4xx), or raises.

        Redirects are followed here, hop by hop (at most ``MAX_REDIRECTS``), never by
        httpx: ``check`` runs on the first URL and on every hop, and without one a hop
        to an internal IP address is refused unless the request started on that host.
        ``whole_request_timeout`` bounds each attempt by ``http.timeout`` (API calls);
        articles and media set it False and are bounded by the deadline only. Raises
        ``FetchError`` after the last retry or at the deadline; ``Refused`` (never
        retried) for a body past ``max_bytes`` (``BodyTooLarge``), an encoding we do
        not decode (``UnsupportedEncoding``) or a host outside the policy
        (``HostRefused``).

        ``guarded`` (hosts named by untrusted content): every hop goes through
        ``self.guard`` first (refused before anything is sent), is routed by
        ``http.host_overrides``, and holds one of its host's
        ``http.per_host_concurrency`` slots; rate limits are kept per original host.
        """
        current = url
        for hop in range(MAX_REDIRECTS + 1):
            if guarded:
                self.guard.check(current)
            if check is not None:
                check(current)
            elif hop and not guarded:
                _check_redirect(url, current)
            target, extra = self.guard.route(current) if guarded else (current, {})
            slot = self.guard.slot(current) if guarded else contextlib.nullcontext()
            async with slot:
                response = await self._get_retrying(
                    target,
                    budget=budget,
                    params=params if hop == 0 else None,
                    headers={**(headers or {}), **extra} if extra else headers,
                    max_bytes=max_bytes,
                    sink_factory=sink_factory,
                    whole_request_timeout=whole_request_timeout,
                    key=self.guard.key(current) if guarded else None,
                )
            location = response.headers.get("location")
            if not follow_redirects or response.status not in REDIRECT_STATUSES or not location:
                return response
            joined = urljoin(response.url, location.strip())
            current = self.guard.unroute(joined, current) if guarded else joined
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url[:200]}")

    async def _get_retrying(
        self,
        url: str,
        *,
        budget: Budget,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        max_bytes: int,
        sink_factory: Callable[[], Sink] | None,
        whole_request_timeout: bool,
        key: str | None = None,
    ) -> Response:
        """One hop: the request with retries, backoff, rate limits and the deadline."""
        state = self._host(url, key)
        retries = self.config.retries
        attempt = 0
        while True:
            attempt += 1
            if budget.remaining() <= 0:
                raise FetchError("post deadline exceeded")
            now = time.monotonic()
            if state.down_until > now:
                raise HostUnreachable(f"{host_key(url)} unreachable (connections refused)")
            await self._wait_turn(state, budget)
            budget.attempts += 1
            problem: str
            wait: float | None = None
            unreachable = False  # this attempt could not connect at all
            try:
                async with self._semaphore:
                    limit = budget.remaining()
                    if whole_request_timeout:
                        limit = min(limit, self.config.timeout)
                    if limit <= 0:
                        raise FetchError("post deadline exceeded")
                    async with asyncio.timeout(limit):
                        response = await self._send_once(
                            url, params, headers, max_bytes, sink_factory
                        )
            except Refused:
                raise
            except (TimeoutError, httpx.TimeoutException):
                problem = "timed out"
            except httpx.ConnectError as exc:
                problem = f"connection failed: {exc or type(exc).__name__}"
                unreachable = True
                state.refused += 1
                if state.refused >= BREAKER_THRESHOLD:
                    state.down_until = time.monotonic() + BREAKER_COOLDOWN
            except (httpx.TransportError, httpx.DecodingError, CorruptBody) as exc:
                # Includes bodies shorter than their Content-Length (RemoteProtocolError).
                problem = f"{type(exc).__name__}: {exc}"
            else:
                state.refused = 0
                if response.status >= 500:
                    problem = f"HTTP {response.status}"
                elif response.status == 429:
                    problem = "HTTP 429 (rate limited)"
                    wait = retry_after_seconds(response.headers)
                    if wait is not None:
                        state.not_before = max(state.not_before, time.monotonic() + wait)
                else:
                    return response
            failure = HostUnreachable if unreachable else FetchError
            if attempt > retries:
                raise failure(f"{problem} (after {attempt} attempts)")
            if wait is None:
                wait = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
            if wait >= budget.remaining():
                raise failure(f"{problem}; retry would pass the post deadline")
            await asyncio.sleep(wait)

    async def _send_once(
        self,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        max_bytes: int,
        sink_factory: Callable[[], Sink] | None,
    ) -> Response:
        async with self.client.stream("GET", url, params=params, headers=headers) as resp:
            ok = 200 <= resp.status_code < 300
            cap = max_bytes if ok else min(max_bytes, ERROR_BODY_CAP)
            declared = resp.headers.get("content-length", "")
            if ok and declared.isdigit() and int(declared) > cap:
                raise BodyTooLarge(f"body of {declared} bytes exceeds the cap of {cap}")
            # Raw bytes, decoded here in bounded steps (see body.py): httpx's own
            # decoding inflates a whole chunk at once, whatever it becomes.
            decoder = BoundedDecoder(resp.headers.get("content-encoding", ""), cap, truncate=not ok)
            sink = sink_factory() if (ok and sink_factory is not None) else None
            body = bytearray()
            chunks = resp.aiter_raw()
            try:
                async for chunk in chunks:
                    for piece in decoder.feed(chunk):
                        if sink is not None:
                            sink.write(piece)
                        else:
                            body += piece
                    if decoder.done:
                        break  # an error page: its beginning is enough
                for piece in decoder.flush():
                    if sink is not None:
                        sink.write(piece)
                    else:
                        body += piece
            except BaseException:
                if sink is not None:
                    sink.discard()
                raise
            finally:
                # Closed here, not whenever the garbage collector finds it: a refused
                # body leaves the generator mid-stream, and its loop may be gone by then.
                closer = getattr(chunks, "aclose", None)
                if closer is not None:
                    await closer()
            return Response(
                status=resp.status_code,
                headers=resp.headers,
                body=bytes(body),
                url=str(resp.url),
                sink=sink,
            )


def _check_redirect(origin: str, target: str) -> None:
    """Default check for redirect hops of API calls: http(s) only, and no internal IP
    address unless the request started on that very host."""
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise HostRefused(f"refused redirect to {target[:200]}: not an http(s) URL")
    host = parts.hostname
    try:
        internal = is_internal(host)
    except ValueError:
        return  # a name: the connection-time check looks at its addresses
    if internal and host != urlsplit(origin).hostname:
        raise HostRefused(f"refused redirect to {target[:200]}: internal address")


# --- small shared helpers --------------------------------------------------------


def iso_from_epoch_ms(ms: float) -> str:
    """``2026-02-16T11:24:04.484Z`` from milliseconds since the Unix epoch."""
    return iso_from_unix_ms(math.floor(ms))


def parse_time_ms(value: object) -> int | None:
    """Epoch ms from the date formats X payloads use (ISO 8601, or the v1.1 API's
    ``Wed Oct 10 20:19:24 +0000 2018``); None when unparseable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            stamp = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return round(stamp.timestamp() * 1000)


def best_created_at(post_id: str, payload_value: object) -> str | None:
    """The post's creation time: the snowflake's exact ms when the id is a snowflake
    (payloads round down to whole seconds), else the payload's, normalised."""
    from_id = created_at_from_id(post_id)
    if from_id is not None:
        return from_id
    from_payload = parse_time_ms(payload_value)
    return iso_from_epoch_ms(from_payload) if from_payload is not None else None
