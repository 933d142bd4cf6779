"""Where a directory source's articles are located: relative to the config's folder when
they lie below it, else absolute, whichever side of the other the folders are."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.config import DirectorySource
from archiver.sources.directory import iter_directory


def locations(root: Path, base: Path) -> list[str]:
    source = DirectorySource(path=root)
    return [ref.location for ref in iter_directory(source, "directory-0", base)]


def write_site(root: Path) -> None:
    for name in ("a.html", "news/b.html", "config/c.html"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("<p>x</p>", encoding="utf-8")


@pytest.mark.parametrize(
    ("root", "base", "expected"),
    [
        # The usual project: the articles in a folder next to the config.
        ("project/site", "project", ["site/a.html", "site/config/c.html", "site/news/b.html"]),
        ("project", "project", ["a.html", "config/c.html", "news/b.html"]),
        # The config inside the source folder: only what lies below it is relative.
        ("site", "site/config", ["{root}/a.html", "c.html", "{root}/news/b.html"]),
        # Folders apart: absolute locations.
        ("site", "elsewhere", ["{root}/a.html", "{root}/config/c.html", "{root}/news/b.html"]),
    ],
)
def test_locations_are_relative_to_the_config_folder_when_below_it(
    tmp_path: Path, root: str, base: str, expected: list[str]
) -> None:
    write_site(tmp_path / root)
    (tmp_path / base).mkdir(parents=True, exist_ok=True)
    found = locations(tmp_path / root, tmp_path / base)
    assert found == [e.format(root=(tmp_path / root).as_posix()) for e in expected]
