"""What each answer of the sources becomes, and how the client behaves on failures.

Everything runs against tests/fakex.py: a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fakex import (
    FakeX,
    Fault,
    load_payload,
    make_fetcher,
    make_tweet_payload,
    oembed_payload,
)

from archiver.fetch import FetchRequest, FetchResult
from archiver.models import (
    SOURCE_OEMBED,
    SOURCE_SYNDICATION,
    STATUS_DELETED,
    STATUS_LIVE,
    STATUS_PROTECTED,
    STATUS_SUSPENDED,
    STATUS_UNAVAILABLE,
)

PHOTO_ID = "1641086480675225601"


def fetch(
    fake: FakeX, tmp_path: Path, *requests: FetchRequest, **overrides: Any
) -> list[FetchResult]:
    with make_fetcher(fake, tmp_path / "media", **overrides) as fetcher:
        return list(fetcher.fetch_many(requests))


def fetch_one(fake: FakeX, tmp_path: Path, post_id: str, **overrides: Any) -> FetchResult:
    handle = overrides.pop("handle", None)
    have_content = overrides.pop("have_content", False)
    [result] = fetch(fake, tmp_path, FetchRequest(post_id, handle, have_content), **overrides)
    return result


def test_live_tweet_from_real_payload(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_post(load_payload("syndication_tweet_with_photo.json"))
    result = fetch_one(fakex, tmp_path, PHOTO_ID, media={"download": False})
    snap = result.snapshot
    assert result.error is None and snap is not None
    assert snap.status == STATUS_LIVE and snap.source == SOURCE_SYNDICATION
    assert snap.author_handle == "SamuelSusla" and snap.author_name == "sammy"
    assert snap.text == (
        "If you are interested about View Flattening in React Native, I wrote a short post "
        "about it: https://github.com/reactwg/react-native-new-architecture/discussions/110"
        "\n\nLet me know what you think!"
    )
    assert (
        '<a href="https://github.com/reactwg/react-native-new-architecture/discussions/110">'
        in (snap.html or "")
    )
    assert "t.co" not in (snap.text or "") and "<br><br>Let me know" in (snap.html or "")
    # The snowflake's exact millisecond, agreeing with the payload's whole second.
    assert snap.created_at is not None and snap.created_at.startswith("2023-03-29T14:34:41.")
    assert snap.like_count == 226 and snap.reply_count == 1 and snap.lang == "en"
    assert snap.possibly_sensitive is False
    assert snap.http_status == 200 and snap.raw.startswith("{") and snap.fetched_at
    assert snap.source_url and "token=" in snap.source_url
    assert [m.kind for m in snap.media] == ["photo", "avatar"]
    photo = snap.media[0]
    assert (photo.width, photo.height) == (1995, 896)
    assert snap.edit_ids == [PHOTO_ID]
    [req] = fakex.requests_for("/tweet-result")
    assert req.query["lang"] == "en" and req.query["token"]


def test_2026_payload_with_empty_entity_objects(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_post(load_payload("syndication_tweet_2026_highlighted_label.json"))
    snap = fetch_one(fakex, tmp_path, "2023357708301455483", media={"download": False}).snapshot
    assert snap is not None
    assert snap.text and snap.text.startswith("Underdocumented: `bun build --compile`")
    assert snap.author_verified == "blue"
    assert snap.created_at == "2026-02-16T11:24:04.484Z"  # endpoints.md reference value


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("This Post was deleted by the Post author. Learn more", STATUS_DELETED),
        ("This Post is from a suspended account. Learn more", STATUS_SUSPENDED),
        (
            "You’re unable to view this Post because this account owner limits who can view "
            "their Posts. Learn more",
            STATUS_PROTECTED,
        ),
        (
            "Age-restricted adult content. This content might not be appropriate.",
            STATUS_UNAVAILABLE,
        ),
        ("This Post has been withheld in your country.", STATUS_UNAVAILABLE),
    ],
)
def test_tombstones_map_to_statuses(fakex: FakeX, tmp_path: Path, text: str, status: str) -> None:
    fakex.add_tombstone("1700000000000000001", text)
    result = fetch_one(fakex, tmp_path, "1700000000000000001", wayback={"enabled": False})
    snap = result.snapshot
    assert snap is not None and result.error is None
    assert snap.status == status and snap.notice == text
    assert snap.source == SOURCE_SYNDICATION and snap.text is None
    assert "TweetTombstone" in snap.raw
    assert fakex.count("/oembed") == 0  # a tombstone is an answer


def test_real_deleted_tombstone(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_raw(
        "1700000000000000002",
        200,
        (Path(__file__).parent / "data/payloads/syndication_tombstone_deleted.json").read_bytes(),
        "application/json",
    )
    snap = fetch_one(fakex, tmp_path, "1700000000000000002", have_content=True).snapshot
    assert snap is not None and snap.status == STATUS_DELETED
    assert snap.notice == "This Post was deleted by the Post author. Learn more"
    assert fakex.count("/cdx") == 0  # archive already has content: no Wayback lookup


@pytest.mark.parametrize("not_found", ["empty", "404"])
def test_not_found_falls_back_to_oembed(fakex: FakeX, tmp_path: Path, not_found: str) -> None:
    post_id = "1679189879086018562"
    if not_found == "empty":
        fakex.add_empty(post_id)
    else:
        fakex.add_not_found(post_id)
    fakex.add_oembed(post_id, load_payload("oembed_publish_x_com_response_twitter_provider.json"))
    snap = fetch_one(fakex, tmp_path, post_id, handle="alleyco").snapshot
    assert snap is not None
    assert snap.status == STATUS_LIVE and snap.source == SOURCE_OEMBED
    assert snap.author_name == "Alley" and snap.author_handle == "alleyco"
    assert snap.text and snap.text.startswith("We’re a full-service digital agency")
    assert snap.text.endswith("services here:https://t.co/8zZ5zP1Oyc")
    assert snap.date_text == "July 12, 2023" and snap.lang == "en"
    assert snap.created_at and snap.created_at.startswith("2023-07-12T")
    assert "<script" not in (snap.html or "")
    [req] = fakex.requests_for("/oembed")
    assert req.query["url"] == f"https://twitter.com/alleyco/status/{post_id}"
    assert req.query["omit_script"] == "1" and req.query["dnt"] == "true"


def test_oembed_without_handle_uses_i_status(fakex: FakeX, tmp_path: Path) -> None:
    post_id = "2102808325742322002"
    fakex.add_oembed(
        post_id, load_payload("oembed_publish_x_com_response_provider_X_omit_script.json")
    )
    snap = fetch_one(fakex, tmp_path, post_id).snapshot
    assert snap is not None and snap.author_handle == "OpenAI"
    assert snap.text and "pic.twitter.com" not in snap.text  # the media link is dropped
    assert "Astra, Sol, and Luna.\n\n- Be used" in snap.text
    [req] = fakex.requests_for("/oembed")
    assert req.query["url"] == f"https://twitter.com/i/status/{post_id}"


@pytest.mark.parametrize(("code", "status"), [(404, STATUS_DELETED), (403, STATUS_PROTECTED)])
def test_oembed_404_and_403_are_answers(
    fakex: FakeX, tmp_path: Path, code: int, status: str
) -> None:
    fakex.set_oembed_status("1700000000000000003", code)
    result = fetch_one(fakex, tmp_path, "1700000000000000003", wayback={"enabled": False})
    assert result.snapshot is not None and result.snapshot.status == status
    assert result.snapshot.source == SOURCE_OEMBED and result.snapshot.http_status == code
    assert fakex.count("/oembed") == 1  # not retried


def test_html_body_is_a_failure_not_deleted(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_blocked("1700000000000000004")
    result = fetch_one(fakex, tmp_path, "1700000000000000004")
    assert result.snapshot is None
    assert result.error and "HTML" in result.error
    assert fakex.count("/oembed") == 0 and fakex.count("/cdx") == 0


def test_5xx_burst_then_success(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000005", "after the storm"))
    fakex.add_fault(Fault(status_5xx=2), post_id=post_id)
    result = fetch_one(fakex, tmp_path, post_id, media={"download": False})
    assert result.snapshot is not None and result.snapshot.text == "after the storm"
    assert result.attempts == 3 and fakex.count("/tweet-result") == 3


def test_5xx_beyond_retries_is_a_failure(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000006", "never"))
    fakex.add_fault(Fault(status_5xx=10), post_id=post_id)
    result = fetch_one(fakex, tmp_path, post_id)
    assert result.snapshot is None and result.error and "503" in result.error
    assert fakex.count("/tweet-result") == 3  # 1 + retries(2)


def test_429_retry_after_is_honoured(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000007", "patience"))
    fakex.add_fault(Fault(rate_limit=1, retry_after="1"), post_id=post_id)
    started = time.monotonic()
    result = fetch_one(fakex, tmp_path, post_id, media={"download": False})
    assert result.snapshot is not None and result.snapshot.text == "patience"
    first, second = fakex.requests_for("/tweet-result")
    assert second.time - first.time >= 0.9
    assert time.monotonic() - started < 4


def test_429_rate_limit_reset_header(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000008", "reset"))
    fakex.add_fault(
        Fault(rate_limit=1, retry_after=None, rate_limit_reset=time.time() + 2), post_id=post_id
    )
    result = fetch_one(fakex, tmp_path, post_id, media={"download": False})
    assert result.snapshot is not None
    first, second = fakex.requests_for("/tweet-result")
    assert second.time - first.time >= 0.5  # epoch seconds are whole: 1–2 s


def test_429_longer_than_deadline_fails_fast(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000009", "later"))
    fakex.add_fault(Fault(rate_limit=1, retry_after="3600"), post_id=post_id)
    started = time.monotonic()
    result = fetch_one(fakex, tmp_path, post_id)
    assert result.snapshot is None and result.error and "429" in result.error
    assert time.monotonic() - started < 2


def test_timeout_is_a_failure(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000010", "slow"))
    fakex.add_fault(Fault(hang=10, hang_seconds=1.5), post_id=post_id)
    started = time.monotonic()
    result = fetch_one(fakex, tmp_path, post_id, http={"timeout": 0.3, "retries": 1})
    assert result.snapshot is None and result.error and "timed out" in result.error
    assert result.attempts == 2
    assert time.monotonic() - started < 3


def test_timeout_then_success(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000011", "eventually"))
    fakex.add_fault(Fault(hang=1, hang_seconds=1.0), post_id=post_id)
    result = fetch_one(fakex, tmp_path, post_id, http={"timeout": 0.3}, media={"download": False})
    assert result.snapshot is not None and result.snapshot.text == "eventually"


def test_truncated_body_is_retried(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000012", "whole"))
    fakex.add_fault(Fault(truncate=1), post_id=post_id)
    result = fetch_one(fakex, tmp_path, post_id, media={"download": False})
    assert result.snapshot is not None and result.snapshot.text == "whole"
    assert fakex.count("/tweet-result") == 2


def test_truncated_body_every_time_is_a_failure(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000013", "never whole"))
    fakex.add_fault(Fault(truncate=10), post_id=post_id)
    result = fetch_one(fakex, tmp_path, post_id)
    assert result.snapshot is None and result.error


def test_post_deadline_bounds_everything(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000014", "late"))
    fakex.add_fault(Fault(latency=0.4), post_id=post_id)
    fakex.add_fault(Fault(status_5xx=10), post_id=post_id)
    started = time.monotonic()
    result = fetch_one(fakex, tmp_path, post_id, http={"post_deadline": 1.0, "retries": 10})
    assert result.snapshot is None and result.error
    assert time.monotonic() - started < 2.0


def test_network_down_finishes_fast(tmp_path: Path) -> None:
    fake = FakeX().start()
    fake.stop()  # the port is now closed: connections are refused
    requests = [FetchRequest(str(1700000000000000100 + i)) for i in range(40)]
    started = time.monotonic()
    with make_fetcher(fake, tmp_path, http={"retries": 4}, backoff_base=0.05) as fetcher:
        results = list(fetcher.fetch_many(requests))
    assert len(results) == 40
    assert all(r.snapshot is None and r.error for r in results)
    assert time.monotonic() - started < 5


def test_one_request_per_unique_post(fakex: FakeX, tmp_path: Path) -> None:
    post_id = fakex.add_post(make_tweet_payload("1700000000000000015", "once"))
    other = fakex.add_post(make_tweet_payload("1700000000000000016", "twice"))
    requests = [FetchRequest(post_id)] * 5 + [FetchRequest(other, "someone")] * 2
    results = fetch(fakex, tmp_path, *requests, media={"download": False})
    assert sorted(r.post_id for r in results) == [post_id, other]
    assert fakex.count("/tweet-result", post_id) == 1
    assert fakex.count("/tweet-result", other) == 1


def test_bounded_window_and_concurrency(fakex: FakeX, tmp_path: Path) -> None:
    """A generator is consumed lazily and requests overlap (up to http.concurrency)."""
    fakex.latency = 0.1
    ids = [str(1700000000000001000 + i) for i in range(24)]
    for post_id in ids:
        fakex.add_post(make_tweet_payload(post_id, f"post {post_id}"))
    pulled: list[str] = []

    def generate() -> Any:
        for post_id in ids:
            pulled.append(post_id)
            yield FetchRequest(post_id)

    started = time.monotonic()
    with make_fetcher(fakex, tmp_path, http={"concurrency": 8}, media={"download": False}) as f:
        results = f.fetch_many(generate())
        first = next(results)
        assert len(pulled) <= 2 * 8 + 1  # not everything read up front
        rest = list(results)
    elapsed = time.monotonic() - started
    assert first.snapshot is not None and len(rest) == 23
    assert elapsed < 24 * 0.1 / 2  # serial would take 2.4 s


def test_fetch_many_is_reusable_and_works_in_a_thread(fakex: FakeX, tmp_path: Path) -> None:
    import threading

    post_id = fakex.add_post(make_tweet_payload("1700000000000000017", "threads"))
    fetcher = make_fetcher(fakex, tmp_path, media={"download": False})
    out: list[FetchResult] = []
    worker = threading.Thread(
        target=lambda: out.extend(fetcher.fetch_many([FetchRequest(post_id)]))
    )
    worker.start()
    worker.join(10)
    out.extend(fetcher.fetch_many([FetchRequest(post_id)]))
    fetcher.close()
    assert [r.snapshot is not None for r in out] == [True, True]
    with pytest.raises(RuntimeError):
        list(fetcher.fetch_many([FetchRequest(post_id)]))


def test_stopping_early_cancels_cleanly(fakex: FakeX, tmp_path: Path) -> None:
    fakex.latency = 0.05
    ids = [str(1700000000000002000 + i) for i in range(50)]
    for post_id in ids:
        fakex.add_post(make_tweet_payload(post_id, "x"))
    with make_fetcher(fakex, tmp_path, media={"download": False}) as fetcher:
        for _result in fetcher.fetch_many(FetchRequest(i) for i in ids):
            break
    time.sleep(0.2)
    assert fakex.count("/tweet-result") < 50


def test_invalid_ids_fail_without_network(fakex: FakeX, tmp_path: Path) -> None:
    [result] = fetch(fakex, tmp_path, FetchRequest("12abc"))
    assert result.snapshot is None and result.error == "not a post id"
    assert fakex.count() == 0


def test_oembed_payload_helper_round_trip(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_oembed(
        "1700000000000000018",
        oembed_payload("1700000000000000018", "a &amp; b<br>c", "writer", "Writer"),
    )
    snap = fetch_one(fakex, tmp_path, "1700000000000000018").snapshot
    assert snap is not None and snap.text == "a & b\nc" and snap.html == "a &amp; b<br>c"


def test_per_host_rate_limit(fakex: FakeX, tmp_path: Path) -> None:
    ids = [str(1700000000000003000 + i) for i in range(8)]
    for post_id in ids:
        fakex.add_post(make_tweet_payload(post_id, "rated"))
    started = time.monotonic()
    results = fetch(
        fakex,
        tmp_path,
        *(FetchRequest(i) for i in ids),
        http={"per_host_rate": 4},
        media={"download": False},
    )
    assert all(r.snapshot for r in results)
    # A bucket of 4 tokens refilled at 4/s: the last 4 requests wait ~1 s in all.
    assert time.monotonic() - started >= 0.8
    times = sorted(r.time for r in fakex.requests_for("/tweet-result"))
    assert times[-1] - times[0] >= 0.7
