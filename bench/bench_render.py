"""What rendering costs: one card, one filled stencil, one post page, a cold process.

    python bench/bench_render.py                 # best of 3 rounds of 2,000 each
    python bench/bench_render.py --rounds 500    # quicker

The card is the stable embed of a typical fetched post (text with a link, a mention
and a hashtag, a photo, an avatar); the page is that post's local copy listing three
articles and two versions. "cold" is a fresh interpreter rendering its first card and
first page: the templates compile then (best of 3 processes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.models import MediaItem, Post  # noqa: E402
from archiver.render import EmbeddingArticle, render_embed, render_post_page  # noqa: E402

POST = Post(
    key="x:2020868064400117767",
    platform="x",
    post_id="2020868064400117767",
    url="https://x.com/MrinankSharma/status/2020868064400117767",
    author_handle="MrinankSharma",
    author_name="mrinank",
    text="Today is my last day at Anthropic. I resigned. #ai @someone pic.twitter.com/Qe4QyAFmxL",
    html="Today is my last day at Anthropic. I resigned.<br><br>#ai @someone "
    '<a href="https://t.co/Qe4QyAFmxL">pic.twitter.com/Qe4QyAFmxL</a>',
    lang="en",
    dir="ltr",
    created_at="2026-02-09T14:31:07.123Z",
    status="live",
    source="syndication",
    first_seen_at="2026-02-10T08:00:00.000Z",
    archived_at="2026-02-10T08:00:00.000Z",
    author_avatar="av.jpg",
    media=[
        MediaItem(
            "photo", "https://pbs.twimg.com/media/a.jpg", "a letter", 1200, 800, "ab/ab12.jpg"
        )
    ],
)
ARTICLES = [
    EmbeddingArticle(f"news/story-{n}.html", f"../../news/story-{n}.html", None) for n in range(3)
]

COLD = """
import sys, time
sys.path.insert(0, {bench!r})
import bench_render as b
from archiver import index_page
started = time.perf_counter()
b.render_embed(b.POST, "../embeds/x/1.html", "../embeds/media/")
b.render_post_page(b.POST, "../media/", articles=b.ARTICLES)
index_page._env().get_template("index.html.j2")
print(time.perf_counter() - started)
"""


def best_of(repeats: int, rounds: int, work: Callable[[], object]) -> float:
    """Microseconds per call, best of ``repeats`` rounds."""
    work()  # warm: templates compiled, caches filled
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(rounds):
            work()
        best = min(best, time.perf_counter() - started)
    return best / rounds * 1e6


def cold_ms(repeats: int) -> float:
    """Milliseconds a fresh process spends on its first card, page and index template
    (imports excluded)."""
    script = COLD.format(bench=str(Path(__file__).resolve().parent))
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip()) * 1e3)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    card = best_of(
        args.repeats,
        args.rounds,
        lambda: render_embed(POST, "../embeds/x/1.html", "../embeds/media/"),
    )
    print(f"render one stable embed (render_embed):   {card:7.0f} µs")
    try:
        from archiver.render import embed_stencil
    except ImportError:
        print("fill one card's stencil:                  (no stencils in this version)")
    else:
        stencil = embed_stencil(POST, "x/1.html", "media/")
        fill = best_of(args.repeats, args.rounds * 10, lambda: stencil.fill("../embeds"))
        print(f"fill one card's stencil:                  {fill:7.1f} µs")
    page = best_of(
        args.repeats,
        args.rounds,
        lambda: render_post_page(POST, "../media/", articles=ARTICLES),
    )
    print(f"render one post page (render_post_page):  {page:7.0f} µs")
    print(f"cold process, first card + page + index:  {cold_ms(args.repeats):7.1f} ms")
    print(f"rerun: python bench/bench_render.py --rounds {args.rounds}")


if __name__ == "__main__":
    main()
