"""Reported embeds: posts of platforms that are found and listed, never archived.

Threads, Instagram, TikTok and Facebook offer no public way to archive a post
(``archiver.platforms.reported``). Each occurrence in an article is kept here, with
its platform, the post's URL as written and its byte span, replaced with the
article's other embeds in the scan's transaction, so ``articles show``, ``stats``
and ``export --reported`` can list them. The article's bytes are never touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from archiver.models import EmbedSpan
from archiver.storage.connection import Connection
from archiver.storage.results import ReportedEmbed


class ReportedMixin(Connection):
    """The ``reported_embeds`` table."""

    def _replace_reported(self, article_id: int, spans: Sequence[EmbedSpan], now: str) -> None:
        # Inside the caller's transaction (record_scan). An occurrence keeps the time it
        # was first found while it stays at the same URL and place in the list.
        previous = {
            (ordinal, url): found_at
            for ordinal, url, found_at in self.db.execute(
                "SELECT ordinal, url, found_at FROM reported_embeds WHERE article_id = ?",
                [article_id],
            )
        }
        self.db.execute("DELETE FROM reported_embeds WHERE article_id = ?", [article_id])
        rows = [
            {
                "article_id": article_id,
                "ordinal": ordinal,
                "platform": span.platform,
                "url": span.url or span.post_id,
                "form": span.form,
                "start": span.start,
                "end": span.end,
                "found_at": previous.get((ordinal, span.url or span.post_id), now),
            }
            for ordinal, span in enumerate(spans)
        ]
        if rows:
            self.db.table("reported_embeds").insert_all(rows)

    def reported_embeds(self, location: str | None = None) -> list[ReportedEmbed]:
        """Reported embeds of live articles (of one article, by location), in order."""
        return list(self.iter_reported_embeds(location))

    def iter_reported_embeds(self, location: str | None = None) -> Iterator[ReportedEmbed]:
        """``reported_embeds`` as a stream (exports)."""
        where, params = "a.removed_at IS NULL", []
        if location is not None:
            where, params = "a.location = ?", [location]
        for row in self.db.query(
            "SELECT a.location, r.platform, r.url, r.form, r.start, r.end, r.found_at "
            "FROM reported_embeds r JOIN articles a ON a.id = r.article_id "
            f"WHERE {where} ORDER BY a.location, r.ordinal",
            params,
        ):
            yield ReportedEmbed(**row)

    def reported_counts(self) -> dict[str, Any]:
        """How many reported embeds each platform has in live articles."""
        return {
            platform: n
            for platform, n in self.db.execute(
                "SELECT r.platform, count(*) FROM reported_embeds r "
                "JOIN articles a ON a.id = r.article_id WHERE a.removed_at IS NULL "
                "GROUP BY r.platform ORDER BY count(*) DESC, r.platform"
            )
        }


__all__ = ["ReportedEmbed", "ReportedMixin"]
