"""One pass of the archiver: scan sources, snapshot posts, store them, rewrite articles.

The pipeline conducts the stages in order and hands plain dataclasses from one
to the next. Articles are processed in small batches: each batch is read and
scanned once, the new posts it names are fetched together (so the network runs
concurrently), then the batch is rewritten from the archive while its bytes are
still in memory. Memory stays flat however large the corpus is.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from archiver import detect, encoding, platforms, render, ssg_rewrite
from archiver.clock import utc_now
from archiver.config import MEDIA_DIR, Config, Source
from archiver.decide import (
    Change,
    KnownArticle,
    clash_free_path,
    next_check_at,
    unchanged_content,
    unchanged_on_disk,
)
from archiver.detect_ssg import SsgOptions, options_for
from archiver.errors import ArticleReadError
from archiver.errors import OutputPathError as OutputPathError
from archiver.files import write_atomic, write_if_changed
from archiver.models import (
    Article,
    ArticleError,
    ArticleRef,
    EmbedSpan,
    Post,
    PostSnapshot,
    RunReport,
    sha256_hex,
)
from archiver.rewrite import relative_href, splice
from archiver.sources import article_from_bytes, iter_local_articles, source_name
from archiver.sources.directory import is_markdown
from archiver.storage import (
    ArchiveStorage,
    ArticleState,
    DatabaseError,
    EmbedRecord,
    OperationalError,
    SeenLocations,
)
from archiver.storage.fsnames import is_representable, representable
from archiver.storage.results import EmbedLink

if TYPE_CHECKING:
    from archiver.fetch import FetchResult, PostFetcher

log = logging.getLogger(__name__)

BATCH_SIZE = 32
_JOINED_MEMO = 256
T = TypeVar("T")
# Files of the content-addressed media store: <sha256>.<ext>.
_MEDIA_NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,5}")


@dataclass
class ScannedArticle:
    """An article read and scanned in this pass, kept until its batch is rewritten."""

    article: Article
    spans: list[EmbedSpan]
    scan_bytes: bytes  # ASCII-compatible bytes the spans index into


@dataclass
class LoadedArticle:
    """An article read in this pass, waiting for its batch to be scanned and stored."""

    ref: ArticleRef
    previous: ArticleState | None
    article: Article | None  # None: nothing to scan (not modified, or the same bytes)
    now: str


@dataclass
class Pipeline:
    """Runs passes over a config's sources against one archive."""

    config: Config
    store: ArchiveStorage
    fetcher: PostFetcher | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[str], None] | None = None
    remote_reader: Callable[[ArticleRef], Article | None] | None = None
    remote_lister: Callable[[object, int], Iterator[ArticleRef]] | None = None
    # Regenerating a remote article needs its bytes even when it has not changed
    # (a conditional GET would answer 304): an unconditional reader, if set.
    remote_refetch: Callable[[ArticleRef], Article | None] | None = None
    # Post pages written in this pass, with the articles they listed.
    _pages_written: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Posts an article stopped embedding (edited or removed) in this pass: their
    # pages list the articles that embed them, so they are refreshed at the end.
    _pages_stale: set[str] = field(default_factory=set)
    _checked: set[str] = field(default_factory=set)
    _local_paths: dict[str, str] = field(default_factory=dict)
    # Articles that failed in this pass: not tried again before the next one.
    _failed: set[str] = field(default_factory=set)
    # Posts this pass created, and those it counted as updated: a post first stored
    # from markup and then fetched is new, not also "updated"; one updated twice
    # (richer markup, then a check) counts once.
    _new_keys: set[str] = field(default_factory=set)
    _updated_keys: set[str] = field(default_factory=set)
    # Resolved output paths of the last few articles (see _joined_output).
    _joined: dict[str, Path] = field(default_factory=dict)
    _hrefs: dict[tuple[str, str], str] = field(default_factory=dict)
    _roots: tuple[Path, Path] | None = None  # output.dir and the embeds folder, resolved
    _ssg_options: dict[tuple[str, bool, bool, bool], SsgOptions] = field(default_factory=dict)

    # -- the whole pass ------------------------------------------------------------

    def run(self, refs: Iterable[ArticleRef] | None = None) -> RunReport:
        """Scan every source, fetch what is new or due, rewrite what changed.

        With ``refs``, only those articles (``embed-archiver add``): no source is listed,
        so none is marked removed, and only their posts are checked over the network.
        """
        started = time.monotonic()
        report = RunReport()
        articles = self._iter_sources(report) if refs is None else iter(refs)
        stream = self._load_stream(articles, report)
        for loaded in _batches(stream, BATCH_SIZE):
            self._finish_batch(self._store_batch(loaded, report), report)
            if self.stop.is_set():
                break
        if not self.stop.is_set():
            # A post whose content changed (by a check, or by richer markup in a later
            # article) marked every copy showing it out of date; copies rewritten since
            # are current again, the others (and any a killed pass left) are redone here.
            if refs is None:
                self._check_due(report, only=None)
            self._regenerate_stale(report)
        if not self.stop.is_set():
            self._refresh_post_pages()
        self._flush_local_paths()
        report.duration_s = time.monotonic() - started
        return report

    def _refresh_post_pages(self) -> None:
        """Bring the post pages of this pass up to date with their final list of articles.

        A page is written when its post is first met in a pass, before later batches
        have recorded the other articles that embed it; it is rendered again only if
        that list changed. Pages of posts an article stopped embedding are rendered
        again (the archive keeps them until then, so a killed pass leaves them too), and
        pages deleted from disk (a cleaned output folder) are written again. After a pass
        that did not finish (killed, stopped), the pages it may have left out of date
        (``pages_touched_since`` its start) are refreshed once, so the archive converges
        to what an uninterrupted pass produces, without rendering every page again.
        Every post is looked at through streams from the archive, never a list of them
        all: the pass's memory must not grow with the archive.
        """
        stale = self._pages_stale
        self._pages_stale = set()
        durable = self.store.stale_post_pages()
        since = self.store.unfinished_since()
        forced = stale | set(durable)
        # The pages this pass wrote or made stale: as many as its work, not the archive.
        done: set[str] = set()
        for key in sorted(set(self._pages_written) | forced):
            if self.stop.is_set():
                return
            if self._refresh_page(key, force=since is not None or key in forced, create=False):
                done.add(key)
        if since is not None:
            for key in self.store.pages_touched_since(since):
                if self.stop.is_set():
                    return
                if key not in done:
                    self._refresh_page(key, force=True, create=False)
        for key, path in self.store.local_copies():
            if self.stop.is_set():
                return
            if key not in done and path and not (self.config.output.dir / path).exists():
                self._refresh_page(key, force=True, create=True)
        self.store.clear_stale_post_pages(durable)

    def _refresh_page(self, key: str, force: bool, create: bool) -> bool:
        """Render a post's page again if its list of articles changed (or ``force``);
        only a page that exists unless ``create``. False when its page is not on disk
        (left to the stream of every page, which knows whether it should be)."""
        platform, _, post_id = key.partition(":")
        page = self._page_path(platform, post_id)
        if page is None:
            # A key stored before ids were checked (x:../index): it names no file.
            log.warning("post %r: not a valid post id, no local copy", key)
            return True  # nothing to write, ever: warned once
        if not create and not page.exists():
            return False  # only pages that exist (quoted posts may have none)
        if not force and self._pages_written.get(key) == self._articles_of(key):
            return True
        post = self.store.get_post(key)
        if post is not None:
            self._write_post_page(post, force=True)
        return True

    def _articles_of(self, key: str) -> tuple[str, ...]:
        return tuple(self.store.articles_embedding([key]))

    def regenerate(self, locations: Iterable[str] | None = None) -> RunReport:
        """Rewrite stored articles from the archive, without looking for new articles or posts."""
        started = time.monotonic()
        report = RunReport()
        for ref in self.store.article_refs(locations):
            if self.stop.is_set():
                break
            if self.progress:
                self.progress(ref.location)
            self._regenerate_one(ref, report)
        self._flush_local_paths()
        report.duration_s = time.monotonic() - started
        return report

    def recheck(self) -> RunReport:
        """Only the network part: check posts that are due, regenerate what changed."""
        started = time.monotonic()
        report = RunReport()
        self._check_due(report, only=None)
        self._regenerate_stale(report)
        self._flush_local_paths()
        report.duration_s = time.monotonic() - started
        return report

    # -- sources -------------------------------------------------------------------

    def _iter_sources(self, report: RunReport) -> Iterator[ArticleRef]:
        for index, source in enumerate(self.config.sources):
            name = source_name(source, index)
            # The locations seen live in the database, not in a Python set: a pass's
            # memory must not grow with the source (a million articles were 333 MB).
            seen = self.store.seen_locations()
            try:
                yield from self._walk_source(source, index, name, seen, report)
            finally:
                seen.close()

    def _walk_source(
        self, source: Source, index: int, name: str, seen: SeenLocations, report: RunReport
    ) -> Iterator[ArticleRef]:
        """The articles of one source; then, if it was listed whole, mark the others removed."""
        base = self.config.config_path.parent if self.config.config_path else Path.cwd()
        try:
            if source.kind == "directory":
                refs: Iterator[ArticleRef] = iter_local_articles(
                    source, index, base, skip=self._output_folders()
                )
            elif self.remote_lister is not None:
                refs = self.remote_lister(source, index)
            else:
                return
            for ref in refs:
                ref = _representable_ref(ref)
                seen.add(ref.location)
                yield ref
        except Exception as exc:  # a broken source must not stop the others
            log.error("source %s failed: %s", name, exc)
            report.errors.append(ArticleError(location=f"source:{name}", reason=str(exc)))
            return
        if not self.stop.is_set():
            # Only this source's unseen articles, not a ref of every stored one.
            for gone in self.store.unseen_articles(name, seen):
                self._pages_stale.update(e.post_key for e in self.store.embeds_of(gone))
            report.articles_removed += self.store.mark_removed(name, seen, utc_now())

    def _output_folders(self) -> tuple[Path, ...]:
        """Folders a source walk must not enter: what we write is not an article."""
        if self.config.output.in_place:
            return (self.config.embeds_root,)
        return (self.config.output.dir,)

    # -- scanning ------------------------------------------------------------------

    def _finish_batch(self, scanned: list[ScannedArticle], report: RunReport) -> None:
        """Check the batch's posts that are due, then rewrite its articles."""
        keys = {span.key for item in scanned for span in item.spans}
        self._check_due(report, only=keys)  # the network: outside the batch transaction
        if not scanned:
            return
        with self.store.batch():  # one commit for the batch's rewrites
            for item in scanned:
                self._rewrite(item, report)
            self._flush_local_paths()

    def _content_changed(self, keys: set[str]) -> None:
        """Posts whose content changed: their pages, and those of posts quoting or
        replying to them, are written again when next rendered. (The store marked the
        articles showing any of them out of date, in the transaction that changed it.)"""
        if not keys:
            return
        for key in keys | self.store.posts_linking_to(keys):
            self._pages_written.pop(key, None)

    def _regenerate_stale(self, report: RunReport) -> None:
        """Rewrite every article whose copy is out of date and that did not fail."""
        for ref in self.store.stale_article_refs():
            if self.stop.is_set():
                return
            if ref.location not in self._failed:
                self._regenerate_one(ref, report)

    def _flush_local_paths(self) -> None:
        self.store.set_local_paths(self._local_paths)
        self._local_paths = {}

    def _load_stream(
        self, refs: Iterable[ArticleRef], report: RunReport
    ) -> Iterator[LoadedArticle]:
        """Read the articles that changed, in order, outside any transaction: reading a
        remote article is a network fetch, and a batch transaction holds the write lock."""
        for ref in refs:
            if self.stop.is_set():
                return
            try:
                previous = self.store.get_article(ref.location)
                if previous and self._unchanged_on_disk(ref, previous):
                    report.articles_skipped += 1
                    continue
                loaded = self._load(ref, previous, report)
            except Exception as exc:  # one bad article is reported, the run goes on
                if archive_wide(exc):
                    raise
                log.exception("failed to scan %s", ref.location)
                self._fail(ref, f"{type(exc).__name__}: {exc}", report, utc_now())
                continue
            if loaded is not None:
                yield loaded

    def _load(
        self, ref: ArticleRef, previous: ArticleState | None, report: RunReport
    ) -> LoadedArticle | None:
        """Read one article; its ``article`` is None when it needs no scan (not modified,
        or the same bytes as last time with their copy on disk)."""
        now = utc_now()
        try:
            article = self._read(ref)
        except ArticleReadError as exc:
            self._fail(ref, str(exc), report, now)
            return None
        if article is None:  # remote article not modified since the last fetch
            report.articles_skipped += 1
            return LoadedArticle(ref, previous, None, now)
        report.articles_scanned += 1
        if self.progress:
            self.progress(ref.location)
        if previous is not None and unchanged_content(
            _known(previous), article.content_hash, lambda: self._output_exists(ref, previous)
        ):
            return LoadedArticle(ref, previous, None, now)
        return LoadedArticle(ref, previous, article, now)

    def _store_batch(self, batch: list[LoadedArticle], report: RunReport) -> list[ScannedArticle]:
        """Scan a batch of read articles and store them in one transaction.

        One commit per batch instead of one per article: a third less SQLite time,
        and far fewer WAL frames to checkpoint. Each article is still its own
        savepoint, so one that fails is undone alone; no network call happens inside.
        """
        scanned: list[ScannedArticle] = []
        with self.store.batch():
            for loaded in batch:
                try:
                    if loaded.article is None:
                        self._record_unchanged(loaded.ref, loaded.previous, loaded.now)
                        continue
                    item = self._scan(loaded.article, loaded.now, report)
                except Exception as exc:  # one bad article is reported, the run goes on
                    if archive_wide(exc):
                        raise
                    log.exception("failed to scan %s", loaded.ref.location)
                    self._fail(loaded.ref, f"{type(exc).__name__}: {exc}", report, utc_now())
                    continue
                if item is not None:
                    scanned.append(item)
        return scanned

    def _scan(self, article: Article, now: str, report: RunReport) -> ScannedArticle | None:
        """Scan one article and store what it embeds (a savepoint of the batch)."""
        ref = article.ref
        try:
            result = scan_article(
                article, self.config.scan.article_time_budget_seconds, self._ssg(article.ref)
            )
            aliases = self._aliases_for(result.spans)
            if aliases:  # filed under the post's own key from the start
                result = _resolved_result(result, aliases)
        except Exception as exc:  # one bad article is reported, the run goes on
            log.exception("failed to scan %s", ref.location)
            self._fail(ref, f"{type(exc).__name__}: {exc}", report, now)
            return None
        self._pages_stale.update(e.post_key for e in self.store.embeds_of(ref.location))
        outcome = self.store.record_scan(
            article.ref,
            content_hash=article.content_hash,
            encoding=article.encoding,
            embeds=result.records,
            snapshots=result.snapshots,
            now=now,
            etag=article.etag,
            last_modified=article.last_modified,
            reported=result.reported,
        )
        report.embeds_found += len(result.spans)
        self._count_changes(report, outcome.new_keys, outcome.updated)
        # Richer markup of a post (see archiver.decide.markup_rank): every article showing
        # it, and every post quoting it, is rendered again in this pass.
        self._content_changed(outcome.updated)
        return ScannedArticle(article=article, spans=result.spans, scan_bytes=result.scan_bytes)

    def _read(self, ref: ArticleRef) -> Article | None:
        if ref.path is None:
            if self.remote_reader is None:
                raise ArticleReadError("remote articles need the network sources")
            return self.remote_reader(ref)
        try:
            data = Path(ref.path).read_bytes()
        except OSError as exc:
            raise ArticleReadError(f"cannot read: {exc.strerror or exc}") from exc
        return article_from_bytes(ref, data)

    def _unchanged_on_disk(self, ref: ArticleRef, previous: ArticleState) -> bool:
        """Same size and mtime (or an older lastmod) as last time, and its output is there:
        skip without reading (``archiver.decide.unchanged_on_disk``)."""
        return unchanged_on_disk(ref, _known(previous), lambda: self._output_exists(ref, previous))

    def _record_unchanged(self, ref: ArticleRef, previous: ArticleState | None, now: str) -> None:
        self.store.record_article_unchanged(ref, now)
        # That resets output_path like a scan does; the copy on disk is still the one
        # of the current content, so confirm it again (else the next run rewrites it).
        if previous is None or self.config.output.in_place or not previous.output_hash:
            return
        out_path = self._output_path(ref)
        if previous.output_path == str(out_path):
            self.store.mark_rewritten(ref.location, str(out_path), previous.output_hash, now)

    def _output_exists(self, ref: ArticleRef, previous: ArticleState) -> bool:
        """The rewritten copy of the article's last scan is on disk.

        ``record_scan`` resets ``output_path`` (to the relative path) in the scan's own
        transaction; only a finished rewrite sets it to the file written
        (``mark_rewritten``). A crash between the two leaves the reset value, so the
        next run rewrites the article instead of trusting a stale copy.
        """
        if self.config.output.in_place:
            return True
        out_path = self._output_path(ref)
        return previous.output_path == str(out_path) and out_path.exists()

    def _fail(self, ref: ArticleRef, reason: str, report: RunReport, now: str) -> None:
        """Report an article that failed, and record why on the article.

        The next pass retries it: an article with an error is never skipped unread.
        """
        reason = representable(reason)  # it may quote a file name that is not UTF-8
        log.warning("%s: %s", ref.location, reason)
        report.errors.append(ArticleError(location=ref.location, reason=reason))
        self._failed.add(ref.location)  # not tried again in this pass
        try:
            self.store.record_article_error(ref, reason, now)
        except Exception:  # the archive refused even that: the report still says why
            log.exception("could not record the failure of %s", ref.location)

    # -- network checks ------------------------------------------------------------

    def _check_due(self, report: RunReport, only: set[str] | None) -> set[str]:
        """Fetch posts whose check is due (limited to ``only`` keys when given)."""
        if self.fetcher is None or (only is not None and not only):
            return set()
        from archiver.fetch import FetchRequest

        now = utc_now()
        # Only the platforms the fetcher looks up: a platform switched off keeps its
        # posts as the markup gave them, not checked and not counted as failures.
        due = [
            (name, d)
            for name in self.fetcher.platform_names()
            for d in (
                self.store.posts_due(now, platform=name)
                if only is None
                # A batch's posts only, looked up by key (not every due post, filtered).
                else self.store.posts_due_among(now, only, platform=name)
            )
        ]
        # One check per post per pass, even when a failure makes it due again at once.
        due = [(p, d) for p, d in due if f"{p}:{d.post_id}" not in self._checked]
        self._checked.update(f"{p}:{d.post_id}" for p, d in due)
        if not due:
            return set()
        changed: set[str] = set()
        requests = (
            FetchRequest(
                d.post_id,
                d.handle,
                d.have_content,
                self._stored_media(f"{p}:{d.post_id}"),
                platform=p,
                failing_since=d.failing_since,
            )
            for p, d in due
        )
        for result in self.fetcher.fetch_many(requests):
            now = utc_now()
            key = f"{result.platform}:{result.post_id}"
            if result.snapshot is None:
                report.fetch_failures += 1
                next_at = self._next_check(key, failed=True)
                log.warning("post %s: check failed: %s", key, result.error)
            else:
                report.posts_fetched += 1
                next_at = self._next_check(key, failed=False)
            resolved = self._resolved_key(result)
            if resolved is not None and result.snapshot is not None:
                # A handle-form id answered under the post's own id: filed under it.
                outcome = self.store.record_resolved_check(key, result.snapshot, next_at, now)
                self._checked.add(resolved)
                key = resolved
            else:
                outcome = self.store.record_check(
                    result.post_id, result.snapshot, result.error, next_at, now, result.platform
                )
            if outcome == Change.UPDATED:
                self._count_changes(report, set(), {key})
                changed.add(key)
            elif outcome == Change.NEW:
                self._count_changes(report, {key}, set())
                changed.add(key)
            if self.stop.is_set():
                break
        self._content_changed(changed)
        return changed

    @staticmethod
    def _resolved_key(result: FetchResult) -> str | None:
        """The post's own key when the fetcher answered a request made under another
        id of it (a Bluesky handle resolved to the DID), else None."""
        snap = result.snapshot
        if snap is None or snap.post_id == result.post_id or snap.platform != result.platform:
            return None
        owner = platforms.get(result.platform)
        if owner.is_post_id(result.post_id) or not owner.is_post_id(snap.post_id):
            return None
        return snap.key

    def _aliases_for(self, spans: Iterable[EmbedSpan]) -> dict[str, str]:
        """The post keys of spans that name a post by an id its platform does not take
        as the post's own (a Bluesky handle), when the archive has resolved them. X's
        spans never touch the database."""
        pending = {
            s.key for s in spans if not s.reported and not _platform_of(s).is_post_id(s.post_id)
        }
        return self.store.post_aliases(pending) if pending else {}

    def _resolve_spans(self, spans: list[EmbedSpan]) -> list[EmbedSpan]:
        """``spans``, those of resolved aliases naming their post's own id."""
        aliases = self._aliases_for(spans)
        return [_resolved(s, aliases) for s in spans] if aliases else spans

    def _count_changes(self, report: RunReport, new: set[str], updated: set[str]) -> None:
        """Count posts created in this pass, and posts that existed before it and changed."""
        report.posts_new += len(new - self._new_keys)
        self._new_keys |= new
        fresh = updated - self._new_keys - self._updated_keys
        self._updated_keys |= fresh
        report.posts_updated += len(fresh)

    def _stored_media(self, key: str) -> frozenset[str]:
        """Media URLs of a post whose files are in the store (not to download again)."""
        root = self.config.media_root
        return frozenset(
            url
            for url, name in self.store.stored_media(key)
            if _MEDIA_NAME.fullmatch(name) and (root / name).is_file()
        )

    def _next_check(self, key: str, failed: bool) -> str:
        """When a post just checked is next due (``archiver.decide.check_wait``)."""
        count = self.store.check_failures(key) if failed else self.store.check_count(key)
        return next_check_at(self.config.recheck_seconds, failed, count, datetime.now(UTC))

    # -- rewriting -----------------------------------------------------------------

    def _output_path(self, ref: ArticleRef) -> Path:
        if self.config.output.in_place and ref.path is not None:
            return Path(ref.path)
        path = self._joined_output(ref.output_relpath or ref.location)
        # Another article may already write there: see archiver.decide.clash_free_path.
        taken = self.store.output_owner(str(path), other_than=ref.location) is not None
        return clash_free_path(path, ref.location, taken)

    def _joined_output(self, relpath: str) -> Path:
        """``output.dir/relpath``, resolved and checked; remembered for the last few
        hundred articles, as an article asks up to three times in a pass (skip check,
        rewrite, record) and each answer costs three ``resolve()`` calls."""
        path = self._joined.get(relpath)
        if path is not None:
            return path
        if self._roots is None:  # resolved once per pass (a Pipeline serves one pass)
            self._roots = (self.config.output.dir.resolve(), self.config.embeds_root.resolve())
        root, embeds = self._roots
        # safe_join's check, with the root resolved once: an unchanged rerun asks once
        # per article, and each resolve() is a walk of lstat calls. Both paths are
        # resolved and absolute, so "inside" is a string prefix ending at a separator
        # (Path.parents would build a Path per level, for every article).
        path = (root / relpath).resolve()
        if not _within(path, root):
            raise ValueError(f"refusing to write outside {self.config.output.dir}: {relpath!r}")
        if _within(path, embeds):
            # articles/embeds/index.html would overwrite the archive's own index page.
            raise OutputPathError(
                f"its output {path} lies in the embeds folder (output.embeds_dir: "
                f"{self.config.output.embeds_dir}); rename its folder or choose another "
                "output.embeds_dir"
            )
        if len(self._joined) >= _JOINED_MEMO:
            self._joined.clear()  # bounded: per-pass bookkeeping must not grow
        self._joined[relpath] = path
        return path

    def _rewrite(self, item: ScannedArticle, report: RunReport) -> bool:
        """Write the article with its embeds replaced; True if a file changed."""
        ref = item.article.ref
        try:
            out_path = self._output_path(ref)
            embeds_href = self._embeds_href(out_path)
            lang = render.document_lang(item.scan_bytes)  # dates in the article's language
            replacements: list[tuple[int, int, bytes]] = []
            hugo = False
            for span in self._resolve_spans(item.spans):
                # The card's style once per article: in the first card rendered.
                html = self._render_embed(span.key, embeds_href, lang, not replacements)
                if html is None:
                    continue  # not archived: leave the original markup alone
                # Wrapped so the article's generator still builds it (ssg_rewrite).
                flavor = ssg_rewrite.flavor_for(span, ref.location)
                hugo = hugo or flavor == ssg_rewrite.FLAVOR_HUGO
                html = ssg_rewrite.wrap_card(html, span.key, flavor)
                replacements.append((span.start, span.end, self._encode(html, item.article)))
            if hugo:  # our shortcode needs its template in the site
                ssg_rewrite.ensure_hugo_template(out_path, fsync=self.config.output.fsync)
            new_scan = splice(item.scan_bytes, replacements)
            data = encoding.from_scan_bytes(new_scan, item.article.encoding)
            changed = self._write_article(out_path, data, item.article)
        except (OSError, OutputPathError) as exc:
            # Disk full, permissions, an output in the embeds folder: the reason says
            # it all, in one line (-vv adds the traceback).
            reason = f"rewrite: {exc}"
            if isinstance(exc, OSError) and exc.strerror:
                reason = f"rewrite: {exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
            log.debug("failed to rewrite %s", ref.location, exc_info=True)
            self._fail(ref, reason, report, utc_now())
            return False
        except Exception as exc:
            if archive_wide(exc):
                raise
            log.exception("failed to rewrite %s", ref.location)
            self._fail(ref, f"rewrite: {exc}", report, utc_now())
            return False
        if changed:
            report.articles_rewritten += 1
        else:
            report.articles_unchanged += 1
        return changed

    def _encode(self, html: str, article: Article) -> bytes:
        target = article.encoding if encoding.is_ascii_compatible(article.encoding) else "utf-8"
        return encoding.encode_fragment(html, target)

    def _write_article(self, out_path: Path, data: bytes, article: Article) -> bool:
        ref = article.ref
        now = utc_now()
        if self.config.output.in_place:
            if data == article.data:
                # Nothing to write, but the source is confirmed as the output.
                self.store.mark_rewritten(ref.location, str(out_path), article.content_hash, now)
                return False
            write_atomic(out_path, data, fsync=self.config.output.fsync)
            stat = out_path.stat()
            # The rewritten file is now the source: remember it so the next
            # pass does not rescan our own output.
            self.store.record_scan(
                ArticleRef(
                    location=ref.location,
                    source=ref.source,
                    path=ref.path,
                    url=ref.url,
                    output_relpath=ref.output_relpath,
                    size=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                ),
                content_hash=sha256_hex(data),
                encoding=article.encoding,
                embeds=[
                    EmbedRecord(span=e, original="") for e in self._archived_spans(data, article)
                ],
                snapshots=[],
                now=now,
            )
            self.store.mark_rewritten(ref.location, str(out_path), sha256_hex(data), now)
            return True
        changed = write_if_changed(out_path, data, fsync=self.config.output.fsync)
        # An article without embeds is copied byte for byte: its hash is already known.
        out_hash = article.content_hash if data is article.data else sha256_hex(data)
        # Recorded even when the bytes were already there: it confirms that the copy
        # on disk is the one of the current scan (see _output_exists).
        self.store.mark_rewritten(ref.location, str(out_path), out_hash, now)
        return changed

    def _archived_spans(self, data: bytes, article: Article) -> list[EmbedSpan]:
        scan = encoding.to_scan_bytes(data, article.encoding)
        return detect.find_embeds(
            scan, markdown=is_markdown(article.ref.location), ssg=self._ssg(article.ref)
        )

    def _ssg(self, ref: ArticleRef) -> SsgOptions:
        """Which static-site generator forms count in this article (see detect_ssg)."""
        scan = self.config.scan
        bare = False
        for index, source in enumerate(self.config.sources):
            if source.kind == "directory" and source_name(source, index) == ref.source:
                bare = source.bare_urls
        base = SsgOptions(
            bare_urls=bare,
            shortcodes=tuple(scan.tweet_shortcodes),
            liquid_tags=tuple(scan.tweet_liquid_tags),
            components=tuple(scan.tweet_components),
        )
        options = options_for(ref.location, base)
        # One options object per kind of article of a source (a handful), so the regexes
        # it compiles for its names (options_re) are built once per pass, not per article.
        key = (ref.source, options.templates, options.bare_urls, options.indented_code)
        return self._ssg_options.setdefault(key, options)

    def _embeds_href(self, out_path: Path) -> str:
        """How this article links to the embeds folder: the configured URL path, or a
        path relative to the article (computed once per article)."""
        if self.config.output.embeds_url is not None:
            return self.config.output.embeds_url.rstrip("/")
        return relative_href(out_path, self.config.embeds_root)

    def _render_embed(
        self, key: str, embeds_href: str, lang: str | None = None, style: bool = True
    ) -> str | None:
        post = self.store.get_post(key)
        if post is None or self._page_path(post.platform, post.post_id) is None:
            # Not archived, or named by an id that is not yet the post's own (a Bluesky
            # handle not resolved yet): the original markup stays until it is.
            return None
        page = self._write_post_page(post)
        copy_href = f"{embeds_href}/{page.parent.name}/{page.name}"
        media = f"{embeds_href}/{MEDIA_DIR}/"
        return render.render_embed(post, copy_href, media, lang=lang, style=style)

    def _write_post_page(self, post: Post, force: bool = False) -> Path:
        """Write the post's local copy (once per pass unless forced) and return its path."""
        page = self._page_path(post.platform, post.post_id)
        if page is None:
            raise ValueError(f"refusing a local copy path for post {post.key!r}")
        if post.key in self._pages_written and not force:
            return page
        articles = self._articles_of(post.key)
        html = render.render_post_page(
            post,
            "../media/",
            articles=self._article_links(page, post.key),
            versions=self.store.snapshots_of(post.key),
        )
        write_if_changed(page, html.encode("utf-8"), fsync=self.config.output.fsync)
        relative = page.relative_to(self.config.output.dir).as_posix()
        if post.local_path != relative:
            # Recorded once per batch (see _flush_local_paths): one transaction, not one each.
            self._local_paths[post.key] = relative
        self._pages_written[post.key] = articles
        return page

    def _page_path(self, platform: str, post_id: str) -> Path | None:
        """``embeds/PLATFORM/STEM.html``, or None when the key cannot safely name a file:
        the only place a post's page path is built, so nothing else can escape. The
        platform checks its id and names the file (``file_stem``); the stem is checked
        again here, so a platform's bug cannot escape the folder either."""
        try:
            owner = platforms.get(platform)
        except platforms.UnknownPlatform:
            return None
        if not owner.is_post_id(post_id):
            return None
        stem = platforms.safe_stem(owner.file_stem(post_id))
        if stem is None:
            return None
        return self.config.embeds_root / owner.name / f"{stem}.html"

    def _article_links(self, page: Path, key: str) -> list[render.EmbeddingArticle]:
        """The live articles embedding a post, linked from its page to their rewritten copies."""
        links: dict[str, render.EmbeddingArticle] = {}
        for link in self.store.articles_of_post(key):
            if link.removed_at is None and link.location not in links:
                out = self._known_output(link)
                copy = self._href(page, out) if out is not None else None
                links[link.location] = render.EmbeddingArticle(link.location, copy, link.url)
        return list(links.values())

    def _href(self, page: Path, target: Path) -> str:
        """``relative_href(page, target)``, remembered: every post page of an article
        links back to it, and relpath cost 30 us a call (bounded memo)."""
        key = (str(page.parent), str(target))
        href = self._hrefs.get(key)
        if href is None:
            if len(self._hrefs) >= _JOINED_MEMO * 16:
                self._hrefs.clear()
            href = self._hrefs[key] = relative_href(page, target)
        return href

    def _known_output(self, link: EmbedLink) -> Path | None:
        """Where an article's rewritten copy is (or is about to be, in this pass)."""
        if not link.output_path:
            return None
        if Path(link.output_path).is_absolute():
            return Path(link.output_path)  # recorded by the rewrite
        if self.config.output.in_place and link.path:
            return Path(link.path)
        # Not rewritten yet: the path the scan recorded, under output.dir. Only a link
        # is made from it (nothing is written there), so a lexical check is enough and
        # spares a resolve() per article on every page.
        parts = Path(link.output_path).parts
        return None if ".." in parts else self.config.output.dir.joinpath(*parts)

    def _regenerate_one(self, ref: ArticleRef, report: RunReport) -> None:
        """Read one stored article again and rewrite it; a failure fails it alone."""
        try:
            article = self._read(ref) if ref.path else self._read_output_source(ref)
            if article is None:
                return
            scan_bytes = encoding.to_scan_bytes(article.data, article.encoding)
            spans = detect.find_embeds(
                scan_bytes, markdown=is_markdown(ref.location), ssg=self._ssg(ref)
            )
        except ArticleReadError as exc:
            report.errors.append(
                ArticleError(location=ref.location, reason=representable(str(exc)))
            )
            self._failed.add(ref.location)
            return
        except Exception as exc:  # e.g. bytes its declared charset cannot decode
            if archive_wide(exc):
                raise
            log.exception("failed to regenerate %s", ref.location)
            self._fail(ref, f"{type(exc).__name__}: {exc}", report, utc_now())
            return
        self._rewrite(ScannedArticle(article=article, spans=spans, scan_bytes=scan_bytes), report)

    def _read_output_source(self, ref: ArticleRef) -> Article | None:
        if self.remote_refetch is not None:
            return self.remote_refetch(ref)
        if self.remote_reader is None:
            return None
        return self.remote_reader(ref)


