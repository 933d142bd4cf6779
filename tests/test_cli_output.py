"""What the terminal shows: tables at 80 columns, numbering, plurals, run summaries,
CSV media, a closed pipe, and log lines next to the progress line.

Real archives in tmp_path (tests/archive_helpers.py), the real CLI through click's
runner or as a subprocess; the fake of X on 127.0.0.1 where posts are fetched.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from archive_helpers import POST_JACK, build_archive, make_project
from click.testing import CliRunner, Result
from fakex import FakeX, config_for, make_tweet_payload
from rich.cells import cell_len

from archiver.cli import _progress_callback, cli
from archiver.logs import setup_logging

LONG_HANDLE = "longest_handle1"  # 15 characters, the most X allows


def invoke(config: Path, *args: str) -> Result:
    # rich reads the width from COLUMNS when the output is not a terminal.
    return CliRunner(env={"COLUMNS": "80"}).invoke(
        cli, ["--config", str(config), *args], catch_exceptions=False
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("archive"))


# -- tables ----------------------------------------------------------------------------


def _cells(output: str) -> list[str]:
    """Every table cell's text, one entry per cell per line."""
    return [
        cell.strip()
        for line in output.splitlines()
        if line.startswith("│")
        for cell in line.strip("│").split("│")
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("articles", "list"),
        ("articles", "show", "tech/history.html"),
        ("posts", "show", POST_JACK),
        ("posts", "list"),
    ],
)
def test_tables_keep_words_and_paths_whole_at_80_columns(project: Path, args: tuple[str]) -> None:
    result = invoke(project, *args)
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.output.splitlines()) <= 80
    # A detail's field/value table folds long paths (nothing cut off); the others:
    tables = result.output.split("┘\n", 1)[1] if "show" in args else result.output
    cells = _cells(tables)
    # Identifiers and paths are never cut in two ("blockquot" / "e", "history.h" / "tml").
    assert not [c for c in cells if c in ("blockquot", "e", "tml", "ml", "html")]
    for cell in cells:
        if cell.startswith("articles/"):
            assert cell.endswith(".html"), cell
        if cell.startswith("block"):
            assert cell == "blockquote"
    # Free text wraps between words; a word too long for its column ends in "…"
    # instead of going on, cut, on the next line.
    for cell in cells:
        for word in cell.split():
            assert word[0] not in "'(" or word.startswith(("'x", "(1")), cell


def test_long_words_in_text_end_in_an_ellipsis_not_a_split(tmp_path: Path) -> None:
    from archive_helpers import page, tweet

    word = "supercalifragilisticexpialidocious-and-more"
    config = build_archive(
        tmp_path, {"a.html": page("A", tweet(POST_JACK, LONG_HANDLE, "Name", f"see {word} now"))}
    )
    result = invoke(config, "posts", "list")
    assert result.exit_code == 0
    cells = _cells(result.output)
    pieces = [c for c in cells if c and c in word and c != word]
    assert pieces == [], pieces  # no line holds only the rest of the word
    assert any(c.endswith("…") and word.startswith(c.split()[-1][:-1]) for c in cells)
    assert f"@{LONG_HANDLE}" in cells


def test_posts_show_numbers_snapshots_and_embeds_from_one(project: Path) -> None:
    result = invoke(project, "posts", "show", POST_JACK)
    snapshots = result.output.split("snapshots")[1].split("embedded in")[0]
    rows = [line for line in snapshots.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows if row.split("│")[1].strip()] == ["1"]
    embedded = result.output.split("embedded in")[1]
    ordinals = [
        line.split("│")[2].strip() for line in embedded.splitlines() if line.startswith("│")
    ]
    assert ordinals == ["1", "3"]  # first and third embed of tech/history.html
    shown = invoke(project, "articles", "show", "tech/history.html").output.split("3 embeds")[1]
    numbers = [line.split("│")[1].strip() for line in shown.splitlines() if line.startswith("│")]
    assert [n for n in numbers if n] == ["1", "2", "3"]


