"""Fetching articles, sitemaps and feeds over HTTP (sync; for the URL sources).

Same policy as the post fetcher: explicit timeouts, per-host rate, retries with
jittered backoff for connection errors/timeouts/5xx, 429 honoured, a byte cap on
every body. Articles use conditional GET (``If-None-Match``/``If-Modified-Since``)
so an unchanged article costs a 304 and no parsing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

import httpx

from archiver.config import HttpConfig

from .http import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    backoff_delay,
    host_key,
    retry_after_seconds,
    safe_http_url,
)

MAX_REDIRECTS = 5


class ArticleFetchError(Exception):
    """A sitemap or feed could not be fetched (``fetch_xml``)."""


@dataclass
class ArticleResponse:
    """The outcome of ``fetch_article``; ``error`` says why when ``status == "error"``."""

    status: Literal["ok", "not_modified", "error"]
    data: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    error: str | None = None
    http_status: int | None = None


class _TooLarge(Exception):
    pass


class ArticleFetcher:
    """A small sync HTTP client for article pages, sitemaps and feeds."""

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
        self._client = httpx.Client(
            headers={"User-Agent": http.user_agent},
            timeout=httpx.Timeout(http.timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
        )
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def __enter__(self) -> ArticleFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _pace(self, url: str) -> None:
        """Per-host rate: requests to one host are spaced 1/per_host_rate seconds apart."""
        interval = 1.0 / self.config.per_host_rate
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host_key(url), 0.0))
            self._next_slot[host_key(url)] = slot + interval
        if slot > now:
            time.sleep(slot - now)

    def fetch_article(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> ArticleResponse:
        """GET an article, conditionally when ``etag``/``last_modified`` are given.

        Returns ``ok`` with the bytes (at most ``http.max_article_bytes``),
        ``not_modified`` on 304, or ``error`` with a reason; never raises for network
        problems.
        """
        if safe_http_url(url) is None:
            return ArticleResponse("error", final_url=url, error="not an http(s) URL")
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.config.post_deadline
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return ArticleResponse("error", final_url=url, error="deadline exceeded")
            self._pace(url)
            wait: float | None = None
            try:
                result, retry_after = self._get_once(url, headers)
            except _TooLarge as exc:
                return ArticleResponse("error", final_url=url, error=str(exc))
            except httpx.TooManyRedirects:
                return ArticleResponse("error", final_url=url, error="too many redirects")
            except (httpx.TransportError, httpx.DecodingError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if result.http_status == 429 or (result.http_status or 0) >= 500:
                    problem = f"HTTP {result.http_status}"
                    wait = retry_after
                else:
                    if result.status == "not_modified":
                        # A 304 may omit validators; the caller's stay valid.
                        result.etag = result.etag or etag
                        result.last_modified = result.last_modified or last_modified
                    return result
            if attempt > self.config.retries:
                return ArticleResponse("error", final_url=url, error=f"{problem} after retries")
            if wait is None:
                wait = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
            if wait >= deadline - time.monotonic():
                return ArticleResponse("error", final_url=url, error=f"{problem}; out of time")
            time.sleep(wait)

    def _get_once(self, url: str, headers: dict[str, str]) -> tuple[ArticleResponse, float | None]:
        """One GET; also returns the wait a 429 asked for."""
        cap = self.config.max_article_bytes
        with self._client.stream("GET", url, headers=headers) as resp:
            final_url = str(resp.url)
            validators = {
                "etag": resp.headers.get("etag"),
                "last_modified": resp.headers.get("last-modified"),
            }
            if resp.status_code == 304:
                answer = ArticleResponse(
                    "not_modified", final_url=final_url, http_status=304, **validators
                )
                return answer, None
            if resp.status_code != 200:
                failed = ArticleResponse(
                    "error",
                    final_url=final_url,
                    http_status=resp.status_code,
                    error=f"HTTP {resp.status_code}",
                )
                delay = retry_after_seconds(resp.headers) if resp.status_code == 429 else None
                return failed, delay
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise _TooLarge(f"{declared} bytes, over http.max_article_bytes ({cap})")
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > cap:
                    raise _TooLarge(f"over http.max_article_bytes ({cap})")
            ok = ArticleResponse(
                "ok", data=bytes(body), final_url=final_url, http_status=200, **validators
            )
            return ok, None

    def fetch_xml(self, url: str) -> bytes:
        """GET a sitemap or feed (same cap and retries); raises ``ArticleFetchError``."""
        result = self.fetch_article(url)
        if result.status != "ok" or result.data is None:
            raise ArticleFetchError(f"{url}: {result.error or result.status}")
        return result.data
