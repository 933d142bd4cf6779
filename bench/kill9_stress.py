"""kill -9 stress: interrupt ``embed-archiver run`` at random moments and check the archive.

Two modes. ``offline``: posts are archived from the articles' markup only
(``x.fetch: false``). ``network``: posts are also fetched from the local fake of X
(``tests/fakex.py``, on 127.0.0.1, in this process) with a latency on every request
and slowly dripped video bodies, so kills land during syndication requests, media
downloads (half-written ``.part-`` files) and the commits that follow them. ``both``
splits the kills between the two.

Each *episode* starts from the archive of a first corpus (v1), replaces the corpus
with v2 (changed, new and deleted articles) and then repeatedly starts ``run`` and
SIGKILLs it after a random delay, until a run completes. After every kill:

* ``PRAGMA integrity_check`` is ok and ``PRAGMA foreign_key_check`` is empty;
* every rewritten article is absent, byte-identical to its v1 output, or
  byte-identical to the output of an uninterrupted run (a separate reference dir);
* every post page is complete HTML (written atomically);
* every file in the media store holds exactly the bytes its name (their sha256) says;
* no media file is referenced by the database but missing;
* the embeds folder holds only index pages, post pages and media files: temp files
  a kill left behind are hidden (``.name.….tmp``, ``.part-…``), never under an
  output's name.

When the episode's run completes, the archive must equal the reference: same posts
(ignoring timestamps), same snapshots, embeds, articles and media rows, same output
bytes (post pages compared with their timestamps masked).

    python bench/kill9_stress.py --kills 1000 --mode both --articles 200 --seed 7

prints the kills per mode, the failures and the command to rerun the same random
sequence.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakex import (  # noqa: E402 - the fake lives with the tests
    FakeX,
    Fault,
    config_for,
    make_tweet_payload,
    oembed_payload,
    tiny_jpeg,
    tiny_mp4,
    tiny_png,
)

from archiver.files import is_temp_name  # noqa: E402 - after the path set-up, as fakex

MODES = ("offline", "network")
# Posts embedded by v1 articles; v2 adds NEW_POSTS more (fetched during the killed runs).
POOL = 120
NEW_POSTS = 40
VIDEO_BYTES = 64_000  # padding of each video (dripped in network mode)

# Post ids: real snowflakes (2023-2025), so created_at comes from the id.
BASE_ID = 1641086480675225601
TEMP_NAME = re.compile(r"^\.(.+\.tmp|part-.*)$")
# Provenance lines of post pages carry the archive's own timestamps.
# The files of the embeds folder: index pages, post pages, the media store.
EMBEDS_FILE = re.compile(
    r"embeds/((index|status-[a-z]+)(-(\d{4}(-\d\d)?|undated)-\d+)?\.html"
    r"|search(-index|-(\d{4}(-\d\d)?|undated)-\d+)?\.js"
    r"|x/\d+\.html|media/[0-9a-f]{64}\.[a-z0-9]+)"
)
# Stable embeds as spliced into an article: each on one line, from the first opening
# tag to the last closing one (quoted posts nest a blockquote inside).
EMBEDS = re.compile(rb'<blockquote class="archived-post[^"]*" data-archived-post=.*</blockquote>')
EMBED_KEY = re.compile(rb'data-archived-post="([^"]*)"')
# Days and times the archive writes in words (when a copy was archived, last checked,
# each version, the index's generation day). Posting times use short month names
# ("Feb 9, 2026") and stay compared.
ARCHIVE_DAY = re.compile(
    rb"(?:January|February|March|April|May|June|July|August|September|October|November"
    rb"|December) \d{1,2}, \d{4}(?:, \d\d:\d\d UTC)?|(?<=Generated )\d{4}-\d\d-\d\d(?=\.)"
)
WHEN = re.compile(r"(?:[A-Z][a-z]+ \d{1,2}, \d{4} )?\(?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)?")


def post_id(n: int) -> str:
    return str(BASE_ID + n * 4_194_304_000)


def embed(pid: str, handle: str, text: str) -> str:
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>'
        f"&mdash; {handle.title()} (@{handle}) "
        f'<a href="https://twitter.com/{handle}/status/{pid}?ref_src=twsrc%5Etfw">'
        "March 29, 2023</a></blockquote>\n"
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    )


def article_html(i: int, version: int, rng: random.Random) -> str:
    """An article with 1-4 embeds drawn from a pool of posts shared between articles."""
    count = 1 + (i % 4)
    embeds = []
    for k in range(count):
        n = (i * 7 + k * 13 + (version if i % 3 == 0 else 0)) % POOL
        if version == 2 and i % 3 == 0 and k == 0:
            n = POOL + i % NEW_POSTS  # changed articles embed posts new to the archive
        embeds.append(embed(post_id(n), f"user{n % 17}", f"post number {n} &amp; friends"))
    filler = "<p>" + ("Lorem ipsum dolor sit amet. " * (20 + i % 30)) + "</p>\n"
    body = filler.join(embeds)
    return (
        f'<!doctype html>\n<html><head><meta charset="utf-8"><title>Story {i}</title></head>\n'
        f"<body>\n<h1>Story {i} v{version if i % 3 == 0 else 1}</h1>\n{filler}{body}\n"
        f"{filler}</body></html>\n"
    )


def write_corpus(root: Path, articles: int, version: int) -> None:
    """v1: ``articles`` articles. v2: every third changed, 1/5 more added, 1/10 deleted."""
    folder = root / "articles"
    if folder.exists():
        shutil.rmtree(folder)
    rng = random.Random(version)
    ids = list(range(articles))
    if version == 2:
        ids = [i for i in ids if i % 10 != 5] + list(range(articles, articles + articles // 5))
    for i in ids:
        path = folder / f"section{i % 6}" / f"story-{i}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_html(i, version, rng), encoding="utf-8")


def write_config(root: Path, fake: FakeX | None = None, workers: int = 1) -> Path:
    """The config of a run: offline, or fetching from ``fake`` with generous timeouts
    (a loaded machine must not turn into fetch failures that the reference lacks);
    ``workers``: scan.workers (the victim's only: the reference is one process)."""
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": "articles"}],
        "output": {"dir": "out"},
        "x": {"fetch": False},
        "scan": {"workers": workers},
    }
    if fake is not None:
        config.update(
            config_for(
                fake,
                http={"concurrency": 8, "timeout": 30.0, "retries": 3, "post_deadline": 120.0},
            )
        )
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def network_text(n: int) -> str:
    return f"post number {n} as X serves it, with more than the markup had #n{n}"


