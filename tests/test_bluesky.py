"""Bluesky as a platform package: URLs and ids, TID time, recognisers, the markup
snapshot, AppView payloads, and the fetcher against tests/fakebsky.py (a real HTTP
server on 127.0.0.1 playing the AppView and its CDN).

Embed markup below is written fresh in the shapes of the real snippets
(../shared/platforms/bluesky/embed/); the corpus files themselves are read, when
present, only to check the recognisers on real markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fakebsky import (
    ALICE,
    BOB,
    CAROL,
    GET_POSTS,
    RESOLVE_HANDLE,
    FakeBsky,
    at_uri,
    external_view,
    facet,
    fetch_posts,
    gallery_view,
    images_view,
    make_post_view,
    quote_gone_view,
    quote_view,
    record_with_media_view,
    video_view,
)
from fakex import Fault, tiny_jpeg

from archiver.config import BlueskyConfig, ConfigError, config_from_dict
from archiver.detect import _classes, _parse_tag
from archiver.models import EmbedSpan, PostSnapshot
from archiver.platforms.base import StartTag
from archiver.platforms.bluesky import BLUESKY
from archiver.platforms.bluesky.payload import facets_html, snapshot_from_post_view
from archiver.platforms.bluesky.recognisers import RECOGNISERS
from archiver.platforms.bluesky.tid import created_at_from_rkey, tid_iso_micros
from archiver.platforms.bluesky.urls import file_stem, is_post_id, parse_url

PLC = "did:plc:z72i7hdynmk6r22z27h6tvur"
TID = "3lbv5is6h6c2k"  # 2024-11-26T23:04:02.981Z (atproto's own worked example)
SHARED_EMBEDS = Path(__file__).resolve().parents[2] / "shared" / "platforms" / "bluesky" / "embed"


@pytest.fixture
def fake() -> Iterator[FakeBsky]:
    with FakeBsky() as server:
        yield server


# --- URLs and ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://bsky.app/profile/{PLC}/post/{TID}",
        f"https://bsky.app/profile/{PLC}/post/{TID}?ref_src=embed",
        f"https://bsky.app/profile/{PLC}/post/{TID}?ref=newsroom.ghost.io",
        f"https://bsky.app/profile/{PLC}/post/{TID}/",
        f"http://bsky.app/profile/{PLC}/post/{TID}#replies",
        f"https://BSKY.APP/profile/{PLC}/post/{TID}",
        f"https://bsky.app/profile/{PLC.replace(':', '%3A')}/post/{TID}",
        f"at://{PLC}/app.bsky.feed.post/{TID}",
        f"https://embed.bsky.app/embed/{PLC}/app.bsky.feed.post/{TID}?id=1&ref_url=x",
    ],
)
def test_every_url_form_names_the_post_by_did(url: str) -> None:
    ref = parse_url(url)
    assert ref is not None
    assert ref.post_id == f"{PLC}/{TID}"
    assert ref.handle is None
    assert ref.url == f"https://bsky.app/profile/{PLC}/post/{TID}"
    assert is_post_id(ref.post_id)


def test_a_handle_url_is_a_handle_ref_until_resolved() -> None:
    ref = parse_url(f"https://bsky.app/profile/Alice.Example.COM/post/{TID}?ref_src=embed")
    assert ref is not None
    assert (ref.post_id, ref.handle) == (f"alice.example.com/{TID}", "alice.example.com")
    assert not is_post_id(ref.post_id)  # stored only once resolved to a DID


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.bsky.app/profile/{PLC}/post/{TID}",
        f"https://staging.bsky.app/profile/{PLC}/post/{TID}",
        f"https://bsky.app.evil.example/profile/{PLC}/post/{TID}",
        f"https://user@bsky.app/profile/{PLC}/post/{TID}",
        f"javascript://bsky.app/profile/{PLC}/post/{TID}",
        f"https://bsky.app/profile/{PLC}",
        f"https://bsky.app/profile/{PLC}/feed/{TID}",
        f"https://bsky.app/profile/{PLC}/post/{TID}/likes",
        f"https://bsky.app/profile/did:plc:short/post/{TID}",
        f"https://bsky.app/profile/did:key:z6Mkabc/post/{TID}",
        f"https://bsky.app/profile/{PLC}/post/..",
        f"https://bsky.app/profile/{PLC}/post/a%2Fb",
        f"at://{PLC}/app.bsky.feed.like/{TID}",
        f"https://embed.bsky.app/embed/{PLC}/app.bsky.feed.generator/{TID}",
        "https://bsky.app/profile/not_a_handle/post/3lbv5is6h6c2k",
    ],
)
def test_lookalikes_are_not_posts(url: str) -> None:
    assert parse_url(url) is None


def test_is_post_id_accepts_only_the_did_form() -> None:
    assert is_post_id(f"{PLC}/{TID}")
    assert is_post_id(f"did:web:news.example/{TID}")
    assert is_post_id("did:web:localhost%3A8080/self")
    assert not is_post_id("did:web:localhost%3a8080/self")  # one spelling per DID
    assert not is_post_id("did:web:News.Example/self")
    ref = parse_url("at://did:web:News.Example%3a8080/app.bsky.feed.post/self")
    assert ref is not None and ref.post_id == "did:web:news.example%3A8080/self"
    assert not is_post_id(f"alice.example.com/{TID}")
    assert not is_post_id(f"{PLC.upper()}/{TID}")
    assert not is_post_id(f"{PLC}/{'a' * 513}")
    assert not is_post_id(f"{PLC}/a/b")
    assert not is_post_id("1641086480675225601")
    assert not is_post_id(None)
    assert BLUESKY.canonical_url(f"{PLC}/{TID}", "ignored.example") == (
        f"https://bsky.app/profile/{PLC}/post/{TID}"
    )


def _unstem(stem: str) -> str:
    """Undo file_stem's readable form (the test's proof that it is injective)."""
    method, _, rest = stem.partition("-")
    ident, _, rkey = rest.partition("__")

    def unescape(value: str) -> str:
        raw = re.sub(r"_([0-9A-F]{2})", lambda m: f"%{m.group(1)}", value)
        return unquote(raw)

    return f"did:{method}:{unescape(ident)}/{unescape(rkey)}"


TRICKY_IDS = [
    f"{PLC}/{TID}",
    f"{PLC}/a_7E",
    f"{PLC}/a~",
    f"{PLC}/a_",
    f"{PLC}/a__b",
    f"{PLC}/_5F",
    f"{PLC}/a:b",
    f"{PLC}/a.b",
    f"{PLC}/a-b",
    f"{PLC}/.a",
    f"{PLC}/~",
    "did:web:news.example/a",
    "did:web:news.example%3A8443/a",
    "did:web:news.example.a/b",
    "did:web:news-example/a",
    f"{PLC}/{'~' * 300}",
    f"{PLC}/{'~' * 299}",
    f"{PLC}/{'a' * 512}",
    f"{PLC}/{'a' * 511}b",
]


def test_file_stems_are_safe_and_injective() -> None:
    stems = [file_stem(post_id) for post_id in TRICKY_IDS]
    assert len(set(stems)) == len(stems)
    for post_id, stem in zip(TRICKY_IDS, stems, strict=True):
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,120}", stem), stem
        assert not stem.startswith(".")
        if len(stem) <= 100:  # the readable form decodes back to its id
            assert _unstem(stem) == post_id
        else:
            assert len(stem) == 120
    assert file_stem(f"{PLC}/{TID}") == f"plc-z72i7hdynmk6r22z27h6tvur__{TID}"
    with pytest.raises(ValueError):
        file_stem("../../etc/passwd")


# --- TID time -----------------------------------------------------------------------


def test_tid_time_matches_the_worked_examples() -> None:
    assert created_at_from_rkey("3lbv5is6h6c2k") == "2024-11-26T23:04:02.981Z"
    assert created_at_from_rkey("3kqmooj3ems2w") == "2024-04-21T06:09:13.063Z"
    assert tid_iso_micros("3lbv5is6h6c2k") == "2024-11-26T23:04:02.981000Z"
    assert BLUESKY.created_at_from_id(f"{PLC}/3kqmooj3ems2w") == "2024-04-21T06:09:13.063Z"


@pytest.mark.parametrize(
    "rkey",
    [
        "self",
        "3lbv5is6h6c2",
        "3lbv5is6h6c2kk",
        "3LBV5IS6H6C2K",
        "klbv5is6h6c2k",
        "3lbv5is6h6c2!",
        "3lbv5is6h6c21",
    ],
)
def test_other_rkeys_carry_no_time(rkey: str) -> None:
    assert created_at_from_rkey(rkey) is None


# --- recognisers ----------------------------------------------------------------------

# The app's "Embed post" snippet, in its shape (text escaped, newlines raw, the
# "[image or embed]" link when the post has media, a localized date).
SNIPPET = (
    f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{PLC}/app.bsky.feed.post/{TID}" '
    'data-bluesky-cid="bafyreiexample" data-bluesky-embed-color-mode="system">'
    '<p lang="fr">Bonjour &lt;script&gt; &amp; caf\u00e9\n'
    "deuxi\u00e8me ligne &#x27;cit\u00e9e&#x27;"
    f'<br><br><a href="https://bsky.app/profile/{PLC}/post/{TID}?ref_src=embed">'
    "[image or embed]</a></p>&mdash; Bob &amp; Co (<a "
    f'href="https://bsky.app/profile/{PLC}?ref_src=embed">@bob.example.org</a>) '
    f'<a href="https://bsky.app/profile/{PLC}/post/{TID}?ref_src=embed">'
    "1 janvier 2020 \u00e0 09:00</a></blockquote>"
    '<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
)
# 2024 snippets: no color mode, lang "en-US"; 2025: lang "".
OLD_SNIPPET = (
    f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{PLC}/app.bsky.feed.post/{TID}" '
    'data-bluesky-cid="bafyreiexample"><p lang="">\nShort one.\n  </p>&mdash; Bob '
    f'(<a href="https://bsky.app/profile/{PLC}?ref_src=embed">@bob.example.org</a>) '
    f'<a href="https://bsky.app/profile/{PLC}/post/{TID}?ref_src=embed">Nov 5, 2024</a>'
    "</blockquote>"
)
# oEmbed's html: the name inside the profile link, an ISO date.
OEMBED = (
    f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{PLC}/app.bsky.feed.post/{TID}">'
    '<p lang="ja">\u4eca\u65e5\u306e #sphinxjp</p>&mdash; '
    f'<a href="https://bsky.app/profile/{PLC}?ref_src=embed">B\u00f6b (@bob.example.org)</a> '
    f'<a href="https://bsky.app/profile/{PLC}/post/{TID}?ref_src=embed">'
    "2024-11-26T23:04:02.981Z</a></blockquote>"
)
# A Ghost embed card: the blockquote lost data-bluesky-uri, links carry ?ref=<site>.
GHOST = (
    '<!--kg-card-begin: embed--><figure class="kg-card kg-embed-card">'
    '<blockquote class="bluesky-embed" data-bluesky-embed-color-mode="system">'
    '<p lang="en">A quoted post.</p>&mdash; Bob (<a href='
    f'"https://bsky.app/profile/{PLC}?ref_src=embed&amp;ref=news.ghost.io">@bob.example.org</a>) '
    f'<a href="https://bsky.app/profile/{PLC}/post/{TID}?ref_src=embed&amp;ref=news.ghost.io">'
    "March 25, 2025 at 7:16 AM</a></blockquote>"
    '<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
    "</figure><!--kg-card-end: embed-->"
)
# What embed.js leaves in a saved page: the wrapper div and its iframe.
IFRAME = (
    f'<iframe data-bluesky-id="0123" src="https://embed.bsky.app/embed/{PLC}/app.bsky.feed.post/'
    f'{TID}?id=0123&amp;ref_url=https%253A%252F%252Fnews.example%252F" width="100%" '
    'style="display: block; border: none;" frameborder="0" scrolling="no"></iframe>'
)
WRAPPED = f'<div class="bluesky-embed" style="max-width: 600px">{IFRAME}</div>'


def start_tag(element: str) -> StartTag:
    """The element's start tag as the byte lexer parses it (archiver.detect)."""
    data = element.encode("utf-8")
    match = re.search(rb"<([A-Za-z][A-Za-z0-9-]*)", data)
    assert match is not None
    tag = _parse_tag(data, match.start(), match.end(), len(data))
    assert tag is not None
    return StartTag(match.group(1).lower(), tag.attrs, frozenset(_classes(tag)))


