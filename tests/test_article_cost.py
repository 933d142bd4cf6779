"""What one article costs beyond reading it: its SQLite statements, and the output path
guard that the faster path computation must keep (issue 13).

Statement counts are exact and deterministic, so they guard the per-article cost
without a timed assertion: each statement is a round trip through sqlite3 (and was,
through sqlite-utils, a savepoint with a fresh random name compiled every time).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from archive_helpers import ARABIC_TEXT, POST_ARABIC, page, tweet

from archiver import Archive
from archiver.models import ArticleRef
from archiver.storage import Store

PLAIN = (
    '<!doctype html><html><head><meta charset="utf-8"><title>{n}</title></head>'
    "<body><p>Article {n}, with no embed at all.</p>"
    '<a href="https://twitter.com/newsdesk">Follow us</a></body></html>\n'
)


def _project(tmp_path: Path, count: int) -> Path:
    articles = tmp_path / "articles"
    for n in range(count):
        folder = articles / f"section{n % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"story{n}.html").write_text(PLAIN.format(n=n), encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        "sources:\n  - kind: directory\n    path: articles\n"
        "output:\n  dir: out\nx:\n  fetch: false\n",
        encoding="utf-8",
    )
    return config


def _statements(archive: Archive) -> list[str]:
    """The SQL the next run executes (filled as it runs)."""
    seen: list[str] = []
    archive.store.db.conn.set_trace_callback(seen.append)
    return seen


def _passes(tmp_path: Path, count: int) -> tuple[int, int, int]:
    """Statements of a first run, of a run after touching every article, and of the
    run after that (which must skip them all unread)."""
    config = _project(tmp_path, count)
    with Archive.from_config(config) as archive:
        first = _statements(archive)
        report = archive.run()
        assert report.errors == [] and report.articles_rewritten == count
        for path in (tmp_path / "articles").rglob("*.html"):
            os.utime(path)  # a new mtime, the same bytes
        touched = _statements(archive)
        report = archive.run()
        # The same bytes: read and hashed, nothing written, the copy confirmed again.
        assert report.articles_scanned == count and report.articles_rewritten == 0
        after = _statements(archive)
        report = archive.run()
        assert report.articles_skipped == count and report.articles_scanned == 0
    for path in (tmp_path / "articles").rglob("*.html"):
        copy = tmp_path / "out" / path.relative_to(tmp_path / "articles")
        assert copy.read_bytes() == path.read_bytes()  # no embed: the copy is the article
    return len(first), len(touched), len(after)


def test_an_article_without_embeds_costs_a_handful_of_statements(tmp_path: Path) -> None:
    """Per article (the difference between 30 and 10 articles, so the per-run statements
    cancel out): a first run used 15 statements, a run after ``touch`` 11. Now a first
    run reads the row, notes the location, inserts the row, checks that no other article
    writes its copy, and records the copy; a touched one needs one write, not two units
    of work of a SELECT, an UPDATE and two savepoint statements each."""
    small = _passes(tmp_path / "small", 10)
    large = _passes(tmp_path / "large", 30)
    first, touched, unchanged = ((b - a) / 20 for a, b in zip(small, large, strict=True))
    assert first <= 5, first
    assert touched <= 4, touched
    assert unchanged <= 3, unchanged


def test_storing_a_new_article_alone_commits_and_frees_the_archive(tmp_path: Path) -> None:
    """Outside a batch, the one-statement path of ``record_scan`` still commits at once:
    another program can write to the archive right after, without waiting for a lock."""
    path = tmp_path / "archive.db"
    with Store(path) as store:
        ref = ArticleRef(location="a.html", source="s", path=str(tmp_path / "a.html"))
        store.record_scan(ref, content_hash="h", encoding="utf-8", embeds=[], snapshots=[], now="t")
        assert not store.db.conn.in_transaction
        other = sqlite3.connect(path, timeout=0)
        other.execute("UPDATE articles SET error = NULL")
        other.commit()
        other.close()
        state = store.get_article("a.html")
    assert state is not None and state.content_hash == "h" and state.embed_count == 0


def _run_one(tmp_path: Path, relpath: str) -> tuple[Archive, Path]:
    article = tmp_path / "articles" / relpath
    article.parent.mkdir(parents=True, exist_ok=True)
    article.write_text(PLAIN.format(n=1), encoding="utf-8")
    config = _project(tmp_path, 0)
    return Archive.from_config(config), article


def test_a_symlinked_folder_in_the_output_tree_is_never_written_through(tmp_path: Path) -> None:
    """The output path is resolved once per folder now: a folder of the output tree that
    is a symlink out of it is still refused, and nothing lands outside."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "news").symlink_to(outside)
    archive, _ = _run_one(tmp_path, "news/story.html")
    with archive:
        report = archive.run()
    assert [e.location for e in report.errors] == ["articles/news/story.html"]
    assert "refusing to write outside" in report.errors[0].reason
    assert os.listdir(outside) == []


def test_a_symlinked_copy_in_the_output_tree_is_never_written_through(tmp_path: Path) -> None:
    """The last part of the path is checked too: a copy that is a symlink out of the tree
    is refused, and the file it points to keeps its bytes."""
    target = tmp_path / "precious.txt"
    target.write_bytes(b"keep me")
    (tmp_path / "out" / "news").mkdir(parents=True)
    (tmp_path / "out" / "news" / "story.html").symlink_to(target)
    archive, _ = _run_one(tmp_path, "news/story.html")
    with archive:
        report = archive.run()
    assert [e.location for e in report.errors] == ["articles/news/story.html"]
    assert "refusing to write outside" in report.errors[0].reason
    assert target.read_bytes() == b"keep me"


def test_copies_made_stale_by_a_later_batch_are_redone_in_few_commits(tmp_path: Path) -> None:
    """A post met with richer markup in a later batch marks every earlier copy showing
    it out of date; the end of the pass rewrites them, now a batch per transaction
    instead of one commit each (the run made 44 commits, 34 of them for these)."""
    articles = tmp_path / "articles"
    articles.mkdir()
    short = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT)
    for n in range(34):  # more than a batch (pipeline.BATCH_SIZE is 32)
        (articles / f"a-{n:02d}.html").write_text(page(f"A{n}", short), encoding="utf-8")
    richer = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT + " (updated)")
    (articles / "b-later.html").write_text(page("Later", richer), encoding="utf-8")
    config = _project(tmp_path, 0)
    with Archive.from_config(config) as archive:
        statements = _statements(archive)
        report = archive.run()
    assert report.errors == []
    for n in range(34):  # every copy shows the richer version
        copy = (tmp_path / "out" / f"a-{n:02d}.html").read_text(encoding="utf-8")
        assert "(updated)" in copy
    commits = [sql for sql in statements if sql == "COMMIT"]
    assert len(commits) <= 16, len(commits)  # 44 before, 13 now
