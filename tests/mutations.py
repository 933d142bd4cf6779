"""Seeded mutations of real pages, for fuzzing the detector (tests and bench/).

Each mutation is what a broken CMS, a truncated download or a hostile page produces:
truncation, byte flips, duplicated or unclosed tags, deep nesting, NUL bytes, huge
attributes, and stray lexer-significant fragments (comment, script and CDATA openers,
quotes) dropped at random places.  Everything is driven by one ``random.Random``, so a
failing case is reproduced by its seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "corpus"

_TAG_RE = re.compile(rb"<[^<>]{0,200}>")

# Fragments that change how the lexers read what follows them.
FRAGMENTS: tuple[bytes, ...] = (
    b"<!--",
    b"-->",
    b"--!>",
    b"<!-->",
    b"<![CDATA[",
    b"]]>",
    b"<script>",
    b"</script>",
    b"<script><!--<script>",
    b"<style>",
    b"<template>",
    b"</template>",
    b"<textarea>",
    b"<plaintext>",
    b"<iframe>",
    b"</iframe>",
    b"<figure ",
    b'<figure class="wp-block-embed-twitter">',
    b"</figure>",
    b'<blockquote class="twitter-tweet">',
    b"</blockquote>",
    b"<amp-twitter data-tweetid=1>",
    b"</amp-twitter>",
    b'<a href="https://twitter.com/jack/status/20">',
    b'<div class="twitter-tweet twitter-tweet-rendered">',
    b'<!-- wp:embed {"url":"https://twitter.com/a/status/1"} -->',
    b"<!-- /wp:embed -->",
    b'"',
    b"'",
    b"=",
    b"<",
    b">",
    b"\x00",
    b"```\n",
)

# Elements whose nesting the detector counts.
NESTERS: tuple[tuple[bytes, bytes], ...] = (
    (b'<blockquote class="twitter-tweet">', b"</blockquote>"),
    (b'<figure class="wp-block-embed wp-block-embed-twitter">', b"</figure>"),
    (b"<amp-twitter data-tweetid=20>", b"</amp-twitter>"),
    (b"<template>", b"</template>"),
    (b"<blockquote>", b"</blockquote>"),
)


def corpus_pages() -> list[bytes]:
    """Every fixture of the detection corpus."""
    return [p.read_bytes() for p in sorted(CORPUS.iterdir()) if p.name != "SOURCES.md"]


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if out:
            out[rng.randrange(len(out))] = rng.choice(
                b"<>/\"'=-! \x00" + bytes([rng.randrange(256)])
            )
    return bytes(out)


def _tag_spans(data: bytes) -> list[tuple[int, int]]:
    return [m.span() for m in _TAG_RE.finditer(data)]


def _duplicate_tag(rng: random.Random, data: bytes) -> bytes:
    tags = _tag_spans(data)
    if not tags:
        return data
    a, b = rng.choice(tags)
    return data[:b] + data[a:b] * rng.randint(1, 50) + data[b:]


def _unclose_tag(rng: random.Random, data: bytes) -> bytes:
    tags = _tag_spans(data)
    if not tags:
        return data
    a, b = rng.choice(tags)
    if rng.random() < 0.5:
        return data[: b - 1] + data[b:]  # drop the ">"
    return data[:a] + data[b:]  # drop the whole tag (often an end tag)


def _nest(rng: random.Random, data: bytes) -> bytes:
    open_tag, close_tag = rng.choice(NESTERS)
    depth = rng.randint(50, 2000)
    at = rng.randrange(len(data) + 1)
    closes = rng.randint(0, depth)  # often fewer closes than opens
    return data[:at] + open_tag * depth + data[at:] + close_tag * closes


def _nul(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + b"\x00" * rng.randint(1, 1000) + data[at:]


def _huge_attribute(rng: random.Random, data: bytes) -> bytes:
    tags = _tag_spans(data)
    if not tags:
        return data
    _, b = rng.choice(tags)
    quote = rng.choice([b'"', b"'", b""])
    filler = rng.choice([b"x", b"<", b"<!--", b"twitter.com/a/status/1 ", b"wp-block-embed-"])
    value = filler * (rng.randint(10_000, 200_000) // len(filler))
    close = quote if rng.random() < 0.7 else b""  # sometimes never closed
    return data[: b - 1] + b" data-x=" + quote + value + close + data[b - 1 :]


def _fragments(rng: random.Random, data: bytes) -> bytes:
    out = data
    for _ in range(rng.randint(1, 30)):
        at = rng.randrange(len(out) + 1)
        out = out[:at] + rng.choice(FRAGMENTS) * rng.choice((1, 1, 1, 5, 100)) + out[at:]
    return out


def _splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    a = rng.randrange(len(other) + 1)
    b = rng.randrange(a, len(other) + 1)
    at = rng.randrange(len(data) + 1)
    return data[:at] + other[a:b] + data[at:]


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncate": _truncate,
    "flip": _flip,
    "duplicate-tag": _duplicate_tag,
    "unclose-tag": _unclose_tag,
    "nest": _nest,
    "nul": _nul,
    "huge-attribute": _huge_attribute,
    "fragments": _fragments,
}


def mutate(rng: random.Random, pages: list[bytes]) -> tuple[str, bytes]:
    """One mutated page: ``(what was done, bytes)``; one to three mutations stacked."""
    data = rng.choice(pages)
    done: list[str] = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.1:
            data = _splice(rng, data, rng.choice(pages))
            done.append("splice")
        else:
            name = rng.choice(sorted(MUTATIONS))
            data = MUTATIONS[name](rng, data)
            done.append(name)
    return "+".join(done), data


# Pathological shapes that made the detector super-linear, at a given size in bytes.
def pathological(kind: str, size: int) -> bytes:
    """A page of ``size`` bytes (about) of one pathological shape."""
    units: dict[str, tuple[bytes, bytes]] = {
        # Nested tweet blockquotes without a status link, all closed.
        "nested-blockquotes": (b'<blockquote class="twitter-tweet"><p>x</p>', b"</blockquote>"),
        # Bare "<figure " without ">".
        "bare-figures": (b"<figure ", b""),
        # Nested rendered Gutenberg figures, all closed.
        "nested-figures": (b'<figure class="wp-block-embed-twitter">', b"</figure>"),
        # Tweet blockquotes hidden in <a> attributes, which the content lexer skips.
        "hidden-blockquotes": (b'<a title="<blockquote class=twitter-tweet>">', b""),
        # Unclosed Gutenberg embed blocks.
        "unclosed-wp-blocks": (b'<!-- wp:embed {"url":"https://twitter.com/a/status/1"} -->x', b""),
        # Figures each holding an unclosed tweet blockquote.
        "figures-around-blockquotes": (
            b'<figure class="wp-block-embed-twitter"><blockquote class="twitter-tweet">',
            b"</figure>",
        ),
    }
    opener, closer = units[kind]
    n = max(1, size // (len(opener) + len(closer)))
    prefix = b"<blockquote class=twitter-tweet>" if kind == "hidden-blockquotes" else b""
    return prefix + opener * n + closer * n


PATHOLOGICAL_KINDS: tuple[str, ...] = (
    "nested-blockquotes",
    "bare-figures",
    "nested-figures",
    "hidden-blockquotes",
    "unclosed-wp-blocks",
    "figures-around-blockquotes",
)
