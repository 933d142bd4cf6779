"""Bluesky post URLs and ids: parsing every URL form, the canonical URL, file names.

A post id is ``DID/RKEY`` (``did:plc:z72i7hdynmk6r22z27h6tvur/3lbv5is6h6c2k``): the
author's DID, a slash, the record key. A URL may name the author by handle instead
(``bsky.app/profile/alice.example/post/RKEY``): its ``PostRef.post_id`` is then
``HANDLE/RKEY``, which ``is_post_id`` refuses; the fetcher resolves the handle.

URL forms accepted (scheme http or https; query and fragment ignored, so
``?ref_src=embed`` and Ghost's ``?ref=site.ghost.io`` do not matter; one trailing
slash allowed):

* ``https://bsky.app/profile/HANDLE_OR_DID/post/RKEY`` (host ``bsky.app`` only:
  ``www.bsky.app`` and ``staging.bsky.app`` are not the public app's post URLs, and
  a lookalike host must not make a page's link an archived post);
* ``at://HANDLE_OR_DID/app.bsky.feed.post/RKEY`` (the record URI);
* ``https://embed.bsky.app/embed/HANDLE_OR_DID/app.bsky.feed.post/RKEY`` (the iframe
  embed.js writes).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote, urlsplit

from archiver.platforms.base import PostRef

__all__ = [
    "at_uri",
    "canonical_url",
    "file_stem",
    "is_did",
    "is_handle",
    "is_post_id",
    "parse_post_id",
    "parse_url",
    "ref_for",
]

POST_COLLECTION = "app.bsky.feed.post"
APP_HOST = "bsky.app"
EMBED_HOST = "embed.bsky.app"

_PLC_RE = re.compile(r"did:plc:[a-z2-7]{24}")
# did:web names a host (lower-case here: host names are case-insensitive and the id
# must have one spelling), optionally with a percent-encoded port.
_WEB_RE = re.compile(
    r"did:web:(?=[^%]{1,253}(?:%3A|$))"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:%3A[0-9]{1,5})?"  # one spelling: upper-case, as parse_url writes it
)
# atproto handle syntax (a DNS name with at least two labels, last not numeric-first).
_HANDLE_RE = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_RKEY_RE = re.compile(r"[A-Za-z0-9._:~-]{1,512}")


def is_did(value: str) -> bool:
    """A DID this archive accepts as an author: ``did:plc:`` or ``did:web:``."""
    return bool(_PLC_RE.fullmatch(value) or _WEB_RE.fullmatch(value))


def is_handle(value: str) -> bool:
    """A handle in its lower-case form (``alice.bsky.social``)."""
    return _HANDLE_RE.fullmatch(value) is not None


def is_rkey(value: str) -> bool:
    """The record-key syntax (``.`` and ``..`` are reserved)."""
    return _RKEY_RE.fullmatch(value) is not None and value not in (".", "..")


def parse_post_id(post_id: str) -> tuple[str, str] | None:
    """(DID or handle, rkey) of ``DID/RKEY`` or ``HANDLE/RKEY``; None if malformed."""
    if not isinstance(post_id, str):
        return None
    author, sep, rkey = post_id.rpartition("/")
    if not sep or not is_rkey(rkey) or not (is_did(author) or is_handle(author)):
        return None
    return author, rkey


def is_post_id(post_id: object) -> bool:
    """Whether ``post_id`` is the stored id form ``DID/RKEY`` (a handle form is not)."""
    if not isinstance(post_id, str):
        return False
    parts = parse_post_id(post_id)
    return parts is not None and is_did(parts[0])


def canonical_url(post_id: str, handle: str | None = None) -> str:
    """``https://bsky.app/profile/DID/post/RKEY``: the DID never changes, a handle may.

    ``handle`` is unused (the DID-form URL is stable); it is accepted for the
    interface. A handle-form id gives the handle-form URL.
    """
    parts = parse_post_id(post_id)
    if parts is None:
        raise ValueError(f"not a Bluesky post id: {post_id[:200]!r}")
    return f"https://{APP_HOST}/profile/{parts[0]}/post/{parts[1]}"


def at_uri(post_id: str) -> str:
    """``at://DID/app.bsky.feed.post/RKEY``, what the AppView's getPosts takes."""
    parts = parse_post_id(post_id)
    if parts is None:
        raise ValueError(f"not a Bluesky post id: {post_id[:200]!r}")
    return f"at://{parts[0]}/{POST_COLLECTION}/{parts[1]}"


