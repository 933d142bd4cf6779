"""The archiver's exceptions: one tree, so a caller can catch ``ArchiverError`` alone.

Nothing here knows about the command line; ``archiver.cli_common`` maps these to exit
codes in one place.
"""

from __future__ import annotations

from pathlib import Path


class ArchiverError(Exception):
    """The root of every error the archiver raises on purpose.

    ``exit_code`` is the documented exit status of a command stopped by this error: a
    plain number the CLI reads, so the library needs no CLI code to say it.
    """

    exit_code = 2


class ArticleReadError(ArchiverError):
    """An article could not be read or is not text; the run goes on without it."""


class LockHeld(ArchiverError):
    """Another process holds the archive lock (the CLI exits 4 with this message)."""

    exit_code = 4

    def __init__(self, path: Path, holder_pid: int | None) -> None:
        self.path = path
        self.holder_pid = holder_pid
        who = f"process {holder_pid}" if holder_pid else "another process"
        self.message = (
            f"the archive is locked by {who} (lock file {path}); another embed-archiver "
            f"run or serve is working on it. Wait for it to finish, or stop it first."
        )
        super().__init__(self.message)


__all__ = ["ArchiverError", "ArticleReadError", "LockHeld"]
