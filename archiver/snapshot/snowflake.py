"""Old home of X's snowflake time and the date helpers: they now live in the X platform
(``archiver.platforms.x.snowflake``); these names stay importable for existing callers."""

from archiver.platforms.x.snowflake import (
    MAX_ID_EXCLUSIVE,
    MIN_SNOWFLAKE_ID,
    TWITTER_EPOCH_MS,
    created_at_from_id,
    iso_ms,
    parse_date_text,
    utc_now_iso,
)

__all__ = [
    "MAX_ID_EXCLUSIVE",
    "MIN_SNOWFLAKE_ID",
    "TWITTER_EPOCH_MS",
    "created_at_from_id",
    "iso_ms",
    "parse_date_text",
    "utc_now_iso",
]