def _author(value: str) -> str | None:
    """The DID or lower-cased handle in a URL segment (percent-decoded once)."""
    value = unquote(value)
    if value.startswith("did:web:"):
        # The port's colon is percent-encoded inside a did:web (and decoded above).
        host = value[len("did:web:") :].lower().replace("%3a", ":")
        value = "did:web:" + host.replace(":", "%3A")
    elif not value.startswith("did:"):
        value = value.lower()
    return value if is_did(value) or is_handle(value) else None


def ref_for(author: str, rkey: str) -> PostRef | None:
    """The PostRef of a post by ``author`` (DID or handle, as checked) and ``rkey``."""
    if not is_rkey(rkey):
        return None
    handle = None if is_did(author) else author
    post_id = f"{author}/{rkey}"
    return PostRef(post_id=post_id, handle=handle, url=canonical_url(post_id))


def parse_url(url: str) -> PostRef | None:
    """The post a URL names (see the module docstring for the forms), or None."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    text = url.strip()
    if text[:5].lower() == "at://":
        segments = text[5:].split("?", 1)[0].split("#", 1)[0].split("/")
        if len(segments) != 3 or segments[1] != POST_COLLECTION:
            return None
        author = _author(segments[0])
        return ref_for(author, segments[2]) if author else None
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.username or port not in (None, 443):
        return None
    path = parts.path[:-1] if parts.path.endswith("/") else parts.path
    segments = path.split("/")
    if host == APP_HOST:
        if len(segments) != 5 or segments[1] != "profile" or segments[3] != "post":
            return None
        author, rkey = _author(segments[2]), segments[4]
    elif host == EMBED_HOST:
        if len(segments) != 5 or segments[1] != "embed" or segments[3] != POST_COLLECTION:
            return None
        author, rkey = _author(segments[2]), segments[4]
    else:
        return None
    return ref_for(author, unquote(rkey)) if author else None


# --- file names -----------------------------------------------------------------------

_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")
# Stems longer than this are shortened with a hash; readable stems are never longer,
# so a hashed stem (exactly _HASHED_LEN) cannot equal a readable one.
_READABLE_MAX = 100
_HASHED_LEN = 120


def _escape(value: str) -> str:
    """Every character outside ``[A-Za-z0-9.-]`` as ``_XX`` (UTF-8 bytes in hex)."""
    out: list[str] = []
    for ch in value:
        if ch in _PLAIN:
            out.append(ch)
        else:
            out.extend(f"_{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out)


def file_stem(post_id: str) -> str:
    """A safe, injective file name stem for ``embeds/bluesky/<stem>.html``.

    ``did:plc:ID/RKEY`` → ``plc-ID__RKEY``; ``did:web:HOST/RKEY`` → ``web-HOST__RKEY``,
    with every character outside ``[A-Za-z0-9.-]`` written ``_XX``. An escape is always
    ``_`` and two hex digits, so ``__`` occurs only as the separator: the mapping can be
    undone, hence injective. Stems past 100 characters become their first 95
    characters, ``--``, and 23 hex digits of the id's SHA-256 (120 characters).
    Only ``[A-Za-z0-9._-]``, never a leading dot.
    """
    if not is_post_id(post_id):
        raise ValueError(f"not a Bluesky post id: {post_id[:200]!r}")
    did, _, rkey = post_id.rpartition("/")
    method, _, ident = did[len("did:") :].partition(":")
    stem = f"{method}-{_escape(ident)}__{_escape(rkey)}"
    if len(stem) <= _READABLE_MAX:
        return stem
    digest = hashlib.sha256(post_id.encode("utf-8")).hexdigest()
    return f"{stem[:95]}--{digest[: _HASHED_LEN - 97]}"
