"""The static archive index: ``OUTPUT/embeds/index.html``, ``index-2.html``, …

Every post with a local copy, newest first, with its author, date and status, a link
to the local copy and links to the articles that embed it. Links are relative, so the
pages work from the file system and behind any static server; there is no script,
and every value is escaped by Jinja2's autoescape (post text comes from strangers).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from archiver.config import Config
from archiver.pipeline import utc_now
from archiver.render import human_date, neutralize_template_syntax
from archiver.rewrite import relative_href, write_if_changed
from archiver.snapshot.sanitize import safe_http_url
from storage import Store
from storage import queries as q

if TYPE_CHECKING:
    from archiver.api import Archive

PER_PAGE = 100
EXCERPT_CHARS = 280
_PAGE_NAME = re.compile(r"^index-(\d+)\.html$")
_STATUS_CLASS = re.compile(r"[^a-z]")
_NOT_ID = re.compile(r"[^0-9A-Za-z_]")


@dataclass
class PageLink:
    number: int
    href: str
    current: bool


@dataclass
class Pager:
    number: int
    count: int
    links: list[PageLink]
    prev_href: str | None
    next_href: str | None


def page_name(number: int) -> str:
    """``index.html`` for page 1, ``index-N.html`` after."""
    return "index.html" if number == 1 else f"index-{number}.html"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("archiver", "templates"),
        autoescape=True,  # always: the template name does not end in .html
        undefined=StrictUndefined,
    )


def write_index(
    source: Store | Archive, config: Config, per_page: int = PER_PAGE, force: bool = False
) -> list[Path]:
    """Write the paginated index under ``config.embeds_root``; return every page's path.

    Pages left over from a larger archive (``index-7.html`` when there are now 6)
    are removed. Unchanged pages are not rewritten. Rendering every page costs time
    in proportion to the archive, so unless ``force`` is set, nothing is rendered
    when a fingerprint of what the index shows matches the one in ``index.html``.
    """
    store = source if isinstance(source, Store) else source.store
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    root = config.embeds_root
    total = q.count_indexed_posts(store.db)
    count = max(1, math.ceil(total / per_page))
    pages = [root / page_name(number) for number in range(1, count + 1)]
    marker = f"<!-- embed-archiver index {_fingerprint(store, root)} {per_page} -->\n"
    if not force and all(p.exists() for p in pages) and _has_marker(pages[0], marker):
        return pages
    generated = utc_now()[:10]
    template = _env().get_template("index.html.j2")
    written: list[Path] = []
    # Page 1 carries the marker that says the whole index is current: it is written
    # last, so a process killed halfway leaves a marker that does not match.
    for number in [*range(2, count + 1), 1]:
        path = root / page_name(number)
        page = q.indexed_posts_page(store.db, per_page, (number - 1) * per_page)
        html = template.render(
            rows=[_row(post, articles, path, config) for post, articles in page],
            page=_pager(number, count),
            total=total,
            generated=generated,
        )
        html = neutralize_template_syntax(html)
        if number == 1:
            head, _, tail = html.rpartition("</html>")
            html = f"{head}{marker}</html>{tail}" if head else html + marker
        write_if_changed(path, html.encode("utf-8"))
        written.append(path)
    _remove_stale_pages(root, count)
    return written[-1:] + written[:-1]  # in page order


def _fingerprint(store: Store, root: Path) -> str:
    """A hash of what the index shows, independent of where the archive lives on disk
    (article files count by their link from the index, not by absolute path)."""
    digest = hashlib.sha256()
    index = root / "index.html"
    for row in q.index_source_rows(store.db):
        if row[0] == "article" and row[-1]:
            row = (*row[:-1], relative_href(index, Path(row[-1])))
        digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _has_marker(path: Path, marker: str) -> bool:
    """Whether the page ends with ``marker`` (just before ``</html>``)."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 256))
        return marker.encode("utf-8") in handle.read()


def _pager(number: int, count: int) -> Pager:
    return Pager(
        number=number,
        count=count,
        links=[PageLink(n, page_name(n), n == number) for n in range(1, count + 1)],
        prev_href=page_name(number - 1) if number > 1 else None,
        next_href=page_name(number + 1) if number < count else None,
    )


def _row(
    post: dict[str, Any], articles: list[dict[str, Any]], page: Path, config: Config
) -> dict[str, Any]:
    text = (post["text"] or "").strip()
    excerpt = text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
    return {
        "key": post["key"],
        "anchor": "post-" + _NOT_ID.sub("", post["post_id"] or ""),
        "created_at": post["created_at"],
        "date": human_date(post["created_at"]) or post["created_at"],
        "author_name": post["author_name"],
        "author_handle": post["author_handle"],
        "excerpt": excerpt,
        "status": _STATUS_CLASS.sub("", (post["status"] or "unknown").lower()) or "unknown",
        "copy_href": relative_href(page, config.output.dir / post["local_path"]),
        "original_url": safe_http_url(post["url"]) if post["url"] else None,
        "articles": [_article_link(a, page) for a in articles],
    }


def _article_link(article: dict[str, Any], page: Path) -> dict[str, str | None]:
    """A relative link to the rewritten article, else its http(s) URL, else just its name."""
    href: str | None = None
    if article["output_path"]:
        href = relative_href(page, Path(article["output_path"]))
    elif article["url"]:
        href = safe_http_url(article["url"])
    return {"label": article["location"], "href": href}


def _remove_stale_pages(root: Path, count: int) -> None:
    if not root.is_dir():
        return
    for child in root.iterdir():
        match = _PAGE_NAME.match(child.name)
        if match and int(match.group(1)) > count and child.is_file():
            child.unlink()
