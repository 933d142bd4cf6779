"""Bluesky and Mastodon cards: what a reader sees where the original embed was.

Each test runs the whole archive (real articles in tmp_path, a real SQLite archive, the
fake AppView or Mastodon server on 127.0.0.1) and reads the rewritten article and the
post's local copy page, as a reader would. X's cards are pinned byte for byte by
test_render.py and bench/bench_scan.py; here: that the other platforms' cards name
their own platform and link to it, never to X.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from archive_helpers import make_project, page
from fakebsky import (
    ALICE,
    BOB,
    FakeBsky,
    at_uri,
    external_view,
    facet,
    images_view,
    make_post_view,
    quote_view,
    record_with_media_view,
    video_view,
)
from fakemastodon import FakeMastodon, make_account, make_status
from fakex import tiny_jpeg, tiny_png

from archiver import Archive
from archiver.models import Post
from archiver.render import render_embed, render_post_page

HOST = "social.example"
RKEY = "3lbv5is6h6c2k"  # a TID: 2024-11-26T23:04:02.981Z
QUOTED_RKEY = "3kqmooj3ems2w"
STATUS_ID = "113486342108431234"


def _bluesky_embed(did: str, rkey: str) -> str:
    """The Bluesky app's embed snippet (text left out: the AppView fills the card)."""
    return (
        f'<blockquote class="bluesky-embed" data-bluesky-uri="{at_uri(did, rkey)}">'
        f'<p lang="en">placeholder</p>&mdash; Alice (<a href="https://bsky.app/profile/{did}">'
        f'@alice.example.com</a>) <a href="https://bsky.app/profile/{did}/post/{rkey}">'
        "November 26, 2024</a></blockquote>"
        '<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
    )


def _mastodon_embed(host: str, user: str, status_id: str) -> str:
    """The classic Mastodon iframe embed with its script."""
    return (
        f'<iframe src="https://{host}/@{user}/{status_id}/embed" class="mastodon-embed" '
        'style="max-width: 100%; border: 0" width="400" allowfullscreen="allowfullscreen">'
        f'</iframe><script src="https://{host}/embed.js" async="async"></script>'
    )


def _run(tmp_path: Path, article: str, extra: str) -> str:
    """Archive one article with fetching on; the rewritten article's text."""
    config = make_project(tmp_path, {"a.html": page("Story", article)}, extra=extra)
    config.write_text(config.read_text().replace("x:\n  fetch: false\n", ""), encoding="utf-8")
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == [] and report.fetch_failures == 0, report.as_dict()
    return (tmp_path / "out" / "a.html").read_text(encoding="utf-8")


def _card(article: str) -> str:
    """The first card of a rewritten article, its stylesheet left out."""
    m = re.search(r'<blockquote class="archived-post eac".*?</blockquote>(?=\n)', article, re.S)
    assert m is not None, article
    return re.sub(r"<style>[^<]*</style>", "", m.group(0))


def _copy_page(tmp_path: Path, card: str) -> str:
    m = re.search(r'<a href="(embeds/[^"]+)">Archived copy</a>', card)
    assert m is not None, card
    return (tmp_path / "out" / m.group(1)).read_text(encoding="utf-8")


def _hrefs(html: str) -> list[str]:
    return re.findall(r'(?:href|src|cite)="([^"]*)"', html)


# --- Bluesky ----------------------------------------------------------------------------


@pytest.fixture
def bsky() -> Iterator[FakeBsky]:
    with FakeBsky() as fake:
        yield fake


def _bsky_extra(fake: FakeBsky) -> str:
    return (
        f"bluesky:\n  appview: {fake.base_url}\n"
        f"media:\n  allowed_hosts: ['{fake.host}']\n"
        "http:\n  per_host_rate: 10000\n  retries: 1\n"
    )


def _bluesky_post(fake: FakeBsky) -> None:
    """A post with a mention, a link and a tag facet, a plain-text mention and tag, two
    images with alt text, and a quote of another post with a link card."""
    base = fake.base_url
    for cid, seed in (("cidone", 1), ("cidtwo", 2)):
        fake.add_media(f"/img/feed_fullsize/plain/{ALICE}/{cid}@jpeg", tiny_jpeg(seed))
    fake.add_media(f"/img/avatar/plain/{ALICE}/av@jpeg", tiny_jpeg(3))
    text = "Hi @bob.example.com see example.org/x #news, and @carol.example.net #vote2026"
    data = text.encode()
    facets = [
        facet(3, 19, "mention", BOB),
        facet(
            data.index(b"example.org"),
            data.index(b"example.org") + 13,
            "link",
            "https://example.org/x",
        ),
        facet(data.index(b"#news"), data.index(b"#news") + 5, "tag", "news"),
    ]
    quoted = make_post_view(
        BOB,
        QUOTED_RKEY,
        "The quoted words",
        handle="bob.example.com",
        name="Bob",
        embed=external_view("https://example.org/story", "A story", "What happened", None),
    )
    view = make_post_view(
        ALICE,
        RKEY,
        text,
        name='Alice "<b>A</b>"',
        avatar=f"{base}/img/avatar/plain/{ALICE}/av@jpeg",
        facets=facets,
        embed=record_with_media_view(
            quote_view(quoted),
            images_view(base, ALICE, ["cidone", "cidtwo"], ["A red chart", "A blue map"]),
        ),
    )
    fake.add_post(view)


