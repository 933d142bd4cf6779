"""The archiver's exceptions: one tree, so a caller can catch ``ArchiverError`` alone.

::

    ArchiverError                     exit code 2 unless said otherwise
    ├── ConfigError                   the config file is missing or invalid
    ├── ProjectError                  a project file cannot be written or edited as asked
    ├── TargetError (ValueError)      a target of ``add`` is not a URL or readable file
    ├── NotFoundError (LookupError)   no post or article matches (exit code 3)
    ├── QueryError (ValueError)       a query argument is invalid
    ├── SchemaTooNewError             the archive was written by a newer embed-archiver
    ├── LockHeld                      another process holds the archive lock (exit code 4)
    ├── ArticleReadError              an article could not be read or is not text
    ├── UnreadableFolderError (OSError)  folders of a source could not be listed
    ├── OutputPathError (ValueError)  an article's output path cannot be used
    ├── SpliceError (ValueError)      spans overlap or fall outside the article
    ├── DetectionTimeout              detection of one page ran past its time budget
    └── FetchError                    in ``archiver.fetch.errors``: a request failed for good
        ├── ArticleFetchError         a sitemap or feed could not be fetched
        └── Refused                   a request or body we will not accept
            ├── BodyTooLarge, UnsupportedEncoding, HostRefused
            └── MediaRejected         (``archiver.fetch.media``)

The builtin base in brackets is kept from before the tree, so code that caught
``ValueError``, ``LookupError`` or ``OSError`` still does. Each class is also importable
from the module that raises it (``archiver.config.ConfigError``, ``archiver.api.NotFoundError``…).

``exit_code`` is the exit status of a command stopped by the error: a plain number the
CLI reads in one place (``archiver.cli.context``), so this module needs no CLI code.
"""

from __future__ import annotations

from pathlib import Path


class ArchiverError(Exception):
    """The root of every error the archiver raises on purpose."""

    exit_code = 2


class ConfigError(ArchiverError):
    """The configuration file is missing or invalid; the message names the file and key."""


class ProjectError(ArchiverError):
    """A project file cannot be written or edited as asked; the message says why."""


class TargetError(ArchiverError, ValueError):
    """A target of ``add`` is not an http(s) URL or a readable file; nothing was done."""


class NotFoundError(ArchiverError, LookupError):
    """No post or article matches what was asked for."""

    exit_code = 3


class QueryError(ArchiverError, ValueError):
    """A query argument is invalid (bad date, bad FTS syntax with --raw, unknown order)."""


class SchemaTooNewError(ArchiverError):
    """The archive was written by a newer embed-archiver."""


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


class ArticleReadError(ArchiverError):
    """An article could not be read or is not text; the run goes on without it."""


class UnreadableFolderError(ArchiverError, OSError):
    """Folders of a source could not be listed: the walk is incomplete, so no article
    of the source may be taken as deleted."""

    def __init__(self, root: Path, problems: list[str]) -> None:
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        super().__init__(
            f"cannot read {len(problems)} folder(s) of source {root}: {shown}. Their articles "
            "are kept as they were (not marked removed); fix the folder permissions"
        )


class OutputPathError(ArchiverError, ValueError):
    """An article's output path cannot be used (it would overwrite the archive's own files)."""


class SpliceError(ArchiverError, ValueError):
    """Spans overlap or fall outside the article."""


class DetectionTimeout(ArchiverError):
    """Detection of one page ran past its time budget (the page is left unscanned)."""


__all__ = [
    "ArchiverError",
    "ArticleReadError",
    "ConfigError",
    "DetectionTimeout",
    "LockHeld",
    "NotFoundError",
    "OutputPathError",
    "ProjectError",
    "QueryError",
    "SchemaTooNewError",
    "SpliceError",
    "TargetError",
    "UnreadableFolderError",
]
