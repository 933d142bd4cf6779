"""Fetching articles, sitemaps and feeds over HTTP (a sync API; for the URL sources).

The requests go through the same ``HttpSession`` as the post fetcher, so every
policy is shared: explicit timeouts, per-host rate, retries with jittered backoff
for connection errors/timeouts/5xx, 429 honoured, bodies decoded in bounded steps
under ``http.max_article_bytes`` whatever their ``Content-Encoding``. On top:

* a host policy: the first URL and every redirect hop must be on a host the
  source allows (``HostPolicy``), and a host name resolving to an internal
  address is refused when connecting (``policy.GuardedBackend``);
* a total wall-clock deadline per fetch (``http.post_deadline``), all attempts
  and redirects included: a server that drips bytes is cut off at the deadline.

Articles use conditional GET (``If-None-Match``/``If-Modified-Since``) so an
unchanged article costs a 304 and no parsing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar

from archiver.config import HttpConfig

from .errors import ArticleFetchError, BodyTooLarge, FetchError
from .http import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    Budget,
    HttpSession,
    safe_http_url,
)
from .policy import HostPolicy

__all__ = ["ArticleFetchError", "ArticleFetcher", "ArticleResponse", "HostPolicy"]

# The backstop past the deadline: the session's own timeouts end a fetch at the
# deadline; this only guards against a bug there.
_BACKSTOP = 1.0

T = TypeVar("T")


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


class ArticleFetcher:
    """A sync client for article pages, sitemaps and feeds; use as a context manager.

    It runs one ``HttpSession`` on a private event loop; calls are serialised (the
    pipeline reads one article at a time) and may come from any thread.
    """

    def __init__(
        self,
        http: HttpConfig,
        *,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
    ) -> None:
        self.config = http
        self._session = HttpSession(http, backoff_base=backoff_base, backoff_cap=backoff_cap)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

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
        """Close the connection pool and the event loop."""
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is None:
                return
            try:
                loop.run_until_complete(self._session.__aexit__(None, None, None))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._loop.run_until_complete(self._session.__aenter__())
            return self._loop.run_until_complete(work)

    def fetch_article(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        policy: HostPolicy | None = None,
    ) -> ArticleResponse:
        """GET an article, conditionally when ``etag``/``last_modified`` are given.

        ``policy`` says which hosts the URL and its redirects may be on (default:
        the URL's own host only). Returns ``ok`` with the bytes (at most
        ``http.max_article_bytes``), ``not_modified`` on 304, or ``error`` with a
        reason; never raises for network problems.
        """
        if safe_http_url(url) is None:
            return ArticleResponse("error", final_url=url, error="not an http(s) URL")
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        chosen = policy if policy is not None else HostPolicy.for_urls([url])
        result = self._run(self._fetch(url, headers, chosen))
        if result.status == "not_modified":
            # A 304 may omit validators; the caller's stay valid.
            result.etag = result.etag or etag
            result.last_modified = result.last_modified or last_modified
        return result

    async def _fetch(
        self, url: str, headers: dict[str, str], policy: HostPolicy
    ) -> ArticleResponse:
        cap = self.config.max_article_bytes
        deadline = self.config.post_deadline
        budget = Budget.for_seconds(deadline)
        try:
            async with asyncio.timeout(deadline + _BACKSTOP):
                response = await self._session.get(
                    url,
                    budget=budget,
                    headers=headers,
                    max_bytes=cap,
                    check=policy.check,
                    # Bounded by the deadline, not http.timeout: a large article on a
                    # slow link may take longer than one phase's timeout.
                    whole_request_timeout=False,
                )
        except BodyTooLarge as exc:
            error = f"over http.max_article_bytes ({cap}): {exc}"
            return ArticleResponse("error", final_url=url, error=error)
        except FetchError as exc:
            return ArticleResponse("error", final_url=url, error=str(exc))
        except TimeoutError:
            return ArticleResponse("error", final_url=url, error="deadline exceeded")
        validators = {
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        }
        if response.status == 304:
            return ArticleResponse(
                "not_modified", final_url=response.url, http_status=304, **validators
            )
        if response.status != 200:
            return ArticleResponse(
                "error",
                final_url=response.url,
                http_status=response.status,
                error=f"HTTP {response.status}",
            )
        return ArticleResponse(
            "ok", data=response.body, final_url=response.url, http_status=200, **validators
        )

    def fetch_xml(self, url: str, *, policy: HostPolicy | None = None) -> bytes:
        """GET a sitemap or feed (same cap, policy, deadline and retries); raises
        ``ArticleFetchError``."""
        result = self.fetch_article(url, policy=policy)
        if result.status != "ok" or result.data is None:
            raise ArticleFetchError(f"{url}: {result.error or result.status}")
        return result.data
