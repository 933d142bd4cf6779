"""A post's card rendered once per pass and filled in for every article showing it.

``render.embed_stencil`` must give exactly the bytes of ``render_embed`` for every
article folder, and the pass must never fill in a card of content that has changed
since: real files, a real SQLite archive, the real pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from archive_helpers import ARABIC_TEXT, POST_ARABIC, make_project, page, tweet
from test_render import make_post, quoted_post, soup_of

from archiver import Archive, pipeline
from archiver.models import MediaItem, Post
from archiver.render import embed_stencil, render_embed

PAGE = "x/2020868064400117767.html"


def rich_post() -> Post:
    """A post with every kind of local link: avatar, photo, video and poster, a link
    card's image, and a quoted post with its own photo."""
    photo = MediaItem("photo", "https://pbs.twimg.com/a.jpg", "a & b", 1200, 800, "ab/c d.jpg")
    video = MediaItem(
        "video",
        "https://video.twimg.com/v.mp4",
        "clip",
        640,
        360,
        local_path="vv/v.mp4",
        poster_local_path="vv/p.jpg",
    )
    card = {
        "type": "link",
        "url": "https://news.example/story",
        "title": "Story",
        "image_local_path": "cc/card.jpg",
    }
    quoted = quoted_post(
        media=[MediaItem("photo", "https://pbs.twimg.com/q.jpg", "q", 10, 10, "qq/q.jpg")]
    )
    return make_post(author_avatar="av/me.jpg", media=[photo, video], card=card, quoted=quoted)


# Article folders as the pipeline sees them: relative, deep, root-relative, with
# characters that escaping turns into references, and a configured URL path.
FITTING = ["..", "../../..", "embeds", "/site/embeds", "../a&b", "../caf\u00e9", ""]


@pytest.mark.parametrize("href", FITTING)
@pytest.mark.parametrize("lang", [None, "hi", "ar"])
def test_a_filled_stencil_is_the_card_render_embed_gives(href: str, lang: str | None) -> None:
    post = rich_post()
    stencil = embed_stencil(post, PAGE, "media/", lang)
    for style in (True, False):
        expected = render_embed(post, f"{href}/{PAGE}", f"{href}/media/", lang=lang, style=style)
        assert stencil.fill(href, style) == expected
    # And the links are the article's own, not the stand-in's.
    card = soup_of(stencil.fill(href) or "")
    links = [a["href"] for a in card.select(".eac-links a")]
    assert f"{href}/{PAGE}" in links
    assert card.select_one(".eac-av img")["src"] == f"{href}/media/av/me.jpg"


@pytest.mark.parametrize(
    "href",
    [
        "https://cdn.example/embeds",  # media must not load from a third party
        "../with space",
        '../quo"te',
        "../{{ evil }}",
        "../line\nbreak",
    ],
)
def test_an_href_the_checks_would_change_is_left_to_render_embed(href: str) -> None:
    post = rich_post()
    assert embed_stencil(post, PAGE, "media/").fill(href) is None
    try:
        card = render_embed(post, f"{href}/{PAGE}", f"{href}/media/")
    except ValueError:
        return  # refused outright: the pipeline reports the article
    assert f"{href}/{PAGE}" not in card  # no link through an href the checks refused


def test_a_card_is_the_same_whatever_is_rendered_before_it() -> None:
    """A stencil of one post never carries another's values (no state between renders)."""
    first = embed_stencil(make_post(), PAGE, "media/")
    embed_stencil(rich_post(), PAGE, "media/", "hi")
    again = embed_stencil(make_post(), PAGE, "media/")
    assert first == again


