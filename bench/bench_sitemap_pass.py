"""A service pass over N unchanged articles listed by a sitemap with ``lastmod``.

Issue 13 asks for the pass over a million unchanged articles from a folder of small files
(``bench_scale.py``) and from a sitemap. Here a local server on 127.0.0.1 plays the site:
a sitemap index and children of 50,000 URLs each, every entry with a ``lastmod`` before
the archive's last scan. The archive is built through the storage layer from the refs the
real sitemap source yields (``RemoteSources.list_articles``), each recorded as scanned
and rewritten, with its output copy on disk. The pass is then run in a fresh process: its
time, its peak RSS, how many articles it skipped unread and how many pages it asked the
server for besides the sitemaps (none, when lastmod is honoured).

    python bench/bench_sitemap_pass.py --articles 100000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_scale import peak_rss_mb  # noqa: E402

from archiver import Archive  # noqa: E402
from archiver.clock import utc_now  # noqa: E402
from archiver.sources.remote import RemoteSources  # noqa: E402

WORK = ROOT / "bench" / "_work"
PER_CHILD = 50_000  # the sitemap protocol's limit of URLs per file
LASTMOD = "2025-01-01T00:00:00Z"
BATCH = 1_000


class Site(BaseHTTPRequestHandler):
    """``/sitemap.xml`` (an index), ``/sitemap-K.xml`` (children); anything else is an
    article request, counted (a pass that honours lastmod makes none)."""

    articles = 0
    article_requests = 0
    children: ClassVar[dict[int, bytes]] = {}

    def do_GET(self) -> None:
        if self.path == "/sitemap.xml":
            body = self._index()
        elif self.path.startswith("/sitemap-") and self.path.endswith(".xml"):
            body = self._child(int(self.path[len("/sitemap-") : -len(".xml")]))
        else:
            type(self).article_requests += 1
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _index(self) -> bytes:
        count = -(-type(self).articles // PER_CHILD)
        items = "".join(
            f"<sitemap><loc>{self._base()}/sitemap-{k}.xml</loc></sitemap>" for k in range(count)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}'
            "</sitemapindex>"
        ).encode()

    def _child(self, k: int) -> bytes:
        cached = type(self).children.get(k)
        if cached is not None:
            return cached
        first, last = k * PER_CHILD, min((k + 1) * PER_CHILD, type(self).articles)
        base = self._base()
        items = "".join(
            f"<url><loc>{base}/news/{i // 1000:04d}/story-{i:07d}</loc>"
            f"<lastmod>{LASTMOD}</lastmod></url>"
            for i in range(first, last)
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'
        ).encode()
        type(self).children[k] = body
        return body

    def log_message(self, format: str, *args: object) -> None:
        pass


def write_config(folder: Path, port: int, articles: int) -> Path:
    config = folder / "config.yaml"
    config.write_text(
        "database: archive.db\n"
        "sources:\n  - kind: sitemap\n    name: site\n"
        f"    url: http://127.0.0.1:{port}/sitemap.xml\n    max_articles: {articles}\n"
        "output:\n  dir: out\nx:\n  fetch: false\n",
        encoding="utf-8",
    )
    return config


def build(config: Path) -> float:
    """Record every article the sitemap lists as scanned and rewritten, its copy on disk."""
    started = time.perf_counter()
    now = utc_now()
    with Archive.from_config(config) as archive:
        store, out = archive.store, archive.config.output.dir
        remote = RemoteSources(archive.config, store.get_article)
        try:
            refs = remote.list_articles(archive.config.sources[0], 0)
            for chunk in iter(lambda: list(islice(refs, BATCH)), []):
                with store.batch():
                    for ref in chunk:
                        target = out / ref.output_relpath
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(b"<p>story</p>\n")
                        digest = f"{hash(ref.location) & (2**64 - 1):064x}"
                        store.record_scan(
                            ref,
                            content_hash=digest,
                            encoding="utf-8",
                            embeds=[],
                            snapshots=[],
                            now=now,
                        )
                        store.mark_rewritten(ref.location, str(target), digest, now)
        finally:
            remote.close()
    return time.perf_counter() - started


def child(config: Path) -> None:
    """One pass in a fresh process, so its peak RSS is its own."""
    with Archive.from_config(config) as archive:
        started = time.perf_counter()
        report = archive.pipeline().run()
        seconds = time.perf_counter() - started
    print(
        f"RESULT {seconds:.3f} {peak_rss_mb():.0f} {report.articles_skipped} {report.articles_scanned} "
        f"{len(report.errors)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    Site.articles = args.articles
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = WORK / f"sitemap-{args.articles}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = write_config(folder, server.server_address[1], args.articles)
    seconds = build(config)
    print(f"built {args.articles:,} articles from the sitemap in {seconds:.0f} s")
    for _ in range(args.repeats):
        Site.article_requests = 0
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(config)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        _, secs, rss, skipped, scanned, errors = next(
            line for line in out.splitlines() if line.startswith("RESULT ")
        ).split()
        print(
            f"  pass over {args.articles:,} unchanged articles from a sitemap: {float(secs):.1f} s, "
            f"peak RSS {rss} MB; skipped {int(skipped):,}, scanned {scanned}, errors {errors}, "
            f"article requests {Site.article_requests}"
        )
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)
    print(f"rerun: python bench/bench_sitemap_pass.py --articles {args.articles}")


if __name__ == "__main__":
    main()
