"""Articles: what the archive remembers of each one, its embeds, and its rewritten copy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from archiver.models import FORM_ARCHIVED, ArticleRef, EmbedSpan
from archiver.storage.connection import Connection, in_chunks
from archiver.storage.filters import LIVE_ARTICLE
from archiver.storage.fsnames import path_from_db, path_to_db
from archiver.storage.seen import SeenLocations
from archiver.storage.transaction import write_statement, write_transaction


@dataclass
class ArticleState:
    """What the archive remembers of an article, to decide whether to rescan it."""

    id: int
    location: str
    content_hash: str | None
    size: int | None
    mtime_ns: int | None
    output_path: str | None
    output_hash: str | None
    etag: str | None
    last_modified: str | None
    removed_at: str | None
    error: str | None
    embed_count: int
    last_scanned_at: str | None


@dataclass
class EmbedRecord:
    """One embed occurrence to store: where it is and its markup as found."""

    span: EmbedSpan
    original: str


@dataclass
class StoredEmbed:
    """One embed of an article as stored: the post, its place, and its original markup."""

    article_location: str
    post_key: str
    ordinal: int
    form: str
    original: str


@dataclass
class ScanCounts:
    """What storing one article's markup did to the posts it embeds."""

    new: int = 0
    updated: set[str] = field(default_factory=set)  # keys whose content changed
    new_keys: set[str] = field(default_factory=set)  # keys of the posts counted in ``new``


