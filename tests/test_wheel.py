"""The built wheel stands alone: in a clean venv, from an empty folder, a new user's
first hour works (init, add, posts search, the Datasette metadata, browse).

Slow (a wheel build and two venv installs, ~30 s): it runs with ``-m slow``. Packages
come from pip's usual index (its cache on this machine); nothing else leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from archive_helpers import POST_JACK, page, tweet

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
JACK = tweet(POST_JACK, "jack", "jack", "just setting up my twttr", "March 21, 2006")


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


def _build_wheel(tmp_path: Path, env: dict[str, str]) -> Path:
    # Built from a copy: pip builds a local folder in place (build/, egg-info), and the
    # checkout must not change under the other tests. The copy keeps the
    # archiver/storage symlink, which is how storage/ installs as archiver.storage.
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "tests", "bench", "docs"
        ),
    )
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), "."], source, env
    )
    (wheel,) = dist.glob("embed_archiver-*.whl")
    return wheel


def test_wheel_in_a_clean_venv_runs_a_new_users_first_hour(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    wheel = _build_wheel(tmp_path, env)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python, tool = str(venv / "bin" / "python"), str(venv / "bin" / "embed-archiver")
    # The web extra too: browse is the last step of the quick start.
    _run([python, "-m", "pip", "install", "-q", f"{wheel}[web]"], tmp_path, env)

    # The installed package is the one in the venv, and it adds no generic top-level name.
    located = _run([python, "-c", "import archiver, sys; print(archiver.__file__)"], tmp_path, env)
    assert located.stdout.startswith(str(venv))
    site_packages = Path(located.stdout.strip()).parent.parent
    assert not (site_packages / "storage").exists()

    home = tmp_path / "empty"
    home.mkdir()
    # 1. init: a config with every key, and the articles folder; nothing else.
    _run([tool, "init", "site", "--no-fetch"], home, env)
    site = home / "site"
    assert sorted(p.name for p in site.iterdir()) == ["articles", "config.yaml"]

    # 2. add an article from the current folder.
    (site / "some-article.html").write_text(page("Some", JACK), encoding="utf-8")
    added = _run([tool, "add", "./some-article.html", "--json"], site, env)
    assert json.loads(added.stdout)["posts_new"] == 1
    assert (site / "out" / "some-article.html").exists()

    # 3. posts search finds it.
    found = _run([tool, "posts", "search", "twttr", "--json"], site, env)
    assert [hit["key"] for hit in json.loads(found.stdout)] == [f"x:{POST_JACK}"]

    # 4. the Datasette metadata, for this archive's file name.
    metadata = _run([tool, "datasette-metadata"], site, env)
    assert "archive" in yaml.safe_load(metadata.stdout)["databases"]

    # 5. browse: Datasette on 127.0.0.1 with the bundled metadata and plugin.
    port = _free_port()
    process = subprocess.Popen(
        [tool, "browse", "--port", str(port)],
        cwd=site,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        rows = _wait_for_json(f"http://127.0.0.1:{port}/archive/posts.json", process)
        assert [row["key"] for row in rows] == [f"x:{POST_JACK}"]
        # The plugin came with the wheel (its entry point): the post shows as its card.
        html = httpx.get(f"http://127.0.0.1:{port}/archive/posts", timeout=10).text
        assert f'data-archived-post="x:{POST_JACK}"' in html
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_json(url: str, process: subprocess.Popen[bytes]) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"browse exited with {process.returncode}:\n{output}")
        try:
            response = httpx.get(url, params={"_shape": "array"}, timeout=2)
            if response.status_code == 200:
                rows: list[dict[str, object]] = response.json()
                return rows
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("browse did not serve the archive within 60s")
