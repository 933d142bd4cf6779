"""Tests for archiver.detect: every embed form, every lookalike, lexer gotchas, corpus files.

Fixtures under tests/data/corpus are unmodified real-world files (see SOURCES.md there).
A few large corpus files (> 300 KB) are read from the shared corpus when it is present.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from archiver import platforms
from archiver.detect import (
    canonical_status_url,
    find_embeds,
    might_contain_embeds,
    parse_status_url,
)
from archiver.models import (
    FORM_AMP,
    FORM_ARCHIVED,
    FORM_BLOCKQUOTE,
    FORM_IFRAME,
    FORM_WP_BLOCK,
    EmbedSpan,
)

CORPUS = Path(__file__).parent / "data" / "corpus"
# ../shared/ beside the repository (how sessions and CI lay it out), when present.
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

SCRIPT = b'<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'


def tweet(post_id: str = "1234567890123456789", handle: str = "jack", attrs: bytes = b"") -> bytes:
    """A standard widget blockquote, as the publish.twitter.com code writes it."""
    return (
        b'<blockquote class="twitter-tweet"' + attrs + b'><p lang="en" dir="ltr">Hello '
        b'<a href="https://twitter.com/hashtag/x?src=hash&amp;ref_src=twsrc%5Etfw">#x</a> '
        b'<a href="https://t.co/abc">pic.twitter.com/abc</a></p>&mdash; Jack (@'
        + handle.encode()
        + b') <a href="https://twitter.com/'
        + handle.encode()
        + b"/status/"
        + post_id.encode()
        + b'?ref_src=twsrc%5Etfw">March 21, 2006</a></blockquote>'
    )


def ids(data: bytes, markdown: bool = False) -> list[str]:
    return [e.post_id for e in find_embeds(data, markdown=markdown)]


def page(body: bytes) -> bytes:
    return (
        b"<!DOCTYPE html><html><head><title>t</title></head><body>\n" + body + b"\n</body></html>"
    )


def read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


# --------------------------------------------------------------------------------------
# Status URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://twitter.com/jack/status/20", ("jack", "20")),
        ("http://twitter.com/jack/status/20?ref_src=twsrc%5Etfw", ("jack", "20")),
        ("https://x.com/Jack_1/status/2047647522173104145", ("Jack_1", "2047647522173104145")),
        ("//mobile.twitter.com/a/status/1269629494052237316?s=20", ("a", "1269629494052237316")),
        ("https://www.twitter.com/a/status/1/photo/1", ("a", "1")),
        ("https://m.twitter.com/a/status/1/video/2", ("a", "1")),
        ("https://twitter.com/#!/a/status/26060538500878337", ("a", "26060538500878337")),
        (
            "https://twitter.com/bigdata/statuses/258963194163380224",
            ("bigdata", "258963194163380224"),
        ),
        ("https://twitter.com/i/status/123", (None, "123")),
        ("https://x.com/i/web/status/123", (None, "123")),
        ("twitter.com/a/status/5#frag", ("a", "5")),
        ("https://twitter.com/a/status/5?s=20&amp;t=abc", ("a", "5")),
        ("HTTPS://TWITTER.COM/A/STATUS/5", ("A", "5")),
    ],
)
def test_parse_status_url_forms(url: str, expected: tuple[str | None, str]) -> None:
    assert parse_status_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/jack",
        "https://twitter.com/jack?ref_src=twsrc%5Etfw",
        "https://twitter.com/jack/lists/news",
        "https://twitter.com/intent/tweet?text=hi",
        "https://twitter.com/search/status/123",
        "https://twitter.com/hashtag/status/123",
        "https://twitter.com/share/status/1",
        "https://twitter.com/a/status/12345678901234567890",  # 20 digits
        "https://twitter.com/a/status/123abc",
        "https://twitter.com/toolonghandle1234/status/1",  # 17 characters
        "https://example.com/a/status/1",
        "https://fox.com/a/status/1",
        "https://twitter.com.evil.example/a/status/1",
        "https://www.threads.net/@a/post/C3bbjL_tLiD",
        "",
    ],
)
def test_parse_status_url_rejects(url: str) -> None:
    assert parse_status_url(url) is None


def test_canonical_status_url() -> None:
    assert canonical_status_url("jack", "20") == "https://x.com/jack/status/20"
    assert canonical_status_url(None, "20") == "https://x.com/i/status/20"


# --------------------------------------------------------------------------------------
# Form 1: blockquote + widgets.js


def test_blockquote_with_script_span_is_exact() -> None:
    embed = tweet() + b"\n" + SCRIPT
    data = page(b"<p>before</p>\n" + embed + b"\n<p>after</p>")
    [span] = find_embeds(data)
    assert span == EmbedSpan(
        start=data.index(b"<blockquote"),
        end=data.index(b"</script>") + len(b"</script>"),
        form=FORM_BLOCKQUOTE,
        post_id="1234567890123456789",
        handle="jack",
        url="https://twitter.com/jack/status/1234567890123456789?ref_src=twsrc%5Etfw",
    )
    assert data[span.start : span.end] == embed
    assert span.key == "x:1234567890123456789"


def test_blockquote_without_script() -> None:
    data = page(tweet() + b"<p>after</p>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == tweet()


def test_script_not_directly_after_is_not_taken() -> None:
    data = page(tweet() + b"<p>text</p>" + SCRIPT)
    [span] = find_embeds(data)
    assert data[span.start : span.end] == tweet()


@pytest.mark.parametrize(
    "script",
    [
        b'<script async src="//platform.twitter.com/widgets.js"></script>',
        b'<script async src="https://platform.x.com/widgets.js" charset="utf-8"></script>',
        b"<SCRIPT ASYNC SRC=https://platform.twitter.com/widgets.js></SCRIPT>",
        b'<script type="text/plain" class="cmplazyload" data-cmp-src="https://platform.twitter.com/widgets.js"></script>',
        b'<script async src="../../../platform.twitter.com/widgets.js"></script>',
        b'<script async="" src="./page_files/widgets.js" charset="utf-8"></script>',
    ],
)
def test_script_variants_are_part_of_the_embed(script: bytes) -> None:
    data = page(tweet() + b"\n  \n" + script + b"<p>x</p>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == tweet() + b"\n  \n" + script


def test_other_script_after_blockquote_is_not_taken() -> None:
    data = page(tweet() + b'<script src="https://example.com/app.js"></script>')
    [span] = find_embeds(data)
    assert data[span.start : span.end] == tweet()


def test_wpautop_wrapped_script_takes_the_paragraph() -> None:
    data = page(tweet() + b"\n<p>" + SCRIPT + b"</p>\n<p>next</p>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == tweet() + b"\n<p>" + SCRIPT + b"</p>"


def test_uppercase_and_any_attribute_quoting() -> None:
    data = page(
        b"<BLOCKQUOTE data-lang=en CLASS=twitter-tweet><P>x</P>&mdash; A (@a) "
        b"<A HREF=https://twitter.com/a/status/11>d</A></BLOCKQUOTE>"
        b"<blockquote data-x='a>b' class='tw-align-center twitter-tweet'>"
        b"<a href='https://x.com/b/status/22'>d</a></blockquote>"
        b'<blockquote\n  data-td-script-src="https://platform.twitter.com/widgets.js"\n'
        b'  class="twitter-tweet"\n><a href = "https://twitter.com/c/status/33" >d</a></blockquote>'
    )
    assert [(e.post_id, e.handle) for e in find_embeds(data)] == [
        ("11", "a"),
        ("22", "b"),
        ("33", "c"),
    ]


def test_twitter_video_class() -> None:
    data = page(tweet("77", attrs=b"").replace(b"twitter-tweet", b"twitter-video") + SCRIPT)
    [span] = find_embeds(data)
    assert (span.form, span.post_id) == (FORM_BLOCKQUOTE, "77")


def test_last_status_link_is_the_permalink() -> None:
    data = page(
        b'<blockquote class="twitter-tweet"><p>see '
        b'<a href="https://twitter.com/other/status/1">this</a></p>&mdash; A (@a) '
        b'<a href="https://twitter.com/a/status/2">date</a></blockquote>'
    )
    assert [(e.post_id, e.handle) for e in find_embeds(data)] == [("2", "a")]


def test_nested_blockquotes_are_counted() -> None:
    inner = b"<blockquote>quoted <blockquote>deeper</blockquote></blockquote>"
    data = page(
        b'<blockquote class="twitter-tweet"><p>x</p>'
        + inner
        + b'<a href="https://twitter.com/a/status/3">d</a></blockquote><p>after</p>'
    )
    [span] = find_embeds(data)
    assert data[span.start : span.end].endswith(b"d</a></blockquote>")
    assert span.post_id == "3"


def test_blockquote_with_only_a_profile_link_is_not_an_embed() -> None:
    data = page(
        b'<blockquote class="twitter-tweet"><a href="https://twitter.com/jack">@jack</a>'
        b"</blockquote>"
    )
    assert find_embeds(data) == []


def test_unclosed_blockquote_is_skipped_not_extended_to_eof() -> None:
    data = (
        page(tweet("5"))
        + b'<blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/6">'
    )
    assert ids(data) == ["5"]


def test_duplicate_class_attribute_first_wins() -> None:
    data = page(
        b'<blockquote class="quote" class="twitter-tweet">'
        b'<a href="https://twitter.com/a/status/7">d</a></blockquote>'
    )
    assert find_embeds(data) == []
    data = page(
        b'<blockquote class="twitter-tweet" class="quote">'
        b'<a href="https://twitter.com/a/status/7">d</a></blockquote>'
    )
    assert ids(data) == ["7"]


@pytest.mark.parametrize(
    "cls",
    [b"twitter-tweet-button", b"twitter-tweet-rendered", b"twitter-timeline", b"xtwitter-tweet"],
)
def test_class_is_matched_by_token_not_substring(cls: bytes) -> None:
    data = page(
        b'<blockquote class="'
        + cls
        + b'"><a href="https://twitter.com/a/status/8">d</a></blockquote>'
    )
    assert find_embeds(data) == []


def test_repeated_embed_is_reported_each_time() -> None:
    data = page(tweet("9") + b"<p>x</p>" + tweet("9"))
    assert ids(data) == ["9", "9"]


# --------------------------------------------------------------------------------------
# Form 2: amp-twitter


def test_amp_twitter_with_placeholder_is_one_embed() -> None:
    amp = (
        b'<amp-twitter width="375" height="472" layout="responsive" '
        b'data-tweetid="885634330868850689">'
        b'<blockquote placeholder class="twitter-tweet" data-lang="en"><p>x</p>&mdash; A (@a) '
        b'<a href="https://twitter.com/a/status/885634330868850689">d</a></blockquote>'
        b"<div fallback>gone</div></amp-twitter>"
    )
    data = page(b"<p>" + amp + b"</p>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == amp
    assert (span.form, span.post_id, span.handle) == (FORM_AMP, "885634330868850689", "a")


def test_amp_bind_expression_is_not_an_id() -> None:
    data = page(
        b'<amp-twitter width=1 height=1 [data-tweetid]="state.id" layout="responsive">'
        b"</amp-twitter>"
    )
    assert find_embeds(data) == []


@pytest.mark.parametrize("value", [b"abc", b"", b"12345678901234567890"])
def test_amp_invalid_ids(value: bytes) -> None:
    data = page(b'<amp-twitter data-tweetid="' + value + b'"></amp-twitter>')
    assert find_embeds(data) == []


def test_amp_uppercase_and_unquoted() -> None:
    data = page(b"<AMP-TWITTER DATA-TWEETID=42 layout=responsive></AMP-TWITTER>")
    [span] = find_embeds(data)
    assert (span.form, span.post_id, span.handle) == (FORM_AMP, "42", None)


# --------------------------------------------------------------------------------------
# Form 3: rendered iframes


RENDERED_SRC = (
    b"https://platform.twitter.com/embed/Tweet.html?creatorScreenName=someone&amp;dnt=false"
    b"&amp;embedId=twitter-widget-0&amp;frame=false&amp;id=790936002017755136&amp;lang=en"
)


def test_rendered_div_wrapping_only_the_iframe_is_the_span() -> None:
    div = (
        b'<div class="twitter-tweet twitter-tweet-rendered" style="display: flex;">\n  '
        b'<iframe id="twitter-widget-0" title="Twitter Tweet" src="' + RENDERED_SRC + b'" '
        b'data-tweet-id="790936002017755136"></iframe>\n</div>'
    )
    data = page(b'<div class="wrap">' + div + b"</div>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == div
    assert (span.form, span.post_id) == (FORM_IFRAME, "790936002017755136")


def test_iframe_src_with_x_host_and_no_data_attribute() -> None:
    iframe = b'<iframe src="https://platform.x.com/embed/Tweet.html?dnt=true&id=55"></iframe>'
    data = page(b"<p>" + iframe + b"</p>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == iframe
    assert span.post_id == "55"


def test_2016_iframe_without_src() -> None:
    iframe = (
        b'<iframe id="twitter-widget-0" class="twitter-tweet twitter-tweet-rendered" '
        b'data-tweet-id="800384752746254337" title="Twitter Tweet"></iframe>'
    )
    data = page(iframe)
    [span] = find_embeds(data)
    assert (data[span.start : span.end], span.post_id) == (iframe, "800384752746254337")


def test_browser_saved_page_local_src_and_local_widgets_js() -> None:
    div = (
        b'<div class="twitter-tweet twitter-tweet-rendered" style="display: flex;">'
        b'<iframe class="" src="./page_files/Tweet.html" data-tweet-id="1521523341391282176">'
        b"</iframe></div>"
    )
    script = b'<script async="" src="./page_files/widgets.js" charset="utf-8"></script>'
    data = page(b'<div class="wf-module">' + div + b" " + script + b"</div>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == div + b" " + script
    assert span.post_id == "1521523341391282176"


def test_rendered_div_with_other_content_keeps_just_the_iframe() -> None:
    iframe = b'<iframe data-tweet-id="66"></iframe>'
    data = page(b'<div class="twitter-tweet twitter-tweet-rendered"><p>x</p>' + iframe + b"</div>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == iframe


def test_share_button_iframe_and_timeline_iframe_are_not_embeds() -> None:
    data = page(
        b'<iframe class="twitter-share-button twitter-share-button-rendered twitter-tweet-button" '
        b'title="Twitter Tweet Button" src="https://platform.twitter.com/widgets/tweet_button.html'
        b'?url=x"></iframe>'
        b'<iframe src="https://platform.twitter.com/embed/Timeline.html?id=1"></iframe>'
        b'<iframe class="twitter-tweet-rendered"></iframe>'
    )
    assert find_embeds(data) == []


# --------------------------------------------------------------------------------------
# Form 4: WordPress


def test_gutenberg_source_block_span_is_comment_to_comment() -> None:
    block = (
        b'<!-- wp:embed {"url":"https://twitter.com/a/status/1216740446178889729",'
        b'"type":"rich","providerNameSlug":"twitter","responsive":true} -->\n'
        b'<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
        b'<div class="wp-block-embed__wrapper">\nhttps://twitter.com/a/status/1216740446178889729\n'
        b"</div></figure>\n<!-- /wp:embed -->"
    )
    data = b"<!-- wp:paragraph -->\n<p>x</p>\n<!-- /wp:paragraph -->\n\n" + block + b"\n"
    [span] = find_embeds(data)
    assert data[span.start : span.end] == block
    assert (span.form, span.post_id, span.handle) == (FORM_WP_BLOCK, "1216740446178889729", "a")
    assert span.url == "https://twitter.com/a/status/1216740446178889729"


def test_gutenberg_json_escapes_and_x_provider() -> None:
    block = (
        b'<!-- wp:embed {"url":"https://x.com/a/status/9?s=20\\u0026t=x\\u002dy",'
        b'"providerNameSlug":"x"} -->\n<figure class="wp-block-embed-x"><div>u</div></figure>\n'
        b"<!-- /wp:embed -->"
    )
    [span] = find_embeds(block)
    assert (span.post_id, span.url) == ("9", "https://x.com/a/status/9?s=20&t=x-y")


def test_gutenberg_profile_url_and_other_provider_are_not_embeds() -> None:
    data = (
        b'<!-- wp:embed {"url":"https://twitter.com/surecart","providerNameSlug":"twitter"} -->\n'
        b'<figure class="wp-block-embed wp-block-embed-twitter">'
        b'<div class="wp-block-embed__wrapper">'
        b"\nhttps://twitter.com/surecart\n</div></figure>\n<!-- /wp:embed -->\n"
        b'<!-- wp:embed {"url":"https://www.youtube.com/watch?v=x",'
        b'"providerNameSlug":"youtube"} -->\n'
        b"<figure></figure>\n<!-- /wp:embed -->\n"
        b'<!-- wp:embed {"url":"https://twitter.com/a/status/1", BROKEN JSON -->\n'
        b"<!-- /wp:embed -->"
    )
    assert find_embeds(data) == []


def test_rendered_figure_with_blockquote_is_one_embed() -> None:
    figure = (
        b'<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
        b'<div class="wp-block-embed__wrapper">\n'
        + tweet("1721144944059118002", "K")
        + SCRIPT
        + b"\n</div><figcaption>cap</figcaption></figure>"
    )
    data = page(b"<p>a</p>" + figure + b"<p>b</p>")
    [span] = find_embeds(data)
    assert data[span.start : span.end] == figure
    assert (span.form, span.post_id, span.handle) == (FORM_WP_BLOCK, "1721144944059118002", "K")


def test_rendered_figure_with_bare_url_and_caption_link() -> None:
    figure = (
        b'<figure class="wp-block-embed-twitter wp-block-embed">'
        b'<div class="wp-block-embed__wrapper">'
        b"\nhttps://twitter.com/a/status/31\n</div><figcaption>"
        b'<a href="https://twitter.com/b/status/32">other</a></figcaption></figure>'
    )
    [span] = find_embeds(page(figure))
    assert (span.post_id, span.handle) == ("31", "a")


def test_figure_wrapping_a_timeline_is_not_an_embed() -> None:
    data = page(
        b'<figure class="wp-block-embed is-provider-twitter wp-block-embed-twitter">'
        b'<div class="wp-block-embed__wrapper"><a class="twitter-timeline" data-width="300" '
        b'href="https://twitter.com/vorangedacht?ref_src=twsrc%5Etfw">Tweets</a></div></figure>'
    )
    assert find_embeds(data) == []


def test_youtube_figure_is_not_an_embed() -> None:
    data = page(
        b'<figure class="wp-block-embed is-provider-youtube wp-block-embed-youtube"><div>'
        b'<a href="https://twitter.com/a/status/1">x</a></div></figure>'
    )
    assert find_embeds(data) == []


# --------------------------------------------------------------------------------------
# Form 5: our own archived embeds


def test_archived_post_with_quoted_post_inside() -> None:
    archived = (
        b'<blockquote class="archived-post" data-archived-post="x:123456" lang="en">'
        b"<p>text</p>"
        b'<blockquote class="archived-quote" data-archived-post="x:999"><p>q</p>'
        b'<a href="https://x.com/q/status/999">q</a></blockquote>'
        b'<a href="https://x.com/me/status/123456">date</a></blockquote>'
    )
    data = page(archived + SCRIPT)
    [span] = find_embeds(data)
    assert data[span.start : span.end] == archived  # a script after it is not ours to take
    assert (span.form, span.post_id, span.handle) == (FORM_ARCHIVED, "123456", "me")


def test_archived_post_also_carrying_twitter_tweet_class_is_archived() -> None:
    data = page(b'<blockquote class="twitter-tweet" data-archived-post="x:5"></blockquote>')
    [span] = find_embeds(data)
    assert (span.form, span.post_id, span.handle, span.url) == (FORM_ARCHIVED, "5", None, None)


# --------------------------------------------------------------------------------------
# Things that are not embeds, and lexer gotchas


@pytest.mark.parametrize(
    "wrapper",
    [
        (b"<!--", b"-->"),
        (b"<!-- a --", b"--!>"),
        (b"<script>var s = '", b"';</script>"),
        (b'<script type="text/template">', b"</script>"),
        (b"<style>", b"</style>"),
        (b"<textarea>", b"</textarea>"),
        (b"<title>", b"</title>"),
        (b"<xmp>", b"</xmp>"),
        (b"<noscript>", b"</noscript>"),
        (b"<template>", b"</template>"),
        (b"<template><template></template>", b"</template>"),
        (b"<noembed>", b"</noembed>"),
        (b"<iframe srcdoc=x>", b"</iframe>"),
        (b"<svg><![CDATA[", b"]]></svg>"),
    ],
)
def test_embeds_hidden_in_non_markup_are_skipped(wrapper: tuple[bytes, bytes]) -> None:
    open_, close = wrapper
    data = page(open_ + tweet("1") + SCRIPT + close + b"\n" + tweet("2"))
    assert ids(data) == ["2"]


def test_comment_closed_by_bang_gt() -> None:
    # HTML5: "--!>" closes a comment, so the second embed is live.
    data = page(b"<!-- hidden: " + tweet("1") + b" --!>" + tweet("8"))
    assert ids(data) == ["8"]


def test_short_comments_close_immediately() -> None:
    data = page(b"<!--><!--->" + tweet("8"))
    assert ids(data) == ["8"]


def test_unclosed_comment_hides_the_rest() -> None:
    assert ids(page(b"<!-- never closed " + tweet("1"))) == []


def test_double_escaped_script() -> None:
    # "<!--<script>" enters the double-escaped state: the first "</script>" does not end
    # the script, so the blockquote is script text.
    data = page(b"<script><!--<script></script>" + tweet("1") + b"--></script>" + tweet("2"))
    assert ids(data) == ["2"]


def test_script_escape_closed_before_end_tag() -> None:
    data = page(b"<script><!-- x --></script>" + tweet("3"))
    assert ids(data) == ["3"]


def test_script_end_tag_variants() -> None:
    data = page(b"<script>var a = '<blockquote>';</script >" + tweet("4"))
    assert ids(data) == ["4"]
    data = page(b"<SCRIPT>x</Script>" + tweet("5"))
    assert ids(data) == ["5"]


def test_js_escaped_copy_inside_script_is_ignored() -> None:
    escaped = tweet("1").replace(b"</", b"<\\/")
    data = page(b"<script>sessionStorage.setItem('p', '" + escaped + b"');</script>" + tweet("1"))
    [span] = find_embeds(data)
    assert data[span.start : span.end] == tweet("1")


def test_escaped_markup_plain_links_and_widgets_are_not_embeds() -> None:
    data = page(
        b'&lt;blockquote class="twitter-tweet"&gt;&lt;a href="https://twitter.com/a/status/1"&gt;'
        b"&lt;/a&gt;&lt;/blockquote&gt;"
        b'<p>See <a href="https://twitter.com/a/status/2">this post</a>.</p>'
        b'<a class="twitter-timeline" href="https://twitter.com/a?ref_src=twsrc%5Etfw">Tweets</a>'
        b'<a class="twitter-share-button" href="https://twitter.com/intent/tweet">Tweet</a>'
        b'<a class="twitter-tweet" href="https://twitter.com/intent/tweet?url=x">share</a>'
        b'<a class="twitter-follow-button" href="https://twitter.com/a">Follow</a>'
        b'<div class="twitter-container"><blockquote class="tiktok-embed"></blockquote></div>'
        b'<div class="twitter-tweet"><a href="https://twitter.com/a/status/3">x</a></div>'
        b"<script>document.querySelectorAll('blockquote.twitter-tweet')</script>"
        b"<style>.twitter-tweet{margin:0 auto}.wp-block-embed-twitter{}</style>"
        b"https://twitter.com/a/status/4"
    )
    assert find_embeds(data) == []


def test_gt_inside_quoted_attribute_of_start_tag() -> None:
    data = page(
        b'<blockquote title="a > b" class="twitter-tweet" data-x="<">'
        b'<a title=">" href="https://twitter.com/a/status/12">d</a></blockquote>'
    )
    [span] = find_embeds(data)
    assert span.post_id == "12"
    assert data[span.start : span.end].startswith(b'<blockquote title="a > b"')


def test_eof_inside_tag_does_not_crash() -> None:
    assert find_embeds(page(tweet("1")) + b'<blockquote class="twitter-tweet') == [
        find_embeds(page(tweet("1")))[0]
    ]
    assert find_embeds(b"<script") == []
    assert find_embeds(b"<iframe data-tweet-id=1>") == []  # unclosed iframe
    assert find_embeds(b"") == []


def test_windows_1252_and_invalid_utf8_bytes_do_not_matter() -> None:
    data = page(b"<p>Caf\xe9 \x93quoted\x94 \xff\xfe</p>" + tweet("21") + b"\xc3")
    assert ids(data) == ["21"]


# --------------------------------------------------------------------------------------
# Markdown


def test_markdown_fenced_code_is_skipped_only_in_markdown_mode() -> None:
    doc = (
        b"# Title\n\n```html\n"
        + tweet("1")
        + b"\n```\n\n~~~~\n"
        + tweet("2")
        + b"\n~~~~\n\n"
        + tweet("3")
        + b"\n"
    )
    assert ids(doc, markdown=True) == ["3"]
    assert ids(doc) == ["1", "2", "3"]


def test_markdown_unclosed_fence_runs_to_eof() -> None:
    doc = tweet("1") + b"\n\n```\n" + tweet("2") + b"\n"
    assert ids(doc, markdown=True) == ["1"]


def test_markdown_inline_backticks_are_not_a_fence() -> None:
    doc = b"Use ```x``` here\n\n" + tweet("4") + b"\n"
    assert ids(doc, markdown=True) == ["4"]


# --------------------------------------------------------------------------------------
# Prefilter


@pytest.mark.parametrize(
    "marker",
    [
        b"twitter-tweet",
        b"twitter-video",
        b"amp-twitter",
        b"data-archived-post",
        b"data-tweet-id",
        b"platform.twitter.com/embed",
        b"platform.x.com/embed",
        b"wp-block-embed-twitter",
        b"wp-block-embed-x",
        b"wp:embed",
        b"wp:core-embed/twitter",
        b"TWITTER-TWEET",
        b"<AMP-TWITTER",
    ],
)
def test_prefilter_flags_every_marker(marker: bytes) -> None:
    assert might_contain_embeds(b"<html><body>" + marker + b"</body></html>")


def test_prefilter_rejects_pages_without_markers() -> None:
    data = page(
        b'<a href="https://twitter.com/a/status/1">Twitter</a> Tweet this!'
        b'<a class="twitter-share-button" href="https://twitter.com/intent/tweet">Tweet</a>'
        b'<script src="https://platform.twitter.com/widgets.js"></script>'
    )
    assert not might_contain_embeds(data)


# --------------------------------------------------------------------------------------
# Corpus files

EXPECTED: dict[str, list[tuple[str, str]]] = {
    "twitter_blockquote_01_forward_datalang.html": [
        (FORM_BLOCKQUOTE, "776617166489657346"),
        (FORM_BLOCKQUOTE, "740027646310944768"),
        (FORM_BLOCKQUOTE, "740032045498273793"),
        (FORM_BLOCKQUOTE, "698267237094916100"),
    ],
    "twitter_blockquote_02_deadline_width_dnt.html": [
        (FORM_BLOCKQUOTE, "1117767646961963009"),
        (FORM_BLOCKQUOTE, "1117773751217795078"),
        (FORM_BLOCKQUOTE, "1117736685721223168"),
    ],
    "twitter_blockquote_03_inquisitr_wpautop_p_wrapped.html": [
        (FORM_BLOCKQUOTE, i)
        for i in (
            "807949237820465152",
            "808335105232142337",
            "807950329463668736",
            "808043607378771969",
            "517045156826988544",
            "519224951703105536",
        )
    ],
    "twitter_blockquote_04_theatlantic_no_dir_no_refsrc.html": [
        (FORM_BLOCKQUOTE, "777838543783751680"),
        (FORM_BLOCKQUOTE, "777842926621777920"),
        (FORM_BLOCKQUOTE, "777843187389956097"),
    ],
    "twitter_blockquote_06_thepoliticalinsider_mentions.html": [
        (FORM_BLOCKQUOTE, "810987762375598081")
    ],
    "twitter_blockquote_07_vox_align_center.html": [(FORM_BLOCKQUOTE, "807147701339127808")],
    "twitter_blockquote_09_tw_align_center_class.html": [(FORM_BLOCKQUOTE, "370525864523743232")],
    "twitter_blockquote_11_thepoke_conversation_none.html": [
        (FORM_BLOCKQUOTE, i)
        for i in (
            "1719621634984759346",
            "1719879382024528301",
            "1719992919002612171",
            "1720326535423328674",
            "1720141556999451032",
            "1720116013239345253",
            "1720051618949775429",
            "1720063162207060276",
            "1720093776885268978",
            "1720112343143563507",
            "1720386539346100561",
        )
    ],
    "twitter_blockquote_12_fdpbt_xmllang_literal_emdash.html": [
        (FORM_BLOCKQUOTE, "1453318812829372417")
    ],
    "twitter_blockquote_13_spox_old_lang_attr_empty_anchor.html": [
        (FORM_BLOCKQUOTE, "1489540934710743047")
    ],
    "twitter_blockquote_14_ultimahora_cms_wrapper_dup_url.html": [
        (FORM_BLOCKQUOTE, "1522266202730639361")
    ],
    "twitter_blockquote_15_teslamag_consent_cmplazyload.html": [
        (FORM_BLOCKQUOTE, "1720918522082078752")
    ],
    "twitter_blockquote_16_zhtw_dark_cards_hidden_empty.md": [
        (FORM_BLOCKQUOTE, "1766167180578873589")
    ],
    "twitter_blockquote_17_mashable_deleted_placeholder.html": [
        (FORM_BLOCKQUOTE, i)
        for i in (
            "808782171829891072",
            "808787937005551616",
            "808785781032620033",
            "808784749162590209",
            "808784499635093504",
            "808783245114478592",
            "808784126283304960",
            "808789834928128001",
            "808788480134352896",
            "808784969430683648",
            "808785883981824005",
            "808788202979000320",
        )
    ],
    "twitter_blockquote_18_zxx_pic_only_in_figure_ja.md": [
        (FORM_BLOCKQUOTE, "1927939664507240934")
    ],
    "twitter_blockquote_20_xcom_link_quote_wrapper_no_refsrc.md": [
        (FORM_BLOCKQUOTE, "1884803090945077421")
    ],
    "twitter_video_01_ja_slides_tweet_and_video_liquid_in_text.md": [
        (FORM_BLOCKQUOTE, "976480577388883968"),
        (FORM_BLOCKQUOTE, "977475056535138304"),
    ],
    "twitter_rendered_01_buzzfeed_div_iframe.html": [
        (FORM_IFRAME, "790936002017755136"),
        (FORM_IFRAME, "790636031301279744"),
    ],
    "amp_twitter_01_standard_co_uk.html": [(FORM_AMP, "1311697819384844290")],
    "wp_gutenberg_source_02_legacy_core_embed_twitter.md": [
        (FORM_WP_BLOCK, "1216740446178889729"),
        (FORM_WP_BLOCK, "1217173739676274689"),
    ],
    "oddity_01_invalid_utf8_and_js_escaped_duplicate.html": [
        (FORM_BLOCKQUOTE, "1387859618504794116")
    ],
    "oddity_05_blockquote_inside_p_repeated.html": [(FORM_BLOCKQUOTE, "527783221539643393")] * 3,
    # Not embeds of posts:
    "wp_gutenberg_rendered_02_provider_twitter_wrapping_timeline.html": [],
    "oddity_04_js_string_mentions_twitter_tweet_class.html": [],
    "oddity_07_commented_old_format_statuses_path_blade.html": [],
    "oddity_10_escaped_embed_code_in_tutorial_code_block_div.html": [],
    "twitter_negative_01_buzzap_share_link_with_twitter_tweet_class.html": [],
    "twitter_negative_03_phoronix_tweet_button_iframe.html": [],
    "twitter_timeline_01_asahi_widget_id.html": [],
    "twitter_timeline_02_weeklyascii_datalist.html": [],
    "jekyll_twitter_03_profile_timeline_not_a_post.md": [],
    "tiktok_02_inside_div_named_twitter_container.md": [],
    "wp_classic_bare_url_01_wp_export_with_escaped_oembed_cache_2011.md": [],
    "wp_classic_bare_url_02_p_wrapped_urls_unrendered.html": [],
    "threads_02_hugo_md_ccostes_stacked_prs.md": [],
    # Other archived platforms (registered: Bluesky, Mastodon), each with its embed.js.
    "bluesky_02_standard_embed_empty_lang_attr.md": [
        (FORM_BLOCKQUOTE, "did:plc:snhe2oxrn74k3m24ffw2mfie/3lbruqxjnjn2n")
    ],
    "mastodon_01_iframe_embed_two_posts_hachyderm.md": [
        (FORM_IFRAME, "hachyderm.io/109683757201594015"),
        (FORM_IFRAME, "hachyderm.io/109700844080933628"),
    ],
    # JSX (className=) is not HTML; out of scope for the HTML detector.
    "mdx_tweet_03_jsx_classname_blockquote_arabic.jsx": [],
}

# The takagi page and its EUC-JP re-encoding hold the same 16 embeds.
TAKAGI = [
    (FORM_BLOCKQUOTE, i)
    for i in (
        "1088755839102418944",
        "1089840528357814278",
        "1089081689366642688",
        "1089308700261593088",
        "1089996539030851590",
        "1089897577057636352",
        "1090237534968283137",
        "1091693165764009984",
        "1092262735423856642",
        "1094494305513889793",
        "1088993415855915008",
        "1089006701313896448",
        "1092262735423856642",
        "1095195943090057216",
        "1092737501188354049",
        "1092739232127307776",
    )
]
EXPECTED["twitter_blockquote_05_ja_ncr_entities_eucjp_meta.html"] = TAKAGI
EXPECTED["derived_01_eucjp_bytes_transcoded_from_takagi_page.html"] = TAKAGI


def assert_post_id(span: EmbedSpan) -> None:
    """X ids are 1-19 digits; another platform's id is what its URL parses to."""
    if span.platform == "x":
        assert span.post_id.isdigit() and 1 <= len(span.post_id) <= 19, span
    else:
        ref = platforms.get(span.platform).parse_url(span.url or "")
        assert ref is not None and ref.post_id == span.post_id, span


