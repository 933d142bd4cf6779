"""A folder of article files, walked recursively with include/exclude globs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from archiver.config import DirectorySource
from archiver.errors import UnreadableFolderError as UnreadableFolderError
from archiver.models import ArticleRef

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob with ``**`` into a regex over '/'-separated relative paths.

    ``**/`` matches zero or more folders, so ``**/*.html`` also matches ``a.html``
    at the top; ``*`` and ``?`` never cross a '/'.
    """
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(relpath: str, include: list[str], exclude: list[str]) -> bool:
    if not any(glob_regex(p).match(relpath) for p in include):
        return False
    return not any(glob_regex(p).match(relpath) for p in exclude)


def iter_directory(
    source: DirectorySource, name: str, base: Path, skip: tuple[Path, ...] = ()
) -> Iterator[ArticleRef]:
    """Yield the articles under ``source.path`` in a stable (sorted) order.

    An article's location is its path relative to ``base`` (the config's
    folder) when it lies below it, so archives stay valid if the tree moves.

    Symlinked folders are not followed, so a link cannot pull in files from
    outside the source or loop forever.
    """
    root = Path(source.path)
    if not root.is_dir():
        raise FileNotFoundError(f"source folder {root} does not exist")
    skipped = {str(Path(p).resolve()) for p in skip}
    prefix = "" if name.startswith("directory-") else f"{name}/"
    unreadable: list[str] = []
    # Where the root lies relative to base, worked out once: the walk yields a million
    # articles on a big site, and pathlib's relative_to per article was a tenth of an
    # unchanged article's cost.
    root_location = _root_location(root, base)
    # str(root / relpath) without a pathlib join per article ("." joins to the bare name).
    root_prefix = "" if str(root) == "." else str(root).rstrip("/") + "/"
    for relpath in _walk(root_prefix, "", skipped, unreadable):
        if not matches(relpath, source.include, source.exclude):
            continue
        stat = os.lstat(root_prefix + relpath)
        if root_location is None:
            location = _location(root / relpath, base)
        else:
            location = relpath if root_location == "." else f"{root_location}/{relpath}"
        yield ArticleRef(
            location=location,
            source=name,
            path=root_prefix + relpath,
            output_relpath=f"{prefix}{relpath}",
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
        )
    if unreadable:
        # Raised after the readable articles were yielded, so they are archived; the
        # caller records the error and, the listing being incomplete, marks nothing
        # of this source as removed.
        raise UnreadableFolderError(root, unreadable)


def _walk(folder: str, rel: str, skipped: set[str], unreadable: list[str]) -> Iterator[str]:
    """The relative paths of the files under ``folder`` (``rel`` is its own), sorted by
    name at each level; folders in ``skipped`` are not entered."""
    # Names only, not the DirEntry objects: each keeps its stat once asked, and a
    # folder of 5,000 articles held 4 MB of them until its last article was read.
    names: list[str] = []
    folders: set[str] = set()
    try:
        with os.scandir(folder or ".") as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    folders.add(entry.name)
                    names.append(entry.name)
                elif entry.is_file(follow_symlinks=False):
                    names.append(entry.name)
    except OSError as exc:
        # Never "empty": a folder we cannot list may hold articles that still exist.
        unreadable.append(f"{rel or '.'} ({exc.strerror or exc})")
        return
    names.sort()
    for name in names:
        if name not in folders:
            yield rel + name
            continue
        path = folder + name
        # Our own output (rewritten copies, local copy pages) is never a source.
        if os.path.realpath(path) not in skipped:
            yield from _walk(path + "/", rel + name + "/", skipped, unreadable)


def is_markdown(path: str) -> bool:
    return path.lower().endswith(MARKDOWN_SUFFIXES)


def _root_location(root: Path, base: Path) -> str | None:
    """What ``_location`` makes of ``root``, when every article under it gets that plus
    its own relative path; None when base lies inside the root (then some articles are
    below base and others are not: each is worked out on its own)."""
    if _below(root, base):
        return _location(root, base)
    if _below(base, root):
        return None
    return root.as_posix()


def _below(path: Path, base: Path) -> bool:
    """Whether ``path`` is ``base`` or lies below it (lexically, as ``_location`` sees it)."""
    return path == base or base in path.parents


def _location(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()
