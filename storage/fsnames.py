"""File names that are not valid UTF-8, on their way into and out of the archive.

On POSIX a file name is bytes. Python hands a name that is not valid UTF-8 (a
Latin-1 ``café.html`` is ``b"caf\\xe9.html"``) to us as text with lone surrogates
(``"caf\\udce9.html"``, PEP 383), which SQLite, JSON and terminals refuse. Such a
name is kept two ways:

- as an article's identity (its location, shown to people): readable text, each
  undecodable byte written ``\\xNN`` (``caf\\xe9.html``);
- as a path to open again (``articles.path`` and ``output_path``): the exact bytes,
  stored as a BLOB, so the same file is found and written, byte for byte.

Names that are valid UTF-8 (all but a few) are stored as plain text, unchanged.
"""

from __future__ import annotations

import os


def is_representable(text: str) -> bool:
    """True if ``text`` is valid Unicode (no lone surrogates from undecodable bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def representable(text: str) -> str:
    """``text`` itself, or (for a name with undecodable bytes) the name with each such
    byte written ``\\xNN``: unique for a given name, and safe to store and print."""
    if is_representable(text):
        return text
    return os.fsencode(text).decode("utf-8", errors="backslashreplace")


def path_to_db(path: str | None) -> str | bytes | None:
    """What to store for a file path: the text, or its exact bytes when it is not UTF-8."""
    if path is None or is_representable(path):
        return path
    return os.fsencode(path)


def path_from_db(value: str | bytes | None) -> str | None:
    """A stored file path as a name ``open()`` finds (the inverse of ``path_to_db``)."""
    if isinstance(value, bytes):
        return os.fsdecode(value)
    return value


def path_shown(value: str | bytes | None) -> str | None:
    """A stored file path as text fit for people, JSON and CSV."""
    if isinstance(value, bytes):
        return representable(os.fsdecode(value))
    return value
