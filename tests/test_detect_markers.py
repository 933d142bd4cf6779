"""Detection's shortcuts change no answer.

Every marker of a page in one pass (``archiver.detect.markers``): the same answers as
one ``marker in data`` test per marker, which is what the prefilter, the lexer's gated
recognisers and the SSG prefilter asked before. The lexer's two-byte lookahead after
``<``: the same tokens as without it.

The old prefilter is kept here as the reference and compared with the new one on the
detection corpus, the SSG sources and seeded mutations of both.
"""

from __future__ import annotations

import random
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from mutations import corpus_pages, mutate, pathological
from test_detect_fuzz import TWEET, assert_linear

from archiver import platforms
from archiver.detect import _Lexer, _lexer_for, find_embeds, might_contain_embeds
from archiver.detect.markers import MarkerSet, TokenStarts
from archiver.detect.prefilter import (
    _has_marker,
    _marker_set,
    _view,
    page_markers,
    with_platform_components,
)
from archiver.detect_ssg import FORM_LIQUID, SsgOptions, find_ssg_embeds, options_for
from archiver.detect_ssg.templates import component_open_re
from archiver.models import EmbedSpan, PostSnapshot
from archiver.platforms import PostRef, Recogniser, generation
from archiver.platforms.x.recognisers import UPPER_HINTS

SSG_SOURCES = Path(__file__).resolve().parent / "data" / "ssg"


def old_might_contain_ssg(data: bytes, options: SsgOptions) -> bool:
    """The SSG prefilter as it was: one substring search per marker."""
    if b"data-tweet-id" in data or b"data-archived-post" in data:
        return True
    if not options.templates:
        return False
    if b"{{" in data or b"{%" in data or b"twitter:" in data:
        return True
    opener = component_open_re(tuple(_component_names(options)))
    if opener is not None and opener.search(data) is not None:
        return True
    return options.bare_urls and (b"twitter.com/" in data or b"x.com/" in data)


def _component_names(options: SsgOptions) -> list[str]:
    return [*options.components, *(name for name, _ in options.platform_components)]


def old_might_contain_embeds(data: bytes, ssg: SsgOptions | None, reported: bool) -> bool:
    """The prefilter as it was: the registered markers one by one, then the SSG ones."""
    view = _view(reported)
    if _has_marker(data, view):
        return True
    if ssg is not None and old_might_contain_ssg(data, with_platform_components(ssg)):
        return True
    if any(marker in data for _, r in view.generic for marker in r.markers):
        return True
    if not view.natives or not any(hint in data for hint in UPPER_HINTS):
        return False
    return _has_marker(data.lower(), view)


OPTIONS = [
    None,
    options_for("post.html"),
    options_for("post.md"),
    options_for("https://example.com/post.html"),  # fetched: no templates
    options_for("post.mdx", SsgOptions(bare_urls=True, components=("Tweet", "XEmbed"))),
    options_for("post.md", SsgOptions(liquid_tags=("xpost",), shortcodes=("zz",))),
]


def _pages() -> list[bytes]:
    pages = corpus_pages()
    pages += [p.read_bytes() for p in sorted(SSG_SOURCES.rglob("*")) if p.is_file()]
    rng = random.Random(13)
    # Mutated pages of up to 300 KB (a few are megabytes: they add time, not cases).
    mutated = [m for m in (mutate(rng, pages)[1] for _ in range(40)) if len(m) <= 300_000]
    # Pages that hide one marker inside another's match, and capitals-only pages.
    tricky = [
        b"<p>amp-twitter-tweet</p>",
        b'<div class="amp-twitter-video">x</div>',
        b"{{%tweet 1234 %}",
        b"<p>{{%</p>",
        # Each opener of a Liquid tag or shortcode alone on its page.
        b"{%\ttweet 1234 %}",
        b"{%-tweet 1235 -%}",
        b"{%\x0btweet 1236 %}",
        b"{%embed https://x.com/a/status/1237 %}",
        b"{%xpost 1237 %}",
        b"{{% zz 1238 %}}",
        b"{{<\ntweet 1239 >}}",
        b"{{ not.a.shortcode }} {%% %}",
        b"<twitterwidget data-tweet-id='5'></twitterwidget>",
        b'<BLOCKQUOTE CLASS="TWITTER-TWEET"><A HREF="https://twitter.com/a/status/1">x</A>'
        b"</BLOCKQUOTE>",
        b"TWITTER alone",
        b"",
    ]
    return pages + mutated + tricky


PAGES = _pages()


