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


def test_files_and_folders_come_in_name_order_and_the_output_is_not_entered(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    for name in ("b.html", "a/z.html", "a.html", "c.htm", "out/copy.html", "a/y/x.html"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(b"<p>" + name.encode() + b"</p>")
    (site / "linked").symlink_to(site / "a", target_is_directory=True)  # never followed
    (site / "alias.html").symlink_to(site / "b.html")  # not an article of its own
    source = DirectorySource(path=site)
    refs = list(iter_directory(source, "directory-0", tmp_path, skip=(site / "out",)))
    # Sorted by name at each level: the folder "a" comes before "a.html".
    assert [r.location for r in refs] == [
        "site/a/y/x.html",
        "site/a/z.html",
        "site/a.html",
        "site/b.html",
        "site/c.htm",
    ]
    # Each with its own size and time, read as it is listed.
    for ref in refs:
        assert ref.size == len(b"<p></p>") + len(ref.location.removeprefix("site/"))
        assert ref.mtime_ns == (tmp_path / ref.location).stat().st_mtime_ns
