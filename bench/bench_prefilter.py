"""What another platform's recognisers cost detection on pages that do not use them.

    python bench/bench_prefilter.py                  # 500 articles, 10% with X embeds
    python bench/bench_prefilter.py --articles 200 --markers 0 2 4 6

    python bench/bench_prefilter.py --element div    # a form that starts at a div
    python bench/bench_prefilter.py --pipeline --density 0  # detection as a run calls it

Registers a stand-in platform whose recogniser carries N markers (none of which the
corpus contains, as for an X-only site once Bluesky and Mastodon are registered) and
times the prefilter plus ``find_embeds`` over the corpus in memory (CPU time, best of
``--repeats``), for each N. All markers of a page are found in one pass
(``archiver.detect.markers``), so a marker costs about nothing (measured: 8 extra
markers, +3% for a blockquote form and +2% for a div form, where each used to be a
substring pass: +11% and +117%); a form starting at an element the lexer does not parse
anyway (``div``) makes the lexer stop at every ``<div`` only on pages holding one of
its markers.

``--pipeline``: instead, the CPU time per article of detection as a run calls it (the
prefilter, then ``find_embeds`` on the pages it passes, with the SSG options of a local
``.html`` source and the reported platforms' forms), over the articles as they are.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import write_corpus  # noqa: E402

from archiver import detect, platforms  # noqa: E402
from archiver.detect_ssg import options_for  # noqa: E402
from archiver.models import EmbedSpan, PostSnapshot  # noqa: E402
from archiver.platforms import PostRef, Recogniser  # noqa: E402

WORK = ROOT / "bench" / "_work"
# Plausible markers of other platforms' forms (absent from the generated corpus).
MARKERS = (
    b"bluesky-embed",
    b"embed.bsky.app/embed",
    b"mastodon-embed",
    b"data-bluesky-uri",
    b"<blueskypost",
    b"<mastodonpost",
    b"text-post-media",
    b"instagram-media",
)


class StandIn:
    """A platform with one recogniser that never claims anything."""

    name = "standin"
    label = "Stand-in"

    def __init__(self, markers: tuple[bytes, ...], element: bytes) -> None:
        self.recognisers = (Recogniser(element, markers, "standin", lambda tag: False, _never),)

    def is_post_id(self, post_id: str) -> bool:
        return False

    def canonical_url(self, post_id: str, handle: str | None) -> str:
        return ""

    def snapshot_from_markup(self, span: EmbedSpan, fragment: str) -> PostSnapshot | None:
        return None


def _never(tag: object, element: bytes) -> PostRef | None:
    return None


def measure(datas: list[bytes], repeats: int) -> tuple[float, int]:
    """Best CPU seconds of one pass (prefilter + find_embeds), and the embeds found."""
    best, found = float("inf"), 0
    for _ in range(repeats):
        started = time.process_time()
        found = 0
        for data in datas:
            if detect.might_contain_embeds(data):
                found += len(detect.find_embeds(data))
        best = min(best, time.process_time() - started)
    return best, found


def measure_pipeline(paths: list[Path], repeats: int) -> tuple[float, int]:
    """Best CPU seconds of detecting every article as the pipeline does, and embeds."""
    pages = [(path.read_bytes(), options_for(str(path))) for path in paths]
    best, found = float("inf"), 0
    for _ in range(repeats):
        started = time.process_time()
        found = 0
        for data, ssg in pages:
            if detect.might_contain_embeds(data, ssg, reported=True):
                found += len(detect.find_embeds(data, ssg=ssg, reported=True))
        best = min(best, time.process_time() - started)
    return best, found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markers", type=int, nargs="+", default=[0, 1, 2, 4, 8])
    parser.add_argument("--element", default="blockquote", help="where the form starts")
    parser.add_argument("--pipeline", action="store_true", help="detection as a run calls it")
    args = parser.parse_args()

    folder = WORK / f"prefilter-{args.articles}-d{args.density:.2f}"
    if not folder.exists():
        write_corpus(folder, args.articles, density=args.density)
    if args.pipeline:
        paths = sorted(folder.rglob("*.html"))
        seconds, found = measure_pipeline(paths, args.repeats)
        print(
            f"detection as a run calls it, {len(paths)} articles at {args.density:.0%} "
            f"density: {seconds / len(paths) * 1e6:.1f} µs CPU per article, {found} embeds"
        )
        print(
            f"rerun: python bench/bench_prefilter.py --pipeline --articles {args.articles} "
            f"--density {args.density}"
        )
        return
    datas = [p.read_bytes() for p in sorted(folder.rglob("*.html"))]
    size = sum(map(len, datas))
    print(
        f"corpus: {len(datas)} articles, {size / 1e6:.1f} MB, {args.density:.0%} with X "
        f"embeds; the stand-in's form starts at <{args.element}>"
    )
    base = None
    for count in args.markers:
        if count:
            stand_in = StandIn(MARKERS[:count], args.element.encode("ascii"))
            platforms.register(stand_in)  # type: ignore[arg-type]
        try:
            seconds, found = measure(datas, args.repeats)
        finally:
            platforms.unregister("standin")
        base = seconds if base is None else base
        print(
            f"  {count} extra markers: {seconds * 1000:7.1f} ms CPU, "
            f"{size / seconds / 1e6:6.0f} MB/s, {seconds / base:4.2f}x, {found} embeds"
        )
    markers = " ".join(map(str, args.markers))
    print(
        f"rerun: python bench/bench_prefilter.py --articles {args.articles} "
        f"--density {args.density} --markers {markers} --element {args.element}"
    )


if __name__ == "__main__":
    main()
