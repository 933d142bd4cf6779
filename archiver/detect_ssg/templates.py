"""Template forms: Hugo shortcodes, Liquid tags, fastpages lines, MDX/Astro components
and bare post URLs, with X's grammar of the post URLs and ids they take."""

from __future__ import annotations

import functools
import re
from typing import Final

from archiver.detect_ssg.options import (
    FORM_BARE_URL,
    FORM_COMPONENT,
    FORM_FASTPAGES,
    FORM_LIQUID,
    FORM_SHORTCODE,
    SsgOptions,
    component_names,
    options_re,
)
from archiver.models import PLATFORM_X, EmbedSpan
from archiver.platforms.x.ssg import DEFAULT_LIQUID, DEFAULT_SHORTCODES, RESERVED_HANDLES_B
from archiver.platforms.x.urls import STATUS_CORE_B

# Longest argument list of one shortcode/tag/component we read: bounds every match.
_MAX_ARGS = 2000
_MAX: Final = str(_MAX_ARGS).encode()

# Status URLs and ids (X's grammar, archiver.platforms.x.urls, as archiver.detect)

_STATUS_CORE: Final = STATUS_CORE_B + rb"(?![0-9])"
_URL_VALUE_RE: Final = re.compile(
    rb"(?:https?://)?" + _STATUS_CORE + rb"(?:[/?#][^\s\"'<>]*)?", re.I
)
ID_VALUE_RE: Final = re.compile(rb"[0-9]{1,19}")
_LINK_VALUE_RE: Final = re.compile(  # tweetLink="user/status/ID"
    rb"(?P<handle>[A-Za-z0-9_]{1,15})/status/(?P<id>[0-9]{1,19})"
)
_HANDLE_RE: Final = re.compile(rb"@?([A-Za-z0-9_]{1,15})")


def _post_from_value(value: bytes) -> tuple[str | None, str, str | None] | None:
    """``(handle, id, url)`` for an argument that is a status URL or a bare id."""
    if ID_VALUE_RE.fullmatch(value):
        return None, value.decode("ascii"), None
    m = _URL_VALUE_RE.fullmatch(value)
    if m is None:
        return None
    raw = m.group("handle")
    if raw is not None and raw.lower() in RESERVED_HANDLES_B:
        return None
    handle = raw.decode("ascii") if raw is not None else None
    return handle, m.group("id").decode("ascii"), value.decode("ascii", "replace")


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


# Regex searches, not ``in`` tests: bytes.find crawls through the many "{" and "<" of
# a rendered page (CSS, markup) 3-4x slower than sre's literal-prefix scan (measured
# on the bench corpus: 0.18 vs 0.05 ms for "{{", 0.16 vs 0.05 ms for "<Tweet").
_SHORTCODE_OPEN_RE: Final = re.compile(rb"\{\{")
_LIQUID_OPEN_RE: Final = re.compile(rb"\{%")


@functools.lru_cache(maxsize=64)
def component_open_re(components: tuple[str, ...]) -> re.Pattern[bytes] | None:
    """One search for ``<Name`` of any of the components (None without components)."""
    if not components:
        return None
    return re.compile(b"<(?:" + b"|".join(re.escape(c.encode()) for c in components) + b")")


def keep_span(found: list[EmbedSpan], span: EmbedSpan | None) -> None:
    """Add ``span`` to ``found`` unless a form's parser refused it (None)."""
    if span is not None:
        found.append(span)


# What a shortcode and a Liquid tag start with (their regexes, ``_shortcode_re`` and
# ``_liquid_re``): three bytes rather than "{{" and "{%", which a one-pass search of many
# markers handles badly (a two-byte marker halves its speed on pages of CSS and JS).
SHORTCODE_OPENERS: Final = (b"{{<", b"{{%")


def liquid_openers(options: SsgOptions) -> tuple[bytes, ...]:
    """``{%`` and what may follow it in a Liquid tag: ``-``, whitespace (``\\s`` of a
    bytes regex) or the first letter of a tag name (matched as written)."""
    names = DEFAULT_LIQUID + options.liquid_tags
    follow = dict.fromkeys([*b"- \t\n\r\f\v", *(name.encode()[0] for name in names)])
    return tuple(b"{%" + bytes([c]) for c in follow)


class Markers:
    """Whether a page holds a marker: looked up in the set a caller found in one pass
    (``present``, of ``ssg_markers``), else searched for."""

    def __init__(self, data: bytes, present: frozenset[bytes] | None) -> None:
        self.data = data
        self.present = present

    def __call__(self, marker: bytes) -> bool:
        if self.present is not None:
            return marker in self.present
        return marker in self.data

    def any_of(self, markers: tuple[bytes, ...]) -> bool:
        """Whether the page holds at least one of ``markers``."""
        return any(self(m) for m in markers)

    def shortcode(self) -> bool:
        """Whether a Hugo shortcode may start in the page."""
        if self.present is not None:
            return not self.present.isdisjoint(SHORTCODE_OPENERS)
        return _SHORTCODE_OPEN_RE.search(self.data) is not None

    def liquid(self, options: SsgOptions) -> bool:
        """Whether a Liquid tag may start in the page."""
        if self.present is not None:
            return not self.present.isdisjoint(liquid_openers(options))
        return _LIQUID_OPEN_RE.search(self.data) is not None

    def component(self, names: tuple[str, ...]) -> bool:
        """Whether the page holds ``<Name`` for one of the component ``names``."""
        if self.present is not None:
            return any(b"<" + name.encode() in self.present for name in names)
        opener = component_open_re(names)
        return opener is not None and opener.search(self.data) is not None


def template_forms(
    data: bytes, options: SsgOptions, found: list[EmbedSpan], has: Markers | None = None
) -> None:
    """Shortcodes, Liquid tags, fastpages lines, components and bare URLs into ``found``.

    ``has`` says which markers the page holds (default: searched for)."""
    has = has or Markers(data, None)
    if has.shortcode():
        names = _unique(DEFAULT_SHORTCODES + options.shortcodes)
        for m in options_re(options, "shortcode", names, _shortcode_re).finditer(data):
            keep_span(found, _shortcode(m))
    if has.liquid(options):
        tags = _unique(DEFAULT_LIQUID + options.liquid_tags)
        for m in options_re(options, "liquid", tags, _liquid_re).finditer(data):
            keep_span(found, _liquid(m))
    if has(b"twitter:"):
        for m in _FASTPAGES_RE.finditer(data):
            post = _post_from_value(m.group(1))
            if post is not None:
                handle, post_id, url = post
                found.append(
                    EmbedSpan(m.start(), m.end(), FORM_FASTPAGES, post_id, handle=handle, url=url)
                )
    comps = _unique(component_names(options))
    if has.component(comps):
        others = {name.encode(): platform for name, platform in options.platform_components}
        for m in options_re(options, "component", comps, _component_re).finditer(data):
            keep_span(found, _component(data, m, others))
    if options.bare_urls and (has(b"twitter.com/") or has(b"x.com/")):
        for m in _BARE_RE.finditer(data):
            keep_span(found, _bare(data, m))


def _unique(names: tuple[str, ...]) -> tuple[str, ...]:
    # Longest first: an alternation must not stop at "x" when "xpost" is meant.
    return tuple(sorted(set(names), key=lambda n: (-len(n), n)))


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
