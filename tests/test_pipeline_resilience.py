"""One bad article fails alone; one post has one content whatever the scan order;
a short write lock held by another connection does not kill a run.

Real files in tmp_path, a real SQLite archive, the real CLI: no mocks.
"""

from __future__ import annotations

import gc
import json
import os
import re
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from archive_helpers import ARABIC_TEXT, POST_ARABIC, make_project, page, tweet
from click.testing import CliRunner

from archiver import Archive, pipeline
from archiver.cli import cli

LATIN1_NAME = b"caf\xe9.html"  # "café.html" written by a Latin-1 system: not UTF-8


def invoke(config: Path, *args: str) -> tuple[int, Any]:
    """Run the CLI with --json; return the exit code and the parsed output."""
    result = CliRunner().invoke(cli, ["--config", str(config), *args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout)


def arabic_page(title: str) -> str:
    return page(title, tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT))


# -- item 3: a file name that is not UTF-8 ---------------------------------------------


def test_an_article_whose_file_name_is_not_utf8_is_archived_like_any_other(
    tmp_path: Path,
) -> None:
    config = make_project(tmp_path)
    source = os.path.join(os.fsencode(tmp_path / "articles"), LATIN1_NAME)
    original = arabic_page("Café").encode("utf-8")
    with open(source, "wb") as handle:
        handle.write(original)

    code, report = invoke(config, "run")
    assert code == 0, report
    assert report["errors"] == []
    # The rewritten copy has the same (non-UTF-8) name as the source, so the
    # site's links to it still work.
    copy = os.path.join(os.fsencode(tmp_path / "out"), LATIN1_NAME)
    with open(copy, "rb") as handle:
        assert f'data-archived-post="x:{POST_ARABIC}"'.encode() in handle.read()
    # It is listed under a name people can read: the undecodable byte as \xe9.
    code, listed = invoke(config, "articles", "list")
    assert code == 0
    assert "articles/caf\\xe9.html" in [a["location"] for a in listed]

    # A second run skips it; regenerate and restore find the same files.
    code, again = invoke(config, "run")
    assert (code, again["errors"], again["articles_rewritten"]) == (0, [], 0)
    code, regenerated = invoke(config, "regenerate")
    assert (code, regenerated["errors"]) == (0, [])
    code, restored = invoke(config, "restore", "articles/caf\\xe9.html")
    assert code == 0 and restored[0]["restored"] == 1
    with open(copy, "rb") as handle:
        assert handle.read() == original


def test_a_failure_naming_a_file_that_is_not_utf8_is_reported_readably(tmp_path: Path) -> None:
    config = make_project(tmp_path, {"a.html": arabic_page("A")})
    with open(os.path.join(os.fsencode(tmp_path / "articles"), LATIN1_NAME), "wb") as handle:
        handle.write(arabic_page("Café").encode("utf-8"))
    os.makedirs(
        os.path.join(os.fsencode(tmp_path / "out"), LATIN1_NAME)
    )  # the copy cannot go there
    code, report = invoke(config, "run")
    assert code == 1
    assert [e["article"] for e in report["errors"]] == ["articles/caf\\xe9.html"]
    assert "Is a directory" in report["errors"][0]["reason"]
    code, listed = invoke(config, "articles", "list")
    errors = {a["location"]: a["error"] for a in listed}
    assert errors["articles/caf\\xe9.html"] == report["errors"][0]["reason"]
    assert (tmp_path / "out" / "a.html").exists()


# -- item 3: a declared charset that cannot decode the bytes ------------------------------


def utf7_page(title: str) -> bytes:
    """A page declaring UTF-7 whose bytes are not UTF-7 (raw UTF-8 Arabic text)."""
    return arabic_page(title).replace('charset="utf-8"', 'charset="utf-7"').encode("utf-8")


def test_an_article_whose_charset_cannot_decode_it_fails_alone_in_every_step(
    tmp_path: Path,
) -> None:
    config = make_project(
        tmp_path, {"good.html": arabic_page("Good"), "bad.html": arabic_page("Bad")}
    )
    code, first = invoke(config, "run")
    assert (code, first["errors"]) == (0, [])
    # The article is edited in a way its size and time do not show (a tool that keeps
    # both): the run skips it unread, until a post it embeds changes.
    bad = tmp_path / "articles" / "bad.html"
    before = bad.stat()
    bad.write_bytes(utf7_page("Bad"))
    assert bad.stat().st_size == before.st_size
    os.utime(bad, ns=(before.st_atime_ns, before.st_mtime_ns))

    # A richer version of the post, met in another article, changes the post:
    # every article embedding it is rendered again, the broken one fails alone.
    richer = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT + " — updated")
    (tmp_path / "articles" / "later.html").write_text(page("Later", richer), encoding="utf-8")
    code, report = invoke(config, "run")
    assert code == 1
    assert [e["article"] for e in report["errors"]] == ["articles/bad.html"]
    assert "utf7' codec can't decode" in report["errors"][0]["reason"]
    assert "— updated" in (tmp_path / "out" / "good.html").read_text(encoding="utf-8")

    code, report = invoke(config, "regenerate")
    assert code == 1
    assert [e["article"] for e in report["errors"]] == ["articles/bad.html"]
    assert "utf7' codec can't decode" in report["errors"][0]["reason"]

    # The failure is recorded on the article, so the next run reads it again.
    with Archive.from_config(config) as archive:
        errors = {a.location: a.error for a in archive.articles()}
    assert errors["articles/bad.html"] and "decode" in errors["articles/bad.html"]
    assert errors["articles/good.html"] is None
    code, report = invoke(config, "run")
    assert code == 1
    assert [e["article"] for e in report["errors"]] == ["articles/bad.html"]


