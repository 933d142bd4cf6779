"""Datasette opens the archive as is: canned queries and full-text search over its JSON API."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from archive_helpers import POST_ARABIC, POST_ELECTION, POST_JACK, build_archive, set_status
from datasette_helpers import wait_until_up

pytest.importorskip("datasette", reason="datasette is not installed (pip install '.[web]')")

ROOT = Path(__file__).resolve().parent.parent
METADATA = ROOT / "archiver" / "data" / "datasette-metadata.yml"  # shipped in the package


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def datasette_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("datasette")
    config = build_archive(tmp)
    set_status(config, POST_ARABIC, "deleted")
    port = free_port()
    # The database file is called archive.db, the name metadata.yml describes.
    command = [sys.executable, "-m", "datasette", "serve", str(tmp / "archive.db")]
    command += ["-m", str(METADATA), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, "datasette")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get_rows(url: str, path: str, **params: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}{path}", params={**params, "_shape": "array"}, timeout=10)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_canned_query_articles_embedding_deleted_posts(datasette_url: str) -> None:
    rows = get_rows(datasette_url, "/archive/articles_embedding_deleted_posts.json")
    assert [(r["article"], r["post_key"]) for r in rows] == [
        ("articles/solo.html", f"x:{POST_ARABIC}"),
        ("articles/world/elections.html", f"x:{POST_ARABIC}"),
    ]


def test_canned_query_posts_by_author(datasette_url: str) -> None:
    rows = get_rows(datasette_url, "/archive/posts_by_author.json", handle="@Jack")
    assert [r["key"] for r in rows] == [f"x:{POST_JACK}"]
    assert rows[0]["articles"] == 1


def test_canned_query_archived_this_week(datasette_url: str) -> None:
    rows = get_rows(datasette_url, "/archive/archived_this_week.json")
    assert len(rows) == 4


def test_full_text_search(datasette_url: str) -> None:
    rows = get_rows(datasette_url, "/archive/posts.json", _search="चुनाव")
    assert [r["key"] for r in rows] == [f"x:{POST_ELECTION}"]
    rows = get_rows(datasette_url, "/archive/posts.json", _search="الموقع")
    assert [r["key"] for r in rows] == [f"x:{POST_ARABIC}"]


def test_metadata_descriptions_are_served(datasette_url: str) -> None:
    response = httpx.get(f"{datasette_url}/-/metadata.json", timeout=10)
    tables = response.json()["databases"]["archive"]["tables"]
    assert "captured_at" in tables["snapshots"]["columns"]
    html = httpx.get(f"{datasette_url}/archive/posts", timeout=10).text
    assert "One row per archived post" in html
    # The posts columns are described too, folded away under the table's description.
    assert "<summary>About the columns</summary>" in html
    assert "<dt>status</dt><dd>unknown, live, deleted" in html


def test_prefix_search_as_in_the_cli(datasette_url: str) -> None:
    """?_search=twtt* finds "twttr", as `posts search twtt*` does (searchmode: raw)."""
    rows = get_rows(datasette_url, "/archive/posts.json", _search="twtt*")
    assert [r["key"] for r in rows] == [f"x:{POST_JACK}"]
    rows = get_rows(datasette_url, "/archive/posts.json", _search="twttr OR चुनाव")
    assert sorted(r["key"] for r in rows) == sorted([f"x:{POST_JACK}", f"x:{POST_ELECTION}"])
    # The words as written, literally: ?_searchmode=escaped.
    literal = get_rows(datasette_url, "/archive/posts.json", _search="twtt*", _searchmode="escaped")
    assert literal == []


def test_posts_search_box_comes_before_the_column_notes(datasette_url: str) -> None:
    html = httpx.get(f"{datasette_url}/archive/posts", timeout=10).text
    search_box = html.index('id="_search"')
    assert '<dl class="column-descriptions">' not in html[:search_box]
    # Before the search box: the title, the description and one folded line.
    details = html.index('<details class="column-descriptions">')
    before = html[:details] + html[html.index("</details>", details) : search_box]
    visible = " ".join(
        re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", before, flags=re.S).split()
    )
    assert len(visible) < 600, visible


def test_posts_search_box_and_rows_are_near_the_top(datasette_url: str, browser: Any) -> None:
    """In a real browser, the search box and the first row are on the first screen."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{datasette_url}/archive/posts")
        search_top = page.locator("#_search").bounding_box()["y"]
        first_row = page.locator("table.rows-and-columns tbody tr").first.bounding_box()
        assert search_top < 400, search_top
        assert first_row is not None and first_row["y"] < 800, first_row
    finally:
        page.close()
