"""Remote sources: a list of URLs, a sitemap (or sitemap index), an RSS or Atom feed.

``RemoteSources`` plugs into the pipeline's two hooks:

* ``list_articles(source, index)`` yields an ``ArticleRef`` per article URL, with the sitemap's
  ``<lastmod>`` (or Google News ``<news:publication_date>``) or the feed's
  ``<updated>``/``<pubDate>`` in ``ref.updated``, normalised to the archive's
  ``YYYY-MM-DDTHH:MM:SS.mmmZ`` so the pipeline can skip articles not updated since
  their last scan without a request;
* ``read(ref)`` fetches an article with a conditional GET (the ETag and
  Last-Modified remembered in the ``articles`` table) and returns ``None`` on 304.

Sitemaps and feeds are untrusted XML: they are parsed incrementally with
defusedxml's ``iterparse`` (no DTDs with entities, no external references),
namespace-aware, each entry dropped once read, and listing stops at
``max_articles`` while parsing, so a million-entry feed costs its body and no more.
Only http(s) URLs on the source's own host (or its ``allowed_hosts``) are kept, and
every fetch, redirects included, is held to the same hosts (``HostPolicy``). The
rewritten copy of an article goes to ``output.dir/<host>/<path>`` (see
``output_relpath``).

The pieces: ``urls`` (cleaning, dates, output paths), ``xmldoc`` (safe incremental XML),
``sitemap`` and ``feed`` (their entries); this module holds the hooks and re-exports them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from archiver.config import Config, FeedSource, SitemapSource, UrlsSource
from archiver.errors import ArticleReadError
from archiver.fetch.articles import ArticleFetcher, ArticleResponse
from archiver.fetch.policy import HostPolicy
from archiver.files import safe_join
from archiver.models import Article, ArticleRef
from archiver.sources import article_from_bytes, source_name
from archiver.sources.feed import ATOM_NS, XML_BASE, parse_feed, stream_feed
from archiver.sources.sitemap import (
    MAX_SITEMAP_DEPTH,
    MAX_SITEMAPS,
    NEWS_NS,
    SITEMAP_NAMESPACES,
    XmlFetcher,
    iter_sitemap,
    parse_sitemap,
    stream_sitemap,
)
from archiver.sources.urls import MAX_SEGMENT_BYTES, clean_url, normalise_date, output_relpath
from archiver.sources.xmldoc import MAX_XML_BYTES, Entry
from archiver.storage import ArticleState

log = logging.getLogger(__name__)


# URLs a listing remembers to drop repeats: one sitemap file's worth (the protocol's limit).
_SEEN_MEMO = 50_000


class RemoteSources:
    """The pipeline's ``remote_lister`` and ``remote_reader`` for one config."""

    def __init__(
        self,
        config: Config,
        lookup: Callable[[str], ArticleState | None],
        fetcher: ArticleFetcher | None = None,
    ) -> None:
        """``lookup`` is ``Store.get_article``: where the last ETag/Last-Modified live."""
        self.config = config
        self._lookup = lookup
        self._fetcher = fetcher
        self._owns_fetcher = fetcher is None

    @property
    def fetcher(self) -> ArticleFetcher:
        if self._fetcher is None:
            self._fetcher = ArticleFetcher(self.config.http)
        return self._fetcher

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._fetcher is not None and self._owns_fetcher:
            self._fetcher.close()
            self._fetcher = None

    def list_articles(self, source: object, index: int) -> Iterator[ArticleRef]:
        """The articles of a ``urls``, ``sitemap`` or ``feed`` source, each URL once
        (among the last 50,000 listed), at most ``max_articles`` of them. Raises if the
        listing itself fails, so the pipeline does not mark the source's articles removed
        on a network error."""
        policy: HostPolicy | None = None
        if isinstance(source, UrlsSource):
            name = source_name(source, index)
            entries: Iterator[Entry] = (Entry(u) for u in self._url_list(source, name))
            limit: int | None = None
        elif isinstance(source, SitemapSource):
            name = source_name(source, index)
            policy = HostPolicy.for_urls([source.url], source.allowed_hosts)
            entries = iter_sitemap(self.fetcher, source.url, policy=policy)
            limit = source.max_articles
        elif isinstance(source, FeedSource):
            name = source_name(source, index)
            policy = HostPolicy.for_urls([source.url], source.allowed_hosts)
            entries = stream_feed(self.fetcher.fetch_xml(source.url, policy=policy), source.url)
            limit = source.max_articles
        else:
            return
        # The URLs met lately, bounded: a pass's memory must not grow with the site.
        # Repeats sit close in a sitemap or feed; one further apart is listed again, and
        # skipped unread when its lastmod is not newer than the scan this pass just made.
        seen: set[str] = set()
        listed = 0
        for entry in entries:
            url = clean_url(entry.url)
            if url is None or url in seen:
                continue
            if policy is not None and not policy.allows(url):
                # A sitemap or feed must not send us to another host (or inside the network).
                log.warning("source %s: ignoring %s: host not allowed for this source", name, url)
                continue
            try:
                # output_relpath keeps every segment inside output.dir; where the copy
                # really lands (a symlink on the way) is checked when it is written. A
                # resolve() here was 35 % of a pass over an unchanged sitemap.
                relpath = output_relpath(url)
            except ValueError as exc:
                log.warning("source %s: ignoring %s: %s", name, url, exc)
                continue
            if len(seen) >= _SEEN_MEMO:
                seen.clear()
            seen.add(url)
            listed += 1
            yield ArticleRef(
                location=url, source=name, url=url, output_relpath=relpath, updated=entry.updated
            )
            if limit is not None and listed >= limit:
                log.info("source %s: max_articles (%d) reached", name, limit)
                return

    def policy_for(self, ref: ArticleRef) -> HostPolicy:
        """The hosts an article (and its redirects) may be on: its source's host and
        ``allowed_hosts``; for a ``urls`` source, the article's own host. An article
        whose source is no longer configured may stay on its own host only."""
        url = ref.url or ref.location
        for index, source in enumerate(self.config.sources):
            if source_name(source, index) != ref.source:
                continue
            if isinstance(source, SitemapSource | FeedSource):
                return HostPolicy.for_urls([source.url], source.allowed_hosts)
            if isinstance(source, UrlsSource):
                return HostPolicy.for_urls([url], source.allowed_hosts)
        return HostPolicy.for_urls([url])

    def _url_list(self, source: UrlsSource, name: str) -> list[str]:
        urls = list(source.urls)
        if source.file is not None:
            # Read on every pass, so editing the file adds or removes articles.
            for line in Path(source.file).read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    urls.append(line)
        kept = []
        for url in urls:
            if clean_url(url) is None:
                log.warning("source %s: ignoring unsafe or non-http URL %r", name, url[:200])
            else:
                kept.append(url)
        return kept

    def read(self, ref: ArticleRef) -> Article | None:
        """Fetch an article; None when the server says it is unchanged (304)."""
        return self._read(ref, conditional=True)

    def read_fresh(self, ref: ArticleRef) -> Article | None:
        """Fetch an article unconditionally (regenerating needs its bytes even if unchanged)."""
        return self._read(ref, conditional=False)

    def _read(self, ref: ArticleRef, conditional: bool) -> Article | None:
        url = ref.url or ref.location
        etag = last_modified = None
        if conditional:
            etag, last_modified = self._validators(ref)
        result: ArticleResponse = self.fetcher.fetch_article(
            url, etag, last_modified, policy=self.policy_for(ref)
        )
        if result.status == "not_modified":
            return None
        if result.status != "ok" or result.data is None:
            raise ArticleReadError(f"fetch failed: {result.error or result.status}")
        article = article_from_bytes(ref, result.data)
        article.etag = result.etag
        article.last_modified = result.last_modified
        return article

    def _validators(self, ref: ArticleRef) -> tuple[str | None, str | None]:
        """The ETag/Last-Modified to send, only when a 304 would be safe to act on:
        the last scan succeeded and its rewritten copy is still on disk."""
        state = self._lookup(ref.location)
        if state is None or state.error is not None or state.content_hash is None:
            return None, None
        try:
            out = safe_join(
                self.config.output.dir, ref.output_relpath or output_relpath(ref.location)
            )
        except ValueError:
            return None, None
        # output_path is reset by each scan and set by the rewrite that follows
        # (see Pipeline._output_exists): a crash in between means no 304 shortcut.
        if state.output_path != str(out) or not out.exists():
            return None, None
        return state.etag, state.last_modified


__all__ = [
    "ATOM_NS",
    "MAX_SEGMENT_BYTES",
    "MAX_SITEMAPS",
    "MAX_SITEMAP_DEPTH",
    "MAX_XML_BYTES",
    "NEWS_NS",
    "SITEMAP_NAMESPACES",
    "XML_BASE",
    "Entry",
    "RemoteSources",
    "XmlFetcher",
    "clean_url",
    "iter_sitemap",
    "normalise_date",
    "output_relpath",
    "parse_feed",
    "parse_sitemap",
    "stream_feed",
    "stream_sitemap",
]