def test_a_bluesky_card_shows_the_post_as_bluesky_did(bsky: FakeBsky, tmp_path: Path) -> None:
    _bluesky_post(bsky)
    card = _card(_run(tmp_path, _bluesky_embed(ALICE, RKEY), _bsky_extra(bsky)))
    # Who: avatar (a local file), display name (escaped) over the handle, to the profile.
    assert '<span class="eac-av"><img src="embeds/media/' in card
    assert "Alice &#34;&lt;b&gt;A&lt;/b&gt;&#34;" in card and "<b>A</b>" not in card
    assert "@alice.example.com</bdi>" in card
    assert 'href="https://bsky.app/profile/alice.example.com"' in card
    # The platform's name, and where the post lives.
    assert '<span class="eac-x" title="Post on Bluesky">Bluesky</span>' in card
    assert (
        f'href="https://bsky.app/profile/{ALICE}/post/{RKEY}" rel="nofollow noopener noreferrer">View on Bluesky</a>'
        in card
    )
    # Text: facet links kept; a plain mention and tag linked to Bluesky, not X.
    assert (
        f'<a href="https://bsky.app/profile/{BOB}" rel="nofollow noopener noreferrer">@bob.example.com</a>'
        in card
    )
    assert (
        '<a href="https://example.org/x" rel="nofollow noopener noreferrer">example.org/x</a>'
        in card
    )
    assert (
        '<a href="https://bsky.app/hashtag/news" rel="nofollow noopener noreferrer">#news</a>'
        in card
    )
    assert (
        'href="https://bsky.app/profile/carol.example.net" rel="nofollow noopener noreferrer" dir="ltr">@carol.example.net</a>'
        in card
    )
    assert 'href="https://bsky.app/hashtag/vote2026"' in card
    # Images with their alt text; the quote with its own link card, named Bluesky.
    assert re.search(r'<img src="embeds/media/[0-9a-f]+\.jpe?g" alt="A red chart"', card)
    assert 'alt="A blue map"' in card and 'style="aspect-ratio:1200 / 800"' in card
    quote = card[card.index('<blockquote class="archived-quote') :]
    assert "The quoted words" in quote and "@bob.example.com" in quote
    assert 'href="https://example.org/story"' in quote and "A story" in quote
    assert ">Quoted post on Bluesky</a>" in quote
    # The time from the TID record key.
    assert (
        '<time datetime="2024-11-26T23:04:02.981Z" lang="en">11:04 PM UTC · Nov 26, 2024</time>'
        in card
    )
    assert "x.com" not in card and "twitter" not in card
    assert all(h.startswith(("https://", "embeds/")) for h in _hrefs(card)), _hrefs(card)


def test_a_bluesky_copy_page_and_the_index_say_where_the_copy_came_from(
    bsky: FakeBsky, tmp_path: Path
) -> None:
    _bluesky_post(bsky)
    card = _card(_run(tmp_path, _bluesky_embed(ALICE, RKEY), _bsky_extra(bsky)))
    copy = _copy_page(tmp_path, card)
    assert "Fetched from Bluesky" in copy and "Fetched from X" not in copy
    assert ">View on Bluesky</a>" in copy
    assert "x.com" not in copy
    # The archive's index lists it the same way.
    index = (tmp_path / "out" / "embeds" / "index.html").read_text(encoding="utf-8")
    assert ">View on Bluesky</a>" in index and "View on X" not in index
    assert '<bdi class="handle" dir="ltr">@alice.example.com</bdi>' in index


def test_a_bluesky_video_shows_its_archived_still(bsky: FakeBsky, tmp_path: Path) -> None:
    # The HLS stream is not downloaded (a playlist of segments); its still is, and the
    # card shows it where the video was instead of "1 attachment not archived".
    bsky.add_media(f"/watch/{quote(ALICE, safe='')}/vidcid/thumbnail.jpg", tiny_jpeg(7))
    view = make_post_view(ALICE, RKEY, "A clip", embed=video_view(bsky.base_url, ALICE, "vidcid"))
    bsky.add_post(view)
    card = _card(_run(tmp_path, _bluesky_embed(ALICE, RKEY), _bsky_extra(bsky)))
    assert re.search(
        r'<span class="eac-cell"><img src="embeds/media/[0-9a-f]+\.jpg" alt="a short clip" '
        r'width="1080" height="1920" style="aspect-ratio:1080 / 1920" loading="lazy">'
        r'<span class="eac-play">Video not archived</span></span>',
        card,
    ), card
    assert "not archived." not in card


