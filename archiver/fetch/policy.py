"""Which hosts and addresses the project may contact: one policy for every fetch.

Two checks, at two moments:

* before each request and each redirect hop, the URL's host must be one of the
  configured ones (``host_allowed``): ``media.allowed_hosts`` for media, the
  source's own host plus its ``allowed_hosts`` for articles, sitemaps and feeds.
  An entry with a port (``127.0.0.1:8123``) matches that port only; without one,
  the scheme's default port.
* when a connection is opened (``GuardedBackend``), a host *name* must resolve to
  public addresses only: a name that resolves to loopback, private, link-local,
  shared, reserved or multicast space is refused (DNS rebinding, cloud metadata at
  169.254.169.254). The address checked is the one connected to, so a second DNS
  answer cannot differ from the first. Internal addresses are reachable only when
  written literally in the configuration (``http://127.0.0.1:8080/sitemap.xml``,
  ``allowed_hosts: ["10.0.0.5"]``), or as ``localhost`` for loopback.

Hosts that nobody configured (a Mastodon instance named by an embed, the media
host of its posts) go through a third, stricter gate, ``HostGuard``: https only, no
credentials in the URL, a host *name* or a public IP literal written the one
canonical way (``127.1``, ``2130706433``, ``0177.0.0.1``, ``0x7f.0.0.1`` are refused,
as browsers would read them as loopback), checked on the first URL and on every
redirect, before anything is sent; the connection-time check above then covers the
addresses a name resolves to. ``http.host_overrides`` sends a host's traffic to
another base URL and trusts it as configured.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpcore

from .errors import HostRefused

__all__ = [
    "GuardedBackend",
    "HostGuard",
    "HostPolicy",
    "HostRefused",
    "host_allowed",
    "host_entry",
    "is_internal",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


# IPv6 ranges that carry an IPv4 address in their last 32 bits (NAT64, SIIT), and
# ranges that are local whatever they carry (local-use NAT64, deprecated site-local).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::ffff:0:0:0/96"))
_LOCAL_V6 = (ipaddress.IPv6Network("64:ff9b:1::/48"), ipaddress.IPv6Network("fec0::/10"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: mapped, IPv4-compatible
    (``::127.0.0.1``), 6to4, Teredo, NAT64/SIIT translated."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    value = int(ip)
    if 1 < value < 1 << 32:
        found.append(ipaddress.IPv4Address(value))
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    return found


def is_internal(address: str) -> bool:
    """Whether an IP address is not on the public internet (loopback, private,
    link-local, carrier-grade NAT, reserved, multicast, unspecified), including an
    IPv6 address that stands for such an IPv4 address (mapped, compatible, 6to4,
    Teredo, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in _LOCAL_V6):
            return True
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(is_internal(str(v4)) for v4 in _embedded_ipv4(ip)):
            return True
    return not ip.is_global or ip.is_multicast


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def host_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    """Whether ``url`` is http(s) on an allowed host. An entry with a port
    (``127.0.0.1:8123``) matches that port only; without one, the scheme's default."""
    target = _http_target(url)
    if target is None:
        return False
    host, effective_port, default_port = target
    for entry in allowed_hosts:
        entry = entry.strip().lower()
        if not entry:
            continue
        entry_host, sep, entry_port = entry.rpartition(":")
        if sep and entry_port.isdigit() and not entry_host.endswith(":"):
            if host == entry_host.strip("[]") and effective_port == int(entry_port):
                return True
        elif host == entry.strip("[]") and effective_port == default_port:
            return True
    return False


def host_entry(url: str) -> str | None:
    """The allow-list entry that matches ``url``'s host exactly: ``host`` when the
    port is the scheme's default (so http and https of one site both match),
    ``host:port`` otherwise; None for anything that is not an http(s) URL."""
    target = _http_target(url)
    if target is None:
        return None
    host, port, default_port = target
    if ":" in host:
        host = f"[{host}]"
    return host if port == default_port else f"{host}:{port}"


