"""Post aliases: a key an embed named a post by before the network said which post it is.

A Bluesky embed may name its author by handle (``bluesky:alice.example.com/RKEY``);
the fetcher resolves the handle to the DID and answers with the post's own key
(``bluesky:did:plc:…/RKEY``). ``record_resolved_check`` stores that answer under the
post's key and, in the same transaction, moves everything filed under the alias
(embeds, snapshots, media, links from other posts) onto it, drops the alias's post row
and remembers ``alias → key`` in ``post_aliases``, so the next scan of any article
that writes the alias files its embed under the post's key straight away.
"""

from __future__ import annotations

from collections.abc import Iterable

from archiver.decide import Change
from archiver.models import PostSnapshot
from archiver.storage.connection import in_chunks
from archiver.storage.posts import PostsMixin
from archiver.storage.transaction import write_transaction


class AliasesMixin(PostsMixin):
    """The ``post_aliases`` table and the move of an alias's rows onto its post."""

    def post_aliases(self, keys: Iterable[str]) -> dict[str, str]:
        """The post key each of ``keys`` is known to stand for (only those known)."""
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(keys):
            rows = self.db.execute(
                f"SELECT key, post_key FROM post_aliases WHERE key IN ({marks})", chunk
            )
            found.update((alias, key) for alias, key in rows)
        return found

    def record_resolved_check(
        self,
        alias: str,
        snapshot: PostSnapshot,
        next_check_at: str,
        now: str,
    ) -> str:
        """Store a network answer for the post an alias named (``snapshot.key``), and
        file everything of the alias under that post, in one transaction."""
        key = snapshot.key
        if alias == key:
            raise ValueError(f"an alias must differ from its post's key: {key!r}")
        with write_transaction(self.db):
            outcome = self._save_snapshot(snapshot, now)
            self._checked_ok(key, next_check_at, now)
            moved = self._move_alias(alias, key)
            self.db.execute(
                "INSERT INTO post_aliases (key, post_key, resolved_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET post_key = excluded.post_key, "
                "resolved_at = excluded.resolved_at",
                [alias, key, now],
            )
            if outcome != Change.UNCHANGED or moved:
                self._mark_stale([key])
        return Change.UPDATED if moved and outcome == Change.UNCHANGED else outcome

    def _move_alias(self, alias: str, key: str) -> bool:
        """Re-file the alias's rows under ``key`` and drop its post; True if it had one."""
        if self.db.execute("SELECT 1 FROM posts WHERE key = ?", [alias]).fetchone() is None:
            return False
        for table in ("embeds", "snapshots"):
            self.db.execute(f"UPDATE {table} SET post_key = ? WHERE post_key = ?", [key, alias])
        # The post may hold the same media already: keep its row, drop the alias's.
        self.db.execute("UPDATE OR IGNORE media SET post_key = ? WHERE post_key = ?", [key, alias])
        self.db.execute("DELETE FROM media WHERE post_key = ?", [alias])
        for column in ("quoted_post_key", "reply_to_post_key"):
            self.db.execute(f"UPDATE posts SET {column} = ? WHERE {column} = ?", [key, alias])
        self.db.execute("UPDATE post_aliases SET post_key = ? WHERE post_key = ?", [key, alias])
        self.db.execute("DELETE FROM failing_since WHERE post_key = ?", [alias])
        self.db.execute("DELETE FROM posts WHERE key = ?", [alias])
        return True
