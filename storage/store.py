"""All reads and writes of the archive. No SQL lives outside ``storage/``.

Every unit of work (one article's scan, one post's fetch result) is one
transaction, so a crash leaves either the old state or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlite_utils

from archiver.models import (
    FORM_ARCHIVED,
    SOURCE_ARCHIVED_COPY,
    SOURCE_MARKUP,
    SOURCE_RANK,
    STATUS_LIVE,
    STATUS_UNKNOWN,
    ArticleRef,
    EmbedSpan,
    MediaItem,
    Post,
    PostSnapshot,
    RunOutcome,
    post_key,
    sha256_hex,
)
from archiver.storage.fsnames import path_from_db, path_to_db
from archiver.storage.schema import migrate
from archiver.storage.transaction import write_transaction


class Change(StrEnum):
    """What saving a snapshot did to its post."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


NEW = Change.NEW
UPDATED = Change.UPDATED
UNCHANGED = Change.UNCHANGED

# Fields whose change makes a new version of a post. Counts (likes, replies)
# are left out on purpose: they change on every check and are not edits.
_CONTENT_FIELDS = (
    "url",
    "author_handle",
    "author_name",
    "text",
    "html",
    "lang",
    "created_at",
    "truncated",
    "card",
    "quoted_post_key",
    "reply_to_post_key",
)


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


@dataclass
class DuePost:
    post_id: str
    handle: str | None
    have_content: bool


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _snapshot_fields(snap: PostSnapshot) -> dict[str, Any]:
    return {
        "url": snap.url,
        "author_handle": snap.author_handle,
        "author_name": snap.author_name,
        "text": snap.text,
        "html": snap.html,
        "lang": snap.lang,
        "created_at": snap.created_at,
        "truncated": int(snap.truncated),
        "card": _json(snap.card),
        "quoted_post_key": post_key(snap.platform, snap.quoted_post_id)
        if snap.quoted_post_id
        else None,
        "reply_to_post_key": post_key(snap.platform, snap.reply_to_post_id)
        if snap.reply_to_post_id
        else None,
    }


def content_hash(snap: PostSnapshot) -> str:
    """A hash of what a reader sees of the post, plus its status."""
    fields = _snapshot_fields(snap)
    material = {name: fields[name] for name in _CONTENT_FIELDS}
    material["status"] = snap.status
    material["media"] = sorted(m.url for m in snap.media if m.kind != "avatar")
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return sha256_hex(encoded)


MarkupRank = tuple[int, int, int, int, str]


def markup_rank(fields: dict[str, Any], media: Sequence[MediaItem], digest: str) -> MarkupRank:
    """How much a markup snapshot tells: a total order (ties broken by content hash).

    Text first (its length: pasted text is often cut short), then media, then how many
    other fields are filled in.
    """
    text = fields.get("text") or ""
    filled = sum(
        1 for name in _CONTENT_FIELDS if name != "truncated" and fields.get(name) not in (None, "")
    )
    pictures = sum(1 for m in media if m.kind != "avatar")
    return (int(bool(text)), len(text), pictures, filled, digest)


def _has_content(snap: PostSnapshot) -> bool:
    return bool(snap.text) or bool(snap.media and any(m.kind != "avatar" for m in snap.media))


