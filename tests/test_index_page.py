"""The static archive index: paginated, relative links that resolve, everything escaped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

from archive_helpers import (
    HOSTILE_NAME,
    HOSTILE_TEXT,
    POST_ARABIC,
    POST_ELECTION,
    POST_HOSTILE,
    POST_JACK,
    build_archive,
    page,
    set_status,
    tweet,
)
from bs4 import BeautifulSoup
from click.testing import CliRunner

from archiver import Archive
from archiver.cli import cli
from archiver.clock import utc_now
from archiver.index_page import write_index
from archiver.models import PostSnapshot


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def local_links(page: Path) -> list[Path]:
    """Targets of the page's relative links, resolved against the page's folder."""
    targets = []
    for a in soup(page).find_all("a"):
        href = str(a["href"])
        if not href.startswith(("http://", "https://")):
            targets.append((page.parent / unquote(href)).resolve())
    return targets


def test_index_lists_every_post_with_working_links(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    set_status(config, POST_ARABIC, "deleted")
    with Archive.from_config(config) as archive:
        pages = archive.write_index()
    embeds = tmp_path / "out" / "embeds"
    index = embeds / "index.html"
    # A front page for all posts, then one per status present: the filter, without
    # script. Then the pages of each month.
    fronts = ["index.html", "status-deleted.html", "status-unknown.html"]
    assert [p.name for p in pages[:3]] == fronts
    # Each year's posts fit on a page here: a year is one period.
    assert {p.name for p in pages[3:]} == {
        *(f"index-{year}-1.html" for year in ("2006", "2023", "2025")),
        "status-deleted-2025-1.html",
        *(f"status-unknown-{year}-1.html" for year in ("2006", "2023")),
    }
    doc = soup(index)
    rows = doc.select("ol.posts > li")
    assert len(rows) == 4
    assert not doc.find("table")  # stacked cards: nothing to overflow a phone
    # Newest first; the deleted post is labelled as such.
    assert rows[0]["id"] == f"post-{POST_ARABIC}"
    status = rows[0].select_one(".status")
    assert status is not None and status.get_text() == "Deleted"
    assert "status-deleted" in status["class"]
    handle = rows[0].select_one(".handle")
    assert handle is not None and handle.name == "bdi" and handle["dir"] == "ltr"
    assert handle.get_text() == "@newsdesk_ar"
    text = rows[0].select_one(".text")
    # The post's own lang/dir (the helper's markup says en/ltr, whatever the script).
    assert text is not None and text["lang"] == "en" and text["dir"] == "ltr"
    filters = {a.get_text(): a["href"] for a in doc.select("nav.filter a")}
    assert filters == {
        "All (4)": "index.html",
        "Deleted (1)": "status-deleted.html",
        "Not checked yet (3)": "status-unknown.html",
    }
    deleted = soup(embeds / "status-deleted.html")
    assert [li["id"] for li in deleted.select("ol.posts > li")] == [f"post-{POST_ARABIC}"]
    current = deleted.select_one("nav.filter a[aria-current]")
    assert current is not None and current["href"] == "status-deleted.html"
    # Every relative link resolves to a file: local copies and rewritten articles.
    targets = local_links(index)
    assert targets and all(t.is_file() for t in targets)
    out = (tmp_path / "out").resolve()
    assert out / "embeds" / "x" / f"{POST_ARABIC}.html" in targets
    assert out / "world" / "elections.html" in targets and out / "solo.html" in targets
    # One script: the search box's own local file (nothing inline, nothing remote).
    assert [(s.get("src"), s.get_text()) for s in doc.find_all("script")] == [("search.js", "")]
    assert (embeds / "search.js").is_file() and (embeds / "search-index.js").is_file()
    # The periods, newest first, each linked to its page.
    months = [(a.get_text(), a["href"]) for a in doc.select("ul.periods a")]
    assert months == [
        ("2025", "index-2025-1.html"),
        ("2023", "index-2023-1.html"),
        ("2006", "index-2006-1.html"),
    ]
    year = soup(embeds / "index-2023-1.html")
    ids = [li["id"] for li in year.select("ol.posts > li")]
    assert ids == [f"post-{POST_ELECTION}", f"post-{POST_HOSTILE}"]  # newest first
    # A period may be a whole year, so the texts speak of dates, not months.
    assert doc.find("h2", string="By date") is not None
    up = year.find("a", rel="up")
    assert up is not None and up["href"] == "index.html" and up.get_text() == "All dates"
    assert "2023" in year.title.get_text()
    for written in pages:
        assert all(t.is_file() for t in local_links(written)), written


def search_posts(embeds: Path) -> list[dict[str, object]]:
    """Every post of the search index, in the order search.js shows them."""

    def call(path: Path, name: str) -> dict[str, object]:
        data = path.read_text(encoding="utf-8")
        prefix, suffix = f"{name}(", ");\n"
        assert data.startswith(prefix) and data.endswith(suffix)
        loaded = json.loads(data[len(prefix) : -len(suffix)])
        assert isinstance(loaded, dict)
        return loaded

    listed = call(embeds / "search-index.js", "embedArchiverSearchIndex")["files"]
    assert isinstance(listed, list)
    posts: list[dict[str, object]] = []
    for name in listed:
        chunk = call(embeds / name, "embedArchiverSearchChunk")["posts"]
        assert isinstance(chunk, list)
        posts += chunk
    return posts


def test_hostile_content_is_escaped(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive:
        write_index(archive, archive.config)
    html = (tmp_path / "out" / "embeds" / "index.html").read_text(encoding="utf-8")
    assert html.count("<script") == 1 and '<script src="search.js" defer></script>' in html
    assert "<img" not in html and "<b>Name" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Name&lt;/b&gt;" in html
    doc = soup(tmp_path / "out" / "embeds" / "index.html")
    text = doc.get_text()
    assert HOSTILE_TEXT in text and HOSTILE_NAME in text  # shown as text, not markup
    # The search index holds it as a JSON string (search.js shows it with textContent).
    posts = search_posts(tmp_path / "out" / "embeds")
    assert {p["text"] for p in posts} >= {HOSTILE_TEXT} and HOSTILE_NAME in {
        p["name"] for p in posts
    }


def test_template_syntax_in_posts_is_neutralised(tmp_path: Path) -> None:
    """Hugo/Jekyll must never evaluate what a stranger wrote: no ``{{``/``{%`` in output."""
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive:
        archive.store.db.execute(
            "UPDATE posts SET text = '{{ .Site.Params.secret }} {% include x %}', "
            "author_name = '{#c#}'"
        )
        archive.store.db.conn.commit()
        archive.write_index()
    html = (tmp_path / "out" / "embeds" / "index.html").read_text(encoding="utf-8")
    assert "{{" not in html and "{%" not in html and "{#" not in html
    assert (
        "{{ .Site.Params.secret }}" in soup(tmp_path / "out" / "embeds" / "index.html").get_text()
    )


def add_posts(archive: Archive, days: list[str], first: int = 5000) -> None:
    """Posts with a local copy, one on each of ``days`` ("2020-01-10"), ids from ``first``."""
    for n, day in enumerate(days, start=first):
        archive.store.save_snapshot(
            PostSnapshot(
                post_id=str(n),
                text=f"post {n}",
                author_handle="desk",
                created_at=f"{day}T00:00:00.000Z",
                source="markup",
                url=f"https://x.com/desk/status/{n}",
            ),
            utc_now(),
        )
    archive.store.set_local_paths(
        {f"x:{n}": f"embeds/x/{n}.html" for n in range(first, first + len(days))}
    )


def signatures(folder: Path) -> dict[str, tuple[int, int]]:
    """Each file's inode and modification time: which files a write replaced."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.*")}


def test_a_months_pages_are_numbered_from_its_oldest_post(tmp_path: Path) -> None:
    """A month's pages keep their posts as the archive grows: a new post changes the
    pages of its month, and leaves every other month's pages as they were."""
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    with Archive.from_config(config) as archive:
        add_posts(archive, ["2020-01-10", "2020-01-12", "2020-01-11"])
        archive.write_index(per_page=1)
        names = sorted(p.name for p in embeds.glob("index-2020-01-*.html"))
        assert names == [f"index-2020-01-{n}.html" for n in (1, 2, 3)]
        oldest = soup(embeds / "index-2020-01-1.html")
        assert [li["id"] for li in oldest.select("ol.posts > li")] == ["post-5000"]
        # The front page links the month's newest page, which readers see as page 1.
        january = soup(embeds / "index.html").find("a", string="January 2020")
        assert january is not None and january["href"] == "index-2020-01-3.html"
        newest = soup(embeds / "index-2020-01-3.html")
        assert [li["id"] for li in newest.select("ol.posts > li")] == ["post-5001"]
        assert "page 1 of 3" in newest.get_text()
        older = newest.find("a", rel="next")
        assert older is not None and older["href"] == "index-2020-01-2.html"
        before = signatures(embeds)
        add_posts(archive, ["2020-01-13"], first=6000)
        archive.write_index(per_page=1)
    after = signatures(embeds)
    changed = sorted(name for name in after if before.get(name) != after[name])
    # January's pages (their pager counts one page more), its search file and the front
    # pages: nothing of the other months (the list of search files is the same).
    assert changed == [
        "index-2020-01-1.html",
        "index-2020-01-2.html",
        "index-2020-01-3.html",
        "index-2020-01-4.html",
        "index.html",
        "search-2020-01-1.js",
        "status-unknown-2020-01-1.html",
        "status-unknown-2020-01-2.html",
        "status-unknown-2020-01-3.html",
        "status-unknown-2020-01-4.html",
        "status-unknown.html",
    ]
    assert [li["id"] for li in soup(embeds / "index-2020-01-4.html").select("li.post")] == [
        "post-6000"
    ]
    newest = soup(embeds / "index.html").select_one("li.post")
    assert newest is not None and newest["id"] == f"post-{POST_ARABIC}"


def test_stale_pages_and_the_pages_of_earlier_releases_are_removed(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    with Archive.from_config(config) as archive:
        add_posts(archive, ["2020-01-10", "2020-01-12", "2020-01-11"])
    result = CliRunner().invoke(cli, ["--config", str(config), "index", "--per-page", "1"])
    assert result.exit_code == 0, result.output
    # What an earlier release named its pages, and files of someone else's.
    for name in ("index-2.html", "status-unknown-3.html", "notes.html", "index-2.htm"):
        (embeds / name).write_text("<html></html>", encoding="utf-8")
    with Archive.from_config(config) as archive:
        pages = archive.write_index(per_page=3)
    assert sorted(p.name for p in embeds.glob("index*")) == [
        "index-2.htm",
        "index-2006-1.html",
        "index-2020-1.html",  # its three posts now fit on a page: one period
        "index-2023-1.html",
        "index-2025-1.html",
        "index.html",
    ]
    assert (embeds / "notes.html").is_file()
    assert sorted(p.name for p in embeds.iterdir() if p.is_file()) == sorted(
        [p.name for p in pages]
        + ["index-2.htm", "notes.html", "search.js", "search-index.js"]
        + [f"search-{year}-1.js" for year in ("2006", "2020", "2023", "2025")]
    )
    # A status no post has any more loses its pages.
    set_status(config, POST_ARABIC, "deleted")
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=3)
    assert (embeds / "status-deleted.html").is_file()
    assert (embeds / "status-deleted-2025-1.html").is_file()
    set_status(config, POST_ARABIC, "live")
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=3)
    assert not list(embeds.glob("status-deleted*"))
    assert (embeds / "status-live.html").is_file()


def test_empty_archive(tmp_path: Path) -> None:
    config = build_archive(tmp_path, articles={})
    with Archive.from_config(config) as archive:
        pages = archive.write_index()
    assert "No archived posts yet" in pages[0].read_text(encoding="utf-8")


def test_index_is_rendered_again_only_when_what_it_shows_changed(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    index = embeds / "index.html"
    with Archive.from_config(config) as archive:
        archive.write_index()
        before = signatures(embeds)
        archive.write_index()  # nothing changed in the archive: no file is written
        assert signatures(embeds) == before
        # A page edited by hand is ours to write: it is rendered again.
        index.write_bytes(index.read_bytes().replace(b"Archived posts", b"Edited by a hand"))
        archive.write_index()
        assert b"Edited by a hand" not in index.read_bytes()
        set_status(config, POST_ARABIC, "deleted")
        archive.write_index()
    row = soup(index).select_one(f"#post-{POST_ARABIC} .status")
    assert row is not None and row.get_text() == "Deleted"


def test_mentions_in_right_to_left_excerpts_are_isolated(tmp_path: Path) -> None:
    """In an Arabic excerpt a bare "@newsdesk" is reordered to "newsdesk@" by the
    bidirectional algorithm; each mention is isolated left-to-right."""
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive:
        write_index(archive, archive.config)
    row = soup(tmp_path / "out" / "embeds" / "index.html").select_one(f"#post-{POST_ARABIC}")
    assert row is not None
    text = row.select_one("p.text")
    assert text is not None
    mentions = text.select('bdi[dir="ltr"]')
    assert [m.get_text() for m in mentions] == ["@newsdesk"]


def _check_live(config: Path, post_id: str, text: str) -> None:
    """Record a network check that found the post live, saying ``text``."""
    with Archive.from_config(config) as archive:
        post = archive.store.get_post(f"x:{post_id}")
        assert post is not None
        snap = PostSnapshot(
            post_id=post_id,
            url=post.url,
            author_handle=post.author_handle,
            author_name=post.author_name,
            text=text,
            html=text,
            created_at=post.created_at,
            status="live",
            source="syndication",
            http_status=200,
        )
        archive.store.record_check(post_id, snap, None, "2099-01-01T00:00:00.000Z", utc_now())


def test_index_pages_follow_the_archive_after_one_post_changed(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    for post_id in (POST_ARABIC, POST_ELECTION, POST_HOSTILE, POST_JACK):
        _check_live(config, post_id, f"first words of {post_id}")
    embeds = tmp_path / "out" / "embeds"
    jack = embeds / "index-2006-1.html"  # Jack's year (its one post fits on a page)
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=1)
        backup = jack.read_bytes()
        _check_live(config, POST_JACK, "second words of Jack")  # same status, new text
        archive.write_index(per_page=1)
        assert "second words of Jack" in jack.read_text(encoding="utf-8")
        # The output folder comes back from an older backup, then another post changes:
        # Jack's page still shows what the archive holds, not the backup.
        jack.write_bytes(backup)
        _check_live(config, POST_ARABIC, "second words of the desk")
        archive.write_index(per_page=1)
        fresh = {p.name: p.read_bytes() for p in embeds.glob("*.html")}
        archive.write_index(per_page=1, force=True)  # every page rendered from scratch
    assert "second words of Jack" in jack.read_text(encoding="utf-8")
    assert fresh == {p.name: p.read_bytes() for p in embeds.glob("*.html")}


def test_the_index_links_match_relative_href_for_every_kind_of_path(tmp_path: Path) -> None:
    """The index links articles with one relpath per folder (issue 13: a full index
    links every live article); each link is the one relative_href gives."""
    from archiver.index_page import _HrefsFrom
    from archiver.rewrite import relative_href

    index = tmp_path / "out" / "embeds" / "index.html"
    targets = [
        tmp_path / "out" / "embeds" / "same.html",
        tmp_path / "out" / "news" / "2026" / "a b?.html",
        tmp_path / "out" / "news" / "2026" / "second.html",
        tmp_path / "elsewhere" / "in-place.html",
        Path("/") / "root.html",
        tmp_path / "out" / "caf\udce9.html",  # a name that is not UTF-8
    ]
    hrefs = _HrefsFrom(index)
    for target in [*targets, "relative/story.html", f"{tmp_path}/out/./x/../dotted.html"]:
        expected = relative_href(index, Path(target))
        assert hrefs.href(str(target)) == expected, target
        assert hrefs.href(str(target)) == expected  # and again, from the memo


def test_each_page_links_a_window_of_pages_not_every_page(tmp_path: Path) -> None:
    """A large month's pages stay small: each links the newest and oldest page, two on
    each side of its own and the pages before and after; the gaps show as "…". Every
    page is still reachable, and every link points at a page that was written."""
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive:
        add_posts(archive, [f"2020-01-{10 + n}" for n in range(9)])
        pages = archive.write_index(per_page=1)
    embeds = tmp_path / "out" / "embeds"
    month = [p for p in pages if p.name.startswith("index-2020-01-")]
    assert len(month) == 9

    def numbers(page: Path) -> list[str]:
        nav = soup(page).select_one("nav.pages")
        assert nav is not None
        return [el.get_text() for el in nav.select("a:not([rel]), span")]

    # Stored from the oldest post, shown from the newest: index-2020-01-9 is page 1.
    assert numbers(embeds / "index-2020-01-5.html") == ["1", "…", "3", "4", "5", "6", "7", "…", "9"]
    assert numbers(embeds / "index-2020-01-9.html") == ["1", "2", "3", "…", "9"]
    assert numbers(embeds / "index-2020-01-1.html") == ["1", "…", "7", "8", "9"]
    assert numbers(embeds / "index-2020-01-6.html") == ["1", "2", "3", "4", "5", "6", "…", "9"]
    reached, page = [], embeds / "index-2020-01-9.html"
    while True:
        reached.append(page.name)
        for target in local_links(page):
            if target.name.startswith(("index", "status-")):
                assert target.is_file(), target
        following = soup(page).find("a", rel="next")
        if following is None:
            break
        page = embeds / str(following["href"])
    assert reached == [f"index-2020-01-{n}.html" for n in range(9, 0, -1)]


def test_a_page_recorded_by_another_release_is_written_again(tmp_path: Path) -> None:
    """After an upgrade, a page whose file is the one recorded but whose digest is not
    what this release would show (another template, say) is rendered again, though no
    post changed."""
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    page = embeds / "index-2023-03-1.html"
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=1)
        page.write_text("<html><body>an earlier release's page</body></html>", encoding="utf-8")
        stat = page.stat()
        forged = f"{'0' * 64} {stat.st_size}:{stat.st_mtime_ns}"
        archive.store.record_index_pages([(page.name, forged)])
        archive.write_index(per_page=1)
    assert "an earlier release" not in page.read_text(encoding="utf-8")
    assert soup(page).select("ol.posts > li")


def test_the_records_of_the_index_follow_its_pages(tmp_path: Path) -> None:
    """What the index records of its files lives in the archive: a page that falls out
    of use loses its record with its file, so neither grows with past writes, and the
    JSON file of earlier releases is removed."""
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    with Archive.from_config(config) as archive:
        legacy = archive.store.path.with_name(archive.store.path.name + ".index-pages.json")
        legacy.write_text("{}", encoding="utf-8")
        many = {p.name for p in archive.write_index(per_page=1)}
        assert not legacy.exists()
        recorded = set(archive.store.index_page_names())
        assert many <= recorded
        few = {p.name for p in archive.write_index(per_page=100)}
        recorded_after = set(archive.store.index_page_names())
    assert len(few) < len(many)
    gone = many - few
    assert gone and not recorded_after & gone
    assert not any((embeds / name).exists() for name in gone)
    assert few <= recorded_after
    assert {p.name for p in embeds.glob("*.html")} == few


def test_posts_without_a_usable_date_come_after_the_oldest_month(tmp_path: Path) -> None:
    """A post's month becomes part of a file name: a missing, unreadable or hostile date
    puts the post under "Date unknown", listed last, never in a path of its own making.
    An article whose file name is not UTF-8 is linked like any other."""
    from archive_helpers import page, tweet

    articles = {"caf\udce9.html": page("Café", tweet("7100", "desk", "Desk", "café post"))}
    config = build_archive(tmp_path, articles=articles)
    with Archive.from_config(config) as archive:
        for n, created in [
            (7000, None),
            (7001, "yesterday"),
            (7002, "2024-13-01"),
            (7003, "../.."),
        ]:
            snap = PostSnapshot(
                post_id=str(n),
                text=f"undated {n}",
                author_handle="desk",
                created_at=created,
                source="markup",
                url=f"https://x.com/desk/status/{n}",
            )
            archive.store.save_snapshot(snap, utc_now())
        archive.store.set_local_paths({f"x:{n}": f"embeds/x/{n}.html" for n in range(7000, 7004)})
        pages = archive.write_index(per_page=3)
    embeds = tmp_path / "out" / "embeds"
    assert all(p.parent == embeds for p in pages)
    undated = [p for p in pages if p.name.startswith("index-undated-")]
    assert [p.name for p in undated] == ["index-undated-1.html", "index-undated-2.html"]
    listed = {li["id"] for p in undated for li in soup(p).select("ol.posts > li")}
    assert listed == {f"post-{n}" for n in range(7000, 7004)}
    months = soup(embeds / "index.html").select("ul.periods a")
    assert [a.get_text() for a in months] == ["2024", "Date unknown"]
    assert months[-1]["href"] == "index-undated-2.html"
    cafe = soup(embeds / "index-2024-1.html").select_one("#post-7100 ul.articles a")
    assert cafe is not None and cafe["href"] == "../caf%E9.html"
    assert (embeds / os.fsdecode(unquote_to_bytes(str(cafe["href"])))).is_file()


def test_a_year_whose_posts_fit_on_one_page_is_one_period(tmp_path: Path) -> None:
    """A sparse archive is not a string of one-post months: a year whose posts fit on
    one page is one period, and a year with more has a period for each month."""
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    with Archive.from_config(config) as archive:
        pages = archive.write_index(per_page=1)
    periods = [a.get_text() for a in soup(embeds / "index.html").select("ul.periods a")]
    assert periods == ["2025", "March 2023", "February 2023", "2006"]
    assert {"index-2025-1.html", "index-2023-03-1.html", "index-2023-02-1.html"} <= {
        p.name for p in pages
    }


def test_a_post_embedded_in_many_articles_lists_ten_and_counts_the_rest(tmp_path: Path) -> None:
    """A post quoted across the site (13 articles here) shows its first ten articles in
    the index and the search, then "and 3 more articles" linking to its archived copy,
    which lists them all. Without the cap, one post in thousands of articles made each
    page and search file holding it as long, and the index's memory with it."""
    quoted = tweet(POST_ELECTION, "hindinews", "News", "Quoted everywhere", "March 29, 2023")
    jack = tweet(POST_JACK, "jack", "jack", "just setting up my twttr", "March 21, 2006")
    articles: dict[str, str | bytes] = {f"a{n:02d}.html": page(f"A{n}", quoted) for n in range(13)}
    articles["one.html"] = page("One", jack)
    config = build_archive(tmp_path, articles)
    embeds = tmp_path / "out" / "embeds"
    copy = (embeds / "x" / f"{POST_ELECTION}.html").resolve()
    row = soup(embeds / "index.html").select_one(f"#post-{POST_ELECTION}")
    assert row is not None
    listed = [a.get_text() for a in row.select("ul.articles > li:not(.more) a")]
    assert listed == [f"articles/a{n:02d}.html" for n in range(10)]
    more = row.select_one("ul.articles > li.more a")
    assert more is not None and more.get_text() == "and 3 more articles"
    assert (embeds / unquote(str(more["href"]))).resolve() == copy
    on_copy = [a.get_text() for a in soup(copy).select("section.embedded li > a:first-child")]
    assert on_copy == [f"articles/a{n:02d}.html" for n in range(13)]
    # Jack's post, in one article, lists it and nothing more.
    jack_row = soup(embeds / "index.html").select_one(f"#post-{POST_JACK}")
    assert jack_row is not None and jack_row.select_one("li.more") is None
    found = {str(p["key"]): p for p in search_posts(embeds)}
    assert found[f"x:{POST_ELECTION}"]["more"] == 3
    assert len(found[f"x:{POST_ELECTION}"]["articles"]) == 10  # type: ignore[arg-type]
    assert found[f"x:{POST_JACK}"]["more"] == 0
    # One more article: the count changes, so the pages showing it are written again.
    (tmp_path / "articles" / "a13.html").write_text(page("A13", quoted), encoding="utf-8")
    with Archive.from_config(config) as archive:
        archive.run()
    row = soup(embeds / "index.html").select_one(f"#post-{POST_ELECTION}")
    assert row is not None
    more = row.select_one("ul.articles > li.more a")
    assert more is not None and more.get_text() == "and 4 more articles"


def test_an_index_of_hundreds_of_pages_is_recorded_as_it_is_walked(tmp_path: Path) -> None:
    """The records of an index larger than one chunk of them are written while the
    walk still reads the archive: a second write finds every page current and replaces
    no file, and a post's change renders its pages alone."""
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    with Archive.from_config(config) as archive:
        add_posts(archive, ["2020-01-10"] * 150)
        pages = archive.write_index(per_page=1)
        assert len(pages) > 256  # more than one chunk of records (PageRecords.CHUNK)
        assert {p.name for p in pages} <= set(archive.store.index_page_names())
        before = signatures(embeds)
        archive.write_index(per_page=1)
        assert signatures(embeds) == before
        archive.store.save_snapshot(
            PostSnapshot(
                post_id="5003",
                text="post 5003, edited",
                author_handle="desk",
                created_at="2020-01-10T00:00:00.000Z",
                source="syndication",
                url="https://x.com/desk/status/5003",
            ),
            utc_now(),
        )
        archive.write_index(per_page=1)
    after = signatures(embeds)
    replaced = {name for name in before if after.get(name) != before[name]}
    assert replaced and len(replaced) < 10, replaced
    assert any("post 5003, edited" in (embeds / name).read_text("utf-8") for name in replaced)
