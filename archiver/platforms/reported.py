"""Embeds that are found and reported, never archived or rewritten.

Threads (``blockquote.text-post-media``), Instagram (``blockquote.instagram-media``),
TikTok (``blockquote.tiktok-embed``) and Facebook (``div.fb-post``, ``div.fb-video``, the
``facebook.com/plugins/post.php`` / ``video.php`` iframe) have no public API that allows
archiving. The lexer finds them like any other form (``Recogniser.reported``), so a page
lists them, and their bytes are left untouched. ``PostRef.post_id`` is the post's URL as
written (entity-decoded, http(s) only): these posts get no archive key.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Final
from urllib.parse import parse_qs, urlsplit

from archiver.platforms.base import PostRef, Recogniser, StartTag

__all__ = ["REPORTED"]

_HREF_RE: Final = re.compile(rb"""<(?i:a)\s[^>]*?(?i:href)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _http_url(raw: bytes | None) -> str | None:
    """``raw`` (an attribute value) as a URL if it is an absolute http(s) URL."""
    if not raw:
        return None
    url = html.unescape(raw.decode("utf-8", "replace")).strip()
    if url.startswith("//"):
        url = "https:" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _on_host(url: str, hosts: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


def _identifier(
    attrs: tuple[bytes, ...], hosts: tuple[str, ...]
) -> Callable[[StartTag, bytes], PostRef | None]:
    """``identify`` reading the first of ``attrs`` that holds a URL on ``hosts``, else the
    first link inside the element to one of them."""

    def identify(tag: StartTag, element: bytes) -> PostRef | None:
        for name in attrs:
            url = _http_url(tag.attrs.get(name))
            if url is not None and _on_host(url, hosts):
                return PostRef(url, None, url)
        for m in _HREF_RE.finditer(element):
            url = _http_url(m.group(1) or m.group(2))
            if url is not None and _on_host(url, hosts):
                return PostRef(url, None, url)
        return None

    return identify


def _has_class(name: bytes) -> Callable[[StartTag], bool]:
    def claims(tag: StartTag) -> bool:
        return name in tag.classes

    return claims


_FB_PLUGIN_RE: Final = re.compile(rb"facebook\.com/plugins/(?:post|video)\.php", re.I)


def _claims_fb_iframe(tag: StartTag) -> bool:
    src = tag.attrs.get(b"src")
    return src is not None and _FB_PLUGIN_RE.search(src) is not None


def _identify_fb_iframe(tag: StartTag, element: bytes) -> PostRef | None:
    src = _http_url(tag.attrs.get(b"src"))
    if src is None:
        return None
    href = parse_qs(urlsplit(src).query).get("href", [""])[0]
    url = _http_url(href.encode("utf-8"))
    if url is None or not _on_host(url, ("facebook.com", "fb.watch")):
        return None
    return PostRef(url, None, url)


def _script(host: bytes) -> re.Pattern[bytes]:
    """A loader script on ``host`` (``…/embed.js``)."""
    return re.compile(rb"\s*(?:https?:)?//(?:www\.)?" + re.escape(host) + rb"/[^\s]*\.js", re.I)


_THREADS: Final = ("threads.net", "threads.com")
_INSTAGRAM: Final = ("instagram.com", "instagr.am")
_TIKTOK: Final = ("tiktok.com",)
_FACEBOOK: Final = ("facebook.com", "fb.watch")

REPORTED: Final[tuple[tuple[str, Recogniser], ...]] = (
    (
        "threads",
        Recogniser(
            element=b"blockquote",
            markers=(b"text-post-media",),
            form="threads-blockquote",
            claims=_has_class(b"text-post-media"),
            identify=_identifier((b"data-text-post-permalink", b"cite"), _THREADS),
            script=re.compile(rb"\s*(?:https?:)?//(?:www\.)?threads\.(?:net|com)/embed\.js", re.I),
            reported=True,
        ),
    ),
    (
        "instagram",
        Recogniser(
            element=b"blockquote",
            markers=(b"instagram-media",),
            form="instagram-blockquote",
            claims=_has_class(b"instagram-media"),
            identify=_identifier((b"data-instgrm-permalink", b"cite"), _INSTAGRAM),
            script=_script(b"instagram.com"),
            reported=True,
        ),
    ),
    (
        "tiktok",
        Recogniser(
            element=b"blockquote",
            markers=(b"tiktok-embed",),
            form="tiktok-blockquote",
            claims=_has_class(b"tiktok-embed"),
            identify=_identifier((b"cite",), _TIKTOK),
            script=_script(b"tiktok.com"),
            reported=True,
        ),
    ),
    (
        "facebook",
        Recogniser(
            element=b"div",
            markers=(b"fb-post", b"fb-video"),
            form="facebook-div",
            claims=lambda tag: b"fb-post" in tag.classes or b"fb-video" in tag.classes,
            identify=_identifier((b"data-href",), _FACEBOOK),
            reported=True,
        ),
    ),
    (
        "facebook",
        Recogniser(
            element=b"iframe",
            markers=(b"facebook.com/plugins/",),
            form="facebook-iframe",
            claims=_claims_fb_iframe,
            identify=_identify_fb_iframe,
            reported=True,
        ),
    ),
)
