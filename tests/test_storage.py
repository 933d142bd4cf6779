"""The storage layer on a real SQLite file: its interface, its layout, and the version
policy as the archive carries it out."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.models import ArticleRef, MediaItem, PostSnapshot, RunOutcome
from archiver.storage import ArchiveStorage, Store
from archiver.storage.protocol import ArchiveStorage as ProtocolClass

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-30T00:00:00.000Z"
LATER = "2026-11-30T01:00:00.000Z"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "archive.db") as opened:
        yield opened


def _protocol_methods() -> list[str]:
    return sorted(
        name
        for name, value in vars(ProtocolClass).items()
        if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))
    )


def archive_at_schema(path: Path, version: int) -> Path:
    """An empty archive as release ``version`` of the schema left it (its migrations run)."""
    import sqlite_utils

    from archiver.storage.schema import MIGRATIONS

    old = sqlite_utils.Database(path)
    for migration in MIGRATIONS[:version]:
        migration(old)
    old.execute(f"PRAGMA user_version = {version}")
    old.close()
    return path


def test_the_sqlite_store_implements_the_protocol(store: Store) -> None:
    assert isinstance(store, ArchiveStorage)
    for name in _protocol_methods():
        declared = inspect.signature(getattr(ProtocolClass, name))
        actual = inspect.signature(getattr(Store, name))
        assert list(declared.parameters) == list(actual.parameters), name
        for param in declared.parameters.values():
            assert param.default == actual.parameters[param.name].default, (name, param.name)


def test_the_protocol_covers_everything_the_archiver_calls() -> None:
    """Every ``store.X(`` called under archiver/ is in the protocol (else a second
    backend would miss it)."""
    called: set[str] = set()
    for path in (ROOT / "archiver").rglob("*.py"):
        if "storage" in path.relative_to(ROOT / "archiver").parts:
            continue
        called |= set(re.findall(r"\bstore\.([a-z_]+)\(", path.read_text(encoding="utf-8")))
    missing = called - set(_protocol_methods())
    assert not missing, f"add to storage/protocol.py: {sorted(missing)}"


def test_storage_modules_stay_small() -> None:
    """One concern per module: none grows past ~450 lines (issue 10)."""
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "storage").glob("*.py")
    }
    assert max(sizes.values()) <= 450, sizes


# -- the version policy, carried out ----------------------------------------------------------


def _markup(text: str) -> PostSnapshot:
    return PostSnapshot(post_id="20", text=text, source="markup", url="https://x.com/a/status/20")


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_richest_pasted_copy_wins_in_either_order(
    tmp_path: Path, order: tuple[int, int]
) -> None:
    copies = [_markup("Hello wor"), _markup("Hello world, the whole post")]
    with Store(tmp_path / "archive.db") as store:
        for index in order:
            store.save_snapshot(copies[index], NOW)
        post = store.get_post("x:20")
        assert post is not None and post.text == "Hello world, the whole post"
        assert len(store.snapshots_of("x:20")) == 2  # both copies are in the history


def test_a_poorer_source_never_replaces_richer_content(store: Store) -> None:
    rich = PostSnapshot(post_id="20", text="Full text", source="syndication", status="live")
    poor = PostSnapshot(post_id="20", text="Full…", source="oembed", status="live")
    assert store.save_snapshot(rich, NOW) == "new"
    assert store.save_snapshot(poor, LATER) == "unchanged"
    post = store.get_post("x:20")
    assert post is not None and post.text == "Full text" and post.source == "syndication"
    assert [s.source for s in store.snapshots_of("x:20")] == ["syndication", "oembed"]


def test_a_tombstone_keeps_the_last_good_content(store: Store) -> None:
    store.save_snapshot(
        PostSnapshot(post_id="20", text="Said it", source="syndication", status="live"), NOW
    )
    gone = PostSnapshot(post_id="20", source="syndication", status="deleted", notice="Deleted")
    assert store.save_snapshot(gone, LATER) == "updated"
    post = store.get_post("x:20")
    assert post is not None and (post.status, post.text) == ("deleted", "Said it")


def test_a_failed_download_never_loses_an_archived_file(store: Store) -> None:
    photo = "https://pbs.twimg.com/media/a.jpg"
    first = PostSnapshot(post_id="20", text="Hi", source="syndication", status="live")
    first.media = [MediaItem("photo", photo, local_path="ab.jpg", sha256="ab", bytes=3)]
    store.save_snapshot(first, NOW)
    again = PostSnapshot(post_id="20", text="Hi", source="syndication", status="live")
    again.media = [MediaItem("photo", photo)]  # this time the download failed
    assert store.save_snapshot(again, LATER) == "unchanged"
    assert store.stored_media("x:20") == [(photo, "ab.jpg")]


def test_a_new_post_is_due_at_once(store: Store) -> None:
    store.save_snapshot(_markup("Hello"), NOW)
    assert [d.post_id for d in store.posts_due(NOW)] == ["20"]


# -- runs and the status report ------------------------------------------------------


def test_runs_read_back_with_their_summary_decoded(store: Store) -> None:
    run = store.start_run("run", NOW)
    store.finish_run(run, RunOutcome.OK, {"articles_scanned": 3}, LATER)
    (latest,) = store.recent_runs(1)
    assert latest["summary"] == {"articles_scanned": 3} and latest["outcome"] == "ok"
    report = store.status_report(LATER)
    assert report["runs"] == [latest]
    assert report["due"]["posts"] == 0


def test_an_article_error_is_reported_and_kept(store: Store) -> None:
    ref = ArticleRef(location="a.html", source="site", path="/site/a.html")
    store.record_article_error(ref, "cannot read: Permission denied", NOW)
    state = store.get_article("a.html")
    assert state is not None and state.error == "cannot read: Permission denied"
    assert store.status_report(LATER)["failures"]["articles"][0]["location"] == "a.html"


# -- migration 9: the indexes of the queries that were over 100 ms at a million posts ---------


def test_an_archive_of_schema_5_gets_the_query_indexes(tmp_path: Path) -> None:
    """Issue 13 (migrations 6 and 7): an archive of the previous version is migrated in
    place; its posts are all still there, and the case-insensitive author filter,
    ``status``'s counts and the due-post selection are answered from indexes, not by
    reading every post (EXPLAIN QUERY PLAN: no full scan of the table)."""

    from archiver.storage.filters import PostFilter
    from archiver.storage.schema import SCHEMA_VERSION, schema_version

    path = archive_at_schema(tmp_path / "archive.db", 5)
    with Store(path) as store:
        for n, handle in enumerate(["Jack", "jack", "JACK", "jill"]):
            snap = PostSnapshot(
                post_id=str(20 + n),
                text=f"post {n}",
                author_handle=handle,
                source="markup",
                url=f"https://x.com/{handle}/status/{20 + n}",
            )
            store.save_snapshot(snap, "2026-01-01T00:00:00.000Z")
    with Store(path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
        assert store.stale_post_pages() == []  # migration 10's table, empty
        found = store.list_posts(PostFilter(author="@JaCk"))
        assert sorted(p.author_handle for p in found) == ["JACK", "Jack", "jack"]

        def plan(sql: str, params: list[str]) -> str:
            rows = store.db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            return " | ".join(str(row[-1]) for row in rows)

        author = plan("SELECT key FROM posts p WHERE lower(p.author_handle) = lower(?)", ["jack"])
        assert "USING INDEX idx_posts_lower_author_handle" in author, author
        platforms = plan("SELECT platform, count(*) FROM posts GROUP BY platform", [])
        assert "COVERING INDEX" in platforms, platforms
        removed = plan("SELECT count(*) FROM articles WHERE removed_at IS NOT NULL", [])
        assert "INDEX" in removed, removed
        due = plan(
            "SELECT post_id, author_handle, source FROM posts WHERE platform = ? "
            "AND next_check_at IS NOT NULL AND next_check_at <= ? ORDER BY next_check_at",
            ["x", "2027-01-01"],
        )
        assert "COVERING INDEX idx_posts_due" in due and "TEMP B-TREE" not in due, due
        # Migration 14: the embeds of a post give their articles without reading the table,
        # from an index that replaces the one of post_key alone.
        embeds = plan("SELECT article_id FROM embeds WHERE post_key = ?", ["x:20"])
        assert "COVERING INDEX idx_embeds_post_key_article_id" in embeds, embeds
        assert "idx_embeds_post_key" not in {i.name for i in store.db["embeds"].indexes}


def test_search_follows_edits_and_ignores_bookkeeping_after_the_upgrade(tmp_path: Path) -> None:
    """Migration 11 re-indexes a post only when a searched column changes. An archive
    made before it keeps its search results, richer text that replaces a post's text
    is found by its new words (and no longer by its old ones), and a bookkeeping update
    (where its page is) leaves the post found exactly once."""

    from archiver.storage.schema import SCHEMA_VERSION, schema_version

    path = archive_at_schema(tmp_path / "archive.db", 10)

    def pasted(text: str, name: str | None = None) -> PostSnapshot:
        return PostSnapshot(
            post_id="77",
            text=text,
            author_name=name,
            author_handle="desk",
            source="markup",
            url="https://x.com/desk/status/77",
        )

    def found(store: Store, words: str) -> list[str]:
        return [hit.post.key for hit in store.search_posts(words)]

    with Store(path) as store:
        store.save_snapshot(pasted("council vote"), "2026-01-01T00:00:00.000Z")
    with Store(path) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
        assert found(store, "council") == ["x:77"]  # indexed before the upgrade
        store.save_snapshot(pasted("transit line opens next spring"), "2026-01-02T00:00:00.000Z")
        assert found(store, "transit") == ["x:77"]
        assert found(store, "council") == []
        store.set_local_paths({"x:77": "embeds/x/77.html"})
        assert found(store, "spring") == ["x:77"]
        # The same text, now with the author's name: only that column changes.
        store.save_snapshot(
            pasted("transit line opens next spring", "Metro Bureau"), "2026-01-03T00:00:00.000Z"
        )
        assert found(store, "bureau") == ["x:77"]
        assert found(store, "transit") == ["x:77"]


def test_the_articles_of_given_posts_are_found_from_their_embeds(tmp_path: Path) -> None:
    """Finding the live articles of posts (a post page's list, the static index's walk)
    starts from those posts' embeds, whatever the archive's size: it never walks every
    live article through the index on removed_at, which took 64 ms a call at 100,000
    articles (once per index page, once per post page refreshed). The index of embeds
    by post holds the article's id, so the embeds table itself is not read.

    The statements are the store's own, caught as it runs them, then explained."""
    from archiver.models import EmbedSpan
    from archiver.storage import EmbedRecord

    with Store(tmp_path / "archive.db") as store:
        with store.batch():
            for n in range(120):
                post = str(1_500_000_000_000_000_000 + n)
                ref = ArticleRef(location=f"a{n}.html", source="folder", path=None)
                store.record_scan(
                    ref,
                    content_hash=f"{n:064x}",
                    encoding="utf-8",
                    embeds=[EmbedRecord(EmbedSpan(0, 5, "blockquote", post), "<blockquote/>")],
                    snapshots=[
                        PostSnapshot(
                            post_id=post,
                            text=f"post {n}",
                            source="markup",
                            url=f"https://x.com/desk/status/{post}",
                        )
                    ],
                    now="2026-01-01T00:00:00.000Z",
                )
        # A page's worth of posts: with a long IN list, the planner (without statistics)
        # took the index on removed_at for the cheaper way in.
        keys = [f"x:{1_500_000_000_000_000_000 + n}" for n in range(100)]
        store.set_local_paths({key: f"embeds/x/{key[2:]}.html" for key in keys})
        statements: list[str] = []
        store.db.conn.set_trace_callback(statements.append)
        found = store.articles_embedding(keys)
        pages = list(store.iter_indexed_posts(100, 100))
        store.db.conn.set_trace_callback(None)
        assert found == sorted(f"a{n}.html" for n in range(100))
        assert sorted(a["location"] for p in pages[0] for a in p.articles) == found
        joins = [s for s in statements if "JOIN articles" in s]
        assert len(joins) == 2
        for sql in joins:
            plan = " ; ".join(r[3] for r in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "removed_at" not in plan, plan
            assert "SEARCH e USING COVERING INDEX idx_embeds_post_key_article_id" in plan, plan


def test_status_lists_the_latest_failures_from_their_own_indexes(store: Store) -> None:
    """``status`` shows the latest failed articles (live ones only) and failed checks,
    newest first, read from indexes of the failing rows alone (migration 12): before, it
    walked every live article and every checked post to find them, linear in the archive.
    The statements are the store's own, caught as it runs them, then explained."""
    for n in range(30):
        ref = ArticleRef(location=f"a{n:02d}.html", source="site", path=f"/site/a{n:02d}.html")
        store.record_article_error(ref, f"cannot read {n}", f"2026-11-30T00:00:{n:02d}.000Z")
    store.mark_removed("site", [f"a{n:02d}.html" for n in range(30) if n != 29], LATER)
    for n in range(3):
        post = str(1_600_000_000_000_000_000 + n)
        store.save_snapshot(
            PostSnapshot(
                post_id=post, text="t", source="markup", url=f"https://x.com/d/status/{post}"
            ),
            NOW,
        )
        store.record_check(post, None, f"timeout {n}", LATER, f"2026-11-30T00:10:0{n}.000Z")
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    report = store.status_report(LATER, failures=5)
    store.db.conn.set_trace_callback(None)

    articles = [a["location"] for a in report["failures"]["articles"]]
    assert articles == ["a28.html", "a27.html", "a26.html", "a25.html", "a24.html"]  # not a29
    posts = [p["key"] for p in report["failures"]["posts"]]
    assert posts == [f"x:{1_600_000_000_000_000_000 + n}" for n in (2, 1, 0)]
    plans = {}
    for sql in statements:
        if "error IS NOT NULL" in sql:
            plans[sql] = " ; ".join(r[3] for r in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert len(plans) == 2
    assert sorted(
        ("idx_articles_failed" in p, "idx_posts_failed" in p) for p in plans.values()
    ) == [
        (False, True),
        (True, False),
    ], plans


def test_the_articles_left_to_rewrite_are_found_from_their_own_index(store: Store) -> None:
    """A pass and a recheck end by rewriting the articles whose copy is out of date; they
    are found from an index of those alone (migration 13), not by walking every live
    article (27 ms at 100,000 for a recheck with nothing due). Removed and failed articles
    are left out."""
    for n in range(40):
        ref = ArticleRef(location=f"a{n:02d}.html", source="site", path=f"/site/a{n:02d}.html")
        store.record_scan(
            ref, content_hash=f"{n:064x}", encoding="utf-8", embeds=[], snapshots=[], now=NOW
        )
        if n % 10:
            store.mark_rewritten(ref.location, f"/out/a{n:02d}.html", f"{n:064x}", NOW)
    store.record_article_error(ArticleRef(location="a10.html", source="site"), "gone bad", LATER)
    store.mark_removed("site", [f"a{n:02d}.html" for n in range(40) if n != 20], LATER)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    stale = [ref.location for ref in store.stale_article_refs()]
    store.db.conn.set_trace_callback(None)
    assert stale == ["a00.html", "a30.html"]
    # Read a chunk at a time, in the order of locations.
    assert [r.location for r in store.stale_article_refs("", 1)] == ["a00.html"]
    assert [r.location for r in store.stale_article_refs("a00.html", 1)] == ["a30.html"]
    assert store.stale_article_refs("a30.html", 1) == []
    # Every live article, a chunk at a time (regenerate walks them so), by location.
    live = [r.location for r in store.live_article_refs("a37.html", 5)]
    assert live == ["a38.html", "a39.html"]
    every = [r.location for r in store.live_article_refs()]
    assert len(every) == 39 and "a20.html" not in every and every == sorted(every)
    (sql,) = [s for s in statements if "output_hash IS NULL" in s]
    plan = " ; ".join(r[3] for r in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "idx_articles_stale" in plan and "removed_at" not in plan, plan
    statements.clear()
    store.db.conn.set_trace_callback(statements.append)
    store.live_article_refs("a10.html", 5)
    store.db.conn.set_trace_callback(None)
    plan = " ; ".join(r[3] for r in store.db.execute(f"EXPLAIN QUERY PLAN {statements[-1]}"))
    assert "TEMP B-TREE" not in plan, plan  # the chunks come in index order, unsorted
