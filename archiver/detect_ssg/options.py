"""What the SSG pass looks for (``SsgOptions``), per article, and the names of its forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from archiver.models import EmbedForm

FORM_SHORTCODE = EmbedForm.SHORTCODE
FORM_LIQUID = EmbedForm.LIQUID
FORM_FASTPAGES = EmbedForm.FASTPAGES
FORM_COMPONENT = EmbedForm.COMPONENT
FORM_BARE_URL = EmbedForm.BARE_URL
FORM_TWITTERWIDGET = EmbedForm.TWITTERWIDGET
FORM_RENDERED_DIV = EmbedForm.RENDERED_DIV

# How an archived span was written (``EmbedSpan.flavor``): the rewrite keeps the flavour.
FLAVOR_HUGO = "hugo"
FLAVOR_MDX = "mdx"

# Source files whose templates/shortcodes/components are read (local files only).
SSG_SUFFIXES: Final = (".md", ".markdown", ".mdx", ".html", ".htm", ".njk", ".liquid")


_NAME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class SsgOptions:
    """What the SSG pass looks for.

    ``templates``: shortcodes, Liquid tags, components and fastpages lines (off for
    pages fetched over HTTP, where such text is just text).  Names are extra to the
    defaults (shortcodes ``tweet``, ``x``, ``twitter``; Liquid tags ``twitter``,
    ``twitternocache``, ``tweet``, ``embed``; component ``Tweet``).
    """

    templates: bool = True
    bare_urls: bool = False
    shortcodes: tuple[str, ...] = ()
    liquid_tags: tuple[str, ...] = ()
    components: tuple[str, ...] = ("Tweet",)
    # (component name, platform name): other platforms' components, whose ``id`` is a
    # URL their platform reads (``archiver.detect`` fills this from the registry).
    platform_components: tuple[tuple[str, str], ...] = ()
    indented_code: bool = True  # Markdown indented code blocks (not in MDX or templates)
    _compiled: dict[str, re.Pattern[bytes]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        others = tuple(name for name, _ in self.platform_components)
        for name in (*self.shortcodes, *self.liquid_tags, *self.components, *others):
            if not _NAME_RE.fullmatch(name):
                raise ValueError(f"not a shortcode/tag/component name: {name!r}")


def options_for(location: str, base: SsgOptions | None = None) -> SsgOptions:
    """The options for an article at ``location``: templates only for local sources with
    an SSG suffix, indented code only in plain Markdown (MDX and templates have none)."""
    base = base or SsgOptions()
    lower = location.lower()
    local = not lower.startswith(("http://", "https://"))
    templates = local and lower.endswith(SSG_SUFFIXES)
    return SsgOptions(
        templates=templates,
        bare_urls=base.bare_urls and templates,
        shortcodes=base.shortcodes,
        liquid_tags=base.liquid_tags,
        components=base.components,
        platform_components=base.platform_components,
        indented_code=lower.endswith((".md", ".markdown")),
    )


def options_re(
    options: SsgOptions,
    kind: str,
    names: tuple[str, ...],
    build: Callable[[tuple[str, ...]], re.Pattern[bytes]],
) -> re.Pattern[bytes]:
    """The compiled regex for ``kind`` with ``names``, built once per options object."""
    rx = options._compiled.get(kind)
    if rx is None:
        rx = build(names)
        options._compiled[kind] = rx
    return rx


def component_names(options: SsgOptions) -> tuple[str, ...]:
    """Every component name to look for: X's and the other platforms'."""
    return (*options.components, *(name for name, _ in options.platform_components))
