"""Benchmark of the storage layer alone: saving snapshots through the version policy.

    python bench/bench_storage.py                 # 3,000 posts, best of 5
    python bench/bench_storage.py --posts 500 --repeats 3

Per round, on a fresh SQLite file in a temp folder: every post first from markup (new),
the same markup again (unchanged), a richer markup copy (the markup total order), a
network snapshot (a richer source), the network snapshot again (counts and media only),
a poorer source (history only) and a tombstone (status only): each path of
``archiver.decide.plan_snapshot``, each in its own transaction as the pipeline does.
Prints microseconds per save (best round), to compare two versions of the code on the
same machine: run it in each checkout, alternately.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.models import MediaItem, PostSnapshot  # noqa: E402
from archiver.storage import Store  # noqa: E402

NOW = "2026-11-30T00:00:00.000Z"


def _steps(post_id: str) -> list[PostSnapshot]:
    url = f"https://x.com/a/status/{post_id}"
    photo = [MediaItem("photo", f"https://pbs.twimg.com/media/{post_id}.jpg")]
    return [
        PostSnapshot(post_id=post_id, url=url, text="Hello wor", source="markup"),
        PostSnapshot(post_id=post_id, url=url, text="Hello wor", source="markup"),
        PostSnapshot(post_id=post_id, url=url, text="Hello world, in full", source="markup"),
        PostSnapshot(
            post_id=post_id,
            url=url,
            text="Hello world",
            source="syndication",
            status="live",
            like_count=1,
            media=photo,
        ),
        PostSnapshot(
            post_id=post_id,
            url=url,
            text="Hello world",
            source="syndication",
            status="live",
            like_count=2,
            media=photo,
        ),
        PostSnapshot(post_id=post_id, url=url, text="Hello…", source="oembed", status="live"),
        PostSnapshot(post_id=post_id, source="syndication", status="deleted", notice="Gone"),
    ]


def one_round(posts: int) -> tuple[float, int, str]:
    """Seconds for every save of one round, how many saves it made, and a digest of
    what the archive holds after it (the same digest from two versions of the code:
    the same policy)."""
    work = [_steps(str(1641086480675225601 + n)) for n in range(posts)]
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "archive.db") as store:
        saves = 0
        started = time.perf_counter()
        for step in range(len(work[0])):
            for snaps in work:
                store.save_snapshot(snaps[step], NOW)
                saves += 1
        seconds = time.perf_counter() - started
        return seconds, saves, _digest(Path(folder) / "archive.db")


def _digest(db: Path) -> str:
    """A hash of the posts (content, status, source) and of their snapshot history."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT key, status, source, text, content_hash, "
            "(SELECT count(*) FROM snapshots s WHERE s.post_key = p.key) FROM posts p ORDER BY key"
        ).fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    best = min(one_round(args.posts) for _ in range(args.repeats))
    seconds, saves, digest = best
    print(f"code: {ROOT}; archive after a round: {digest}")
    print(f"save_snapshot: {saves} saves in {seconds:.2f} s, {seconds / saves * 1e6:.0f} µs each")
    print(f"rerun: python bench/bench_storage.py --posts {args.posts} --repeats {args.repeats}")


if __name__ == "__main__":
    main()
