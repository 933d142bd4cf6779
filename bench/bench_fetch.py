"""Benchmark the post fetcher against the local fakes of X, Bluesky and Mastodon.

``--platform x`` (the default; tests/fakex.py):

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

``--platform bluesky`` (tests/fakebsky.py): N posts by 200 authors (``--handles`` of
them named by handle, resolved once each) through the same ``PostFetcher.fetch_many``
a run uses, every AppView answer delayed by the latency. Prints getPosts and
resolveHandle requests per post (the issue's bound: ≤ 1/20 when posts are batched),
the batch sizes, and the wall time against the ideal ``⌈N/25⌉ × latency ÷ C``.

    python bench/bench_fetch.py --platform bluesky [--posts 5000] [--handles 10]

``--platform mastodon`` (tests/fakemastodon.py): H instances × P posts, hosts
interleaved, reached through ``http.host_overrides`` (so the host guard, its per-host
slots and rate limits are on the path), every answer delayed by the latency. Prints
the most requests the fake saw in flight per instance (must stay ≤
``http.per_host_concurrency`` K) and in total (≤ C), and the throughput against the
ideal ``max(N × latency ÷ C, P × latency ÷ K)`` (the issue's bound: ≥ 0.8).

    python bench/bench_fetch.py --platform mastodon [--hosts 40] [--posts-per-host 25]
                                [--per-host 2]

The fakes run in child processes, so their request handling does not compete with
the client for the GIL.
"""

from __future__ import annotations

import argparse
import math
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

from archiver import platforms  # noqa: E402
from archiver.config import Config  # noqa: E402
from archiver.fetch import FetchRequest, PostFetcher  # noqa: E402

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


# --- Bluesky and Mastodon: the run's own fetcher over every registered platform -------


def fetch_run(config: Config, requests: list[FetchRequest], root: Path) -> tuple[float, int, int]:
    """Fetch ``requests`` as a run does (``PostFetcher`` over the registry); returns
    (seconds, snapshots, failures)."""
    fetcher = PostFetcher(
        x=config.x,
        wayback=config.wayback,
        http=config.http,
        media=config.media,
        media_root=root,
        platforms=platforms.all_platforms(),
        config=config,
    )
    ok = failed = 0
    started = time.perf_counter()
    with fetcher:
        for result in fetcher.fetch_many(requests):
            if result.snapshot is not None and result.snapshot.status == "live":
                ok += 1
            else:
                failed += 1
    return time.perf_counter() - started, ok, failed


BSKY_AUTHORS = 200
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def bsky_did(n: int) -> str:
    return "did:plc:" + "".join(TID_ALPHABET[(n >> (5 * i)) % 32] for i in range(24))


def bsky_rkey(n: int) -> str:
    return "3lbv5" + "".join(TID_ALPHABET[(n >> (5 * i)) % 32] for i in range(8))


def bsky_serve(conn: Connection, posts: int, handles: int, latency: float) -> None:
    """Child process: the fake AppView with ``posts`` posts; answers "stats"/"stop"."""
    from fakebsky import GET_POSTS, RESOLVE_HANDLE, FakeBsky, make_post_view
    from fakex import Fault

    with FakeBsky() as fake:
        ids = []
        for n in range(posts):
            author = n % BSKY_AUTHORS
            fake.add_post(make_post_view(bsky_did(author), bsky_rkey(n), f"post {n}"))
            if author < handles:
                handle = f"author{author}.example.com"
                fake.add_handle(handle, bsky_did(author))
                ids.append(f"{handle}/{bsky_rkey(n)}")
            else:
                ids.append(f"{bsky_did(author)}/{bsky_rkey(n)}")
        fake.add_fault(Fault(latency=latency))
        conn.send((fake.base_url, ids))
        while conn.recv() != "stop":
            sizes = [len(call) for call in fake.get_posts_calls]
            conn.send((fake.count(GET_POSTS), fake.count(RESOLVE_HANDLE), sizes))


def bench_bluesky(args: argparse.Namespace) -> None:
    """Bluesky batching through fetch_many (see the module docstring)."""
    parent, child = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(
        target=bsky_serve, args=(child, args.posts, args.handles, args.latency), daemon=True
    )
    server.start()
    try:
        base_url, ids = parent.recv()
        config = Config.model_validate(
            {
                "bluesky": {"appview": base_url},
                "mastodon": {"enabled": False},
                "x": {"fetch": False},
                "media": {"download": False},
                "http": {
                    "concurrency": args.concurrency,
                    "per_host_rate": 1_000_000,
                    "timeout": 30.0,
                    "post_deadline": 600.0,
                },
            }
        )
        requests = [FetchRequest(i, platform="bluesky") for i in ids]
        with tempfile.TemporaryDirectory() as tmp:
            wall, ok, failed = fetch_run(config, requests, Path(tmp))
        parent.send("stats")
        calls, resolves, sizes = parent.recv()
        parent.send("stop")
    finally:
        server.join(10)
    per_post = (calls + resolves) / args.posts
    ideal = math.ceil(args.posts / 25) * args.latency / args.concurrency
    full = sum(1 for size in sizes if size == 25)
    print(
        f"bluesky: {args.posts} posts by {BSKY_AUTHORS} authors ({args.handles} named by "
        f"handle), latency {args.latency * 1000:.0f} ms/request, concurrency {args.concurrency}"
    )
    print(f"fetched: {ok} live, {failed} not")
    print(
        f"getPosts requests: {calls} ({full} of 25 posts, smallest {min(sizes, default=0)}); "
        f"resolveHandle: {resolves}"
    )
    print(
        f"requests per post: {per_post:.4f} (bound 1/20 = 0.05: "
        f"{'holds' if per_post <= 0.05 else 'EXCEEDED'})"
    )
    print(
        f"wall time: {wall:.2f} s ({args.posts / wall:,.0f} posts/s); "
        f"ideal ⌈N/25⌉×lat÷C: {ideal:.2f} s"
    )
    print(
        "rerun: python bench/bench_fetch.py --platform bluesky "
        f"--posts {args.posts} --handles {args.handles} --latency {args.latency} "
        f"--concurrency {args.concurrency}"
    )


