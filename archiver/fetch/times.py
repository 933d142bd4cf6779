"""The time formats post payloads use, read into the archive's one timestamp format."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from archiver.clock import iso_from_unix_ms
from archiver.snapshot.snowflake import created_at_from_id


def iso_from_epoch_ms(ms: float) -> str:
    """``2026-02-16T11:24:04.484Z`` from milliseconds since the Unix epoch."""
    return iso_from_unix_ms(math.floor(ms))


def parse_time_ms(value: object) -> int | None:
    """Epoch ms from the date formats X payloads use (ISO 8601, or the v1.1 API's
    ``Wed Oct 10 20:19:24 +0000 2018``); None when unparseable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            stamp = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return round(stamp.timestamp() * 1000)


def best_created_at(post_id: str, payload_value: object) -> str | None:
    """The post's creation time: the snowflake's exact ms when the id is a snowflake
    (payloads round down to whole seconds), else the payload's, normalised."""
    from_id = created_at_from_id(post_id)
    if from_id is not None:
        return from_id
    from_payload = parse_time_ms(payload_value)
    return iso_from_epoch_ms(from_payload) if from_payload is not None else None