def test_an_unchecked_bluesky_post_reads_from_its_markup(tmp_path: Path) -> None:
    article = _bluesky_embed(ALICE, RKEY).replace("placeholder", "Words from the markup")
    config = make_project(
        tmp_path, {"a.html": page("Story", article)}, extra="bluesky:\n  enabled: false\n"
    )
    with Archive.from_config(config) as archive:
        assert archive.run().errors == []
    card = _card((tmp_path / "out" / "a.html").read_text(encoding="utf-8"))
    assert "Words from the markup" in card and 'data-status="unknown"' in card
    assert ">View on Bluesky</a>" in card
    copy = _copy_page(tmp_path, card)
    assert "Not checked on Bluesky yet" in copy and "on X" not in copy


# --- Mastodon ---------------------------------------------------------------------------


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


def _masto_extra(fake: FakeMastodon) -> str:
    return f"http:\n  per_host_rate: 10000\n  retries: 1\n  host_overrides:\n    {HOST}: {fake.base_url}\n"


def _mastodon_post(fake: FakeMastodon) -> None:
    """An edited post with a hashtag and two mentions (one remote) in plain text, an
    image with its description, a finished poll, and a quote."""
    fake.add_media("/media/a.png", tiny_png(1))
    fake.add_media("/media/avatars/reporter.png", tiny_png(4))
    fake.add_media("/media/avatars/editor.png", tiny_png(5))
    quoted = make_status(
        HOST,
        "113486342108430000",
        "<p>What the editor said</p>",
        username="editor",
        account=make_account(HOST, "editor", display_name="The Editor"),
    )
    status = make_status(
        HOST,
        STATUS_ID,
        "<p>Results #vote2026 with @bob@other.example and @carol</p>"
        '<p class="quote-inline">RE: <a href="https://social.example/@editor/113486342108430000">'
        "https://social.example/@editor/113486342108430000</a></p>",
        account=make_account(HOST, "reporter", display_name="Réporter <i>x</i>"),
        media_attachments=[
            {
                "id": "1",
                "type": "image",
                "url": f"https://{HOST}/media/a.png",
                "description": "A bar chart of the vote",
                "meta": {"original": {"width": 4, "height": 3}},
            }
        ],
        poll={
            "options": [{"title": "Yes", "votes_count": 3}, {"title": "No", "votes_count": 1}],
            "expired": True,
            "expires_at": "2026-08-02T00:00:00Z",
        },
        quote={"state": "accepted", "quoted_status": quoted},
        edited_at="2026-08-01T14:00:00.000Z",
    )
    fake.add_status(HOST, status)
    fake.add_history(
        HOST,
        STATUS_ID,
        [
            {"content": "<p>Results</p>", "created_at": "2026-08-01T13:53:15.378Z"},
            {"content": "<p>Results #vote2026</p>", "created_at": "2026-08-01T14:00:00.000Z"},
        ],
    )


def test_a_mastodon_card_shows_the_post_as_its_server_did(
    masto: FakeMastodon, tmp_path: Path
) -> None:
    _mastodon_post(masto)
    card = _card(_run(tmp_path, _mastodon_embed(HOST, "reporter", STATUS_ID), _masto_extra(masto)))
    assert '<span class="eac-av"><img src="embeds/media/' in card
    assert "Réporter &lt;i&gt;x&lt;/i&gt;" in card and "@reporter</bdi>" in card
    # Profiles, mentions and tags on the post's own server.
    assert f'href="https://{HOST}/@reporter"' in card
    assert (
        f'<a href="https://{HOST}/tags/vote2026" rel="nofollow noopener noreferrer">#vote2026</a>'
        in card
    )
    assert (
        f'href="https://{HOST}/@bob@other.example" rel="nofollow noopener noreferrer" dir="ltr">@bob@other.example</a>'
        in card
    )
    assert f'href="https://{HOST}/@carol"' in card
    assert '<span class="eac-x" title="Post on Mastodon">Mastodon</span>' in card
    assert (
        f'href="https://{HOST}/@reporter/{STATUS_ID}" rel="nofollow noopener noreferrer">View on Mastodon</a>'
        in card
    )
    assert 'alt="A bar chart of the vote"' in card
    # The poll with its results, the edited marker next to the date.
    assert (
        '<span class="eac-choice-label">Yes</span> <span class="eac-choice-pct">75% (3 votes)</span>'
        in card
    )
    assert "4 votes · Final results" in card
    assert (
        '<time datetime="2026-08-01T13:53:15.378Z" lang="en">1:53 PM UTC · Aug 1, 2026</time><span class="archived-post-edited eac-edited">Edited</span>'
        in card
    )
    quote = card[card.index('<blockquote class="archived-quote') :]
    assert "What the editor said" in quote and "The Editor" in quote
    assert ">Quoted post on Mastodon</a>" in quote
    assert "x.com" not in card
    assert all(h.startswith(("https://", "embeds/")) for h in _hrefs(card)), _hrefs(card)
    copy = _copy_page(tmp_path, card)
    assert (
        "Fetched from Mastodon" in copy
        and "Note from the archive: &ldquo;Edited: 2 versions" in copy
    )
    assert "X said" not in copy


