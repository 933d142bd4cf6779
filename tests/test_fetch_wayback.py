"""Wayback fallback for posts that were already gone when first seen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fakex import FakeX, Fault, load_payload, make_fetcher

from archiver.fetch import FetchRequest, FetchResult
from archiver.models import SOURCE_OEMBED, SOURCE_WAYBACK, STATUS_DELETED, STATUS_SUSPENDED

DELETED = "This Post was deleted by the Post author. Learn more"
PHOTO_ID = "1641086480675225601"


def fetch_one(fake: FakeX, tmp_path: Path, request: FetchRequest, **overrides: Any) -> FetchResult:
    overrides.setdefault("media", {"download": False})
    with make_fetcher(fake, tmp_path / "media", **overrides) as fetcher:
        [result] = list(fetcher.fetch_many([request]))
    return result


def test_json_capture_of_deleted_post(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_tombstone(PHOTO_ID, DELETED)
    body = json.dumps(load_payload("syndication_tweet_with_photo.json"))
    fakex.add_capture(
        f"https://twitter.com/SamuelSusla/status/{PHOTO_ID}",
        "20230330101112",
        body,
        "application/json",
    )
    result = fetch_one(fakex, tmp_path, FetchRequest(PHOTO_ID, "SamuelSusla"))
    snap = result.snapshot
    assert snap is not None and result.error is None
    assert snap.source == SOURCE_WAYBACK and snap.status == STATUS_DELETED
    assert snap.notice == DELETED
    assert snap.fetched_at == "2023-03-30T10:11:12.000Z"
    assert snap.text and snap.text.startswith("If you are interested about View Flattening")
    assert snap.author_name == "sammy" and snap.created_at
    assert snap.source_url and "/web/20230330101112id_/https://twitter.com/" in snap.source_url
    # Both URL forms were looked up.
    assert sorted(r.query["url"] for r in fakex.requests_for("/cdx")) == [
        f"twitter.com/SamuelSusla/status/{PHOTO_ID}",
        f"x.com/SamuelSusla/status/{PHOTO_ID}",
    ]
    assert all(r.query["limit"] == "-5" for r in fakex.requests_for("/cdx"))


HTML_CAPTURE = """<!DOCTYPE html><html><head>
<meta property="og:title" content="Jane Doe on X: &quot;Breaking: it works&quot; / X">
<meta property="og:description" content="“Breaking: it works &amp; ships today”">
<meta property="og:site_name" content="X (formerly Twitter)">
</head><body><div id="react-root"></div><script>window.x=1</script></body></html>"""


def test_html_capture_after_oembed_404(fakex: FakeX, tmp_path: Path) -> None:
    post_id = "1700000000000000301"
    fakex.add_not_found(post_id)
    fakex.set_oembed_status(post_id, 404)
    fakex.add_capture(
        f"https://x.com/janedoe/status/{post_id}", "20240102030405", HTML_CAPTURE, "text/html"
    )
    snap = fetch_one(fakex, tmp_path, FetchRequest(post_id, "janedoe")).snapshot
    assert snap is not None
    assert snap.source == SOURCE_WAYBACK and snap.status == STATUS_DELETED
    assert snap.text == "Breaking: it works & ships today"
    assert snap.html == "Breaking: it works &amp; ships today"
    assert snap.author_name == "Jane Doe" and snap.author_handle == "janedoe"
    assert snap.fetched_at == "2024-01-02T03:04:05.000Z"


def test_newest_usable_capture_wins(fakex: FakeX, tmp_path: Path) -> None:
    post_id = "1700000000000000302"
    fakex.add_tombstone(post_id, "This Post is from a suspended account.")
    url = f"https://twitter.com/someone/status/{post_id}"
    fakex.add_capture(url, "20200101000000", HTML_CAPTURE, "text/html")
    fakex.add_capture(
        url, "20210101000000", "<html><head></head><body>login</body></html>", "text/html"
    )
    snap = fetch_one(fakex, tmp_path, FetchRequest(post_id, "someone")).snapshot
    assert snap is not None and snap.status == STATUS_SUSPENDED
    assert snap.fetched_at == "2020-01-01T00:00:00.000Z"  # the newer one had no post in it


def test_no_capture_gives_the_status_only(fakex: FakeX, tmp_path: Path) -> None:
    post_id = "1700000000000000303"
    fakex.set_oembed_status(post_id, 404)
    snap = fetch_one(fakex, tmp_path, FetchRequest(post_id)).snapshot
    assert snap is not None and snap.status == STATUS_DELETED
    assert snap.source == SOURCE_OEMBED and snap.text is None
    assert [r.query["url"] for r in fakex.requests_for("/cdx")] == [
        f"twitter.com/i/status/{post_id}",
        f"x.com/i/status/{post_id}",
    ]


def test_wayback_failure_is_not_a_post_failure(fakex: FakeX, tmp_path: Path) -> None:
    post_id = "1700000000000000304"
    fakex.add_tombstone(post_id, DELETED)
    fakex.add_fault(Fault(status_5xx=100), path="/cdx")
    result = fetch_one(fakex, tmp_path, FetchRequest(post_id))
    assert result.snapshot is not None and result.snapshot.status == STATUS_DELETED


def test_no_wayback_when_content_known_or_disabled(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_tombstone("1700000000000000305", DELETED)
    fetch_one(fakex, tmp_path, FetchRequest("1700000000000000305", have_content=True))
    fetch_one(fakex, tmp_path, FetchRequest("1700000000000000305"), wayback={"enabled": False})
    assert fakex.count("/cdx") == 0


def test_capture_of_another_post_is_ignored(fakex: FakeX, tmp_path: Path) -> None:
    post_id = "1700000000000000306"
    fakex.add_tombstone(post_id, DELETED)
    other = load_payload("syndication_tweet_with_photo.json")  # id_str is a different post
    fakex.add_capture(
        f"https://twitter.com/a/status/{post_id}",
        "20230101000000",
        json.dumps(other),
        "application/json",
    )
    snap = fetch_one(fakex, tmp_path, FetchRequest(post_id, "a")).snapshot
    assert snap is not None and snap.text is None and snap.status == STATUS_DELETED
