"""Logging setup: plain text for people, one JSON object per line for log collectors."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Each record as one JSON line; ``extra={...}`` fields are included as keys."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(log_format: str = "text", verbose: int = 0) -> None:
    """Log to stderr; warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO; keep that for -vv only.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


class ConsoleHandler(logging.Handler):
    """Writes records through a rich Console, in the same format as the stderr handler.

    While a progress line is live on that console, rich prints each record above it
    and draws the progress line again, instead of the record landing in the middle
    of the line. (rich's own RichHandler would also do this, but lays records out in
    columns: the same text as without a terminal is easier to grep.)
    """

    def __init__(self, console: Any, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.console = console
        if formatter is not None:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from rich.text import Text

            # Text, not str: "[...]" in a message is not rich markup.
            self.console.print(Text(self.format(record)), soft_wrap=True, highlight=False)
        except Exception:
            self.handleError(record)


@contextmanager
def logs_through(console: Any) -> Iterator[None]:
    """Route the root logger's stderr output through ``console`` while in the block."""
    root = logging.getLogger()
    previous = list(root.handlers)
    replaced = [
        ConsoleHandler(console, h.formatter)
        if isinstance(h, logging.StreamHandler) and h.stream in (sys.stderr, sys.__stderr__)
        else h
        for h in previous
    ]
    for new, old in zip(replaced, previous, strict=True):
        new.setLevel(old.level)
    root.handlers[:] = replaced
    try:
        yield
    finally:
        root.handlers[:] = previous
