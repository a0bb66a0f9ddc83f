"""Floating point numbers printed the way DCMTK's dcmdump prints them.

DCMTK formats FL/FD values like C's ``%g`` (17 significant digits for FD, 9 for FL), but its
digits come from the classic modf-based ``cvt`` conversion rather than an exact one: the value
is scaled by repeated multiplication or division by ten, so very large and very small numbers
pick up the error of that scaling (1e-300 prints as 9.9999999999999929e-301). Matching
dcmdump's text means generating digits the same way; everything else uses exact conversion.
"""
from __future__ import annotations

import math

_NDIG = 350


def _digits(value: float, ndigits: int) -> tuple[list[int], int]:
    """Significant digits (rounded to ``ndigits``) and decimal exponent of ``abs(value)``."""
    frac, whole = math.modf(abs(value))
    digits: list[int] = []
    exponent = 0
    if whole != 0:
        rev = []
        while whole != 0 and len(rev) < _NDIG:
            part, whole = math.modf(whole / 10)
            rev.append(int((part + 0.03) * 10))
            exponent += 1
        digits = rev[::-1]
    elif frac > 0:
        while frac * 10 < 1:
            frac *= 10
            exponent -= 1
    while len(digits) <= ndigits:
        frac, d = math.modf(frac * 10)
        digits.append(int(d))
    digits = digits[:ndigits + 1]
    # round at position ndigits
    digits[ndigits] += 5
    i = ndigits
    while digits[i] > 9:
        digits[i] = 0
        if i > 0:
            i -= 1
            digits[i] += 1
        else:
            digits.insert(0, 1)
            exponent += 1
            break
    return digits[:ndigits], exponent


def format_g(value: float, precision: int) -> str:
    """``%.{precision}g`` with DCMTK's digit generation."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    sign = "-" if value < 0 else ""
    x = abs(value)
    if x == 0:
        return "0"
    frac, whole = math.modf(x)
    if whole == 0:
        digits, decpt = _digits(x, precision)
        if decpt - 1 < -4:
            return sign + _exponential(digits, decpt - 1)
        return sign + _strip("0." + "0" * (-decpt) + "".join(map(str, digits)))
    int_text = _integer_digits(whole)
    if len(int_text) > precision:
        digits, decpt = _digits(x, precision)
        return sign + _exponential(digits, decpt - 1)
    places = precision - len(int_text)
    if frac == 0 or places == 0:
        return sign + int_text
    digits, decpt = _digits(frac, places)
    if decpt > 0:       # the fraction rounded up to one
        return sign + str(int(int_text) + 1)
    return sign + _strip(int_text + "." + "0" * (-decpt) + "".join(map(str, digits)))


def _integer_digits(whole: float) -> str:
    rev = []
    while whole != 0:
        part, whole = math.modf(whole / 10)
        rev.append(str(int((part + 0.03) * 10)))
    return "".join(reversed(rev))


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _exponential(digits: list[int], exp: int) -> str:
    text = "".join(map(str, digits))
    mantissa = _strip(text[0] + "." + text[1:])
    return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