def test_counts_have_the_right_plural(project: Path, tmp_path: Path) -> None:
    assert re.search(r"^1 embed *$", invoke(project, "articles", "show", "solo.html").output, re.M)
    config = build_archive(
        tmp_path, {"one.html": (project.parent / "articles/solo.html").read_text()}
    )
    restored = invoke(config, "restore")
    assert restored.output == "restored: articles/one.html: 1 embed\n"
    edit = config.parent / "articles" / "one.html"
    edit.write_text(edit.read_text() + "\n")
    line = invoke(config, "run").output
    assert line.startswith(
        "run: 1 article scanned (0 unchanged, skipped; 0 removed), 1 embed found"
    )
    assert "1 article rewritten" in line


# -- run and regenerate summaries ------------------------------------------------------


def test_regenerate_says_what_it_did(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    line = invoke(config, "regenerate").output
    assert line.startswith(
        "regenerate: 3 articles rendered again from the archive: "
        "0 rewritten, 3 already up to date, 0 failed in "
    )
    assert "scanned" not in line
    (tmp_path / "out" / "solo.html").write_text("stale copy")
    assert ": 1 rewritten, 2 already up to date, 0 failed" in invoke(config, "regenerate").output


def test_run_reports_removed_articles(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    (tmp_path / "articles" / "solo.html").unlink()
    line = invoke(config, "run").output
    assert "(2 unchanged, skipped; 1 removed)" in line
    (tmp_path / "articles" / "tech" / "history.html").unlink()
    data = json.loads(invoke(config, "run", "--json").output)
    assert data["articles_removed"] == 1


def test_posts_updated_counts_only_posts_that_existed_before(tmp_path: Path, fakex: FakeX) -> None:
    fakex.add_post(make_tweet_payload(POST_JACK, "just setting up my twttr", handle="jack"))
    config = make_project(tmp_path, {"a.html": (_jack_page())})
    data = yaml.safe_load(config.read_text())
    data.update(config_for(fakex))
    data["recheck"] = ["0s"]  # due again at once: the next run checks it again
    config.write_text(yaml.safe_dump(data))
    first = json.loads(invoke(config, "run", "--json").output)
    # Stored from the markup, then fetched in the same run: new, not also "updated".
    assert (first["posts_new"], first["posts_fetched"], first["posts_updated"]) == (1, 1, 0)
    assert "0 new posts, 0 updated, 1 fetched" in invoke(config, "run").output  # no change
    fakex.add_post(make_tweet_payload(POST_JACK, "just setting up my twttr, edited", handle="jack"))
    later = json.loads(invoke(config, "run", "--json").output)
    assert (later["posts_new"], later["posts_updated"]) == (0, 1)


def _jack_page() -> str:
    from archive_helpers import page, tweet

    return page("Jack", tweet(POST_JACK, "jack", "jack", "just setting up my twttr"))


# -- export ----------------------------------------------------------------------------


def test_csv_media_is_an_empty_json_array(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "posts.csv"
    assert invoke(project, "export", "--format", "csv", "-o", str(out)).exit_code == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and {row["media"] for row in rows} == {"[]"}
    assert all(json.loads(row["media"]) == [] for row in rows)


@pytest.mark.parametrize("args", [("export",), ("posts", "list", "--json")])
def test_closed_pipe_exits_quietly(project: Path, args: tuple[str, ...]) -> None:
    """``embed-archiver export | head -1``: the reader leaves; we exit 0, silent."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first row is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "archiver", "--config", str(project), *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr.decode()) == (0, "")


# -- logs and the progress line -------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_do_not_tear_the_progress_line(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    # A terminal on stderr before logging is set up, as in a real session.
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("text", 0)
        advance, done = _progress_callback(True)
        assert advance is not None
        for index in range(3):
            advance(f"articles/page-{index}.html")
            # Long enough for the line to be drawn (rich redraws it 12.5 times a second).
            time.sleep(0.3)
            logging.getLogger("archiver.test").warning("record number %d", index)
        done()
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [line for line in terminal.getvalue().split("\n") if "record number" in line]
    assert len(lines) == 3
    for line in lines:
        # What stays on screen is after the last carriage return: the record alone.
        shown = line.rsplit("\r", 1)[-1]
        visible = shown.replace("\x1b[2K", "").replace("\x1b[1A", "")
        assert "articles ·" not in visible and " WARNING archiver.test: record number" in visible
    assert root.handlers == saved[0]
