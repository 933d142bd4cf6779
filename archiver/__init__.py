"""embed-archiver: find embedded social posts in articles, archive them, rewrite the embeds."""

from archiver.api import Archive
from archiver.config import Config, ConfigError, load_config
from archiver.models import Post, PostSnapshot, RunReport

__version__ = "0.1.0"

__all__ = ["Archive", "Config", "ConfigError", "Post", "PostSnapshot", "RunReport", "load_config"]
