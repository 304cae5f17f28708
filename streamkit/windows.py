"""Tumbling windows of a DynamoDB stream trigger (``TumblingWindowInSeconds``): their boundaries,
waiting for the next one, and the per-window totals a function logs.

With a tumbling window, Lambda groups a shard's records by the time they were written into windows
of ``TumblingWindowInSeconds`` seconds (1 to 900), passes the function the ``state`` it returned
last time, and flags the window's last invocation (``isFinalInvokeForWindow``). Windows are
aligned on the epoch here (a 60-second window starts on the minute), as the embedded backend
aligns them: AWS says only that boundaries are "based on the time when records were inserted into
the stream" (Lambda Developer Guide, "Implementing stateful DynamoDB stream processing in Lambda").

A function that reports each window's result logs one line per window,
``WINDOW_TOTAL {"start": ..., "end": ..., "shardId": ..., ...}`` (``functions/count_signups``
does); :func:`window_totals` turns those lines into a table.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .errors import InvalidParameterError
from .limits import ESM_TUMBLING_WINDOW_RANGE_S

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["TOTAL_PREFIX", "sleep_until_next_window", "window_of", "window_totals"]

#: The log line prefix of a window's result (what :func:`window_totals` reads).
TOTAL_PREFIX = "WINDOW_TOTAL "


def _check_seconds(seconds: int) -> int:
    low, high = ESM_TUMBLING_WINDOW_RANGE_S
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not max(1, low) <= seconds <= high
    ):
        raise InvalidParameterError(
            "seconds", seconds, f"a tumbling window of whole seconds from 1 to {high}"
        )
    return seconds


def window_of(epoch: float, seconds: int) -> tuple[float, float]:
    """The tumbling window (start, end) holding a record written at ``epoch``.

    Parameters
    ----------
    epoch : float
        When the record was written (its ``ApproximateCreationDateTime``), epoch seconds.
    seconds : int
        ``TumblingWindowInSeconds``, 1 to 900.

    Returns
    -------
    tuple of float
        Start and end of the window, epoch seconds; the start is a multiple of ``seconds``.
    """
    start = math.floor(epoch / seconds) * seconds
    return float(start), float(start + seconds)


def sleep_until_next_window(
    seconds: int,
    *,
    margin_s: float = 0.05,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Sleep until just after the next tumbling window starts, so that writes made at once all
    fall into one window.

    Parameters
    ----------
    seconds : int
        ``TumblingWindowInSeconds``, 1 to 900.
    margin_s : float
        Seconds past the window's start to wake up (clocks are read at slightly different
        moments by the kernel and the service).
    clock, sleep
        The wall clock (epoch seconds) and how to wait; for tests.

    Returns
    -------
    float
        The start of the window now open, epoch seconds.
    """
    seconds = _check_seconds(seconds)
    if not isinstance(margin_s, int | float) or not 0 <= margin_s < seconds / 2:
        raise InvalidParameterError(
            "margin_s", margin_s, f"seconds from 0 to less than half the window ({seconds / 2:g})"
        )
    _, end = window_of(clock(), seconds)
    sleep(max(0.0, end + margin_s - clock()))
    return end


def window_totals(lines: Iterable[str]) -> pd.DataFrame:
    """One row per ``WINDOW_TOTAL {json}`` log line, oldest window first.

    Parameters
    ----------
    lines : iterable of str
        Log lines (``logs.log_messages(aws, name, prefix=TOTAL_PREFIX)``); others are skipped.

    Returns
    -------
    pandas.DataFrame
        ``start`` and ``end`` (UTC timestamps), ``seconds`` (the window's length), then every other
        field the function logged, in its order.
    """
    import pandas as pd

    rows = []
    for line in lines:
        if not line.startswith(TOTAL_PREFIX):
            continue
        fields = json.loads(line[len(TOTAL_PREFIX) :])
        start = datetime.strptime(fields.pop("start"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        end = datetime.strptime(fields.pop("end"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        rows.append({"start": start, "end": end, "seconds": (end - start).seconds, **fields})
    frame = pd.DataFrame(rows)
    if rows:
        frame = frame.sort_values(["start"], kind="stable").reset_index(drop=True)
    return frame
