"""Ids and handles from the network are checked before they name a post or a file.

A syndication answer is untrusted input: a quoted or parent post whose ``id_str``
is ``../index`` must not become post ``x:../index`` (whose local copy would be
``embeds/x/../index.html``, the archive's index page). The post that carried it
is kept; only the nested object is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakex import FakeX, config_for, make_tweet_payload

from archiver import Archive
from archiver.clock import utc_now
from archiver.models import PostSnapshot, is_post_id
from archiver.platforms.x.syndication import snapshot_from_tweet

POST = "1641086480675225601"
QUOTED = "1629307668568633344"


def embed(post_id: str) -> str:
    return (
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">From the page</p>'
        f"&mdash; Sammy (@sammy) "
        f'<a href="https://twitter.com/sammy/status/{post_id}">March 29, 2023</a></blockquote>'
    )


def project(tmp_path: Path, fake: FakeX) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.html").write_text(f"<html><body>\n{embed(POST)}\n</body></html>\n")
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": "articles"}],
        "output": {"dir": "out"},
        "recheck": ["0s"],
        **config_for(fake),
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def hostile(post_id: str, nested_id: object) -> dict[str, Any]:
    """A post whose quoted and parent posts carry ``nested_id`` as their id."""
    quoted = make_tweet_payload(QUOTED, "quoted", handle="quoter")
    quoted["id_str"] = nested_id
    parent = make_tweet_payload(QUOTED, "parent", handle="parent")
    parent["id_str"] = nested_id
    payload = make_tweet_payload(post_id, "The real post", handle="sammy", quoted=quoted)
    payload["parent"] = parent
    payload["in_reply_to_status_id_str"] = nested_id
    return payload


def interrupt(config: Path) -> None:
    """What kill -9 during a run leaves: a run row still marked 'running'."""
    with Archive.from_config(config) as archive:
        archive.store.start_run("run", utc_now())


def test_a_path_like_nested_id_is_refused_and_the_post_kept(tmp_path: Path, fakex: FakeX) -> None:
    fakex.add_post(hostile(POST, "../index"))
    config = project(tmp_path, fakex)
    with Archive.from_config(config) as archive:
        first = archive.run()
        keys = archive.post_keys()
        post = archive.post(POST)
    assert first.errors == []
    assert keys == [f"x:{POST}"]  # no x:../index
    assert post is not None and post.text == "The real post" and post.source == "syndication"
    assert post.quoted_key is None and post.reply_to_key is None
    index = (tmp_path / "out" / "embeds" / "index.html").read_text()
    assert POST in index

    # A later run after an interrupted one refreshes every local copy: it must not
    # trip over anything the hostile answer carried.
    interrupt(config)
    with Archive.from_config(config) as archive:
        again = archive.run()
    assert again.errors == []
    assert (tmp_path / "out" / "embeds" / "x" / f"{POST}.html").exists()


def test_a_wayback_capture_with_a_path_like_nested_id(tmp_path: Path, fakex: FakeX) -> None:
    """The same check holds for a capture of a deleted post read from the Wayback Machine."""
    fakex.add_tombstone(POST, "This Post was deleted by the Post author. Learn more")
    fakex.add_capture(
        f"https://twitter.com/sammy/status/{POST}",
        "20230330101112",
        json.dumps(hostile(POST, "../index")),
        "application/json",
    )
    config = project(tmp_path, fakex)
    with Archive.from_config(config) as archive:
        report = archive.run()
        keys = archive.post_keys()
        post = archive.post(POST)
    assert report.errors == [] and keys == [f"x:{POST}"]
    assert post is not None and post.source == "wayback" and post.text == "The real post"
    assert post.quoted_key is None and post.reply_to_key is None


@pytest.mark.parametrize(
    "bad_id",
    ["../index", "", "12345678901234567890123", "１２３", "12a", "-5", " 123", 123.5, True, None],
)
def test_nested_ids_must_be_ascii_digits_of_snowflake_length(bad_id: object) -> None:
    snap = snapshot_from_tweet(hostile(POST, bad_id))
    assert snap.post_id == POST
    assert snap.quoted_post_id is None and snap.reply_to_post_id is None
    assert snap.related == []


def test_a_valid_nested_id_is_kept() -> None:
    ok = snapshot_from_tweet(make_tweet_payload(POST, "x", quoted=make_tweet_payload(QUOTED, "q")))
    assert ok.quoted_post_id == QUOTED and [r.post_id for r in ok.related] == [QUOTED]


def test_other_payload_ids_and_handles_are_checked() -> None:
    payload = make_tweet_payload(
        POST,
        "x",
        handle="sammy",
        edit_ids=["1", "../2", "123456789012345678901", POST],
        user_extra={"id_str": "../etc"},
    )
    payload["user"]["screen_name"] = "../../evil"
    snap = snapshot_from_tweet(payload)
    assert snap.author_id is None
    assert snap.author_handle is None
    assert snap.edit_ids == ["1", POST]
    assert "evil" not in (snap.url or "")


def test_a_bad_id_already_in_an_archive_never_names_a_file(tmp_path: Path, fakex: FakeX) -> None:
    """Defence in depth: an archive written before ids were checked holds x:../index;
    the refresh after an interrupted run skips it instead of failing every run."""
    fakex.add_post(make_tweet_payload(POST, "The real post", handle="sammy"))
    config = project(tmp_path, fakex)
    with Archive.from_config(config) as archive:
        assert archive.run().errors == []
        archive.store.save_snapshot(
            PostSnapshot(post_id="../index", text="planted", source="syndication"), utc_now()
        )
    interrupt(config)
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == []
    # No page was written for it: not over the index, not anywhere.
    assert sorted(p.name for p in (tmp_path / "out" / "embeds" / "x").iterdir()) == [f"{POST}.html"]
    assert 'href="x/../index.html"' not in (tmp_path / "out" / "embeds" / "index.html").read_text()


def test_is_post_id() -> None:
    assert is_post_id(POST) and is_post_id("20") and is_post_id("9" * 20)
    for bad in ("", "../index", "1" * 21, "١٢٣", "12 ", "x", "+12", "1e5"):
        assert not is_post_id(bad), bad