def test_a_copy_that_no_longer_decodes_fails_restore_for_that_article_alone(
    tmp_path: Path,
) -> None:
    utf16 = b"\xff\xfe" + arabic_page("Sixteen").encode("utf-16-le")
    config = make_project(tmp_path, {"a.html": arabic_page("A"), "b.html": utf16})
    code, first = invoke(config, "run")
    assert (code, first["errors"]) == (0, [])
    copy = tmp_path / "out" / "b.html"
    copy.write_bytes(copy.read_bytes()[:-1])  # an odd number of bytes: not UTF-16 any more

    code, results = invoke(config, "restore")
    assert code == 1
    by_article = {r["article"]: r for r in results}
    assert "UnicodeDecodeError" in by_article["articles/b.html"]["error"]
    assert by_article["articles/a.html"]["error"] is None
    assert by_article["articles/a.html"]["restored"] == 1
    assert (tmp_path / "out" / "a.html").read_text(encoding="utf-8") == arabic_page("A")


def test_a_failure_to_record_an_article_fails_that_article_alone(tmp_path: Path) -> None:
    config = make_project(tmp_path, {"a.html": arabic_page("A"), "b.html": arabic_page("B")})
    db = sqlite3.connect(tmp_path / "archive.db")
    with Archive.from_config(config):
        pass  # creates the schema
    # A constraint the archive does not expect, on one article only: recording it fails.
    db.execute(
        "CREATE TRIGGER refuse_a BEFORE INSERT ON articles WHEN NEW.location = 'articles/a.html' "
        "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
    )
    db.commit()
    db.close()
    code, report = invoke(config, "run")
    assert code == 1
    assert [e["article"] for e in report["errors"]] == ["articles/a.html"]
    assert "refused by a trigger" in report["errors"][0]["reason"]
    assert (tmp_path / "out" / "b.html").exists()


def test_a_failed_rewrite_is_recorded_on_the_article_and_retried(tmp_path: Path) -> None:
    config = make_project(tmp_path, {"a.html": arabic_page("A"), "b.html": arabic_page("B")})
    (tmp_path / "out" / "b.html").mkdir(parents=True)  # where b.html's copy must go
    code, report = invoke(config, "run")
    assert code == 1
    assert [e["article"] for e in report["errors"]] == ["articles/b.html"]
    assert report["errors"][0]["reason"].startswith("rewrite: ")
    code, listed = invoke(config, "articles", "list")
    errors = {a["location"]: a["error"] for a in listed}
    assert errors["articles/a.html"] is None
    assert errors["articles/b.html"] and errors["articles/b.html"].startswith("rewrite: ")

    (tmp_path / "out" / "b.html").rmdir()
    code, report = invoke(config, "run")
    assert (code, report["errors"], report["articles_rewritten"]) == (0, [], 1)
    assert "data-archived-post" in (tmp_path / "out" / "b.html").read_text(encoding="utf-8")
    code, listed = invoke(config, "articles", "list")
    assert all(a["error"] is None for a in listed)


# -- item 5: one post, two versions ------------------------------------------------------

SHORT = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT)
LONG = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT + " pic.twitter.com/AbCdEf12")


CLOCK = re.compile(rb"(?:[A-Z][a-z]+ \d{1,2}, \d{4} \()?\d{4}-\d\d-\d\dT[\d:.]+Z\)?")


def archive_state(folder: Path) -> dict[str, Any]:
    """What a reader of the archive and of the site sees, without the clock's part."""
    db = sqlite3.connect(folder / "archive.db")
    db.row_factory = sqlite3.Row
    clock = {"first_seen_at", "archived_at", "status_changed_at", "next_check_at"}
    posts = [
        {k: v for k, v in dict(row).items() if k not in clock}
        for row in db.execute("SELECT * FROM posts ORDER BY key")
    ]
    snapshots = sorted(
        (row["post_key"], row["content_hash"]) for row in db.execute("SELECT * FROM snapshots")
    )
    db.close()
    files = {
        # Pages say when a post was archived: the clock's part is left out.
        str(path.relative_to(folder / "out")): CLOCK.sub(b"T", path.read_bytes())
        for path in sorted((folder / "out").rglob("*"))
        if path.is_file() and path.name != "index.html"
    }
    return {"posts": posts, "snapshots": snapshots, "files": files}


