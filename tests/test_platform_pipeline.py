"""Bluesky and Mastodon through the whole pipeline: scan → markup snapshot → network
snapshot → rewrite → deletion on the fake → recheck → status shown → restore.

Real archive (SQLite file in tmp_path), real article files, the fakes on 127.0.0.1
(``tests/fakebsky.py`` as the AppView through ``bluesky.appview``;
``tests/fakemastodon.py`` as any instance through ``http.host_overrides``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from click.testing import CliRunner
from fakebsky import FakeBsky, make_post_view
from fakemastodon import FakeMastodon, Reply, json_reply, make_status
from fakex import Fault

from archiver import Archive
from archiver.cli import cli

PLC = "did:plc:z72i7hdynmk6r22z27h6tvur"
TID = "3lbv5is6h6c2k"  # 2024-11-26T23:04:02.981Z
BSKY_KEY = f"bluesky:{PLC}/{TID}"
HOST = "social.example"
STATUS_ID = "113486342108431234"
MASTO_KEY = f"mastodon:{HOST}/{STATUS_ID}"


@pytest.fixture
def bsky() -> Iterator[FakeBsky]:
    with FakeBsky() as fake:
        yield fake


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


def bsky_snippet(author: str = PLC, *, uri: bool = True, text: str = "From the page") -> str:
    """The app's "Embed post" snippet; ``uri=False`` is a Ghost card's copy, which lost
    ``data-bluesky-uri`` (the post is then its date link, which may name a handle)."""
    attr = f' data-bluesky-uri="at://{author}/app.bsky.feed.post/{TID}"' if uri else ""
    return (
        f'<blockquote class="bluesky-embed"{attr} data-bluesky-embed-color-mode="system">'
        f'<p lang="en">{text}</p>&mdash; Alice (<a href="https://bsky.app/profile/{author}'
        f'?ref_src=embed">@alice.example.com</a>) <a href="https://bsky.app/profile/{author}'
        f'/post/{TID}?ref_src=embed">November 26, 2024 at 11:04 PM</a></blockquote>'
        '<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
    )


def masto_blockquote(host: str = HOST, status_id: str = STATUS_ID) -> str:
    """Mastodon 4.3+'s embed: no post text, the network must fill it."""
    url = f"https://{host}/@reporter/{status_id}"
    return (
        f'<blockquote class="mastodon-embed" data-embed-url="{url}/embed" '
        'style="background: #FCF8FF;"> '
        f'<a href="{url}" target="_blank"> <div>Post by @reporter@{host}</div> '
        "<div>View on Mastodon</div> </a> </blockquote> "
        f'<script data-allowed-prefixes="https://{host}/" async '
        f'src="https://{host}/embed.js"></script>'
    )


def masto_iframe(host: str = HOST, status_id: str = STATUS_ID) -> str:
    return (
        f'<iframe src="https://{host}/@reporter/{status_id}/embed" class="mastodon-embed" '
        'style="max-width: 100%; border: 0" width="400" allowfullscreen="allowfullscreen">'
        f'</iframe><script src="https://{host}/embed.js" async="async"></script>'
    )


