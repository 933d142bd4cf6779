"""The platform seam: a platform registered from the test suite alone goes through the
whole pipeline; reported forms are found and left alone; X answers the interface."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from fakex import FakeX, config_for

from archiver import Archive, platforms
from archiver.detect import find_embeds, might_contain_embeds
from archiver.fetch import FetchContext, FetchRequest, FetchResult
from archiver.models import EmbedSpan, PostSnapshot
from archiver.platforms import PostRef, Recogniser, StartTag

# ---------------------------------------------------------------------------------------
# A toy platform, "example", written here and nowhere else

_ID = re.compile(r"[a-z0-9]{1,16}")
_EMBED_JS = re.compile(rb"\s*https://example\.test/embed\.js\s*$")


def _claims(tag: StartTag) -> bool:
    return b"example-post" in tag.classes


def _identify(tag: StartTag, element: bytes) -> PostRef | None:
    raw = tag.attrs.get(b"data-example-id", b"").decode("ascii", "replace")
    if not _ID.fullmatch(raw):
        return None
    user = tag.attrs.get(b"data-example-user", b"").decode("ascii", "replace") or None
    return PostRef(raw, user, f"https://example.test/{user or '_'}/{raw}")


@dataclass
class ExampleFetcher:
    """Answers from a dict; records the batches it was given."""

    answers: dict[str, str]
    batches: list[list[str]]
    batch_size: int = 2

    async def fetch_batch(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        self.batches.append([r.post_id for r in requests])
        results = []
        for r in requests:
            text = self.answers.get(r.post_id)
            snapshot = PostSnapshot(
                post_id=r.post_id,
                platform="example",
                url=f"https://example.test/_/{r.post_id}",
                author_handle=r.handle,
                text=text,
                html=text,
                status="live" if text is not None else "deleted",
                source="syndication",
            )
            results.append(FetchResult(r.post_id, snapshot, platform="example"))
        return results


@dataclass
class ExamplePlatform:
    answers: dict[str, str]
    batches: list[list[str]] = field(default_factory=list)
    contexts: list[FetchContext] = field(default_factory=list)
    name: str = "example"
    label: str = "Example"

    def __post_init__(self) -> None:
        self.recognisers: Sequence[Recogniser] = (
            Recogniser(
                element=b"div",
                markers=(b"example-post",),
                form="example-div",
                claims=_claims,
                identify=_identify,
                script=_EMBED_JS,
            ),
        )

    def parse_url(self, url: str) -> PostRef | None:
        m = re.fullmatch(r"https://example\.test/([a-z_]+)/([a-z0-9]{1,16})", url)
        return PostRef(m.group(2), m.group(1), url) if m else None

    def canonical_url(self, post_id: str, handle: str | None) -> str:
        return f"https://example.test/{handle or '_'}/{post_id}"

    def is_post_id(self, post_id: str) -> bool:
        return _ID.fullmatch(post_id) is not None

    def file_stem(self, post_id: str) -> str:
        return f"p-{post_id}"

    def created_at_from_id(self, post_id: str) -> str | None:
        return None

    def snapshot_from_markup(self, span: EmbedSpan, fragment: str) -> PostSnapshot | None:
        return PostSnapshot(
            post_id=span.post_id,
            platform="example",
            url=span.url or self.canonical_url(span.post_id, span.handle),
            author_handle=span.handle,
            raw=fragment,
        )

    def fetcher(self, ctx: FetchContext) -> ExampleFetcher:
        self.contexts.append(ctx)
        return ExampleFetcher(self.answers, self.batches)


@pytest.fixture
def example() -> Iterator[ExamplePlatform]:
    platform = ExamplePlatform({"abc": "Hello from abc", "def": "Hello from def"})
    platforms.register(platform)
    try:
        yield platform
    finally:
        platforms.unregister("example")


def _embed(post_id: str, user: str = "ann") -> str:
    return (
        f'<div class="example-post" data-example-id="{post_id}" data-example-user="{user}">'
        f"<p>Markup text of {post_id}</p></div>\n"
        '<script async src="https://example.test/embed.js"></script>'
    )


def _project(tmp_path: Path, fake: FakeX, body: str) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.html").write_text(
        f"<html><body><p>Intro</p>\n{body}\n<p>Outro</p></body></html>\n"
    )
    config: dict[str, Any] = {
        "database": "archive.db",
        "sources": [{"kind": "directory", "path": "articles"}],
        "output": {"dir": "out"},
        "recheck": ["0s"],
    }
    config.update(config_for(fake))  # X's endpoints on 127.0.0.1, should anything ask X
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def test_a_platform_registered_by_a_test_is_archived_rewritten_and_paged(
    tmp_path: Path, fakex: FakeX, example: ExamplePlatform
) -> None:
    body = "\n".join([_embed("abc"), "<p>between</p>", _embed("def", "bob"), _embed("ghi")])
    config = _project(tmp_path, fakex, body)
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == []

    db = tmp_path / "archive.db"
    posts = dict(_rows(db, "SELECT key, status FROM posts ORDER BY key"))
    assert posts == {"example:abc": "live", "example:def": "live", "example:ghi": "deleted"}
    texts = dict(_rows(db, "SELECT key, text FROM posts WHERE text IS NOT NULL"))
    assert texts == {"example:abc": "Hello from abc", "example:def": "Hello from def"}
    # Batched as the platform asked (2), all three posts in one window.
    assert sorted(len(b) for b in example.batches) == [1, 2]
    assert sorted(p for b in example.batches for p in b) == ["abc", "def", "ghi"]
    assert fakex.requests == []  # nothing went to X
    # The fetcher was handed the run's shared pieces, the loaded config among them.
    (ctx,) = example.contexts
    assert ctx.config is not None and ctx.config.http is ctx.http

    out = (tmp_path / "out" / "a.html").read_text()
    assert "example-post" not in out and "example.test/embed.js" not in out
    for key in ("example:abc", "example:def", "example:ghi"):
        assert f'data-archived-post="{key}"' in out
    assert "<p>Intro</p>" in out and "<p>between</p>" in out and "<p>Outro</p>" in out
    page = tmp_path / "out" / "embeds" / "example" / "p-abc.html"
    assert page.is_file() and "Hello from abc" in page.read_text()
    assert "embeds/example/p-abc.html" in out

    # A later scan of the rewritten article finds our own archived cards again.
    found = [(e.platform, e.post_id, e.form) for e in find_embeds(out.encode())]
    assert found == [("example", i, "archived") for i in ("abc", "def", "ghi")]
    embeds = _rows(db, "SELECT post_key, form FROM embeds ORDER BY ordinal")
    assert embeds == [(f"example:{i}", "example-div") for i in ("abc", "def", "ghi")]


def test_without_its_registration_the_same_markup_is_plain_html(tmp_path: Path) -> None:
    data = _embed("abc").encode()
    assert find_embeds(data) == []
    assert not might_contain_embeds(data)


def test_the_toy_form_is_found_with_its_script(example: ExamplePlatform) -> None:
    data = b"<p>x</p>" + _embed("abc").encode() + b"<div class=other></div>"
    assert might_contain_embeds(data)
    (span,) = find_embeds(data)
    assert (span.platform, span.post_id, span.handle, span.form) == (
        "example",
        "abc",
        "ann",
        "example-div",
    )
    assert data[span.start : span.end].endswith(b"</script>")
    assert data[span.start : span.start + 5] == b"<div "


# ---------------------------------------------------------------------------------------
# Reported forms: found, never rewritten

INSTAGRAM = (
    '<blockquote class="instagram-media" data-instgrm-permalink='
    '"https://www.instagram.com/p/C1abc/?utm_source=ig_embed&amp;utm_campaign=loading" '
    'data-instgrm-version="14"><div><a href="https://www.instagram.com/p/C1abc/">View</a>'
    '</div></blockquote>\n<script async src="//www.instagram.com/embed.js"></script>'
)
THREADS = (
    '<blockquote class="text-post-media" data-text-post-permalink='
    '"https://www.threads.net/@someone/post/C9xyz" data-text-post-version="0">'
    '<a href="https://www.threads.net/@someone/post/C9xyz">Post by @someone</a></blockquote>'
    '<script async src="https://www.threads.net/embed.js"></script>'
)
TIKTOK = (
    '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@user/video/7311111111111111111"'
    ' data-video-id="7311111111111111111"><section>caption</section></blockquote>'
    ' <script async src="https://www.tiktok.com/embed.js"></script>'
)
FB_DIV = '<div class="fb-post" data-href="https://www.facebook.com/page/posts/123" data-width="500"></div>'
FB_IFRAME = (
    '<iframe src="https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com'
    '%2Fpage%2Fposts%2F456&amp;show_text=true" width="500"></iframe>'
)
X_EMBED = (
    '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">An X post</p>&mdash; Sam (@sam) '
    '<a href="https://twitter.com/sam/status/1641086480675225601">March 29, 2023</a></blockquote>'
)


def test_reported_forms_are_found_with_their_urls() -> None:
    data = "\n".join([INSTAGRAM, THREADS, TIKTOK, FB_DIV, FB_IFRAME, X_EMBED]).encode()
    spans = find_embeds(data, reported=True)
    found = [(s.platform, s.url, s.reported) for s in spans]
    assert found == [
        (
            "instagram",
            "https://www.instagram.com/p/C1abc/?utm_source=ig_embed&utm_campaign=loading",
            True,
        ),
        ("threads", "https://www.threads.net/@someone/post/C9xyz", True),
        ("tiktok", "https://www.tiktok.com/@user/video/7311111111111111111", True),
        ("facebook", "https://www.facebook.com/page/posts/123", True),
        ("facebook", "https://www.facebook.com/page/posts/456", True),
        ("x", "https://twitter.com/sam/status/1641086480675225601", False),
    ]
    # Each span covers the whole embed, its loader script included.
    assert data[spans[0].start : spans[0].end].decode() == INSTAGRAM
    assert data[spans[1].start : spans[1].end].decode() == THREADS
    assert data[spans[2].start : spans[2].end].decode() == TIKTOK
    # Not asked for: only the X post, and the prefilter ignores their markers.
    assert [s.platform for s in find_embeds(data)] == ["x"]
    only_reported = "\n".join([INSTAGRAM, FB_DIV]).encode()
    assert might_contain_embeds(only_reported, reported=True)
    assert not might_contain_embeds(only_reported)


def test_reported_forms_refuse_non_http_urls() -> None:
    data = b'<div class="fb-post" data-href="javascript:alert(1)"></div>'
    assert find_embeds(data, reported=True) == []


def test_rewriting_leaves_reported_embeds_byte_for_byte(tmp_path: Path, fakex: FakeX) -> None:
    reported = [INSTAGRAM, THREADS, TIKTOK, FB_DIV, FB_IFRAME]
    config = _project(tmp_path, fakex, "\n".join([*reported, X_EMBED]))
    with Archive.from_config(config) as archive:
        report = archive.run()
    assert report.errors == []
    out = (tmp_path / "out" / "a.html").read_text()
    assert 'data-archived-post="x:1641086480675225601"' in out  # the X post was rewritten
    for embed in reported:
        assert embed in out
    keys = [k for (k,) in _rows(tmp_path / "archive.db", "SELECT key FROM posts")]
    assert keys == ["x:1641086480675225601"]


# ---------------------------------------------------------------------------------------
# X through the interface


def test_x_answers_the_interface() -> None:
    x = platforms.get("x")
    assert x.label == "X"
    ref = x.parse_url("https://mobile.twitter.com/Jack/status/20?s=1")
    assert ref == PostRef("20", "Jack", "https://x.com/Jack/status/20")
    assert x.parse_url("https://x.com/i/status/20") == PostRef(
        "20", None, "https://x.com/i/status/20"
    )
    assert x.parse_url("https://x.com/jack") is None
    assert x.is_post_id("20") and not x.is_post_id("2O") and not x.is_post_id("１２")
    assert x.file_stem("1641086480675225601") == "1641086480675225601"
    with pytest.raises(ValueError):
        x.file_stem("../index")
    assert x.created_at_from_id("2023357708301455483") == "2026-02-16T11:24:04.484Z"
    assert platforms.safe_stem("a.b-c_1") == "a.b-c_1"
    for bad in ("", ".hidden", "../x", "a/b", "x" * 121):
        assert platforms.safe_stem(bad) is None
    with pytest.raises(platforms.UnknownPlatform):
        platforms.get("myspace")


def test_x_recognisers_identify_a_single_element_as_the_lexer_does() -> None:
    data = X_EMBED.encode()
    (span,) = find_embeds(data)
    (blockquote,) = [r for r in platforms.get("x").recognisers if r.element == b"blockquote"]
    tag = StartTag(b"blockquote", {b"class": b"twitter-tweet"}, frozenset({b"twitter-tweet"}))
    assert blockquote.claims(tag)
    ref = blockquote.identify(tag, data)
    assert ref is not None and (ref.post_id, ref.handle, ref.url) == (
        span.post_id,
        span.handle,
        span.url,
    )


@pytest.mark.slow
def test_nested_claimed_elements_naming_no_post_stay_linear() -> None:
    """A claimed element that names no post is skipped whole: each byte is identified
    once, so 20,000 nested ``div.fb-post`` without a URL cost about what 2,000 do × 10."""
    import time

    def scan(depth: int) -> float:
        data = b'<div class="fb-post">' * depth + b"x" + b"</div>" * depth
        started = time.perf_counter()
        assert find_embeds(data, reported=True) == []
        return time.perf_counter() - started

    scan(200)  # warm the lexer cache
    small, large = scan(2_000), scan(20_000)
    # Linear: ~10x (measured 11x; 40x before the whole-element skip).
    assert large < max(small, 0.002) * 25
