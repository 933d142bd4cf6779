"""Mastodon as a platform package: URLs and ids, recognisers, the markup snapshot,
the Status payload, and the fetcher against a local fake instance (a real HTTP
server, reached through ``http.host_overrides`` and the host guard).

Fixture markup and payloads are written here in the shapes of
``../shared/platforms/mastodon/`` (not copied); the tests that read the real corpus
files skip when that folder is absent.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakemastodon import (
    HTML_ERROR_PAGE,
    UNAUTHORIZED_BODY,
    FakeMastodon,
    Reply,
    json_reply,
    make_account,
    make_status,
    refusing_base,
)
from fakex import tiny_jpeg, tiny_mp4, tiny_png

from archiver.config import Config, HttpConfig, MediaConfig
from archiver.fetch import FetchRequest, FetchResult
from archiver.fetch.base import FetchContext
from archiver.fetch.http import HttpSession
from archiver.fetch.media import MediaStore
from archiver.models import EmbedSpan, PostSnapshot
from archiver.platforms.base import StartTag
from archiver.platforms.mastodon import PLATFORM
from archiver.platforms.mastodon.fetch import host_down_note
from archiver.platforms.mastodon.payload import snapshot_from_status
from archiver.platforms.mastodon.recognisers import BLOCKQUOTE, EMBED_SCRIPT, IFRAME
from archiver.platforms.mastodon.urls import MIN_SNOWFLAKE_ID

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "platforms" / "mastodon"
HOST = "social.example"

# --- URLs and ids -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "post_id", "handle"),
    [
        (
            "https://social.example/@ana/113486342108431234",
            "social.example/113486342108431234",
            "ana",
        ),
        (
            "https://social.example/@ana/113486342108431234/embed",
            "social.example/113486342108431234",
            "ana",
        ),
        (
            "https://social.example/users/ana/statuses/113486342108431234",
            "social.example/113486342108431234",
            "ana",
        ),
        # a remote account seen from social.example: the post is social.example's copy
        (
            "https://social.example/@bo@other.example/1134",
            "social.example/1134",
            "bo@other.example",
        ),
        ("https://SOCIAL.Example./@ana/7?utm=x#frag", "social.example/7", "ana"),
        ("http://social.example/@ana/7", "social.example/7", "ana"),
        ("//social.example/@ana/7/embed", "social.example/7", "ana"),
        ("https://social.example:8443/@ana/7", "social.example:8443/7", "ana"),
        ("https://social.example:443/@ana/7", "social.example/7", "ana"),
        ("https://münchen.example/@ana/7", "xn--mnchen-3ya.example/7", "ana"),
        ("https://MÜNCHEN.example/@ana/7", "xn--mnchen-3ya.example/7", "ana"),
        (
            "https://gts.example/@ana/statuses/01HZX5J8Q8Y6V2M3N4P5R6S7T8",
            "gts.example/01HZX5J8Q8Y6V2M3N4P5R6S7T8",
            "ana",
        ),
        (
            "https://akkoma.example/notice/AcoUaA7EH1igiYKmFU",
            "akkoma.example/AcoUaA7EH1igiYKmFU",
            None,
        ),
    ],
)
def test_parse_url_forms(url: str, post_id: str, handle: str | None) -> None:
    ref = PLATFORM.parse_url(url)
    assert ref is not None
    assert (ref.post_id, ref.handle) == (post_id, handle)
    assert PLATFORM.is_post_id(ref.post_id)
    assert ref.url.startswith("https://")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil@social.example/@ana/7",  # userinfo
        "https://127.0.0.1/@ana/7",  # instances are named, never numbered
        "https://[::1]/@ana/7",
        "javascript:alert(1)//social.example/@ana/7",
        "ftp://social.example/@ana/7",
        "https://social.example/@ana/a-medium-slug",
        "https://social.example/@ana/abc123",  # Mastodon web ids are digits
        "https://social.example/users/ana/statuses/7/activity",  # a boost activity
        "https://social.example/@ana/" + "1" * 33,
        "https://social.example/@ana",
        "https://localhost/@ana/7",  # one label: not an instance name
        "https://bad_host.example/@ana/7",
        "https://xn--.example/@ana/7",
    ],
)
def test_parse_url_refuses(url: str) -> None:
    assert PLATFORM.parse_url(url) is None


def test_canonical_url() -> None:
    assert PLATFORM.canonical_url("social.example/7", "ana") == "https://social.example/@ana/7"
    assert (
        PLATFORM.canonical_url("social.example:8443/7", "bo@other.example")
        == "https://social.example:8443/@bo@other.example/7"
    )
    # Without a (valid) handle: the API URL, which every server answers for an id.
    assert PLATFORM.canonical_url("social.example/7", None) == (
        "https://social.example/api/v1/statuses/7"
    )
    assert PLATFORM.canonical_url("social.example/7", "<b>") == (
        "https://social.example/api/v1/statuses/7"
    )


@pytest.mark.parametrize(
    ("post_id", "ok"),
    [
        ("mastodon.social/113486342108431234", True),
        ("social.example:8443/7", True),
        ("xn--mnchen-3ya.example/01HZX5J8Q8Y6V2M3N4P5R6S7T8", True),
        ("Mastodon.Social/7", False),  # not lower case
        ("münchen.example/7", False),  # not punycode
        ("social.example:443/7", False),  # the default port is never written
        ("social.example:0/7", False),
        ("social.example:08443/7", False),
        ("social.example/", False),
        ("social.example/" + "1" * 33, False),
        ("social.example/1/2", False),
        ("social.example/../../etc", False),
        ("social.example/1 ", False),
        ("social.example/١٢", False),  # non-ASCII digits
        ("127.0.0.1/7", False),
        ("localhost/7", False),
        ("/7", False),
        ("1641086480675225601", False),  # an X id
    ],
)
def test_is_post_id(post_id: str, ok: bool) -> None:
    assert PLATFORM.is_post_id(post_id) is ok


TRICKY_IDS = [
    "a.example/1",
    "a.example/Ab",
    "a.example/aB",
    "a.example/AB",
    "a.example/ab",
    "a.example:8443/1",
    "a.example/8443_1",  # not an id (underscore): must not be accepted anyway
    "a.example.8443/1",
    "a-b.example/1",
    "a.b-example/1",
    "a.example/01HZX5J8Q8Y6V2M3N4P5R6S7T8",
    "a.example/01hzx5j8q8y6v2m3n4p5r6s7t8",
    "a.example/" + "Z" * 32,
    "a.example/" + "z" * 32,
    ("x" * 60 + ".") * 4 + "example/1",  # long hosts: hashed form
    ("x" * 60 + ".") * 4 + "example/2",
    ("x" * 60 + ".") * 4 + "example:8443/1",
]


def test_file_stem_is_safe_and_injective() -> None:
    ids = [i for i in TRICKY_IDS if PLATFORM.is_post_id(i)]
    assert "a.example/8443_1" not in ids
    stems = [PLATFORM.file_stem(i) for i in ids]
    for stem in stems:
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,120}", stem), stem
        assert not stem.startswith(".")
    # Injective, even on a case-insensitive file system.
    assert len({s.lower() for s in stems}) == len(ids)
    with pytest.raises(ValueError):
        PLATFORM.file_stem("../../etc/passwd")


def test_created_at_from_a_snowflake_id() -> None:
    # The worked example of the notes: created_at 13:53:15.378Z in the payload.
    assert PLATFORM.created_at_from_id("mastodon.social/117020583223442465") == (
        "2026-08-01T13:53:15.377Z"
    )
    assert PLATFORM.created_at_from_id(f"a.example/{MIN_SNOWFLAKE_ID}") == (
        "2000-01-01T00:00:00.000Z"
    )


@pytest.mark.parametrize(
    "post_id",
    [
        "mastodon.social/1",  # legacy sequential id (the docs' example account)
        f"a.example/{MIN_SNOWFLAKE_ID - 1}",
        "a.example/99664077509711321" + "0" * 3,  # past 2**63
        "a.example/AcoUaA7EH1igiYKmFU",  # Pleroma/Akkoma flake
        "a.example/01HZX5J8Q8Y6V2M3N4P5R6S7T8",  # GoToSocial ULID
        "not an id/117020583223442465",
    ],
)
def test_ids_without_a_time(post_id: str) -> None:
    assert PLATFORM.created_at_from_id(post_id) is None


# --- recognisers and the markup snapshot ---------------------------------------------

_ATTR = re.compile(
    rb"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?"""
)


