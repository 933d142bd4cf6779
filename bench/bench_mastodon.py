"""Benchmark Mastodon fetching across many instances (tests/fakemastodon.py).

H instances × P posts each, every answer delayed by a fixed latency, fetched through
the Mastodon fetcher with ``http.concurrency`` C and ``http.per_host_concurrency`` K
(instances reached through ``http.host_overrides``, so the host guard, its per-host
slots and the per-host rate limits are all on the path). Prints the wall time against
the ideal ``max(posts × latency ÷ C, P × latency ÷ K)`` and the highest number of
requests the fake saw in flight, per instance and in total: the per-host limit must
hold and the total must reach C. The fake runs in a child process, so its request
handling does not compete with the client for the GIL.

    python bench/bench_mastodon.py [--hosts 40] [--posts-per-host 25] [--latency 0.05]
                                   [--concurrency 16] [--per-host 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from multiprocessing.connection import Connection  # noqa: E402

from fakemastodon import FakeMastodon, make_status  # noqa: E402

from archiver.config import Config, HttpConfig, MediaConfig  # noqa: E402
from archiver.fetch import FetchRequest, FetchResult  # noqa: E402
from archiver.fetch.base import FetchContext  # noqa: E402
from archiver.fetch.http import HttpSession  # noqa: E402
from archiver.fetch.media import MediaStore  # noqa: E402
from archiver.platforms.mastodon import PLATFORM  # noqa: E402

FIRST_ID = 113_486_342_108_431_234


async def fetch_all(config: Config, post_ids: list[str], media_root: Path) -> list[FetchResult]:
    """Fetch every post, keeping 2 × concurrency posts in flight (as fetch_many does)."""
    async with HttpSession(config.http) as session:
        media = MediaStore(session, config.media, media_root)
        ctx = FetchContext(
            session, media, config.http, config.media, {"mastodon": config.mastodon}, config
        )
        fetcher = PLATFORM.fetcher(ctx)
        window = asyncio.Semaphore(2 * config.http.concurrency)

        async def one(post_id: str) -> list[FetchResult]:
            async with window:
                return await fetcher.fetch_batch([FetchRequest(post_id)])

        batches = await asyncio.gather(*(one(p) for p in post_ids))
        await media.aclose()
    return [result for batch in batches for result in batch]


def serve(conn: Connection, hosts: list[str], per_host: int, latency: float) -> None:
    """Child process: run the fake with the posts, answer "stats"/"stop" over ``conn``."""
    with FakeMastodon(latency=latency) as fake:
        post_ids = []
        # Hosts interleaved, as articles quoting many instances would list them.
        for k in range(per_host):
            for host in hosts:
                status = make_status(host, str(FIRST_ID + k), f"<p>post {k}</p>")
                post_ids.append(fake.add_status(host, status))
        conn.send((fake.base_url, post_ids))
        while conn.recv() != "stop":
            conn.send((dict(fake.max_in_flight), fake.max_total_in_flight))


def main() -> None:
    parser = argparse.ArgumentParser(description="Mastodon fetching across many instances")
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--posts-per-host", type=int, default=25)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=2)
    args = parser.parse_args()

    hosts = [f"instance{n}.example" for n in range(args.hosts)]
    parent, child = mp.Pipe()
    server = mp.Process(
        target=serve, args=(child, hosts, args.posts_per_host, args.latency), daemon=True
    )
    server.start()
    try:
        base_url, post_ids = parent.recv()
        config = Config(
            http=HttpConfig(
                concurrency=args.concurrency,
                per_host_concurrency=args.per_host,
                per_host_rate=1000,
                post_deadline=600,
                host_overrides={host: base_url for host in hosts},
            ),
            media=MediaConfig(download=False),
        )
        with tempfile.TemporaryDirectory() as tmp:
            started, cpu_started = time.perf_counter(), time.process_time()
            results = asyncio.run(fetch_all(config, post_ids, Path(tmp)))
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        parent.send("stats")
        per_instance, in_total = parent.recv()
        parent.send("stop")
    finally:
        server.join(timeout=5)
    failures = [r for r in results if r.snapshot is None]
    total = len(post_ids)
    ideal = max(
        total * args.latency / args.concurrency,
        args.posts_per_host * args.latency / args.per_host,
    )
    print(
        f"{total} posts on {args.hosts} instances, latency {args.latency * 1000:.0f} ms, "
        f"concurrency {args.concurrency}, per host {args.per_host}"
    )
    print(f"wall {wall:.2f} s, ideal {ideal:.2f} s: {ideal / wall:.2f} of ideal throughput")
    print(
        f"{total / wall:.0f} posts/s; client CPU {cpu:.2f} s "
        f"({cpu / total * 1000:.1f} ms per post); failures: {len(failures)}"
    )
    print(
        f"most in flight at one instance: {max(per_instance.values())} "
        f"(limit {args.per_host}); in total: {in_total} (limit {args.concurrency})"
    )
    print("rerun: python bench/bench_mastodon.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
