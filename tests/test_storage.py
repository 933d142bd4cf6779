"""The storage layer on a real SQLite file: its interface, its layout, and the version
policy as the archive carries it out."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.models import ArticleRef, MediaItem, PostSnapshot, RunOutcome
from archiver.storage import ArchiveStorage, Store
from archiver.storage.protocol import ArchiveStorage as ProtocolClass

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-30T00:00:00.000Z"
LATER = "2026-11-30T01:00:00.000Z"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "archive.db") as opened:
        yield opened


def _protocol_methods() -> list[str]:
    return sorted(
        name
        for name, value in vars(ProtocolClass).items()
        if callable(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))
    )


def test_the_sqlite_store_implements_the_protocol(store: Store) -> None:
    assert isinstance(store, ArchiveStorage)
    for name in _protocol_methods():
        declared = inspect.signature(getattr(ProtocolClass, name))
        actual = inspect.signature(getattr(Store, name))
        assert list(declared.parameters) == list(actual.parameters), name
        for param in declared.parameters.values():
            assert param.default == actual.parameters[param.name].default, (name, param.name)


def test_the_protocol_covers_everything_the_archiver_calls() -> None:
    """Every ``store.X(`` called under archiver/ is in the protocol (else a second
    backend would miss it)."""
    called: set[str] = set()
    for path in (ROOT / "archiver").rglob("*.py"):
        if "storage" in path.relative_to(ROOT / "archiver").parts:
            continue
        called |= set(re.findall(r"\bstore\.([a-z_]+)\(", path.read_text(encoding="utf-8")))
    missing = called - set(_protocol_methods())
    assert not missing, f"add to storage/protocol.py: {sorted(missing)}"


def test_storage_modules_stay_small() -> None:
    """One concern per module: none grows past ~450 lines (issue 10)."""
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "storage").glob("*.py")
    }
    assert max(sizes.values()) <= 450, sizes


# -- the version policy, carried out ----------------------------------------------------------


def _markup(text: str) -> PostSnapshot:
    return PostSnapshot(post_id="20", text=text, source="markup", url="https://x.com/a/status/20")


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_richest_pasted_copy_wins_in_either_order(
    tmp_path: Path, order: tuple[int, int]
) -> None:
    copies = [_markup("Hello wor"), _markup("Hello world, the whole post")]
    with Store(tmp_path / "archive.db") as store:
        for index in order:
            store.save_snapshot(copies[index], NOW)
        post = store.get_post("x:20")
        assert post is not None and post.text == "Hello world, the whole post"
        assert len(store.snapshots_of("x:20")) == 2  # both copies are in the history


def test_a_poorer_source_never_replaces_richer_content(store: Store) -> None:
    rich = PostSnapshot(post_id="20", text="Full text", source="syndication", status="live")
    poor = PostSnapshot(post_id="20", text="Full…", source="oembed", status="live")
    assert store.save_snapshot(rich, NOW) == "new"
    assert store.save_snapshot(poor, LATER) == "unchanged"
    post = store.get_post("x:20")
    assert post is not None and post.text == "Full text" and post.source == "syndication"
    assert [s.source for s in store.snapshots_of("x:20")] == ["syndication", "oembed"]


def test_a_tombstone_keeps_the_last_good_content(store: Store) -> None:
    store.save_snapshot(
        PostSnapshot(post_id="20", text="Said it", source="syndication", status="live"), NOW
    )
    gone = PostSnapshot(post_id="20", source="syndication", status="deleted", notice="Deleted")
    assert store.save_snapshot(gone, LATER) == "updated"
    post = store.get_post("x:20")
    assert post is not None and (post.status, post.text) == ("deleted", "Said it")


def test_a_failed_download_never_loses_an_archived_file(store: Store) -> None:
    photo = "https://pbs.twimg.com/media/a.jpg"
    first = PostSnapshot(post_id="20", text="Hi", source="syndication", status="live")
    first.media = [MediaItem("photo", photo, local_path="ab.jpg", sha256="ab", bytes=3)]
    store.save_snapshot(first, NOW)
    again = PostSnapshot(post_id="20", text="Hi", source="syndication", status="live")
    again.media = [MediaItem("photo", photo)]  # this time the download failed
    assert store.save_snapshot(again, LATER) == "unchanged"
    assert store.stored_media("x:20") == [(photo, "ab.jpg")]


def test_a_new_post_is_due_at_once(store: Store) -> None:
    store.save_snapshot(_markup("Hello"), NOW)
    assert [d.post_id for d in store.posts_due(NOW)] == ["20"]


# -- runs and the status report ------------------------------------------------------


def test_runs_read_back_with_their_summary_decoded(store: Store) -> None:
    run = store.start_run("run", NOW)
    store.finish_run(run, RunOutcome.OK, {"articles_scanned": 3}, LATER)
    (latest,) = store.recent_runs(1)
    assert latest["summary"] == {"articles_scanned": 3} and latest["outcome"] == "ok"
    report = store.status_report(LATER)
    assert report["runs"] == [latest]
    assert report["due"]["posts"] == 0


def test_an_article_error_is_reported_and_kept(store: Store) -> None:
    ref = ArticleRef(location="a.html", source="site", path="/site/a.html")
    store.record_article_error(ref, "cannot read: Permission denied", NOW)
    state = store.get_article("a.html")
    assert state is not None and state.error == "cannot read: Permission denied"
    assert store.status_report(LATER)["failures"]["articles"][0]["location"] == "a.html"