def start_tag(element: bytes) -> StartTag:
    """The start tag of ``element``, parsed the way the byte lexer hands it over."""
    match = re.match(rb"<([a-zA-Z]+)([^>]*)>", element)
    assert match
    attrs: dict[bytes, bytes] = {}
    for name, dq, sq, bare in _ATTR.findall(match.group(2)):
        attrs.setdefault(name.lower(), dq or sq or bare)
    classes = frozenset(attrs.get(b"class", b"").split())
    return StartTag(name=match.group(1).lower(), attrs=attrs, classes=classes)


IFRAME_MARKUP = (
    b'<iframe src="https://social.example/@ana/113486342108431234/embed" class="mastodon-embed"'
    b' style="max-width: 100%; border: 0" width="400" allowfullscreen="allowfullscreen"></iframe>'
)
IFRAME_SCRIPT = b'<script src="https://social.example/embed.js" async="async"></script>'
BLOCKQUOTE_MARKUP = (
    b'<blockquote class="mastodon-embed" data-embed-url="https://social.example/@ana/113486342108431234/embed"'
    b' style="background: #FCF8FF; border-radius: 8px;"> <a href="https://social.example/@ana/113486342108431234"'
    b' target="_blank" style="color: #1C1A25;"> <svg xmlns="http://www.w3.org/2000/svg" width="32"'
    b' height="32" viewBox="0 0 79 75"><path d="M63 45.3v-20Z" fill="currentColor"/></svg>'
    b' <div style="color: #787588; margin-top: 16px;">Post by @ana@social.example</div>'
    b' <div style="font-weight: 500;">View on Mastodon</div> </a> </blockquote>'
)
BLOCKQUOTE_SCRIPT = (
    b'<script data-allowed-prefixes="https://social.example/" async'
    b' src="https://social.example/embed.js"></script>'
)


