"""Statuses, sources, forms and run outcomes are StrEnums whose values are the strings
the archive has always stored: the schema, the JSON output and the CLI choices keep them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from archive_helpers import build_archive

from archiver.models import EmbedForm, PostStatus, RunOutcome, SnapshotSource


def test_stored_values_are_pinned() -> None:
    assert [s.value for s in PostStatus] == [
        "unknown",
        "live",
        "deleted",
        "protected",
        "suspended",
        "unavailable",
    ]
    assert [s.value for s in SnapshotSource] == [
        "syndication",
        "wayback",
        "oembed",
        "markup",
        "archived-copy",
        "appview",
        "api",  # a platform's own API (Mastodon)
    ]
    assert {f.value for f in EmbedForm} >= {"blockquote", "amp-twitter", "iframe", "archived"}
    assert {o.value for o in RunOutcome} == {"running", "ok", "errors", "failed", "interrupted"}
    # As the archive writes them: the plain value, in JSON and in text.
    assert json.dumps([PostStatus.LIVE, EmbedForm.AMP]) == '["live", "amp-twitter"]'
    assert f"{SnapshotSource.ARCHIVED_COPY}" == "archived-copy"


def test_rows_written_hold_the_plain_values(tmp_path: Path) -> None:
    build_archive(tmp_path)
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        statuses = {row[0] for row in conn.execute("SELECT status FROM posts")}
        sources = {row[0] for row in conn.execute("SELECT source FROM posts")}
        outcomes = {row[0] for row in conn.execute("SELECT outcome FROM runs")}
    assert statuses == {"unknown"}
    assert sources == {"markup"}
    assert outcomes <= {"ok", "errors"}
    assert statuses <= set(PostStatus) and sources <= set(SnapshotSource)
    assert outcomes <= set(RunOutcome)
