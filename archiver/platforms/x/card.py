"""What X's post cards show of X: its name, profile and hashtag links, mentions."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

from archiver.platforms.base import CardInfo

__all__ = ["X_CARD"]

_SCREEN_NAME = re.compile(r"[A-Za-z0-9_]{1,15}")
# Names: not after a word character (e-mail addresses) or "&" (character references).
_MENTION = re.compile(r"(?<![\w@#&])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")


def _is_handle(handle: str) -> bool:
    return _SCREEN_NAME.fullmatch(handle) is not None


def _profile_url(handle: str, _post_id: str) -> str | None:
    return f"https://x.com/{handle}" if _is_handle(handle) else None


def _tag_url(tag: str, _post_id: str) -> str:
    return f"https://x.com/hashtag/{quote(tag, safe='')}"


X_CARD: Final = CardInfo(
    label="X",
    is_handle=_is_handle,
    profile_url=_profile_url,
    tag_url=_tag_url,
    mention=_MENTION,
    day_only_without_id_time=True,
    notice_intro="X said",
)