def populate_fake(fake: FakeX, posts: int, drip: float) -> None:
    """Answers for posts 0..posts-1: photos, videos (dripped), avatars, quoted posts,
    tombstones, and posts only oEmbed knows. The same answers every time, so the
    reference and the victim see the same X."""
    avatars = {
        h: fake.add_media(f"avatar/user{h}.png", tiny_png(h), "image/png") for h in range(17)
    }
    for n in range(posts):
        pid, handle = post_id(n), f"user{n % 17}"
        if n % 13 == 0:
            fake.add_tombstone(pid, "This Post was deleted by the Post author.")
            continue
        if n % 19 == 0:
            fake.add_not_found(pid)
            fake.add_oembed(pid, oembed_payload(pid, network_text(n), handle, handle.title()))
            continue
        media: list[dict[str, Any]] = []
        if n % 3 == 0:
            media.append({"type": "photo", "url": fake.add_media(f"p/{n}.jpg", tiny_jpeg(n))})
        if n % 5 == 0:
            # Sent in 4 KB pieces: a download takes 16 × drip seconds.
            video = tiny_mp4(n) + bytes(VIDEO_BYTES)
            url = fake.add_media(f"v/{n}.mp4", video, "video/mp4")
            fake.add_fault(Fault(drip=drip), path=f"/media/v/{n}.mp4")
            poster = fake.add_media(f"v/{n}.jpg", tiny_jpeg(10_000 + n))
            media.append({"type": "video", "url": url, "poster": poster})
        quoted = None
        if n % 11 == 0:
            # A post only ever seen inside this one: archived from the nested payload.
            qid = post_id(10_000 + n)
            quoted = make_tweet_payload(qid, f"quoted by {n}", "quoted", "Quoted One")
        fake.add_post(
            make_tweet_payload(
                pid,
                network_text(n),
                handle,
                handle.title(),
                media=media or None,
                quoted=quoted,
                avatar=avatars[n % 17],
            )
        )


