"""What Mastodon's post cards show of Mastodon: its name, and profile and hashtag
links on the post's own server (a reader follows them where the post lives)."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

from archiver.platforms.base import CardInfo

from .urls import is_handle, split_post_id

__all__ = ["EDITED_NOTE", "MASTODON_CARD"]

# The start of the note ``payload`` writes for a post with an edit history.
EDITED_NOTE = "Edited: "
# ``@user`` or ``@user@host``: not after a word character, "/" (inside a URL) or "&".
_MENTION = re.compile(
    r"(?<![\w@#&/])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?"
    r"(?:@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)?)(?![\w@-])"
)


def _host(post_id: str) -> str | None:
    parts = split_post_id(post_id)
    return parts[0] if parts else None


def _profile_url(handle: str, post_id: str) -> str | None:
    host = _host(post_id)
    return f"https://{host}/@{handle}" if host and is_handle(handle) else None


def _tag_url(tag: str, post_id: str) -> str | None:
    host = _host(post_id)
    return f"https://{host}/tags/{quote(tag, safe='')}" if host else None


def _edited(notice: str | None) -> bool:
    return any(line.startswith(EDITED_NOTE) for line in (notice or "").split("\n"))


MASTODON_CARD: Final = CardInfo(
    label="Mastodon",
    is_handle=is_handle,
    profile_url=_profile_url,
    tag_url=_tag_url,
    mention=_MENTION,
    edited=_edited,
)