class Store:
    """The archive database. Open with ``Store(path)``; it migrates on open."""

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
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        for row in rows:
            self._insert(table, row)

    def _rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _update(self, table: str, pk: str, value: object, row: dict[str, Any]) -> None:
        assignments = ", ".join(f'"{name}" = ?' for name in row)
        self.db.execute(
            f'UPDATE "{table}" SET {assignments} WHERE "{pk}" = ?', [*row.values(), value]
        )

    # -- articles ---------------------------------------------------------------

    def get_article(self, location: str) -> ArticleState | None:
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
    ) -> ScanCounts:
        """Store one scanned article, its embeds and their markup snapshots, atomically.

        Returns the posts that were new or updated by this article.
        """
        counts = ScanCounts()
        with write_transaction(self.db):
            for snap in snapshots:
                outcome = self._save_snapshot(snap, now)
                if outcome == NEW:
                    counts.new += 1
                    counts.new_keys.add(snap.key)
                elif outcome == UPDATED:
                    counts.updated.add(snap.key)
            self._mark_stale(counts.updated)
            article_id = self._upsert_article(
                ref,
                {
                    "content_hash": content_hash,
                    "encoding": encoding,
                    "embed_count": len(embeds),
                    "last_scanned_at": now,
                    "removed_at": None,
                    "error": None,
                    "etag": etag,
                    "last_modified": last_modified,
                },
                now,
            )
            self._replace_embeds(article_id, embeds, now)
        return counts

    def record_article_error(self, ref: ArticleRef, reason: str, now: str) -> None:
        """Remember that an article could not be read; its embeds stay as they were."""
        with write_transaction(self.db):
            self._upsert_article(ref, {"error": reason, "last_scanned_at": now}, now)

    def record_article_unchanged(self, ref: ArticleRef, now: str) -> None:
        with write_transaction(self.db):
            self._upsert_article(ref, {"last_scanned_at": now, "removed_at": None}, now)

    def mark_rewritten(self, location: str, output_path: str, output_hash: str, now: str) -> None:
        with write_transaction(self.db):
            self.db.execute(
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

    def mark_removed(self, source: str, seen: Iterable[str], now: str) -> int:
        """Mark articles of ``source`` that were not seen this pass as removed.

        They are never deleted: their embeds and posts stay in the archive.
        """
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

    def unseen_articles(self, source: str, seen: Iterable[str]) -> list[str]:
        """Live articles of ``source`` not in ``seen``: those ``mark_removed`` would mark."""
        seen_set = seen if isinstance(seen, (set, frozenset)) else set(seen)
        rows = self.db.execute(
            "SELECT location FROM articles WHERE source = ? AND removed_at IS NULL", [source]
        )
        return [loc for (loc,) in rows if loc not in seen_set]

    def article_locations(self, include_removed: bool = False) -> list[str]:
        sql = "SELECT location FROM articles"
        if not include_removed:
            sql += " WHERE removed_at IS NULL"
        return [loc for (loc,) in self.db.execute(sql + " ORDER BY location").fetchall()]

    def article_refs(self, locations: Iterable[str] | None = None) -> list[ArticleRef]:
        """The refs of stored articles (all live ones, or those named)."""
        sql = (
            "SELECT location, source, path, url, output_path FROM articles "
            "WHERE removed_at IS NULL ORDER BY location"
        )
        wanted = set(locations) if locations is not None else None
        refs = []
        for location, source, path, url, output_path in self.db.execute(sql).fetchall():
            if wanted is not None and location not in wanted:
                continue
            refs.append(
                ArticleRef(
                    location=location,
                    source=source or "",
                    path=path_from_db(path),
                    url=url,
                    output_relpath=path_from_db(output_path) or "",
                )
            )
        return refs

    def articles_embedding(self, keys: Iterable[str]) -> list[str]:
        """Locations of live articles that embed any of these posts."""
        found: set[str] = set()
        for chunk, marks in _in_chunks(keys):
            rows = self.db.execute(
                f"SELECT DISTINCT a.location FROM embeds e JOIN articles a ON a.id = e.article_id "
                f"WHERE a.removed_at IS NULL AND e.post_key IN ({marks})",
                chunk,
            )
            found.update(loc for (loc,) in rows)
        return sorted(found)

    def _mark_stale(self, keys: Iterable[str]) -> None:
        # A post's rendering changed: the copies showing it, and those showing a post
        # that quotes it or replies to it, are out of date until mark_rewritten records
        # them again (output_hash). Marked in the transaction that changes the post, so
        # a crash before they are rewritten loses nothing.
        for chunk, marks in _in_chunks(keys, size=300):  # three uses of each key
            self.db.execute(
                "UPDATE articles SET output_hash = NULL WHERE removed_at IS NULL AND id IN "
                f"(SELECT article_id FROM embeds WHERE post_key IN ({marks}) OR post_key IN "
                f"(SELECT key FROM posts WHERE quoted_post_key IN ({marks}) "
                f"OR reply_to_post_key IN ({marks})))",
                [*chunk, *chunk, *chunk],
            )

    def stale_article_refs(self) -> list[ArticleRef]:
        """Live articles whose rewritten copy is out of date (or was never confirmed)
        and whose last scan did not fail."""
        rows = self.db.execute(
            "SELECT location FROM articles WHERE output_hash IS NULL AND removed_at IS NULL "
            "AND error IS NULL"
        ).fetchall()
        return self.article_refs([location for (location,) in rows]) if rows else []

    def output_owner(self, output_path: str, other_than: str) -> str | None:
        """The live article, other than ``other_than``, whose rewritten copy is this file."""
        row = self.db.execute(
            "SELECT location FROM articles WHERE output_path = ? AND removed_at IS NULL "
            "AND location != ? LIMIT 1",
            [path_to_db(output_path), other_than],
        ).fetchone()
        return str(row[0]) if row else None

    def embeds_of(self, location: str) -> list[StoredEmbed]:
        rows = self.db.execute(
            "SELECT a.location, e.post_key, e.ordinal, e.form, e.original FROM embeds e "
            "JOIN articles a ON a.id = e.article_id WHERE a.location = ? ORDER BY e.ordinal",
            [location],
        ).fetchall()
        return [StoredEmbed(*row) for row in rows]

    def _upsert_article(self, ref: ArticleRef, values: dict[str, Any], now: str) -> int:
        row = self.db.execute(
            "SELECT id FROM articles WHERE location = ?", [ref.location]
        ).fetchone()
        base = {
            "source": ref.source,
            "path": path_to_db(ref.path),
            "url": ref.url,
            "output_path": path_to_db(ref.output_relpath or None),
            "size": ref.size,
            "mtime_ns": ref.mtime_ns,
        }
        base.update(values)
        if row:
            self._update("articles", "id", row[0], base)
            return int(row[0])
        base.update({"location": ref.location, "first_seen_at": now})
        return self._insert("articles", base)

    def _replace_embeds(self, article_id: int, embeds: Sequence[EmbedRecord], now: str) -> None:
        previous = {
            (key, ordinal): (form, original, found_at)
            for key, ordinal, form, original, found_at in self.db.execute(
                "SELECT post_key, ordinal, form, original, found_at FROM embeds "
                "WHERE article_id = ?",
                [article_id],
            ).fetchall()
        }
        by_key = {key: value for (key, _), value in previous.items()}
        self.db.execute("DELETE FROM embeds WHERE article_id = ?", [article_id])
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

    # -- posts ------------------------------------------------------------------

    def save_snapshot(self, snap: PostSnapshot, now: str) -> str:
        """Store one captured version of a post; return new, updated or unchanged."""
        with write_transaction(self.db):
            return self._save_snapshot(snap, now)

    def _save_snapshot(self, snap: PostSnapshot, now: str) -> str:
        for related in snap.related:
            self._save_related(related, now)
        key = snap.key
        digest = content_hash(snap)
        current = self.db.execute(
            "SELECT source, status, content_hash FROM posts WHERE key = ?", [key]
        ).fetchone()
        if current is None:
            self._insert_post(snap, digest, now)
            self._insert_snapshot(snap, digest, now)
            return NEW
        cur_source, cur_status, cur_hash = current
        if snap.source == SOURCE_ARCHIVED_COPY:
            return UNCHANGED  # our own rendering of what the archive holds
        seen = self.db.execute(
            "SELECT 1 FROM snapshots WHERE post_key = ? AND content_hash = ? LIMIT 1", [key, digest]
        ).fetchone()
        if snap.source == SOURCE_MARKUP:
            # Markup only tells us what a publisher pasted. It never changes a
            # post's status, and never replaces content from a richer source.
            if not _has_content(snap):
                return UNCHANGED
            if not seen:
                self._insert_snapshot(snap, digest, now)
            if SOURCE_RANK.get(cur_source, 0) > 0 or digest == cur_hash:
                return UNCHANGED
            # Two articles may paste the same post differently: the richest markup
            # wins, by a total order, so the content never depends on which article
            # was scanned last (or on where a crash stopped a pass).
            current_rank = self._current_rank(key, cur_hash)
            if current_rank is not None and (
                markup_rank(_snapshot_fields(snap), snap.media, digest) <= current_rank
            ):
                return UNCHANGED
            self._update_content(snap, digest, now)
            return UPDATED
        status_changed = snap.status != cur_status
        if not _has_content(snap):
            # An answer without content (a tombstone, a 404): the status moves,
            # the last good content stays.
            if not status_changed:
                return UNCHANGED
            self._insert_snapshot(snap, digest, now)
            self._update_status(snap, now)
            return UPDATED
        if digest == cur_hash and not status_changed:
            self._touch_counts(snap)
            self._replace_media(snap, now)  # fills in files a failed download missed
            return UNCHANGED
        if SOURCE_RANK.get(snap.source, 0) < SOURCE_RANK.get(cur_source, 0):
            # A poorer source (oEmbed after syndication, say) answered this time: its
            # version is kept in the history, the richer content stays current.
            if not seen:
                self._insert_snapshot(snap, digest, now)
            if not status_changed:
                return UNCHANGED
            self._update_status(snap, now)
            return UPDATED
        self._insert_snapshot(snap, digest, now)
        self._update_content(snap, digest, now)
        if status_changed:
            self._update_status(snap, now)
        return UPDATED

    def _current_rank(self, key: str, digest: str) -> MarkupRank | None:
        """The ``markup_rank`` of the post's current content (from its snapshot)."""
        rows = self._rows(
            "SELECT * FROM snapshots WHERE post_key = ? AND content_hash = ? LIMIT 1", [key, digest]
        )
        if not rows:
            return None
        row = rows[0]
        media = [MediaItem(kind=m["kind"], url=m["url"]) for m in json.loads(row["media"] or "[]")]
        return markup_rank(row, media, digest)

    def _save_related(self, snap: PostSnapshot, now: str) -> None:
        """A quoted post or the post replied to, as carried inside another post.

        It is archived if new; an existing post is left alone, because the copy
        nested in another payload may be stale (X keeps serving a quoted post inside
        the quoting one after it is deleted): the post's own checks keep it current.
        """
        exists = self.db.execute("SELECT 1 FROM posts WHERE key = ?", [snap.key]).fetchone()
        if exists is None:
            self._save_snapshot(snap, now)

    def _insert_snapshot(self, snap: PostSnapshot, digest: str, now: str) -> None:
        row = _snapshot_fields(snap)
        row.update(
            {
                "post_key": snap.key,
                "captured_at": now,
                "source": snap.source,
                "status": snap.status,
                "content_hash": digest,
                "author_id": snap.author_id,
                "date_text": snap.date_text,
                "notice": snap.notice,
                "like_count": snap.like_count,
                "reply_count": snap.reply_count,
                "edit_ids": _json(snap.edit_ids or None),
                "media": _json([asdict(m) for m in snap.media] or None),
                "source_url": snap.source_url,
                "http_status": snap.http_status,
                "fetched_at": snap.fetched_at,
                "raw": snap.raw,
            }
        )
        self._insert("snapshots", row)

    def _post_row(self, snap: PostSnapshot, digest: str, now: str) -> dict[str, Any]:
        row = _snapshot_fields(snap)
        avatar = next((m.local_path for m in snap.media if m.kind == "avatar"), None)
        row.update(
            {
                "dir": snap.dir,
                "date_text": snap.date_text,
                "author_id": snap.author_id,
                "author_avatar": avatar,
                "author_verified": snap.author_verified,
                "possibly_sensitive": None
                if snap.possibly_sensitive is None
                else int(snap.possibly_sensitive),
                "like_count": snap.like_count,
                "reply_count": snap.reply_count,
                "edit_ids": _json(snap.edit_ids or None),
                "source": snap.source,
                "content_hash": digest,
                "archived_at": snap.fetched_at or now,
            }
        )
        return row

    def _insert_post(self, snap: PostSnapshot, digest: str, now: str) -> None:
        row = self._post_row(snap, digest, now)
        row.update(
            {
                "key": snap.key,
                "platform": snap.platform,
                "post_id": snap.post_id,
                "status": snap.status,
                "notice": snap.notice,
                "first_seen_at": now,
                "status_changed_at": now if snap.status != STATUS_UNKNOWN else None,
                # Due at once: the first network check happens on the next pass.
                "next_check_at": now,
            }
        )
        self._insert("posts", row)
        self._replace_media(snap, now)

    def _update_content(self, snap: PostSnapshot, digest: str, now: str) -> None:
        row = self._post_row(snap, digest, now)
        if not snap.url:
            row.pop("url")
        for link in ("quoted_post_key", "reply_to_post_key"):
            # X drops a quoted post from the payload once it is gone: the link to
            # what we archived of it stays (the snapshot records the payload as is).
            if row[link] is None:
                row.pop(link)
        self._update("posts", "key", snap.key, row)
        self._replace_media(snap, now)

    def _update_status(self, snap: PostSnapshot, now: str) -> None:
        self._update(
            "posts",
            "key",
            snap.key,
            {"status": snap.status, "notice": snap.notice, "status_changed_at": now},
        )

    def _touch_counts(self, snap: PostSnapshot) -> None:
        if snap.like_count is None and snap.reply_count is None:
            return
        self._update(
            "posts",
            "key",
            snap.key,
            {"like_count": snap.like_count, "reply_count": snap.reply_count},
        )

    def _replace_media(self, snap: PostSnapshot, now: str) -> None:
        """Store the snapshot's media, keeping files already archived for the same URLs.

        A download that failed this time never loses a file captured before, and a
        file that failed before is filled in once a later download succeeds.
        """
        if not snap.media:
            return
        stored = {
            (row["kind"], row["url"]): row
            for row in self._rows("SELECT * FROM media WHERE post_key = ?", [snap.key])
        }
        for item in snap.media:
            before = stored.get((item.kind, item.url))
            if before is None:
                continue
            if item.local_path is None and before["local_path"]:
                item.local_path, item.sha256 = before["local_path"], before["sha256"]
                item.bytes, item.content_type = before["bytes"], before["content_type"]
            if item.poster_local_path is None:
                item.poster_local_path = before["poster_local_path"]
        self.db.execute("DELETE FROM media WHERE post_key = ?", [snap.key])
        self._insert_many(
            "media",
            [
                {
                    "post_key": snap.key,
                    "ordinal": ordinal,
                    "kind": m.kind,
                    "url": m.url,
                    "local_path": m.local_path,
                    "poster_url": m.poster_url,
                    "poster_local_path": m.poster_local_path,
                    "content_type": m.content_type,
                    "bytes": m.bytes,
                    "width": m.width,
                    "height": m.height,
                    "alt_text": m.alt_text,
                    "sha256": m.sha256,
                    "captured_at": now,
                }
                for ordinal, m in enumerate(snap.media)
            ],
        )

    def record_check(
        self,
        post_id: str,
        snapshot: PostSnapshot | None,
        error: str | None,
        next_check_at: str,
        now: str,
        platform: str = "x",
    ) -> str:
        """Store the outcome of one network check of a post, in one transaction."""
        key = post_key(platform, post_id)
        with write_transaction(self.db):
            outcome: str = UNCHANGED
            if snapshot is not None:
                outcome = self._save_snapshot(snapshot, now)
                if outcome != UNCHANGED:
                    self._mark_stale([key])
                self.db.execute(
                    "UPDATE posts SET last_checked_at = ?, next_check_at = ?, "
                    "check_count = check_count + 1, check_failures = 0, last_error = NULL "
                    "WHERE key = ?",
                    [now, next_check_at, key],
                )
            else:
                self.db.execute(
                    "UPDATE posts SET last_checked_at = ?, next_check_at = ?, "
                    "check_failures = check_failures + 1, last_error = ? WHERE key = ?",
                    [now, next_check_at, error, key],
                )
        return outcome

    def posts_linking_to(self, keys: Iterable[str]) -> set[str]:
        """Posts that quote or reply to any of these posts (their embeds show them)."""
        found: set[str] = set()
        for chunk, marks in _in_chunks(keys):
            rows = self.db.execute(
                f"SELECT key FROM posts WHERE quoted_post_key IN ({marks}) "
                f"OR reply_to_post_key IN ({marks})",
                [*chunk, *chunk],
            )
            found.update(key for (key,) in rows)
        return found

    def check_failures(self, key: str) -> int:
        row = self.db.execute("SELECT check_failures FROM posts WHERE key = ?", [key]).fetchone()
        return int(row[0] or 0) if row else 0

    def check_count(self, key: str) -> int:
        row = self.db.execute("SELECT check_count FROM posts WHERE key = ?", [key]).fetchone()
        return int(row[0]) if row else 0

    def posts_due(self, now: str, limit: int | None = None, platform: str = "x") -> list[DuePost]:
        """Posts whose next network check is due, oldest first."""
        sql = (
            # Markup text does not count as content here: a post already gone when
            # first seen is looked up in the Wayback Machine for the full post.
            "SELECT post_id, author_handle, source NOT IN ('markup', 'archived-copy') FROM posts "
            "WHERE platform = ? AND next_check_at IS NOT NULL AND next_check_at <= ? "
            "ORDER BY next_check_at"
        )
        params: list[Any] = [platform, now]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            DuePost(pid, handle, bool(has)) for pid, handle, has in self.db.execute(sql, params)
        ]

    def posts_due_among(self, now: str, keys: Iterable[str], platform: str = "x") -> list[DuePost]:
        """``posts_due`` limited to these post keys (a batch's posts), oldest first.

        A first run with fetching on makes every new post due at once: selecting all
        of them for every batch of 32 articles grew with the archive (quadratic over
        a backfill); this looks up only the batch's own keys, by primary key.
        """
        wanted = sorted(set(keys))
        rows: list[tuple[str, str, str | None, bool]] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows += self.db.execute(
                "SELECT next_check_at, post_id, author_handle, "
                "source NOT IN ('markup', 'archived-copy') FROM posts "
                f"WHERE key IN ({marks}) AND platform = ? AND next_check_at IS NOT NULL "
                "AND next_check_at <= ?",
                [*chunk, platform, now],
            ).fetchall()
        rows.sort(key=lambda row: (row[0], row[1]))
        return [DuePost(pid, handle, bool(has)) for _, pid, handle, has in rows]

    def batch(self) -> contextlib.AbstractContextManager[sqlite_utils.Database]:
        """One write transaction around several units of work (a batch of articles).

        Each method called inside keeps its own unit as a savepoint, so one that fails
        is undone alone; the batch commits once. The caller must not hold it across a
        network fetch: it keeps the archive's write lock.
        """
        return write_transaction(self.db)

    def set_local_paths(self, paths: dict[str, str]) -> None:
        """Record where posts' local copies are (key -> path), in one transaction."""
        if not paths:
            return
        with write_transaction(self.db):
            self.db.conn.executemany(
                "UPDATE posts SET local_path = ? WHERE key = ?",
                [(path, key) for key, path in paths.items()],
            )

    def local_copies(self) -> list[tuple[str, str]]:
        """(key, local_path) of every post that has a local copy page."""
        return [
            (key, path)
            for key, path in self.db.execute(
                "SELECT key, local_path FROM posts WHERE local_path IS NOT NULL"
            )
        ]

    def get_post(self, key: str, with_related: bool = True) -> Post | None:
        """The archived state of a post, with its media and (one level of) related posts."""
        rows = self._rows("SELECT * FROM posts WHERE key = ?", [key])
        if not rows:
            return None
        post = post_from_row(rows[0], self.media_of(key))
        if with_related:
            if post.quoted_key:
                post.quoted = self.get_post(post.quoted_key, with_related=False)
            if post.reply_to_key:
                post.reply_to = self.get_post(post.reply_to_key, with_related=False)
        return post

    def media_of(self, key: str) -> list[MediaItem]:
        return [
            media_item_from_row(row)
            for row in self._rows("SELECT * FROM media WHERE post_key = ? ORDER BY ordinal", [key])
        ]

    def stored_media(self, key: str) -> list[tuple[str, str]]:
        """(URL, file name) of each media file archived for a post, posters included."""
        found = []
        for url, local, poster_url, poster_local in self.db.execute(
            "SELECT url, local_path, poster_url, poster_local_path FROM media WHERE post_key = ?",
            [key],
        ):
            if url and local:
                found.append((url, local))
            if poster_url and poster_local:
                found.append((poster_url, poster_local))
        return found

    def media_files(self) -> set[str]:
        """Every file name the archive references in the media store."""
        names: set[str] = set()
        for local, poster in self.db.execute("SELECT local_path, poster_local_path FROM media"):
            names.update(n for n in (local, poster) if n)
        return names

    def find_post_key(self, ref: str) -> str | None:
        """Resolve ``x:ID``, a bare id or a status URL to a stored post key."""
        ref = ref.strip()
        candidates = [ref]
        if ref.isdigit():
            candidates.append(post_key("x", ref))
        else:
            digits = _trailing_status_id(ref)
            if digits:
                candidates.append(post_key("x", digits))
        for candidate in candidates:
            row = self.db.execute("SELECT key FROM posts WHERE key = ?", [candidate]).fetchone()
            if row:
                return str(row[0])
        return None

    def post_keys(self) -> list[str]:
        return [k for (k,) in self.db.execute("SELECT key FROM posts ORDER BY key")]

    # -- runs -------------------------------------------------------------------

    def start_run(self, kind: str, now: str) -> int:
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
        with write_transaction(self.db):
            self._update(
                "runs",
                "id",
                run_id,
                {"finished_at": now, "outcome": outcome, "summary": _json(summary), "error": error},
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
        return list(self.db.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]))


