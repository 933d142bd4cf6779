"""The record of the posts one pass meets, kept in the archive's connection (PassPosts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.storage import PassPosts, Store


@pytest.fixture
def met(tmp_path: Path) -> Iterator[PassPosts]:
    with Store(tmp_path / "archive.db") as store:
        record = store.pass_posts()
        yield record
        record.close()


def test_a_post_counts_once_as_new_or_updated(met: PassPosts) -> None:
    assert met.count_new(["x:1", "x:2"]) == 2
    assert met.count_new(["x:2", "x:3"]) == 1  # x:2 was counted already
    # Created in this pass, then changed by richer markup: still only "new".
    assert met.count_updated(["x:1", "x:4"]) == 1
    assert met.count_updated(["x:4", "x:5"]) == 1  # updated twice: counted once
    assert met.count_new([]) == 0 and met.count_updated([]) == 0


def test_a_post_is_checked_once_per_pass(met: PassPosts) -> None:
    assert met.first_checks(["x:2", "x:1"]) == ["x:2", "x:1"]
    assert met.first_checks(["x:1", "x:3"]) == ["x:3"]
    met.count_new(["x:4"])  # counting a post does not mark it checked
    assert met.first_checks(["x:4"]) == ["x:4"]


def test_pages_written_are_remembered_with_their_digest(met: PassPosts) -> None:
    assert met.page_digest("x:1") is None
    met.count_new(["x:1"])
    assert met.page_digest("x:1") is None  # met, but its page not written
    met.set_page("x:1", b"a" * 16)
    met.set_page("x:1", b"b" * 16)
    assert met.page_digest("x:1") == b"b" * 16
    assert met.forget_page("x:1") is True
    assert met.forget_page("x:1") is False and met.page_digest("x:1") is None
    assert not met.refreshed("x:1")
    met.mark_refreshed("x:1")
    assert met.refreshed("x:1") and not met.refreshed("x:9")


def test_pages_are_listed_in_order_while_more_are_written(met: PassPosts) -> None:
    met.CHUNK = 3
    for n in range(10):
        met.set_page(f"x:{n}", b"d")
    met.forget_page("x:4")
    listed = []
    for key in met.pages():
        listed.append(key)
        if key == "x:1":
            met.set_page("x:1", b"again")  # written again while being listed: once
            met.set_page("x:91", b"new")  # beyond the chunk read: listed too
    assert listed == ["x:0", "x:1", "x:2", "x:3", "x:5", "x:6", "x:7", "x:8", "x:9", "x:91"]


def test_the_record_leaves_nothing_in_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    with Store(path) as store:
        first, second = store.pass_posts(), store.pass_posts()
        first.count_new(["x:1"])
        assert second.count_new(["x:1"]) == 1  # each pass has its own record
        first.close()
        second.close()
    with Store(path) as store:
        assert store.pass_posts().count_new(["x:1"]) == 1


def test_rows_written_in_a_rolled_back_batch_go_with_it(tmp_path: Path) -> None:
    with Store(tmp_path / "archive.db") as store:
        met = store.pass_posts()
        with pytest.raises(RuntimeError), store.batch():
            met.count_new(["x:1"])
            met.set_page("x:1", b"d")
            raise RuntimeError("the batch failed")
        # The posts it described were not stored either: counted afresh next time.
        assert met.page_digest("x:1") is None
        assert met.count_new(["x:1"]) == 1
