"""Articles named on the command line (``embed-archiver add URL|PATH…``).

Each target becomes the same ``ArticleRef`` a configured source would yield for it,
when one does (a file inside a directory source's folder, a URL listed by a ``urls``
source), so a later ``run`` sees the same article, not a second copy. Anything else
belongs to the ``add`` source (``added`` once kept in the config with ``--keep``).
"""

from __future__ import annotations

import re
from pathlib import Path

from archiver.config import Config, DirectorySource, UrlsSource
from archiver.errors import TargetError as TargetError
from archiver.models import ArticleRef
from archiver.sources import source_name
from archiver.sources.directory import matches
from archiver.sources.remote import clean_url, output_relpath

ONE_OFF_SOURCE = "add"  # articles added without --keep: no later run rescans them
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(target: str) -> bool:
    return bool(_SCHEME.match(target))


def resolve_targets(
    config: Config, targets: list[str], kept_source: str | None = None, cwd: Path | None = None
) -> list[ArticleRef]:
    """The article of each target, in order, each once.

    Paths are relative to ``cwd`` (the current folder). Raises ``TargetError`` naming
    every bad target before anything is archived. ``kept_source`` names the source
    URLs outside every configured source belong to (``--keep``).
    """
    cwd = cwd or Path.cwd()
    base = config.config_path.parent if config.config_path else cwd
    refs: dict[str, ArticleRef] = {}
    problems: list[str] = []
    for target in targets:
        try:
            if is_url(target):
                ref = _url_ref(config, target, kept_source or ONE_OFF_SOURCE)
            else:
                ref = _file_ref(config, (cwd / target).resolve(), base)
        except TargetError as exc:
            problems.append(f"{target}: {exc}")
            continue
        refs.setdefault(ref.location, ref)
    if problems:
        raise TargetError("; ".join(problems))
    return list(refs.values())


def _url_ref(config: Config, target: str, fallback: str) -> ArticleRef:
    url = clean_url(target)
    if url is None:
        raise TargetError("not an http(s) URL")
    name = fallback
    for index, source in enumerate(config.sources):
        if isinstance(source, UrlsSource) and url in {clean_url(u) for u in source.urls}:
            name = source_name(source, index)
            break
    try:
        relpath = output_relpath(url)
    except ValueError as exc:
        raise TargetError(str(exc)) from exc
    return ArticleRef(location=url, source=name, url=url, output_relpath=relpath)


def _file_ref(config: Config, path: Path, base: Path) -> ArticleRef:
    if not path.is_file():
        raise TargetError("no such file" if not path.exists() else "not a file")
    output = config.output.dir.resolve()
    if not config.output.in_place and (path == output or output in path.parents):
        raise TargetError(f"it is in the output folder {output}: a rewritten copy, not a source")
    stat = path.stat()
    location = _relative(path, base)
    for index, source in enumerate(config.sources):
        if not isinstance(source, DirectorySource):
            continue
        root = Path(source.path).resolve()
        if root not in path.parents:
            continue
        relpath = path.relative_to(root).as_posix()
        if not matches(relpath, source.include, source.exclude):
            continue
        # Exactly what iter_directory yields for this file.
        name = source_name(source, index)
        prefix = "" if name.startswith("directory-") else f"{name}/"
        return ArticleRef(
            location=location,
            source=name,
            path=str(path),
            output_relpath=f"{prefix}{relpath}",
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
        )
    # Outside every source: below the config's folder its copy mirrors that path;
    # elsewhere it goes to added/NAME (a clash gets a suffix, see Pipeline._output_path).
    relative = location if not Path(location).is_absolute() else f"added/{path.name}"
    return ArticleRef(
        location=location,
        source=ONE_OFF_SOURCE,
        path=str(path),
        output_relpath=relative,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
    )


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
