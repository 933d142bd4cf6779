"""X's post JSON read defensively: typed value readers, media, link cards and polls,
tombstones. Pure (no I/O): the shape changes without notice, so nothing here trusts it."""

from __future__ import annotations

import re
from typing import Any

from archiver.fetch.http import (
    iso_from_epoch_ms,
    parse_time_ms,
    safe_http_url,
)
from archiver.models import (
    STATUS_DELETED,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
    MediaItem,
    is_post_id,
)

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
# Link-card image keys, largest first.
CARD_IMAGE_KEYS = (
    "photo_image_full_size_large",
    "summary_photo_image_large",
    "thumbnail_image_large",
    "player_image_large",
    "photo_image_full_size",
    "summary_photo_image",
    "thumbnail_image",
    "player_image",
)


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    # Entity lists arrive as lists, or as ``{}`` since 2026; anything else is "none".
    return value if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_int(value: object) -> int | None:
    """``value`` as an int (an int, or a string of digits), else None; booleans are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def as_id(value: object) -> str | None:
    """A post or user id from the payload, or None unless it is well-formed: ids
    name posts and files, so ``../index`` or a 30-digit number is refused here."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and is_post_id(value) else None


def tombstone_text(payload: dict[str, Any]) -> str:
    """The tombstone's message, e.g. "This Post was deleted by the Post author. Learn more"."""
    text = as_dict(as_dict(payload.get("tombstone")).get("text")).get("text")
    return text.strip() if isinstance(text, str) else ""


def tombstone_status(text: str) -> str:
    """Map a tombstone message to a post status (unknown wording -> unavailable)."""
    lowered = text.lower()
    if "deleted" in lowered or "no longer exists" in lowered:
        return STATUS_DELETED
    if "suspended" in lowered:
        return STATUS_SUSPENDED
    if any(w in lowered for w in ("protected", "limits who can view", "approved followers")):
        return STATUS_PROTECTED
    # Age-restricted, withheld in a country, "unavailable", or wording we do not know.
    return STATUS_UNAVAILABLE


def choose_mp4(variants: list[Any], duration_ms: int | None, max_bytes: int) -> str | None:
    """The best ``video/mp4`` variant whose estimated size fits ``max_bytes``
    (bitrate × duration); the smallest one if none is estimated to fit."""
    mp4s: list[tuple[int, str]] = []
    for variant in variants:
        v = as_dict(variant)
        kind = as_str(v.get("content_type")) or as_str(v.get("type"))
        url = safe_http_url(v.get("url") or v.get("src"))
        if kind == "video/mp4" and url:
            mp4s.append((as_int(v.get("bitrate")) or 0, url))
    if not mp4s:
        return None
    mp4s.sort(reverse=True)
    if duration_ms:
        for bitrate, url in mp4s:
            if bitrate * duration_ms / 8000 <= max_bytes:
                return url
        return mp4s[-1][1]
    return mp4s[0][1]


def parse_media(payload: dict[str, Any], max_video_bytes: int) -> list[MediaItem]:
    """Photos, videos and GIFs from ``mediaDetails`` (or the older ``photos``)."""
    items: list[MediaItem] = []
    details = [m for m in as_list(payload.get("mediaDetails")) if isinstance(m, dict)]
    for md in details:
        kind = as_str(md.get("type")) or "photo"
        still = safe_http_url(md.get("media_url_https"))
        info = as_dict(md.get("original_info"))
        width, height = as_int(info.get("width")), as_int(info.get("height"))
        alt = as_str(md.get("ext_alt_text"))
        if kind in ("video", "animated_gif"):
            video = as_dict(md.get("video_info"))
            url = choose_mp4(
                as_list(video.get("variants")),
                as_int(video.get("duration_millis")),
                max_video_bytes,
            )
            if url is None and still is None:
                continue
            items.append(
                MediaItem(
                    kind=kind,
                    url=url or still or "",
                    alt_text=alt,
                    width=width,
                    height=height,
                    poster_url=still,
                    content_type="video/mp4" if url else None,
                )
            )
        elif still:
            items.append(
                MediaItem(kind="photo", url=still, alt_text=alt, width=width, height=height)
            )
    if not details:
        for photo in as_list(payload.get("photos")):
            p = as_dict(photo)
            url = safe_http_url(p.get("url"))
            if url:
                items.append(
                    MediaItem(
                        kind="photo",
                        url=url,
                        alt_text=as_str(p.get("accessibilityLabel")),
                        width=as_int(p.get("width")),
                        height=as_int(p.get("height")),
                    )
                )
    return items


def _binding(values: dict[str, Any], key: str) -> dict[str, Any]:
    return as_dict(values.get(key))


def parse_card(card: object, url_map: dict[str, str]) -> dict[str, Any] | None:
    """A link card or poll, normalised; None for card kinds we do not know."""
    c = as_dict(card)
    name = as_str(c.get("name")) or ""
    values = as_dict(c.get("binding_values"))

    def string(key: str) -> str | None:
        return as_str(_binding(values, key).get("string_value"))

    if re.match(r"^poll\d+choice", name):
        choices = []
        for n in range(1, 5):
            label = string(f"choice{n}_label")
            if label is None:
                continue
            choices.append({"label": label, "count": as_int(string(f"choice{n}_count"))})
        ends_ms = parse_time_ms(string("end_datetime_utc"))
        final = _binding(values, "counts_are_final").get("boolean_value")
        return {
            "type": "poll",
            "choices": choices,
            "ends_at": iso_from_epoch_ms(ends_ms) if ends_ms is not None else None,
            "counts_final": bool(final) if isinstance(final, bool) else None,
        }

    short = string("card_url") or as_str(c.get("url"))
    url = safe_http_url(url_map.get(short, short) if short else None)
    title = string("title")
    if not (url or title):
        return None
    image_url = None
    for key in CARD_IMAGE_KEYS:
        image_url = safe_http_url(as_dict(_binding(values, key).get("image_value")).get("url"))
        if image_url:
            break
    return {
        "type": "link",
        "title": title,
        "description": string("description"),
        "url": url,
        "domain": string("domain") or string("vanity_url"),
        "image": None,  # local media file name, filled in once downloaded
        "image_url": image_url,
    }
