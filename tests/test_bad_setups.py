"""Bad setups end with one line saying what to do, never a traceback.

Each case runs the real command (click's CliRunner, or a subprocess when the
command must run with other privileges) against real files in tmp_path: exit 2
for a setup that stops the command, 1 when some articles failed and the rest
went on. An uncaught exception is turned into its traceback text, so "no
traceback in the output" also catches it.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from archive_helpers import HINDI_TEXT, make_project, page, tweet
from click.testing import CliRunner

from archiver import Archive
from archiver.cli import cli as embed_archiver

POST = "1641086480675225601"
EMBED = tweet(POST, "hindinews", "News", HINDI_TEXT, "March 29, 2023")


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def cli(config: Path, *args: str, prefix: Sequence[str] = ()) -> Outcome:
    """Run ``embed-archiver --config CONFIG ARGS`` as a user would (in a subprocess
    under ``prefix`` when one is given)."""
    argv = ["--config", str(config), *args]
    if prefix:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "archiver", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=config.parent,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)
    result = CliRunner().invoke(embed_archiver, argv)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return Outcome(result.exit_code, result.stdout, stderr)


def one_line_error(result: Outcome, code: int) -> str:
    """Assert the exit code and a traceback-free output; return stderr."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == code, output
    return result.stderr


def project(tmp_path: Path, extra: str = "", **articles: str) -> Path:
    files: dict[str, str | bytes] = {"a.html": page("A", EMBED), "sub/b.html": page("B", EMBED)}
    files.update(articles)
    return make_project(tmp_path, files, extra=extra)


# -- output.embeds_dir ------------------------------------------------------------


@pytest.mark.parametrize("value", [".", "", "./", "./.", " . ", "a/..", "..", "/srv/www", "a\\b"])
def test_an_embeds_dir_that_is_not_a_subfolder_is_refused(tmp_path: Path, value: str) -> None:
    config = project(tmp_path)
    text = config.read_text().replace(
        "  in_place: false\n", f"  in_place: false\n  embeds_dir: {value!r}\n"
    )
    config.write_text(text)
    err = one_line_error(cli(config, "run"), 2)
    assert "output.embeds_dir" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_an_article_inside_the_embeds_folder_fails_alone(tmp_path: Path) -> None:
    """articles/embeds/index.html would be written over the archive's index page."""
    config = project(tmp_path, **{"embeds/index.html": page("Squatter", EMBED)})
    err = one_line_error(cli(config, "run"), 1)
    assert "embeds/index.html" in err and "output.embeds_dir" in err
    index = (tmp_path / "out" / "embeds" / "index.html").read_text(encoding="utf-8")
    assert "Squatter" not in index
    assert (tmp_path / "out" / "a.html").exists() and (tmp_path / "out" / "sub" / "b.html").exists()


# -- an unreadable folder is an error, never a removal ----------------------------