def project(tmp_path: Path, articles: dict[str, str], **sections: Any) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir(exist_ok=True)
    for name, body in articles.items():
        (folder / name).write_text(
            f"<html><body><p>Intro</p>\n{body}\n<p>Outro</p></body></html>\n", encoding="utf-8"
        )
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": "articles"}],
        "output": {"dir": "out"},
        "recheck": ["0s"],  # every post is due again at once: each run rechecks
        "x": {"fetch": False},
        "http": {
            "concurrency": 8,
            "per_host_rate": 10_000,
            "timeout": 1.0,
            "retries": 0,
            "post_deadline": 5.0,
        },
    }
    for section, values in sections.items():
        config.setdefault(section, {}).update(values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def bsky_sections(fake: FakeBsky) -> dict[str, Any]:
    return {
        "bluesky": {"appview": fake.base_url},
        "media": {"download": True, "max_bytes": 1_000_000, "allowed_hosts": [fake.host]},
    }


def card(tmp_path: Path, name: str, key: str) -> Any:
    html = (tmp_path / "out" / name).read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser").select_one(f'blockquote[data-archived-post="{key}"]')


def rows(tmp_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(tmp_path / "archive.db")
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def test_bluesky_end_to_end(tmp_path: Path, bsky: FakeBsky) -> None:
    bsky.add_post(make_post_view(PLC, TID, "Full text from the AppView"))
    config = project(tmp_path, {"a.html": bsky_snippet()}, **bsky_sections(bsky))
    original = (tmp_path / "articles" / "a.html").read_bytes()
    with Archive.from_config(config) as archive:
        first = archive.run()
        post = archive.post(BSKY_KEY)
        assert first.errors == [] and first.posts_fetched == 1
        assert post is not None and post.status == "live" and post.source == "appview"
        assert post.text == "Full text from the AppView"
        # The markup snapshot came first, then the AppView's.
        sources = [
            s
            for (s,) in rows(
                tmp_path, "SELECT source FROM snapshots WHERE post_key = ? ORDER BY id", BSKY_KEY
            )
        ]
        assert sources == ["markup", "appview"]
        block = card(tmp_path, "a.html", BSKY_KEY)
        assert block is not None and "Full text from the AppView" in block.get_text()
        assert "embed.bsky.app" not in (tmp_path / "out" / "a.html").read_text()
        page = tmp_path / "out" / "embeds" / "bluesky" / f"{archive_stem(BSKY_KEY)}.html"
        assert page.exists()

        bsky.delete_post(f"at://{PLC}/app.bsky.feed.post/{TID}")
        second = archive.run()
        post = archive.post(BSKY_KEY)
        assert second.errors == []
        assert post is not None and post.status == "deleted"
        assert post.text == "Full text from the AppView"  # the last good content is kept
        block = card(tmp_path, "a.html", BSKY_KEY)
        assert block is not None and "deleted" in block.get_text().lower()

        [restored] = archive.restore(["a.html"])
    assert restored.error is None and restored.changed
    assert (tmp_path / "out" / "a.html").read_bytes() == original


def archive_stem(key: str) -> str:
    from archiver import platforms

    name, _, post_id = key.partition(":")
    return platforms.get(name).file_stem(post_id)


def test_bluesky_handle_is_resolved_and_shares_the_post_embedded_by_did(
    tmp_path: Path, bsky: FakeBsky
) -> None:
    handle = "alice.example.com"
    bsky.add_handle(handle, PLC)
    bsky.add_post(make_post_view(PLC, TID, "Full text from the AppView", handle=handle))
    articles = {
        "by-handle.html": bsky_snippet(handle, uri=False),  # a Ghost card: the date link
        "by-did.html": bsky_snippet(),
    }
    config = project(tmp_path, articles, **bsky_sections(bsky))
    with Archive.from_config(config) as archive:
        report = archive.run()
        assert report.errors == [] and report.fetch_failures == 0
        keys = [k for (k,) in rows(tmp_path, "SELECT key FROM posts ORDER BY key")]
        assert keys == [BSKY_KEY]  # one post, under its DID: no row for the handle form
        embeds = rows(
            tmp_path,
            "SELECT a.location, e.post_key FROM embeds e JOIN articles a ON a.id = e.article_id"
            " ORDER BY a.location",
        )
        assert embeds == [
            ("articles/by-did.html", BSKY_KEY),
            ("articles/by-handle.html", BSKY_KEY),
        ]
        for name in articles:
            block = card(tmp_path, name, BSKY_KEY)
            assert block is not None and "Full text from the AppView" in block.get_text()
        post = archive.post(BSKY_KEY)
        assert post is not None
        assert sorted(a.location for a in post.articles) == [
            "articles/by-did.html",
            "articles/by-handle.html",
        ]
        # `posts show` takes the handle URL too, the post's web URL and its at:// URI.
        for ref in (
            f"https://bsky.app/profile/{handle}/post/{TID}",
            f"https://bsky.app/profile/{PLC}/post/{TID}",
            f"at://{PLC}/app.bsky.feed.post/{TID}",
        ):
            found = archive.post(ref)
            assert found is not None and found.key == BSKY_KEY, ref
        # The article changes: its embed is filed under the DID at once, no second
        # handle lookup, no handle-form post.
        page = tmp_path / "articles" / "by-handle.html"
        page.write_text(page.read_text() + "<p>More</p>\n")
        again = archive.run()
        assert again.errors == [] and again.articles_scanned == 1
        keys = [k for (k,) in rows(tmp_path, "SELECT key FROM posts ORDER BY key")]
        assert keys == [BSKY_KEY]
    assert bsky.count("/xrpc/com.atproto.identity.resolveHandle") == 1


def masto_sections(fake: FakeMastodon, *hosts: str) -> dict[str, Any]:
    return {
        "http": {"host_overrides": fake.overrides(*(hosts or (HOST,)))},
        "media": {"download": True, "max_bytes": 1_000_000, "allowed_hosts": []},
    }


def test_mastodon_end_to_end(tmp_path: Path, masto: FakeMastodon) -> None:
    masto.add_status(HOST, make_status(HOST, STATUS_ID, "<p>Hello from the instance</p>"))
    config = project(tmp_path, {"a.html": masto_blockquote()}, **masto_sections(masto))
    original = (tmp_path / "articles" / "a.html").read_bytes()
    with Archive.from_config(config) as archive:
        first = archive.run()
        assert first.errors == [] and first.posts_fetched == 1
        post = archive.post(MASTO_KEY)
        assert post is not None and post.status == "live" and post.source == "api"
        assert post.text == "Hello from the instance"  # the blockquote held none
        for ref in (f"https://{HOST}/@reporter/{STATUS_ID}", MASTO_KEY):
            found = archive.post(ref)
            assert found is not None and found.key == MASTO_KEY, ref
        sources = [
            s
            for (s,) in rows(
                tmp_path, "SELECT source FROM snapshots WHERE post_key = ? ORDER BY id", MASTO_KEY
            )
        ]
        assert sources == ["markup", "api"]
        block = card(tmp_path, "a.html", MASTO_KEY)
        assert block is not None and "Hello from the instance" in block.get_text()
        out = (tmp_path / "out" / "a.html").read_text()
        assert "embed.js" not in out and "mastodon-embed" not in out
        page = tmp_path / "out" / "embeds" / "mastodon" / f"{archive_stem(MASTO_KEY)}.html"
        assert page.exists() and "Hello from the instance" in page.read_text()

        del masto.statuses[(HOST, STATUS_ID)]  # the author deletes it: 404 Record not found
        second = archive.run()
        assert second.errors == []
        post = archive.post(MASTO_KEY)
        assert post is not None and post.status == "deleted"
        assert post.text == "Hello from the instance"
        block = card(tmp_path, "a.html", MASTO_KEY)
        assert block is not None and "deleted" in block.get_text().lower()

        [restored] = archive.restore(["a.html"])
    assert restored.error is None and restored.changed
    assert (tmp_path / "out" / "a.html").read_bytes() == original


def test_astro_components_in_mdx_are_archived_and_found_again(
    tmp_path: Path, bsky: FakeBsky, masto: FakeMastodon
) -> None:
    bsky.add_post(make_post_view(PLC, TID, "Bluesky text"))
    masto.add_status(HOST, make_status(HOST, STATUS_ID, "<p>Mastodon text</p>"))
    sections = bsky_sections(bsky)
    sections["http"] = masto_sections(masto)["http"]
    config = project(tmp_path, {}, **sections)
    settings = yaml.safe_load(config.read_text())
    settings["sources"][0]["include"] = ["**/*.mdx"]
    config.write_text(yaml.safe_dump(settings))
    mdx = (
        "# Post\n\n"
        f'<BlueskyPost id="https://bsky.app/profile/{PLC}/post/{TID}" />\n\n'
        f'<MastodonPost id="https://{HOST}/@reporter/{STATUS_ID}" />\n\n'
        '<BlueskyPost id="https://example.com/not/a/post" />\n'
    )
    source = tmp_path / "articles" / "post.mdx"
    source.write_text(mdx, encoding="utf-8")
    with Archive.from_config(config) as archive:
        report = archive.run()
        assert report.errors == [] and report.embeds_found == 2
        out = (tmp_path / "out" / "post.mdx").read_text(encoding="utf-8")
        assert f'<div data-archived-post="{BSKY_KEY}" dangerouslySetInnerHTML=' in out
        assert f'<div data-archived-post="{MASTO_KEY}" dangerouslySetInnerHTML=' in out
        assert '<BlueskyPost id="https://example.com/not/a/post" />' in out  # not a post
        # Our own wrappers are found again as archived: regenerate writes the same bytes.
        archive.regenerate()
        assert (tmp_path / "out" / "post.mdx").read_text(encoding="utf-8") == out
        [restored] = archive.restore(["post.mdx"])
    assert restored.error is None
    assert (tmp_path / "out" / "post.mdx").read_text(encoding="utf-8") == mdx


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"author_labels": ["!no-unauthenticated"]}, "protected"),
        ({"author_labels": ["!takedown"]}, "suspended"),
        ({"labels": ["!takedown"]}, "unavailable"),
        (None, "deleted"),
        ("5xx", "live"),  # a failure to learn: the status stays, the failure is counted
    ],
)
def test_bluesky_statuses_recorded_and_shown(
    tmp_path: Path, bsky: FakeBsky, change: Any, status: str
) -> None:
    bsky.add_post(make_post_view(PLC, TID, "Full text"))
    config = project(tmp_path, {"a.html": bsky_snippet()}, **bsky_sections(bsky))
    with Archive.from_config(config) as archive:
        archive.run()
        uri = f"at://{PLC}/app.bsky.feed.post/{TID}"
        if change is None:
            bsky.delete_post(uri)
        elif change == "5xx":
            bsky.add_fault(Fault(status_5xx=10), path="/xrpc/app.bsky.feed.getPosts")
        else:
            bsky.add_post(make_post_view(PLC, TID, "Full text", **change))
        report = archive.run()
        post = archive.post(BSKY_KEY)
    assert post is not None and post.status == status
    assert post.text == "Full text"  # the last good content is kept
    assert report.fetch_failures == (1 if change == "5xx" else 0)
    [(error,)] = rows(tmp_path, "SELECT last_error FROM posts WHERE key = ?", BSKY_KEY)
    assert bool(error) == (change == "5xx")
    assert card(tmp_path, "a.html", BSKY_KEY) is not None


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (json_reply(404, {"error": "Record not found"}), "deleted"),
        (json_reply(401, {"error": "This API requires an authenticated user"}), "unavailable"),
        (Reply(503, b"<html>busy</html>", "text/html"), "live"),  # a failure, not a status
    ],
)
def test_mastodon_statuses_recorded(
    tmp_path: Path, masto: FakeMastodon, reply: Reply, status: str
) -> None:
    masto.add_status(HOST, make_status(HOST, STATUS_ID, "<p>Hello</p>"))
    config = project(tmp_path, {"a.html": masto_iframe()}, **masto_sections(masto))
    with Archive.from_config(config) as archive:
        archive.run()
        masto.add_reply(HOST, f"/api/v1/statuses/{STATUS_ID}", reply)
        report = archive.run()
        post = archive.post(MASTO_KEY)
    assert post is not None and post.status == status and post.text == "Hello"
    assert report.fetch_failures == (1 if status == "live" else 0)


