"""One exception tree: a Python caller catches ``ArchiverError`` for every failure the
archiver raises on purpose, and never meets a CLI exception.

Real archives in tmp_path (tests/archive_helpers.py), real lock files; no mocks.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import pytest
from archive_helpers import build_archive

from archiver import Archive, ArchiverError
from archiver.config import load_config
from archiver.lock import ArchiveLock


def test_a_missing_config_is_an_archiver_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiverError, match="config"):
        load_config(tmp_path / "nowhere.yaml")


def test_an_unknown_article_is_an_archiver_error(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive, pytest.raises(ArchiverError) as caught:
        archive.posts(article="no/such/article.html")
    assert "no article matches" in str(caught.value)
    assert isinstance(caught.value, LookupError)  # what callers caught before the tree


def test_a_bad_query_is_an_archiver_error(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive, pytest.raises(ArchiverError, match="not a date"):
        archive.posts(since="yesterday-ish")


def test_an_archive_from_a_newer_version_is_an_archiver_error(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(ArchiverError, match="newer"):
        Archive.from_config(config)


def test_a_held_lock_is_an_archiver_error_not_a_cli_exception(tmp_path: Path) -> None:

    db = tmp_path / "archive.db"
    with ArchiveLock(db), pytest.raises(ArchiverError) as caught:
        ArchiveLock(db).acquire()
    assert not isinstance(caught.value, click.ClickException)
    assert "locked" in str(caught.value)
