"""What the static index's search data costs: time to write it, its size, peak memory.

Builds an archive of N posts (small articles, 10 distinct embeds each, fetching off),
then writes the index pages with their search files (forced), and prints the time,
the size of the search files and the peak Python memory of that write.

    python bench/bench_index_search.py            # 10,000 posts
    python bench/bench_index_search.py --posts 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from archiver import Archive

PER_ARTICLE = 10
WORDS = [
    "council",
    "budget",
    "transit",
    "vote",
    "hearing",
    "resign",
    "election",
    "परिषद",
    "बजट",
    "चुनाव",
]


def embed(post_id: int, handle: str, text: str) -> str:
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>'
        f"&mdash; Desk (@{handle}) "
        f'<a href="https://twitter.com/{handle}/status/{post_id}">March 3, 2025</a></blockquote>\n'
    )


def build(root: Path, posts: int) -> Path:
    articles = root / "articles"
    articles.mkdir(parents=True)
    base = 1_600_000_000_000_000_000
    for start in range(0, posts, PER_ARTICLE):
        body = "".join(
            embed(
                base + n,
                f"desk{n % 97}",
                " ".join(WORDS[(n + k) % len(WORDS)] for k in range(12)) + f" number {n}",
            )
            for n in range(start, min(start + PER_ARTICLE, posts))
        )
        (articles / f"a{start // PER_ARTICLE:05d}.html").write_text(
            f"<!doctype html><html><body>{body}</body></html>", encoding="utf-8"
        )
    config = root / "config.yaml"
    config.write_text(
        "database: archive.db\nsources:\n  - kind: directory\n    path: articles\n"
        "output:\n  dir: out\nx:\n  fetch: false\n",
        encoding="utf-8",
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = build(Path(tmp), args.posts)
        with Archive.from_config(config) as archive:
            started = time.perf_counter()
            archive.run()
            run_s = time.perf_counter() - started
            tracemalloc.start()
            started = time.perf_counter()
            pages = archive.write_index(force=True)
            index_s = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            search = list(archive.config.embeds_root.glob("search-*-*.js"))
            size = sum(p.stat().st_size for p in search)
    print(f"posts: {args.posts:,} (archive built by run in {run_s:.1f} s)")
    print(f"index pages with search files (forced): {len(pages)} pages in {index_s:.2f} s")
    print(f"search files: {len(search)} (and the list of them), {size / 1e6:.1f} MB in all")
    print(f"peak Python memory while writing them: {peak / 1e6:.1f} MB")
    print(f"rerun: python bench/bench_index_search.py --posts {args.posts}")


if __name__ == "__main__":
    main()