def run_cmd(config: Path) -> list[str]:
    return [sys.executable, "-m", "archiver", "--config", str(config), "run", "--json"]


def run_to_end(config: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        run_cmd(config), cwd=config.parent, capture_output=True, text=True, env=env, timeout=600
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"run failed ({result.returncode}): {result.stderr[-2000:]}")


def output_files(root: Path) -> dict[str, bytes]:
    out = root / "out"
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and not TEMP_NAME.match(path.name):
            files[path.relative_to(out).as_posix()] = path.read_bytes()
    return files


def temp_files(root: Path) -> list[Path]:
    """Temp files killed runs left in the output tree (swept by the service at start)."""
    return [p for p in (root / "out").rglob(".*") if p.is_file() and TEMP_NAME.match(p.name)]


def is_post_page(rel: str) -> bool:
    return rel.startswith("embeds/")


def masked(data: bytes) -> bytes:
    """A post page with the archive's own timestamps masked."""
    return WHEN.sub("<when>", unstamped(data).decode("utf-8", "replace")).encode("utf-8")


def unstamped(data: bytes) -> bytes:
    """Any output with the archive's own dates masked: the day a copy was taken (in
    notices of deleted posts) and the day the index was generated. A bench that runs
    past midnight UTC would otherwise see the victim differ from the reference."""
    return ARCHIVE_DAY.sub(b"<day>", data)


def db_state(root: Path) -> dict[str, Any]:
    """What must converge: posts (without timestamps), embeds, articles."""
    conn = sqlite3.connect(root / "archive.db")
    try:
        posts = conn.execute(
            "SELECT key, url, author_handle, author_name, text, html, lang, created_at, status, "
            "source, content_hash, local_path FROM posts ORDER BY key"
        ).fetchall()
        embeds = conn.execute(
            "SELECT a.location, e.post_key, e.ordinal, e.form, e.original FROM embeds e "
            "JOIN articles a ON a.id = e.article_id ORDER BY a.location, e.ordinal"
        ).fetchall()
        articles = conn.execute(
            "SELECT location, content_hash, embed_count, removed_at IS NOT NULL, error "
            "FROM articles ORDER BY location"
        ).fetchall()
        snapshots = conn.execute(
            "SELECT post_key, content_hash, source, status, http_status, source_url "
            "FROM snapshots ORDER BY post_key, content_hash, source"
        ).fetchall()
        media = conn.execute(
            "SELECT post_key, ordinal, kind, url, local_path, poster_url, poster_local_path, "
            "content_type, bytes, sha256 FROM media ORDER BY post_key, kind, url"
        ).fetchall()
        links = conn.execute(
            "SELECT key, author_avatar, quoted_post_key, reply_to_post_key, notice, edit_ids "
            "FROM posts ORDER BY key"
        ).fetchall()
    finally:
        conn.close()
    return {
        "posts": posts,
        "post links": links,
        "embeds": embeds,
        "articles": articles,
        "snapshots": snapshots,
        "media": media,
    }


def mid_pass_rendering(data: bytes, final: bytes) -> bool:
    """Whether an article is a whole rendering of its final source whose embeds show the
    archive as it was earlier in the same pass.

    A pass can rightly rewrite an article twice: in its batch, once its posts are
    fetched, and again at the end when a post it shows changed meanwhile (a quoted post
    found deleted when checked on its own). A kill in between leaves that first
    rendering, complete. It must be line for line the final file, except for whole
    embeds (each is rendered on one line) of the same posts.
    """
    mine, theirs = data.split(b"\n"), final.split(b"\n")
    if len(mine) != len(theirs):
        return False
    for a, b in zip(mine, theirs, strict=True):
        if a == b:
            continue
        ea, eb = EMBEDS.search(a), EMBEDS.search(b)
        if not (ea and eb):
            return False
        if (a[: ea.start()], a[ea.end() :]) != (b[: eb.start()], b[eb.end() :]):
            return False  # the text around the embeds differs
        if EMBED_KEY.findall(ea.group()) != EMBED_KEY.findall(eb.group()):
            return False  # other posts, or an embed cut short
    return True


