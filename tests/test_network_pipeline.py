"""`run` against the local fake of X: full snapshots, media, related posts, statuses, history."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup
from fakex import FakeX, Fault, config_for, make_tweet_payload, oembed_payload, tiny_jpeg

from archiver import Archive

POST = "1641086480675225601"
QUOTED = "1629307668568633344"
EDITED = "1641086480675225999"


def embed(post_id: str, handle: str = "SamuelSusla", text: str = "From the page") -> str:
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; Sammy (@{handle}) '
        f'<a href="https://twitter.com/{handle}/status/{post_id}?ref_src=twsrc%5Etfw">March 29, 2023</a>'
        '</blockquote> <script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    )


def project(tmp_path: Path, fake: FakeX | None, articles: dict[str, str], **extra: Any) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)
    for name, body in articles.items():
        (folder / name).write_text(
            f"<html><body><p>Intro</p>\n{body}\n<p>Outro</p></body></html>\n"
        )
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": "articles"}],
        "output": {"dir": "out"},
        "recheck": ["0s"],  # every post is due again at once: each run rechecks
    }
    if fake is not None:
        config.update(config_for(fake))
    config.update(extra)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_run_archives_full_post_with_media_and_quote(tmp_path: Path, fakex: FakeX) -> None:
    photo = fakex.add_media("photo.jpg", tiny_jpeg(1))
    avatar = fakex.add_media("avatar.jpg", tiny_jpeg(2))
    quoted = make_tweet_payload(QUOTED, "The quoted one", handle="launchdesk", name="Launch Desk")
    fakex.add_post(
        make_tweet_payload(
            POST,
            "Full text from X https://t.co/abcdefghij",
            handle="SamuelSusla",
            name="sammy",
            links={"https://t.co/abcdefghij": "https://example.com/post"},
            media=[{"type": "photo", "url": photo, "alt": "A chart"}],
            quoted=quoted,
            avatar=avatar,
        )
    )
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        report = archive.run()
        post = archive.post(POST)
        quote = archive.post(QUOTED)
    assert report.errors == [] and report.posts_fetched >= 1
    assert post is not None and quote is not None
    assert post.status == "live" and post.source == "syndication"
    assert post.text == "Full text from X https://example.com/post"
    assert post.quoted_key == f"x:{QUOTED}"
    assert quote.text == "The quoted one" and quote.author_handle == "launchdesk"
    photos = [m for m in post.media if m.kind == "photo"]
    assert len(photos) == 1 and photos[0].alt_text == "A chart"
    stored = tmp_path / "out" / "embeds" / "media" / str(photos[0].local_path)
    assert stored.read_bytes() == tiny_jpeg(1)

    html = (tmp_path / "out" / "a.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    block = soup.select_one(f'blockquote[data-archived-post="x:{POST}"]')
    assert block is not None
    assert "Full text from X" in block.get_text()
    img = block.find("img", alt="A chart")
    assert img is not None and img["src"] == f"embeds/media/{photos[0].local_path}"
    assert block.select_one("[data-archived-quote]") is not None
    for tag in soup.find_all(src=True):
        assert not tag["src"].startswith(("http", "//"))


def test_live_then_edited_then_deleted_keeps_every_version(tmp_path: Path, fakex: FakeX) -> None:
    fakex.add_post(make_tweet_payload(POST, "Version one", handle="SamuelSusla"))
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        archive.run()
        # The author edits: the original now points at its newer version.
        fakex.add_post(
            make_tweet_payload(POST, "Version one", handle="SamuelSusla", edit_ids=[POST, EDITED])
        )
        fakex.add_post(
            make_tweet_payload(
                EDITED, "Version two, edited", handle="SamuelSusla", edit_ids=[POST, EDITED]
            )
        )
        edited = archive.run()
        fakex.add_tombstone(POST, "This Post was deleted by the Post author. Learn more")
        deleted = archive.run()
        post = archive.post(POST)
    assert edited.posts_updated >= 1 and deleted.posts_updated >= 1
    assert post is not None
    assert post.status == "deleted"
    assert post.text == "Version two, edited"  # the last good content is kept
    db = sqlite3.connect(tmp_path / "archive.db")
    versions = db.execute(
        "SELECT source, status, text FROM snapshots WHERE post_key = ? ORDER BY id", [f"x:{POST}"]
    ).fetchall()
    assert versions == [
        ("markup", "unknown", "From the page"),
        ("syndication", "live", "Version one"),
        ("syndication", "live", "Version two, edited"),
        ("syndication", "deleted", None),
    ]
    edit_ids = db.execute("SELECT edit_ids FROM posts WHERE key = ?", [f"x:{POST}"]).fetchone()[0]
    assert json.loads(edit_ids) == [POST, EDITED]
    html = (tmp_path / "out" / "a.html").read_text()
    assert "This post was deleted" in html and "Version two, edited" in html
    page = (tmp_path / "out" / "embeds" / "x" / f"{POST}.html").read_text()
    assert "This post was deleted" in page


def test_one_fetch_per_unique_post_whatever_the_number_of_articles(
    tmp_path: Path, fakex: FakeX
) -> None:
    fakex.add_post(make_tweet_payload(POST, "Shared", handle="SamuelSusla"))
    articles = {f"a{n}.html": embed(POST) for n in range(5)}
    config = project(tmp_path, fakex, articles, recheck=["1d"])
    with Archive.from_config(config) as archive:
        archive.run()
        archive.run()  # nothing is due: no second request
    assert fakex.count(path="/tweet-result", post_id=POST) == 1


def test_a_post_due_again_at_once_is_checked_once_per_pass(tmp_path: Path, fakex: FakeX) -> None:
    # recheck 0s: after its check the post is due again at once, in the next batch of
    # the pass and at its end. 40 articles make two batches.
    fakex.add_post(make_tweet_payload(POST, "Shared", handle="SamuelSusla"))
    config = project(tmp_path, fakex, {f"a{n:02d}.html": embed(POST) for n in range(40)})
    with Archive.from_config(config) as archive:
        first = archive.run()
        assert fakex.count(path="/tweet-result", post_id=POST) == 1
        assert (first.posts_new, first.posts_fetched, first.posts_updated) == (1, 1, 0)
        archive.run()  # the next pass checks it again, once
    assert fakex.count(path="/tweet-result", post_id=POST) == 2


def test_network_down_finishes_keeps_markup_and_retries_later(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead = f"http://127.0.0.1:{closed_port}"
    config = project(
        tmp_path,
        None,
        {"a.html": embed(POST), "b.html": embed(QUOTED, handle="launchdesk")},
        x={
            "fetch": True,
            "syndication_url": f"{dead}/tweet-result",
            "oembed_url": f"{dead}/oembed",
        },
        wayback={"enabled": True, "cdx_url": f"{dead}/cdx", "base_url": f"{dead}/web"},
        http={"timeout": 1, "retries": 2, "post_deadline": 5},
    )
    started = time.monotonic()
    with Archive.from_config(config) as archive:
        report = archive.run()
        post = archive.post(POST)
    assert time.monotonic() - started < 60  # a hang guard, not a performance check
    assert report.fetch_failures == 2 and report.errors == []
    assert post is not None and post.status == "unknown" and post.text == "From the page"
    db = sqlite3.connect(tmp_path / "archive.db")
    error, next_check = db.execute(
        "SELECT last_error, next_check_at FROM posts WHERE key = ?", [f"x:{POST}"]
    ).fetchone()
    assert error and next_check
    assert 'data-archived-post="x:1641086480675225601"' in (tmp_path / "out" / "a.html").read_text()


def test_hostile_payload_renders_inert(tmp_path: Path, fakex: FakeX) -> None:
    fakex.add_post(
        make_tweet_payload(
            POST,
            'Look <script>alert(1)</script> "><img src=x onerror=alert(2)> https://t.co/evilevil1',
            handle="SamuelSusla",
            name='Evil "name" <b>bold</b>',
            links={"https://t.co/evilevil1": "javascript:alert(3)"},
        )
    )
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        archive.run()
    for path in (tmp_path / "out" / "a.html", tmp_path / "out" / "embeds" / "x" / f"{POST}.html"):
        soup = BeautifulSoup(path.read_text(), "html.parser")
        assert soup.find("script") is None
        assert soup.find("img", src="x") is None
        for tag in soup.find_all(True):
            for name, value in tag.attrs.items():
                assert not name.startswith("on")
                if name in ("href", "src"):
                    assert "javascript" not in str(value)
        assert "<script>alert(1)</script>" in soup.get_text()


def _snapshots(tmp_path: Path, post_id: str) -> list[tuple[str, str]]:
    db = sqlite3.connect(tmp_path / "archive.db")
    return db.execute(
        "SELECT source, status FROM snapshots WHERE post_key = ? ORDER BY id", [f"x:{post_id}"]
    ).fetchall()


def test_a_failed_media_download_never_loses_an_archived_file(tmp_path: Path, fakex: FakeX) -> None:
    photo = fakex.add_media("photo.jpg", tiny_jpeg(5))
    media = [{"type": "photo", "url": photo, "alt": "chart"}]
    fakex.add_fault(Fault(status_5xx=3), path="/media/photo.jpg")  # down on the first check
    fakex.add_post(make_tweet_payload(POST, "Version one", handle="SamuelSusla", media=media))
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        archive.run()
        first = archive.post(POST)
        archive.run()  # the host is back: the missing file is filled in
        filled = archive.post(POST)
        # An edit arrives while the media host is down again: the photo stays archived.
        fakex.add_fault(Fault(status_5xx=3), path="/media/photo.jpg")
        fakex.add_post(make_tweet_payload(POST, "Version two", handle="SamuelSusla", media=media))
        archive.run()
        edited = archive.post(POST)
    assert first is not None and first.media[0].local_path is None
    assert filled is not None and filled.media[0].local_path is not None
    assert edited is not None and edited.text == "Version two"
    assert edited.media[0].local_path == filled.media[0].local_path
    assert (
        f'src="embeds/media/{edited.media[0].local_path}"'
        in (tmp_path / "out" / "a.html").read_text()
    )


def test_a_deleted_quoted_post_shows_as_deleted_in_the_quoting_embed(
    tmp_path: Path, fakex: FakeX
) -> None:
    quoted = make_tweet_payload(QUOTED, "The quoted one", handle="launchdesk")
    fakex.add_post(quoted)
    fakex.add_post(make_tweet_payload(POST, "Look at this", handle="SamuelSusla", quoted=quoted))
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        archive.run()
        fakex.add_tombstone(QUOTED, "This Post was deleted by the Post author. Learn more")
        archive.run()
        archive.run()  # the quoting payload still carries the old copy: no flip back
        quote = archive.post(QUOTED)
    assert quote is not None and quote.status == "deleted" and quote.text == "The quoted one"
    assert _snapshots(tmp_path, QUOTED) == [("syndication", "live"), ("syndication", "deleted")]
    soup = BeautifulSoup((tmp_path / "out" / "a.html").read_text(), "html.parser")
    nested = soup.select_one(f'[data-archived-quote="x:{QUOTED}"]')
    assert nested is not None and nested["data-status"] == "deleted"


def test_a_post_gone_when_first_seen_is_taken_from_the_wayback_machine(
    tmp_path: Path, fakex: FakeX
) -> None:
    fakex.add_tombstone(POST, "This Post was deleted by the Post author. Learn more")
    capture = make_tweet_payload(
        POST, "The full text, as captured", handle="SamuelSusla", name="sammy"
    )
    fakex.add_capture(
        f"https://twitter.com/SamuelSusla/status/{POST}",
        "20230330101112",
        json.dumps(capture),
        "application/json",
    )
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        archive.run()
        post = archive.post(POST)
    assert post is not None and post.source == "wayback" and post.status == "deleted"
    assert post.text == "The full text, as captured"
    assert post.archived_at == "2023-03-30T10:11:12.000Z"


def test_a_poorer_source_never_replaces_richer_content(tmp_path: Path, fakex: FakeX) -> None:
    fakex.add_post(
        make_tweet_payload(
            POST,
            "Read https://t.co/abcdefghij",
            handle="SamuelSusla",
            links={"https://t.co/abcdefghij": "https://example.com/story"},
        )
    )
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        archive.run()
        fakex.add_empty(POST)  # syndication flakes; oEmbed still answers
        fakex.add_oembed(
            POST, oembed_payload(POST, "Read https://t.co/abcdefghij", "SamuelSusla", "sammy")
        )
        archive.run()
        post = archive.post(POST)
    assert post is not None and post.source == "syndication"
    assert post.text == "Read https://example.com/story"
    assert ("oembed", "live") in _snapshots(tmp_path, POST)  # kept in the history


def test_failing_checks_back_off(tmp_path: Path, fakex: FakeX) -> None:
    fakex.add_blocked(POST)
    config = project(tmp_path, fakex, {"a.html": embed(POST)}, recheck=["1h", "1d", "7d"])
    waits = []
    with Archive.from_config(config) as archive:
        for _ in range(3):
            archive.store.db.execute("UPDATE posts SET next_check_at = '2000-01-01T00:00:00.000Z'")
            archive.store.db.conn.commit()
            archive.run()
            row = archive.store.db.execute(
                "SELECT last_checked_at, next_check_at, status FROM posts WHERE key = ?",
                [f"x:{POST}"],
            ).fetchone()
            assert row[2] == "unknown"  # a block page is a failure, never "deleted"
            waits.append(_seconds_between(row[0], row[1]))
    assert [round(w / 3600) for w in waits] == [1, 2, 4]


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    def parse(value: str) -> datetime:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")

    return (parse(end) - parse(start)).total_seconds()


def test_rechecks_do_not_download_archived_media_again(tmp_path: Path, fakex: FakeX) -> None:
    photo = fakex.add_media("photo.jpg", tiny_jpeg(6))
    media = [{"type": "photo", "url": photo, "alt": "chart"}]
    fakex.add_post(make_tweet_payload(POST, "With a photo", handle="SamuelSusla", media=media))
    config = project(tmp_path, fakex, {"a.html": embed(POST)})
    with Archive.from_config(config) as archive:
        for _ in range(3):
            archive.run()
        post = archive.post(POST)
    assert fakex.count(path="/media/photo.jpg") == 1
    assert fakex.count(path="/tweet-result", post_id=POST) == 3
    assert post is not None and post.media[0].local_path is not None
    assert (tmp_path / "out" / "embeds" / "media" / post.media[0].local_path).exists()
