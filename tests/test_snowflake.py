"""Snowflake timestamps and date helpers (archiver.snapshot.snowflake)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from archiver.snapshot.snowflake import (
    MIN_SNOWFLAKE_ID,
    created_at_from_id,
    iso_ms,
    parse_date_text,
    utc_now_iso,
)


def test_reference_value_from_endpoints_notes() -> None:
    # notes/endpoints.md: the payload says 11:24:04.000Z (rounded down to seconds).
    assert created_at_from_id("2023357708301455483") == "2026-02-16T11:24:04.484Z"


def test_reference_value_2011_matches_legacy_data_datetime() -> None:
    # notes/markup.md: data-datetime="2011-01-14T23:38:11+00:00" in the 2011 oEmbed cache.
    got = created_at_from_id("26060538500878337")
    assert got is not None
    assert got.startswith("2011-01-14T23:38:11.")
    assert got.endswith("Z") and len(got) == len("2011-01-14T23:38:11.000Z")


def test_exact_integer_math_above_2_53() -> None:
    # A float would round this id; build one whose timestamp we know exactly.
    ms = 1770000000123 - 1288834974657
    post_id = (ms << 22) | 0x3FFFFF  # all machine/sequence bits set
    assert post_id > 2**53
    assert created_at_from_id(str(post_id)) == "2026-02-02T02:40:00.123Z"


@pytest.mark.parametrize("post_id", ["20", "1", "29700859246", "0"])
def test_pre_snowflake_ids_give_none(post_id: str) -> None:
    assert created_at_from_id(post_id) is None


def test_boundaries() -> None:
    assert created_at_from_id(str(MIN_SNOWFLAKE_ID)) is not None
    assert created_at_from_id(str(2**63 - 1)) is not None
    assert created_at_from_id(str(2**63)) is None


@pytest.mark.parametrize(
    "junk", ["", "abc", "12a4", "-5", "1.5e18", "１２３４５６７８９０１２３", "9" * 5000]
)
def test_junk_gives_none(junk: str) -> None:
    assert created_at_from_id(junk) is None


def test_iso_ms_formats() -> None:
    dt = datetime(2026, 2, 9, 14, 31, 7, 123456, tzinfo=UTC)
    assert iso_ms(dt) == "2026-02-09T14:31:07.123Z"
    # Naive is UTC; other zones are converted.
    assert iso_ms(dt.replace(tzinfo=None)) == "2026-02-09T14:31:07.123Z"
    plus2 = dt.astimezone(timezone(timedelta(hours=2)))
    assert iso_ms(plus2) == "2026-02-09T14:31:07.123Z"


def test_utc_now_iso_shape() -> None:
    now = utc_now_iso()
    assert len(now) == 24 and now.endswith("Z") and now[10] == "T" and now[19] == "."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("February 9, 2026", "2026-02-09T00:00:00.000Z"),
        ("9 February 2026", "2026-02-09T00:00:00.000Z"),
        ("Feb 9, 2026", "2026-02-09T00:00:00.000Z"),
        ("27. January 2016", "2016-01-27T00:00:00.000Z"),
        ("March 21, 2006", "2006-03-21T00:00:00.000Z"),
        ("June 29, 2025 at 11:37 PM", "2025-06-29T00:00:00.000Z"),
        ("2011-01-14", "2011-01-14T00:00:00.000Z"),
    ],
)
def test_parse_date_text_english(text: str, expected: str) -> None:
    assert parse_date_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2018年3月21日", "30 de julho de 2016", "20 avril 2017", "", "February 30, 2026", "soon"],
)
def test_parse_date_text_unknown(text: str) -> None:
    assert parse_date_text(text) is None
