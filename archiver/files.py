"""File-system primitives shared by every layer that writes files under a chosen root.

Every file the archiver writes goes through ``TempFile``: a temp file beside the
target, renamed over it once complete, so readers see the old file or the new one,
never half. All temp files share one name scheme, ``.<name>.<random>.tmp``
(``temp_prefix``), which ``is_temp_name`` recognises: the sweep that removes what a
``kill -9`` left behind asks it, and nothing else knows the shape.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def safe_join(root: Path, relpath: str) -> Path:
    """``root/relpath``, refusing absolute paths and '..' that would leave ``root``."""
    candidate = (root / relpath).resolve()
    root_resolved = root.resolve()
    if candidate != root_resolved and root_resolved not in candidate.parents:
        raise ValueError(f"refusing to write outside {root}: {relpath!r}")
    return candidate


# -- temp names ---------------------------------------------------------------------------

TEMP_SUFFIX = ".tmp"
# A file name may hold 255 bytes (NAME_MAX on ext4, xfs, btrfs, tmpfs, APFS). The
# temp name adds ".", ".", 8 random characters and ".tmp" to the target's name, so
# a 250-byte article name would not fit: its part of the temp name is cut to this.
NAME_MAX = 255
_TEMP_NAME_ROOM = NAME_MAX - len("..") - 8 - len(TEMP_SUFFIX)
# Media downloads of earlier versions were named ``.part-*`` in the media store; a
# kill may have left some, so the sweep still knows them there.
LEGACY_MEDIA_TEMP_PREFIX = ".part-"


def temp_prefix(name: str) -> str:
    """``.NAME.`` for the temp file of ``name``, cut (at a character boundary) so the
    whole temp name stays within NAME_MAX bytes."""
    if len(os.fsencode(name)) <= _TEMP_NAME_ROOM:
        return f".{name}."  # the usual case: no need to measure it char by char
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


def is_temp_name(name: str, in_media_store: bool = False) -> bool:
    """Whether a file name is one of our temp files (``.<name>.<random>.tmp``); in the
    media store, also the ``.part-*`` downloads of earlier versions."""
    if name.startswith(".") and name.endswith(TEMP_SUFFIX):
        return True
    return in_media_store and name.startswith(LEGACY_MEDIA_TEMP_PREFIX)


# -- the one atomic writer ----------------------------------------------------------------


class TempFile:
    """A binary temp file in ``folder``, named for ``name``, to be committed or discarded.

    ``atomic_file`` wraps it for a write that fits in one ``with`` block; a write that
    spans calls (a media download streamed chunk by chunk, named after its hash only
    at the end) holds one and calls ``commit`` or ``discard`` itself.
    """

    def __init__(self, folder: Path, name: str) -> None:
        fd, path = _create_temp(os.fspath(folder), temp_prefix(name))
        self.path = Path(path)
        self.handle: BinaryIO = os.fdopen(fd, "wb")

    def commit(self, target: Path, mode: int | None = None, fsync: bool = False) -> None:
        """Rename the complete file to ``target`` (same folder, so the rename is atomic).

        ``mode``: the file's permissions (default ``file_mode_for(target)``); ``fsync``
        flushes it to disk before the rename. On failure the temp file is removed.
        """
        try:
            if fsync:
                self.handle.flush()
                os.fsync(self.handle.fileno())
            self.handle.close()
            os.chmod(self.path, file_mode_for(target) if mode is None else mode)
            os.replace(self.path, target)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Close and remove the temp file (nothing appears at any target)."""
        self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


@contextlib.contextmanager
def atomic_file(path: Path, fsync: bool = False) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only once it is complete.

    Readers see the old file or the new one, never half: the temp file lives in
    the same folder (same filesystem, so the rename is atomic) and is removed if
    writing fails. ``fsync`` also flushes it to disk before the rename.
    """
    temp = TempFile(path.parent, path.name)
    try:
        yield temp.handle
    except BaseException:
        temp.discard()
        raise
    temp.commit(path, fsync=fsync)


def write_atomic(path: Path, data: bytes, fsync: bool = False, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_file``).

    The same temp file, rename and clean-up as ``TempFile``, on the raw descriptor: the
    whole content is at hand, so a buffered file object would only add its own cost to
    every article. ``mode``: as ``TempFile.commit``.
    """
    target = os.fspath(path)
    folder, name = os.path.split(target)
    fd, temp = _create_temp(folder or ".", temp_prefix(name))
    try:
        try:
            view = memoryview(data)
            while view:  # a regular file takes it all at once but for a signal or a full disk
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temp, file_mode_for(path) if mode is None else mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def write_if_changed(path: Path, data: bytes, fsync: bool = False) -> bool:
    """Write atomically unless the file already holds exactly these bytes."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        # A new file: the mode open() would give (file_mode_for), without a second stat.
        write_atomic(path, data, fsync=fsync, mode=_NEW_FILE_MODE)
        return True
    if stat.st_size == len(data) and path.read_bytes() == data:
        return False
    write_atomic(path, data, fsync=fsync, mode=stat.st_mode & 0o7777)
    return True


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
_NEW_FILE_MODE = 0o666 & ~_UMASK

# The random part of temp names: a per-process random start, then a counter. Unique
# within the process without drawing random bytes per file (what tempfile.mkstemp
# does, with an os.path.join and a retry loop around it); O_EXCL still refuses a name
# another process (or a killed one, with a recycled pid) left, and then a fresh random
# token is drawn. Eight hex digits, as _TEMP_NAME_ROOM counts.
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_temp_tokens = itertools.count(secrets.randbits(32))


def _reseed_temp_tokens() -> None:
    # A forked child would otherwise walk the parent's sequence of names.
    global _temp_tokens
    _temp_tokens = itertools.count(secrets.randbits(32))


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reseed_temp_tokens)


def _create_temp(folder: str, prefix: str) -> tuple[int, str]:
    """Create ``folder/PREFIX<token>.tmp`` (0600, O_EXCL), and the folder if missing;
    return its descriptor and path."""
    token = next(_temp_tokens) & 0xFFFFFFFF
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{token:08x}{TEMP_SUFFIX}")
        try:
            return os.open(path, _TEMP_FLAGS, 0o600), path
        except FileExistsError:
            token = secrets.randbits(32)
        except FileNotFoundError:
            # The folder is missing: made once here instead of an mkdir per file.
            os.makedirs(folder, exist_ok=True)
    raise FileExistsError(f"no free temp name in {folder}")


__all__ = [
    "NAME_MAX",
    "TEMP_SUFFIX",
    "TempFile",
    "atomic_file",
    "file_mode_for",
    "is_temp_name",
    "safe_join",
    "temp_prefix",
    "write_atomic",
    "write_if_changed",
]
