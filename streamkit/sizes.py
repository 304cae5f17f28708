"""Sizes of DynamoDB items and stream records, in bytes, as DynamoDB computes them.

A stream record's ``SizeBytes`` is the DynamoDB item size of its ``Keys`` plus that of each image it
carries (``NewImage``, ``OldImage``). Every AWS sample in ``shared/fixtures/aws-events`` agrees with
this rule (INSERT 26, MODIFY 59, REMOVE 38, KEYS_ONLY 41, the ``Users`` insert 104); AWS does not
document it, so it is INFERRED from those samples and the item-size rules:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html

Item-size rules used here:

* an attribute costs the UTF-8 length of its name plus the size of its value;
* ``S``: UTF-8 length; ``B``: length of the raw bytes; ``BOOL`` and ``NULL``: 1;
* ``N``: DynamoDB stores numbers in base 100 (two decimal digits per byte, aligned on the decimal
  point) plus one exponent byte, plus one byte for a negative number; zero takes 1 byte;
* ``SS``/``NS``/``BS``: the sum of their members;
* ``M``/``L``: 3 bytes, plus 1 byte per element, plus each element (and, for ``M``, each name).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from .errors import MalformedRecordError
from .limits import NUMBER_MAX_BYTES

__all__ = ["attribute_value_size", "item_size", "number_size", "record_size"]

_DOCUMENT_OVERHEAD = 3  # bytes of an empty M or L
_ELEMENT_OVERHEAD = 1  # bytes per M or L element
_EXACT = Context(prec=100)  # normalize without rounding (DynamoDB keeps 38 digits; allow more)
_VALUE_TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")


def number_size(value: str | int | float | Decimal) -> int:
    """Size of a DynamoDB number, in bytes.

    Parameters
    ----------
    value : str, int, float or Decimal
        The number, as in an ``N`` attribute value (a string of digits).

    Returns
    -------
    int
        Bytes: base-100 digits of the magnitude, plus 1 exponent byte, plus 1 if negative.

    Examples
    --------
    >>> number_size("101"), number_size("1661166039"), number_size("-1"), number_size("0")
    (3, 6, 3, 1)
    """
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MalformedRecordError(f"Not a DynamoDB number: {value!r}.") from None
    if not number.is_finite():
        raise MalformedRecordError(f"Not a DynamoDB number: {value!r} (must be finite).")
    if number == 0:
        return 1
    _, digits, exponent = number.normalize(_EXACT).as_tuple()
    assert isinstance(exponent, int)
    # Digit i (from the right) sits at decimal position exponent + i; base-100 digits pair the
    # positions (2k, 2k+1). Count the pairs spanned from the lowest to the highest non-zero digit.
    lowest = exponent
    highest = exponent + len(digits) - 1
    base100_digits = highest // 2 - lowest // 2 + 1
    size = base100_digits + 1 + (1 if number < 0 else 0)
    return min(size, NUMBER_MAX_BYTES)


def _binary_length(value: Any) -> int:
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, str):  # base64 text, as in DynamoDB JSON on the wire
        return len(base64.b64decode(value))
    raise MalformedRecordError(f"Not a binary value: {value!r} (expected bytes or base64 text).")


def attribute_value_size(value: Mapping[str, Any]) -> int:
    """Size of one attribute value in DynamoDB JSON (``{"S": "x"}``), in bytes.

    Parameters
    ----------
    value : mapping
        A DynamoDB-JSON attribute value with exactly one type key (S, N, B, SS, NS, BS, M, L, NULL,
        BOOL).

    Returns
    -------
    int
        Bytes, excluding the attribute's name.
    """
    if not isinstance(value, Mapping) or len(value) != 1:
        raise MalformedRecordError(
            f"Not a DynamoDB attribute value: {value!r}. Expected one key, one of "
            + ", ".join(_VALUE_TYPES)
            + "."
        )
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return _binary_length(inner)
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(_binary_length(b) for b in inner)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "M":
        return _DOCUMENT_OVERHEAD + sum(
            len(name.encode("utf-8")) + attribute_value_size(v) + _ELEMENT_OVERHEAD
            for name, v in inner.items()
        )
    if kind == "L":
        return _DOCUMENT_OVERHEAD + sum(attribute_value_size(v) + _ELEMENT_OVERHEAD for v in inner)
    raise MalformedRecordError(
        f"Unknown DynamoDB attribute type {kind!r}: expected one of "
        + ", ".join(_VALUE_TYPES)
        + "."
    )


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Size of an item (or a key, or an image) in DynamoDB JSON, in bytes.

    Parameters
    ----------
    item : mapping or None
        Attribute name to DynamoDB-JSON value. ``None`` counts as 0 bytes.

    Returns
    -------
    int
        Bytes: for each attribute, the UTF-8 length of its name plus the size of its value.
    """
    if item is None:
        return 0
    if not isinstance(item, Mapping):
        raise MalformedRecordError(f"Not a DynamoDB item: {item!r} (expected a mapping).")
    return sum(len(name.encode("utf-8")) + attribute_value_size(v) for name, v in item.items())


def record_size(
    keys: Mapping[str, Any],
    new_image: Mapping[str, Any] | None = None,
    old_image: Mapping[str, Any] | None = None,
) -> int:
    """``SizeBytes`` of a stream record, in bytes: keys plus whichever images it carries.

    Parameters
    ----------
    keys : mapping
        The record's ``Keys`` (DynamoDB JSON).
    new_image, old_image : mapping or None
        The images present in the record (``None`` when absent).

    Returns
    -------
    int
        Bytes, as AWS reports in ``dynamodb.SizeBytes``.

    Examples
    --------
    >>> keys = {"Id": {"N": "101"}}
    >>> record_size(keys, {"Message": {"S": "New item!"}, "Id": {"N": "101"}})
    26
    """
    return item_size(keys) + item_size(new_image) + item_size(old_image)
