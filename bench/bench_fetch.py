"""Benchmark the post fetcher against the local fake of X (tests/fakex.py).

Fetches N unique posts through ``PostFetcher.fetch_many`` with a fixed server-side
latency per request and compares the wall time with the ideal
``posts × latency × requests-per-post ÷ concurrency``, and with one-at-a-time
fetching (a sample at concurrency 1, extrapolated to N). Prints the fetching
process's peak RSS.

The fake server runs in a child process by default, so its request handling does
not compete with the client for the GIL and the RSS is the client's own;
``--same-process`` runs it in a thread instead (slower: both share one GIL).

    python bench/bench_fetch.py [--posts 2000] [--latency 0.05] [--concurrency 16]
                                [--serial-sample 100] [--media] [--same-process]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from fakex import FakeX, make_fetcher, make_tweet_payload, tiny_jpeg  # noqa: E402

from archiver.fetch import FetchRequest  # noqa: E402

FIRST_ID = 1_700_000_000_000_000_000


def post_ids(count: int) -> list[str]:
    return [str(FIRST_ID + n) for n in range(count)]


def populate(fake: FakeX, count: int, media: bool) -> None:
    """Register ``count`` posts (and, with ``media``, one small photo each)."""
    for n, post_id in enumerate(post_ids(count)):
        photos = None
        if media:
            photos = [{"type": "photo", "url": fake.add_media(f"bench/{n}.jpg", tiny_jpeg(n))}]
        fake.add_post(make_tweet_payload(post_id, f"benchmark post {n} #bench", media=photos))


def serve(conn: Connection, count: int, latency: float, media: bool) -> None:
    """Child process: run the fake, answer "count"/"reset"/"stop" over ``conn``."""
    with FakeX(latency=latency) as fake:
        populate(fake, count, media)
        conn.send(fake.port)
        while True:
            command = conn.recv()
            if command == "count":
                conn.send(fake.count("/tweet-result"))
            elif command == "reset":
                fake.reset_requests()
                conn.send(True)
            else:
                break


@dataclass
class Endpoint:
    """The fake as the config helpers see it (base URL and host:port)."""

    port: int

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"


def run(
    endpoint: Endpoint | FakeX, ids: list[str], concurrency: int, media: bool, root: Path
) -> tuple[float, int, int]:
    """Fetch ``ids``; returns (seconds, snapshots, failures)."""
    fetcher = make_fetcher(
        endpoint,
        root,
        http={
            "concurrency": concurrency,
            "per_host_rate": 1_000_000,  # 127.0.0.1 must not be throttled here
            "timeout": 10.0,
            "retries": 2,
            "post_deadline": 60.0,
        },
        media={"download": media},
    )
    ok = failed = 0
    started = time.perf_counter()
    with fetcher:
        for result in fetcher.fetch_many(FetchRequest(i) for i in ids):
            if result.snapshot is not None:
                ok += 1
            else:
                failed += 1
    return time.perf_counter() - started, ok, failed


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark PostFetcher against tests/fakex.py")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serial-sample", type=int, default=100)
    parser.add_argument("--media", action="store_true", help="one photo per post, downloaded")
    parser.add_argument("--same-process", action="store_true", help="fake server in a thread")
    args = parser.parse_args()

    ids = post_ids(args.posts)
    sample = ids[: args.serial_sample]
    with tempfile.TemporaryDirectory() as tmp:
        if args.same_process:
            fake = FakeX(latency=args.latency).start()
            populate(fake, args.posts, args.media)
            wall, ok, failed = run(fake, ids, args.concurrency, args.media, Path(tmp) / "m1")
            syndication_requests = fake.count("/tweet-result")
            fake.reset_requests()
            serial_wall, serial_ok, _ = run(fake, sample, 1, args.media, Path(tmp) / "m2")
            fake.stop()
        else:
            parent, child = mp.get_context("spawn").Pipe()
            server = mp.get_context("spawn").Process(
                target=serve, args=(child, args.posts, args.latency, args.media), daemon=True
            )
            server.start()
            endpoint = Endpoint(parent.recv())
            wall, ok, failed = run(endpoint, ids, args.concurrency, args.media, Path(tmp) / "m1")
            parent.send("count")
            syndication_requests = parent.recv()
            serial_wall, serial_ok, _ = run(endpoint, sample, 1, args.media, Path(tmp) / "m2")
            parent.send("stop")
            server.join(10)

    # Requests per post: syndication, plus the photo with --media (avatars point at
    # pbs.twimg.com, which the bench's allow-list refuses without connecting).
    per_post = 2 if args.media else 1
    ideal = args.posts * args.latency * per_post / args.concurrency
    serial_extrapolated = serial_wall * args.posts / max(1, len(sample))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss: KiB

    where = "same process (thread)" if args.same_process else "child process"
    print(
        f"posts: {args.posts}  latency: {args.latency * 1000:.0f} ms/request  "
        f"concurrency: {args.concurrency}  media download: {'on' if args.media else 'off'}  "
        f"fake server: {where}"
    )
    print(
        f"fetched: {ok} ok, {failed} failed; syndication requests: {syndication_requests} "
        f"for {args.posts} unique posts"
    )
    print(f"wall time:          {wall:8.2f} s  ({args.posts / wall:6.1f} posts/s)")
    print(f"ideal (N×lat×r÷C):  {ideal:8.2f} s  -> efficiency {ideal / wall * 100:5.1f} %")
    print(
        f"one at a time:      {serial_extrapolated:8.2f} s  (extrapolated: {len(sample)} posts "
        f"took {serial_wall:.2f} s at concurrency 1, {serial_ok} ok)"
    )
    print(f"speed-up vs serial: {serial_extrapolated / wall:8.1f}×")
    print(f"peak RSS:           {peak_mib:8.1f} MiB (the fetching process)")
    print(
        "rerun: python bench/bench_fetch.py "
        f"--posts {args.posts} --latency {args.latency} --concurrency {args.concurrency}"
        + (" --media" if args.media else "")
        + (" --same-process" if args.same_process else "")
    )


if __name__ == "__main__":
    main()
