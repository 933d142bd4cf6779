"""posts list/search/show, articles list/show and stats: CLI and Python API on a real archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from archive_helpers import (
    ARABIC_TEXT,
    HINDI_TEXT,
    POST_ARABIC,
    POST_ELECTION,
    POST_HOSTILE,
    POST_JACK,
    build_archive,
    set_status,
)
from click.testing import CliRunner, Result

from archiver import Archive
from archiver.api import NotFoundError, QueryError
from archiver.cli import cli
from archiver.storage.queries import fts_phrases


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = build_archive(tmp_path_factory.mktemp("archive"))
    set_status(config, POST_ARABIC, "deleted")
    return config


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def as_json(config: Path, *args: str) -> Any:
    result = invoke(config, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def keys(rows: list[dict[str, Any]]) -> list[str]:
    return [row["key"] for row in rows]


# -- posts list ----------------------------------------------------------------------


def test_posts_list_orders_by_created_by_default(project: Path) -> None:
    rows = as_json(project, "posts", "list")
    assert keys(rows) == [
        f"x:{POST_JACK}",
        f"x:{POST_HOSTILE}",
        f"x:{POST_ELECTION}",
        f"x:{POST_ARABIC}",
    ]
    assert (
        as_json(project, "posts", "list", "--desc", "--limit", "1")[0]["key"] == f"x:{POST_ARABIC}"
    )


def test_posts_list_filters(project: Path) -> None:
    assert keys(as_json(project, "posts", "list", "--author", "@JACK")) == [f"x:{POST_JACK}"]
    assert keys(as_json(project, "posts", "list", "--status", "deleted")) == [f"x:{POST_ARABIC}"]
    assert keys(as_json(project, "posts", "list", "--status", "gone")) == [f"x:{POST_ARABIC}"]
    assert keys(as_json(project, "posts", "list", "--platform", "mastodon")) == []
    # --until with a bare date includes that whole day.
    dated = as_json(project, "posts", "list", "--since", "2023-02-25", "--until", "2023-03-29")
    assert keys(dated) == [f"x:{POST_HOSTILE}", f"x:{POST_ELECTION}"]
    compact = as_json(project, "posts", "list", "--since", "20230225", "--until", "20230329")
    assert keys(compact) == keys(dated)
    by_article = as_json(project, "posts", "list", "--article", "tech/history.html")
    assert keys(by_article) == [f"x:{POST_JACK}", f"x:{POST_HOSTILE}"]
    by_author = as_json(project, "posts", "list", "--order", "author")
    assert [r["author_handle"] for r in by_author] == [
        "evil_user",
        "hindinews",
        "jack",
        "newsdesk_ar",
    ]
    assert len(as_json(project, "posts", "list", "--archived-since", "2000-01-01")) == 4


def test_posts_list_bad_input_exit_codes(project: Path) -> None:
    assert invoke(project, "posts", "list", "--since", "last tuesday").exit_code == 2
    assert invoke(project, "posts", "list", "--order", "sideways").exit_code == 2
    assert invoke(project, "posts", "list", "--article", "no/such.html").exit_code == 3


def test_posts_list_table(project: Path) -> None:
    result = invoke(project, "posts", "list")
    assert result.exit_code == 0
    assert "@jack" in result.output and "4 posts" in result.output


# -- search --------------------------------------------------------------------------


def test_search_hindi_and_arabic(project: Path) -> None:
    hindi = as_json(project, "posts", "search", "चुनाव")
    assert keys(hindi) == [f"x:{POST_ELECTION}"]
    assert "[चुनाव]" in hindi[0]["snippet"]
    arabic = as_json(project, "posts", "search", "الموقع")
    assert keys(arabic) == [f"x:{POST_ARABIC}"]
    assert ARABIC_TEXT.split()[0] in arabic[0]["snippet"]
    # Author names are searched too.
    assert keys(as_json(project, "posts", "search", "समाचार")) == [f"x:{POST_ELECTION}"]
    assert HINDI_TEXT.startswith(as_json(project, "posts", "search", "नमस्ते")[0]["text"][:5])
    # Words are whole: vowel signs are part of a Devanagari word, not separators, so
    # "चीन" (China) and "पर" (on) do not match pieces of "चुनाव" or "परिणाम".
    assert as_json(project, "posts", "search", "चीन") == []
    assert as_json(project, "posts", "search", "पर") == []


def test_search_ranks_and_filters(project: Path) -> None:
    assert keys(as_json(project, "posts", "search", "twttr")) == [f"x:{POST_JACK}"]
    assert keys(as_json(project, "posts", "search", "twt*")) == [f"x:{POST_JACK}"]
    assert as_json(project, "posts", "search", "twttr", "--status", "deleted") == []
    hits = as_json(project, "posts", "search", "evil_user")
    assert keys(hits) == [f"x:{POST_HOSTILE}"] and isinstance(hits[0]["score"], float)


@pytest.mark.parametrize(
    "query", ['"foo', "AND", "OR NOT", "NEAR(", "-", "*", "a:b", '"', "((", "^"]
)
def test_search_never_crashes_on_fts_syntax(project: Path, query: str) -> None:
    result = invoke(project, "posts", "search", query, "--json")
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.output), list)


def test_search_raw_syntax(project: Path) -> None:
    hits = as_json(project, "posts", "search", "--raw", "twttr OR चुनाव")
    assert sorted(keys(hits)) == sorted([f"x:{POST_JACK}", f"x:{POST_ELECTION}"])
    assert as_json(project, "posts", "search", "--raw", "twttr NOT jack") == []
    bad = invoke(project, "posts", "search", "--raw", '"unbalanced')
    assert bad.exit_code == 2 and "invalid full-text query" in bad.output


def test_fts_phrases_quotes_every_word() -> None:
    assert fts_phrases('say "hi" AND bye*') == '"say" """hi""" "AND" "bye"*'
    assert fts_phrases("  -  ( ") == ""


# -- show ----------------------------------------------------------------------------


def test_posts_show_detail(project: Path) -> None:
    detail = as_json(project, "posts", "show", f"https://x.com/anyone/status/{POST_ARABIC}")
    assert detail["key"] == f"x:{POST_ARABIC}" and detail["status"] == "deleted"
    assert [s["source"] for s in detail["snapshots"]] == ["markup", "syndication"]
    assert [s["status"] for s in detail["snapshots"]] == ["unknown", "deleted"]
    assert detail["snapshots"][0]["text"] == ARABIC_TEXT  # what it said before it was deleted
    assert sorted(a["location"] for a in detail["articles"]) == [
        "articles/solo.html",
        "articles/world/elections.html",
    ]
    jack = as_json(project, "posts", "show", POST_JACK)
    assert [a["ordinal"] for a in jack["articles"]] == [0, 2]  # embedded twice in one article
    table = invoke(project, "posts", "show", f"x:{POST_HOSTILE}")
    assert table.exit_code == 0 and "snapshots" in table.output and "embedded in" in table.output


def test_posts_show_not_found(project: Path) -> None:
    result = invoke(project, "posts", "show", "x:999")
    assert result.exit_code == 3


# -- articles ------------------------------------------------------------------------


def test_articles_list_and_status_filter(project: Path) -> None:
    rows = as_json(project, "articles", "list")
    assert [r["location"] for r in rows] == [
        "articles/solo.html",
        "articles/tech/history.html",
        "articles/world/elections.html",
    ]
    gone = as_json(project, "articles", "list", "--status", "deleted")
    assert [r["location"] for r in gone] == ["articles/solo.html", "articles/world/elections.html"]
    assert gone[1]["statuses"] == {"deleted": 1, "unknown": 1}
    assert invoke(project, "articles", "list").exit_code == 0


def test_articles_show(project: Path) -> None:
    detail = as_json(project, "articles", "show", "world/elections.html")
    assert [e["post_key"] for e in detail["embeds"]] == [f"x:{POST_ELECTION}", f"x:{POST_ARABIC}"]
    assert [e["status"] for e in detail["embeds"]] == ["unknown", "deleted"]
    assert detail["embeds"][0]["original"].startswith('<blockquote class="twitter-tweet">')
    source_path = detail["article"]["path"]
    assert (
        as_json(project, "articles", "show", source_path)["article"]["id"]
        == detail["article"]["id"]
    )
    assert invoke(project, "articles", "show", "world/elections.html").exit_code == 0
    assert invoke(project, "articles", "show", "nope.html").exit_code == 3


# -- stats, --db and the Python API --------------------------------------------------


def test_stats(project: Path) -> None:
    data = as_json(project, "stats", "--top", "2")
    assert data["posts"] == 4 and data["articles"] == 3 and data["embeds"] == 6
    assert data["by_status"] == {"unknown": 3, "deleted": 1}
    assert data["by_platform"] == {"x": 4}
    assert len(data["top_authors"]) == 2
    assert data["db_bytes"] > 0 and data["media_bytes"] == 0
    assert invoke(project, "stats").exit_code == 0


def test_db_option_opens_the_database_directly(project: Path) -> None:
    db = project.parent / "archive.db"
    result = CliRunner().invoke(
        cli, ["--db", str(db), "posts", "list", "--json", "--author", "jack"]
    )
    assert result.exit_code == 0 and keys(json.loads(result.output)) == [f"x:{POST_JACK}"]
    missing = CliRunner().invoke(cli, ["--db", str(project.parent / "nope.db"), "stats"])
    assert missing.exit_code == 2


def test_python_api(project: Path) -> None:
    with Archive.open(project.parent / "archive.db") as archive:
        assert [p.key for p in archive.posts(status="deleted")] == [f"x:{POST_ARABIC}"]
        assert [p.key for p in archive.posts(author="jack", until="2010-01-01")] == [
            f"x:{POST_JACK}"
        ]
        hits = archive.search("चुनाव")
        assert hits[0].post.key == f"x:{POST_ELECTION}"
        detail = archive.post(POST_ARABIC)
        assert detail is not None and len(detail.snapshots) == 2 and len(detail.articles) == 2
        assert [a.location for a in archive.articles(status="deleted")] == [
            "articles/solo.html",
            "articles/world/elections.html",
        ]
        article = archive.article("solo.html")
        assert article is not None and article.embeds[0].status == "deleted"
        assert archive.article("missing.html") is None
        with pytest.raises(NotFoundError):
            archive.posts(article="missing.html")
        with pytest.raises(QueryError):
            archive.posts(since="yesterday-ish")
