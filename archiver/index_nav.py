"""How the pages of the static archive index are named and linked (see ``index_page``).

Each group (all posts, or the posts of one status) has a front page (``index.html``,
``status-deleted.html``, …): its newest posts, its counts and its periods. Below it the
posts of each period fill pages numbered from the period's oldest post:
``index-2024-05-1.html`` holds May's first hundred, ``index-2024-05-2.html`` the next.
A new post therefore changes the pages of its own period only, and an older period's
pages keep their names and their bytes however the archive grows. Readers see the
numbers the other way round: page 1 is a period's newest page.

A period is a month, or a whole year when all of that year's posts fit on one page:
a sparse archive (a few posts a month) would otherwise be mostly pages of one post.

The index's own files are kept here too: the digests of the pages last written, and the
removal of pages that no longer belong to it.
"""

from __future__ import annotations

import calendar
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from archiver.index_rows import STATUS_LABELS
from archiver.models import STATUSES
from archiver.storage import ArchiveStorage

UNDATED = "undated"  # the period of posts without a usable date: pages listed last
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_PERIOD = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")
# Every file name the index writes: only these are removed when they fall out of use.
_OURS = re.compile(
    r"^(?:index|status-[a-z]+)(?:-(?:[0-9]{4}(?:-[0-9]{2})?|undated))?(?:-[0-9]+)?\.html$"
    r"|^search-(?:[0-9]{4}(?:-[0-9]{2})?|undated)-[0-9]+\.js$"
)


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap in the numbers ("…")
    href: str
    current: bool


@dataclass(frozen=True)
class Pager:
    """The pages of one month of one group; ``number`` counts from the newest page."""

    number: int
    count: int
    links: list[PageLink]
    prev_href: str | None  # newer posts
    next_href: str | None  # older posts


@dataclass(frozen=True)
class Filter:
    """One entry of the status filter: a link to the front page of one status (or all)."""

    label: str
    count: int
    href: str
    current: bool
    status: str


@dataclass(frozen=True)
class PeriodLink:
    """A period in a front page's list: its label, how many posts, its newest page."""

    label: str
    count: int
    href: str


def month_of(created_at: str | None) -> str:
    """The month whose pages list a post (``"2024-05"``), or ``UNDATED``: checked, as
    it becomes part of a file name."""
    prefix = (created_at or "")[:7]
    return prefix if _MONTH.match(prefix) else UNDATED


def periods(months: dict[str, int], per_page: int) -> dict[str, str]:
    """The period of each month (``"2024-05"``, or ``"2013"`` when that year's posts,
    ``months`` counting them, fit on one page); ``UNDATED`` stays itself."""
    years: dict[str, int] = {}
    for month, n in months.items():
        if month != UNDATED:
            years[month[:4]] = years.get(month[:4], 0) + n
    return {
        month: month if month == UNDATED or years[month[:4]] > per_page else month[:4]
        for month in months
    }


def period_label(period: str) -> str:
    """``"May 2024"`` for ``"2024-05"``, ``"2013"`` for a whole year."""
    if period == UNDATED:
        return "Date unknown"
    if len(period) == 4:
        return period
    return f"{calendar.month_name[int(period[5:])]} {period[:4]}"


def period_order(period: str) -> tuple[bool, str]:
    """Sort key that puts periods newest first when reversed, and undated posts last."""
    return (period != UNDATED, period)


def front_name(status: str | None = None) -> str:
    """``index.html``, or ``status-deleted.html`` for one of ``STATUSES``."""
    if status is None:
        return "index.html"
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return f"status-{status}.html"


def page_name(status: str | None, period: str, number: int) -> str:
    """The ``number``-th page (from the period's oldest post) of a period of a group."""
    if period != UNDATED and not _PERIOD.match(period):
        raise ValueError(f"not a month or a year: {period!r}")
    return front_name(status).replace(".html", f"-{period}-{number}.html")


_PAGE_NAME = re.compile(
    r"^(?:index|status-([a-z]+))-([0-9]{4}(?:-(?:0[1-9]|1[0-2]))?|undated)-([1-9][0-9]*)\.html$"
)


