"""What the last write of the static index recorded of each of its files.

A page's record is the hash of what it shows and its file's size and time
(``archiver.index_nav.stat_signature``): a write renders a page again only when one of
them moved. They were kept in a JSON file loaded whole and written whole on every index
write, two dicts of every page's name (20,000 pages at a million posts); here each is
read when its page comes up in the walk and written in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from archiver.storage.connection import Connection, in_chunks
from archiver.storage.transaction import write_transaction

_NAMES_CHUNK = 500


class IndexPagesMixin(Connection):
    """The records of the static index's files, by file name."""

    def index_page_record(self, name: str) -> str | None:
        """What the last write recorded of the file ``name``; None if nothing."""
        row = self.db.execute("SELECT recorded FROM index_pages WHERE name = ?", [name]).fetchone()
        return None if row is None else str(row[0])

    def record_index_pages(self, records: Sequence[tuple[str, str]]) -> None:
        """Record ``(name, record)`` pairs, replacing earlier ones, in one transaction."""
        if not records:
            return
        with write_transaction(self.db):
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO index_pages (name, recorded) VALUES (?, ?)", records
            )

    def index_page_names(self) -> Iterator[str]:
        """Every recorded file name, in order, read a chunk at a time (the caller may
        forget some between chunks)."""
        after = ""
        while True:
            names = [
                name
                for (name,) in self.db.execute(
                    "SELECT name FROM index_pages WHERE name > ? ORDER BY name LIMIT ?",
                    [after, _NAMES_CHUNK],
                )
            ]
            yield from names
            if len(names) < _NAMES_CHUNK:
                return
            after = names[-1]

    def forget_index_pages(self, names: Iterable[str]) -> None:
        """Drop the records of files the index no longer has."""
        chunks = list(in_chunks(names))
        if not chunks:
            return  # most writes: no commit for nothing
        with write_transaction(self.db):
            for chunk, marks in chunks:
                self.db.execute(f"DELETE FROM index_pages WHERE name IN ({marks})", chunk)
