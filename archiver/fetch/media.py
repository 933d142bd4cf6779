"""Media downloads into the content-addressed store ``media_root/<sha256>.<ext>``.

A file's name comes from its bytes, never from its URL, so a hostile URL cannot
choose a path and identical files are stored once. Only hosts in
``media.allowed_hosts`` are contacted, and every redirect hop is checked again (a
CDN must not be able to bounce us to an internal address). Bodies are streamed to
a temp file with a byte cap and accepted only if their magic bytes say jpeg, png,
gif, webp or mp4. A failed download never fails the post: the file is just missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from archiver.config import MediaConfig
from archiver.files import TempFile

from .errors import Refused
from .http import Budget, FetchError, HttpSession
from .policy import host_allowed

log = logging.getLogger(__name__)

_SNIFF_BYTES = 12
# The temp file of a download is named for this (its final name is its hash).
_DOWNLOAD_NAME = "download"


class MediaRejected(Refused):
    """The file is not one we accept (host, type, size); not retried."""


@dataclass(frozen=True)
class StoredFile:
    """A file in the media store; ``name`` is relative to the media root."""

    name: str
    sha256: str
    size: int
    content_type: str


def sniff_media_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from a file's first bytes, or None if not accepted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif", "gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "video/mp4", "mp4"
    return None


class _FileSink:
    """Streams a body to a temp file in the store, hashing it and checking its type."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._temp: TempFile | None = None
        self.hash = hashlib.sha256()
        self.size = 0
        self.head = b""
        self.kind: tuple[str, str] | None = None

    def write(self, chunk: bytes) -> None:
        if self.kind is None:
            self.head += chunk[: _SNIFF_BYTES - len(self.head)]
            if len(self.head) >= _SNIFF_BYTES:
                self._check_type()
        if self._temp is None:
            # Temp file in the store itself, so the final rename is atomic. Committed
            # or discarded in commit()/discard(): a context manager cannot span the
            # stream, and the file's name (its hash) is only known at the end.
            self._temp = TempFile(self._root, _DOWNLOAD_NAME)
        self._temp.handle.write(chunk)
        self.hash.update(chunk)
        self.size += len(chunk)

    def _check_type(self) -> None:
        self.kind = sniff_media_type(self.head)
        if self.kind is None:
            raise MediaRejected(f"not an accepted media type (starts {self.head[:8]!r})")

    def discard(self) -> None:
        if self._temp is not None:
            self._temp.discard()

    def commit(self) -> StoredFile:
        """Move the temp file to ``<sha256>.<ext>``; identical bytes end up in one file."""
        try:
            if self.kind is None:
                self._check_type()  # bodies shorter than the sniff window
            if self._temp is None or self.kind is None:
                raise MediaRejected("empty body")
            digest = self.hash.hexdigest()
            content_type, ext = self.kind
            name = f"{digest}.{ext}"
            final = self._root / name
            if final.exists():
                self._temp.discard()
            else:
                self._temp.commit(final, mode=0o644)  # temp files are 0600; copies are served
            return StoredFile(name=name, sha256=digest, size=self.size, content_type=content_type)
        except BaseException:
            self.discard()
            raise


class MediaStore:
    """Downloads for one run; each URL is fetched at most once per run."""

    def __init__(self, session: HttpSession, config: MediaConfig, root: Path) -> None:
        self.session = session
        self.config = config
        self.root = root
        self._downloads: dict[str, asyncio.Task[StoredFile | None]] = {}
        self.failures: dict[str, str] = {}

    async def fetch(self, url: str, budget: Budget, *, guarded: bool = False) -> StoredFile | None:
        """The stored file for ``url``, or None (reason in ``failures[url]``).

        ``guarded``: the URL's host comes from untrusted content (a Mastodon
        instance's media host): it goes through the session's host guard instead of
        the ``media.allowed_hosts`` list.
        """
        task = self._downloads.get(url)
        if task is None:
            task = asyncio.ensure_future(self._download(url, budget, guarded))
            self._downloads[url] = task
        # Shield: a post cancelled at its deadline must not cancel a download that
        # another post of the run is waiting for too.
        return await asyncio.shield(task)

    async def _download(self, url: str, budget: Budget, guarded: bool) -> StoredFile | None:
        try:
            return await self._download_checked(url, budget, guarded)
        except (FetchError, OSError) as exc:
            self.failures[url] = str(exc) or type(exc).__name__
            log.info("media not stored: %s: %s", url, exc)
            return None

    async def aclose(self) -> None:
        """Cancel downloads nobody waits for any more (posts past their deadline)."""
        pending = [task for task in self._downloads.values() if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _download_checked(self, url: str, budget: Budget, guarded: bool) -> StoredFile:
        self.root.mkdir(parents=True, exist_ok=True)
        response = await self.session.get(
            url,
            budget=budget,
            max_bytes=self.config.max_bytes,
            # Every redirect hop is checked: against the allow-list, or by the guard.
            check=None if guarded else self._check_host,
            sink_factory=lambda: _FileSink(self.root),
            whole_request_timeout=False,
            guarded=guarded,
        )
        sink = response.sink
        if response.status != 200 or not isinstance(sink, _FileSink):
            if isinstance(sink, _FileSink):
                sink.discard()
            raise FetchError(f"HTTP {response.status}")
        return sink.commit()

    def _check_host(self, url: str) -> None:
        if not host_allowed(url, self.config.allowed_hosts):
            raise MediaRejected(f"host not in media.allowed_hosts: {url}")