def recognise(element: str) -> tuple[str, str | None]:
    """(form, post id) of the first recogniser that claims the element's start tag."""
    tag = start_tag(element)
    for recogniser in RECOGNISERS:
        if recogniser.element == tag.name and recogniser.claims(tag):
            ref = recogniser.identify(tag, element.encode("utf-8"))
            return recogniser.form, ref.post_id if ref else None
    raise AssertionError(f"no recogniser claims {element[:60]!r}")


def element_of(markup: str, name: str) -> str:
    match = re.search(rf"<{name}\b.*?</{name}>", markup, re.S)
    assert match is not None
    return match.group(0)


@pytest.mark.parametrize(
    ("markup", "name", "form"),
    [
        (SNIPPET, "blockquote", "blockquote"),
        (OLD_SNIPPET, "blockquote", "blockquote"),
        (OEMBED, "blockquote", "blockquote"),
        (GHOST, "blockquote", "blockquote"),
        (IFRAME, "iframe", "iframe"),
        (WRAPPED, "div", "iframe"),
    ],
)
def test_each_form_is_claimed_and_identified(markup: str, name: str, form: str) -> None:
    assert recognise(element_of(markup, name)) == (form, f"{PLC}/{TID}")
    markers = {m for r in RECOGNISERS if r.element.decode() == name for m in r.markers}
    assert any(m in markup.encode().lower() for m in markers)  # the prefilter lets it in


