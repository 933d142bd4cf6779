"""The static archive index: ``OUTPUT/embeds/index.html``, ``index-2.html``, …

Every post with a local copy, newest first, as a stacked list of small cards (readable
on a phone): author, date, status label, the text with its language and direction, a
link to the local copy and links to the articles that embed it. One set of pages per
status (``status-deleted.html``, …) is the filter, so it works without script. Links
are relative, so the pages work from the file system and behind any static server;
every value is escaped by Jinja2's autoescape (post text comes from strangers).

The search box is the one script: ``search.js`` (a file of the package, copied next
to the pages) searches ``search-index.js``, every indexed post as JSON in one call
(``embedArchiverSearchIndex({...})``): a page opened from the file system may load a
script but not fetch() a JSON file. Nothing else loads; the embeds in articles stay
script-free. What a page and the search index show of each post is built in
``index_rows``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined

from archiver.clock import utc_now
from archiver.config import Config
from archiver.files import atomic_file, write_if_changed
from archiver.index_rows import STATUS_LABELS, _HrefsFrom, index_row, search_entry
from archiver.models import (
    STATUSES,
)
from archiver.render import isolate_mentions, neutralize_template_syntax
from archiver.render.template_cache import template_cache
from archiver.storage import ArchiveStorage


class _HasStore(Protocol):
    """An open archive (``archiver.Archive``), named by shape so this module stays below it."""

    @property
    def store(self) -> ArchiveStorage: ...


PER_PAGE = 100
SEARCH_SCRIPT = "search.js"
SEARCH_INDEX = "search-index.js"
_SEARCH_CHUNK = 500  # posts read from the database at a time for the search index
_PAGE_NAME = re.compile(r"^index-(\d+)\.html$")
_STATUS_PAGE = re.compile(r"^status-([a-z]+)(?:-(\d+))?\.html$")


@dataclass
class PageLink:
    number: int | None  # None: a gap in the numbers ("…")
    href: str
    current: bool


@dataclass
class Pager:
    number: int
    count: int
    links: list[PageLink]
    prev_href: str | None
    next_href: str | None


@dataclass
class Filter:
    """One entry of the status filter: a link to the pages of one status (or all)."""

    label: str
    count: int
    href: str
    current: bool
    status: str


def page_name(number: int, status: str | None = None) -> str:
    """``index.html`` for page 1, ``index-N.html`` after; ``status-deleted[-N].html``
    for the pages of one status (only ever one of ``STATUSES``)."""
    if status is not None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        return f"status-{status}.html" if number == 1 else f"status-{status}-{number}.html"
    return "index.html" if number == 1 else f"index-{number}.html"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("archiver", "templates"),
        autoescape=True,  # always: the template name does not end in .html
        undefined=StrictUndefined,
        auto_reload=False,  # templates ship with the package
        bytecode_cache=template_cache(__name__),  # compiled once, not per process
    )
    env.filters["isolate_mentions"] = isolate_mentions
    return env


def write_index(
    source: ArchiveStorage | _HasStore,
    config: Config,
    per_page: int = PER_PAGE,
    force: bool = False,
) -> list[Path]:
    """Write the paginated index under ``config.embeds_root``; return every page's path.

    ``index.html`` (then ``index-2.html``, …) lists every post; ``status-deleted.html``
    and the like list the posts of one status, so a reader can filter without script.
    Pages left over from a larger archive are removed. Unchanged pages are not
    rewritten. Rendering every page costs time in proportion to the archive, so unless
    ``force`` is set, nothing is rendered when a fingerprint of what the index shows
    matches the one in ``index.html``.
    """
    store = source if isinstance(source, ArchiveStorage) else source.store
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    root = config.embeds_root
    total = store.count_indexed_posts()
    counts = {s: n for s, n in store.indexed_status_counts().items() if s in STATUSES}
    groups: list[tuple[str | None, int]] = [(None, total)]
    groups += [(s, counts[s]) for s in STATUS_LABELS if counts.get(s)]
    expected = [
        root / page_name(number, status)
        for status, n in groups
        for number in range(1, _page_count(n, per_page) + 1)
    ]
    marker = (
        f"<!-- embed-archiver index {_fingerprint(store, root)} {per_page} "
        f"{_template_digest()} -->\n"
    )
    search_files = [root / SEARCH_SCRIPT, root / SEARCH_INDEX]
    if (
        not force
        and all(p.exists() for p in [*expected, *search_files])
        and _has_marker(expected[0], marker)
    ):
        return expected
    state = _digests_path(store)
    before = {} if force else _load_digests(state)
    pages = _IndexPages(root, groups, total, per_page, marker, before)
    hrefs = _HrefsFrom(expected[0])  # every page is in the same folder: the same links
    # One sorted stream of every post makes the pages of all posts, the search index
    # and the pages of each status (a status page lists the same rows, in the same
    # order, filtered): each post's row is built once, and memory holds one page per
    # status at a time.
    with atomic_file(root / SEARCH_INDEX) as handle:
        search = _SearchIndex(handle)
        for page in store.iter_indexed_posts(per_page):
            rows = [index_row(p, a, expected[0], config.output.dir, hrefs) for p, a in page]
            search.add(rows, page)
            pages.add(rows, [post["status"] for post, _ in page])
        search.close()
    pages.finish()
    # Before the page whose marker says the index is current (see above).
    _write_search_script(root)
    _save_digests(state, pages.after)
    write_if_changed(expected[0], pages.first_html.encode("utf-8"))
    _remove_stale_pages(root, set(pages.written))
    return expected


class _IndexPages:
    """The pages of the index being written, each group's pages in order.

    Rows of every post arrive a page at a time (``add``); each status's rows wait in a
    page of their own until it is full. A page whose digest (what it shows) and file
    are those recorded is not rendered again. The first page, with the marker that
    says the whole index is current, is kept to be written last (``first_html``).
    """

    def __init__(
        self,
        root: Path,
        groups: list[tuple[str | None, int]],
        total: int,
        per_page: int,
        marker: str,
        before: dict[str, str],
    ) -> None:
        self.root, self.groups, self.total, self.per_page = root, groups, total, per_page
        self.marker, self.before = marker, before
        self.generated = utc_now()[:10]
        self.counts = dict(groups)
        self.made = {status: 0 for status, _ in groups}
        self.waiting: dict[str | None, list[dict[str, Any]]] = {s: [] for s, _ in groups[1:]}
        self.after: dict[str, str] = {}
        self.written: list[Path] = [root / page_name(1)]
        self.first_html = ""

    def add(self, rows: list[dict[str, Any]], statuses: list[str | None]) -> None:
        """One page of every post (``rows``, of posts with the stored ``statuses``)."""
        self._page(None, rows)
        for row, status in zip(rows, statuses, strict=True):
            waiting = self.waiting.get(status)
            if waiting is None:
                continue
            waiting.append(row)
            if len(waiting) == self.per_page:
                self._page(status, waiting)
                self.waiting[status] = []

    def finish(self) -> None:
        """The last page of each status, and the empty pages a group may still lack."""
        for status, waiting in self.waiting.items():
            if waiting:
                self._page(status, waiting)
        for status, n in self.groups:
            while self.made[status] < _page_count(n, self.per_page):
                self._page(status, [])

    def _page(self, status: str | None, rows: list[dict[str, Any]]) -> None:
        n = self.counts[status]
        count = _page_count(n, self.per_page)
        if self.made[status] >= count:
            return  # more posts than counted: the pages stop where the count says
        self.made[status] += 1
        number = self.made[status]
        path = self.root / page_name(number, status)
        pager = _pager(number, count, status)
        filters = _filters(self.groups, self.total, status)
        digest = _page_digest(rows, pager, n, self.generated, filters, status)
        known = self.before.get(str(path), "")
        first = number == 1 and status is None
        if not first and known.startswith(digest) and _unchanged(path, known):
            # What this page shows has not changed, and the file is the one written
            # for it: only affected pages are rendered.
            self.after[str(path)] = known
            self.written.append(path)
            return
        html = render_index_page(rows, pager, n, self.generated, filters, status)
        if first:
            # The first page carries the marker that says the whole index is current:
            # it is written last, so a process killed halfway leaves a marker that does
            # not match.
            head, _, tail = html.rpartition("</html>")
            self.first_html = f"{head}{self.marker}</html>{tail}" if head else html + self.marker
            return
        data = html.encode("utf-8")
        write_if_changed(path, data)
        self.after[str(path)] = f"{digest} {hashlib.sha256(data).hexdigest()}"
        self.written.append(path)


def _digests_path(store: ArchiveStorage) -> Path:
    """Where the digests of the index pages are kept (each with the sha256 of the file
    written for it): next to the archive, not in the output (nothing a web server
    would publish)."""
    return store.path.with_name(store.path.name + ".index-pages.json")


def _unchanged(path: Path, known: str) -> bool:
    """Whether the page's file holds exactly the bytes recorded with its digest
    (``"DIGEST SHA256"``): a file restored from a backup, edited or copied from
    another archive is rendered again, not trusted."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return known.endswith(" " + hashlib.sha256(data).hexdigest())


