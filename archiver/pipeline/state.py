"""The state of one pass, and the bookkeeping every stage of the pipeline shares."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archiver.config import Config
from archiver.detect_ssg import SSG_SUFFIXES, SsgOptions, options_for
from archiver.models import (
    Article,
    ArticleError,
    ArticleRef,
    EmbedSpan,
    RunReport,
)
from archiver.pipeline.scan import (
    Prescan,
    platform_of,
    resolved_span,
)
from archiver.sources import source_name
from archiver.storage import (
    ArchiveStorage,
    ArticleState,
    DatabaseError,
    OperationalError,
    PassPosts,
)
from archiver.storage.fsnames import representable

if TYPE_CHECKING:
    from archiver.fetch import PostFetcher
    from archiver.render.stencil import EmbedStencil


# The logger keeps the name it had before the split: log lines show it.
log = logging.getLogger("archiver.pipeline")


@dataclass
class ScannedArticle:
    """An article read and scanned in this pass, kept until its batch is rewritten."""

    article: Article
    spans: list[EmbedSpan]
    scan_bytes: bytes  # ASCII-compatible bytes the spans index into
    # Scanned by a worker process (pipeline/worker.py), which may have written its copy.
    prescan: Prescan | None = None


@dataclass
class LoadedArticle:
    """An article read in this pass, waiting for its batch to be scanned and stored."""

    ref: ArticleRef
    previous: ArticleState | None
    article: Article | None  # None: nothing to scan (not modified, or the same bytes)
    now: str
    # The same bytes: their copy in the output folder, found while reading (or None).
    out_path: Path | None = None
    prescan: Prescan | None = None  # a worker's scan of these bytes (pipeline/worker.py)


@dataclass
class PipelineState:
    """The fields of a pass (a ``Pipeline`` serves one pass), and the helpers all stages use."""

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
    # The posts this pass met (counted, checked, pages written), in the archive's
    # connection rather than in memory: a first backfill meets every post.
    _met: PassPosts | None = None
    # Posts an article stopped embedding (edited or removed) in this pass: their
    # pages list the articles that embed them, so they are refreshed at the end.
    _pages_stale: set[str] = field(default_factory=set)
    _local_paths: dict[str, str] = field(default_factory=dict)
    # Articles that failed in this pass: not tried again before the next one.
    _failed: set[str] = field(default_factory=set)
    # Resolved output paths of the last few articles (see _joined_output).
    _joined: dict[str, Path] = field(default_factory=dict)
    # Resolved output folders, by their path relative to output.dir (same bound).
    _folders: dict[str, Path] = field(default_factory=dict)
    _hrefs: dict[tuple[str, str], str] = field(default_factory=dict)
    # Cards of posts, by post key and language, while their content is current (see
    # _render_embed and _content_changed).
    _stencils: dict[str, dict[str | None, EmbedStencil]] = field(default_factory=dict)
    # Pages this pass wrote whose post then changed: written again once, at its end.
    _pages_deferred: set[str] = field(default_factory=set)
    _roots: tuple[Path, Path] | None = None  # output.dir and the embeds folder, resolved
    _ssg_options: dict[tuple[str, bool, bool, bool], SsgOptions] = field(default_factory=dict)
    # The same, by (source, remote, SSG suffix or False): a handful per pass.
    _ssg_kinds: dict[tuple[str, bool, str | bool], SsgOptions] = field(default_factory=dict)
    # Output copies that articles in flight to scan workers may take (pipeline/pool.py).
    _claims: dict[str, str] = field(default_factory=dict)
    _claimed_by: dict[str, list[str]] = field(default_factory=dict)
    _by_workers: int = 0  # articles read and scanned by worker processes in this pass

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

    def _posts_met(self) -> PassPosts:
        """This pass's record of the posts it met, made on first use (see ``_one_pass``)."""
        if self._met is None:
            self._met = self.store.pass_posts()
        return self._met

    @contextmanager
    def _one_pass(self) -> Iterator[None]:
        """Around one pass: its record of posts is dropped at its end, however it ends."""
        try:
            yield
        finally:
            if self._met is not None:
                met, self._met = self._met, None
                met.close()

    def _count_changes(self, report: RunReport, new: set[str], updated: set[str]) -> None:
        """Count posts created in this pass, and posts that existed before it and changed.

        A post first stored from markup and then fetched is new, not also "updated"; one
        updated twice (richer markup, then a check) counts once.
        """
        met = self._posts_met()
        report.posts_new += met.count_new(sorted(new))
        report.posts_updated += met.count_updated(sorted(updated))

    def _content_changed(self, keys: set[str]) -> None:
        """Posts whose content changed: their cards, and those of posts quoting or
        replying to them, are rendered again; so are their pages, at the end of the
        pass if this pass already wrote them (see PagesMixin._render_embed). (The store
        marked the articles showing any of them out of date, in the transaction that
        changed it.)"""
        if not keys:
            return
        for key in keys | self.store.posts_linking_to(keys):
            self._stencils.pop(key, None)
            if self._posts_met().forget_page(key):
                self._pages_deferred.add(key)

    def _flush_local_paths(self) -> None:
        self.store.set_local_paths(self._local_paths)
        self._local_paths = {}

    def _ssg(self, ref: ArticleRef) -> SsgOptions:
        """Which static-site generator forms count in this article (see detect_ssg)."""
        return ssg_for(self.config, ref, self._ssg_options, self._ssg_kinds)

    def _aliases_for(self, spans: Iterable[EmbedSpan]) -> dict[str, str]:
        """The post keys of spans that name a post by an id its platform does not take
        as the post's own (a Bluesky handle), when the archive has resolved them. X's
        spans never touch the database."""
        pending = {
            s.key for s in spans if not s.reported and not platform_of(s).is_post_id(s.post_id)
        }
        return self.store.post_aliases(pending) if pending else {}

    def _resolve_spans(self, spans: list[EmbedSpan]) -> list[EmbedSpan]:
        """``spans``, those of resolved aliases naming their post's own id."""
        aliases = self._aliases_for(spans)
        return [resolved_span(s, aliases) for s in spans] if aliases else spans


