"""The local Lambda service: runs DynamoDB stream event source mappings as AWS Lambda does.

Mappings are created with the ordinary Lambda API (:mod:`.responses` answers it as AWS does); this
service moves them through their states (:class:`~.models.MappingState`) and, for each enabled
mapping and each shard of its stream:

* polls the shard (every ``poll_interval_s``, 0.25 s by default: AWS's 4 polls a second), outside
  any write request, reading the stream store in this process (:mod:`.poller`);
* buffers records into a batch of at most ``BatchSize`` records and 6 MB, sent when full, when the
  batching window (counted from the first buffered record) ends, or at once with no window;
* invokes the function (synchronously, one batch per shard at a time, shards in parallel) with
  ``{"Records": [...]}`` exactly as Lambda builds it, through the function runtime;
* moves the shard's checkpoint only after the batch succeeded; a failed batch is retried, the same
  records again, until it succeeds, is discarded on record (retries exhausted, records too old) or
  its records expire (:mod:`.processor`).

Parents are processed before children (:mod:`streamkit.shards`); several mappings on one stream
are independent consumers; disabling keeps the checkpoints, enabling resumes from them.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from ...errors import InvalidParameterError, SettleTimeoutError
from ...limits import ESM_TRANSITIONAL_STATES, LAMBDA_POLLS_PER_SECOND
from .. import state
from ..dynamodbstreams.models import store_for
from .models import (
    MAPPING_LISTENERS,
    Mapping,
    MappingState,
    MappingStore,
    mapping_stores,
)
from .poller import Completion, Polling, Runner, account_region
from .processor import Processing

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
        Seconds between two polls of an idle shard; 0.25 (AWS's 4 a second) by default, down to
        :data:`FASTEST_POLL_INTERVAL_S`.
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
        self._idle = threading.Condition()
        self._tick_count = 0
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
        MAPPING_LISTENERS.append(self._wake.set)  # API changes are seen at once
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
        """Change how often idle shards are polled, in seconds (0.25 = AWS's rate)."""
        self.poll_interval_s = self.check_interval(seconds)
        self._wake.set()

    @property
    def runtime(self) -> Any:
        """The function runtime (worker processes), started on first use."""
        with self._runtime_lock:
            if self._stop.is_set():
                raise RuntimeError("the local Lambda service is closed")
            if self._runtime is None:
                from ..runtime.runtime import FunctionRuntime

                self._runtime = FunctionRuntime(endpoint_url=self.endpoint_url, region=self.region)
            return self._runtime

    def close(self) -> None:
        """Stop polling, wait for invocations under way, stop every worker. Idempotent."""
        self._stop.set()
        self._wake.set()
        MAPPING_LISTENERS[:] = [f for f in MAPPING_LISTENERS if f != self._wake.set]
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
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._tick()
                self._deliver()
            except Exception as exc:  # never let the service die silently: record and go on
                wait = self.poll_interval_s
                self.loop_error = f"{type(exc).__name__}: {exc}"
            with self._idle:
                self._tick_count += 1
                self._idle.notify_all()
            if self._wake.wait(timeout=max(0.0, wait)):
                self._wake.clear()

    def _stores(self) -> list[tuple[str, MappingStore]]:
        return [(store.region, store) for store in mapping_stores(self.account_id)]

    def _tick(self) -> float:
        """One pass over every mapping; returns how long the loop may sleep."""
        while True:
            try:
                done = self._completions.get_nowait()
            except queue.Empty:
                break
            try:
                self._finish(done)
            except Exception as exc:  # keep the batch for a retry rather than lose the loop
                done.cursor.in_flight = None
                done.cursor.last_error = f"local Lambda service: {type(exc).__name__}: {exc}"
        now = time.monotonic()
        next_due = now + self.poll_interval_s
        with state.LOCK:
            seen: set[str] = set()
            for region, store in self._stores():
                for mapping in list(store.mappings.values()):
                    seen.add(mapping.uuid)
                    runner = self._runners.get(mapping.uuid)
                    if runner is None:
                        runner = self._runners[mapping.uuid] = Runner(
                            mapping.uuid, self.account_id, region
                        )
                    try:
                        self._transition(store, mapping, runner)
                        if mapping.uuid in store.mappings and mapping.state == MappingState.ENABLED:
                            next_due = min(next_due, self._drive(mapping, runner, now))
                    except Exception as exc:  # one broken mapping must not stop the others
                        mapping.last_processing_result = (
                            f"PROBLEM: local Lambda service error: {type(exc).__name__}: {exc}"
                        )
            for uuid in set(self._runners) - seen:
                del self._runners[uuid]
        return next_due - time.monotonic()

    def _transition(self, store: MappingStore, mapping: Mapping, runner: Runner) -> None:
        """Move a mapping on from a transitional state, as the Lambda service does."""
        if mapping.state == MappingState.DELETING:
            if not any(c.in_flight for c in runner.cursors.values()):
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
            for _, store in self._stores():
                for mapping in store.mappings.values():
                    name = mapping.function_arn.rsplit(":", 1)[-1]
                    label = f"mapping {mapping.uuid} ({name} on {mapping.event_source_arn})"
                    if mapping.state in ESM_TRANSITIONAL_STATES:
                        reasons.append(f"{label} is still {mapping.state}")
                        continue
                    if mapping.state != MappingState.ENABLED:
                        continue
                    runner = self._runners.get(mapping.uuid)
                    stream_store = store_for(*account_region(mapping.event_source_arn))
                    stream = stream_store.streams.get(mapping.event_source_arn)
                    if runner is None or stream is None:
                        reasons.append(f"{label} has not been polled yet")
                        continue
                    for shard in stream.shards:
                        cursor = runner.cursors.get(shard.shard_id)
                        last = shard.sequence_numbers[-1] if shard.sequence_numbers else None
                        start = self._start_position(mapping, runner, shard)
                        done = cursor.checkpoint if cursor and cursor.checkpoint else start - 1
                        pending = 0  # records the stream still holds past the checkpoint ...
                        if last is not None and last >= start and done < last:
                            pending = len(shard.sequence_numbers) - _bisect_right(
                                shard.sequence_numbers, done
                            )
                        if cursor is not None:  # ... or read, and not yet processed or discarded
                            pending = max(pending, len(cursor.buffer))
                        if pending:
                            why = (
                                f"; last error: {cursor.last_error}"
                                if cursor and cursor.errors and cursor.last_error
                                else ""
                            )
                            reasons.append(
                                f"{label} is {pending} record(s) behind on {shard.shard_id} "
                                f"({mapping.last_processing_result}{why})"
                            )
        return reasons

    def settle(self, timeout: float = 30.0) -> None:
        """Return once every enabled mapping has processed every record of every shard.

        Raises
        ------
        SettleTimeoutError
            After ``timeout`` seconds, naming each mapping that is behind and why.
        """
        if not isinstance(timeout, int | float) or timeout < 0:
            raise InvalidParameterError("timeout", timeout, "a number of seconds >= 0")
        deadline = time.monotonic() + timeout
        while True:
            self._wake.set()
            with self._idle:  # let one full pass of the loop see the latest writes
                target = self._tick_count + 2
                while self._tick_count < target and time.monotonic() < deadline:
                    self._idle.wait(timeout=0.05)
            behind = self._behind()
            if not behind:
                return
            if time.monotonic() >= deadline:
                extra = f"; service error: {self.loop_error}" if self.loop_error else ""
                raise SettleTimeoutError(
                    f"Triggers did not catch up within {timeout:g} s: " + "; ".join(behind) + extra
                )
            time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))

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
        return pd.DataFrame(_discard_rows(self), columns=columns)

    def state(self) -> pd.DataFrame:
        """One row per mapping and shard: state, checkpoint, result, counters, iterator age."""
        rows = []
        with state.LOCK:
            for _, store in self._stores():
                for mapping in store.mappings.values():
                    runner = self._runners.get(mapping.uuid)
                    cursors = list(runner.cursors.values()) if runner else []
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
                                "in_flight": bool(cursor and cursor.in_flight),
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


def _bisect_right(values: list[int], value: int) -> int:
    import bisect

    return bisect.bisect_right(values, value)
