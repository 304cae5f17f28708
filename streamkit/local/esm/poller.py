"""Polling a mapping's shards: read, filter, batch and send, as the Lambda service does.

One :class:`Cursor` per mapping and shard keeps where reading is and the shard's checkpoint; its
:class:`Lane` s (``ParallelizationFactor`` of them, one by default) keep what is buffered, in flight
and failed. A record goes to the lane of its partition key, so each key's records are processed in
order while the lanes' batches run at the same time, and the checkpoint moves only over records
every lane is done with. :class:`Polling` (part of the local Lambda service) drives them: at most
one GetRecords' worth per poll (1,000 records, 1 MB), filters applied before a record joins a batch
(misses are skipped and checkpointed, not retried), a batch sent when full (``BatchSize``, 6 MB of
payload), when its batching window ends, or at once with no window; retention and
``MaximumRecordAgeInSeconds`` discard, on record, what expired while waiting.

With ``TumblingWindowInSeconds``, each lane aggregates windows aligned on the records' write times:
a batch never spans two windows, the event carries the window, the state the function last
returned and the flags AWS sets, and once a window is complete (a later window's record is next,
its end passed with nothing left to read, the shard ended, or the state outgrew 1 MB) a final
invocation (``isFinalInvokeForWindow``) ends it; its records are checkpointed when that succeeds.

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
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...filters import matches_any
from ...limits import GET_RECORDS_MAX_BYTES, GET_RECORDS_MAX_RECORDS, LAMBDA_PAYLOAD_MAX_BYTES
from ...shards import can_start
from ...windows import window_of
from .. import moto_compat, state
from ..dynamodbstreams.models import Shard, Stream, partition_hash, store_for
from . import journal
from .models import Mapping

__all__ = [
    "MAX_READ_PAST_CHECKPOINT",
    "Completion",
    "Cursor",
    "Lane",
    "Polling",
    "Runner",
    "account_region",
    "lane_of",
    "within_bytes",
]


#: Records a shard's cursor reads past its checkpoint at most: when a failing batch holds the
#: checkpoint, the other lanes (or the records a filter skips) go on until this many records were
#: read past it (a memory bound of the embedded backend; AWS does not publish one).
MAX_READ_PAST_CHECKPOINT = 100_000

#: A buffered record: (sequence number, record, its wire JSON, when it was buffered (monotonic)).
Row = tuple[int, dict[str, Any], str, float]


@dataclass
class Lane:
    """One of a shard's ``ParallelizationFactor`` concurrent batch sequences (one by default).

    A record goes to the lane of its partition key (:func:`lane_of`), so every key's records are
    processed in order by one lane, while the lanes of a shard run their batches at the same time.
    A lane keeps its own batch in flight, its failed batches (retried exactly as they were), its
    backoff and, with a tumbling window, the window it aggregates and the function's state.
    """

    index: int
    buffer: list[Row] = field(default_factory=list)
    first_buffered_at: float | None = None
    in_flight: list[Row] | None = None
    final_in_flight: bool = False  # the invocation in flight is a window's final one
    retry_at: float = 0.0
    # sizes of failed batches (or their halves, after bisecting) waiting at the head of the buffer,
    # sent again exactly as they were
    segments: list[int] = field(default_factory=list)
    attempts: int = 0  # invocations of the batch at the head so far (approximateInvokeCount)
    last_request_id: str | None = None
    last_failure_unhandled: bool = True  # an error or timeout (not a partial batch response)
    failures_in_a_row: int = 0
    # tumbling windows: the open window (epoch seconds), the state the function returned, the
    # records processed in it (checkpointed when its final invocation succeeds)
    window: tuple[float, float] | None = None
    window_state: Any = field(default_factory=dict)
    window_records: list[int] = field(default_factory=list)
    window_early: bool = False  # the state outgrew its limit: the window ends now
    final_failed: bool = False  # the window's final invocation failed: retried after a backoff


@dataclass
class Cursor:
    """One mapping's progress through one shard."""

    shard_id: str
    position: int  # next sequence number to read
    checkpoint: int | None = None  # last sequence number processed (or discarded)
    lanes: list[Lane] = field(default_factory=lambda: [Lane(0)])
    # sequence numbers read (kept or filtered out), oldest first, that the checkpoint has not
    # passed yet, and which of them are done (processed, discarded on record, filtered out): the
    # checkpoint moves over done records only, so it never passes a record another lane still has
    unsettled: deque[int] = field(default_factory=deque)
    settled: set[int] = field(default_factory=set)
    discarded: int = 0
    discards: list[dict[str, Any]] = field(default_factory=list)  # the latest, newest last
    filtered_out: int = 0  # records skipped by the mapping's filters
    read_through: int | None = None  # the last sequence number read (kept or filtered out)
    next_poll_at: float = 0.0
    scheduled_for: int | None = None  # the unread record next_poll_at was worked out for
    finished: bool = False  # a closed shard processed to its end
    batches: int = 0
    invocations: int = 0
    errors: int = 0
    records: int = 0
    expired: int = 0
    iterator_age_ms: float | None = None
    last_error: str | None = None

    @property
    def buffered(self) -> int:
        """Records read and kept, not yet processed or discarded (every lane)."""
        return sum(len(lane.buffer) for lane in self.lanes)

    @property
    def busy(self) -> bool:
        """Whether some lane has an invocation under way."""
        return any(lane.in_flight is not None for lane in self.lanes)

    @property
    def idle(self) -> bool:
        """Nothing buffered, under way, to retry or in an open window, on any lane."""
        return not any(
            lane.buffer
            or lane.in_flight is not None
            or lane.segments
            or lane.window
            or lane.window_records
            for lane in self.lanes
        )