def _in_chunks(keys: Iterable[str], size: int = 400) -> Iterator[tuple[list[str], str]]:
    """Keys in chunks small enough for SQLite's parameter limit, with their ``?`` marks."""
    keys = list(keys)
    for start in range(0, len(keys), size):
        chunk = keys[start : start + size]
        yield chunk, ",".join("?" * len(chunk))


def media_item_from_row(row: dict[str, Any]) -> MediaItem:
    """A ``media`` table row as a ``MediaItem``."""
    return MediaItem(
        kind=row["kind"],
        url=row["url"],
        alt_text=row["alt_text"],
        width=row["width"],
        height=row["height"],
        poster_url=row["poster_url"],
        content_type=row["content_type"],
        local_path=row["local_path"],
        poster_local_path=row["poster_local_path"],
        sha256=row["sha256"],
        bytes=row["bytes"],
    )


def _trailing_status_id(ref: str) -> str | None:
    marker = "/status/"
    if marker not in ref and "/statuses/" not in ref:
        return None
    tail = ref.replace("/statuses/", marker).split(marker, 1)[1]
    digits = ""
    for char in tail:
        if not char.isdigit():
            break
        digits += char
    return digits or None


def post_from_row(row: dict[str, Any], media: list[MediaItem]) -> Post:
    """A ``posts`` table row (plus its media) as a ``Post``; avatars are kept apart."""
    return Post(
        key=row["key"],
        platform=row["platform"],
        post_id=row["post_id"],
        url=row["url"] or "",
        author_handle=row["author_handle"],
        author_name=row["author_name"],
        text=row["text"],
        html=row["html"],
        lang=row["lang"],
        created_at=row["created_at"],
        status=row["status"],
        source=row["source"],
        first_seen_at=row["first_seen_at"],
        archived_at=row["archived_at"] or row["first_seen_at"],
        local_path=row["local_path"],
        dir=row["dir"],
        date_text=row["date_text"],
        author_avatar=row["author_avatar"],
        author_verified=row["author_verified"],
        truncated=bool(row["truncated"]),
        card=json.loads(row["card"]) if row["card"] else None,
        notice=row["notice"],
        status_changed_at=row["status_changed_at"],
        next_check_at=row["next_check_at"],
        last_checked_at=row["last_checked_at"],
        media=[m for m in media if m.kind != "avatar"],
        quoted_key=row["quoted_post_key"],
        reply_to_key=row["reply_to_post_key"],
        like_count=row["like_count"],
        reply_count=row["reply_count"],
    )


__all__ = [
    "NEW",
    "STATUS_LIVE",
    "UNCHANGED",
    "UPDATED",
    "ArticleState",
    "DuePost",
    "EmbedRecord",
    "ScanCounts",
    "Store",
    "StoredEmbed",
    "content_hash",
]
