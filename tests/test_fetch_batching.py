"""``PostFetcher.fetch_many`` sends Bluesky's posts in full batches of 25, alone or
mixed with X's posts, however small ``http.concurrency`` is (the issue's bound: at most
one request per 20 posts when posts are batched). Real fakes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakebsky import ALICE, FakeBsky, make_post_view
from fakex import FakeX, config_for, make_tweet_payload

from archiver.config import BlueskyConfig, HttpConfig, MediaConfig, WaybackConfig, XConfig
from archiver.fetch import FetchRequest, PostFetcher
from archiver.platforms.bluesky import BLUESKY
from archiver.platforms.x import X

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def rkey(n: int) -> str:
    """A distinct valid TID for post n."""
    return "3lbv5is6h" + "".join(ALPHABET[(n >> (5 * i)) % 32] for i in range(3, -1, -1))


@pytest.fixture
def bsky() -> Iterator[FakeBsky]:
    with FakeBsky() as fake:
        yield fake


def _fetcher(fakex: FakeX, bsky: FakeBsky, tmp_path: Path, concurrency: int) -> PostFetcher:
    cfg = config_for(fakex, http={"concurrency": concurrency}, media={"download": False})
    return PostFetcher(
        XConfig(**cfg["x"]),
        WaybackConfig(**cfg["wayback"]),
        HttpConfig(**cfg["http"]),
        MediaConfig(**cfg["media"]),
        tmp_path / "media",
        backoff_base=0.02,
        platforms=[X, BLUESKY],
        sections={"bluesky": BlueskyConfig(appview=bsky.base_url)},
    )


@pytest.mark.parametrize("concurrency", [1, 4, 16])
def test_bluesky_posts_go_out_in_full_batches(
    fakex: FakeX, bsky: FakeBsky, tmp_path: Path, concurrency: int
) -> None:
    ids = [bsky.add_post(make_post_view(ALICE, rkey(n), f"post {n}")) for n in range(60)]
    with _fetcher(fakex, bsky, tmp_path, concurrency) as fetcher:
        results = list(fetcher.fetch_many(FetchRequest(i, platform="bluesky") for i in ids))
    assert sorted(r.snapshot.text for r in results if r.snapshot) == sorted(
        f"post {n}" for n in range(60)
    )
    assert sorted(len(call) for call in bsky.get_posts_calls) == [10, 25, 25]


def test_mixed_with_x_posts_bluesky_batches_stay_full(
    fakex: FakeX, bsky: FakeBsky, tmp_path: Path
) -> None:
    requests = []
    for n in range(50):  # interleaved, as articles quoting both would list them
        post_id = str(1_700_000_000_000_000_000 + n)
        fakex.add_post(make_tweet_payload(post_id, f"x post {n}"))
        requests.append(FetchRequest(post_id))
        requests.append(
            FetchRequest(
                bsky.add_post(make_post_view(ALICE, rkey(n), f"bsky {n}")), platform="bluesky"
            )
        )
    with _fetcher(fakex, bsky, tmp_path, 4) as fetcher:
        results = list(fetcher.fetch_many(iter(requests)))
    assert len(results) == 100 and all(r.snapshot is not None for r in results)
    assert {r.platform for r in results} == {"x", "bluesky"}
    assert sorted(len(call) for call in bsky.get_posts_calls) == [25, 25]
    assert fakex.count("/tweet-result") == 50
