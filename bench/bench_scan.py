"""Benchmark of the offline pipeline: read floor vs detection vs a full run.

    python bench/bench_scan.py                 # 2,000 articles of ~150 KB
    python bench/bench_scan.py --articles 500  # quicker

All figures come from one run on the same files, so the ratios hold even on a
noisy machine. Peak RSS is measured in fresh child processes for growing corpus
sizes, to show that memory stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import write_corpus  # noqa: E402

from archiver import detect  # noqa: E402

WORK = ROOT / "bench" / "_work"


def corpus(count: int) -> Path:
    folder = WORK / f"corpus-{count}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_corpus(folder, count)
        marker.write_text("ok")
    return folder


def files_of(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def read_decode(files: list[Path]) -> None:
    for path in files:
        path.read_bytes().decode("utf-8", errors="replace")


def detect_all(files: list[Path]) -> int:
    found = 0
    for path in files:
        data = path.read_bytes()
        if detect.might_contain_embeds(data):
            found += len(detect.find_embeds(data))
    return found


def bs4_sample(files: list[Path]) -> None:
    from bs4 import BeautifulSoup

    for path in files:
        soup = BeautifulSoup(path.read_bytes(), "html.parser")
        soup.select("blockquote.twitter-tweet")


def write_config(folder: Path, articles: Path) -> Path:
    config = folder / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        f"sources:\n  - kind: directory\n    path: {articles}\n"
        "output:\n  dir: out\nx:\n  fetch: false\n",
        encoding="utf-8",
    )
    return config


def full_run(articles: Path, tag: str) -> tuple[float, float, dict[str, object]]:
    """A fresh archive: first run, then a second run over the unchanged corpus."""
    from archiver import Archive

    folder = WORK / f"run-{tag}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = write_config(folder, articles)
    with Archive.from_config(config) as archive:
        started = time.perf_counter()
        report = archive.run()
        first = time.perf_counter() - started
        started = time.perf_counter()
        archive.run()
        second = time.perf_counter() - started
    return first, second, report.as_dict()


def child_peak_rss(count: int) -> float:
    """Peak RSS (MB) of a fresh process doing one full run over ``count`` articles."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(count)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def child(count: int) -> None:
    full_run(corpus(count), f"child-{count}")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_mb": round(peak_kb / 1024, 1)}))


def render_cost(repeats: int = 3, rounds: int = 2000) -> float:
    """Microseconds to render one stable embed (a typical fetched post with a photo)."""
    from archiver.models import MediaItem, Post
    from archiver.render import render_embed

    post = Post(
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
                "photo",
                "https://pbs.twimg.com/media/a.jpg",
                "a letter",
                1200,
                800,
                local_path="ab/ab12.jpg",
            )
        ],
    )
    render_embed(post, "../embeds/x/1.html", "../embeds/media/")  # warm the template cache
    seconds = best_of(
        repeats,
        lambda: [
            render_embed(post, "../embeds/x/1.html", "../embeds/media/") for _ in range(rounds)
        ],
    )
    return seconds / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--render-only", action="store_true", help="only the per-embed render cost")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    per_embed = render_cost(args.repeats)
    if args.render_only:
        print(f"render one stable embed: {per_embed:.0f} µs")
        print("rerun: python bench/bench_scan.py --render-only")
        return

    folder = corpus(args.articles)
    files = files_of(folder)
    total_mb = sum(p.stat().st_size for p in files) / 1e6
    read_decode(files)  # warm the page cache

    floor = best_of(args.repeats, lambda: read_decode(files))
    detection = best_of(args.repeats, lambda: detect_all(files))
    sample = files[:50]
    bs4_time = best_of(1, lambda: bs4_sample(sample)) * len(files) / len(sample)
    first, second, report = full_run(folder, "main")

    def line(name: str, seconds: float) -> str:
        rate = len(files) / seconds
        return f"  {name:<34} {rate:9.0f} articles/s  {total_mb / seconds:7.1f} MB/s  {floor / seconds:6.2f} x floor"

    print(f"corpus: {len(files)} articles, {total_mb:.1f} MB, {report['embeds_found']} embeds")
    print(line("read + decode (floor)", floor))
    print(line("detection (prefilter + lexer)", detection))
    print(line("full run (first, fresh archive)", first))
    print(line("second run (unchanged corpus)", second))
    print(line("bs4 html.parser, whole pages*", bs4_time))
    print("  * extrapolated from 50 articles")
    print(f"render one stable embed: {per_embed:.0f} µs")
    sizes = sorted({max(args.articles // 4, 1), max(args.articles // 2, 1), args.articles})
    rss = {n: child_peak_rss(n) for n in sizes}
    print(
        "peak RSS of a full run: "
        + ", ".join(f"{n} articles: {mb:.0f} MB" for n, mb in rss.items())
    )
    print(f"rerun: python bench/bench_scan.py --articles {args.articles}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