X_EMBED = (
    '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">An X post</p>&mdash; Sam (@sam) '
    '<a href="https://twitter.com/sam/status/1641086480675225601">March 29, 2023</a></blockquote>'
)


def test_platform_filters_in_lists_search_and_export(tmp_path: Path) -> None:
    articles = {
        "x.html": X_EMBED,
        "bluesky.html": bsky_snippet(text="reporter words"),
        "mastodon.html": masto_iframe(),
    }
    config = project(tmp_path, articles, x={"fetch": False})
    settings = yaml.safe_load(config.read_text())
    settings.update({"bluesky": {"enabled": False}, "mastodon": {"enabled": False}})
    config.write_text(yaml.safe_dump(settings))
    runner = CliRunner()

    def cli_json(*args: str) -> Any:
        result = runner.invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert runner.invoke(cli, ["--config", str(config), "run"]).exit_code == 0
    listed = cli_json("posts", "list", "--platform", "bluesky", "--json")
    assert [p["key"] for p in listed] == [BSKY_KEY]
    listed = cli_json("posts", "list", "--platform", "mastodon", "--json")
    assert [p["key"] for p in listed] == [MASTO_KEY]
    assert len(cli_json("posts", "list", "--json")) == 3
    # "reporter" is the Mastodon author's handle and words of the Bluesky post.
    hits = cli_json("posts", "search", "reporter", "--platform", "mastodon", "--json")
    assert [h["key"] for h in hits] == [MASTO_KEY]
    found = cli_json("articles", "list", "--platform", "bluesky", "--json")
    assert [a["location"] for a in found] == ["articles/bluesky.html"]
    exported = runner.invoke(cli, ["--config", str(config), "export", "--platform", "x"])
    assert [json.loads(line)["key"] for line in exported.output.splitlines()] == [
        "x:1641086480675225601"
    ]
    unknown = runner.invoke(
        cli, ["--config", str(config), "posts", "list", "--platform", "myspace"]
    )
    assert unknown.exit_code == 2 and "myspace" in unknown.output


