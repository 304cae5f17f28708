"""Polling a mapping's shards: read, filter, batch and send, as the Lambda service does.

One :class:`Cursor` per mapping and shard keeps where reading is, what is buffered, what is in
flight and what failed. :class:`Polling` (part of the local Lambda service) drives them: at most
one GetRecords' worth per poll (1,000 records, 1 MB), filters applied before a record joins a batch
(misses are skipped and checkpointed, not retried), a batch sent when full (``BatchSize``, 6 MB of
payload), when its batching window ends, or at once with no window; retention and
``MaximumRecordAgeInSeconds`` discard, on record, what expired while waiting.

Polls keep AWS's schedule without running it: a shard is polled every ``poll_interval_s`` (AWS:
4 times a second), but a poll that would find nothing is not run. When a record arrives, the shard
is polled at the first poll time of that schedule after the record's arrival (so a learner sees
AWS's delay, 125 ms on average at AWS's rate), and a shard that is behind is polled again at once.
Driving a shard returns when it next needs attention (:data:`math.inf`: only an append, a
mapping change or a finished invocation can give it work).
"""

from __future__ import annotations

import bisect
import math
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...filters import matches_any
from ...limits import GET_RECORDS_MAX_BYTES, GET_RECORDS_MAX_RECORDS, LAMBDA_PAYLOAD_MAX_BYTES
from ...shards import can_start
from .. import moto_compat, state
from ..dynamodbstreams.models import Shard, Stream, store_for
from . import journal
from .models import Mapping

__all__ = ["Completion", "Cursor", "Polling", "Runner", "account_region", "within_bytes"]


@dataclass
class Cursor:
    """One mapping's progress through one shard."""

    shard_id: str
    position: int  # next sequence number to read
    checkpoint: int | None = None  # last sequence number processed (or discarded)
    buffer: list[tuple[int, dict[str, Any], str, float]] = field(default_factory=list)
    first_buffered_at: float | None = None
    in_flight: list[tuple[int, dict[str, Any], str, float]] | None = None
    retry_at: float = 0.0
    # sizes of failed batches (or their halves, after bisecting) waiting at the head of the buffer,
    # sent again exactly as they were
    segments: list[int] = field(default_factory=list)
    attempts: int = 0  # invocations of the batch at the head so far (approximateInvokeCount)
    last_request_id: str | None = None
    last_failure_unhandled: bool = True  # an error or timeout (not a partial batch response)
    discarded: int = 0
    discards: list[dict[str, Any]] = field(default_factory=list)  # the latest, newest last
    filtered_out: int = 0  # records skipped by the mapping's filters
    read_through: int | None = None  # the last sequence number read (kept or filtered out)
    failures_in_a_row: int = 0
    next_poll_at: float = 0.0
    finished: bool = False  # a closed shard processed to its end
    batches: int = 0
    invocations: int = 0
    errors: int = 0
    records: int = 0
    expired: int = 0
    iterator_age_ms: float | None = None
    last_error: str | None = None


@dataclass
class Runner:
    """What the service keeps for one mapping."""

    uuid: str
    account_id: str
    region: str
    enabled_at_sequence: int | None = None  # LATEST: where the mapping started reading
    cursors: dict[str, Cursor] = field(default_factory=dict)


@dataclass
class Completion:
    runner: Runner
    cursor: Cursor
    result: Any  # InvocationResult, or an exception raised before the function ran
    started: float


def account_region(stream_arn: str) -> tuple[str, str]:
    """(account, region) of a stream ARN."""
    parts = stream_arn.split(":")
    return parts[4], parts[3]


def _unread(shard: Shard, cursor: Cursor) -> bool:
    """Whether the shard holds a record past the cursor's position."""
    return bool(shard.sequence_numbers) and shard.sequence_numbers[-1] >= cursor.position


def within_bytes(
    rows: list[tuple[int, dict[str, Any], str]], limit: int
) -> list[tuple[int, dict[str, Any], str]]:
    """The leading rows whose SizeBytes fit in ``limit`` (at least one)."""
    total = 0
    for index, (_, record, _) in enumerate(rows):
        total += record["dynamodb"]["SizeBytes"]
        if index and total > limit:
            return rows[:index]
    return rows