def parse_page_name(name: str) -> tuple[str | None, str, int] | None:
    """The status, period and number ``page_name`` made ``name`` of; None for any other
    name (a front page, a search file, another release's name)."""
    found = _PAGE_NAME.match(name)
    if found is None:
        return None
    return found[1], found[2], int(found[3])


def search_chunk_name(period: str, number: int) -> str:
    """A file of the search index: the posts of some pages of one period."""
    return page_name(None, period, number).replace("index-", "search-").replace(".html", ".js")


def page_count(n: int, per_page: int) -> int:
    return max(1, math.ceil(n / per_page))


# Page numbers linked on each side of the current one (and the first and last page).
_PAGER_WINDOW = 2


def pager(status: str | None, period: str, stored: int, count: int) -> Pager:
    """The page links of the ``stored``-th page of a period (of ``count``): the newest
    and the oldest, and a window around it. A page links a window, not every page,
    so that a large period does not make its pages quadratic in size."""

    def href(shown: int) -> str:
        return page_name(status, period, count - shown + 1)

    number = count - stored + 1
    shown = {1, count, *range(number - _PAGER_WINDOW, number + _PAGER_WINDOW + 1)}
    links: list[PageLink] = []
    previous = 0
    for n in sorted(k for k in shown if 1 <= k <= count):
        if n > previous + 1:
            links.append(PageLink(None, "", False))
        links.append(PageLink(n, href(n), n == number))
        previous = n
    return Pager(
        number=number,
        count=count,
        links=links,
        prev_href=href(number - 1) if number > 1 else None,
        next_href=href(number + 1) if number < count else None,
    )


def filters(counts: dict[str | None, int], current: str | None) -> list[Filter]:
    """The status filter of a front page: all posts, then each status present."""
    out = [Filter("All", counts.get(None, 0), front_name(), current is None, "all")]
    for status, label in STATUS_LABELS.items():
        if counts.get(status):
            out.append(Filter(label, counts[status], front_name(status), current == status, status))
    return out


def period_links(periods: dict[str, int], status: str | None, per_page: int) -> list[PeriodLink]:
    """A group's periods, newest first (undated last), each linked to its newest page."""
    out = []
    for period in sorted(periods, key=period_order, reverse=True):
        n = periods[period]
        href = page_name(status, period, page_count(n, per_page))
        out.append(PeriodLink(period_label(period), n, href))
    return out


def remove_stale_files(root: Path, keep: Callable[[str], bool]) -> None:
    """Delete the index's pages and search files that this pass did not write, those
    ``keep`` refuses (and those of earlier releases' names, such as ``index-2.html``)."""
    if not root.is_dir():
        return
    # Names, not a Path per file: the folder holds thousands of pages at 100,000 posts.
    with os.scandir(root) as children:
        for child in children:
            if _OURS.match(child.name) and not keep(child.name) and child.is_file():
                os.unlink(child.path)


# The files the index keeps between writes.


def stat_signature(path: Path) -> str:
    """A file's size and time: what the index trusts its page to be unchanged by."""
    try:
        stat = os.stat(path)
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


class PageRecords:
    """What the last write recorded of each page (its digest and its file's signature),
    read a page at a time and written in chunks: two dicts of every page, loaded and
    saved whole, made each write's memory grow with the archive. ``force``: nothing is
    known, every page is rendered."""

    CHUNK = 256

    def __init__(self, store: ArchiveStorage, force: bool) -> None:
        self.store, self.force = store, force
        self.pending: list[tuple[str, str]] = []

    def known(self, name: str) -> str | None:
        return None if self.force else self.store.index_page_record(name)

    def put(self, name: str, record: str) -> None:
        self.pending.append((name, record))
        if len(self.pending) >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        self.store.record_index_pages(self.pending)
        self.pending = []


def legacy_records_path(archive: Path) -> Path:
    """Where releases before schema 15 kept the records, in a JSON file next to the
    archive: removed by the first write that has them in the archive."""
    return archive.with_name(archive.name + ".index-pages.json")