def test_iframe_recogniser() -> None:
    tag = start_tag(IFRAME_MARKUP)
    assert IFRAME.element == b"iframe" and IFRAME.claims(tag)
    ref = IFRAME.identify(tag, IFRAME_MARKUP)
    assert ref is not None and ref.post_id == "social.example/113486342108431234"
    assert ref.handle == "ana"
    assert IFRAME.script is not None and IFRAME.script.match(b"https://social.example/embed.js")
    assert any(m in IFRAME_MARKUP.lower() for m in IFRAME.markers)


def test_blockquote_recogniser_and_its_markup_snapshot() -> None:
    tag = start_tag(BLOCKQUOTE_MARKUP)
    assert BLOCKQUOTE.claims(tag) and not IFRAME.claims(tag)
    ref = BLOCKQUOTE.identify(tag, BLOCKQUOTE_MARKUP)
    assert ref is not None and ref.post_id == "social.example/113486342108431234"
    assert BLOCKQUOTE.script is not None and BLOCKQUOTE.script.match(
        b"https://social.example/embed.js"
    )
    fragment = BLOCKQUOTE_MARKUP + b" " + BLOCKQUOTE_SCRIPT
    span = EmbedSpan(0, len(fragment), BLOCKQUOTE.form, ref.post_id, platform="mastodon")
    snap = PLATFORM.snapshot_from_markup(span, fragment.decode())
    assert snap is not None
    assert snap.key == "mastodon:social.example/113486342108431234"
    assert snap.author_handle == "ana"  # "Post by @ana@social.example", the instance's own
    assert snap.text is None and snap.html is None  # the blockquote holds no post text
    assert snap.created_at == PLATFORM.created_at_from_id(ref.post_id)
    assert snap.url == "https://social.example/@ana/113486342108431234"


def test_blockquote_names_a_remote_author_with_its_host() -> None:
    fragment = BLOCKQUOTE_MARKUP.replace(b"@ana@social.example<", b"@bo@other.example<")
    span = EmbedSpan(
        0, len(fragment), "blockquote", "social.example/113486342108431234", "mastodon"
    )
    snap = PLATFORM.snapshot_from_markup(span, fragment.decode())
    assert snap is not None and snap.author_handle == "bo@other.example"


def test_blockquote_without_data_embed_url_is_not_claimed_but_lookalikes_are_refused() -> None:
    stripped = BLOCKQUOTE_MARKUP.replace(b"data-embed-url", b"data-other")
    assert not BLOCKQUOTE.claims(start_tag(stripped))
    hostile = BLOCKQUOTE_MARKUP.replace(
        b"https://social.example/@ana/113486342108431234/embed", b"javascript:alert(1)"
    ).replace(
        b'href="https://social.example/@ana/113486342108431234"', b'href="https://x.example/"'
    )
    assert BLOCKQUOTE.identify(start_tag(hostile), hostile) is None
    entity = IFRAME_MARKUP.replace(b"https://", b"https&#x3a;//")
    ref = IFRAME.identify(start_tag(entity), entity)
    assert ref is not None and ref.post_id == "social.example/113486342108431234"


