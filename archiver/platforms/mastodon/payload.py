"""A Mastodon ``Status`` (``GET /api/v1/statuses/:id``) as a ``PostSnapshot``. No I/O.

Everything in the payload comes from a stranger's server: ids are checked before
they name a post, URLs must be http(s) (``safe_http_url``), the content HTML goes
through the same sanitizer as X's (links and line breaks only). Mastodon shortens
long links in ``content`` with ``span.invisible`` (hidden) and ``span.ellipsis``
(shown with "…"); the text kept is what Mastodon shows, the link keeps its full
target.

Choices (documented in the README's Mastodon section):

* a boost (``reblog`` wrapper) is archived as the boosted post's content and
  author, under the id the embed named, with a note naming the booster;
* the time is the payload's ``created_at`` (exact for local posts; a remote post's
  snowflake only keeps its second), else the id's;
* an accepted 4.4 quote becomes a related snapshot (same host); other quote states
  (pending, revoked, deleted, blocked…) are noted, and the fallback "RE: link"
  paragraph stays in the text so the reference is not lost;
* the parent of a reply is named by key (same host), not fetched;
* edits: the snapshot is the current version; the versions from
  ``/history`` are kept verbatim in ``raw`` and summarised in ``notice``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from archiver.clock import iso_from_unix_ms
from archiver.models import STATUS_LIVE, MediaItem, PostSnapshot, SnapshotSource
from archiver.snapshot.sanitize import (
    html_to_text,
    parse_fragment,
    safe_http_url,
    sanitize_post_html,
)

from .card import EDITED_NOTE
from .urls import _ID, canonical_url, created_at_from_id, is_handle

__all__ = ["PLATFORM", "snapshot_from_status", "status_parts"]

PLATFORM = "mastodon"
_MEDIA_KINDS = {"image": "photo", "gifv": "animated_gif", "video": "video"}
_RTL = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "yi", "ug", "ckb", "dv"})
_MAX_POLL_OPTIONS = 20


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _status_id(value: object) -> str | None:
    """A status id from the payload, or None unless it has the documented form."""
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _iso(value: object) -> str | None:
    """An ISO 8601 time from the payload in the archive's format, or None."""
    text = _str(value)
    if text is None or len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso_from_unix_ms(round(moment.timestamp() * 1000))


def _visible(content: str, *, drop_quote_fallback: bool) -> BeautifulSoup:
    """The content as Mastodon shows it: shortened links shortened, optionally the
    quote's "RE:" fallback paragraph removed (when the quote itself is kept)."""
    soup = parse_fragment(content)
    for span in soup.find_all("span", class_="invisible"):
        span.decompose()
    for span in soup.find_all("span", class_="ellipsis"):
        span.append("…")
    if drop_quote_fallback:
        for para in soup.find_all("p", class_="quote-inline"):
            para.decompose()
    return soup


def _acct(account: dict[str, Any]) -> str | None:
    """``user`` for a local account, ``user@remote`` for another server's; None
    unless it has that form (it names URLs and shows on cards)."""
    acct = _str(account.get("acct"))
    return acct if acct is not None and is_handle(acct) else None


def _media(status: dict[str, Any]) -> list[MediaItem]:
    items = []
    for attachment in _list(status.get("media_attachments"))[:16]:
        a = _dict(attachment)
        kind = _MEDIA_KINDS.get(_str(a.get("type")) or "")
        url = safe_http_url(_str(a.get("url"))) or safe_http_url(_str(a.get("remote_url")))
        if kind is None or url is None:
            continue  # audio and unknown attachments: nothing a card can show
        original = _dict(_dict(a.get("meta")).get("original"))
        preview = safe_http_url(_str(a.get("preview_url")))
        items.append(
            MediaItem(
                kind=kind,
                url=url,
                alt_text=_str(a.get("description")),
                width=_int(original.get("width")),
                height=_int(original.get("height")),
                poster_url=preview if kind != "photo" else None,
            )
        )
    return items


def _card(status: dict[str, Any]) -> dict[str, Any] | None:
    """The poll, else the link card, in the normalised shape X's cards use."""
    poll = _dict(status.get("poll"))
    if poll:
        options = _list(poll.get("options"))[:_MAX_POLL_OPTIONS]
        choices = [
            {"label": _str(_dict(o).get("title")) or "", "count": _int(_dict(o).get("votes_count"))}
            for o in options
        ]
        expired = poll.get("expired")
        return {
            "type": "poll",
            "choices": choices,
            "ends_at": _iso(poll.get("expires_at")),
            "counts_final": expired if isinstance(expired, bool) else None,
        }
    card = _dict(status.get("card"))
    url = safe_http_url(_str(card.get("url")))
    title = _str(card.get("title"))
    if not (url or title):
        return None
    return {
        "type": "link",
        "title": title,
        "description": _str(card.get("description")),
        "url": url,
        "domain": _str(card.get("provider_name")) or _domain(url),
        "image": None,  # local media file name, filled in once downloaded
        "image_url": safe_http_url(_str(card.get("image"))),
    }


