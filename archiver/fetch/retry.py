"""The retry policy's plain parts: what a post may still spend (``Budget``), how long to
back off, and how long a server asks us to wait."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC

# Backoff defaults: small on purpose, a post's retries must fit in its deadline and a
# run with the network down must end quickly. PostFetcher lets tests shrink them.
DEFAULT_BACKOFF_BASE = 0.25
DEFAULT_BACKOFF_CAP = 8.0


@dataclass
class Budget:
    """What one post may still spend: a monotonic deadline, and a count of attempts."""

    deadline: float
    attempts: int = 0

    @classmethod
    def for_seconds(cls, seconds: float) -> Budget:
        return cls(deadline=time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    return random.uniform(0.0, min(cap, base * (2 ** max(0, attempt - 1))))


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP-date) or ``x-rate-limit-reset``."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    reset = headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset.strip()) - now)
        except ValueError:
            return None
    return None
