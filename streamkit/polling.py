"""A polling stream consumer, as a KCL application or a custom SDK reader runs one, and a steady
writer to give it something to read.

Non-Lambda consumers pay for every ``GetRecords`` call, empty ones included: :func:`poll_stream`
counts them, so a measured run can be set beside :func:`streamkit.pricing.polling_read_requests`.
Only boto3 calls: it runs the same on the embedded backend and on AWS.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from .backends import Backend
from .errors import InvalidParameterError
from .events import StreamRecord, parse_records
from .limits import GET_RECORDS_MAX_BYTES, GET_RECORDS_MAX_RECORDS
from .shards import can_start
from .streams import describe_stream

__all__ = [
    "DEMO_SECONDS_ENV",
    "PollReport",
    "Writer",
    "background_writes",
    "demo_seconds",
    "poll_stream",
]

#: Environment variable that shortens the real-time demos (:func:`demo_seconds`), in seconds. The
#: test suite sets it to 0.5 (``conftest.py``) so that the notebooks' demos run the same code faster.
DEMO_SECONDS_ENV = "STREAMKIT_DEMO_SECONDS"


def demo_seconds(default: float) -> float:
    """How long a real-time demo (a :func:`poll_stream` run in a notebook) lasts, in seconds.

    Parameters
    ----------
    default : float
        The demo's length for a reader, in seconds (> 0).

    Returns
    -------
    float
        ``default``, or the environment variable ``STREAMKIT_DEMO_SECONDS`` when it is set to a
        shorter positive number of seconds (test runs set it; it never lengthens a demo).

    Raises
    ------
    InvalidParameterError
        If ``default`` or ``STREAMKIT_DEMO_SECONDS`` is not a positive number of seconds.
    """
    if isinstance(default, bool) or not isinstance(default, int | float) or not default > 0:
        raise InvalidParameterError("default", default, "a number of seconds > 0")
    text = os.environ.get(DEMO_SECONDS_ENV, "").strip()
    if not text:
        return float(default)
    try:
        shorter = float(text)
    except ValueError:
        shorter = math.nan
    if not (shorter > 0 and math.isfinite(shorter)):
        raise InvalidParameterError(DEMO_SECONDS_ENV, text, "a number of seconds > 0, or unset")
    return min(float(default), shorter)


@dataclass(frozen=True)
class PollReport:
    """What a polling run did.

    Attributes
    ----------
    get_records_calls : int
        GetRecords calls made (billable read request units for a non-Lambda consumer).
    records : int
        Records received.
    seconds : float
        Length of the polling window, in seconds (shorter than asked only if every shard closed).
    shards : int
        Shards polled (open ones, and with TRIM_HORIZON the closed ones before them).
    polls_per_second : float
        The poll rate asked for, per shard.
    """

    get_records_calls: int
    records: int
    seconds: float
    shards: int
    polls_per_second: float

    @property
    def records_per_second(self) -> float:
        """Records received per second of the run."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def modeled_calls(self) -> float:
        """The GetRecords calls :func:`streamkit.pricing.polling_read_requests` expects for this run."""
        import numpy as np

        from .pricing import polling_read_requests

        # A float for scalar inputs; np.asarray() types it as something float() takes.
        return float(
            np.asarray(
                polling_read_requests(
                    self.shards,
                    self.polls_per_second,
                    hours=self.seconds / 3600,
                    records_per_second=self.records_per_second,
                )
            )
        )

    def compare(self) -> dict[str, float]:
        """This run beside the cost model: seconds, records, measured and modeled calls."""
        modeled = self.modeled_calls()
        return {
            "seconds": round(self.seconds, 2),
            "records": self.records,
            "measured calls": self.get_records_calls,
            "modeled calls": round(modeled, 1),
            "difference": round(self.get_records_calls - modeled, 1),
        }


