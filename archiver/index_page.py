"""The static archive index: ``OUTPUT/embeds/index.html`` and the pages below it.

Every post with a local copy, as a stacked list of small cards (readable on a phone):
author, date, status label, the text with its language and direction, a link to the
local copy and links to the articles that embed it. The front page shows the newest
posts, the counts and the periods (months, or whole years where a year's posts fit
on one page); each period has pages of its own, and each status its own front page
and periods (``status-deleted.html``, …), so the filter works without script. How
the pages are named and linked is ``index_nav``'s business: a period's pages are
numbered from its oldest post, so a new post changes the pages of its period, not
every page. Links are relative, so the pages work from the file system
and behind any static server; every value is escaped by Jinja2's autoescape (post
text comes from strangers).

The search box is the one script: ``search.js`` (a file of the package, copied next
to the pages) loads ``search-index.js``, the list of the search index's files, and
then those files (``search-2024-05-1.js``, …): each holds the posts of ten pages of a
period as JSON in one call, because a page opened from the file system may load a
script but not fetch() a JSON file. Nothing else loads; the embeds in articles stay
script-free. What a page and the search index show of each post is built in
``index_rows``.
"""

from __future__ import annotations

import collections
import hashlib
import json
from dataclasses import asdict
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined

from archiver.clock import utc_now
from archiver.config import Config
from archiver.files import write_if_changed
from archiver.heap import release_freed_memory
from archiver.index_nav import (
    UNDATED,
    Filter,
    Pager,
    PageRecords,
    PeriodLink,
    filters,
    front_name,
    legacy_records_path,
    month_of,
    page_count,
    page_name,
    pager,
    parse_page_name,
    period_label,
    period_links,
    periods,
    remove_stale_files,
    search_chunk_name,
    stat_signature,
)
from archiver.index_rows import STATUS_LABELS, _HrefsFrom, index_row, search_entry
from archiver.models import STATUSES
from archiver.render import isolate_mentions, neutralize_template_syntax
from archiver.render.template_cache import template_cache
from archiver.storage import ArchiveStorage, IndexedPost


class _HasStore(Protocol):
    """An open archive (``archiver.Archive``), named by shape so this module stays below it."""

    @property
    def store(self) -> ArchiveStorage: ...


PER_PAGE = 100
SEARCH_SCRIPT = "search.js"
SEARCH_INDEX = "search-index.js"
SEARCH_PAGES = 10  # pages of a period whose posts share one file of the search index
# Articles listed under a post; the rest are counted and found on its archived copy. A
# post embedded in thousands of articles would otherwise make a page (and the walk's
# memory) as long as that list.
ARTICLES_LISTED = 10
Group = str | None  # a status, or None for all posts


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
    """Write the index under ``config.embeds_root``; return every page's path, the
    front page (``index.html``) first.

    One walk over the archive, oldest post first, hashes what each page would show; a
    page whose hash and file are those recorded by the last write is not rendered
    again (``force`` renders every page). Pages and search files that no longer belong
    to the index are removed.
    """
    root = config.embeds_root
    return [root / name for name in _write(source, config, per_page, force).names()]


def write_index_pages(
    source: ArchiveStorage | _HasStore, config: Config, per_page: int = PER_PAGE
) -> None:
    """``write_index`` without listing its pages: a run writes the index after every
    pass, and needs no name for each of them (3,700 at 175,000 posts)."""
    _write(source, config, per_page, force=False)


