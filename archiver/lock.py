"""One writer per archive: an ``flock`` on ``<database>.lock``, with the holder's pid inside.

The lock is held on an open file descriptor, so the kernel releases it when the
process dies, however it dies (``kill -9`` included): a stale lock file never
blocks the next start. The file itself is left in place on release; deleting it
would let two processes lock two different inodes under the same name.

Readers (``status``, ``posts list``, Datasette) never take the lock: SQLite in WAL
mode lets them read while the writer works.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from archiver.errors import LockHeld


def lock_path_for(database: str | os.PathLike[str]) -> Path:
    """``archive.db`` -> ``archive.db.lock``, in the same folder."""
    db = Path(database)
    return db.with_name(db.name + ".lock")


def read_holder_pid(path: Path) -> int | None:
    """The pid written in a lock file, or None if there is none (or it is unreadable)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def holder_alive(path: Path) -> int | None:
    """The pid of a live process named in the lock file, without touching the lock.

    For ``status``: probing the lock itself (even with a shared lock) could make a
    ``run`` starting at the same instant fail, so this only reads the pid. A holder
    truncates the file on a clean release; after a crash the pid is checked for life.
    """
    pid = read_holder_pid(path)
    if pid is None:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, owned by another user
        return pid
    return pid


class ArchiveLock:
    """An exclusive, non-blocking lock on an archive. ``acquire`` raises ``LockHeld``."""

    def __init__(self, database: str | os.PathLike[str]) -> None:
        self.path = lock_path_for(database)
        self._fd: int | None = None
        self._pid = 0  # the process that took it: a forked child's copy is not held

    @property
    def held(self) -> bool:
        return self._fd is not None and self._pid == os.getpid()

    def acquire(self) -> None:
        """Take the lock at once or raise ``LockHeld`` naming the holder's pid."""
        if self.held:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # os.open makes the descriptor non-inheritable, so a program we start never
        # keeps the lock alive after we exit (a forked child: see _close_in_child).
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockHeld(self.path, read_holder_pid(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd, self._pid = fd, os.getpid()
        _held_fds.add(fd)

    def release(self) -> None:
        """Drop the lock; the pid is erased so ``status`` does not report a stale holder."""
        fd, self._fd = self._fd, None
        if fd is None or self._pid != os.getpid():
            return  # a forked child's copy: closed at the fork (_close_in_child)
        _held_fds.discard(fd)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# The descriptors of the locks this process holds. A forked child (a scan worker) gets
# copies, and an flock lives as long as any copy is open: after a kill -9 of the run,
# its workers kept the archive locked until they noticed (up to a second), and a run
# started at once was refused. The descriptor is non-inheritable, but that only closes
# it across exec, not fork.
_held_fds: set[int] = set()


def _close_in_child() -> None:
    """In a forked child: close its copies of the lock descriptors, never unlock them
    (``flock(LOCK_UN)`` on a copy would release the parent's lock)."""
    for fd in _held_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_fds.clear()


os.register_at_fork(after_in_child=_close_in_child)


__all__ = ["ArchiveLock", "LockHeld", "holder_alive", "lock_path_for", "read_holder_pid"]
