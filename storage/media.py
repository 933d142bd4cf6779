"""Media rows of posts: merged on every save so an archived file is never lost."""

from __future__ import annotations

from archiver.models import MediaItem, PostSnapshot
from archiver.storage.connection import Connection
from archiver.storage.rows import media_item_from_row


class MediaMixin(Connection):
    """The ``media`` table."""

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

    def media_of(self, key: str) -> list[MediaItem]:
        """A post's media (avatar included), in order."""
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


__all__ = ["MediaMixin"]
