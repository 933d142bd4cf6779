"""``embed-archiver browse``: the archive in Datasette on 127.0.0.1, with the bundled
metadata and the package's plugin (post cards, history, article facet, media).

The real command is started on a free port and queried with httpx.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from archive_helpers import (
    HOSTILE_TEXT,
    POST_ARABIC,
    POST_ELECTION,
    POST_HOSTILE,
    POST_JACK,
    build_archive,
)
from datasette_helpers import wait_until_up

pytest.importorskip("datasette", reason="datasette is not installed (pip install '.[web]')")

MEDIA_NAME = "0f" * 32 + ".jpg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def browse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browse")
    config = build_archive(tmp)
    media = tmp / "out" / "embeds" / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / MEDIA_NAME).write_bytes(b"\xff\xd8\xff fake jpeg")
    (tmp / "secret.txt").write_text("not for the browser", encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "archiver", "--config", str(config), "browse"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # browse starts Datasette: stop both together
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, "browse")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def get_json(url: str, path: str, **params: str) -> Any:
    response = httpx.get(f"{url}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_posts_show_as_archived_cards_with_history_and_articles(browse_url: str) -> None:
    html = httpx.get(f"{browse_url}/archive/posts", timeout=10).text
    for post_id in (POST_ELECTION, POST_ARABIC, POST_HOSTILE, POST_JACK):
        assert f'data-archived-post="x:{post_id}"' in html
    assert "1 version, embedded in 2 articles" in html  # the Arabic post: two articles
    assert "articles/world/elections.html</a>" in html
    # Strangers' text is shown, never run.
    assert HOSTILE_TEXT not in html
    assert "&lt;script&gt;alert(" in html
    assert "/-/embed-archiver/card.css" in html
    css = httpx.get(f"{browse_url}/-/embed-archiver/card.css", timeout=10)
    assert css.status_code == 200 and ".eac.eac" in css.text


def test_facets_by_status_author_platform_and_article(browse_url: str) -> None:
    data = get_json(browse_url, "/archive/posts.json")
    facets = data["facet_results"]
    assert {"status", "author_handle", "platform", "article"} <= set(facets)
    by_article = {r["value"]: r["count"] for r in facets["article"]["results"]}
    assert by_article == {
        "articles/tech/history.html": 2,
        "articles/world/elections.html": 2,
        "articles/solo.html": 1,
    }
    assert {r["value"]: r["count"] for r in facets["platform"]["results"]} == {"x": 4}


def test_article_facet_link_filters_the_posts(browse_url: str) -> None:
    data = get_json(browse_url, "/archive/posts.json")
    (choice,) = [
        r
        for r in data["facet_results"]["article"]["results"]
        if r["value"] == "articles/world/elections.html"
    ]
    # The link as the HTML page shows it (this one came with the JSON).
    html = httpx.get(choice["toggle_url"].replace("/posts.json", "/posts"), timeout=10).text
    posts = (POST_ELECTION, POST_ARABIC, POST_HOSTILE, POST_JACK)
    shown = {p for p in posts if f'data-archived-post="x:{p}"' in html}
    assert shown == {POST_ELECTION, POST_ARABIC}
    assert "embedded in &#34;articles/world/elections.html&#34;" in html


def test_full_text_search(browse_url: str) -> None:
    rows = get_json(browse_url, "/archive/posts.json", _search="चुनाव", _shape="array")
    assert [r["key"] for r in rows] == [f"x:{POST_ELECTION}"]


def test_media_files_are_served_and_nothing_else(browse_url: str) -> None:
    ok = httpx.get(f"{browse_url}/-/embed-archiver/media/{MEDIA_NAME}", timeout=10)
    assert ok.status_code == 200
    assert ok.content == b"\xff\xd8\xff fake jpeg"
    assert ok.headers["content-type"] == "image/jpeg"
    for name in ("..%2F..%2F..%2Fsecret.txt", "%2E%2E", ".hidden", "missing.jpg"):
        response = httpx.get(f"{browse_url}/-/embed-archiver/media/{name}", timeout=10)
        assert response.status_code == 404, name
        assert b"not for the browser" not in response.content


def test_browse_is_read_only(browse_url: str) -> None:
    response = httpx.get(
        f"{browse_url}/archive.json",
        params={"sql": "delete from posts", "_shape": "array"},
        timeout=10,
    )
    assert response.status_code != 200 or "error" in response.text.lower()
    rows = get_json(browse_url, "/archive/posts.json", _shape="array")
    assert len(rows) == 4


def test_browse_without_a_database_says_so(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: none.db\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "--config", str(config), "browse"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "no archive database" in result.stderr


def test_browse_without_datasette_says_how_to_install_it(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    # As if Datasette were not installed: importing it fails.
    code = "import sys; sys.modules['datasette'] = None; from archiver.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "--config", str(config), "browse"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "pip install 'embed-archiver[web]'" in result.stderr
