"""X's syndication endpoint (``tweet-result``), the primary source, and its parser.

The parser is defensive on purpose: the response shape changes without notice
(entity lists missing, ``{}`` or ``[]``; react-tweet #218/#221), so every field is
optional and a missing one degrades the snapshot instead of failing it. The raw
body is kept verbatim so a better parser can re-read it later.

``text`` is HTML-escaped by X (``&amp;``, ``&lt;``, ``&gt;``): it is decoded exactly
once here, kept as plain text, and escaped once again only when ``html`` is built.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from archiver.config import XConfig
from archiver.fetch.http import (
    Budget,
    FetchError,
    HttpSession,
    Response,
    best_created_at,
    iso_from_epoch_ms,
    parse_time_ms,
    safe_http_url,
)
from archiver.models import (
    SOURCE_SYNDICATION,
    STATUS_DELETED,
    STATUS_LIVE,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
    MediaItem,
    PostSnapshot,
    is_post_id,
)

from .token import syndication_token

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
RTL_LANGS = frozenset({"ar", "fa", "he", "iw", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})
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


@dataclass
class SyndicationAnswer:
    """What the endpoint said about a post (failures raise ``FetchError`` instead)."""

    kind: Literal["tweet", "tombstone", "not_found"]
    payload: dict[str, Any]
    response: Response


def status_url(handle: str | None, post_id: str, host: str = "x.com") -> str:
    """``https://x.com/HANDLE/status/ID`` (``/i/status/ID`` without a usable handle)."""
    name = handle if handle and HANDLE_RE.match(handle) else "i"
    return f"https://{host}/{name}/status/{post_id}"


def decode_json_body(response: Response, what: str) -> Any:
    """The body as JSON; an HTML or otherwise non-JSON body is a failure (a block page)."""
    body = response.body.lstrip()
    if "html" in response.content_type or body[:1] == b"<":
        raise FetchError(f"{what} answered HTTP {response.status} with an HTML page (blocked?)")
    try:
        return json.loads(response.text())
    except ValueError as exc:
        raise FetchError(f"{what} answered HTTP {response.status} with a non-JSON body") from exc


async def fetch_syndication(
    session: HttpSession, x: XConfig, post_id: str, budget: Budget, max_bytes: int
) -> SyndicationAnswer:
    """Ask ``tweet-result`` about one post: a Tweet, a tombstone, or not found."""
    params = {"id": post_id, "lang": "en", "token": syndication_token(post_id)}
    response = await session.get(
        x.syndication_url, params=params, budget=budget, max_bytes=max_bytes
    )
    if response.status == 404:
        return SyndicationAnswer("not_found", {}, response)
    if response.status != 200:
        raise FetchError(f"syndication answered HTTP {response.status}")
    payload = decode_json_body(response, "syndication")
    if not isinstance(payload, dict):
        raise FetchError("syndication answered JSON that is not an object")
    if not payload:
        return SyndicationAnswer("not_found", payload, response)
    typename = payload.get("__typename")
    if typename == "TweetTombstone" or (typename is None and "tombstone" in payload):
        return SyndicationAnswer("tombstone", payload, response)
    if typename == "Tweet" or (typename is None and "id_str" in payload and "text" in payload):
        return SyndicationAnswer("tweet", payload, response)
    raise FetchError(f"syndication answered an unknown shape (__typename={typename!r})")


def tombstone_text(payload: dict[str, Any]) -> str:
    """The tombstone's message, e.g. "This Post was deleted by the Post author. Learn more"."""
    text = _dict(_dict(payload.get("tombstone")).get("text")).get("text")
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


# --- parsing ------------------------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    # Entity lists arrive as lists, or as ``{}`` since 2026; anything else is "none".
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass
class _Span:
    start: int
    end: int
    kind: str  # url | media | mention | hashtag | symbol
    entity: dict[str, Any]


def _indices(entity: dict[str, Any]) -> tuple[int, int] | None:
    pair = entity.get("indices")
    if isinstance(pair, list) and len(pair) == 2:
        start, end = _int(pair[0]), _int(pair[1])
        if start is not None and end is not None and 0 <= start < end:
            return start, end
    return None


