"""Benchmark the Bluesky fetcher's batching against the local fake AppView.

Fetches N posts (plus a share of handle-form ids) through ``BlueskyFetcher.fetch_batch``
with all batches in flight at once (the run's ``HttpSession`` bounds concurrency),
against tests/fakebsky.py with a fixed latency per request. Prints requests per post
(getPosts + resolveHandle; the issue's bound is ≤ 1/20 when posts are batched), wall
time against the ideal ``ceil(N/25) × latency ÷ concurrency``, and posts per second.

    python bench/bench_bluesky.py [--posts 5000] [--latency 0.05] [--concurrency 8]
                                  [--handles 10]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from fakebsky import (  # noqa: E402
    GET_POSTS,
    RESOLVE_HANDLE,
    FakeBsky,
    bsky_config,
    make_post_view,
)
from fakex import Fault  # noqa: E402

from archiver.fetch import FetchRequest, FetchResult  # noqa: E402
from archiver.fetch.base import FetchContext  # noqa: E402
from archiver.fetch.http import HttpSession  # noqa: E402
from archiver.platforms.bluesky import BLUESKY  # noqa: E402

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def did(n: int) -> str:
    return "did:plc:" + "".join(ALPHABET[(n >> (5 * i)) % 32] for i in range(24))


def rkey(n: int) -> str:
    return "3lbv5" + "".join(ALPHABET[(n >> (5 * i)) % 32] for i in range(8))


async def run(fake: FakeBsky, requests: list[FetchRequest], concurrency: int) -> list[FetchResult]:
    config = bsky_config(
        fake,
        media={"download": False},
        http={"concurrency": concurrency, "post_deadline": 120.0, "timeout": 30.0},
    )
    async with HttpSession(config.http) as session:
        ctx = FetchContext(
            session,
            None,  # type: ignore[arg-type]
            config.http,
            config.media,
            {"bluesky": config.bluesky},
            config,
        )
        fetcher = BLUESKY.fetcher(ctx)
        size = fetcher.batch_size
        batches = [requests[at : at + size] for at in range(0, len(requests), size)]
        answers = await asyncio.gather(*(fetcher.fetch_batch(b) for b in batches))
    return [result for batch in answers for result in batch]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--handles", type=int, default=10, help="authors named by handle")
    args = parser.parse_args()

    with FakeBsky() as fake:
        authors = 200
        requests = []
        for n in range(args.posts):
            author = n % authors
            fake.add_post(make_post_view(did(author), rkey(n), f"post {n}"))
            if author < args.handles:
                handle = f"author{author}.example.com"
                fake.add_handle(handle, did(author))
                requests.append(FetchRequest(post_id=f"{handle}/{rkey(n)}"))
            else:
                requests.append(FetchRequest(post_id=f"{did(author)}/{rkey(n)}"))
        fake.add_fault(Fault(latency=args.latency))
        started = time.perf_counter()
        results = asyncio.run(run(fake, requests, args.concurrency))
        wall = time.perf_counter() - started
        live = sum(1 for r in results if r.snapshot and r.snapshot.status == "live")
        calls = fake.count(GET_POSTS)
        resolves = fake.count(RESOLVE_HANDLE)
        biggest = max(len(c) for c in fake.get_posts_calls)

    ideal = math.ceil(args.posts / 25) * args.latency / args.concurrency
    print(f"posts: {args.posts} ({live} live), authors by handle: {args.handles}")
    print(f"getPosts requests: {calls} (largest batch {biggest}), resolveHandle: {resolves}")
    print(f"requests per post: {(calls + resolves) / args.posts:.4f} (bound: 0.05)")
    print(f"wall: {wall:.2f}s, ideal {ideal:.2f}s, {args.posts / wall:,.0f} posts/s")
    print(
        "rerun: python bench/bench_bluesky.py "
        f"--posts {args.posts} --latency {args.latency} --concurrency {args.concurrency} "
        f"--handles {args.handles}"
    )


if __name__ == "__main__":
    main()
