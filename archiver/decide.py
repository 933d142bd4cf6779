"""The archive's policy, as pure functions: what is new, what wins, what is due.

Nothing here reads a file, the database, the network or the clock: every fact comes in
as a plain value (times included), and the answer goes out as one. Storage and the
pipeline gather the facts and carry out the answer.

A fact that costs a query or a ``stat`` to learn, and that the rule only needs in some
cases, is passed as a zero-argument callable (``output_exists``, ``current_rank``): the
rule asks for it only when it must, in the order the rule reads, so the hot path (a pass
over thousands of unchanged articles) does no work it did not do before.

- Versions: ``content_hash`` says what a version of a post is; ``plan_snapshot`` says
  what one captured snapshot does to the archived post (``SOURCE_RANK`` and, between two
  markup copies, ``markup_rank``).
- Articles: ``unchanged_on_disk`` (skip without reading) and ``unchanged_content``
  (read, but same bytes as last time).
- Checks: ``next_check_at`` (back-off between network checks of a post).
- Output names: ``in_folder`` and ``clash_free_path`` (two articles, one file name).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from archiver.clock import iso_ms
from archiver.models import (
    SOURCE_ARCHIVED_COPY,
    SOURCE_MARKUP,
    SOURCE_RANK,
    ArticleRef,
    MediaItem,
    PostSnapshot,
    post_key,
    sha256_hex,
)

# -- versions of a post ---------------------------------------------------------------


class Change(StrEnum):
    """What saving a snapshot did to its post."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# Fields whose change makes a new version of a post. Counts (likes, replies)
# are left out on purpose: they change on every check and are not edits.
CONTENT_FIELDS = (
    "url",
    "author_handle",
    "author_name",
    "text",
    "html",
    "lang",
    "created_at",
    "truncated",
    "card",
    "quoted_post_key",
    "reply_to_post_key",
)


