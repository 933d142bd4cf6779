"""Bad setups end with one line saying what to do, never a traceback.

Each case runs the real command in a subprocess (what a user sees on the
terminal, stderr included) against real files in tmp_path: exit 2 for a setup
that stops the command, 1 when some articles failed and the rest went on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from archive_helpers import HINDI_TEXT, make_project, page, tweet

from archiver import Archive

POST = "1641086480675225601"
EMBED = tweet(POST, "hindinews", "News", HINDI_TEXT, "March 29, 2023")


def cli(config: Path, *args: str, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``embed-archiver --config CONFIG ARGS`` as a user would."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "archiver", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=config.parent,
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """Assert the exit code and a traceback-free output; return stderr."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == code, output
    return result.stderr


def project(tmp_path: Path, extra: str = "", **articles: str) -> Path:
    files: dict[str, str | bytes] = {"a.html": page("A", EMBED), "sub/b.html": page("B", EMBED)}
    files.update(articles)
    return make_project(tmp_path, files, extra=extra)


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
    assert cli(config, "run", prefix=prefix).returncode == 0
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
