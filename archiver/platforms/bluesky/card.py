"""What Bluesky's post cards show of Bluesky: its name, profile and hashtag links."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

from archiver.platforms.base import CardInfo

from .urls import is_handle

__all__ = ["BLUESKY_CARD"]

# A handle is a DNS name (lower-cased by the payload parser; text may capitalise it).
# Not after a word character (e-mail addresses) or "&" (character references); a
# trailing full stop is punctuation (the pattern needs a label after every dot).
_MENTION = re.compile(
    r"(?<![\w@#&/])@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?![\w@-])"
)


def _is_handle(handle: str) -> bool:
    return is_handle(handle.lower())


def _profile_url(handle: str, _post_id: str) -> str | None:
    handle = handle.lower()
    return f"https://bsky.app/profile/{handle}" if is_handle(handle) else None


def _tag_url(tag: str, _post_id: str) -> str:
    return f"https://bsky.app/hashtag/{quote(tag, safe='')}"


BLUESKY_CARD: Final = CardInfo(
    label="Bluesky",
    is_handle=_is_handle,
    profile_url=_profile_url,
    tag_url=_tag_url,
    mention=_MENTION,
)
