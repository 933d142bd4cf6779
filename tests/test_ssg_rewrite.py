"""Rewriting SSG forms (issue 11), without any generator installed: byte identity outside
the spans, the wrapper each generator needs, idempotent reruns and byte-exact restore."""

from __future__ import annotations

import json
import re
from pathlib import Path

from archive_helpers import build_archive
from click.testing import CliRunner

from archiver import Archive
from archiver.cli import cli
from archiver.detect import find_embeds
from archiver.detect_ssg import SsgOptions, options_for

DATA = Path(__file__).parent / "data" / "ssg"
FIXTURES = sorted(p.name for p in DATA.iterdir() if p.name != "SOURCES.md")
EXTRA = (
    "scan:\n  tweet_shortcodes: [stweet]\n  tweet_components: [Tweet, STweet]\n"
    "sources:\n  - kind: directory\n    path: articles\n    bare_urls: true\n"
    '    include: ["**/*.md", "**/*.mdx", "**/*.html"]\n'
)


def project(tmp_path: Path, in_place: bool = False) -> Path:
    articles: dict[str, str | bytes] = {name: (DATA / name).read_bytes() for name in FIXTURES}
    config = build_archive(tmp_path, articles, in_place=in_place)
    # build_archive's default source reads only .html: widen it, then run again.
    text = config.read_text().replace("sources:\n  - kind: directory\n    path: articles\n", "")
    config.write_text(text + EXTRA)
    with Archive.from_config(config) as archive:
        assert archive.run().errors == []
    return config


def outside_spans_unchanged(source: bytes, output: bytes, pattern: bytes) -> None:
    """Replacing each card wrapper in ``output`` back by its span gives ``source``."""
    pieces = re.split(pattern, output)
    assert len(pieces) > 1
    rest = source
    for piece in pieces:
        i = rest.find(piece)
        assert i >= 0, piece[:80]
        rest = rest[i + len(piece) :]


def test_each_generator_gets_its_wrapper_and_bytes_outside_stay(tmp_path: Path) -> None:
    config = project(tmp_path)
    out = config.parent / "out"
    hugo = (out / "hugo-shortcodes.md").read_bytes()
    assert hugo.count(b'{{< archived-post key="x:') == 6
    assert hugo.count(b"{{< /archived-post >}}") == 6
    assert b"{< tweet user=" in hugo and b"{{</* x user=" in hugo  # left alone
    outside_spans_unchanged(
        (DATA / "hugo-shortcodes.md").read_bytes(),
        hugo,
        rb"\{\{< archived-post .*?\{\{< /archived-post >\}\}",
    )
    mdx = (out / "components.mdx").read_bytes()
    assert mdx.count(b"dangerouslySetInnerHTML={{__html: ") == 3
    assert b"<STweet" not in mdx and b'<Tweet id="1511750228428435459" />' in mdx  # code stays
    # Every form became an archived card: detected again, only our own embeds are left.
    counts = {"jekyll-liquid.md": 5, "devto.md": 4, "bare-urls.md": 2, "rendered-widgets.html": 2}
    for name, count in counts.items():
        page = (out / name).read_bytes()
        options = options_for(name, SsgOptions(bare_urls=True))
        spans = find_embeds(page, name.endswith(".md"), ssg=options)
        assert [s.form for s in spans] == ["archived"] * count, name
        assert b"platform.twitter.com" not in page
    # Outside a Hugo site the run writes no template anywhere.
    assert not list(config.parent.rglob("archived-post.html"))


def test_rerun_changes_nothing_and_restore_gives_every_fixture_back(tmp_path: Path) -> None:
    config = project(tmp_path, in_place=True)
    articles = config.parent / "articles"
    rewritten = {name: (articles / name).read_bytes() for name in FIXTURES}
    assert all(rewritten[name] != (DATA / name).read_bytes() for name in FIXTURES)
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == [] and report.articles_rewritten == 0
    assert {name: (articles / name).read_bytes() for name in FIXTURES} == rewritten

    result = CliRunner().invoke(cli, ["--config", str(config), "restore", "--json"])
    assert result.exit_code == 0, result.output
    report_rows = json.loads(result.output)
    assert all(r["error"] is None and r["missing"] == 0 for r in report_rows)
    assert sum(r["restored"] for r in report_rows) == 6 + 5 + 4 + 3 + 2 + 2
    for name in FIXTURES:
        assert (articles / name).read_bytes() == (DATA / name).read_bytes(), name
