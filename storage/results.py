"""What the read queries return: small dataclasses, apart from the SQL that fills them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from archiver.models import Post

# Snippet markers used internally; callers choose what they become.
MARK_START = "\x02"
MARK_END = "\x03"


@dataclass
class SnapshotInfo:
    """One captured version of a post: when, from where, and what it said."""

    id: int
    captured_at: str
    source: str
    status: str
    source_url: str | None
    http_status: int | None
    fetched_at: str | None
    author_handle: str | None
    author_name: str | None
    text: str | None
    created_at: str | None
    content_hash: str


@dataclass
class EmbedLink:
    """An article that embeds a post, and where in it."""

    article_id: int
    location: str
    url: str | None
    path: str | None
    output_path: str | None
    ordinal: int
    form: str
    found_at: str | None
    removed_at: str | None


@dataclass
class PostDetail(Post):
    """A post with its whole history: every snapshot and every article embedding it."""

    snapshots: list[SnapshotInfo] = field(default_factory=list)
    articles: list[EmbedLink] = field(default_factory=list)

    @classmethod
    def from_post(
        cls, post: Post, snapshots: list[SnapshotInfo], articles: list[EmbedLink]
    ) -> PostDetail:
        values = {f.name: getattr(post, f.name) for f in fields(Post)}
        return cls(**values, snapshots=snapshots, articles=articles)


@dataclass
class ArticleSummary:
    """An article and how many of its embeds point at posts in each status."""

    id: int
    location: str
    source: str | None
    url: str | None
    path: str | None
    output_path: str | None
    encoding: str | None
    embed_count: int
    last_scanned_at: str | None
    last_rewritten_at: str | None
    removed_at: str | None
    error: str | None
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class ArticleEmbed:
    """One embed of an article, with the archived state of its post."""

    ordinal: int
    form: str
    post_key: str
    status: str | None
    author_handle: str | None
    created_at: str | None
    text: str | None
    local_path: str | None
    found_at: str | None
    original: str


@dataclass
class ReportedEmbed:
    """One embed of a reported-only platform in an article."""

    location: str  # the article
    platform: str  # threads, instagram, tiktok, facebook
    url: str  # the post's URL as written (http(s) only)
    form: str
    start: int  # byte span in the article as scanned
    end: int
    found_at: str | None


@dataclass
class ArticleDetail:
    article: ArticleSummary
    embeds: list[ArticleEmbed]
    # Embeds of reported-only platforms (Threads, Instagram…): listed, not archived.
    reported: list[ReportedEmbed] = field(default_factory=list)


class IndexedPost(NamedTuple):
    """One post of the static index: its columns (``_INDEXED_POST``), the first of its
    live articles (location, url, output_path) in order of location, and how many live
    articles embed it in all."""

    post: dict[str, Any]
    articles: list[dict[str, Any]]
    article_count: int


@dataclass
class SearchHit:
    post: Post
    snippet: str  # with MARK_START/MARK_END around matches
    score: float  # bm25: lower is better


__all__ = [
    "MARK_END",
    "MARK_START",
    "ArticleDetail",
    "ArticleEmbed",
    "ArticleSummary",
    "EmbedLink",
    "IndexedPost",
    "PostDetail",
    "ReportedEmbed",
    "SearchHit",
    "SnapshotInfo",
]
