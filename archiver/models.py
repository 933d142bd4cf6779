"""Plain dataclasses that flow one way through the pipeline.

sources -> ``ArticleRef``/``Article``; detect -> ``EmbedSpan``; snapshot -> ``PostSnapshot``;
storage returns ``Post`` (the archived state) which render/rewrite turn into HTML.
No stage imports a later one; these types are the only thing they share.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

PLATFORM_X = "x"

# The enums below are StrEnums: each member is the str stored in the database and
# printed, so values read back from SQLite (plain str) compare and hash equal to them.
# The STATUS_*, SOURCE_* and FORM_* names are the members, kept for existing callers.


class PostStatus(StrEnum):
    """A post's status. ``unknown`` until the original has been checked over the network."""

    UNKNOWN = "unknown"
    LIVE = "live"
    DELETED = "deleted"
    PROTECTED = "protected"
    SUSPENDED = "suspended"
    UNAVAILABLE = "unavailable"


STATUS_UNKNOWN = PostStatus.UNKNOWN
STATUS_LIVE = PostStatus.LIVE
STATUS_DELETED = PostStatus.DELETED
STATUS_PROTECTED = PostStatus.PROTECTED
STATUS_SUSPENDED = PostStatus.SUSPENDED
STATUS_UNAVAILABLE = PostStatus.UNAVAILABLE
STATUSES = (
    STATUS_UNKNOWN,
    STATUS_LIVE,
    STATUS_DELETED,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
)
GONE_STATUSES = (STATUS_DELETED, STATUS_PROTECTED, STATUS_SUSPENDED, STATUS_UNAVAILABLE)


class SnapshotSource(StrEnum):
    """Where a snapshot's content came from (``SOURCE_RANK`` orders them)."""

    SYNDICATION = "syndication"
    WAYBACK = "wayback"
    OEMBED = "oembed"
    MARKUP = "markup"
    # Read back from our own stable embed in an article, for a post the archive does
    # not hold (the database was lost or replaced): never a new version of a post.
    ARCHIVED_COPY = "archived-copy"
    # Bluesky's AppView (app.bsky.feed.getPosts): the platform's own API, like syndication.
    APPVIEW = "appview"
    # A platform's own API (Mastodon's /api/v1/statuses).
    API = "api"


# Where a snapshot's content came from, best first: a richer source is never
# replaced in ``posts`` by a poorer one (see archiver.decide.plan_snapshot).
SOURCE_SYNDICATION = SnapshotSource.SYNDICATION
SOURCE_WAYBACK = SnapshotSource.WAYBACK
SOURCE_OEMBED = SnapshotSource.OEMBED
SOURCE_MARKUP = SnapshotSource.MARKUP
SOURCE_ARCHIVED_COPY = SnapshotSource.ARCHIVED_COPY
SOURCE_RANK: dict[str, int] = {
    SOURCE_ARCHIVED_COPY: 0,
    SOURCE_MARKUP: 0,
    SOURCE_OEMBED: 1,
    SOURCE_WAYBACK: 2,
    SOURCE_SYNDICATION: 3,
    SnapshotSource.APPVIEW: 3,
    SnapshotSource.API: 3,
}


class EmbedForm(StrEnum):
    """The markup an embed was found in, as recorded in ``embeds.form``."""

    BLOCKQUOTE = "blockquote"
    AMP = "amp-twitter"
    IFRAME = "iframe"
    WP_BLOCK = "wp-block"
    ARCHIVED = "archived"  # our own stable embed, found again on a later scan
    # Static-site generator forms (archiver.detect_ssg).
    SHORTCODE = "hugo-shortcode"
    LIQUID = "liquid-tag"
    FASTPAGES = "fastpages"
    COMPONENT = "component"
    BARE_URL = "bare-url"
    TWITTERWIDGET = "twitterwidget"
    RENDERED_DIV = "rendered-div"


