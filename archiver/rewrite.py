"""Splice rendered embeds into an article's bytes and write files atomically.

Only the bytes inside each embed's span change; the rest of the article is
copied as is, never re-serialized.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from archiver.errors import SpliceError as SpliceError


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


@contextlib.contextmanager
def atomic_file(path: Path, fsync: bool = False) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only once it is complete.

    Readers see the old file or the new one, never half: the temp file lives in
    the same folder (same filesystem, so the rename is atomic) and is removed if
    writing fails. ``fsync`` also flushes it to disk before the rename.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp_name, file_mode_for(path))
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


# A file name may hold 255 bytes (NAME_MAX on ext4, xfs, btrfs, tmpfs, APFS). The
# temp name adds ".", ".", 8 random characters and ".tmp" to the target's name, so
# a 250-byte article name would not fit: its part of the temp name is cut to this.
NAME_MAX = 255
_TEMP_NAME_ROOM = NAME_MAX - len("..") - 8 - len(".tmp")


def temp_prefix(name: str) -> str:
    """``.NAME.`` for the temp file of ``name``, cut (at a character boundary) so the
    whole temp name stays within NAME_MAX bytes; the shape ``.*.tmp`` is kept for the
    sweep of stale temp files."""
    kept: list[str] = []
    size = 0
    for char in name:
        # fsencode: the bytes on disk (a name that is not UTF-8 keeps its raw bytes).
        width = len(os.fsencode(char))
        if size + width > _TEMP_NAME_ROOM:
            break
        kept.append(char)
        size += width
    return f".{''.join(kept)}."


def write_atomic(path: Path, data: bytes, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_file``)."""
    with atomic_file(path, fsync=fsync) as handle:
        handle.write(data)


def file_mode_for(path: Path) -> int:
    """The mode a file written to ``path`` should have.

    The mode of the file being replaced (in-place mode), else what ``open()`` would
    give under the process umask: temp files are created 0600, which a web server
    running as another user could not read.
    """
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def _read_umask() -> int:
    # The umask can only be read by setting it; done once, at import.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def write_if_changed(path: Path, data: bytes, fsync: bool = False) -> bool:
    """Write atomically unless the file already holds exactly these bytes."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data, fsync=fsync)
    return True


def relative_href(from_file: Path, to_file: Path) -> str:
    """A URL path from the page at ``from_file`` to ``to_file``, percent-encoded."""
    rel = os.path.relpath(to_file, start=from_file.parent)
    # As bytes: a file name that is not UTF-8 is quoted byte for byte (%E9), as a
    # web server serving that file expects.
    return quote(os.fsencode(rel.replace(os.sep, posixpath.sep)))
