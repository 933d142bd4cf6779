"""Scan workers (``scan.workers``, ``run --workers N``): the first backfill on more cores.

Worker processes (worker.py) read, hash and scan chunks of directory articles, and write
the copies of those without embeds; an article with embeds is read again by the main
process (page cache) and its hash compared. The main process keeps the rest, in the
single-process order: the database, post pages, rewrites. A copy written before its
``record_scan`` is harmless after a crash: the next run finds no record of it and does
the article again.

Workers start once a pass has ``_START_AFTER`` articles for them. With a number of
workers, that is every directory article read. With ``auto`` (the default) it is the new
ones only (a rescan is quicker in-process), and the number is decided then, one per idle
core (archiver.cpus): a first backfill gets workers; the service's rescans and a busy
machine do not. How they start is ``_start_method``: forked, in a few milliseconds, from
a process that runs no other thread (a command-line run); else from a "forkserver"
(forking a process that has threads is unsafe, and the service runs passes from an
APScheduler thread), whose first pool starts in a thread (booting the server took
0.5-0.8 s here) while the pass goes on in-process; later pools start in ~30 ms. A worker
that dies stops the pass with ``WorkerError``; workers exit by themselves when the
pass's process is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from archiver import encoding
from archiver.clock import utc_now
from archiver.config import Config
from archiver.cpus import auto_workers
from archiver.decide import clash_free_path, unchanged_content
from archiver.errors import ArchiverError
from archiver.models import Article, ArticleRef, RunReport
from archiver.pipeline.articles import ArticlesMixin, _known
from archiver.pipeline.scan import Prescan
from archiver.pipeline.state import LoadedArticle, ScannedArticle, archive_wide, log
from archiver.pipeline.worker import Job, init_worker, scan_chunk
from archiver.storage import ArticleState

# Articles per task: enough to amortise a round trip, few enough to keep all busy.
CHUNK = 16
# Chunks in flight per worker: the workers stay ahead of the main process, and memory
# stays flat (results are small, and at most this many chunks wait).
_AHEAD = 3
# Articles to read before the pool starts: a small pass is cheaper in one process.
_START_AFTER = 4 * CHUNK
# A pool started before in this process by a server: it is up, a new pool is quick.
_started_before = False


class WorkerError(ArchiverError):
    """A scan worker process died (killed, or out of memory); the pass stopped."""


_ONE_PROCESS = (
    "fewer than two idle cores, or a program that has not declared its main module "
    "guarded; README, Worker processes"
)
_DIED = (
    "a scan worker process died (killed, or out of memory), so this pass stopped; "
    "what it stored is kept. Run again to finish, or with --workers 1"
)


# One article of a chunk: its ref, the stored state, the pass's clock, its job (None:
# read in-process, e.g. a remote article).
_Item = tuple[ArticleRef, ArticleState | None, str, Job | None]


@dataclass
class _Chunk:
    items: list[_Item]
    future: Future[list[Prescan]] | None = None


class PoolMixin(ArticlesMixin):
    """The pass's article stream, read and scanned by worker processes."""

    def _pooled_stream(
        self, refs: Iterable[ArticleRef], report: RunReport, workers: int | None
    ) -> Iterator[LoadedArticle]:
        """``_load_stream`` with the reading and scanning done by ``workers`` processes
        (None: "auto", see the module's doc), in the same order; at most a few chunks are
        in flight."""
        starter: _Starter | None = None
        waiting: deque[_Chunk] = deque()
        chunk: list[_Item] = []
        wanted = 0  # articles the workers would take
        # None: "auto" and not decided; no jobs until then, so a pass that never gets
        # workers costs what it costs in one process.
        pooling: bool | None = True if workers else None
        try:
            for ref in refs:
                if self.stop.is_set():
                    break
                item = self._item_for(ref, report, pooling is True, only_new=workers is None)
                if item is None:
                    continue
                chunk.append(item)
                wanted += _for_workers(item[0], item[1], only_new=workers is None)
                if len(chunk) < CHUNK:
                    continue
                waiting.append(_Chunk(chunk))
                chunk = []
                if starter is None and pooling is not False and wanted >= _START_AFTER:
                    count = workers or auto_workers()
                    pooling = count > 1
                    if not pooling:
                        log.info("scan.workers auto: one process (%s)", _ONE_PROCESS)
                    starter = _Starter(self.config, count) if pooling else None
                    if starter is not None and _started_before:  # a pool starts in ~30 ms
                        starter.wait()
                # Until the pool is up (the first start of a process takes half a second
                # or more), chunks are done here, in order: the start costs no waiting.
                pool = starter.pool() if starter is not None else None
                if pool is not None:
                    _submit(pool, waiting)
                while len(waiting) > (starter.ahead if starter and pool else 0):
                    yield from self._collect(waiting.popleft(), report)
            if chunk:
                waiting.append(_Chunk(chunk))
            pool = starter.pool() if starter is not None else None
            if pool is not None:
                _submit(pool, waiting)
            while waiting and not self.stop.is_set():
                yield from self._collect(waiting.popleft(), report)
            if starter is not None:
                log.info("worker processes read and scanned %d articles", self._by_workers)
        except BrokenProcessPool as exc:
            raise WorkerError(_DIED) from exc
        finally:
            if starter is not None:
                starter.shutdown()
            if isinstance(refs, Generator):  # the source walk's cleanup, while the
                refs.close()  # database is open (not whenever it is collected)

    def _item_for(
        self, ref: ArticleRef, report: RunReport, pooling: bool, only_new: bool
    ) -> _Item | None:
        """The stored state of one article, and its job, unless it can be skipped unread.

        No job (read in-process) without ``pooling``, nor with ``only_new`` for an
        article that has bytes archived: a rescan is quicker without the pool."""
        try:
            previous = self.store.get_article(ref.location)
            if previous and self._unchanged_on_disk(ref, previous):
                report.articles_skipped += 1
                return None
            job = None
            if pooling and _for_workers(ref, previous, only_new):
                job = Job(ref, _archived_hash(previous), self._claim_output(ref))
        except Exception as exc:  # one bad article is reported, the run goes on
            if archive_wide(exc):
                raise
            log.exception("failed to scan %s", ref.location)
            self._fail(ref, f"{type(exc).__name__}: {exc}", report, utc_now())
            return None
        return ref, previous, utc_now(), job

    def _claim_output(self, ref: ArticleRef) -> str | None:
        """The output copy a worker may write for this article, if it has no embeds.

        None when the copy is the source (in place) or when another article in flight
        may take the same file: the main process then writes it, in pass order, so the
        clash rule (``clash_free_path``) decides as in a single process.
        """
        if self.config.output.in_place:
            return None
        try:
            path = str(self._output_path(ref))
            plain = self._joined_output(ref.output_relpath or ref.location)
        except (OSError, ValueError):
            return None  # the rewrite reports it
        names = {path, str(plain), str(clash_free_path(plain, ref.location, True))}
        free = all(self._claims.get(name, ref.location) == ref.location for name in names)
        for name in names:
            self._claims.setdefault(name, ref.location)
        self._claimed_by[ref.location] = list(names)
        return path if free else None

    def _release(self, location: str) -> None:
        for name in self._claimed_by.pop(location, ()):
            if self._claims.get(name) == location:
                del self._claims[name]

    def _collect(self, chunk: _Chunk, report: RunReport) -> Iterator[LoadedArticle]:
        """The loaded articles of one chunk, in order (its future is waited for)."""
        found: Iterator[Prescan] = iter(())
        if chunk.future is not None:
            found = iter(chunk.future.result())  # BrokenProcessPool: see _pooled_stream
        for ref, previous, now, job in chunk.items:
            prescan = next(found) if job is not None and chunk.future is not None else None
            self._by_workers += prescan is not None
            try:
                loaded = self._loaded(ref, previous, now, prescan, report)
            except Exception as exc:  # one bad article is reported, the run goes on
                if archive_wide(exc):
                    raise
                log.exception("failed to scan %s", ref.location)
                self._fail(ref, f"{type(exc).__name__}: {exc}", report, utc_now())
                loaded = None
            if loaded is None or loaded.article is None:
                self._release(ref.location)  # not rewritten: its claim ends here
            if loaded is not None:  # with no article: recorded as unchanged
                yield loaded

    def _finish_item(self, item: ScannedArticle, report: RunReport) -> None:
        """Rewrite one scanned article (or record the copy its worker wrote)."""
        if item.prescan is not None and item.prescan.written is not None:
            self._confirm_written(item, report)
        else:
            self._rewrite(item, report)
        self._release(item.article.ref.location)

    def _loaded(
        self,
        ref: ArticleRef,
        previous: ArticleState | None,
        now: str,
        prescan: Prescan | None,
        report: RunReport,
    ) -> LoadedArticle | None:
        """One article as ``_load`` would load it, from what its worker found."""
        if prescan is None:  # read in-process
            return self._load(ref, previous, report)
        if prescan.error is not None and not prescan.scanned:  # not read: fails here
            if prescan.trace:
                log.error("failed to read %s\n%s", ref.location, prescan.trace.rstrip())
            self._fail(ref, prescan.error, report, now)
            return None
        if prescan.error is not None:  # read, then its scan failed: in its batch (_scan)
            hashed = Article(ref, b"", prescan.encoding, sha256=prescan.content_hash)
            self._counted(ref, report)
            return LoadedArticle(ref, previous, hashed, now, prescan=prescan)
        if prescan.result is None:  # the bytes of the last scan
            if previous is not None and unchanged_content(
                _known(previous), prescan.content_hash, lambda: self._output_exists(ref, previous)
            ):
                self._counted(ref, report)
                return LoadedArticle(ref, previous, None, now)
            return self._load(ref, previous, report)
        if prescan.written is not None:
            hashed = Article(ref, b"", prescan.encoding, sha256=prescan.content_hash)
            self._counted(ref, report)
            return LoadedArticle(ref, previous, hashed, now, prescan=prescan)
        article = self._reread(ref, prescan)
        if article is None:  # changed since the worker read it: scan what is there now
            return self._load(ref, previous, report)
        self._counted(ref, report)
        scan = replace(
            prescan.result, scan_bytes=encoding.to_scan_bytes(article.data, article.encoding)
        )
        return LoadedArticle(ref, previous, article, now, prescan=replace(prescan, result=scan))

    def _reread(self, ref: ArticleRef, prescan: Prescan) -> Article | None:
        """The article's bytes again, if they are still those its worker scanned."""
        assert ref.path is not None
        try:
            data = Path(ref.path).read_bytes()
        except OSError:
            return None  # ``_load`` reports it
        article = Article(ref, data, prescan.encoding)
        return article if article.content_hash == prescan.content_hash else None

    def _confirm_written(self, item: ScannedArticle, report: RunReport) -> None:
        """Record the copy a worker wrote, as ``_write_article`` records its own."""
        ref = item.article.ref
        prescan = item.prescan
        assert prescan is not None and prescan.written is not None
        try:
            out_path = str(self._output_path(ref))
        except Exception as exc:  # as _rewrite: this article fails alone
            if archive_wide(exc):
                raise
            self._fail(ref, f"rewrite: {exc}", report, utc_now())
            return
        if out_path != prescan.written:  # cannot happen with the claims above
            log.error("%s: its worker wrote %s; rewriting it", ref.location, prescan.written)
            article = self._reread(ref, prescan)
            if article is not None:
                scan = encoding.to_scan_bytes(article.data, article.encoding)
                self._rewrite(ScannedArticle(article, [], scan), report)
            return
        self.store.mark_rewritten(ref.location, prescan.written, prescan.out_hash, utc_now())
        if prescan.changed:
            report.articles_rewritten += 1
        else:
            report.articles_unchanged += 1


