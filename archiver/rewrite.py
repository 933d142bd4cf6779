"""Splice rendered embeds into an article's bytes, and link between written files.

Only the bytes inside each embed's span change; the rest of the article is
copied as is, never re-serialized.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from archiver.errors import SpliceError as SpliceError

# The atomic writer moved to archiver.files (the one primitive, with the one temp-name
# scheme); these names stay importable from here for callers not yet moved.
from archiver.files import atomic_file as atomic_file
from archiver.files import file_mode_for as file_mode_for
from archiver.files import temp_prefix as temp_prefix
from archiver.files import write_atomic as write_atomic
from archiver.files import write_if_changed as write_if_changed


def splice(data: bytes, replacements: Sequence[tuple[int, int, bytes]]) -> bytes:
    """Replace each ``data[start:end]`` with its bytes; spans must be sorted and disjoint."""
    parts: list[bytes] = []
    position = 0
    for start, end, replacement in replacements:
        if start < position or end < start or end > len(data):
            raise SpliceError(f"bad span {start}:{end} (previous end {position}, size {len(data)})")
        parts.append(data[position:start])
        parts.append(replacement)
        position = end
    parts.append(data[position:])
    return b"".join(parts)


def relative_href(from_file: Path, to_file: Path) -> str:
    """A URL path from the page at ``from_file`` to ``to_file``, percent-encoded."""
    rel = os.path.relpath(to_file, start=from_file.parent)
    # As bytes: a file name that is not UTF-8 is quoted byte for byte (%E9), as a
    # web server serving that file expects.
    return quote(os.fsencode(rel.replace(os.sep, posixpath.sep)))
