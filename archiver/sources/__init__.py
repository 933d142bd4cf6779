"""Where articles come from. Each source kind yields ``ArticleRef``s; nothing here parses HTML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from archiver.config import DirectorySource, Source
from archiver.models import ArticleRef
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


__all__ = ["iter_local_articles", "source_name"]
