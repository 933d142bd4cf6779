"""embed-archiver: find embedded social posts in articles, archive them, rewrite the embeds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archiver.config import Config, ConfigError, load_config
from archiver.errors import ArchiverError
from archiver.models import Post, PostSnapshot, RunReport

if TYPE_CHECKING:
    from archiver.api import Archive

__version__ = "0.1.0"

__all__ = [
    "Archive",
    "ArchiverError",
    "Config",
    "ConfigError",
    "Post",
    "PostSnapshot",
    "RunReport",
    "load_config",
]


def __getattr__(name: str) -> Any:
    # Archive pulls in the whole pipeline, which imports storage, which imports
    # archiver.models: importing it lazily lets `import storage` come first.
    if name == "Archive":
        from archiver.api import Archive

        return Archive
    raise AttributeError(f"module 'archiver' has no attribute {name!r}")
