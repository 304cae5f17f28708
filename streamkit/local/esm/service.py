"""The local Lambda service: runs DynamoDB stream event source mappings as AWS Lambda does.

Mappings are created with the ordinary Lambda API (:mod:`.responses` answers it as AWS does); this
service moves them through their states (:class:`~.models.MappingState`) and, for each enabled
mapping and each shard of its stream:

* polls the shard on AWS's schedule (every ``poll_interval_s``, 0.25 s by default: AWS's 4 polls a
  second), outside any write request, reading the stream store in this process (:mod:`.poller`);
* buffers records into a batch of at most ``BatchSize`` records and 6 MB, sent when full, when the
  batching window (counted from the first buffered record) ends, or at once with no window;
* invokes the function (synchronously; one batch at a time per shard, or ``ParallelizationFactor``
  batches, each key's records in one of them; shards in parallel) with ``{"Records": [...]}``
  exactly as Lambda builds it (with a tumbling window's fields when the mapping has one), through
  the function runtime;
* moves the shard's checkpoint only over records that are done (processed, or discarded on
  record); a failed batch is retried, the same records again, until it succeeds, is discarded on
  record (retries exhausted, records too old) or its records expire (:mod:`.processor`).

Parents are processed before children (:mod:`streamkit.shards`); several mappings on one stream
are independent consumers; disabling keeps the checkpoints, enabling resumes from them.

The service's loop is driven by events, not by a clock: an append to a stream the service reads
(:data:`~..dynamodbstreams.models.STREAM_LISTENERS`), a change through the mapping API
(:data:`~.models.MAPPING_LISTENERS`) or a finished invocation wakes it, and it visits only the
mappings concerned. Otherwise it sleeps until the earliest time a mapping asked for (a poll of the
schedule, a batching window's end, a retry's backoff), or until woken: an idle service uses no
CPU, whatever the poll setting. Each mapping is visited under the backend's lock
(:data:`streamkit.local.state.LOCK`) on its own, so a write waits at most for one mapping's pass
(one GetRecords' worth per shard), never for all of them. :meth:`~LocalLambdaService.settle`
returns as soon as every mapping has caught up.
"""

from __future__ import annotations

import bisect
import math
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...errors import InvalidParameterError, SettleTimeoutError
from ...limits import ESM_TRANSITIONAL_STATES, LAMBDA_POLLS_PER_SECOND
from ...waiting import check_timeout
from .. import moto_compat, state
from ..dynamodbstreams.models import STREAM_LISTENERS, store_for
from .models import (
    MAPPING_LISTENERS,
    Mapping,
    MappingState,
    MappingStore,
    mapping_stores,
)
from .poller import Completion, Cursor, Polling, Runner, account_region
from .processor import Processing

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["DEFAULT_POLL_INTERVAL_S", "FASTEST_POLL_INTERVAL_S", "LocalLambdaService"]

#: AWS polls each shard 4 times a second. Unit: seconds between polls of one shard.
DEFAULT_POLL_INTERVAL_S = 1.0 / LAMBDA_POLLS_PER_SECOND
#: The fastest polling the local service allows (for tests and latency-sensitive demos), seconds.
FASTEST_POLL_INTERVAL_S = 0.001


