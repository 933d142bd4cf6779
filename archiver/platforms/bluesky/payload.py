"""AppView ``postView`` (``app.bsky.feed.defs#postView``) → ``PostSnapshot``.

Everything in a payload is untrusted: ids are checked (``is_post_id``), URLs must be
http(s) (``safe_http_url``), text is escaped when the HTML is built, and every list is
bounded. Facet offsets count UTF-8 *bytes* (``byteStart`` inclusive, ``byteEnd``
exclusive), so the text is sliced as bytes; a facet that is out of range, overlaps
another or cuts a character in two is ignored (its text stays plain).

Time: ``created_at`` is the TID rkey's time when the rkey is a TID (exact, always UTC),
else the record's ``createdAt`` (client-declared: it may lack a timezone, then read as
UTC), else ``indexedAt``. The record's ``createdAt`` is client-declared and can be
rewritten, while the rkey names the record for good, so the rkey wins when both exist.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from archiver.clock import iso_ms
from archiver.models import STATUS_LIVE, MediaItem, PostSnapshot, SnapshotSource
from archiver.snapshot.sanitize import safe_http_url

from .tid import created_at_from_rkey
from .urls import canonical_url, is_did, is_post_id, parse_url

__all__ = [
    "GONE_NOTICES",
    "PLATFORM",
    "SOURCE_APPVIEW",
    "facets_html",
    "gone_status",
    "post_id_from_uri",
    "snapshot_from_post_view",
]

PLATFORM = "bluesky"
SOURCE_APPVIEW = SnapshotSource.APPVIEW
_MAX_TEXT = 10_000  # records hold ≤ 3000 bytes; a bigger value is not a post's text
_MAX_ITEMS = 20  # gallery's schema ceiling; images ≤ 4
_MAX_FACETS = 200
_LANG_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_TAG_RE = re.compile(r"[^\s#]{1,640}")
# Labels that hide content (com.atproto.label.defs, moderation docs).
_SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media", "gore", "nsfl"})
NO_UNAUTHENTICATED = "!no-unauthenticated"


def _str(value: object, limit: int = 1000) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object, limit: int = _MAX_ITEMS) -> list[Any]:
    return value[:limit] if isinstance(value, list) else []


def post_id_from_uri(uri: object) -> str | None:
    """``DID/RKEY`` of an ``at://DID/app.bsky.feed.post/RKEY`` URI, if it is one."""
    if not isinstance(uri, str):
        return None
    ref = parse_url(uri)
    return ref.post_id if ref is not None and is_post_id(ref.post_id) else None


def _label_values(labels: object) -> set[str]:
    return {
        value
        for label in _list(labels, 100)
        if isinstance(value := _dict(label).get("val"), str)
        # A negated label withdraws an earlier one.
        and not _dict(label).get("neg")
    }


def gone_status(view: dict[str, Any]) -> str | None:
    """The status a present ``postView`` still means the post is gone with, or None.

    The author's ``!no-unauthenticated`` (shown to signed-in users only) → protected;
    an author taken down or suspended (labels ``!takedown``/``!suspend``) → suspended;
    the post itself taken down → unavailable.
    """
    author = _dict(view.get("author"))
    author_labels = _label_values(author.get("labels"))
    if author_labels & {"!takedown", "!suspend"}:
        return "suspended"
    if "!takedown" in _label_values(view.get("labels")):
        return "unavailable"
    if NO_UNAUTHENTICATED in author_labels:
        return "protected"
    if _dict(author.get("viewer")).get("blockedBy") is True:
        return "protected"
    return None


