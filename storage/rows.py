"""Rows of the ``posts`` and ``media`` tables as the model's ``Post`` and ``MediaItem``."""

from __future__ import annotations

import json
from typing import Any

from archiver.models import MediaItem, Post


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


__all__ = ["media_item_from_row", "post_from_row"]
