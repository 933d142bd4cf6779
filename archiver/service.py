"""``embed-archiver serve``: the archiver as a long-running service.

The scheduler (APScheduler 3.x) only decides *when* to look; what is due lives in
the database. Each job calls exactly what the CLI calls (``Archive.run`` for a
scan, ``Archive.recheck`` for due posts), so a restart loses nothing: the next
scan finds whatever the last one did not finish, and posts keep their
``next_check_at``.

* One instance per archive: the service holds ``archive.db.lock`` for its lifetime
  (``Archive.lock``), and a ``run`` started meanwhile exits 4.
* Jobs never overlap: one worker thread, ``max_instances=1``; ``coalesce=True`` and
  no misfire grace limit mean a run missed while the machine slept happens once,
  late, instead of N times or never.
* SIGTERM/SIGINT set ``Archive.stop``: the pipeline stops between units of work
  (an article batch, a post check), each of which is one transaction. If the
  current unit is still busy after ``stop_timeout`` seconds (a slow network call),
  the process exits anyway: that is as safe as a crash, which the archive is built
  to survive (transactions, atomic file writes), and the next start resumes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archiver.api import Archive
from archiver.clock import utc_now
from archiver.config import ScheduleConfig, parse_duration
from archiver.files import is_temp_name
from archiver.models import RunReport

log = logging.getLogger(__name__)

DEFAULT_STOP_TIMEOUT = 8.0  # seconds; systemd's TimeoutStopSec=15 leaves headroom
# Left-over temp files of a crashed run (atomic writes, media downloads) older than
# this are removed at start. Younger ones could belong to a writer we do not know of.
STALE_TEMP_AGE = 600.0
# At most this many failed posts are logged one per line after a job.
MAX_FAILURE_LINES = 50


def scan_trigger(schedule: ScheduleConfig) -> BaseTrigger:
    """``scan_cron`` (a crontab line, in the machine's local time) when set, else
    every ``scan_interval``."""
    if schedule.scan_cron:
        return CronTrigger.from_crontab(schedule.scan_cron)
    return IntervalTrigger(seconds=parse_duration(schedule.scan_interval))


def recheck_trigger(schedule: ScheduleConfig) -> BaseTrigger:
    """Every ``recheck_interval``: look for posts whose ``next_check_at`` has passed."""
    return IntervalTrigger(seconds=parse_duration(schedule.recheck_interval))


def sweep_temp_files(output_dir: Path, media_root: Path, older_than: float) -> int:
    """Remove temp files a killed process left behind; return how many.

    Every file is written through ``archiver.files.TempFile`` (a temp file beside its
    target, renamed once complete); a ``kill -9`` between create and rename leaves
    one, which ``is_temp_name`` recognises. They are never referenced, so removing
    them is safe.
    """
    if not output_dir.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for folder, _dirs, files in os.walk(output_dir):
        in_media = Path(folder) == media_root
        for name in files:
            if not is_temp_name(name, in_media_store=in_media):
                continue
            path = Path(folder) / name
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
    return removed


class Service:
    """Runs the scan and recheck jobs on a schedule until ``stop()`` or a signal."""

    def __init__(self, archive: Archive, stop_timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        self.archive = archive
        self.stop_timeout = stop_timeout
        self._stopping = threading.Event()
        self._abandon = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # -- lifecycle -----------------------------------------------------------------

    def serve(self) -> int:
        """Hold the lock, run the jobs until stopped; return the process exit code.

        Raises ``archiver.lock.LockHeld`` at once if another process has the archive.
        """
        with self.archive.lock():  # also marks runs left 'running' by a dead process
            config = self.archive.config
            swept = sweep_temp_files(config.output.dir, config.media_root, STALE_TEMP_AGE)
            if swept:
                log.info("removed %d stale temp files", swept, extra={"swept": swept})
            self._install_signal_handlers()
            self._schedule()
            schedule = config.schedule
            log.info(
                "serving %s (pid %d): scan %s, recheck every %s",
                config.database,
                os.getpid(),
                f"cron '{schedule.scan_cron}'"
                if schedule.scan_cron
                else f"every {schedule.scan_interval}",
                schedule.recheck_interval,
                extra={
                    "database": str(config.database),
                    "pid": os.getpid(),
                    "scan_interval": schedule.scan_interval,
                    "scan_cron": schedule.scan_cron,
                    "recheck_interval": schedule.recheck_interval,
                },
            )
            self.scheduler.start()
            # Wake up now and then: signal handlers run on the main thread between waits.
            while not self._stopping.wait(0.5):
                pass
            return self._shutdown()

    def stop(self) -> None:
        """Stop taking new work; the current unit finishes (or is abandoned at the timeout)."""
        self._stopping.set()
        self.archive.stop.set()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # embedded use: the caller calls stop()
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stopping.is_set():
            # A second signal: the operator does not want to wait for the current unit.
            self._abandon.set()
            return
        log.info(
            "%s received: stopping after the current unit of work",
            signal.Signals(signum).name,
            extra={"signal": signal.Signals(signum).name},
        )
        self.stop()

    def _shutdown(self) -> int:
        # No new jobs; queued ones see archive.stop and return at once.
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.stop_timeout
        while not self._idle.wait(0.2):
            if self._abandon.is_set() or time.monotonic() >= deadline:
                log.warning(
                    "current job still busy after %.1fs: abandoning it; the next start "
                    "resumes (every unit of work is one transaction)",
                    self.stop_timeout,
                    extra={"abandoned": True},
                )
                _flush_logs()
                # Like a crash, which the archive survives: an open transaction is
                # rolled back by SQLite, files are written atomically. The run row
                # stays 'running' and is marked interrupted at the next start.
                os._exit(0)
        log.info("stopped", extra={"stopped": True})
        return 0

    # -- jobs ----------------------------------------------------------------------

    def _schedule(self) -> None:
        schedule = self.archive.config.schedule
        # The first scan runs at once; later ones follow the trigger.
        self.scheduler.add_job(
            self._job,
            scan_trigger(schedule),
            args=["scan", self.archive.run],
            id="scan",
            name="scan sources",
            next_run_time=datetime.now().astimezone(),
        )
        self.scheduler.add_job(
            self._job,
            recheck_trigger(schedule),
            args=["recheck", self._recheck_if_due],
            id="recheck",
            name="recheck due posts",
        )

    def _recheck_if_due(self) -> RunReport | None:
        """Run ``Archive.recheck`` only when some post is due: an idle service does not
        add a run row every few minutes for years."""
        names = self.archive.fetching_platforms()
        now = utc_now()
        if not any(self.archive.store.posts_due(now, limit=1, platform=n) for n in names):
            return None
        return self.archive.recheck()

    def _job(self, kind: str, work: Callable[[], RunReport | None]) -> None:
        """Run one job and log one line about it; never raises (the service goes on)."""
        if self.archive.stop.is_set():
            return
        self._idle.clear()
        try:
            self._run_job(kind, work)
        finally:
            # Only now may a shutdown proceed: the job's log lines are written.
            self._idle.set()

    def _run_job(self, kind: str, work: Callable[[], RunReport | None]) -> None:
        started_at = utc_now()
        started = time.monotonic()
        try:
            report = work()
        except Exception as exc:
            log.exception(
                "%s failed after %.2fs: %s",
                kind,
                time.monotonic() - started,
                exc,
                extra={"job": kind, "outcome": "failed", "duration_s": _secs(started)},
            )
            return
        if report is None:
            log.debug("%s: nothing due", kind, extra={"job": kind, "outcome": "idle"})
            return
        self._log_report(kind, report, started, started_at)

    def _log_report(self, kind: str, report: RunReport, started: float, started_at: str) -> None:
        store = self.archive.store
        runs = store.recent_runs(1)
        run = runs[0] if runs else {}
        data = report.as_dict()
        errors = data.pop("errors")
        fields: dict[str, Any] = {
            "job": kind,
            "run_id": run.get("id"),
            "outcome": run.get("outcome"),
            "duration_s": _secs(started),
            "error_count": len(errors),
            **{key: value for key, value in data.items() if key != "duration_s"},
        }
        log.info(
            "%s %s in %.2fs: %d articles scanned, %d skipped, %d embeds, %d new posts, "
            "%d updated, %d fetched (%d failed), %d rewritten, %d removed, %d errors",
            kind,
            fields["outcome"],
            fields["duration_s"],
            data["articles_scanned"],
            data["articles_skipped"],
            data["embeds_found"],
            data["posts_new"],
            data["posts_updated"],
            data["posts_fetched"],
            data["fetch_failures"],
            data["articles_rewritten"],
            data["articles_removed"],
            len(errors),
            extra=fields,
        )
        for error in errors:
            log.warning(
                "%s: %s",
                error["article"],
                error["reason"],
                extra={"job": kind, "article": error["article"], "reason": error["reason"]},
            )
        if report.fetch_failures:
            for post in store.failed_posts(MAX_FAILURE_LINES, since=started_at):
                log.warning(
                    "post %s: %s",
                    post["key"],
                    post["last_error"],
                    extra={
                        "job": kind,
                        "post": post["key"],
                        "reason": post["last_error"],
                        "check_failures": post["check_failures"],
                        "next_check_at": post["next_check_at"],
                    },
                )


def _secs(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        # Nothing useful to do about a failing handler while exiting.
        with contextlib.suppress(Exception):
            handler.flush()
    sys.stderr.flush()


def serve(archive: Archive, stop_timeout: float = DEFAULT_STOP_TIMEOUT) -> int:
    """Run ``archive`` as a service until SIGTERM/SIGINT; return the exit code."""
    return Service(archive, stop_timeout=stop_timeout).serve()


__all__ = ["Service", "recheck_trigger", "scan_trigger", "serve", "sweep_temp_files"]