def _write(source: ArchiveStorage | _HasStore, config: Config, per_page: int, force: bool) -> _Walk:
    """The walk that wrote the index; what it recorded of each file is in the archive
    (``PageRecords``), and the files and records it did not make are removed."""
    store = source if isinstance(source, ArchiveStorage) else source.store
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    root = config.embeds_root
    months = _month_counts(store)
    period_of = periods({m: n for (g, m), n in months.items() if g is None}, per_page)
    counts: dict[tuple[Group, str], int] = collections.Counter()
    for (group, month), n in months.items():
        counts[(group, period_of[month])] += n
    records = PageRecords(store, force)
    walk = _Walk(root, config.output.dir, counts, period_of, per_page, records)
    for batch in store.iter_indexed_posts(per_page, ARTICLES_LISTED):
        walk.add(batch)
    walk.finish()
    _write_search_script(root)
    # After the files it lists: a reader never loads a name that is not there yet.
    write_if_changed(root / SEARCH_INDEX, walk.search.manifest())
    for group in _groups(counts):
        walk.front(group)
    records.flush()
    remove_stale_files(root, walk.kept)
    store.forget_index_pages([n for n in store.index_page_names() if not walk.kept(n)])
    legacy_records_path(store.path).unlink(missing_ok=True)
    return walk


def _month_counts(store: ArchiveStorage) -> dict[tuple[Group, str], int]:
    """How many posts each month of each group holds (a status outside ``STATUSES``
    is counted in all posts only, as the walk does)."""
    counts: dict[tuple[Group, str], int] = collections.Counter()
    for prefix, status, n in store.indexed_month_counts():
        month = month_of(prefix)
        counts[(None, month)] += n
        if status in STATUSES:
            counts[(status, month)] += n
    return counts


def _groups(counts: dict[tuple[Group, str], int]) -> list[Group]:
    """All posts, then each status present, in the filter's order."""
    present = {group for group, _ in counts}
    return [None, *(s for s in STATUS_LABELS if s in present)]


class _Entry:
    """One post on its way through the walk: what pages hash, and its row once built."""

    __slots__ = ("articles", "more", "post", "row", "shown")

    def __init__(self, indexed: IndexedPost) -> None:
        self.post, self.articles = indexed.post, indexed.articles
        self.more = indexed.article_count - len(self.articles)  # embedding it, not listed
        # The stored values: a link is made from the output path alone (every page is in
        # the same folder), so an archive moved as a whole is rendered once more, to the
        # same bytes. repr() escapes what UTF-8 cannot encode (a lone surrogate in a
        # stored name) and is twice as fast as JSON here.
        # (The storage layer gives exactly the columns the index shows.)
        links = [(a["location"], a["url"], a["output_path"]) for a in self.articles]
        self.shown = repr((list(self.post.values()), links, self.more))
        self.row: dict[str, Any] | None = None


