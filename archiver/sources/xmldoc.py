"""Untrusted XML read safely: defusedxml's incremental parser, gunzipped within a cap."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import Protocol
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

# A decompressed .xml.gz sitemap may be at most this large (the protocol's own
# limit is 50 MB uncompressed); it protects against gzip bombs.
MAX_XML_BYTES = 60_000_000


def split_tag(tag: object) -> tuple[str, str]:
    """``{ns}local`` -> (ns, local); comments and processing instructions -> ('', '')."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class Readable(Protocol):
    """A binary stream: what the XML parser reads from."""

    def read(self, size: int = -1, /) -> bytes: ...


class LimitedReader:
    """A file-like reader that refuses to return more than ``limit`` bytes in all."""

    def __init__(self, stream: Readable, limit: int) -> None:
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


def xml_stream(data: bytes) -> Readable:
    """The document as a stream: ``.xml.gz`` bodies decompressed lazily, within the cap."""
    if data[:2] == b"\x1f\x8b":
        # A .xml.gz body: decompressed as the parser reads, never more than the cap.
        return LimitedReader(gzip.GzipFile(fileobj=io.BytesIO(data)), MAX_XML_BYTES)
    return io.BytesIO(data)


# One parse event: ("start" | "end", element, the open elements from the root down).
Event = tuple[str, Element, list[Element]]


def events_of(data: bytes) -> Generator[Event, None, None]:
    """Parse untrusted XML incrementally (gunzipping ``.xml.gz``) with defusedxml."""
    stack: list[Element] = []
    try:
        for event, elem in SafeET.iterparse(
            xml_stream(data), events=("start", "end"), forbid_dtd=False
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


def open_document(data: bytes) -> tuple[Element, Generator[Event, None, None]]:
    """The root element (attributes read, children not yet) and the remaining events."""
    events = events_of(data)
    for event, elem, _stack in events:
        if event == "start":
            return elem, events
    raise ValueError("not well-formed XML: no root element")


def child_text(parent: Element, namespaces: set[str] | str, local: str) -> str | None:
    """The stripped text of ``parent``'s first child named ``local`` in ``namespaces``."""
    wanted = {namespaces} if isinstance(namespaces, str) else namespaces
    for child in parent:
        ns, name = split_tag(child.tag)
        if name == local and ns in wanted:
            return (child.text or "").strip() or None
    return None


@dataclass(frozen=True)
class Entry:
    """One URL from a sitemap or feed, with its last-updated time (normalised) if given."""

    url: str
    updated: str | None = None