FORM_BLOCKQUOTE = EmbedForm.BLOCKQUOTE
FORM_AMP = EmbedForm.AMP
FORM_IFRAME = EmbedForm.IFRAME
FORM_WP_BLOCK = EmbedForm.WP_BLOCK
FORM_ARCHIVED = EmbedForm.ARCHIVED


class RunOutcome(StrEnum):
    """How a run ended, as recorded in ``runs.outcome``."""

    RUNNING = "running"  # not ended (yet, or the process died: see mark_stale_runs)
    OK = "ok"
    ERRORS = "errors"  # finished, some articles or posts failed
    FAILED = "failed"  # stopped by an exception
    INTERRUPTED = "interrupted"  # stopped by a signal, work kept


# Post ids are decimal numbers (X snowflakes are below 2**63: 19 digits). The
# detector accepts up to 20 ASCII digits in a status URL; the same rule holds here.
MAX_POST_ID_DIGITS = 20


def is_post_id(value: object) -> bool:
    """Whether ``value`` is a well-formed post id: 1-20 ASCII digits, nothing else.

    Ids name files (``embeds/x/ID.html``) and database keys, so an id from the
    network or from a database is checked with this before it is used.
    """
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_POST_ID_DIGITS
        and value.isascii()
        and value.isdigit()
    )


def post_key(platform: str, post_id: str) -> str:
    """The primary key of a post in the archive, e.g. ``x:1641086480675225601``."""
    return f"{platform}:{post_id}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ArticleRef:
    """An article a source yields: where it lives and where its rewritten copy goes."""

    location: str  # identity in the ``articles`` table: a path relative to the source, or a URL
    source: str  # the source's name, from the config
    path: str | None = None  # absolute file path for local articles
    url: str | None = None  # for articles fetched over HTTP
    output_relpath: str = ""  # relative path of the rewritten copy under output.dir
    size: int | None = None
    mtime_ns: int | None = None
    # For remote articles: the sitemap's <lastmod> or the feed's <updated>,
    # ISO 8601. An article not updated since its last scan is skipped unread.
    updated: str | None = None


@dataclass
class Article:
    """An article's bytes, as read, with the encoding they are in."""

    ref: ArticleRef
    data: bytes
    encoding: str
    # HTTP validators of a fetched article, for the next conditional GET.
    etag: str | None = None
    last_modified: str | None = None
    # The sha256 of ``data`` when whoever read it hashed it already (a scan worker).
    sha256: str | None = field(default=None, repr=False)

    @cached_property
    def content_hash(self) -> str:
        """sha256 of ``data``, computed once: a pass asks for it up to three times per
        article (skip check, its row, its output when the copy is byte for byte)."""
        return self.sha256 if self.sha256 is not None else sha256_hex(self.data)


@dataclass(frozen=True)
class EmbedSpan:
    """One embedded post found in an article.

    ``start``/``end`` are byte offsets into the article's bytes: ``data[start:end]`` is
    the whole embed (for a widget blockquote, including the widgets.js script after it).
    """

    start: int
    end: int
    form: str
    post_id: str
    platform: str = PLATFORM_X
    handle: str | None = None
    url: str | None = None  # the status URL as written in the markup, if any
    # For our own archived forms: how they were written ("hugo", "mdx"; None for the
    # HTML card), so a rerun writes the same kind again.
    flavor: str | None = None
    # A form of a platform that is only reported (Threads, Instagram, TikTok,
    # Facebook): listed, never archived or rewritten; its post_id is the URL.
    reported: bool = False

    @property
    def key(self) -> str:
        return post_key(self.platform, self.post_id)


@dataclass
class MediaItem:
    """A photo, GIF or video attached to a post."""

    kind: str  # photo | video | animated_gif | avatar
    url: str  # original URL of the file we download (photo, or the chosen mp4)
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    poster_url: str | None = None  # videos and GIFs: the still image
    content_type: str | None = None
    # Filled in once downloaded into the content-addressed store:
    local_path: str | None = None  # relative to the media directory, e.g. ``ab12….jpg``
    poster_local_path: str | None = None
    sha256: str | None = None
    bytes: int | None = None


