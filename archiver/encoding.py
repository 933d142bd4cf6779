"""Character encodings of article bytes.

The detector works on bytes and splices bytes, so it needs the page's bytes to be
*ASCII-compatible*: every byte below 0x80 means that ASCII character and never half of
something else.  That holds for UTF-8, the windows-125x family, EUC-*, Shift_JIS, GBK, Big5
and friends, so those pages are scanned as they are (identity).  UTF-16/32 (and stateful
encodings like ISO-2022-JP, where a kanji can contain the byte ``<``) are transcoded to
UTF-8 *scan bytes* first and back afterwards.

Vocabulary used below:

* *page bytes*: the article as stored on disk or fetched.
* *scan bytes*: ``to_scan_bytes(page, enc)``; identical to the page bytes for
  ASCII-compatible encodings, UTF-8 otherwise.  Detector spans are offsets into these.
* *fragment*: a slice of scan bytes (an embed), or bytes meant to be spliced into them.

Encoding names returned here are Python codec names as given by
``codecs.lookup(...).name``, e.g. ``"utf-8"``, ``"cp1252"`` (windows-1252), ``"euc_jp"``,
``"utf-16-le"``.
"""

from __future__ import annotations

import codecs
import json
import re
from functools import lru_cache
from typing import Any, Final

# How far into the page a <meta charset> is looked for.  The HTML standard says 1024
# bytes, but real pages put the meta after long inline scripts or comments.
META_SCAN_LIMIT: Final = 4096
# How much of the page ``looks_binary`` inspects.
BINARY_SCAN_LIMIT: Final = 8192

# BOMs, longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# <meta charset="x">, <meta http-equiv="Content-Type" content="text/html; charset=x">,
# any attribute order and quoting.  Both forms contain "charset" followed by "=" and the
# name, inside a <meta> tag, which is all we need (no decoding of the page).
_META_CHARSET_RE: Final = re.compile(
    rb"""<meta(?=[\s/])[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9][A-Za-z0-9_.:\-]*)""",
    re.IGNORECASE,
)
# XHTML served as XML: <?xml version="1.0" encoding="x"?> at the very start.
_XML_DECL_RE: Final = re.compile(
    rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9][A-Za-z0-9_.:\-]*)["']""",
    re.IGNORECASE,
)
# Comments are removed before looking for <meta>: a commented-out meta is not a declaration.
_COMMENT_RE: Final = re.compile(rb"<!--.*?(?:--!?>|\Z)", re.DOTALL)

# WHATWG Encoding Standard label mappings that differ from Python's codec of the same
# name: browsers decode these labels with a superset codec, and so do we.
_WHATWG_SUPERSETS: Final[dict[str, str]] = {
    "iso8859-1": "cp1252",  # iso-8859-1, latin1, l1
    "ascii": "cp1252",  # us-ascii
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
}

# Well-formed UTF-8 multibyte sequences (RFC 3629), for judging pages that are "mostly"
# UTF-8 with a stray bad byte.
_UTF8_MULTIBYTE_RE: Final = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]"
    rb"|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}"
    rb"|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH_BYTES: Final = bytes(range(0x80, 0x100))

# Bytes that do not occur in text (C0 controls other than TAB, LF, FF, CR and ESC, which
# ISO-2022 uses).
_CONTROL_BYTES: Final = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B))
_BINARY_MAGIC: Final[tuple[bytes, ...]] = (
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",  # JPEG
    b"PK\x03\x04",  # zip, docx, epub
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"\x7fELF",
    b"RIFF",  # webp, wav, avi
    b"OggS",
    b"ID3",  # mp3
    b"\x00\x00\x00\x18ftyp",
    b"\x00\x00\x00\x20ftyp",
    b"\x00\x00\x00\x1cftyp",
    b"wOFF",
    b"wOF2",
    b"SQLite format 3\x00",
)

