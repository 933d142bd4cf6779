"""``scan.workers`` / ``run --workers N``: scan worker processes change nothing but speed.

Real files in tmp_path, a real SQLite archive, real worker processes (forked, and from a
forkserver when the pass runs in a thread); fetching off, no network. Each corpus is
archived once with one process and once with workers, and the two archives and output
trees must be the same.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest
from archive_helpers import page, tweet
from click.testing import CliRunner

from archiver import Archive, cpus
from archiver.cli import cli
from archiver.config import Config
from archiver.files import is_temp_name
from archiver.lock import ArchiveLock
from archiver.pipeline import pool
from archiver.pipeline.pool import WorkerError

ROOT = Path(__file__).resolve().parent.parent
# Real snowflakes, so each post's date comes from its id.
POSTS = ["1641086480675225601", "1875083037872181254", "1629307668568633344"]
# More than the pool's start threshold (64 articles to read): the workers do start.
COUNT = 90
MTIME_NS = 1_700_000_000 * 10**9


@pytest.fixture(autouse=True, scope="module")
def _pools_start_at_once() -> None:
    """These tests know which articles the workers get, so a pool must be up as soon as
    a pass asks for it. It is when forked (this process runs no other thread); else the
    forkserver's first pool starts in the background while the pass goes on, so one is
    started (and ended) here first, and later ones are waited for (~30 ms)."""
    if pool._start_method() == "fork":
        return
    starter = pool._Starter(Config(), 1)
    starter.wait()
    starter.shutdown()
    assert pool._started_before


def corpus(count: int = COUNT) -> dict[str, bytes]:
    """Articles with and without embeds, in several encodings, plus two that fail."""
    articles: dict[str, bytes] = {}
    for n in range(count):
        if n % 4 == 0:  # an embed in one article of four; posts shared between articles
            post = POSTS[n % len(POSTS)]
            body = page(f"Story {n}", tweet(post, "desk", "News Desk", f"post {post} from {n}"))
        else:
            body = page(f"Story {n}", f"<p>Prose only, article {n}, café ☕.</p>")
        articles[f"articles/{n:03d}.html"] = body.encode("utf-8")
    embed = tweet(POSTS[0], "desk", "News Desk", "in UTF-16")
    articles["articles/utf16.html"] = b"\xff\xfe" + page("UTF-16", embed).encode("utf-16-le")
    articles["articles/utf16-plain.html"] = b"\xff\xfe" + page("Plain").encode("utf-16-le")
    articles["articles/latin1.html"] = page("Caf\xe9", charset="windows-1252").encode("cp1252")
    articles["articles/notes.md"] = f"# Notes\n\n{tweet(POSTS[1], 'desk', 'Desk', 'md')}\n".encode()
    # Both sources have a story.html: the second one's copy gets a name of its own.
    articles["articles/story.html"] = page("First story").encode()
    articles["more/story.html"] = page("Second story").encode()
    # Failures: binary content, and UTF-16 with an odd byte count (cannot be decoded).
    articles["articles/binary.html"] = b"\x00\x01\x02 not text \x00" * 20
    articles["articles/odd.html"] = b"\xff\xfe" + page("Odd").encode("utf-16-le") + b"x"
    return articles


def project(folder: Path, articles: dict[str, bytes], workers: int | None) -> Path:
    for relpath, data in articles.items():
        target = folder / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, ns=(MTIME_NS, MTIME_NS))  # the same in every copy of the corpus
    (folder / "more").mkdir(exist_ok=True)
    config = folder / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        "sources:\n"
        '  - kind: directory\n    path: articles\n    include: ["**/*.html", "**/*.md"]\n'
        "  - kind: directory\n    path: more\n"
        "output:\n  dir: out\nx:\n  fetch: false\n"
        + (f"scan:\n  workers: {workers}\n" if workers is not None else ""),
        encoding="utf-8",
    )
    return config


def outputs(folder: Path) -> dict[str, bytes]:
    """The rewritten articles, byte for byte (post pages carry the capture time: names)."""
    out = folder / "out"
    files: dict[str, bytes] = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            rel = str(path.relative_to(out))
            files[rel] = b"" if rel.startswith("embeds/") else path.read_bytes()
    return files


def archive_rows(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Articles, embeds and posts, without the times of the run and with paths relative."""
    conn = sqlite3.connect(folder / "archive.db")
    try:
        dump: dict[str, list[tuple[Any, ...]]] = {}
        for table in ("articles", "embeds", "posts"):
            cursor = conn.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            keep = [i for i, n in enumerate(names) if not n.endswith("_at") and n != "id"]
            rows = []
            for row in cursor.fetchall():
                rows.append(
                    tuple(
                        row[i].replace(str(folder), "ROOT") if isinstance(row[i], str) else row[i]
                        for i in keep
                    )
                )
            dump[table] = sorted(rows, key=repr)
        return dump
    finally:
        conn.close()