MASTODON_FIRST_ID = 113_486_342_108_431_234


def masto_serve(conn: Connection, hosts: list[str], per_host: int, latency: float) -> None:
    """Child process: the fake instances with their posts; answers "stats"/"stop"."""
    from fakemastodon import FakeMastodon, make_status

    with FakeMastodon(latency=latency) as fake:
        ids = []
        # Hosts interleaved, as articles quoting many instances would list them.
        for k in range(per_host):
            for host in hosts:
                status = make_status(host, str(MASTODON_FIRST_ID + k), f"<p>post {k}</p>")
                ids.append(fake.add_status(host, status))
        conn.send((fake.base_url, ids))
        while conn.recv() != "stop":
            conn.send((dict(fake.max_in_flight), fake.max_total_in_flight, fake.count()))


def bench_mastodon(args: argparse.Namespace) -> None:
    """Mastodon across many instances through fetch_many (see the module docstring)."""
    hosts = [f"instance{n}.example" for n in range(args.hosts)]
    parent, child = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(
        target=masto_serve,
        args=(child, hosts, args.posts_per_host, args.latency),
        daemon=True,
    )
    server.start()
    try:
        base_url, ids = parent.recv()
        config = Config.model_validate(
            {
                "bluesky": {"enabled": False},
                "x": {"fetch": False},
                "media": {"download": False},
                "http": {
                    "concurrency": args.concurrency,
                    "per_host_concurrency": args.per_host,
                    "per_host_rate": 1000,
                    "timeout": 30.0,
                    "post_deadline": 600.0,
                    "host_overrides": {host: base_url for host in hosts},
                },
            }
        )
        requests = [FetchRequest(i, platform="mastodon") for i in ids]
        with tempfile.TemporaryDirectory() as tmp:
            cpu_started = time.process_time()
            wall, ok, failed = fetch_run(config, requests, Path(tmp))
            cpu = time.process_time() - cpu_started
        parent.send("stats")
        per_instance, in_total, answered = parent.recv()
        parent.send("stop")
    finally:
        server.join(10)
    total = len(ids)
    ideal = max(
        total * args.latency / args.concurrency,
        args.posts_per_host * args.latency / args.per_host,
    )
    share = ideal / wall
    busiest = max(per_instance.values(), default=0)
    print(
        f"mastodon: {total} posts on {args.hosts} instances, latency "
        f"{args.latency * 1000:.0f} ms/answer, concurrency {args.concurrency}, "
        f"per host {args.per_host}"
    )
    print(f"fetched: {ok} live, {failed} not; requests answered: {answered}")
    print(
        f"most in flight at one instance: {busiest} (limit {args.per_host}: "
        f"{'holds' if busiest <= args.per_host else 'EXCEEDED'}); in total: {in_total} "
        f"(limit {args.concurrency})"
    )
    print(
        f"wall time: {wall:.2f} s ({total / wall:,.0f} posts/s), ideal "
        f"max(N×lat÷C, P×lat÷K): {ideal:.2f} s -> {share:.2f} of the ideal throughput "
        f"(bound 0.8: {'holds' if share >= 0.8 else 'MISSED'})"
    )
    print(f"client CPU: {cpu:.2f} s ({cpu / total * 1000:.2f} ms per post)")
    print(
        "rerun: python bench/bench_fetch.py --platform mastodon "
        f"--hosts {args.hosts} --posts-per-host {args.posts_per_host} "
        f"--per-host {args.per_host} --latency {args.latency} --concurrency {args.concurrency}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark PostFetcher against the local fakes")
    parser.add_argument("--platform", choices=("x", "bluesky", "mastodon"), default="x")
    parser.add_argument("--posts", type=int, default=None, help="x: 2000; bluesky: 5000")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serial-sample", type=int, default=100)
    parser.add_argument("--media", action="store_true", help="x: one photo per post, downloaded")
    parser.add_argument("--same-process", action="store_true", help="x: fake server in a thread")
    parser.add_argument("--handles", type=int, default=10, help="bluesky: authors by handle")
    parser.add_argument("--hosts", type=int, default=40, help="mastodon: instances")
    parser.add_argument("--posts-per-host", type=int, default=25, help="mastodon")
    parser.add_argument("--per-host", type=int, default=2, help="mastodon: per-host concurrency")
    args = parser.parse_args()
    if args.platform == "bluesky":
        args.posts = args.posts or 5000
        bench_bluesky(args)
        return
    if args.platform == "mastodon":
        bench_mastodon(args)
        return
    args.posts = args.posts or 2000

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
