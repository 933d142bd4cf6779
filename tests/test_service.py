"""``embed-archiver serve`` and ``status`` as real processes against a real HTTP server.

The serve process runs ``python -m archiver`` on a temporary config whose schedule
is a second or two; the news site and X are ``FakeX`` on 127.0.0.1. The test polls
the archive (a real SQLite file, read while the service writes) with timeouts.
Also here: the lock, and the incremental-work guarantees the service relies on.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from archive_helpers import page, tweet
from fakex import FakeX, Fault, config_for, make_tweet_payload

from archiver import Archive
from archiver.lock import ArchiveLock, LockHeld, holder_alive, lock_path_for
from archiver.service import sweep_temp_files

ROOT = Path(__file__).resolve().parent.parent
POST_A = "1641086480675225601"
POST_B = "1875083037872181254"
POST_C = "1629307668568633344"


# -- helpers -------------------------------------------------------------------------


def write_config(tmp_path: Path, fake: FakeX, **extra: Any) -> Path:
    cfg = config_for(fake, wayback={"enabled": False})
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [
            {"kind": "sitemap", "name": "sitemap", "url": f"{fake.base_url}/sitemap.xml"},
            {"kind": "feed", "name": "feed", "url": f"{fake.base_url}/feed.xml"},
        ],
        "output": {"dir": "out"},
        **cfg,
        "recheck": ["2s"],
        "schedule": {"scan_interval": "1s", "recheck_interval": "1s"},
    }
    config["media"]["download"] = False
    config.update(extra)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class Site:
    """The news site on the fake: articles, a sitemap and an RSS feed listing them."""

    def __init__(self, fake: FakeX) -> None:
        self.fake = fake
        self.sitemap: list[str] = []
        self.feed: list[str] = []

    def add(self, path: str, post_id: str, handle: str, *, in_feed: bool = False) -> str:
        body = page(path, tweet(post_id, handle, handle.title(), f"markup text of {post_id}"))
        url = self.fake.add_page(path, body, etag=f'"{abs(hash(body))}"')
        (self.feed if in_feed else self.sitemap).append(url)
        self.publish()
        return url

    def publish(self) -> None:
        ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
        urls = "".join(f"<url><loc>{u}</loc></url>" for u in self.sitemap)
        self.fake.add_page("/sitemap.xml", f'<urlset xmlns="{ns}">{urls}</urlset>', "text/xml")
        items = "".join(f"<item><link>{u}</link></item>" for u in self.feed)
        self.fake.add_page(
            "/feed.xml", f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        )


def start_serve(config: Path, *args: str) -> subprocess.Popen[bytes]:
    log = open(config.parent / "serve.log", "ab")  # noqa: SIM115 - closed with the process
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "archiver",
            "--config",
            str(config),
            "--log-format",
            "json",
            *(["-vv"] if os.environ.get("SERVE_DEBUG") else []),
            "serve",
            *args,
        ],
        cwd=config.parent,
        stdout=log,
        stderr=log,
        env=env,
    )


def cli(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "archiver", "--config", str(config), *args],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def query(config: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    db = config.parent / "archive.db"
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []
    finally:
        conn.close()


def scalar(config: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row, or 0 before the database exists."""
    rows = query(config, sql, params)
    return rows[0][0] if rows else 0


def wait_for(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def log_records(config: Path) -> list[dict[str, Any]]:
    records = []
    for line in (config.parent / "serve.log").read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=timeout)
    return code, time.monotonic() - started


@pytest.fixture
def serving() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test; any still alive at the end are killed."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- the service ---------------------------------------------------------------------


