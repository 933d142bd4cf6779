"""The archive's schema, in one place, with numbered migrations.

The schema is public: people query it with sqlite3 or Datasette, so columns are
only ever added, never renamed. ``PRAGMA user_version`` records how far an
archive has been migrated; ``migrate`` brings it up to ``SCHEMA_VERSION`` in
one transaction per step.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from archiver.errors import SchemaTooNewError as SchemaTooNewError
from archiver.storage.transaction import write_transaction

FTS_COLUMNS = ["text", "author_name", "author_handle"]


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.table("posts").create(
        {
            "key": str,  # "x:ID"
            "platform": str,
            "post_id": str,  # kept as text: ids exceed 2^53
            "url": str,
            "author_handle": str,
            "author_name": str,
            "author_id": str,
            "author_avatar": str,  # media file name of the avatar
            "author_verified": str,
            "text": str,
            "html": str,
            "lang": str,
            "dir": str,
            "created_at": str,  # ISO 8601 UTC, milliseconds, Z
            "date_text": str,
            "status": str,
            "source": str,
            "notice": str,
            "truncated": int,
            "possibly_sensitive": int,
            "like_count": int,
            "reply_count": int,
            "card": str,  # JSON
            "edit_ids": str,  # JSON list, original first
            "quoted_post_key": str,
            "reply_to_post_key": str,
            "content_hash": str,
            "first_seen_at": str,
            "archived_at": str,  # capture time of the current content
            "status_changed_at": str,
            "last_checked_at": str,
            "next_check_at": str,
            "check_count": int,
            "check_failures": int,
            "last_error": str,
            "local_path": str,  # the local copy, relative to output.dir
        },
        pk="key",
        not_null={"platform", "post_id", "status", "source", "first_seen_at"},
        defaults={"status": "unknown", "truncated": 0, "check_count": 0, "check_failures": 0},
    )
    db.table("snapshots").create(
        {
            "id": int,
            "post_key": str,
            "captured_at": str,
            "source": str,
            "status": str,
            "content_hash": str,
            "url": str,
            "author_handle": str,
            "author_name": str,
            "author_id": str,
            "text": str,
            "html": str,
            "lang": str,
            "created_at": str,
            "date_text": str,
            "notice": str,
            "truncated": int,
            "like_count": int,
            "reply_count": int,
            "card": str,
            "edit_ids": str,
            "media": str,  # JSON list of the media as captured
            "quoted_post_key": str,
            "reply_to_post_key": str,
            "source_url": str,
            "http_status": int,
            "fetched_at": str,
            "raw": str,  # the markup or response body, verbatim
        },
        pk="id",
        foreign_keys=[("post_key", "posts", "key")],
        not_null={"post_key", "captured_at", "source", "status", "content_hash"},
    )
    db.table("snapshots").create_index(["post_key", "captured_at"])
    db.table("articles").create(
        {
            "id": int,
            "location": str,
            "source": str,
            "path": str,
            "url": str,
            "output_path": str,
            "encoding": str,
            "size": int,
            "mtime_ns": int,
            "content_hash": str,
            "output_hash": str,
            "etag": str,
            "last_modified": str,
            "embed_count": int,
            "first_seen_at": str,
            "last_scanned_at": str,
            "last_rewritten_at": str,
            "removed_at": str,
            "error": str,
        },
        pk="id",
        not_null={"location"},
        defaults={"embed_count": 0},
    )
    db.table("articles").create_index(["location"], unique=True)
    db.table("embeds").create(
        {
            "id": int,
            "article_id": int,
            "post_key": str,
            "ordinal": int,
            "form": str,
            "start": int,
            "end": int,
            "original": str,  # the embed markup as first found, verbatim
            "found_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id"), ("post_key", "posts", "key")],
        not_null={"article_id", "post_key", "ordinal", "form"},
    )
    db.table("embeds").create_index(["article_id", "ordinal"], unique=True)
    db.table("embeds").create_index(["post_key"])
    db.table("media").create(
        {
            "id": int,
            "post_key": str,
            "ordinal": int,
            "kind": str,
            "url": str,
            "local_path": str,  # file name in the media store: <sha256>.<ext>
            "poster_url": str,
            "poster_local_path": str,
            "content_type": str,
            "bytes": int,
            "width": int,
            "height": int,
            "alt_text": str,
            "sha256": str,
            "captured_at": str,
        },
        pk="id",
        foreign_keys=[("post_key", "posts", "key")],
        not_null={"post_key", "kind", "url"},
    )
    db.table("media").create_index(["post_key", "kind", "url"], unique=True)
    db.table("runs").create(
        {
            "id": int,
            "kind": str,  # run | scan | recheck | regenerate
            "started_at": str,
            "finished_at": str,
            "outcome": str,  # running | ok | failed | interrupted
            "summary": str,  # JSON of the run report
            "error": str,
            "pid": int,
        },
        pk="id",
    )
    db.table("posts").create_index(["next_check_at"])
    db.table("posts").create_index(["status"])
    db.table("posts").create_index(["author_handle"])
    db.table("posts").create_index(["created_at"])


def _v2_full_text_search(db: sqlite_utils.Database) -> None:
    # Superseded by v4 (it split Devanagari words at their vowel signs); kept so
    # that migrations replay exactly as archives saw them.
    db.table("posts").enable_fts(
        FTS_COLUMNS, create_triggers=True, tokenize="unicode61 remove_diacritics 2"
    )


def _v3_output_path_index(db: sqlite_utils.Database) -> None:
    # Each rewrite checks that no other article already writes the same file.
    db.table("articles").create_index(["output_path"])


# unicode61 treats only letters and numbers as parts of words by default, so the
# combining vowel signs of Devanagari (and other Indic scripts) split words into
# pieces: "चुनाव" was indexed as "च", "न", "व" and a search for "चीन" found it.
# Marks (M*) belong to words; remove_diacritics 2 still folds Latin accents.
FTS_TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"


def _v4_full_text_search_keeps_marks(db: sqlite_utils.Database) -> None:
    posts = db.table("posts")
    posts.disable_fts()
    posts.enable_fts(FTS_COLUMNS, create_triggers=True, tokenize=FTS_TOKENIZE)


def _v5_post_link_indexes(db: sqlite_utils.Database) -> None:
    # A post that changes marks out of date, in the same transaction, the articles of the
    # posts that quote it or reply to it: found through these columns on every change.
    db.table("posts").create_index(["quoted_post_key"])
    db.table("posts").create_index(["reply_to_post_key"])


def _v6_post_aliases(db: sqlite_utils.Database) -> None:
    # A key an embed named a post by before the network resolved it (a Bluesky handle,
    # bluesky:HANDLE/RKEY) -> the post's own key (bluesky:DID/RKEY): see storage/aliases.py.
    db.table("post_aliases").create(
        {"key": str, "post_key": str, "resolved_at": str},
        pk="key",
        not_null={"post_key"},
    )
    db.table("post_aliases").create_index(["post_key"])


def _v7_reported_embeds(db: sqlite_utils.Database) -> None:
    # Embeds of platforms that are only reported (Threads, Instagram, TikTok,
    # Facebook): where each occurs, never archived (storage/reported.py).
    db.table("reported_embeds").create(
        {
            "id": int,
            "article_id": int,
            "ordinal": int,
            "platform": str,
            "url": str,
            "form": str,
            "start": int,
            "end": int,
            "found_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"article_id", "ordinal", "platform", "url", "form"},
    )
    db.table("reported_embeds").create_index(["article_id", "ordinal"], unique=True)
    db.table("reported_embeds").create_index(["platform"])


def _v8_failing_since(db: sqlite_utils.Database) -> None:
    # When the current run of failed checks of a post began (a row only while it
    # lasts): a Mastodon instance unreachable for long gets a note (mastodon.
    # host_down_note_after). Its own table, so the posts rows and exports stay as
    # they were.
    db.table("failing_since").create({"post_key": str, "since": str}, pk="post_key")


def _v9_query_indexes(db: sqlite_utils.Database) -> None:
    # Issue 13, the queries over 100 ms at a million posts:
    # - ``posts list --author`` compares lower(author_handle): only an index on that
    #   expression serves it (the one on author_handle cannot);
    # - ``status`` counts posts per platform and live/removed articles: without these
    #   indexes each count read the whole table, text and paths included;
    # - a recheck selects every due post of a platform: covering the columns it reads,
    #   the index answers alone, in next_check_at order, without a row lookup per post.
    db.execute("CREATE INDEX idx_posts_lower_author_handle ON posts (lower(author_handle))")
    db.table("posts").create_index(["platform"])
    db.table("articles").create_index(["removed_at"])
    db.table("posts").create_index(
        ["platform", "next_check_at", "post_id", "author_handle", "source"],
        index_name="idx_posts_due",
    )


def _v10_post_pages_stale(db: sqlite_utils.Database) -> None:
    # Posts an article stopped embedding: their pages still list it. A pass refreshes
    # them at its end; kept here, in the transaction that dropped the embed, so a pass
    # after a killed one finds them without rendering every page of the archive.
    db.table("post_pages_stale").create({"post_key": str}, pk="post_key")


def _v11_search_index_on_text_changes(db: sqlite_utils.Database) -> None:
    # The trigger enable_fts makes re-indexes a post on every UPDATE of its row, and a
    # pass updates posts mostly for bookkeeping (local_path, next_check_at, checks): a
    # delete and an insert in posts_fts each time (28 us a row here). The index is kept
    # current only when a searched column changes value. (A later migration that calls
    # enable_fts again must make this trigger again.)
    columns = ", ".join(f'"{c}"' for c in FTS_COLUMNS)
    changed = " OR ".join(f'old."{c}" IS NOT new."{c}"' for c in FTS_COLUMNS)
    old = ", ".join(f'old."{c}"' for c in FTS_COLUMNS)
    new = ", ".join(f'new."{c}"' for c in FTS_COLUMNS)
    db.execute('DROP TRIGGER IF EXISTS "posts_au"')
    db.execute(
        f'CREATE TRIGGER "posts_au" AFTER UPDATE OF {columns} ON "posts" WHEN {changed} BEGIN\n'
        f'  INSERT INTO "posts_fts" ("posts_fts", rowid, {columns}) '
        f"VALUES('delete', old.rowid, {old});\n"
        f'  INSERT INTO "posts_fts" (rowid, {columns}) VALUES (new.rowid, {new});\n'
        "END"
    )


def _v12_failure_indexes(db: sqlite_utils.Database) -> None:
    # ``status`` lists the latest failed articles and posts: without these, both walked an
    # index of every live article and every checked post to find the few that failed (24
    # and 29 ms at 100,000; linear). Partial indexes hold only the failing rows, newest last.
    db.execute(
        "CREATE INDEX idx_articles_failed ON articles (last_scanned_at) WHERE error IS NOT NULL"
    )
    db.execute(
        "CREATE INDEX idx_posts_failed ON posts (last_checked_at) WHERE last_error IS NOT NULL"
    )


def _v13_stale_copies_index(db: sqlite_utils.Database) -> None:
    # Every pass and every recheck ends by rewriting the articles whose copy is out of date
    # (output_hash NULL): few, but finding them walked every live article (27 ms at 100,000,
    # 236 ms at a million, for a recheck with nothing due). A partial index holds only them.
    db.execute("CREATE INDEX idx_articles_stale ON articles (location) WHERE output_hash IS NULL")


def _v14_embeds_by_post_cover_the_article(db: sqlite_utils.Database) -> None:
    # The static index, a post's page and the pass look up the articles of posts through
    # embeds. An index of (post_key) alone sent each embed back to the table for its
    # article_id; with the article_id in the index it is not read (the index's walk over
    # 200,000 embeds: 1.23 -> 0.94 s). It replaces the index of post_key alone.
    db.execute("DROP INDEX IF EXISTS idx_embeds_post_key")
    db.table("embeds").create_index(["post_key", "article_id"])


def _v15_index_page_records(db: sqlite_utils.Database) -> None:
    # What the last index write recorded of each of its files (see storage/index_pages.py).
    # They were a JSON file next to the archive, read and written whole on every write:
    # two dicts of every page, which made each index write's memory grow with the archive.
    # The first write after this step finds no record and renders every page once.
    db.table("index_pages").create({"name": str, "recorded": str}, pk="name", not_null={"recorded"})


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_initial,
    _v2_full_text_search,
    _v3_output_path_index,
    _v4_full_text_search_keeps_marks,
    _v5_post_link_indexes,
    _v6_post_aliases,
    _v7_reported_embeds,
    _v8_failing_since,
    _v9_query_indexes,
    _v10_post_pages_stale,
    _v11_search_index_on_text_changes,
    _v12_failure_indexes,
    _v13_stale_copies_index,
    _v14_embeds_by_post_cover_the_article,
    _v15_index_page_records,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> int:
    """Apply pending migrations, each in its own transaction; return the new version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"archive schema version {current} is newer than this embed-archiver "
            f"understands ({SCHEMA_VERSION}); upgrade embed-archiver"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with write_transaction(db):
            # Another process may have applied this step while we waited for the lock.
            if schema_version(db) >= version:
                continue
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {version}")
    return SCHEMA_VERSION