def _page_digest(
    rows: list[dict[str, Any]],
    pager: Pager,
    total: int,
    generated: str,
    filters: list[Filter],
    status: str | None,
) -> str:
    """A hash of everything one index page shows, and of the template that shows it."""
    shown = [rows, asdict(pager), total, generated, [asdict(f) for f in filters], status]
    shown.append(_template_digest())
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _template_digest() -> str:
    """The index template's own hash: pages written by a release whose template differs
    (another pager, say) are rendered again after an upgrade, though no post changed."""
    source = files("archiver").joinpath("templates", "index.html.j2").read_bytes()
    return hashlib.sha256(source).hexdigest()[:16]


def _load_digests(path: Path) -> dict[str, str]:
    """The page digests of the last index written; empty (render everything) if absent
    or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _save_digests(path: Path, digests: dict[str, str]) -> None:
    """Written after every page and before the first one (with the marker): a pass killed
    before this leaves the old digests, so the pages it wrote are rendered again."""
    with atomic_file(path) as handle:
        handle.write(json.dumps(digests, sort_keys=True).encode("utf-8"))


def write_search_files(store: ArchiveStorage, config: Config) -> None:
    """Write ``search.js`` and ``search-index.js`` next to the index pages.

    The index is streamed from the database in chunks into an atomic file, so memory
    stays flat however large the archive is. (``write_index`` writes both itself, from
    the rows of its pages.)
    """
    root = config.embeds_root
    _write_search_script(root)
    page = root / "index.html"
    hrefs = _HrefsFrom(page)
    with atomic_file(root / SEARCH_INDEX) as handle:
        search = _SearchIndex(handle)
        for chunk in store.iter_indexed_posts(_SEARCH_CHUNK):
            search.add([index_row(p, a, page, config.output.dir, hrefs) for p, a in chunk], chunk)
        search.close()


def _write_search_script(root: Path) -> None:
    script = files("archiver").joinpath("templates", SEARCH_SCRIPT).read_bytes()
    write_if_changed(root / SEARCH_SCRIPT, script)


class _SearchIndex:
    """``search-index.js`` being written: one JSON entry per post, in the pages' order."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.first = True
        handle.write(b'embedArchiverSearchIndex({"posts": [\n')

    def add(self, rows: list[dict[str, Any]], posts: list[tuple[dict[str, Any], Any]]) -> None:
        """The entries of ``rows`` (``index_row`` of each of ``posts``, in order)."""
        for row, (post, _) in zip(rows, posts, strict=True):
            self.handle.write(b"" if self.first else b",\n")
            entry = search_entry(row, post)
            self.handle.write(json.dumps(entry, ensure_ascii=False).encode("utf-8"))
            self.first = False

    def close(self) -> None:
        """End the script (the file itself is committed by its ``atomic_file``)."""
        self.handle.write(b"\n]});\n")


