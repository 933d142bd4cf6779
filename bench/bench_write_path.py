"""What an article costs beyond detection: SQLite statements and CPU time per article.

    python bench/bench_write_path.py                          # 300 articles, no embeds and 10%
    python bench/bench_write_path.py --articles 500 --density 0.0

For each corpus (bench_scan's, same files), three passes over one fresh archive: the
first run, an unchanged rerun, and a rerun after ``touch`` of every article (same
bytes, new mtime). It prints the SQL statements each pass executed per article (exact,
from SQLite's trace callback) and the CPU time per article (``time.process_time``,
best of ``--repeats`` fresh archives, after one warm-up), next to the read+decode floor
measured the same way. CPU time, not wall time: on a shared 2-core box the wall clock
of one pass swings by 2x with the neighbours' load, the CPU time much less (it still
moves by 10-20%: compare runs made side by side).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scan import WORK, corpus, files_of, parse_density, read_decode, write_config  # noqa: E402

from archiver import Archive  # noqa: E402

PASSES = ("first", "unchanged", "touch")


def cpu(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def passes(articles: Path, files: list[Path], tag: str) -> tuple[dict[str, float], dict[str, int]]:
    """CPU seconds and SQL statements of each pass over one fresh archive."""
    folder = WORK / f"write-path-{tag}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    seconds: dict[str, float] = {}
    statements: dict[str, int] = {}
    with Archive.from_config(write_config(folder, articles)) as archive:
        for name in PASSES:
            if name == "touch":
                for path in files:
                    os.utime(path)
            seen: list[str] = []
            archive.store.db.conn.set_trace_callback(seen.append)
            seconds[name] = cpu(archive.run)
            archive.store.db.conn.set_trace_callback(None)
            statements[name] = len(seen)
    shutil.rmtree(folder, ignore_errors=True)
    return seconds, statements


def measure(count: int, density: float | None, repeats: int) -> None:
    articles = corpus(count, density)
    files = files_of(articles)
    label = "dense" if density is None else f"{density:.0%} with embeds"
    floor = min(cpu(lambda: read_decode(files)) for _ in range(max(3, repeats)))
    passes(articles, files, "warm")  # imports, template compiles
    best = dict.fromkeys(PASSES, float("inf"))
    statements: dict[str, int] = {}
    for _ in range(repeats):
        seconds, statements = passes(articles, files, "timed")
        best = {name: min(best[name], seconds[name]) for name in PASSES}
    per = 1e6 / count
    print(f"corpus {label}: {count} articles; read+decode floor {floor * per:.0f} µs CPU/article")
    for name in PASSES:
        print(
            f"  {name:10s} {statements[name] / count:5.1f} SQL statements/article   "
            f"{best[name] * per:7.0f} µs CPU/article   {floor / best[name]:5.2f} x floor   "
            f"{(best[name] - floor) * per:7.0f} µs beyond it"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--density", type=parse_density, action="append")
    args = parser.parse_args()
    for density in args.density or [0.0, 0.1]:
        measure(args.articles, density, args.repeats)
    command = " ".join(["python", "bench/bench_write_path.py", *sys.argv[1:]])
    print(f"rerun: {command}")


if __name__ == "__main__":
    main()
