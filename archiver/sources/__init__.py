"""Where articles come from. Each source kind yields ``ArticleRef``s; nothing here parses HTML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from archiver import encoding
from archiver.config import DirectorySource, Source
from archiver.errors import ArticleReadError
from archiver.models import Article, ArticleRef
from archiver.sources.directory import iter_directory


def source_name(source: Source, index: int) -> str:
    """A stable name for a source: its ``name`` key, or ``kind-N``."""
    return source.name or f"{source.kind}-{index}"


def iter_local_articles(
    source: Source, index: int, base: Path, skip: tuple[Path, ...] = ()
) -> Iterator[ArticleRef]:
    """Articles of a local (directory) source. Remote kinds live in ``archiver.sources.remote``."""
    if isinstance(source, DirectorySource):
        yield from iter_directory(source, source_name(source, index), base, skip)


def article_from_bytes(ref: ArticleRef, data: bytes, sha256: str | None = None) -> Article:
    """Check that bytes are a text article and work out their encoding.

    ``sha256``: the bytes' hash, when the caller took it already.
    Raises ``ArticleReadError`` for binary content, whichever source the bytes came from.
    """
    if encoding.looks_binary(data):
        raise ArticleReadError("not a text file (binary content); skipped")
    return Article(ref=ref, data=data, encoding=encoding.sniff_encoding(data), sha256=sha256)


__all__ = ["article_from_bytes", "iter_local_articles", "source_name"]