def test_cards_of_a_post_changed_mid_pass_show_its_new_content_in_every_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post shown by articles in two languages and folders, then met with richer
    markup in a later batch: every article ends with the richer card, dated in its own
    language, linking to the post's page from its own folder."""
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 1)  # one article per batch, in order
    short = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT)
    richer = tweet(
        POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT + " pic.twitter.com/AbCdEf12"
    )
    hindi = page("Hindi", short).replace("<html>", '<html lang="hi">')
    config = make_project(
        tmp_path,
        {
            "a/english.html": page("English", short),
            "b/c/hindi.html": hindi,
            "z/later.html": page("Later", richer),
        },
    )
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == []
    out = tmp_path / "out"
    page_path = out / "embeds" / "x" / f"{POST_ARABIC}.html"
    for name, date in (
        ("a/english.html", "Jan 3, 2025"),
        ("b/c/hindi.html", "3 जनवरी 2025"),
        ("z/later.html", "Jan 3, 2025"),
    ):
        article = out / name
        card = soup_of(article.read_text(encoding="utf-8")).select_one("blockquote.eac")
        assert card is not None, name
        assert "pic.twitter.com/AbCdEf12" in card.get_text(), name
        time = card.find("time")
        assert time is not None and date in time.get_text(), name
        copy = card.select_one(".eac-links a")
        assert copy is not None and (article.parent / copy["href"]).resolve() == page_path
    # What a second pass renders from the archive alone is what the first one wrote.
    written = {p: p.read_bytes() for p in out.rglob("*.html") if p.parent.name != "x"}
    with Archive.from_config(config) as archive:
        archive.regenerate()
    assert {p: p.read_bytes() for p in written} == written


def test_no_link_through_an_href_with_whitespace_or_control_characters() -> None:
    """Every character the local-link check refuses, checked one by one (a regex now:
    Unicode whitespace included, as ``str.isspace`` has it)."""
    refused = [chr(i) for i in range(0x110000) if chr(i).isspace() or i < 32]
    refused += list("\"'<>\\`")
    for char in refused:
        card = render_embed(make_post(), f"../x/1{char}.html", "../media/")
        assert "Archived copy" not in card, repr(char)
    assert "Archived copy" in render_embed(make_post(), "../x/1.html", "../media/")


def test_every_card_fixture_fills_in_as_render_embed_renders_it() -> None:
    """Polls, link cards, media of every kind, quotes, Bluesky and Mastodon posts,
    hostile values: the stencil never changes a byte."""
    from card_fixtures import BLUESKY_POST, MASTODON_POST, fixtures

    for name, post in {**fixtures(), "bluesky": BLUESKY_POST, "mastodon": MASTODON_POST}.items():
        for lang in (None, "hi"):
            stencil = embed_stencil(post, PAGE, "media/", lang)
            for href in ("../..", "/embeds"):
                expected = render_embed(post, f"{href}/{PAGE}", f"{href}/media/", lang=lang)
                assert stencil.fill(href) == expected, (name, lang, href)


def test_a_post_page_is_written_once_when_first_linked_and_once_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run meets a post in three articles, one batch each, the second with
    richer markup: its page is written when the first article links to it, then once
    more at the end of the pass with the richer content and all three articles (not
    also in between, when the richer markup was met)."""
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 1)
    short = tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT)
    richer = tweet(
        POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", ARABIC_TEXT + " pic.twitter.com/AbCdEf12"
    )
    config = make_project(
        tmp_path,
        {"a.html": page("A", short), "b.html": page("B", richer), "c.html": page("C", richer)},
    )
    post_page = tmp_path / "out" / "embeds" / "x" / f"{POST_ARABIC}.html"
    seen: list[bytes] = []

    def between_batches(location: str) -> None:  # called as each article is read
        if post_page.exists() and (not seen or seen[-1] != post_page.read_bytes()):
            seen.append(post_page.read_bytes())

    with Archive.from_config(config) as archive:
        assert archive.run(progress=between_batches).errors == []
    between_batches("end")
    assert len(seen) == 2, [len(s) for s in seen]
    final = soup_of(seen[-1].decode("utf-8"))
    assert "pic.twitter.com/AbCdEf12" in final.get_text()
    listed = [a.get_text() for a in final.select("section.embedded li > a:first-child")]
    assert listed == ["articles/a.html", "articles/b.html", "articles/c.html"]