def test_index_export_and_regenerate_cover_every_platform(
    tmp_path: Path, bsky: FakeBsky, masto: FakeMastodon
) -> None:
    bsky.add_post(make_post_view(PLC, TID, "Bluesky words"))
    masto.add_status(HOST, make_status(HOST, STATUS_ID, "<p>Mastodon words</p>"))
    sections = bsky_sections(bsky)
    sections["http"] = masto_sections(masto)["http"]
    articles = {"a.html": bsky_snippet() + "\n" + masto_iframe() + "\n" + X_EMBED}
    config = project(tmp_path, articles, **sections)
    with Archive.from_config(config) as archive:
        assert archive.run().errors == []
        pages = archive.write_index(force=True)
        exported = tmp_path / "all.jsonl"
        archive.export(exported)
        out = tmp_path / "out" / "a.html"
        before = out.read_bytes()
        out.unlink()
        assert archive.regenerate().errors == []
    index = "".join(p.read_text(encoding="utf-8") for p in pages)
    for words in ("Bluesky words", "Mastodon words", "An X post"):
        assert words in index
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    assert sorted(r["platform"] for r in rows) == ["bluesky", "mastodon", "x"]
    assert out.read_bytes() == before  # regenerate writes the same three cards again


def test_mastodon_instance_down_for_long_gets_a_note(tmp_path: Path) -> None:
    from fakemastodon import refusing_base

    sections = {"http": {"host_overrides": {HOST: refusing_base()}}}
    config = project(tmp_path, {"a.html": masto_iframe()}, **sections)
    with Archive.from_config(config) as archive:
        first = archive.run()
        assert first.fetch_failures == 1
        [(since,)] = rows(tmp_path, "SELECT since FROM failing_since WHERE post_key = ?", MASTO_KEY)
        [(error,)] = rows(tmp_path, "SELECT last_error FROM posts WHERE key = ?", MASTO_KEY)
        assert since and error.startswith("instance unreachable:")
        assert "not been reachable" not in error  # a fresh failure: no note yet
        db = sqlite3.connect(tmp_path / "archive.db")
        db.execute("UPDATE failing_since SET since = '2000-01-01T00:00:00.000Z'")
        db.commit()
        db.close()
        archive.run()
        post = archive.post(MASTO_KEY)
    [(error,)] = rows(tmp_path, "SELECT last_error FROM posts WHERE key = ?", MASTO_KEY)
    assert f"The instance {HOST} has not been reachable since 2000-01-01" in error
    assert post is not None and post.status == "unknown"  # a failure is never a status