class Polling:
    """The polling half of the local Lambda service (see :mod:`.service`)."""

    poll_interval_s: float
    _invocations_under_way: int
    _completions: queue.SimpleQueue[Completion]
    _wake: threading.Event
    _executor: ThreadPoolExecutor

    if TYPE_CHECKING:  # provided by the other half of the service

        def _discard(
            self, mapping: Mapping, stream: Stream, cursor: Cursor, count: int, condition: str
        ) -> None:
            raise NotImplementedError

        def _skip_filtered(self, mapping: Mapping, cursor: Cursor) -> None:
            raise NotImplementedError

        def _checkpoint(self, mapping: Mapping | None, cursor: Cursor, sequence: int) -> None:
            raise NotImplementedError

        def _invoke(self, code: dict[str, Any], runner: Runner, event: dict[str, Any]) -> Any:
            raise NotImplementedError

    def _drive(self, mapping: Mapping, runner: Runner, now: float) -> float:
        """Poll, batch and invoke for every shard of one enabled mapping.

        Returns
        -------
        float
            When (``time.monotonic()``) the mapping next needs a pass, or ``math.inf`` when only
            an event (an append, a mapping change, a finished invocation) can give it work.
        """
        store = store_for(*account_region(mapping.event_source_arn))
        stream = store.streams.get(mapping.event_source_arn)
        next_due = math.inf
        if stream is None:
            mapping.last_processing_result = "PROBLEM: Stream not found"
            return next_due
        finished = {sid for sid, c in runner.cursors.items() if c.finished}
        known = {s.shard_id for s in stream.shards}
        for shard in stream.shards:
            cursor = runner.cursors.get(shard.shard_id)
            if cursor is None:
                if not can_start(shard, known, finished):
                    continue  # parents (and theirs) first
                shard.trim(state.now())
                start = self._start_position(mapping, runner, shard)
                saved = mapping.checkpoints.get(shard.shard_id)
                if saved is not None:  # a restarted service resumes where the last one stopped
                    start = saved + 1
                start = max(start, shard.trimmed_through + 1)
                cursor = runner.cursors[shard.shard_id] = Cursor(shard.shard_id, start, saved)
            if cursor.finished:
                continue
            next_due = min(next_due, self._drive_shard(mapping, stream, shard, cursor, runner, now))
        return next_due

    @staticmethod
    def _start_position(mapping: Mapping, runner: Runner, shard: Shard) -> int:
        if (
            mapping.settings["StartingPosition"] == "LATEST"
            and runner.enabled_at_sequence is not None
        ):
            return max(shard.starting_sequence_number, runner.enabled_at_sequence)
        return shard.starting_sequence_number

    def _drive_shard(
        self,
        mapping: Mapping,
        stream: Stream,
        shard: Shard,
        cursor: Cursor,
        runner: Runner,
        now: float,
    ) -> float:
        if cursor.in_flight is not None:
            return math.inf  # its completion wakes the service
        settings = mapping.settings
        batch_size = int(settings["BatchSize"])
        window = float(settings["MaximumBatchingWindowInSeconds"])
        store = store_for(*account_region(stream.arn))
        shard.trim(state.now())  # retention runs whether or not we poll
        if cursor.retry_at > now and cursor.segments:
            return cursor.retry_at
        # poll, when the shard holds records past the cursor and the poll schedule says so
        poll_due = math.inf
        if len(cursor.buffer) < batch_size:
            poll_due = self._poll_due(shard, cursor, now)
        if poll_due <= now:
            if cursor.position <= shard.trimmed_through:  # expired before it was read
                cursor.position = shard.trimmed_through + 1
                if not cursor.buffer and not cursor.segments:
                    self._checkpoint(mapping, cursor, shard.trimmed_through)
                cursor.last_error = "records expired (24 h retention) before they were read"
            wanted = GET_RECORDS_MAX_RECORDS
            if not mapping.filters:  # without filters, read no more than the batch can take
                wanted = min(wanted, batch_size - len(cursor.buffer))
            rows = store.read_shard(shard, cursor.position, wanted)
            rows = within_bytes(rows, GET_RECORDS_MAX_BYTES)  # one poll = one GetRecords' worth
            journal.poll(mapping, shard, rows)  # for the trigger timeline
            if rows:
                cursor.position = rows[-1][0] + 1
                cursor.read_through = rows[-1][0]
                filters = mapping.filters
                # checked before a record joins a batch; misses are skipped, not retried
                if filters:
                    kept = [
                        row
                        for row in rows
                        if matches_any(filters, {**row[1], "eventSourceARN": stream.arn})
                    ]
                    cursor.filtered_out += len(rows) - len(kept)
                    rows = kept
            if rows:
                if cursor.first_buffered_at is None:
                    cursor.first_buffered_at = now
                cursor.buffer.extend((seq, rec, enc, now) for seq, rec, enc in rows)
            self._skip_filtered(mapping, cursor)
            cursor.next_poll_at = now + self.poll_interval_s
            if _unread(shard, cursor):
                cursor.next_poll_at = now  # behind: poll again at once
            poll_due = cursor.next_poll_at if len(cursor.buffer) < batch_size else math.inf
            if not _unread(shard, cursor):
                poll_due = math.inf  # the next append wakes the service
        # discard, on record, what expired while waiting (retention, MaximumRecordAgeInSeconds)
        expired = sum(1 for row in cursor.buffer if row[0] <= shard.trimmed_through)
        if expired:
            cursor.expired += expired
            self._discard(mapping, stream, cursor, expired, "RecordAgeExceeded")
        age_limit = int(settings["MaximumRecordAgeInSeconds"])
        age_due = math.inf
        if age_limit >= 0 and cursor.buffer:
            epoch = state.now()
            too_old = 0
            for _, record, _, _ in cursor.buffer:
                if epoch - record["dynamodb"]["ApproximateCreationDateTime"] <= age_limit:
                    break
                too_old += 1
            if too_old:
                self._discard(mapping, stream, cursor, too_old, "RecordAgeExceeded")
            if cursor.buffer:  # when the oldest record left passes its maximum age
                oldest = cursor.buffer[0][1]["dynamodb"]["ApproximateCreationDateTime"]
                age_due = now + max(0.0, oldest + age_limit - epoch) + 1.0
        # send: a failed batch again, exactly as it was; else what the batching rules allow
        if cursor.segments:
            self._send(mapping, stream, cursor, runner, cursor.segments[0])
            return math.inf
        if cursor.buffer:
            full = len(cursor.buffer) >= batch_size
            window_over = (
                cursor.first_buffered_at is not None and now - cursor.first_buffered_at >= window
            )
            if full or window == 0 or window_over or self._payload_full(cursor.buffer, stream.arn):
                self._send(mapping, stream, cursor, runner, batch_size)
                return math.inf
            window_end = (cursor.first_buffered_at or now) + window
            return min(poll_due, window_end, age_due)
        # a closed shard read and processed to its end lets its children start (next pass)
        if not shard.is_open and not _unread(shard, cursor):
            self._skip_filtered(mapping, cursor)
            cursor.finished = True
            return now
        return poll_due

    def _poll_due(self, shard: Shard, cursor: Cursor, now: float) -> float:
        """When the shard's next poll is due (``time.monotonic()``); ``math.inf`` if it holds
        nothing past the cursor.

        The schedule is AWS's (one poll every ``poll_interval_s``), but polls that would find
        nothing are not run: a record that arrived while the shard was quiet waits for the first
        poll of the schedule after its arrival, as on AWS.
        """
        if cursor.position <= shard.trimmed_through:
            return now  # records expired unread: the poll moves past them
        index = bisect.bisect_left(shard.sequence_numbers, cursor.position)
        if index >= len(shard.sequence_numbers):
            return math.inf
        due = cursor.next_poll_at
        if due < now:  # polls fell due while the shard was quiet: they would have found nothing
            arrived = now - max(0.0, state.now() - shard.created_at[index])
            if arrived > due:
                interval = self.poll_interval_s
                due += math.ceil((arrived - due) / interval) * interval
                cursor.next_poll_at = due
        return due

    @staticmethod
    def _payload_full(rows: list[tuple[int, dict[str, Any], str, float]], stream_arn: str) -> bool:
        extra = len(',"eventSourceARN":""') + len(stream_arn) + 1
        return sum(len(enc) + extra for _, _, enc, _ in rows) + 20 > LAMBDA_PAYLOAD_MAX_BYTES

    def _send(
        self,
        mapping: Mapping,
        stream: Stream,
        cursor: Cursor,
        runner: Runner,
        batch_size: int,
    ) -> None:
        extra = len(',"eventSourceARN":""') + len(stream.arn) + 1
        size = len('{"Records":[]}')
        batch: list[tuple[int, dict[str, Any], str, float]] = []
        for row in cursor.buffer[:batch_size]:
            size += len(row[2]) + extra
            if batch and size > LAMBDA_PAYLOAD_MAX_BYTES:
                break
            batch.append(row)
        cursor.in_flight = batch
        self._invocations_under_way += 1  # until its completion is applied
        code = moto_compat.function_code(runner.account_id, runner.region, mapping.function_arn)
        event = {"Records": [{**rec, "eventSourceARN": stream.arn} for _, rec, _, _ in batch]}
        started = time.monotonic()
        if code is None:
            self._completions.put(
                Completion(
                    runner,
                    cursor,
                    LookupError(f"Function not found: {mapping.function_arn}"),
                    started,
                )
            )
            self._wake.set()
            return
        future: Future[Any] = self._executor.submit(self._invoke, code, runner, event)

        def done(f: Future[Any]) -> None:
            try:
                result: Any = f.result()
            except BaseException as exc:  # the runtime itself failed: a failed invocation
                result = exc
            self._completions.put(Completion(runner, cursor, result, started))
            self._wake.set()

        future.add_done_callback(done)
