"""The static archive index: paginated, relative links that resolve, everything escaped."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

from archive_helpers import (
    HOSTILE_NAME,
    HOSTILE_TEXT,
    POST_ARABIC,
    POST_ELECTION,
    POST_HOSTILE,
    POST_JACK,
    build_archive,
    set_status,
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
    # All posts, then one page per status present: the filter, without script.
    assert [p.name for p in pages] == ["index.html", "status-deleted.html", "status-unknown.html"]
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
    data = (tmp_path / "out" / "embeds" / "search-index.js").read_text(encoding="utf-8")
    prefix, suffix = "embedArchiverSearchIndex(", ");\n"
    assert data.startswith(prefix) and data.endswith(suffix)
    posts = json.loads(data[len(prefix) : -len(suffix)])["posts"]
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


def test_pagination_and_stale_pages(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    result = CliRunner().invoke(cli, ["--config", str(config), "index", "--per-page", "1"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in embeds.glob("index*.html"))
    assert names == ["index-2.html", "index-3.html", "index-4.html", "index.html"]
    second = soup(embeds / "index-2.html")
    assert len(second.select("ol.posts > li")) == 1
    prev_link, next_link = second.find("a", rel="prev"), second.find("a", rel="next")
    assert prev_link is not None and prev_link["href"] == "index.html"
    assert next_link is not None and next_link["href"] == "index-3.html"
    assert soup(embeds / "index-4.html").find("a", rel="next") is None
    for page in embeds.glob("index*.html"):
        assert all(t.is_file() for t in local_links(page))
    # Fewer pages later: the leftovers go.
    assert sorted(p.name for p in embeds.glob("status-*.html")) == [
        "status-unknown-2.html",
        "status-unknown-3.html",
        "status-unknown-4.html",
        "status-unknown.html",
    ]
    with Archive.from_config(config) as archive:
        pages = archive.write_index(per_page=3)
    assert [p.name for p in pages] == [
        "index.html",
        "index-2.html",
        "status-unknown.html",
        "status-unknown-2.html",
    ]
    assert sorted(p.name for p in embeds.glob("index*.html")) == ["index-2.html", "index.html"]
    assert sorted(p.name for p in embeds.glob("status-*.html")) == [
        "status-unknown-2.html",
        "status-unknown.html",
    ]
    # A status no post has any more loses its page.
    set_status(config, POST_ARABIC, "deleted")
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=3)
    assert (embeds / "status-deleted.html").is_file()
    set_status(config, POST_ARABIC, "live")
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=3)
    assert not (embeds / "status-deleted.html").exists()
    assert (embeds / "status-live.html").is_file()


def test_empty_archive(tmp_path: Path) -> None:
    config = build_archive(tmp_path, articles={})
    with Archive.from_config(config) as archive:
        pages = archive.write_index()
    assert "No archived posts yet" in pages[0].read_text(encoding="utf-8")


def test_index_is_rendered_again_only_when_what_it_shows_changed(tmp_path: Path) -> None:
    config = build_archive(tmp_path)
    index = tmp_path / "out" / "embeds" / "index.html"
    with Archive.from_config(config) as archive:
        archive.write_index()
        first = index.read_bytes()
        index.write_bytes(first.replace(b"Archived posts", b"Edited by hand"))
        archive.write_index()  # nothing changed in the archive: the page is left alone
        assert b"Edited by hand" in index.read_bytes()
        set_status(config, POST_ARABIC, "deleted")
        archive.write_index()
    row = soup(index).select_one(f"#post-{POST_ARABIC} .status")
    assert row is not None and row.get_text() == "Deleted"
    assert b"Edited by hand" not in index.read_bytes()


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
    jack = embeds / "index-4.html"  # newest first: Arabic, election, hostile, Jack
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


def test_the_fingerprints_links_match_relative_href_for_every_kind_of_path(
    tmp_path: Path,
) -> None:
    """The index fingerprint links articles one relpath per folder (issue 13: a run after
    an unfinished one walks every article); each link is the one relative_href gives."""
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
    """A large archive's pages stay small: each links the first and last page, two on
    each side of its own and the pages before and after; the gaps show as "…". Every
    page is still reachable, and every link points at a page that was written."""
    config = build_archive(tmp_path)
    with Archive.from_config(config) as archive:
        for n in range(9):
            key = archive.store.save_snapshot(
                PostSnapshot(
                    post_id=str(5000 + n),
                    text=f"post {n}",
                    author_handle="desk",
                    created_at=f"2020-01-{10 + n}T00:00:00.000Z",
                    source="markup",
                    url=f"https://x.com/desk/status/{5000 + n}",
                ),
                utc_now(),
            )
            assert key == "new"
        archive.store.set_local_paths(
            {f"x:{5000 + n}": f"embeds/x/{5000 + n}.html" for n in range(9)}
        )
        pages = archive.write_index(per_page=1)
    embeds = tmp_path / "out" / "embeds"
    listing = [p for p in pages if p.name.startswith("index")]
    assert len(listing) == 13

    def numbers(page: Path) -> list[str]:
        nav = soup(page).select_one("nav.pages")
        assert nav is not None
        return [el.get_text() for el in nav.select("a:not([rel]), span")]

    assert numbers(embeds / "index-7.html") == ["1", "…", "5", "6", "7", "8", "9", "…", "13"]
    assert numbers(embeds / "index.html") == ["1", "2", "3", "…", "13"]
    assert numbers(embeds / "index-13.html") == ["1", "…", "11", "12", "13"]
    assert numbers(embeds / "index-4.html") == ["1", "2", "3", "4", "5", "6", "…", "13"]
    reached, page = [], embeds / "index.html"
    while True:
        reached.append(page.name)
        for target in local_links(page):
            if target.name.startswith(("index", "status-")):
                assert target.is_file(), target
        following = soup(page).find("a", rel="next")
        if following is None:
            break
        page = embeds / str(following["href"])
    assert sorted(reached) == sorted(p.name for p in listing)


def test_an_index_from_a_release_with_another_template_is_written_again(tmp_path: Path) -> None:
    """After an upgrade that changes the index template (the pager, say), the next index
    is rendered with it although no post changed: the marker that says "the index is
    current" and each page's digest name the template they were rendered with."""
    import hashlib
    import re

    config = build_archive(tmp_path)
    embeds = tmp_path / "out" / "embeds"
    with Archive.from_config(config) as archive:
        archive.write_index(per_page=1)
        digests_file = archive.store.path.with_name(archive.store.path.name + ".index-pages.json")
    # What an earlier release left: its marker and digests know nothing of this
    # template, and its second page looks different.
    first = embeds / "index.html"
    html = first.read_text(encoding="utf-8")
    html, count = re.subn(r"(<!-- embed-archiver index \S+ 1) \S+ -->", r"\1 -->", html)
    assert count == 1
    first.write_text(html, encoding="utf-8")
    second = embeds / "index-2.html"
    second.write_text("<html><body>an earlier release's page</body></html>", encoding="utf-8")
    digests = json.loads(digests_file.read_text(encoding="utf-8"))
    for name in list(digests):
        sha = hashlib.sha256(Path(name).read_bytes()).hexdigest()
        digests[name] = f"{'0' * 64} {sha}"
    digests_file.write_text(json.dumps(digests), encoding="utf-8")

    with Archive.from_config(config) as archive:
        archive.write_index(per_page=1)
    assert "an earlier release" not in second.read_text(encoding="utf-8")
    assert soup(second).select("ol.posts > li")
    assert re.search(r"<!-- embed-archiver index \S+ 1 \S+ -->", first.read_text(encoding="utf-8"))
