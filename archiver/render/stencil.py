"""A post's stable embed rendered once for every article that shows it (a stencil).

A pass rewrites many articles showing the same posts (posts shared between articles,
an article rewritten again at the end of the pass): rendering the card once and filling
in each article's own links is a string join instead of a template render.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape

from archiver.models import Post
from archiver.render.card import _embed_body, _with_style
from archiver.render.common import _check_prefix, _safe_copy_href

# Stands for the embeds folder's href in a stencil. Random per process: a stranger's
# post cannot contain it, so every occurrence in a rendered card is one we put there.
_FOLDER = f"eac{secrets.token_hex(12)}"


@dataclass(frozen=True)
class EmbedStencil:
    """A post's stable embed, rendered once for every article that shows it.

    Cards of the same post differ only by where the article is: the relative href of
    the embeds folder starts the link to the post's page and every media ``src``.
    The stencil is the card rendered with a random stand-in for that href, split on
    it; ``fill`` joins the parts with an article's own href, which gives the bytes
    ``render_embed`` gives (escaping works character by character, and ``fill``
    refuses an href that the checks of ``render_embed`` would change or reject).
    """

    parts: tuple[str, ...]
    page: str  # the post page's path under the embeds folder (``x/123.html``)
    media: str  # the media folder's path under it (``media/``)

    def fill(self, embeds_href: str, style: bool = True) -> str | None:
        """The card for an article whose embeds folder is at ``embeds_href``; None when
        that href needs ``render_embed`` itself (a value its checks change or reject)."""
        if not _fits_stencil(embeds_href, self.page, self.media):
            return None
        return _with_style(str(escape(embeds_href)).join(self.parts), style)


def embed_stencil(post: Post, page: str, media: str, lang: str | None = None) -> EmbedStencil:
    """``post``'s card for any article (see ``EmbedStencil``): ``page`` and ``media``
    are the paths of its local page and of the media folder (ending in ``/``) under the
    embeds folder, ``lang`` the article's language. The same bytes as ``render_embed``
    with ``copy_href=f"{embeds_href}/{page}"`` and ``media_href_prefix=f"{embeds_href}/{media}"``
    once filled."""
    body = _embed_body(post, f"{_FOLDER}/{page}", f"{_FOLDER}/{media}", lang)
    return EmbedStencil(tuple(body.split(_FOLDER)), page, media)


@lru_cache(maxsize=256)
def _fits_stencil(embeds_href: str, page: str, media: str) -> bool:
    """``render_embed`` keeps the links made from ``embeds_href`` as they are: a
    relative, root-relative or plain http(s) href without characters it would turn
    into references (line breaks, the ``{`` of template syntax)."""
    if any(c in embeds_href for c in "{}\r\n"):
        return False
    copy_href = f"{embeds_href}/{page}"
    try:
        _check_prefix(f"{embeds_href}/{media}")
    except ValueError:
        return False
    return _safe_copy_href(copy_href) == copy_href