# Markup characters whose single-byte ASCII encoding the detector relies on.
_ASCII_PROBE: Final = "<>/=\"'!?-_:;.,&#%()[]{} \t\r\n0123456789abcdefghijklmnopqrstuvwxyz" + (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _normalise(label: str) -> str | None:
    """Python codec name for an encoding label, or None if Python does not know it."""
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _WHATWG_SUPERSETS.get(name, name)


def _declared_encoding(head: bytes) -> str | None:
    """The charset declared by the first ``<meta>`` (or XML declaration) in ``head``."""
    xml = _XML_DECL_RE.match(head)
    if b"<!--" in head:
        head = _COMMENT_RE.sub(b"", head)
    for m in _META_CHARSET_RE.finditer(head):
        name = _normalise(m.group(1).decode("ascii"))
        if name is None:
            continue  # unknown label: as if undeclared (keep looking, then fall back)
        if name.startswith(("utf-16", "utf-32")):
            # A meta tag we could read as ASCII cannot be in UTF-16/32; the HTML standard
            # maps such declarations to UTF-8.
            return "utf-8"
        return name
    if xml is not None:
        return _normalise(xml.group(1).decode("ascii"))
    return None


def _mostly_utf8(data: bytes) -> bool:
    """True if nearly every non-ASCII byte belongs to a well-formed UTF-8 sequence.

    A page with a truncated sequence or a single stray byte is still UTF-8 (it only
    needs ``errors="replace"``); a windows-1252 page almost never contains well-formed
    multibyte sequences, so its ratio is near zero.
    """
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    if high == 0:
        return True
    valid = sum(len(m) for m in _UTF8_MULTIBYTE_RE.findall(data))
    return valid >= 0.95 * high


def sniff_encoding(data: bytes) -> str:
    """Guess the encoding of a page's bytes.

    Order: byte order mark; BOM-less UTF-16 (``<\\0`` / ``\\0<`` at the start); a
    ``<meta charset>`` / ``http-equiv`` / XML declaration within the first
    ``META_SCAN_LIMIT`` bytes (labels Python does not know are ignored; labels follow the
    WHATWG superset mapping, e.g. ``iso-8859-1`` -> ``cp1252``); then ``"utf-8"`` if the
    bytes are (nearly all) valid UTF-8; else ``"cp1252"`` (windows-1252).

    A UTF-8 BOM yields ``"utf-8"``: the BOM bytes stay in the data (they are outside
    every span, so splicing keeps them).  A declared encoding is trusted even if some
    bytes do not decode under it (decode with ``errors="replace"``).
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if data[:2] == b"<\x00" and data[3:4] == b"\x00":
        return "utf-16-le"
    if data[:1] == b"\x00" and data[1:2] == b"<" and data[2:3] == b"\x00":
        return "utf-16-be"
    declared = _declared_encoding(data[:META_SCAN_LIMIT])
    if declared is not None:
        return declared
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "utf-8" if _mostly_utf8(data) else "cp1252"
    return "utf-8"


@lru_cache(maxsize=64)
def is_ascii_compatible(encoding: str) -> bool:
    """True if ``encoding`` writes ASCII markup as the same single bytes, statelessly.

    False for UTF-16/32, UTF-7, the stateful ISO-2022 and HZ encodings (a two-byte
    character there can contain the byte ``<``), EBCDIC code pages and unknown names.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    if name.startswith(("utf-16", "utf-32", "utf-7", "iso2022", "hz")):
        return False
    try:
        return _ASCII_PROBE.encode(name) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def _explicit_codec(encoding: str, data: bytes | None = None) -> str:
    """An endian-explicit codec name for UTF-16/32 so BOMs survive as U+FEFF characters.

    The generic ``utf-16``/``utf-32`` codecs consume the BOM on decode and write a
    native-order BOM on encode, which would not round-trip exactly.  With the explicit
    codecs a BOM decodes to U+FEFF, travels through the scan bytes as EF BB BF, and is
    written back as the same two or four bytes.
    """
    name = codecs.lookup(encoding).name
    if name in ("utf-16", "utf-32"):
        big = data is not None and (
            data.startswith(codecs.BOM_UTF16_BE if name == "utf-16" else codecs.BOM_UTF32_BE)
        )
        return f"{name}-be" if big else f"{name}-le"
    return name


def to_scan_bytes(data: bytes, encoding: str) -> bytes:
    """Page bytes -> ASCII-compatible bytes for the detector.

    Identity (the same object) for ASCII-compatible encodings.  Otherwise the page is
    transcoded to UTF-8; lone UTF-16 surrogates are carried through (``surrogatepass``)
    so ``from_scan_bytes`` restores the exact original bytes.  Raises ``ValueError`` if
    the page cannot be transcoded losslessly (e.g. UTF-16 with an odd byte count).
    """
    if is_ascii_compatible(encoding):
        return data
    codec = _explicit_codec(encoding, data)
    text = data.decode(codec, errors="surrogatepass")
    scan = text.encode("utf-8", errors="surrogatepass")
    if not codec.startswith(("utf-16", "utf-32")) and from_scan_bytes(scan, codec) != data:
        # Stateful encodings may re-encode differently (escape sequences); refuse rather
        # than silently change bytes outside the embeds.
        raise ValueError(f"{encoding} page does not round-trip through UTF-8")
    return scan


def from_scan_bytes(scan: bytes, encoding: str) -> bytes:
    """Inverse of ``to_scan_bytes``: scan bytes (possibly spliced) -> page bytes.

    Identity for ASCII-compatible encodings.  For UTF-16/32 pass the endian-explicit name
    ``sniff_encoding`` returned (``utf-16-le`` etc.); a generic ``utf-16`` is written
    little-endian.  Characters the target cannot hold become numeric character references.
    """
    if is_ascii_compatible(encoding):
        return scan
    codec = _explicit_codec(encoding)
    text = scan.decode("utf-8", errors="surrogatepass")
    if codec.startswith(("utf-16", "utf-32")):
        return text.encode(codec, errors="surrogatepass")
    return text.encode(codec, errors="xmlcharrefreplace")


def _fragment_codec(encoding: str) -> str:
    # Fragments live in scan space, which is UTF-8 whenever the page is not
    # ASCII-compatible.
    return encoding if is_ascii_compatible(encoding) else "utf-8"


def decode_fragment(fragment: bytes, encoding: str) -> str:
    """Decode a slice of scan bytes (an embed) to text; undecodable bytes become U+FFFD."""
    return fragment.decode(_fragment_codec(encoding), errors="replace")


def encode_fragment(text: str, encoding: str) -> bytes:
    """Encode replacement markup for splicing into scan bytes.

    Characters the page's encoding cannot hold are written as numeric character
    references (``&#12354;``), which is valid in any HTML.
    """
    return text.encode(_fragment_codec(encoding), errors="xmlcharrefreplace")


def looks_binary(data: bytes) -> bool:
    """True if ``data`` is very likely not a text/HTML document.

    Signs: a known binary file signature; a NUL byte in the first ``BINARY_SCAN_LIMIT``
    bytes (unless the data is UTF-16/32, where NULs are normal); or more than 10% C0
    control characters there.
    """
    head = data[:BINARY_SCAN_LIMIT]
    if not head:
        return False
    if head.startswith(_BINARY_MAGIC):
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if b"\x00" not in head and controls <= len(head) // 10:
        return False
    # Only now the charset sniff (a second one per article, as the caller sniffs too):
    # NULs and control bytes are normal in UTF-16/32.
    return not sniff_encoding(head[:META_SCAN_LIMIT]).startswith(("utf-16", "utf-32"))


# A code point of the surrogate range left alone in a str: after json.loads, a valid
# pair has become one code point, so what remains is an unpaired "\ud800" escape.
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` for what strangers send: an unpaired surrogate escape (valid JSON,
    but text that UTF-8, the hashes and SQLite cannot hold) becomes U+FFFD, and nesting
    deeper than Python's recursion limit is a ``ValueError`` like any other bad JSON,
    not a ``RecursionError`` that would stop the pass."""
    try:
        return _without_lone_surrogates(json.loads(text))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key): _without_lone_surrogates(item)
            for key, item in value.items()
        }
    return value
