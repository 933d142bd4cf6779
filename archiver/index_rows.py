"""What the archive index shows of each post: its row on the pages and its entry in the
search index, with links made from the index's folder (see ``index_page``)."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from archiver.models import (
    STATUS_DELETED,
    STATUS_LIVE,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
    STATUS_UNKNOWN,
    STATUSES,
)
from archiver.render import human_date
from archiver.render.card import platform_card
from archiver.render.common import safe_lang
from archiver.rewrite import relative_href
from archiver.snapshot.sanitize import safe_http_url

EXCERPT_CHARS = 280
_NOT_ID = re.compile(r"[^0-9A-Za-z_]")
# Labels of the per-status pages, in the order the filter shows them.
STATUS_LABELS: dict[str, str] = {
    STATUS_LIVE: "Live",
    STATUS_DELETED: "Deleted",
    STATUS_PROTECTED: "Protected",
    STATUS_SUSPENDED: "Suspended",
    STATUS_UNAVAILABLE: "Unavailable",
    STATUS_UNKNOWN: "Not checked yet",
}


class _HrefsFrom:
    """``relative_href(page, path)`` for many paths, one ``relpath`` per folder.

    A full index links every live article from every page it renders: a relpath and a
    Path per link were half the time of a walk over all of them. For a normalised
    absolute path, the link is the folder's link joined with the
    file name, which is what relpath gives; anything else takes the plain way.
    """

    _MAX_FOLDERS = 4096  # bounded: memory must not grow with the archive

    def __init__(self, page: Path) -> None:
        self.page = page
        self.start = str(page.parent)
        self.folders: dict[str, str] = {}

    def href(self, target: str | Path) -> str:
        path = os.fspath(target)
        if not (os.path.isabs(path) and os.path.normpath(path) == path and self.start):
            return relative_href(self.page, Path(path))
        folder, name = os.path.split(path)
        rel = self.folders.get(folder)
        if rel is None:
            if len(self.folders) >= self._MAX_FOLDERS:
                self.folders.clear()
            rel = self.folders[folder] = os.path.relpath(folder, start=self.start)
        joined = name if rel == os.curdir else os.path.join(rel, name)
        return quote(os.fsencode(joined.replace(os.sep, posixpath.sep)))


def index_row(
    post: dict[str, Any],
    articles: list[dict[str, Any]],
    page: Path,
    out_dir: Path,
    hrefs: _HrefsFrom | None = None,
    more: int = 0,
) -> dict[str, Any]:
    """What the index at ``page`` shows of one post (a ``posts`` row with its live articles,
    and ``more`` of them not listed); ``hrefs`` makes its links from ``page``'s folder
    (one relpath per folder, not per link)."""
    href = (hrefs or _HrefsFrom(page)).href
    text = (post["text"] or "").strip()
    excerpt = text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
    status = (post["status"] or STATUS_UNKNOWN).lower()
    status = status if status in STATUSES else STATUS_UNKNOWN
    card = platform_card(str(post["key"]).partition(":")[0])
    handle = post["author_handle"] if card.is_handle(post["author_handle"] or "") else None
    lang = post.get("lang")
    direction = post.get("dir")
    return {
        "key": post["key"],
        "anchor": "post-" + _NOT_ID.sub("", post["post_id"] or ""),
        "created_at": post["created_at"],
        "date": human_date(post["created_at"]) or post["created_at"],
        "author_name": post["author_name"],
        "author_handle": handle,
        "excerpt": excerpt,
        "lang": safe_lang(lang),
        "dir": direction if direction in ("ltr", "rtl") else "auto",
        "status": status,
        "status_label": STATUS_LABELS[status],
        # A string join, not a Path: pathlib interns every part, and the interpreter's
        # table of interned strings grew with the posts of the archive (1.9 MB of a
        # full index's peak at 175,000 posts).
        "copy_href": href(os.path.join(out_dir, post["local_path"])),
        "original_url": safe_http_url(post["url"]) if post["url"] else None,
        "label": card.label,
        "articles": [_article_link(a, href) for a in articles],
        "more": more,
    }


def _article_link(article: dict[str, Any], link: Callable[[str], str]) -> dict[str, str | None]:
    """A relative link to the rewritten article, else its http(s) URL, else just its name."""
    href: str | None = None
    if article["output_path"]:
        href = link(article["output_path"])
    elif article["url"]:
        href = safe_http_url(article["url"])
    return {"label": article["location"], "href": href}


def search_entry(row: dict[str, Any], post: dict[str, Any]) -> dict[str, Any]:
    """What search.js knows of one post: the full text to match, the rest to show.

    Plain data only: search.js puts it in the page with textContent, never as HTML.
    """
    return {
        "key": row["key"],
        "name": row["author_name"],
        "handle": row["author_handle"],
        "text": post["text"] or "",
        "excerpt": row["excerpt"],
        "lang": row["lang"],
        "dir": row["dir"],
        "date": row["date"] if row["created_at"] else None,
        "status": row["status"],
        "label": row["status_label"],
        "copy": row["copy_href"],
        "articles": row["articles"],
        "more": row["more"],
    }
