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
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import posixpath
import re
import unicodedata
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from archiver.clock import iso_ms
from archiver.config import Config, FeedSource, SitemapSource, UrlsSource
from archiver.errors import ArticleReadError
from archiver.fetch.articles import ArticleFetcher, ArticleFetchError, ArticleResponse
from archiver.fetch.policy import HostPolicy
from archiver.files import safe_join
from archiver.models import Article, ArticleRef
from archiver.sources import article_from_bytes, source_name
from archiver.storage import ArticleState

log = logging.getLogger(__name__)

# Sitemap indexes may nest; real ones are one level deep. Both caps stop a
# hostile or broken site from sending us around in circles or fetching forever.
MAX_SITEMAP_DEPTH = 3
MAX_SITEMAPS = 500
# A decompressed .xml.gz sitemap may be at most this large (the protocol's own
# limit is 50 MB uncompressed); it protects against gzip bombs.
MAX_XML_BYTES = 60_000_000
# File names longer than this are shortened with a hash (NAME_MAX is 255 bytes).
MAX_SEGMENT_BYTES = 150

SITEMAP_NAMESPACES = {
    "",  # no namespace: common in hand-written sitemaps
    "http://www.sitemaps.org/schemas/sitemap/0.9",
    "http://www.google.com/schemas/sitemap/0.84",
    "http://www.google.com/schemas/sitemap/0.9",
}
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


class XmlFetcher(Protocol):
    """What listing needs from the network: the bytes of a sitemap or feed."""

    def fetch_xml(self, url: str, *, policy: HostPolicy | None = None) -> bytes: ...


# -- URLs ----------------------------------------------------------------------------


