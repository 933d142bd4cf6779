"""The Python API. The CLI and the service are thin layers over ``Archive``.

Longer than 450 lines on purpose: it is the public facade, one class whose methods each
hand one call to storage, the pipeline or export, kept whole so the API reads in one place.

>>> from archiver import Archive
>>> with Archive.from_config("config.yaml") as archive:
...     report = archive.run()
...     post = archive.post("x:1641086480675225601")
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from archiver.clock import utc_now
from archiver.config import Config, config_from_dict, load_config
from archiver.errors import NotFoundError as NotFoundError
from archiver.lock import ArchiveLock
from archiver.models import Post, RunOutcome, RunReport
from archiver.pipeline import Pipeline
from archiver.storage import ArchiveStorage, Store
from archiver.storage.queries import (
    MARK_END,
    MARK_START,
    ORDERS,
    ArticleDetail,
    ArticleSummary,
    PostDetail,
    PostFilter,
    QueryError,
    SearchHit,
)

if TYPE_CHECKING:
    from archiver.export import RestoreResult
    from archiver.fetch import PostFetcher
    from archiver.sources.remote import RemoteSources


class Archive:
    """An archive of embedded posts: a config plus its SQLite database."""

    def __init__(self, config: Config) -> None:
        self.config = config
        # Everything below depends on the interface; Store is its SQLite implementation.
        self.store: ArchiveStorage = Store(config.database)
        self.stop = threading.Event()
        self._fetcher: PostFetcher | None = None
        self._remote: RemoteSources | None = None
        # The one-writer lock (archive.db.lock). Re-entrant within this process:
        # `serve` holds it for its lifetime and each job's run nests inside.
        self._lock = ArchiveLock(config.database)
        self._lock_depth = 0
        self._lock_guard = threading.Lock()

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Archive:
        """Open the archive described by a config file (``config.yaml`` by default)."""
        return cls(load_config(path))

    @classmethod
    def open(cls, database: str | os.PathLike[str]) -> Archive:
        """Open an archive database directly, for queries (no sources configured)."""
        db_path = Path(database).resolve()
        config = config_from_dict({"database": str(db_path)}, base=db_path.parent)
        config.no_fetching()
        return cls(config)

    @contextmanager
    def lock(self) -> Iterator[ArchiveLock]:
        """Hold the archive's writer lock; raise ``archiver.lock.LockHeld`` (exit code 4 in
        the CLI) at once if another process holds it. Nests within one process."""
        with self._lock_guard:
            if self._lock_depth == 0:
                self._lock.acquire()
                try:
                    # We are now the only writer, so runs still marked 'running' belong
                    # to a process that died (kill -9, power loss): close them.
                    self.store.mark_stale_runs(utc_now())
                except BaseException:
                    self._lock.release()
                    raise
            self._lock_depth += 1
        try:
            yield self._lock
        finally:
            with self._lock_guard:
                self._lock_depth -= 1
                if self._lock_depth == 0:
                    self._lock.release()

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None
        if self._remote is not None:
            self._remote.close()
            self._remote = None
        self.store.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- work ----------------------------------------------------------------------

    def run(self, progress: Callable[[str], None] | None = None) -> RunReport:
        """One pass: scan sources, snapshot new and due posts, rewrite articles."""
        return self._recorded("run", lambda p: p.run(), progress)

    def regenerate(
        self, locations: Iterable[str] | None = None, progress: Callable[[str], None] | None = None
    ) -> RunReport:
        """Rewrite articles from the archive, without scanning for new posts.

        ``locations`` name articles as ``restore`` does; an unknown one raises
        ``NotFoundError`` before anything is written.
        """
        if locations is not None:
            locations = [
                row["location"]
                for article_id in self._article_ids(locations)
                if (row := self.store.article_row(article_id)) is not None
            ]
        return self._recorded("regenerate", lambda p: p.regenerate(locations), progress)

    def add(
        self,
        targets: Iterable[str],
        keep: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> RunReport:
        """Archive these articles now (URLs or file paths): fetch, detect, snapshot, rewrite.

        Nothing else is scanned and no source is marked removed. ``keep`` also appends
        the URLs to the ``urls`` source named ``added`` in the config file, so later runs
        rescan them. Raises ``archiver.sources.added.TargetError`` for a bad target, and
        ``archiver.project.ProjectError`` if ``keep`` cannot edit the config, both
        before anything is written.
        """
        from archiver.project import KEPT_SOURCE, ProjectError, keep_urls
        from archiver.sources.added import ONE_OFF_SOURCE, resolve_targets

        targets = list(targets)
        config_path = self.config.config_path
        if keep and config_path is None:
            raise ProjectError("--keep needs a config file to write the URLs to")
        refs = resolve_targets(self.config, targets, KEPT_SOURCE if keep else None)
        if keep and config_path is not None:
            local = [r.location for r in refs if r.path is not None and r.source == ONE_OFF_SOURCE]
            if local:
                raise ProjectError(
                    f"--keep keeps URLs; {', '.join(local)} is outside every directory "
                    "source: move it into a source's folder for later runs to rescan it"
                )
            with self.lock():  # no run may read the config half-way through our edit
                keep_urls(config_path, [r.url for r in refs if r.url and r.source == KEPT_SOURCE])
        return self._recorded("add", lambda p: p.run(refs), progress)

    def recheck(self) -> RunReport:
        """Check the posts that are due over the network; rewrite articles whose posts changed."""
        return self._recorded("recheck", lambda p: p.recheck(), None)

    def pipeline(self, progress: Callable[[str], None] | None = None) -> Pipeline:
        # The remote sources are built on first use: importing them (httpx and its
        # dependencies) cost a directory-only run 0.18 s in a fresh process.
        return Pipeline(
            config=self.config,
            store=self.store,
            fetcher=self._get_fetcher(),
            stop=self.stop,
            progress=progress,
            remote_lister=lambda source, index: self._get_remote().list_articles(source, index),
            remote_reader=lambda ref: self._get_remote().read(ref),
            remote_refetch=lambda ref: self._get_remote().read_fresh(ref),
        )

    def _get_remote(self) -> RemoteSources:
        # One HTTP client for the archive's lifetime (the service reuses it across jobs);
        # it only connects when a urls/sitemap/feed source is actually read.
        if self._remote is None:
            from archiver.sources.remote import RemoteSources

            self._remote = RemoteSources(self.config, self.store.get_article)
        return self._remote

    def _recorded(
        self,
        kind: str,
        work: Callable[[Pipeline], RunReport],
        progress: Callable[[str], None] | None,
    ) -> RunReport:
        with self.lock():  # writers only: one run, recheck or regenerate per archive at a time
            run_id = self.store.start_run(kind, utc_now())
            try:
                report = work(self.pipeline(progress))
            except BaseException as exc:
                self.store.finish_run(run_id, RunOutcome.FAILED, {}, utc_now(), error=repr(exc))
                raise
            outcome = RunOutcome.INTERRUPTED if self.stop.is_set() else RunOutcome.OK
            if report.errors and outcome == RunOutcome.OK:
                outcome = RunOutcome.ERRORS
            if outcome != RunOutcome.INTERRUPTED and self._index_is_stale(report):
                self._update_index()
            self.store.finish_run(run_id, outcome, report.as_dict(), utc_now())
            return report

    def _index_is_stale(self, report: RunReport) -> bool:
        changed = report.posts_new or report.posts_updated or report.articles_rewritten
        # A run that did not finish (killed, stopped, failed) may have changed posts
        # and articles without writing the index: this one writes it.
        previous = self.store.recent_runs(2)[1:]
        unfinished = bool(previous) and previous[0].get("outcome") not in (
            RunOutcome.OK,
            RunOutcome.ERRORS,
        )
        return bool(changed) or unfinished or not (self.config.embeds_root / "index.html").exists()

    def fetching_platforms(self) -> tuple[str, ...]:
        """The registered platforms whose posts are looked up on the network (each
        platform's own switch: ``x.fetch``, ``bluesky.enabled``, ``mastodon.enabled``)."""
        from archiver import platforms

        return tuple(p.name for p in platforms.all_platforms() if self.config.fetches(p.name))

    def _get_fetcher(self) -> PostFetcher | None:
        names = self.fetching_platforms()
        if not names:
            return None
        if self._fetcher is None:
            from archiver import platforms
            from archiver.fetch import PostFetcher

            self._fetcher = PostFetcher(
                x=self.config.x,
                wayback=self.config.wayback,
                http=self.config.http,
                media=self.config.media,
                media_root=self.config.media_root,
                platforms=[platforms.get(name) for name in names],
                sections={"bluesky": self.config.bluesky, "mastodon": self.config.mastodon},
                config=self.config,
            )
        return self._fetcher

    # -- queries, export, restore, index (SQL lives in storage/) ----------

    def find_post_key(self, ref: str) -> str | None:
        """The stored post ``ref`` names (see ``post``), or None."""
        from archiver import platforms

        ref = ref.strip()
        candidates = [ref]
        for platform in platforms.all_platforms():
            found = platform.parse_url(ref)
            if found is not None:
                candidates.append(f"{platform.name}:{found.post_id}")
        for candidate in candidates:
            key = self.store.find_post_key(candidate)
            if key is None:  # a Bluesky handle-form key, once resolved
                key = self.store.post_aliases([candidate]).get(candidate)
            if key is not None:
                return key
        return None

    def post(self, ref: str) -> PostDetail | None:
        """A post by key (``x:ID``, ``bluesky:DID/RKEY``, ``mastodon:HOST/ID``), bare X
        id, or any URL a registered platform reads (a status URL, a ``bsky.app`` post
        or at:// URI, by handle too once resolved, a Mastodon post URL), with its full
        history.

        The result is a ``Post`` plus ``snapshots`` (every captured version, oldest
        first) and ``articles`` (every article that embeds it, removed ones too).
        """
        key = self.find_post_key(ref)
        post = self.store.get_post(key) if key else None
        if post is None:
            return None
        return PostDetail.from_post(
            post, self.store.snapshots_of(post.key), self.store.articles_of_post(post.key)
        )

    def post_keys(self) -> list[str]:
        return self.store.post_keys()

    def post_filter(
        self,
        *,
        author: str | None = None,
        since: str | None = None,
        until: str | None = None,
        status: str | Iterable[str] | None = None,
        article: str | None = None,
        platform: str | None = None,
        archived_since: str | None = None,
        archived_until: str | None = None,
        limit: int | None = None,
        order: str = "created",
        desc: bool = False,
    ) -> PostFilter:
        """Build a post filter; raise ``NotFoundError`` if ``article`` matches no article.

        Bad dates or orders raise ``QueryError`` when the filter is used.
        """
        article_id = None
        if article is not None:
            article_id = self.store.find_article_id(article)
            if article_id is None:
                raise NotFoundError(f"no article matches {article!r}")
        statuses = (status,) if isinstance(status, str) else tuple(status or ())
        filters = PostFilter(
            author=author,
            since=since,
            until=until,
            archived_since=archived_since,
            archived_until=archived_until,
            statuses=statuses,
            platform=platform,
            article_id=article_id,
            limit=limit,
            order=order,
            desc=desc,
        )
        return filters

    def posts(self, filters: PostFilter | None = None, **criteria: Any) -> list[Post]:
        """Archived posts matching ``filters`` (or keyword criteria, see ``post_filter``).

        ``archive.posts(author="jack", since="2024-01-01", status="deleted", limit=20)``
        """
        if filters is None:
            filters = self.post_filter(**criteria)
        return self.store.list_posts(filters)

    def count_posts(self, filters: PostFilter | None = None) -> int:
        return self.store.count_posts(filters)

    def search(
        self,
        query: str,
        *,
        raw: bool = False,
        filters: PostFilter | None = None,
        limit: int | None = 20,
        **criteria: Any,
    ) -> list[SearchHit]:
        """Full-text search over post text, author names and handles, best match first.

        Words are searched as quoted phrases (``AND``, ``"`` and ``-`` are plain text);
        ``raw=True`` passes FTS5 query syntax through. ``hit.snippet`` marks matches
        with ``storage.queries.MARK_START``/``MARK_END``.
        """
        if filters is None:
            filters = self.post_filter(limit=limit, **criteria)
        return self.store.search_posts(query, filters, raw=raw)

    def articles(
        self,
        status: str | Iterable[str] | None = None,
        include_removed: bool = False,
        limit: int | None = None,
        platform: str | None = None,
    ) -> list[ArticleSummary]:
        """Articles with counts of their embeds by post status.

        ``status="deleted"`` lists only articles embedding a deleted post ("gone" means
        deleted, protected, suspended or unavailable); ``platform="bluesky"`` only
        articles embedding a Bluesky post.
        """
        statuses = (status,) if isinstance(status, str) else tuple(status or ())
        return self.store.list_articles(statuses, include_removed, limit, platform)

    def article(self, ref: str) -> ArticleDetail | None:
        """An article by location, URL, path or unique suffix, with each embed and its post."""
        article_id = self.store.find_article_id(ref)
        detail = self.store.article_detail(article_id) if article_id is not None else None
        if detail is not None:
            detail.reported = self.store.reported_embeds(detail.article.location)
        return detail

    def export(
        self,
        output: str | os.PathLike[str] | IO[str],
        fmt: str = "jsonl",
        filters: PostFilter | None = None,
        advance: Callable[[], None] | None = None,
    ) -> int:
        """Write posts with their latest snapshot as JSONL or CSV; return the count.

        A path is written atomically; a text stream is written as rows come.
        """
        from archiver.export import export_to

        return export_to(self.store, output, fmt, filters, advance)

    def export_reported(self, output: str | os.PathLike[str] | IO[str], fmt: str = "jsonl") -> int:
        """Write the embeds of reported-only platforms (Threads, Instagram, TikTok,
        Facebook: article, platform, URL, byte span) as JSONL or CSV; return the count."""
        from archiver.export import export_reported_to

        return export_reported_to(self.store, output, fmt)

    def stats(self, top: int = 10) -> dict[str, Any]:
        """Counts by status, platform and author (top N), embeds of reported-only
        platforms by platform (``reported_by_platform``), and the archive's size on disk."""
        data = self.store.stats(top)
        data["reported_by_platform"] = self.store.reported_counts()
        db_path = self.store.path
        data["db_bytes"] = sum(
            p.stat().st_size
            for p in (db_path, db_path.with_name(db_path.name + "-wal"))
            if p.exists()
        )
        media_root = self.config.media_root
        on_disk = [media_root / name for name in self.store.media_files()]
        data["media_bytes"] = sum(p.stat().st_size for p in on_disk if p.is_file())
        return data

    def restore(self, articles: Iterable[str] | None = None) -> list[RestoreResult]:
        """Put the original embed markup back in articles (all live ones, or those named).

        Raises ``NotFoundError`` naming the first unknown article before changing anything.
        """
        from archiver.export import restore_article

        ids = (
            self.store.rewritten_article_ids() if articles is None else self._article_ids(articles)
        )
        output_dir = None if self.config.output.in_place else self.config.output.dir
        with self.lock():  # a run must not rewrite the files while we put originals back
            return [restore_article(self.store, article_id, output_dir) for article_id in ids]

    def _article_ids(self, articles: Iterable[str]) -> list[int]:
        """Resolve article names (location, URL, path, or a unique suffix) to ids.

        Raises ``NotFoundError`` naming the first unknown article.
        """
        ids = []
        for ref in articles:
            article_id = self.store.find_article_id(ref)
            if article_id is None:
                raise NotFoundError(f"no article matches {ref!r}")
            ids.append(article_id)
        return ids

    def write_index(self, per_page: int = 100, force: bool = False) -> list[Path]:
        """Write the static index of archived posts (``OUTPUT/embeds/index.html`` …)."""
        from archiver.index_page import write_index

        with self.lock():
            return write_index(self.store, self.config, per_page, force=force)

    def _update_index(self) -> None:
        """The index after a run: as ``write_index``, without a Path for every page."""
        from archiver.index_page import write_index_pages

        with self.lock():
            write_index_pages(self.store, self.config)


__all__ = [
    "MARK_END",
    "MARK_START",
    "ORDERS",
    "Archive",
    "NotFoundError",
    "PostDetail",
    "QueryError",
]