def test_the_service_rechecks_a_platform_switched_on_while_x_is_off(
    tmp_path: Path, bsky: FakeBsky
) -> None:
    from archiver.service import Service

    bsky.add_post(make_post_view(PLC, TID, "Full text"))
    config = project(tmp_path, {"a.html": bsky_snippet()}, **bsky_sections(bsky))  # x.fetch off
    with Archive.from_config(config) as archive:
        archive.run()
        bsky.delete_post(f"at://{PLC}/app.bsky.feed.post/{TID}")
        report = Service(archive)._recheck_if_due()  # the service's recheck job
        post = archive.post(BSKY_KEY)
    assert report is not None and report.posts_fetched == 1
    assert post is not None and post.status == "deleted"


def test_init_no_fetch_and_the_example_config_switch_every_platform_off(tmp_path: Path) -> None:
    from archiver.config import load_config
    from archiver.project import render_config

    (tmp_path / "init.yaml").write_text(render_config("articles", fetch=False))
    repo_example = Path(__file__).resolve().parent.parent / "config.yaml"
    for path in (tmp_path / "init.yaml", repo_example):
        config = load_config(path)
        assert [config.fetches(p) for p in ("x", "bluesky", "mastodon")] == [False] * 3, path
    on = load_config_text(tmp_path, render_config("articles"))
    assert [on.fetches(p) for p in ("x", "bluesky", "mastodon")] == [True] * 3


def load_config_text(tmp_path: Path, text: str) -> Any:
    from archiver.config import load_config

    path = tmp_path / "on.yaml"
    path.write_text(text)
    return load_config(path)