def test_the_embed_js_script_is_absorbed_only_when_it_is_bluesky_s() -> None:
    (blockquote,) = [r for r in RECOGNISERS if r.element == b"blockquote"]
    assert blockquote.script is not None
    assert blockquote.script.match(b"https://embed.bsky.app/static/embed.js")
    assert blockquote.script.match(b"//embed.bsky.app/static/embed.js?v=2")
    assert not blockquote.script.match(b"https://platform.twitter.com/widgets.js")
    assert not blockquote.script.match(b"https://evil.example/embed.bsky.app/static/embed.js")


def test_other_blockquotes_and_iframes_are_not_claimed() -> None:
    for element in (
        '<blockquote class="twitter-tweet"><p>x</p></blockquote>',
        '<iframe src="https://www.youtube.com/embed/abc"></iframe>',
        '<div class="bluesky-embed-wrapper"><p>x</p></div>',
    ):
        tag = start_tag(element)
        assert not any(r.element == tag.name and r.claims(tag) for r in RECOGNISERS)
    # Claimed but naming no post: a lookalike host, or a Ghost card without a permalink.
    fake_host = '<blockquote class="bluesky-embed"><a href="https://bsky.app.evil.example/profile/a.b/post/x">d</a></blockquote>'
    assert recognise(fake_host) == ("blockquote", None)
    # A mangled URI falls back to the date link.
    mangled = SNIPPET.replace(f"at://{PLC}/", "at://did:plc:TRUNC/")
    assert recognise(element_of(mangled, "blockquote")) == ("blockquote", f"{PLC}/{TID}")