@dataclass
class ScanResult:
    """What scanning one article yields: pure data, no I/O and no archive involved."""

    scan_bytes: bytes
    spans: list[EmbedSpan]
    records: list[EmbedRecord]
    snapshots: list[PostSnapshot]
    # Embeds of reported-only platforms (Threads, Instagram…): recorded, never rewritten.
    reported: list[EmbedSpan] = field(default_factory=list)


def scan_article(
    article: Article, budget: float | None = None, ssg: SsgOptions | None = None
) -> ScanResult:
    """Find an article's embeds and snapshot each from its markup (no I/O, no archive).

    ``budget``: seconds detection may take (``scan.article_time_budget_seconds``); past
    it ``detect.DetectionTimeout`` is raised, so the article fails alone.  ``ssg``: the
    static-site generator forms to look for too (default: those for its location).
    """
    if ssg is None:
        ssg = options_for(article.ref.location)
    scan_bytes = encoding.to_scan_bytes(article.data, article.encoding)
    spans: list[EmbedSpan] = []
    if detect.might_contain_embeds(scan_bytes, ssg, reported=True):
        deadline = time.monotonic() + budget if budget is not None else None
        try:
            spans = detect.find_embeds(
                scan_bytes,
                markdown=is_markdown(article.ref.location),
                deadline=deadline,
                ssg=ssg,
                reported=True,
            )
        except detect.DetectionTimeout as exc:
            raise detect.DetectionTimeout(
                f"{exc} of {budget:g} s (scan.article_time_budget_seconds); "
                "the markup is pathological or the page far too large"
            ) from None
    reported = [s for s in spans if s.reported]
    if reported:
        spans = [s for s in spans if not s.reported]
    # Fragments are UTF-8 when the article was transcoded for scanning.
    fragment_encoding = (
        article.encoding if encoding.is_ascii_compatible(article.encoding) else "utf-8"
    )
    records: list[EmbedRecord] = []
    snapshots: list[PostSnapshot] = []
    seen_keys: set[str] = set()
    for span in spans:
        fragment = encoding.decode_fragment(scan_bytes[span.start : span.end], fragment_encoding)
        records.append(EmbedRecord(span=span, original=fragment))
        if span.key not in seen_keys:
            seen_keys.add(span.key)
            snapshot = _platform_of(span).snapshot_from_markup(span, fragment)
            if snapshot is not None:
                snapshots.append(snapshot)
    return ScanResult(
        scan_bytes=scan_bytes,
        spans=spans,
        records=records,
        snapshots=snapshots,
        reported=reported,
    )


