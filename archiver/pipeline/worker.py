"""The worker side of the scan pool (pool.py): what runs in a scan worker process.

A worker gets the pass's config once (``init_worker``), then chunks of ``Job``: for each
it reads the article, hashes, decodes and scans it (``scan_article``), and sends back only
the hash, the encoding and the scan's spans, records and snapshots (a ``Prescan``). It
writes the copy of an article without embeds itself, atomically, so page bytes never
cross the process boundary. Nothing here touches the archive.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

from archiver import encoding
from archiver.config import Config
from archiver.detect_ssg import SsgOptions
from archiver.errors import ArticleReadError
from archiver.files import write_if_changed
from archiver.heap import release_freed_memory
from archiver.models import Article, ArticleRef, sha256_hex
from archiver.pipeline.scan import Prescan, scan_article
from archiver.pipeline.state import ssg_for
from archiver.rewrite import splice
from archiver.sources import article_from_bytes


@dataclass(frozen=True)
class Job:
    """One article for a worker."""

    ref: ArticleRef
    previous_hash: str | None  # bytes already archived: hash only, do not scan
    write_to: str | None  # the copy to write if it has no embeds (None: the main does)


_config: Config | None = None
_ssg_memo: dict[tuple[str, bool, bool, bool], SsgOptions] = {}


def init_worker(config: Config, main_pid: int) -> None:
    """A new worker's setup (the pool's initializer)."""
    global _config
    _config = config
    # Ctrl-C reaches the whole process group: the main process stops the pass and ends
    # the pool itself. (SIGTERM stays: it is how the pool ends the workers left when
    # one died.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits its parent's handlers; SIGTERM must end it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_with_main, args=(main_pid,), daemon=True).start()


def _exit_with_main(main_pid: int) -> None:
    """End this worker once the pass's process is gone (kill -9). An idle worker would
    wait on its task queue forever, and keep the forkserver alive with it: each worker
    holds the server's keep-alive pipe, so the server outlives the pass too."""
    while True:
        time.sleep(1)
        try:
            os.kill(main_pid, 0)  # signal 0: only asks whether it exists
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid now belongs to another user's process
            os._exit(1)


def scan_chunk(jobs: list[Job]) -> list[Prescan]:
    """Read, hash and scan each job's article (in a worker); write copies without embeds."""
    found = [_scan_one(job) for job in jobs]
    release_freed_memory()  # as the main process does after each batch
    return found


def _scan_one(job: Job) -> Prescan:
    assert _config is not None and job.ref.path is not None
    try:
        data = Path(job.ref.path).read_bytes()
    except OSError as exc:
        return Prescan(error=f"cannot read: {exc.strerror or exc}")
    try:
        article = article_from_bytes(job.ref, data)
    except ArticleReadError as exc:
        return Prescan(error=str(exc))
    except Exception as exc:  # one bad article is reported, the run goes on
        return Prescan(error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())
    found = Prescan(content_hash=article.content_hash, encoding=article.encoding)
    if found.content_hash == job.previous_hash:
        return found  # the main process decides whether anything is left to do
    try:
        budget = _config.scan.article_time_budget_seconds
        result = scan_article(article, budget, ssg_for(_config, job.ref, _ssg_memo))
    except Exception as exc:  # one bad article is reported, the run goes on
        found.error, found.scanned = f"{type(exc).__name__}: {exc}", True
        found.trace = traceback.format_exc()
        return found
    if not result.spans and job.write_to is not None:
        _write_copy(found, article, result.scan_bytes, Path(job.write_to))
    # The page's bytes stay here: the main process reads them again if it needs them.
    found.result = replace(result, scan_bytes=b"")
    return found


def _write_copy(found: Prescan, article: Article, scan_bytes: bytes, path: Path) -> None:
    """The copy of an article without embeds, as ``OutputsMixin._rewrite`` makes it."""
    assert _config is not None
    data = encoding.from_scan_bytes(splice(scan_bytes, []), article.encoding)
    try:
        found.changed = write_if_changed(path, data, fsync=_config.output.fsync)
    except OSError:
        return  # the main process writes it, and reports the error in its own words
    found.written = str(path)
    found.out_hash = found.content_hash if data == article.data else sha256_hex(data)
