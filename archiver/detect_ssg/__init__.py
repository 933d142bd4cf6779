"""Find X posts embedded through static-site generator conventions, with exact spans.

A second, separate pass next to ``archiver.detect`` (which reads HTML markup): it finds
the forms a generator turns into an embed at build time, in Markdown and template
sources, plus two rendered widget forms that are not iframes.

* Hugo shortcodes ``{{< tweet … >}}``, ``{{< x … >}}``, ``{{% … %}}`` (named or positional
  arguments, any spacing and quoting);
* Liquid tags ``{% twitter URL %}``, ``{% twitternocache URL %}``, ``{% twitter oembed
  URL %}``, ``{% tweet URL %}`` / ``{% tweet "URL" %}``, dev.to ``{% twitter ID %}``,
  ``{% embed URL %}`` when URL is a post;
* fastpages ``> twitter: URL`` lines;
* MDX/Astro components ``<Tweet id="ID|URL" />``, ``<Tweet tweetLink="user/status/ID" />``;
  other platforms' components (astro-embed's ``<BlueskyPost id="URL" />``,
  ``<MastodonPost id="URL" />``, ``SsgOptions.platform_components``) are reported with
  their platform and the ``id`` value as written in ``url`` and ``post_id``: the
  platform's ``parse_url`` says which post it is (``archiver.detect`` asks it);
* bare post URLs alone in their own paragraph (opt-in: ``SsgOptions.bare_urls``);
* ``<twitterwidget … data-tweet-id>`` and ``div.twitter-tweet-rendered[data-tweet-id]``
  without an iframe (HTML: checked on every page);
* our own rewritten forms (a Hugo ``archived-post`` shortcode, an MDX ``div`` with
  ``data-archived-post``), reported as ``FORM_ARCHIVED`` so reruns and ``restore`` work.

Never inside: fenced or indented code, inline code, HTML comments, ``<pre>``/``<code>``/
``<script>``/``<style>``/``<textarea>`` elements, ``{% raw %}`` and ``{% comment %}``
blocks.  Hugo's disabled ``{< … >}`` and escaped ``{{</* … */>}}`` forms never match.

Every regex is possessive or bounded, and each match starts at a distinct position, so
time stays linear in the input.

The pieces: ``options`` (SsgOptions, form names), ``regions`` (where nothing is an embed),
``templates`` (the generator forms), ``widgets`` (rendered widgets, our own wrappers).
"""

from __future__ import annotations

import re
from typing import Final

from archiver.detect_ssg.options import (
    FLAVOR_HUGO,
    FLAVOR_MDX,
    FORM_BARE_URL,
    FORM_COMPONENT,
    FORM_FASTPAGES,
    FORM_LIQUID,
    FORM_RENDERED_DIV,
    FORM_SHORTCODE,
    FORM_TWITTERWIDGET,
    SSG_SUFFIXES,
    SsgOptions,
    component_names,
    options_for,
    options_re,
)
from archiver.detect_ssg.regions import excluded_ranges, in_ranges
from archiver.detect_ssg.templates import (
    SHORTCODE_OPENERS,
    Markers,
    component_open_re,
    keep_span,
    liquid_openers,
    template_forms,
)
from archiver.detect_ssg.widgets import (
    HUGO_ARCHIVED_RE,
    MDX_ARCHIVED_RE,
    WIDGET_RE,
    X_ID_RE,
    widget,
)
from archiver.models import FORM_ARCHIVED, PLATFORM_X, EmbedSpan

__all__ = [
    "FLAVOR_HUGO",
    "FLAVOR_MDX",
    "FORM_BARE_URL",
    "FORM_COMPONENT",
    "FORM_FASTPAGES",
    "FORM_LIQUID",
    "FORM_RENDERED_DIV",
    "FORM_SHORTCODE",
    "FORM_TWITTERWIDGET",
    "SSG_SUFFIXES",
    "SsgOptions",
    "find_ssg_embeds",
    "might_contain_ssg",
    "options_for",
    "options_re",
    "ssg_markers",
]

# One regex search for both template openers: two ``in`` tests on "{{" and "{%"
# cost 2.5x as much on pages full of CSS and JavaScript braces.
_TEMPLATE_OPEN_RE: Final = re.compile(rb"\{[{%]")


def might_contain_ssg(data: bytes, options: SsgOptions) -> bool:
    """Cheap substring prefilter: False means ``find_ssg_embeds`` finds nothing.

    Equivalent to "``data`` holds one of ``ssg_markers(options)``"."""
    if b"data-tweet-id" in data or b"data-archived-post" in data:
        return True
    if not options.templates:
        return False
    # One regex search for both template openers: two ``in`` tests on "{{" and "{%"
    # cost 2.5x as much on pages full of CSS and JavaScript braces.
    if _TEMPLATE_OPEN_RE.search(data) is not None or b"twitter:" in data:
        return True
    opener = component_open_re(component_names(options))
    if opener is not None and opener.search(data) is not None:
        return True
    return options.bare_urls and (b"twitter.com/" in data or b"x.com/" in data)


def ssg_markers(options: SsgOptions) -> tuple[bytes, ...]:
    """The substrings one of which a page must hold for ``find_ssg_embeds`` to find
    anything (a finer test than ``might_contain_ssg``: ``{{<`` rather than ``{{``), for a
    caller that finds them all in one pass and hands them to ``find_ssg_embeds`` as
    ``present``."""
    markers = [b"data-tweet-id", b"data-archived-post"]
    if options.templates:
        markers += [*SHORTCODE_OPENERS, *liquid_openers(options), b"twitter:"]
        markers += [b"<" + name.encode() for name in component_names(options)]
        if options.bare_urls:
            markers += [b"twitter.com/", b"x.com/"]
    return tuple(markers)


def find_ssg_embeds(
    data: bytes,
    options: SsgOptions,
    markdown: bool,
    *,
    present: frozenset[bytes] | None = None,
) -> list[EmbedSpan]:
    """Every SSG-form embed in ``data``, sorted, non-overlapping (see the module doc).

    ``present``: which of ``ssg_markers(options)`` the page holds, when the caller found
    them already (each test is otherwise a pass over the page)."""
    has = Markers(data, present)
    if not (
        has.any_of(ssg_markers(options))
        if present is not None
        else might_contain_ssg(data, options)
    ):
        return []
    found: list[EmbedSpan] = []
    if has(b"data-archived-post"):
        for rx, flavor in ((HUGO_ARCHIVED_RE, FLAVOR_HUGO), (MDX_ARCHIVED_RE, FLAVOR_MDX)):
            for m in rx.finditer(data):
                platform, raw_id = m.group(1).decode(), m.group(2)
                if platform == PLATFORM_X and not X_ID_RE.fullmatch(raw_id):
                    continue
                found.append(
                    EmbedSpan(
                        m.start(), m.end(), FORM_ARCHIVED, raw_id.decode(), platform, flavor=flavor
                    )
                )
    if has(b"data-tweet-id"):
        for m in WIDGET_RE.finditer(data):
            keep_span(found, widget(data, m))
    if options.templates:
        template_forms(data, options, found, has)
    if not found:
        return []
    # Code, comments and raw blocks only matter where something was found.
    excluded = excluded_ranges(data, options, markdown)
    starts = [s for s, _ in excluded]
    found = [span for span in found if not in_ranges(excluded, starts, span.start)]
    return _non_overlapping(found)


def _non_overlapping(spans: list[EmbedSpan]) -> list[EmbedSpan]:
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[EmbedSpan] = []
    for s in spans:
        if out and s.start < out[-1].end:
            continue
        out.append(s)
    return out
