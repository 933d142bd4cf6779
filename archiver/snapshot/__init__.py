"""Snapshots of posts: from embed markup now, from network sources later."""

from archiver.snapshot.markup import STATUS_URL_RE, canonical_url, snapshot_from_markup
from archiver.snapshot.sanitize import (
    html_to_text,
    parse_fragment,
    safe_http_url,
    sanitize_post_html,
    strip_tracking_params,
    text_to_html,
)
from archiver.snapshot.snowflake import (
    created_at_from_id,
    iso_ms,
    parse_date_text,
    utc_now_iso,
)

__all__ = [
    "STATUS_URL_RE",
    "canonical_url",
    "created_at_from_id",
    "html_to_text",
    "iso_ms",
    "parse_date_text",
    "parse_fragment",
    "safe_http_url",
    "sanitize_post_html",
    "snapshot_from_markup",
    "strip_tracking_params",
    "text_to_html",
    "utc_now_iso",
]