def test_script_pattern_is_only_embed_js() -> None:
    assert EMBED_SCRIPT.match(b"https://social.example/other.js") is None
    assert EMBED_SCRIPT.match(b"http://social.example/embed.js") is None
    assert EMBED_SCRIPT.match(b"https://social.example/embed.js.evil/x") is None


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/platforms/mastodon not present")
def test_recognisers_on_the_real_corpus_markup() -> None:
    found = []
    for path in sorted((CORPUS / "embed").glob("*.html")):
        data = path.read_bytes()
        for match in re.finditer(rb"<(iframe|blockquote)\b[^>]*>", data):
            tag = start_tag(match.group(0))
            for recogniser in (IFRAME, BLOCKQUOTE):
                if tag.name == recogniser.element and recogniser.claims(tag):
                    end = data.find(b"</" + tag.name + b">", match.end()) + len(tag.name) + 3
                    ref = recogniser.identify(tag, data[match.start() : end])
                    assert ref is not None, path.name
                    found.append(ref.post_id)
    assert found == [
        "botsin.space/109439745302574877",
        "botsin.space/111183663194853769",
        "botsin.space/111183688005293306",
        "fosstodon.org/110080645931069093",
        "mastodon.social/114638610368343397",
        "mastodon.social/116205264348332986",
    ]


# --- the Status payload ---------------------------------------------------------------


def _snap(status: dict[str, Any], **kwargs: Any) -> PostSnapshot:
    return snapshot_from_status(status, host=HOST, raw=json.dumps(status), **kwargs)


def test_link_shortening_reads_as_mastodon_shows_it() -> None:
    content = (
        "<p>&quot;One wrong digit&quot; &lt;script&gt;</p><p>"
        '<a href="https://news.example/money/2019/dec/07/one-wrong-digit?ref_src=tw" rel="nofollow"'
        ' target="_blank"><span class="invisible">https://</span><span class="ellipsis">'
        'news.example/money/2019/dec</span><span class="invisible">/07/one-wrong-digit</span></a>'
        ' and <a href="https://short.example/"><span class="invisible">https://</span>'
        '<span class="">short.example/</span><span class="invisible"></span></a></p>'
        '<script>alert(1)</script><a href="javascript:alert(1)">click</a>'
    )
    snap = _snap(make_status(HOST, "113486342108431234", content))
    assert snap.text == (
        '"One wrong digit" <script>\n\nnews.example/money/2019/dec… and short.example/\n\nclick'
    )
    assert snap.html is not None
    assert '<a href="https://news.example/money/2019/dec/07/one-wrong-digit">' in snap.html
    assert "news.example/money/2019/dec…</a>" in snap.html
    assert "&lt;script&gt;" in snap.html and "<script" not in snap.html
    assert "javascript" not in snap.html
    assert snap.key == f"mastodon:{HOST}/113486342108431234"
    assert snap.source == "api" and snap.status == "live"
    assert snap.url == f"https://{HOST}/@reporter/113486342108431234"
    assert snap.created_at == "2026-08-01T13:53:15.378Z"  # the payload's, exact
    assert (snap.author_handle, snap.author_name, snap.lang, snap.dir) == (
        "reporter",
        "Reporter",
        "en",
        "ltr",
    )


