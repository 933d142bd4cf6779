"""Read-only queries behind ``embed-archiver status``: last runs, what is due, recent failures.

Only reads: ``status`` takes no lock and may run while ``serve`` writes (SQLite WAL).
"""

from __future__ import annotations

import json
from typing import Any

from archiver.storage.store import Store


def last_runs(store: Store, limit: int = 10) -> list[dict[str, Any]]:
    """The latest runs, newest first, with their JSON summary decoded."""
    runs = []
    for row in store.db.query(
        "SELECT id, kind, started_at, finished_at, outcome, summary, error, pid "
        "FROM runs ORDER BY id DESC LIMIT ?",
        [limit],
    ):
        summary = row["summary"]
        try:
            row["summary"] = json.loads(summary) if summary else None
        except ValueError:  # written by hand or by a future version: show it as is
            row["summary"] = summary
        runs.append(row)
    return runs


def due_summary(store: Store, now: str) -> dict[str, Any]:
    """How many posts are due for a network check now, and when the next one falls due."""
    due_now = store.db.execute(
        "SELECT COUNT(*) FROM posts WHERE next_check_at IS NOT NULL AND next_check_at <= ?",
        [now],
    ).fetchone()[0]
    next_row = store.db.execute(
        "SELECT MIN(next_check_at) FROM posts WHERE next_check_at > ?", [now]
    ).fetchone()
    totals = store.db.execute(
        "SELECT (SELECT COUNT(*) FROM posts), "
        "(SELECT COUNT(*) FROM articles WHERE removed_at IS NULL), "
        "(SELECT COUNT(*) FROM articles WHERE removed_at IS NOT NULL)"
    ).fetchone()
    return {
        "due_now": int(due_now),
        "next_check_at": next_row[0] if next_row else None,
        "posts": int(totals[0]),
        "articles": int(totals[1]),
        "articles_removed": int(totals[2]),
    }


def failed_articles(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """Live articles whose last read or scan failed, most recent first."""
    return list(
        store.db.query(
            "SELECT location, source, error, last_scanned_at FROM articles "
            "WHERE error IS NOT NULL AND removed_at IS NULL "
            "ORDER BY last_scanned_at DESC LIMIT ?",
            [limit],
        )
    )


def failed_posts(store: Store, limit: int = 20, since: str | None = None) -> list[dict[str, Any]]:
    """Posts whose last network check failed (checked at or after ``since`` if given),
    most recent first."""
    return list(
        store.db.query(
            "SELECT key, url, last_error, check_failures, last_checked_at, next_check_at "
            "FROM posts WHERE last_error IS NOT NULL AND last_checked_at >= ? "
            "ORDER BY last_checked_at DESC LIMIT ?",
            [since or "", limit],
        )
    )


def status_report(store: Store, now: str, runs: int = 10, failures: int = 20) -> dict[str, Any]:
    """Everything ``status`` shows, as one JSON-ready mapping."""
    return {
        "now": now,
        "runs": last_runs(store, runs),
        "due": due_summary(store, now),
        "failures": {
            "articles": failed_articles(store, failures),
            "posts": failed_posts(store, failures),
        },
    }


__all__ = [
    "due_summary",
    "failed_articles",
    "failed_posts",
    "last_runs",
    "status_report",
]
