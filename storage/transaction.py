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
from collections.abc import Iterator

import sqlite_utils


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, begun with ``BEGIN IMMEDIATE``; committed on success,
    rolled back on any error. Nested inside another transaction, a savepoint."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():  # a savepoint inside the caller's transaction
            yield db
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
