"""The archive: SQLite through sqlite-utils. All SQL of the project lives here.

The rest of the code depends on ``ArchiveStorage`` (``storage.protocol``); ``Store`` is
its SQLite implementation, opened with ``Store(path)``.
"""

from archiver.storage.articles import ArticleState, EmbedRecord, SeenLocations, StoredEmbed
from archiver.storage.errors import DatabaseError, OperationalError
from archiver.storage.filters import PostFilter
from archiver.storage.pass_posts import PassPosts
from archiver.storage.posts import DuePost
from archiver.storage.protocol import ArchiveStorage
from archiver.storage.results import IndexedPost
from archiver.storage.schema import SCHEMA_VERSION, migrate
from archiver.storage.store import Store, content_hash

__all__ = [
    "SCHEMA_VERSION",
    "ArchiveStorage",
    "ArticleState",
    "DatabaseError",
    "DuePost",
    "EmbedRecord",
    "IndexedPost",
    "OperationalError",
    "PassPosts",
    "PostFilter",
    "SeenLocations",
    "Store",
    "StoredEmbed",
    "content_hash",
    "migrate",
]
