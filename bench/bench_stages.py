"""Where a first run's time goes, stage by stage, without a profiler's distortion.

    python bench/bench_stages.py                          # 2,000 articles, dense and 10 %
    BENCH_WORK=/dev/shm/bench python bench/bench_stages.py --articles 300 --density dense

cProfile (``bench_scan.py --profile``) charges every Python call, so it overstates the
stages made of many small calls (templates, SQL wrappers) against those that are one
call into C (hashing, lxml, the disk). Here each stage is timed with a clock around a
handful of the pipeline's own functions, in a plain first run over the corpus of
``bench_scan.py`` (same files, same config), and shown as a share of the run. Nested
stages are indented under the stage that contains them; a stage's time includes theirs.
What no stage covers (reading and listing the articles, batching, bookkeeping) is the
"rest" line. The timers cost about 0.3 µs per call, some 13 calls an article on the
dense corpus: well under 1 % of its 3-4 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scan import WORK, add_density_option, corpus, settle, write_config

# (depth, label, module or class path, attribute): the stages, in the order shown.
STAGES = (
    (0, "store a batch: scan and record", "archiver.pipeline.Pipeline", "_store_batch"),
    (1, "scan an article (detect, parse markup)", "archiver.pipeline.articles", "scan_article"),
    (1, "record its scan (SQLite)", "archiver.storage.Store", "record_scan"),
    (0, "rewrite a batch", "archiver.pipeline.Pipeline", "_finish_batch"),
    (1, "write a post page", "archiver.pipeline.Pipeline", "_write_post_page"),
    (2, "render it", "archiver.pipeline.pages.render", "render_post_page"),
    (2, "its articles and versions (SQLite)", "archiver.storage.Store", "articles_of_post"),
    (2, "", "archiver.storage.Store", "snapshots_of"),
    (1, "render a card (stencil)", "archiver.pipeline.pages.render", "embed_stencil"),
    (1, "write the article", "archiver.pipeline.Pipeline", "_write_article"),
    (0, "rewrite stale articles (end of pass)", "archiver.pipeline.Pipeline", "_regenerate_stale"),
    (0, "refresh post pages (end of pass)", "archiver.pipeline.Pipeline", "_refresh_post_pages"),
    (0, "write the static index", "archiver.Archive", "_update_index"),
)


def _resolve(path: str) -> Any:
    module, _, name = path.rpartition(".")
    found = __import__(module, fromlist=[name])
    return getattr(found, name)


def _timed(
    owner: Any, attribute: str, label: str, spent: defaultdict[str, float], calls: Counter[str]
) -> None:
    original: Callable[..., Any] = getattr(owner, attribute)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started
            calls[label] += 1

    setattr(owner, attribute, timed)


def instrument() -> tuple[defaultdict[str, float], Counter[str]]:
    """Put a timer around every stage (once per process); returns the time spent in each
    and the number of calls, which ``measure`` resets."""
    spent: defaultdict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    label = ""
    for _, name, owner, attribute in STAGES:
        label = name or label  # an unnamed stage adds to the one above it
        _timed(_resolve(owner), attribute, label, spent, calls)
    return spent, calls


def measure(
    articles: Path, folder: Path, spent: defaultdict[str, float], calls: Counter[str]
) -> float:
    """One timed first run over ``articles`` into a fresh archive under ``folder``."""
    from archiver import Archive

    spent.clear()
    calls.clear()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with Archive.from_config(write_config(folder, articles, 1)) as archive:
        settle()
        started = time.perf_counter()
        archive.run()
        total = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return total


def report(
    title: str, count: int, total: float, spent: defaultdict[str, float], calls: Counter[str]
) -> None:
    print(
        f"{title}: first run over {count} articles, {total:.2f} s, {1000 * total / count:.2f} ms an article"
    )
    covered = 0.0
    for depth, name, _, _ in STAGES:
        if not name:
            continue
        if depth == 0:
            covered += spent[name]
        share = 100 * spent[name] / total
        per_article = 1000 * spent[name] / count
        print(
            f"  {'  ' * depth}{name:<{44 - 2 * depth}} {share:5.1f} %  "
            f"{per_article:5.2f} ms/article  ({calls[name]} calls)"
        )
    rest = total - covered
    print(
        f"  {'rest (listing, reading, hashing, splicing)':<44} {100 * rest / total:5.1f} %  {1000 * rest / count:5.2f} ms/article"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    add_density_option(parser)
    args = parser.parse_args()
    densities = args.density or [None, 0.1]
    spent, calls = instrument()
    for density in densities:
        articles = corpus(args.articles, density)
        total = measure(articles, WORK / "run-stages", spent, calls)
        title = "dense corpus" if density is None else f"{density:.0%} of articles with embeds"
        report(title, args.articles, total, spent, calls)
    rerun = f"python bench/bench_stages.py --articles {args.articles}"
    rerun += "".join(f" --density {'dense' if d is None else d}" for d in args.density or [])
    print(f"rerun: {rerun}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