class LocalLambdaService(Polling, Processing):
    """Runs every DynamoDB-stream event source mapping of the embedded backend.

    Parameters
    ----------
    account_id : str
    endpoint_url : str
        The embedded backend (functions call AWS there).
    region : str
        Default region of the runtime's clients.
    poll_interval_s : float
        Seconds between two polls of a shard on AWS's schedule; 0.25 (AWS's 4 a second) by
        default, down to :data:`FASTEST_POLL_INTERVAL_S`. A new record waits for the schedule's
        next poll (the latency a learner sees on AWS); the polls that would find nothing are not
        run, so an idle service costs nothing at any setting.
    max_concurrency : int
        Batches invoked at the same time, all mappings together.
    """

    def __init__(
        self,
        account_id: str,
        endpoint_url: str,
        region: str,
        *,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        max_concurrency: int = 16,
    ):
        self.account_id = account_id
        self.endpoint_url = endpoint_url
        self.region = region
        self.poll_interval_s = self.check_interval(poll_interval_s)
        self._runners: dict[str, Runner] = {}
        self._completions: queue.SimpleQueue[Completion] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        # what woke the loop (guarded by _events): every mapping, or the streams appended to
        self._events = threading.Lock()
        self._visit_all = True
        self._appended: set[str] = set()
        # rebuilt on each visit of every mapping (the mapping API's changes cause one)
        self._watched: frozenset[str] = frozenset()  # stream ARNs some mapping reads
        self._by_stream: dict[str, list[tuple[MappingStore, str]]] = {}
        self._due: dict[str, tuple[MappingStore, float]] = {}  # mapping -> when it needs a visit
        self._passes = 0  # passes of the loop
        self._passed = threading.Condition()  # notified after a pass with nothing under way
        self._quiet_passes = 0  # passes after which no invocation was under way
        self._invocations_under_way = 0  # sent, their completion not applied yet
        self.loop_error: str | None = None  # the last unexpected error of the loop, if any
        self._outbox: list[tuple[Any, ...]] = []  # failure records to deliver after a pass
        self._undelivered = 0  # failure records discarded but not yet sent (settle waits for them)
        self._boto: Any = None
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="streamkit-invoke")
        self._runtime: Any = None
        self._runtime_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._loop, name="streamkit-lambda-service", daemon=True
        )
        MAPPING_LISTENERS.append(self._mappings_changed)  # API changes are seen at once
        STREAM_LISTENERS.append(self._stream_changed)  # and writes to the streams it reads
        self._wake.set()  # a first visit of every mapping (a restarted service resumes them)
        self._thread.start()

    @staticmethod
    def check_interval(value: float) -> float:
        """``value`` if it is a valid poll interval in seconds, else InvalidParameterError."""
        if not isinstance(value, int | float) or not FASTEST_POLL_INTERVAL_S <= value <= 60:
            raise InvalidParameterError(
                "poll_interval_s", value, f"seconds between {FASTEST_POLL_INTERVAL_S} and 60"
            )
        return float(value)

    def set_poll_interval(self, seconds: float) -> None:
        """Change how often shards are polled, in seconds (0.25 = AWS's rate)."""
        self.poll_interval_s = self.check_interval(seconds)
        soon = time.monotonic() + self.poll_interval_s
        with state.LOCK:  # no poll waits longer than the new interval
            for runner in self._runners.values():
                for cursor in runner.cursors.values():
                    cursor.next_poll_at = min(cursor.next_poll_at, soon)
        self._mappings_changed()

    @property
    def passes(self) -> int:
        """How many passes the service's loop made so far (each woken by an event or a due time:
        an idle service makes none)."""
        return self._passes

    @property
    def runtime(self) -> Any:
        """The function runtime (worker processes), started on first use."""
        with self._runtime_lock:
            if self._stop.is_set():
                raise RuntimeError("the local Lambda service is closed")
            if self._runtime is None:
                from ..runtime.runtime import FunctionRuntime

                # logs are written into the embedded CloudWatch Logs in this process, before the
                # invocation ends (no HTTP round trip), so whoever reads them after settle() sees
                # every line
                logs = moto_compat.logs_client(self.account_id, self.region)
                self._runtime = FunctionRuntime(
                    endpoint_url=self.endpoint_url, region=self.region, logs_client=logs
                )
            return self._runtime

    def close(self) -> None:
        """Stop polling, wait for invocations under way, stop every worker. Idempotent."""
        self._stop.set()
        self._wake.set()
        MAPPING_LISTENERS[:] = [f for f in MAPPING_LISTENERS if f != self._mappings_changed]
        STREAM_LISTENERS[:] = [f for f in STREAM_LISTENERS if f != self._stream_changed]
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        with self._runtime_lock:  # stop the workers first: invocations under way end at once
            if self._runtime is not None:
                self._runtime.close()
                self._runtime = None
        self._executor.shutdown(wait=True, cancel_futures=True)

    def reset(self) -> None:
        """Forget every mapping's progress (after the backend was reset)."""
        with state.LOCK:
            self._runners.clear()
        self._mappings_changed()

    # -- the loop ---------------------------------------------------------------------------------

    def _mappings_changed(self) -> None:
        """Visit every mapping at once (a mapping was created, changed or deleted)."""
        with self._events:
            self._visit_all = True
        self._wake.set()

    def _stream_changed(self, stream_arn: str) -> None:
        """A record was appended to a stream (called in the write, under the backend's lock)."""
        if stream_arn in self._watched:
            with self._events:
                self._appended.add(stream_arn)
            self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            due = min((when for _, when in self._due.values()), default=math.inf)
            wait = due - time.monotonic()
            if wait > 0:  # sleep until the earliest due time, or until something happens
                self._wake.wait(None if wait == math.inf else wait)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._pass()
                self._deliver()
            except Exception as exc:  # never let the service die silently: record and go on
                self.loop_error = f"{type(exc).__name__}: {exc}"
                self._stop.wait(self.poll_interval_s)
            self._passes += 1
            if not self._invocations_under_way:  # else no mapping can have caught up yet
                with self._passed:
                    self._quiet_passes += 1
                    self._passed.notify_all()

    def _stores(self) -> list[tuple[str, MappingStore]]:
        return [(store.region, store) for store in mapping_stores(self.account_id)]

    def _pass(self) -> None:
        """Apply the finished invocations, then visit the mappings that have something to do."""
        finished: set[str] = set()
        while True:
            try:
                done = self._completions.get_nowait()
            except queue.Empty:
                break
            finished.add(done.runner.uuid)
            self._invocations_under_way -= 1
            try:
                self._finish(done)
            except Exception as exc:  # keep the batch for a retry rather than lose the loop
                with state.LOCK:
                    done.lane.in_flight = None
                    done.lane.final_in_flight = False
                    done.cursor.last_error = f"local Lambda service: {type(exc).__name__}: {exc}"
        with self._events:
            visit_all, self._visit_all = self._visit_all, False
            appended, self._appended = self._appended, set()
        now = time.monotonic()
        if visit_all:
            self._visit_every_mapping(now)
            return
        visits: dict[str, MappingStore] = {}
        for uuid, (store, when) in list(self._due.items()):
            if when <= now or uuid in finished:
                visits[uuid] = store
        for arn in appended:
            for store, uuid in self._by_stream.get(arn, ()):
                visits[uuid] = store
        for uuid in finished - set(visits):
            store = self._store_of(uuid)
            if store is not None:
                visits[uuid] = store
        for uuid, store in visits.items():
            self._visit(store, uuid, now)

    def _visit_every_mapping(self, now: float) -> None:
        """Visit every mapping, and index them by stream (what appends wake)."""
        with state.LOCK:
            everything = [
                (store, uuid, mapping.event_source_arn)
                for _, store in self._stores()
                for uuid, mapping in store.mappings.items()
            ]
            for uuid in set(self._runners) - {uuid for _, uuid, _ in everything}:
                del self._runners[uuid]
        by_stream: dict[str, list[tuple[MappingStore, str]]] = {}
        for store, uuid, arn in everything:
            by_stream.setdefault(arn, []).append((store, uuid))
        self._by_stream = by_stream
        self._watched = frozenset(by_stream)
        for store, uuid, _ in everything:
            self._visit(store, uuid, now)
        for uuid in set(self._due) - {uuid for _, uuid, _ in everything}:
            self._due.pop(uuid, None)

    def _store_of(self, uuid: str) -> MappingStore | None:
        for _, store in self._stores():
            if uuid in store.mappings:
                return store
        return None

    def _visit(self, store: MappingStore, uuid: str, now: float) -> None:
        """Move one mapping on (its state, its shards), holding the lock for this mapping only."""
        due = math.inf
        with state.LOCK:
            mapping = store.mappings.get(uuid)
            if mapping is None:
                self._due.pop(uuid, None)
                return
            runner = self._runners.get(uuid)
            if runner is None:
                runner = self._runners[uuid] = Runner(uuid, self.account_id, store.region)
            try:
                self._transition(store, mapping, runner)
                if uuid in store.mappings and mapping.state == MappingState.ENABLED:
                    due = self._drive(mapping, runner, now)
            except Exception as exc:  # one broken mapping must not stop the others
                mapping.last_processing_result = (
                    f"PROBLEM: local Lambda service error: {type(exc).__name__}: {exc}"
                )
                due = now + self.poll_interval_s
        if due == math.inf:
            self._due.pop(uuid, None)
        else:
            self._due[uuid] = (store, due)

    def _transition(self, store: MappingStore, mapping: Mapping, runner: Runner) -> None:
        """Move a mapping on from a transitional state, as the Lambda service does."""
        if mapping.state == MappingState.DELETING:
            if not any(c.busy for c in runner.cursors.values()):
                del store.mappings[mapping.uuid]
            return
        if mapping.state in (MappingState.CREATING, MappingState.ENABLING, MappingState.UPDATING):
            mapping.state = MappingState.ENABLED if mapping.enabled else MappingState.DISABLED
            mapping.state_transition_reason = "User action"
        elif mapping.state == MappingState.DISABLING:
            mapping.state = MappingState.DISABLED
        if mapping.state == MappingState.ENABLED and mapping.enabled_at_sequence is None:
            stream_store = store_for(*account_region(mapping.event_source_arn))
            mapping.enabled_at_sequence = stream_store.next_sequence()
        runner.enabled_at_sequence = mapping.enabled_at_sequence

    # -- settle and state -------------------------------------------------------------------------

    def _behind(self) -> list[str]:
        """Why each enabled mapping is not caught up yet (empty when all are)."""
        reasons = []
        if self._undelivered:
            reasons.append(
                f"{self._undelivered} failure record(s) not yet sent to their destination"
            )
        with state.LOCK:
            everything = [
                (store, uuid) for _, store in self._stores() for uuid in list(store.mappings)
            ]
        for store, uuid in everything:
            with state.LOCK:  # one mapping at a time: writes wait for no more than that
                mapping = store.mappings.get(uuid)
                if mapping is not None:
                    reasons.extend(self._mapping_behind(mapping))
        return reasons

    def _mapping_behind(self, mapping: Mapping) -> list[str]:
        name = mapping.function_arn.rsplit(":", 1)[-1]
        label = f"mapping {mapping.uuid} ({name} on {mapping.event_source_arn})"
        if mapping.state in ESM_TRANSITIONAL_STATES:
            return [f"{label} is still {mapping.state}"]
        if mapping.state != MappingState.ENABLED:
            return []
        runner = self._runners.get(mapping.uuid)
        stream_store = store_for(*account_region(mapping.event_source_arn))
        stream = stream_store.streams.get(mapping.event_source_arn)
        if runner is None or stream is None:
            return [f"{label} has not been polled yet"]
        reasons = []
        for shard in stream.shards:
            cursor = runner.cursors.get(shard.shard_id)
            last = shard.sequence_numbers[-1] if shard.sequence_numbers else None
            start = self._start_position(mapping, runner, shard)
            done = cursor.checkpoint if cursor and cursor.checkpoint else start - 1
            pending = 0  # records the stream still holds past the checkpoint ...
            if last is not None and last >= start and done < last:
                pending = len(shard.sequence_numbers) - bisect.bisect_right(
                    shard.sequence_numbers, done
                )
            if cursor is not None:  # ... or read, and not yet processed or discarded
                pending = max(pending, cursor.buffered)
            windows = sorted(
                {lane.window for lane in cursor.lanes if lane.window} if cursor else ()
            )
            waiting = (
                "waiting for the final invocation of the tumbling window ending "
                + ", ".join(_iso(end) for _, end in windows)
                if windows
                else ""
            )
            if pending:  # (notebooks print this: only what is the same on every run)
                why = (
                    f"; last error: {cursor.last_error}"
                    if cursor and cursor.errors and cursor.last_error
                    else ""
                )
                if waiting:  # its records are checkpointed by the window's final invocation
                    why += "; " + waiting
                reasons.append(
                    f"{label} is {pending} record(s) behind on {shard.shard_id} "
                    f"({mapping.last_processing_result}{why})"
                )
            elif waiting:  # an open window whose records were all discarded still ends
                reasons.append(f"{label} is {waiting} on {shard.shard_id}")
        return reasons

    def settle(self, timeout: float = 30.0) -> None:
        """Return once every enabled mapping has processed every record of every shard.

        Returns at once when every mapping has caught up; otherwise as soon as the last one does
        (checked after each pass of the service's loop that leaves no invocation under way).

        Parameters
        ----------
        timeout : float
            Seconds to wait at the most.

        Raises
        ------
        SettleTimeoutError
            After ``timeout`` seconds, naming each mapping that is behind (or still in a
            transitional state), by how many records, on which shard, its last processing result
            and its last error.
        """
        check_timeout("timeout", timeout)  # NaN, infinities and negative values are refused
        deadline = time.monotonic() + timeout
        # one visit of every mapping: a clock moved by a test, retention and record ages are seen
        self._mappings_changed()
        while True:
            with self._passed:
                passes = self._quiet_passes
            behind = self._behind()
            if not behind:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                extra = f"; service error: {self.loop_error}" if self.loop_error else ""
                raise SettleTimeoutError(
                    f"Triggers did not catch up within {timeout:g} s: " + "; ".join(behind) + extra
                )
            # until the loop's next pass with no invocation under way (each may catch up)
            with self._passed:
                if self._quiet_passes == passes:
                    self._passed.wait(min(remaining, 1.0))

    def discards(self) -> pd.DataFrame:
        """Every batch the service gave up on (latest 100 per shard): mapping, shard, condition,
        records, sequence numbers, invoke count, destination and whether it was delivered."""
        columns = [
            "uuid",
            "shard",
            "condition",
            "records",
            "first_sequence_number",
            "last_sequence_number",
            "approximate_invoke_count",
            "destination",
            "delivered",
        ]
        import pandas as pd

        return pd.DataFrame(_discard_rows(self), columns=columns)

    def state(self) -> pd.DataFrame:
        """One row per mapping and shard: state, checkpoint, result, counters, iterator age."""
        import pandas as pd

        rows = []
        with state.LOCK:
            for _, store in self._stores():
                for mapping in store.mappings.values():
                    runner = self._runners.get(mapping.uuid)
                    cursors: list[Cursor | None] = list(runner.cursors.values()) if runner else []
                    for cursor in cursors or [None]:
                        rows.append(
                            {
                                "uuid": mapping.uuid,
                                "function": mapping.function_arn.rsplit(":", 1)[-1],
                                "state": mapping.state,
                                "shard": cursor.shard_id if cursor else None,
                                "checkpoint": str(cursor.checkpoint)
                                if cursor and cursor.checkpoint
                                else None,
                                "last_processing_result": mapping.last_processing_result,
                                "batches": cursor.batches if cursor else 0,
                                "records": cursor.records if cursor else 0,
                                "invocations": cursor.invocations if cursor else 0,
                                "errors": cursor.errors if cursor else 0,
                                "discarded": cursor.discarded if cursor else 0,
                                "filtered_out": cursor.filtered_out if cursor else 0,
                                "in_flight": bool(cursor and cursor.busy),
                                "iterator_age_ms": cursor.iterator_age_ms if cursor else None,
                                "last_error": cursor.last_error if cursor else None,
                            }
                        )
        return pd.DataFrame(
            rows,
            columns=[
                "uuid",
                "function",
                "state",
                "shard",
                "checkpoint",
                "last_processing_result",
                "batches",
                "records",
                "invocations",
                "errors",
                "discarded",
                "filtered_out",
                "in_flight",
                "iterator_age_ms",
                "last_error",
            ],
        )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _discard_rows(service: LocalLambdaService) -> list[dict[str, Any]]:
    rows = []
    with state.LOCK:
        for _, store in service._stores():
            for mapping in store.mappings.values():
                runner = service._runners.get(mapping.uuid)
                for cursor in runner.cursors.values() if runner else []:
                    for entry in cursor.discards:
                        rows.append({"uuid": mapping.uuid, "shard": cursor.shard_id, **entry})
    return rows
