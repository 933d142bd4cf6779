"""ArticleFetcher: conditional GET, byte cap, retries; fetch_xml for sitemaps/feeds."""

from __future__ import annotations

import pytest
from fakex import FakeX, Fault

from archiver.config import HttpConfig
from archiver.fetch.articles import ArticleFetcher, ArticleFetchError

LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"


def fetcher(**http: object) -> ArticleFetcher:
    settings: dict[str, object] = {"timeout": 1.0, "retries": 2, "per_host_rate": 10_000}
    settings.update(http)
    return ArticleFetcher(HttpConfig.model_validate(settings), backoff_base=0.01)


def test_ok_then_not_modified_by_etag(fakex: FakeX) -> None:
    url = fakex.add_page(
        "/news/a.html", "<html>hi</html>", etag='"v1"', last_modified=LAST_MODIFIED
    )
    with fetcher() as f:
        first = f.fetch_article(url)
        assert first.status == "ok" and first.data == b"<html>hi</html>"
        assert first.etag == '"v1"' and first.last_modified == LAST_MODIFIED
        assert first.final_url == url
        second = f.fetch_article(url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == "not_modified" and second.data is None and second.etag == '"v1"'
    last = list(fakex.requests_for("/news/a.html"))[-1]
    assert last.headers["if-none-match"] == '"v1"'


def test_not_modified_by_date(fakex: FakeX) -> None:
    url = fakex.add_page("/b.html", "b", last_modified=LAST_MODIFIED)
    with fetcher() as f:
        assert f.fetch_article(url, last_modified=LAST_MODIFIED).status == "not_modified"
        assert f.fetch_article(url, last_modified="Tue, 30 Apr 2024 10:00:00 GMT").status == "ok"


def test_redirect_followed_and_final_url(fakex: FakeX) -> None:
    target = fakex.add_page("/new.html", "moved")
    fakex.add_redirect("/old.html", "/new.html", status=301)
    with fetcher() as f:
        result = f.fetch_article(fakex.base_url + "/old.html")
    assert result.status == "ok" and result.final_url == target


def test_byte_cap(fakex: FakeX) -> None:
    url = fakex.add_page("/huge.html", "x" * 5000)
    with fetcher(max_article_bytes=1000) as f:
        result = f.fetch_article(url)
    assert result.status == "error" and result.error and "max_article_bytes" in result.error
    assert fakex.count("/huge.html") == 1


def test_retries_5xx_and_gives_up_on_404(fakex: FakeX) -> None:
    url = fakex.add_page("/flaky.html", "ok now")
    fakex.add_fault(Fault(status_5xx=2), path="/flaky.html")
    with fetcher() as f:
        assert f.fetch_article(url).data == b"ok now"
        missing = f.fetch_article(fakex.base_url + "/nope.html")
    assert missing.status == "error" and missing.http_status == 404
    assert fakex.count("/nope.html") == 1


def test_fetch_xml_and_errors(fakex: FakeX) -> None:
    url = fakex.add_page("/sitemap.xml", "<urlset/>", "application/xml")
    with fetcher() as f:
        assert f.fetch_xml(url) == b"<urlset/>"
        with pytest.raises(ArticleFetchError):
            f.fetch_xml(fakex.base_url + "/missing.xml")
        assert f.fetch_article("file:///etc/passwd").status == "error"