def _unprivileged() -> list[str]:
    """A command prefix under which chmod 000 really stops reading a folder.

    The suite runs as root, and root reads any folder (CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH). setpriv drops those two from the bounding set of the
    command it runs, so the archiver still runs as uid 0 (it owns every file in
    tmp_path) but os.scandir on a 000 folder fails with EACCES, as it does for any
    ordinary user.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a folder unreadable")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("folder", ["sub", "."])
def test_an_unreadable_folder_is_an_error_not_a_removal(tmp_path: Path, folder: str) -> None:
    config = project(tmp_path)
    prefix = _unprivileged()
    assert cli(config, "run").returncode == 0
    unreadable = tmp_path / "articles" / folder
    unreadable.chmod(0)
    try:
        err = one_line_error(cli(config, "run", prefix=prefix), 1)
        again = one_line_error(cli(config, "run", prefix=prefix), 1)  # and on every pass
    finally:
        unreadable.chmod(0o755)
    assert "cannot read 1 folder" in err and "Permission denied" in err
    assert "not marked removed" in again
    with Archive.from_config(config) as archive:
        assert archive.store.article_locations() == ["articles/a.html", "articles/sub/b.html"]
    assert (tmp_path / "out" / "sub" / "b.html").exists()
    # Readable again: the next pass is clean and nothing was lost.
    assert one_line_error(cli(config, "run"), 0) == ""


# -- six bad setups ----------------------------------------------------------------


def test_config_path_is_a_folder(tmp_path: Path) -> None:
    project(tmp_path)
    err = one_line_error(cli(tmp_path / "articles", "run"), 2)
    assert "is a folder, not a config file" in err


def _corrupt(db: Path, start: int, seed: int) -> None:
    data = bytearray(db.read_bytes())
    rng = random.Random(seed)
    for i in range(start, min(len(data), start + 8192)):
        data[i] = rng.randrange(256)
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("start", [0, 4096], ids=["header", "pages"])
def test_a_corrupt_database(tmp_path: Path, start: int) -> None:
    config = project(tmp_path)
    assert cli(config, "run").returncode == 0
    db = tmp_path / "archive.db"
    for name in ("archive.db-wal", "archive.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    _corrupt(db, start, seed=2)
    (tmp_path / "articles" / "a.html").write_text(page("A, edited", EMBED))
    for command in (["run"], ["posts", "list"]):
        err = one_line_error(cli(config, *command), 2)
        assert "archive.db is damaged" in err and "restore it from a backup" in err


def test_a_database_from_a_newer_version(tmp_path: Path) -> None:
    config = project(tmp_path)
    assert cli(config, "run").returncode == 0
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    for command in (["run"], ["posts", "list"], ["status"]):
        err = one_line_error(cli(config, *command), 2)
        assert "schema version 99 is newer" in err and "upgrade embed-archiver" in err


def test_output_dir_is_a_file(tmp_path: Path) -> None:
    config = project(tmp_path)
    (tmp_path / "out").write_text("not a folder")
    err = one_line_error(cli(config, "run"), 2)
    assert "output.dir" in err and "is not a folder" in err
    assert (tmp_path / "out").read_text() == "not a folder"


def test_database_is_a_folder(tmp_path: Path) -> None:
    config = project(tmp_path)
    (tmp_path / "archive.db").mkdir()
    err = one_line_error(cli(config, "run"), 2)
    assert "database:" in err and "is a folder" in err


@pytest.mark.parametrize("name", ["a" * 245 + ".html", "é" * 122 + ".html"])
def test_a_long_article_name_is_written(tmp_path: Path, name: str) -> None:
    """A 250-byte name is legal; the temp file beside it must stay within NAME_MAX too."""
    assert len(name.encode()) >= 249
    config = project(tmp_path, **{name: page("Long", EMBED)})
    one_line_error(cli(config, "run"), 0)
    written = (tmp_path / "out" / name).read_text(encoding="utf-8")
    assert f'data-archived-post="x:{POST}"' in written
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


# -- disk full ---------------------------------------------------------------------


@contextmanager
def tiny_disk(folder: Path, size: str = "64k") -> Iterator[Path]:
    """A real, tiny tmpfs mounted at ``folder``: writes past it fail with ENOSPC."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_fails_the_article_alone(tmp_path: Path) -> None:
    filler = "<p>filler</p>" * 10_000  # ~130 KB: more than the whole disk
    config = project(tmp_path, **{"big.html": page("Big", filler, EMBED)})
    # Room for the other articles, the post's page and the index (its front pages,
    # the pages of the post's month and the search files), 4 KB a file on tmpfs.
    with tiny_disk(tmp_path / "out", size="96k"):
        err = one_line_error(cli(config, "run"), 1)
        assert "big.html" in err and "No space left on device" in err
        assert (tmp_path / "out" / "a.html").exists()
        assert not (tmp_path / "out" / "big.html").exists()
        assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_disk_full_for_the_whole_run(tmp_path: Path) -> None:
    config = project(tmp_path)
    with tiny_disk(tmp_path / "out"):
        hog = tmp_path / "out" / "hog"
        with suppress(OSError), open(hog, "wb", buffering=0) as handle:
            for _ in range(100):  # 400 KB: fills the 64 KB disk to the last byte
                handle.write(b"\0" * 4096)
        err = one_line_error(cli(config, "run"), 2)
        assert "no space left" in err.lower() and "free some space" in err


def test_disk_full_under_the_database(tmp_path: Path) -> None:
    config = project(tmp_path)
    config.write_text(config.read_text().replace("database: archive.db", "database: db/archive.db"))
    for n in range(300):  # 300 distinct posts with long texts: more than the disk
        embed = tweet(str(1641086480675225700 + n), "someone", "Some One", f"post {n} " * 60)
        (tmp_path / "articles" / f"n{n}.html").write_text(page(f"N{n}", embed))
    with tiny_disk(tmp_path / "db", size="96k"):
        err = one_line_error(cli(config, "run"), 2)
    assert "no space left" in err.lower() and "free some space" in err