def archive_wide(exc: BaseException) -> bool:
    """True for a failure of the archive itself, not of one article: a database that is
    locked past the busy timeout, full, read-only, corrupt or unreadable. Failing every
    article one by one would hide it; the pass stops and says so."""
    return isinstance(exc, OperationalError) or type(exc) is DatabaseError


def ssg_for(
    config: Config,
    ref: ArticleRef,
    memo: dict[tuple[str, bool, bool, bool], SsgOptions],
    kinds: dict[tuple[str, bool, str | bool], SsgOptions] | None = None,
) -> SsgOptions:
    """Which static-site generator forms count in this article (see detect_ssg).

    A function of the config alone, so a scan worker (pipeline/worker.py) chooses as the
    pass does; ``memo`` keeps one options object per kind of article of a source, and
    ``kinds`` (optional) the answer by source and kind of location.
    """
    # options_for looks at the location only for where it lives (local or a URL) and
    # which of SSG_SUFFIXES it ends with (each one dot, so the tail from the last dot
    # says it): the options of an article of the same source and kind are reused,
    # instead of building two options objects per article.
    lower = ref.location.lower()
    tail = lower[lower.rfind(".") :] if "." in lower else ""
    remote = lower.startswith(("http://", "https://"))
    kind = (ref.source, remote, tail in SSG_SUFFIXES and tail)
    known = kinds.get(kind) if kinds is not None else None
    if known is not None:
        return known
    scan = config.scan
    bare = False
    for index, source in enumerate(config.sources):
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
    options = memo.setdefault(key, options)
    if kinds is not None:
        kinds[kind] = options
    return options
