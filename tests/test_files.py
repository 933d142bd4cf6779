"""The one atomic writer (archiver/files.py): every temp file the archiver makes has one
name scheme, and the sweep after a kill -9 knows it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fakex import tiny_jpeg

from archiver.fetch.media import _FileSink
from archiver.files import atomic_file, is_temp_name, write_atomic
from archiver.service import sweep_temp_files


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(page) as handle:
        handle.write(b"half")
        raise RuntimeError("disk gone")
    assert page.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.html"]


def test_a_rewrite_keeps_the_file_mode(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_bytes(b"old")
    page.chmod(0o640)
    write_atomic(page, b"new")
    assert page.read_bytes() == b"new" and page.stat().st_mode & 0o777 == 0o640


def _temp_names(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


def test_an_article_and_a_download_in_flight_share_one_temp_name_scheme(tmp_path: Path) -> None:
    """What a kill -9 leaves mid-write, of an article or of a media download, is one shape."""
    out = tmp_path / "out"
    media = out / "embeds" / "media"
    media.mkdir(parents=True)
    with pytest.raises(KeyboardInterrupt), atomic_file(out / "story.html") as handle:
        handle.write(b"<html>")
        left = [n for n in _temp_names(out) if n != "embeds"]
        raise KeyboardInterrupt  # caught below: what was on disk at the kill is `left`
    sink = _FileSink(media)
    sink.write(tiny_jpeg(1))  # a download streaming in, not committed yet
    in_flight = _temp_names(media)
    for name in [*left, *in_flight]:
        assert name.startswith(".") and name.endswith(".tmp"), name
        assert is_temp_name(name)
    # The sweep of a service start removes the download's temp file once it is old.
    old = time.time() - 3600
    for name in in_flight:
        os.utime(media / name, (old, old))
    assert sweep_temp_files(out, media, older_than=600) == 1
    assert _temp_names(media) == []
    sink.discard()


def test_long_names_keep_their_temp_name_within_name_max(tmp_path: Path) -> None:
    name = "é" * 122 + ".html"
    write_atomic(tmp_path / name, b"x")
    assert os.listdir(tmp_path) == [name]


def test_a_write_that_fails_midway_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    """write_atomic writes on the raw descriptor: a failure after the temp file exists
    (here, content that is not bytes) still removes it and leaves the old file whole."""
    page = tmp_path / "a.html"
    page.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(page, "not bytes")  # type: ignore[arg-type]
    assert page.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.html"]


def test_a_new_copy_gets_the_mode_open_would_give(tmp_path: Path) -> None:
    """Temp files are created 0600; the copy a web server serves must not stay so."""
    mask = os.umask(0o022)
    os.umask(mask)
    write_atomic(tmp_path / "new" / "a.html", b"x")  # its folder is made too
    mode = (tmp_path / "new" / "a.html").stat().st_mode & 0o777
    assert mode == 0o666 & ~mask
