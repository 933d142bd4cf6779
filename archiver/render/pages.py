"""The local copy page of a post: its card, then where the copy came from, when it was
checked, its version history and the articles that embed it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from markupsafe import Markup

from archiver.models import (
    STATUS_DELETED,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
    Post,
)
from archiver.render.card import _last_seen_live, _platform, _posted, _view, _when
from archiver.render.common import (
    _ISO_TIME,
    _NETWORK_SOURCES,
    LINK_REL,
    _check_prefix,
    _css,
    _env,
    _safe_copy_href,
    human_date,
    neutralize_template_syntax,
)
from archiver.snapshot.sanitize import safe_http_url


class SnapshotLike(Protocol):
    """What the version history reads of a snapshot (storage's ``SnapshotInfo`` fits)."""

    captured_at: str
    source: str
    status: str
    text: str | None
    author_name: str | None
    content_hash: str


@dataclass(frozen=True)
class EmbeddingArticle:
    """An article that embeds the post: its name, its rewritten copy, its original URL."""

    label: str
    copy_href: str | None = None  # relative link to the rewritten copy
    url: str | None = None  # the original, for articles read over HTTP


@dataclass
class _VersionView:
    when: str
    iso: str
    changes: list[str]


_STATUS_WORDS = {
    "unknown": "not checked on {label} yet",
    "live": "live",
    STATUS_DELETED: "deleted",
    STATUS_PROTECTED: "protected (no longer public)",
    STATUS_SUSPENDED: "suspended account",
    STATUS_UNAVAILABLE: "unavailable",
}


def _status_words(status: str, label: str) -> str:
    return _STATUS_WORDS.get(status, status).format(label=label)


def _source_words(source: str, label: str) -> str:
    if source in _NETWORK_SOURCES:
        if source == "wayback":
            return "Recovered from the Internet Archive"
        return f"Fetched from {label}"
    if source == "archived-copy":
        return "Read back from an archived copy in an article"
    return "Archived from the article's markup"


def _notice_intro(post: Post) -> str:
    """What introduces the post's stored notice ("X said" for X's tombstone text)."""
    return _platform(post.platform)[1].notice_intro


def _day_time(iso: str) -> str:
    """``February 10, 2026, 08:05 UTC`` (or the raw value if it is not a timestamp)."""
    day = human_date(iso)
    m = _ISO_TIME.match(iso)
    if not day or not m:
        return iso
    return f"{day}, {m.group(4)}:{m.group(5)} UTC"


def _versions(versions: Sequence[SnapshotLike], label: str) -> list[_VersionView]:
    """Every snapshot, newest first, each with what changed since the one before."""
    out: list[_VersionView] = []
    previous: SnapshotLike | None = None
    for snap in versions:
        changes: list[str] = []
        if previous is None:
            changes.append(f"{_source_words(snap.source, label)}: first archived copy")
        else:
            if snap.status != previous.status:
                changes.append(f"Status: {_status_words(snap.status, label)}")
            if (snap.text or "") != (previous.text or "") and snap.text is not None:
                changes.append("Text edited" if previous.text else "Text added")
            if snap.author_name != previous.author_name and snap.author_name:
                changes.append("Display name changed")
            if snap.source != previous.source:
                changes.append(f"{_source_words(snap.source, label)}")
            if not changes and snap.content_hash != previous.content_hash:
                changes.append("Details changed (media, card or counts)")
            if not changes:
                changes.append("No visible change")
        out.append(_VersionView(_day_time(snap.captured_at), snap.captured_at, changes))
        previous = snap
    out.reverse()
    return out


def _article_views(articles: Sequence[str | EmbeddingArticle]) -> list[EmbeddingArticle]:
    out = []
    for a in articles:
        if isinstance(a, str):
            if a:
                out.append(EmbeddingArticle(a, None, safe_http_url(a)))
        else:
            out.append(
                EmbeddingArticle(a.label, _safe_copy_href(a.copy_href or ""), safe_http_url(a.url))
            )
    return out


def render_post_page(
    post: Post,
    media_href_prefix: str,
    articles: Sequence[str | EmbeddingArticle] | None = None,
    versions: Sequence[SnapshotLike] | None = None,
    index_href: str | None = "../index.html",
) -> str:
    """A self-contained HTML5 page for one archived post: the card, then provenance.

    Strict CSP (nothing loads but our own images and media), no referrer, no script.
    ``articles`` lists where the post is embedded (names, or ``EmbeddingArticle``s
    with links to the rewritten copies); ``versions`` are its snapshots, oldest first.
    """
    prefix = _check_prefix(media_href_prefix)
    history = list(versions or [])
    live_times = [s.captured_at for s in history if s.status == "live"]
    v = _view(post, prefix, live_times=live_times)
    title_who = f"@{v.handle}" if v.handle else (v.name or "unknown author")
    seen = _last_seen_live(post, live_times)
    out = (
        _env()
        .get_template("post_page.html.j2")
        .render(
            v=v,
            post=post,
            title=f"Post by {title_who} (archived)",
            css=Markup(""),  # filled in below, after the checks of the page's values
            articles=_article_views(articles or []),
            versions=_versions(history, v.label),
            source_words=_source_words(post.source, v.label),
            archived_day=human_date(post.archived_at),
            status_words=_status_words(post.status, v.label),
            notice_intro=_notice_intro(post),
            checked_day=human_date(post.last_checked_at),
            seen_day=human_date(seen),
            changed_day=human_date(post.status_changed_at),
            posted=_posted(post, v),
            first_seen=_when(post.first_seen_at),
            archived=_when(post.archived_at),
            status_changed=_when(post.status_changed_at),
            last_checked=_when(post.last_checked_at),
            index_href=_safe_copy_href(index_href or ""),
            rel=LINK_REL,
        )
    )
    # The stylesheets go in last: they are checked once (ASCII, no template syntax),
    # so the page's own check need not scan their 8 KB on every page.
    css = f"<style>{_css('card.css')}{_css()}</style>"
    return neutralize_template_syntax(out).replace("<style></style>", css, 1)
