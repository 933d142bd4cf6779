"""The fetch layer's exceptions, in a module of their own so every part can raise them."""

from __future__ import annotations

from archiver.errors import ArchiverError

__all__ = [
    "ArticleFetchError",
    "BodyTooLarge",
    "FetchError",
    "HostRefused",
    "HostUnreachable",
    "Refused",
    "UnsupportedEncoding",
]


class FetchError(ArchiverError):
    """A request failed for good (after retries, or past the deadline): not an answer."""


class HostUnreachable(FetchError):
    """The host could not be reached at all (connection refused, DNS failure): a
    failure, never an answer about the post; the host may come back."""


class ArticleFetchError(FetchError):
    """A sitemap or feed could not be fetched (``fetch_xml``)."""


class Refused(FetchError):
    """A request or body we will not accept; never retried (it would be refused again)."""


class BodyTooLarge(Refused):
    """The body exceeded the byte cap; never retried (it would be as large again)."""


class UnsupportedEncoding(Refused):
    """A ``Content-Encoding`` we do not decode (stacked layers, br, zstd, …)."""


class HostRefused(Refused):
    """The URL's host, or the address it resolves to, is outside the allowed ones."""
