"""Host policy for fetched articles: sitemaps, feeds and redirects stay on the source's
hosts, and never reach internal addresses that were not configured literally.

The site is FakeX on 127.0.0.1:PORT, configured by that literal address, so it is
allowed. ``localhost:PORT`` and this machine's own host name reach the very same
server through other names: a request that got through would show up in FakeX's
log, which is how these tests see that nothing was fetched.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from archive_helpers import page, tweet
from fakex import FakeX

from archiver import Archive
from archiver.config import HttpConfig
from archiver.fetch.articles import ArticleFetcher
from archiver.fetch.policy import HostPolicy, host_entry, is_internal

POST_A = "1641086480675225601"
POST_B = "1875083037872181254"
SM_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def article(title: str, post_id: str) -> str:
    return page(title, tweet(post_id, "newsdesk", "News Desk", f"post {post_id} in {title}"))


def urlset(*locs: str) -> str:
    items = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset {SM_NS}>{items}</urlset>'


def write_config(tmp_path: Path, sources: list[dict[str, object]]) -> Path:
    config = {
        "database": "archive.db",
        "sources": sources,
        "output": {"dir": "out"},
        "x": {"fetch": False},
        "http": {"timeout": 2, "retries": 0, "per_host_rate": 10000},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run(config: Path) -> dict[str, object]:
    with Archive.from_config(config) as archive:
        return archive.run().as_dict()


def locations(config: Path) -> set[str]:
    with Archive.from_config(config) as archive:
        return {row["location"] for row in archive.store.db.query("SELECT location FROM articles")}


def published(tmp_path: Path) -> str:
    """Everything written under the output folder, as one string."""
    out = tmp_path / "out"
    return "".join(p.read_text("utf-8", "replace") for p in out.rglob("*") if p.is_file())


def private_hostname() -> str:
    """A host name other than ``localhost`` that resolves to a loopback address."""
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    except OSError:
        addresses = set()
    if name.lower() == "localhost" or not addresses or not all(map(is_internal, addresses)):
        pytest.skip("this machine's host name does not resolve to an internal address")
    return name


def test_sitemap_entries_on_other_hosts_are_not_fetched(tmp_path: Path, fakex: FakeX) -> None:
    base, port = fakex.base_url, fakex.port
    fakex.add_page("/news/ok", article("Ok", POST_A))
    fakex.add_page("/internal/secret", "<html>SECRET internal page</html>")
    fakex.add_page(
        "/sitemap.xml",
        urlset(
            f"{base}/news/ok",
            f"http://localhost:{port}/internal/secret",
            "http://10.0.0.1/internal/secret",
            "http://169.254.169.254/latest/meta-data/",
            f"http://[::1]:{port}/internal/secret",
            "https://elsewhere.example/story",
        ),
        "application/xml",
    )
    config = write_config(
        tmp_path, [{"kind": "sitemap", "name": "site", "url": f"{base}/sitemap.xml"}]
    )

    report = run(config)

    assert report["errors"] == []
    assert locations(config) == {f"{base}/news/ok"}
    assert fakex.count("/internal/secret") == 0
    assert "SECRET" not in published(tmp_path)


def test_feed_entries_on_other_hosts_are_not_fetched(tmp_path: Path, fakex: FakeX) -> None:
    base, port = fakex.base_url, fakex.port
    fakex.add_page("/news/ok", article("Ok", POST_A))
    fakex.add_page("/internal/secret", "<html>SECRET internal page</html>")
    items = "".join(
        f"<item><link>{link}</link></item>"
        for link in (f"{base}/news/ok", f"http://localhost:{port}/internal/secret")
    )
    fakex.add_page("/feed.xml", f"<rss><channel>{items}</channel></rss>", "application/rss+xml")
    config = write_config(tmp_path, [{"kind": "feed", "name": "feed", "url": f"{base}/feed.xml"}])

    report = run(config)

    assert report["errors"] == []
    assert locations(config) == {f"{base}/news/ok"}
    assert fakex.count("/internal/secret") == 0


def test_child_sitemap_on_another_host_is_not_fetched(tmp_path: Path, fakex: FakeX) -> None:
    base, port = fakex.base_url, fakex.port
    fakex.add_page("/news/ok", article("Ok", POST_A))
    fakex.add_page("/child.xml", urlset(f"{base}/news/ok"), "application/xml")
    fakex.add_page("/internal/child.xml", urlset(f"{base}/news/ok"), "application/xml")
    index = (
        f'<?xml version="1.0"?><sitemapindex {SM_NS}>'
        f"<sitemap><loc>{base}/child.xml</loc></sitemap>"
        f"<sitemap><loc>http://localhost:{port}/internal/child.xml</loc></sitemap>"
        "</sitemapindex>"
    )
    fakex.add_page("/sitemap.xml", index, "application/xml")
    config = write_config(
        tmp_path, [{"kind": "sitemap", "name": "site", "url": f"{base}/sitemap.xml"}]
    )

    assert run(config)["errors"] == []
    assert locations(config) == {f"{base}/news/ok"}
    assert fakex.count("/internal/child.xml") == 0


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/internal/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/internal/secret",
        "https://elsewhere.example/story",
        "file:///etc/passwd",
    ],
)
def test_article_redirect_off_the_source_host_is_refused(
    tmp_path: Path, fakex: FakeX, target: str
) -> None:
    base = fakex.base_url
    fakex.add_page("/internal/secret", "<html>SECRET internal page</html>")
    fakex.add_redirect("/news/moved", target.format(port=fakex.port), status=302)
    config = write_config(
        tmp_path, [{"kind": "urls", "name": "list", "urls": [f"{base}/news/moved"]}]
    )

    report = run(config)

    errors = report["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    assert errors[0]["article"] == f"{base}/news/moved"
    assert "not allowed" in errors[0]["reason"] or "refused" in errors[0]["reason"]
    assert fakex.count("/internal/secret") == 0
    assert "SECRET" not in published(tmp_path)


def test_redirect_within_the_source_host_is_followed(tmp_path: Path, fakex: FakeX) -> None:
    base = fakex.base_url
    fakex.add_page("/news/new", article("New", POST_B))
    fakex.add_redirect("/news/old", f"{base}/news/new", status=301)
    fakex.add_page("/sitemap.xml", urlset(f"{base}/news/old"), "application/xml")
    config = write_config(
        tmp_path, [{"kind": "sitemap", "name": "site", "url": f"{base}/sitemap.xml"}]
    )

    assert run(config)["errors"] == []
    with Archive.from_config(config) as archive:
        assert set(archive.post_keys()) == {f"x:{POST_B}"}


def test_allowed_hosts_extend_the_source(tmp_path: Path, fakex: FakeX) -> None:
    base, port = fakex.base_url, fakex.port
    fakex.add_page("/news/ok", article("Ok", POST_A))
    fakex.add_page("/mirror/story", article("Mirror", POST_B))
    fakex.add_page(
        "/sitemap.xml",
        urlset(f"{base}/news/ok", f"http://localhost:{port}/mirror/story"),
        "application/xml",
    )
    source = {
        "kind": "sitemap",
        "name": "site",
        "url": f"{base}/sitemap.xml",
        "allowed_hosts": [f"localhost:{port}"],
    }
    config = write_config(tmp_path, [source])

    assert run(config)["errors"] == []
    assert locations(config) == {f"{base}/news/ok", f"http://localhost:{port}/mirror/story"}
    assert fakex.count("/mirror/story") == 1


def test_host_name_resolving_to_internal_address_is_refused(tmp_path: Path, fakex: FakeX) -> None:
    name = private_hostname()
    port = fakex.port
    fakex.add_page("/internal/secret", "<html>SECRET internal page</html>")
    fakex.add_page(
        "/sitemap.xml", urlset(f"http://{name}:{port}/internal/secret"), "application/xml"
    )
    # The name is even allowed explicitly: it is its *address* that is refused.
    sources: list[dict[str, object]] = [
        {
            "kind": "sitemap",
            "name": "site",
            "url": f"{fakex.base_url}/sitemap.xml",
            "allowed_hosts": [f"{name}:{port}"],
        },
        {"kind": "urls", "name": "list", "urls": [f"http://{name}:{port}/internal/secret"]},
    ]
    config = write_config(tmp_path, sources)

    report = run(config)

    errors = report["errors"]
    assert isinstance(errors, list) and len(errors) == 2  # the article in each source
    assert all("resolves to internal address" in error["reason"] for error in errors)
    assert fakex.count("/internal/secret") == 0
    assert "SECRET" not in published(tmp_path)


def test_fetcher_default_policy_is_the_urls_own_host(fakex: FakeX) -> None:
    fakex.add_page("/internal/secret", "SECRET")
    fakex.add_redirect("/hop", f"http://localhost:{fakex.port}/internal/secret")
    http = HttpConfig(timeout=2, retries=0, per_host_rate=10_000)
    with ArticleFetcher(http) as fetcher:
        refused = fetcher.fetch_article(f"{fakex.base_url}/hop")
        allowed = fetcher.fetch_article(
            f"{fakex.base_url}/hop",
            policy=HostPolicy.for_urls([fakex.base_url], [f"localhost:{fakex.port}"]),
        )
    assert refused.status == "error" and "not allowed" in (refused.error or "")
    assert allowed.status == "ok" and allowed.data == b"SECRET"


def test_host_entries_and_internal_addresses() -> None:
    assert host_entry("https://News.Example/a") == "news.example"
    assert host_entry("https://news.example:443/a") == "news.example"
    assert host_entry("http://127.0.0.1:8080/a") == "127.0.0.1:8080"
    assert host_entry("http://[::1]:8080/a") == "[::1]:8080"
    assert host_entry("ftp://news.example/") is None
    policy = HostPolicy.for_urls(["https://news.example/sitemap.xml"])
    assert policy.allows("http://news.example/story")  # same site, either scheme
    assert not policy.allows("https://news.example:8443/story")
    assert not policy.allows("https://www.news.example/story")
    for address in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ):
        assert is_internal(address), address
    for address in ("93.184.216.34", "2606:4700::1111"):
        assert not is_internal(address), address


def test_a_sitemap_article_whose_output_folder_is_a_symlink_out_is_refused(
    tmp_path: Path, fakex: FakeX
) -> None:
    """The listing takes an article's output path as its URL names it (no resolve() per
    URL); the copy is still never written through a symlink out of the output folder:
    that article fails with a clear error, the others are archived."""
    base, port = fakex.base_url, fakex.port
    fakex.add_page("/news/story", article("Story", POST_A))
    fakex.add_page("/other/ok", article("Ok", POST_B))
    fakex.add_page("/sitemap.xml", urlset(f"{base}/news/story", f"{base}/other/ok"))
    config = write_config(
        tmp_path, [{"kind": "sitemap", "name": "site", "url": f"{base}/sitemap.xml"}]
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    host = tmp_path / "out" / f"127.0.0.1_{port}"
    host.mkdir(parents=True)
    (host / "news").symlink_to(outside)

    report = run(config)

    errors = report["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    assert errors[0]["article"] == f"{base}/news/story"
    assert "refusing to write outside" in errors[0]["reason"]
    assert list(outside.iterdir()) == []
    assert (host / "other" / "ok.html").is_file()
