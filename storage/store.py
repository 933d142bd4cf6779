"""The SQLite archive: one connection with a mixin per concern, and the units of work
that span them. No SQL lives outside ``storage/``.

Every unit of work (one article's scan, one post's fetch result) is one
transaction, so a crash leaves either the old state or the new one.

    Connection (connection.py)   open, pragmas, migrate, plain statements
    ArticlesMixin (articles.py)  articles and their embeds
    PostsMixin (posts.py)        posts and snapshots, on MediaMixin (media.py)
    AliasesMixin (aliases.py)    keys resolved to their posts (Bluesky handles)
    ReportedMixin (reported.py)  embeds of reported-only platforms (Threads…)
    RunsMixin (runs.py)          runs and the status report
    ReadsMixin (reads.py)        listing, search, export, stats, index reads
    IndexPagesMixin (index_pages.py)  what the last static index write recorded
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from archiver.decide import Change, MarkupRank, content_hash, markup_rank
from archiver.models import STATUS_LIVE, ArticleRef, EmbedSpan, PostSnapshot
from archiver.storage.aliases import AliasesMixin
from archiver.storage.articles import (
    ArticlesMixin,
    ArticleState,
    EmbedRecord,
    ScanCounts,
    StoredEmbed,
)
from archiver.storage.index_pages import IndexPagesMixin
from archiver.storage.posts import DuePost
from archiver.storage.reads import ReadsMixin
from archiver.storage.reported import ReportedMixin
from archiver.storage.rows import media_item_from_row, post_from_row
from archiver.storage.runs import RunsMixin
from archiver.storage.transaction import write_transaction

# The outcomes of saving a snapshot, under their old names.
NEW = Change.NEW
UPDATED = Change.UPDATED
UNCHANGED = Change.UNCHANGED


class Store(ArticlesMixin, AliasesMixin, RunsMixin, ReadsMixin, ReportedMixin, IndexPagesMixin):
    """The archive database. Open with ``Store(path)``; it migrates on open."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batch(self) -> AbstractContextManager[object]:
        """One write transaction around several units of work (a batch of articles).

        Each method called inside keeps its own unit as a savepoint, so one that fails
        is undone alone; the batch commits once. The caller must not hold it across a
        network fetch: it keeps the archive's write lock.
        """
        return write_transaction(self.db)

    def record_scan(
        self,
        ref: ArticleRef,
        *,
        content_hash: str,
        encoding: str,
        embeds: Sequence[EmbedRecord],
        snapshots: Sequence[PostSnapshot],
        now: str,
        etag: str | None = None,
        last_modified: str | None = None,
        reported: Sequence[EmbedSpan] | None = None,
    ) -> ScanCounts:
        """Store one scanned article, its embeds and their markup snapshots, atomically.

        ``reported``: the embeds of reported-only platforms the scan found (replacing
        the article's previous ones); None leaves them as they are (a rewrite in place
        records its own output, whose reported embeds are the source's).
        Returns the posts that were new or updated by this article.
        """
        counts = ScanCounts()
        values = {
            "content_hash": content_hash,
            "encoding": encoding,
            "embed_count": len(embeds),
            "last_scanned_at": now,
            "removed_at": None,
            "error": None,
            "etag": etag,
            "last_modified": last_modified,
        }
        exists = False
        if not (embeds or snapshots or reported):
            # Most articles of a site embed nothing; on a first run each is new. Then
            # the unit of work is one INSERT, atomic by itself: no savepoint, and no
            # embeds to read or delete. An existing row takes the general path below
            # (the INSERT that did nothing changed nothing).
            if (
                self._insert_new_article(ref.location, self._article_row(ref, values), now)
                is not None
            ):
                return counts
            exists = True
        with write_transaction(self.db):
            for snap in snapshots:
                outcome = self._save_snapshot(snap, now)
                if outcome == Change.NEW:
                    counts.new += 1
                    counts.new_keys.add(snap.key)
                elif outcome == Change.UPDATED:
                    counts.updated.add(snap.key)
            self._mark_stale(counts.updated)
            article_id, new = self._upsert_article(ref, values, now, insert_first=not exists)
            self._replace_embeds(article_id, embeds, now, new=new)
            if reported is not None and (reported or not new):
                self._replace_reported(article_id, reported, now)
        return counts


__all__ = [
    "NEW",
    "STATUS_LIVE",
    "UNCHANGED",
    "UPDATED",
    "ArticleState",
    "Change",
    "DuePost",
    "EmbedRecord",
    "MarkupRank",
    "ScanCounts",
    "Store",
    "StoredEmbed",
    "content_hash",
    "markup_rank",
    "media_item_from_row",
    "post_from_row",
]
