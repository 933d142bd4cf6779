"""Decoding response bodies in bounded steps: no body may grow past its cap.

httpx decodes ``Content-Encoding`` one received chunk at a time, completely: a 64 KB
chunk of a gzip bomb becomes 64 MB in one call, and ``gzip, gzip`` turns 1.8 KB
into 1 GB before any cap is checked. Every fetch path therefore reads the *raw*
bytes (``aiter_raw``) and decodes them here, where zlib's ``max_length`` limits
each step to ``STEP`` bytes and the running total is compared with the cap after
every step. Memory for one body is its cap plus a small constant, whatever the
server sends.

Accepted: identity, ``gzip`` (``x-gzip``) and ``deflate`` (zlib-wrapped or raw, as
servers send both), one layer only. We advertise only these (``ACCEPT_ENCODING``);
stacked layers and anything else (``br``, ``zstd``, ``compress``) are refused with
``UnsupportedEncoding`` rather than guessed at.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from .errors import BodyTooLarge, UnsupportedEncoding

__all__ = ["ACCEPT_ENCODING", "STEP", "BoundedDecoder", "CorruptBody"]

ACCEPT_ENCODING = "gzip, deflate"
# Largest piece of output produced by one decompression step.
STEP = 64 * 1024
# Compressed data is never much larger than what it decodes to; this much raw
# slack over the cap covers headers and trailers of tiny bodies. Without a raw
# bound, an endless stream of empty deflate blocks would never reach the cap.
RAW_SLACK = 64 * 1024

_GZIP = ("gzip", "x-gzip")
_DEFLATE = ("deflate",)


class CorruptBody(ValueError):
    """The compressed body is not valid gzip/deflate (possibly cut short)."""


def _encoding_of(header: str) -> str:
    """The single encoding named by a ``Content-Encoding`` header ('' for identity)."""
    layers = [part.strip().lower() for part in header.split(",") if part.strip()]
    layers = [layer for layer in layers if layer != "identity"]
    if len(layers) > 1:
        raise UnsupportedEncoding(
            f"refused Content-Encoding {header!r}: more than one encoding layer"
        )
    if not layers:
        return ""
    if layers[0] not in _GZIP + _DEFLATE:
        raise UnsupportedEncoding(f"refused Content-Encoding {layers[0]!r}: not gzip or deflate")
    return layers[0]


class BoundedDecoder:
    """Turns raw body chunks into decoded pieces, never more than ``cap`` bytes in all.

    ``feed`` and ``flush`` are generators of pieces of at most ``STEP`` bytes; they
    raise ``BodyTooLarge`` as soon as the decoded total (or the raw total) passes
    the cap, having produced at most ``STEP`` bytes beyond it, and ``CorruptBody``
    on invalid compressed data. ``truncate=True`` (error pages) stops silently at
    the cap instead: ``done`` then turns True and later input is ignored.
    """

    def __init__(self, content_encoding: str, cap: int, *, truncate: bool = False) -> None:
        self.encoding = _encoding_of(content_encoding)
        self.cap = cap
        self.truncate = truncate
        self.decoded = 0
        self.raw = 0
        self.done = False
        self._inflater: zlib._Decompress | None = None
        self._first = True

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Decoded pieces for one raw chunk."""
        if self.done or not chunk:
            return
        self.raw += len(chunk)
        if self.raw > self.cap + RAW_SLACK:
            if self.truncate:
                self.done = True
                return
            raise BodyTooLarge(f"body exceeds the cap of {self.cap} bytes (compressed)")
        if not self.encoding:
            yield from self._emit(chunk)
            return
        yield from self._inflate(chunk)

    def flush(self) -> Iterator[bytes]:
        """Whatever the decompressor still holds once the raw stream has ended."""
        if self.done or self._inflater is None:
            return
        yield from self._inflate(b"")
        if not self._inflater.eof:
            raise CorruptBody(f"{self.encoding} body ends before its end marker")

    def _new_inflater(self, head: bytes) -> zlib._Decompress:
        if self.encoding in _GZIP:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" should mean zlib-wrapped (RFC 9110), but servers also send raw
        # deflate: a zlib header is two bytes whose big-endian value is a multiple of 31.
        wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        if self._inflater is None:
            self._inflater = self._new_inflater(data)
        inflater = self._inflater
        while True:
            try:
                piece = inflater.decompress(data, STEP)
            except zlib.error as exc:
                raise CorruptBody(f"invalid {self.encoding} body: {exc}") from exc
            yield from self._emit(piece)
            if self.done:
                return
            data = inflater.unconsumed_tail
            if inflater.eof:
                rest = inflater.unused_data
                if rest[:2] == b"\x1f\x8b" and self.encoding in _GZIP:
                    # Concatenated gzip members are one valid gzip stream.
                    self._inflater = inflater = self._new_inflater(rest)
                    data = rest
                    continue
                return  # other trailing bytes (padding): ignored, as httpx does
            # A full step may leave output pending inside zlib even with no input left.
            if not data and len(piece) < STEP:
                return

    def _emit(self, piece: bytes) -> Iterator[bytes]:
        if not piece:
            return
        room = self.cap - self.decoded
        if len(piece) > room:
            if not self.truncate:
                raise BodyTooLarge(f"body exceeds the cap of {self.cap} bytes")
            self.done = True
            piece = piece[: max(0, room)]
            if not piece:
                return
        self.decoded += len(piece)
        yield piece
