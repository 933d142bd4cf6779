"""Runs of the archiver, and the read-only status report built on them.

Only reads in ``status_report``: ``status`` takes no lock and may run while ``serve``
writes (SQLite WAL).
"""

from __future__ import annotations

import json
import os
from typing import Any

from archiver.decide import to_json
from archiver.models import RunOutcome
from archiver.storage.connection import Connection
from archiver.storage.transaction import write_transaction


class RunsMixin(Connection):
    """The ``runs`` table, and what ``status`` shows."""

    def start_run(self, kind: str, now: str) -> int:
        """Record a run (a pass, a recheck...) as started by this process; its id."""
        with write_transaction(self.db):
            return self._insert(
                "runs",
                {
                    "kind": kind,
                    "started_at": now,
                    "outcome": RunOutcome.RUNNING,
                    "pid": os.getpid(),
                },
            )

    def finish_run(
        self, run_id: int, outcome: str, summary: dict[str, Any], now: str, error: str | None = None
    ) -> None:
        """Record how a run ended, with its report as JSON."""
        with write_transaction(self.db):
            self._update(
                "runs",
                "id",
                run_id,
                {
                    "finished_at": now,
                    "outcome": outcome,
                    "summary": to_json(summary),
                    "error": error,
                },
            )

    def mark_stale_runs(self, now: str) -> int:
        """Runs left 'running' by a process that died are marked interrupted."""
        with write_transaction(self.db):
            cursor = self.db.execute(
                "UPDATE runs SET outcome = 'interrupted', finished_at = ? "
                "WHERE outcome = 'running'",
                [now],
            )
        return int(cursor.rowcount)

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest runs, newest first, with their JSON summary decoded."""
        runs = []
        for row in self.db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]):
            summary = row["summary"]
            try:
                row["summary"] = json.loads(summary) if summary else None
            except ValueError:  # written by hand or by a future version: show it as is
                row["summary"] = summary
            runs.append(row)
        return runs

    def unfinished_since(self) -> str | None:
        """When the runs that did not finish (killed, stopped, failed) before the newest
        run began: the start of the oldest since the last one that finished, or None.
        The newest run is the caller's own."""
        since = None
        cursor = self.db.conn.execute("SELECT started_at, outcome FROM runs ORDER BY id DESC")
        next(cursor, None)  # the caller's own run
        for started_at, outcome in cursor:
            if outcome not in (RunOutcome.INTERRUPTED, RunOutcome.FAILED, RunOutcome.RUNNING):
                break
            since = started_at
        cursor.close()
        return since

    def due_summary(self, now: str) -> dict[str, Any]:
        """How many posts are due for a network check now, and when the next one falls due."""
        due_now = self.db.execute(
            "SELECT COUNT(*) FROM posts WHERE next_check_at IS NOT NULL AND next_check_at <= ?",
            [now],
        ).fetchone()[0]
        next_row = self.db.execute(
            "SELECT MIN(next_check_at) FROM posts WHERE next_check_at > ?", [now]
        ).fetchone()
        totals = self.db.execute(
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

    def failed_articles(self, limit: int = 20) -> list[dict[str, Any]]:
        """Live articles whose last read or scan failed, most recent first."""
        return list(
            self.db.query(
                # From the failed articles' own index (migration 12), newest first; the +
                # keeps the planner off the index of every live article (see LIVE_ARTICLE).
                "SELECT location, source, error, last_scanned_at FROM articles "
                "WHERE error IS NOT NULL AND +removed_at IS NULL "
                "ORDER BY last_scanned_at DESC LIMIT ?",
                [limit],
            )
        )

    def failed_posts(self, limit: int = 20, since: str | None = None) -> list[dict[str, Any]]:
        """Posts whose last network check failed (checked at or after ``since`` if given),
        most recent first."""
        return list(
            self.db.query(
                "SELECT key, url, last_error, check_failures, last_checked_at, next_check_at "
                "FROM posts WHERE last_error IS NOT NULL AND last_checked_at >= ? "
                "ORDER BY last_checked_at DESC LIMIT ?",
                [since or "", limit],
            )
        )

    def status_report(self, now: str, runs: int = 10, failures: int = 20) -> dict[str, Any]:
        """Everything ``status`` shows, as one JSON-ready mapping."""
        return {
            "now": now,
            "runs": self.recent_runs(runs),
            "due": self.due_summary(now),
            "failures": {
                "articles": self.failed_articles(failures),
                "posts": self.failed_posts(failures),
            },
        }


__all__ = ["RunsMixin"]
