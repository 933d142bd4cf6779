"""Embeds of reported-only platforms (Threads, Instagram, TikTok, Facebook) through the
pipeline: recorded per article, listed by `articles show`, `stats` and `export
--reported`, their markup left byte for byte; and the migration that adds their table
(and post_aliases) to an archive of the frozen schema v5 without losing a row."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from test_platforms import FB_DIV, FB_IFRAME, INSTAGRAM, THREADS, TIKTOK, X_EMBED

from archiver import Archive
from archiver.cli import cli
from archiver.storage import SCHEMA_VERSION, Store

FROZEN_V5 = Path(__file__).parent / "data" / "schema_v5.sql"


def project(tmp_path: Path, articles: dict[str, str]) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)
    for name, body in articles.items():
        (folder / name).write_text(f"<html><body>\n{body}\n</body></html>\n", encoding="utf-8")
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": "articles"}],
        "output": {"dir": "out"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_reported_embeds_are_recorded_listed_and_left_untouched(tmp_path: Path) -> None:
    body = "\n<p>between</p>\n".join([INSTAGRAM, THREADS, X_EMBED, TIKTOK, FB_DIV, FB_IFRAME])
    config = project(tmp_path, {"a.html": body})
    source = (tmp_path / "articles" / "a.html").read_bytes()
    with Archive.from_config(config) as archive:
        archive.config.no_fetching()
        report = archive.run()
        detail = archive.article("a.html")
        stats = archive.stats()
    assert report.errors == [] and report.embeds_found == 1  # the X post alone is archived
    assert detail is not None
    found = [(r.platform, r.url) for r in detail.reported]
    assert found == [
        (
            "instagram",
            "https://www.instagram.com/p/C1abc/?utm_source=ig_embed&utm_campaign=loading",
        ),
        ("threads", "https://www.threads.net/@someone/post/C9xyz"),
        ("tiktok", "https://www.tiktok.com/@user/video/7311111111111111111"),
        ("facebook", "https://www.facebook.com/page/posts/123"),
        ("facebook", "https://www.facebook.com/page/posts/456"),
    ]
    for r in detail.reported:  # the spans are the embeds' bytes in the article
        assert source[r.start : r.start + 1] == b"<"
    assert stats["reported_by_platform"] == {
        "facebook": 2,
        "instagram": 1,
        "threads": 1,
        "tiktok": 1,
    }
    out = (tmp_path / "out" / "a.html").read_bytes()
    for markup in (INSTAGRAM, THREADS, TIKTOK, FB_DIV, FB_IFRAME):
        assert markup.encode() in out  # byte for byte
    assert b'data-archived-post="x:1641086480675225601"' in out

    runner = CliRunner()
    shown = runner.invoke(cli, ["--config", str(config), "articles", "show", "a.html"])
    assert shown.exit_code == 0, shown.output
    assert "only reported" in shown.output and "www.threads.net/@someone/post/C9xyz" in shown.output
    shown_json = runner.invoke(
        cli, ["--config", str(config), "articles", "show", "a.html", "--json"]
    )
    assert len(json.loads(shown_json.output)["reported"]) == 5
    stats_out = runner.invoke(cli, ["--config", str(config), "stats"])
    assert "reported, not archived" in stats_out.output and "instagram" in stats_out.output
    exported = runner.invoke(cli, ["--config", str(config), "export", "--reported"])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in exported.output.splitlines()]
    assert [r["platform"] for r in rows] == [
        "instagram",
        "threads",
        "tiktok",
        "facebook",
        "facebook",
    ]
    assert rows[0]["location"] == "articles/a.html" and rows[0]["url"].startswith("https://")


def test_rescan_replaces_an_articles_reported_embeds(tmp_path: Path) -> None:
    config = project(tmp_path, {"a.html": INSTAGRAM + THREADS})
    with Archive.from_config(config) as archive:
        archive.config.no_fetching()
        archive.run()
        (tmp_path / "articles" / "a.html").write_text(f"<html><body>{TIKTOK}</body></html>")
        archive.run()
        detail = archive.article("a.html")
    assert detail is not None and [r.platform for r in detail.reported] == ["tiktok"]


def _frozen_v5(path: Path) -> None:
    """An archive written by schema v5 (the frozen DDL), with one row in each table."""
    db = sqlite3.connect(path)
    db.executescript(FROZEN_V5.read_text(encoding="utf-8"))
    db.execute(
        "INSERT INTO posts (key, platform, post_id, text, author_handle, status, source, "
        "first_seen_at) VALUES ('x:20', 'x', '20', 'just setting up my twttr', 'jack', "
        "'live', 'syndication', '2026-01-01T00:00:00.000Z')"
    )
    db.execute(
        "INSERT INTO snapshots (post_key, captured_at, source, status, content_hash, text) "
        "VALUES ('x:20', '2026-01-01T00:00:00.000Z', 'syndication', 'live', 'abc', "
        "'just setting up my twttr')"
    )
    db.execute(
        "INSERT INTO articles (location, source, path, embed_count) "
        "VALUES ('articles/a.html', 'articles', 'a.html', 1)"
    )
    db.execute(
        "INSERT INTO embeds (article_id, post_key, ordinal, form, start, end, original) "
        "VALUES (1, 'x:20', 0, 'blockquote', 10, 90, '<blockquote>…</blockquote>')"
    )
    db.execute(
        "INSERT INTO media (post_key, ordinal, kind, url) "
        "VALUES ('x:20', 0, 'photo', 'https://pbs.twimg.com/media/a.jpg')"
    )
    db.execute("INSERT INTO runs (kind, outcome) VALUES ('run', 'ok')")
    db.commit()
    db.close()


def test_an_archive_of_schema_v5_is_brought_forward_without_losing_a_row(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    _frozen_v5(path)
    tables = ("posts", "snapshots", "articles", "embeds", "media", "runs")
    before = {t: sqlite3.connect(path).execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    with Store(path) as store:
        version = store.db.execute("PRAGMA user_version").fetchone()[0]
        after = {t: store.db.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
        hits = store.search_posts("twttr")
        assert store.reported_embeds() == [] and store.post_aliases(["x:20"]) == {}
    assert version == SCHEMA_VERSION >= 7
    assert after == before
    assert [h.post.key for h in hits] == ["x:20"]  # the full-text index still answers