def test_media_alt_text_sizes_and_unsafe_urls() -> None:
    attachments = [
        {
            "id": "1",
            "type": "image",
            "url": f"https://files.{HOST}/media/a.png",
            "preview_url": f"https://files.{HOST}/media/a-small.png",
            "remote_url": None,
            "meta": {"original": {"width": 640, "height": 480}, "small": {"width": 400}},
            "description": "A cat on a keyboard",
            "blurhash": "UPN1Ddxup{IT9an~",
        },
        {
            "id": "2",
            "type": "video",
            "url": f"https://files.{HOST}/media/v.mp4",
            "preview_url": f"https://files.{HOST}/media/v.jpg",
            "meta": {"original": {"width": 640, "height": 640, "duration": 7.3}},
            "description": None,
        },
        {"id": "3", "type": "gifv", "url": "javascript:alert(1)", "description": "x"},
        {"id": "4", "type": "audio", "url": f"https://files.{HOST}/media/a.mp3"},
        # a remote post the instance has not cached: its origin URL
        {"id": "5", "type": "image", "url": None, "remote_url": "https://other.example/m/r.jpg"},
    ]
    status = make_status(HOST, "113486342108431234", "<p>pics</p>", media_attachments=attachments)
    status["account"]["avatar_static"] = "data:image/png;base64,AAAA"
    status["account"]["avatar"] = "data:image/png;base64,AAAA"
    snap = _snap(status)
    assert [(m.kind, m.url, m.alt_text, m.width, m.height) for m in snap.media] == [
        ("photo", f"https://files.{HOST}/media/a.png", "A cat on a keyboard", 640, 480),
        ("video", f"https://files.{HOST}/media/v.mp4", None, 640, 640),
        ("photo", "https://other.example/m/r.jpg", None, None, None),
    ]
    assert snap.media[1].poster_url == f"https://files.{HOST}/media/v.jpg"
    assert snap.author_avatar_url is None


def test_card_and_poll() -> None:
    card = {
        "url": "https://news.example/story",
        "title": "A story",
        "description": "What happened",
        "type": "link",
        "provider_name": "",
        "image": "https://files.social.example/cards/1.jpg",
    }
    snap = _snap(make_status(HOST, "113486342108431234", "<p>read</p>", card=card))
    assert snap.card == {
        "type": "link",
        "title": "A story",
        "description": "What happened",
        "url": "https://news.example/story",
        "domain": "news.example",
        "image": None,
        "image_url": "https://files.social.example/cards/1.jpg",
    }
    poll = {
        "id": "1",
        "expires_at": "2026-08-01T13:58:07.237Z",
        "expired": True,
        "multiple": True,
        "votes_count": 7,
        "options": [{"title": "four", "votes_count": 3}, {"title": "five", "votes_count": 4}],
    }
    snap = _snap(make_status(HOST, "113486342108431234", "<p>vote</p>", poll=poll))
    assert snap.card == {
        "type": "poll",
        "choices": [{"label": "four", "count": 3}, {"label": "five", "count": 4}],
        "ends_at": "2026-08-01T13:58:07.237Z",
        "counts_final": True,
    }
    bad = dict(card, url="javascript:alert(1)", title=None)
    assert _snap(make_status(HOST, "1134", "<p>x</p>", card=bad)).card is None


def _quote_content(quoted_id: str) -> str:
    return (
        f'<p class="quote-inline">RE: <a href="https://{HOST}/@reporter/{quoted_id}">'
        f'<span class="invisible">https://</span><span class="ellipsis">{HOST}/@reporter</span>'
        f'<span class="invisible">/{quoted_id}</span></a></p><p>so true</p>'
    )


def test_an_accepted_quote_is_a_related_post_and_its_fallback_goes() -> None:
    quoted = make_status(HOST, "113486342100000000", "<p>the original</p>", username="first")
    status = make_status(
        HOST,
        "113486342108431234",
        _quote_content("113486342100000000"),
        quote={"state": "accepted", "quoted_status": quoted},
    )
    snap = _snap(status)
    assert snap.text == "so true"
    assert snap.quoted_post_id == f"{HOST}/113486342100000000"
    [related] = snap.related
    assert related.key == f"mastodon:{HOST}/113486342100000000"
    assert (related.text, related.author_handle) == ("the original", "first")


@pytest.mark.parametrize("state", ["revoked", "deleted", "pending", "blocked_account"])
def test_a_quote_the_server_does_not_show_is_noted_and_the_link_kept(state: str) -> None:
    status = make_status(
        HOST,
        "113486342108431234",
        _quote_content("113486342100000000"),
        quote={"state": state, "quoted_status": None},
    )
    snap = _snap(status)
    assert snap.text is not None and snap.text.startswith(f"RE: {HOST}/@reporter…")
    assert snap.related == [] and snap.quoted_post_id is None
    assert snap.notice is not None and f"quote state: {state}" in snap.notice


def test_a_boost_is_archived_as_the_boosted_post_with_a_note() -> None:
    original = make_status(HOST, "113486342100000000", "<p>the original</p>", username="first")
    wrapper = make_status(HOST, "113486342108431234", "", username="booster", reblog=original)
    wrapper["account"] = make_account(HOST, "booster")
    snap = _snap(wrapper)
    assert snap.post_id == f"{HOST}/113486342108431234"  # the id the embed named
    assert (snap.text, snap.author_handle) == ("the original", "first")
    assert snap.notice is not None and "A boost by @booster" in snap.notice


