"""One pass of the archiver: scan sources, snapshot posts, store them, rewrite articles.

The pipeline conducts the stages in order and hands plain dataclasses from one
to the next. Articles are processed in small batches: each batch is read and
scanned once, the new posts it names are fetched together (so the network runs
concurrently), then the batch is rewritten from the archive while its bytes are
still in memory. Memory stays flat however large the corpus is.

``Pipeline`` is one state object (state.py) with a mixin per stage, as storage/ is:

    scan.py      the pure scan of one article (``scan_article``): no I/O, no archive
    state.py     the pass's fields and the bookkeeping every stage shares
    pages.py     PagesMixin: post pages (local copies) and their end-of-pass refresh
    outputs.py   OutputsMixin: output paths and the rewritten articles
    articles.py  ArticlesMixin: listing sources, reading, scanning and storing batches
    checks.py    ChecksMixin: the network checks of posts that are due
    __init__     Pipeline: the passes (run, regenerate, recheck) over those stages
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from archiver.errors import OutputPathError
from archiver.heap import release_freed_memory
from archiver.models import ArticleRef, RunReport
from archiver.pipeline.checks import ChecksMixin
from archiver.pipeline.pool import PoolMixin
from archiver.pipeline.scan import ScanResult, scan_article
from archiver.pipeline.state import LoadedArticle, ScannedArticle, archive_wide

__all__ = [
    "BATCH_SIZE",
    "LoadedArticle",
    "OutputPathError",
    "Pipeline",
    "ScanResult",
    "ScannedArticle",
    "archive_wide",
    "scan_article",
]

BATCH_SIZE = 32
T = TypeVar("T")


@dataclass
class Pipeline(PoolMixin, ChecksMixin):
    """Runs passes over a config's sources against one archive."""

    def run(self, refs: Iterable[ArticleRef] | None = None) -> RunReport:
        """Scan every source, fetch what is new or due, rewrite what changed.

        With ``refs``, only those articles (``embed-archiver add``): no source is listed,
        so none is marked removed, and only their posts are checked over the network.
        """
        with self._one_pass():
            started = time.monotonic()
            report = RunReport()
            articles = self._iter_sources(report) if refs is None else iter(refs)
            workers = self.config.scan.workers
            if workers == "auto" or workers > 1:  # worker processes may scan (pool.py)
                count = None if workers == "auto" else workers
                stream = self._pooled_stream(articles, report, count)
            else:
                stream = self._load_stream(articles, report)
            try:
                for loaded in _batches(stream, BATCH_SIZE):
                    self._finish_batch(self._store_batch(loaded, report), report)
                    if self.stop.is_set():
                        break
            finally:
                # Closed here, while the archive is open: a source walk keeps what it saw on
                # the archive's connection, and a pass stopped by an exception otherwise
                # left it to the garbage collector, after the archive was closed.
                _close(stream)
                _close(articles)
            if not self.stop.is_set():
                # A post whose content changed (by a check, or by richer markup in a later
                # article) marked every copy showing it out of date; copies rewritten since
                # are current again, the others (and any a killed pass left) are redone here.
                if refs is None:
                    self._check_due(report, only=None)
                self._regenerate_stale(report)
            if not self.stop.is_set():
                self._refresh_post_pages()
            self._flush_local_paths()
            report.duration_s = time.monotonic() - started
            return report

    def regenerate(self, locations: Iterable[str] | None = None) -> RunReport:
        """Rewrite stored articles from the archive, without looking for new articles or posts."""
        with self._one_pass():
            started = time.monotonic()
            report = RunReport()
            refs = self._live_refs() if locations is None else self.store.article_refs(locations)
            for ref in refs:
                if self.stop.is_set():
                    break
                if self.progress:
                    self.progress(ref.location)
                self._regenerate_one(ref, report)
            self._flush_local_paths()
            report.duration_s = time.monotonic() - started
            return report

    def recheck(self) -> RunReport:
        """Only the network part: check posts that are due, regenerate what changed."""
        with self._one_pass():
            started = time.monotonic()
            report = RunReport()
            self._check_due(report, only=None)
            self._regenerate_stale(report)
            self._flush_local_paths()
            report.duration_s = time.monotonic() - started
            return report

    def _finish_batch(self, scanned: list[ScannedArticle], report: RunReport) -> None:
        """Check the batch's posts that are due, then rewrite its articles."""
        keys = {span.key for item in scanned for span in item.spans}
        self._check_due(report, only=keys)  # the network: outside the batch transaction
        if not scanned:
            return
        with self.store.batch():  # one commit for the batch's rewrites
            for item in scanned:
                self._finish_item(item, report)
            self._flush_local_paths()
        release_freed_memory()  # a pass's memory must not creep up with its length


def _close(items: Iterator[object]) -> None:
    """Finish a generator now (its ``finally`` blocks run); other iterators need nothing."""
    if isinstance(items, Generator):
        items.close()


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
