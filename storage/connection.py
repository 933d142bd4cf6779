"""The archive's one SQLite connection: opening, pragmas, migration and plain statements.

Every concern of the SQLite storage (articles, posts, media, runs, reads) is a mixin
over this class, so they share one connection and one transaction at a time.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from archiver.storage.schema import migrate


class Connection:
    """An open archive database; ``Store`` composes the per-concern mixins over it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Jobs of the service run on worker threads, one at a time (the
        # scheduler never overlaps them), so the connection may cross threads.
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.db.conn.execute("PRAGMA busy_timeout = 30000")
        self.db.conn.execute("PRAGMA foreign_keys = ON")
        self.db.enable_wal()
        # In WAL mode, NORMAL keeps the database consistent after a crash; a
        # power loss may drop the last commits, which the next run redoes.
        self.db.conn.execute("PRAGMA synchronous = NORMAL")
        migrate(self.db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- plain writes -------------------------------------------------------------
    # sqlite-utils' table.insert() introspects the table on every call; on the
    # hot path (several rows per article) plain statements are ~5x faster.

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        columns = ", ".join(f'"{name}"' for name in row)
        marks = ", ".join("?" * len(row))
        cursor = self.db.execute(
            f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(row.values())
        )
        return int(cursor.lastrowid or 0)

    def _insert_many(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows that share their columns: one prepared statement for them all."""
        if not rows:
            return
        names = list(rows[0])
        if any(list(row) != names for row in rows):  # mixed shapes: one at a time
            for row in rows:
                self._insert(table, row)
            return
        columns = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" * len(names))
        self.db.conn.executemany(
            f'INSERT INTO "{table}" ({columns}) VALUES ({marks})',
            [list(row.values()) for row in rows],
        )

    def _rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _update(self, table: str, pk: str, value: object, row: dict[str, Any]) -> None:
        assignments = ", ".join(f'"{name}" = ?' for name in row)
        self.db.execute(
            f'UPDATE "{table}" SET {assignments} WHERE "{pk}" = ?', [*row.values(), value]
        )


def in_chunks(keys: Iterable[str], size: int = 400) -> Iterator[tuple[list[str], str]]:
    """Keys in chunks small enough for SQLite's parameter limit, with their ``?`` marks."""
    keys = list(keys)
    for start in range(0, len(keys), size):
        chunk = keys[start : start + size]
        yield chunk, ",".join("?" * len(chunk))


__all__ = ["Connection", "in_chunks"]
