"""The lxml fast path of the markup scraper against the BeautifulSoup reference.

Every embed fragment of the test corpora (tests/data) and of the benchmark's generated
articles (bench/corpus.py) is snapshotted both ways: the snapshots must be identical,
field for field. Markup the fast path is unsure of must go to BeautifulSoup.
"""

from __future__ import annotations

import random
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from archiver.encoding import sniff_encoding
from archiver.models import FORM_BLOCKQUOTE, Article, ArticleRef, EmbedSpan
from archiver.pipeline import scan_article
from archiver.snapshot import markup_lxml, snapshot_from_markup

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT / "bench"))
from corpus import make_article  # noqa: E402

_CORPORA = ("corpus", "markup", "ssg")


def _fragments(location: str, data: bytes) -> list[tuple[EmbedSpan, str]]:
    """Every (span, fragment) pair the pipeline finds in one article, as it decodes them."""
    ref = ArticleRef(location=location, source="test", output_relpath=location)
    result = scan_article(Article(ref=ref, data=data, encoding=sniff_encoding(data)))
    return [(record.span, record.original) for record in result.records]


def _corpus_fragments() -> list[tuple[str, EmbedSpan, str]]:
    out = []
    for folder in _CORPORA:
        for path in sorted((DATA / folder).iterdir()):
            if path.suffix in (".html", ".md", ".mdx", ".jsx", ".htm"):
                for span, fragment in _fragments(path.name, path.read_bytes()):
                    out.append((f"{folder}/{path.name}", span, fragment))
    return out


def _bench_fragments(count: int = 60) -> list[tuple[str, EmbedSpan, str]]:
    rng = random.Random(7)
    shared = [str(rng.randrange(10**17, 2 * 10**18)) for _ in range(40)]
    out = []
    for index in range(count):
        data = make_article(index, rng, shared, target_bytes=20_000).encode("utf-8")
        for span, fragment in _fragments(f"article-{index}.html", data):
            out.append((f"bench article {index}", span, fragment))
    return out


def _both(span: EmbedSpan, fragment: str) -> tuple[dict[str, object], dict[str, object]]:
    reference = asdict(snapshot_from_markup(span, fragment, fast=False))
    fast = asdict(snapshot_from_markup(span, fragment))
    return reference, fast


def test_fast_path_matches_bs4_on_every_corpus_fragment() -> None:
    """Identical snapshots on the real corpora, and the fast path really runs on them."""
    fragments = _corpus_fragments()
    assert len(fragments) > 40
    accepted = 0
    for name, span, fragment in fragments:
        reference, fast = _both(span, fragment)
        assert fast == reference, f"{name}: post {span.post_id}"
        accepted += markup_lxml.fast_tree(fragment) is not None
    # Real-world markup is often sloppy (those go to bs4), but most fragments are plain.
    assert accepted >= len(fragments) // 2, (accepted, len(fragments))


def test_fast_path_matches_bs4_on_generated_articles() -> None:
    """The benchmark's articles: every fragment takes the fast path, with the same result."""
    fragments = _bench_fragments()
    assert len(fragments) > 100
    for name, span, fragment in fragments:
        reference, fast = _both(span, fragment)
        assert fast == reference, f"{name}: post {span.post_id}"
        if "<" in fragment:
            assert markup_lxml.fast_tree(fragment) is not None, fragment


POST = "1234567890123456789"
ATTRIBUTION = (
    f'&mdash; Desk (@desk) <a href="https://twitter.com/desk/status/{POST}">March 3, 2025</a>'
)


@pytest.mark.parametrize(
    "fragment",
    [
        # HTML5 closes the <p> at the blockquote; html.parser nests it.
        f'<p><blockquote class="twitter-tweet"><p>hi</p>{ATTRIBUTION}</blockquote></p>',
        # An unclosed <p>: libxml2 closes it before the next one.
        f'<blockquote class="twitter-tweet"><p>one<p>two {ATTRIBUTION}</blockquote>',
        # A nested link: HTML5 closes the outer one.
        f'<blockquote class="twitter-tweet"><p><a href="https://e.com/">a <a href="https://f.com/">b</a></a></p>{ATTRIBUTION}</blockquote>',
        # <div/> is empty for html.parser, open for HTML5.
        f'<blockquote class="twitter-tweet"><p>a<span/>b</p>{ATTRIBUTION}</blockquote>',
        # References the parsers decode differently: C1 code points, no semicolon.
        f'<blockquote class="twitter-tweet"><p>&#x80; &amp &notit;</p>{ATTRIBUTION}</blockquote>',
        f'<blockquote class="twitter-tweet"><p><a href="https://e.com/?a=1&copy=2">x</a></p>{ATTRIBUTION}</blockquote>',
        # Comments the tokenizers end at different places; CR line ends.
        f'<blockquote class="twitter-tweet"><p>a<!-- x --!> b --></p>{ATTRIBUTION}</blockquote>',
        f'<blockquote class="twitter-tweet"><p>a\r\nb</p>{ATTRIBUTION}</blockquote>',
        # Raw text and RCDATA: markup inside a textarea or a script.
        f'<blockquote class="twitter-tweet"><p>a<textarea><b>x</b></textarea></p>{ATTRIBUTION}</blockquote>',
        f'<blockquote class="twitter-tweet"><p>a<script>"<p>"</script>b</p>{ATTRIBUTION}</blockquote>',
        # A quoted ">" in an attribute value.
        f'<blockquote class="twitter-tweet"><p title="a>b">x</p>{ATTRIBUTION}</blockquote>',
        # Ruby text: bs4 keeps it out of get_text().
        f'<blockquote class="twitter-tweet"><p>x</p>&mdash; D (@desk) <a href="https://twitter.com/desk/status/{POST}">漢<rt>kan</rt></a></blockquote>',
        # A table: HTML5 moves text out of it (foster parenting).
        f'<blockquote class="twitter-tweet"><table>text<tr><td>x</td></tr></table><p>y</p>{ATTRIBUTION}</blockquote>',
    ],
)
def test_markup_the_fast_path_is_unsure_of_goes_to_bs4(fragment: str) -> None:
    """Refused, and the snapshot is still the BeautifulSoup one."""
    span = EmbedSpan(0, len(fragment), FORM_BLOCKQUOTE, POST)
    assert markup_lxml.fast_tree(fragment) is None
    reference, fast = _both(span, fragment)
    assert fast == reference


def test_plain_embed_takes_the_fast_path() -> None:
    fragment = (
        '<blockquote class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">Vote passed '
        '&amp; the line opens <a href="https://t.co/x">pic.twitter.com/x</a><br>next year</p>'
        f"{ATTRIBUTION}</blockquote>\n"
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
    )
    span = EmbedSpan(0, len(fragment), FORM_BLOCKQUOTE, POST)
    assert markup_lxml.fast_tree(fragment) is not None
    snap = snapshot_from_markup(span, fragment)
    assert snap.text == "Vote passed & the line opens pic.twitter.com/x\nnext year"
    assert snap.author_name == "Desk" and snap.author_handle == "desk"
    assert snap.date_text == "March 3, 2025" and snap.lang == "en"
    assert asdict(snap) == asdict(snapshot_from_markup(span, fragment, fast=False))