def clean_url(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without its fragment, or None for anything else.

    Relative URLs (in feeds) are resolved against ``base``. Control characters,
    whitespace inside the URL, quotes and backslashes are refused rather than
    repaired: a URL that needs repair is not one we should guess at.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    if not url or re.search(r"[\x00-\x20\x7f<>\"'`\\]", url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def _safe_segment(segment: str) -> str:
    """One path segment, percent-decoded, as a file name that cannot leave its folder."""
    name = unquote(segment, errors="replace")
    # Decoding may produce '/' or '\\' (%2F, %5C) or control characters: never separators.
    name = "".join("_" if ch in "/\\" or unicodedata.category(ch) == "Cc" else ch for ch in name)
    if name in ("", ".", ".."):
        return ""
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_SEGMENT_BYTES:
        digest = hashlib.sha256(encoded).hexdigest()[:12]
        stem, ext = posixpath.splitext(name)
        if len(ext.encode("utf-8")) > 16:
            ext = ""
        short = stem.encode("utf-8")[: MAX_SEGMENT_BYTES - 30].decode("utf-8", "ignore")
        name = f"{short}-{digest}{ext}"
    return name


def output_relpath(url: str) -> str:
    """Where the rewritten copy of ``url`` goes under ``output.dir``: ``host/path``.

    ``https://news.example/2024/story`` -> ``news.example/2024/story.html``;
    a trailing slash or empty path gives ``index.html``; a non-default port is kept
    as ``host_port`` (':' would read as a URL scheme in relative links). Every
    segment is percent-decoded on its own, so ``%2F`` cannot create a folder, and
    ``.``/``..``/empty segments are dropped, so the result never leaves output.dir.
    A query string (``?p=123``) becomes a short hash in the file name, so two
    articles that differ only by query do not overwrite each other.
    """
    parts = urlsplit(url)
    host = _safe_segment((parts.hostname or "").lower()) or "_"
    if parts.port and parts.port not in (80, 443):
        host = f"{host}_{parts.port}"
    raw_segments = parts.path.split("/")
    trailing = parts.path.endswith("/") or not parts.path.strip("/")
    segments = [s for s in (_safe_segment(seg) for seg in raw_segments) if s]
    if trailing or not segments:
        segments.append("index.html")
    last = segments[-1]
    stem, ext = posixpath.splitext(last)
    if not ext or not re.fullmatch(r"\.[A-Za-z0-9]{1,8}", ext):
        stem, ext = last, ".html"
    if parts.query:
        stem = f"{stem}-q{hashlib.sha256(parts.query.encode('utf-8')).hexdigest()[:10]}"
    segments[-1] = f"{stem}{ext}"
    return "/".join([host, *segments])


# -- dates ---------------------------------------------------------------------------

_W3C_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def normalise_date(value: str | None) -> str | None:
    """A sitemap/Atom (W3C) or RSS (RFC 822) date as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` UTC.

    A date without a time means "some time that day": it becomes the day's last
    millisecond, so an article updated later on the day it was scanned is still
    re-read. A time without a zone is taken as UTC. Unparseable dates give None
    (the article is then always fetched, conditionally).
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    moment: datetime | None = None
    if _W3C_DATE.match(text):
        pieces = [int(p) for p in text.split("-")] + [1, 1]
        try:
            day = datetime(pieces[0], pieces[1], pieces[2], tzinfo=UTC)
        except ValueError:
            return None
        # End of the period given (year, month or day).
        if len(text) == 4:
            end = day.replace(year=day.year + 1)
        elif len(text) == 7:
            end = (day + timedelta(days=32)).replace(day=1)
        else:
            end = day + timedelta(days=1)
        moment = end - timedelta(milliseconds=1)
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if moment is None:
        return None
    return iso_ms(moment)  # naive means UTC


def _latest(*values: str | None) -> str | None:
    present = [v for v in values if v]
    return max(present) if present else None


# -- XML -----------------------------------------------------------------------------


def _split(tag: object) -> tuple[str, str]:
    """``{ns}local`` -> (ns, local); comments and processing instructions -> ('', '')."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _LimitedReader:
    """A file-like reader that refuses to return more than ``limit`` bytes in all."""

    def __init__(self, stream: _Readable, limit: int) -> None:
        self._stream = stream
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size < 0 else min(size, self._left + 1)
        try:
            chunk = self._stream.read(want)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"broken gzip data: {exc}") from exc
        self._left -= len(chunk)
        if self._left < 0:
            raise ValueError(f"decompressed XML exceeds {MAX_XML_BYTES} bytes")
        return chunk


def _xml_stream(data: bytes) -> _Readable:
    if data[:2] == b"\x1f\x8b":
        # A .xml.gz body: decompressed as the parser reads, never more than the cap.
        return _LimitedReader(gzip.GzipFile(fileobj=io.BytesIO(data)), MAX_XML_BYTES)
    return io.BytesIO(data)


# One parse event: ("start" | "end", element, the open elements from the root down).
_Event = tuple[str, Element, list[Element]]


def _events(data: bytes) -> Generator[_Event, None, None]:
    """Parse untrusted XML incrementally (gunzipping ``.xml.gz``) with defusedxml."""
    stack: list[Element] = []
    try:
        for event, elem in SafeET.iterparse(
            _xml_stream(data), events=("start", "end"), forbid_dtd=False
        ):
            if event == "start":
                stack.append(elem)
                yield event, elem, stack
            else:
                yield event, elem, stack
                stack.pop()
    except DefusedXmlException as exc:
        raise ValueError(f"refused unsafe XML: {exc}") from exc
    except SafeET.ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from exc


def _open_document(data: bytes) -> tuple[Element, Generator[_Event, None, None]]:
    """The root element (attributes read, children not yet) and the remaining events."""
    events = _events(data)
    for event, elem, _stack in events:
        if event == "start":
            return elem, events
    raise ValueError("not well-formed XML: no root element")


def _child_text(parent: Element, namespaces: set[str] | str, local: str) -> str | None:
    wanted = {namespaces} if isinstance(namespaces, str) else namespaces
    for child in parent:
        ns, name = _split(child.tag)
        if name == local and ns in wanted:
            return (child.text or "").strip() or None
    return None


@dataclass(frozen=True)
class Entry:
    """One URL from a sitemap or feed, with its last-updated time (normalised) if given."""

    url: str
    updated: str | None = None


def stream_sitemap(data: bytes, base: str) -> tuple[str, Iterator[Entry]]:
    """A sitemap's kind (``"urlset"`` or ``"sitemapindex"``) and a lazy iterator over
    its entries (articles, or child sitemaps). The root is checked at once; entries
    are parsed only as far as they are consumed, each dropped once read.

    Google News sitemaps are ordinary urlsets whose ``<url>`` carry a
    ``<news:news><news:publication_date>``; the later of it and ``<lastmod>`` is used.
    """
    root, events = _open_document(data)
    ns, kind = _split(root.tag)
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
    if _split(item.tag) != (ns, child_name):
        return None
    loc = _child_text(item, ns, "loc")
    url = clean_url(loc, base) if loc else None
    if url is None:
        if loc:
            log.info("sitemap %s: ignoring unsafe or non-http URL %r", base, loc[:200])
        return None
    updated = normalise_date(_child_text(item, ns, "lastmod"))
    for news in item:
        if _split(news.tag) == (NEWS_NS, "news"):
            published = normalise_date(_child_text(news, NEWS_NS, "publication_date"))
            updated = _latest(updated, published)
    return Entry(url, updated)


def parse_sitemap(data: bytes, base: str) -> tuple[str, list[Entry]]:
    """A whole sitemap: (``"urlset"``, article entries) or (``"sitemapindex"``, child
    sitemaps). See ``stream_sitemap``."""
    kind, entries = stream_sitemap(data, base)
    return kind, list(entries)


def stream_feed(data: bytes, base: str) -> Iterator[Entry]:
    """Article links of an RSS 2.0 or Atom feed, lazily, with their updated/published
    time. The root is checked at once (``ValueError`` for anything else).

    RSS: ``<item><link>`` (or a permalink ``<guid>``), ``<pubDate>``; an
    ``<atom:updated>`` or ``<dc:date>`` in the item wins when later. Atom:
    ``<entry><link rel="alternate" href>`` (a link without rel counts as alternate),
    ``<updated>``, else ``<published>``. Relative links resolve against the feed URL.
    """
    root, events = _open_document(data)
    ns, kind = _split(root.tag)
    if kind == "rss" and ns == "":
        return _rss_entries(events, base)
    if kind == "feed" and ns == ATOM_NS:
        feed_base = root.get(XML_BASE) or base
        return _atom_entries(root, events, feed_base, base)
    events.close()
    raise ValueError(f"not an RSS 2.0 or Atom feed (root element {root.tag!r})")


def _rss_entries(events: Iterator[_Event], base: str) -> Iterator[Entry]:
    for event, item, stack in events:
        if event != "end" or len(stack) != 3:
            continue
        if _split(stack[1].tag) != ("", "channel") or _split(item.tag) != ("", "item"):
            continue
        entry = _rss_entry(item, base)
        stack[1].clear()  # the channel forgets the items already read
        if entry is not None:
            yield entry


def _rss_entry(item: Element, base: str) -> Entry | None:
    link = _child_text(item, "", "link")
    if not link:
        guid = next((g for g in item if _split(g.tag) == ("", "guid")), None)
        if guid is not None and guid.get("isPermaLink", "true").lower() == "true":
            link = (guid.text or "").strip() or None
    url = clean_url(link, base) if link else None
    if url is None:
        if link:
            log.info("feed %s: ignoring unsafe or non-http URL %r", base, link[:200])
        return None
    updated = _latest(
        normalise_date(_child_text(item, "", "pubDate")),
        normalise_date(_child_text(item, ATOM_NS, "updated")),
        normalise_date(_child_text(item, "http://purl.org/dc/elements/1.1/", "date")),
    )
    return Entry(url, updated)


def _atom_entries(
    root: Element, events: Iterator[_Event], feed_base: str, base: str
) -> Iterator[Entry]:
    for event, entry, stack in events:
        if event != "end" or len(stack) != 2 or _split(entry.tag) != (ATOM_NS, "entry"):
            continue
        found = _atom_entry(entry, feed_base, base)
        root.clear()  # the feed forgets the entries already read
        if found is not None:
            yield found


def _atom_entry(entry: Element, feed_base: str, base: str) -> Entry | None:
    entry_base = urljoin(feed_base, entry.get(XML_BASE) or "")
    href = None
    for candidate in entry:
        if _split(candidate.tag) != (ATOM_NS, "link"):
            continue
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            href = candidate.get("href")
            break
    url = clean_url(href, entry_base) if href else None
    if url is None:
        if href:
            log.info("feed %s: ignoring unsafe or non-http URL %r", base, href[:200])
        return None
    updated = normalise_date(_child_text(entry, ATOM_NS, "updated")) or normalise_date(
        _child_text(entry, ATOM_NS, "published")
    )
    return Entry(url, updated)


def parse_feed(data: bytes, base: str) -> list[Entry]:
    """All article links of an RSS 2.0 or Atom feed (see ``stream_feed``)."""
    return list(stream_feed(data, base))


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


# -- the pipeline hooks --------------------------------------------------------------


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
        """The articles of a ``urls``, ``sitemap`` or ``feed`` source, each URL once,
        at most ``max_articles`` of them. Raises if the listing itself fails, so the
        pipeline does not mark the source's articles removed on a network error."""
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
        seen: set[str] = set()
        for entry in entries:
            url = clean_url(entry.url)
            if url is None or url in seen:
                continue
            if policy is not None and not policy.allows(url):
                # A sitemap or feed must not send us to another host (or inside the network).
                log.warning("source %s: ignoring %s: host not allowed for this source", name, url)
                continue
            try:
                relpath = output_relpath(url)
                safe_join(self.config.output.dir, relpath)
            except ValueError as exc:
                log.warning("source %s: ignoring %s: %s", name, url, exc)
                continue
            seen.add(url)
            yield ArticleRef(
                location=url, source=name, url=url, output_relpath=relpath, updated=entry.updated
            )
            if limit is not None and len(seen) >= limit:
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
    "Entry",
    "RemoteSources",
    "clean_url",
    "iter_sitemap",
    "normalise_date",
    "output_relpath",
    "parse_feed",
    "parse_sitemap",
    "stream_feed",
    "stream_sitemap",
]