class _Starter:
    """Starts the pool: forked here and now, or in a thread while the pass goes on
    in-process (see ``_start_method``)."""

    def __init__(self, config: Config, workers: int) -> None:
        self.ahead = workers * _AHEAD  # chunks in flight
        self._pool: ProcessPoolExecutor | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        method = _start_method()
        if method == "fork":  # before any thread of ours exists
            self._start(config, workers, method)
            return
        threading.Thread(
            target=self._start, args=(config, workers, method), name="scan-pool-start", daemon=True
        ).start()

    def _start(self, config: Config, workers: int, method: str) -> None:
        try:
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                # Imported once, in the server the workers are forked from: each starts warm.
                context.set_forkserver_preload(["archiver.pipeline.worker"])
            log.info(
                "scanning with %d worker processes (%s)",
                workers,
                method,
                extra={"workers": workers, "start_method": method},
            )
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=init_worker,
                initargs=(config, os.getpid()),
            )
            for future in [self._pool.submit(scan_chunk, []) for _ in range(workers)]:
                future.result()  # every worker is up
            global _started_before
            _started_before = _started_before or method != "fork"  # a server is up
        except BaseException as exc:  # handed to the pass, which stops with it
            self._error = exc
        finally:
            self._ready.set()

    def pool(self) -> ProcessPoolExecutor | None:
        """The pool once it is up (None before); raises what stopped it from starting."""
        if not self._ready.is_set():
            return None
        if self._error is not None:
            if isinstance(self._error, BrokenProcessPool):
                raise self._error
            raise WorkerError(f"scan workers could not start: {self._error}") from self._error
        return self._pool

    def wait(self) -> None:
        """Wait until the pool is up (or failed to start)."""
        self._ready.wait()

    def shutdown(self) -> None:
        """End the workers (waiting for the start, if it is still going on)."""
        self._ready.wait()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _start_method() -> str:
    """How this process starts workers: "fork" when it runs no other thread (a
    command-line run). A forked worker exists in milliseconds with every module already
    imported, where a forkserver must first boot and import them (0.5-0.8 s here, half
    of a first run over 2,000 articles at 10 % density, spent in one process). A process
    with threads must not fork (a lock that another thread held stays held in the
    child), so it gets "forkserver", or "spawn" where there is none. Only Linux forks:
    macOS's system libraries are not safe to use in a forked child."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _archived_hash(previous: ArticleState | None) -> str | None:
    """The hash of the bytes last scanned without error (None: new, or failed)."""
    return previous.content_hash if previous and not previous.error else None


def _for_workers(ref: ArticleRef, previous: ArticleState | None, only_new: bool) -> bool:
    """Whether workers take this article: one of a directory; with ``only_new`` ("auto"),
    only if it has no bytes archived yet."""
    return ref.path is not None and not (only_new and _archived_hash(previous) is not None)


def _submit(pool: ProcessPoolExecutor, waiting: deque[_Chunk]) -> None:
    for chunk in waiting:
        if chunk.future is None:
            jobs = [job for _, _, _, job in chunk.items if job is not None]
            chunk.future = pool.submit(scan_chunk, jobs)
