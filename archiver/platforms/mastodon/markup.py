"""What a Mastodon embed's own markup tells about the post: little.

The iframe form carries only the URL (user, instance, id); the 4.3+ blockquote adds
"Post by @user@HOST" and nothing else. Text stays None (the network fills it); the
time comes from the id when it is a snowflake.
"""

from __future__ import annotations

import re

from archiver.models import SOURCE_MARKUP, EmbedSpan, PostSnapshot

from .urls import canonical_url, created_at_from_id, is_post_id

__all__ = ["snapshot_from_markup"]

PLATFORM = "mastodon"
_POST_BY = re.compile(
    r"Post by @([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})@([A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?)<"
)


def snapshot_from_markup(span: EmbedSpan, fragment: str) -> PostSnapshot | None:
    """The markup snapshot of a Mastodon embed (``fragment`` = the span's markup,
    decoded by the pipeline from the article's charset)."""
    if not is_post_id(span.post_id):
        return None
    handle = span.handle
    match = _POST_BY.search(fragment)
    if match and handle is None:
        user = match.group(1)
        host = match.group(2).lower()
        instance = span.post_id.partition("/")[0]
        handle = user if host == instance else f"{user}@{host}"
    return PostSnapshot(
        post_id=span.post_id,
        platform=PLATFORM,
        url=canonical_url(span.post_id, handle),
        author_handle=handle,
        created_at=created_at_from_id(span.post_id),
        source=SOURCE_MARKUP,
        raw=fragment,
    )
