"""Render archived posts as static, script-free HTML.

Two outputs:

* ``render_embed``: the stable embed spliced into an article where the original embed
  was. It must be byte-for-byte deterministic (rewriting is idempotent only if the same
  ``Post`` always renders the same bytes), one line (so Markdown keeps it as a single
  raw-HTML block), and carry ``data-archived-post`` so a later scan recognises it.
* ``render_post_page``: a self-contained page per post, with provenance.

Everything shown comes from strangers. Templates autoescape; every URL is checked
here, in Python, before a template sees it (http(s) for links, safe relative paths
for local media), so the templates stay dumb and the checks are testable.

The code lives in four modules: ``common`` (template environment, dates, linked
text, value checks), ``card`` (the post card's view model and the stable embed),
``stencil`` (a card rendered once for every article showing it) and ``pages`` (the
local copy page); their public names are all importable from here.
"""

from __future__ import annotations

from archiver.render.card import render_embed
from archiver.render.common import (
    LINK_REL,
    card_css,
    document_lang,
    human_date,
    isolate_mentions,
    link_entities,
    neutralize_template_syntax,
    post_time,
)
from archiver.render.pages import EmbeddingArticle, SnapshotLike, render_post_page
from archiver.render.stencil import EmbedStencil, embed_stencil

__all__ = [
    "LINK_REL",
    "EmbedStencil",
    "EmbeddingArticle",
    "SnapshotLike",
    "card_css",
    "document_lang",
    "embed_stencil",
    "human_date",
    "isolate_mentions",
    "link_entities",
    "neutralize_template_syntax",
    "post_time",
    "render_embed",
    "render_post_page",
]
