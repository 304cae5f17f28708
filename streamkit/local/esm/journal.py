"""The local Lambda service's own record of what it did, for the trigger timeline.

The poller and the processor note each step here as it happens (one line each where they act):
records arriving in the shard (their write times, read from the stream store when a poll finds
them), polls, invocations with the records they carried and how they ended, bisect splits, discards
and checkpoints. :func:`events` returns them as a table; ``streamkit.timeline`` draws it.

One bounded deque per mapping (:data:`MAX_EVENTS_PER_MAPPING`, oldest dropped first), so a trigger
polling an idle shard four times a second for hours costs a fixed amount of memory. Times are the
emulator clock's (:func:`streamkit.local.state.now`, epoch seconds), so writes, polls and
invocations share one axis. Nothing here changes what the service does.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, TypeAlias

from .. import state

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# The poller and the processor import this module, so their types are not imported here (the
# architecture test counts every import): ``mapping`` is a ``.models.Mapping``, ``shard`` a
# ``Shard`` of the stream store, ``cursor`` and ``done`` the poller's ``Cursor`` and ``Completion``.
Mapping: TypeAlias = Any
Shard: TypeAlias = Any
Completion: TypeAlias = Any
Cursor: TypeAlias = Any

__all__ = [
    "COLUMNS",
    "MAX_EVENTS_PER_MAPPING",
    "checkpoint",
    "discard",
    "events",
    "invoked",
    "poll",
    "reset",
    "split",
]

#: Events kept per mapping; the oldest go first.
MAX_EVENTS_PER_MAPPING = 20_000

#: The columns of :func:`events`: ``time`` (epoch seconds), ``end`` (invocations: when they ended),
#: ``uuid``, ``function`` (ARN), ``shard_id``, ``kind`` (write, poll, invoke, split, discard,
#: checkpoint), ``first_sequence`` / ``last_sequence`` (ints), ``records``, ``ok`` (invocations),
#: ``attempt`` (1 for a batch's first invocation, 2 for its first retry, ...), ``detail``.
COLUMNS = (
    "time",
    "end",
    "uuid",
    "function",
    "shard_id",
    "kind",
    "first_sequence",
    "last_sequence",
    "records",
    "ok",
    "attempt",
    "detail",
)

_LOCK = threading.Lock()
_EVENTS: dict[str, deque[dict[str, Any]]] = {}
_FUNCTIONS: dict[str, str] = {}  # mapping UUID -> function ARN, for events that lack the mapping


def _note(uuid: str, **event: Any) -> None:
    event.setdefault("time", state.now())
    event["uuid"] = uuid
    event.setdefault("function", _FUNCTIONS.get(uuid))
    with _LOCK:
        kept = _EVENTS.get(uuid)
        if kept is None:
            kept = _EVENTS[uuid] = deque(maxlen=MAX_EVENTS_PER_MAPPING)
        kept.append(event)


def poll(mapping: Mapping, shard: Shard, rows: list[tuple[int, Any, str]]) -> None:
    """A poll of ``shard`` read ``rows`` (sequence, record, wire JSON): one ``poll`` event, and a
    ``write`` event per record at the time the stream store received it."""
    _FUNCTIONS[mapping.uuid] = mapping.function_arn
    for sequence, _, _ in rows:
        at = bisect.bisect_left(shard.sequence_numbers, sequence)
        written = (
            shard.created_at[at]
            if at < len(shard.sequence_numbers) and shard.sequence_numbers[at] == sequence
            else None
        )
        _note(
            mapping.uuid,
            time=written if written is not None else state.now(),
            shard_id=shard.shard_id,
            kind="write",
            first_sequence=sequence,
            last_sequence=sequence,
            records=1,
        )
    _note(
        mapping.uuid,
        shard_id=shard.shard_id,
        kind="poll",
        first_sequence=rows[0][0] if rows else None,
        last_sequence=rows[-1][0] if rows else None,
        records=len(rows),
    )


def invoked(
    done: Completion, batch: list[tuple[int, Any, str, float]] | None, final: bool = False
) -> None:
    """An invocation ended (called with the batch it carried, before the outcome is applied;
    ``final``: a tumbling window's final invocation)."""
    result = done.result
    ok = bool(getattr(result, "ok", False))
    detail = None
    if not ok:
        payload = getattr(result, "payload", None)
        if isinstance(payload, dict):
            detail = f"{payload.get('errorType', 'Error')}: {payload.get('errorMessage', '')}"
        elif isinstance(result, BaseException):
            detail = f"{type(result).__name__}: {result}"
    elif isinstance(getattr(result, "payload", None), dict) and result.payload.get(
        "batchItemFailures"
    ):
        detail = "batchItemFailures reported"
    if final:
        detail = "final invocation of a tumbling window" + (f": {detail}" if detail else "")
    now = state.now()
    batch = batch or []
    _note(
        done.runner.uuid,
        time=now - max(0.0, time.monotonic() - done.started),
        end=now,
        shard_id=done.cursor.shard_id,
        kind="invoke",
        first_sequence=batch[0][0] if batch else None,
        last_sequence=batch[-1][0] if batch else None,
        records=len(batch),
        ok=ok,
        attempt=done.lane.attempts + 1,
        detail=detail,
    )


def split(mapping: Mapping | None, cursor: Cursor, sizes: list[int]) -> None:
    """A failed batch was bisected into batches of ``sizes`` records."""
    if mapping is not None:
        _note(
            mapping.uuid,
            shard_id=cursor.shard_id,
            kind="split",
            records=sum(sizes),
            detail=" + ".join(map(str, sizes)),
        )


def discard(mapping: Mapping, cursor: Cursor, rows: list[Any], condition: str) -> None:
    """Records were given up on (``condition``: RetryAttemptsExhausted, RecordAgeExceeded)."""
    if rows:
        _note(
            mapping.uuid,
            shard_id=cursor.shard_id,
            kind="discard",
            first_sequence=rows[0][0],
            last_sequence=rows[-1][0],
            records=len(rows),
            detail=condition,
        )


def checkpoint(mapping: Mapping | None, cursor: Cursor, sequence: int) -> None:
    """The shard's checkpoint moved to ``sequence``."""
    if mapping is not None and cursor.checkpoint != sequence:
        _note(
            mapping.uuid,
            shard_id=cursor.shard_id,
            kind="checkpoint",
            first_sequence=sequence,
            last_sequence=sequence,
        )


def reset() -> None:
    """Forget every event (the backend was reset)."""
    with _LOCK:
        _EVENTS.clear()
        _FUNCTIONS.clear()


def events(function_arn: str | None = None) -> pd.DataFrame:
    """Every kept event, oldest first, optionally of one function's mappings only.

    Parameters
    ----------
    function_arn : str, optional
        Only the mappings of this function (its ARN).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS`.
    """
    import pandas as pd

    with _LOCK:
        rows = [
            dict(event)
            for kept in _EVENTS.values()
            for event in kept
            if function_arn is None or event.get("function") == function_arn
        ]
    rows.sort(key=lambda event: event["time"])
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("records", "attempt"):  # sequence numbers (21 digits) stay Python ints
        frame[column] = frame[column].astype("Int64")
    return frame
