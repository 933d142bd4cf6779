"""kill -9 stress: interrupt ``embed-archiver run`` at random moments and check the archive.

Each *episode* starts from the archive of a first corpus (v1), replaces the corpus
with v2 (changed, new and deleted articles) and then repeatedly starts ``run`` and
SIGKILLs it after a random delay, until a run completes. After every kill:

* ``PRAGMA integrity_check`` is ok and ``PRAGMA foreign_key_check`` is empty;
* every rewritten article is absent, byte-identical to its v1 output, or
  byte-identical to the output of an uninterrupted run (a separate reference dir);
* every post page is complete HTML (written atomically);
* no media file is referenced by the database but missing.

When the episode's run completes, the archive must equal the reference: same posts
(ignoring timestamps), same embeds, same articles, same output bytes (post pages
compared with their timestamps masked).

    python bench/kill9_stress.py --kills 200 --articles 300 --seed 7

prints the kills, the failures and the command to rerun the same random sequence.
"""

from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parent.parent

# Post ids: real snowflakes (2023-2025), so created_at comes from the id.
BASE_ID = 1641086480675225601
TEMP_NAME = re.compile(r"^\.(.+\.tmp|part-.*)$")
# Provenance lines of post pages carry the archive's own timestamps.
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
        n = (i * 7 + k * 13 + (version if i % 3 == 0 else 0)) % 120
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


def write_config(root: Path, extra: str = "") -> Path:
    config = root / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        "sources:\n  - kind: directory\n    path: articles\n"
        "output:\n  dir: out\n"
        "x:\n  fetch: false\n" + extra,
        encoding="utf-8",
    )
    return config


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


def is_post_page(rel: str) -> bool:
    return rel.startswith("embeds/")


def masked(data: bytes) -> bytes:
    return WHEN.sub("<when>", data.decode("utf-8", "replace")).encode("utf-8")


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
            "SELECT post_key, content_hash, source FROM snapshots ORDER BY post_key, content_hash"
        ).fetchall()
    finally:
        conn.close()
    return {"posts": posts, "embeds": embeds, "articles": articles, "snapshots": snapshots}


def check_consistent(root: Path, old: dict[str, bytes], final: dict[str, bytes]) -> list[str]:
    """The invariants that must hold after any kill; returns the problems found."""
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
    for rel, data in output_files(root).items():
        if is_post_page(rel):
            if rel.endswith(".html") and not data.rstrip().endswith(b"</html>"):
                problems.append(f"{rel}: truncated post page")
            continue
        if data != old.get(rel) and data != final.get(rel):
            problems.append(f"{rel}: neither the old nor the final bytes")
    return problems


def compare_final(root: Path, reference: Path) -> list[str]:
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
        same = masked(got[rel]) == masked(want[rel]) if is_post_page(rel) else got[rel] == want[rel]
        if not same:
            problems.append(f"{rel}: differs from the uninterrupted run")
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
    kills: int = 0
    completed_runs: int = 0
    episodes: int = 0
    failures: list[str] = field(default_factory=list)
    run_seconds: float = 0.0


def stress(
    workdir: Path,
    *,
    kills: int,
    articles: int,
    seed: int,
    deadline: float | None = None,
    window_factor: float = 1.2,
    log: Callable[[str], None] = print,
) -> Result:
    """Run the kill loop in ``workdir``; stop after ``kills`` kills (or at ``deadline``).

    Each kill comes after a delay drawn uniformly from 0.05 s to ``window_factor``
    times an uninterrupted run's duration; below 1, most runs are killed (every killed
    run still makes progress, so an episode always ends).
    """
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = Result()

    # The reference: v1 then v2, uninterrupted, then once more (steady state).
    reference = workdir / "reference"
    reference.mkdir()
    ref_config = write_config(reference)
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
    config = write_config(victim)
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
                proc.wait()
                result.kills += 1
                for problem in check_consistent(victim, old, final):
                    result.failures.append(f"kill {result.kills}: {problem}")
                continue
            proc.wait()
            result.completed_runs += 1
            break
        # Converge: clean runs to the end (twice: the reference had a steady-state run too).
        run_to_end(config)
        run_to_end(config)
        for problem in check_consistent(victim, old, final) + compare_final(victim, reference):
            result.failures.append(f"episode {result.episodes} final: {problem}")
        log(
            f"episode {result.episodes}: {result.kills} kills so far, {len(result.failures)} failures"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--window", type=float, default=1.2, help="kill delay, as a multiple of a run's duration"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    workdir = Path(tempfile.mkdtemp(prefix="kill9-"))
    try:
        result = stress(
            workdir, kills=args.kills, articles=args.articles, seed=seed, window_factor=args.window
        )
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"kills: {result.kills}, episodes: {result.episodes}, runs completed: "
        f"{result.completed_runs}, failures: {len(result.failures)}"
    )
    for failure in result.failures[:50]:
        print(f"  {failure}")
    print(
        f"rerun: python bench/kill9_stress.py --kills {args.kills} --articles {args.articles} "
        f"--window {args.window} --seed {seed}"
        + (f"  (work dir kept: {workdir})" if args.keep else "")
    )
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
