"""Post pages: each archived post's local copy, the articles it lists, its refresh."""

from __future__ import annotations

import hashlib
import heapq
import os
from pathlib import Path

from archiver import platforms, render
from archiver.config import MEDIA_DIR
from archiver.files import write_if_changed
from archiver.heap import release_freed_memory
from archiver.models import (
    Post,
)
from archiver.pipeline.state import PipelineState, log
from archiver.rewrite import relative_href
from archiver.storage.results import EmbedLink

_HREFS_MEMO = 4096
# Cards of the posts met lately (a few KB each): posts shared by articles come back soon.
_STENCILS_MEMO = 1024


class PagesMixin(PipelineState):
    """Writes post pages under ``embeds/PLATFORM/`` and keeps their article lists current."""

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
        stale = self._pages_stale | self._pages_deferred
        self._pages_stale = set()
        self._pages_deferred = set()
        durable = self.store.stale_post_pages()
        since = self.store.unfinished_since()
        forced = stale | set(durable)
        met = self._posts_met()
        # The pages this pass wrote or made stale: as many as its work, not the archive.
        # Those it wrote are remembered in the archive's connection (``PassPosts``), read
        # in order: a key in both lists comes twice in a row, and a page written again
        # here is not listed again (the listing reads on after the keys it gave).
        last = None
        for key in heapq.merge(met.pages(), sorted(forced)):
            if self.stop.is_set():
                return
            if key == last:
                continue
            last = key
            force = since is not None or key in forced
            if self._refresh_page(key, force=force, create=False) and since is not None:
                met.mark_refreshed(key)  # not again in the stream of pages touched since
        if since is not None:
            for key in self.store.pages_touched_since(since):
                if self.stop.is_set():
                    return
                if not met.refreshed(key):
                    self._refresh_page(key, force=True, create=False)
        # A string join, not a Path: pathlib interns each part, and a Path for every post
        # of the archive kept the interpreter's table of interned strings growing.
        out_dir = os.fspath(self.config.output.dir)
        for key, path in self.store.local_copies():
            if self.stop.is_set():
                return
            if path and not os.path.exists(os.path.join(out_dir, path)) and not met.refreshed(key):
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
        if not force and self._posts_met().page_digest(key) == _digest(self._articles_of(key)):
            return True
        post = self.store.get_post(key)
        if post is not None:
            self._write_post_page(post, force=True)
            release_freed_memory()  # a busy post's page is large (1,950 articles)
        return True

    def _articles_of(self, key: str) -> tuple[str, ...]:
        """The locations of the live articles embedding the post, sorted."""
        return tuple(self.store.articles_embedding([key]))

    def _render_embed(
        self, key: str, embeds_href: str, lang: str | None = None, style: bool = True
    ) -> str | None:
        """The post's card for an article whose embeds folder is at ``embeds_href``;
        None when the post is not archived (or has no page of its own yet).

        A post's card is rendered once per pass and language (a stencil, see
        ``render.EmbedStencil``) and filled in for every article showing it: a post
        shared by many articles, or an article rewritten again at the end of the pass,
        costs a string join instead of a render and a read of the post. A change of the
        post's content (``_content_changed``) drops its stencils, and so does its page
        written again.

        The post's page is written before the first article linking to it. If the
        post changes later in the pass (richer markup in a later batch, a check), its
        page is written again once, at the end of the pass (``_pages_deferred``), with
        the articles it then has, rather than now and again then: until then it shows
        the content it was written with, and a pass that does not finish leaves it to
        the next one (``pages_touched_since``), as it does the list of articles.
        """
        if self._page_written(key):
            stencil = self._recent_stencil(key, lang)
            if stencil is not None:
                html = stencil.fill(embeds_href, style)
                if html is not None:
                    return html
        post = self.store.get_post(key)
        if post is None or self._page_path(post.platform, post.post_id) is None:
            # Not archived, or named by an id that is not yet the post's own (a Bluesky
            # handle not resolved yet): the original markup stays until it is.
            return None
        page = self._write_post_page(post)
        stencil = render.embed_stencil(
            post, f"{page.parent.name}/{page.name}", f"{MEDIA_DIR}/", lang
        )
        if key not in self._stencils and len(self._stencils) >= _STENCILS_MEMO:
            # Bounded (per-pass bookkeeping must not grow): the card used longest ago goes.
            # Clearing them all instead rendered a third more cards on the dense corpus.
            del self._stencils[next(iter(self._stencils))]
        self._stencils.setdefault(key, {})[lang] = stencil
        html = stencil.fill(embeds_href, style)
        if html is not None:
            return html
        copy_href = f"{embeds_href}/{page.parent.name}/{page.name}"
        media = f"{embeds_href}/{MEDIA_DIR}/"
        return render.render_embed(post, copy_href, media, lang=lang, style=style)

    def _recent_stencil(self, key: str, lang: str | None) -> render.EmbedStencil | None:
        """The post's card for ``lang`` if one is remembered; it becomes the most recent
        (the memo keeps the posts used last, in order)."""
        cards = self._stencils.pop(key, None)
        if cards is None:
            return None
        self._stencils[key] = cards
        return cards.get(lang)

    def _write_post_page(self, post: Post, force: bool = False) -> Path:
        """Write the post's local copy (once per pass unless forced) and return its path."""
        page = self._page_path(post.platform, post.post_id)
        if page is None:
            raise ValueError(f"refusing a local copy path for post {post.key!r}")
        if not force and self._page_written(post.key):
            return page  # written in this pass (and again at its end if deferred)
        self._stencils.pop(post.key, None)  # the page is rendered again: so are its cards
        links = self.store.articles_of_post(post.key)
        # What _articles_of reads, from the same rows: one query per page, not two.
        articles = tuple(sorted({link.location for link in links if link.removed_at is None}))
        html = render.render_post_page(
            post,
            "../media/",
            articles=self._article_links(page, links),
            versions=self.store.snapshots_of(post.key),
        )
        write_if_changed(page, html.encode("utf-8"), fsync=self.config.output.fsync)
        relative = page.relative_to(self.config.output.dir).as_posix()
        if post.local_path != relative:
            # Recorded once per batch (see _flush_local_paths): one transaction, not one each.
            self._local_paths[post.key] = relative
        self._posts_met().set_page(post.key, _digest(articles))
        return page

    def _page_written(self, key: str) -> bool:
        """Whether this pass wrote the post's page (and will again at its end if deferred)."""
        return key in self._pages_deferred or self._posts_met().page_digest(key) is not None

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

    def _article_links(self, page: Path, rows: list[EmbedLink]) -> list[render.EmbeddingArticle]:
        """The live articles embedding a post (``rows``: ``articles_of_post``), linked from
        its page to their rewritten copies."""
        links: dict[str, render.EmbeddingArticle] = {}
        for link in rows:
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
            if len(self._hrefs) >= _HREFS_MEMO:
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


def _digest(articles: tuple[str, ...]) -> bytes:
    """What a post page lists, in 16 bytes: kept per page for the whole pass."""
    return hashlib.blake2b(repr(articles).encode("utf-8"), digest_size=16).digest()
