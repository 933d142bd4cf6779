"""Long fuzz run of the detector, and its time on pathological pages of growing size.

    python bench/bench_fuzz_detect.py                  # 5,000 mutated pages, sizes to 4 MB
    python bench/bench_fuzz_detect.py --pages 20000 --seed 7 --max-size 16000000

Mutations of the detection corpus (tests/mutations.py: truncation, byte flips,
duplicated and unclosed tags, deep nesting, NULs, huge attributes, stray comment /
script / CDATA openers, splices) go through ``find_embeds`` in both modes; every result
is checked with the same invariants as tests/test_detect_fuzz.py.  Then each
pathological shape from issue 9 is timed at doubling sizes: linear time shows as a flat
microseconds-per-KB column and a doubling ratio near 2.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from mutations import PATHOLOGICAL_KINDS, corpus_pages, mutate, pathological  # noqa: E402
from test_detect_fuzz import assert_sound  # noqa: E402

from archiver.detect import find_embeds  # noqa: E402


def fuzz(pages: int, seed: int) -> None:
    corpus = corpus_pages()
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    total_bytes = 0
    found = 0
    worst = (0.0, "", 0)
    started = time.perf_counter()
    for case in range(pages):
        what, data = mutate(rng, corpus)
        for name in what.split("+"):
            kinds[name] += 1
        total_bytes += len(data)
        for markdown in (False, True):
            t0 = time.perf_counter()
            try:
                spans = find_embeds(data, markdown=markdown)
            except Exception as exc:
                print(f"FAIL case {case} (seed {seed}, {what}, {len(data)} bytes): {exc!r}")
                raise
            elapsed = time.perf_counter() - t0
            if elapsed > worst[0]:
                worst = (elapsed, what, len(data))
            assert_sound(data, spans)
            found += len(spans)
    elapsed = time.perf_counter() - started
    mb = total_bytes / 1e6
    print(f"fuzz: {pages} mutated pages (seed {seed}), {mb:.1f} MB, scanned twice each")
    print(f"  no exception, every span sound; {found} spans found")
    print(f"  {2 * pages / elapsed:,.0f} scans/s, {2 * mb / elapsed:.1f} MB/s")
    print(f"  slowest page: {worst[0] * 1000:.1f} ms ({worst[1]}, {worst[2]:,} bytes)")
    print("  mutations: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


def best_of(repeats: int, data: bytes) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        find_embeds(data)
        best = min(best, time.perf_counter() - t0)
    return best


def shapes(max_size: int) -> None:
    print("pathological pages (best of 3):")
    print(f"  {'shape':<28} {'size':>10} {'seconds':>9} {'us/KB':>7} {'x prev':>7}")
    for kind in PATHOLOGICAL_KINDS:
        size, previous = 62_500, None
        while size <= max_size:
            data = pathological(kind, size)
            seconds = best_of(3, data)
            ratio = f"{seconds / previous:7.2f}" if previous else " " * 7
            per_kb = seconds * 1e6 / (len(data) / 1000)
            print(f"  {kind:<28} {len(data):>10,} {seconds:9.3f} {per_kb:7.1f} {ratio}")
            previous, size = seconds, size * 2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--max-size", type=int, default=4_000_000)
    args = parser.parse_args()
    fuzz(args.pages, args.seed)
    shapes(args.max_size)
    print(
        f"rerun: python bench/bench_fuzz_detect.py --pages {args.pages} --seed {args.seed} "
        f"--max-size {args.max_size}"
    )


if __name__ == "__main__":
    main()
