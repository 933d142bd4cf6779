"""The rendered output in a real browser (headless system Chromium, via Playwright).

Every fixture post (all statuses, every media kind, Arabic, Hindi, Japanese,
markup-only and fully fetched; see card_fixtures.py) is rendered by the project's
own code into an article whose theme is hostile to embeds, into its local copy
page, and into the index. The browser then checks what a reader would notice.
One browser for the session (conftest.py); the whole module takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from card_fixtures import MONTH_PAGE, Site, build_index, build_site, fixtures
from conftest import require_browser

require_browser()  # one skip line for the module when there is no browser

WIDTHS = (280, 390, 1200)
GONE = ("deleted", "protected", "suspended", "unavailable")

# Relative luminance and contrast per WCAG 2.x, for every element in the card that
# shows text of its own, against the first opaque background behind it.
CONTRAST_JS = """
(root) => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number);
    return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = ({r, g, b}) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bg = (el) => { for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; }
    return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || style.display === 'none' || style.visibility === 'hidden') continue;
    const l1 = lum(parse(style.color)), l2 = lum(bg(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    out.push([el.className || el.tagName, el.textContent.trim().slice(0, 30), ratio]);
  }
  return out;
}
"""

# Is the element drawn, with a box, and on top at its centre (not covered)?
VISIBLE_JS = """
(el) => {
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return 'empty box';
  el.scrollIntoView({block: 'center'});
  const s = el.getBoundingClientRect();
  const hit = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
  return hit && (hit === el || el.contains(hit)) ? 'ok' : 'covered by ' + (hit && hit.outerHTML.slice(0, 80));
}
"""

# Where the "@" of the handle is drawn relative to the first letter after it.
HANDLE_ORDER_JS = """
(el) => {
  const text = el.firstChild;
  const rect = (a, b) => { const r = document.createRange(); r.setStart(text, a); r.setEnd(text, b);
    return r.getBoundingClientRect(); };
  return {text: el.innerText, at: rect(0, 1).left, next: rect(1, 2).left};
}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("site")
    built = build_site(root)
    build_index(root)
    return built


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records every request, script, console error and page error."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.requests = []
    tab.problems = []
    tab.scripts = []
    tab.on("request", lambda r: tab.requests.append(r.url))
    tab.on("console", lambda m: m.type == "error" and tab.problems.append(m.text))
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    # Anything but a local file would be a third-party load: refuse it outright too.
    tab.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    cdp = context.new_cdp_session(tab)
    cdp.on("Debugger.scriptParsed", lambda e: tab.scripts.append(e.get("url", "")))
    cdp.send("Debugger.enable")
    yield tab
    context.close()


def every_page(site: Site) -> list[Path]:
    """Every card (all.html holds each embed, in the same theme), page and the index
    (its front page and a page of one period)."""
    index = site.root / "embeds"
    return [site.all_in_one, *site.pages.values(), index / "index.html", index / MONTH_PAGE]


def page_scripts(tab: Any) -> list[str]:
    """Scripts the page itself ran (inline or loaded), not Playwright's own probes."""
    return [url for url in tab.scripts if url.startswith(("file:", "http:", "https:", "data:"))]


