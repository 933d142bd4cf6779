"""A new user's first steps: ``init``, ``add``, ``datasette-metadata``.

Real files in tmp_path, a real SQLite archive, articles served by a real HTTP server on
127.0.0.1 (tests/fakex.py). The config template is checked key by key against the
pydantic model, so it cannot drift from archiver/config.py.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from archive_helpers import HINDI_TEXT, POST_ELECTION, POST_JACK, page, tweet
from click.testing import CliRunner, Result
from fakex import FakeX
from pydantic import BaseModel

from archiver.cli import cli
from archiver.config import Config, load_config

ELECTION = tweet(POST_ELECTION, "hindinews", "हिंदी समाचार", HINDI_TEXT, "March 29, 2023")
JACK = tweet(POST_JACK, "jack", "jack", "just setting up my twttr", "March 21, 2006")


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def init_site(tmp_path: Path, *extra: str) -> Path:
    site = tmp_path / "site"
    result = invoke("init", str(site), "--no-fetch", *extra)
    assert result.exit_code == 0, result.output
    return site


# -- init ---------------------------------------------------------------------------


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Every key of a config section with its default, as YAML would hold it."""
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        default = field.get_default(call_default_factory=True)
        annotation = field.annotation
        if isinstance(default, BaseModel):
            out[name] = _defaults(type(default))
        elif isinstance(annotation, type) and issubclass(annotation, Path):
            out[name] = str(default)
        else:
            out[name] = default
    return out


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_init_config_has_every_key_at_its_default(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path / "site"), "--articles", "posts-in")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "site" / "config.yaml").read_text(encoding="utf-8")
    written = _flatten(yaml.safe_load(text))
    expected = _flatten(_defaults(Config))
    sources = written.pop("sources")
    expected.pop("sources")
    # Keys whose default is "unset" are shown commented out, with an example.
    for key in [k for k, v in expected.items() if v is None]:
        expected.pop(key)
        assert f"# {key.rsplit('.', 1)[-1]}:" in text, f"{key} is not shown in the template"
    assert written == expected
    assert sources == [
        {
            "kind": "directory",
            "path": "posts-in",
            "include": ["**/*.html", "**/*.htm"],
            "exclude": [],
            "bare_urls": False,
        }
    ]
    # The directory source has every key of its model but the optional name.
    assert set(sources[0]) | {"name"} == set(_defaults_keys("DirectorySource"))
    # It loads as `run` will load it: the folder is there, resolved against the config.
    config = load_config(tmp_path / "site" / "config.yaml")
    assert config.sources[0].path == (tmp_path / "site" / "posts-in").resolve()
    assert config.x.fetch is True


def _defaults_keys(model_name: str) -> list[str]:
    import archiver.config as config_module

    return list(getattr(config_module, model_name).model_fields)


def test_init_writes_only_the_config_and_the_articles_folder(tmp_path: Path) -> None:
    site = init_site(tmp_path)
    assert sorted(p.name for p in site.iterdir()) == ["articles", "config.yaml"]
    assert list((site / "articles").iterdir()) == []
    assert load_config(site / "config.yaml").x.fetch is False


def test_init_asks_for_the_folder_on_a_terminal_and_takes_a_default_otherwise(
    tmp_path: Path,
) -> None:
    # Not a terminal (CliRunner's stdin): the default folder, no question asked.
    site = init_site(tmp_path)
    assert load_config(site / "config.yaml").sources[0].path == (site / "articles").resolve()
    # On a terminal (a real pty): asked, and the answer is used.
    output = _on_a_terminal(
        [sys.executable, "-m", "archiver", "init", str(tmp_path / "asked")], "my posts\n"
    )
    assert "Folder of the articles to archive [articles]:" in output
    asked = load_config(tmp_path / "asked" / "config.yaml")
    assert asked.sources[0].path == (tmp_path / "asked" / "my posts").resolve()
    assert (tmp_path / "asked" / "my posts").is_dir()


def _on_a_terminal(command: list[str], answer: str) -> str:
    import pty
    import subprocess

    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    os.write(controller, answer.encode())
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=30) == 0, b"".join(chunks)
    return b"".join(chunks).decode(errors="replace")


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    site = init_site(tmp_path)
    config = site / "config.yaml"
    config.write_text("database: mine.db\n# my notes\n", encoding="utf-8")
    result = invoke("init", str(site))
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert config.read_text(encoding="utf-8") == "database: mine.db\n# my notes\n"
    result = invoke("init", str(site), "--force", "--articles", "other")
    assert result.exit_code == 0, result.output
    assert load_config(config).sources[0].path == (site / "other").resolve()


