"""RSS 2.0 and Atom feeds: their article links, streamed, with their dates."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from archiver.sources.urls import clean_url, latest, normalise_date
from archiver.sources.xmldoc import Entry, Event, child_text, open_document, split_tag

# The logger keeps the name it had when this lived in remote.py: log lines show it.
log = logging.getLogger("archiver.sources.remote")

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


def stream_feed(data: bytes, base: str) -> Iterator[Entry]:
    """Article links of an RSS 2.0 or Atom feed, lazily, with their updated/published
    time. The root is checked at once (``ValueError`` for anything else).

    RSS: ``<item><link>`` (or a permalink ``<guid>``), ``<pubDate>``; an
    ``<atom:updated>`` or ``<dc:date>`` in the item wins when later. Atom:
    ``<entry><link rel="alternate" href>`` (a link without rel counts as alternate),
    ``<updated>``, else ``<published>``. Relative links resolve against the feed URL.
    """
    root, events = open_document(data)
    ns, kind = split_tag(root.tag)
    if kind == "rss" and ns == "":
        return _rss_entries(events, base)
    if kind == "feed" and ns == ATOM_NS:
        feed_base = root.get(XML_BASE) or base
        return _atom_entries(root, events, feed_base, base)
    events.close()
    raise ValueError(f"not an RSS 2.0 or Atom feed (root element {root.tag!r})")


def _rss_entries(events: Iterator[Event], base: str) -> Iterator[Entry]:
    for event, item, stack in events:
        if event != "end" or len(stack) != 3:
            continue
        if split_tag(stack[1].tag) != ("", "channel") or split_tag(item.tag) != ("", "item"):
            continue
        entry = _rss_entry(item, base)
        stack[1].clear()  # the channel forgets the items already read
        if entry is not None:
            yield entry


def _rss_entry(item: Element, base: str) -> Entry | None:
    link = child_text(item, "", "link")
    if not link:
        guid = next((g for g in item if split_tag(g.tag) == ("", "guid")), None)
        if guid is not None and guid.get("isPermaLink", "true").lower() == "true":
            link = (guid.text or "").strip() or None
    url = clean_url(link, base) if link else None
    if url is None:
        if link:
            log.info("feed %s: ignoring unsafe or non-http URL %r", base, link[:200])
        return None
    updated = latest(
        normalise_date(child_text(item, "", "pubDate")),
        normalise_date(child_text(item, ATOM_NS, "updated")),
        normalise_date(child_text(item, "http://purl.org/dc/elements/1.1/", "date")),
    )
    return Entry(url, updated)


def _atom_entries(
    root: Element, events: Iterator[Event], feed_base: str, base: str
) -> Iterator[Entry]:
    for event, entry, stack in events:
        if event != "end" or len(stack) != 2 or split_tag(entry.tag) != (ATOM_NS, "entry"):
            continue
        found = _atom_entry(entry, feed_base, base)
        root.clear()  # the feed forgets the entries already read
        if found is not None:
            yield found


def _atom_entry(entry: Element, feed_base: str, base: str) -> Entry | None:
    entry_base = urljoin(feed_base, entry.get(XML_BASE) or "")
    href = None
    for candidate in entry:
        if split_tag(candidate.tag) != (ATOM_NS, "link"):
            continue
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            href = candidate.get("href")
            break
    url = clean_url(href, entry_base) if href else None
    if url is None:
        if href:
            log.info("feed %s: ignoring unsafe or non-http URL %r", base, href[:200])
        return None
    updated = normalise_date(child_text(entry, ATOM_NS, "updated")) or normalise_date(
        child_text(entry, ATOM_NS, "published")
    )
    return Entry(url, updated)


def parse_feed(data: bytes, base: str) -> list[Entry]:
    """All article links of an RSS 2.0 or Atom feed (see ``stream_feed``)."""
    return list(stream_feed(data, base))
