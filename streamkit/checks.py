"""Argument checks the client helpers share: whole numbers in a range, true/false, function names,
on-failure destinations, waits.

Each raises :class:`~streamkit.errors.InvalidParameterError` naming the argument and its valid
values, before any AWS call. The mapping settings themselves are checked by
:func:`streamkit.mapping_settings.check_argument`. Pure: no AWS calls.
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidParameterError
from .limits import DESTINATION_KINDS, FUNCTION_ARN_PATTERN, FUNCTION_NAME_PATTERN
from .mapping_settings import is_destination_arn
from .waiting import check_timeout

__all__ = [
    "check_bool",
    "check_destination",
    "check_function_name",
    "check_int",
    "check_wait",
    "function_of",
]


def check_int(name: str, value: Any, low: int, high: int, valid: str | None = None) -> int:
    """``value`` if it is a whole number (not a bool) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidParameterError(name, value, valid or f"a whole number from {low} to {high:,}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise InvalidParameterError(name, value, (True, False))
    return value


def check_function_name(name: str, value: Any, *, arn_ok: bool = False) -> str:
    """``value`` if it is a function name (or, with ``arn_ok``, a function ARN)."""
    if isinstance(value, str) and (
        FUNCTION_NAME_PATTERN.fullmatch(value) or (arn_ok and FUNCTION_ARN_PATTERN.fullmatch(value))
    ):
        return value
    valid = "a function name of 1 to 64 letters, digits, hyphens and underscores"
    raise InvalidParameterError(name, value, valid + (", or a function ARN" if arn_ok else ""))


def check_destination(value: Any) -> str:
    """``value`` if it is an on-failure destination ARN (SQS queue, SNS topic or S3 bucket)."""
    if is_destination_arn(value):
        return value
    raise InvalidParameterError("on_failure_destination_arn", value, DESTINATION_KINDS)


def check_wait(wait: Any, timeout_s: Any) -> None:
    """``wait`` is true or false and ``timeout_s`` a number of seconds > 0."""
    check_bool("wait", wait)
    check_timeout("timeout_s", timeout_s, allow_zero=False)  # NaN and infinities too


def function_of(function_arn: str) -> str:
    """The function name in a function ARN (or the name itself)."""
    parts = function_arn.split(":")
    return parts[6] if len(parts) >= 7 and parts[5] == "function" else function_arn