@pytest.mark.parametrize("reported", [False, True])
@pytest.mark.parametrize("ssg", OPTIONS, ids=lambda o: "none" if o is None else repr(o)[:60])
def test_prefilter_decides_as_the_one_search_per_marker_did(
    ssg: SsgOptions | None, reported: bool
) -> None:
    for data in PAGES:
        new = might_contain_embeds(data, ssg, reported=reported)
        if new is not old_might_contain_embeds(data, ssg, reported):
            # Only where the new SSG markers are finer ("{{<" rather than "{{"), and
            # then the page holds nothing.
            assert not new, data[:200]
            for markdown in (False, True):
                assert find_embeds(data, markdown, ssg=ssg, reported=reported) == [], data[:200]


@pytest.mark.parametrize("reported", [False, True])
@pytest.mark.parametrize("ssg", OPTIONS, ids=lambda o: "none" if o is None else repr(o)[:60])
def test_page_markers_are_exactly_the_markers_the_page_holds(
    ssg: SsgOptions | None, reported: bool
) -> None:
    full = with_platform_components(ssg) if ssg is not None else None
    markers = _marker_set(generation(), reported, full).markers
    view = _view(reported)
    for data in PAGES:
        present = page_markers(data, full, reported=reported)
        assert present == {m for m in markers if m in data}, data[:200]
        # What the lexer's gated recognisers used to search for.
        assert present & set(view.gated_markers) == {m for m in view.gated_markers if m in data}
        if full is not None:
            # The SSG pass finds the same with the markers as when it searches itself.
            for markdown in (False, True):
                expected = find_ssg_embeds(data, full, markdown)
                assert find_ssg_embeds(data, full, markdown, present=present) == expected


def test_a_marker_hidden_inside_another_match_is_still_found() -> None:
    # "{{%" matches first and hides the "{%t" that starts one byte later: the Liquid
    # tag there is still found (a search that skips overlaps would miss it).
    page = b"<p>{{%tweet 1234 %}</p>"
    spans = find_embeds(page, ssg=options_for("post.html"))
    assert [(s.form, s.post_id, page[s.start : s.end]) for s in spans] == [
        (FORM_LIQUID, "1234", b"{%tweet 1234 %}")
    ]


def test_marker_set_matches_one_search_per_marker_on_random_overlapping_markers() -> None:
    rng = random.Random(21)
    alphabet = b"ab-{%"
    for trial in range(2000):
        count = rng.randint(1, 6)
        markers = [
            bytes(rng.choice(alphabet) for _ in range(rng.randint(0 if trial % 50 == 0 else 1, 5)))
            for _ in range(count)
        ]
        found = MarkerSet(markers)
        for _ in range(10):
            data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            expected = {m for m in found.markers if m in data}
            assert found.present(data) == expected, (markers, data)
            assert found.any_in(data) is bool(expected), (markers, data)


# --------------------------------------------------------------------------------------
# The lexer's two-byte lookahead after "<"


class OneLetter:
    """A platform whose form starts at a one-letter element: ``<q class="q-post">``."""

    name = "oneletter"
    label = "One letter"

    def __init__(self) -> None:
        self.recognisers = (
            Recogniser(
                b"q",
                (b"q-post",),
                "q-post",
                lambda tag: b"q-post" in tag.classes,
                lambda tag, element: PostRef("7", None, "https://q.example/7"),
            ),
        )

    def is_post_id(self, post_id: str) -> bool:
        return post_id.isdigit()

    def canonical_url(self, post_id: str, handle: str | None) -> str:
        return f"https://q.example/{post_id}"

    def snapshot_from_markup(self, span: EmbedSpan, fragment: str) -> PostSnapshot | None:
        return None


@pytest.fixture
def one_letter() -> Iterator[None]:
    platforms.register(OneLetter())  # type: ignore[arg-type]
    try:
        yield
    finally:
        platforms.unregister("oneletter")


def _without_lookahead(rx: re.Pattern[bytes]) -> re.Pattern[bytes]:
    """The same lexer regex without its lookahead (which only skips work)."""
    pattern = re.sub(rb"^<\(\?=\[[^]]*\]\[[^]]*\]\)", b"<", rx.pattern)
    assert pattern != rx.pattern
    return re.compile(pattern)


def _lexers() -> list[_Lexer]:
    view = _view(True)
    return [
        _lexer_for(frozenset(), False),
        _lexer_for(frozenset(), True),
        _lexer_for(frozenset(view.gated_markers), True),
    ]


def _assert_lookahead_changes_no_token() -> None:
    for lexer in _lexers():
        for rx in (lexer.main, lexer.main_no_figure):
            reference = _without_lookahead(rx)
            for data in PAGES:
                got = [(m.start(), m.end(), m.groups()) for m in rx.finditer(data)]
                expected = [(m.start(), m.end(), m.groups()) for m in reference.finditer(data)]
                assert got == expected, data[:200]