def _resolved(span: EmbedSpan, aliases: dict[str, str]) -> EmbedSpan:
    key = aliases.get(span.key)
    return span if key is None else replace(span, post_id=key.partition(":")[2])


def _resolved_result(result: ScanResult, aliases: dict[str, str]) -> ScanResult:
    """A scan's spans, embed records and markup snapshots under their posts' own keys."""
    spans = [_resolved(s, aliases) for s in result.spans]
    records = [replace(r, span=s) for r, s in zip(result.records, spans, strict=True)]
    snapshots = []
    for snap in result.snapshots:
        key = aliases.get(snap.key)
        if key is not None:
            snap = replace(snap, post_id=key.partition(":")[2])
        snapshots.append(snap)
    return ScanResult(result.scan_bytes, spans, records, snapshots, result.reported)


def _platform_of(span: EmbedSpan) -> platforms.Platform:
    """The registered platform a span's form belongs to (the lexer only reports forms of
    registered platforms, so this holds unless one was unregistered mid-run)."""
    return platforms.get(span.platform)


def archive_wide(exc: BaseException) -> bool:
    """True for a failure of the archive itself, not of one article: a database that is
    locked past the busy timeout, full, read-only, corrupt or unreadable. Failing every
    article one by one would hide it; the pass stops and says so."""
    return isinstance(exc, OperationalError) or type(exc) is DatabaseError


def _known(state: ArticleState) -> KnownArticle:
    """The facts of a stored article that the unchanged rules look at."""
    return KnownArticle(
        size=state.size,
        mtime_ns=state.mtime_ns,
        content_hash=state.content_hash,
        error=state.error,
        last_scanned_at=state.last_scanned_at,
    )


def _representable_ref(ref: ArticleRef) -> ArticleRef:
    """The ref with a location that can be stored and shown.

    A file name that is not valid UTF-8 (a Latin-1 ``café.html``) reaches us with lone
    surrogates; its location becomes ``caf\\xe9.html`` while ``path`` and
    ``output_relpath`` keep the real name, so the copy is written under the same bytes.
    """
    if is_representable(ref.location):
        return ref
    return replace(ref, location=representable(ref.location))


def _within(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies under it (both resolved, absolute)."""
    inside, top = str(path), str(folder)
    return inside == top or inside.startswith(top.rstrip(os.sep) + os.sep)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