@dataclass
class PostSnapshot:
    """One captured version of a post, from markup or from a network source."""

    post_id: str
    platform: str = PLATFORM_X
    url: str = ""
    author_handle: str | None = None
    author_name: str | None = None
    text: str | None = None  # plain text, line breaks kept
    html: str | None = None  # sanitized HTML: only <a href=http(s)>, <br>
    lang: str | None = None
    dir: str | None = None
    created_at: str | None = None  # ISO 8601 UTC with milliseconds and Z
    date_text: str | None = None  # the date as shown in the markup
    status: str = STATUS_UNKNOWN
    source: str = SOURCE_MARKUP
    source_url: str | None = None
    http_status: int | None = None
    fetched_at: str | None = None  # when the source produced it (for wayback: capture time)
    raw: str = ""  # the embed markup or response body, verbatim
    # Richer data from network sources:
    author_id: str | None = None
    author_avatar_url: str | None = None
    author_verified: str | None = None  # e.g. "blue", "business", "government"
    possibly_sensitive: bool | None = None
    reply_count: int | None = None
    like_count: int | None = None
    truncated: bool = False  # long post: text is only a preview
    quoted_post_id: str | None = None
    reply_to_post_id: str | None = None
    edit_ids: list[str] = field(default_factory=list)  # the edit chain, original first
    card: dict[str, Any] | None = None  # link card or poll, normalised
    media: list[MediaItem] = field(default_factory=list)
    notice: str | None = None  # e.g. tombstone text
    # Posts captured along with this one (quoted post, post replied to).
    related: list[PostSnapshot] = field(default_factory=list)

    @property
    def key(self) -> str:
        return post_key(self.platform, self.post_id)


@dataclass
class Post:
    """A post as archived: the current best snapshot plus its status."""

    key: str
    platform: str
    post_id: str
    url: str
    author_handle: str | None
    author_name: str | None
    text: str | None
    html: str | None
    lang: str | None
    created_at: str | None
    status: str
    source: str
    first_seen_at: str
    archived_at: str
    local_path: str | None = None
    dir: str | None = None
    date_text: str | None = None
    author_avatar: str | None = None  # local media path of the avatar
    author_verified: str | None = None
    truncated: bool = False
    card: dict[str, Any] | None = None
    notice: str | None = None
    status_changed_at: str | None = None
    next_check_at: str | None = None
    last_checked_at: str | None = None
    media: list[MediaItem] = field(default_factory=list)
    quoted: Post | None = None
    reply_to: Post | None = None
    quoted_key: str | None = None  # key of the quoted post, e.g. ``x:123``
    reply_to_key: str | None = None
    like_count: int | None = None
    reply_count: int | None = None


@dataclass
class ArticleError:
    location: str
    reason: str


@dataclass
class RunReport:
    """What one pass did; ``run --json`` prints this."""

    articles_scanned: int = 0
    articles_skipped: int = 0
    embeds_found: int = 0
    posts_new: int = 0
    posts_updated: int = 0
    posts_fetched: int = 0
    fetch_failures: int = 0
    articles_rewritten: int = 0
    articles_unchanged: int = 0
    articles_removed: int = 0
    errors: list[ArticleError] = field(default_factory=list)
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles_scanned": self.articles_scanned,
            "articles_skipped": self.articles_skipped,
            "embeds_found": self.embeds_found,
            "posts_new": self.posts_new,
            "posts_updated": self.posts_updated,
            "posts_fetched": self.posts_fetched,
            "fetch_failures": self.fetch_failures,
            "articles_rewritten": self.articles_rewritten,
            "articles_unchanged": self.articles_unchanged,
            "articles_removed": self.articles_removed,
            "errors": [{"article": e.location, "reason": e.reason} for e in self.errors],
            "duration_s": round(self.duration_s, 3),
        }