@pytest.mark.skipif(not SHARED_EMBEDS.is_dir(), reason="../shared reference corpus not present")
def test_the_real_corpus_snippets_are_identified() -> None:
    found = []
    for path in sorted(SHARED_EMBEDS.glob("*.html")):
        markup = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<blockquote\b.*?</blockquote>", markup, re.S):
            uri = re.search(
                r'data-bluesky-uri="at://([^/"]+)/app\.bsky\.feed\.post/([^"]+)"', match.group(0)
            )
            assert uri is not None
            assert recognise(match.group(0)) == ("blockquote", f"{uri.group(1)}/{uri.group(2)}")
            found.append(path.name)
    assert len(found) == 8  # seven files, one with two embeds


# --- the markup snapshot -------------------------------------------------------------


def markup_snapshot(markup: str, name: str = "blockquote") -> PostSnapshot:
    form, post_id = recognise(element_of(markup, name))
    assert post_id is not None
    span = EmbedSpan(0, len(markup), form, post_id, platform="bluesky")
    snap = BLUESKY.snapshot_from_markup(span, markup.encode("utf-8"))
    assert snap is not None
    return snap


def test_markup_snapshot_keeps_text_lines_lang_and_author() -> None:
    snap = markup_snapshot(SNIPPET)
    assert snap.text == "Bonjour <script> & caf\u00e9\ndeuxi\u00e8me ligne 'cit\u00e9e'"
    assert snap.html == (
        "Bonjour &lt;script&gt; &amp; caf\u00e9<br>deuxi\u00e8me ligne 'cit\u00e9e'"
    )
    assert snap.lang == "fr"
    assert (snap.author_name, snap.author_handle, snap.author_id) == (
        "Bob & Co",
        "bob.example.org",
        PLC,
    )
    # The time is the TID's, never the localized date text (which says 2020 here).
    assert snap.created_at == "2024-11-26T23:04:02.981Z"
    assert snap.date_text == "1 janvier 2020 \u00e0 09:00"
    assert (snap.status, snap.source, snap.platform) == ("unknown", "markup", "bluesky")
    assert snap.url == f"https://bsky.app/profile/{PLC}/post/{TID}"
    # The media the snippet leaves out is noted, not shown as text.
    assert snap.card == {
        "type": "omitted",
        "label": "[image or embed]",
        "url": f"https://bsky.app/profile/{PLC}/post/{TID}",
    }


def test_markup_snapshot_of_older_oembed_and_ghost_forms() -> None:
    old = markup_snapshot(OLD_SNIPPET)
    assert (old.text, old.lang, old.author_name, old.card) == ("Short one.", None, "Bob", None)
    oembed = markup_snapshot(OEMBED)
    assert (oembed.author_name, oembed.author_handle, oembed.lang) == (
        "B\u00f6b",
        "bob.example.org",
        "ja",
    )
    assert oembed.text == "\u4eca\u65e5\u306e #sphinxjp"
    ghost = markup_snapshot(GHOST)
    assert (ghost.text, ghost.author_handle) == ("A quoted post.", "bob.example.org")


def test_markup_snapshot_of_an_iframe_has_id_and_time_only() -> None:
    snap = markup_snapshot(IFRAME, "iframe")
    assert snap.text is None and snap.author_name is None
    assert snap.created_at == "2024-11-26T23:04:02.981Z"


# --- AppView payloads ----------------------------------------------------------------


def live(view: dict[str, Any]) -> PostSnapshot:
    snap = snapshot_from_post_view(view, raw="{}", fetched_at="2026-11-30T00:00:00.000Z")
    assert snap is not None
    return snap


