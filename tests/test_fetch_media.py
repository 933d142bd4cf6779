"""Media downloads: content-addressed, allow-listed, capped, sniffed; never fatal."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fakex import TINY_GIF, FakeX, make_fetcher, make_tweet_payload, tiny_jpeg, tiny_mp4, tiny_png

from archiver.fetch import FetchRequest
from archiver.fetch.media import host_allowed, sniff_media_type
from archiver.files import is_temp_name
from archiver.models import PostSnapshot


def _temp_files(root: Path) -> list[Path]:
    """Temp files of downloads left in the media store (none once a download ends)."""
    return [p for p in root.glob(".*") if is_temp_name(p.name, in_media_store=True)]


def snapshot_of(fake: FakeX, media_root: Path, post_id: str, **overrides: Any) -> PostSnapshot:
    with make_fetcher(fake, media_root, **overrides) as fetcher:
        [result] = list(fetcher.fetch_many([FetchRequest(post_id)]))
    assert result.snapshot is not None, result.error
    return result.snapshot


def test_photo_video_and_avatar_are_stored_by_hash(fakex: FakeX, tmp_path: Path) -> None:
    photo = fakex.add_media("p/photo.jpg", tiny_jpeg(1))
    poster = fakex.add_media("v/poster.jpg", tiny_jpeg(2))
    video = fakex.add_media("v/clip.mp4", tiny_mp4(1), "video/mp4")
    avatar = fakex.add_media("a/me_normal.png", tiny_png(1), "image/png")
    payload = make_tweet_payload(
        "1700000000000000201",
        "look",
        media=[
            {"type": "photo", "url": photo, "alt": "a cat"},
            {"type": "video", "url": video, "poster": poster},
        ],
        avatar=avatar,
    )
    fakex.add_post(payload)
    root = tmp_path / "media"
    snap = snapshot_of(fakex, root, "1700000000000000201")
    assert snap.text == "look"
    kinds = {m.kind: m for m in snap.media}
    assert set(kinds) == {"photo", "video", "avatar"}
    for item, data, ext in [
        (kinds["photo"], tiny_jpeg(1), "jpg"),
        (kinds["video"], tiny_mp4(1), "mp4"),
        (kinds["avatar"], tiny_png(1), "png"),
    ]:
        digest = hashlib.sha256(data).hexdigest()
        assert item.local_path == f"{digest}.{ext}" and item.sha256 == digest
        assert item.bytes == len(data)
        assert (root / item.local_path).read_bytes() == data
    assert kinds["photo"].alt_text == "a cat" and kinds["photo"].content_type == "image/jpeg"
    assert kinds["video"].content_type == "video/mp4"
    assert kinds["video"].poster_local_path == hashlib.sha256(tiny_jpeg(2)).hexdigest() + ".jpg"
    assert not _temp_files(root)


def test_identical_bytes_are_stored_once(fakex: FakeX, tmp_path: Path) -> None:
    a = fakex.add_media("one.gif", TINY_GIF, "image/gif")
    b = fakex.add_media("two.gif", TINY_GIF, "image/gif")
    fakex.add_post(make_tweet_payload("1700000000000000202", "a", media=[{"url": a}], avatar=a))
    fakex.add_post(make_tweet_payload("1700000000000000203", "b", media=[{"url": b}], avatar=a))
    root = tmp_path / "media"
    with make_fetcher(fakex, root) as fetcher:
        results = list(
            fetcher.fetch_many(
                [FetchRequest("1700000000000000202"), FetchRequest("1700000000000000203")]
            )
        )
    names = {m.local_path for r in results if r.snapshot for m in r.snapshot.media}
    assert names == {hashlib.sha256(TINY_GIF).hexdigest() + ".gif"}
    assert [p.name for p in root.iterdir()] == list(names)
    assert fakex.count("/media/one.gif") == 1  # one download per URL per run


def test_disallowed_host_is_not_contacted(fakex: FakeX, tmp_path: Path) -> None:
    url = fakex.add_media("x.jpg", tiny_jpeg())
    fakex.add_post(make_tweet_payload("1700000000000000204", "x", media=[{"url": url}]))
    snap = snapshot_of(
        fakex, tmp_path, "1700000000000000204", media={"allowed_hosts": ["pbs.twimg.com"]}
    )
    assert snap.text == "x" and all(m.local_path is None for m in snap.media)
    assert fakex.count("/media/x.jpg") == 0


def test_redirect_to_disallowed_host_is_rejected(fakex: FakeX, tmp_path: Path) -> None:
    with FakeX() as elsewhere:
        target = elsewhere.add_media("stolen.jpg", tiny_jpeg())
        hop = fakex.add_redirect("/media/hop.jpg", target)
        ok_target = fakex.add_media("fine.jpg", tiny_jpeg(5))
        ok_hop = fakex.add_redirect("/media/okhop.jpg", "/media/fine.jpg", status=301)
        fakex.add_post(
            make_tweet_payload(
                "1700000000000000205", "r", media=[{"url": hop}, {"url": ok_hop}], avatar=ok_target
            )
        )
        snap = snapshot_of(fakex, tmp_path, "1700000000000000205")
        assert elsewhere.count() == 0
    bad, good, _avatar = snap.media
    assert bad.local_path is None
    assert good.local_path == hashlib.sha256(tiny_jpeg(5)).hexdigest() + ".jpg"


def test_oversized_media_is_rejected_post_kept(fakex: FakeX, tmp_path: Path) -> None:
    big = fakex.add_media("big.png", tiny_png() + b"\0" * 50_000, "image/png")
    fakex.add_post(make_tweet_payload("1700000000000000206", "big", media=[{"url": big}]))
    root = tmp_path / "media"
    snap = snapshot_of(fakex, root, "1700000000000000206", media={"max_bytes": 10_000})
    assert snap.text == "big" and snap.media[0].local_path is None
    assert fakex.count("/media/big.png") == 1  # not retried
    assert not list(root.glob("*.png")) and not _temp_files(root)


def test_oversized_without_content_length_is_cut_while_streaming(
    fakex: FakeX, tmp_path: Path
) -> None:
    from fakex import Fault

    big = fakex.add_media("big2.png", tiny_png() + b"\0" * 50_000, "image/png")
    # No Content-Length to check up front: the cap must hold while streaming.
    fakex.add_fault(Fault(no_length=5), path="/media/big2.png")
    fakex.add_post(make_tweet_payload("1700000000000000207", "big", media=[{"url": big}]))
    root = tmp_path / "media"
    snap = snapshot_of(fakex, root, "1700000000000000207", media={"max_bytes": 10_000})
    assert snap.media[0].local_path is None and not _temp_files(root)
    assert fakex.count("/media/big2.png") == 1


def test_wrong_magic_bytes_are_rejected(fakex: FakeX, tmp_path: Path) -> None:
    fake_jpg = fakex.add_media("evil.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    fakex.add_post(make_tweet_payload("1700000000000000208", "e", media=[{"url": fake_jpg}]))
    root = tmp_path / "media"
    snap = snapshot_of(fakex, root, "1700000000000000208")
    assert snap.media[0].local_path is None
    assert not list(root.glob("*.jpg")) and not _temp_files(root)


def test_media_404_and_5xx_do_not_fail_the_post(fakex: FakeX, tmp_path: Path) -> None:
    from fakex import Fault

    gone = fakex.base_url + "/media/missing.jpg"
    flaky = fakex.add_media("flaky.jpg", tiny_jpeg(9))
    fakex.add_fault(Fault(status_5xx=1), path="/media/flaky.jpg")
    fakex.add_post(
        make_tweet_payload("1700000000000000209", "m", media=[{"url": gone}, {"url": flaky}])
    )
    snap = snapshot_of(fakex, tmp_path, "1700000000000000209")
    assert snap.media[0].local_path is None
    assert snap.media[1].local_path == hashlib.sha256(tiny_jpeg(9)).hexdigest() + ".jpg"


def test_card_image_downloaded(fakex: FakeX, tmp_path: Path) -> None:
    image = fakex.add_media("card.png", tiny_png(7), "image/png")
    card = {
        "name": "summary_large_image",
        "url": "https://t.co/card000001",
        "binding_values": {
            "title": {"string_value": "Story", "type": "STRING"},
            "photo_image_full_size_large": {"image_value": {"url": image}, "type": "IMAGE"},
        },
    }
    fakex.add_post(make_tweet_payload("1700000000000000210", "card", card=card))
    snap = snapshot_of(fakex, tmp_path, "1700000000000000210")
    assert snap.card and snap.card["image"] == hashlib.sha256(tiny_png(7)).hexdigest() + ".png"


def test_allow_list_matching() -> None:
    allowed = ["pbs.twimg.com", "127.0.0.1:8123"]
    assert host_allowed("https://pbs.twimg.com/media/a.jpg", allowed)
    assert host_allowed("https://PBS.twimg.com:443/media/a.jpg", allowed)
    assert not host_allowed("https://pbs.twimg.com:8443/a.jpg", allowed)
    assert not host_allowed("https://pbs.twimg.com.evil.example/a.jpg", allowed)
    assert not host_allowed("ftp://pbs.twimg.com/a.jpg", allowed)
    assert host_allowed("http://127.0.0.1:8123/media/a.jpg", allowed)
    assert not host_allowed("http://127.0.0.1:8124/media/a.jpg", allowed)
    assert not host_allowed("http://127.0.0.1/media/a.jpg", allowed)


def test_sniffing() -> None:
    assert sniff_media_type(tiny_jpeg()) == ("image/jpeg", "jpg")
    assert sniff_media_type(tiny_png()) == ("image/png", "png")
    assert sniff_media_type(TINY_GIF) == ("image/gif", "gif")
    assert sniff_media_type(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    assert sniff_media_type(tiny_mp4()) == ("video/mp4", "mp4")
    assert sniff_media_type(b"<svg xmlns=...>") is None