def run(config: Path, **kwargs: Any) -> Any:
    with Archive.from_config(config) as archive:
        return archive.run(**kwargs)


def single_process(tmp_path: Path, articles: dict[str, bytes]) -> Path:
    folder = tmp_path / "single"
    run(project(folder, articles, 1))
    return folder


def test_workers_write_the_same_outputs_and_archive_as_one_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    articles = corpus()
    single = single_process(tmp_path, articles)
    pooled = tmp_path / "pooled"
    config = project(pooled, articles, workers=2)
    with caplog.at_level(logging.INFO, logger="archiver.pipeline"):
        report = run(config)
    assert "scanning with 2 worker processes (fork)" in caplog.text
    by_workers = re.search(r"worker processes read and scanned (\d+) articles", caplog.text)
    assert by_workers and int(by_workers[1]) > 20, caplog.text
    assert report.articles_scanned == len(articles) - 1  # the binary one is not scanned
    assert _counts(report) == _counts(run(project(tmp_path / "again", articles, None)))
    assert outputs(pooled) == outputs(single)
    assert (pooled / "out" / "story.html").read_bytes() == articles["articles/story.html"]
    assert archive_rows(pooled) == archive_rows(single)
    # An unchanged rerun, then one after touching every file: still the same.
    for path in (pooled / "articles").iterdir():
        os.utime(path)
    again = run(config)
    assert again.articles_rewritten == 0
    assert outputs(pooled) == outputs(single)
    # The touched articles were recorded as unchanged: the next pass does not read them
    # (only the two that fail are tried again).
    third = run(config)
    assert third.articles_scanned == 1 and third.articles_skipped == len(articles) - 2