def _parse_time(value: object) -> str | None:
    """ISO 8601 in the archive's form; a missing timezone is read as UTC."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso_ms(moment)


def _facet_href(feature: dict[str, Any]) -> str | None:
    kind = feature.get("$type")
    if kind == "app.bsky.richtext.facet#link":
        return safe_http_url(_str(feature.get("uri"), 4096))
    if kind == "app.bsky.richtext.facet#mention":
        did = _str(feature.get("did"), 300)
        return f"https://bsky.app/profile/{did}" if did and is_did(did) else None
    if kind == "app.bsky.richtext.facet#tag":
        tag = _str(feature.get("tag"), 640)
        if tag and _TAG_RE.fullmatch(tag):
            return f"https://bsky.app/hashtag/{quote(tag, safe='')}"
    return None


def _escape_text(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def facets_html(text: str, facets: object) -> str:
    """Sanitized HTML of a post's text with its link, mention and tag facets as links.

    Only ``<a href="http(s)…">`` and ``<br>``; every character of the text is escaped.
    """
    data = text.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in _list(facets, _MAX_FACETS):
        index = _dict(_dict(facet).get("index"))
        start, end = _int(index.get("byteStart")), _int(index.get("byteEnd"))
        if start is None or end is None or not start < end <= len(data):
            continue
        href = next(
            (h for f in _list(_dict(facet).get("features"), 10) if (h := _facet_href(_dict(f)))),
            None,
        )
        if href is not None:
            spans.append((start, end, href))
    spans.sort()
    out: list[str] = []
    pos = 0
    for start, end, href in spans:
        if start < pos:
            continue  # overlaps the previous facet
        try:
            before = data[pos:start].decode("utf-8")
            label = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue  # the offsets cut a character: not a facet of this text
        out.append(_escape_text(before))
        out.append(f'<a href="{html.escape(href, quote=True)}">{_escape_text(label)}</a>')
        pos = end
    out.append(_escape_text(data[pos:].decode("utf-8", "replace")))
    return "".join(out)


def _aspect(view: dict[str, Any]) -> tuple[int | None, int | None]:
    ratio = _dict(view.get("aspectRatio"))
    return _int(ratio.get("width")), _int(ratio.get("height"))


def _images(items: list[Any], thumb_key: str) -> list[MediaItem]:
    media = []
    for item in items:
        view = _dict(item)
        url = safe_http_url(_str(view.get("fullsize"), 4096)) or safe_http_url(
            _str(view.get(thumb_key), 4096)
        )
        if url is None:
            continue
        width, height = _aspect(view)
        media.append(
            MediaItem(
                kind="photo",
                url=url,
                alt_text=_str(view.get("alt"), 2000),
                width=width,
                height=height,
            )
        )
    return media


def _video(view: dict[str, Any]) -> MediaItem | None:
    """The video's poster is archived; the HLS playlist URL is recorded in ``url`` but
    not downloaded (a playlist of segments, not one bounded file)."""
    playlist = safe_http_url(_str(view.get("playlist"), 4096))
    if playlist is None:
        return None
    width, height = _aspect(view)
    gif = view.get("presentation") == "gif"
    return MediaItem(
        kind="animated_gif" if gif else "video",
        url=playlist,
        alt_text=_str(view.get("alt"), 2000),
        width=width,
        height=height,
        poster_url=safe_http_url(_str(view.get("thumbnail"), 4096)),
        content_type="application/vnd.apple.mpegurl",
    )


def _external(view: dict[str, Any]) -> dict[str, Any] | None:
    ext = _dict(view.get("external"))
    url = safe_http_url(_str(ext.get("uri"), 4096))
    if url is None:
        return None
    return {
        "type": "link",
        "url": url,
        "title": _str(ext.get("title"), 300),
        "description": _str(ext.get("description"), 1000),
        "domain": (urlsplit(url).hostname or "")[:200] or None,
        "image_url": safe_http_url(_str(ext.get("thumb"), 4096)),
    }


def _media_view(snap: PostSnapshot, view: dict[str, Any]) -> None:
    """Images, video, gallery or link card of an embed view (not a quote)."""
    kind = view.get("$type")
    if kind == "app.bsky.embed.images#view":
        snap.media.extend(_images(_list(view.get("images"), 4), "thumb"))
    elif kind == "app.bsky.embed.gallery#view":
        snap.media.extend(_images(_list(view.get("items")), "thumbnail"))
    elif kind == "app.bsky.embed.video#view":
        video = _video(view)
        if video is not None:
            snap.media.append(video)
    elif kind == "app.bsky.embed.external#view":
        snap.card = _external(view)


GONE_NOTICES = {
    "protected": "The author shows this post to signed-in users only.",
    "suspended": "The author's account was taken down or suspended.",
    "unavailable": "This post was taken down.",
    "deleted": "This post was deleted.",
}
_QUOTE_GONE = {
    "app.bsky.embed.record#viewNotFound": ("deleted", "The quoted post was deleted."),
    "app.bsky.embed.record#viewBlocked": ("protected", "The quoted post is not available."),
    "app.bsky.embed.record#viewDetached": (
        "unavailable",
        "The quoted post's author removed it from this post.",
    ),
}


def _quote(snap: PostSnapshot, record_view: dict[str, Any], depth: int) -> None:
    """A quoted post (``app.bsky.embed.record#view``'s ``record``)."""
    inner = _dict(record_view.get("record"))
    quoted_id = post_id_from_uri(inner.get("uri"))
    if quoted_id is None:
        return  # a quoted list, feed generator or starter pack: not a post
    snap.quoted_post_id = quoted_id
    kind = inner.get("$type")
    gone = _QUOTE_GONE.get(str(kind))
    if kind == "app.bsky.embed.record#viewRecord":
        status = gone_status(inner)
        if status is not None:
            # Quoted, but its author (or a moderator) keeps it from logged-out readers.
            gone = (status, GONE_NOTICES[status])
        elif depth == 0:
            quoted = _from_view(inner, depth + 1, value_key="value", embeds_key="embeds")
            if quoted is not None:
                snap.related.append(quoted)
    if gone is not None:
        status, notice = gone
        snap.related.append(
            PostSnapshot(
                post_id=quoted_id,
                platform=PLATFORM,
                url=canonical_url(quoted_id),
                created_at=created_at_from_rkey(quoted_id.rpartition("/")[2]),
                status=status,
                source=snap.source,
                fetched_at=snap.fetched_at,
                notice=notice,
            )
        )


def _embed(snap: PostSnapshot, view: dict[str, Any], depth: int) -> None:
    kind = view.get("$type")
    if kind == "app.bsky.embed.record#view":
        _quote(snap, view, depth)
    elif kind == "app.bsky.embed.recordWithMedia#view":
        _quote(snap, _dict(view.get("record")), depth)
        _media_view(snap, _dict(view.get("media")))
    else:
        _media_view(snap, view)


def _from_view(
    view: dict[str, Any], depth: int, *, value_key: str = "record", embeds_key: str = "embed"
) -> PostSnapshot | None:
    post_id = post_id_from_uri(view.get("uri"))
    if post_id is None:
        return None
    record = _dict(view.get(value_key))
    author = _dict(view.get("author"))
    did = _str(author.get("did"), 300)
    handle = _str(author.get("handle"), 253)
    raw_text = record.get("text")
    text = raw_text[:_MAX_TEXT] if isinstance(raw_text, str) else ""
    langs = [lang for lang in _list(record.get("langs"), 3) if isinstance(lang, str)]
    rkey = post_id.rpartition("/")[2]
    snap = PostSnapshot(
        post_id=post_id,
        platform=PLATFORM,
        url=canonical_url(post_id),
        author_handle=handle.lower() if handle and handle != "handle.invalid" else None,
        author_name=_str(author.get("displayName"), 640),
        text=text,
        html=facets_html(text, record.get("facets")),
        lang=langs[0] if langs and _LANG_RE.fullmatch(langs[0]) else None,
        created_at=(
            created_at_from_rkey(rkey)
            or _parse_time(record.get("createdAt"))
            or _parse_time(view.get("indexedAt"))
        ),
        status=STATUS_LIVE,
        source=SOURCE_APPVIEW,
        author_id=did if did and post_id.startswith(did + "/") else post_id.rpartition("/")[0],
        author_avatar_url=safe_http_url(_str(author.get("avatar"), 4096)),
        reply_count=_int(view.get("replyCount")),
        like_count=_int(view.get("likeCount")),
    )
    labels = _label_values(view.get("labels")) | _label_values(record.get("labels"))
    snap.possibly_sensitive = bool(labels & _SENSITIVE_LABELS)
    parent = _dict(_dict(record.get("reply")).get("parent"))
    snap.reply_to_post_id = post_id_from_uri(parent.get("uri"))
    embeds = view.get(embeds_key)
    for embed in _list(embeds, 1) if isinstance(embeds, list) else [embeds]:
        _embed(snap, _dict(embed), depth)
    if snap.author_avatar_url:
        snap.media.append(MediaItem(kind="avatar", url=snap.author_avatar_url))
    return snap


def snapshot_from_post_view(
    view: dict[str, Any], *, raw: str = "", source_url: str | None = None, fetched_at: str | None
) -> PostSnapshot | None:
    """The live snapshot of one ``postView`` (and its quoted post in ``related``).

    None when the view does not name a post (bad URI). A view whose author or post is
    labelled gone (``gone_status``) should be handled by the caller first.
    """
    snap = _from_view(view, 0)
    if snap is None:
        return None
    snap.raw = raw
    snap.source_url = source_url
    snap.http_status = 200
    snap.fetched_at = fetched_at
    for related in snap.related:
        related.fetched_at = fetched_at
        related.source = SOURCE_APPVIEW
    return snap