def test_init_refuses_an_articles_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "articles").write_text("not a folder", encoding="utf-8")
    result = invoke("init", str(tmp_path))
    assert result.exit_code == 2
    assert "not a folder" in result.output
    assert not (tmp_path / "config.yaml").exists()


# -- datasette-metadata --------------------------------------------------------------


def test_datasette_metadata_names_the_archive_file(tmp_path: Path) -> None:
    site = init_site(tmp_path)
    with cwd(site):
        result = invoke("datasette-metadata")
    assert result.exit_code == 0, result.output
    metadata = yaml.safe_load(result.output)
    assert list(metadata["databases"]) == ["archive"]
    assert "posts_by_author" in metadata["databases"]["archive"]["queries"]

    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8").replace("database: archive.db", "database: news.db")
    config.write_text(text, encoding="utf-8")
    result = invoke("--config", str(config), "datasette-metadata")
    metadata = yaml.safe_load(result.output)
    assert list(metadata["databases"]) == ["news"]
    assert metadata["databases"]["news"]["tables"]["posts"]["facets"]

    result = invoke("--db", str(tmp_path / "odd name.db"), "datasette-metadata")
    assert list(yaml.safe_load(result.output)["databases"]) == ["odd name"]


def test_datasette_metadata_without_a_config_says_so(tmp_path: Path) -> None:
    with cwd(tmp_path):
        result = invoke("datasette-metadata")
    assert result.exit_code == 2
    assert "no config file" in result.output


# -- add ----------------------------------------------------------------------------


