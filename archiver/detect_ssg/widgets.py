"""Rendered widget forms (``twitterwidget``, ``div.twitter-tweet-rendered``) and our own
archived wrappers (``archiver.ssg_rewrite``), as written."""

from __future__ import annotations

import re
from typing import Final

from archiver.detect_ssg.options import (
    FORM_RENDERED_DIV,
    FORM_TWITTERWIDGET,
)
from archiver.detect_ssg.templates import ID_VALUE_RE
from archiver.models import EmbedSpan

WIDGET_RE: Final = re.compile(rb"<(twitterwidget|div)(?=[\s>])([^>]{0,2000})>", re.I)
_ATTR_RE: Final = re.compile(
    rb"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
)
_DIV_TAG_RE: Final = re.compile(rb"<(/?)div(?=[\s/>])", re.I)
# Our own wrappers (archiver.ssg_rewrite), exactly as written. The key is any
# platform's ``NAME:ID`` (ids never hold quotes, spaces or braces); X's ids are checked
# here, other platforms' by ``archiver.detect`` (their ``is_post_id``).
_KEY: Final = rb"([a-z0-9]{1,32}):([A-Za-z0-9._:~%/@-]{1,700})"
X_ID_RE: Final = re.compile(rb"[0-9]{1,19}")
HUGO_ARCHIVED_RE: Final = re.compile(
    rb'\{\{< archived-post key="' + _KEY + rb'" >\}\}'
    rb"(?:[^{\n]|\{(?!\{<)){0,1000000}?\{\{< /archived-post >\}\}"
)
MDX_ARCHIVED_RE: Final = re.compile(
    rb'<div data-archived-post="' + _KEY + rb'" dangerouslySetInnerHTML=\{\{__html: '
    rb'"(?:[^"\\\n]|\\[^\n])*+"\}\} />'
)


def widget(data: bytes, m: re.Match[bytes]) -> EmbedSpan | None:
    """A ``twitterwidget`` element or a rendered ``div`` without an iframe, or None."""
    attrs: dict[bytes, bytes] = {}
    for a in _ATTR_RE.finditer(m.group(2)):
        value = next((g for g in a.groups()[1:] if g is not None), b"")
        attrs.setdefault(a.group(1).lower(), value)
    raw_id = attrs.get(b"data-tweet-id", b"").strip()
    if not ID_VALUE_RE.fullmatch(raw_id):
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
