"""What one pass did to each post it met, in a TEMP table of the archive's connection."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from archiver.storage.seen import temp_write

_TABLES = itertools.count()
_NOT_COUNTED, _NEW, _UPDATED = 0, 1, 2


class PassPosts:
    """The posts one pass met: which it counted as new or updated, which it checked over
    the network, the digest of the article list on each post page it wrote, and which
    pages its end brought up to date.

    A first backfill meets every post of the archive once. Python sets and dicts of
    them grew with the pass (a first run over 40,000 articles peaked at 119 MB, and
    about 1.2 KB more per article); a temp table lives in SQLite's page cache and spills
    to a temp file, so the pass's memory stays flat, as with ``SeenLocations``. Nothing
    is written to the archive, and a killed pass leaves nothing behind. Rows written
    inside a caller's transaction go with it if it is rolled back, as do the posts and
    pages they describe. ``close`` drops the table.
    """

    CHUNK = 1000

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.table = f"temp.pass_posts_{next(_TABLES)}"
        temp_write(
            conn,
            f"CREATE TABLE {self.table} (key TEXT PRIMARY KEY, counted INTEGER NOT NULL "
            "DEFAULT 0, checked INTEGER NOT NULL DEFAULT 0, page BLOB, refreshed INTEGER NOT NULL "
            "DEFAULT 0) WITHOUT ROWID",
            [],
        )

    def count_new(self, keys: Iterable[str]) -> int:
        """Count ``keys`` as created by this pass; return how many were not yet."""
        return self._upsert("counted", _NEW, f"counted <> {_NEW}", keys)

    def count_updated(self, keys: Iterable[str]) -> int:
        """Count ``keys`` as updated by this pass unless already counted (as new or
        updated); return how many were counted now."""
        return self._upsert("counted", _UPDATED, f"counted = {_NOT_COUNTED}", keys)

    def first_checks(self, keys: Iterable[str]) -> list[str]:
        """Mark ``keys`` checked in this pass; return those that were not, in order."""
        return [key for key in keys if self._upsert("checked", 1, "checked = 0", [key])]

    def page_digest(self, key: str) -> bytes | None:
        """The digest given with the post's page written in this pass, if one was."""
        digest: bytes | None = self._value("page", key)
        return digest

    def set_page(self, key: str, digest: bytes) -> None:
        """Remember that the post's page was written, with ``digest`` of what it lists."""
        temp_write(
            self._conn,
            f"INSERT INTO {self.table} (key, page) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET page = excluded.page",
            [(key, digest)],
        )

    def forget_page(self, key: str) -> bool:
        """Forget the post's page; True if this pass had written one."""
        return bool(
            temp_write(
                self._conn,
                f"UPDATE {self.table} SET page = NULL WHERE key = ? AND page IS NOT NULL",
                [(key,)],
            )
        )

    def mark_refreshed(self, key: str) -> None:
        """Remember that the end of the pass brought the post's page up to date."""
        self._upsert("refreshed", 1, "refreshed = 0", [key])

    def refreshed(self, key: str) -> bool:
        """Whether ``mark_refreshed`` was called for the post in this pass."""
        return bool(self._value("refreshed", key))

    def pages(self) -> Iterator[str]:
        """The keys of the posts whose pages this pass wrote, sorted. Read in chunks, so
        pages may be remembered again (``set_page``) while this is being read."""
        after = ""
        while True:
            keys = [
                key
                for (key,) in self._conn.execute(
                    f"SELECT key FROM {self.table} WHERE key > ? AND page IS NOT NULL "
                    "ORDER BY key LIMIT ?",
                    [after, self.CHUNK],
                )
            ]
            yield from keys
            if len(keys) < self.CHUNK:
                return
            after = keys[-1]

    def close(self) -> None:
        """Drop the temp table."""
        temp_write(self._conn, f"DROP TABLE IF EXISTS {self.table}", [])

    def _value(self, column: str, key: str) -> Any:
        row = self._conn.execute(f"SELECT {column} FROM {self.table} WHERE key = ?", [key])
        found = row.fetchone()
        return None if found is None else found[0]

    def _upsert(self, column: str, value: int, unless: str, keys: Iterable[str]) -> int:
        rows = [(key,) for key in keys]
        if not rows:
            return 0
        return temp_write(
            self._conn,
            f"INSERT INTO {self.table} (key, {column}) VALUES (?, {value}) "
            f"ON CONFLICT (key) DO UPDATE SET {column} = {value} WHERE {unless}",
            rows,
        )


__all__ = ["PassPosts"]
