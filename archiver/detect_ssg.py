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
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from archiver.models import FORM_ARCHIVED, PLATFORM_X, EmbedForm, EmbedSpan
from archiver.platforms.x.ssg import DEFAULT_LIQUID, DEFAULT_SHORTCODES, RESERVED_HANDLES_B
from archiver.platforms.x.urls import STATUS_CORE_B

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
]

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

# Longest argument list of one shortcode/tag/component we read: bounds every match.
_MAX_ARGS = 2000
_MAX: Final = str(_MAX_ARGS).encode()

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


# ---------------------------------------------------------------------------------------
# Status URLs and ids (X's grammar, archiver.platforms.x.urls, as archiver.detect)

_STATUS_CORE: Final = STATUS_CORE_B + rb"(?![0-9])"
_URL_VALUE_RE: Final = re.compile(
    rb"(?:https?://)?" + _STATUS_CORE + rb"(?:[/?#][^\s\"'<>]*)?", re.I
)
_ID_VALUE_RE: Final = re.compile(rb"[0-9]{1,19}")
_LINK_VALUE_RE: Final = re.compile(  # tweetLink="user/status/ID"
    rb"(?P<handle>[A-Za-z0-9_]{1,15})/status/(?P<id>[0-9]{1,19})"
)
_HANDLE_RE: Final = re.compile(rb"@?([A-Za-z0-9_]{1,15})")


def _post_from_value(value: bytes) -> tuple[str | None, str, str | None] | None:
    """``(handle, id, url)`` for an argument that is a status URL or a bare id."""
    if _ID_VALUE_RE.fullmatch(value):
        return None, value.decode("ascii"), None
    m = _URL_VALUE_RE.fullmatch(value)
    if m is None:
        return None
    raw = m.group("handle")
    if raw is not None and raw.lower() in RESERVED_HANDLES_B:
        return None
    handle = raw.decode("ascii") if raw is not None else None
    return handle, m.group("id").decode("ascii"), value.decode("ascii", "replace")


# ---------------------------------------------------------------------------------------
# Regions that are never embeds

_FENCE_RE: Final = re.compile(rb"^ {0,3}(`{3,}|~{3,})[^\n]*+", re.M)
_INLINE_CODE_RE: Final = re.compile(rb"(`++)")
_LIQUID_END: Final = {
    b"raw": re.compile(rb"\{%-?\s*endraw\s*-?%\}"),
    b"comment": re.compile(rb"\{%-?\s*endcomment\s*-?%\}"),
}
# An indented code block: after a blank line, lines indented by 4 spaces or a tab (the
# literal "\n" first lets the engine skip fast; a block on the file's first line is missed).
_INDENTED_RE: Final = re.compile(rb"\n[ \t]*\r?\n((?:(?: {4}|\t)[^\n]*+(?:\n|$)|[ \t]*\r?\n)+)")


# The lookahead lets the engine reject most "<" at once (measured: 4x faster on HTML).
_REGION_RE: Final = re.compile(
    rb"<(?=[!pPcCsStT])(?:(!--)|(pre|code|script|style|textarea)(?=[\s>]))"
    rb"|\{%-?\s*(raw|comment)\s*-?%\}",
    re.I,
)


def _excluded(data: bytes, options: SsgOptions, markdown: bool) -> list[tuple[int, int]]:
    """Sorted, merged byte ranges in which nothing is an embed."""
    ranges: list[tuple[int, int]] = []
    n = len(data)
    pos = 0
    # One forward pass: a region's end is searched once, and the scan resumes after it,
    # so unclosed regions cannot make this quadratic.
    while True:
        m = _REGION_RE.search(data, pos)
        if m is None:
            break
        if m.group(1):
            i = data.find(b"-->", m.end())
            end = n if i < 0 else i + 3
        elif m.group(2):
            close = re.compile(rb"</" + m.group(2) + rb"\s*>", re.I).search(data, m.end())
            end = n if close is None else close.end()
        else:
            close = _LIQUID_END[m.group(3).lower()].search(data, m.end())
            end = n if close is None else close.end()
        ranges.append((m.start(), end))
        pos = max(end, m.start() + 1)
    if markdown:
        # Substring tests first: each regex below costs a pass, most files need few.
        if b"```" in data or b"~~~" in data:
            ranges.extend(_fences(data))
        if options.indented_code and (b"\n    " in data or b"\n\t" in data):
            for m in _INDENTED_RE.finditer(data):
                ranges.append((m.start(1), m.end(1)))
        if b"`" in data:
            ranges.extend(_inline_code(data))
    return _merge(ranges)


