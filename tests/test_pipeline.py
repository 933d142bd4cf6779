"""End-to-end: a folder of articles -> archive -> rewritten articles, offline."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from archiver import Archive
from archiver.cli import cli
from archiver.detect import find_embeds

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "articles"
SEED = "mrinank-sharma-anthropic-resignation.html"


def make_project(
    tmp_path: Path, extra: str = "", include: str = '["**/*.html", "**/*.htm", "**/*.md"]'
) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "articles")
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        f"sources:\n  - kind: directory\n    path: articles\n    include: {include}\n"
        "output:\n  dir: out\n"
        "x:\n  fetch: false\n" + extra,
        encoding="utf-8",
    )
    return config


def outside_spans(data: bytes) -> list[bytes]:
    """The article's bytes between its embeds."""
    pieces, position = [], 0
    for span in find_embeds(data, markdown=False):
        pieces.append(data[position : span.start])
        position = span.end
    pieces.append(data[position:])
    return pieces


def test_run_archives_the_seed_article(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Archive.from_config(config) as archive:
        report = archive.run()
        assert report.errors == []
        first = archive.post("x:2020861077922902691")
        second = archive.post("2020862587872342691")
    assert first is not None and second is not None
    assert first.author_handle == "MrinankSharma"
    assert first.author_name == "mrinank"
    assert first.text is not None and first.text.startswith(
        "Today is my last day at Anthropic. I resigned.\n"
    )
    assert "pic.twitter.com/Qe4QyAFmxL" in first.text
    assert first.created_at == "2026-02-09T14:03:21.417Z"  # from the snowflake id
    assert first.url == "https://x.com/MrinankSharma/status/2020861077922902691"
    assert first.status == "unknown" and first.source == "markup"
    assert first.local_path == "embeds/x/2020861077922902691.html"
    assert (tmp_path / "out" / first.local_path).exists()


def test_rewrite_keeps_every_byte_outside_the_embeds(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Archive.from_config(config) as archive:
        archive.run()
    for source in sorted((tmp_path / "articles").rglob("*.html")):
        original = source.read_bytes()
        rewritten = (tmp_path / "out" / source.relative_to(tmp_path / "articles")).read_bytes()
        spans = find_embeds(original)
        if not spans:
            assert rewritten == original
            continue
        assert b"platform.twitter.com/widgets.js" not in rewritten
        assert b'<script async src="https://platform' not in rewritten
        # The outside pieces appear, in order, unchanged, around the new embeds.
        position = 0
        for piece in outside_spans(original):
            found = rewritten.find(piece, position)
            assert found == position or (position > 0 and found > position), source.name
            position = found + len(piece)
        assert position == len(rewritten)


def test_rewritten_embed_is_static_and_marked(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Archive.from_config(config) as archive:
        archive.run()
    html = (tmp_path / "out" / SEED).read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    embeds = soup.select("blockquote[data-archived-post]")
    assert [e["data-archived-post"] for e in embeds] == [
        "x:2020861077922902691",
        "x:2020862587872342691",
    ]
    for embed in embeds:
        assert embed.find("script") is None
        assert embed.find("time")["datetime"].startswith("2026-02-09T")
        hrefs = [a["href"] for a in embed.find_all("a")]
        assert any(h.startswith("embeds/x/") for h in hrefs)
        assert any(h.startswith("https://x.com/MrinankSharma/status/") for h in hrefs)
        for tag in embed.find_all(src=True):
            assert not tag["src"].startswith(("http:", "https:", "//"))
    # Only the site's own scripts are left on the page.
    assert [s.get("src") for s in soup.find_all("script")] == [None, "/assets/site.js"]


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Archive.from_config(config) as archive:
        archive.run()
        before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
        report = archive.run()
        after = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert before == after
    assert report.articles_rewritten == 0
    assert report.posts_new == 0 and report.posts_updated == 0
    assert report.articles_skipped >= 5


def test_scanning_the_output_again_is_idempotent(tmp_path: Path) -> None:
    """Running over already rewritten articles (in place) changes nothing more."""
    config = make_project(tmp_path, extra="")
    text = config.read_text().replace("  dir: out\n", "  dir: out\n  in_place: true\n")
    config.write_text(text)
    with Archive.from_config(config) as archive:
        archive.run()
        once = {p: p.read_bytes() for p in (tmp_path / "articles").rglob("*") if p.is_file()}
        (tmp_path / "archive.db").exists()
    # A fresh archive over the rewritten files: they are recognised, nothing is rewritten.
    with Archive.from_config(config) as archive:
        report = archive.regenerate()
        twice = {p: p.read_bytes() for p in (tmp_path / "articles").rglob("*") if p.is_file()}
    assert once == twice
    assert report.articles_rewritten == 0


def test_same_post_in_two_articles_is_one_post(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    seed = (tmp_path / "articles" / SEED).read_bytes()
    (tmp_path / "articles" / "copy-of-seed.html").write_bytes(seed)
    with Archive.from_config(config) as archive:
        report = archive.run()
        keys = archive.post_keys()
    assert keys.count("x:2020861077922902691") == 1
    db = sqlite3.connect(tmp_path / "archive.db")
    rows = db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT article_id) FROM embeds WHERE post_key = ?",
        ["x:2020861077922902691"],
    ).fetchone()
    assert rows == (2, 2)
    snapshots = db.execute(
        "SELECT COUNT(*) FROM snapshots WHERE post_key = ?", ["x:2020861077922902691"]
    ).fetchone()[0]
    assert snapshots == 1
    assert report.embeds_found >= 4


def test_binary_and_unreadable_files_are_reported_and_skipped(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    (tmp_path / "articles" / "broken.html").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "run", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [e["article"] for e in data["errors"]] == ["articles/broken.html"]
    assert "binary" in data["errors"][0]["reason"]
    # Everything else was archived anyway.
    assert data["embeds_found"] >= 7
    assert data["articles_rewritten"] >= 4
    assert (tmp_path / "out" / SEED).exists()


def test_a_touched_article_is_confirmed_and_one_turned_binary_is_reported(
    tmp_path: Path,
) -> None:
    # A rerun reads an article whose mtime moved: the same bytes are confirmed without a
    # rewrite; bytes that became a binary file fail that article alone, its copy kept.
    config = make_project(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "run"]).exit_code == 0
    seed = tmp_path / "articles" / SEED
    copy = tmp_path / "out" / SEED
    written = copy.read_bytes()
    os.utime(seed, ns=(seed.stat().st_atime_ns, seed.stat().st_mtime_ns + 10**9))
    touched = json.loads(runner.invoke(cli, ["--config", str(config), "run", "--json"]).stdout)
    assert (touched["articles_scanned"], touched["articles_rewritten"]) == (1, 0)
    assert touched["errors"] == []
    others = sorted(p for p in (tmp_path / "articles").iterdir() if p.name != SEED)
    others[0].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    result = runner.invoke(cli, ["--config", str(config), "run", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [e["article"] for e in data["errors"]] == [f"articles/{others[0].name}"]
    assert "binary" in data["errors"][0]["reason"]
    assert data["articles_scanned"] == 0
    assert copy.read_bytes() == written


def test_run_json_summary(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "run", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in (
        "articles_scanned",
        "embeds_found",
        "posts_new",
        "posts_updated",
        "articles_rewritten",
        "errors",
    ):
        assert key in data
    assert data["articles_scanned"] == 5
    assert data["errors"] == []
    assert data["posts_new"] == data["embeds_found"] - 0 or data["posts_new"] > 0


def test_encodings_are_kept_in_the_output(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Archive.from_config(config) as archive:
        archive.run()
        jack = archive.post("x:20")
    out = (tmp_path / "out" / "legacy-windows-1252.html").read_bytes()
    assert b"Caf\xe9 society" in out  # still windows-1252, not re-encoded as UTF-8
    assert b'data-archived-post="x:20"' in out
    assert (
        jack is not None and jack.created_at == "2006-03-21T00:00:00.000Z"
    )  # pre-snowflake: date from markup


def test_posts_show_and_list_cli(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    runner = CliRunner()
    runner.invoke(cli, ["--config", str(config), "run"])
    shown = runner.invoke(
        cli,
        [
            "--config",
            str(config),
            "posts",
            "show",
            "https://twitter.com/MrinankSharma/status/2020862587872342691",
            "--json",
        ],
    )
    assert shown.exit_code == 0, shown.output
    post = json.loads(shown.stdout)
    assert post["key"] == "x:2020862587872342691"
    assert post["lang"] == "en"
    missing = runner.invoke(cli, ["--config", str(config), "posts", "show", "x:1", "--json"])
    assert missing.exit_code == 3


def test_missing_config_explains_how_to_create_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.yaml"), "run"])
    assert result.exit_code == 2
    assert "no config file" in result.output and "Create one" in result.output


def test_config_error_names_key_and_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: a.db\noutput:\n  in_plaec: true\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "run"])
    assert result.exit_code == 2
    assert "output.in_plaec" in result.output and str(config) in result.output


@pytest.mark.parametrize("mode", ["mirror", "in_place"])
def test_markdown_sources_are_rewritten_in_place_of_the_html_block(
    tmp_path: Path, mode: str
) -> None:
    config = make_project(tmp_path)
    if mode == "in_place":
        config.write_text(
            config.read_text().replace("  dir: out\n", "  dir: out\n  in_place: true\n")
        )
    with Archive.from_config(config) as archive:
        archive.run()
    target = tmp_path / ("out" if mode == "mirror" else "articles") / "blog" / "hugo-post.md"
    text = target.read_text(encoding="utf-8")
    assert 'data-archived-post="x:1875083037872181255"' in text
    # The fenced code sample is documentation, not an embed: untouched.
    assert (
        '```html\n<blockquote class="twitter-tweet"><a href="https://twitter.com/ada_speaks' in text
    )
    assert text.endswith("#### Done!\n")


def test_unwritable_output_is_reported_per_article_and_loses_nothing(tmp_path: Path) -> None:
    """A write that fails (here: a file where a folder must go) fails that article only."""
    config = make_project(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "blog").write_text("in the way")
    result = CliRunner().invoke(cli, ["--config", str(config), "run", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [e["article"] for e in data["errors"]] == ["articles/blog/hugo-post.md"]
    assert data["errors"][0]["reason"].startswith("rewrite:")
    assert (tmp_path / "out" / "blog").read_text() == "in the way"
    assert (tmp_path / "out" / SEED).exists()
    assert not list((tmp_path / "out").rglob("*.tmp"))
    db = sqlite3.connect(tmp_path / "archive.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Once the obstacle is gone, the next run writes the article.
    (tmp_path / "out" / "blog").unlink()
    again = CliRunner().invoke(cli, ["--config", str(config), "run", "--json"])
    assert again.exit_code == 0, again.output
    assert "data-archived-post" in (tmp_path / "out" / "blog" / "hugo-post.md").read_text()


def test_written_files_are_readable_by_a_web_server(tmp_path: Path) -> None:
    """New files get the usual umask mode, not the 0600 of temp files."""
    config = make_project(tmp_path)
    old = os.umask(0o022)
    try:
        with Archive.from_config(config) as archive:
            archive.run()
    finally:
        os.umask(old)
    for path in (tmp_path / "out" / SEED, tmp_path / "out" / "embeds" / "index.html"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    page = next((tmp_path / "out" / "embeds" / "x").iterdir())
    assert stat.S_IMODE(page.stat().st_mode) == 0o644


def test_output_folder_inside_the_source_is_not_scanned(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "site")
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\nsources:\n  - kind: directory\n    path: site\n"
        "output:\n  dir: site/out\nx:\n  fetch: false\n"
    )
    with Archive.from_config(config) as archive:
        first = archive.run()
        second = archive.run()
        locations = archive.store.article_locations()
    assert not any("/out/" in location for location in locations)
    assert first.articles_scanned == 4  # the .html files; nothing under site/out
    assert second.articles_scanned == 0 and second.articles_rewritten == 0
    assert not (tmp_path / "site" / "out" / "out").exists()


def test_output_dir_equal_to_a_source_folder_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("sources:\n  - kind: directory\n    path: site\noutput:\n  dir: site\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "run"])
    assert result.exit_code == 2
    assert "output.dir is the folder of sources.0" in result.output


def test_in_place_restore_after_an_edit_restores_the_source_wherever_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_project(tmp_path)
    config.write_text(config.read_text().replace("  dir: out\n", "  dir: out\n  in_place: true\n"))
    source = tmp_path / "articles" / SEED
    original = source.read_bytes()
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "run"]).exit_code == 0
    assert runner.invoke(cli, ["--config", str(config), "run"]).exit_code == 0
    # An editor changes the article outside its embeds; the next run sees it.
    edited = source.read_bytes().replace(b"</footer>", b"<p>Correction.</p></footer>")
    source.write_bytes(edited)
    assert runner.invoke(cli, ["--config", str(config), "run"]).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / SEED).write_text("decoy")
    monkeypatch.chdir(elsewhere)
    result = runner.invoke(cli, ["--config", str(config), "restore", SEED, "--json"])
    assert result.exit_code == 0, result.output
    assert (elsewhere / SEED).read_text() == "decoy"
    assert source.read_bytes() == original.replace(b"</footer>", b"<p>Correction.</p></footer>")


def test_regenerate_names_articles_like_restore_and_refuses_unknown_ones(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    runner = CliRunner()
    runner.invoke(cli, ["--config", str(config), "run"])
    (tmp_path / "out" / SEED).unlink()
    result = runner.invoke(cli, ["--config", str(config), "regenerate", SEED, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["articles_rewritten"] == 1
    assert (tmp_path / "out" / SEED).exists()
    unknown = runner.invoke(cli, ["--config", str(config), "regenerate", "nosuch.html"])
    assert unknown.exit_code == 3 and "nosuch.html" in unknown.output


def test_run_writes_local_copies_again_when_they_were_deleted(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Archive.from_config(config) as archive:
        archive.run()
        pages = sorted(p.name for p in (tmp_path / "out" / "embeds" / "x").iterdir())
        shutil.rmtree(tmp_path / "out" / "embeds")
        report = archive.run()
    assert report.articles_skipped == 5  # the articles themselves did not change
    assert sorted(p.name for p in (tmp_path / "out" / "embeds" / "x").iterdir()) == pages
    assert (tmp_path / "out" / "embeds" / "index.html").exists()


def test_losing_the_database_does_not_erase_posts_from_rewritten_articles(tmp_path: Path) -> None:
    """In place, the articles hold our stable embeds: a fresh archive reads them back."""
    config = make_project(tmp_path)
    config.write_text(config.read_text().replace("  dir: out\n", "  dir: out\n  in_place: true\n"))
    with Archive.from_config(config) as archive:
        archive.run()
    rewritten = (tmp_path / "articles" / SEED).read_bytes()
    for leftover in tmp_path.glob("archive.db*"):
        leftover.unlink()
    with Archive.from_config(config) as archive:
        report = archive.run()
        post = archive.post("x:2020861077922902691")
    assert report.errors == []
    assert (tmp_path / "articles" / SEED).read_bytes() == rewritten
    assert post is not None and post.source == "archived-copy"
    assert post.text is not None and post.text.startswith("Today is my last day at Anthropic.")
    assert post.author_name == "mrinank" and post.author_handle == "MrinankSharma"
    assert post.created_at == "2026-02-09T14:03:21.417Z"
    page = (tmp_path / "out" / "embeds" / "x" / "2020861077922902691.html").read_text()
    assert "Today is my last day at Anthropic." in page


def test_embeds_url_makes_links_root_relative_for_sites_that_move_pages(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    config.write_text(
        config.read_text().replace("  dir: out\n", '  dir: out\n  embeds_url: "/archive/"\n')
    )
    with Archive.from_config(config) as archive:
        archive.run()
    text = (tmp_path / "out" / "blog" / "hugo-post.md").read_text(encoding="utf-8")
    assert 'href="/archive/x/1875083037872181255.html"' in text
    bad = tmp_path / "bad.yaml"
    bad.write_text("output:\n  embeds_url: https://cdn.example/embeds\n")
    result = CliRunner().invoke(cli, ["--config", str(bad), "run"])
    assert result.exit_code == 2 and "output.embeds_url" in result.output


def test_two_articles_mapping_to_one_output_file_both_get_written(tmp_path: Path) -> None:
    """Two unnamed folders holding the same file name must not overwrite each other."""
    for folder, post_id in (("one", "1641086480675225601"), ("two", "1629307668568633344")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "story.html").write_text(
            '<blockquote class="twitter-tweet"><p>hi</p>&mdash; A (@a) '
            f'<a href="https://twitter.com/a/status/{post_id}">d</a></blockquote>\n'
        )
    config = tmp_path / "config.yaml"
    config.write_text(
        "sources:\n  - kind: directory\n    path: one\n  - kind: directory\n    path: two\n"
        "x:\n  fetch: false\n"
    )
    with Archive.from_config(config) as archive:
        archive.run()
        again = archive.run()
    outputs = sorted(p.name for p in (tmp_path / "out").glob("story*.html"))
    assert len(outputs) == 2 and "story.html" in outputs
    texts = "".join((tmp_path / "out" / name).read_text() for name in outputs)
    assert "x:1641086480675225601" in texts and "x:1629307668568633344" in texts
    assert again.articles_rewritten == 0


def test_an_archive_from_an_older_schema_is_migrated(tmp_path: Path) -> None:
    import sqlite_utils

    from archiver.storage.schema import MIGRATIONS, SCHEMA_VERSION, schema_version

    db = sqlite_utils.Database(tmp_path / "archive.db")
    for migration in MIGRATIONS[:2]:
        migration(db)
    db.execute("PRAGMA user_version = 2")
    db.close()
    config = make_project(tmp_path)
    with Archive.from_config(config) as archive:
        assert schema_version(archive.store.db) == SCHEMA_VERSION
        assert archive.run().errors == []


def test_db_option_is_for_queries_and_bad_databases_are_usage_errors(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    runner = CliRunner()
    # A query before any run: no database yet is a mistake, not an empty archive.
    early = runner.invoke(cli, ["--config", str(config), "posts", "list"])
    assert early.exit_code == 2 and "no archive database" in early.output
    assert not (tmp_path / "archive.db").exists()
    runner.invoke(cli, ["--config", str(config), "run"])
    backup = tmp_path / "backup.db"
    backup.write_bytes((tmp_path / "archive.db").read_bytes())
    for command in (["run"], ["restore"], ["regenerate"], ["index"], ["serve"]):
        result = runner.invoke(cli, ["--db", str(backup), *command])
        assert result.exit_code == 2, command
        assert "--db opens an archive for queries only" in result.output
    assert runner.invoke(cli, ["--db", str(backup), "posts", "list", "--json"]).exit_code == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = runner.invoke(cli, ["--db", str(junk), "posts", "list"])
    assert result.exit_code == 2 and "not an embed-archiver database" in result.output


def test_an_ambiguous_article_name_lists_the_candidates(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    (tmp_path / "articles" / "other").mkdir()
    shutil.copy(tmp_path / "articles" / SEED, tmp_path / "articles" / "other" / SEED)
    runner = CliRunner()
    runner.invoke(cli, ["--config", str(config), "run"])
    for command in (["articles", "show", SEED], ["regenerate", SEED], ["restore", SEED]):
        result = runner.invoke(cli, ["--config", str(config), *command])
        assert result.exit_code == 2, command
        assert "matches several articles" in result.output and f"other/{SEED}" in result.output
    named = runner.invoke(cli, ["--config", str(config), "articles", "show", f"other/{SEED}"])
    assert named.exit_code == 0
