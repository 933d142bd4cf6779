"""Posts and their snapshots: the version policy carried out, checks, local copies.

What a snapshot does to a post is decided by ``archiver.decide.plan_snapshot``; this
module only reads the facts it needs and writes what it answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from archiver.decide import (
    Change,
    CurrentVersion,
    MarkupRank,
    content_fields,
    content_hash,
    first_check_at,
    markup_rank,
    plan_snapshot,
    to_json,
)
from archiver.models import STATUS_UNKNOWN, MediaItem, Post, PostSnapshot, post_key
from archiver.storage.connection import in_chunks
from archiver.storage.media import MediaMixin
from archiver.storage.pass_posts import PassPosts
from archiver.storage.rows import post_from_row
from archiver.storage.transaction import write_transaction


@dataclass
class DuePost:
    """A post whose network check is due: its id, author, and whether it has content."""

    post_id: str
    handle: str | None
    have_content: bool
    failing_since: str | None = None  # when its current run of failed checks began


class PostsMixin(MediaMixin):
    """The ``posts`` and ``snapshots`` tables (and, through ``MediaMixin``, ``media``)."""

    def save_snapshot(self, snap: PostSnapshot, now: str) -> str:
        """Store one captured version of a post; return new, updated or unchanged."""
        with write_transaction(self.db):
            return self._save_snapshot(snap, now)

    def _save_snapshot(self, snap: PostSnapshot, now: str) -> Change:
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
            return Change.NEW
        plan = plan_snapshot(
            snap,
            digest,
            CurrentVersion(*current),
            seen=lambda: self._has_snapshot(key, digest),
            current_rank=lambda: self._current_rank(key, current[2]),
        )
        if plan.record:
            self._insert_snapshot(snap, digest, now)
        if plan.content:
            self._update_content(snap, digest, now)
        if plan.status:
            self._update_status(snap, now)
        if plan.refresh:
            self._touch_counts(snap)
            self._replace_media(snap, now)  # fills in files a failed download missed
        return plan.change

    def _has_snapshot(self, key: str, digest: str) -> bool:
        """Whether the post's history holds a snapshot with this content hash."""
        row = self.db.execute(
            "SELECT 1 FROM snapshots WHERE post_key = ? AND content_hash = ? LIMIT 1", [key, digest]
        ).fetchone()
        return row is not None

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
        row = content_fields(snap)
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
                "edit_ids": to_json(snap.edit_ids or None),
                "media": to_json([asdict(m) for m in snap.media] or None),
                "source_url": snap.source_url,
                "http_status": snap.http_status,
                "fetched_at": snap.fetched_at,
                "raw": snap.raw,
            }
        )
        self._insert("snapshots", row)

    def _post_row(self, snap: PostSnapshot, digest: str, now: str) -> dict[str, Any]:
        row = content_fields(snap)
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
                "edit_ids": to_json(snap.edit_ids or None),
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
                "next_check_at": first_check_at(now),
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

    def _mark_stale(self, keys: Iterable[str]) -> None:
        # A post's rendering changed: the copies showing it, and those showing a post
        # that quotes it or replies to it, are out of date until mark_rewritten records
        # them again (output_hash). Marked in the transaction that changes the post, so
        # a crash before they are rewritten loses nothing.
        for chunk, marks in in_chunks(keys, size=300):  # three uses of each key
            self.db.execute(
                "UPDATE articles SET output_hash = NULL WHERE removed_at IS NULL AND id IN "
                f"(SELECT article_id FROM embeds WHERE post_key IN ({marks}) OR post_key IN "
                f"(SELECT key FROM posts WHERE quoted_post_key IN ({marks}) "
                f"OR reply_to_post_key IN ({marks})))",
                [*chunk, *chunk, *chunk],
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
            outcome: str = Change.UNCHANGED
            if snapshot is not None:
                outcome = self._save_snapshot(snapshot, now)
                if outcome != Change.UNCHANGED:
                    self._mark_stale([key])
                self._checked_ok(key, next_check_at, now)
            else:
                self.db.execute(
                    "UPDATE posts SET last_checked_at = ?, next_check_at = ?, "
                    "check_failures = check_failures + 1, last_error = ? WHERE key = ?",
                    [now, next_check_at, error, key],
                )
                self.db.execute(
                    "INSERT OR IGNORE INTO failing_since (post_key, since) "
                    "SELECT key, ? FROM posts WHERE key = ?",
                    [now, key],
                )
        return outcome

    def _checked_ok(self, key: str, next_check_at: str, now: str) -> None:
        """Book a check that got an answer: counted, failures reset, next one scheduled."""
        self.db.execute(
            "UPDATE posts SET last_checked_at = ?, next_check_at = ?, "
            "check_count = check_count + 1, check_failures = 0, last_error = NULL "
            "WHERE key = ?",
            [now, next_check_at, key],
        )
        self.db.execute("DELETE FROM failing_since WHERE post_key = ?", [key])

    def posts_linking_to(self, keys: Iterable[str]) -> set[str]:
        """Posts that quote or reply to any of these posts (their embeds show them)."""
        found: set[str] = set()
        for chunk, marks in in_chunks(keys):
            rows = self.db.execute(
                f"SELECT key FROM posts WHERE quoted_post_key IN ({marks}) "
                f"OR reply_to_post_key IN ({marks})",
                [*chunk, *chunk],
            )
            found.update(key for (key,) in rows)
        return found

    def check_failures(self, key: str) -> int:
        """How many network checks of a post have failed in a row."""
        row = self.db.execute("SELECT check_failures FROM posts WHERE key = ?", [key]).fetchone()
        return int(row[0] or 0) if row else 0

    def check_count(self, key: str) -> int:
        """How many network checks of a post have succeeded."""
        row = self.db.execute("SELECT check_count FROM posts WHERE key = ?", [key]).fetchone()
        return int(row[0]) if row else 0

    def posts_due(self, now: str, limit: int | None = None, platform: str = "x") -> list[DuePost]:
        """Posts whose next network check is due, oldest first."""
        sql = (
            # Markup text does not count as content here: a post already gone when
            # first seen is looked up in the Wayback Machine for the full post.
            "SELECT post_id, author_handle, source NOT IN ('markup', 'archived-copy'), "
            "(SELECT since FROM failing_since WHERE post_key = key) FROM posts "
            "WHERE platform = ? AND next_check_at IS NOT NULL AND next_check_at <= ? "
            "ORDER BY next_check_at"
        )
        params: list[Any] = [platform, now]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            DuePost(pid, handle, bool(has), since)
            for pid, handle, has, since in self.db.execute(sql, params)
        ]

    def posts_due_among(self, now: str, keys: Iterable[str], platform: str = "x") -> list[DuePost]:
        """``posts_due`` limited to these post keys (a batch's posts), oldest first.

        A first run with fetching on makes every new post due at once: selecting all
        of them for every batch of 32 articles grew with the archive (quadratic over
        a backfill); this looks up only the batch's own keys, by primary key.
        """
        rows: list[tuple[str, str, str | None, bool, str | None]] = []
        for chunk, marks in in_chunks(sorted(set(keys)), 500):
            rows += self.db.execute(
                "SELECT next_check_at, post_id, author_handle, "
                "source NOT IN ('markup', 'archived-copy'), "
                "(SELECT since FROM failing_since WHERE post_key = key) FROM posts "
                f"WHERE key IN ({marks}) AND platform = ? AND next_check_at IS NOT NULL "
                "AND next_check_at <= ?",
                [*chunk, platform, now],
            ).fetchall()
        rows.sort(key=lambda row: (row[0], row[1]))
        return [DuePost(pid, handle, bool(has), since) for _, pid, handle, has, since in rows]

    def set_local_paths(self, paths: dict[str, str]) -> None:
        """Record where posts' local copies are (key -> path), in one transaction."""
        if not paths:
            return
        with write_transaction(self.db):
            self.db.conn.executemany(
                "UPDATE posts SET local_path = ? WHERE key = ?",
                [(path, key) for key, path in paths.items()],
            )

    def local_copies(self) -> Iterator[tuple[str, str]]:
        """(key, local_path) of every post that has a local copy page, streamed in key
        order: a pass looks at each once, and a list of a million would stay in memory."""
        yield from self.db.conn.execute(
            "SELECT key, local_path FROM posts WHERE local_path IS NOT NULL ORDER BY key"
        )

    def pass_posts(self) -> PassPosts:
        """An empty record of the posts one pass meets, kept in the database (see
        ``PassPosts``); ``close`` it when the pass ends."""
        return PassPosts(self.db.conn)

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

    def find_post_key(self, ref: str) -> str | None:
        """Resolve a post key, or a bare X id, to a stored post key. (URLs are read by
        their platforms, in ``Archive.find_post_key``: storage parses no URL.)"""
        ref = ref.strip()
        candidates = [ref]
        if ref.isdigit():
            candidates.append(post_key("x", ref))
        for candidate in candidates:
            row = self.db.execute("SELECT key FROM posts WHERE key = ?", [candidate]).fetchone()
            if row:
                return str(row[0])
        return None

    def post_keys(self) -> list[str]:
        """Every post key in the archive, in order."""
        return [k for (k,) in self.db.execute("SELECT key FROM posts ORDER BY key")]


__all__ = ["DuePost", "PostsMixin"]
