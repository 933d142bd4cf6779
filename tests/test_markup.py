"""Scraping post fields from real embed markup (archiver.snapshot.markup).

Fixtures are exact byte ranges of the shared corpus (tests/data/markup/SOURCES.md).
Spans are located here with a plain find, not with the detect module.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from archiver.models import (
    FORM_AMP,
    FORM_ARCHIVED,
    FORM_BLOCKQUOTE,
    FORM_IFRAME,
    FORM_WP_BLOCK,
    EmbedSpan,
    Post,
    PostSnapshot,
)
from archiver.render import render_embed
from archiver.snapshot import snapshot_from_markup
from archiver.snapshot.sanitize import html_to_text, safe_http_url, sanitize_post_html

DATA = Path(__file__).parent / "data" / "markup"
_SCRIPT_AFTER = re.compile(rb"""(?:\s|<p>|\{" "\})*<script\b[^>]*>\s*</script>""")


def blockquote_span(name: str, post_id: str, form: str = FORM_BLOCKQUOTE) -> tuple[EmbedSpan, str]:
    """Find ``<blockquote`` … ``</blockquote>`` (+ widgets.js script) in a fixture."""
    data = (DATA / name).read_bytes()
    start = data.index(b"<blockquote")
    end = data.index(b"</blockquote>", start) + len(b"</blockquote>")
    m = _SCRIPT_AFTER.match(data, end)
    if m and b"widgets.js" in m.group(0):
        end = m.end()
    span = EmbedSpan(start=start, end=end, form=form, post_id=post_id)
    return span, data[start:end].decode("utf-8")


def whole_span(name: str, post_id: str, form: str) -> tuple[EmbedSpan, str]:
    data = (DATA / name).read_bytes()
    return EmbedSpan(0, len(data), form, post_id), data.decode("utf-8")


def snap_of(name: str, post_id: str) -> PostSnapshot:
    span, fragment = blockquote_span(name, post_id)
    snap = snapshot_from_markup(span, fragment)
    # Invariants of every markup snapshot.
    assert snap.post_id == post_id
    assert snap.raw == fragment
    assert snap.status == "unknown" and snap.source == "markup"
    if snap.html is not None:
        assert "ref_src" not in snap.html
        assert_only_allowed_html(snap.html)
    return snap


def assert_only_allowed_html(fragment: str) -> None:
    soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name in ("a", "br"), tag
        if tag.name == "a":
            assert set(tag.attrs) == {"href"}
            href = str(tag["href"])
            assert safe_http_url(href) == href
        else:
            assert not tag.attrs


# --- the seed article's style -------------------------------------------------------------


def test_seed_article_style_embed_in_hindi_page() -> None:
    snap = snap_of("seed_hindi_article_SYNTHETIC.html", "2020868064400117767")
    assert snap.author_handle == "MrinankSharma"
    assert snap.author_name == "mrinank"
    assert snap.date_text == "February 9, 2026"
    assert snap.url == "https://x.com/MrinankSharma/status/2020868064400117767"
    assert snap.text == (
        "Today is my last day at Anthropic. I resigned.\n\n"
        "Here is the letter I shared with my colleagues, explaining my decision. "
        "pic.twitter.com/Qe4QyAFmxL"
    )
    assert snap.html is not None
    assert '<a href="https://t.co/Qe4QyAFmxL">pic.twitter.com/Qe4QyAFmxL</a>' in snap.html
    assert "<br><br>Here is" in snap.html
    assert (snap.lang, snap.dir) == ("en", "ltr")
    # The id is a snowflake: exact time from the id, not the day-level date text.
    assert snap.created_at == "2026-02-09T14:31:07.123Z"


# --- corpus variants ----------------------------------------------------------------------


def test_wpautop_attribution_paragraph_and_apos_entities() -> None:
    snap = snap_of("bq03_inquisitr_wpautop.html", "807949237820465152")
    assert snap.author_handle == "abbydphillip"
    assert snap.author_name == "Abby D. Phillip"
    assert snap.date_text == "December 11, 2016"
    assert snap.text == (
        "Trump on Fox News Sunday says he doesn't need daily intelligence briefings as "
        'POTUS because he\'s "smart" pic.twitter.com/OUiKqj8qjV'
    )
    # The attribution <p> is not text.
    assert "Abby" not in snap.text


def test_ncr_only_japanese_text_and_name() -> None:
    snap = snap_of("bq05_takagi_ncr_nhk.html", "1088755839102418944")
    assert snap.author_handle == "nhk_nw9"
    assert snap.author_name == "ニュースウオッチ９"
    assert snap.date_text == "January 25, 2019"
    assert snap.text is not None
    assert snap.text.startswith("全国の家庭や企業にあるインターネット家電などいわゆる #Iot機器 に")
    assert snap.text.endswith("#nhk #NW9 pic.twitter.com/9dX6bIoQIF")
    assert "&#x" not in snap.text and "&amp;" not in (snap.html or "")
    assert snap.lang == "ja"


def test_ideographic_spaces_in_name_are_kept() -> None:
    snap = snap_of("bq05_takagi_ncr_oguchilaw.html", "1089081689366642688")
    assert snap.author_name == "弁護士\u3000小口\u3000幸人"
    assert snap.text is not None and "\n\n" in snap.text


def test_arabic_ncr_name_target_blank_swapped_attributes() -> None:
    snap = snap_of("bq06_politicalinsider_arabic_name.html", "810987762375598081")
    assert snap.author_handle == "zpyarom"
    assert snap.author_name == "Tzippy Yarom صِپورة"
    assert snap.date_text == "December 19, 2016"
    assert snap.text is not None
    assert snap.text.startswith(
        "@sfutch33 SEVEN!\n3 were replaced.https://t.co/hcKsDsaEMc@JessKane11 "
    )
    assert (snap.lang, snap.dir) == ("en", "ltr")


def test_pretty_printed_multiline_statuses_path_no_lang() -> None:
    snap = snap_of("bq09_pretty_printed_statuses.html", "370525864523743232")
    assert snap.author_handle == "ironshay"
    assert snap.author_name == "Shay Friedman"
    assert snap.date_text == "August 22, 2013"
    assert snap.text == (
        "Drinking game for web devs:\n(1) Think of a noun\n"
        '(2) Google "<noun>.js"\n(3) If a library with that name exists - drink'
    )
    assert snap.html is not None and "&lt;noun&gt;" in snap.html
    assert snap.lang is None and snap.dir is None
    assert snap.url == "https://x.com/ironshay/status/370525864523743232"


def test_literal_dash_in_p_and_ampersand_name() -> None:
    snap = snap_of("bq11_thepoke_wpautop_literal_dash.html", "1719621634984759346")
    assert snap.author_name == "M&S"
    assert snap.author_handle == "marksandspencer"
    assert snap.date_text == "November 1, 2023"
    assert snap.text == (
        "Sound the klaxon, our clothing and home Christmas ad for 2023 is here! "
        "#LoveThismasNotThatmas pic.twitter.com/uI0tKNnIGc"
    )


def test_literal_em_dash_and_xml_lang() -> None:
    snap = snap_of("bq12_fdpbt_literal_emdash.html", "1453318812829372417")
    assert snap.author_name == "Marco Buschmann"
    assert snap.date_text == "October 27, 2021"
    assert snap.lang == "de"
    assert snap.text is not None and snap.text.startswith("Die epidemische Notlage hat zeitweise")


def test_em_dashes_inside_the_text_do_not_split_it() -> None:
    snap = snap_of("wp_rendered_report24_emdash_text.html", "1721144944059118002")
    assert snap.author_name == "S.L. Kanthan"
    assert snap.author_handle == "Kanthan2030"
    assert snap.date_text == "November 5, 2023"
    assert snap.text is not None
    assert snap.text.startswith(
        "💥Wow! Iranian drone gets close to US aircraft carrier — USS Eisenhower — and captures"
    )
    assert "…" in snap.text  # &#8230; decoded once


def test_hebrew_display_name() -> None:
    snap = snap_of("wp_rendered_report24_hebrew_name.html", "1721083635611128283")
    assert snap.author_handle == "12_31_84"
    assert snap.author_name == "תעמוד עם ישראל"


def test_zxx_media_only_post() -> None:
    snap = snap_of("bq18_zxx_pic_only.md", "1927939664507240934")
    assert snap.lang == "zxx"
    assert snap.text == "pic.twitter.com/APLSMlailT"
    assert snap.author_name == "SAEKO: Giantess Dating Sim 🔜 Switch"
    assert snap.author_handle == "saekogame"
    assert snap.date_text == "May 29, 2025"


def test_x_com_permalink() -> None:
    snap = snap_of("bq20_xcom_permalink.md", "1884803090945077421")
    assert snap.author_handle == "truth_terminal"
    assert snap.author_name == "terminal of truths"
    assert snap.date_text == "January 29, 2025"
    assert snap.text == "tell me about your sexual history, i want to know everything"


def test_template_syntax_in_text_and_localized_date() -> None:
    snap = snap_of("video01_liquid_in_text.md", "976480577388883968")
    assert snap.author_name == "nikkie"
    assert snap.date_text == "2018年3月21日"
    assert snap.text is not None
    assert snap.text.startswith("<img>タグのsrc属性")
    assert '{% static "{{モデル.プロパティ}}" %}' in snap.text
    # Snowflake time even though the date text is not English.
    assert snap.created_at is not None and snap.created_at.startswith("2018-03-21T")


def test_jsx_blockquote_arabic_rtl() -> None:
    snap = snap_of("mdx03_jsx_arabic.jsx", "1808845158160498887")
    assert snap.author_handle == "mariamtalentt"
    assert snap.author_name == "مريم المطيري"
    assert snap.date_text == "July 4, 2024"
    assert (snap.lang, snap.dir) == ("ar", "rtl")
    assert (
        snap.text == "اجازة الصيف يبغالها العاب جماعية ممتعة مثل هذي 😍 pic.twitter.com/nCi9X99Eo5"
    )
    assert '{" "}' not in (snap.html or "")


def test_goose_embed_without_lang_on_p() -> None:
    snap = snap_of("oddity05_goose_no_lang.html", "527783221539643393")
    assert snap.author_name == "Derek Greene"
    assert snap.date_text == "October 30, 2014"
    assert snap.lang is None
    assert snap.text == (
        "Python-Goose: useful #python library for extracting body text + metadata from a "
        "news article or article-type page: https://t.co/OGKBvxxunu"
    )


# --- empty forms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "post_id", "handle"),
    [
        ("bq13_spox_empty_anchor.html", "1489540934710743047", "DOSB"),
        ("bq16_zhtw_empty.md", "1766167180578873589", "DarrellMarTech"),
    ],
)
def test_empty_anchor_only_embeds(name: str, post_id: str, handle: str) -> None:
    snap = snap_of(name, post_id)
    assert snap.author_handle == handle
    assert snap.url == f"https://x.com/{handle}/status/{post_id}"
    assert snap.text is None and snap.html is None
    assert snap.author_name is None and snap.date_text is None
    assert snap.lang is None  # the legacy blockquote lang="de" is the widget's language
    assert snap.created_at is not None  # from the id


def test_mashable_placeholder_is_not_text_or_date() -> None:
    snap = snap_of("bq17_mashable_placeholder.html", "808782171829891072")
    assert snap.author_handle == "TomNamako"
    assert snap.text is None and snap.html is None
    assert snap.date_text is None
    assert snap.author_name is None


def test_amp_twitter_runtime_form_without_placeholder() -> None:
    span, fragment = whole_span(
        "amp01_runtime_no_placeholder.html", "1311697819384844290", FORM_AMP
    )
    snap = snapshot_from_markup(span, fragment)
    assert snap.url == "https://x.com/i/status/1311697819384844290"
    assert snap.author_handle is None and snap.text is None
    assert snap.created_at is not None and snap.created_at.startswith("2020-10-01")


def test_amp_twitter_with_placeholder_blockquote() -> None:
    fragment = (
        '<amp-twitter width="375" height="472" layout="responsive" '
        'data-tweetid="1641086480675225601">'
        '<blockquote placeholder class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">'
        "Hello &amp; welcome</p>&mdash; Some One (@some_one) "
        '<a href="https://twitter.com/some_one/status/1641086480675225601">March 29, 2023</a>'
        "</blockquote></amp-twitter>"
    )
    span = EmbedSpan(0, len(fragment), FORM_AMP, "1641086480675225601")
    snap = snapshot_from_markup(span, fragment)
    assert snap.text == "Hello & welcome"
    assert snap.author_name == "Some One" and snap.author_handle == "some_one"


@pytest.mark.parametrize(
    ("name", "post_id"),
    [
        ("rendered01_div_iframe.html", "790936002017755136"),
        ("rendered02_iframe_only.html", "800384752746254337"),
    ],
)
def test_rendered_iframes_have_no_text(name: str, post_id: str) -> None:
    span, fragment = whole_span(name, post_id, FORM_IFRAME)
    snap = snapshot_from_markup(span, fragment)
    assert snap.post_id == post_id
    assert snap.text is None and snap.author_name is None
    # creatorScreenName in the iframe src is the publisher's account, not the author.
    assert snap.author_handle is None
    assert snap.url == f"https://x.com/i/status/{post_id}"


@pytest.mark.parametrize(
    ("name", "post_id", "handle"),
    [
        ("wp_source02_core_embed_comment.md", "1216740446178889729", "d4rkm0de"),
        ("wp_embed_block_payload.html", "1679189879086018562", "alleyco"),
    ],
)
def test_wordpress_blocks_with_bare_url(name: str, post_id: str, handle: str) -> None:
    span, fragment = whole_span(name, post_id, FORM_WP_BLOCK)
    snap = snapshot_from_markup(span, fragment)
    assert snap.author_handle == handle
    assert snap.url == f"https://x.com/{handle}/status/{post_id}"
    assert snap.text is None  # the figcaption ("Credits to @d4rkm0de") is not post text


def test_bare_url_2011_snowflake_time() -> None:
    fragment = "http://twitter.com/leekelleher/status/26060538500878337"
    snap = snapshot_from_markup(
        EmbedSpan(0, len(fragment), "bare-url", "26060538500878337"), fragment
    )
    assert snap.author_handle == "leekelleher"
    assert snap.created_at is not None and snap.created_at.startswith("2011-01-14T23:38:11.")


# --- hand-written edge cases ----------------------------------------------------------------


def test_pre_snowflake_id_uses_date_text() -> None:
    fragment = (
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">just setting up my twttr</p>'
        '&mdash; jack (@jack) <a href="https://twitter.com/jack/status/20">March 21, 2006</a>'
        "</blockquote>"
    )
    snap = snapshot_from_markup(EmbedSpan(0, len(fragment), FORM_BLOCKQUOTE, "20"), fragment)
    assert snap.created_at == "2006-03-21T00:00:00.000Z"
    assert snap.author_name == "jack"


def test_span_id_wins_and_name_with_parentheses() -> None:
    fragment = (
        '<blockquote class="twitter-tweet"><p>See '
        '<a href="https://twitter.com/other/status/111111111111">'
        "this</a></p>&#8212; Dr. (Who) Smith (the 2nd) (@drsmith) "
        '<a href="https://twitter.com/drsmith/status/1641086480675225601?ref_src=twsrc%5Etfw">'
        "March 29, 2023</a>"
        "</blockquote>"
    )
    span = EmbedSpan(0, len(fragment), FORM_BLOCKQUOTE, "1641086480675225602")
    snap = snapshot_from_markup(span, fragment)
    assert snap.post_id == "1641086480675225602"
    assert snap.url == "https://x.com/drsmith/status/1641086480675225602"
    assert snap.author_name == "Dr. (Who) Smith (the 2nd)"
    assert snap.author_handle == "drsmith"


def test_i_status_permalink_has_no_handle() -> None:
    fragment = (
        '<blockquote class="twitter-tweet"><p>hi</p>&mdash; Name (@named) '
        '<a href="https://twitter.com/i/status/1641086480675225601">March 29, 2023</a></blockquote>'
    )
    snap = snapshot_from_markup(
        EmbedSpan(0, len(fragment), FORM_BLOCKQUOTE, "1641086480675225601"), fragment
    )
    assert snap.author_handle == "named"
    # The attribution handle fills in for the missing permalink handle.
    assert snap.url == "https://x.com/named/status/1641086480675225601"


def test_hostile_text_is_sanitized() -> None:
    fragment = (
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">a<script>alert(1)</script>'
        '<img src=x onerror=alert(1)><a href="javascript:alert(1)">js</a> '
        '<a href="java&#x09;script:alert(1)">tab</a> '
        '<a href="https://ok.example/" onclick="x()">ok</a>'
        '<b onmouseover="x()">bold</b></p>&mdash; <img src=x onerror=alert(1)>'
        'Evil "&lt;x&gt;" (@evil) '
        '<a href="https://twitter.com/evil/status/1641086480675225601">March 29, 2023</a>'
        "</blockquote>"
    )
    snap = snapshot_from_markup(
        EmbedSpan(0, len(fragment), FORM_BLOCKQUOTE, "1641086480675225601"), fragment
    )
    assert snap.text == "ajs tab okbold"
    assert snap.html == 'ajs tab <a href="https://ok.example/">ok</a>bold'
    assert snap.author_name == 'Evil "<x>"'  # plain text; escaping is the renderer's job


def test_our_archived_embed_is_read_back_without_its_quoted_post() -> None:
    post = Post(
        key="x:1641086480675225601",
        platform="x",
        post_id="1641086480675225601",
        url="https://x.com/Some_One/status/1641086480675225601",
        author_handle="Some_One",
        author_name="Some One",
        text="hello",
        html="hello",
        lang="en",
        created_at="2023-03-29T12:00:00.000Z",
        status="live",
        source="syndication",
        first_seen_at="2026-01-01T00:00:00.000Z",
        archived_at="2026-01-01T00:00:00.000Z",
        quoted=Post(
            key="x:1641086480675225999",
            platform="x",
            post_id="1641086480675225999",
            url="https://x.com/quoted/status/1641086480675225999",
            author_handle="quoted",
            author_name="Q",
            text="q",
            html=None,
            lang=None,
            created_at=None,
            status="live",
            source="syndication",
            first_seen_at="2026-01-01T00:00:00.000Z",
            archived_at="2026-01-01T00:00:00.000Z",
        ),
    )
    fragment = render_embed(post, "../posts/x-1641086480675225601.html", "../media/")
    span = EmbedSpan(0, len(fragment.encode()), FORM_ARCHIVED, "1641086480675225601")
    snap = snapshot_from_markup(span, fragment)
    assert snap.post_id == "1641086480675225601"
    assert snap.author_handle == "Some_One"
    assert snap.url == "https://x.com/Some_One/status/1641086480675225601"
    # Content comes back from our own markup (for an archive that lost the post),
    # never from the nested quoted post, and is labelled as a read-back copy.
    assert snap.source == "archived-copy"
    assert snap.text == "hello" and snap.html == "hello" and snap.author_name == "Some One"
    assert snap.lang == "en"
    assert snap.created_at == "2023-03-29T14:34:41.562Z"  # the snowflake's time wins
    assert snap.raw == fragment


def test_sanitizer_is_idempotent_and_text_consistent() -> None:
    _, fragment = blockquote_span("wp_rendered_report24_emdash_text.html", "1721144944059118002")
    once = sanitize_post_html(fragment)
    assert sanitize_post_html(once) == once
    assert html_to_text(once) == html_to_text(fragment)