def test_reply_parent_content_warning_and_remote_author() -> None:
    status = make_status(
        HOST,
        "113486342108431234",
        "<p>same!</p>",
        in_reply_to_id="113486342100000000",
        spoiler_text="spoilers",
        sensitive=True,
        account=make_account(HOST, "bo", acct="bo@other.example"),
    )
    snap = _snap(status)
    assert snap.reply_to_post_id == f"{HOST}/113486342100000000"
    assert snap.notice == "Content warning: spoilers"
    assert snap.possibly_sensitive is True
    assert snap.author_handle == "bo@other.example"
    assert snap.url == f"https://{HOST}/@bo@other.example/113486342108431234"


def test_malformed_nested_ids_are_dropped() -> None:
    quoted = make_status(HOST, "../../etc", "<p>x</p>")
    status = make_status(
        HOST,
        "113486342108431234",
        "<p>x</p>",
        in_reply_to_id="1/2",
        quote={"state": "accepted", "quoted_status": quoted},
    )
    status["account"]["acct"] = '"><script>alert(1)</script>'
    snap = _snap(status)
    assert snap.reply_to_post_id is None and snap.related == []
    assert snap.author_handle is None
    assert snap.url == f"https://{HOST}/api/v1/statuses/113486342108431234"


# --- the fetcher against a fake instance ---------------------------------------------

FILES = "files.social.example"
OTHER = "other.example"


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


def _config(fake: FakeMastodon, tmp_path: Path, **http: Any) -> Config:
    overrides = fake.overrides(HOST, FILES, OTHER)
    overrides.update(http.pop("host_overrides", {}))
    return Config(
        http=HttpConfig(
            retries=http.pop("retries", 2),
            timeout=5,
            post_deadline=http.pop("post_deadline", 20),
            per_host_rate=1000,
            host_overrides=overrides,
            **http,
        ),
        media=MediaConfig(download=True, allowed_hosts=[]),  # Mastodon media never use it
    )


def fetch(config: Config, tmp_path: Path, *post_ids: str) -> dict[str, FetchResult]:
    """Run the Mastodon fetcher on ``post_ids`` through a real HttpSession."""

    async def run() -> list[FetchResult]:
        async with HttpSession(config.http, backoff_base=0.01, backoff_cap=0.05) as session:
            media = MediaStore(session, config.media, tmp_path / "media")
            ctx = FetchContext(
                session, media, config.http, config.media, {"mastodon": config.mastodon}, config
            )
            fetcher = PLATFORM.fetcher(ctx)
            assert fetcher.batch_size == 1
            try:
                return await fetcher.fetch_batch([FetchRequest(p) for p in post_ids])
            finally:
                await media.aclose()

    return {r.post_id: r for r in asyncio.run(run())}


def test_live_post_with_media_through_the_guard(fake: FakeMastodon, tmp_path: Path) -> None:
    fake.add_media("/media/a.png", tiny_png(1))
    fake.add_media("/media/v.mp4", tiny_mp4(2), "video/mp4")
    fake.add_media("/media/v.jpg", tiny_jpeg(3), "image/jpeg")
    fake.add_media("/media/avatars/reporter.png", tiny_png(4))
    attachments = [
        {"id": "1", "type": "image", "url": f"https://{FILES}/media/a.png", "description": "alt"},
        {
            "id": "2",
            "type": "video",
            "url": f"https://{FILES}/media/v.mp4",
            "preview_url": f"https://{FILES}/media/v.jpg",
        },
    ]
    post_id = fake.add_status(
        HOST, make_status(HOST, "113486342108431234", "<p>hello</p>", media_attachments=attachments)
    )
    result = fetch(_config(fake, tmp_path), tmp_path, post_id)[post_id]
    assert result.error is None and result.snapshot is not None
    snap = result.snapshot
    assert snap.text == "hello" and snap.status == "live"
    photo, video, avatar = snap.media
    assert photo.local_path and (tmp_path / "media" / photo.local_path).read_bytes() == tiny_png(1)
    assert video.local_path and video.local_path.endswith(".mp4")
    assert video.poster_local_path and video.poster_local_path.endswith(".jpg")
    assert avatar.kind == "avatar" and avatar.local_path
    assert fake.count(HOST, "/api/v1/statuses/113486342108431234") == 1
    assert fake.count(HOST, "/api/v1/statuses/113486342108431234/history") == 0  # not edited


