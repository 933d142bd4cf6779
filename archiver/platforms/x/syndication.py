"""X's syndication endpoint (``tweet-result``), the primary source, and its snapshots.

The parser is defensive on purpose: the response shape changes without notice
(entity lists missing, ``{}`` or ``[]``; react-tweet #218/#221), so every field is
optional and a missing one degrades the snapshot instead of failing it. The raw
body is kept verbatim so a better parser can re-read it later.

``text`` is HTML-escaped by X (``&amp;``, ``&lt;``, ``&gt;``): it is decoded exactly
once here, kept as plain text, and escaped once again only when ``html`` is built.

The readers live in ``payload`` (values, media, cards, tombstones) and ``text`` (the text
and its entities); this module fetches and assembles a ``PostSnapshot`` from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from archiver.config import XConfig
from archiver.encoding import loads_json
from archiver.fetch.http import (
    Budget,
    FetchError,
    HttpSession,
    Response,
    best_created_at,
    safe_http_url,
)
from archiver.models import (
    SOURCE_SYNDICATION,
    STATUS_LIVE,
    MediaItem,
    PostSnapshot,
)

from .payload import (
    CARD_IMAGE_KEYS,
    HANDLE_RE,
    as_dict,
    as_id,
    as_int,
    as_list,
    as_str,
    choose_mp4,
    parse_card,
    parse_media,
    tombstone_status,
    tombstone_text,
)
from .text import render_text
from .token import syndication_token

__all__ = [
    "CARD_IMAGE_KEYS",
    "HANDLE_RE",
    "RTL_LANGS",
    "SyndicationAnswer",
    "choose_mp4",
    "decode_json_body",
    "fetch_syndication",
    "parse_card",
    "parse_media",
    "render_text",
    "snapshot_from_tweet",
    "status_url",
    "tombstone_status",
    "tombstone_text",
]

RTL_LANGS = frozenset({"ar", "fa", "he", "iw", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})


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
        return loads_json(response.text())
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


def _verification(user: dict[str, Any]) -> str | None:
    kind = as_str(user.get("verified_type"))
    if kind:
        return kind.lower()
    if user.get("is_blue_verified") is True:
        return "blue"
    if user.get("verified") is True:
        return "verified"
    return None


def _edit_chain(payload: dict[str, Any]) -> list[str]:
    control = as_dict(payload.get("edit_control"))
    ids = as_list(control.get("edit_tweet_ids")) or as_list(
        as_dict(control.get("edit_control_initial")).get("edit_tweet_ids")
    )
    return [i for i in map(as_id, ids) if i is not None]


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
    pid = post_id or as_id(payload.get("id_str")) or as_id(payload.get("id")) or ""
    user = as_dict(payload.get("user"))
    handle = as_str(user.get("screen_name"))
    if handle and not HANDLE_RE.match(handle):
        handle = None
    text, html = render_text(payload)
    lang = as_str(payload.get("lang"))
    entities = as_dict(payload.get("entities"))
    url_map = {
        u["url"]: u["expanded_url"]
        for u in as_list(entities.get("urls"))
        if isinstance(u, dict) and as_str(u.get("url")) and as_str(u.get("expanded_url"))
    }
    media = parse_media(payload, max_video_bytes)
    avatar = safe_http_url(user.get("profile_image_url_https"))
    if avatar:
        media.append(MediaItem(kind="avatar", url=avatar))
    reply_to = as_id(payload.get("in_reply_to_status_id_str"))
    snap = PostSnapshot(
        post_id=pid,
        url=status_url(handle or handle_hint, pid),
        author_handle=handle or handle_hint,
        author_name=as_str(user.get("name")),
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
        author_id=as_id(user.get("id_str")),
        author_avatar_url=avatar,
        author_verified=_verification(user),
        possibly_sensitive=payload.get("possibly_sensitive")
        if isinstance(payload.get("possibly_sensitive"), bool)
        else None,
        reply_count=as_int(payload.get("conversation_count", payload.get("reply_count"))),
        like_count=as_int(payload.get("favorite_count")),
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

        quoted = as_dict(payload.get("quoted_tweet"))
        quoted_id = as_id(quoted.get("id_str"))
        if quoted_id and quoted_id != pid:
            snap.quoted_post_id = quoted_id
            snap.related.append(related(quoted, quoted_id))
        parent = as_dict(payload.get("parent"))
        parent_id = as_id(parent.get("id_str"))
        if parent_id and parent_id != pid:
            snap.reply_to_post_id = parent_id
            snap.related.append(related(parent, parent_id))
    return snap