class ArticlesMixin(Connection):
    """The ``articles`` and ``embeds`` tables."""

    def get_article(self, location: str) -> ArticleState | None:
        """What the archive remembers of the article at ``location``, or None."""
        row = self.db.execute(
            "SELECT id, location, content_hash, size, mtime_ns, output_path, output_hash, "
            "etag, last_modified, removed_at, error, embed_count, last_scanned_at "
            "FROM articles WHERE location = ?",
            [location],
        ).fetchone()
        if not row:
            return None
        state = ArticleState(*row)
        state.output_path = path_from_db(state.output_path)
        return state

    def record_article_error(self, ref: ArticleRef, reason: str, now: str) -> None:
        """Remember that an article could not be read; its embeds stay as they were."""
        with self._row_write():
            self._upsert_article(ref, {"error": reason, "last_scanned_at": now}, now)

    def record_article_unchanged(
        self,
        ref: ArticleRef,
        now: str,
        output_path: str | None = None,
        output_hash: str | None = None,
    ) -> None:
        """Record a pass that found the article unchanged (it is live again if it was gone).

        That resets ``output_path`` as a scan does; with ``output_path`` and
        ``output_hash`` (the copy on disk, confirmed current), it records them too, as
        ``mark_rewritten`` would: one statement instead of two units of work.
        """
        values: dict[str, Any] = {"last_scanned_at": now, "removed_at": None}
        if output_path is not None:
            values.update(
                output_path=path_to_db(output_path),
                output_hash=output_hash,
                last_rewritten_at=now,
            )
        with self._row_write():
            self._upsert_article(ref, values, now)

    def _row_write(self) -> AbstractContextManager[object]:
        """The unit of work of ``_upsert_article`` alone: no savepoint inside a caller's
        transaction, as each of its statements is atomic and the INSERT runs only when
        the UPDATE changed nothing; alone, a transaction of its own."""
        if self.db.conn.in_transaction:
            return contextlib.nullcontext()
        return write_transaction(self.db)

    def mark_rewritten(self, location: str, output_path: str, output_hash: str, now: str) -> None:
        """Record the rewritten copy written for an article, with the hash it was made from."""
        write_statement(
            self.db,
            "UPDATE articles SET output_path = ?, output_hash = ?, last_rewritten_at = ? "
            "WHERE location = ?",
            [path_to_db(output_path), output_hash, now, location],
        )

    def record_restored(self, location: str, size: int, mtime_ns: int, content_hash: str) -> None:
        """An in-place article whose original embeds were put back: its file is now the
        restored one, so the next pass sees it unchanged and leaves it (as it leaves a
        restored copy in the output folder) until it is edited or regenerated."""
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE articles SET size = ?, mtime_ns = ?, content_hash = ? WHERE location = ?",
                [size, mtime_ns, content_hash, location],
            )

    def seen_locations(self) -> SeenLocations:
        """An empty set of locations seen by a pass, kept in the database (see
        ``SeenLocations``); pass it to ``unseen_articles`` and ``mark_removed``."""
        return SeenLocations(self.db.conn)

    def mark_removed(self, source: str, seen: Iterable[str] | SeenLocations, now: str) -> int:
        """Mark articles of ``source`` that were not seen this pass as removed.

        They are never deleted: their embeds and posts stay in the archive.
        """
        if isinstance(seen, SeenLocations):
            seen.flush()
            with write_transaction(self.db):
                cursor = self.db.execute(
                    "UPDATE articles SET removed_at = ? WHERE source = ? AND removed_at IS NULL "
                    f"AND location NOT IN (SELECT location FROM {seen.table})",
                    [now, source],
                )
            return int(cursor.rowcount)
        seen_set = set(seen)
        rows = self.db.execute(
            "SELECT location FROM articles WHERE source = ? AND removed_at IS NULL", [source]
        ).fetchall()
        gone = [loc for (loc,) in rows if loc not in seen_set]
        with write_transaction(self.db):
            for location in gone:
                self.db.execute(
                    "UPDATE articles SET removed_at = ? WHERE location = ?", [now, location]
                )
        return len(gone)

    def unseen_articles(self, source: str, seen: Iterable[str] | SeenLocations) -> list[str]:
        """Live articles of ``source`` not in ``seen``: those ``mark_removed`` would mark."""
        if isinstance(seen, SeenLocations):
            seen.flush()
            return [
                loc
                for (loc,) in self.db.execute(
                    "SELECT location FROM articles WHERE source = ? AND removed_at IS NULL "
                    f"AND location NOT IN (SELECT location FROM {seen.table})",
                    [source],
                )
            ]
        seen_set = seen if isinstance(seen, (set, frozenset)) else set(seen)
        rows = self.db.execute(
            "SELECT location FROM articles WHERE source = ? AND removed_at IS NULL", [source]
        )
        return [loc for (loc,) in rows if loc not in seen_set]

    def stale_post_pages(self) -> list[str]:
        """Posts whose page lists an article that stopped embedding them (kept until
        ``clear_stale_post_pages``; as many as the embeds dropped since)."""
        return [k for (k,) in self.db.execute("SELECT post_key FROM post_pages_stale")]

    def clear_stale_post_pages(self, keys: Iterable[str]) -> None:
        """Forget these stale pages: they were written again."""
        with write_transaction(self.db):
            for chunk, marks in in_chunks(keys):
                self.db.execute(f"DELETE FROM post_pages_stale WHERE post_key IN ({marks})", chunk)

    def pages_touched_since(self, since: str) -> Iterator[str]:
        """Posts whose page a pass that started at ``since`` may have left out of date,
        streamed in key order: those embedded by an article scanned, rewritten or removed
        since, those checked, captured or changed since, and the posts quoting or
        replying to those (their pages show them)."""
        yield from (
            key
            for (key,) in self.db.conn.execute(
                "WITH changed AS (SELECT key FROM posts WHERE last_checked_at >= :t "
                "OR archived_at >= :t OR status_changed_at >= :t OR first_seen_at >= :t) "
                "SELECT e.post_key FROM embeds e JOIN articles a ON a.id = e.article_id "
                "WHERE a.last_scanned_at >= :t OR a.last_rewritten_at >= :t "
                "OR a.removed_at >= :t "
                "UNION SELECT key FROM changed "
                "UNION SELECT key FROM posts WHERE quoted_post_key IN (SELECT key FROM changed) "
                "OR reply_to_post_key IN (SELECT key FROM changed) "
                "ORDER BY 1",
                {"t": since},
            )
        )

    def article_locations(self, include_removed: bool = False) -> list[str]:
        """Locations of stored articles (live ones, or all), in order."""
        sql = "SELECT location FROM articles"
        if not include_removed:
            sql += " WHERE removed_at IS NULL"
        return [loc for (loc,) in self.db.execute(sql + " ORDER BY location").fetchall()]

    def article_refs(self, locations: Iterable[str] | None = None) -> list[ArticleRef]:
        """The refs of stored articles (all live ones, or the live ones named), by location."""
        if locations is None:
            return self.live_article_refs()
        # The named ones looked up by location: reading every article to keep a few made
        # each chunk of stale articles at the end of a pass cost a read of the archive.
        refs: list[ArticleRef] = []
        for chunk, marks in in_chunks(sorted(set(locations))):
            rows = self.db.execute(
                f"SELECT {_REF_COLUMNS} FROM articles "
                f"WHERE removed_at IS NULL AND location IN ({marks})",
                chunk,
            )
            refs.extend(_ref_from_row(row) for row in rows)
        return sorted(refs, key=lambda ref: ref.location)

    def live_article_refs(self, after: str = "", limit: int = -1) -> list[ArticleRef]:
        """Live articles by location: the first ``limit`` (all by default) after ``after``.
        A caller walking every article reads them a chunk at a time with it."""
        rows = self.db.execute(
            # In the order of the unique index on location: no sort, and the + keeps
            # the planner off the index of live articles, which would need one.
            f"SELECT {_REF_COLUMNS} FROM articles "
            "WHERE +removed_at IS NULL AND location > ? ORDER BY location LIMIT ?",
            [after, limit],
        )
        return [_ref_from_row(row) for row in rows]

    def articles_embedding(self, keys: Iterable[str]) -> list[str]:
        """Locations of live articles that embed any of these posts."""
        found: set[str] = set()
        for chunk, marks in in_chunks(keys):
            rows = self.db.execute(
                f"SELECT DISTINCT a.location FROM embeds e JOIN articles a ON a.id = e.article_id "
                f"WHERE {LIVE_ARTICLE} AND e.post_key IN ({marks})",
                chunk,
            )
            found.update(loc for (loc,) in rows)
        return sorted(found)

    def stale_article_refs(self, after: str = "", limit: int = -1) -> list[ArticleRef]:
        """Live articles whose rewritten copy is out of date (or was never confirmed)
        and whose last scan did not fail, by location: the first ``limit`` (all by
        default) of those after ``after``. A first run can leave a quarter of its
        articles stale, so callers read them a chunk at a time."""
        rows = self.db.execute(
            # From the index of stale copies (migration 13), in its order: no sort; the
            # + keeps the planner off the index of every live article (see LIVE_ARTICLE).
            f"SELECT {_REF_COLUMNS} FROM articles WHERE output_hash IS NULL "
            "AND +removed_at IS NULL AND error IS NULL AND location > ? ORDER BY location LIMIT ?",
            [after, limit],
        )
        return [_ref_from_row(row) for row in rows]

    def output_owner(self, output_path: str, other_than: str) -> str | None:
        """The live article, other than ``other_than``, whose rewritten copy is this file."""
        row = self.db.execute(
            "SELECT location FROM articles WHERE output_path = ? AND removed_at IS NULL "
            "AND location != ? LIMIT 1",
            [path_to_db(output_path), other_than],
        ).fetchone()
        return str(row[0]) if row else None

    def embeds_of(self, location: str) -> list[StoredEmbed]:
        """The embeds stored for an article, in their order in it."""
        rows = self.db.execute(
            "SELECT a.location, e.post_key, e.ordinal, e.form, e.original FROM embeds e "
            "JOIN articles a ON a.id = e.article_id WHERE a.location = ? ORDER BY e.ordinal",
            [location],
        ).fetchall()
        return [StoredEmbed(*row) for row in rows]

    def _upsert_article(
        self, ref: ArticleRef, values: dict[str, Any], now: str, insert_first: bool = False
    ) -> tuple[int, bool]:
        """Write the article's row; its id, and whether the row is new (then it has no
        embeds yet: nothing to read or delete). One statement when it guesses right:
        ``insert_first`` for an article that is probably new (a scan), else an update."""
        row = self._article_row(ref, values)
        if insert_first:
            inserted = self._insert_new_article(ref.location, row, now)
            if inserted is not None:
                return inserted, True
        assignments = ", ".join(f'"{name}" = ?' for name in row)
        found = self.db.conn.execute(
            f"UPDATE articles SET {assignments} WHERE location = ? RETURNING id",
            [*row.values(), ref.location],
        ).fetchall()
        if found:
            return int(found[0][0]), False
        inserted = None if insert_first else self._insert_new_article(ref.location, row, now)
        if inserted is None:  # cannot happen in our own transaction; say so if it does
            raise RuntimeError(f"article {ref.location!r} neither inserted nor updated")
        return inserted, True

    def _article_row(self, ref: ArticleRef, values: dict[str, Any]) -> dict[str, Any]:
        """The columns of the article's row: its ref's, then ``values``."""
        return {
            "source": ref.source,
            "path": path_to_db(ref.path),
            "url": ref.url,
            # A scan resets it to the relative path: only mark_rewritten, after the
            # write, records the file (see the pipeline's _output_exists).
            "output_path": path_to_db(ref.output_relpath or None),
            "size": ref.size,
            "mtime_ns": ref.mtime_ns,
            **values,
        }

    def _insert_new_article(self, location: str, row: dict[str, Any], now: str) -> int | None:
        """Insert the article's row if there is none yet (one statement, atomic by
        itself, so outside a transaction it takes its own); its new id, or None."""
        full = {**row, "location": location, "first_seen_at": now}
        columns = ", ".join(f'"{name}"' for name in full)
        marks = ", ".join("?" * len(full))
        cursor = write_statement(
            self.db,
            f"INSERT INTO articles ({columns}) VALUES ({marks}) ON CONFLICT(location) DO NOTHING",
            list(full.values()),
        )
        return int(cursor.lastrowid or 0) if cursor.rowcount == 1 else None

    def _replace_embeds(
        self, article_id: int, embeds: Sequence[EmbedRecord], now: str, new: bool = False
    ) -> None:
        if new:  # a row just inserted has no embeds to keep, mark or delete
            self._insert_embeds(article_id, embeds, now, {})
            return
        previous = {
            (key, ordinal): (form, original, found_at)
            for key, ordinal, form, original, found_at in self.db.execute(
                "SELECT post_key, ordinal, form, original, found_at FROM embeds "
                "WHERE article_id = ?",
                [article_id],
            ).fetchall()
        }
        by_key = {key: value for (key, _), value in previous.items()}
        dropped = set(by_key) - {record.span.key for record in embeds}
        if dropped:  # their pages list this article: refreshed at the end of a pass
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO post_pages_stale (post_key) VALUES (?)",
                [(key,) for key in sorted(dropped)],
            )
        if previous:
            self.db.execute("DELETE FROM embeds WHERE article_id = ?", [article_id])
        self._insert_embeds(article_id, embeds, now, previous)

    def _insert_embeds(
        self,
        article_id: int,
        embeds: Sequence[EmbedRecord],
        now: str,
        previous: dict[tuple[str, int], tuple[str, str, str]],
    ) -> None:
        by_key = {key: value for (key, _), value in previous.items()}
        rows = []
        for ordinal, record in enumerate(embeds):
            span = record.span
            form, original, found_at = span.form, record.original, now
            if span.form == FORM_ARCHIVED:
                # Our own rewritten embed: keep the markup it replaced, so
                # `restore` can put the original back byte for byte.
                kept = previous.get((span.key, ordinal)) or by_key.get(span.key)
                if kept:
                    form, original, found_at = kept
            elif (span.key, ordinal) in previous:
                found_at = previous[(span.key, ordinal)][2]
            rows.append(
                {
                    "article_id": article_id,
                    "post_key": span.key,
                    "ordinal": ordinal,
                    "form": form,
                    "start": span.start,
                    "end": span.end,
                    "original": original,
                    "found_at": found_at,
                }
            )
        if rows:
            self._insert_many("embeds", rows)


# What an ArticleRef is made of (see _ref_from_row).
_REF_COLUMNS = "location, source, path, url, output_path"


def _ref_from_row(row: tuple[str, str | None, str | None, str | None, str | None]) -> ArticleRef:
    location, source, path, url, output_path = row
    return ArticleRef(
        location=location,
        source=source or "",
        path=path_from_db(path),
        url=url,
        output_relpath=path_from_db(output_path) or "",
    )


__all__ = [
    "ArticleState",
    "ArticlesMixin",
    "EmbedRecord",
    "ScanCounts",
    "SeenLocations",
    "StoredEmbed",
]
