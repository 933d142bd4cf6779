"""Whole-archive reads: export rows, stats, the static index's rows, Datasette views.

Like ``storage.queries``, each function takes the store's ``sqlite_utils.Database``
and only reads; ``Store`` offers them as methods (``storage.reads``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import sqlite_utils

from archiver.storage.filters import LIVE_ARTICLE, PostFilter, order_limit, where_clause
from archiver.storage.fsnames import path_from_db
from archiver.storage.queries import articles_of_post, media_by_key, snapshots_of
from archiver.storage.results import PostDetail
from archiver.storage.rows import post_from_row

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
    where, params = where_clause(filters)
    order, order_params = order_limit(filters)
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
    where, params = _indexwhere_clause(status)
    return int(db.execute(f"SELECT count(*) FROM posts WHERE {where}", params).fetchone()[0])


def indexed_status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """How many indexed posts have each status (for the index's per-status pages)."""
    return {
        row[0]: int(row[1])
        for row in db.execute(
            "SELECT status, count(*) FROM posts WHERE local_path IS NOT NULL GROUP BY status"
        )
    }


def _indexwhere_clause(status: str | None) -> tuple[str, list[Any]]:
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


def _with_articles(
    db: sqlite_utils.Database, posts: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each of ``posts`` with its live articles (one query for the page)."""
    keys = [p["key"] for p in posts]
    articles: dict[str, list[dict[str, Any]]] = {}
    if keys:
        marks = ",".join("?" * len(keys))
        for row in db.query(
            "SELECT DISTINCT e.post_key, a.location, a.url, a.path, a.output_path "
            "FROM embeds e JOIN articles a ON a.id = e.article_id "
            f"WHERE {LIVE_ARTICLE} AND e.post_key IN ({marks}) ORDER BY a.location",
            keys,
        ):
            row["path"] = path_from_db(row["path"])
            row["output_path"] = path_from_db(row["output_path"])
            articles.setdefault(row.pop("post_key"), []).append(row)
    return [(p, articles.get(p["key"], [])) for p in posts]


def iter_indexed_posts(
    db: sqlite_utils.Database, per_page: int, status: str | None = None
) -> Iterator[list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    """Every page of indexed posts (with a local copy; of one status, or all), newest
    first, each post with its live articles, from one sorted cursor.

    Paging with OFFSET sorts the whole table again for every page (quadratic in the
    archive: hours at a million posts); this sorts once and streams. Memory holds
    one page of posts at a time.
    """
    where, params = _indexwhere_clause(status)
    cursor = db.conn.execute(
        "SELECT key, post_id, url, author_handle, author_name, text, lang, dir, created_at, "
        f"status, archived_at, local_path FROM posts WHERE {where} "
        "ORDER BY created_at IS NULL, created_at DESC, key",
        params,
    )
    columns = [d[0] for d in cursor.description]
    while rows := cursor.fetchmany(per_page):
        yield _with_articles(db, [dict(zip(columns, row, strict=True)) for row in rows])


# -- read-only views for the Datasette plugin (archiver/datasette_plugin.py) ---------


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


def read_post_detail(conn: sqlite3.Connection, key: str) -> PostDetail | None:
    """``post_detail`` on a bare connection (the one Datasette lends its plugins)."""
    return post_detail(sqlite_utils.Database(conn), key)


__all__ = [
    "ARTICLE_FACET_SQL",
    "EMBEDDED_IN_SQL",
    "count_indexed_posts",
    "export_columns",
    "index_source_rows",
    "indexed_status_counts",
    "is_archive",
    "iter_export_rows",
    "iter_indexed_posts",
    "post_detail",
    "read_post_detail",
    "stats",
]