def test_facets_count_utf8_bytes_and_become_safe_links() -> None:
    text = "Caf\u00e9 \u2615 \u201cread\u201d example.com/a\u2026 #tag @bob.example.org <b>x</b>"
    data = text.encode("utf-8")

    def span(part: str) -> tuple[int, int]:
        start = data.index(part.encode("utf-8"))
        return start, start + len(part.encode("utf-8"))

    facets = [
        facet(*span("example.com/a\u2026"), "link", "https://example.com/a-long-path?q=1&r=2"),
        facet(*span("#tag"), "tag", "tag"),
        facet(*span("@bob.example.org"), "mention", BOB),
        facet(*span("<b>x</b>"), "link", "javascript:alert(1)"),  # unsafe: plain text
    ]
    html_out = facets_html(text, facets)
    assert html_out == (
        "Caf\u00e9 \u2615 \u201cread\u201d "
        '<a href="https://example.com/a-long-path?q=1&amp;r=2">example.com/a\u2026</a> '
        '<a href="https://bsky.app/hashtag/tag">#tag</a> '
        f'<a href="https://bsky.app/profile/{BOB}">@bob.example.org</a> '
        "&lt;b&gt;x&lt;/b&gt;"
    )
    # Offsets that cut a character, run past the end or overlap are ignored.
    broken = [
        facet(4, 6, "link", "https://a.example/"),  # starts inside the 2-byte "\u00e9"
        facet(0, len(data) + 5, "link", "https://b.example/"),  # past the end
        facet(0, 4, "link", "https://c.example/"),  # ends inside "\u00e9"
        facet(2, 5, "link", "https://d.example/"),  # "f\u00e9": a whole facet
        facet(3, 9, "link", "https://e.example/"),  # overlaps the one before
    ]
    assert facets_html(text, broken).startswith('Ca<a href="https://d.example/">f\u00e9</a> \u2615')
    assert facets_html(text, broken).count("<a ") == 1


def test_post_view_becomes_a_live_snapshot() -> None:
    view = make_post_view(
        ALICE,
        TID,
        "first line\nsecond line",
        handle="Alice.Example.com",
        avatar="https://cdn.bsky.app/img/avatar/plain/x/y@jpeg",
        created_at="2030-01-01T00:00:00",  # client-declared, rewritten: the TID wins
        labels=["porn"],
        reply_parent=at_uri(BOB, "3kqmooj3ems2w"),
        langs=["en-GB", "fr"],
    )
    snap = live(view)
    assert (snap.post_id, snap.platform, snap.status, snap.source) == (
        f"{ALICE}/{TID}",
        "bluesky",
        "live",
        "appview",
    )
    assert snap.key == f"bluesky:{ALICE}/{TID}"
    assert snap.text == "first line\nsecond line"
    assert snap.html == "first line<br>second line"
    assert (snap.author_handle, snap.author_name, snap.author_id) == (
        "alice.example.com",
        "Alice",
        ALICE,
    )
    assert snap.created_at == "2024-11-26T23:04:02.981Z"
    assert (snap.lang, snap.like_count, snap.reply_count) == ("en-GB", 3, 1)
    assert snap.possibly_sensitive is True
    assert snap.reply_to_post_id == f"{BOB}/3kqmooj3ems2w"
    assert [m.kind for m in snap.media] == ["avatar"]


def test_created_at_without_a_tid_is_the_declared_time_read_as_utc() -> None:
    snap = live(make_post_view(ALICE, "self", "x", created_at="2023-07-21T01:33:51.481951"))
    assert snap.created_at == "2023-07-21T01:33:51.481Z"
    offset = live(make_post_view(ALICE, "self", "x", created_at="2023-07-21T03:33:51.481+02:00"))
    assert offset.created_at == "2023-07-21T01:33:51.481Z"
    nothing = live(make_post_view(ALICE, "self", "x", created_at="yesterday"))
    assert nothing.created_at == "2024-11-26T23:04:03.500Z"  # indexedAt


def test_images_gallery_video_and_link_card() -> None:
    base = "https://cdn.bsky.app"
    images = live(
        make_post_view(ALICE, TID, "", embed=images_view(base, ALICE, ["c1", "c2"], ["a dog", ""]))
    )
    photos = [m for m in images.media if m.kind == "photo"]
    assert [(m.url, m.alt_text, m.width, m.height) for m in photos] == [
        (f"{base}/img/feed_fullsize/plain/{ALICE}/c1@jpeg", "a dog", 1200, 800),
        (f"{base}/img/feed_fullsize/plain/{ALICE}/c2@jpeg", None, 1200, 800),
    ]
    gallery = live(
        make_post_view(ALICE, TID, "", embed=gallery_view(base, ALICE, ["g1", "g2", "g3"]))
    )
    assert [m.alt_text for m in gallery.media if m.kind == "photo"] == [
        "picture g1",
        "picture g2",
        "picture g3",
    ]
    video = live(
        make_post_view(ALICE, TID, "", embed=video_view("https://video.bsky.app", ALICE, "v1"))
    )
    (clip,) = [m for m in video.media if m.kind == "video"]
    assert clip.url.endswith("/v1/playlist.m3u8") and clip.poster_url.endswith("/v1/thumbnail.jpg")
    assert (clip.width, clip.height, clip.alt_text) == (1080, 1920, "a short clip")
    card = live(
        make_post_view(
            ALICE,
            TID,
            "",
            embed=external_view(
                "https://news.example/story", "Story", "About it", f"{base}/t@jpeg"
            ),
        )
    ).card
    assert card == {
        "type": "link",
        "url": "https://news.example/story",
        "title": "Story",
        "description": "About it",
        "domain": "news.example",
        "image_url": f"{base}/t@jpeg",
    }
    unsafe = live(
        make_post_view(ALICE, TID, "", embed=external_view("javascript:x", "t", "d", None))
    )
    assert unsafe.card is None


