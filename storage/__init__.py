"""The archive: SQLite through sqlite-utils. All SQL of the project lives here."""

from archiver.storage.schema import SCHEMA_VERSION, migrate
from archiver.storage.store import (
    ArticleState,
    DuePost,
    EmbedRecord,
    Store,
    StoredEmbed,
    content_hash,
)

__all__ = [
    "SCHEMA_VERSION",
    "ArticleState",
    "DuePost",
    "EmbedRecord",
    "Store",
    "StoredEmbed",
    "content_hash",
    "migrate",
]