def _http_target(url: str) -> tuple[str, int, int] | None:
    """(lower-case host, effective port, the scheme's default port) of an http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    default_port = _DEFAULT_PORTS[scheme]
    return parts.hostname.lower(), default_port if port is None else port, default_port


@dataclass(frozen=True)
class HostPolicy:
    """The hosts one source may reach: its own, plus the ones it explicitly allows."""

    hosts: tuple[str, ...]

    @classmethod
    def for_urls(cls, urls: Iterable[str], extra: Iterable[str] = ()) -> HostPolicy:
        """The policy of a source whose configured URLs are ``urls``."""
        entries = [entry for entry in (host_entry(u) for u in urls) if entry]
        return cls(tuple(dict.fromkeys([*entries, *(e.strip().lower() for e in extra)])))

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be fetched under this policy."""
        return host_allowed(url, self.hosts)

    def check(self, url: str) -> None:
        """Raise ``HostRefused`` unless ``url`` may be fetched."""
        if not self.allows(url):
            shown = ", ".join(self.hosts) or "none"
            raise HostRefused(f"refused {url[:200]}: host not allowed for this source ({shown})")


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves names itself and refuses internal
    addresses, then connects to the checked address (TLS still verifies the name)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to ``host`` after checking the address it resolves to."""
        address = host
        if not _ip_literal(host):
            addresses = await _resolve(host, port)
            loopback_name = host.lower().rstrip(".") == "localhost"
            for candidate in addresses:
                allowed = loopback_name and ipaddress.ip_address(candidate).is_loopback
                if is_internal(candidate) and not allowed:
                    # One internal answer is enough to refuse: mixed answers are a trick.
                    raise HostRefused(f"refused {host}: resolves to internal address {candidate}")
            if not addresses:
                raise httpcore.ConnectError(f"cannot resolve {host}")
            address = addresses[0]
        return await self._inner.connect_tcp(
            address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never used: the project only speaks TCP."""
        raise HostRefused("unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        """Delegated to the wrapped backend."""
        await self._inner.sleep(seconds)


def guard_transport(transport: Any) -> None:
    """Install ``GuardedBackend`` in an ``httpx.AsyncHTTPTransport``'s connection pool.

    httpx has no public hook for the network backend; its pool keeps it in
    ``_network_backend``. If a future httpx changes that, fail loudly rather than
    silently run without the address check.
    """
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if not isinstance(inner, httpcore.AsyncNetworkBackend):
        raise RuntimeError("cannot install the address check in this httpx version")
    if not isinstance(inner, GuardedBackend):
        pool._network_backend = GuardedBackend(inner)  # type: ignore[union-attr]


# --- the guard for hosts nobody configured ------------------------------------------

# WHATWG URL parsing reads a host whose last label is a number (decimal, 0x-hex or
# 0-octal) as an IPv4 address, in any of the forms inet_aton accepts.
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_CANONICAL_IPV4 = re.compile(
    r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$"
)
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)


def _override_key(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port is not None else host


class HostGuard:
    """The one gate for requests to hosts named by untrusted content.

    ``check`` refuses a URL (``HostRefused``) before any byte is sent; ``route``
    applies ``http.host_overrides``; ``slot`` bounds the requests in flight to one
    host. ``HttpSession.get(..., guarded=True)`` runs all three on every hop.
    """

    def __init__(self, overrides: Mapping[str, str], per_host_concurrency: int) -> None:
        self._overrides = {key.lower(): base.rstrip("/") for key, base in overrides.items()}
        self._per_host = per_host_concurrency
        self._slots: dict[str, asyncio.Semaphore] = {}

    def _override(self, url: str) -> tuple[str, str] | None:
        """(override key, base URL) when ``url``'s host is overridden."""
        if not self._overrides:
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        host = (parts.hostname or "").lower()
        for key in (_override_key(host, port), host if port in (None, 443) else None):
            if key is not None and key in self._overrides:
                return key, self._overrides[key]
        return None

    def is_overridden(self, url: str) -> bool:
        """Whether ``url``'s host is sent elsewhere by ``http.host_overrides``."""
        return self._override(url) is not None

    def check(self, url: str) -> None:
        """Raise ``HostRefused`` unless ``url`` may be requested: https, no userinfo,
        a host name or a canonical public IP literal (overridden hosts are trusted)."""
        shown = url[:200]
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise HostRefused(f"refused {shown}: not a valid URL") from None
        if "@" in parts.netloc:
            raise HostRefused(f"refused {shown}: credentials in the URL")
        if self._override(url) is not None:
            if parts.scheme.lower() not in ("http", "https"):
                raise HostRefused(f"refused {shown}: not an http(s) URL")
            return
        if parts.scheme.lower() != "https":
            raise HostRefused(f"refused {shown}: only https is allowed for this host")
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise HostRefused(f"refused {shown}: no host")
        reason = _host_refusal(host)
        if reason:
            raise HostRefused(f"refused {shown}: {reason}")

    def route(self, url: str) -> tuple[str, dict[str, str]]:
        """The URL to connect to and the extra headers: an overridden host's requests
        go to its base URL, with the original ``Host`` header."""
        found = self._override(url)
        if found is None:
            return url, {}
        _, base = found
        parts = urlsplit(url)
        target = urlsplit(base)
        path = target.path.rstrip("/") + (parts.path or "/")
        routed = urlunsplit((target.scheme, target.netloc, path, parts.query, ""))
        return routed, {"Host": parts.netloc.lower()}

    def unroute(self, routed: str, original: str) -> str:
        """Map a URL on an override's base (a redirect's ``Location``) back to the
        overridden host, so the next hop is checked and routed as that host."""
        found = self._override(original)
        if found is None:
            return routed
        _, base = found
        if routed == base or routed.startswith(base + "/"):
            parts = urlsplit(original)
            rest = urlsplit(routed)
            prefix = urlsplit(base).path.rstrip("/")
            path = rest.path[len(prefix) :] or "/"
            return urlunsplit((parts.scheme, parts.netloc, path, rest.query, rest.fragment))
        return routed

    def key(self, url: str) -> str:
        """The unit of per-host limits: the (original, not routed) host and port."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return url
        return _override_key((parts.hostname or "").lower(), port)

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        """Hold one of the host's ``per_host_concurrency`` request slots."""
        key = self.key(url)
        semaphore = self._slots.get(key)
        if semaphore is None:
            semaphore = self._slots[key] = asyncio.Semaphore(self._per_host)
        async with semaphore:
            yield


def _host_refusal(host: str) -> str | None:
    """Why ``host`` (lower-case, no trailing dot) may not be contacted, or None."""
    if host.startswith("[") or ":" in host:
        literal = host.strip("[]")
        if "%" in literal:
            return "IPv6 zone identifiers are not allowed"
        try:
            address = ipaddress.IPv6Address(literal)
        except ValueError:
            return "not a valid IPv6 address"
        if is_internal(str(address)):
            return f"internal address {address}"
        return None
    last = host.rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.match(last):
        # An IPv4 literal: only the canonical dotted quad, and only a public one.
        if not _CANONICAL_IPV4.match(host):
            return "not a canonical IPv4 address (decimal, octal, hex or short forms are refused)"
        if is_internal(host):
            return f"internal address {host}"
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback name"
    if not _HOST_NAME.match(host):
        return "not a valid host name"
    return None
