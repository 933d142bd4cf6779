"""Read-only queries over the archive: listing, search, detail, export rows and stats.

Every function takes the ``sqlite_utils.Database`` (``Store.db``) and returns plain
dicts or the small dataclasses below; the archiver layers above never write SQL.
Large results are generators over one cursor, so exports and index pages stream.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlite_utils

from archiver.clock import iso_ms
from archiver.errors import QueryError as QueryError
from archiver.models import GONE_STATUSES, MediaItem, Post
from archiver.storage.fsnames import path_from_db, path_shown, path_to_db, representable
from archiver.storage.store import media_item_from_row, post_from_row

ORDERS = ("created", "archived", "author")

# SQL for each --order choice. ``key`` breaks ties so pages are stable.
_ORDER_SQL = {
    "created": "p.created_at IS NULL, p.created_at {dir}, p.key {dir}",
    # "Archived" is when the post entered the archive (first_seen_at); archived_at is the
    # capture time of its current content, which a Wayback copy can put years back.
    "archived": "p.first_seen_at {dir}, p.key {dir}",
    "author": "p.author_handle IS NULL, lower(p.author_handle) {dir}, p.created_at {dir}, p.key",
}

# Snippet markers used internally; callers choose what they become.
MARK_START = "\x02"
MARK_END = "\x03"

# Characters that carry no searchable text for the unicode61 tokenizer.
_WORD_CHAR = re.compile(r"\w")


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


@dataclass
class SnapshotInfo:
    """One captured version of a post: when, from where, and what it said."""

    id: int
    captured_at: str
    source: str
    status: str
    source_url: str | None
    http_status: int | None
    fetched_at: str | None
    author_handle: str | None
    author_name: str | None
    text: str | None
    created_at: str | None
    content_hash: str


@dataclass
class EmbedLink:
    """An article that embeds a post, and where in it."""

    article_id: int
    location: str
    url: str | None
    path: str | None
    output_path: str | None
    ordinal: int
    form: str
    found_at: str | None
    removed_at: str | None


@dataclass
class PostDetail(Post):
    """A post with its whole history: every snapshot and every article embedding it."""

    snapshots: list[SnapshotInfo] = field(default_factory=list)
    articles: list[EmbedLink] = field(default_factory=list)

    @classmethod
    def from_post(
        cls, post: Post, snapshots: list[SnapshotInfo], articles: list[EmbedLink]
    ) -> PostDetail:
        values = {f.name: getattr(post, f.name) for f in fields(Post)}
        return cls(**values, snapshots=snapshots, articles=articles)


@dataclass
class ArticleSummary:
    """An article and how many of its embeds point at posts in each status."""

    id: int
    location: str
    source: str | None
    url: str | None
    path: str | None
    output_path: str | None
    encoding: str | None
    embed_count: int
    last_scanned_at: str | None
    last_rewritten_at: str | None
    removed_at: str | None
    error: str | None
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class ArticleEmbed:
    """One embed of an article, with the archived state of its post."""

    ordinal: int
    form: str
    post_key: str
    status: str | None
    author_handle: str | None
    created_at: str | None
    text: str | None
    local_path: str | None
    found_at: str | None
    original: str


@dataclass
class ArticleDetail:
    article: ArticleSummary
    embeds: list[ArticleEmbed]


@dataclass
class SearchHit:
    post: Post
    snippet: str  # with MARK_START/MARK_END around matches
    score: float  # bm25: lower is better


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


def _where(filters: PostFilter) -> tuple[str, list[Any]]:
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
    statuses = _expand_statuses(filters.statuses)
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


def _expand_statuses(statuses: Iterable[str]) -> list[str]:
    expanded: list[str] = []
    for status in statuses:
        expanded.extend(GONE_STATUSES if status == "gone" else (status,))
    return sorted(set(expanded))


def _order_limit(filters: PostFilter) -> tuple[str, list[Any]]:
    if filters.order not in _ORDER_SQL:
        raise QueryError(f"unknown order {filters.order!r}; use one of {', '.join(ORDERS)}")
    sql = " ORDER BY " + _ORDER_SQL[filters.order].format(dir="DESC" if filters.desc else "ASC")
    params: list[Any] = []
    if filters.limit is not None or filters.offset:
        sql += " LIMIT ? OFFSET ?"
        params.extend([-1 if filters.limit is None else filters.limit, filters.offset])
    return sql, params


# -- posts -------------------------------------------------------------------------


def count_posts(db: sqlite_utils.Database, filters: PostFilter | None = None) -> int:
    """How many posts match (ignoring limit and offset)."""
    where, params = _where(filters or PostFilter())
    return int(db.execute(f"SELECT count(*) FROM posts p{where}", params).fetchone()[0])


def iter_post_rows(
    db: sqlite_utils.Database, filters: PostFilter | None = None
) -> Iterator[dict[str, Any]]:
    """Rows of ``posts`` that match, in order, straight from the cursor."""
    filters = filters or PostFilter()
    where, params = _where(filters)
    order, order_params = _order_limit(filters)
    cursor = db.execute(f"SELECT p.* FROM posts p{where}{order}", params + order_params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def list_posts(db: sqlite_utils.Database, filters: PostFilter | None = None) -> list[Post]:
    """Matching posts as ``Post`` objects, with their media (one query for all of them)."""
    rows = list(iter_post_rows(db, filters))
    media = media_by_key(db, [row["key"] for row in rows])
    return [post_from_row(row, media.get(row["key"], [])) for row in rows]


def media_by_key(db: sqlite_utils.Database, keys: list[str]) -> dict[str, list[MediaItem]]:
    """The media of many posts, by post key, in their ordinal order."""
    found: dict[str, list[MediaItem]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.query(
            f"SELECT * FROM media WHERE post_key IN ({marks}) ORDER BY post_key, ordinal", chunk
        ):
            found.setdefault(row["post_key"], []).append(media_item_from_row(row))
    return found


def snapshots_of(db: sqlite_utils.Database, key: str) -> list[SnapshotInfo]:
    """Every captured version of a post, oldest first."""
    return [
        SnapshotInfo(
            id=row["id"],
            captured_at=row["captured_at"],
            source=row["source"],
            status=row["status"],
            source_url=row["source_url"],
            http_status=row["http_status"],
            fetched_at=row["fetched_at"],
            author_handle=row["author_handle"],
            author_name=row["author_name"],
            text=row["text"],
            created_at=row["created_at"],
            content_hash=row["content_hash"],
        )
        for row in db.query(
            "SELECT * FROM snapshots WHERE post_key = ? ORDER BY captured_at, id", [key]
        )
    ]


def articles_of_post(db: sqlite_utils.Database, key: str) -> list[EmbedLink]:
    """Every article (removed ones too) that embeds a post, by location."""
    return [
        EmbedLink(**_paths_shown(row))
        for row in db.query(
            "SELECT a.id AS article_id, a.location, a.url, a.path, a.output_path, e.ordinal, "
            "e.form, e.found_at, a.removed_at FROM embeds e JOIN articles a ON a.id = e.article_id "
            "WHERE e.post_key = ? ORDER BY a.location, e.ordinal",
            [key],
        )
    ]


# -- full-text search --------------------------------------------------------------


def fts_phrases(query: str) -> str:
    """Turn free text into an FTS5 query that cannot be a syntax error.

    Each word becomes a quoted phrase (``"`` doubled inside), so ``AND``, ``NEAR``,
    ``-`` or a stray ``"`` are searched for as text. A trailing ``*`` is kept as a
    prefix search. Words without letters or digits are dropped.
    """
    phrases: list[str] = []
    for word in query.split():
        prefix = word.endswith("*") and len(word) > 1
        word = word.rstrip("*") if prefix else word
        if not _WORD_CHAR.search(word):
            continue
        phrases.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(phrases)


def search_posts(
    db: sqlite_utils.Database,
    query: str,
    filters: PostFilter | None = None,
    raw: bool = False,
    tokens: int = 16,
) -> list[SearchHit]:
    """Posts matching ``query`` in text, author name or handle, best (bm25) first."""
    filters = filters or PostFilter()
    match = query if raw else fts_phrases(query)
    if not match.strip():
        return []
    where, params = _where(filters)
    where = (" AND " + where[len(" WHERE ") :]) if where else ""
    sql = (
        "SELECT p.*, snippet(posts_fts, -1, ?, ?, '…', ?) AS _snippet, "
        "bm25(posts_fts) AS _score FROM posts_fts JOIN posts p ON p.rowid = posts_fts.rowid "
        f"WHERE posts_fts MATCH ?{where} ORDER BY _score, p.key LIMIT ? OFFSET ?"
    )
    limit = -1 if filters.limit is None else filters.limit
    try:
        rows = list(
            db.query(sql, [MARK_START, MARK_END, tokens, match, *params, limit, filters.offset])
        )
    except sqlite3.OperationalError as exc:  # only reachable with --raw: FTS5 syntax
        raise QueryError(f"invalid full-text query {query!r}: {exc}") from exc
    media = media_by_key(db, [row["key"] for row in rows])
    hits = []
    for row in rows:
        snippet, score = row.pop("_snippet"), row.pop("_score")
        hits.append(SearchHit(post_from_row(row, media.get(row["key"], [])), snippet, score))
    return hits


# -- articles ----------------------------------------------------------------------


def find_article_id(db: sqlite_utils.Database, ref: str) -> int | None:
    """Resolve an article by location, URL, source path, output path or unique suffix."""
    ref = ref.strip()
    absolute = os.path.abspath(ref) if ref else ref
    # A path named on the command line may not be UTF-8: see storage.fsnames.
    shown = representable(ref)
    for column, value in (
        ("location", shown),
        ("url", shown),
        ("path", path_to_db(ref)),
        ("path", path_to_db(absolute)),
        ("output_path", path_to_db(absolute)),
    ):
        row = db.execute(f"SELECT id FROM articles WHERE {column} = ?", [value]).fetchone()
        if row:
            return int(row[0])
    # A trailing part of the location ("post.html" for "articles/blog/post.html"),
    # accepted only when it names exactly one article.
    rows = db.execute(
        "SELECT id, location FROM articles WHERE location LIKE ? ESCAPE '\\' "
        "OR url LIKE ? ESCAPE '\\' ORDER BY location",
        ["%/" + _like_escape(shown)] * 2,
    ).fetchall()
    if len(rows) > 1:
        names = ", ".join(location for _, location in rows[:5])
        raise QueryError(f"{shown!r} matches several articles ({names}); name one fully")
    return int(rows[0][0]) if rows else None


_PATH_COLUMNS = ("path", "output_path")


def _paths_shown(row: dict[str, Any]) -> dict[str, Any]:
    """A row whose file paths are text fit to show (see storage.fsnames)."""
    for column in _PATH_COLUMNS:
        if column in row:
            row[column] = path_shown(row[column])
    return row


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_ARTICLE_COLUMNS = (
    "a.id, a.location, a.source, a.url, a.path, a.output_path, a.encoding, a.embed_count, "
    "a.last_scanned_at, a.last_rewritten_at, a.removed_at, a.error"
)


def list_articles(
    db: sqlite_utils.Database,
    statuses: tuple[str, ...] = (),
    include_removed: bool = False,
    limit: int | None = None,
) -> list[ArticleSummary]:
    """Articles by location; with ``statuses``, only those embedding a post in one of them."""
    clauses: list[str] = []
    params: list[Any] = []
    if not include_removed:
        clauses.append("a.removed_at IS NULL")
    wanted = _expand_statuses(statuses)
    if wanted:
        clauses.append(
            "a.id IN (SELECT e.article_id FROM embeds e JOIN posts p ON p.key = e.post_key "
            f"WHERE p.status IN ({','.join('?' * len(wanted))}))"
        )
        params.extend(wanted)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = f"SELECT {_ARTICLE_COLUMNS} FROM articles a{where} ORDER BY a.location"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    articles = [ArticleSummary(**_paths_shown(row)) for row in db.query(sql, params)]
    counts = _status_counts(db, [a.id for a in articles])
    for article in articles:
        article.statuses = counts.get(article.id, {})
    return articles


def _status_counts(db: sqlite_utils.Database, ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for article_id, status, n in db.execute(
            "SELECT e.article_id, coalesce(p.status, 'missing'), count(*) FROM embeds e "
            f"LEFT JOIN posts p ON p.key = e.post_key WHERE e.article_id IN ({marks}) "
            "GROUP BY e.article_id, p.status",
            chunk,
        ):
            counts.setdefault(article_id, {})[status] = n
    return counts


def article_detail(db: sqlite_utils.Database, article_id: int) -> ArticleDetail | None:
    """An article with each of its embeds and the state of the post it points at."""
    rows = list(db.query(f"SELECT {_ARTICLE_COLUMNS} FROM articles a WHERE a.id = ?", [article_id]))
    if not rows:
        return None
    article = ArticleSummary(**_paths_shown(rows[0]))
    article.statuses = _status_counts(db, [article_id]).get(article_id, {})
    embeds = [
        ArticleEmbed(**row)
        for row in db.query(
            "SELECT e.ordinal, e.form, e.post_key, p.status, p.author_handle, p.created_at, "
            "p.text, p.local_path, e.found_at, coalesce(e.original, '') AS original "
            "FROM embeds e LEFT JOIN posts p ON p.key = e.post_key "
            "WHERE e.article_id = ? ORDER BY e.ordinal",
            [article_id],
        )
    ]
    return ArticleDetail(article=article, embeds=embeds)


def article_row(db: sqlite_utils.Database, article_id: int) -> dict[str, Any] | None:
    """The whole ``articles`` row."""
    rows = list(db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
    if not rows:
        return None
    row = rows[0]
    for column in _PATH_COLUMNS:
        row[column] = path_from_db(row[column])
    return row


def rewritten_article_ids(db: sqlite_utils.Database) -> list[int]:
    """Ids of live articles that have a rewritten copy (what ``restore`` can undo)."""
    return [
        int(i)
        for (i,) in db.execute(
            "SELECT id FROM articles WHERE removed_at IS NULL AND last_rewritten_at IS NOT NULL "
            "ORDER BY location"
        )
    ]


# -- export ------------------------------------------------------------------------


def export_columns(db: sqlite_utils.Database) -> tuple[list[str], list[str]]:
    """Column names of ``posts`` and of ``snapshots``, in table order."""
    return (
        [c.name for c in db["posts"].columns],
        [c.name for c in db["snapshots"].columns],
    )


def iter_export_rows(
    db: sqlite_utils.Database, filters: PostFilter | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]]:
    """(post row, latest snapshot row or None, media rows) for each matching post.

    One cursor for the whole table: memory stays flat however large the archive.
    """
    filters = filters or PostFilter(order="archived")
    post_cols, snap_cols = export_columns(db)
    where, params = _where(filters)
    order, order_params = _order_limit(filters)
    # Latest = most recently captured; the id breaks ties within one capture time.
    select = ", ".join(
        [f'p."{c}"' for c in post_cols]
        + [f's."{c}"' for c in snap_cols]
        + [
            "(SELECT json_group_array(json(m.j)) FROM (SELECT json_object("
            + ", ".join(f"'{c}', \"{c}\"" for c in _MEDIA_COLUMNS)
            + ") AS j FROM media WHERE post_key = p.key ORDER BY ordinal) m)"
        ]
    )
    sql = (
        f"SELECT {select} FROM posts p LEFT JOIN snapshots s ON s.id = ("
        "SELECT id FROM snapshots WHERE post_key = p.key ORDER BY captured_at DESC, id DESC "
        f"LIMIT 1){where}{order}"
    )
    n_posts = len(post_cols)
    for values in db.execute(sql, params + order_params):
        post = dict(zip(post_cols, values[:n_posts], strict=True))
        snap_values = values[n_posts : n_posts + len(snap_cols)]
        snapshot = dict(zip(snap_cols, snap_values, strict=True)) if snap_values[0] else None
        media = json.loads(values[-1]) if values[-1] else []
        yield post, snapshot, media


_MEDIA_COLUMNS = (
    "ordinal",
    "kind",
    "url",
    "local_path",
    "poster_url",
    "poster_local_path",
    "content_type",
    "bytes",
    "width",
    "height",
    "alt_text",
    "sha256",
    "captured_at",
)


# -- stats -------------------------------------------------------------------------


def _grouped(db: sqlite_utils.Database, column: str, limit: int | None = None) -> dict[str, int]:
    sql = (
        f"SELECT coalesce({column}, ''), count(*) AS n FROM posts "
        f"GROUP BY {column} ORDER BY n DESC, 1"
    )
    params: list[Any] = []
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return {str(name): int(n) for name, n in db.execute(sql, params)}


def stats(db: sqlite_utils.Database, top: int = 10) -> dict[str, Any]:
    """Counts of everything in the archive, by status, platform and author."""

    def count(sql: str) -> int:
        return int(db.execute(sql).fetchone()[0])

    return {
        "posts": count("SELECT count(*) FROM posts"),
        "snapshots": count("SELECT count(*) FROM snapshots"),
        "articles": count("SELECT count(*) FROM articles WHERE removed_at IS NULL"),
        "articles_removed": count("SELECT count(*) FROM articles WHERE removed_at IS NOT NULL"),
        "embeds": count("SELECT count(*) FROM embeds"),
        "media": count("SELECT count(DISTINCT local_path) FROM media WHERE local_path IS NOT NULL"),
        "media_bytes_recorded": count(
            "SELECT coalesce(sum(b), 0) FROM (SELECT max(bytes) AS b FROM media "
            "WHERE local_path IS NOT NULL GROUP BY local_path)"
        ),
        "by_status": _grouped(db, "status"),
        "by_platform": _grouped(db, "platform"),
        "top_authors": _grouped(db, "author_handle", top),
        "last_run": _last_run(db),
    }


def _last_run(db: sqlite_utils.Database) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT id, kind, started_at, finished_at, outcome FROM runs ORDER BY id DESC LIMIT 1"
        )
    )
    return rows[0] if rows else None


# -- static index ------------------------------------------------------------------


def count_indexed_posts(db: sqlite_utils.Database, status: str | None = None) -> int:
    """Posts that have a local copy, i.e. that the static index lists (of one status)."""
    where, params = _index_where(status)
    return int(db.execute(f"SELECT count(*) FROM posts WHERE {where}", params).fetchone()[0])


def indexed_status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many indexed posts have each status (for the index's per-status pages)."""
    return {
        row[0]: int(row[1])
        for row in db.execute(
            "SELECT status, count(*) FROM posts WHERE local_path IS NOT NULL GROUP BY status"
        )
    }


def _index_where(status: str | None) -> tuple[str, list[Any]]:
    if status is None:
        return "local_path IS NOT NULL", []
    return "local_path IS NOT NULL AND status = ?", [status]


def index_source_rows(db: sqlite_utils.Database) -> Iterator[tuple[Any, ...]]:
    """Everything the static index shows, as a stream of rows: posts with a local copy
    (tagged "post"), then the live articles embedding them (tagged "article")."""
    # archived_at is left out: it only moves together with content or status.
    for row in db.conn.execute(
        "SELECT key, post_id, url, author_handle, author_name, text, lang, dir, created_at, "
        "status, local_path FROM posts WHERE local_path IS NOT NULL ORDER BY key"
    ):
        yield ("post", *row)
    for row in db.conn.execute(
        "SELECT e.post_key, a.location, a.url, a.output_path FROM embeds e "
        "JOIN articles a ON a.id = e.article_id WHERE a.removed_at IS NULL "
        "ORDER BY e.post_key, a.location"
    ):
        *rest, output_path = row
        yield ("article", *rest, path_from_db(output_path))


def indexed_posts_page(
    db: sqlite_utils.Database, limit: int, offset: int, status: str | None = None
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """One page of posts with a local copy (of one status, or all), newest first, each
    with its live articles."""
    where, params = _index_where(status)
    posts = list(
        db.query(
            "SELECT key, post_id, url, author_handle, author_name, text, lang, dir, created_at, "
            f"status, archived_at, local_path FROM posts WHERE {where} "
            "ORDER BY created_at IS NULL, created_at DESC, key LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    )
    keys = [p["key"] for p in posts]
    articles: dict[str, list[dict[str, Any]]] = {}
    if keys:
        marks = ",".join("?" * len(keys))
        for row in db.query(
            "SELECT DISTINCT e.post_key, a.location, a.url, a.path, a.output_path "
            "FROM embeds e JOIN articles a ON a.id = e.article_id "
            f"WHERE a.removed_at IS NULL AND e.post_key IN ({marks}) ORDER BY a.location",
            keys,
        ):
            row["path"] = path_from_db(row["path"])
            row["output_path"] = path_from_db(row["output_path"])
            articles.setdefault(row.pop("post_key"), []).append(row)
    return [(p, articles.get(p["key"], [])) for p in posts]


def iter_indexed_posts(
    db: sqlite_utils.Database, per_page: int, status: str | None = None
) -> Iterator[list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    """Every page of ``indexed_posts_page`` in turn, from one sorted cursor.

    Paging with OFFSET sorts the whole table again for every page (quadratic in the
    archive: hours at a million posts); this sorts once and streams. Memory holds
    one page of posts at a time.
    """
    where, params = _index_where(status)
    cursor = db.conn.execute(
        "SELECT key, post_id, url, author_handle, author_name, text, lang, dir, created_at, "
        f"status, archived_at, local_path FROM posts WHERE {where} "
        "ORDER BY created_at IS NULL, created_at DESC, key",
        params,
    )
    columns = [d[0] for d in cursor.description]
    while rows := cursor.fetchmany(per_page):
        posts = [dict(zip(columns, row, strict=True)) for row in rows]
        keys = [p["key"] for p in posts]
        articles: dict[str, list[dict[str, Any]]] = {}
        marks = ",".join("?" * len(keys))
        for row in db.query(
            "SELECT DISTINCT e.post_key, a.location, a.url, a.path, a.output_path "
            "FROM embeds e JOIN articles a ON a.id = e.article_id "
            f"WHERE a.removed_at IS NULL AND e.post_key IN ({marks}) ORDER BY a.location",
            keys,
        ):
            row["path"] = path_from_db(row["path"])
            row["output_path"] = path_from_db(row["output_path"])
            articles.setdefault(row.pop("post_key"), []).append(row)
        yield [(p, articles.get(p["key"], [])) for p in posts]


__all__ = [
    "MARK_END",
    "MARK_START",
    "ORDERS",
    "ArticleDetail",
    "ArticleEmbed",
    "ArticleSummary",
    "EmbedLink",
    "PostDetail",
    "PostFilter",
    "QueryError",
    "SearchHit",
    "SnapshotInfo",
    "article_detail",
    "article_row",
    "articles_of_post",
    "count_indexed_posts",
    "count_posts",
    "export_columns",
    "find_article_id",
    "fts_phrases",
    "indexed_posts_page",
    "indexed_status_counts",
    "iter_export_rows",
    "iter_indexed_posts",
    "iter_post_rows",
    "list_articles",
    "list_posts",
    "lower_bound",
    "media_by_key",
    "rewritten_article_ids",
    "search_posts",
    "snapshots_of",
    "stats",
    "upper_bound",
]


# -- read-only views for the Datasette plugin (archiver/datasette_plugin.py) --------------


def post_detail(db: sqlite_utils.Database, key: str) -> PostDetail | None:
    """A post with its media, every snapshot and every embedding article; reads only."""
    rows = list(db.query("SELECT * FROM posts WHERE key = ?", [key]))
    if not rows:
        return None
    post = post_from_row(rows[0], media_by_key(db, [key]).get(key, []))
    return PostDetail.from_post(post, snapshots_of(db, key), articles_of_post(db, key))


def is_archive(db: sqlite_utils.Database) -> bool:
    """Whether a database has embed-archiver's tables (a Datasette instance may serve others)."""
    return {"posts", "snapshots", "embeds", "articles"} <= set(db.table_names())


# Posts by the article embedding them, over the posts a Datasette table view selects
# ({sql}: that view's query, which selects the posts' ``key``).
ARTICLE_FACET_SQL = (
    "WITH inner AS ({sql}) SELECT a.location AS value, COUNT(DISTINCT inner.key) AS count "
    "FROM inner JOIN embeds e ON e.post_key = inner.key JOIN articles a ON a.id = e.article_id "
    "GROUP BY a.location ORDER BY count DESC, value LIMIT {limit}"
)
# The posts embedded in one article (by location), as a WHERE clause on ``posts``.
EMBEDDED_IN_SQL = (
    "key IN (SELECT e.post_key FROM embeds e JOIN articles a ON a.id = e.article_id "
    "WHERE a.location = :{param})"
)
