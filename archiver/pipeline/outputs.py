"""Where each article's copy goes, and writing it with its embeds replaced by cards."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from archiver import detect, encoding, render, ssg_rewrite
from archiver.clock import utc_now
from archiver.decide import (
    clash_free_path,
)
from archiver.errors import OutputPathError
from archiver.files import write_atomic, write_if_changed
from archiver.models import (
    Article,
    ArticleRef,
    EmbedSpan,
    RunReport,
    sha256_hex,
)
from archiver.pipeline.pages import PagesMixin
from archiver.pipeline.state import ScannedArticle, archive_wide, log
from archiver.rewrite import relative_href, splice
from archiver.sources.directory import is_markdown
from archiver.storage import (
    EmbedRecord,
)

_JOINED_MEMO = 256


class OutputsMixin(PagesMixin):
    """Rewrites articles: resolves their output paths and splices the cards in."""

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
        rewrite, record)."""
        path = self._joined.get(relpath)
        if path is not None:
            return path
        if self._roots is None:  # resolved once per pass (a Pipeline serves one pass)
            self._roots = (self.config.output.dir.resolve(), self.config.embeds_root.resolve())
        root, embeds = self._roots
        path = self._resolved_in_root(relpath, root)
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

    def _resolved_in_root(self, relpath: str, root: Path) -> Path:
        """``(root / relpath).resolve()``, with the folder part resolved once per folder.

        ``resolve()`` is a walk of lstat calls over every level, for every article; the
        articles of one folder share all but the last. The last is taken as is when it
        is a plain name that is not a symlink (one lstat); anything else (``..``, ``.``,
        a symlink, nothing after the last slash) goes through ``resolve()`` whole, so a
        symlink out of the tree is refused exactly as before.
        """
        folder, name = os.path.split(relpath)
        if name in ("", ".", "..") or os.path.isabs(relpath):
            return (root / relpath).resolve()
        parent = self._folders.get(folder)
        if parent is None:
            parent = (root / folder).resolve() if folder else root
            if len(self._folders) >= _JOINED_MEMO:
                self._folders.clear()
            self._folders[folder] = parent
        path = parent / name
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return (root / relpath).resolve()
        except FileNotFoundError:
            pass  # not written yet: nothing to follow
        return path

    def _rewrite(self, item: ScannedArticle, report: RunReport) -> bool:
        """Write the article with its embeds replaced; True if a file changed."""
        ref = item.article.ref
        try:
            out_path = self._output_path(ref)
            replacements: list[tuple[int, int, bytes]] = []
            hugo = False
            if item.spans:  # an article without embeds needs neither (most of a site)
                embeds_href = self._embeds_href(out_path)
                lang = render.document_lang(item.scan_bytes)  # dates in its language
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

    def _embeds_href(self, out_path: Path) -> str:
        """How this article links to the embeds folder: the configured URL path, or a
        path relative to the article (computed once per article)."""
        if self.config.output.embeds_url is not None:
            return self.config.output.embeds_url.rstrip("/")
        return relative_href(out_path, self.config.embeds_root)


def _within(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies under it (both resolved, absolute)."""
    inside, top = str(path), str(folder)
    return inside == top or inside.startswith(top.rstrip(os.sep) + os.sep)