def test_a_mastodon_post_gone_says_so_in_its_own_words(masto: FakeMastodon, tmp_path: Path) -> None:
    from fakemastodon import json_reply

    masto.add_reply(
        HOST,
        f"/api/v1/statuses/{STATUS_ID}",
        json_reply(401, {"error": "This API requires an authenticated user"}),
    )
    card = _card(_run(tmp_path, _mastodon_embed(HOST, "reporter", STATUS_ID), _masto_extra(masto)))
    assert 'data-status="unavailable"' in card
    assert "This post is no longer available on Mastodon" in card and "on X" not in card
    assert ">View on Mastodon</a>" in card


# --- the renderer alone: keys and hostile values ---------------------------------------


def _post(platform: str, post_id: str, **kw: object) -> Post:
    fields: dict[str, object] = dict(
        key=f"{platform}:{post_id}",
        platform=platform,
        post_id=post_id,
        url="",
        author_handle=None,
        author_name=None,
        text="words",
        html=None,
        lang="en",
        created_at=None,
        status="live",
        source="markup",
        first_seen_at="2026-02-10T08:00:00.000Z",
        archived_at="2026-02-10T08:00:00.000Z",
    )
    fields.update(kw)
    return Post(**fields)  # type: ignore[arg-type]


def test_a_quote_we_do_not_hold_links_to_its_own_platform() -> None:
    bluesky = _post("bluesky", f"{ALICE}/{RKEY}", quoted_key=f"bluesky:{BOB}/{QUOTED_RKEY}")
    mastodon = _post("mastodon", f"{HOST}/{STATUS_ID}", quoted_key=f"mastodon:{HOST}/1")
    assert f'<a href="https://bsky.app/profile/{BOB}/post/{QUOTED_RKEY}"' in render_embed(
        bluesky, "c.html", "m/"
    )
    assert f'<a href="https://{HOST}/api/v1/statuses/1"' in render_embed(mastodon, "c.html", "m/")
    # A malformed key links nowhere rather than somewhere wrong.
    odd = _post("mastodon", f"{HOST}/{STATUS_ID}", quoted_key="mastodon:javascript:alert(1)")
    assert "javascript" not in render_embed(odd, "c.html", "m/").split("</style>")[1]


def test_handles_are_checked_against_each_platform_s_own_form() -> None:
    # Each platform's handle form is shown and linked: a DNS name, user@host.
    for platform, post_id, handle, profile in (
        (
            "bluesky",
            f"{ALICE}/{RKEY}",
            "alice.example.com",
            "https://bsky.app/profile/alice.example.com",
        ),
        (
            "mastodon",
            f"{HOST}/{STATUS_ID}",
            "bob@other.example",
            f"https://{HOST}/@bob@other.example",
        ),
    ):
        out = render_embed(_post(platform, post_id, author_handle=handle), "c.html", "m/")
        assert f'<a class="eac-who" href="{profile}"' in out and f"@{handle}</bdi>" in out
    # Anything else is neither shown nor linked.
    for platform, post_id, handle in (
        ("bluesky", f"{ALICE}/{RKEY}", 'x" onmouseover="alert(1)'),
        ("mastodon", f"{HOST}/{STATUS_ID}", "a/../../evil"),
    ):
        post = _post(platform, post_id, author_handle=handle, author_name="N")
        out = render_embed(post, "c.html", "m/").split("</style>")[1]
        assert "eac-handle" not in out and "onmouseover" not in out and "evil" not in out
        page_html = render_post_page(post, "m/")
        assert "onmouseover" not in page_html and "evil" not in page_html


def test_a_platform_the_install_does_not_know_still_gets_a_plain_card() -> None:
    post = _post("retired", "123", text="kept")
    out = render_embed(post, "c.html", "m/")
    assert "kept" in out and ">retired</span>" in out and "View on X" not in out
