"""Snapshots of posts: what every platform shares (sanitizing, dates).

X's markup scraper moved to the X platform (``archiver.platforms.x.markup`` and its
lxml fast path ``markup_lxml``); its names stay importable from here, looked up on
first use (importing it eagerly would tie this package's initialisation to X's).
"""

from typing import Any

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

_X_MARKUP = frozenset({"STATUS_URL_RE", "canonical_url", "snapshot_from_markup"})


def __getattr__(name: str) -> Any:
    if name in _X_MARKUP:
        from archiver.platforms.x import markup

        return getattr(markup, name)
    if name == "markup_lxml":
        from archiver.platforms.x import markup_lxml

        return markup_lxml
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