def check_consistent(
    root: Path,
    old: dict[str, bytes],
    final: dict[str, bytes],
    evidence: Path | None = None,
    counts: dict[str, int] | None = None,
) -> list[str]:
    """The invariants that must hold after any kill; returns the problems found.

    An output file that is neither old nor final nor a mid-pass rendering is copied
    under ``evidence``; ``counts`` gets the number of mid-pass renderings."""
    problems = []
    conn = sqlite3.connect(root / "archive.db")
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        bad_fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if bad_fk:
            problems.append(f"foreign_key_check: {bad_fk[:5]}")
        media = {
            name
            for row in conn.execute("SELECT local_path, poster_local_path FROM media")
            for name in row
            if name
        }
    finally:
        conn.close()
    media_root = root / "out" / "embeds" / "media"
    missing = sorted(m for m in media if not (media_root / m).exists())
    if missing:
        problems.append(f"media referenced but missing: {missing[:5]}")
    mid_pass = 0
    for rel, data in output_files(root).items():
        if rel.startswith("embeds/") and not EMBEDS_FILE.fullmatch(rel):
            # Visible files are outputs, never a temp file under some other name.
            problems.append(f"{rel}: not a file the archive writes")
        if rel.startswith("embeds/media/"):
            # Content-addressed: a half-written or mixed-up file has the wrong digest.
            if hashlib.sha256(data).hexdigest() != rel.rsplit("/", 1)[1].split(".")[0]:
                problems.append(f"{rel}: content does not match its name")
            continue
        if is_post_page(rel):
            if rel.endswith(".html") and not data.rstrip().endswith(b"</html>"):
                problems.append(f"{rel}: truncated post page")
            continue
        data = unstamped(data)
        if any(rel in known and data == unstamped(known[rel]) for known in (old, final)):
            continue
        if rel in final and mid_pass_rendering(data, unstamped(final[rel])):
            mid_pass += 1
        else:
            problems.append(f"{rel}: neither the old nor the final bytes")
            if evidence is not None:  # for a look afterwards (--keep)
                kept = evidence / rel
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(data)
    if counts is not None:
        counts["mid-pass articles"] = mid_pass
    return problems


def compare_final(root: Path, reference: Path, evidence: Path | None = None) -> list[str]:
    """Differences between the archive in ``root`` and the reference (differing output
    files are copied under ``evidence``)."""
    problems = []
    mine, theirs = db_state(root), db_state(reference)
    for table in mine:
        if mine[table] != theirs[table]:
            extra = sorted(set(mine[table]) - set(theirs[table]))[:3]
            lacking = sorted(set(theirs[table]) - set(mine[table]))[:3]
            problems.append(f"{table} differ: extra {extra} missing {lacking}")
    got, want = output_files(root), output_files(reference)
    if set(got) != set(want):
        problems.append(f"output files differ: {sorted(set(got) ^ set(want))[:5]}")
    for rel in sorted(set(got) & set(want)):
        if is_post_page(rel):
            same = masked(got[rel]) == masked(want[rel])
        else:
            same = unstamped(got[rel]) == unstamped(want[rel])
        if not same:
            problems.append(f"{rel}: differs from the uninterrupted run")
            if evidence is not None:
                kept = evidence / rel
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(got[rel])
    return problems


def copy_archive(src: Path, dst: Path) -> None:
    """The archive (database and outputs) of ``src`` into ``dst``; articles come separately."""
    for name in ("archive.db", "archive.db-wal", "archive.db-shm"):
        if (dst / name).exists():
            (dst / name).unlink()
        if (src / name).exists():
            shutil.copy2(src / name, dst / name)
    if (dst / "out").exists():
        shutil.rmtree(dst / "out")
    shutil.copytree(src / "out", dst / "out")


