"""The platform registry: the one place the rest of the archiver learns which platforms exist.

``register(platform)`` adds one (X, Bluesky and Mastodon are registered here by
default, one line each); ``get(name)`` and ``all_platforms()`` answer the pipeline, the
fetcher and the CLI; ``recognisers()`` gives the byte lexer every registered form, with
the name of the platform it belongs to (``reported`` forms too, see ``reported.py``).

A test can register a platform of its own and ``unregister`` it afterwards: nothing
else in the archiver needs to change for a new platform. Our own archived card of any
registered platform's post (``data-archived-post="NAME:ID"``) is found again by the
lexer (``archiver.detect.xforms``), under that platform.
"""

from __future__ import annotations

from archiver.errors import ArchiverError
from archiver.platforms.base import (
    Platform,
    PostRef,
    Recogniser,
    StartTag,
    safe_stem,
)

__all__ = [
    "Platform",
    "PostRef",
    "Recogniser",
    "StartTag",
    "UnknownPlatform",
    "all_platforms",
    "generation",
    "get",
    "recognisers",
    "register",
    "safe_stem",
    "unregister",
]


class UnknownPlatform(ArchiverError, KeyError):
    """A platform name no registered platform answers to."""


_PLATFORMS: dict[str, Platform] = {}
# Bumped on every change, so the lexer can cache what it builds from the recognisers.
_generation = 0


def register(platform: Platform) -> Platform:
    """Add ``platform`` (replacing one of the same name); returns it."""
    global _generation
    name = platform.name
    if not (name.isascii() and name.isalnum() and name.islower()):
        # The name is a key prefix and a folder name: keep it plain.
        raise ValueError(f"platform name must be lower-case ASCII letters/digits: {name!r}")
    _PLATFORMS[name] = platform
    _generation += 1
    return platform


def unregister(name: str) -> None:
    """Remove a registered platform (tests that registered their own)."""
    global _generation
    _PLATFORMS.pop(name, None)
    _generation += 1


def get(name: str) -> Platform:
    """The registered platform called ``name``; ``UnknownPlatform`` if none."""
    try:
        return _PLATFORMS[name]
    except KeyError:
        raise UnknownPlatform(f"no platform called {name!r}") from None


def all_platforms() -> tuple[Platform, ...]:
    """Every registered platform, in registration order (X first)."""
    return tuple(_PLATFORMS.values())


def generation() -> int:
    """A number that changes whenever the registry does."""
    return _generation


def recognisers(*, reported: bool = False) -> tuple[tuple[str, Recogniser], ...]:
    """``(platform name, recogniser)`` for every registered form, in registration order;
    with ``reported``, the reported-only forms (Threads, Instagram, TikTok, Facebook) too."""
    found = [(p.name, r) for p in _PLATFORMS.values() for r in p.recognisers]
    if reported:
        from archiver.platforms.reported import REPORTED

        found.extend(REPORTED)
    return tuple(found)


def _register_defaults() -> None:
    from archiver.platforms import mastodon
    from archiver.platforms.bluesky import BLUESKY
    from archiver.platforms.x import X

    register(X)
    register(BLUESKY)
    register(mastodon.PLATFORM)


_register_defaults()