def _domain(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None


def status_parts(status: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(the status whose content to show, the booster's acct when it is a boost)."""
    reblog = _dict(status.get("reblog"))
    if reblog:
        return reblog, _acct(_dict(status.get("account")))
    return status, None


def _history_note(history: list[Any] | None) -> str | None:
    versions = [_dict(v) for v in history or [] if isinstance(v, dict)]
    if len(versions) < 2:
        return None
    times = [t for t in (_iso(v.get("created_at")) for v in versions) if t]
    first = html_to_text(
        _visible(_str(versions[0].get("content")) or "", drop_quote_fallback=False)
    )
    span = f" between {times[0]} and {times[-1]}" if len(times) >= 2 else ""
    return (
        f"{EDITED_NOTE}{len(versions)} versions{span}; the first read: {first[:280]!r} "
        "(every version is kept in the raw record)"
    )


def snapshot_from_status(
    payload: dict[str, Any],
    *,
    host: str,
    post_id: str | None = None,
    raw: str = "",
    source_url: str | None = None,
    http_status: int | None = None,
    fetched_at: str | None = None,
    history: list[Any] | None = None,
    depth: int = 0,
) -> PostSnapshot:
    """Turn a Status entity into a ``PostSnapshot`` with ``post_id`` ``HOST/ID``.

    ``post_id`` defaults to ``host/<payload id>``; a quoted post becomes a
    ``related`` snapshot (one level deep). ``history`` (from ``/history``) is
    summarised in ``notice``; the caller keeps it in ``raw``.
    """
    shown, booster = status_parts(payload)
    own_id = _status_id(payload.get("id")) or ""
    pid = post_id or f"{host}/{own_id}"
    account = _dict(shown.get("account"))
    handle = _acct(account)
    quote = _dict(shown.get("quote"))
    quoted = _dict(quote.get("quoted_status")) if quote.get("state") == "accepted" else {}
    quoted_id = _status_id(quoted.get("id")) if depth == 0 else None
    soup = _visible(_str(shown.get("content")) or "", drop_quote_fallback=quoted_id is not None)
    text = html_to_text(soup)
    lang = _str(shown.get("language"))
    lang = lang if lang and len(lang) <= 16 else None
    notes: list[str] = []
    spoiler = _str(shown.get("spoiler_text"))
    if spoiler:
        notes.append(f"Content warning: {spoiler[:500]}")
    if booster:
        notes.append(
            f"A boost by @{booster[:300]} of {safe_http_url(_str(shown.get('url'))) or 'a post'}"
        )
    if quote and quoted_id is None and depth == 0:
        state = _str(quote.get("state")) or "unknown"
        notes.append(f"Quoted post not shown by the server (quote state: {state[:40]})")
    edit = _history_note(history)
    if edit:
        notes.append(edit)
    avatar = safe_http_url(_str(account.get("avatar_static"))) or safe_http_url(
        _str(account.get("avatar"))
    )
    media = _media(shown)
    if avatar:
        media.append(MediaItem(kind="avatar", url=avatar))
    reply_id = _status_id(shown.get("in_reply_to_id"))
    sensitive = shown.get("sensitive")
    snap = PostSnapshot(
        post_id=pid,
        platform=PLATFORM,
        url=canonical_url(pid, booster or handle),
        author_handle=handle,
        author_name=_str(account.get("display_name")) or _str(account.get("username")),
        text=text or None,
        html=sanitize_post_html(soup) or None,
        lang=lang,
        dir=("rtl" if lang.split("-")[0] in _RTL else "ltr") if lang else None,
        created_at=_iso(shown.get("created_at")) or created_at_from_id(pid),
        status=STATUS_LIVE,
        source=SnapshotSource.API,
        source_url=source_url,
        http_status=http_status,
        fetched_at=fetched_at,
        raw=raw,
        author_id=_status_id(account.get("id")),
        author_avatar_url=avatar,
        possibly_sensitive=sensitive if isinstance(sensitive, bool) else None,
        reply_count=_int(shown.get("replies_count")),
        like_count=_int(shown.get("favourites_count")),
        reply_to_post_id=f"{host}/{reply_id}" if reply_id else None,
        card=_card(shown),
        media=media,
        notice="\n".join(notes) or None,
    )
    if quoted_id is not None and f"{host}/{quoted_id}" != pid:
        snap.quoted_post_id = f"{host}/{quoted_id}"
        snap.related.append(
            snapshot_from_status(
                quoted,
                host=host,
                raw=json.dumps(quoted, ensure_ascii=False),
                source_url=source_url,
                http_status=http_status,
                fetched_at=fetched_at,
                depth=depth + 1,
            )
        )
    return snap
