"""Hostile servers: compression bombs on every fetch path, and servers that drip.

Each bomb is ~32 KB on the wire (a few hundred bytes for ``gzip, gzip``) and decodes
to 32 MB. With a 1 MB cap, a fetch must fail with a clear error and its peak Python
memory (tracemalloc) must stay within a few MB: decoding a whole received chunk at
once, as httpx does, holds all 32 MB.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from fakex import FakeX, config_for, make_fetcher, make_tweet_payload
from hostile import HostileServer, deflate_bomb, gzip_bomb

from archiver import Archive
from archiver.config import HttpConfig, MediaConfig
from archiver.fetch import FetchRequest
from archiver.fetch.articles import ArticleFetcher
from archiver.fetch.body import BoundedDecoder, CorruptBody
from archiver.fetch.errors import BodyTooLarge, UnsupportedEncoding
from archiver.fetch.http import Budget, HttpSession
from archiver.fetch.media import MediaStore

BOMB = 32 << 20  # decoded size: one 64 KB raw chunk of it is all of it
CAP = 1_000_000
PEAK_LIMIT = 8 << 20  # cap + decoding steps + the client's own objects, with room
POST = "1641086480675225601"

# (Content-Encoding, body, what the error must say)
BOMBS = {
    "gzip": ("gzip", lambda: gzip_bomb(BOMB), "cap"),
    "deflate": ("deflate", lambda: deflate_bomb(BOMB), "cap"),
    "raw-deflate": ("deflate", lambda: deflate_bomb(BOMB, raw=True), "cap"),
    "gzip-gzip": ("gzip, gzip", lambda: gzip_bomb(BOMB, layers=2), "more than one encoding"),
    "br": ("br", lambda: b"\x1b\xff\xff", "not gzip or deflate"),
}


@contextmanager
def peak_memory() -> Iterator[dict[str, int]]:
    """Peak traced Python memory inside the block, in ``result["peak"]``."""
    result: dict[str, int] = {}
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def http_config(**extra: object) -> HttpConfig:
    settings: dict[str, object] = {
        "timeout": 5,
        "retries": 0,
        "per_host_rate": 10_000,
        "max_article_bytes": CAP,
        "post_deadline": 20,
    }
    settings.update(extra)
    return HttpConfig.model_validate(settings)


@pytest.mark.parametrize("kind", list(BOMBS))
def test_article_bomb_is_refused_within_memory(hostile: HostileServer, kind: str) -> None:
    encoding, make, message = BOMBS[kind]
    url = hostile.add("/a.html", make(), headers={"Content-Encoding": encoding})
    with ArticleFetcher(http_config()) as fetcher, peak_memory() as memory:
        result = fetcher.fetch_article(url)
    assert result.status == "error" and result.data is None
    assert result.error is not None and message in result.error
    assert memory["peak"] < PEAK_LIMIT, f"peak {memory['peak'] / 1e6:.1f} MB"


def test_compressed_article_under_the_cap_is_decoded(hostile: HostileServer) -> None:
    page = ("<html><body>" + "Ünïcode story " * 5000 + "</body></html>").encode()
    gz = hostile.add("/gz.html", gzip.compress(page), headers={"Content-Encoding": "gzip"})
    df = hostile.add("/df.html", zlib.compress(page), headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    rd = hostile.add(
        "/rd.html", raw.compress(page) + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    with ArticleFetcher(http_config()) as fetcher:
        for url in (gz, df, rd):
            result = fetcher.fetch_article(url)
            assert result.status == "ok" and result.data == page, url
        assert len(page) < CAP < len(page) * 100
        big = hostile.add(
            "/big.html", gzip.compress(page * 100), headers={"Content-Encoding": "gzip"}
        )
        over = fetcher.fetch_article(big)
    assert over.status == "error" and "max_article_bytes" in (over.error or "")


def write_config(tmp_path: Path, sources: list[dict[str, object]]) -> Path:
    config = {
        "database": "archive.db",
        "sources": sources,
        "output": {"dir": "out"},
        "x": {"fetch": False},
        "http": {"timeout": 5, "retries": 0, "per_host_rate": 10000, "max_article_bytes": CAP},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["sitemap", "feed"])
@pytest.mark.parametrize("bomb", ["gzip", "gzip-gzip"])
def test_sitemap_and_feed_bombs_fail_the_source_within_memory(
    tmp_path: Path, hostile: HostileServer, kind: str, bomb: str
) -> None:
    encoding, make, message = BOMBS[bomb]
    url = hostile.add(
        "/index.xml", make(), content_type="application/xml", headers={"Content-Encoding": encoding}
    )
    config = write_config(tmp_path, [{"kind": kind, "name": "site", "url": url}])
    with Archive.from_config(config) as archive, peak_memory() as memory:
        report = archive.run().as_dict()
    errors = report["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    assert errors[0]["article"] == "source:site" and message in errors[0]["reason"]
    assert memory["peak"] < PEAK_LIMIT, f"peak {memory['peak'] / 1e6:.1f} MB"


JPEG_HEAD = b"\xff\xd8\xff\xe0" + b"\0" * 12
make_media = {
    "gzip": lambda: gzip_bomb(BOMB, prefix=JPEG_HEAD),
    "gzip-gzip": lambda: gzip_bomb(BOMB, layers=2, prefix=JPEG_HEAD),
    "deflate": lambda: deflate_bomb(BOMB, prefix=JPEG_HEAD),
}


@pytest.mark.parametrize("kind", ["gzip", "gzip-gzip", "deflate"])
def test_media_bomb_is_not_stored_within_memory(
    tmp_path: Path, hostile: HostileServer, kind: str
) -> None:
    encoding, _make, message = BOMBS[kind]
    # A JPEG's first bytes, then zeros: the type check passes, only the cap can stop it.
    body = make_media[kind]()
    url = hostile.add(
        "/media/a.jpg", body, content_type="image/jpeg", headers={"Content-Encoding": encoding}
    )
    root = tmp_path / "media"

    async def download() -> tuple[object, dict[str, str]]:
        async with HttpSession(http_config()) as session:
            store = MediaStore(
                session, MediaConfig(max_bytes=CAP, allowed_hosts=[hostile.host]), root
            )
            stored = await store.fetch(url, Budget.for_seconds(20))
            return stored, store.failures

    with peak_memory() as memory:
        stored, failures = asyncio.run(download())
    assert stored is None and message in failures[url]
    assert list(root.iterdir()) == []  # no temp file left behind
    assert memory["peak"] < PEAK_LIMIT, f"peak {memory['peak'] / 1e6:.1f} MB"


@pytest.mark.parametrize("kind", ["gzip", "gzip-gzip", "br"])
def test_api_answer_bomb_fails_the_post_within_memory(
    tmp_path: Path, hostile: HostileServer, kind: str
) -> None:
    encoding, make, message = BOMBS[kind]
    hostile.add(
        "/tweet-result",
        make(),
        content_type="application/json",
        headers={"Content-Encoding": encoding},
    )
    fetcher = make_fetcher(
        hostile,
        tmp_path / "media",
        http={"retries": 0, "max_article_bytes": CAP},
        wayback={"enabled": False},
    )
    with fetcher, peak_memory() as memory:
        [result] = list(fetcher.fetch_many([FetchRequest(POST)]))
    assert result.snapshot is None and result.error is not None and message in result.error
    assert hostile.requested.count("/tweet-result") == 1  # refused bodies are not retried
    assert memory["peak"] < PEAK_LIMIT, f"peak {memory['peak'] / 1e6:.1f} MB"


# -- the decoder on its own --------------------------------------------------------


def test_decoder_counts_decoded_bytes_in_small_steps() -> None:
    decoder = BoundedDecoder("gzip", 10 * CAP)
    produced = []
    with pytest.raises(BodyTooLarge):
        for piece in decoder.feed(gzip_bomb(BOMB)):
            produced.append(len(piece))
    assert max(produced) <= 64 * 1024 and sum(produced) <= 10 * CAP


def test_decoder_refuses_stacked_and_unknown_and_reports_corruption() -> None:
    for header in ("gzip, gzip", "gzip,deflate", "br", "zstd", "compress"):
        with pytest.raises(UnsupportedEncoding):
            BoundedDecoder(header, CAP)
    assert BoundedDecoder("identity", CAP).encoding == ""
    assert BoundedDecoder(" GZIP ", CAP).encoding == "gzip"
    with pytest.raises(CorruptBody):
        list(BoundedDecoder("gzip", CAP).feed(b"\x1f\x8bnot really gzip"))
    cut = BoundedDecoder("gzip", CAP)
    list(cut.feed(gzip.compress(b"x" * 1000)[:-10]))
    with pytest.raises(CorruptBody):
        list(cut.flush())
    # Concatenated gzip members are one stream.
    joined = BoundedDecoder("gzip", CAP)
    data = b"".join(joined.feed(gzip.compress(b"one ") + gzip.compress(b"two")))
    assert data + b"".join(joined.flush()) == b"one two"


# -- deadlines -----------------------------------------------------------------------


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_dripping_server_is_cut_off_at_the_deadline(
    hostile: HostileServer, in_headers: bool
) -> None:
    # One byte every 0.05 s for ~10 s: each read succeeds well within the 3 s timeout.
    url = hostile.add_drip("/drip.html", b"x" * 200, 0.05, in_headers=in_headers)
    with ArticleFetcher(http_config(timeout=3, post_deadline=1.0, retries=2)) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch_article(url)
        elapsed = time.monotonic() - started
    assert result.status == "error"
    assert result.error is not None and ("deadline" in result.error or "timed out" in result.error)
    assert elapsed < 2.5, f"took {elapsed:.1f}s against a 1s deadline"


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x", "file:///etc/passwd"],
)
def test_api_redirect_to_an_internal_address_is_refused(
    tmp_path: Path, hostile: HostileServer, location: str
) -> None:
    hostile.add("/tweet-result", b"", status=302, headers={"Location": location})
    fetcher = make_fetcher(
        hostile, tmp_path / "media", http={"retries": 0}, wayback={"enabled": False}
    )
    with fetcher:
        [result] = list(fetcher.fetch_many([FetchRequest(POST)]))
    assert result.snapshot is None
    assert result.error is not None and "refused redirect" in result.error


# -- JSON that is valid but not text -----------------------------------------------


def test_an_unpaired_surrogate_or_deep_nesting_in_an_answer_does_not_stop_the_run(
    tmp_path: Path, fakex: FakeX
) -> None:
    """An answer may escape half of a surrogate pair ("\\ud800"): valid JSON, but text
    that UTF-8, the content hash and SQLite cannot hold. It used to stop the whole run
    (every pass after it too, while the post was due); it is stored with U+FFFD. An
    answer nested deeper than Python's recursion limit fails its own post alone."""
    from archive_helpers import make_project, page, tweet

    payload = make_tweet_payload("20", "placeholder", handle="jack")
    payload["text"] = "half \ud800 a pair"
    payload["display_text_range"] = [0, len(payload["text"])]
    payload["user"]["name"] = "Name \udce9"
    fakex.add_raw("20", 200, json.dumps(payload).encode("ascii"), "application/json")
    deep = "1641086480675225601"
    fakex.add_raw(deep, 200, b"[" * 100_000 + b"]" * 100_000, "application/json")
    articles = {
        "a.html": page("A", tweet("20", "jack", "jack", "just setting up my twttr")),
        "b.html": page("B", tweet(deep, "desk", "Desk", "from the markup")),
    }
    config = make_project(tmp_path, articles)
    data = yaml.safe_load(config.read_text())
    data.update(config_for(fakex))
    config.write_text(yaml.safe_dump(data))
    with Archive.from_config(config) as archive:
        report = archive.run()
        post = archive.store.get_post("x:20")
        kept = archive.store.get_post(f"x:{deep}")
    assert report.articles_rewritten == 2
    assert (
        post is not None and post.text == "half \ufffd a pair" and post.author_name == "Name \ufffd"
    )
    assert kept is not None and kept.text == "from the markup"  # its check failed, alone
    index = (tmp_path / "out" / "embeds" / "index.html").read_text(encoding="utf-8")
    assert "half \ufffd a pair" in index