@pytest.mark.slow  # service timing: two 5 s scan intervals of a real service (9 s)
def test_serve_archives_new_articles_and_posts_then_stops_on_sigterm(
    tmp_path: Path, fakex: FakeX, serving: list[subprocess.Popen[bytes]]
) -> None:
    site = Site(fakex)
    fakex.add_post(make_tweet_payload(POST_A, "first post, from X", "alice", "Alice"))
    site.add("/news/a", POST_A, "alice")
    # Scans every 5 s; due posts (due 1 s after each check) looked for every second.
    config = write_config(
        tmp_path,
        fakex,
        schedule={"scan_interval": "5s", "recheck_interval": "1s"},
        recheck=["1s"],
    )
    proc = start_serve(config)
    serving.append(proc)

    # The first scan runs at once; the post is fetched from (fake) X.
    wait_for(
        "post A archived from syndication",
        lambda: (
            query(config, "SELECT source, status FROM posts WHERE post_id = ?", (POST_A,))
            == [("syndication", "live")]
        ),
    )

    # While it runs, `run` refuses at once with exit code 4, naming the holder.
    second = cli(config, "run")
    assert second.returncode == 4, second.stderr
    assert str(proc.pid) in second.stderr and "locked" in second.stderr
    # So does a second `serve`.
    other = cli(config, "serve", timeout=20)
    assert other.returncode == 4 and str(proc.pid) in other.stderr
    # `status` reads without the lock.
    status = cli(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["service"] == {"running": True, "pid": proc.pid}
    assert report["runs"] and report["due"]["posts"] >= 1

    # New articles and new embeds appear on the site: in the sitemap and in the feed.
    fakex.add_post(make_tweet_payload(POST_B, "second post", "bob", "Bob"))
    fakex.add_post(make_tweet_payload(POST_C, "third post", "carol", "Carol"))
    site.add("/news/b", POST_B, "bob")
    site.add("/feed/c", POST_C, "carol", in_feed=True)
    wait_for(
        "posts B and C archived",
        lambda: (
            len(
                query(
                    config,
                    "SELECT 1 FROM posts WHERE post_id IN (?, ?) AND source = 'syndication'",
                    (POST_B, POST_C),
                )
            )
            == 2
        ),
    )
    host = f"127.0.0.1_{fakex.port}"
    out_c = tmp_path / "out" / host / "feed" / "c.html"
    wait_for("article C rewritten", out_c.exists)

    # Rechecks are due every 2 s: an edit on X reaches the archive and the article.
    fakex.add_post(make_tweet_payload(POST_A, "first post, corrected", "alice", "Alice"))
    wait_for(
        "post A updated by a recheck",
        lambda: (
            query(config, "SELECT text FROM posts WHERE post_id = ?", (POST_A,))
            == [("first post, corrected",)]
        ),
    )
    out_a = tmp_path / "out" / host / "news" / "a.html"
    wait_for("article A regenerated", lambda: "first post, corrected" in out_a.read_text("utf-8"))

    code, took = stop(proc)
    assert code == 0
    assert took < 10
    assert query(config, "SELECT COUNT(*) FROM runs WHERE outcome = 'running'") == [(0,)]
    assert query(config, "PRAGMA integrity_check") == [("ok",)]
    assert holder_alive(lock_path_for(tmp_path / "archive.db")) is None

    # One structured line per job run, with its counts and duration.
    records = log_records(config)
    jobs = [r for r in records if r.get("job") in ("scan", "recheck") and "duration_s" in r]
    assert jobs, records[-5:]
    scan = next(r for r in jobs if r["job"] == "scan" and r["articles_scanned"] > 0)
    for key in ("run_id", "outcome", "duration_s", "posts_new", "articles_rewritten"):
        assert key in scan
    assert any(r["job"] == "recheck" and r.get("posts_fetched", 0) > 0 for r in jobs)
    assert any("SIGTERM" in r["message"] for r in records)

    # After the stop, `run` works again, and finds nothing left to do.
    again = cli(config, "run", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["posts_new"] == 0


def test_errors_are_logged_with_the_article_and_post(
    tmp_path: Path, fakex: FakeX, serving: list[subprocess.Popen[bytes]]
) -> None:
    site = Site(fakex)
    site.add("/news/a", POST_A, "alice")
    site.sitemap.append(f"{fakex.base_url}/missing")  # 404: a failed article
    site.publish()
    # X is down for this post (503 on every try): a failed check.
    fakex.add_fault(Fault(status_5xx=10_000), post_id=POST_A)
    config = write_config(tmp_path, fakex)
    proc = start_serve(config)
    serving.append(proc)
    wait_for(
        "the failed article and the failed check recorded",
        lambda: (
            query(config, "SELECT error FROM articles WHERE location LIKE '%/missing'")
            not in ([], [(None,)])
            and scalar(config, "SELECT COUNT(*) FROM posts WHERE last_error IS NOT NULL") == 1
        ),
    )
    code, _ = stop(proc)
    assert code == 0
    records = log_records(config)
    assert any(r.get("article", "").endswith("/missing") and r.get("reason") for r in records)
    assert any(r.get("post") == f"x:{POST_A}" and r.get("reason") for r in records)
    status = cli(config, "status")
    assert status.returncode == 0
    assert "lock:     free" in status.stdout
    assert "/missing" in status.stdout and f"post x:{POST_A}" in status.stdout


@pytest.mark.slow  # service timing: seconds of real sleeps and signals
def test_sigterm_during_a_stuck_request_exits_within_the_stop_timeout(
    tmp_path: Path, fakex: FakeX, serving: list[subprocess.Popen[bytes]]
) -> None:
    site = Site(fakex)
    site.add("/slow", POST_A, "alice")
    fakex.add_fault(Fault(latency=30), path="/slow")
    config = write_config(tmp_path, fakex, http={"timeout": 60, "retries": 0, "post_deadline": 60})
    proc = start_serve(config, "--stop-timeout", "2")
    serving.append(proc)
    wait_for("the slow article requested", lambda: fakex.count("/slow") > 0)
    code, took = stop(proc)
    assert code == 0
    assert took < 6
    # The abandoned run is left 'running' by the dead process; the next start (any
    # writer) marks it interrupted and carries on.
    assert query(config, "SELECT outcome FROM runs") == [("running",)]
    fakex._faults.clear()
    result = cli(config, "run", "--json")
    assert result.returncode == 0, result.stderr
    outcomes = [row[0] for row in query(config, "SELECT outcome FROM runs ORDER BY id")]
    assert outcomes == ["interrupted", "ok"]
    assert query(config, "SELECT COUNT(*) FROM posts") == [(1,)]


@pytest.mark.slow  # service timing: seconds of real sleeps and signals
def test_kill_9_then_restart_resumes(
    tmp_path: Path, fakex: FakeX, serving: list[subprocess.Popen[bytes]]
) -> None:
    site = Site(fakex)
    for i in range(12):
        site.add(f"/n/{i}", POST_A if i % 2 else POST_B, "alice")
    fakex.add_fault(Fault(latency=0.15), path=None)  # every request is slow
    config = write_config(tmp_path, fakex)
    proc = start_serve(config)
    serving.append(proc)
    wait_for("some articles scanned", lambda: scalar(config, "SELECT COUNT(*) FROM articles") >= 2)
    proc.kill()
    proc.wait()
    assert query(config, "PRAGMA integrity_check") == [("ok",)]
    fakex._faults.clear()

    proc = start_serve(config)
    serving.append(proc)
    wait_for(
        "all articles scanned after the restart",
        lambda: (
            query(config, "SELECT COUNT(*) FROM articles WHERE content_hash IS NOT NULL") == [(12,)]
        ),
    )
    wait_for(
        "the killed run marked interrupted",
        lambda: ("interrupted",) in query(config, "SELECT outcome FROM runs"),
    )
    code, _ = stop(proc)
    assert code == 0
    # Nothing done twice: one row per article, one per embed, one per post.
    assert query(config, "SELECT COUNT(*), COUNT(DISTINCT location) FROM articles") == [(12, 12)]
    assert query(config, "SELECT COUNT(*) FROM embeds") == [(12,)]
    assert query(config, "SELECT COUNT(*) FROM posts") == [(2,)]


@pytest.mark.slow  # service timing: seconds of real sleeps and signals
def test_a_missed_run_runs_once_not_n_times(
    tmp_path: Path, fakex: FakeX, serving: list[subprocess.Popen[bytes]]
) -> None:
    Site(fakex).add("/a", POST_A, "alice")
    config = write_config(tmp_path, fakex)
    proc = start_serve(config)
    serving.append(proc)
    wait_for("two scans", lambda: scalar(config, "SELECT COUNT(*) FROM runs") >= 2)
    # The machine "sleeps" through ~5 scan intervals.
    proc.send_signal(signal.SIGSTOP)
    time.sleep(5)
    before = scalar(config, "SELECT COUNT(*) FROM runs WHERE kind = 'run'")
    proc.send_signal(signal.SIGCONT)
    time.sleep(0.8)
    after = scalar(config, "SELECT COUNT(*) FROM runs WHERE kind = 'run'")
    assert after - before <= 2  # coalesced: not 5 catch-up runs
    time.sleep(1.5)
    assert scalar(config, "SELECT COUNT(*) FROM runs WHERE kind = 'run'") > before
    code, _ = stop(proc)
    assert code == 0


# -- the lock ------------------------------------------------------------------------


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    first = ArchiveLock(db)
    first.acquire()
    try:
        assert lock_path_for(db).read_text().strip() == str(os.getpid())
        # flock locks belong to the open file, so a second one conflicts even in-process.
        with pytest.raises(LockHeld) as caught:
            ArchiveLock(db).acquire()
        assert caught.value.holder_pid == os.getpid()
        assert caught.value.exit_code == 4
        assert str(os.getpid()) in caught.value.message
    finally:
        first.release()
    assert lock_path_for(db).read_text() == ""
    with ArchiveLock(db):
        pass


def test_archive_lock_nests_and_run_takes_it(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.html").write_text(page("A", tweet(POST_A, "a", "A", "t")))
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\nsources:\n  - kind: directory\n    path: articles\n"
        "output:\n  dir: out\nx:\n  fetch: false\n"
    )
    with Archive.from_config(config) as archive, archive.lock():
        report = archive.run()  # nested: the same process may run under its own lock
        assert report.errors == []
        with pytest.raises(LockHeld):
            ArchiveLock(tmp_path / "archive.db").acquire()
        # Another process is refused while we hold it.
        result = cli(config, "run")
        assert result.returncode == 4 and str(os.getpid()) in result.stderr
    # Released on exit: a run in another process works.
    assert cli(config, "run").returncode == 0


def test_a_process_forked_under_the_lock_does_not_keep_it(tmp_path: Path) -> None:
    """A process forked while the archive is locked (a scan worker of ``run``) holds no
    copy of the lock: once the holder is killed, the archive is free at once, though the
    child lives on (a worker notices its parent's death only within a second)."""
    db = tmp_path / "archive.db"
    holder = (
        "import os, signal, sys, time\n"
        "from archiver.lock import ArchiveLock\n"
        f"ArchiveLock({str(db)!r}).acquire()\n"
        "child = os.fork()\n"
        "if child == 0:\n"
        "    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the test reads until EOF\n"
        "    os.dup2(1, 2)\n"
        "    time.sleep(30)\n"
        "    os._exit(0)\n"
        "print(child, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", holder], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    child = int(done.stdout.split()[0])
    try:
        os.kill(child, 0)  # still alive
        with ArchiveLock(db):  # LockHeld while the child kept a copy of the descriptor
            pass
    finally:
        os.kill(child, signal.SIGKILL)


def test_sweep_removes_only_stale_temp_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    media = out / "embeds" / "media"
    media.mkdir(parents=True)
    stale = [out / ".a.html.x1.tmp", media / ".part-123"]
    keep = [out / "a.html", out / ".b.html.x2.tmp", media / "abc.jpg", out / ".part-9"]
    for path in stale + keep:
        path.write_bytes(b"x")
    old = time.time() - 3600
    for path in [*stale, keep[0], keep[2], keep[3]]:
        os.utime(path, (old, old))
    assert sweep_temp_files(out, media, older_than=600) == 2
    assert all(not p.exists() for p in stale) and all(p.exists() for p in keep)


# -- incremental work ----------------------------------------------------------------


def test_incremental_runs_skip_unchanged_and_mark_removed(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for name, post in (("a.html", POST_A), ("b.html", POST_B), ("c.html", POST_C)):
        (articles / name).write_text(page(name, tweet(post, "h", "H", f"text {post}")))
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\nsources:\n  - kind: directory\n    path: articles\n"
        "output:\n  dir: out\nx:\n  fetch: false\n"
    )
    out = tmp_path / "out"
    with Archive.from_config(config) as archive:
        first = archive.run()
    assert first.articles_scanned == 3 and first.articles_rewritten == 3
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")}

    # Same size and mtime: not even read.
    with Archive.from_config(config) as archive:
        second = archive.run()
    assert second.articles_skipped == 3 and second.articles_scanned == 0
    assert second.articles_rewritten == 0

    # Touched but identical: read, hash unchanged, not re-parsed or rewritten.
    os.utime(articles / "a.html", None)
    with Archive.from_config(config) as archive:
        third = archive.run()
        assert third.embeds_found == 0 and third.articles_rewritten == 0
        embeds = archive.store.embeds_of("articles/a.html")
    assert len(embeds) == 1
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")} == stamps

    # Deleted from the source: marked removed, never deleted; its post stays.
    (articles / "c.html").unlink()
    with Archive.from_config(config) as archive:
        fourth = archive.run()
        assert fourth.articles_removed == 1
        row = archive.store.get_article("articles/c.html")
        assert row is not None and row.removed_at is not None
        assert f"x:{POST_C}" in archive.post_keys()
        assert len(archive.store.embeds_of("articles/c.html")) == 1

    # A changed article is rewritten; the others are left alone, byte for byte.
    (articles / "b.html").write_text(page("b2", tweet(POST_B, "h", "H", f"text {POST_B}")))
    with Archive.from_config(config) as archive:
        fifth = archive.run()
    assert fifth.articles_rewritten == 1
    assert (out / "a.html").stat().st_mtime_ns == stamps["a.html"]
    assert (out / "b.html").stat().st_mtime_ns != stamps["b.html"]


def test_removed_articles_are_found_without_a_set_of_every_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass keeps the locations it saw in the archive's connection, not in memory
    (issue 13: its memory must not grow with the source), written in chunks: removals
    are still exactly the unseen articles of each source, and nothing is left behind."""
    from archiver.storage import SeenLocations

    monkeypatch.setattr(SeenLocations, "FLUSH_EVERY", 2)  # several chunks per source
    for folder in ("news", "blog"):
        (tmp_path / folder).mkdir()
        for n in range(5):
            (tmp_path / folder / f"{n}.html").write_text(page(f"{folder} {n}", "<p>none</p>"))
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\nsources:\n"
        "  - kind: directory\n    path: news\n  - kind: directory\n    path: blog\n"
        "output:\n  dir: out\nx:\n  fetch: false\n"
    )
    with Archive.from_config(config) as archive:
        assert archive.run().articles_removed == 0
    (tmp_path / "news" / "1.html").unlink()
    (tmp_path / "news" / "3.html").unlink()
    with Archive.from_config(config) as archive:
        report = archive.run()
        assert report.articles_removed == 2
        removed = {
            loc
            for loc in archive.store.article_locations(include_removed=True)
            if (row := archive.store.get_article(loc)) is not None and row.removed_at
        }
        assert removed == {"news/1.html", "news/3.html"}
        assert archive.run().articles_removed == 0  # already marked: not counted again
    with sqlite3.connect(tmp_path / "archive.db") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert not any("seen" in name for name in tables)  # nothing written to the archive


def test_a_pass_after_an_interrupted_one_refreshes_only_the_pages_it_left_stale(
    tmp_path: Path,
) -> None:
    """Issue 13: a pass that did not finish skips its end-of-pass refresh; the next one
    used to render every post page of the archive again (12 minutes at a million). It
    now refreshes the pages the lost pass may have left out of date, including the page
    of a post an article stopped embedding, and leaves every other page alone."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "a.html").write_text(page("a", tweet(POST_A, "h", "H", "text a")))
    (articles / "b.html").write_text(page("b", tweet(POST_B, "h", "H", "text b")))
    config = tmp_path / "config.yaml"
    config.write_text(
        "database: archive.db\nsources:\n  - kind: directory\n    path: articles\n"
        "output:\n  dir: out\nx:\n  fetch: false\n"
    )
    pages = tmp_path / "out" / "embeds" / "x"
    with Archive.from_config(config) as archive:
        archive.run()
    assert "a.html" in (pages / f"{POST_A}.html").read_text()
    # A hand-made mark on a page no pass has a reason to touch.
    untouched = pages / f"{POST_B}.html"
    untouched.write_text(untouched.read_text() + "<!-- kept -->")

    # a.html now embeds C instead of A; the pass stops after its first article, before
    # its end-of-pass refresh: A's page still lists a.html.
    (articles / "a.html").write_text(page("a2", tweet(POST_C, "h", "H", "text c")))
    with Archive.from_config(config) as archive:
        report = archive.run(progress=lambda _location: archive.stop.set())
        assert archive.store.recent_runs(1)[0]["outcome"] == "interrupted"
    assert report.articles_rewritten == 1
    assert "a.html" in (pages / f"{POST_A}.html").read_text()

    with Archive.from_config(config) as archive:
        archive.run()
    assert "a.html" not in (pages / f"{POST_A}.html").read_text()
    assert "a.html" in (pages / f"{POST_C}.html").read_text()
    assert untouched.read_text().endswith("<!-- kept -->")  # not rendered again