def test_the_script_and_request_probes_catch_a_page_that_misbehaves(
    page: Any, tmp_path: Path
) -> None:
    """Control: the detectors below would see a script, a remote load and an error."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<p>x</p><script>console.error("boom")</script><img src="https://cdn.example/x.png" alt="">',
        encoding="utf-8",
    )
    page.goto(bad.as_uri())
    assert page_scripts(page) and "boom" in page.problems
    assert "https://cdn.example/x.png" in page.requests


def test_no_request_but_local_files_no_script_no_console_error(page: Any, site: Site) -> None:
    index = site.root / "embeds" / "index.html"
    for path in every_page(site):
        page.scripts.clear()
        page.goto(path.as_uri())
        # Cards and local copies run no script; the index only its own search box.
        if path.parent == index.parent:
            assert page.locator("#search").is_visible()  # search.js ran
            assert set(page_scripts(page)) <= {(index.parent / "search.js").as_uri()}
        else:
            assert page_scripts(page) == [], path.name
        # Load every image now (lazy ones too) and wait for them; in the same call, as
        # each call into the page costs a round trip: does each carry an alt attribute?
        loaded = page.evaluate(
            """() => Promise.all([...document.images].map(i => { i.loading = 'eager';
               const alt = i.hasAttribute('alt');
               return i.decode().then(() => [i.currentSrc, i.naturalWidth, alt],
                                      () => [i.currentSrc, 0, alt]); }))"""
        )
        for src, width, has_alt in loaded:
            assert src.startswith("file://") and width > 0, (path.name, src)
            assert has_alt, (path.name, src)
    assert page.requests and all(url.startswith("file://") for url in page.requests), page.requests
    assert page.problems == []


def test_media_images_have_real_alt_text(page: Any, site: Site) -> None:
    page.goto(site.all_in_one.as_uri())
    media_alts = page.eval_on_selector_all(
        ".eac-media img, .eac-link img", "els => els.map(e => e.alt)"
    )
    assert len(media_alts) >= 12 and all(alt.strip() for alt in media_alts)
    # Avatars are decorative (the name follows): empty alt, on purpose.
    assert page.eval_on_selector_all(".eac-av img", "els => els.every(e => e.alt === '')")


def test_no_horizontal_overflow_at_280_390_and_1200_px(page: Any, site: Site) -> None:
    for path in every_page(site):
        page.goto(path.as_uri())
        for width in WIDTHS:  # a resize re-lays the same page out: no reload needed
            page.set_viewport_size({"width": width, "height": 900})
            # One round trip per width: each call into the page cost as much as the
            # layout it measures, and this test was the slowest of the default suite.
            over = page.evaluate(
                """() => {
                  const w = document.documentElement.clientWidth;
                  const wide = [...document.querySelectorAll('.eac, .eac *, li.post')]
                    .filter(e => e.getBoundingClientRect().right > w + 0.5)
                    .map(e => e.className || e.tagName);
                  const cards = [...document.querySelectorAll('.eac')]
                    .map(e => e.getBoundingClientRect().width);
                  return {scroll: document.documentElement.scrollWidth, width: w,
                          wide: wide.slice(0, 5), cards: cards};
                }"""
            )
            assert over["scroll"] <= over["width"] and not over["wide"], (path.name, width, over)
            cards = over["cards"]
            assert all(w <= min(width, 550) for w in cards), (path.name, width, cards)


def test_handle_reads_at_handle_in_right_to_left_posts(page: Any, site: Site) -> None:
    for path, selector in (
        (site.articles["arabic"], ".eac-handle"),
        (site.pages["arabic"], ".eac-handle"),
        (site.root / "embeds" / "index.html", "#post-2020868064400117777 .handle"),
    ):
        page.goto(path.as_uri())
        got = page.eval_on_selector(selector, HANDLE_ORDER_JS)
        assert got["text"] == "@newsdesk_ar", path.name
        assert got["at"] < got["next"], f"'@' drawn after the name in {path.name}"
    # The post's own text is right to left.
    page.goto(site.articles["arabic"].as_uri())
    assert page.eval_on_selector(".eac-text", "e => getComputedStyle(e).direction") == "rtl"


def test_header_text_time_and_banner_are_visible(page: Any, site: Site) -> None:
    page.goto(site.all_in_one.as_uri())  # every card, in fixture order, one page
    cards = page.query_selector_all("blockquote.eac")
    assert len(cards) == len(site.articles)
    for name, card in zip(site.articles, cards, strict=True):
        parts = [
            ".eac-head",
            ".eac-name, .eac-handle",
            ".eac-text",
            ".eac-foot time, .eac-foot .eac-date",
        ]
        if name in GONE:
            parts.append(".eac-gone")
        for selector in parts:
            handle = card.query_selector(f":scope > * {selector}, :scope > {selector}")
            assert handle is not None, (name, selector)
            assert handle.evaluate(VISIBLE_JS) == "ok", (name, selector)
        if name in GONE:
            # Drawn above the header, though read last.
            tops = card.evaluate(
                """c => [c.querySelector(':scope > .eac-gone').getBoundingClientRect().top,
                         c.querySelector(':scope > .eac-head').getBoundingClientRect().top]"""
            )
            assert tops[0] < tops[1], name
    # The host theme's italic, wavy red links and forced image sizes do not reach the card.
    page.goto(site.articles["live"].as_uri())
    styles = page.evaluate(
        """() => { const q = (s) => getComputedStyle(document.querySelector(s));
          return {italic: q('.eac-text').fontStyle, link: q('.eac-links a').color,
                  img: document.querySelector('.eac-media img').getBoundingClientRect().height,
                  quote: getComputedStyle(document.querySelector('.eac'), '::before').content}; }"""
    )
    assert styles["italic"] == "normal" and styles["link"] != "rgb(255, 0, 0)"
    assert styles["img"] != 300 and styles["quote"] in ("none", "normal")


def test_bluesky_and_mastodon_cards_name_their_platform_at_every_width(
    page: Any, site: Site
) -> None:
    expect = {
        "bluesky": ("Bluesky", "https://bsky.app/profile/citydesk.bsky.social"),
        "mastodon": ("Mastodon", "https://social.example/@reporter"),
    }
    for name, (label, profile) in expect.items():
        page.goto(site.articles[name].as_uri())
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            got = page.evaluate(
                """() => { const q = (s) => document.querySelector('.eac > ' + s);
                  const box = (e) => e.getBoundingClientRect();
                  const who = box(q('.eac-head .eac-who')), badge = box(q('.eac-head .eac-x'));
                  return {label: q('.eac-head .eac-x').textContent,
                          profile: q('.eac-head .eac-who').href,
                          view: [...document.querySelectorAll('.eac-links a')].map(a => a.textContent),
                          apart: who.right <= badge.left + 0.5,
                          handle: box(q('.eac-head .eac-handle')).top > box(q('.eac-head .eac-name')).top}; }"""
            )
            assert got["label"] == label and got["profile"] == profile, (name, width, got)
            assert got["view"] == ["Archived copy", f"View on {label}"], (name, width, got)
            # The badge never overlaps the author; the handle sits under the name.
            assert got["apart"] and got["handle"], (name, width, got)
            for selector in (".eac-head .eac-x", ".eac-media img", ".eac-foot time"):
                element = page.query_selector(f".eac > {selector}")
                assert element is not None and element.evaluate(VISIBLE_JS) == "ok", (
                    name,
                    selector,
                )
    page.goto(site.articles["bluesky"].as_uri())
    quote = page.query_selector(".eac > .eac-q")
    assert quote is not None and quote.evaluate(VISIBLE_JS) == "ok"
    assert "Quoted post on Bluesky" in quote.inner_text()
    still = page.query_selector(".eac > .eac-media .eac-cell:last-child")
    assert still is not None and still.evaluate(VISIBLE_JS) == "ok"
    assert still.inner_text() == "Video not archived"
    page.goto(site.articles["mastodon"].as_uri())
    for selector in (".eac-foot .eac-edited", ".eac-poll"):
        element = page.query_selector(f".eac > {selector}")
        assert element is not None and element.evaluate(VISIBLE_JS) == "ok", selector
    tag = page.eval_on_selector(".eac-text a[href$='/tags/roads']", "a => a.href")
    assert tag == "https://social.example/tags/roads"


def test_text_contrast_meets_wcag_aa_in_light_and_dark_mode(page: Any, site: Site) -> None:
    # Every card is in all.html; the pages around them differ by banner and media.
    pages = [site.pages[name] for name in ("deleted", "protected", "photos_quote", "video_gif")]
    index = site.root / "embeds"
    for path in (site.all_in_one, *pages, index / "index.html", index / MONTH_PAGE):
        page.goto(path.as_uri())
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            roots = page.query_selector_all(".eac") or [page.query_selector("body")]
            for root in roots:
                low = [(c, t, round(r, 2)) for c, t, r in root.evaluate(CONTRAST_JS) if r < 4.5]
                assert not low, (path.name, scheme, low)


def test_dark_mode_changes_the_card(page: Any, site: Site) -> None:
    page.goto(site.articles["live"].as_uri())
    colours = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
    light = page.eval_on_selector(".eac", colours)
    page.emulate_media(color_scheme="dark")
    dark = page.eval_on_selector(".eac", colours)
    assert light[0] != dark[0] and light[1] != dark[1]


def test_every_status_and_media_kind_is_covered() -> None:
    """The fixtures really span what the card must handle (guards the checks above)."""
    posts = fixtures().values()
    assert {p.status for p in posts} >= {"live", "unknown", *GONE}
    kinds = {m.kind for p in posts for m in p.media}
    assert kinds >= {"photo", "video", "animated_gif"}
    assert {len(p.media) for p in posts} >= {1, 2, 3, 4}
    cards = {(p.card or {}).get("type") for p in posts}
    assert {"poll", "link"} <= cards
    assert any(p.quoted for p in posts) and any(p.reply_to_key for p in posts)
    assert {p.lang for p in posts} >= {"ar", "hi", "ja", "en"}
    assert {p.source for p in posts} >= {"markup", "syndication", "oembed", "appview", "api"}
    assert {p.platform for p in posts} == {"x", "bluesky", "mastodon"}


def test_index_search_finds_posts_by_word_and_prefix_offline(page: Any, tmp_path: Path) -> None:
    """The index's search box, opened from the file system with every non-file request
    refused: a whole word and a prefix find their posts, from local files only."""
    from archive_helpers import HINDI_TEXT, POST_ELECTION, POST_JACK, build_archive

    from archiver import Archive

    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=1)  # four periods, four search files: it loads all
    embeds = tmp_path / "out" / "embeds"
    page.goto((embeds / "index-2023-03-1.html").as_uri())  # a month without Jack's post
    box = page.locator("#search-query")
    assert box.is_visible()
    assert not [u for u in page.requests if u.endswith("search-index.js")]  # not loaded yet

    def search(query: str) -> list[str]:
        box.fill(query)
        # Polled from here: the page's CSP forbids the eval that wait_for_function needs
        # once the search files take more than one frame to load.
        status = page.locator("#search-status")
        for _ in range(500):
            if (status.text_content() or "").endswith("."):
                break
            page.wait_for_timeout(10)
        return page.eval_on_selector_all(
            "#search-results > li", "els => els.map(e => e.querySelector('.text').textContent)"
        )

    assert search("twttr") == ["just setting up my twttr"]
    assert len([u for u in page.requests if "/search-" in u]) == 5  # the list and 4 files
    assert page.locator("ol.posts[data-listing]").is_hidden()  # the page's own list steps aside
    assert search("twt*") == ["just setting up my twttr"]
    assert search("twt") == []  # a word is whole unless it ends in *
    assert search("चुनाव") == [HINDI_TEXT]
    assert search("JUST SETTING") == ["just setting up my twttr"]
    assert "<script>" in search("alert*")[0]  # hostile text shown as text
    assert (
        page.eval_on_selector_all("#search-results script, #search-results img", "e => e.length")
        == 0
    )
    assert search("twt*") and page.locator("#search-status").text_content() == "1 post matches."
    link = page.locator("#search-results > li a", has_text="Archived copy").first
    assert link.get_attribute("href") == f"x/{POST_JACK}.html"
    box.fill("")
    assert page.locator("ol.posts[data-listing]").is_visible()
    assert page.requests and all(url.startswith("file://") for url in page.requests), page.requests
    assert page.problems == []
    assert (embeds / "x" / f"{POST_ELECTION}.html").is_file()


def test_index_search_counts_the_articles_it_does_not_list(page: Any, tmp_path: Path) -> None:
    """A search result for a post embedded in 12 articles lists ten of them, then "and 2
    more articles" linked to the archived copy, as the index pages do."""
    from archive_helpers import POST_ELECTION, build_archive, tweet
    from archive_helpers import page as article

    quoted = tweet(POST_ELECTION, "desk", "Desk", "quoted everywhere", "March 29, 2023")
    articles: dict[str, str | bytes] = {
        f"a{n:02d}.html": article(f"A{n}", quoted) for n in range(12)
    }
    build_archive(tmp_path, articles)
    page.goto((tmp_path / "out" / "embeds" / "index.html").as_uri())
    page.locator("#search-query").fill("quoted")
    status = page.locator("#search-status")
    for _ in range(500):
        if (status.text_content() or "").endswith("."):
            break
        page.wait_for_timeout(10)
    items = page.locator("#search-results > li ul.articles > li")
    assert items.count() == 11
    more = page.locator("#search-results > li ul.articles > li.more a")
    assert more.text_content() == "and 2 more articles"
    assert more.get_attribute("href") == f"x/{POST_ELECTION}.html"
    assert page.problems == []
