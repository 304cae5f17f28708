"""DynamoDB's number rules: what a number attribute may hold, and the form it is stored in.

DynamoDB keeps a number by value, not as written: ``1.50`` reads back as ``1.5``, ``00042`` as
``42``, ``1.0`` as ``1``, ``-0`` as ``0`` and ``1.5E2`` as ``150``, in ``GetItem`` answers, stream
images and ``SizeBytes`` alike. A number has at most 38 significant digits, and its magnitude lies
between 1E-130 and 9.9999999999999999999999999999999999999E+125 (or it is 0). Source: DynamoDB
Developer Guide, "Supported data types and naming rules" (Number: "Leading and trailing zeroes are
trimmed", up to 38 digits of precision, the two ranges above),
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html.

A number outside these rules is refused with AWS's ``ValidationException`` messages, as recorded by
mhart/dynalite's tests (written against DynamoDB; ``test/putItem.js``): "The parameter cannot be
converted to a numeric value: <text>", "Attempting to store more than 38 significant digits in a
Number", "Number overflow. Attempting to store a number with magnitude larger than supported
range", "Number underflow. Attempting to store a number with magnitude smaller than supported
range" (the last two also in the DynamoDB API model's ``TransactionCanceledException`` text).

Pure: no moto. :mod:`streamkit.local.moto_compat` applies :func:`canonical_number` to every number
moto's DynamoDB is given, before it is stored or compared.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "MAX_EXPONENT",
    "MAX_SIGNIFICANT_DIGITS",
    "MIN_EXPONENT",
    "NumberError",
    "canonical_number",
]

#: Most significant digits a number may have. Source: module docstring.
MAX_SIGNIFICANT_DIGITS = 38
#: Largest and smallest decimal exponent of a number's leading digit (9.99...E+125, 1E-130).
MAX_EXPONENT = 125
MIN_EXPONENT = -130

# A number as DynamoDB accepts it (Java's BigDecimal syntax), and the form it is stored in.
_SYNTAX = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_CANONICAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?")


class NumberError(ValueError):
    """A number DynamoDB refuses; ``message`` is AWS's ``ValidationException`` text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def canonical_number(text: str) -> str:
    """``text`` as DynamoDB stores it: no leading or trailing zeros, no exponent, ``0`` for zero.

    Raises
    ------
    NumberError
        With AWS's message, for text that is not a number, has more than 38 significant digits,
        or lies outside DynamoDB's range.

    Examples
    --------
    >>> [canonical_number(t) for t in ("1.50", "00042", "1.0", "-0", "1.5E2", "-.5e-1")]
    ['1.5', '42', '1', '0', '150', '-0.05']
    """
    if len(text) <= MAX_SIGNIFICANT_DIGITS and text != "-0" and _CANONICAL.fullmatch(text):
        return text  # already canonical, and too short to break a limit
    if not _SYNTAX.fullmatch(text):
        raise NumberError(
            "The parameter cannot be converted to a numeric value" + (f": {text}" if text else "")
        )
    try:
        sign, digit_tuple, exponent = Decimal(text).as_tuple()
    except InvalidOperation:  # pragma: no cover  (the pattern admits only finite decimals)
        raise NumberError(f"The parameter cannot be converted to a numeric value: {text}") from None
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise NumberError("Attempting to store more than 38 significant digits in a Number")
    leading = exponent + len(digits) - 1  # the exponent of the first digit
    if leading > MAX_EXPONENT:
        raise NumberError(
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range"
        )
    if leading < MIN_EXPONENT:
        raise NumberError(
            "Number underflow. Attempting to store a number with magnitude smaller than supported "
            "range"
        )
    if exponent >= 0:
        plain = digits + "0" * exponent
    else:
        point = len(digits) + exponent
        plain = digits[:point] + "." + digits[point:] if point > 0 else "0." + "0" * -point + digits
    return ("-" if sign else "") + plain