def test_an_edited_post_records_its_history(fake: FakeMastodon, tmp_path: Path) -> None:
    status = make_status(
        HOST,
        "113486342108431234",
        "<p>the best editor is Kate</p>",
        edited_at="2026-08-01T13:54:00.695Z",
    )
    post_id = fake.add_status(HOST, status)
    fake.add_history(
        HOST,
        "113486342108431234",
        [
            {"content": "<p>the best editor is vi</p>", "created_at": "2026-08-01T13:54:00.505Z"},
            {"content": "<p>the best editor is Kate</p>", "created_at": "2026-08-01T13:54:00.695Z"},
        ],
    )
    config = _config(fake, tmp_path)
    config.media.download = False
    snap = fetch(config, tmp_path, post_id)[post_id].snapshot
    assert snap is not None and snap.text == "the best editor is Kate"
    assert snap.notice is not None
    assert "Edited: 2 versions between 2026-08-01T13:54:00.505Z and 2026-08-01T13:54:00.695Z" in (
        snap.notice
    )
    assert "the best editor is vi" in snap.notice
    raw = json.loads(snap.raw)
    assert [v["content"] for v in raw["history"]] == [
        "<p>the best editor is vi</p>",
        "<p>the best editor is Kate</p>",
    ]
    assert raw["status"]["id"] == "113486342108431234"


@pytest.mark.parametrize("style", ["record", "not-found"])
def test_404_is_deleted_whatever_the_message(
    style: str, fake: FakeMastodon, tmp_path: Path
) -> None:
    fake.not_found_style[HOST] = style
    post_id = f"{HOST}/113486342108431234"
    result = fetch(_config(fake, tmp_path), tmp_path, post_id)[post_id]
    assert result.error is None and result.snapshot is not None
    assert result.snapshot.status == "deleted"
    assert result.snapshot.http_status == 404
    assert result.snapshot.created_at == "2024-11-15T09:49:15.707Z"  # from the id
    assert result.snapshot.text is None


@pytest.mark.parametrize("code", [401, 403])
def test_sign_in_required_is_unavailable(code: int, fake: FakeMastodon, tmp_path: Path) -> None:
    path = "/api/v1/statuses/113486342108431234"
    fake.add_reply(HOST, path, json_reply(code, UNAUTHORIZED_BODY))
    post_id = f"{HOST}/113486342108431234"
    snap = fetch(_config(fake, tmp_path), tmp_path, post_id)[post_id].snapshot
    assert snap is not None and snap.status == "unavailable"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(200, HTML_ERROR_PAGE, "text/html"), "not JSON"),
        (Reply(404, b"<html>parked domain</html>", "text/html"), "not an answer"),
        (Reply(500, HTML_ERROR_PAGE, "text/html"), "HTTP 500"),
        (Reply(503, b"{}"), "HTTP 503"),
        (Reply(200, b"[1, 2]"), "not a JSON object"),
        (Reply(200, b"{not json"), "invalid JSON"),
        (json_reply(200, {"id": "999"}), "another status"),
        (Reply(418, b"{}"), "HTTP 418"),
    ],
)
def test_failures_are_never_a_status(
    reply: Reply, message: str, fake: FakeMastodon, tmp_path: Path
) -> None:
    fake.add_reply(HOST, "/api/v1/statuses/113486342108431234", reply)
    post_id = f"{HOST}/113486342108431234"
    result = fetch(_config(fake, tmp_path), tmp_path, post_id)[post_id]
    assert result.snapshot is None
    assert result.error is not None and message in result.error


def test_a_5xx_burst_then_the_answer(fake: FakeMastodon, tmp_path: Path) -> None:
    path = "/api/v1/statuses/113486342108431234"
    post_id = fake.add_status(HOST, make_status(HOST, "113486342108431234", "<p>back</p>"))
    fake.add_fault(HOST, path, Reply(502, HTML_ERROR_PAGE, "text/html"), times=2)
    config = _config(fake, tmp_path, retries=3)
    config.media.download = False
    result = fetch(config, tmp_path, post_id)[post_id]
    assert result.snapshot is not None and result.snapshot.text == "back"
    assert fake.count(HOST, path) == 3 and result.attempts == 3