def lane_of(record: dict[str, Any], hash_key: str, factor: int) -> int:
    """The lane (0 to ``factor`` - 1) of a record: by a stable hash of its partition key, so all
    of a key's records are in one lane (AWS: "in-order processing at the partition-key level").
    The hash's upper half is used, independent of the lower half that places keys in shards."""
    if factor == 1:
        return 0
    return (partition_hash(record["dynamodb"]["Keys"][hash_key]) >> 32) % factor


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
    lane: Lane
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
            self,
            mapping: Mapping,
            stream: Stream,
            cursor: Cursor,
            lane: Lane,
            count: int,
            condition: str,
        ) -> None:
            raise NotImplementedError

        def _advance(self, mapping: Mapping | None, cursor: Cursor) -> None:
            raise NotImplementedError

        def _settle(self, mapping: Mapping | None, cursor: Cursor, sequences: list[int]) -> None:
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
        settings = mapping.settings
        batch_size = int(settings["BatchSize"])
        # a changed ParallelizationFactor: new batches wait until the lanes can be rebuilt
        refitting = not self._fit_lanes(cursor, int(settings["ParallelizationFactor"]), stream)
        if all(lane.in_flight is not None for lane in cursor.lanes):
            return math.inf  # a completion wakes the service
        store = store_for(*account_region(stream.arn))
        shard.trim(state.now())  # retention runs whether or not we poll
        # poll, when the shard holds records past the cursor and the poll schedule says so
        poll_due = math.inf
        if self._has_room(cursor, batch_size, now):
            poll_due = self._poll_due(shard, cursor, now)
        if poll_due <= now:
            self._poll(mapping, stream, shard, cursor, store, batch_size, now)
            cursor.next_poll_at = now + self.poll_interval_s
            if _unread(shard, cursor):
                cursor.next_poll_at = now  # behind: poll again at once
            poll_due = cursor.next_poll_at if self._has_room(cursor, batch_size, now) else math.inf
            if not _unread(shard, cursor):
                poll_due = math.inf  # the next append wakes the service
        next_due = poll_due
        can_read = self._has_room(cursor, batch_size, now)
        for lane in cursor.lanes:
            if lane.in_flight is None:
                due = self._drive_lane(
                    mapping, stream, shard, cursor, lane, runner, now, can_read, refitting
                )
                next_due = min(next_due, due)
        # a closed shard read and processed to its end lets its children start (next pass)
        if not shard.is_open and not _unread(shard, cursor) and cursor.idle:
            self._advance(mapping, cursor)
            cursor.finished = True
            return now
        return next_due

    def _poll(
        self,
        mapping: Mapping,
        stream: Stream,
        shard: Shard,
        cursor: Cursor,
        store: Any,
        batch_size: int,
        now: float,
    ) -> None:
        """One GetRecords' worth: read, filter, and hand each kept record to its key's lane."""
        if cursor.position <= shard.trimmed_through:  # expired before it was read
            cursor.position = shard.trimmed_through + 1
            if not cursor.unsettled:
                self._checkpoint(mapping, cursor, shard.trimmed_through)
            cursor.last_error = "records expired (24 h retention) before they were read"
        lanes = cursor.lanes
        wanted = min(GET_RECORDS_MAX_RECORDS, MAX_READ_PAST_CHECKPOINT - len(cursor.unsettled))
        if len(lanes) == 1 and not mapping.filters:  # read no more than the batch can take
            wanted = min(wanted, batch_size - cursor.buffered)
        elif len(lanes) > 1:
            wanted = min(wanted, _buffer_cap(len(lanes), batch_size) - cursor.buffered)
        wanted = max(1, wanted)
        rows = store.read_shard(shard, cursor.position, wanted)
        rows = within_bytes(rows, GET_RECORDS_MAX_BYTES)  # one poll = one GetRecords' worth
        journal.poll(mapping, shard, rows)  # for the trigger timeline
        if not rows:
            return
        cursor.position = rows[-1][0] + 1
        cursor.read_through = rows[-1][0]
        cursor.unsettled.extend(row[0] for row in rows)
        filters = mapping.filters
        if filters:  # checked before a record joins a batch; misses are skipped, not retried
            kept = [
                row
                for row in rows
                if matches_any(filters, {**row[1], "eventSourceARN": stream.arn})
            ]
            cursor.filtered_out += len(rows) - len(kept)
            if len(kept) < len(rows):
                kept_sequences = {row[0] for row in kept}
                cursor.settled.update(row[0] for row in rows if row[0] not in kept_sequences)
            rows = kept
        hash_key = stream.hash_key() if len(lanes) > 1 else ""
        for sequence, record, encoded in rows:
            lane = lanes[lane_of(record, hash_key, len(lanes))]
            if lane.first_buffered_at is None:
                lane.first_buffered_at = now
            lane.buffer.append((sequence, record, encoded, now))
        self._advance(mapping, cursor)  # past records filtered out at the head

    def _drive_lane(
        self,
        mapping: Mapping,
        stream: Stream,
        shard: Shard,
        cursor: Cursor,
        lane: Lane,
        runner: Runner,
        now: float,
        can_read: bool = True,
        refitting: bool = False,
    ) -> float:
        """Discard what expired, then send what the batching rules allow on one idle lane.
        Returns when the lane next needs attention (``math.inf``: only an event can give it work).

        ``can_read``: whether the cursor may read more now; ``refitting``: the lanes are to be
        rebuilt (ParallelizationFactor changed), so only retries and final invocations are sent.
        """
        settings = mapping.settings
        batch_size = int(settings["BatchSize"])
        window = float(settings["MaximumBatchingWindowInSeconds"])
        tumbling = int(settings["TumblingWindowInSeconds"] or 0)
        if not tumbling and (lane.window is not None or lane.window_records):  # turned off:
            self._settle(mapping, cursor, lane.window_records)  # what it processed is done
            lane.window, lane.window_records, lane.window_state = None, [], {}
            lane.window_early = lane.final_failed = False
        if lane.retry_at > now and (lane.segments or lane.final_failed):
            return lane.retry_at
        # discard, on record, what expired while waiting (retention, MaximumRecordAgeInSeconds)
        expired = sum(1 for row in lane.buffer if row[0] <= shard.trimmed_through)
        if expired:
            cursor.expired += expired
            self._discard(mapping, stream, cursor, lane, expired, "RecordAgeExceeded")
        age_limit = int(settings["MaximumRecordAgeInSeconds"])
        age_due = math.inf
        if age_limit >= 0 and lane.buffer:
            epoch = state.now()
            too_old = 0
            for _, record, _, _ in lane.buffer:
                if epoch - record["dynamodb"]["ApproximateCreationDateTime"] <= age_limit:
                    break
                too_old += 1
            if too_old:
                self._discard(mapping, stream, cursor, lane, too_old, "RecordAgeExceeded")
            if lane.buffer:  # when the oldest record left passes its maximum age
                oldest = lane.buffer[0][1]["dynamodb"]["ApproximateCreationDateTime"]
                age_due = now + max(0.0, oldest + age_limit - epoch) + 1.0
        # send: a failed batch again, exactly as it was; a window's final invocation once it
        # ended; else what the batching rules allow
        if lane.segments:
            self._send(mapping, stream, cursor, lane, runner, lane.segments[0])
            return math.inf
        if (
            tumbling
            and lane.window is not None
            and self._window_over(lane, shard, cursor, can_read)
        ):
            self._send(mapping, stream, cursor, lane, runner, 0, final=True)
            return math.inf
        if (
            lane.buffer
            and refitting
            and not (lane.window is not None and _written(lane.buffer[0]) < lane.window[1])
        ):
            return age_due  # what is under way (and open windows) finish, then lanes are rebuilt
        if lane.buffer:
            count = len(lane.buffer)
            if tumbling:  # a batch never spans two windows
                first = window_of(_written(lane.buffer[0]), tumbling)
                count = next(
                    (
                        i
                        for i, row in enumerate(lane.buffer)
                        if window_of(_written(row), tumbling) != first
                    ),
                    count,
                )
            full = count >= batch_size or count < len(lane.buffer)
            window_over = (
                lane.first_buffered_at is not None and now - lane.first_buffered_at >= window
            )
            if full or window == 0 or window_over or self._payload_full(lane.buffer, stream.arn):
                self._send(mapping, stream, cursor, lane, runner, min(batch_size, count))
                return math.inf
            window_end = (lane.first_buffered_at or now) + window
            return min(window_end, age_due)
        if tumbling and lane.window is not None:
            left = lane.window[1] - state.now()
            if left > 0:  # the open window's end, on the emulator clock
                return now + left
        return math.inf  # else a poll (or an append) brings what the window waits for

    @staticmethod
    def _window_over(lane: Lane, shard: Shard, cursor: Cursor, can_read: bool = True) -> bool:
        """Whether a lane's open tumbling window is complete (its final invocation is due): its
        state outgrew the limit; or a later window's record is next (buffered, or the shard's
        first unread record: records are in write-time order); or its end passed (or the shard
        ended) with nothing of it left to read; or its end passed and the cursor cannot read on
        (a failing lane holds the read bounds: the window ends rather than wait for ever, and a
        record of it read later opens it again with a fresh state)."""
        assert lane.window is not None
        end = lane.window[1]
        if lane.window_early:
            return True
        if lane.buffer:
            return _written(lane.buffer[0]) >= end
        if not _unread(shard, cursor):
            return state.now() >= end or not shard.is_open
        index = bisect.bisect_left(shard.sequence_numbers, cursor.position)
        if math.floor(shard.created_at[index]) >= end:
            return True
        return not can_read and state.now() >= end

    @staticmethod
    def _fit_lanes(cursor: Cursor, factor: int, stream: Stream) -> bool:
        """Give the cursor ``factor`` lanes (ParallelizationFactor changed), once none has a batch
        under way, a failed batch or an open window; buffered records move to their new lanes.
        Returns whether the cursor has ``factor`` lanes now."""
        if len(cursor.lanes) == factor:
            return True
        if any(
            lane.in_flight is not None or lane.segments or lane.window or lane.window_records
            for lane in cursor.lanes
        ):
            return False
        rows = sorted((row for lane in cursor.lanes for row in lane.buffer), key=lambda r: r[0])
        lanes = [Lane(index) for index in range(factor)]
        hash_key = stream.hash_key()
        for row in rows:
            lane = lanes[lane_of(row[1], hash_key, factor)]
            if lane.first_buffered_at is None:
                lane.first_buffered_at = row[3]
            lane.buffer.append(row)
        cursor.lanes = lanes
        return True

    @staticmethod
    def _has_room(cursor: Cursor, batch_size: int, now: float) -> bool:
        """Whether a poll may read more: one lane (the default) reads up to a batch, and not while
        its failed batch waits for a retry; several lanes read while one has room for a batch, up
        to a bound, so a blocked lane does not hold up the keys of the others."""
        lanes = cursor.lanes
        if len(cursor.unsettled) >= MAX_READ_PAST_CHECKPOINT:
            return False  # a failing batch holds the checkpoint: read no further (memory bound)
        if len(lanes) == 1:
            lane = lanes[0]
            if lane.in_flight is not None or (lane.segments and lane.retry_at > now):
                return False
            return len(lane.buffer) < batch_size
        if cursor.buffered >= _buffer_cap(len(lanes), batch_size):
            return False
        return any(len(lane.buffer) < batch_size for lane in lanes)

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
        first_unread = shard.sequence_numbers[index]
        # polls that fell due while the shard was quiet would have found nothing: the first poll
        # of the schedule after the record's arrival reads it (worked out once per record, so a
        # stopped emulator clock, where records never age, cannot put it off for ever)
        if due < now and cursor.scheduled_for != first_unread:
            cursor.scheduled_for = first_unread
            arrived = now - max(0.0, state.now() - shard.created_at[index])
            if arrived > due:
                interval = self.poll_interval_s
                due += math.ceil((arrived - due) / interval) * interval
                cursor.next_poll_at = due
        return due

    @staticmethod
    def _payload_full(rows: list[Row], stream_arn: str) -> bool:
        extra = len(',"eventSourceARN":""') + len(stream_arn) + 1
        return sum(len(enc) + extra for _, _, enc, _ in rows) + 20 > LAMBDA_PAYLOAD_MAX_BYTES

    def _send(
        self,
        mapping: Mapping,
        stream: Stream,
        cursor: Cursor,
        lane: Lane,
        runner: Runner,
        batch_size: int,
        final: bool = False,
    ) -> None:
        """Invoke the function with the lane's next batch (up to ``batch_size`` records and the 6 MB
        payload), or with a tumbling window's final invocation (``final``: no records)."""
        extra = len(',"eventSourceARN":""') + len(stream.arn) + 1
        size = len('{"Records":[]}')
        batch: list[Row] = []
        for row in lane.buffer[: 0 if final else batch_size]:
            size += len(row[2]) + extra
            if batch and size > LAMBDA_PAYLOAD_MAX_BYTES:
                break
            batch.append(row)
        lane.in_flight = batch
        lane.final_in_flight = final
        self._invocations_under_way += 1  # until its completion is applied
        code = moto_compat.function_code(runner.account_id, runner.region, mapping.function_arn)
        event: dict[str, Any] = {
            "Records": [{**rec, "eventSourceARN": stream.arn} for _, rec, _, _ in batch]
        }
        tumbling = int(mapping.settings["TumblingWindowInSeconds"] or 0)
        if tumbling:
            if lane.window is None:  # the first batch of a window opens it, with a fresh state
                lane.window = window_of(_written(batch[0]), tumbling)
                lane.window_state = {}
            # the fields AWS adds, in the order of its DynamodbTimeWindowEvent example
            event["window"] = {"start": _iso(lane.window[0]), "end": _iso(lane.window[1])}
            event["state"] = lane.window_state
            event["shardId"] = cursor.shard_id
            event["eventSourceARN"] = stream.arn
            event["isFinalInvokeForWindow"] = final
            event["isWindowTerminatedEarly"] = final and lane.window_early
        started = time.monotonic()
        if code is None:
            self._completions.put(
                Completion(
                    runner,
                    cursor,
                    lane,
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
            self._completions.put(Completion(runner, cursor, lane, result, started))
            self._wake.set()

        future.add_done_callback(done)


def _written(row: Row) -> float:
    """When a buffered record was written (its ApproximateCreationDateTime, epoch seconds)."""
    return float(row[1]["dynamodb"]["ApproximateCreationDateTime"])


def _iso(epoch: float) -> str:
    """A window boundary as AWS writes it: ``2020-07-30T17:00:00Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _buffer_cap(lanes: int, batch_size: int) -> int:
    """Records a shard with several lanes may hold read and unprocessed (a memory bound): ten
    GetRecords' worth (or ten batches, if larger) per lane, so that a lane whose batch keeps failing
    holds up the others only once that many of its own records wait behind it."""
    return lanes * 10 * max(batch_size, GET_RECORDS_MAX_RECORDS)
