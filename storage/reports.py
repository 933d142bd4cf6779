"""Whole-archive reads: export rows, stats, the static index's rows, Datasette views.

Like ``storage.queries``, each function takes the store's ``sqlite_utils.Database``
and only reads; ``Store`` offers them as methods (``storage.reads``).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

import sqlite_utils

from archiver.storage.filters import LIVE_ARTICLE, PostFilter, order_limit, where_clause
from archiver.storage.fsnames import path_from_db
from archiver.storage.queries import articles_of_post, media_by_key, snapshots_of
from archiver.storage.results import IndexedPost, PostDetail
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


def indexed_month_counts(db: sqlite_utils.Database) -> list[tuple[str | None, str, int]]:
    """(first 7 characters of ``created_at``, status, count) of the posts the static
    index lists: how many posts each month's pages of each status hold."""
    return [
        (row[0], row[1], int(row[2]))
        for row in db.conn.execute(
            "SELECT substr(created_at, 1, 7), status, count(*) FROM posts "
            "WHERE local_path IS NOT NULL GROUP BY 1, 2"
        )
    ]


# What the static index shows of a post (it hashes exactly these to see what changed).
_INDEXED_POST = (
    "key",
    "post_id",
    "url",
    "author_handle",
    "author_name",
    "text",
    "lang",
    "dir",
    "created_at",
    "status",
    "local_path",
)


def iter_indexed_posts(
    db: sqlite_utils.Database, per_page: int, max_articles: int
) -> Iterator[list[IndexedPost]]:
    """Every page of indexed posts (those with a local copy), oldest first by
    ``created_at`` (posts without a date before all others), each post with at most
    ``max_articles`` of its live articles and the count of them all.

    One sorted query joins the posts to their articles and streams: no OFFSET (which
    sorts the whole table again for every page) and no query per page. Memory holds
    one page of posts at a time, and at most ``max_articles`` articles per post: a
    post embedded in every article of the archive is counted, not listed.
    """
    columns = ", ".join(f"p.{name}" for name in _INDEXED_POST)
    cursor = db.conn.execute(
        f"SELECT {columns}, a.location, a.url, a.output_path FROM posts p "
        "LEFT JOIN embeds e ON e.post_key = p.key "
        f"LEFT JOIN articles a ON a.id = e.article_id AND {LIVE_ARTICLE} "
        "WHERE p.local_path IS NOT NULL ORDER BY p.created_at, p.key, a.location"
    )
    width = len(_INDEXED_POST)
    page: list[IndexedPost] = []
    for _, rows in itertools.groupby(cursor, key=itemgetter(0)):
        first = next(rows)
        post = dict(zip(_INDEXED_POST, first[:width], strict=True))
        articles: list[dict[str, Any]] = []
        count, last = 0, None
        for row in itertools.chain((first,), rows):
            location = row[width]
            # None: no live article; the same location again: an article embedding the
            # post twice.
            if location is None or location == last:
                continue
            last, count = location, count + 1
            if len(articles) < max_articles:
                output = path_from_db(row[width + 2])
                articles.append(
                    {"location": location, "url": row[width + 1], "output_path": output}
                )
        page.append(IndexedPost(post, articles, count))
        if len(page) == per_page:
            yield page
            page = []
    if page:
        yield page


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
    "export_columns",
    "indexed_month_counts",
    "is_archive",
    "iter_export_rows",
    "iter_indexed_posts",
    "post_detail",
    "read_post_detail",
    "stats",
]