@dataclass
class Result:
    mode: str = "offline"
    kills: int = 0
    completed_runs: int = 0
    episodes: int = 0
    failures: list[str] = field(default_factory=list)
    run_seconds: float = 0.0
    # network mode: kills that landed while a request to the fake was in flight
    kills_during_fetch: int = 0
    kills_during_media: int = 0  # … a media download among them
    kills_leaving_part_files: int = 0  # a half-downloaded media file was on disk
    kills_with_mid_pass_articles: int = 0  # see mid_pass_rendering
    temp_files_left: int = 0  # after the last kill of each episode, summed
    seconds: float = 0.0


def stress(
    workdir: Path,
    *,
    kills: int,
    articles: int,
    seed: int,
    mode: str = "offline",
    latency: float = 0.03,
    drip: float = 0.02,
    deadline: float | None = None,
    window_factor: float = 1.2,
    log: Callable[[str], None] = print,
    workers: int = 1,
) -> Result:
    """Run the kill loop in ``workdir``; stop after ``kills`` kills (or at ``deadline``).

    Each kill comes after a delay drawn uniformly from 0.05 s to ``window_factor``
    times an uninterrupted run's duration; below 1, most runs are killed (every killed
    run still makes progress, so an episode always ends). In ``network`` mode every
    request to the fake of X waits ``latency`` seconds and video bodies arrive in
    4 KB pieces ``drip`` seconds apart.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    started = time.monotonic()
    if mode == "offline":
        result = _stress(
            workdir, None, kills, articles, seed, 0.0, deadline, window_factor, log, workers
        )
    else:
        with FakeX(latency=latency) as fake:
            populate_fake(fake, POOL + NEW_POSTS, drip)
            result = _stress(
                workdir, fake, kills, articles, seed, drip, deadline, window_factor, log, workers
            )
    result.mode = mode
    result.seconds = time.monotonic() - started
    return result


def _in_flight(fake: FakeX, killed_at: float, drip: float) -> tuple[bool, bool]:
    """Whether a request (a media download) was still unanswered when the kill came.

    The fake sleeps ``latency`` before each answer and drips video bodies, so a request
    that started less than that long before the kill was still open (approximately:
    the fake's own scheduling adds to it).
    """
    video = fake.latency + drip * (VIDEO_BYTES // 4096 + 1)
    fetch = media = False
    for request in fake.requests_for():
        is_video = request.path.startswith("/media/v/") and request.path.endswith(".mp4")
        if killed_at - (video if is_video else fake.latency) <= request.time <= killed_at:
            fetch = True
            media = media or request.path.startswith("/media/")
    return fetch, media


def _stress(
    workdir: Path,
    fake: FakeX | None,
    kills: int,
    articles: int,
    seed: int,
    drip: float,
    deadline: float | None,
    window_factor: float,
    log: Callable[[str], None],
    workers: int = 1,
) -> Result:
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = Result()

    # The reference: v1 then v2, uninterrupted, then once more (steady state).
    reference = workdir / "reference"
    reference.mkdir()
    ref_config = write_config(reference, fake)
    write_corpus(reference, articles, 1)
    run_to_end(ref_config)
    write_corpus(reference, articles, 2)
    started = time.monotonic()
    run_to_end(ref_config)
    result.run_seconds = time.monotonic() - started
    run_to_end(ref_config)
    final = output_files(reference)

    # The v1 archive every episode starts from, built in place (the database holds
    # absolute output paths) and saved aside.
    victim = workdir / "victim"
    victim.mkdir()
    config = write_config(victim, fake, workers)
    write_corpus(victim, articles, 1)
    run_to_end(config)
    pristine = workdir / "pristine"
    pristine.mkdir()
    copy_archive(victim, pristine)
    old = output_files(victim)
    write_corpus(victim, articles, 2)
    window = max(0.3, result.run_seconds * window_factor)
    log(f"uninterrupted v2 run takes {result.run_seconds:.2f}s; killing within {window:.2f}s")

    while result.kills < kills and (deadline is None or time.monotonic() < deadline):
        result.episodes += 1
        copy_archive(pristine, victim)
        while result.kills < kills and (deadline is None or time.monotonic() < deadline):
            proc = subprocess.Popen(
                run_cmd(config),
                cwd=victim,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            time.sleep(rng.uniform(0.05, window))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
                proc.wait()
                result.kills += 1
                if fake is not None:
                    fetch, media = _in_flight(fake, killed_at, drip)
                    result.kills_during_fetch += fetch
                    result.kills_during_media += media
                    media_dir = victim / "out" / "embeds" / "media"
                    if media_dir.is_dir() and any(
                        is_temp_name(p.name, in_media_store=True) for p in media_dir.iterdir()
                    ):
                        result.kills_leaving_part_files += 1
                evidence = workdir / "evidence" / f"kill-{result.kills}"
                counts: dict[str, int] = {}
                for problem in check_consistent(victim, old, final, evidence, counts):
                    result.failures.append(f"kill {result.kills}: {problem}")
                result.kills_with_mid_pass_articles += counts["mid-pass articles"] > 0
                continue
            proc.wait()
            result.completed_runs += 1
            break
        result.temp_files_left += len(temp_files(victim))
        # Converge: clean runs to the end (twice: the reference had a steady-state run too).
        run_to_end(config)
        run_to_end(config)
        evidence = workdir / "evidence" / f"episode-{result.episodes}"
        for problem in check_consistent(victim, old, final) + compare_final(
            victim, reference, evidence
        ):
            result.failures.append(f"episode {result.episodes} final: {problem}")
        log(
            f"episode {result.episodes}: {result.kills} kills so far, {len(result.failures)} failures"
        )
    return result


def summary(result: Result) -> str:
    """One line of figures for a mode."""
    line = (
        f"{result.mode}: kills {result.kills}, episodes {result.episodes}, runs completed "
        f"{result.completed_runs}, failures {len(result.failures)}; uninterrupted v2 run "
        f"{result.run_seconds:.2f}s, {result.seconds:.0f}s in all"
    )
    if result.mode == "network":
        line += (
            f"; kills during a request {result.kills_during_fetch}, during a media download "
            f"{result.kills_during_media}, leaving a .part- file {result.kills_leaving_part_files}"
        )
    return line + (
        f"; kills leaving a mid-pass article {result.kills_with_mid_pass_articles}"
        f"; temp files left by kills {result.temp_files_left}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100, help="in all (split in mode both)")
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--window", type=float, default=1.2, help="kill delay, as a multiple of a run's duration"
    )
    parser.add_argument("--latency", type=float, default=0.03, help="network mode: s per request")
    parser.add_argument("--drip", type=float, default=0.02, help="network mode: s per 4 KB")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--workers", type=int, default=1, help="scan.workers of the killed runs (reference: 1)"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    modes = list(MODES) if args.mode == "both" else [args.mode]
    shares = [args.kills // len(modes) + (i < args.kills % len(modes)) for i in range(len(modes))]
    workdir = Path(tempfile.mkdtemp(prefix="kill9-"))
    results = []
    try:
        for mode, share in zip(modes, shares, strict=True):
            (workdir / mode).mkdir()
            print(f"-- {mode}: {share} kills")
            results.append(
                stress(
                    workdir / mode,
                    kills=share,
                    articles=args.articles,
                    seed=seed,
                    mode=mode,
                    latency=args.latency,
                    drip=args.drip,
                    window_factor=args.window,
                    workers=args.workers,
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    for result in results:
        print(summary(result))
        for failure in result.failures[:50]:
            print(f"  {failure}")
    failures = sum(len(r.failures) for r in results)
    print(f"total: kills {sum(r.kills for r in results)}, failures {failures}")
    print(
        f"rerun: python bench/kill9_stress.py --kills {args.kills} --mode {args.mode} "
        f"--articles {args.articles} --window {args.window} --latency {args.latency} "
        f"--drip {args.drip} --seed {seed}"
        + (f" --workers {args.workers}" if args.workers != 1 else "")
        + (f"  (work dir kept: {workdir})" if args.keep else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