def to_json(value: Any) -> str | None:
    """``value`` as the archive stores JSON (sorted keys, UTF-8 kept); None stays None."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def content_fields(snap: PostSnapshot) -> dict[str, Any]:
    """The content of a snapshot as the archive stores it (``CONTENT_FIELDS``)."""
    return {
        "url": snap.url,
        "author_handle": snap.author_handle,
        "author_name": snap.author_name,
        "text": snap.text,
        "html": snap.html,
        "lang": snap.lang,
        "created_at": snap.created_at,
        "truncated": int(snap.truncated),
        "card": to_json(snap.card),
        "quoted_post_key": post_key(snap.platform, snap.quoted_post_id)
        if snap.quoted_post_id
        else None,
        "reply_to_post_key": post_key(snap.platform, snap.reply_to_post_id)
        if snap.reply_to_post_id
        else None,
    }


def content_hash(snap: PostSnapshot) -> str:
    """A hash of what a reader sees of the post, plus its status."""
    fields = content_fields(snap)
    material = {name: fields[name] for name in CONTENT_FIELDS}
    material["status"] = snap.status
    material["media"] = sorted(m.url for m in snap.media if m.kind != "avatar")
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return sha256_hex(encoded)


MarkupRank = tuple[int, int, int, int, str]


def markup_rank(fields: dict[str, Any], media: Sequence[MediaItem], digest: str) -> MarkupRank:
    """How much a markup snapshot tells: a total order (ties broken by content hash).

    Text first (its length: pasted text is often cut short), then media, then how many
    other fields are filled in.
    """
    text = fields.get("text") or ""
    filled = sum(
        1 for name in CONTENT_FIELDS if name != "truncated" and fields.get(name) not in (None, "")
    )
    pictures = sum(1 for m in media if m.kind != "avatar")
    return (int(bool(text)), len(text), pictures, filled, digest)


def has_content(snap: PostSnapshot) -> bool:
    """Whether a snapshot shows anything of the post (text or a picture), not just a status."""
    return bool(snap.text) or bool(snap.media and any(m.kind != "avatar" for m in snap.media))


@dataclass(frozen=True)
class CurrentVersion:
    """What the archive holds of a post now: its source, status and content hash."""

    source: str
    status: str
    content_hash: str


@dataclass(frozen=True)
class SnapshotPlan:
    """What to do with one captured snapshot of a post that is already archived.

    Carried out in this order: ``record`` it in the post's history, make it the post's
    ``content``, take its ``status``, or only ``refresh`` counts and media files of
    unchanged content.
    """

    change: Change
    record: bool = False
    content: bool = False
    status: bool = False
    refresh: bool = False


_KEEP = SnapshotPlan(Change.UNCHANGED)


def plan_snapshot(
    snap: PostSnapshot,
    digest: str,
    current: CurrentVersion,
    seen: Callable[[], bool],
    current_rank: Callable[[], MarkupRank | None],
) -> SnapshotPlan:
    """The version policy: what ``snap`` (hash ``digest``) does to an archived post.

    ``seen``: whether the post's history already holds a snapshot with this hash.
    ``current_rank``: the ``markup_rank`` of the current content (None if unknown),
    asked only when two markup copies compete.
    """
    if snap.source == SOURCE_ARCHIVED_COPY:
        return _KEEP  # our own rendering of what the archive holds
    if snap.source == SOURCE_MARKUP:
        return _plan_markup(snap, digest, current, seen, current_rank)
    status_changed = snap.status != current.status
    if not has_content(snap):
        # An answer without content (a tombstone, a 404): the status moves,
        # the last good content stays.
        if not status_changed:
            return _KEEP
        return SnapshotPlan(Change.UPDATED, record=True, status=True)
    if digest == current.content_hash and not status_changed:
        # Same content: counts may have moved, and a file a failed download missed
        # may be there now.
        return SnapshotPlan(Change.UNCHANGED, refresh=True)
    if SOURCE_RANK.get(snap.source, 0) < SOURCE_RANK.get(current.source, 0):
        # A poorer source (oEmbed after syndication, say) answered this time: its
        # version is kept in the history, the richer content stays current.
        change = Change.UPDATED if status_changed else Change.UNCHANGED
        return SnapshotPlan(change, record=not seen(), status=status_changed)
    return SnapshotPlan(Change.UPDATED, record=True, content=True, status=status_changed)


def _plan_markup(
    snap: PostSnapshot,
    digest: str,
    current: CurrentVersion,
    seen: Callable[[], bool],
    current_rank: Callable[[], MarkupRank | None],
) -> SnapshotPlan:
    # Markup only tells us what a publisher pasted. It never changes a post's
    # status, and never replaces content from a richer source.
    if not has_content(snap):
        return _KEEP
    record = not seen()
    if SOURCE_RANK.get(current.source, 0) > 0 or digest == current.content_hash:
        return SnapshotPlan(Change.UNCHANGED, record=record)
    # Two articles may paste the same post differently: the richest markup wins, by
    # a total order, so the content never depends on which article was scanned last
    # (or on where a crash stopped a pass).
    rank = current_rank()
    if rank is not None and markup_rank(content_fields(snap), snap.media, digest) <= rank:
        return SnapshotPlan(Change.UNCHANGED, record=record)
    return SnapshotPlan(Change.UPDATED, record=record, content=True)


# -- articles -----------------------------------------------------------------------


@dataclass(frozen=True)
class KnownArticle:
    """What the archive remembers of an article that the unchanged rules look at."""

    size: int | None
    mtime_ns: int | None
    content_hash: str | None
    error: str | None
    last_scanned_at: str | None


def unchanged_on_disk(
    ref: ArticleRef, known: KnownArticle, output_exists: Callable[[], bool]
) -> bool:
    """Whether an article can be skipped without reading it.

    A local file: same size and mtime as at its last good scan. A remote article: its
    sitemap lastmod (or feed updated) is not after its last good scan. Either way only
    if its rewritten copy is still there (``output_exists``, asked last).
    """
    if known.error is not None:
        return False  # an article whose last read failed is always read again
    if ref.path is None:
        return (
            ref.updated is not None
            and known.last_scanned_at is not None
            and ref.updated <= known.last_scanned_at
            and output_exists()
        )
    return (
        ref.size is not None
        and ref.size == known.size
        and ref.mtime_ns == known.mtime_ns
        and known.content_hash is not None
        and output_exists()
    )


def unchanged_content(
    known: KnownArticle | None, content_hash: str, output_exists: Callable[[], bool]
) -> bool:
    """Whether an article read again holds the bytes of its last good scan, and its
    rewritten copy is there: nothing to scan or write."""
    return (
        known is not None
        and known.content_hash == content_hash
        and known.error is None
        and output_exists()
    )


# -- network checks -------------------------------------------------------------------

# Failures back off by doubling; past 2**20 the last interval has long been reached.
_MAX_DOUBLINGS = 20


def check_wait(intervals: Sequence[float], failed: bool, count: int) -> float:
    """Seconds until a post's next network check.

    As a post ages its checks thin out: after its ``count``-th successful check it waits
    ``intervals[count]`` (the last interval repeats). After its ``count``-th failure in a
    row it waits ``intervals[0]`` doubled per failure, up to the last interval, so a
    source that keeps blocking us is not hammered.
    """
    if failed:
        return min(intervals[0] * 2 ** min(count, _MAX_DOUBLINGS), intervals[-1])
    return intervals[min(count, len(intervals) - 1)]


def next_check_at(intervals: Sequence[float], failed: bool, count: int, now: datetime) -> str:
    """When a post checked at ``now`` is next due (see ``check_wait``), as stored."""
    return iso_ms(now + timedelta(seconds=check_wait(intervals, failed, count)))


def first_check_at(now: str) -> str:
    """A post first seen at ``now`` is due at once: checked on the next pass."""
    return now


# -- output names ---------------------------------------------------------------------


def in_folder(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (both already resolved)."""
    return path == folder or folder in path.parents


def clash_free_path(path: Path, location: str, taken: bool) -> Path:
    """The output file of the article at ``location``.

    ``path`` if no other live article writes there; if one does (``/story`` and
    ``/story.html`` of a site, or two unnamed folders with the same file), this one gets
    its own name: a tag from its location before the suffix, the same on every run.
    """
    if not taken:
        return path
    tag = sha256_hex(location.encode("utf-8"))[:10]
    return path.with_name(f"{path.stem}-{tag}{path.suffix}")


__all__ = [
    "CONTENT_FIELDS",
    "Change",
    "CurrentVersion",
    "KnownArticle",
    "MarkupRank",
    "SnapshotPlan",
    "check_wait",
    "clash_free_path",
    "content_fields",
    "content_hash",
    "first_check_at",
    "has_content",
    "in_folder",
    "markup_rank",
    "next_check_at",
    "plan_snapshot",
    "to_json",
    "unchanged_content",
    "unchanged_on_disk",
]
