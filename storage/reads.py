"""The read queries (``storage.queries``, ``storage.reports``) as methods of the store.

The layers above call ``store.list_posts(...)``, never a function on the database: the
SQL and the ``sqlite_utils.Database`` stay in ``storage/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from archiver.models import Post
from archiver.storage import queries, reports
from archiver.storage.connection import Connection
from archiver.storage.filters import PostFilter
from archiver.storage.results import (
    ArticleDetail,
    ArticleSummary,
    EmbedLink,
    IndexedPost,
    PostDetail,
    SearchHit,
    SnapshotInfo,
)

ExportRow = tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]


class ReadsMixin(Connection):
    """Listing, search, detail, export, stats and index reads; none of them writes."""

    # -- posts ----------------------------------------------------------------------

    def list_posts(self, filters: PostFilter | None = None) -> list[Post]:
        """Matching posts, with their media."""
        return queries.list_posts(self.db, filters)

    def count_posts(self, filters: PostFilter | None = None) -> int:
        """How many posts match (ignoring limit and offset)."""
        return queries.count_posts(self.db, filters)

    def search_posts(
        self, query: str, filters: PostFilter | None = None, raw: bool = False
    ) -> list[SearchHit]:
        """Posts matching ``query`` in text, author name or handle, best first."""
        return queries.search_posts(self.db, query, filters, raw=raw)

    def snapshots_of(self, key: str) -> list[SnapshotInfo]:
        """Every captured version of a post, oldest first."""
        return queries.snapshots_of(self.db, key)

    def articles_of_post(self, key: str) -> list[EmbedLink]:
        """Every article (removed ones too) that embeds a post."""
        return queries.articles_of_post(self.db, key)

    def post_detail(self, key: str) -> PostDetail | None:
        """A post with its media, every snapshot and every embedding article."""
        return reports.post_detail(self.db, key)

    # -- articles ---------------------------------------------------------------------

    def find_article_id(self, ref: str) -> int | None:
        """Resolve an article by location, URL, source path, output path or unique suffix."""
        return queries.find_article_id(self.db, ref)

    def list_articles(
        self,
        statuses: tuple[str, ...] = (),
        include_removed: bool = False,
        limit: int | None = None,
        platform: str | None = None,
    ) -> list[ArticleSummary]:
        """Articles by location, with how many of their posts are in each status."""
        return queries.list_articles(self.db, statuses, include_removed, limit, platform)

    def article_detail(self, article_id: int) -> ArticleDetail | None:
        """An article with each of its embeds and the state of the post it points at."""
        return queries.article_detail(self.db, article_id)

    def article_row(self, article_id: int) -> dict[str, Any] | None:
        """The whole ``articles`` row."""
        return queries.article_row(self.db, article_id)

    def rewritten_article_ids(self) -> list[int]:
        """Ids of live articles that have a rewritten copy."""
        return queries.rewritten_article_ids(self.db)

    # -- export, stats, index -----------------------------------------------------------

    def export_columns(self) -> tuple[list[str], list[str]]:
        """Column names of ``posts`` and of ``snapshots``, in table order."""
        return reports.export_columns(self.db)

    def iter_export_rows(self, filters: PostFilter | None = None) -> Iterator[ExportRow]:
        """(post row, latest snapshot row or None, media rows) for each matching post."""
        return reports.iter_export_rows(self.db, filters)

    def stats(self, top: int = 10) -> dict[str, Any]:
        """Counts of everything in the archive, by status, platform and author."""
        return reports.stats(self.db, top)

    def indexed_month_counts(self) -> list[tuple[str | None, str, int]]:
        """(``created_at``'s first 7 characters, status, count) of the indexed posts."""
        return reports.indexed_month_counts(self.db)

    def iter_indexed_posts(self, per_page: int, max_articles: int) -> Iterator[list[IndexedPost]]:
        """Every page of indexed posts, oldest first, from one sorted cursor (no OFFSET),
        each with at most ``max_articles`` of its live articles and their count."""
        return reports.iter_indexed_posts(self.db, per_page, max_articles)


__all__ = ["ExportRow", "ReadsMixin"]
