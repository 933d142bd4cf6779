"""Write an archived card so that the article's static-site generator still builds it.

* Plain Markdown/HTML (Jekyll's kramdown, Eleventy, WordPress): the card itself, one line
  of raw HTML, which these pass through by default.
* Hugo (the span was a Hugo shortcode): goldmark drops raw HTML by default, so the card
  goes inside a shortcode of our own, ``{{< archived-post key="x:ID" >}}CARD{{<
  /archived-post >}}``, whose template (``layouts/shortcodes/archived-post.html``, written
  into the site by the run) outputs its inner text as is.
* MDX (``.mdx`` files): raw HTML must be valid JSX, so the card becomes
  ``<div data-archived-post="x:ID" dangerouslySetInnerHTML={{__html: "…"}} />`` with the
  HTML in a JS string literal (``<``, ``>``, ``{``, ``}`` escaped, so neither MDX nor our
  own HTML pass sees markup or expressions in it).

``archiver.detect_ssg`` finds both wrappers again as archived spans, with their flavour,
so a rerun writes the same bytes and ``restore`` puts the original back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from archiver.detect_ssg import FLAVOR_HUGO, FLAVOR_MDX, FORM_SHORTCODE
from archiver.files import write_if_changed
from archiver.models import FORM_ARCHIVED, EmbedSpan

__all__ = [
    "FLAVOR_HUGO",
    "FLAVOR_MDX",
    "HUGO_TEMPLATE",
    "ensure_hugo_template",
    "flavor_for",
    "wrap_card",
]

# Hugo's template for our shortcode: the inner text is our own, already escaped card.
HUGO_TEMPLATE: Final = "{{- .Inner | safeHTML -}}\n"
HUGO_TEMPLATE_PATH: Final = Path("layouts") / "shortcodes" / "archived-post.html"
_HUGO_CONFIGS: Final = (
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "hugo.json",
    "config.toml",
)


def flavor_for(span: EmbedSpan, location: str) -> str | None:
    """How the card replacing ``span`` is written: an archived span keeps its flavour;
    otherwise MDX in ``.mdx`` files, Hugo for Hugo shortcodes, else plain HTML (None)."""
    if span.form == FORM_ARCHIVED:
        return span.flavor
    if location.lower().endswith(".mdx"):
        return FLAVOR_MDX
    if span.form == FORM_SHORTCODE:
        return FLAVOR_HUGO
    return None


def wrap_card(card: str, key: str, flavor: str | None) -> str:
    """The replacement text for a span: ``card`` (one line of HTML) in its wrapper."""
    if flavor == FLAVOR_HUGO:
        return f'{{{{< archived-post key="{key}" >}}}}{card}{{{{< /archived-post >}}}}'
    if flavor == FLAVOR_MDX:
        literal = (
            json.dumps(card, ensure_ascii=True)
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("{", "\\u007b")
            .replace("}", "\\u007d")
        )
        inner = f"{{{{__html: {literal}}}}}"
        return f'<div data-archived-post="{key}" dangerouslySetInnerHTML={inner} />'
    return card


def hugo_site_root(article: Path) -> Path | None:
    """The Hugo site an article file belongs to: the nearest folder above its
    ``content`` folder that holds a Hugo configuration file; None if there is none."""
    for folder in article.parents:
        if folder.name == "content":
            site = folder.parent
            if any((site / name).is_file() for name in _HUGO_CONFIGS):
                return site
    return None


def ensure_hugo_template(article: Path, fsync: bool = False) -> Path | None:
    """Write our shortcode's template into the article's Hugo site (atomically, only if
    it differs); return its path, or None when the article is not in a Hugo site."""
    site = hugo_site_root(article)
    if site is None:
        return None
    path = site / HUGO_TEMPLATE_PATH
    write_if_changed(path, HUGO_TEMPLATE.encode("utf-8"), fsync=fsync)
    return path
