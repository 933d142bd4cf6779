"""Mastodon post URLs, ids, file names and the time in a snowflake id.

A post's id in the archive is ``HOST/ID`` (key ``mastodon:HOST/ID``): the instance
the embed names, lower-case and punycoded, with ``:port`` only when not 443, then
the status id exactly as that instance gives it (``[0-9A-Za-z]{1,32}``: decimal
snowflakes on Mastodon, flake strings on Pleroma/Akkoma, ULIDs on GoToSocial).
Ids are per instance: the same post seen from two servers is two posts here,
which is what the embed showed.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import idna

from archiver.clock import iso_from_unix_ms

from ..base import PostRef

__all__ = [
    "MIN_SNOWFLAKE_ID",
    "canonical_url",
    "created_at_from_id",
    "file_stem",
    "is_handle",
    "is_post_id",
    "normalize_host",
    "parse_url",
    "split_post_id",
]

# Mastodon ids since 2.0 (2017) are snowflakes: (unix_ms << 16) | 16-bit sequence
# (lib/mastodon/snowflake.rb). Before, statuses were numbered 1, 2, 3…; no server
# came near 6.2e16 statuses, so an id below the snowflake of 2000-01-01 is a legacy
# sequential id and carries no time. Remote statuses backfilled with id_at() carry
# their creation second (the milliseconds are random): still "a time", see the README.
MIN_SNOWFLAKE_ID = 946_684_800_000 << 16
_MAX_ID_EXCLUSIVE = 1 << 63

_ID = re.compile(r"[0-9A-Za-z]{1,32}")
_DIGITS_ID = r"(?P<id>[0-9]{1,32})"
_ANY_ID = r"(?P<id>[0-9A-Za-z]{1,32})"
# Mastodon usernames: letters, digits, underscores, inner dots and dashes.
_USER = r"(?P<user>[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?)"
_REMOTE = r"(?:@(?P<remote>[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?))?"
_PATHS = [
    # https://HOST/@user/ID, …/embed, and a remote account seen from HOST (@user@remote)
    re.compile(rf"/@{_USER}{_REMOTE}/{_DIGITS_ID}(?:/embed)?/?"),
    # https://HOST/users/user/statuses/ID (the ActivityPub-style web URL)
    re.compile(rf"/users/{_USER}/statuses/{_DIGITS_ID}(?:/embed)?/?"),
    # GoToSocial: https://HOST/@user/statuses/ULID
    re.compile(rf"/@{_USER}/statuses/{_ANY_ID}/?"),
    # Pleroma/Akkoma: https://HOST/notice/FLAKE
    re.compile(rf"/notice/{_ANY_ID}/?"),
]
_HANDLE = re.compile(rf"{_USER}{_REMOTE}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_STEM_LIMIT = 120


def normalize_host(host: str, port: int | None = None) -> str | None:
    """``host[:port]`` as ids hold it: IDNA (UTS 46) punycode, lower case, no
    trailing dot, ``:port`` only when not 443; None for anything not a DNS name
    (IP literals included: an instance is named, never numbered)."""
    name = host.strip().rstrip(".")
    if not name or len(name) > 253:
        return None
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-1].isdigit():  # 127.0.0.1 and friends
        return None
    if port is not None and not 0 < port < 65536:
        return None
    return ascii_name if port in (None, 443) else f"{ascii_name}:{port}"


def _host_with_port(text: str) -> str | None:
    """A ``host[:port]`` string already in id form, or None."""
    name, sep, port = text.partition(":")
    if sep:
        if not port.isascii() or not port.isdigit() or len(port) > 5 or port.startswith("0"):
            return None
        normal = normalize_host(name, int(port))
    else:
        normal = normalize_host(name)
    return normal if normal == text else None


def split_post_id(post_id: str) -> tuple[str, str] | None:
    """(host, status id) of a well-formed ``HOST/ID``, else None."""
    if not isinstance(post_id, str) or not post_id.isascii():
        return None
    host, sep, status_id = post_id.partition("/")
    if not sep or not _ID.fullmatch(status_id) or _host_with_port(host) is None:
        return None
    return host, status_id


def is_post_id(post_id: str) -> bool:
    """Whether ``post_id`` is the documented ``HOST/ID`` form (host in id form)."""
    return split_post_id(post_id) is not None


def is_handle(handle: str) -> bool:
    """Whether ``handle`` is ``user`` or ``user@host[:port]`` as Mastodon writes them."""
    return isinstance(handle, str) and _HANDLE.fullmatch(handle) is not None


def canonical_url(post_id: str, handle: str | None) -> str:
    """``https://HOST/@user/ID`` (``@user@remote`` for a remote account). Without a
    handle, the API URL of the status: the one URL every server answers for an id."""
    parts = split_post_id(post_id)
    if parts is None:
        raise ValueError(f"not a Mastodon post id: {post_id!r}")
    host, status_id = parts
    if handle and is_handle(handle):
        return f"https://{host}/@{handle}/{status_id}"
    return f"https://{host}/api/v1/statuses/{status_id}"


def parse_url(url: str) -> PostRef | None:
    """The post a Mastodon-family URL names (web, ``/embed``, ``/users/…/statuses/…``,
    GoToSocial and Pleroma forms), or None. Accepts http too (old markup); the
    canonical URL is always https. Userinfo is refused (``https://a@b/…``)."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    url = url.strip()
    if url.startswith("//"):  # protocol-relative, as some CMSs rewrite iframe sources
        url = "https:" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        return None
    scheme_default = 80 if parts.scheme.lower() == "http" else 443
    host = normalize_host(parts.hostname or "", None if port == scheme_default else port)
    if host is None:
        return None
    for pattern in _PATHS:
        match = pattern.fullmatch(parts.path)
        if match is None:
            continue
        groups = match.groupdict()
        user, remote = groups.get("user"), groups.get("remote")
        if remote is not None:
            remote_host = _remote_host(remote)
            if remote_host is None:
                return None
            user = f"{user}@{remote_host}"
        post_id = f"{host}/{groups['id']}"
        return PostRef(post_id=post_id, handle=user, url=canonical_url(post_id, user))
    return None


def _remote_host(text: str) -> str | None:
    name, sep, port = text.partition(":")
    if sep:
        return normalize_host(name, int(port)) if port.isdigit() else None
    return normalize_host(name)


def file_stem(post_id: str) -> str:
    """A safe, injective file name for ``embeds/mastodon/<stem>.html``.

    ``host[_port]_id`` in ``[a-z0-9._-]`` only: every capital letter of the id is
    written ``-`` + its lower case (ids have no ``-``), so ``Ab`` and ``aB`` differ
    even on case-insensitive file systems; hosts have no ``_``, so the parts split
    back unambiguously. Past 120 characters: the host's start and a SHA-256 of the
    id (``_h`` + 64 hex digits, longer than any encoded id, so the two forms never
    meet). Raises ValueError for a malformed id.
    """
    parts = split_post_id(post_id)
    if parts is None:
        raise ValueError(f"not a Mastodon post id: {post_id!r}")
    host, status_id = parts
    name, _, port = host.partition(":")
    encoded = "".join(f"-{c.lower()}" if c.isupper() else c for c in status_id)
    stem = f"{name}_{port}_{encoded}" if port else f"{name}_{encoded}"
    if len(stem) <= _STEM_LIMIT:
        return stem
    digest = hashlib.sha256(post_id.encode("ascii")).hexdigest()
    return f"{name[:40].rstrip('.-')}_h{digest}"


def created_at_from_id(post_id: str) -> str | None:
    """The creation time a Mastodon snowflake id encodes (ms = id >> 16), as
    ``…T…Z``; None for legacy small ids, Pleroma/Akkoma flakes, GoToSocial ULIDs
    (letters), or anything malformed. Accepts ``HOST/ID`` or a bare status id."""
    status_id = post_id.rpartition("/")[2] if "/" in post_id else post_id
    if "/" in post_id and split_post_id(post_id) is None:
        return None
    if not status_id.isascii() or not status_id.isdigit() or len(status_id) > 19:
        return None
    value = int(status_id)
    if not MIN_SNOWFLAKE_ID <= value < _MAX_ID_EXCLUSIVE:
        return None
    return iso_from_unix_ms(value >> 16)