def _is_markdown(name: str) -> bool:
    return name.endswith((".md", ".mdx"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_expected_embeds(name: str) -> None:
    data = read(name)
    found = find_embeds(data, markdown=_is_markdown(name))
    assert [(e.form, e.post_id) for e in found] == EXPECTED[name]
    if found:
        assert might_contain_embeds(data)


def test_every_fixture_is_covered() -> None:
    names = {p.name for p in CORPUS.iterdir() if p.name != "SOURCES.md"}
    assert names == set(EXPECTED)


def _all_fixtures() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.name != "SOURCES.md")


@pytest.mark.parametrize("path", _all_fixtures(), ids=lambda p: p.name)
def test_spans_sorted_non_overlapping_in_bounds(path: Path) -> None:
    data = path.read_bytes()
    for markdown in (False, True):
        spans = find_embeds(data, markdown=markdown)
        prev_end = 0
        for span in spans:
            assert prev_end <= span.start < span.end <= len(data)
            text = data[span.start : span.end]
            assert text.startswith(b"<") and text.endswith(b">")
            assert_post_id(span)
            prev_end = span.end
        # Splicing the spans out leaves every other byte; a rescan finds nothing.
        rest = b"".join(
            data[a:b]
            for a, b in zip(
                [0] + [s.end for s in spans], [s.start for s in spans] + [len(data)], strict=True
            )
        )
        assert find_embeds(rest, markdown=markdown) == []


def test_corpus_span_boundaries() -> None:
    data = read("twitter_blockquote_11_thepoke_conversation_none.html")
    first = find_embeds(data)[0]
    text = data[first.start : first.end]
    assert text.startswith(b'<blockquote class="twitter-tweet">')
    assert text.endswith(
        b'<p><script async src="https://platform.twitter.com/widgets.js" '
        b'charset="utf-8"></script></p>'
    )
    assert first.handle == "marksandspencer"

    data = read("twitter_blockquote_15_teslamag_consent_cmplazyload.html")
    [span] = find_embeds(data)
    assert data[span.start : span.end].endswith(
        b'data-cmp-src="https://platform.twitter.com/widgets.js" charset="utf-8"></script></p>'
    )

    data = read("amp_twitter_01_standard_co_uk.html")
    [span] = find_embeds(data)
    text = data[span.start : span.end]
    assert text.startswith(b"<amp-twitter noloading") and text.endswith(b"</amp-twitter>")

    data = read("twitter_rendered_01_buzzfeed_div_iframe.html")
    span = find_embeds(data)[0]
    text = data[span.start : span.end]
    assert text.startswith(b'<div class="twitter-tweet twitter-tweet-rendered"')
    assert text.endswith(b"</iframe>\n                              </div>")

    data = read("wp_gutenberg_source_02_legacy_core_embed_twitter.md")
    span = find_embeds(data, markdown=True)[0]
    text = data[span.start : span.end]
    assert text.startswith(b"<!-- wp:core-embed/twitter {")
    assert text.endswith(b"<!-- /wp:core-embed/twitter -->")
    assert span.handle == "d4rkm0de"


# Large files (> 300 KB) are not copied into the repository; use the shared corpus if
# this machine has it.
SHARED_EXPECTED: dict[str, list[tuple[str, str]]] = {
    "twitter_blockquote_10_aktualne_cz.html": [(FORM_BLOCKQUOTE, "1454931184966770696")],
    "twitter_rendered_02_breitbart_iframe_class_tweetid.html": [
        (FORM_IFRAME, "800384752746254337"),
        (FORM_IFRAME, "769239021021036544"),
        (FORM_IFRAME, "807998073116835840"),
    ],
    "twitter_rendered_03_eltiempo_browser_saved_local_src.html": [
        (FORM_IFRAME, "1521523341391282176"),
        (FORM_IFRAME, "1521533628693499907"),
    ],
    "wp_gutenberg_rendered_01_report24_twitter.html": [
        (FORM_WP_BLOCK, "1721144944059118002"),
        (FORM_WP_BLOCK, "1721101800814551390"),
        (FORM_WP_BLOCK, "1721083635611128283"),
        (FORM_WP_BLOCK, "1721181306808144065"),
    ],
    "oddity_03_noscript_escaped_iframe_timeline_and_js_selectors.html": [],
    "twitter_negative_02_saved_twitter_status_page.html": [],
    "oddity_02_consent_blocker_base64_instagram.html": [],
    "amp_instagram_01_popsugar_block_on_consent.html": [],
}


@pytest.mark.parametrize("name", sorted(SHARED_EXPECTED))
def test_shared_corpus_large_files(name: str) -> None:
    path = SHARED_CORPUS / name
    if not path.exists():
        pytest.skip("shared corpus not available")
    found = find_embeds(path.read_bytes())
    assert [(e.form, e.post_id) for e in found] == SHARED_EXPECTED[name]


# --------------------------------------------------------------------------------------
# Bounded stress: malformed pages must not make the scan quadratic.


@pytest.mark.slow
@pytest.mark.parametrize(
    "data",
    [
        tweet("1")[:-13] * 20000,  # 20000 unclosed tweet blockquotes
        tweet("1")[:-13] * 20000 + b"</blockquote>" * 10000,  # half of them closed
        b"<amp-twitter data-tweetid=1>" * 20000,
        b'<figure class="wp-block-embed-twitter">' * 20000,
        b"<template>" * 20000,
        b"<script><!--<script>" * 20000,
        b"<!-- wp:embed " * 20000,
        b"<blockquote class=twitter-tweet" * 20000,
    ],
    ids=["unclosed", "half-closed", "amp", "figure", "template", "script", "wp", "eof-in-tag"],
)
def test_malformed_pages_scan_in_bounded_time(data: bytes) -> None:
    started = time.perf_counter()
    spans = find_embeds(data)
    assert time.perf_counter() - started < 5.0
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
