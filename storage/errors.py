"""The database's own errors, named here so that no module outside ``storage/`` imports
``sqlite3``: the CLI maps them to exit codes, the pipeline tells an archive-wide failure
from one article's (``archiver.pipeline.archive_wide``).

They are SQLite's classes, re-exported: a second backend would raise (subclasses of)
these, or map its own errors to them.
"""

from __future__ import annotations

from sqlite3 import DatabaseError, Error, OperationalError

__all__ = ["DatabaseError", "Error", "OperationalError"]