class _Walk:
    """The pages of the index, filled from one walk over the posts, oldest first.

    Each group's posts of the period being walked wait in a page of their own until it
    is full or the period ends (undated posts wait until the walk ends). A page whose
    digest (what it shows) and file are those recorded is not rendered again.
    """

    def __init__(
        self,
        root: Path,
        out_dir: Path,
        counts: dict[tuple[Group, str], int],
        period_of: dict[str, str],
        per_page: int,
        records: PageRecords,
    ) -> None:
        self.root, self.out_dir, self.counts, self.per_page = root, out_dir, counts, per_page
        self.period_of = period_of  # each month's period: the month, or its year
        self.records = records
        self.hrefs = _HrefsFrom(root / front_name())
        self.context = [_template_digest(), per_page, self.hrefs.href(str(out_dir / "_"))]
        self.walking: str | None = None  # the period being walked
        self.waiting: dict[tuple[Group, str], list[_Entry]] = {}
        self.made: collections.Counter[tuple[Group, str]] = collections.Counter()
        self.newest: dict[Group, collections.deque[_Entry]] = {}
        self.fronts: list[str] = []
        self.search = _SearchFiles(self)

    def add(self, batch: list[IndexedPost]) -> None:
        """The next posts of the walk, with their live articles."""
        for indexed in batch:
            post = indexed.post
            period = self.period_of.get(month_of(post["created_at"]), UNDATED)
            if period != UNDATED and period != self.walking:
                if self.walking is not None:
                    self._close(self.walking)
                self.walking = period
            entry = _Entry(indexed)
            status = post["status"]
            for group in (None, status) if status in STATUSES else (None,):
                self._wait(group, period, entry)

    def _wait(self, group: Group, period: str, entry: _Entry) -> None:
        newest = self.newest.get(group)
        if newest is None:
            newest = self.newest[group] = collections.deque(maxlen=self.per_page)
        newest.append(entry)
        waiting = self.waiting.get((group, period))
        if waiting is None:
            waiting = self.waiting[(group, period)] = []
        waiting.append(entry)
        if len(waiting) == self.per_page:
            self._page(group, period, waiting)
            self.waiting[(group, period)] = []

    def _close(self, period: str) -> None:
        """The last page of each group in ``period``, and its search file."""
        for (group, waiting_month), waiting in list(self.waiting.items()):
            if waiting_month == period:
                if waiting:
                    self._page(group, period, waiting)
                del self.waiting[(group, period)]
        self.search.close(period)

    def finish(self) -> None:
        """Close the last period and the undated posts."""
        if self.walking is not None:
            self._close(self.walking)
        self._close(UNDATED)

    def _page(self, group: Group, period: str, entries: list[_Entry]) -> None:
        self.made[(group, period)] += 1
        number = self.made[(group, period)]
        count = max(page_count(self.counts.get((group, period), 0), self.per_page), number)
        name = page_name(group, period, number)
        digest = _digest([*self.context, group, period, number, count], entries)
        if group is None:
            self.search.add(period, number, digest, entries)
        if self.current(name, digest):
            return
        html = render_index_page(
            [self.row(e) for e in reversed(entries)],  # newest first
            total=self.counts.get((group, period), len(entries)),
            status=group,
            page=pager(group, period, number, count),
            period=period,
        )
        self.write(name, digest, html)

    def front(self, group: Group) -> str:
        """Write the front page of ``group`` (its newest posts, counts, filter and
        periods); return its name."""
        totals: dict[Group, int] = collections.Counter()
        in_group: dict[str, int] = {}
        for (g, period), n in self.counts.items():
            totals[g] += n
            if g == group:
                in_group[period] = n
        entries = list(reversed(self.newest.get(group, ())))  # newest first
        shown_filters = filters(totals, group)
        shown_periods = period_links(in_group, group, self.per_page)
        generated = utc_now()[:10]
        name = front_name(group)
        self.fronts.append(name)
        listed = [[asdict(f) for f in shown_filters], [asdict(p) for p in shown_periods]]
        digest = _digest([*self.context, group, listed, generated], entries)
        if not self.current(name, digest):
            html = render_index_page(
                [self.row(e) for e in entries],
                total=totals[group],
                status=group,
                generated=generated,
                filters=shown_filters,
                periods=shown_periods,
            )
            self.write(name, digest, html)
        return name

    def row(self, entry: _Entry) -> dict[str, Any]:
        """What the pages show of a post (built once however many pages show it)."""
        if entry.row is None:
            page = self.hrefs.page  # the front page: every page is in the same folder
            entry.row = index_row(
                entry.post, entry.articles, page, self.out_dir, self.hrefs, more=entry.more
            )
        return entry.row

    def current(self, name: str, digest: str) -> bool:
        """Whether the file ``name`` holds what ``digest`` describes, as last written:
        a file edited, or restored from an older backup, has another size or time and
        is written again, not trusted. (A copy of the whole tree that keeps the times,
        such as ``cp -a`` or ``rsync -a``, is trusted: it holds the same bytes.)"""
        return self.records.known(name) == f"{digest} {stat_signature(self.root / name)}"

    def write(self, name: str, digest: str, text: str) -> None:
        """Write the file ``name`` (if its bytes changed) and record it with ``digest``:
        after the file, so a write killed between the two leaves a record that no
        longer matches the file, and the next write renders it again."""
        path = self.root / name
        write_if_changed(path, text.encode("utf-8"))
        self.records.put(name, f"{digest} {stat_signature(path)}")

    def names(self) -> list[str]:
        """The pages this walk made, front pages first."""
        made = self.made.items()
        return self.fronts + [page_name(g, p, n) for (g, p), m in made for n in range(1, m + 1)]

    def kept(self, name: str) -> bool:
        """Whether ``name`` is a file of the index this walk made: a page of a group's
        period it made, a front page or a search file (read from its counts, not from a
        set of every name)."""
        parsed = parse_page_name(name)
        if parsed is not None:
            group, period, number = parsed
            return number <= self.made.get((group, period), 0)
        return name in self.fronts or name in self.search.names or name == SEARCH_INDEX


