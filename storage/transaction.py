"""Write transactions that wait for the write lock instead of failing at once.

sqlite-utils' ``Database.atomic()`` starts a transaction with a plain (deferred)
``BEGIN``: the transaction reads first and asks for the write lock at its first
write. In WAL mode, if another connection committed a write meanwhile, SQLite
cannot upgrade the stale read and answers SQLITE_BUSY ("database is locked") at
once, without waiting for the busy timeout. ``BEGIN IMMEDIATE`` takes the write
lock up front, where the busy timeout applies: another program holding the lock
for a few seconds only delays us.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import sqlite_utils

_SAVEPOINT = "SAVEPOINT unit_of_work"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT unit_of_work"
_RELEASE = "RELEASE SAVEPOINT unit_of_work"


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, begun with ``BEGIN IMMEDIATE``; committed on success,
    rolled back on any error. Nested inside another transaction, a savepoint."""
    conn = db.conn
    if conn.in_transaction:
        # A savepoint inside the caller's transaction. One fixed name (sqlite-utils'
        # atomic() draws a random one): the statements stay in the connection's cache
        # instead of being compiled for every unit of a batch. Nested savepoints of one
        # name are fine: RELEASE and ROLLBACK TO act on the innermost.
        conn.execute(_SAVEPOINT)
        try:
            yield db
        except BaseException:
            # The error may already have ended the transaction (a RAISE(ROLLBACK) trigger),
            # savepoints included: cleaning up would hide it behind "no such savepoint".
            if conn.in_transaction:
                conn.execute(_ROLLBACK_TO)
                conn.execute(_RELEASE)
            raise
        conn.execute(_RELEASE)
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        # The error may already have ended the transaction (a RAISE(ROLLBACK) trigger).
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def write_statement(db: sqlite_utils.Database, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
    """Run one writing statement as its own unit of work.

    A single statement is atomic by itself: inside a caller's transaction it needs no
    savepoint around it (that would be two more statements per article of a batch);
    alone, it gets its own ``write_transaction``.
    """
    conn = db.conn
    if conn.in_transaction:
        return conn.execute(sql, params)
    with write_transaction(db):
        return conn.execute(sql, params)
