"""The ``token`` query parameter of the syndication endpoint.

The embed widget computes ``((id / 1e15) * Math.PI).toString(36)`` and strips every
``.`` and every run of ``0``. Python has no ``toString(36)`` for floats, so this module
reimplements V8's ``DoubleToRadixCString`` (src/numbers/conversions.cc) digit for digit:
the fraction is expanded only as far as the double's own precision (``delta``), with
round-half-even on the last digit and carry propagation into the integer part.
"""

from __future__ import annotations

import math
import re

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_STRIP = re.compile(r"0+|\.")


def _exponent(value: float) -> int:
    """The binary exponent of ``value`` as V8's ``Double::Exponent`` reports it.

    V8 writes a double as ``significand * 2**exponent`` with a 53-bit integer
    significand; ``math.frexp`` gives a mantissa in [0.5, 1), hence the ``- 53``.
    """
    if value == 0.0:
        return -1074
    _, exp = math.frexp(value)
    return exp - 53


def js_radix_string(value: float, radix: int = 36) -> str:
    """Format a finite double like JavaScript's ``Number.prototype.toString(radix)``."""
    if not 2 <= radix <= 36:
        raise ValueError("radix must be between 2 and 36")
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "0"
    negative = value < 0
    if negative:
        value = -value

    integer = math.floor(value)
    fraction = value - integer
    # Only emit fraction digits down to half the gap to the next double: beyond that
    # the digits would describe noise, not the value.
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), math.nextafter(0.0, 1.0))
    frac_digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            frac_digits.append(digit)
            fraction -= digit
            # Round half to even on the last digit written.
            if (fraction > 0.5 or (fraction == 0.5 and (digit & 1))) and fraction + delta > 1:
                # Carry: bump the last digit, propagating into earlier ones (and
                # possibly the integer part) when a digit overflows the radix.
                while True:
                    if not frac_digits:
                        integer += 1
                        break
                    last = frac_digits.pop()
                    if last + 1 < radix:
                        frac_digits.append(last + 1)
                        break
                break
            if fraction < delta:
                break

    # Integer digits. Beyond 2**53 the low digits are not representable: V8 pads with 0.
    int_digits: list[str] = []
    int_value = float(integer)
    while _exponent(int_value / radix) > 0:
        int_value /= radix
        int_digits.append("0")
    while True:
        remainder = math.fmod(int_value, radix)
        int_digits.append(_DIGITS[int(remainder)])
        int_value = (int_value - remainder) / radix
        if int_value <= 0:
            break

    text = "".join(reversed(int_digits))
    if frac_digits:
        text += "." + "".join(_DIGITS[d] for d in frac_digits)
    return "-" + text if negative else text


def syndication_token(post_id: str) -> str:
    """The ``token`` for ``tweet-result?id=post_id`` (same value the embed widget sends).

    ``float(post_id)`` rounds exactly like JavaScript's ``Number(id)`` (both are
    correctly rounded IEEE doubles), which is what the widget divides.
    """
    value = (float(post_id) / 1e15) * math.pi
    return _STRIP.sub("", js_radix_string(value, 36))