def test_the_same_post_pasted_two_ways_converges_whatever_the_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One article per batch: the two versions are met in different batches.
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 1)
    states = {}
    for first, second in ((LONG, SHORT), (SHORT, LONG)):
        for one_pass in (True, False):
            folder = tmp_path / f"{len(first)}-{one_pass}"
            articles = {"a.html": page("Same", first)}
            if one_pass:
                articles["b.html"] = page("Same", second)
            config = make_project(folder, articles)
            code, report = invoke(config, "run")
            assert (code, report["errors"]) == (0, [])
            if not one_pass:  # as if a crash had stopped the pass after a.html
                (folder / "articles" / "b.html").write_text(page("Same", second), encoding="utf-8")
                code, report = invoke(config, "run")
                assert (code, report["errors"]) == (0, [])
            state = archive_state(folder)
            # The richer markup is the post's content, in both articles.
            assert b"pic.twitter.com/AbCdEf12" in state["files"]["a.html"]
            assert state["files"]["a.html"] == state["files"]["b.html"]
            # Nothing left to do: a rerun and a regenerate change nothing.
            code, again = invoke(config, "run")
            assert (code, again["posts_updated"], again["articles_rewritten"]) == (0, 0, 0)
            code, regenerated = invoke(config, "regenerate")
            assert (code, regenerated["articles_rewritten"]) == (0, 0)
            assert archive_state(folder) == state
            states[folder.name] = state
    reference = next(iter(states.values()))
    for name, state in states.items():
        assert state == reference, name


# -- item 7: another connection holding the write lock for a moment ----------------------


def hold_write_lock(db_path: Path, taken: threading.Event, seconds: float) -> None:
    """Another program writing to the archive: a write transaction held ``seconds``."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE IF NOT EXISTS visitor_notes (note TEXT)")
        conn.execute("INSERT INTO visitor_notes VALUES ('a write from another program')")
        taken.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_a_short_write_lock_held_by_another_connection_only_delays_the_run(
    tmp_path: Path,
) -> None:
    config = make_project(tmp_path, {f"a{n}.html": arabic_page(f"A{n}") for n in range(3)})
    with Archive.from_config(config):
        pass  # creates the archive
    taken = threading.Event()
    holder = threading.Thread(
        target=hold_write_lock, args=(tmp_path / "archive.db", taken, 1.5), daemon=True
    )

    def take_the_lock_once(location: str) -> None:
        # Called as the run reads its first article: the lock is taken then, so the
        # run's next transaction reads, then has to wait to write.
        if not holder.is_alive() and not taken.is_set():
            holder.start()
            assert taken.wait(10)

    with Archive.from_config(config) as archive:
        report = archive.run(progress=take_the_lock_once)
    holder.join(10)
    assert taken.is_set()
    assert report.errors == []
    assert report.articles_rewritten == 3
    assert (tmp_path / "out" / "a0.html").read_text(encoding="utf-8").count(
        "data-archived-post"
    ) == 1


def test_a_pass_stopped_after_richer_markup_is_completed_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 1)
    config = make_project(tmp_path, {"a.html": page("Same", SHORT), "b.html": page("Same", LONG)})
    with Archive.from_config(config) as archive:

        def stop_at_b(location: str) -> None:
            if location == "articles/b.html":
                archive.stop.set()  # as a kill would, once b.html's markup is stored

        archive.run(progress=stop_at_b)
    out = tmp_path / "out"
    assert b"AbCdEf12" in (out / "b.html").read_bytes()
    assert b"AbCdEf12" not in (out / "a.html").read_bytes()  # rendered before b.html was read

    code, report = invoke(config, "run")
    assert (code, report["errors"]) == (0, [])
    assert (out / "a.html").read_bytes() == (out / "b.html").read_bytes()
    code, again = invoke(config, "run")
    assert (code, again["articles_rewritten"], again["articles_scanned"]) == (0, 0, 0)


def test_a_pass_stopped_by_an_exception_closes_its_source_walk_before_the_archive(
    tmp_path: Path,
) -> None:
    # The walk of a source keeps the locations it saw in a table of the archive's
    # connection; left to the garbage collector, a pass that stopped on an exception
    # (Ctrl-C here) closed it after the archive: "Exception ignored … Cannot operate
    # on a closed database" on stderr.
    config = make_project(tmp_path, {f"a{n}.html": arabic_page(f"A{n}") for n in range(3)})
    ignored: list[str] = []
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: ignored.append(repr(unraisable.exc_value))

    def interrupt(location: str) -> None:
        raise KeyboardInterrupt

    try:
        # As in the CLI: the exception leaves the archive's block, which closes it, and
        # its traceback (holding the pass's frames) is dropped only after that.
        with pytest.raises(KeyboardInterrupt) as stopped, Archive.from_config(config) as archive:
            archive.run(progress=interrupt)
        del stopped
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert ignored == []
    with Archive.from_config(config) as archive:
        assert archive.run().articles_rewritten == 3