def test_quotes_with_and_without_media_and_gone_quotes() -> None:
    quoted = make_post_view(BOB, "3kqmooj3ems2w", "the quoted words", handle="bob.example.org")
    snap = live(make_post_view(ALICE, TID, "look", embed=quote_view(quoted)))
    assert snap.quoted_post_id == f"{BOB}/3kqmooj3ems2w"
    (related,) = snap.related
    assert (related.post_id, related.text, related.status, related.source) == (
        f"{BOB}/3kqmooj3ems2w",
        "the quoted words",
        "live",
        "appview",
    )
    both = live(
        make_post_view(
            ALICE,
            TID,
            "",
            embed=record_with_media_view(
                quote_view(quoted), images_view("https://cdn.bsky.app", ALICE, ["c1"], ["alt"])
            ),
        )
    )
    assert both.quoted_post_id == f"{BOB}/3kqmooj3ems2w"
    assert [m.alt_text for m in both.media if m.kind == "photo"] == ["alt"]
    assert both.related[0].text == "the quoted words"
    for kind, status in (
        ("notFound", "deleted"),
        ("blocked", "protected"),
        ("detached", "unavailable"),
    ):
        gone = live(
            make_post_view(ALICE, TID, "", embed=quote_gone_view(at_uri(CAROL, "self"), kind))
        )
        assert gone.quoted_post_id == f"{CAROL}/self"
        assert [(r.post_id, r.status, r.text) for r in gone.related] == [
            (f"{CAROL}/self", status, None)
        ]
    # A quoted feed generator or list is not a post.
    feed = quote_gone_view(f"at://{CAROL}/app.bsky.feed.generator/whats-hot", "notFound")
    assert live(make_post_view(ALICE, TID, "", embed=feed)).quoted_post_id is None


def test_a_hostile_view_is_refused_or_bounded() -> None:
    assert (
        snapshot_from_post_view({"uri": "at://../../etc/app.bsky.feed.post/x"}, fetched_at=None)
        is None
    )
    assert snapshot_from_post_view({"uri": 5}, fetched_at=None) is None
    view = make_post_view(ALICE, TID, "x", avatar="javascript:alert(1)", name="<img src=x>")
    view["record"]["langs"] = ['en"><script>']
    view["likeCount"] = -5
    snap = live(view)
    assert snap.author_avatar_url is None and snap.lang is None and snap.like_count is None
    assert snap.author_name == "<img src=x>"  # plain text: escaped wherever it is shown


# --- the fetcher against the fake AppView --------------------------------------------


def rkey(n: int) -> str:
    """A distinct valid TID for post n."""
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    tail = ""
    for _ in range(4):
        n, digit = divmod(n, 32)
        tail = alphabet[digit] + tail
    return "3lbv5is6h" + tail


def test_posts_are_batched_25_to_a_request(fake: FakeBsky, tmp_path: Path) -> None:
    ids = [fake.add_post(make_post_view(ALICE, rkey(n), f"post {n}")) for n in range(60)]
    results = fetch_posts(fake, tmp_path / "media", ids, media={"download": False})
    assert [r.snapshot.text if r.snapshot else r.error for r in results] == [
        f"post {n}" for n in range(60)
    ]
    assert all(r.snapshot and r.snapshot.status == "live" for r in results)
    assert [len(call) for call in fake.get_posts_calls] == [25, 25, 10]
    assert fake.count() == 3  # ≤ 1/20 request per post
    assert sum(r.attempts for r in results) == 3


def test_a_post_missing_from_a_valid_answer_is_deleted(fake: FakeBsky, tmp_path: Path) -> None:
    kept = fake.add_post(make_post_view(ALICE, rkey(1), "still here"))
    gone = f"{ALICE}/{rkey(2)}"
    results = fetch_posts(fake, tmp_path / "media", [kept, gone], media={"download": False})
    snaps = [r.snapshot for r in results]
    assert [(s.post_id, s.status) for s in snaps if s] == [(kept, "live"), (gone, "deleted")]
    deleted = snaps[1]
    assert deleted is not None and deleted.text is None
    assert deleted.created_at == created_at_from_rkey(rkey(2))
    assert deleted.source_url is not None and "getPosts" in deleted.source_url
    assert len(fake.get_posts_calls) == 1


