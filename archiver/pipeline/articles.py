"""Articles in: listing the sources, reading what changed, scanning and storing batches."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from archiver import detect, encoding
from archiver.clock import utc_now
from archiver.config import Source
from archiver.decide import (
    KnownArticle,
    unchanged_content,
    unchanged_on_disk,
)
from archiver.errors import ArticleReadError
from archiver.heap import release_freed_memory
from archiver.models import (
    Article,
    ArticleError,
    ArticleRef,
    RunReport,
    sha256_hex,
)
from archiver.pipeline.outputs import OutputsMixin
from archiver.pipeline.scan import (
    Prescan,
    resolved_result,
    scan_article,
)
from archiver.pipeline.state import LoadedArticle, ScannedArticle, archive_wide, log
from archiver.sources import article_from_bytes, iter_local_articles, source_name
from archiver.sources.directory import is_markdown
from archiver.storage import (
    ArticleState,
    SeenLocations,
)
from archiver.storage.fsnames import is_representable, representable

# Stale articles rewritten per transaction (as pipeline.BATCH_SIZE for a pass's articles).
_REGENERATE_BATCH = 32
_LIVE_CHUNK = 500


class ArticlesMixin(OutputsMixin):
    """Lists, reads, scans and stores articles, in batches; regenerates stored ones."""

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
            if ref.path is not None and previous is not None:
                return self._reload_local(ref, previous, report, now)
            article = self._read(ref)
        except ArticleReadError as exc:
            self._fail(ref, str(exc), report, now)
            return None
        if article is None:  # remote article not modified since the last fetch
            report.articles_skipped += 1
            return LoadedArticle(ref, previous, None, now)
        self._counted(ref, report)
        if previous is not None:
            unchanged = self._unchanged(ref, previous, article.content_hash, now)
            if unchanged is not None:
                return unchanged
        return LoadedArticle(ref, previous, article, now)

    def _reload_local(
        self, ref: ArticleRef, previous: ArticleState, report: RunReport, now: str
    ) -> LoadedArticle:
        """A stored local article read again (its size or mtime moved: a ``touch``, a site
        rebuilt). Its bytes are hashed before their encoding is worked out: most often
        they are the same, and then nothing else is needed."""
        data = self._read_local(ref)
        content_hash = sha256_hex(data)
        unchanged = self._unchanged(ref, previous, content_hash, now)
        if unchanged is not None:
            self._counted(ref, report)
            return unchanged
        article = article_from_bytes(ref, data, sha256=content_hash)  # may refuse: binary
        self._counted(ref, report)
        return LoadedArticle(ref, previous, article, now)

    def _unchanged(
        self, ref: ArticleRef, previous: ArticleState, content_hash: str, now: str
    ) -> LoadedArticle | None:
        """The article with nothing to scan, when it holds the bytes of its last good scan
        and their copy is on disk (``archiver.decide.unchanged_content``); else None."""
        confirmed: list[Path] = []  # the copy on disk, if unchanged_content looked at it
        if not unchanged_content(
            _known(previous), content_hash, lambda: self._output_exists(ref, previous, confirmed)
        ):
            return None
        return LoadedArticle(ref, previous, None, now, confirmed[0] if confirmed else None)

    def _counted(self, ref: ArticleRef, report: RunReport) -> None:
        report.articles_scanned += 1
        if self.progress:
            self.progress(ref.location)

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
                        self._record_unchanged(
                            loaded.ref, loaded.previous, loaded.now, loaded.out_path
                        )
                        continue
                    item = self._scan(
                        loaded.article, loaded.now, report, loaded.previous, loaded.prescan
                    )
                except Exception as exc:  # one bad article is reported, the run goes on
                    if archive_wide(exc):
                        raise
                    log.exception("failed to scan %s", loaded.ref.location)
                    self._fail(loaded.ref, f"{type(exc).__name__}: {exc}", report, utc_now())
                    continue
                if item is not None:
                    scanned.append(item)
        return scanned

    def _scan(
        self,
        article: Article,
        now: str,
        report: RunReport,
        previous: ArticleState | None = None,
        prescan: Prescan | None = None,
    ) -> ScannedArticle | None:
        """Scan one article (unless a worker did: ``prescan``) and store what it embeds
        (a savepoint of the batch).

        ``previous``: the article as stored before this pass read it (None: new)."""
        ref = article.ref
        if prescan is not None and prescan.error is not None:  # its worker's scan failed
            log.error("failed to scan %s\n%s", ref.location, prescan.trace.rstrip())
            self._fail(ref, prescan.error, report, now)
            return None
        try:
            result = prescan.result if prescan is not None else None
            if result is None:
                result = scan_article(
                    article, self.config.scan.article_time_budget_seconds, self._ssg(article.ref)
                )
            aliases = self._aliases_for(result.spans)
            if aliases:  # filed under the post's own key from the start
                result = resolved_result(result, aliases)
        except Exception as exc:  # one bad article is reported, the run goes on
            log.exception("failed to scan %s", ref.location)
            self._fail(ref, f"{type(exc).__name__}: {exc}", report, now)
            return None
        if previous is not None and previous.embed_count:  # else no embeds to drop
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
        return ScannedArticle(
            article=article, spans=result.spans, scan_bytes=result.scan_bytes, prescan=prescan
        )

    def _read(self, ref: ArticleRef) -> Article | None:
        if ref.path is None:
            if self.remote_reader is None:
                raise ArticleReadError("remote articles need the network sources")
            return self.remote_reader(ref)
        return article_from_bytes(ref, self._read_local(ref))

    def _read_local(self, ref: ArticleRef) -> bytes:
        """The bytes of a local article (``ref.path``)."""
        try:
            return Path(str(ref.path)).read_bytes()
        except OSError as exc:
            raise ArticleReadError(f"cannot read: {exc.strerror or exc}") from exc

    def _unchanged_on_disk(self, ref: ArticleRef, previous: ArticleState) -> bool:
        """Same size and mtime (or an older lastmod) as last time, and its output is there:
        skip without reading (``archiver.decide.unchanged_on_disk``)."""
        return unchanged_on_disk(ref, _known(previous), lambda: self._output_exists(ref, previous))

    def _record_unchanged(
        self,
        ref: ArticleRef,
        previous: ArticleState | None,
        now: str,
        out_path: Path | None = None,
    ) -> None:
        """Record the article as unchanged. Like a scan, that resets ``output_path``;
        the copy on disk is still the one of the current content, so it is confirmed
        again in the same statement (else the next run rewrites it). ``out_path``: that
        copy, when this pass has already found it (``_output_exists``)."""
        if previous is None or self.config.output.in_place or not previous.output_hash:
            self.store.record_article_unchanged(ref, now)
            return
        if out_path is None:
            out_path = self._output_path(ref)
        if previous.output_path != str(out_path):
            self.store.record_article_unchanged(ref, now)
            return
        self.store.record_article_unchanged(
            ref, now, output_path=str(out_path), output_hash=previous.output_hash
        )

    def _output_exists(
        self, ref: ArticleRef, previous: ArticleState, found: list[Path] | None = None
    ) -> bool:
        """The rewritten copy of the article's last scan is on disk (appended to
        ``found``, if given, when it is a file of the output folder).

        ``record_scan`` resets ``output_path`` (to the relative path) in the scan's own
        transaction; only a finished rewrite sets it to the file written
        (``mark_rewritten``). A crash between the two leaves the reset value, so the
        next run rewrites the article instead of trusting a stale copy.
        """
        if self.config.output.in_place:
            return True
        out_path = self._output_path(ref)
        if previous.output_path == str(out_path) and out_path.exists():
            if found is not None:
                found.append(out_path)
            return True
        return False

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

    def _live_refs(self) -> Iterator[ArticleRef]:
        """Every live article, by location, read a chunk at a time: ``regenerate`` of the
        whole archive listed them all first, a list that grew with the archive."""
        for chunk in _by_location(self.store.live_article_refs, _LIVE_CHUNK):
            yield from chunk

    def _regenerate_stale(self, report: RunReport) -> None:
        """Rewrite every article whose copy is out of date and that did not fail.

        Local articles are rewritten in batches of one transaction, as a pass's
        articles are: a first run regenerates many (a post that a later batch shows with
        richer markup marks the earlier copies out of date), and each was its own
        commit. A remote article is read over the network, so it is never inside one.
        """
        # A chunk at a time: the list of them all grew with the pass (22 MB more at the
        # end of a first run over 40,000 articles).
        for stale in _by_location(self.store.stale_article_refs, _REGENERATE_BATCH):
            chunk = [ref for ref in stale if ref.location not in self._failed]
            local = all(ref.path is not None for ref in chunk)
            with self.store.batch() if local else contextlib.nullcontext():
                for ref in chunk:
                    if self.stop.is_set():
                        return
                    self._regenerate_one(ref, report)
            release_freed_memory()  # as after each batch of the pass


def _by_location(
    read: Callable[[str, int], list[ArticleRef]], size: int
) -> Iterator[list[ArticleRef]]:
    """Chunks of ``size`` refs from ``read(after, limit)``, which gives them by location;
    each chunk starts after the last location of the one before."""
    after = ""
    while chunk := read(after, size):
        yield chunk
        after = chunk[-1].location


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
