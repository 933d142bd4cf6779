"""The locations one pass has seen, in a TEMP table of the archive's connection."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence

_SEEN_TABLES = itertools.count()


class SeenLocations:
    """The locations a pass has seen, kept in a TEMP table of the archive's connection.

    A pass marks removed the articles it did not see. A Python set of every location
    grew with the source (333 MB for a pass over a million articles); a temp table
    lives in SQLite's page cache and spills to a temp file, so the pass's memory stays
    flat, and the unseen articles are one ``NOT IN`` query. Temp tables belong to this
    connection alone: nothing is written to the archive, and a killed pass leaves
    nothing behind. ``close`` drops it.
    """

    FLUSH_EVERY = 1000

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.table = f"temp.pass_seen_{next(_SEEN_TABLES)}"
        self._pending: list[tuple[str]] = []
        self._write(f"CREATE TABLE {self.table} (location TEXT PRIMARY KEY) WITHOUT ROWID", [])

    def add(self, location: str) -> None:
        """Remember one location (written in chunks of ``FLUSH_EVERY``)."""
        self._pending.append((location,))
        if len(self._pending) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the pending locations to the temp table."""
        if self._pending:
            self._write(f"INSERT OR IGNORE INTO {self.table} (location) VALUES (?)", self._pending)
            self._pending = []

    def close(self) -> None:
        """Drop the temp table."""
        self._pending = []
        self._write(f"DROP TABLE IF EXISTS {self.table}", [])

    def _write(self, sql: str, rows: list[tuple[str]]) -> None:
        temp_write(self._conn, sql, rows)


def temp_write(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[object]]) -> int:
    """Run a statement on a TEMP table (once per row of ``rows``, or once when empty);
    return the rows it changed.

    A deferred transaction of its own: it writes only the connection's temp database,
    so it takes no lock on the archive (BEGIN IMMEDIATE would). Inside a caller's
    transaction the rows simply join it (and go with it if it is rolled back, as do the
    archive rows they describe).
    """
    if conn.in_transaction:
        return _run(conn, sql, rows)
    conn.execute("BEGIN")
    try:
        changed = _run(conn, sql, rows)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return changed


def _run(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[object]]) -> int:
    cursor = conn.executemany(sql, rows) if rows else conn.execute(sql)
    return max(cursor.rowcount, 0)


__all__ = ["SeenLocations", "temp_write"]