class _SearchFiles:
    """The search index's files, each the posts of ``SEARCH_PAGES`` pages of a period
    (of all posts), rewritten only when one of those pages changed."""

    def __init__(self, walk: _Walk) -> None:
        self.walk = walk
        self.open: dict[str, tuple[int, list[tuple[str, list[_Entry]]]]] = {}
        self.names: set[str] = set()
        self.listed: list[tuple[str, int]] = []

    def add(self, period: str, page: int, digest: str, entries: list[_Entry]) -> None:
        """A page of all posts (its digest and posts) joins its period's open file."""
        number = (page - 1) // SEARCH_PAGES + 1
        current = self.open.get(period)
        if current is not None and current[0] != number:
            self.close(period)
        self.open.setdefault(period, (number, []))[1].append((digest, entries))

    def close(self, period: str) -> None:
        """Write the open file of ``period`` if its pages changed."""
        if period not in self.open:
            return
        number, pages = self.open.pop(period)
        name = search_chunk_name(period, number)
        self.names.add(name)
        self.listed.append((period, number))
        digest = hashlib.sha256(" ".join(d for d, _ in pages).encode("ascii")).hexdigest()
        if self.walk.current(name, digest):
            return
        posts = [e for _, entries in reversed(pages) for e in reversed(entries)]
        body = [search_entry(self.walk.row(e), e.post) for e in posts]
        data = json.dumps({"posts": body}, ensure_ascii=False)
        self.walk.write(name, digest, f"embedArchiverSearchChunk({data});\n")
        # After the walk's biggest blocks, freed first (at most once a second).
        del body, data
        release_freed_memory()

    def manifest(self) -> bytes:
        """``search-index.js``: the files, newest posts first (undated last)."""
        order = sorted(self.listed, key=lambda mn: (mn[0] != UNDATED, mn[0], mn[1]), reverse=True)
        names = [search_chunk_name(period, number) for period, number in order]
        return f"embedArchiverSearchIndex({json.dumps({'files': names})});\n".encode()


def _digest(context: list[Any], entries: list[_Entry]) -> str:
    """A hash of what a page shows: its place and links (``context``) and its posts."""
    digest = hashlib.sha256(json.dumps(context).encode("ascii"))
    for entry in entries:
        digest.update(b"\n")
        digest.update(entry.shown.encode("utf-8"))
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _template_digest() -> str:
    """The templates' own hash: pages written by a release whose template differs
    (another pager, say) are rendered again after an upgrade, though no post changed."""
    digest = hashlib.sha256()
    for name in ("index.html.j2", SEARCH_SCRIPT):
        digest.update(files("archiver").joinpath("templates", name).read_bytes())
    return digest.hexdigest()[:16]


def _write_search_script(root: Path) -> None:
    script = files("archiver").joinpath("templates", SEARCH_SCRIPT).read_bytes()
    write_if_changed(root / SEARCH_SCRIPT, script)


def render_index_page(
    rows: list[dict[str, Any]],
    total: int,
    status: str | None = None,
    *,
    page: Pager | None = None,
    period: str | None = None,
    generated: str = "",
    filters: list[Filter] | None = None,
    periods: list[PeriodLink] | None = None,
) -> str:
    """One index page (rows as built by ``index_row``), script-free and escaped: a
    front page (``generated``, ``filters``, ``periods``) or a page of one ``period``."""
    html = (
        _env()
        .get_template("index.html.j2")
        .render(
            rows=rows,
            page=page,
            total=total,
            generated=generated,
            filters=filters or [],
            periods=periods or [],
            period_label=period_label(period) if period else None,
            home_href=front_name(status),
            status_label=STATUS_LABELS.get(status or ""),
        )
    )
    return neutralize_template_syntax(html)


__all__ = ["PER_PAGE", "SEARCH_INDEX", "SEARCH_SCRIPT", "render_index_page", "write_index"]
