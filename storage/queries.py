"""Read-only queries over the archive: listing, search and detail of posts and articles.

Every function takes the ``sqlite_utils.Database`` of the store and returns plain
dicts or the dataclasses of ``storage.results``; ``Store`` offers each one as a method
(``storage.reads``), so the layers above never see the database. Large results are
generators over one cursor, so exports and index pages stream.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import sqlite_utils

from archiver.models import MediaItem, Post
from archiver.storage.filters import (
    ORDERS,
    PostFilter,
    QueryError,
    expand_statuses,
    lower_bound,
    order_limit,
    upper_bound,
    where_clause,
)
from archiver.storage.fsnames import path_from_db, path_shown, path_to_db, representable
from archiver.storage.results import (
    MARK_END,
    MARK_START,
    ArticleDetail,
    ArticleEmbed,
    ArticleSummary,
    EmbedLink,
    PostDetail,
    SearchHit,
    SnapshotInfo,
)
from archiver.storage.rows import media_item_from_row, post_from_row

# Characters that carry no searchable text for the unicode61 tokenizer.
_WORD_CHAR = re.compile(r"\w")


# -- posts -------------------------------------------------------------------------


def count_posts(db: sqlite_utils.Database, filters: PostFilter | None = None) -> int:
    """How many posts match (ignoring limit and offset)."""
    where, params = where_clause(filters or PostFilter())
    return int(db.execute(f"SELECT count(*) FROM posts p{where}", params).fetchone()[0])


def iter_post_rows(
    db: sqlite_utils.Database, filters: PostFilter | None = None
) -> Iterator[dict[str, Any]]:
    """Rows of ``posts`` that match, in order, straight from the cursor."""
    filters = filters or PostFilter()
    where, params = where_clause(filters)
    order, order_params = order_limit(filters)
    cursor = db.execute(f"SELECT p.* FROM posts p{where}{order}", params + order_params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def list_posts(db: sqlite_utils.Database, filters: PostFilter | None = None) -> list[Post]:
    """Matching posts as ``Post`` objects, with their media (one query for all of them)."""
    rows = list(iter_post_rows(db, filters))
    media = media_by_key(db, [row["key"] for row in rows])
    return [post_from_row(row, media.get(row["key"], [])) for row in rows]


def _read(db: sqlite_utils.Database, sql: str, params: list[Any]) -> Iterator[dict[str, Any]]:
    """Rows of a read-only query as dicts, straight from the connection.

    ``db.query`` wraps every query in a savepoint (its guard against a writing
    statement): two more statements per call, and a post page asks these once per
    post. Our SQL here is ours and only reads.
    """
    cursor = db.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def media_by_key(db: sqlite_utils.Database, keys: list[str]) -> dict[str, list[MediaItem]]:
    """The media of many posts, by post key, in their ordinal order."""
    found: dict[str, list[MediaItem]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in _read(
            db, f"SELECT * FROM media WHERE post_key IN ({marks}) ORDER BY post_key, ordinal", chunk
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
        for row in _read(
            db,
            "SELECT id, captured_at, source, status, source_url, http_status, fetched_at, "
            "author_handle, author_name, text, created_at, content_hash "
            "FROM snapshots WHERE post_key = ? ORDER BY captured_at, id",
            [key],
        )
    ]


def articles_of_post(db: sqlite_utils.Database, key: str) -> list[EmbedLink]:
    """Every article (removed ones too) that embeds a post, by location."""
    return [
        EmbedLink(**_paths_shown(row))
        for row in _read(
            db,
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
    where, params = where_clause(filters)
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
    platform: str | None = None,
) -> list[ArticleSummary]:
    """Articles by location; with ``statuses``, only those embedding a post in one of
    them; with ``platform``, only those embedding a post of that platform."""
    clauses: list[str] = []
    params: list[Any] = []
    if not include_removed:
        clauses.append("a.removed_at IS NULL")
    wanted = expand_statuses(statuses)
    if wanted:
        clauses.append(
            "a.id IN (SELECT e.article_id FROM embeds e JOIN posts p ON p.key = e.post_key "
            f"WHERE p.status IN ({','.join('?' * len(wanted))}))"
        )
        params.extend(wanted)
    if platform:
        clauses.append(
            "a.id IN (SELECT e.article_id FROM embeds e JOIN posts p ON p.key = e.post_key "
            "WHERE p.platform = ?)"
        )
        params.append(platform)
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
    "count_posts",
    "find_article_id",
    "fts_phrases",
    "iter_post_rows",
    "list_articles",
    "list_posts",
    "lower_bound",
    "media_by_key",
    "rewritten_article_ids",
    "search_posts",
    "snapshots_of",
    "upper_bound",
]
