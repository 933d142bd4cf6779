"""The post card: its view model (every value checked) and the stable embed's HTML.

``render_embed`` must be byte-for-byte deterministic (rewriting is idempotent only if
the same ``Post`` always renders the same bytes), one line (so Markdown keeps it as a
single raw-HTML block), and carry ``data-archived-post`` so a later scan recognises it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from archiver import platforms
from archiver.models import MediaItem, Post
from archiver.platforms.base import CardInfo, card_info
from archiver.render.common import (
    _ISO_UTC,
    _NETWORK_SOURCES,
    _NOTICES,
    _VERIFIED,
    _as_int,
    _as_text,
    _check_prefix,
    _css,
    _env,
    _local_src,
    _post_html_filter,
    _safe_copy_href,
    _safe_dir,
    human_date,
    link_entities,
    neutralize_template_syntax,
    notice,
    post_time,
    safe_lang,
)
from archiver.snapshot.sanitize import safe_http_url, text_to_html

# --- view model -------------------------------------------------------------------------


@dataclass
class _MediaView:
    kind: str
    src: str | None  # image to show (photo, or video poster)
    href: str | None  # local file to open (videos)
    alt: str
    width: int | None
    height: int | None
    play: str = ""  # label of the play link (videos, GIFs)

    @property
    def ratio(self) -> str | None:
        """CSS ``aspect-ratio`` that keeps the original shape while the file loads."""
        return f"{self.width} / {self.height}" if self.width and self.height else None


@dataclass
class _LinkView:
    text: str
    url: str | None


@dataclass
class _PollChoice:
    label: str
    count: int | None
    percent: int | None


@dataclass
class _CardView:
    type: str
    title: str | None = None
    description: str | None = None
    domain: str | None = None
    url: str | None = None
    image: str | None = None
    choices: list[_PollChoice] = field(default_factory=list)
    total: int | None = None
    summary: str | None = None  # poll: "1,234 votes · Final results"
    image_alt: str = ""


@dataclass
class _PostView:
    key: str
    status: str
    lang: str | None
    dir: str | None
    url: str | None
    name: str | None
    handle: str | None
    avatar: str | None
    text_html: Markup
    created_at: str | None
    date: str | None
    truncated: bool
    notice: str | None
    media: list[_MediaView]
    missing_media: int
    card: _CardView | None
    reply_to: _LinkView | None
    quoted: _PostView | None
    quoted_link: _LinkView | None
    initial: str = "?"  # shown in place of a missing avatar
    profile_url: str | None = None
    verified: str | None = None  # blue | business | government
    date_lang: str | None = None
    notice_detail: str = ""
    label: str = "X"  # the platform's name, as its cards show it
    edited: bool = False


def _last_seen_live(post: Post, live_times: list[str] | None = None) -> str | None:
    """When its platform last showed the post: the latest live snapshot we know of.

    ``live_times`` are capture times of snapshots with status live (the page has
    them); the current copy counts when it came from the platform rather than markup.
    """
    times = [t for t in (live_times or []) if t]
    if post.source in _NETWORK_SOURCES and post.archived_at:
        times.append(post.archived_at)
    return max(times) if times else None


def _notice_detail(post: Post, live_times: list[str] | None = None) -> str:
    if post.status not in _NOTICES:
        return ""
    seen = human_date(_last_seen_live(post, live_times))
    archived = human_date(post.archived_at)
    if seen:
        return f" Last seen live on {seen}. This is the copy archived then."
    if archived:
        return f" This copy was archived from the article on {archived}."
    return " This is an archived copy."


def _initial(name: str | None, handle: str | None) -> str:
    """The first letter (with its combining marks) of the name, else of the handle."""
    for source in (name, handle):
        text = (source or "").strip()
        if not text:
            continue
        out = text[0].upper()
        for ch in text[1:4]:
            if not unicodedata.category(ch).startswith("M"):
                break
            out += ch
        return out
    return "?"


def _media_views(post: Post, prefix: str) -> tuple[list[_MediaView], int]:
    views: list[_MediaView] = []
    missing = 0
    for m in post.media:
        if m.kind == "avatar":
            continue
        alt = (m.alt_text or "").strip()
        w = m.width if isinstance(m.width, int) and m.width > 0 else None
        h = m.height if isinstance(m.height, int) and m.height > 0 else None
        if m.kind == "photo":
            src = _local_src(prefix, m.local_path)
            if src is None:
                missing += 1
                continue
            views.append(_MediaView("photo", src, None, alt or "Image from the post", w, h))
        elif m.kind in ("video", "animated_gif"):
            href = _local_src(prefix, m.local_path)
            poster = _local_src(prefix, m.poster_local_path)
            if href is None and poster is not None and _is_stream(m):
                # A stream (Bluesky's HLS playlist) is never downloaded by design; its
                # still is, and shows where the video was, as the original did.
                label = "Video" if m.kind == "video" else "GIF"
                views.append(
                    _MediaView(
                        "poster",
                        poster,
                        None,
                        alt or f"{label} from the post",
                        w,
                        h,
                        f"{label} not archived",
                    )
                )
                continue
            if href is None:
                missing += 1
                continue
            label = "GIF" if m.kind == "animated_gif" else "Video"
            play = "Play GIF" if m.kind == "animated_gif" else "Play video"
            views.append(
                _MediaView(m.kind, poster, href, alt or f"{label} from the post", w, h, play)
            )
        else:
            missing += 1
    return views, missing


_STREAM_TYPES = frozenset({"application/vnd.apple.mpegurl", "application/x-mpegurl"})


def _is_stream(m: MediaItem) -> bool:
    """A video that is a playlist of segments (HLS), not one file the store could hold."""
    return (m.content_type or "").lower() in _STREAM_TYPES


def _card_view(card: dict[str, Any] | None, prefix: str) -> _CardView | None:
    if not isinstance(card, dict):
        return None
    kind = card.get("type")
    if kind == "poll":
        raw = card.get("choices")
        if not isinstance(raw, list):
            return None
        choices: list[tuple[str, int | None]] = []
        for c in raw[:10]:
            if isinstance(c, dict):
                label = _as_text(c.get("label"), 200)
                if label:
                    choices.append((label, _as_int(c.get("count"))))
        if not choices:
            return None
        counts = [c for _, c in choices if c is not None]
        total = sum(counts) if len(counts) == len(choices) else None
        views = []
        for label, count in choices:
            pct = None
            if total and count is not None:
                pct = (count * 200 + total) // (2 * total)  # rounded, integer-only
            views.append(_PollChoice(label, count, pct))
        parts = []
        if total is not None:
            parts.append(f"{total:,} vote{'' if total == 1 else 's'}")
        if card.get("counts_final") is True:
            parts.append("Final results")
        return _CardView("poll", choices=views, total=total, summary=" · ".join(parts) or None)
    if kind == "link":
        url = safe_http_url(card.get("url") if isinstance(card.get("url"), str) else None)
        title = _as_text(card.get("title"), 300)
        if not url and not title:
            return None
        image = None
        for k in ("image_local_path", "image"):
            v = card.get(k)
            image = _local_src(prefix, v) if isinstance(v, str) else None
            if image:
                break
        return _CardView(
            "link",
            title=title,
            description=_as_text(card.get("description"), 500),
            domain=_as_text(card.get("domain"), 200),
            url=url,
            image=image,
            image_alt=f"Preview image: {title}" if title else "Preview image of the link",
        )
    return None


def _platform(name: str) -> tuple[platforms.Platform | None, CardInfo]:
    """The post's platform and its card, or a plain card for an unregistered name (an
    archive written with a platform this install does not have)."""
    try:
        platform = platforms.get(name)
    except platforms.UnknownPlatform:
        return None, CardInfo(label=name if name.isascii() and name.isalnum() else "?")
    return platform, card_info(platform)


def platform_card(name: str) -> CardInfo:
    """What cards show of the platform called ``name`` (see ``CardInfo``)."""
    return _platform(name)[1]


def _shown_handle(handle: str | None, info: CardInfo) -> str | None:
    return handle if handle and info.is_handle(handle) else None


def _post_link(p: Post | None, key: str | None) -> _LinkView | None:
    """How to refer to a post we may or may not hold: its handle and an http(s) link."""
    if p is not None:
        handle = _shown_handle(p.author_handle, _platform(p.platform)[1])
        text = f"@{handle}" if handle else "a post"
        return _LinkView(text, safe_http_url(p.url))
    name, _, post_id = (key or "").partition(":")
    platform = _platform(name)[0] if name and post_id else None
    if platform is not None and post_id and platform.is_post_id(post_id):
        return _LinkView("a post", safe_http_url(platform.canonical_url(post_id, None)))
    return None


def _view(
    post: Post,
    prefix: str,
    depth: int = 0,
    lang: str | None = None,
    live_times: list[str] | None = None,
) -> _PostView:
    text_html = _post_html_filter(post.html)
    if not text_html and post.text:
        text_html = Markup(text_to_html(post.text))
    platform, info = _platform(post.platform)
    text_html = link_entities(text_html, info, post.post_id)
    created = post.created_at if post.created_at and _ISO_UTC.match(post.created_at) else None
    # A pre-snowflake X id encodes no time: midnight then came from day-level date text.
    day_only = bool(created) and _day_only(post, platform, info)
    shown = post_time(created, lang, day_only=day_only)
    media, missing = _media_views(post, prefix)
    quoted = None
    quoted_link = None
    if depth == 0:
        if post.quoted is not None:
            # One level only: a quote of a quote is shown as a link, which also
            # keeps a cyclic object graph from recursing forever.
            quoted = _view(post.quoted, prefix, depth + 1, lang)
        else:
            quoted_link = _post_link(None, post.quoted_key)
    handle = _shown_handle(post.author_handle, info)
    return _PostView(
        key=post.key,
        status=post.status,
        lang=safe_lang(post.lang),
        dir=_safe_dir(post.dir),
        url=safe_http_url(post.url),
        name=(post.author_name or "").strip() or None,
        handle=handle,
        avatar=_local_src(prefix, post.author_avatar),
        text_html=text_html,
        created_at=created,
        date=shown[0] if shown else ((post.date_text or "").strip() or None),
        truncated=bool(post.truncated),
        notice=notice(post.status, info.label),
        media=media,
        missing_media=missing,
        card=_card_view(post.card, prefix),
        reply_to=_post_link(post.reply_to, post.reply_to_key) if depth == 0 else None,
        quoted=quoted,
        quoted_link=quoted_link,
        initial=_initial(post.author_name, handle),
        profile_url=safe_http_url(info.profile_url(handle, post.post_id)) if handle else None,
        verified=_VERIFIED.get((post.author_verified or "").lower()),
        date_lang=shown[1] if shown else None,
        notice_detail=_notice_detail(post, live_times if depth == 0 else None),
        label=info.label,
        edited=info.edited(post.notice),
    )


def _day_only(post: Post, platform: platforms.Platform | None, info: CardInfo) -> bool:
    """Whether the post's time is known to the day only (see ``CardInfo``)."""
    if not info.day_only_without_id_time or platform is None:
        return False
    return platform.created_at_from_id(post.post_id) is None


