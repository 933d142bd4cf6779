"""Throughput of the static-site generator pass (archiver.detect_ssg).

    python bench/bench_ssg_detect.py            # ~20 MB of Markdown, ~20 MB of HTML
    python bench/bench_ssg_detect.py --mb 5     # quicker

Prints MB/s for: Markdown with every SSG form, code blocks and prose; the same scanned as
a page fetched over HTTP (templates off); and an HTML page with no SSG markers at all, with
and without the pass (its cost where it finds nothing).  Best of 3 runs each.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.detect import find_embeds  # noqa: E402
from archiver.detect_ssg import SsgOptions, options_for  # noqa: E402

UNIT_MD = (
    'Some prose with a [link](https://example.com/a) and `inline {{< x id="1" >}} code`.\n\n'
    '{{< tweet user="AsahiLinux" id="1438152384165728257" >}}\n\n'
    "{% twitter https://twitter.com/jakevdp/status/1204765621767901185?s=20 %}\n\n"
    '<Tweet id="1511750228428435457" />\n\n'
    "https://x.com/kentcdodds/status/651124199537283072\n\n"
    "```\n{{< tweet 1397963184959418370 >}}\n```\n\n" + "Plain paragraph text. " * 40 + "\n\n"
)
UNIT_HTML = (
    '<div class="c"><p>News text <a href="https://example.com/">link</a> and more words '
    "to read.</p><span>{{ angular }}</span></div>\n" * 4
)


def best(data: bytes, markdown: bool, ssg: SsgOptions | None) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(3):
        t0 = time.perf_counter()
        found = len(find_embeds(data, markdown, ssg=ssg))
        times.append(time.perf_counter() - t0)
    return len(data) / min(times) / 1e6, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=20)
    args = parser.parse_args()
    md = (UNIT_MD * int(args.mb * 1e6 / len(UNIT_MD))).encode()
    html = (UNIT_HTML * int(args.mb * 1e6 / len(UNIT_HTML))).encode()
    site = SsgOptions(bare_urls=True)
    rows = [
        ("Markdown, SSG pass", md, True, options_for("a.md", site)),
        ("Markdown as a web page", md, True, options_for("https://x.example/a.md", site)),
        ("HTML, no SSG pass", html, False, None),
        ("HTML, SSG pass (local .html)", html, False, options_for("a.html", site)),
    ]
    print(f"python {' '.join(sys.argv)}")
    for label, data, markdown, ssg in rows:
        rate, found = best(data, markdown, ssg)
        print(f"{label:32} {len(data) / 1e6:6.1f} MB  {rate:7.1f} MB/s  {found} embeds")


if __name__ == "__main__":
    main()
