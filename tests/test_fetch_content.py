"""What a syndication answer becomes: text, links, entities, related posts, cards, edits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakex import FakeX, load_payload, make_fetcher, make_tweet_payload

from archiver.fetch import FetchRequest
from archiver.models import PostSnapshot
from archiver.snapshot.snowflake import created_at_from_id


def snapshot_of(fake: FakeX, tmp_path: Path, post_id: str, **overrides: Any) -> PostSnapshot:
    overrides.setdefault("media", {"download": False})
    with make_fetcher(fake, tmp_path / "media", **overrides) as fetcher:
        [result] = list(fetcher.fetch_many([FetchRequest(post_id)]))
    assert result.snapshot is not None, result.error
    return result.snapshot


def test_text_is_decoded_exactly_once(fakex: FakeX, tmp_path: Path) -> None:
    # The author typed "&lt;" and "R&D <3": X sends "&amp;lt;" and "R&amp;D &lt;3".
    fakex.add_post(make_tweet_payload("1700000000000000101", "write &lt; for <, R&D <3"))
    snap = snapshot_of(fakex, tmp_path, "1700000000000000101")
    assert snap.text == "write &lt; for <, R&D <3"
    assert snap.html == "write &amp;lt; for &lt;, R&amp;D &lt;3"


def test_tco_expansion_counts_code_points(fakex: FakeX, tmp_path: Path) -> None:
    short = "https://t.co/abcdEFGH12"
    text = f"📰🇧🇪 news & views: {short} 👀"
    payload = make_tweet_payload(
        "1700000000000000102", text, links={short: "https://example.com/story?id=1&x=2"}
    )
    fakex.add_post(payload)
    snap = snapshot_of(fakex, tmp_path, "1700000000000000102")
    assert snap.text == "📰🇧🇪 news & views: https://example.com/story?id=1&x=2 👀"
    assert snap.html == (
        "📰🇧🇪 news &amp; views: "
        '<a href="https://example.com/story?id=1&amp;x=2">example.com/story?id=1&amp;x=2</a> 👀'
    )


def test_real_card_payload_mentions_and_emoji(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_post(load_payload("syndication_tweet_with_card.json"))
    snap = snapshot_of(fakex, tmp_path, "1629262255744503809")
    assert snap.text is not None and snap.text.startswith("📰 I recently joined @reactjs!")
    assert snap.text.endswith("tutorial? https://beta.reactjs.org/learn/tutorial-tic-tac-toe")
    assert '<a href="https://x.com/reactjs">@reactjs</a>' in (snap.html or "")
    assert '<a href="https://x.com/sophiebits">@sophiebits</a>' in (snap.html or "")
    assert snap.card == {
        "type": "link",
        "title": "Tutorial: Tic-Tac-Toe – React",
        "description": "The library for web and native user interfaces",
        "url": "https://beta.reactjs.org/learn/tutorial-tic-tac-toe",
        "domain": "react.dev",
        "image": None,
        "image_url": "https://pbs.twimg.com/card_img/1639232954701594625/7ayIAMcm?format=png&name=800x419",
    }


@pytest.mark.parametrize("shape", ["missing", "objects", "lists", "null"])
def test_entities_missing_empty_object_or_list(fakex: FakeX, tmp_path: Path, shape: str) -> None:
    payload = make_tweet_payload("1700000000000000103", "plain #words @nobody")
    if shape == "missing":
        del payload["entities"]
    elif shape == "objects":
        payload["entities"] = {"hashtags": {}, "urls": {}, "user_mentions": {}, "symbols": {}}
    elif shape == "lists":
        payload["entities"] = []
    else:
        payload["entities"] = None
    fakex.add_post(payload)
    snap = snapshot_of(fakex, tmp_path, "1700000000000000103")
    assert snap.text == "plain #words @nobody" and snap.html == "plain #words @nobody"


def test_hashtags_link_to_x(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_post(load_payload("syndication_tweet_with_quote.json"))
    snap = snapshot_of(fakex, tmp_path, "1641895049427550208")
    assert (snap.html or "").startswith(
        '<a href="https://x.com/hashtag/ReactNative">#ReactNative</a>&#x27;s new'
    )


def test_note_tweet_is_truncated(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_post(make_tweet_payload("1700000000000000104", "a long post…", note_tweet=True))
    assert snapshot_of(fakex, tmp_path, "1700000000000000104").truncated is True


def test_hostile_text_and_links_are_inert(fakex: FakeX, tmp_path: Path) -> None:
    short, bad = "https://t.co/evil000001", "https://t.co/evil000002"
    payload = make_tweet_payload(
        "1700000000000000105",
        f'<script>alert(1)</script><img src=x onerror=alert(2)> "q" {short} {bad}',
        links={short: "javascript:alert(3)", bad: 'https://ok.example/"><script>x</script>'},
    )
    payload["user"]["name"] = "<b>Evil</b>"
    fakex.add_post(payload)
    snap = snapshot_of(fakex, tmp_path, "1700000000000000105")
    html = snap.html or ""
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<a " not in html  # neither URL is safe to link
    assert snap.author_name == "<b>Evil</b>"  # plain text: escaping is the renderer's job


def test_quoted_post_is_related(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_post(load_payload("syndication_tweet_with_quote.json"))
    snap = snapshot_of(fakex, tmp_path, "1641895049427550208")
    assert snap.quoted_post_id == "1641086480675225601"
    [quoted] = snap.related
    assert quoted.post_id == "1641086480675225601" and quoted.author_handle == "SamuelSusla"
    assert quoted.status == "live" and quoted.source == "syndication"
    assert quoted.text and quoted.text.endswith("Let me know what you think!")
    assert json.loads(quoted.raw)["id_str"] == "1641086480675225601"


def test_parent_post_is_related(fakex: FakeX, tmp_path: Path) -> None:
    parent = make_tweet_payload("1700000000000000106", "the question", "asker", "Asker")
    reply = make_tweet_payload("1700000000000000107", "@asker the answer", parent=parent)
    fakex.add_post(reply)
    snap = snapshot_of(fakex, tmp_path, "1700000000000000107")
    assert snap.reply_to_post_id == "1700000000000000106"
    assert [r.post_id for r in snap.related] == ["1700000000000000106"]
    assert snap.related[0].text == "the question"


def test_poll_card(fakex: FakeX, tmp_path: Path) -> None:
    def s(value: str) -> dict[str, str]:
        return {"string_value": value, "type": "STRING"}

    card = {
        "name": "poll3choice_text_only",
        "url": "https://t.co/poll000001",
        "binding_values": {
            "choice1_label": s("Yes"),
            "choice1_count": s("10"),
            "choice2_label": s("No"),
            "choice2_count": s("5"),
            "choice3_label": s("Maybe"),
            "choice3_count": s("0"),
            "end_datetime_utc": s("2024-05-01T12:00:00Z"),
            "counts_are_final": {"boolean_value": True, "type": "BOOLEAN"},
        },
    }
    fakex.add_post(make_tweet_payload("1700000000000000108", "Poll time", card=card))
    snap = snapshot_of(fakex, tmp_path, "1700000000000000108")
    assert snap.card == {
        "type": "poll",
        "choices": [
            {"label": "Yes", "count": 10},
            {"label": "No", "count": 5},
            {"label": "Maybe", "count": 0},
        ],
        "ends_at": "2024-05-01T12:00:00.000Z",
        "counts_final": True,
    }


def test_edit_chain_followed_to_latest(fakex: FakeX, tmp_path: Path) -> None:
    chain = ["1700000000000000110", "1700000000000000111", "1700000000000000112"]
    fakex.add_post(make_tweet_payload(chain[0], "first draft tpyo", edit_ids=chain))
    fakex.add_post(make_tweet_payload(chain[2], "final version", edit_ids=chain))
    snap = snapshot_of(fakex, tmp_path, chain[0])
    assert snap.post_id == chain[0] and snap.text == "final version"
    assert snap.edit_ids == chain
    assert snap.created_at == created_at_from_id(chain[0])  # the post's time, not the edit's
    assert fakex.count("/tweet-result", chain[2]) == 1


def test_edit_chain_latest_unavailable_keeps_original(fakex: FakeX, tmp_path: Path) -> None:
    chain = ["1700000000000000113", "1700000000000000114"]
    fakex.add_post(make_tweet_payload(chain[0], "original", edit_ids=chain))
    fakex.add_blocked(chain[1])
    snap = snapshot_of(fakex, tmp_path, chain[0])
    assert snap.text == "original" and snap.edit_ids == chain


def test_verification_and_rtl(fakex: FakeX, tmp_path: Path) -> None:
    payload = make_tweet_payload(
        "1700000000000000115", "مرحبا", lang="ar", user_extra={"verified_type": "Business"}
    )
    fakex.add_post(payload)
    snap = snapshot_of(fakex, tmp_path, "1700000000000000115")
    assert snap.author_verified == "business" and snap.dir == "rtl" and snap.lang == "ar"


def test_reconstructed_video_payload_picks_mp4(fakex: FakeX, tmp_path: Path) -> None:
    fakex.add_post(load_payload("syndication_tweet_video_2026_RECONSTRUCTED.json"))
    snap = snapshot_of(fakex, tmp_path, "2023205364368351634")
    [video, avatar] = snap.media
    assert video.kind == "video" and video.url.endswith("AYxnjkt3c60VBmoa.mp4")
    assert video.poster_url and video.poster_url.endswith("ljIYhvhxV9SKP3IB.jpg")
    assert (video.width, video.height) == (1080, 514)
    assert avatar.kind == "avatar"
    assert snap.text and "t.co" not in snap.text
