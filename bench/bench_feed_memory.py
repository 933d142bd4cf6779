"""Peak memory of listing a huge feed or sitemap: whole tree (before) vs streamed (after).

    python bench/bench_feed_memory.py                  # 1,000,000 entries
    python bench/bench_feed_memory.py --entries 200000 # quicker

Each mode runs in a fresh child process, which reads the body from a file first
and then reports how far parsing raised its peak RSS above that (``ru_maxrss``),
so the body itself (bounded by ``http.max_article_bytes``) is not counted. Modes:

* ``tree``: what the project did before: ``defusedxml.ElementTree.fromstring`` on
  the whole body, then a list of every entry (same per-entry code as now);
* ``stream-all``: ``stream_feed`` / ``stream_sitemap`` consumed to the end;
* ``stream-limit``: the same, stopped at ``max_articles`` (10,000, the default), as
  ``RemoteSources.list_articles`` does.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = ("tree", "stream-all", "stream-limit")
KINDS = ("feed", "sitemap")
LIMIT = 10_000
SM_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def build(kind: str, entries: int) -> bytes:
    base = "https://news.example/2026/11/"
    if kind == "feed":
        items = "".join(
            f"<item><title>Story {i}</title><link>{base}story-{i}</link>"
            f"<pubDate>Sun, 29 Nov 2026 10:00:00 GMT</pubDate></item>"
            for i in range(entries)
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    urls = "".join(
        f"<url><loc>{base}story-{i}</loc><lastmod>2026-11-29</lastmod></url>"
        for i in range(entries)
    )
    return f'<?xml version="1.0"?><urlset xmlns="{SM_NS}">{urls}</urlset>'.encode()


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def child(kind: str, mode: str, body_file: str) -> None:
    """Run one mode; print 'listed extra_kb seconds body_bytes'."""
    import defusedxml.ElementTree as SafeET

    from archiver.sources.feed import _rss_entry, stream_feed
    from archiver.sources.sitemap import SITEMAP_NAMESPACES, _sitemap_entry, stream_sitemap
    from archiver.sources.xmldoc import Entry

    body = Path(body_file).read_bytes()  # one copy of the body, before the baseline
    base = "https://news.example/feed.xml"
    before = peak_kb()
    started = time.perf_counter()
    listed = 0
    if mode == "tree":
        # The former parse: a whole ElementTree, then every entry (same per-entry
        # code as now) collected in a list before the first one was used.
        root = SafeET.fromstring(body, forbid_dtd=False)
        found: list[Entry | None] = []
        if kind == "feed":
            for channel in root:
                found.extend(_rss_entry(item, base) for item in channel if item.tag == "item")
        else:
            assert SM_NS in SITEMAP_NAMESPACES
            found.extend(_sitemap_entry(item, SM_NS, "url", base) for item in root)
        listed = sum(1 for entry in found if entry is not None)
    else:
        stream = stream_feed(body, base) if kind == "feed" else stream_sitemap(body, base)[1]
        for _entry in stream:
            listed += 1
            if mode == "stream-limit" and listed >= LIMIT:
                break
    seconds = time.perf_counter() - started
    print(listed, peak_kb() - before, f"{seconds:.2f}", len(body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.child[2])
        return
    print(f"{args.entries:,} entries; extra peak RSS over the body, per mode (fresh process)")
    print(f"{'kind':8} {'mode':13} {'listed':>10} {'body MB':>8} {'extra MB':>9} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for kind in KINDS:
            body_file = Path(folder) / f"{kind}.xml"
            body_file.write_bytes(build(kind, args.entries))
            for mode in MODES:
                command = [sys.executable, __file__, "--child", kind, mode, str(body_file)]
                out = subprocess.run(command, check=True, capture_output=True, text=True)
                listed, extra_kb, seconds, body = out.stdout.split()
                print(
                    f"{kind:8} {mode:13} {int(listed):>10,} {int(body) / 1e6:>8.1f} "
                    f"{int(extra_kb) / 1024:>9.1f} {seconds:>8}"
                )
    print(f"rerun: python bench/bench_feed_memory.py --entries {args.entries}")


if __name__ == "__main__":
    main()