def _when(iso: str | None) -> str | None:
    """``February 10, 2026 (2026-02-10T08:00:00.000Z)`` for provenance lines."""
    if not iso:
        return None
    day = human_date(iso)
    return f"{day} ({iso})" if day else iso


def _posted(post: Post, v: _PostView) -> str | None:
    """The creation time for provenance, without claiming precision we do not have."""
    if v.created_at is None:
        return v.date
    platform, info = _platform(post.platform)
    if _day_only(post, platform, info) and v.created_at.endswith("T00:00:00.000Z"):
        # Pre-snowflake id: the time came from day-level date text.
        return f"{v.date} (day only: the post id does not encode a time)"
    return v.created_at


# --- public API -------------------------------------------------------------------------


def render_embed(
    post: Post,
    copy_href: str,
    media_href_prefix: str,
    lang: str | None = None,
    style: bool = True,
) -> str:
    """The static embed (a post card) that replaces an original embed span in an article.

    ``copy_href`` links to the post's local page (relative, root-relative or http(s));
    ``media_href_prefix`` is prepended to media ``local_path``s and must be relative or
    root-relative (ValueError otherwise). ``lang`` is the article's language: the
    posting time is written in it when we know how (else in English). ``style``
    includes the card's scoped ``<style>``; a page needs it once (in its first card),
    as a style element applies to the whole document. Output: one line, no trailing
    newline, no script, no third-party resource, same bytes for the same arguments.
    """
    return _with_style(_embed_body(post, copy_href, media_href_prefix, lang), style)


def _embed_body(post: Post, copy_href: str, media_href_prefix: str, lang: str | None) -> str:
    """The embed with its ``<style>`` element left empty (see ``_with_style``)."""
    prefix = _check_prefix(media_href_prefix)
    out = (
        _env()
        .get_template("embed.html.j2")
        .render(
            v=_view(post, prefix, lang=lang),
            copy_href=_safe_copy_href(copy_href),
        )
    )
    # Values may hold line breaks (alt text, names); as character references they
    # mean the same in HTML but keep the embed one line for Markdown.
    out = out.replace("\r", "&#13;").replace("\n", "&#10;")
    return neutralize_template_syntax(out)


def _with_style(body: str, style: bool) -> str:
    # The style goes in last: it is checked once (one line, ASCII, no template
    # syntax), so the checks of the body need not scan its 6 KB for every embed.
    css = f"<style>{_css('card.css')}</style>" if style else ""
    return body.replace(_EMPTY_STYLE, css, 1)


_EMPTY_STYLE = "<style></style>"
