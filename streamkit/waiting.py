"""Waiting for something to happen: the one polling loop every wait in streamkit goes through.

Tables becoming ACTIVE, streams ENABLED, mappings changing state, logs and stream records arriving,
failure records reaching a queue: each is a :func:`poll_until` with a probe, a timeout and a
description of what it waits for. Timeouts are checked before anything waits (a NaN, infinite or
negative timeout would otherwise hang or never wait), and a timeout raises
:class:`~streamkit.errors.WaitTimeoutError` (or the subclass the caller names) saying what was
waited for and what was seen last.

Tests replace :data:`_sleep` and :data:`_clock` of this module to wait without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import InvalidParameterError, WaitTimeoutError

__all__ = ["check_timeout", "poll_until"]

T = TypeVar("T")

_sleep: Callable[[float], object] = time.sleep
_clock: Callable[[], float] = time.monotonic


def check_timeout(name: str, value: object, *, allow_zero: bool = True) -> float:
    """``value`` as seconds if it is a finite number of seconds >= 0 (> 0 without ``allow_zero``).

    Raises
    ------
    InvalidParameterError
        For NaN, infinities, negative numbers, booleans and anything that is not a number, naming
        the argument ``name``.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(name, value, f"a finite number of seconds {bound}")
    return float(value)


def poll_until(
    probe: Callable[[], T | None],
    *,
    timeout_s: float,
    interval_s: float | Callable[[int], float] = 0.1,
    what: str | Callable[[], str],
    error: Callable[[str], Exception] = WaitTimeoutError,
    timeout_name: str = "timeout_s",
) -> T:
    """Call ``probe`` until it returns something other than ``None``; return that.

    The probe is called at once, then after each pause, and once more at the deadline, so a wait
    with ``timeout_s=0`` still looks once.

    Parameters
    ----------
    probe : callable
        Returns ``None`` while the thing waited for has not happened. Exceptions propagate.
    timeout_s : float
        Seconds to wait at the most (finite, >= 0).
    interval_s : float or callable
        Seconds between two probes, or a function of the attempt number (0, 1, ...) giving them
        (for a backoff).
    what : str or callable
        What is waited for, for the timeout's message, e.g. ``"table Users to become ACTIVE"``; a
        callable is asked at the deadline (to say what was seen last).
    error : callable
        Builds the exception raised at the deadline from the message (default
        :class:`~streamkit.errors.WaitTimeoutError`).
    timeout_name : str
        The caller's name for the timeout argument, for the error on a bad value.

    Raises
    ------
    InvalidParameterError
        If ``timeout_s`` is NaN, infinite or negative.
    WaitTimeoutError
        (or what ``error`` builds) when the deadline passes first.
    """
    timeout = check_timeout(timeout_name, timeout_s)
    deadline = _clock() + timeout
    attempt = 0
    while True:
        result = probe()
        if result is not None:
            return result
        left = deadline - _clock()
        if left <= 0:
            described = what() if callable(what) else what
            raise error(f"Waited {timeout:g} s for {described}")
        pause = interval_s(attempt) if callable(interval_s) else interval_s
        _sleep(max(0.0, min(pause, left)))
        attempt += 1
