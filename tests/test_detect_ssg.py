"""Static-site generator forms (issue 11): exact spans on real-syntax fixtures, the
forms that are not embeds, options, and snapshots from the form alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from archiver.config import ConfigError, config_from_dict
from archiver.detect import find_embeds, might_contain_embeds
from archiver.detect_ssg import SsgOptions, options_for
from archiver.models import Article, ArticleRef
from archiver.pipeline import scan_article
from archiver.sources.directory import is_markdown

DATA = Path(__file__).parent / "data" / "ssg"
SITE = SsgOptions(bare_urls=True, shortcodes=("stweet",), components=("Tweet", "STweet"))

# (exact source text of the span, form, post id, handle), in document order.
EXPECTED: dict[str, list[tuple[str, str, str, str | None]]] = {
    "hugo-shortcodes.md": [
        ("{{< tweet 1397963184959418370 >}}", "hugo-shortcode", "1397963184959418370", None),
        (
            '{{< tweet user="AsahiLinux" id="1438152384165728257" >}}',
            "hugo-shortcode",
            "1438152384165728257",
            "AsahiLinux",
        ),
        (
            "{{< x id='1182325832578150401' user='JensRantil' >}}",
            "hugo-shortcode",
            "1182325832578150401",
            "JensRantil",
        ),
        ('{{<tweet id="1554153066823385089">}}', "hugo-shortcode", "1554153066823385089", None),
        (
            '{{% x user="christitustech" id="1573043990018113539" %}}',
            "hugo-shortcode",
            "1573043990018113539",
            "christitustech",
        ),
        (
            '{{< stweet user="nerdz0ne" id="1596178362271207425" >}}',
            "hugo-shortcode",
            "1596178362271207425",
            "nerdz0ne",
        ),
    ],
    "jekyll-liquid.md": [
        (
            "{% twitter https://twitter.com/jakevdp/status/1204765621767901185?s=20 align=center %}",
            "liquid-tag",
            "1204765621767901185",
            "jakevdp",
        ),
        (
            "{% twitternocache https://twitter.com/rubygems/status/518821243320287232 %}",
            "liquid-tag",
            "518821243320287232",
            "rubygems",
        ),
        (
            "{% twitter oembed https://x.com/jeremyphoward/status/1232059428238581760 %}",
            "liquid-tag",
            "1232059428238581760",
            "jeremyphoward",
        ),
        (
            "{% tweet https://twitter.com/thingskatedid/status/1588790271940395008 %}",
            "liquid-tag",
            "1588790271940395008",
            "thingskatedid",
        ),
        (
            '{% tweet "https://mobile.twitter.com/thingskatedid/status/1588790271940395009" %}',
            "liquid-tag",
            "1588790271940395009",
            "thingskatedid",
        ),
    ],
    "devto.md": [
        ("{% twitter 1204765621767901185 %}", "liquid-tag", "1204765621767901185", None),
        ("{% twitter 1232059428238581760%}", "liquid-tag", "1232059428238581760", None),
        (
            "{% embed https://x.com/jeremyphoward/status/1232059428238581761 %}",
            "liquid-tag",
            "1232059428238581761",
            "jeremyphoward",
        ),
        (
            "> twitter: https://twitter.com/jakevdp/status/1204765621767901186?s=20",
            "fastpages",
            "1204765621767901186",
            "jakevdp",
        ),
    ],
    "components.mdx": [
        ('<Tweet id="1511750228428435457" />', "component", "1511750228428435457", None),
        (
            '<Tweet id="https://twitter.com/astrodotbuild/status/1511750228428435458" theme="dark" />',
            "component",
            "1511750228428435458",
            "astrodotbuild",
        ),
        (
            '<STweet tweetLink="brycewray/status/1095457720709263360" />',
            "component",
            "1095457720709263360",
            "brycewray",
        ),
    ],
    "bare-urls.md": [
        (
            "https://twitter.com/tunetheweb/status/1661699182657241090",
            "bare-url",
            "1661699182657241090",
            "tunetheweb",
        ),
        (
            "<https://x.com/kentcdodds/status/651124199537283072?s=20>",
            "bare-url",
            "651124199537283072",
            "kentcdodds",
        ),
    ],
    "rendered-widgets.html": [
        (
            '<twitterwidget class="twitter-tweet twitter-tweet-rendered" id="twitter-widget-0" '
            'style="position: static; display: block;" data-tweet-id="1336097427586129920">'
            '<div class="EmbeddedTweet">If I were a sysadmin today…</div></twitterwidget>',
            "twitterwidget",
            "1336097427586129920",
            None,
        ),
        (
            '<div class="twitter-tweet twitter-tweet-rendered" style="display: flex;" '
            'data-tweet-id="1101186373921525762"><div class="EmbeddedTweet"><div>Look which one'
            "</div></div></div>",
            "rendered-div",
            "1101186373921525762",
            None,
        ),
    ],
}


def found(name: str, options: SsgOptions = SITE) -> list[tuple[str, str, str, str | None]]:
    data = (DATA / name).read_bytes()
    spans = find_embeds(data, is_markdown(name), ssg=options_for(name, options))
    assert might_contain_embeds(data, options_for(name, options)) == bool(spans)
    return [(data[s.start : s.end].decode(), s.form, s.post_id, s.handle) for s in spans]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_form_found_with_exact_spans_and_nothing_else(name: str) -> None:
    # The fixtures also hold the forms that are not embeds: disabled {< >}, escaped
    # {{</* */>}}, HTML comments, fenced/indented/inline code, {% raw %}, {% comment %},
    # timelines and variables, URLs in running text, list items and links with text.
    assert found(name) == EXPECTED[name]


def test_bare_urls_are_links_unless_the_source_opts_in() -> None:
    assert found("bare-urls.md", SsgOptions()) == []


def test_component_and_shortcode_names_are_configurable() -> None:
    default = [f[0] for f in found("components.mdx", SsgOptions())]
    assert not any("STweet" in text for text in default) and len(default) == 2
    hugo = [f[0] for f in found("hugo-shortcodes.md", SsgOptions())]
    assert not any("stweet" in text for text in hugo) and len(hugo) == 5
    with pytest.raises(ValueError):
        SsgOptions(components=("Tw{eet",))


def test_templates_are_text_in_pages_fetched_over_http() -> None:
    data = (DATA / "jekyll-liquid.md").read_bytes()
    web = options_for("https://blog.example/post.md", SITE)
    assert find_embeds(data, ssg=web) == []
    # A rendered widget is markup: found on any page.
    page = (DATA / "rendered-widgets.html").read_bytes()
    assert len(find_embeds(page, ssg=options_for("https://blog.example/p.html"))) == 2


def test_snapshot_from_the_form_alone_has_id_handle_and_exact_time() -> None:
    ref = ArticleRef(location="post.md", source="s")
    data = (DATA / "hugo-shortcodes.md").read_bytes()
    result = scan_article(Article(ref=ref, data=data, encoding="utf-8"))
    snaps = {s.post_id: s for s in result.snapshots}
    named = snaps["1438152384165728257"]
    assert named.author_handle == "AsahiLinux"
    assert named.url == "https://x.com/AsahiLinux/status/1438152384165728257"
    # (ID >> 22) + 1288834974657 ms, computed independently
    assert named.created_at == "2021-09-15T14:47:02.621Z"
    positional = snaps["1397963184959418370"]
    assert positional.author_handle is None
    assert positional.created_at == "2021-05-27T17:09:30.851Z"
    assert result.records[0].original == "{{< tweet 1397963184959418370 >}}"


@pytest.mark.slow
def test_time_is_linear_on_hostile_input() -> None:
    # Unclosed shortcodes, tags, components, quotes and code spans, repeated: each match
    # is bounded, so 8x the input must not take anything like 64x the time.
    # Archived Hugo wrappers (each holding a card the HTML pass finds too) exercise the
    # merge of both passes.
    wrapper = (
        b'{{< archived-post key="x:1" >}}<blockquote data-archived-post="x:1"></blockquote>'
        b"{{< /archived-post >}}\n\n"
    )
    unit = b'{{< tweet id="1 {% twitter "x <Tweet id="{ ` <!-- <pre> {{< x ' * 50 + b"\n\n"
    # (first: the unclosed comment and <pre> below hide all that follows them)
    options = options_for("a.md", SITE)

    def timed(n: int) -> float:
        data = wrapper * 20 * n + unit * n
        t0 = time.perf_counter()
        assert len(find_embeds(data, True, ssg=options)) == 20 * n
        return time.perf_counter() - t0

    small, large = timed(200), timed(1600)
    assert large < 30 * max(small, 0.01)


@pytest.mark.parametrize(
    ("location", "templates"),
    [("layouts/post.njk", True), ("_includes/tweet.liquid", True), ("notes.txt", False)],
)
def test_templates_are_read_in_template_files_only(location: str, templates: bool) -> None:
    data = b'<p>Intro</p>\n{% tweet "https://twitter.com/thingskatedid/status/1588790271940395008" %}\n'
    spans = find_embeds(data, ssg=options_for(location))
    assert [s.post_id for s in spans] == (["1588790271940395008"] if templates else [])


def test_a_bad_component_name_is_a_clear_config_error(tmp_path: Path) -> None:
    raw = {"scan": {"tweet_components": ["Tweet", "<script>"]}}
    with pytest.raises(ConfigError, match=r"scan\.tweet_components.*'<script>'"):
        config_from_dict(raw, tmp_path)
