"""The syndication token: JavaScript's Number.prototype.toString(36), digit for digit."""

from __future__ import annotations

import math

import pytest

from archiver.platforms.x.token import js_radix_string, syndication_token


@pytest.mark.parametrize(
    ("post_id", "token"),
    [
        ("20", "6dq1a2xwd93"),
        ("875083037872181254", "24d5k5p19ji"),
        ("1629307668568633344", "3y6mctgwzxo"),
    ],
)
def test_reference_tokens_computed_with_node(post_id: str, token: str) -> None:
    assert syndication_token(post_id) == token


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Values checked against Node's (v8) output.
        (0.5, "0.i"),
        (1 / 3, "0.c"),
        (35.99999999999999, "z.zzzzzzzzz"),
        (2**60 + 12345, "8rc4kbdvt1k0"),
        (1e21, "5v1j4f4ds7c000"),
        (-255.5, "-73.i"),
        (0.0, "0"),
    ],
)
def test_js_radix_string_matches_v8(value: float, expected: str) -> None:
    assert js_radix_string(value, 36) == expected


def test_tiny_and_unrepresentable_values() -> None:
    assert js_radix_string(math.inf) == "Infinity"
    assert js_radix_string(math.nan) == "NaN"
    # No digits beyond the double's precision: the fraction stops at its delta.
    assert js_radix_string(20 / 1e15 * math.pi) == "0.000000006dq1a2xwd93"
