"""Static rendering of archived posts (archiver.render).

The embed goes into other people's articles, so most of these tests are about what
must never appear in it: script, event handlers, non-http(s) links, third-party loads.
Every output is parsed with BeautifulSoup and every attribute is checked.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from bs4.element import Tag

from archiver.models import MediaItem, Post
from archiver.render import human_date, render_embed, render_post_page
from archiver.snapshot.sanitize import safe_http_url

COPY = "../posts/x-2020868064400117767.html"
MEDIA = "../media/"
URL_ATTRS = (
    "href",
    "src",
    "poster",
    "cite",
    "action",
    "formaction",
    "srcset",
    "data",
    "background",
)
LOAD_ATTRS = ("src", "poster", "srcset", "data", "background")
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    "</blockquote><script>alert(2)</script>",
    "javascript:alert(1)",
]
HOSTILE_HTML = (
    "hi<script>alert(1)</script><img src=x onerror=alert(1)>"
    '<a href="javascript:alert(1)">j1</a> <a href="JAVASCRIPT:alert(1)">j2</a> '
    '<a href="  javascript:alert(1)">j3</a> <a href="java&#x09;script:alert(1)">j4</a> '
    '<a href="java\nscript:alert(1)">j5</a> '
    '<a href="data:text/html,<script>alert(1)</script>">d</a> '
    '<a href="vbscript:msgbox(1)">v</a> <a href="//evil.example/x">pr</a> '
    '<a href="https://ok.example/" onmouseover="alert(1)" style="x:expression(alert(1))">ok</a> '
    '<a href="https://user:pw@evil.example/">cred</a> '
    "</blockquote></p><blockquote data-archived-post=x:1>nested</blockquote>"
    '<iframe src="https://evil.example/"></iframe><object data="x"></object>'
    '<form action="javascript:alert(1)"><button formaction="javascript:x">b</button></form>'
    "{{< shortcode >}} {% include evil %} {# c #}"
)


def make_post(**kw: Any) -> Post:
    base: dict[str, Any] = dict(
        key="x:2020868064400117767",
        platform="x",
        post_id="2020868064400117767",
        url="https://x.com/MrinankSharma/status/2020868064400117767",
        author_handle="MrinankSharma",
        author_name="mrinank",
        text=(
            "Today is my last day at Anthropic. I resigned.\n\n"
            "Here is the letter I shared with my colleagues, explaining my decision. "
            "pic.twitter.com/Qe4QyAFmxL"
        ),
        html=(
            "Today is my last day at Anthropic. I resigned.<br><br>Here is the letter I shared "
            "with my colleagues, explaining my decision. "
            '<a href="https://t.co/Qe4QyAFmxL">pic.twitter.com/Qe4QyAFmxL</a>'
        ),
        lang="en",
        dir="ltr",
        created_at="2026-02-09T14:31:07.123Z",
        status="live",
        source="syndication",
        first_seen_at="2026-02-10T08:00:00.000Z",
        archived_at="2026-02-10T08:00:00.000Z",
    )
    base.update(kw)
    return Post(**base)


def quoted_post(**kw: Any) -> Post:
    fields: dict[str, Any] = dict(
        key="x:2020000000000000000",
        post_id="2020000000000000000",
        url="https://x.com/quoted/status/2020000000000000000",
        author_handle="quoted",
        author_name="Quoted Person",
        text="the quoted text",
        html=None,
    )
    fields.update(kw)
    return make_post(**fields)


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def is_local(url: str) -> bool:
    """Relative or root-relative, never another origin."""
    return not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url) and not url.startswith(("//", "\\"))


def assert_inert(html: str, *, page: bool = False) -> None:
    """No script, no handlers, links only http(s) or local, loads only local."""
    # As text ("&lt;script&gt;", "javascript:alert(1)") a payload is harmless; as markup
    # it is not. So: no raw "<script" anywhere, and every attribute checked below.
    assert "<script" not in html.lower()
    soup = soup_of(html)
    forbidden = {"script", "iframe", "object", "embed", "form", "button", "svg", "math", "base"}
    if not page:
        forbidden |= {"link", "meta"}
        # The card's own style (unless left to the page's first card): one <style>,
        # first thing in the embed, loading nothing.
        styles = soup.find_all("style")
        assert len(styles) <= 1
        for style in styles:
            assert style.parent is soup.find("blockquote") and style.previous_sibling is None
    for style in soup.find_all("style"):
        css = style.get_text()
        assert css.isascii() and "url(" not in css and "@import" not in css, css
        assert "expression" not in css and "<" not in css
    for link in soup.find_all("a", href=re.compile(r"^https?:")):
        # Strangers' links: no referrer, no opener, no endorsement.
        assert {"nofollow", "noopener", "noreferrer"} <= set(link.get("rel") or []), link
    for tag in soup.find_all(True):
        assert isinstance(tag, Tag)
        assert tag.name not in forbidden, tag.name
        if tag.name == "meta":
            assert str(tag.get("http-equiv") or "").lower() != "refresh"
        for attr, value in tag.attrs.items():
            assert not attr.lower().startswith("on"), (tag.name, attr)
            text = " ".join(value) if isinstance(value, list) else str(value)
            if attr == "style":
                assert "url(" not in text and "expression" not in text
            if attr in URL_ATTRS:
                if attr in LOAD_ATTRS:
                    assert is_local(text), (tag.name, attr, text)
                else:
                    assert safe_http_url(text) == text or (is_local(text) and ":" not in text), (
                        tag.name,
                        attr,
                        text,
                    )


def test_embed_basic_shape_and_marker() -> None:
    out = render_embed(make_post(), COPY, MEDIA)
    assert out.startswith(
        '<blockquote class="archived-post eac" data-archived-post="x:2020868064400117767"'
    )
    assert out.endswith("</blockquote>")
    assert "\n" not in out and "\r" not in out
    soup = soup_of(out)
    top = soup.find_all("blockquote", recursive=False)
    assert len(top) == 1
    bq = top[0]
    assert bq["data-status"] == "live"
    assert bq["cite"] == "https://x.com/MrinankSharma/status/2020868064400117767"
    # The card's own words are English, left to right; the post's text has its own.
    assert bq["lang"] == "en" and bq["dir"] == "ltr"
    assert len(soup.select("[data-archived-post]")) == 1
    time = soup.find("time")
    assert isinstance(time, Tag)
    assert time["datetime"] == "2026-02-09T14:31:07.123Z"
    assert time.get_text() == "2:31 PM UTC · Feb 9, 2026"
    assert soup.find("a", href=COPY, string="Archived copy") is not None
    view = soup.find("a", href="https://x.com/MrinankSharma/status/2020868064400117767")
    assert isinstance(view, Tag) and view.get_text() == "View on X"
    assert view["rel"] == ["nofollow", "noopener", "noreferrer"]
    # Header: placeholder initial (no avatar file), name, isolated handle, platform label.
    head = soup.select_one(".eac-head")
    assert isinstance(head, Tag)
    assert [c["class"][0] for c in head.find_all(recursive=False)] == ["eac-av", "eac-who", "eac-x"]
    assert head.select_one(".eac-av").get_text() == "M"
    assert head.select_one(".eac-name").get_text() == "mrinank"
    handle = head.select_one(".eac-handle")
    assert handle.name == "bdi" and handle["dir"] == "ltr" and handle.get_text() == "@MrinankSharma"
    assert "pic.twitter.com/Qe4QyAFmxL" in out
    text = soup.find(class_="archived-post-text")
    assert isinstance(text, Tag)
    assert text["lang"] == "en" and text["dir"] == "ltr"
    # Reading order: author, text, date, then links.
    every = soup.find_all(True)
    order = [soup.select_one(sel) for sel in (".eac-name", ".eac-text", "time", ".eac-links")]
    positions = [every.index(tag) for tag in order if tag is not None]
    assert len(positions) == 4 and positions == sorted(positions)
    assert text.get_text("|").startswith("Today is my last day at Anthropic. I resigned.")
    assert len(text.find_all("br")) == 2
    assert_inert(out)


def test_style_can_be_left_to_the_pages_first_card() -> None:
    with_style = render_embed(make_post(), COPY, MEDIA)
    without = render_embed(make_post(), COPY, MEDIA, style=False)
    assert with_style.count("<style>") == 1 and "<style" not in without
    assert (
        with_style.replace(
            with_style[with_style.index("<style>") : with_style.index("</style>") + 8], ""
        )
        == without
    )
    assert_inert(without)


def test_embed_is_deterministic() -> None:
    post = make_post(
        media=[MediaItem("photo", "https://pbs.twimg.com/a.jpg", local_path="ab/cd.jpg")],
        quoted=quoted_post(),
        card={"type": "poll", "choices": [{"label": "A", "count": 2}, {"label": "B", "count": 1}]},
    )
    first = render_embed(post, COPY, MEDIA)
    assert render_embed(post, COPY, MEDIA) == first
    assert render_embed(copy.deepcopy(post), COPY, MEDIA) == first


def test_no_notice_for_live_or_unknown() -> None:
    for status in ("live", "unknown"):
        out = render_embed(make_post(status=status), COPY, MEDIA)
        assert "archived-post-notice" not in out


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        ("deleted", "This post was deleted Last seen live on February 10, 2026."),
        ("protected", "protected"),
        ("suspended", "suspended"),
        ("unavailable", "no longer available"),
    ],
)
def test_notice_for_gone_posts(status: str, phrase: str) -> None:
    out = render_embed(make_post(status=status), COPY, MEDIA)
    soup = soup_of(out)
    notice = soup.find(class_="archived-post-notice")
    assert isinstance(notice, Tag)
    assert phrase in notice.get_text()
    assert "February 10, 2026" in notice.get_text()
    assert soup.blockquote is not None and soup.blockquote["data-status"] == status
    # A banner, not a bold line: its own class per status, last in reading order
    # (after the date and links), which the style shows first.
    assert "eac-gone" in notice["class"] and f"eac-gone-{status}" in notice["class"]
    assert notice.find_previous_sibling(class_="eac-foot") is not None
    assert notice.find_next_sibling() is None
    assert_inert(out)


def test_banner_of_a_markup_only_copy_does_not_claim_it_was_seen_live() -> None:
    out = render_embed(make_post(status="deleted", source="markup"), COPY, MEDIA)
    notice = soup_of(out).find(class_="archived-post-notice")
    assert isinstance(notice, Tag)
    assert "Last seen live" not in notice.get_text()
    assert "archived from the article on February 10, 2026" in notice.get_text()


def test_date_text_when_no_created_at() -> None:
    out = render_embed(make_post(created_at=None, date_text="9 février 2026"), COPY, MEDIA)
    assert "9 février 2026" in out
    assert "<time" not in out


def test_garbage_created_at_is_not_a_datetime() -> None:
    out = render_embed(make_post(created_at='2026" onload="x'), COPY, MEDIA)
    assert "<time" not in out and "datetime" not in out
    assert_inert(out)


def test_human_date() -> None:
    assert human_date("2026-02-09T14:31:07.123Z") == "February 9, 2026"
    assert human_date("2011-01-14T23:38:11.000Z") == "January 14, 2011"
    assert human_date("nonsense") is None
    assert human_date(None) is None


def test_quoted_post_nested_without_second_marker() -> None:
    out = render_embed(make_post(quoted=quoted_post()), COPY, MEDIA)
    soup = soup_of(out)
    assert len(soup.select("[data-archived-post]")) == 1
    outer = soup.blockquote
    assert outer is not None
    inner = outer.find("blockquote")
    assert isinstance(inner, Tag)
    assert inner["data-archived-quote"] == "x:2020000000000000000"
    assert not inner.has_attr("data-archived-post")
    assert "the quoted text" in inner.get_text()
    assert "@quoted" in inner.get_text()
    assert_inert(out)


def test_quoted_key_only_links_to_original() -> None:
    out = render_embed(make_post(quoted_key="x:2020000000000000001"), COPY, MEDIA)
    assert 'href="https://x.com/i/status/2020000000000000001"' in out


def test_reply_context() -> None:
    parent = quoted_post(author_handle="parent_acct")
    out = render_embed(make_post(reply_to=parent), COPY, MEDIA)
    reply = soup_of(out).find(class_="archived-post-reply")
    assert isinstance(reply, Tag)
    assert reply.get_text() == "Replying to @parent_acct"
    out = render_embed(make_post(reply_to_key="x:2020000000000000002"), COPY, MEDIA)
    assert "Replying to" in out and "https://x.com/i/status/2020000000000000002" in out


def test_media_only_local_files() -> None:
    media = [
        MediaItem(
            "photo", "https://pbs.twimg.com/media/A.jpg", alt_text="A letter", local_path="ab12.jpg"
        ),
        MediaItem("photo", "https://pbs.twimg.com/media/B.jpg"),  # not downloaded
        MediaItem(
            "photo", "https://pbs.twimg.com/media/C.jpg", local_path="https://evil.example/c.jpg"
        ),
        MediaItem("photo", "https://pbs.twimg.com/media/D.jpg", local_path="../../etc/passwd"),
        MediaItem("photo", "https://pbs.twimg.com/media/E.jpg", local_path="//evil.example/e.jpg"),
        MediaItem("photo", "https://pbs.twimg.com/media/F.jpg", local_path="javascript:alert(1)"),
        MediaItem(
            "video",
            "https://video.twimg.com/v.mp4",
            local_path="cd34.mp4",
            poster_local_path="ef56.jpg",
        ),
    ]
    out = render_embed(make_post(media=media, author_avatar="av99.jpg"), COPY, MEDIA)
    soup = soup_of(out)
    srcs = [str(img["src"]) for img in soup.find_all("img")]
    assert srcs == ["../media/av99.jpg", "../media/ab12.jpg", "../media/ef56.jpg"]
    assert soup.find("img", alt="A letter") is not None
    video_link = soup.find("a", href="../media/cd34.mp4")
    assert isinstance(video_link, Tag) and video_link.find("img") is not None
    assert "twimg.com" not in out and "evil.example" not in out
    assert "5 attachments not archived" in out
    assert_inert(out)


def test_absolute_media_prefix_is_refused() -> None:
    for prefix in ("https://cdn.example/media/", "//cdn.example/", "javascript:"):
        with pytest.raises(ValueError):
            render_embed(make_post(), COPY, prefix)


def test_poll_and_link_cards_are_static_and_escaped() -> None:
    poll = {
        "type": "poll",
        "choices": [
            {"label": "The Beatles", "count": 28857},
            {"label": "<b>Stones</b>", "count": "9074"},
        ],
    }
    out = render_embed(make_post(card=poll), COPY, MEDIA)
    items = [li.get_text() for li in soup_of(out).select(".archived-post-poll li")]
    assert items == ["The Beatles 76% (28857 votes)", "<b>Stones</b> 24% (9074 votes)"]
    bars = [bar["style"] for bar in soup_of(out).select(".eac-bar")]
    assert bars == ["width:76%", "width:24%"]
    assert "<b>Stones" not in out
    link = {
        "type": "link",
        "title": "A <script>title</script>",
        "description": "desc",
        "url": "https://example.org/story",
        "domain": "example.org",
        "image": "https://example.org/og.png",
    }
    out = render_embed(make_post(card=link), COPY, MEDIA)
    card = soup_of(out).find(class_="archived-post-card")
    assert isinstance(card, Tag)
    # The whole card is the link (as on X), to the http(s) URL only.
    assert card.name == "a" and card["href"] == "https://example.org/story"
    assert card.find("img") is None  # remote card image: not loaded
    assert "A <script>title</script>" in card.get_text()
    bad = dict(link, url="javascript:alert(1)", image="card.png")
    out = render_embed(make_post(card=bad), COPY, MEDIA)
    card = soup_of(out).find(class_="archived-post-card")
    assert isinstance(card, Tag)
    assert card.name != "a" and card.find("a") is None
    img = card.find("img")
    assert isinstance(img, Tag) and img["src"] == "../media/card.png"
    assert_inert(out)


@pytest.mark.parametrize("payload", XSS)
def test_hostile_text_names_and_alt_render_inert(payload: str) -> None:
    post = make_post(
        text=f"before {payload} after",
        html=None,
        author_name=f"Name {payload}",
        author_handle=payload,
        lang=payload,
        dir=payload,
        date_text=payload,
        created_at=None,
        media=[
            MediaItem("photo", "https://pbs.twimg.com/a.jpg", alt_text=payload, local_path="a.jpg")
        ],
        card={"type": "link", "title": payload, "url": payload, "description": payload},
        quoted=quoted_post(text=payload, author_name=payload, url=payload),
    )
    out = render_embed(post, COPY, MEDIA)
    assert_inert(out)
    soup = soup_of(out)
    # Still exactly one embed, and the payload shows as text.
    assert len(soup.find_all("blockquote", recursive=False)) == 1
    assert len(soup.select("[data-archived-post]")) == 1
    assert out.count("<blockquote") == out.count("</blockquote>") == 2
    assert payload in soup.get_text()
    text = soup.find(class_="archived-post-text")
    assert isinstance(text, Tag) and not text.has_attr("lang") and text["dir"] == "auto"
    assert_inert(render_post_page(post, MEDIA, articles=[payload]), page=True)


def test_hostile_html_is_resanitized() -> None:
    post = make_post(html=HOSTILE_HTML, author_name='"><img src=x onerror=alert(1)>')
    out = render_embed(post, COPY, MEDIA)
    assert_inert(out)
    soup = soup_of(out)
    text = soup.find(class_="archived-post-text")
    assert isinstance(text, Tag)
    assert [a["href"] for a in text.find_all("a")] == ["https://ok.example/"]
    assert len(soup.select("[data-archived-post]")) == 1
    assert "{{" not in out and "{%" not in out and "{#" not in out
    assert "&#123;&#123;&lt; shortcode &gt;}}" in out
    assert '"><img' in soup.get_text()


def test_javascript_post_url_gets_no_link() -> None:
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "x.com/a/status/1",
    ):
        out = render_embed(make_post(url=bad), COPY, MEDIA)
        assert "View on X" not in out
        bq = soup_of(out).blockquote
        assert bq is not None and not bq.has_attr("cite")
        assert_inert(out)


def test_hostile_copy_href_gets_no_link() -> None:
    out = render_embed(make_post(), "javascript:alert(1)", MEDIA)
    assert "Archived copy" not in out
    assert_inert(out)


def test_markdown_safe_one_line_and_template_syntax_escaped() -> None:
    text = "line one\n\nline {{< x user=1 >}} and {% raw %} and {{ site.title }}\r\nend"
    post = make_post(
        text=text,
        html=None,
        author_name="Multi\nLine\n\nName",
        media=[MediaItem("photo", "u", alt_text="alt\n\nwith blank line", local_path="a.jpg")],
    )
    out = render_embed(post, COPY, MEDIA)
    assert "\n" not in out and "\r" not in out
    assert not out.endswith("\n")
    assert "{{" not in out and "{%" not in out
    assert "&#123;&#123;&lt; x user=1 &gt;}}" in out
    # The character references read back as the original text.
    assert "{{ site.title }}" in soup_of(out).get_text()


def test_unicode_and_rtl_preserved() -> None:
    post = make_post(
        text="اجازة الصيف 😍",
        html=None,
        lang="ar",
        dir="rtl",
        author_name="مريم المطيري",
        author_handle="mariamtalentt",
    )
    out = render_embed(post, COPY, MEDIA)
    soup = soup_of(out)
    text = soup.find(class_="archived-post-text")
    assert isinstance(text, Tag) and text["lang"] == "ar" and text["dir"] == "rtl"
    assert "اجازة الصيف 😍" in out
    # The handle cannot be reordered by the Arabic around it.
    handle = soup.select_one(".eac-handle")
    assert handle is not None and handle.name == "bdi" and handle["dir"] == "ltr"
    assert soup.select_one(".eac-av").get_text() == "م"


def test_post_page_is_self_contained() -> None:
    post = make_post(
        status="deleted",
        notice="This Post was deleted by the Post author.",
        media=[
            MediaItem(
                "video",
                "https://video.twimg.com/v.mp4",
                local_path="v.mp4",
                poster_local_path="p.jpg",
            )
        ],
        quoted=quoted_post(),
        like_count=12,
        reply_count=3,
    )
    page = render_post_page(
        post, "../media/", articles=["https://news.example/story", "blog/post.md"]
    )
    assert page.startswith("<!doctype html>")
    assert_inert(page, page=True)
    soup = soup_of(page)
    assert soup.find("meta", charset="utf-8") is not None
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert isinstance(csp, Tag)
    assert csp["content"] == (
        "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
    )
    ref = soup.find("meta", attrs={"name": "referrer"})
    assert isinstance(ref, Tag) and ref["content"] == "no-referrer"
    assert soup.title is not None and "@MrinankSharma" in soup.title.get_text()
    # A page is not an embed: a rescan of it must not count one.
    assert soup.select_one("[data-archived-post]") is None
    video = soup.find("video")
    assert isinstance(video, Tag) and video["src"] == "../media/v.mp4"
    text = soup.get_text(" ")
    assert "This post was deleted" in text and "Last seen live on February 10, 2026." in text
    assert "This Post was deleted by the Post author." in text
    assert "syndication" in text and "12 likes" in text
    assert soup.find("a", href="https://news.example/story") is not None
    assert "blog/post.md" in text
    # The card comes first, then provenance in plain words; machine details are folded.
    card = soup.select_one("article.eac")
    assert isinstance(card, Tag) and card.find_next("section") is not None
    assert "Fetched from X on February 10, 2026." in text
    details = soup.find("details")
    assert isinstance(details, Tag) and not details.has_attr("open")
    assert "x:2020868064400117767" in details.get_text()
    assert (
        render_post_page(post, "../media/", articles=["https://news.example/story", "blog/post.md"])
        == page
    )
    # Inlined CSS survived the template-syntax escaping.
    style = soup.find("style")
    assert isinstance(style, Tag) and "&#123;" not in style.get_text()


def test_empty_markup_post_renders() -> None:
    # What a markup snapshot of an empty embed gives: id and handle only.
    post = make_post(author_name=None, text=None, html=None, lang=None, dir=None, created_at=None)
    out = render_embed(post, COPY, MEDIA)
    assert "archived-post-text" not in out
    assert "@MrinankSharma" in out
    assert_inert(out)
    post = replace(post, author_handle=None)
    assert "Unknown author" in render_embed(post, COPY, MEDIA)


def test_page_does_not_invent_time_for_pre_snowflake_posts() -> None:
    post = make_post(
        key="x:20",
        post_id="20",
        url="https://x.com/jack/status/20",
        created_at="2006-03-21T00:00:00.000Z",
        date_text="March 21, 2006",
    )
    text = soup_of(render_post_page(post, MEDIA)).get_text(" ")
    assert "March 21, 2006 (day only" in text
    exact = soup_of(render_post_page(make_post(), MEDIA)).get_text(" ")
    assert "2026-02-09T14:31:07.123Z" in exact


def snap(
    when: str, status: str = "live", text: str | None = "v1", source: str = "syndication"
) -> Any:
    """A snapshot as storage reports it (storage.queries.SnapshotInfo)."""
    from archiver.storage.queries import SnapshotInfo

    return SnapshotInfo(
        id=0,
        captured_at=when,
        source=source,
        status=status,
        source_url=None,
        http_status=None,
        fetched_at=None,
        author_handle="MrinankSharma",
        author_name="mrinank",
        text=text,
        created_at=None,
        content_hash=f"{status}{text}{source}",
    )


def test_post_page_history_newest_first_with_what_changed() -> None:
    from archiver.render import EmbeddingArticle

    versions = [
        snap("2026-02-09T15:00:00.000Z", status="unknown", source="markup"),
        snap("2026-02-09T15:05:00.000Z"),
        snap("2026-02-10T09:00:00.000Z", text="v2 edited"),
        snap("2026-02-11T10:00:00.000Z", status="deleted", text="v2 edited"),
    ]
    post = make_post(
        status="deleted",
        source="syndication",
        archived_at="2026-02-09T15:05:00.000Z",
        last_checked_at="2026-02-12T07:00:00.000Z",
    )
    articles = [
        EmbeddingArticle("news/story.html", "../../news/story.html", None),
        EmbeddingArticle(
            "https://site.example/a", "../../site.example/a.html", "https://site.example/a"
        ),
    ]
    soup = soup_of(render_post_page(post, MEDIA, articles=articles, versions=versions))
    items = [li.get_text(" ") for li in soup.select("ol.history li")]
    assert len(items) == 4
    assert items[0].startswith("February 11, 2026, 10:00 UTC") and "Status: deleted" in items[0]
    assert "Text edited" in items[1]
    assert "Status: live" in items[2] and "Fetched from X" in items[2]
    assert "Archived from the article's markup" in items[3]
    text = soup.get_text(" ")
    # The last live snapshot, not the capture of the current copy.
    assert (
        "Last checked: deleted on February 12, 2026. Last seen live on February 10, 2026." in text
    )
    links = soup.select("section.embedded a")
    assert [a["href"] for a in links] == [
        "../../news/story.html",
        "../../site.example/a.html",
        "https://site.example/a",
    ]
    assert links[2].get_text() == "original" and links[2]["rel"] == [
        "nofollow",
        "noopener",
        "noreferrer",
    ]


def test_mentions_and_hashtags_link_to_x_but_not_inside_links_or_references() -> None:
    html = (
        "Thanks @AnthropicAI and #AI, mail me a@b.com; #123 &#39;q&#39; "
        '<a href="https://t.co/x">@not_me #nope</a> #नमस्ते'
    )
    out = render_embed(make_post(html=html), COPY, MEDIA)
    text = soup_of(out).find(class_="archived-post-text")
    assert isinstance(text, Tag)
    hrefs = [a["href"] for a in text.find_all("a")]
    assert hrefs == [
        "https://x.com/AnthropicAI",
        "https://x.com/hashtag/AI",
        "https://t.co/x",
        "https://x.com/hashtag/%E0%A4%A8%E0%A4%AE%E0%A4%B8%E0%A5%8D%E0%A4%A4%E0%A5%87",
    ]
    assert text.find("a", href="https://x.com/AnthropicAI")["dir"] == "ltr"
    assert "'q'" in text.get_text() and "a@b.com" in text.get_text()
    assert_inert(out)
    # A plain-text post (no HTML of its own): its bare URLs become links too.
    plain = make_post(html=None, text='Read https://example.org/a?b=1&c=2. Or "javascript:x"')
    text = soup_of(render_embed(plain, COPY, MEDIA)).find(class_="archived-post-text")
    assert isinstance(text, Tag)
    assert [a["href"] for a in text.find_all("a")] == ["https://example.org/a?b=1&c=2"]
    assert text.get_text() == 'Read https://example.org/a?b=1&c=2. Or "javascript:x"'


def test_time_in_the_articles_language_and_day_only_for_old_ids() -> None:
    hindi = soup_of(render_embed(make_post(), COPY, MEDIA, lang="hi-IN")).find("time")
    assert isinstance(hindi, Tag) and hindi.get_text() == "9 फ़रवरी 2026, 14:31 UTC"
    assert hindi["lang"] == "hi" and hindi["datetime"] == "2026-02-09T14:31:07.123Z"
    other = soup_of(render_embed(make_post(), COPY, MEDIA, lang="xx")).find("time")
    assert isinstance(other, Tag) and other.get_text() == "2:31 PM UTC · Feb 9, 2026"
    old = make_post(key="x:20", post_id="20", created_at="2006-03-21T00:00:00.000Z")
    when = soup_of(render_embed(old, COPY, MEDIA)).find("time")
    assert isinstance(when, Tag) and when.get_text() == "March 21, 2006"  # no invented time


def test_media_grid_video_poster_and_verified_mark() -> None:
    media = [
        MediaItem("photo", "u1", "one", 1200, 675, local_path="a.jpg"),
        MediaItem("photo", "u2", None, 600, 900, local_path="b.jpg"),
        MediaItem("video", "u3", None, 1280, 720, local_path="v.mp4", poster_local_path="p.jpg"),
        MediaItem("animated_gif", "u4", None, local_path="g.mp4"),
    ]
    soup = soup_of(
        render_embed(
            make_post(media=media, author_verified="business", author_avatar="av.jpg"), COPY, MEDIA
        )
    )
    grid = soup.select_one(".eac-media")
    assert isinstance(grid, Tag) and "eac-media-4" in grid["class"]
    imgs = grid.find_all("img")
    assert [i["alt"] for i in imgs] == ["one", "Image from the post", "Video from the post"]
    assert imgs[0]["style"] == "aspect-ratio:1200 / 675"
    plays = [(a["href"], a.get_text()) for a in grid.select("a.eac-cell")]
    assert plays == [("../media/v.mp4", "▶ Play video"), ("../media/g.mp4", "▶ Play GIF")]
    mark = soup.select_one(".eac-verified")
    assert isinstance(mark, Tag) and mark["aria-label"] == "Verified account"
    assert "eac-verified-business" in mark["class"]
    avatar = soup.select_one(".eac-av img")
    assert isinstance(avatar, Tag) and avatar["src"] == "../media/av.jpg" and avatar["alt"] == ""


def test_a_run_writes_cards_in_the_articles_language_and_pages_linking_back(tmp_path: Path) -> None:
    """Through the pipeline: <html lang="hi"> gives a Hindi date; the local page links
    to the rewritten article; a status change re-renders every embed of the post."""
    from archive_helpers import POST_ELECTION, build_archive, page, set_status, tweet

    from archiver import Archive

    embed = tweet(POST_ELECTION, "hindinews", "हिंदी समाचार", "नमस्ते", "March 29, 2023")
    hindi = page("Chunav", embed).replace("<html>", '<html lang="hi">')
    config = build_archive(tmp_path, {"hi/story.html": hindi, "en/story.html": page("E", embed)})
    out = tmp_path / "out"
    times = {
        name: soup_of((out / name / "story.html").read_text(encoding="utf-8")).find("time")
        for name in ("hi", "en")
    }
    assert times["hi"] is not None and times["hi"].get_text().startswith("29 मार्च 2023, ")
    assert times["hi"]["lang"] == "hi"
    assert times["en"] is not None and times["en"].get_text().endswith("Mar 29, 2023")
    local = out / "embeds" / "x" / f"{POST_ELECTION}.html"
    links = [
        a["href"] for a in soup_of(local.read_text(encoding="utf-8")).select("section.embedded a")
    ]
    assert sorted(links) == ["../../en/story.html", "../../hi/story.html"]
    assert all((local.parent / href).resolve().is_file() for href in links)
    history = soup_of(local.read_text(encoding="utf-8")).select("ol.history li")
    assert len(history) == 1 and "Archived from the article's markup" in history[0].get_text()

    set_status(config, POST_ELECTION, "deleted")
    with Archive.from_config(config) as archive:
        archive.regenerate()
    for name in ("hi", "en"):
        card = soup_of((out / name / "story.html").read_text(encoding="utf-8"))
        banner = card.select_one(".eac-gone")
        assert banner is not None and "This post was deleted" in banner.get_text()
    assert "Last checked: deleted" in soup_of(local.read_text(encoding="utf-8")).get_text(" ")


def test_an_article_carries_the_cards_style_once(tmp_path: Path) -> None:
    from archive_helpers import POST_ARABIC, POST_ELECTION, build_archive, page, tweet

    two = page(
        "Two",
        tweet(POST_ELECTION, "hindinews", "हिंदी समाचार", "नमस्ते", "March 29, 2023"),
        tweet(POST_ARABIC, "newsdesk_ar", "غرفة الأخبار", "مرحبا", "January 3, 2025"),
    )
    build_archive(tmp_path, {"two.html": two})
    out = soup_of((tmp_path / "out" / "two.html").read_text(encoding="utf-8"))
    cards = out.select("blockquote.eac")
    assert len(cards) == 2 and len(out.find_all("style")) == 1
    assert cards[0].find("style", recursive=False) is not None
