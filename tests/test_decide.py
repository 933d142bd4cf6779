"""The archive's policy (archiver/decide.py) on plain values: no database, no files, no clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.decide import (
    Change,
    CurrentVersion,
    KnownArticle,
    SnapshotPlan,
    check_wait,
    clash_free_path,
    content_fields,
    content_hash,
    in_folder,
    markup_rank,
    next_check_at,
    plan_snapshot,
    unchanged_content,
    unchanged_on_disk,
)
from archiver.models import ArticleRef, MediaItem, PostSnapshot

# -- versions -------------------------------------------------------------------------


def _snap(text: str | None = "Hello", source: str = "syndication", **kw: object) -> PostSnapshot:
    return PostSnapshot(post_id="20", text=text, source=source, **kw)  # type: ignore[arg-type]


def _never() -> object:
    raise AssertionError("the policy asked for a fact it does not need here")


def _plan(
    snap: PostSnapshot,
    current: CurrentVersion,
    seen: bool = False,
    rank: tuple[int, int, int, int, str] | None = None,
) -> SnapshotPlan:
    return plan_snapshot(snap, content_hash(snap), current, lambda: seen, lambda: rank)


def test_counts_are_not_content_but_text_and_pictures_are() -> None:
    base = _snap(like_count=1, reply_count=1)
    assert content_hash(base) == content_hash(_snap(like_count=99, reply_count=7))
    assert content_hash(base) != content_hash(_snap(text="Hello!"))
    with_photo = _snap(media=[MediaItem("photo", "https://pbs.twimg.com/media/a.jpg")])
    assert content_hash(base) != content_hash(with_photo)
    # An avatar is the author's, not the post's.
    with_avatar = _snap(media=[MediaItem("avatar", "https://pbs.twimg.com/a.jpg")])
    assert content_hash(base) == content_hash(with_avatar)


def test_a_status_change_is_a_new_version() -> None:
    assert content_hash(_snap(status="live")) != content_hash(_snap(status="deleted"))


def test_an_archived_copy_is_never_a_version() -> None:
    current = CurrentVersion("markup", "unknown", "old")
    snap = _snap("Other text", source="archived-copy")
    plan = plan_snapshot(snap, content_hash(snap), current, _never, _never)  # type: ignore[arg-type]
    assert plan == SnapshotPlan(Change.UNCHANGED)


def test_a_richer_source_replaces_content_and_status() -> None:
    current = CurrentVersion("oembed", "unknown", "old")
    plan = _plan(_snap(status="live"), current)
    assert plan == SnapshotPlan(Change.UPDATED, record=True, content=True, status=True)


def test_a_poorer_source_is_kept_in_history_only() -> None:
    current = CurrentVersion("syndication", "live", "old")
    assert _plan(_snap(source="oembed", status="live"), current) == SnapshotPlan(
        Change.UNCHANGED, record=True
    )
    # Already in the history: nothing to record twice.
    assert _plan(_snap(source="oembed", status="live"), current, seen=True) == SnapshotPlan(
        Change.UNCHANGED
    )
    # Its status still counts.
    assert _plan(_snap(source="oembed", status="deleted"), current) == SnapshotPlan(
        Change.UPDATED, record=True, status=True
    )


def test_a_tombstone_moves_the_status_and_keeps_the_content() -> None:
    current = CurrentVersion("syndication", "live", "old")
    gone = _snap(text=None, status="deleted", notice="This post was deleted")
    assert _plan(gone, current) == SnapshotPlan(Change.UPDATED, record=True, status=True)
    assert _plan(_snap(text=None, status="live"), current) == SnapshotPlan(Change.UNCHANGED)


def test_the_same_content_only_refreshes_counts_and_media() -> None:
    snap = _snap(status="live")
    current = CurrentVersion("syndication", "live", content_hash(snap))
    assert _plan(snap, current) == SnapshotPlan(Change.UNCHANGED, refresh=True)


def test_markup_never_changes_a_status_nor_beats_a_network_source() -> None:
    current = CurrentVersion("syndication", "deleted", "old")
    plan = _plan(_snap("Pasted text", source="markup", status="live"), current)
    assert plan == SnapshotPlan(Change.UNCHANGED, record=True)  # history only
    assert _plan(_snap(None, source="markup"), current) == SnapshotPlan(Change.UNCHANGED)


def test_the_richest_markup_wins_whatever_the_order() -> None:
    short = _snap("Hello wor", source="markup")
    full = _snap("Hello world, the whole post", source="markup")
    rank = {s.text: markup_rank(content_fields(s), s.media, content_hash(s)) for s in (short, full)}
    # The short copy is current: the full one replaces it.
    current = CurrentVersion("markup", "unknown", content_hash(short))
    assert _plan(full, current, rank=rank[short.text]).content
    # The full copy is current: the short one never replaces it.
    current = CurrentVersion("markup", "unknown", content_hash(full))
    assert _plan(short, current, rank=rank[full.text]) == SnapshotPlan(
        Change.UNCHANGED, record=True
    )


def test_markup_rank_is_a_total_order() -> None:
    fields = {"text": "same"}
    assert markup_rank(fields, [], "a") < markup_rank(fields, [], "b")  # the hash breaks ties
    photo = [MediaItem("photo", "https://pbs.twimg.com/media/a.jpg")]
    assert markup_rank(fields, [], "z") < markup_rank(fields, photo, "a")
    assert markup_rank({"text": ""}, photo, "z") < markup_rank({"text": "x"}, [], "a")


# -- articles -------------------------------------------------------------------------

KNOWN = KnownArticle(
    size=100,
    mtime_ns=5,
    content_hash="h",
    error=None,
    last_scanned_at="2026-01-02T00:00:00.000Z",
)


def _local(size: int = 100, mtime_ns: int = 5) -> ArticleRef:
    return ArticleRef(
        location="a.html", source="s", path="/site/a.html", size=size, mtime_ns=mtime_ns
    )


def test_a_local_article_with_the_same_size_and_mtime_is_skipped() -> None:
    assert unchanged_on_disk(_local(), KNOWN, lambda: True)
    assert not unchanged_on_disk(_local(size=101), KNOWN, _never)  # type: ignore[arg-type]
    assert not unchanged_on_disk(_local(mtime_ns=6), KNOWN, _never)  # type: ignore[arg-type]
    # Its rewritten copy is gone: read it again to write the copy.
    assert not unchanged_on_disk(_local(), KNOWN, lambda: False)


def test_an_article_whose_last_read_failed_is_always_read() -> None:
    failed = KnownArticle(100, 5, "h", "cannot read", KNOWN.last_scanned_at)
    assert not unchanged_on_disk(_local(), failed, _never)  # type: ignore[arg-type]
    assert not unchanged_content(failed, "h", _never)  # type: ignore[arg-type]


def test_a_remote_article_is_skipped_until_its_lastmod_moves() -> None:
    def ref(updated: str | None) -> ArticleRef:
        return ArticleRef(location="https://a.test/p", source="s", updated=updated)

    assert unchanged_on_disk(ref("2026-01-01T00:00:00.000Z"), KNOWN, lambda: True)
    assert unchanged_on_disk(ref(KNOWN.last_scanned_at), KNOWN, lambda: True)
    assert not unchanged_on_disk(ref("2026-01-03T00:00:00.000Z"), KNOWN, _never)  # type: ignore[arg-type]
    assert not unchanged_on_disk(ref(None), KNOWN, _never)  # type: ignore[arg-type]


def test_the_same_bytes_need_no_scan() -> None:
    assert unchanged_content(KNOWN, "h", lambda: True)
    assert not unchanged_content(KNOWN, "other", _never)  # type: ignore[arg-type]
    assert not unchanged_content(None, "h", _never)  # type: ignore[arg-type]
    assert not unchanged_content(KNOWN, "h", lambda: False)


# -- checks ---------------------------------------------------------------------------

INTERVALS = [3600.0, 86400.0, 604800.0]


@pytest.mark.parametrize(("checks", "wait"), [(0, 3600), (1, 86400), (2, 604800), (50, 604800)])
def test_checks_thin_out_as_a_post_ages(checks: int, wait: float) -> None:
    assert check_wait(INTERVALS, failed=False, count=checks) == wait


@pytest.mark.parametrize(
    ("failures", "wait"), [(0, 3600), (1, 7200), (4, 57600), (8, 604800), (10**6, 604800)]
)
def test_failures_back_off_by_doubling_up_to_the_last_interval(failures: int, wait: float) -> None:
    assert check_wait(INTERVALS, failed=True, count=failures) == wait


def test_next_check_is_stored_in_the_archive_format() -> None:
    now = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC)
    assert next_check_at(INTERVALS, False, 1, now) == "2026-12-01T01:02:03.456Z"


# -- output names ---------------------------------------------------------------------


def test_a_free_output_name_is_kept() -> None:
    path = Path("/out/story.html")
    assert clash_free_path(path, "site/story.html", taken=False) == path


def test_a_clash_gets_a_stable_name_of_its_own() -> None:
    path = Path("/out/story.html")
    first = clash_free_path(path, "site/story", taken=True)
    assert first == clash_free_path(path, "site/story", taken=True)
    assert first.parent == path.parent and first.suffix == ".html"
    assert first.name.startswith("story-") and first != path
    assert clash_free_path(path, "other/story", taken=True) != first


def test_in_folder() -> None:
    embeds = Path("/out/embeds")
    assert in_folder(Path("/out/embeds"), embeds)
    assert in_folder(Path("/out/embeds/index.html"), embeds)
    assert not in_folder(Path("/out/embedsx/index.html"), embeds)
