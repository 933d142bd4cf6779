"""The limits of one node: an archive of N posts, built through the storage layer.

    python bench/bench_scale.py                      # 100,000 posts, 200,000 embeds
    python bench/bench_scale.py --posts 1000000      # 1,000,000 posts, 2,000,000 embeds
    python bench/bench_scale.py --posts 20000        # a quick look
    python bench/bench_scale.py --posts 1000000 --reuse   # measure again, no rebuild

The archive is built with the store's public methods only (no SQL here), the way a
first backfill fills it: ``Store.record_scan`` per article (each embedding two posts,
so every post is embedded twice on average), in ``Store.batch()`` transactions of
1,000 articles; ``Store.record_check`` gives 3 % of the posts a gone status (deleted,
protected, suspended) and a next check in the future; ``Store.mark_removed`` marks 1 %
of the articles deleted; ``Store.set_local_paths`` records a local copy page for every
post. The articles are real small files (a folder source, in-place mode), so a service
pass has something to skip; the post pages are small placeholder files (rendering a
million real ones is the first run's work, not the node's limit).

Then it measures, through ``archiver.Archive`` (what the command line calls):
database size per post; ``posts search``, ``posts list --author``, ``posts list
--status deleted --limit 20``, ``articles list --status deleted``, ``status`` (p50/p95
over varied arguments); ``export`` (rows/s and peak RSS); the due-for-recheck
selection; the static index (full, then after one post changed); one service pass
over the unchanged folder (time and peak RSS), against the default ``scan_interval``.
Each figure is printed with the command to rerun.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A measurement of other code (``--before``) runs this script on that checkout's package.
sys.path.insert(0, os.environ.get("BENCH_SCALE_CODE", str(ROOT)))

from archiver import Archive  # noqa: E402
from archiver.clock import utc_now  # noqa: E402
from archiver.config import ScheduleConfig  # noqa: E402
from archiver.models import (  # noqa: E402
    STATUS_DELETED,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    ArticleRef,
    EmbedSpan,
    PostSnapshot,
)
from archiver.storage import EmbedRecord  # noqa: E402

WORK = ROOT / "bench" / "_work"
TWITTER_EPOCH_MS = 1288834974657
BATCH = 1000
WORDS = [f"w{n:04d}" for n in range(5000)]  # a vocabulary: each word in ~1/1250 posts
GONE = (STATUS_DELETED, STATUS_PROTECTED, STATUS_SUSPENDED)
PAGE_STUB = b"<!doctype html><title>placeholder</title>\n"


def iso(ms: int) -> str:
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{ms % 1000:03d}Z"


def post_id(i: int) -> str:
    """A snowflake id for post ``i``: posts spread over 2020-2025, one every ~150 s."""
    ms = 1577836800000 + i * 157_000
    return str(((ms - TWITTER_EPOCH_MS) << 22) | (i % 4096))


def snapshot(i: int, rng: random.Random, authors: int) -> PostSnapshot:
    pid = post_id(i)
    words = " ".join(rng.choice(WORDS) for _ in range(12))
    handle = f"user{i % authors}"
    ms = ((int(pid) >> 22) + TWITTER_EPOCH_MS) // 1000 * 1000
    return PostSnapshot(
        post_id=pid,
        url=f"https://twitter.com/{handle}/status/{pid}",
        author_handle=handle,
        author_name=f"User {i % authors}",
        text=f"Post {i}: {words}",
        html=f"Post {i}: {words}",
        lang="en",
        created_at=iso(ms),
        raw=f'<blockquote class="twitter-tweet"><p>Post {i}</p></blockquote>',
    )


def rel_of(i: int) -> str:
    return f"{i // 1000:04d}/a{i:07d}.html"


def write_config(folder: Path) -> Path:
    config = folder / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        "sources:\n  - kind: directory\n    name: folder\n    path: articles\n"
        "output:\n  dir: out\n  in_place: true\nx:\n  fetch: false\n",
        encoding="utf-8",
    )
    return config


def build(folder: Path, posts: int, seed: int) -> float:
    """The archive of ``posts`` posts and ``2 * posts`` embeds; seconds taken."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "articles").mkdir(parents=True)
    config = write_config(folder)
    rng = random.Random(seed)
    authors = max(100, posts // 20)  # ~20 posts per author
    now = iso(int(time.time() * 1000))
    started = time.perf_counter()
    with Archive.from_config(config) as archive:
        store = archive.store
        articles_root = folder / "articles"
        embeds_root = archive.config.embeds_root
        pages: dict[str, str] = {}
        for first in range(0, posts, BATCH):
            with store.batch():
                for i in range(first, min(first + BATCH, posts)):
                    # Article i embeds post i and another, older post: 2 embeds per article.
                    other = (i * 7919 + 13) % posts
                    ids = [i, other] if other != i else [i]
                    path = articles_root / rel_of(i)
                    path.parent.mkdir(exist_ok=True)
                    path.write_bytes(b"<p>article %d</p>\n" % i)
                    stat = path.stat()
                    # As the folder source names it (sources.directory): its folder's
                    # name, then the path inside; the output mirrors it under the source.
                    ref = ArticleRef(
                        location=f"articles/{rel_of(i)}",
                        source="folder",
                        path=str(path),
                        output_relpath=f"folder/{rel_of(i)}",
                        size=stat.st_size,
                        mtime_ns=stat.st_mtime_ns,
                    )
                    spans = [
                        EmbedSpan(n * 10, n * 10 + 5, "blockquote", post_id(p))
                        for n, p in enumerate(ids)
                    ]
                    store.record_scan(
                        ref,
                        content_hash=f"{i:064x}",
                        encoding="utf-8",
                        embeds=[EmbedRecord(span=s, original="<blockquote/>") for s in spans],
                        snapshots=[snapshot(p, random.Random(p ^ seed), authors) for p in ids],
                        now=now,
                    )
                    store.mark_rewritten(ref.location, str(path), f"{i:064x}", now)
                    page = embeds_root / "x" / f"{post_id(i)}.html"
                    pages[f"x:{post_id(i)}"] = page.relative_to(
                        archive.config.output.dir
                    ).as_posix()
            store.set_local_paths(pages)
            for rel in pages.values():
                target = archive.config.output.dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(PAGE_STUB)
            pages = {}
            if first and first % (BATCH * 100) == 0:
                print(f"  built {first:,} posts, {time.perf_counter() - started:.0f} s", flush=True)
        future = iso(int(time.time() * 1000) + 30 * 86400 * 1000)
        gone = rng.sample(range(posts), posts * 3 // 100)
        for start in range(0, len(gone), BATCH):
            with store.batch():
                for i in gone[start : start + BATCH]:
                    status = GONE[i % len(GONE)]
                    tomb = PostSnapshot(post_id=post_id(i), status=status, source="syndication")
                    store.record_check(post_id(i), tomb, None, future, now)
        removed = set(rng.sample(range(posts), posts // 100))
        with store.batch():
            kept = [f"articles/{rel_of(i)}" for i in range(posts) if i not in removed]
            store.mark_removed("folder", kept, now)
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p95 * 1e3


def measure(calls: list[Callable[[], object]]) -> tuple[float, float]:
    """p50 and p95 in ms of one call each (after one warm-up call)."""
    calls[0]()
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(folder: Path, what: str) -> None:
    """One measurement in a fresh process, so its peak RSS is its own."""
    with Archive.from_config(folder / "config.yaml") as archive:
        started = time.perf_counter()
        if what == "export":
            with open(os.devnull, "w", encoding="utf-8") as sink:
                rows = archive.export(sink, "jsonl")
            extra = f"{rows} rows"
        elif what == "pass":
            # The pipeline's pass: Archive.run() then also writes the static index if
            # none exists or the previous run did not finish (measured on its own).
            report = archive.pipeline().run()
            extra = (
                f"skipped {report.articles_skipped:,}, scanned {report.articles_scanned:,}, "
                f"errors {len(report.errors)}"
            )
        elif what == "unfinished":
            # A pass after one that never finished (killed): its run row left running.
            archive.store.start_run("run", utc_now())
            archive.store.start_run("run", utc_now())  # this pass's own row
            started = time.perf_counter()
            report = archive.pipeline().run()
            extra = f"skipped {report.articles_skipped:,}, scanned {report.articles_scanned:,}"
        elif what == "run":
            # A whole run as the service makes it: the pass, then the static index.
            report = archive.run()
            extra = f"scanned {report.articles_scanned:,}, new posts {report.posts_new:,}"
        elif what == "index":
            pages = archive.write_index(force=True)
            extra = f"{len(pages)} pages"
        elif what == "index-updates":
            pages = archive.write_index(force=True)
            extra = f"{len(pages)} pages; " + index_updates(archive, posts_in(archive))
        else:
            raise SystemExit(f"unknown child job {what}")
        seconds = time.perf_counter() - started
    print(f"RESULT {seconds:.3f} {peak_rss_mb():.0f} {extra}")


def posts_in(archive: Archive) -> int:
    return archive.count_posts(archive.post_filter())


def index_updates(archive: Archive, posts: int) -> str:
    """The static index written again: with nothing changed, after one post's text
    changed, after its status changed, and after a new post arrived (the newest, as
    a post embedded in today's article is). Only the pages showing what changed should
    be rendered again; an index whose pages shift with every new post renders most."""
    store = archive.store
    started = time.perf_counter()
    archive.write_index()
    unchanged = time.perf_counter() - started
    pid = post_id(posts // 2)
    post = store.get_post(f"x:{pid}")
    assert post is not None
    now = iso(int(time.time() * 1000))
    edited = PostSnapshot(
        post_id=pid,
        url=post.url,
        author_handle=post.author_handle,
        author_name=post.author_name,
        text=f"edited {now}",
        html=f"edited {now}",
        created_at=post.created_at,
        status=post.status,
        source="syndication",
    )
    store.record_check(pid, edited, None, now, now)
    started = time.perf_counter()
    archive.write_index()
    text_changed = time.perf_counter() - started
    status = "unavailable" if post.status != "unavailable" else "deleted"
    store.record_check(
        pid, PostSnapshot(post_id=pid, status=status, source="syndication"), None, now, now
    )
    started = time.perf_counter()
    archive.write_index()
    status_changed = time.perf_counter() - started
    # Its status back, so that runs one after the other find the same groups of pages.
    store.record_check(
        pid, PostSnapshot(post_id=pid, status=post.status, source="syndication"), None, now, now
    )
    archive.write_index()
    new = snapshot(posts, random.Random(posts), 1)  # the next post: newer than all
    store.save_snapshot(new, now)
    store.set_local_paths({f"x:{new.post_id}": f"embeds/x/{new.post_id}.html"})
    started = time.perf_counter()
    archive.write_index()
    new_post = time.perf_counter() - started
    return (
        f"nothing changed {unchanged:.1f} s, one post's text {text_changed:.1f} s, "
        f"one post's status {status_changed:.1f} s, one new post {new_post:.1f} s"
    )


def measure_index(folder: Path, before: Path | None, repeats: int) -> None:
    """The static index alone, in fresh processes, this code and ``before`` alternating:
    written in full, then again after nothing, one post's text and its status changed,
    and after a new post. ``before`` works on a copy of the archive taken first, as
    this code may migrate the archive to a schema the code before cannot open."""
    runs: list[tuple[str, Path, Path | None]] = []
    if before is not None:
        copy = folder.with_name(folder.name + "-before")
        if not (copy / "archive.db").exists():
            copy.mkdir(exist_ok=True)
            for name in ("archive.db", "config.yaml"):
                shutil.copy2(folder / name, copy / name)
        runs.append(("before", copy, before))
    runs.insert(0, ("this code", folder, None))
    for _ in range(repeats):
        for name, where, code in runs:
            seconds, rss, extra = in_child(where, "index-updates", code)
            print(f"  static index ({name}): full {seconds:.1f} s, peak RSS {rss:.0f} MB; {extra}")


def in_child(folder: Path, what: str, code: Path | None = None) -> tuple[float, float, str]:
    """Run one measurement in a fresh process; with ``code``, on that checkout's package
    (the code before a change, measured on the same archive in the same run)."""
    env = {**os.environ, "BENCH_SCALE_CODE": str(code)} if code is not None else None
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--child", what, "--folder", str(folder)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    _, seconds, rss, extra = line.split(" ", 3)
    return float(seconds), float(rss), extra


def report(folder: Path, posts: int, seed: int, index: bool = True) -> None:
    rng = random.Random(seed + 1)
    authors = max(100, posts // 20)
    size = sum(p.stat().st_size for p in folder.glob("archive.db*"))
    print(f"database: {size / 1e6:,.0f} MB, {size / posts:,.0f} bytes per post")
    with Archive.from_config(folder / "config.yaml") as archive:
        queries: dict[str, list[Callable[[], object]]] = {
            "posts search WORD (limit 20)": [
                partial(archive.search, rng.choice(WORDS)) for _ in range(30)
            ],
            "posts search 'two words' (limit 20)": [
                partial(archive.search, f"{rng.choice(WORDS)} {rng.choice(WORDS)}")
                for _ in range(30)
            ],
            "posts list --author H": [
                partial(archive.posts, author=f"user{rng.randrange(authors)}") for _ in range(30)
            ],
            "posts list --status deleted --limit 20": [
                (lambda: archive.posts(status="deleted", limit=20)) for _ in range(30)
            ],
            "posts list --status deleted (all)": [
                (lambda: archive.posts(status="deleted")) for _ in range(5)
            ],
            "articles list --status deleted": [
                (lambda: archive.articles("deleted")) for _ in range(5)
            ],
            # `stats` counts everything (linear); `status` shows recent runs, due posts and
            # the latest failures (the service's health check).
            "stats": [(lambda: archive.stats()) for _ in range(5)],
            "status": [(lambda: archive.store.status_report(utc_now())) for _ in range(10)],
            "due for recheck: nothing due": [
                (lambda: archive.store.posts_due("2000-01-01T00:00:00.000Z")) for _ in range(30)
            ],
            "due for recheck: first 1,000 due": [
                (lambda: archive.store.posts_due(iso(int(time.time() * 1000)), limit=1000))
                for _ in range(10)
            ],
            "due for recheck: all due (what a pass selects)": [
                (lambda: archive.store.posts_due(iso(int(time.time() * 1000)))) for _ in range(3)
            ],
            # The pipeline's pass alone: Archive.recheck() also writes the static index
            # when none exists yet (measured below, under "static index").
            "recheck pass, nothing due (x.fetch false)": [
                (lambda: archive.pipeline().recheck()) for _ in range(3)
            ],
        }
        for name, calls in queries.items():
            p50, p95 = measure(calls)
            flag = "" if p95 < 100 else "   <-- over 100 ms"
            print(f"  {name:<48} p50 {p50:9.1f} ms   p95 {p95:9.1f} ms{flag}")
        count = archive.count_posts(archive.post_filter())
        print(f"  posts counted: {count:,}")
    seconds, rss, extra = in_child(folder, "export")
    rows = int(extra.split()[0])
    print(f"  export jsonl: {rows / seconds:,.0f} rows/s ({seconds:.1f} s), peak RSS {rss:.0f} MB")
    if index:
        seconds, rss, extra = in_child(folder, "index-updates")
        print(f"  static index, full: {seconds:.1f} s, peak RSS {rss:.0f} MB ({extra})")
    else:
        print("  static index: not measured (--no-index)")
    seconds, rss, extra = in_child(folder, "pass")
    print(
        f"  service pass over {posts:,} unchanged articles (folder of small files): "
        f"{seconds:.1f} s, peak RSS {rss:.0f} MB ({extra})"
    )
    default = ScheduleConfig().scan_interval
    print(f"    against the default schedule.scan_interval: {default}")


def measure_changed_pass(folder: Path, posts: int, changed: int) -> None:
    """A run that finds ``changed`` articles edited, spread over the archive: each now
    embeds one known post and one new one (the service's usual pass, index included).
    It runs on a copy of the archive and its index (times kept, as ``cp -a`` does),
    deleted afterwards."""
    if not (folder / "out" / "embeds" / "index.html").exists():
        in_child(folder, "index")  # the service's archive has its index: the run updates it
    copy = folder.with_name(folder.name + "-changed")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(folder, copy)
    step = max(1, posts // changed)
    for i in range(0, step * changed, step):
        known, new = post_id((i * 31) % posts), str(10**18 + i)
        (copy / "articles" / rel_of(i)).write_text(
            f"<p>changed {i}</p>"
            + "".join(
                f'<blockquote class="twitter-tweet"><p>words {i} {pid}</p>&mdash; Desk (@desk) '
                f'<a href="https://twitter.com/desk/status/{pid}">May 1, 2025</a></blockquote>\n'
                for pid in (known, new)
            ),
            encoding="utf-8",
        )
    os.sync()
    try:
        seconds, rss, extra = in_child(copy, "run")
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    print(
        f"  a run over {posts:,} articles, {changed:,} of them changed: {seconds:.1f} s, "
        f"peak RSS {rss:.0f} MB ({extra})"
    )


def measure_pass(
    folder: Path, posts: int, before: Path | None, repeats: int, what: str = "pass"
) -> None:
    """The service pass alone, in fresh processes: this code and, with ``before``, the
    code of another checkout, alternating (best time, highest peak RSS of each)."""
    label = "service pass" if what == "pass" else "pass after an unfinished one"
    runs: dict[str, list[tuple[float, float]]] = {"this code": []}
    if before is not None:
        runs["before"] = []
    for _ in range(repeats):
        for name in runs:
            seconds, rss, extra = in_child(folder, what, before if name == "before" else None)
            runs[name].append((seconds, rss))
    for name, results in runs.items():
        print(
            f"  {label} over {posts:,} unchanged articles ({name}): best "
            f"{min(s for s, _ in results):.1f} s, peak RSS {max(r for _, r in results):.0f} MB "
            f"({extra})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--reuse", action="store_true", help="measure the archive built before")
    parser.add_argument(
        "--no-index", action="store_true", help="skip the static index (minutes at 1M posts)"
    )
    parser.add_argument(
        "--pass-only",
        action="store_true",
        help="only the service pass over the unchanged folder (time and peak RSS)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of the code before a change: its pass is measured too, alternating",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs measured (with --pass-only, --index-only)"
    )
    parser.add_argument(
        "--after-unfinished",
        action="store_true",
        help="with --pass-only: the pass after one that was killed (its run row left running)",
    )
    parser.add_argument(
        "--index-only",
        action="store_true",
        help="only the static index: in full, then after nothing, a text, a status changed",
    )
    parser.add_argument(
        "--changed-pass",
        type=int,
        metavar="N",
        help="only a run after N articles changed (on a copy of the archive; index included)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.folder, args.child)
        return
    folder = WORK / f"scale-{args.posts}"
    if not (args.reuse and (folder / "archive.db").exists()):
        print(f"building {args.posts:,} posts, {2 * args.posts:,} embeds in {folder} …")
        seconds = build(folder, args.posts, args.seed)
        print(
            f"built in {seconds:.0f} s ({args.posts / seconds:,.0f} articles/s through record_scan)"
        )
    if args.pass_only:
        what = "unfinished" if args.after_unfinished else "pass"
        measure_pass(folder, args.posts, args.before, args.repeats, what)
        flags = " --pass-only" + (" --after-unfinished" if args.after_unfinished else "")
        flags += f" --before {args.before}" if args.before else ""
        flags += f" --repeats {args.repeats}" if args.repeats != 1 else ""
        print(f"rerun: python bench/bench_scale.py --posts {args.posts} --reuse{flags}")
        return
    if args.changed_pass:
        measure_changed_pass(folder, args.posts, args.changed_pass)
        print(
            f"rerun: python bench/bench_scale.py --posts {args.posts} --reuse "
            f"--changed-pass {args.changed_pass}"
        )
        return
    if args.index_only:
        measure_index(folder, args.before, args.repeats)
        flags = f" --before {args.before}" if args.before else ""
        flags += f" --repeats {args.repeats}" if args.repeats != 1 else ""
        print(
            f"rerun: python bench/bench_scale.py --posts {args.posts} --reuse --index-only{flags}"
        )
        return
    report(folder, args.posts, args.seed, index=not args.no_index)
    flags = " --no-index" if args.no_index else ""
    print(f"rerun: python bench/bench_scale.py --posts {args.posts} --reuse{flags}")


if __name__ == "__main__":
    main()
