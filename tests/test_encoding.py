"""Tests for archiver.encoding: sniffing, scan-byte round trips, fragments, binary files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from archiver.detect import find_embeds
from archiver.encoding import (
    decode_fragment,
    encode_fragment,
    from_scan_bytes,
    is_ascii_compatible,
    looks_binary,
    sniff_encoding,
    to_scan_bytes,
)

CORPUS = Path(__file__).parent / "data" / "corpus"

TWEET = (
    '<blockquote class="twitter-tweet"><p lang="ja" dir="ltr">日本語テキスト — café</p>'
    '&mdash; 名前 (@user) <a href="https://twitter.com/user/status/1088755839102418944">'
    "January 25, 2019</a></blockquote>"
)


def html_page(head: str = "", body: str = TWEET) -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body>\n{body}\n</body></html>"


# --------------------------------------------------------------------------------------
# sniff_encoding


@pytest.mark.parametrize(
    ("bom", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_bom_wins_over_meta(bom: bytes, expected: str) -> None:
    text = html_page('<meta charset="windows-1252">')
    data = bom + text.encode(expected)
    assert sniff_encoding(data) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta charset="utf-8">', "utf-8"),
        ("<meta charset=UTF-8>", "utf-8"),
        ("<META CHARSET='Shift_JIS'>", "cp932"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=EUC-JP">', "euc_jp"),
        ('<meta content="text/html;charset=windows-1251" http-equiv="content-type">', "cp1251"),
        ('<meta charset="iso-8859-1">', "cp1252"),  # WHATWG: latin-1 labels mean windows-1252
        ('<meta charset="us-ascii">', "cp1252"),
        ('<meta charset="gb2312">', "gb18030"),
        ('<meta charset="iso-8859-9">', "cp1254"),
        ('<meta charset="koi8-r">', "koi8-r"),
        ('<meta charset="utf-16">', "utf-8"),  # an ASCII-readable meta cannot be UTF-16
    ],
)
def test_meta_declarations(head: str, expected: str) -> None:
    assert sniff_encoding(html_page(head, "plain ascii").encode("ascii")) == expected


def test_commented_out_meta_is_ignored() -> None:
    data = html_page('<!-- <meta charset="koi8-r"> --><meta charset="utf-8">', "x").encode()
    assert sniff_encoding(data) == "utf-8"


def test_unknown_charset_falls_back_as_if_undeclared() -> None:
    utf8 = html_page('<meta charset="x-no-such-charset">').encode("utf-8")
    assert sniff_encoding(utf8) == "utf-8"
    cp = html_page('<meta charset="x-no-such-charset">', "Caf\xe9 \u201cq\u201d").encode("cp1252")
    assert sniff_encoding(cp) == "cp1252"


def test_meta_beyond_scan_limit_is_not_seen() -> None:
    data = b"<html><head><script>" + b" " * 5000 + b'</script><meta charset="euc-jp"></head></html>'
    assert sniff_encoding(data) == "utf-8"


def test_undeclared_utf8_and_windows_1252() -> None:
    assert sniff_encoding(html_page().encode("utf-8")) == "utf-8"
    assert sniff_encoding(b"<p>plain ascii</p>") == "utf-8"
    cp = html_page("", "Caf\xe9 society \u201cquoted\u201d \u2014 na\xefve").encode("cp1252")
    assert sniff_encoding(cp) == "cp1252"


def test_undeclared_utf8_with_one_bad_byte_stays_utf8() -> None:
    data = html_page().encode("utf-8") + b"papieros\xc3 " + "żółć ".encode() * 5
    assert sniff_encoding(data) == "utf-8"


def test_xml_declaration() -> None:
    data = b'<?xml version="1.0" encoding="ISO-8859-15"?>\n<html><body>x</body></html>'
    assert sniff_encoding(data) == "iso8859-15"


def test_bomless_utf16_is_recognised() -> None:
    data = html_page().encode("utf-16-le")
    assert sniff_encoding(data) == "utf-16-le"
    assert sniff_encoding(html_page().encode("utf-16-be")) == "utf-16-be"


def test_corpus_declared_utf8_with_invalid_byte() -> None:
    data = (CORPUS / "oddity_01_invalid_utf8_and_js_escaped_duplicate.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    enc = sniff_encoding(data)
    assert enc == "utf-8"
    [span] = find_embeds(to_scan_bytes(data, enc))
    text = decode_fragment(data[span.start : span.end], enc)
    assert "Radio Maryja (@RadioMaryja)" in text


def test_corpus_declared_euc_jp_but_pure_ascii() -> None:
    data = (CORPUS / "twitter_blockquote_05_ja_ncr_entities_eucjp_meta.html").read_bytes()
    assert data.isascii()
    assert sniff_encoding(data) == "euc_jp"


def test_corpus_real_euc_jp_bytes() -> None:
    data = (CORPUS / "derived_01_eucjp_bytes_transcoded_from_takagi_page.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    enc = sniff_encoding(data)
    assert enc == "euc_jp"
    assert is_ascii_compatible(enc)
    scan = to_scan_bytes(data, enc)
    assert scan is data
    first = find_embeds(scan)[0]
    text = decode_fragment(scan[first.start : first.end], enc)
    assert "全国の家庭や企業にある" in text
    assert "\ufffd" not in text


# --------------------------------------------------------------------------------------
# ASCII compatibility and scan bytes


@pytest.mark.parametrize(
    "enc",
    ["utf-8", "cp1252", "euc_jp", "cp932", "shift_jis", "gb18030", "big5", "koi8_r", "latin-1"],
)
def test_ascii_compatible(enc: str) -> None:
    assert is_ascii_compatible(enc)


@pytest.mark.parametrize(
    "enc",
    [
        "utf-16",
        "utf-16-le",
        "UTF-16BE",
        "utf-32",
        "utf-32-le",
        "utf-7",
        "iso-2022-jp",
        "cp500",
        "no-such-codec",
    ],
)
def test_not_ascii_compatible(enc: str) -> None:
    assert not is_ascii_compatible(enc)


def test_scan_bytes_identity_for_ascii_compatible() -> None:
    data = html_page('<meta charset="windows-1252">', "Caf\xe9").encode("cp1252")
    assert to_scan_bytes(data, "cp1252") is data
    assert from_scan_bytes(data, "cp1252") is data


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("with_bom", [True, False])
def test_utf16_32_round_trip_and_splice(enc: str, with_bom: bool) -> None:
    text = html_page('<meta charset="utf-16">', "<p>before 𝄞</p>\n" + TWEET + "\n<p>after é</p>")
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-le": codecs.BOM_UTF32_LE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }[enc]
    data = (bom if with_bom else b"") + text.encode(enc)
    sniffed = sniff_encoding(data)
    assert sniffed == enc or (not with_bom and enc.startswith("utf-32"))
    scan = to_scan_bytes(data, enc)
    assert scan.startswith(codecs.BOM_UTF8) == with_bom
    assert from_scan_bytes(scan, enc) == data  # exact, BOM included

    [span] = find_embeds(scan)
    fragment = decode_fragment(scan[span.start : span.end], enc)
    assert fragment == TWEET
    replacement = encode_fragment('<div class="archived">名前 ✓</div>', enc)
    spliced = scan[: span.start] + replacement + scan[span.end :]
    out = from_scan_bytes(spliced, enc)
    assert out.decode(enc) == (text if not with_bom else "\ufeff" + text).replace(
        TWEET, '<div class="archived">名前 ✓</div>'
    )
    assert out.startswith(bom) == with_bom


def test_utf16_lone_surrogate_round_trips() -> None:
    data = (
        codecs.BOM_UTF16_LE + "<p>a".encode("utf-16-le") + b"\x00\xd8" + "b</p>".encode("utf-16-le")
    )
    scan = to_scan_bytes(data, "utf-16-le")
    assert from_scan_bytes(scan, "utf-16-le") == data


def test_truncated_utf16_is_refused() -> None:
    with pytest.raises(ValueError):
        to_scan_bytes("<p>x</p>".encode("utf-16-le") + b"\x00", "utf-16-le")


def test_generic_utf16_name_picks_endianness_from_bom() -> None:
    data = codecs.BOM_UTF16_BE + "<p>x</p>".encode("utf-16-be")
    scan = to_scan_bytes(data, "utf-16")
    assert scan == codecs.BOM_UTF8 + b"<p>x</p>"


# --------------------------------------------------------------------------------------
# Fragments


def test_fragments_in_windows_1252_use_ncrs_for_the_rest() -> None:
    assert decode_fragment(b"Caf\xe9 \x93q\x94", "cp1252") == "Café “q”"
    assert (
        encode_fragment("Café “q” 日本 😀", "cp1252")
        == b"Caf\xe9 \x93q\x94 &#26085;&#26412; &#128512;"
    )


def test_fragments_in_euc_jp() -> None:
    encoded = encode_fragment("日本語 — 😀", "euc_jp")
    assert encoded.startswith("日本語".encode("euc_jp"))
    assert b"&#128512;" in encoded
    assert decode_fragment(encoded, "euc_jp").startswith("日本語")


def test_decode_fragment_replaces_bad_bytes() -> None:
    assert decode_fragment(b"ok \xc3 ok", "utf-8") == "ok \ufffd ok"


# --------------------------------------------------------------------------------------
# Binary files


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"PK\x03\x04\x14\x00\x06\x00",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
        b"<html>\x00\x01\x02</html>",
        bytes(range(1, 9)) * 100,
    ],
)
def test_binary_detected(data: bytes) -> None:
    assert looks_binary(data)


def test_text_is_not_binary() -> None:
    assert not looks_binary(b"")
    assert not looks_binary(html_page().encode("utf-8"))
    assert not looks_binary(codecs.BOM_UTF16_LE + html_page().encode("utf-16-le"))
    assert not looks_binary(html_page().encode("utf-16-be"))
    assert not looks_binary(b"\x1b$B$3$s\x1b(B iso-2022-jp <p>\r\n\t\x0c</p>")
    # UTF-16 text with no NUL byte at all, its bytes mostly in the C0 control range
    # (U+0101, U+0103, U+0105…: 01 01 03 01 05 01): still text, by its byte order mark.
    assert not looks_binary(codecs.BOM_UTF16_LE + "āăąćĉċ".encode("utf-16-le") * 50)
    for path in CORPUS.iterdir():
        assert not looks_binary(path.read_bytes()), path.name


def test_json_from_strangers_keeps_pairs_and_replaces_lone_surrogates() -> None:
    """Every platform's answers are read with loads_json (X, Bluesky, Mastodon, the
    Wayback Machine, WordPress blocks): one unpaired escape or a deep nesting must be a
    bad value or a bad answer, never text SQLite refuses or a RecursionError."""
    from archiver.encoding import loads_json

    data = loads_json('{"t": "a\\ud83d\\ude00b\\ud800", "\\udce9": ["\\udfff", 1, null]}')
    assert data == {"t": "a\U0001f600b\ufffd", "\ufffd": ["\ufffd", 1, None]}
    assert loads_json(b'{"plain": "text"}') == {"plain": "text"}
    with pytest.raises(ValueError, match="nested too deeply"):
        loads_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError):
        loads_json("{not json")
