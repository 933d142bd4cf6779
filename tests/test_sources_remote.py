"""Remote sources (urls, sitemap, feed) against a real HTTP server on 127.0.0.1.

The news site is ``FakeX.add_page`` (ETag / Last-Modified / 304); the archive is a
real SQLite file and the rewritten copies real files. Fetching posts from X is off:
these tests are about finding and reading articles.
"""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest
import yaml
from archive_helpers import page, tweet
from fakex import FakeX

from archiver import Archive
from archiver.config import config_from_dict
from archiver.sources.remote import (
    RemoteSources,
    clean_url,
    normalise_date,
    output_relpath,
    parse_feed,
    parse_sitemap,
)

SM_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
POST_A = "1641086480675225601"
POST_B = "1875083037872181254"
POST_C = "1629307668568633344"


def article(title: str, post_id: str, handle: str = "newsdesk") -> str:
    return page(title, tweet(post_id, handle, "News Desk", f"post {post_id} in {title}"))


def write_config(tmp_path: Path, sources: list[dict[str, object]], **extra: object) -> Path:
    config = {
        "database": "archive.db",
        "sources": sources,
        "output": {"dir": "out"},
        "x": {"fetch": False},
        "http": {"timeout": 2, "retries": 0, "per_host_rate": 10000},
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def urlset(*entries: tuple[str, str | None]) -> str:
    items = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>"
        for loc, mod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {SM_NS}>{items}</urlset>'


def run(config: Path) -> dict[str, object]:
    with Archive.from_config(config) as archive:
        report = archive.run()
    return report.as_dict()


def article_rows(config: Path) -> dict[str, dict[str, object]]:
    with Archive.from_config(config) as archive:
        rows = archive.store.db.query("SELECT * FROM articles ORDER BY location")
        return {row["location"]: row for row in rows}


def article_requests(fake: FakeX, path: str) -> list[dict[str, str]]:
    return [r.headers for r in fake.requests_for(path)]


# -- sitemaps ------------------------------------------------------------------------


def test_sitemap_index_to_sitemaps_to_articles(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    fakex.add_page("/news/one", article("One", POST_A))
    fakex.add_page("/news/two/", article("Two", POST_B))
    fakex.add_page("/2024/three.php", article("Three", POST_C))
    fakex.add_page(
        "/sitemap-news.xml",
        urlset((f"{base}/news/one", "2024-05-01T10:00:00+02:00"), (f"{base}/news/two/", None)),
        "application/xml",
    )
    # A gzipped child sitemap, served as a file (no Content-Encoding), as many CMSes do.
    fakex.add_page(
        "/sitemap-2024.xml.gz",
        gzip.compress(urlset((f"{base}/2024/three.php", "2024-05-02")).encode()),
        "application/x-gzip",
    )
    index = (
        f'<?xml version="1.0"?><sitemapindex {SM_NS}>'
        f"<sitemap><loc>{base}/sitemap-news.xml</loc></sitemap>"
        f"<sitemap><loc>{base}/sitemap-2024.xml.gz</loc></sitemap>"
        # A loop back to the index itself is cut off, not followed forever.
        f"<sitemap><loc>{base}/sitemap.xml</loc></sitemap>"
        "</sitemapindex>"
    )
    fakex.add_page("/sitemap.xml", index, "application/xml")
    config = write_config(
        tmp_path, [{"kind": "sitemap", "name": "site", "url": f"{base}/sitemap.xml"}]
    )

    report = run(config)

    assert report["errors"] == []
    assert report["articles_scanned"] == 3
    rows = article_rows(config)
    assert set(rows) == {f"{base}/news/one", f"{base}/news/two/", f"{base}/2024/three.php"}
    host = f"127.0.0.1_{fakex.port}"
    out = tmp_path / "out"
    assert (out / host / "news" / "one.html").exists()
    assert (out / host / "news" / "two" / "index.html").exists()
    assert (out / host / "2024" / "three.php").exists()
    with Archive.from_config(config) as archive:
        assert {k for k in archive.post_keys()} == {f"x:{POST_A}", f"x:{POST_B}", f"x:{POST_C}"}
    # The rewritten copy has the local embed instead of the widget script.
    rewritten = (out / host / "news" / "one.html").read_text(encoding="utf-8")
    assert "platform.twitter.com/widgets.js" not in rewritten


def test_lastmod_not_newer_than_last_scan_is_not_fetched(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    fakex.add_page("/a", article("A", POST_A))
    fakex.add_page("/b", article("B", POST_B))
    old = "2020-01-01T00:00:00Z"
    fakex.add_page("/sitemap.xml", urlset((f"{base}/a", old), (f"{base}/b", old)), "text/xml")
    config = write_config(tmp_path, [{"kind": "sitemap", "url": f"{base}/sitemap.xml"}])
    assert run(config)["articles_scanned"] == 2
    fakex.reset_requests()

    # /b is updated after its last scan; /a is not.
    fakex.add_page("/b", article("B2", POST_C))
    fakex.add_page(
        "/sitemap.xml", urlset((f"{base}/a", old), (f"{base}/b", "2999-01-01")), "text/xml"
    )
    report = run(config)

    assert fakex.count("/a") == 0  # skipped unread on its lastmod
    assert fakex.count("/b") == 1
    assert report["articles_skipped"] == 1 and report["articles_scanned"] == 1
    with Archive.from_config(config) as archive:
        assert f"x:{POST_C}" in archive.post_keys()


def test_google_news_sitemap_publication_date(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    body = (
        f'<?xml version="1.0"?><urlset {SM_NS} {NEWS_NS}>'
        f"<url><loc>{base}/story</loc><news:news>"
        "<news:publication><news:name>Daily</news:name><news:language>en</news:language>"
        "</news:publication><news:publication_date>2024-03-01T09:30:00+05:30"
        "</news:publication_date><news:title>Story</news:title></news:news></url>"
        "</urlset>"
    )
    kind, entries = parse_sitemap(body.encode(), base)
    assert kind == "urlset"
    assert [(e.url, e.updated) for e in entries] == [(f"{base}/story", "2024-03-01T04:00:00.000Z")]
    fakex.add_page("/story", article("Story", POST_A))
    fakex.add_page("/news-sitemap.xml", body, "application/xml")
    config = write_config(tmp_path, [{"kind": "sitemap", "url": f"{base}/news-sitemap.xml"}])
    assert run(config)["articles_scanned"] == 1
    assert run(config)["articles_skipped"] == 1  # published before the last scan
    assert fakex.count("/story") == 1


# -- feeds ---------------------------------------------------------------------------


def test_rss_feed(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    fakex.add_page("/rss/1", article("R1", POST_A))
    fakex.add_page("/rss/2", article("R2", POST_B))
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<item><title>1</title><link>{base}/rss/1</link>"
        "<pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate></item>"
        # No <link>: the permalink guid is the article.
        f'<item><guid isPermaLink="true">{base}/rss/2</guid></item>'
        "<item><link>javascript:alert(1)</link></item>"
        "<item><link>file:///etc/passwd</link></item>"
        "</channel></rss>"
    )
    entries = parse_feed(rss.encode(), base + "/feed.xml")
    assert [(e.url, e.updated) for e in entries] == [
        (f"{base}/rss/1", "2003-06-10T04:00:00.000Z"),
        (f"{base}/rss/2", None),
    ]
    fakex.add_page("/feed.xml", rss, "application/rss+xml")
    config = write_config(tmp_path, [{"kind": "feed", "url": f"{base}/feed.xml"}])
    report = run(config)
    assert report["errors"] == [] and report["articles_scanned"] == 2
    assert set(article_rows(config)) == {f"{base}/rss/1", f"{base}/rss/2"}


def test_atom_feed_relative_links_and_rel(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    atom = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}/blog/">'
        "<title>B</title>"
        '<entry><title>1</title><link rel="self" href="/api/1"/>'
        '<link rel="alternate" type="text/html" href="posts/first"/>'
        "<updated>2024-02-03T04:05:06.789Z</updated></entry>"
        f'<entry><title>2</title><link href="{base}/blog/posts/second"/>'
        "<published>2024-02-01T00:00:00Z</published></entry>"
        '<entry><title>3</title><link rel="alternate" href="data:text/html,hi"/></entry>'
        "</feed>"
    )
    entries = parse_feed(atom.encode(), base + "/atom.xml")
    assert [(e.url, e.updated) for e in entries] == [
        (f"{base}/blog/posts/first", "2024-02-03T04:05:06.789Z"),
        (f"{base}/blog/posts/second", "2024-02-01T00:00:00.000Z"),
    ]
    fakex.add_page("/blog/posts/first", article("F", POST_A))
    fakex.add_page("/blog/posts/second", article("S", POST_B))
    fakex.add_page("/atom.xml", atom, "application/atom+xml")
    config = write_config(tmp_path, [{"kind": "feed", "url": f"{base}/atom.xml"}])
    assert run(config)["articles_scanned"] == 2


def test_feed_item_gone_is_marked_removed_not_deleted(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    fakex.add_page("/a", article("A", POST_A))
    fakex.add_page("/b", article("B", POST_B))

    def rss(*paths: str) -> str:
        items = "".join(f"<item><link>{base}{p}</link></item>" for p in paths)
        return f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'

    fakex.add_page("/feed", rss("/a", "/b"), "application/rss+xml")
    config = write_config(tmp_path, [{"kind": "feed", "url": f"{base}/feed"}])
    run(config)
    fakex.add_page("/feed", rss("/a"), "application/rss+xml")
    report = run(config)
    assert report["articles_removed"] == 1
    rows = article_rows(config)
    assert rows[f"{base}/b"]["removed_at"] is not None  # kept, marked
    assert rows[f"{base}/a"]["removed_at"] is None
    with Archive.from_config(config) as archive:
        assert f"x:{POST_B}" in archive.post_keys()

    # A feed that fails to load does not mark its articles removed.
    fakex.add_page("/feed", "<html>maintenance</html>", "text/html")
    report = run(config)
    assert report["articles_removed"] == 0 and report["errors"]
    assert article_rows(config)[f"{base}/a"]["removed_at"] is None


# -- urls, conditional GET, byte cap -------------------------------------------------


def test_urls_source_conditional_get_and_304(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    fakex.add_page("/e", article("E", POST_A), etag='"v1"')
    fakex.add_page("/lm", article("LM", POST_B), last_modified="Wed, 01 May 2024 10:00:00 GMT")
    url_file = tmp_path / "urls.txt"
    url_file.write_text(
        f"# our articles\n{base}/lm\n\n   \nftp://example.com/x\n", encoding="utf-8"
    )
    config = write_config(
        tmp_path,
        [{"kind": "urls", "urls": [f"{base}/e", "javascript:alert(1)"], "file": "urls.txt"}],
    )
    report = run(config)
    assert report["errors"] == [] and report["articles_scanned"] == 2
    rows = article_rows(config)
    assert set(rows) == {f"{base}/e", f"{base}/lm"}  # unsafe URLs ignored
    assert rows[f"{base}/e"]["etag"] == '"v1"'
    assert rows[f"{base}/lm"]["last_modified"] == "Wed, 01 May 2024 10:00:00 GMT"
    out_e = tmp_path / "out" / f"127.0.0.1_{fakex.port}" / "e.html"
    first_bytes = out_e.read_bytes()
    mtime = out_e.stat().st_mtime_ns

    fakex.reset_requests()
    report = run(config)
    assert report["articles_skipped"] == 2 and report["articles_scanned"] == 0
    (e_req,) = article_requests(fakex, "/e")
    (lm_req,) = article_requests(fakex, "/lm")
    assert e_req.get("if-none-match") == '"v1"'
    assert lm_req.get("if-modified-since") == "Wed, 01 May 2024 10:00:00 GMT"
    # Unchanged output: not rewritten.
    assert out_e.read_bytes() == first_bytes and out_e.stat().st_mtime_ns == mtime

    # A new version (new ETag) is fetched in full and rescanned.
    fakex.add_page("/e", article("E2", POST_C), etag='"v2"')
    report = run(config)
    assert report["articles_scanned"] == 1
    assert article_rows(config)[f"{base}/e"]["etag"] == '"v2"'

    # If the rewritten copy was deleted, no validators are sent: a 304 would leave it missing.
    out_e.unlink()
    fakex.reset_requests()
    run(config)
    (e_req,) = article_requests(fakex, "/e")
    assert "if-none-match" not in e_req
    assert out_e.exists()


def test_article_over_byte_cap_is_an_error(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    fakex.add_page("/big", article("Big", POST_A) + "<!--" + "x" * 50_000 + "-->")
    fakex.add_page("/small", article("Small", POST_B))
    config = write_config(
        tmp_path,
        [{"kind": "urls", "urls": [f"{base}/big", f"{base}/small"]}],
        http={"timeout": 2, "retries": 0, "max_article_bytes": 10_000},
    )
    report = run(config)
    assert [e["article"] for e in report["errors"]] == [f"{base}/big"]  # type: ignore[union-attr]
    rows = article_rows(config)
    assert "max_article_bytes" in str(rows[f"{base}/big"]["error"])
    assert rows[f"{base}/small"]["error"] is None


def test_max_articles_caps_a_sitemap(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    for i in range(5):
        fakex.add_page(f"/p{i}", article(f"P{i}", POST_A))
    fakex.add_page(
        "/sitemap.xml", urlset(*((f"{base}/p{i}", None) for i in range(5))), "application/xml"
    )
    config = write_config(
        tmp_path, [{"kind": "sitemap", "url": f"{base}/sitemap.xml", "max_articles": 3}]
    )
    assert run(config)["articles_scanned"] == 3


@pytest.mark.parametrize("kind", ["feed", "sitemap"])
def test_large_listing_stops_at_max_articles_while_parsing(
    tmp_path: Path, fakex: FakeX, kind: str
) -> None:
    """200,000 entries, then markup that is not well-formed: with max_articles 5 the
    listing ends after the fifth entry, never parsing (or holding) the rest."""
    base = fakex.base_url
    count = 200_000
    if kind == "feed":
        items = "".join(f"<item><link>{base}/a/{i}</link></item>" for i in range(count))
        body = f"<rss><channel><title>Big</title>{items}<item><link>oops</channel></rss>"
    else:
        items = "".join(f"<url><loc>{base}/a/{i}</loc></url>" for i in range(count))
        body = f"<urlset {SM_NS}>{items}<url><loc>oops</urlset>"
    fakex.add_page("/big.xml", body, "application/xml")
    config = config_from_dict(
        {
            "sources": [{"kind": kind, "url": f"{base}/big.xml", "max_articles": 5}],
            "http": {"timeout": 5, "retries": 0, "per_host_rate": 10_000},
        },
        base=tmp_path,
    )
    remote = RemoteSources(config, lambda location: None)
    try:
        tracemalloc.start()
        refs = list(remote.list_articles(config.sources[0], 0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        remote.close()
    assert [ref.url for ref in refs] == [f"{base}/a/{i}" for i in range(5)]
    # The body itself is ~8 MB; a whole parsed tree of it took well over 100 MB.
    assert peak < 4 * len(body), f"peak {peak / 1e6:.0f} MB for a {len(body) / 1e6:.0f} MB body"


def test_hostile_xml_is_refused(tmp_path: Path, fakex: FakeX) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f"<urlset {SM_NS}><url><loc>&lol2;</loc></url></urlset>"
    )
    with pytest.raises(ValueError, match="unsafe XML"):
        parse_sitemap(bomb.encode(), fakex.base_url)
    fakex.add_page("/sitemap.xml", bomb, "application/xml")
    config = write_config(tmp_path, [{"kind": "sitemap", "url": f"{fakex.base_url}/sitemap.xml"}])
    report = run(config)
    assert report["articles_scanned"] == 0 and report["errors"]


# -- output paths --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://News.Example.com/", "news.example.com/index.html"),
        ("https://news.example.com", "news.example.com/index.html"),
        ("https://news.example.com/2024/05/story", "news.example.com/2024/05/story.html"),
        ("https://news.example.com/2024/05/story/", "news.example.com/2024/05/story/index.html"),
        ("https://news.example.com/a/story.html", "news.example.com/a/story.html"),
        ("https://news.example.com/a/story.php", "news.example.com/a/story.php"),
        ("http://localhost:8080/a", "localhost_8080/a.html"),
        ("https://news.example.com/../../etc/passwd", "news.example.com/etc/passwd.html"),
        ("https://news.example.com/a/%2e%2e/%2e%2e/b", "news.example.com/a/b.html"),
        ("https://news.example.com/a%2F..%2F..%2Fetc/x", "news.example.com/a_.._.._etc/x.html"),
        ("https://news.example.com/%2Fetc%2Fpasswd", "news.example.com/_etc_passwd.html"),
        ("https://news.example.com/a%5C..%5Cb", "news.example.com/a_.._b.html"),
        ("https://news.example.com/caf%C3%A9/%E0%A4%A8", "news.example.com/café/न.html"),
    ],
)
def test_output_relpath_is_sanitised(url: str, expected: str) -> None:
    assert output_relpath(url) == expected


def test_output_relpath_query_and_long_names() -> None:
    one = output_relpath("https://n.example/?p=1")
    two = output_relpath("https://n.example/?p=2")
    assert one != two and one.startswith("n.example/index-q") and one.endswith(".html")
    long = output_relpath("https://n.example/" + "x" * 400)
    assert all(len(part.encode()) <= 255 for part in long.split("/"))


def test_dot_dot_urls_cannot_escape_output_dir(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    # The server sees the raw path; we must not turn it into ../ on disk.
    fakex.add_page("/x/%2e%2e/%2e%2e/escape", article("Escape", POST_A))
    fakex.add_page("/x/..%2F..%2Fescape2", article("Escape2", POST_B))
    config = write_config(
        tmp_path,
        [
            {
                "kind": "urls",
                "urls": [f"{base}/x/%2e%2e/%2e%2e/escape", f"{base}/x/..%2F..%2Fescape2"],
            }
        ],
    )
    report = run(config)
    assert report["errors"] == [] and report["articles_scanned"] == 2
    out = (tmp_path / "out").resolve()
    written = [p for p in tmp_path.rglob("*.html")]
    assert written and all(out in p.resolve().parents for p in written)
    assert not (tmp_path / "escape.html").exists()


def test_clean_url_and_dates() -> None:
    assert clean_url("https://a.example/x#frag") == "https://a.example/x"
    assert clean_url("HTTP://a.example") == "http://a.example/"
    assert clean_url("javascript:alert(1)") is None
    assert clean_url("https://a.example/<script>") is None
    assert clean_url("https://a.example:99999/") is None
    assert clean_url("//a.example/x") is None
    assert clean_url("x", "https://a.example/dir/feed") == "https://a.example/dir/x"
    assert normalise_date("2024-05-01") == "2024-05-01T23:59:59.999Z"  # end of that day
    assert normalise_date("2024-05") == "2024-05-31T23:59:59.999Z"
    assert normalise_date("2024-05-01T10:00+02:00") == "2024-05-01T08:00:00.000Z"
    assert normalise_date("2024-05-01T10:00:00.123456Z") == "2024-05-01T10:00:00.123Z"
    assert normalise_date("Wed, 01 May 2024 10:00:00 +0100") == "2024-05-01T09:00:00.000Z"
    assert normalise_date("yesterday") is None
    assert normalise_date("") is None