def test_add_a_file_archives_it_now_and_leaves_the_config_alone(tmp_path: Path) -> None:
    site = init_site(tmp_path)
    config_before = (site / "config.yaml").read_bytes()
    (site / "some-article.html").write_text(page("Some", ELECTION, JACK), encoding="utf-8")
    with cwd(site):
        result = invoke("add", "./some-article.html", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        run_keys = set(json.loads(invoke("run", "--json").output))
        search = json.loads(invoke("posts", "search", "twttr", "--json").output)
    assert set(report) == run_keys  # the same report as run
    assert report["articles_scanned"] == 1 and report["posts_new"] == 2
    assert [hit["key"] for hit in search] == [f"x:{POST_JACK}"]
    copy = (site / "out" / "some-article.html").read_text(encoding="utf-8")
    assert "platform.twitter.com/widgets.js" not in copy
    assert f"embeds/x/{POST_JACK}.html" in copy
    assert (site / "config.yaml").read_bytes() == config_before
    # The later run did not take the added article as removed from a source.
    with cwd(site):
        articles = json.loads(invoke("articles", "list", "--json").output)
    assert [(a["location"], a["removed_at"]) for a in articles] == [("some-article.html", None)]


def test_add_a_file_inside_a_source_is_the_same_article_run_sees(tmp_path: Path) -> None:
    site = init_site(tmp_path)
    (site / "articles" / "a.html").write_text(page("A", ELECTION), encoding="utf-8")
    with cwd(site):
        assert invoke("add", "articles/a.html").exit_code == 0
        report = json.loads(invoke("run", "--json").output)
        articles = json.loads(invoke("articles", "list", "--json").output)
    assert report["articles_skipped"] == 1 and report["articles_scanned"] == 0
    assert [a["location"] for a in articles] == ["articles/a.html"]
    assert (site / "out" / "a.html").exists()


def test_add_refuses_bad_targets_before_archiving_anything(tmp_path: Path) -> None:
    site = init_site(tmp_path)
    (site / "good.html").write_text(page("Good", ELECTION), encoding="utf-8")
    with cwd(site):
        result = invoke("add", "good.html", "missing.html", "ftp://example.org/a", "articles")
    assert result.exit_code == 2
    assert "missing.html: no such file" in result.output
    assert "ftp://example.org/a: not an http(s) URL" in result.output
    assert "articles: not a file" in result.output
    assert not (site / "out").exists()


def test_add_urls_with_keep_appends_them_to_the_config_keeping_comments(
    tmp_path: Path, fakex: FakeX
) -> None:
    site = init_site(tmp_path)
    config = site / "config.yaml"
    before = config.read_text(encoding="utf-8")
    first = fakex.add_page("/2024/election.html", page("Election", ELECTION))
    second = fakex.add_page("/2024/jack", page("Jack", JACK))
    with cwd(site):
        result = invoke("add", first, "--keep")
        assert result.exit_code == 0, result.output
        assert invoke("add", second, first, "--keep").exit_code == 0
    after = config.read_text(encoding="utf-8")
    # Only lines were added: every line of the original (comments too) is still there.
    assert [line for line in after.splitlines() if line in before.splitlines()] == (
        before.splitlines()
    )
    kept = [s for s in load_config(config).sources if s.name == "added"]
    assert [s.urls for s in kept] == [[first, second]]  # type: ignore[union-attr]
    assert after.count(first) == 1
    assert (site / "out" / f"127.0.0.1_{fakex.port}" / "2024" / "jack.html").exists()
    # The next run reads them from the kept source: same articles, nothing removed.
    with cwd(site):
        report = json.loads(invoke("run", "--json").output)
        articles = json.loads(invoke("articles", "list", "--json").output)
    assert report["articles_removed"] == 0 and report["errors"] == []
    assert sorted(a["location"] for a in articles) == sorted([first, second])


def test_add_without_keep_leaves_urls_out_of_later_runs(tmp_path: Path, fakex: FakeX) -> None:
    site = init_site(tmp_path)
    before = (site / "config.yaml").read_bytes()
    url = fakex.add_page("/one.html", page("One", JACK))
    with cwd(site):
        assert invoke("add", url).exit_code == 0
        report = json.loads(invoke("run", "--json").output)
    assert report["articles_scanned"] == 0 and report["articles_removed"] == 0
    assert (site / "config.yaml").read_bytes() == before


def test_add_keep_refuses_a_local_file_outside_every_source(tmp_path: Path) -> None:
    site = init_site(tmp_path)
    (site / "loose.html").write_text(page("Loose", JACK), encoding="utf-8")
    before = (site / "config.yaml").read_bytes()
    with cwd(site):
        result = invoke("add", "loose.html", "--keep")
    assert result.exit_code == 2
    assert "loose.html is outside every directory source" in result.output
    assert (site / "config.yaml").read_bytes() == before
    assert not (site / "out").exists()


def test_add_a_failing_url_exits_1_with_the_run_report(tmp_path: Path, fakex: FakeX) -> None:
    site = init_site(tmp_path)
    with cwd(site):
        result = invoke("add", f"{fakex.base_url}/missing.html", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [e["article"] for e in report["errors"]] == [f"{fakex.base_url}/missing.html"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("database: a.db\n", "sources:\n  - kind: urls\n"),
        ("sources: []\nx:\n  fetch: false\n", "sources:\n  - kind: urls\n"),
        (
            "sources:\n- kind: urls\n  name: added\n  urls: [https://c.example/]  # mine\n",
            'urls: [https://c.example/, "https://a.example/x"]  # mine\n',
        ),
        (
            "sources:\n  - kind: urls\n    name: added\n    urls:\n      - https://c.example/  # mine\n\nx: {}\n",
            '      - https://c.example/  # mine\n      - "https://a.example/x"\n\nx: {}\n',
        ),
    ],
)
def test_keep_edits_every_layout_as_text(text: str, expected: str) -> None:
    from archiver.project import append_kept_urls

    new, added = append_kept_urls(text, ["https://a.example/x"])
    assert added == ["https://a.example/x"]
    assert expected in new
    sources = yaml.safe_load(new)["sources"]
    assert "https://a.example/x" in sources[-1]["urls"]


def test_add_a_url_of_a_configured_urls_source_is_that_sources_article(
    tmp_path: Path, fakex: FakeX
) -> None:
    site = init_site(tmp_path)
    url = fakex.add_page("/listed.html", page("Listed", JACK))
    config = site / "config.yaml"
    with config.open("a", encoding="utf-8") as handle:
        handle.write("# mine\n")
    text = config.read_text(encoding="utf-8").replace(
        "sources:\n", f"sources:\n  - kind: urls\n    name: news\n    urls: [{url}]\n", 1
    )
    config.write_text(text, encoding="utf-8")
    with cwd(site):
        assert invoke("add", url, "--keep").exit_code == 0
        report = json.loads(invoke("run", "--json").output)
        articles = json.loads(invoke("articles", "list", "--json").output)
    # Already listed by "news": --keep does not list it twice, and run sees the same article.
    assert config.read_text(encoding="utf-8") == text
    assert [(a["location"], a["source"]) for a in articles] == [(url, "news")]
    assert report["articles_removed"] == 0