def _full_page(records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a GetRecords answer was cut by a limit (so more is probably waiting)."""
    if len(records) >= GET_RECORDS_MAX_RECORDS:
        return True
    sizes = [r["dynamodb"].get("SizeBytes", 0) for r in records]
    return bool(sizes) and sum(sizes) + max(sizes) > GET_RECORDS_MAX_BYTES


def poll_stream(
    backend: Backend,
    stream: str,
    *,
    polls_per_second: float,
    seconds: float,
    position: Literal["LATEST", "TRIM_HORIZON"] = "LATEST",
    on_records: Callable[[list[StreamRecord]], None] | None = None,
) -> PollReport:
    """Poll every open shard of a stream at a fixed rate for a while, as a KCL worker does.

    Each open shard is polled every ``1 / polls_per_second`` seconds, whether or not it has records
    (each poll is a billable call). When an answer comes back full (1,000 records, or no room for
    another record under 1 MB), the shard is polled again at once: the consumer is behind.

    Parameters
    ----------
    backend : Backend
    stream : str
        A stream ARN or a table name (its latest stream).
    polls_per_second : float
        Polls per shard per second when idle, > 0 (a KCL worker with the default
        ``idleTimeBetweenReadsInMillis`` of 1000 polls once a second).
    seconds : float
        How long to poll, in seconds, > 0.
    position : str
        ``LATEST`` (default: only what is written from now on) or ``TRIM_HORIZON``.
    on_records : callable, optional
        Called with each non-empty batch of parsed records.

    Returns
    -------
    PollReport
    """
    if not isinstance(polls_per_second, int | float) or not 0 < polls_per_second <= 1000:
        raise InvalidParameterError("polls_per_second", polls_per_second, "a number in (0, 1000]")
    if not isinstance(seconds, int | float) or not 0 < seconds <= 24 * 3600:
        raise InvalidParameterError("seconds", seconds, "a number of seconds in (0, 86400]")
    if position not in ("LATEST", "TRIM_HORIZON"):
        raise InvalidParameterError("position", position, ("LATEST", "TRIM_HORIZON"))
    description = describe_stream(backend, stream)
    client = backend.client("dynamodbstreams")

    def iterator(shard_id: str, kind: Literal["LATEST", "TRIM_HORIZON"]) -> str:
        return client.get_shard_iterator(
            StreamArn=description.stream_arn, ShardId=shard_id, ShardIteratorType=kind
        )["ShardIterator"]

    known = {s.shard_id for s in description.shards}
    if position == "LATEST":  # what is written from now on: the open shards
        start = [s for s in description.shards if s.is_open]
    else:  # everything retained: the oldest shards first, their children when they are done
        start = [s for s in description.shards if can_start(s, known, ())]
    iterators: dict[str, str] = {s.shard_id: iterator(s.shard_id, position) for s in start}
    seen = set(iterators)
    interval = 1.0 / polls_per_second
    began = time.monotonic()
    end = began + seconds
    due = dict.fromkeys(iterators, began)
    calls = received = 0
    while iterators:
        shard_id = min(due, key=due.__getitem__)
        now = time.monotonic()
        if due[shard_id] >= end:
            break
        if due[shard_id] > now:
            time.sleep(due[shard_id] - now)
            continue
        response = client.get_records(
            ShardIterator=iterators[shard_id], Limit=GET_RECORDS_MAX_RECORDS
        )
        calls += 1
        records = response["Records"]
        received += len(records)
        if records and on_records is not None:
            on_records(parse_records(records))
        next_iterator = response.get("NextShardIterator")
        if next_iterator is None:  # the shard closed and was read to its end: on to its children
            del iterators[shard_id], due[shard_id]
            for child in describe_stream(backend, description.stream_arn).shards:
                if child.parent_shard_id == shard_id and child.shard_id not in seen:
                    seen.add(child.shard_id)
                    iterators[child.shard_id] = iterator(child.shard_id, "TRIM_HORIZON")
                    due[child.shard_id] = time.monotonic()
            continue
        iterators[shard_id] = next_iterator
        if _full_page(records):
            due[shard_id] = time.monotonic()
        else:  # keep the schedule (no drift), but never try to make up for a long backlog
            due[shard_id] = max(due[shard_id] + interval, time.monotonic() - interval)
    return PollReport(
        get_records_calls=calls,
        records=received,
        # the polling window (polls at 0, 1/rate, ... before its end), or less if every shard closed
        seconds=seconds if iterators else min(time.monotonic(), end) - began,
        shards=len(seen),
        polls_per_second=float(polls_per_second),
    )


class Writer:
    """A thread writing one new item at a steady rate (see :func:`background_writes`)."""

    def __init__(
        self,
        backend: Backend,
        table_name: str,
        per_second: float,
        key: Callable[[int], dict[str, Any]],
    ):
        self._client = backend.client("dynamodb")
        self._table = backend.name(table_name)
        self._interval = 1.0 / per_second
        self._key = key
        self._stop = threading.Event()
        self.written = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"streamkit-writer-{table_name}", daemon=True
        )

    def _run(self) -> None:
        due = time.monotonic()
        try:
            while not self._stop.is_set():
                self._client.put_item(TableName=self._table, Item=self._key(self.written))
                self.written += 1
                due += self._interval
                self._stop.wait(max(0.0, due - time.monotonic()))
        except BaseException as exc:  # reported by stop(), never lost in a thread
            self.error = exc

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self.error is not None:
            raise self.error


def _users_item(n: int) -> dict[str, Any]:
    return {
        "userId": {"S": f"load-{n:08d}"},
        "createdAt": {"S": "2024-01-01"},
        "firstname": {"S": "Load"},
    }


@contextmanager
def background_writes(
    backend: Backend,
    table_name: str,
    *,
    per_second: float,
    item: Callable[[int], dict[str, Any]] = _users_item,
) -> Iterator[Writer]:
    """Write ``per_second`` new items a second to a table while the ``with`` block runs.

    Parameters
    ----------
    backend : Backend
    table_name : str
    per_second : float
        Items per second, in (0, 1000]; each is one PutItem (so one INSERT record).
    item : callable, optional
        ``item(n)`` returns the n-th item in DynamoDB JSON (default: ``Users``-shaped items).

    Yields
    ------
    Writer
        ``.written`` counts the items written so far.
    """
    if not isinstance(per_second, int | float) or not 0 < per_second <= 1000:
        raise InvalidParameterError("per_second", per_second, "a number of items in (0, 1000]")
    writer = Writer(backend, table_name, float(per_second), item).start()
    try:
        yield writer
    finally:
        writer.stop()