def test_429_waits_for_retry_after(fake: FakeMastodon, tmp_path: Path) -> None:
    path = "/api/v1/statuses/113486342108431234"
    post_id = fake.add_status(HOST, make_status(HOST, "113486342108431234", "<p>slow</p>"))
    fake.add_fault(
        HOST, path, json_reply(429, {"error": "Too many requests"}, **{"Retry-After": "1"}), 1
    )
    config = _config(fake, tmp_path)
    config.media.download = False
    result = fetch(config, tmp_path, post_id)[post_id]
    assert result.snapshot is not None and result.snapshot.text == "slow"
    assert fake.count(HOST, path) == 2


def test_429_past_the_deadline_is_a_failure(fake: FakeMastodon, tmp_path: Path) -> None:
    path = "/api/v1/statuses/113486342108431234"
    fake.add_reply(HOST, path, json_reply(429, {"error": "later"}, **{"Retry-After": "3600"}))
    post_id = f"{HOST}/113486342108431234"
    result = fetch(_config(fake, tmp_path, post_deadline=3), tmp_path, post_id)[post_id]
    assert result.snapshot is None and result.error is not None and "429" in result.error


def test_an_instance_refusing_connections_is_a_failure(fake: FakeMastodon, tmp_path: Path) -> None:
    config = _config(fake, tmp_path, host_overrides={"gone.example": refusing_base()}, retries=1)
    result = fetch(config, tmp_path, "gone.example/113486342108431234")[
        "gone.example/113486342108431234"
    ]
    assert result.snapshot is None
    assert result.error is not None and result.error.startswith("instance unreachable:")


def test_a_redirect_into_loopback_is_refused_per_post(fake: FakeMastodon, tmp_path: Path) -> None:
    victim = refusing_base().replace("http://", "https://")
    fake.add_reply(
        HOST,
        "/api/v1/statuses/113486342108431234",
        Reply(302, b"", headers={"Location": f"{victim}/admin"}),
    )
    post_id = fake.add_status(OTHER, make_status(OTHER, "113486342108431234", "<p>fine</p>"))
    config = _config(fake, tmp_path)
    config.media.download = False
    results = fetch(config, tmp_path, f"{HOST}/113486342108431234", post_id)
    refused = results[f"{HOST}/113486342108431234"]
    assert refused.snapshot is None
    assert (
        refused.error is not None
        and "refused" in refused.error
        and "internal address" in refused.error
    )
    assert results[post_id].snapshot is not None  # one bad post does not stop the others


def test_media_on_an_internal_host_are_not_fetched(fake: FakeMastodon, tmp_path: Path) -> None:
    attachments = [{"id": "1", "type": "image", "url": "https://10.0.0.7/media/a.png"}]
    post_id = fake.add_status(
        HOST, make_status(HOST, "113486342108431234", "<p>x</p>", media_attachments=attachments)
    )
    result = fetch(_config(fake, tmp_path), tmp_path, post_id)[post_id]
    assert result.snapshot is not None and result.error is None
    assert result.snapshot.media[0].local_path is None  # the post stands, the file does not


def test_malformed_ids_never_reach_the_network(fake: FakeMastodon, tmp_path: Path) -> None:
    results = fetch(_config(fake, tmp_path), tmp_path, "127.0.0.1/1", "social.example/../x")
    assert all(r.snapshot is None and r.error for r in results.values())
    assert fake.count() == 0


def test_host_down_note() -> None:
    assert (
        host_down_note(HOST, "2026-10-01T00:00:00.000Z", "2026-10-20T00:00:00.000Z", "30d") is None
    )
    note = host_down_note(HOST, "2026-10-01T00:00:00.000Z", "2026-11-30T00:00:00.000Z", "30d")
    assert note is not None and "social.example" in note and "60 days" in note


def test_per_host_limit_holds_for_the_fetcher(tmp_path: Path) -> None:
    with FakeMastodon(latency=0.1) as fake:
        post_ids = [
            fake.add_status(host, make_status(host, str(113486342108431234 + n), "<p>x</p>"))
            for n in range(4)
            for host in (HOST, OTHER)
        ]
        config = _config(fake, tmp_path, per_host_concurrency=2, concurrency=16)
        config.media.download = False
        results = fetch(config, tmp_path, *post_ids)
    assert all(r.snapshot is not None for r in results.values())
    assert fake.max_in_flight == {HOST: 2, OTHER: 2}
    assert fake.max_total_in_flight == 4