def _needle(kind: str, entity: dict[str, Any]) -> str | None:
    """The text an entity covers in the post, used to check (or find) its position."""
    if kind in ("url", "media"):
        return _str(entity.get("url"))
    if kind == "mention":
        name = _str(entity.get("screen_name"))
        return "@" + name if name else None
    tag = _str(entity.get("text"))
    if tag is None:
        return None
    return ("#" if kind == "hashtag" else "$") + tag


def _collect_entities(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    entities = _dict(payload.get("entities"))
    found: list[tuple[str, dict[str, Any]]] = []
    for key, kind in (
        ("urls", "url"),
        ("media", "media"),
        ("user_mentions", "mention"),
        ("hashtags", "hashtag"),
        ("symbols", "symbol"),
    ):
        found.extend((kind, e) for e in _list(entities.get(key)) if isinstance(e, dict))
    if not any(kind == "media" for kind, _ in found):
        # Some shapes only list the media link in mediaDetails.
        found.extend(
            ("media", m) for m in _list(payload.get("mediaDetails")) if isinstance(m, dict)
        )
    return found


def _locate(text: str, entities: list[tuple[str, dict[str, Any]]]) -> tuple[list[_Span], int]:
    """Place entities in ``text``: at their indices when the text there matches, else
    at the first free occurrence of their text. Returns spans and how many matched
    at their indices (to choose between escaped and decoded text)."""
    spans: list[_Span] = []
    exact = 0
    lowered = text.lower()
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for kind, entity in entities:
        needle = _needle(kind, entity)
        if needle is None:
            continue
        where = _indices(entity)
        placed: tuple[int, int] | None = None
        if where and lowered[where[0] : where[1]] == needle.lower() and free(*where):
            placed = where
            exact += 1
        else:
            at = lowered.find(needle.lower())
            while at >= 0 and not free(at, at + len(needle)):
                at = lowered.find(needle.lower(), at + 1)
            if at >= 0:
                placed = (at, at + len(needle))
        if placed is None:
            continue
        if kind == "media" and any(s.kind == "media" and s.start == placed[0] for s in spans):
            continue  # several photos share one link
        taken.append(placed)
        spans.append(_Span(placed[0], placed[1], kind, entity))
    spans.sort(key=lambda s: s.start)
    return spans, exact


def render_text(payload: dict[str, Any]) -> tuple[str, str]:
    """(plain text, sanitized HTML) of a post: decoded once, ``t.co`` links expanded,
    the trailing media link removed, limited to ``display_text_range``."""
    raw = payload.get("full_text") or payload.get("text")
    escaped = raw if isinstance(raw, str) else ""
    decoded = htmllib.unescape(escaped)
    entities = _collect_entities(payload)

    # Indices are in code points (Python's str indexing), but whether they count the
    # escaped or the decoded text has varied (Twitter4J #349): use the reading under
    # which more entities sit where their indices say; ties go to the escaped text.
    base, base_is_escaped = decoded, False
    spans, dec_exact = _locate(decoded, entities)
    if escaped != decoded:
        esc_spans, esc_exact = _locate(escaped, entities)
        if esc_exact >= dec_exact:
            base, base_is_escaped, spans = escaped, True, esc_spans

    start, end = 0, len(base)
    rng = payload.get("display_text_range")
    if isinstance(rng, list) and len(rng) == 2:
        lo, hi = _int(rng[0]), _int(rng[1])
        if lo is not None and hi is not None and 0 <= lo <= hi:
            start, end = min(lo, len(base)), min(hi, len(base))

    def plain(segment: str) -> str:
        return htmllib.unescape(segment) if base_is_escaped else segment

    text_parts: list[str] = []
    html_parts: list[str] = []

    def add_text(segment: str) -> None:
        if segment:
            value = plain(segment)
            text_parts.append(value)
            html_parts.append(htmllib.escape(value).replace("\n", "<br>"))

    cursor = start
    for span in spans:
        if span.start < start or span.end > end:
            continue  # outside the displayed range (reply mentions, media link)
        add_text(base[cursor : span.start])
        cursor = span.end
        written = plain(base[span.start : span.end])
        entity = span.entity
        if span.kind == "media":
            continue  # the attached media's link: shown as media, not as text
        if span.kind == "url":
            expanded = safe_http_url(entity.get("expanded_url"))
            display = _str(entity.get("display_url")) or expanded or written
            if expanded:
                text_parts.append(expanded)
                html_parts.append(
                    f'<a href="{htmllib.escape(expanded)}">{htmllib.escape(display)}</a>'
                )
            else:
                text_parts.append(written)
                html_parts.append(htmllib.escape(written))
            continue
        text_parts.append(written)
        href = _entity_link(span.kind, entity)
        if href:
            html_parts.append(f'<a href="{htmllib.escape(href)}">{htmllib.escape(written)}</a>')
        else:
            html_parts.append(htmllib.escape(written))
    add_text(base[cursor:end])

    text = "".join(text_parts)
    html = "".join(html_parts)
    # Removing the media link leaves the space before it.
    stripped = text.rstrip()
    if stripped != text:
        html = re.sub(r"(?:\s|<br>)+$", "", html)
    return stripped, html


def _entity_link(kind: str, entity: dict[str, Any]) -> str | None:
    if kind == "mention":
        name = _str(entity.get("screen_name"))
        return f"https://x.com/{name}" if name and HANDLE_RE.match(name) else None
    tag = _str(entity.get("text"))
    if not tag:
        return None
    if kind == "hashtag":
        return f"https://x.com/hashtag/{quote(tag, safe='')}"
    return f"https://x.com/search?q={quote('$' + tag, safe='')}"


def _verification(user: dict[str, Any]) -> str | None:
    kind = _str(user.get("verified_type"))
    if kind:
        return kind.lower()
    if user.get("is_blue_verified") is True:
        return "blue"
    if user.get("verified") is True:
        return "verified"
    return None


def choose_mp4(variants: list[Any], duration_ms: int | None, max_bytes: int) -> str | None:
    """The best ``video/mp4`` variant whose estimated size fits ``max_bytes``
    (bitrate × duration); the smallest one if none is estimated to fit."""
    mp4s: list[tuple[int, str]] = []
    for variant in variants:
        v = _dict(variant)
        kind = _str(v.get("content_type")) or _str(v.get("type"))
        url = safe_http_url(v.get("url") or v.get("src"))
        if kind == "video/mp4" and url:
            mp4s.append((_int(v.get("bitrate")) or 0, url))
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
    details = [m for m in _list(payload.get("mediaDetails")) if isinstance(m, dict)]
    for md in details:
        kind = _str(md.get("type")) or "photo"
        still = safe_http_url(md.get("media_url_https"))
        info = _dict(md.get("original_info"))
        width, height = _int(info.get("width")), _int(info.get("height"))
        alt = _str(md.get("ext_alt_text"))
        if kind in ("video", "animated_gif"):
            video = _dict(md.get("video_info"))
            url = choose_mp4(
                _list(video.get("variants")), _int(video.get("duration_millis")), max_video_bytes
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
        for photo in _list(payload.get("photos")):
            p = _dict(photo)
            url = safe_http_url(p.get("url"))
            if url:
                items.append(
                    MediaItem(
                        kind="photo",
                        url=url,
                        alt_text=_str(p.get("accessibilityLabel")),
                        width=_int(p.get("width")),
                        height=_int(p.get("height")),
                    )
                )
    return items


def _binding(values: dict[str, Any], key: str) -> dict[str, Any]:
    return _dict(values.get(key))


def parse_card(card: object, url_map: dict[str, str]) -> dict[str, Any] | None:
    """A link card or poll, normalised; None for card kinds we do not know."""
    c = _dict(card)
    name = _str(c.get("name")) or ""
    values = _dict(c.get("binding_values"))

    def string(key: str) -> str | None:
        return _str(_binding(values, key).get("string_value"))

    if re.match(r"^poll\d+choice", name):
        choices = []
        for n in range(1, 5):
            label = string(f"choice{n}_label")
            if label is None:
                continue
            choices.append({"label": label, "count": _int(string(f"choice{n}_count"))})
        ends_ms = parse_time_ms(string("end_datetime_utc"))
        final = _binding(values, "counts_are_final").get("boolean_value")
        return {
            "type": "poll",
            "choices": choices,
            "ends_at": iso_from_epoch_ms(ends_ms) if ends_ms is not None else None,
            "counts_final": bool(final) if isinstance(final, bool) else None,
        }

    short = string("card_url") or _str(c.get("url"))
    url = safe_http_url(url_map.get(short, short) if short else None)
    title = string("title")
    if not (url or title):
        return None
    image_url = None
    for key in CARD_IMAGE_KEYS:
        image_url = safe_http_url(_dict(_binding(values, key).get("image_value")).get("url"))
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


def _id(value: object) -> str | None:
    """A post or user id from the payload, or None unless it is well-formed: ids
    name posts and files, so ``../index`` or a 30-digit number is refused here."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and is_post_id(value) else None


def _edit_chain(payload: dict[str, Any]) -> list[str]:
    control = _dict(payload.get("edit_control"))
    ids = _list(control.get("edit_tweet_ids")) or _list(
        _dict(control.get("edit_control_initial")).get("edit_tweet_ids")
    )
    return [i for i in map(_id, ids) if i is not None]


def snapshot_from_tweet(
    payload: dict[str, Any],
    *,
    post_id: str | None = None,
    raw: str = "",
    source: str = SOURCE_SYNDICATION,
    status: str = STATUS_LIVE,
    source_url: str | None = None,
    http_status: int | None = None,
    fetched_at: str | None = None,
    handle_hint: str | None = None,
    max_video_bytes: int = 50_000_000,
    depth: int = 0,
) -> PostSnapshot:
    """Turn a syndication-shaped post object into a ``PostSnapshot`` (no I/O).

    ``post_id`` defaults to the payload's ``id_str``; quoted and parent posts become
    ``related`` snapshots (one level deep). Every id and handle in the payload is
    checked: a nested post whose id is not a well-formed id is dropped (the post
    that carried it is kept), a malformed author id or handle becomes None.
    """
    pid = post_id or _id(payload.get("id_str")) or _id(payload.get("id")) or ""
    user = _dict(payload.get("user"))
    handle = _str(user.get("screen_name"))
    if handle and not HANDLE_RE.match(handle):
        handle = None
    text, html = render_text(payload)
    lang = _str(payload.get("lang"))
    entities = _dict(payload.get("entities"))
    url_map = {
        u["url"]: u["expanded_url"]
        for u in _list(entities.get("urls"))
        if isinstance(u, dict) and _str(u.get("url")) and _str(u.get("expanded_url"))
    }
    media = parse_media(payload, max_video_bytes)
    avatar = safe_http_url(user.get("profile_image_url_https"))
    if avatar:
        media.append(MediaItem(kind="avatar", url=avatar))
    reply_to = _id(payload.get("in_reply_to_status_id_str"))
    snap = PostSnapshot(
        post_id=pid,
        url=status_url(handle or handle_hint, pid),
        author_handle=handle or handle_hint,
        author_name=_str(user.get("name")),
        text=text,
        html=html,
        lang=lang,
        dir=("rtl" if lang in RTL_LANGS else "ltr") if lang else None,
        created_at=best_created_at(pid, payload.get("created_at")),
        status=status,
        source=source,
        source_url=source_url,
        http_status=http_status,
        fetched_at=fetched_at,
        raw=raw,
        author_id=_id(user.get("id_str")),
        author_avatar_url=avatar,
        author_verified=_verification(user),
        possibly_sensitive=payload.get("possibly_sensitive")
        if isinstance(payload.get("possibly_sensitive"), bool)
        else None,
        reply_count=_int(payload.get("conversation_count", payload.get("reply_count"))),
        like_count=_int(payload.get("favorite_count")),
        truncated=bool(payload.get("note_tweet")),
        reply_to_post_id=reply_to,
        edit_ids=_edit_chain(payload),
        card=parse_card(payload.get("card"), url_map) if payload.get("card") else None,
        media=media,
    )
    if depth == 0:

        def related(obj: dict[str, Any], related_id: str) -> PostSnapshot:
            return snapshot_from_tweet(
                obj,
                post_id=related_id,
                raw=json.dumps(obj, ensure_ascii=False),
                source=source,
                status=STATUS_LIVE,
                source_url=source_url,
                http_status=http_status,
                fetched_at=fetched_at,
                max_video_bytes=max_video_bytes,
                depth=depth + 1,
            )

        quoted = _dict(payload.get("quoted_tweet"))
        quoted_id = _id(quoted.get("id_str"))
        if quoted_id and quoted_id != pid:
            snap.quoted_post_id = quoted_id
            snap.related.append(related(quoted, quoted_id))
        parent = _dict(payload.get("parent"))
        parent_id = _id(parent.get("id_str"))
        if parent_id and parent_id != pid:
            snap.reply_to_post_id = parent_id
            snap.related.append(related(parent, parent_id))
    return snap
