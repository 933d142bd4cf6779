"""Which posts a query selects, and in what order: ``PostFilter`` turned into SQL.

Dates given by people (``2024-05-01``, ISO 8601) become bounds in the archive's
timestamp format, so string comparison in SQL orders them as times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from archiver.clock import iso_ms
from archiver.errors import QueryError as QueryError
from archiver.models import GONE_STATUSES

ORDERS = ("created", "archived", "author")

# "The article ``a`` is live", where embeds of given posts drive the query. The unary +
# keeps SQLite from answering it with the index on removed_at (migration 9): without
# statistics the planner takes "IS NULL" for a selective equality, starts from every live
# article and looks up its embeds, 64 ms a call at 100,000 articles against 1 ms from
# the posts' embeds (the static index made that call once per page).
LIVE_ARTICLE = "+a.removed_at IS NULL"

# SQL for each --order choice. ``key`` breaks ties so pages are stable.
_ORDER_SQL = {
    "created": "p.created_at IS NULL, p.created_at {dir}, p.key {dir}",
    # "Archived" is when the post entered the archive (first_seen_at); archived_at is the
    # capture time of its current content, which a Wayback copy can put years back.
    "archived": "p.first_seen_at {dir}, p.key {dir}",
    "author": "p.author_handle IS NULL, lower(p.author_handle) {dir}, p.created_at {dir}, p.key",
}


@dataclass
@dataclass
class PostFilter:
    """Which posts to list, search or export, and in what order.

    Dates are ISO 8601 (``2024-05-01`` or ``2024-05-01T12:00:00Z``); a bare date as an
    upper bound includes that whole day. Naive times are taken as UTC.
    """

    author: str | None = None  # handle, with or without '@', case-insensitive
    since: str | None = None  # on created_at, inclusive
    until: str | None = None  # on created_at, inclusive
    archived_since: str | None = None  # on first_seen_at (entered the archive), inclusive
    archived_until: str | None = None
    statuses: tuple[str, ...] = ()  # any of these; "gone" means every gone status
    platform: str | None = None
    article_id: int | None = None  # only posts embedded in this article
    limit: int | None = None
    offset: int = 0
    order: str = "created"
    desc: bool = False


# -- dates -------------------------------------------------------------------------


def _parse_moment(value: str | date | datetime) -> tuple[datetime, bool]:
    """A datetime in UTC, and whether the input was a bare date."""
    if isinstance(value, datetime):
        moment, bare = value, False
    elif isinstance(value, date):
        moment, bare = datetime(value.year, value.month, value.day), True
    else:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise QueryError(f"not a date: {value!r} (use YYYY-MM-DD or ISO 8601)") from exc
        # A date without a time ("2024-06-01", or the compact "20240601") means the day.
        bare = "T" not in text.upper() and " " not in text and ":" not in text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), bare


def _stored(moment: datetime) -> str:
    """The archive's timestamp format, so string comparison orders correctly."""
    return iso_ms(moment)


def lower_bound(value: str | date | datetime) -> str:
    """Inclusive lower bound for a stored timestamp column."""
    return _stored(_parse_moment(value)[0])


def upper_bound(value: str | date | datetime) -> str:
    """Exclusive upper bound: a bare date includes that whole day."""
    moment, bare = _parse_moment(value)
    step = timedelta(days=1) if bare else timedelta(milliseconds=1)
    return _stored(moment + step)


# -- filters -----------------------------------------------------------------------


def where_clause(filters: PostFilter) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (with its leading space, or empty) and parameters of a filter."""
    clauses: list[str] = []
    params: list[Any] = []
    if filters.author:
        clauses.append("lower(p.author_handle) = lower(?)")
        params.append(filters.author.lstrip("@"))
    bounds = (
        ("p.created_at >= ?", filters.since, lower_bound),
        ("p.created_at < ?", filters.until, upper_bound),
        ("p.first_seen_at >= ?", filters.archived_since, lower_bound),
        ("p.first_seen_at < ?", filters.archived_until, upper_bound),
    )
    for clause, value, bound in bounds:
        if value:
            clauses.append(clause)
            params.append(bound(value))
    statuses = expand_statuses(filters.statuses)
    if statuses:
        clauses.append(f"p.status IN ({','.join('?' * len(statuses))})")
        params.extend(statuses)
    if filters.platform:
        clauses.append("p.platform = ?")
        params.append(filters.platform)
    if filters.article_id is not None:
        clauses.append("p.key IN (SELECT post_key FROM embeds WHERE article_id = ?)")
        params.append(filters.article_id)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def expand_statuses(statuses: Iterable[str]) -> list[str]:
    """Statuses with "gone" spelled out as every gone status, sorted and unique."""
    expanded: list[str] = []
    for status in statuses:
        expanded.extend(GONE_STATUSES if status == "gone" else (status,))
    return sorted(set(expanded))


def order_limit(filters: PostFilter) -> tuple[str, list[Any]]:
    """The ``ORDER BY`` and ``LIMIT``/``OFFSET`` clauses of a filter, and their parameters."""
    if filters.order not in _ORDER_SQL:
        raise QueryError(f"unknown order {filters.order!r}; use one of {', '.join(ORDERS)}")
    sql = " ORDER BY " + _ORDER_SQL[filters.order].format(dir="DESC" if filters.desc else "ASC")
    params: list[Any] = []
    if filters.limit is not None or filters.offset:
        sql += " LIMIT ? OFFSET ?"
        params.extend([-1 if filters.limit is None else filters.limit, filters.offset])
    return sql, params


__all__ = [
    "ORDERS",
    "PostFilter",
    "QueryError",
    "expand_statuses",
    "lower_bound",
    "order_limit",
    "upper_bound",
    "where_clause",
]