def test_a_pass_in_a_thread_starts_its_workers_from_a_forkserver(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The service runs passes from a scheduler thread: a process with threads must not
    fork, so its workers come from a forkserver, and write the same. (The first pool of a
    process starts in the background, so how many articles the workers get varies.)"""
    articles = corpus()
    single = single_process(tmp_path, articles)
    pooled = tmp_path / "threaded"
    config = project(pooled, articles, workers=2)
    reports: list[Any] = []
    with caplog.at_level(logging.INFO, logger="archiver.pipeline"):
        thread = threading.Thread(target=lambda: reports.append(run(config)))
        thread.start()
        thread.join()
    assert "scanning with 2 worker processes (forkserver)" in caplog.text
    assert reports and reports[0].articles_scanned == len(articles) - 1
    assert outputs(pooled) == outputs(single)
    assert archive_rows(pooled) == archive_rows(single)


def test_auto_starts_no_workers_in_a_program_that_may_not_guard_its_main(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker imports the main module again: in a program that imports the archiver
    (here pytest) and has not declared it guarded, "auto" stays in one process."""
    articles = corpus()
    folder = tmp_path / "auto"
    with caplog.at_level(logging.INFO, logger="archiver.pipeline"):
        report = run(project(folder, articles, None))
    assert report.articles_scanned == len(articles) - 1
    assert "scan.workers auto: one process" in caplog.text
    assert "worker processes" not in caplog.text
    assert outputs(folder) == outputs(single_process(tmp_path, articles))


def test_auto_gives_rescans_no_workers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under "auto" only new articles go to workers (whether the first run had any depends
    on the machine's load): a rescan of touched articles is read in-process, where it is
    quicker, and writes the same."""
    monkeypatch.setattr(cpus, "_main_guarded", False)  # undone after the test
    cpus.declare_main_guarded()  # as the embed-archiver command does
    articles = corpus()
    single = single_process(tmp_path, articles)
    folder = tmp_path / "auto"
    config = project(folder, articles, None)
    assert Config.model_validate({}).scan.workers == "auto"
    run(config)
    assert outputs(folder) == outputs(single)
    assert archive_rows(folder) == archive_rows(single)
    for path in (folder / "articles").iterdir():
        os.utime(path)
    with caplog.at_level(logging.INFO, logger="archiver.pipeline"):
        again = run(config)
    assert again.articles_scanned == len(articles) - 2 and again.articles_rewritten == 0
    assert "worker processes" not in caplog.text
    assert outputs(folder) == outputs(single)


def test_run_workers_option_overrides_the_config(tmp_path: Path) -> None:
    articles = corpus()
    single = single_process(tmp_path, articles)
    pooled = tmp_path / "pooled"
    config = project(pooled, articles, workers=None)
    result = CliRunner().invoke(cli, ["--config", str(config), "-v", "run", "--workers", "3"])
    assert result.exit_code == 1, result.output  # the two bad articles
    assert "scanning with 3 worker processes" in result.output
    assert outputs(pooled) == outputs(single)
    for wrong in ("0", "65", "many"):
        bad = CliRunner().invoke(cli, ["--config", str(config), "run", "--workers", wrong])
        assert bad.exit_code == 2 and "'auto' or a number from 1 to 64" in bad.output
    # "auto" over a config's number: workers or not, the machine's load decides.
    other = project(tmp_path / "auto", articles, workers=3)
    auto = CliRunner().invoke(cli, ["--config", str(other), "run", "--workers", "auto"])
    assert auto.exit_code == 1 and "97 articles scanned" in auto.output, auto.output
    assert outputs(tmp_path / "auto") == outputs(single)


def test_a_failing_article_fails_alone_with_workers(tmp_path: Path) -> None:
    articles = corpus()
    folder = tmp_path / "single"
    alone = run(project(folder, articles, 1))
    pooled = run(project(tmp_path / "pooled", articles, workers=2))
    failed = sorted((e.location, e.reason) for e in pooled.errors)
    assert failed == sorted((e.location, e.reason) for e in alone.errors)
    assert [location for location, _ in failed] == ["articles/binary.html", "articles/odd.html"]
    assert "not a text file" in failed[0][1]
    # Every other article was archived and written.
    assert len(outputs(tmp_path / "pooled")) == len(outputs(folder))


def test_a_killed_worker_stops_the_pass_with_a_clear_error_and_loses_nothing(
    tmp_path: Path,
) -> None:
    articles = corpus(400)
    single = single_process(tmp_path, articles)
    folder = tmp_path / "pooled"
    config = project(folder, articles, workers=2)
    workers: list[multiprocessing.Process] = []
    seen: list[str] = []

    def kill_a_worker(location: str) -> None:
        seen.append(location)
        if len(seen) == 120:  # a few batches are stored by then
            workers.extend(multiprocessing.active_children())
            assert workers, "no worker process is running"
            os.kill(workers[0].pid or 0, signal.SIGKILL)

    with pytest.raises(WorkerError, match=r"worker process died.*--workers 1"):
        run(config, progress=kill_a_worker)
    # The other worker is ended too, not left behind waiting for work.
    pids = [w.pid or 0 for w in workers]
    deadline = time.monotonic() + 20
    while any(map(_running, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == 2 and not any(map(_running, pids))
    # What the pass stored is whole: every copy it recorded is on disk, with its bytes.
    conn = sqlite3.connect(folder / "archive.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT outcome FROM runs").fetchall() == [("failed",)]
        recorded = conn.execute(
            "SELECT output_path, output_hash FROM articles WHERE output_hash IS NOT NULL"
        ).fetchall()
    finally:
        conn.close()
    assert 0 < len(recorded) < len(articles)
    for path, digest in recorded:
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest
    # A worker killed while writing leaves at most its temp file (the service sweeps
    # them; ``is_temp_name``), never a partial copy under an article's name.
    temps = [p for p in (folder / "out").rglob("*") if is_temp_name(p.name)]
    for temp in temps:
        temp.unlink()
    # The next pass finishes the work, and the result is that of one process.
    report = run(config)
    assert sorted(e.location for e in report.errors) == [
        "articles/binary.html",
        "articles/odd.html",
    ]
    assert outputs(folder) == outputs(single)
    assert archive_rows(folder) == archive_rows(single)


@pytest.mark.slow
def test_the_service_scans_with_workers(tmp_path: Path) -> None:
    """``serve`` runs passes from an APScheduler thread: its workers must start safely."""
    articles = corpus()
    single = single_process(tmp_path, articles)
    folder = tmp_path / "served"
    config = project(folder, articles, workers=2)
    log = open(folder / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = _launch(config, "serve", log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _finished_scan(folder):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    text = (folder / "serve.log").read_text(encoding="utf-8")
    assert "scanning with 2 worker processes" in text, text[-2000:]
    assert _finished_scan(folder), text[-2000:]
    assert outputs(folder) == outputs(single)


def _launch(config: Path, command: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """``embed-archiver -v COMMAND`` in a process of its own, from the config's folder,
    its output to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", "--config", str(config), "-v", command],
        cwd=config.parent,
        stdout=log,
        stderr=log,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (its parent is the forkserver, not us)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def _counts(report: Any) -> dict[str, Any]:
    counts = report.as_dict()
    counts.pop("duration_s", None)
    return dict(counts)


def _finished_scan(folder: Path) -> bool:
    db = folder / "archive.db"
    if not db.exists():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT outcome FROM runs WHERE kind = 'run'").fetchall()
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()
    return ("errors",) in rows


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_killed_pass_leaves_no_worker_behind(tmp_path: Path, command: str) -> None:
    """kill -9 of ``run`` (forked workers) or of ``serve`` (a pass in the scheduler's
    thread: workers from a forkserver): its workers, and the forkserver, exit too,
    within seconds."""
    filler = "<p>" + "Prose that takes a while to read and scan. " * 2000 + "</p>"
    articles = {f"articles/{n:04d}.html": page(f"Long {n}", filler).encode() for n in range(1200)}
    folder = tmp_path / "killed"
    config = project(folder, articles, workers=2)
    log = folder / "run.log"
    with open(log, "wb") as out:
        proc = _launch(config, command, out)
    try:
        deadline = time.monotonic() + 60
        while not _ours(folder, proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        started = _ours(folder, proc.pid)
        assert started, log.read_text(encoding="utf-8")[-2000:]
        assert f"worker processes ({'fork' if command == 'run' else 'forkserver'})" in (
            log.read_text(encoding="utf-8")
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The archive is free at once, though the workers may live on for a second:
        # a run started right after the kill (a supervisor's restart) is not refused.
        with ArchiveLock(folder / "archive.db"):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 15
    while _ours(folder, proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _ours(folder, proc.pid), f"left behind: {_ours(folder, proc.pid)} (were {started})"


def _ours(folder: Path, besides: int) -> list[int]:
    """Live processes started for the pass in ``folder``, other than ``besides`` (its
    own): ``folder`` is in their command line (a forked worker's is its parent's; a
    forkserver's and its workers' carry the sys.path)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), besides):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(folder).encode() in cmdline and _running(int(entry.name)):
            pids.append(int(entry.name))
    return pids
