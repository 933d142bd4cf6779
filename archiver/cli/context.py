"""What every ``embed-archiver`` command shares: the exit codes, the context that opens
the archive, the command group class, and the one place where an error that stops a
command becomes a one-line message and an exit code (``_Group.invoke``, ``_stop``).

Exit codes: 0 success, 1 some articles or posts failed, 2 usage or config error,
3 not found, 4 another instance holds the archive lock.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn

import click

from archiver.api import Archive
from archiver.config import load_config
from archiver.errors import ArchiverError, LockHeld
from archiver.storage.errors import DatabaseError, OperationalError
from archiver.storage.errors import Error as StorageError

log = logging.getLogger(__name__)

EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_LOCKED = 4


class Context:
    def __init__(
        self, config_path: str | None, log_format: str, db_path: str | None = None
    ) -> None:
        self.config_path = config_path
        self.log_format = log_format
        self.db_path = db_path
        self._database = db_path  # the archive's database, once known (for error messages)

    @contextmanager
    def archive(self, writes: bool = False) -> Iterator[Archive]:
        """Open the archive; ``writes`` for commands that change files or the database."""
        if writes and self.db_path is not None:
            # --db has no sources and no output folder: a writer would act on the
            # files the database names (e.g. restore into a live site from a backup).
            _fail("--db opens an archive for queries only; use --config for this command", 2)
        try:
            if self.db_path is not None:
                archive = self._open_database(self.db_path)
            else:
                archive = self._open_config(writes)
        except (DatabaseError, OSError) as exc:
            _fail(_setup_error(exc, self._database), EXIT_USAGE)
        try:
            yield archive
        except BrokenPipeError:
            raise  # the reader of our output left: not an error (see _Group)
        except (DatabaseError, OSError) as exc:
            # What stops a whole command (one bad article never does): a damaged
            # database, a full disk, an output folder that cannot be written. One
            # line saying what to do; -vv logs the traceback.
            log.debug("command failed", exc_info=True)
            _fail(_setup_error(exc, str(archive.config.database)), EXIT_USAGE)
        finally:
            with suppress(StorageError, OSError):  # closing a damaged database may fail too
                archive.close()

    def _open_config(self, writes: bool) -> Archive:
        config = load_config(self.config_path)
        self._database = str(config.database)
        if not writes and not config.database.exists():
            # Opening creates a database; for a query a missing one is a mistake.
            _fail(f"no archive database at {config.database} (run 'embed-archiver run' first)", 2)
        return Archive(config)

    @staticmethod
    def _open_database(db_path: str) -> Archive:
        # Opening creates a database; for queries a missing file is a mistake.
        if not Path(db_path).is_file():
            click.echo(f"error: no archive database at {db_path}", err=True)
            sys.exit(EXIT_USAGE)
        return Archive.open(db_path)


pass_context = click.make_pass_decorator(Context)


class _Group(click.Group):
    """The command group: a reader that closes the pipe early ends the command quietly."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _closed_pipe()
        except ArchiverError as exc:
            _stop(exc)


def _stop(exc: ArchiverError) -> NoReturn:
    """The one place an archiver error becomes a message and an exit code."""
    if isinstance(exc, LockHeld):
        # click's own "Error: ..." line, as when the lock was a click exception.
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    _fail(str(exc), exc.exit_code)


def _closed_pipe() -> NoReturn:
    """``export | head`` read what it wanted: exit 0, with no message.

    Python's advice for SIGPIPE: point stdout at /dev/null, so the interpreter's
    final flush of the unwritten rest does not fail again on the way out.
    """
    with suppress(OSError, ValueError, AttributeError):  # click's test runner has no fd
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def _setup_error(exc: BaseException, database: str | None) -> str:
    """A one-line message for an error that stops a whole command, with what to do."""
    where = f" {database}" if database else ""
    if isinstance(exc, OperationalError) and "locked" in str(exc):
        return (
            f"the archive database{where} is busy ({exc}); run again once the other writer is done"
        )
    if isinstance(exc, OperationalError) and "full" in str(exc):
        return (
            f"no space left for the archive database{where} ({exc}); free some space and "
            "run again (the last committed state is kept)"
        )
    if isinstance(exc, DatabaseError):
        return (
            f"the archive database{where} is damaged or not an embed-archiver database ({exc}); "
            "restore it from a backup, or move it away to start a new archive"
        )
    assert isinstance(exc, OSError)
    name = f": {exc.filename}" if exc.filename else ""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return (
            f"no space left on the device{name}; free some space and run again "
            "(every file is written atomically: nothing written before is lost)"
        )
    if exc.errno == errno.ENOTDIR:
        return f"{reason}{name}: a file is in the way of a folder; move it or choose another path"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{reason}{name}; check the permissions of that path"
    return f"{reason}{name}"


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