def _fences(data: bytes) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _FENCE_RE.search(data, pos)
        if m is None:
            return out
        fence = m.group(1)
        close = re.compile(
            rb"^ {0,3}" + re.escape(fence) + re.escape(fence[:1]) + rb"*[ \t]*\r?$", re.M
        ).search(data, m.end())
        end = len(data) if close is None else close.end()
        out.append((m.start(), end))
        pos = end


def _inline_code(data: bytes) -> list[tuple[int, int]]:
    """CommonMark code spans: a run of N backticks up to the next run of exactly N."""
    out: list[tuple[int, int]] = []
    runs = [(m.start(), m.end()) for m in _INLINE_CODE_RE.finditer(data)]
    by_len: dict[int, list[int]] = {}
    for i, (s, e) in enumerate(runs):
        by_len.setdefault(e - s, []).append(i)
    i = 0
    while i < len(runs):
        s, e = runs[i]
        same = by_len[e - s]
        k = bisect.bisect_right(same, i)
        if k < len(same):
            j = same[k]
            out.append((s, runs[j][1]))
            i = j + 1
        else:
            i += 1
    return out


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for s, e in ranges:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _inside(ranges: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and ranges[i][0] <= pos < ranges[i][1]


# ---------------------------------------------------------------------------------------
# Forms

_ARG_RE: Final = re.compile(
    rb"""\s*+(?:([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*)?"""
    rb"""(?:"([^"]*)"|'([^']*)'|`([^`]*)`|\{\s*["']([^"'{}]*)["']\s*\}|\{([^{}]*)\}|([^\s"'`=]+))"""
)


def _args(raw: bytes) -> tuple[list[bytes], dict[bytes, bytes]]:
    """Positional and named arguments of a shortcode/tag/component."""
    positional: list[bytes] = []
    named: dict[bytes, bytes] = {}
    pos = 0
    while True:
        m = _ARG_RE.match(raw, pos)
        if m is None or m.end() == pos:
            return positional, named
        value = next((g for g in m.groups()[1:] if g is not None), b"")
        if m.group(1) is not None:
            named.setdefault(m.group(1).lower(), value.strip())
        else:
            positional.append(value.strip())
        pos = m.end()


def _shortcode_re(names: tuple[str, ...]) -> re.Pattern[bytes]:
    alts = b"|".join(re.escape(n.encode()) for n in names)
    body = (
        rb"""(?P<args>(?:"[^"]{0,500}"|'[^']{0,500}'|`[^`]{0,500}`|[^"'`>%}]){0,""" + _MAX + rb"}?)"
    )
    return re.compile(
        rb"\{\{(?:<\s*(?P<n1>"
        + alts
        + rb")(?=[\s>])"
        + body.replace(b"args", b"a1")
        + rb"\s*>\}\}|%\s*(?P<n2>"
        + alts
        + rb")(?=[\s%])"
        + body.replace(b"args", b"a2")
        + rb"\s*%\}\})",
        re.I,
    )


def _liquid_re(names: tuple[str, ...]) -> re.Pattern[bytes]:
    alts = b"|".join(re.escape(n.encode()) for n in names)
    return re.compile(
        rb"\{%-?\s*(?P<name>" + alts + rb")\s+(?P<args>[^%]{0," + _MAX + rb"}?)\s*-?%\}"
    )


def _component_re(names: tuple[str, ...]) -> re.Pattern[bytes]:
    alts = b"|".join(re.escape(n.encode()) for n in names)
    return re.compile(
        rb"<(?P<name>" + alts + rb")(?=[\s/>])"
        rb"""(?P<args>(?:"[^"]{0,500}"|'[^']{0,500}'|\{[^{}]{0,500}\}|[^"'{}>/]|/(?!>)){0,"""
        + _MAX
        + rb"})(?P<close>/>|>)"
    )


_FASTPAGES_RE: Final = re.compile(rb"^> ?twitter: *(\S{1,600})[ \t]*\r?$", re.M)
_BARE_RE: Final = re.compile(
    rb"^ {0,3}(?P<lt><?)(?P<url>(?:https?://)?"
    + _STATUS_CORE
    + rb"(?:[/?#][^\s<>]{0,500})?)(?P<gt>>?)[ \t]*\r?$",
    re.M | re.I,
)
_BLANK_RE: Final = re.compile(rb"[ \t]*\r?$")
_WIDGET_RE: Final = re.compile(rb"<(twitterwidget|div)(?=[\s>])([^>]{0,2000})>", re.I)
_ATTR_RE: Final = re.compile(
    rb"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
)
_DIV_TAG_RE: Final = re.compile(rb"<(/?)div(?=[\s/>])", re.I)
# Our own wrappers (archiver.ssg_rewrite), exactly as written. The key is any
# platform's ``NAME:ID`` (ids never hold quotes, spaces or braces); X's ids are checked
# here, other platforms' by ``archiver.detect`` (their ``is_post_id``).
_KEY: Final = rb"([a-z0-9]{1,32}):([A-Za-z0-9._:~%/@-]{1,700})"
_X_ID_RE: Final = re.compile(rb"[0-9]{1,19}")
_HUGO_ARCHIVED_RE: Final = re.compile(
    rb'\{\{< archived-post key="' + _KEY + rb'" >\}\}'
    rb"(?:[^{\n]|\{(?!\{<)){0,1000000}?\{\{< /archived-post >\}\}"
)
_MDX_ARCHIVED_RE: Final = re.compile(
    rb'<div data-archived-post="' + _KEY + rb'" dangerouslySetInnerHTML=\{\{__html: '
    rb'"(?:[^"\\\n]|\\[^\n])*+"\}\} />'
)

# One regex search for both template openers: two ``in`` tests on "{{" and "{%"
# cost 2.5x as much on pages full of CSS and JavaScript braces.
_TEMPLATE_OPEN_RE: Final = re.compile(rb"\{[{%]")
# Regex searches, not ``in`` tests: bytes.find crawls through the many "{" and "<" of
# a rendered page (CSS, markup) 3-4x slower than sre's literal-prefix scan (measured
# on the bench corpus: 0.18 vs 0.05 ms for "{{", 0.16 vs 0.05 ms for "<Tweet").
_SHORTCODE_OPEN_RE: Final = re.compile(rb"\{\{")
_LIQUID_OPEN_RE: Final = re.compile(rb"\{%")


@functools.lru_cache(maxsize=64)
def _component_open_re(components: tuple[str, ...]) -> re.Pattern[bytes] | None:
    """One search for ``<Name`` of any of the components (None without components)."""
    if not components:
        return None
    return re.compile(b"<(?:" + b"|".join(re.escape(c.encode()) for c in components) + b")")


def might_contain_ssg(data: bytes, options: SsgOptions) -> bool:
    """Cheap substring prefilter: False means ``find_ssg_embeds`` finds nothing."""
    if b"data-tweet-id" in data or b"data-archived-post" in data:
        return True
    if not options.templates:
        return False
    # One regex search for both template openers: two ``in`` tests on "{{" and "{%"
    # cost 2.5x as much on pages full of CSS and JavaScript braces.
    if _TEMPLATE_OPEN_RE.search(data) is not None or b"twitter:" in data:
        return True
    opener = _component_open_re(_component_names(options))
    if opener is not None and opener.search(data) is not None:
        return True
    return options.bare_urls and (b"twitter.com/" in data or b"x.com/" in data)


def find_ssg_embeds(data: bytes, options: SsgOptions, markdown: bool) -> list[EmbedSpan]:
    """Every SSG-form embed in ``data``, sorted, non-overlapping (see the module doc)."""
    if not might_contain_ssg(data, options):
        return []
    found: list[EmbedSpan] = []
    if b"data-archived-post" in data:
        for rx, flavor in ((_HUGO_ARCHIVED_RE, FLAVOR_HUGO), (_MDX_ARCHIVED_RE, FLAVOR_MDX)):
            for m in rx.finditer(data):
                platform, raw_id = m.group(1).decode(), m.group(2)
                if platform == PLATFORM_X and not _X_ID_RE.fullmatch(raw_id):
                    continue
                found.append(
                    EmbedSpan(
                        m.start(), m.end(), FORM_ARCHIVED, raw_id.decode(), platform, flavor=flavor
                    )
                )
    if b"data-tweet-id" in data:
        for m in _WIDGET_RE.finditer(data):
            _keep(found, _widget(data, m))
    if options.templates:
        _template_forms(data, options, found)
    if not found:
        return []
    # Code, comments and raw blocks only matter where something was found.
    excluded = _excluded(data, options, markdown)
    starts = [s for s, _ in excluded]
    found = [span for span in found if not _inside(excluded, starts, span.start)]
    return _non_overlapping(found)


def _keep(found: list[EmbedSpan], span: EmbedSpan | None) -> None:
    if span is not None:
        found.append(span)


def _template_forms(data: bytes, options: SsgOptions, found: list[EmbedSpan]) -> None:
    """Shortcodes, Liquid tags, fastpages lines, components and bare URLs into ``found``."""
    if _SHORTCODE_OPEN_RE.search(data) is not None:
        names = _unique(DEFAULT_SHORTCODES + options.shortcodes)
        for m in options_re(options, "shortcode", names, _shortcode_re).finditer(data):
            _keep(found, _shortcode(m))
    if _LIQUID_OPEN_RE.search(data) is not None:
        tags = _unique(DEFAULT_LIQUID + options.liquid_tags)
        for m in options_re(options, "liquid", tags, _liquid_re).finditer(data):
            _keep(found, _liquid(m))
    if b"twitter:" in data:
        for m in _FASTPAGES_RE.finditer(data):
            post = _post_from_value(m.group(1))
            if post is not None:
                handle, post_id, url = post
                found.append(
                    EmbedSpan(m.start(), m.end(), FORM_FASTPAGES, post_id, handle=handle, url=url)
                )
    comps = _unique(_component_names(options))
    opener = _component_open_re(comps)
    if opener is not None and opener.search(data) is not None:
        others = {name.encode(): platform for name, platform in options.platform_components}
        for m in options_re(options, "component", comps, _component_re).finditer(data):
            _keep(found, _component(data, m, others))
    if options.bare_urls and (b"twitter.com/" in data or b"x.com/" in data):
        for m in _BARE_RE.finditer(data):
            _keep(found, _bare(data, m))


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


def _unique(names: tuple[str, ...]) -> tuple[str, ...]:
    # Longest first: an alternation must not stop at "x" when "xpost" is meant.
    return tuple(sorted(set(names), key=lambda n: (-len(n), n)))


def _non_overlapping(spans: list[EmbedSpan]) -> list[EmbedSpan]:
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[EmbedSpan] = []
    for s in spans:
        if out and s.start < out[-1].end:
            continue
        out.append(s)
    return out


def _shortcode(m: re.Match[bytes]) -> EmbedSpan | None:
    raw = m.group("a1") if m.group("a1") is not None else m.group("a2")
    positional, named = _args(raw or b"")
    value = named.get(b"id")
    if value is None and positional:
        value = positional[-1]
    if value is None:
        return None
    post = _post_from_value(value)
    if post is None:
        return None
    handle = post[0]
    user = named.get(b"user") or (positional[0] if len(positional) > 1 else None)
    if handle is None and user:
        h = _HANDLE_RE.fullmatch(user)
        handle = h.group(1).decode("ascii") if h else None
    return EmbedSpan(m.start(), m.end(), FORM_SHORTCODE, post[1], PLATFORM_X, handle, post[2])


def _liquid(m: re.Match[bytes]) -> EmbedSpan | None:
    positional, _named = _args(m.group("args"))
    name = m.group("name").lower()
    if positional and positional[0].lower() == b"oembed":
        positional = positional[1:]
    if not positional:
        return None
    value = positional[0]
    post = _post_from_value(value)
    if post is None:
        return None
    if name == b"embed" and post[2] is None:
        return None  # Forem's {% embed %} takes URLs: a number there is not a post
    return EmbedSpan(m.start(), m.end(), FORM_LIQUID, post[1], PLATFORM_X, post[0], post[2])


def _component_names(options: SsgOptions) -> tuple[str, ...]:
    return (*options.components, *(name for name, _ in options.platform_components))


def _component_end(data: bytes, m: re.Match[bytes]) -> int | None:
    """The end of a component: its ``/>``, or its closing tag (not nested)."""
    end = m.end()
    if m.group("close") == b">":
        close = data.find(b"</" + m.group("name") + b">", end, end + 20000)
        if close < 0 or b"<" + m.group("name") in data[end:close]:
            return None
        end = close + len(m.group("name")) + 3
    return end


def _component(data: bytes, m: re.Match[bytes], others: dict[bytes, str]) -> EmbedSpan | None:
    _positional, named = _args(m.group("args"))
    platform = others.get(m.group("name"))
    if platform is not None:
        # Another platform's component: the id value, as written, for its parse_url.
        value = named.get(b"id", b"").strip()
        end = _component_end(data, m) if value else None
        if end is None:
            return None
        url = value.decode("utf-8", "replace")
        return EmbedSpan(m.start(), end, FORM_COMPONENT, url, platform, None, url)
    post: tuple[str | None, str, str | None] | None = None
    if b"id" in named:
        post = _post_from_value(named[b"id"])
    elif b"tweetlink" in named:
        link = _LINK_VALUE_RE.fullmatch(named[b"tweetlink"])
        if link is not None and link.group("handle").lower() not in RESERVED_HANDLES_B:
            post = (link.group("handle").decode(), link.group("id").decode(), None)
    if post is None:
        return None
    end = _component_end(data, m)
    if end is None:
        return None
    return EmbedSpan(m.start(), end, FORM_COMPONENT, post[1], PLATFORM_X, post[0], post[2])


def _bare(data: bytes, m: re.Match[bytes]) -> EmbedSpan | None:
    if bool(m.group("lt")) != bool(m.group("gt")):
        return None  # "<url" or "url>": not an autolink
    # Alone in its paragraph: a blank line (or the start) before, a blank line (or the
    # end) after.
    if m.start() > 0:
        prev_end = m.start() - 1
        prev_start = data.rfind(b"\n", 0, prev_end) + 1
        if not _BLANK_RE.fullmatch(data, prev_start, prev_end):
            return None
    nxt = data.find(b"\n", m.end())
    if nxt >= 0:
        after_end = data.find(b"\n", nxt + 1)
        after_end = len(data) if after_end < 0 else after_end
        if not _BLANK_RE.fullmatch(data, nxt + 1, after_end):
            return None
    post = _post_from_value(m.group("url"))
    if post is None:
        return None
    end = m.end()
    while end > m.start() and data[end - 1 : end] in (b" ", b"\t", b"\r"):
        end -= 1
    start = m.start() + (len(m.group()) - len(m.group().lstrip(b" ")))
    return EmbedSpan(start, end, FORM_BARE_URL, post[1], PLATFORM_X, post[0], post[2])


def _widget(data: bytes, m: re.Match[bytes]) -> EmbedSpan | None:
    attrs: dict[bytes, bytes] = {}
    for a in _ATTR_RE.finditer(m.group(2)):
        value = next((g for g in a.groups()[1:] if g is not None), b"")
        attrs.setdefault(a.group(1).lower(), value)
    raw_id = attrs.get(b"data-tweet-id", b"").strip()
    if not _ID_VALUE_RE.fullmatch(raw_id):
        return None
    post_id = raw_id.decode("ascii")
    name = m.group(1).lower()
    if name == b"twitterwidget":
        close = re.compile(rb"</twitterwidget\s*>", re.I).search(data, m.end(), m.end() + 200000)
        if close is None:
            return None
        return EmbedSpan(m.start(), close.end(), FORM_TWITTERWIDGET, post_id)
    if b"twitter-tweet-rendered" not in attrs.get(b"class", b"").lower().split():
        return None
    end = _div_end(data, m.end())
    if end is None or re.search(rb"<iframe[\s>]", data[m.end() : end], re.I):
        return None  # an iframe widget: archiver.detect reports it
    return EmbedSpan(m.start(), end, FORM_RENDERED_DIV, post_id)


def _div_end(data: bytes, pos: int) -> int | None:
    depth = 1
    for t in _DIV_TAG_RE.finditer(data, pos, pos + 200000):
        depth += -1 if t.group(1) else 1
        if depth == 0:
            gt = data.find(b">", t.end())
            return None if gt < 0 else gt + 1
    return None
