"""Sitemaps and sitemap indexes: streamed entries, and the bounded walk of an index."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol
from xml.etree.ElementTree import Element

from archiver.fetch.articles import ArticleFetchError
from archiver.fetch.policy import HostPolicy
from archiver.sources.urls import clean_url, latest, normalise_date
from archiver.sources.xmldoc import Entry, child_text, open_document, split_tag

# The logger keeps the name it had when this lived in remote.py: log lines show it.
log = logging.getLogger("archiver.sources.remote")


# Sitemap indexes may nest; real ones are one level deep. Both caps stop a
# hostile or broken site from sending us around in circles or fetching forever.
MAX_SITEMAP_DEPTH = 3
MAX_SITEMAPS = 500

SITEMAP_NAMESPACES = {
    "",  # no namespace: common in hand-written sitemaps
    "http://www.sitemaps.org/schemas/sitemap/0.9",
    "http://www.google.com/schemas/sitemap/0.84",
    "http://www.google.com/schemas/sitemap/0.9",
}
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class XmlFetcher(Protocol):
    """What listing needs from the network: the bytes of a sitemap or feed."""

    def fetch_xml(self, url: str, *, policy: HostPolicy | None = None) -> bytes: ...


def stream_sitemap(data: bytes, base: str) -> tuple[str, Iterator[Entry]]:
    """A sitemap's kind (``"urlset"`` or ``"sitemapindex"``) and a lazy iterator over
    its entries (articles, or child sitemaps). The root is checked at once; entries
    are parsed only as far as they are consumed, each dropped once read.

    Google News sitemaps are ordinary urlsets whose ``<url>`` carry a
    ``<news:news><news:publication_date>``; the later of it and ``<lastmod>`` is used.
    """
    root, events = open_document(data)
    ns, kind = split_tag(root.tag)
    if kind not in ("urlset", "sitemapindex") or ns not in SITEMAP_NAMESPACES:
        events.close()
        raise ValueError(f"not a sitemap (root element {root.tag!r})")
    child_name = "url" if kind == "urlset" else "sitemap"

    def entries() -> Iterator[Entry]:
        for event, item, stack in events:
            if event != "end" or len(stack) != 2:
                continue
            entry = _sitemap_entry(item, ns, child_name, base)
            root.clear()  # what has been read is not kept
            if entry is not None:
                yield entry

    return kind, entries()


def _sitemap_entry(item: Element, ns: str, child_name: str, base: str) -> Entry | None:
    if split_tag(item.tag) != (ns, child_name):
        return None
    loc = child_text(item, ns, "loc")
    url = clean_url(loc, base) if loc else None
    if url is None:
        if loc:
            log.info("sitemap %s: ignoring unsafe or non-http URL %r", base, loc[:200])
        return None
    updated = normalise_date(child_text(item, ns, "lastmod"))
    for news in item:
        if split_tag(news.tag) == (NEWS_NS, "news"):
            published = normalise_date(child_text(news, NEWS_NS, "publication_date"))
            updated = latest(updated, published)
    return Entry(url, updated)


def parse_sitemap(data: bytes, base: str) -> tuple[str, list[Entry]]:
    """A whole sitemap: (``"urlset"``, article entries) or (``"sitemapindex"``, child
    sitemaps). See ``stream_sitemap``."""
    kind, entries = stream_sitemap(data, base)
    return kind, list(entries)


def iter_sitemap(
    fetcher: XmlFetcher,
    url: str,
    *,
    policy: HostPolicy | None = None,
    max_depth: int = MAX_SITEMAP_DEPTH,
    max_sitemaps: int = MAX_SITEMAPS,
) -> Iterator[Entry]:
    """Every article entry of a sitemap, following sitemap indexes depth-first.

    A child sitemap on a host the ``policy`` does not allow is skipped (logged). A
    child sitemap that fails is logged and the others are still walked; at the
    end the listing raises, so the pipeline reports the source and does not mark
    the failed child's articles removed over a network blip. Loops and excess
    nesting are cut off.
    """
    visited: set[str] = set()
    failed: list[str] = []

    def walk(sitemap_url: str, depth: int) -> Iterator[Entry]:
        if sitemap_url in visited:
            return
        if len(visited) >= max_sitemaps:
            log.warning("sitemap %s: more than %d sitemaps, rest ignored", url, max_sitemaps)
            return
        visited.add(sitemap_url)
        kind, entries = stream_sitemap(fetcher.fetch_xml(sitemap_url, policy=policy), sitemap_url)
        if kind == "urlset":
            yield from entries
            return
        if depth >= max_depth:
            log.warning("sitemap %s: index nested deeper than %d, ignored", sitemap_url, depth)
            return
        for child in entries:
            if policy is not None and not policy.allows(child.url):
                log.warning("sitemap %s: child %s is on another host, ignored", url, child.url)
                continue
            try:
                yield from walk(child.url, depth + 1)
            except (ArticleFetchError, ValueError) as exc:
                log.warning("sitemap %s: child %s failed: %s", url, child.url, exc)
                failed.append(child.url)

    yield from walk(url, 0)
    if failed:
        raise ArticleFetchError(f"{len(failed)} child sitemap(s) failed, first {failed[0]}")