def render_index_page(
    rows: list[dict[str, Any]],
    pager: Pager,
    total: int,
    generated: str,
    filters: list[Filter],
    status: str | None = None,
) -> str:
    """One index page (rows as built by ``index_row``), script-free and escaped."""
    html = (
        _env()
        .get_template("index.html.j2")
        .render(
            rows=rows,
            page=pager,
            total=total,
            generated=generated,
            filters=filters,
            status_label=STATUS_LABELS.get(status or ""),
        )
    )
    return neutralize_template_syntax(html)


def _page_count(n: int, per_page: int) -> int:
    return max(1, math.ceil(n / per_page))


def _filters(groups: list[tuple[str | None, int]], total: int, current: str | None) -> list[Filter]:
    out = [Filter("All", total, page_name(1), current is None, "all")]
    for status, n in groups[1:]:
        assert status is not None
        out.append(
            Filter(STATUS_LABELS[status], n, page_name(1, status), current == status, status)
        )
    return out


def _fingerprint(store: ArchiveStorage, root: Path) -> str:
    """A hash of what the index shows, independent of where the archive lives on disk
    (article files count by their link from the index, not by absolute path)."""
    digest = hashlib.sha256()
    index = root / "index.html"
    hrefs = _HrefsFrom(index)
    for row in store.index_source_rows():
        if row[0] == "article" and row[-1]:
            row = (*row[:-1], hrefs.href(row[-1]))
        digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _has_marker(path: Path, marker: str) -> bool:
    """Whether the page ends with ``marker`` (just before ``</html>``)."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 256))
        return marker.encode("utf-8") in handle.read()


# Page numbers linked on each side of the current one (and the first and last page).
_PAGER_WINDOW = 2


def _pager(number: int, count: int, status: str | None = None) -> Pager:
    """The page links of page ``number``: the first, the last and a window around it.

    Every page linking every other one made the index quadratic in the archive (at
    100,000 posts, 1,001 links on each of 2,002 pages, rendered again on each update).
    """
    shown = {1, count, *range(number - _PAGER_WINDOW, number + _PAGER_WINDOW + 1)}
    links: list[PageLink] = []
    previous = 0
    for n in sorted(k for k in shown if 1 <= k <= count):
        if n > previous + 1:
            links.append(PageLink(None, "", False))
        links.append(PageLink(n, page_name(n, status), n == number))
        previous = n
    return Pager(
        number=number,
        count=count,
        links=links,
        prev_href=page_name(number - 1, status) if number > 1 else None,
        next_href=page_name(number + 1, status) if number < count else None,
    )


def _remove_stale_pages(root: Path, keep: set[Path]) -> None:
    """Delete index and status pages of ours that this pass did not write."""
    if not root.is_dir():
        return
    for child in root.iterdir():
        ours = _PAGE_NAME.match(child.name) or _STATUS_PAGE.match(child.name)
        if ours and child not in keep and child.is_file():
            child.unlink()