def test_lexer_lookahead_changes_no_token() -> None:
    _assert_lookahead_changes_no_token()


@pytest.mark.usefixtures("one_letter")
def test_a_one_letter_element_is_still_a_token() -> None:
    _assert_lookahead_changes_no_token()
    for page in (b'<p><q class="q-post">x</q></p>', b'<Q\tclass="q-post">x</Q>'):
        spans = find_embeds(page)
        assert [(s.platform, s.post_id, page[s.start : s.end][:2].lower()) for s in spans] == [
            ("oneletter", "7", b"<q")
        ]


# --------------------------------------------------------------------------------------
# Where the lexer's tokens may start (TokenStarts): the regex engine only starts there


@pytest.mark.parametrize("window", [7, 64, TokenStarts.WINDOW])
def test_token_starts_search_finds_what_the_regex_search_finds(window: int) -> None:
    rng = random.Random(window)
    for lexer in _lexers():
        for rx in (lexer.main, lexer.main_no_figure):
            # Small windows on small pages: every page crosses many window ends. Pages
            # crowded with starts (one in 64 bytes) are left to the plain regex search.
            crowded = [b"<p>" * 500 + b"<scx" * 3000 + TWEET, TWEET + b"<!-x<BLx" * 2000]
            for data in [*(p for p in PAGES if len(p) <= window * 1000), *crowded]:
                starts = TokenStarts(lexer.starts, data, window)
                for _ in range(4):
                    pos = rng.randrange(len(data) + 1)
                    limit = rng.randrange(pos, len(data) + 1)
                    for a, b in ((0, len(data)), (pos, limit), (pos, len(data))):
                        got = starts.search(rx, a, b)
                        expected = rx.search(data, a, b)
                        assert (got and got.span()) == (expected and expected.span()), (a, b)


def test_an_embed_across_a_search_window_boundary_is_found() -> None:
    # The first "<bl" of the page sits across the first window's end.
    window = TokenStarts.WINDOW
    for offset in (window - 2, window - 1, window):
        page = b"<p>" + b"x" * (offset - 3) + TWEET + b"<p>after</p>"
        assert page.index(b"<blockquote") == offset
        spans = find_embeds(page)
        assert [(s.post_id, s.start, s.end) for s in spans] == [("20", offset, offset + len(TWEET))]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nested-figures", "figures-around-blockquotes"])
def test_nested_figures_over_many_search_windows_scan_in_linear_time(kind: str) -> None:
    # The lexer goes back into figures: a 2 MB page of nested figures crosses the
    # search windows thousands of times, and each byte must still be searched once
    # (a window searched again from each place the lexer goes back to took 8 s).
    assert_linear(lambda n: pathological(kind, n), 250_000)


@pytest.mark.slow
def test_a_page_of_token_start_lookalikes_scans_in_linear_time() -> None:
    # Every third byte starts like a token ("<sc", "<bl", "<!-") without being one:
    # each is one regex match attempt, and the windows keep the memory bounded.
    assert_linear(lambda n: b"<scx<blx<!-x<BLx" * n + TWEET, 20_000)


def test_marker_set_across_windows_and_on_pages_crowded_with_markers() -> None:
    found = MarkerSet([b"twitter-tweet", b"amp-twitter", b"{{<", b"{{%", b"{%t", b"<Tweet"])
    window = 1 << 17
    pages = [
        # A marker cut by the end of the first search window.
        b"x" * (window - 5) + b"twitter-tweet",
        b"x" * (window - 1) + b"{{<",
        # Hundreds of matches: a marker found only hidden inside the others' matches.
        b"amp-twitter-tweet " * 300,
        b"{{%tweet 1 %}" * 300 + b"<Tweet",
        b"{{<" * 200_000,
    ]
    rng = random.Random(3)
    pages += [bytes(rng.choice(b"{%<t") for _ in range(300_000)) for _ in range(2)]
    for data in pages:
        assert found.present(data) == {m for m in found.markers if m in data}
        assert found.any_in(data)


@pytest.mark.slow
def test_a_page_made_of_markers_takes_bounded_memory() -> None:
    # 3 MB of "{{<": a million matches, once a list of a million tuples (128 MB).
    page = b"{{<" * 1_000_000
    ssg = options_for("post.html")
    tracemalloc.start()
    try:
        assert might_contain_embeds(page, ssg, reported=True)
        assert find_embeds(page, ssg=ssg, reported=True) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30e6, peak