def test_labels_make_protected_suspended_and_unavailable(fake: FakeBsky, tmp_path: Path) -> None:
    ids = [
        fake.add_post(
            make_post_view(ALICE, rkey(1), "secret", author_labels=["!no-unauthenticated"])
        ),
        fake.add_post(make_post_view(BOB, rkey(2), "banned", author_labels=["!takedown"])),
        fake.add_post(make_post_view(CAROL, rkey(3), "removed", labels=["!takedown"])),
    ]
    results = fetch_posts(fake, tmp_path / "media", ids, media={"download": False})
    snaps = [r.snapshot for r in results]
    assert [(s.status, s.text) for s in snaps if s] == [
        ("protected", None),
        ("suspended", None),
        ("unavailable", None),
    ]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(status_5xx=10), "HTTP 503"),
        (Fault(html=1), "not JSON"),
        (Fault(rate_limit=10, retry_after="0"), "429"),
    ],
)
def test_a_failed_answer_fails_the_whole_batch_never_deleted(
    fake: FakeBsky, tmp_path: Path, fault: Fault, expected: str
) -> None:
    ids = [fake.add_post(make_post_view(ALICE, rkey(n), f"p{n}")) for n in range(3)]
    ids.append(f"{ALICE}/{rkey(9)}")  # absent: would be "deleted" in a valid answer
    fake.add_fault(fault, path=GET_POSTS)
    results = fetch_posts(fake, tmp_path / "media", ids, media={"download": False})
    assert all(r.snapshot is None for r in results)
    assert all(r.error and expected in r.error for r in results), [r.error for r in results]


def test_invalid_json_and_an_error_status_are_failures(fake: FakeBsky, tmp_path: Path) -> None:
    post_id = fake.add_post(make_post_view(ALICE, rkey(1), "x"))
    for status, body, problem in (
        (200, b'{"posts": [', "invalid JSON"),
        (200, b'{"feed": []}', "no 'posts' list"),
        (200, b"[]", "not an object"),
        (400, b'{"error": "InvalidRequest"}', "HTTP 400"),
        (404, b"<html>gone</html>", "HTTP 404"),
    ):
        fake.set_raw(GET_POSTS, status, body, "application/json")
        (result,) = fetch_posts(fake, tmp_path / "media", [post_id], media={"download": False})
        assert result.snapshot is None and problem in (result.error or ""), result.error


def test_bursts_within_the_retries_and_a_429_are_waited_out(fake: FakeBsky, tmp_path: Path) -> None:
    post_id = fake.add_post(make_post_view(ALICE, rkey(1), "patience"))
    fake.add_fault(Fault(status_5xx=1), path=GET_POSTS)
    fake.add_fault(Fault(rate_limit=1, retry_after="1"), path=GET_POSTS)
    (result,) = fetch_posts(fake, tmp_path / "media", [post_id], media={"download": False})
    assert result.snapshot is not None and result.snapshot.text == "patience"
    assert fake.count(GET_POSTS) == 3 and result.attempts == 3


def test_handles_are_resolved_once_per_run(fake: FakeBsky, tmp_path: Path) -> None:
    fake.add_handle("alice.example.com", ALICE)
    ids = [fake.add_post(make_post_view(ALICE, rkey(n), f"p{n}")) for n in range(30)]
    handle_ids = [f"alice.example.com/{rkey(n)}" for n in range(30)]
    results = fetch_posts(
        fake, tmp_path / "media", [*handle_ids, "gone.example.com/self"], media={"download": False}
    )
    assert [r.post_id for r in results] == [*handle_ids, "gone.example.com/self"]
    # The answer is keyed by the DID: the pipeline records the embed under it.
    assert [r.snapshot.post_id for r in results[:30] if r.snapshot] == ids
    assert results[30].snapshot is None and "does not resolve" in (results[30].error or "")
    assert fake.count(RESOLVE_HANDLE) == 2  # alice once for both batches, gone once
    assert [len(call) for call in fake.get_posts_calls] == [25, 5]


def test_reply_parents_come_with_one_more_request(fake: FakeBsky, tmp_path: Path) -> None:
    parent = fake.add_post(make_post_view(BOB, rkey(1), "the question", handle="bob.example.org"))
    ids = [
        fake.add_post(
            make_post_view(ALICE, rkey(n), f"answer {n}", reply_parent=at_uri(BOB, rkey(1)))
        )
        for n in range(2, 5)
    ]
    results = fetch_posts(fake, tmp_path / "media", ids, media={"download": False})
    for result in results:
        assert result.snapshot is not None and result.snapshot.reply_to_post_id == parent
        assert [(r.post_id, r.text) for r in result.snapshot.related] == [(parent, "the question")]
    assert len(fake.get_posts_calls) == 2


def test_media_are_downloaded_bounded_and_the_video_stream_is_not(
    fake: FakeBsky, tmp_path: Path
) -> None:
    base = fake.base_url
    for n, path in enumerate(
        [
            f"/img/feed_fullsize/plain/{ALICE}/c1@jpeg",
            f"/img/avatar/plain/{ALICE}/av@jpeg",
            f"/watch/{ALICE.replace(':', '%3A')}/v1/thumbnail.jpg",
            "/img/card@jpeg",
        ]
    ):
        fake.add_media(path, tiny_jpeg(n))
    avatar = f"{base}/img/avatar/plain/{ALICE}/av@jpeg"
    photo = fake.add_post(
        make_post_view(
            ALICE, rkey(1), "pic", avatar=avatar, embed=images_view(base, ALICE, ["c1"], ["alt"])
        )
    )
    clip = fake.add_post(
        make_post_view(ALICE, rkey(2), "clip", embed=video_view(base, ALICE, "v1"))
    )
    card = fake.add_post(
        make_post_view(
            ALICE,
            rkey(3),
            "link",
            embed=external_view("https://news.example/", "T", "D", f"{base}/img/card@jpeg"),
        )
    )
    media_root = tmp_path / "media"
    results = fetch_posts(fake, media_root, [photo, clip, card])
    snaps = {r.post_id: r.snapshot for r in results}
    pic = snaps[photo]
    assert pic is not None
    assert all(m.local_path and (media_root / m.local_path).is_file() for m in pic.media)
    video = snaps[clip]
    assert video is not None
    (item,) = video.media
    assert item.local_path is None and item.poster_local_path is not None
    assert not any(r.path.endswith(".m3u8") for r in fake.requests)
    link = snaps[card]
    assert link is not None and link.card is not None and link.card["image"]
    # A host outside media.allowed_hosts is never contacted.
    fake.requests.clear()
    other = fake.add_post(
        make_post_view(
            BOB, rkey(4), "x", embed=images_view("https://cdn.evil.example", BOB, ["c9"], ["a"])
        )
    )
    (result,) = fetch_posts(fake, tmp_path / "media2", [other])
    assert result.snapshot is not None and result.snapshot.media[0].local_path is None


def test_a_malformed_id_fails_alone(fake: FakeBsky, tmp_path: Path) -> None:
    good = fake.add_post(make_post_view(ALICE, rkey(1), "ok"))
    results = fetch_posts(
        fake, tmp_path / "media", ["../../etc/passwd", good], media={"download": False}
    )
    assert results[0].snapshot is None and results[0].error == "not a Bluesky post id"
    assert results[1].snapshot is not None and results[1].snapshot.status == "live"


def test_disabled_bluesky_sends_nothing(fake: FakeBsky, tmp_path: Path) -> None:
    post_id = fake.add_post(make_post_view(ALICE, rkey(1), "x"))
    (result,) = fetch_posts(fake, tmp_path / "media", [post_id], bluesky={"enabled": False})
    assert result.snapshot is None and fake.count() == 0


# --- configuration -------------------------------------------------------------------


def test_bluesky_config_defaults_and_validation(tmp_path: Path) -> None:
    assert BlueskyConfig().appview == "https://public.api.bsky.app"
    config = config_from_dict({"bluesky": {"appview": "https://appview.example/"}}, base=tmp_path)
    assert config.bluesky.appview == "https://appview.example"
    assert "cdn.bsky.app" in config.media.allowed_hosts
    for bad in ("ftp://appview.example", "https://user@appview.example", "not a url"):
        with pytest.raises(ConfigError, match=r"bluesky\.appview"):
            config_from_dict({"bluesky": {"appview": bad}}, base=tmp_path)


def test_a_quoted_post_kept_from_logged_out_readers_is_not_archived() -> None:
    quoted = make_post_view(
        BOB, "3kqmooj3ems2w", "members only", author_labels=["!no-unauthenticated"]
    )
    snap = live(make_post_view(ALICE, TID, "look", embed=quote_view(quoted)))
    assert snap.quoted_post_id == f"{BOB}/3kqmooj3ems2w"
    assert [(r.status, r.text) for r in snap.related] == [("protected", None)]


def test_gone_reply_parents_get_their_status(fake: FakeBsky, tmp_path: Path) -> None:
    fake.add_post(make_post_view(BOB, rkey(1), "hidden", author_labels=["!no-unauthenticated"]))
    replies = [
        fake.add_post(
            make_post_view(ALICE, rkey(2), "to hidden", reply_parent=at_uri(BOB, rkey(1)))
        ),
        fake.add_post(
            make_post_view(ALICE, rkey(3), "to gone", reply_parent=at_uri(CAROL, rkey(9)))
        ),
    ]
    results = fetch_posts(fake, tmp_path / "media", replies, media={"download": False})
    related = [
        [(r.post_id, r.status, r.text) for r in res.snapshot.related]
        for res in results
        if res.snapshot
    ]
    assert related == [
        [(f"{BOB}/{rkey(1)}", "protected", None)],
        [(f"{CAROL}/{rkey(9)}", "deleted", None)],
    ]
