"""The local Lambda service: runs DynamoDB stream event source mappings as AWS Lambda does.

Mappings are created with the ordinary Lambda API (the fidelity layer answers it as AWS does); this
service moves them through their states and, for each enabled mapping and each shard of its stream:

* polls the shard (every ``poll_interval_s``, 0.25 s by default: AWS's 4 polls a second), outside
  any write request, reading the stream store in this process;
* buffers records into a batch of at most ``BatchSize`` records and 6 MB, sent when full, when the
  batching window (counted from the first buffered record) ends, or at once with no window;
* invokes the function (synchronously, one batch per shard at a time, shards in parallel) with
  ``{"Records": [...]}`` exactly as Lambda builds it, through :class:`~.runtime.FunctionRuntime`;
* moves the shard's checkpoint only after the batch succeeded; a failed batch is retried, the same
  records again, until it succeeds or its records expire (the AWS default: nothing is lost).

Parents are processed before children; several mappings on one stream are independent consumers;
disabling keeps the checkpoints, enabling resumes from them.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ..errors import InvalidParameterError, SettleTimeoutError
from ..filters import matches_any
from ..limits import (
    GET_RECORDS_MAX_BYTES,
    GET_RECORDS_MAX_RECORDS,
    LAMBDA_PAYLOAD_MAX_BYTES,
    LAMBDA_POLLS_PER_SECOND,
)
from . import fidelity

__all__ = ["LocalLambdaService", "DEFAULT_POLL_INTERVAL_S", "FASTEST_POLL_INTERVAL_S"]

#: AWS polls each shard 4 times a second. Unit: seconds between polls of one shard.
DEFAULT_POLL_INTERVAL_S = 1.0 / LAMBDA_POLLS_PER_SECOND
#: The fastest polling the local service allows (for tests and latency-sensitive demos), seconds.
FASTEST_POLL_INTERVAL_S = 0.001

_REPORT = "ReportBatchItemFailures"
_RETRY_BACKOFF_S = (0.1, 5.0)  # first and longest pause before a failed batch is retried
_TRANSITIONAL = ("Creating", "Enabling", "Updating", "Disabling", "Deleting")


def partial_batch_verdict(payload: Any, sequence_numbers: list[int]) -> int | None:
    """What a function's answer means with ``ReportBatchItemFailures`` on (AWS's matrix).

    Returns ``None`` when the whole batch succeeded (no answer, an empty answer, a null or empty
    ``batchItemFailures``), the lowest failed sequence number (the batch is retried from there),
    or ``-1`` when the whole batch failed (an ``itemIdentifier`` that is empty, null, missing under
    another key name, or not a record of the batch).
    Source: Lambda Developer Guide, "Implementing partial batch responses" (AWS-FACTS §2.3).
    """
    if not isinstance(payload, dict):
        return None  # no EventResponse (null, or not an object): a complete success
    failures = payload.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return -1
    failed = []
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or not identifier.isdigit():
            return -1
        if int(identifier) not in sequence_numbers:
            return -1
        failed.append(int(identifier))
    return min(failed)


def _describe_failure(result: Any) -> tuple[str, str]:
    """(what went wrong, LastProcessingResult) of a failed invocation."""
    if isinstance(result, _PartialFailure):
        return str(result), "PROBLEM: Function call failed"
    if isinstance(result, LookupError):
        return f"{type(result).__name__}: {result}", "PROBLEM: Function not found"
    if isinstance(result, BaseException):
        return f"{type(result).__name__}: {result}", "PROBLEM: Function call failed"
    payload = getattr(result, "payload", None) or {}
    if isinstance(payload, dict):
        error = f"{payload.get('errorType', 'Error')}: {payload.get('errorMessage', '')}"
    else:
        error = str(payload)
    return error, "PROBLEM: Function call failed"


def _iso(epoch: float, milliseconds: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    if milliseconds:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    unhandled: bool,
    shard_id: str,
    stream_arn: str,
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    """The message Lambda sends to an on-failure destination for a discarded batch.

    Shape and field order of AWS's example (``fixtures/aws-events/lambda-on-failure-record.json``,
    AWS-FACTS §2.4). ``condition`` is ``RetryAttemptsExhausted`` or ``RecordAgeExceeded`` (the
    latter seen in real S3 failure objects and other emulators; UNCONFIRMED by an AWS page).
    """
    first = records[0]["dynamodb"]
    last = records[-1]["dynamodb"]
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if unhandled:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(fidelity.now(), milliseconds=True),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"]),
            "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def send_failure_record(
    session: Any,
    endpoint_url: str,
    destination: str,
    message: dict[str, Any],
    event: dict[str, Any],
    mapping_id: str,
    shard_id: str,
) -> None:
    """Deliver a failure record: SQS and SNS get the message; S3 gets it with the payload, under
    ``aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`` (the key layout
    AWS documents for stream sources' S3 destinations; UNCONFIRMED for DynamoDB)."""
    import json

    service, region = destination.split(":")[2], destination.split(":")[3]
    body = json.dumps(message)
    if service == "sqs":
        sqs = session.client("sqs", region_name=region, endpoint_url=endpoint_url)
        name, account = destination.split(":")[5], destination.split(":")[4]
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body)
    elif service == "sns":
        session.client("sns", region_name=region, endpoint_url=endpoint_url).publish(
            TopicArn=destination, Message=body
        )
    elif service == "s3":
        now = datetime.fromtimestamp(fidelity.now(), UTC)
        key = (
            f"aws/lambda/{mapping_id}/{shard_id}/{now:%Y/%m/%d}/"
            f"{now:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"
        )
        bucket = destination.split(":")[5]
        session.client("s3", region_name=region or None, endpoint_url=endpoint_url).put_object(
            Bucket=bucket, Key=key, Body=json.dumps({**message, "payload": event}).encode()
        )
    else:
        raise ValueError(f"not an SQS queue, SNS topic or S3 bucket ARN: {destination}")


class _PartialFailure(Exception):
    """The function reported failed records (``batchItemFailures``)."""

    def __init__(self, verdict: int, done: int):
        self.verdict = verdict
        if verdict < 0:
            message = "the function reported batchItemFailures AWS reads as a whole-batch failure"
        else:
            message = (
                f"the function reported record {verdict} failed: {done} record(s) before it "
                "were checkpointed, the rest is retried"
            )
        super().__init__(message)


@dataclass
class _Cursor:
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
class _Runner:
    """What the service keeps for one mapping."""

    uuid: str
    account_id: str
    region: str
    enabled_at_sequence: int | None = None  # LATEST: where the mapping started reading
    cursors: dict[str, _Cursor] = field(default_factory=dict)


@dataclass
class _Completion:
    runner: _Runner
    cursor: _Cursor
    result: Any  # InvocationResult, or an exception raised before the function ran
    started: float


class LocalLambdaService:
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
        self._runners: dict[str, _Runner] = {}
        self._completions: queue.SimpleQueue[_Completion] = queue.SimpleQueue()
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
        fidelity.MAPPING_LISTENERS.append(self._wake.set)  # API changes are seen at once
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
                from .runtime import FunctionRuntime

                self._runtime = FunctionRuntime(endpoint_url=self.endpoint_url, region=self.region)
            return self._runtime

    def close(self) -> None:
        """Stop polling, wait for invocations under way, stop every worker. Idempotent."""
        self._stop.set()
        self._wake.set()
        fidelity.MAPPING_LISTENERS[:] = [
            f for f in fidelity.MAPPING_LISTENERS if f != self._wake.set
        ]
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        with self._runtime_lock:  # stop the workers first: invocations under way end at once
            if self._runtime is not None:
                self._runtime.close()
                self._runtime = None
        self._executor.shutdown(wait=True, cancel_futures=True)

    def reset(self) -> None:
        """Forget every mapping's progress (after the backend was reset)."""
        with fidelity._LOCK:
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

    def _stores(self) -> list[tuple[str, fidelity.MappingStore]]:
        from moto.awslambda.models import lambda_backends

        regions = list(lambda_backends[self.account_id].keys())
        return [(r, fidelity.mapping_store_for(self.account_id, r)) for r in regions]

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
        with fidelity._LOCK:
            seen: set[str] = set()
            for region, store in self._stores():
                for mapping in list(store.mappings.values()):
                    seen.add(mapping.uuid)
                    runner = self._runners.get(mapping.uuid)
                    if runner is None:
                        runner = self._runners[mapping.uuid] = _Runner(
                            mapping.uuid, self.account_id, region
                        )
                    try:
                        self._transition(store, mapping, runner)
                        if mapping.uuid in store.mappings and mapping.state == "Enabled":
                            next_due = min(next_due, self._drive(mapping, runner, now))
                    except Exception as exc:  # one broken mapping must not stop the others
                        mapping.last_processing_result = (
                            f"PROBLEM: local Lambda service error: {type(exc).__name__}: {exc}"
                        )
            for uuid in set(self._runners) - seen:
                del self._runners[uuid]
        return next_due - time.monotonic()

    def _transition(
        self, store: fidelity.MappingStore, mapping: fidelity.Mapping, runner: _Runner
    ) -> None:
        if mapping.state == "Deleting":
            if not any(c.in_flight for c in runner.cursors.values()):
                del store.mappings[mapping.uuid]
            return
        if mapping.state in ("Creating", "Enabling", "Updating"):
            mapping.state = "Enabled" if mapping.enabled else "Disabled"
            mapping.state_transition_reason = "User action"
        elif mapping.state == "Disabling":
            mapping.state = "Disabled"
        if mapping.state == "Enabled" and mapping.enabled_at_sequence is None:
            stream_store = fidelity.store_for(*self._account_region(mapping.event_source_arn))
            mapping.enabled_at_sequence = stream_store.next_sequence()
        runner.enabled_at_sequence = mapping.enabled_at_sequence

    @staticmethod
    def _account_region(stream_arn: str) -> tuple[str, str]:
        parts = stream_arn.split(":")
        return parts[4], parts[3]

    def _drive(self, mapping: fidelity.Mapping, runner: _Runner, now: float) -> float:
        """Poll, batch and invoke for every shard of one enabled mapping; returns its next due time."""
        store = fidelity.store_for(*self._account_region(mapping.event_source_arn))
        stream = store.streams.get(mapping.event_source_arn)
        next_due = now + self.poll_interval_s
        if stream is None:
            mapping.last_processing_result = "PROBLEM: Stream not found"
            return next_due
        finished = {sid for sid, c in runner.cursors.items() if c.finished}
        known = {s.shard_id for s in stream.shards}
        for shard in stream.shards:
            cursor = runner.cursors.get(shard.shard_id)
            if cursor is None:
                if shard.parent_shard_id in known and shard.parent_shard_id not in finished:
                    continue  # parents (and theirs) first
                shard.trim(fidelity.now())
                start = self._start_position(mapping, runner, shard)
                saved = mapping.checkpoints.get(shard.shard_id)
                if saved is not None:  # a restarted service resumes where the last one stopped
                    start = saved + 1
                start = max(start, shard.trimmed_through + 1)
                cursor = runner.cursors[shard.shard_id] = _Cursor(shard.shard_id, start, saved)
            if cursor.finished:
                continue
            next_due = min(next_due, self._drive_shard(mapping, stream, shard, cursor, runner, now))
        return next_due

    @staticmethod
    def _start_position(mapping: fidelity.Mapping, runner: _Runner, shard: fidelity.Shard) -> int:
        if (
            mapping.settings["StartingPosition"] == "LATEST"
            and runner.enabled_at_sequence is not None
        ):
            return max(shard.starting_sequence_number, runner.enabled_at_sequence)
        return shard.starting_sequence_number

    def _drive_shard(
        self,
        mapping: fidelity.Mapping,
        stream: fidelity.Stream,
        shard: fidelity.Shard,
        cursor: _Cursor,
        runner: _Runner,
        now: float,
    ) -> float:
        if cursor.in_flight is not None:
            return now + self.poll_interval_s
        settings = mapping.settings
        batch_size = int(settings["BatchSize"])
        window = float(settings["MaximumBatchingWindowInSeconds"])
        store = fidelity.store_for(*self._account_region(stream.arn))
        shard.trim(fidelity.now())  # retention runs whether or not we poll
        if cursor.retry_at > now and cursor.segments:
            return cursor.retry_at
        # poll
        if now >= cursor.next_poll_at and len(cursor.buffer) < batch_size:
            if cursor.position <= shard.trimmed_through:  # expired before it was read
                cursor.position = shard.trimmed_through + 1
                if not cursor.buffer and not cursor.segments:
                    self._checkpoint(mapping, cursor, shard.trimmed_through)
                cursor.last_error = "records expired (24 h retention) before they were read"
            wanted = GET_RECORDS_MAX_RECORDS
            if not mapping.filters:  # without filters, read no more than the batch can take
                wanted = min(wanted, batch_size - len(cursor.buffer))
            rows = store.read_shard(shard, cursor.position, wanted)
            rows = _within_bytes(rows, GET_RECORDS_MAX_BYTES)  # one poll = one GetRecords' worth
            read_any = bool(rows)
            if rows:
                cursor.position = rows[-1][0] + 1
                cursor.read_through = rows[-1][0]
                filters = mapping.filters
                if (
                    filters
                ):  # checked before a record joins a batch; misses are skipped, not retried
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
            more_waiting = read_any and store.read_shard(shard, cursor.position, 1) != []
            if more_waiting:
                cursor.next_poll_at = now  # behind: poll again at once
        # discard, on record, what expired while waiting (retention, MaximumRecordAgeInSeconds)
        expired = sum(1 for row in cursor.buffer if row[0] <= shard.trimmed_through)
        if expired:
            cursor.expired += expired
            self._discard(mapping, stream, cursor, expired, "RecordAgeExceeded")
        age_limit = int(settings["MaximumRecordAgeInSeconds"])
        if age_limit >= 0 and cursor.buffer:
            epoch = fidelity.now()
            too_old = 0
            for _, record, _, _ in cursor.buffer:
                if epoch - record["dynamodb"]["ApproximateCreationDateTime"] <= age_limit:
                    break
                too_old += 1
            if too_old:
                self._discard(mapping, stream, cursor, too_old, "RecordAgeExceeded")
        # send: a failed batch again, exactly as it was; else what the batching rules allow
        if cursor.segments:
            self._send(mapping, stream, cursor, runner, cursor.segments[0])
            return now + self.poll_interval_s
        if cursor.buffer:
            full = len(cursor.buffer) >= batch_size
            window_over = (
                cursor.first_buffered_at is not None and now - cursor.first_buffered_at >= window
            )
            if full or window == 0 or window_over or self._payload_full(cursor.buffer, stream.arn):
                self._send(mapping, stream, cursor, runner, batch_size)
                return now + self.poll_interval_s
            return min(cursor.next_poll_at, (cursor.first_buffered_at or now) + window)
        # a closed shard read and processed to its end lets its children start
        if not shard.is_open and not store.read_shard(shard, cursor.position, 1):
            self._skip_filtered(mapping, cursor)
            cursor.finished = True
        return cursor.next_poll_at

    @staticmethod
    def _payload_full(rows: list[tuple[int, dict[str, Any], str, float]], stream_arn: str) -> bool:
        extra = len(',"eventSourceARN":""') + len(stream_arn) + 1
        return sum(len(enc) + extra for _, _, enc, _ in rows) + 20 > LAMBDA_PAYLOAD_MAX_BYTES

    def _send(
        self,
        mapping: fidelity.Mapping,
        stream: fidelity.Stream,
        cursor: _Cursor,
        runner: _Runner,
        batch_size: int,
    ) -> None:
        extra = len(',"eventSourceARN":""') + len(stream.arn) + 1
        size = len('{"Records":[]}')
        batch = []
        for row in cursor.buffer[:batch_size]:
            size += len(row[2]) + extra
            if batch and size > LAMBDA_PAYLOAD_MAX_BYTES:
                break
            batch.append(row)
        cursor.in_flight = batch
        code = fidelity.function_code(runner.account_id, runner.region, mapping.function_arn)
        event = {"Records": [{**rec, "eventSourceARN": stream.arn} for _, rec, _, _ in batch]}
        started = time.monotonic()
        if code is None:
            self._completions.put(
                _Completion(
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
            self._completions.put(_Completion(runner, cursor, result, started))
            self._wake.set()

        future.add_done_callback(done)

    def _invoke(self, code: dict[str, Any], runner: _Runner, event: dict[str, Any]) -> Any:
        from .runtime import FunctionSpec

        spec = FunctionSpec(
            name=code["name"],
            arn=code["arn"],
            handler=code["handler"],
            runtime=code["runtime"],
            timeout_s=code["timeout_s"],
            memory_mb=code["memory_mb"],
            environment=code["environment"],
            code=code["code"],
            code_sha256=code["code_sha256"],
            region=runner.region,
            account_id=runner.account_id,
        )
        return self.runtime.invoke(spec, event)

    def _finish(self, done: _Completion) -> None:
        cursor, result = done.cursor, done.result
        with fidelity._LOCK:
            store = None
            for _, mappings in self._stores():
                if done.runner.uuid in mappings.mappings:
                    store = mappings
            mapping = store.mappings.get(done.runner.uuid) if store else None
            batch = cursor.in_flight or []
            cursor.in_flight = None
            cursor.invocations += 1
            ok = getattr(result, "ok", False)
            cursor.last_request_id = getattr(result, "request_id", None) or cursor.last_request_id
            processed = len(batch) if ok else 0  # records of the batch that are done
            verdict = None
            if ok and mapping is not None and _REPORT in mapping.settings["FunctionResponseTypes"]:
                verdict = partial_batch_verdict(result.payload, [row[0] for row in batch])
                if verdict is not None:  # retry from the lowest failed record (all on -1)
                    processed = sum(1 for row in batch if row[0] < verdict) if verdict >= 0 else 0
                    ok, result = False, _PartialFailure(verdict, processed)
            rest = cursor.segments[1:] if cursor.segments else []
            if processed:
                cursor.records += processed
                self._checkpoint(mapping, cursor, batch[processed - 1][0])
                del cursor.buffer[:processed]
                cursor.first_buffered_at = cursor.buffer[0][3] if cursor.buffer else None
            if ok:
                if not cursor.buffer and not rest and cursor.read_through is not None:
                    self._checkpoint(mapping, cursor, max(batch[-1][0], cursor.read_through))
                cursor.segments = rest
                cursor.attempts = 0
                cursor.batches += 1
                cursor.failures_in_a_row = 0
                cursor.retry_at = 0.0
                # IteratorAge: how old the batch's last record was when processing finished
                newest = batch[-1][1]["dynamodb"]["ApproximateCreationDateTime"]
                cursor.iterator_age_ms = max(0.0, (fidelity.now() - newest) * 1000)
                if mapping is not None:
                    mapping.last_processing_result = "OK"
                return
            cursor.errors += 1
            cursor.failures_in_a_row += 1
            failed = len(batch) - processed
            settings = mapping.settings if mapping is not None else {}
            reached_function = not isinstance(result, BaseException) or isinstance(
                result, _PartialFailure
            )
            low, high = _RETRY_BACKOFF_S
            cursor.retry_at = time.monotonic() + min(
                high, low * 2 ** min(cursor.failures_in_a_row - 1, 16)
            )
            cursor.last_error, problem = _describe_failure(result)
            if mapping is not None:
                mapping.last_processing_result = problem
            if not reached_function:
                # AWS: errors before the function runs (function missing, service trouble) are
                # retried until the records expire or pass their maximum age; they use no retries
                cursor.segments = [failed, *rest]
                return
            cursor.attempts += 1
            cursor.last_failure_unhandled = not isinstance(result, _PartialFailure)
            if isinstance(result, _PartialFailure) and verdict is not None and verdict >= 0:
                cursor.segments = [failed, *rest]  # split at the reported record
            elif settings.get("BisectBatchOnFunctionError") and failed > 1:
                half = failed // 2  # splitting does not count towards the retry quota
                cursor.segments = [half, failed - half, *rest]
                cursor.attempts = 0
            else:
                cursor.segments = [failed, *rest]
            if mapping is not None:
                retries = int(settings.get("MaximumRetryAttempts", -1))
                if retries >= 0 and cursor.attempts > retries:
                    stream = fidelity.store_for(
                        *self._account_region(mapping.event_source_arn)
                    ).streams.get(mapping.event_source_arn)
                    if stream is not None:
                        self._discard(
                            mapping, stream, cursor, cursor.segments[0], "RetryAttemptsExhausted"
                        )
                        cursor.retry_at = 0.0

    def _checkpoint(self, mapping: fidelity.Mapping | None, cursor: _Cursor, sequence: int) -> None:
        """Move a shard's checkpoint (kept on the mapping, so a restarted service resumes there)."""
        cursor.checkpoint = sequence
        if mapping is not None:
            mapping.checkpoints[cursor.shard_id] = sequence

    def _skip_filtered(self, mapping: fidelity.Mapping, cursor: _Cursor) -> None:
        """With nothing pending, checkpoint past what was read and filtered out (AWS: "the streams
        iterator advances past this record")."""
        if cursor.buffer or cursor.segments or cursor.in_flight or cursor.read_through is None:
            return
        if cursor.checkpoint is None or cursor.checkpoint < cursor.read_through:
            self._checkpoint(mapping, cursor, cursor.read_through)

    def _discard(
        self,
        mapping: fidelity.Mapping,
        stream: fidelity.Stream,
        cursor: _Cursor,
        count: int,
        condition: str,
    ) -> None:
        """Give up on the first ``count`` buffered records, on record: checkpoint past them, keep
        an entry in the mapping's state and send AWS's failure record to the on-failure
        destination."""
        rows = cursor.buffer[:count]
        if not rows:
            return
        invoke_count = cursor.attempts
        del cursor.buffer[:count]
        self._checkpoint(mapping, cursor, rows[-1][0])
        cursor.first_buffered_at = cursor.buffer[0][3] if cursor.buffer else None
        left = count
        while left and cursor.segments:  # the discarded records leave the failed batches too
            taken = min(left, cursor.segments[0])
            cursor.segments[0] -= taken
            left -= taken
            if cursor.segments[0] == 0:
                cursor.segments.pop(0)
                cursor.attempts = 0
        cursor.discarded += len(rows)
        cursor.failures_in_a_row = 0  # the shard moves on
        destination = (
            (mapping.settings.get("DestinationConfig") or {}).get("OnFailure") or {}
        ).get("Destination")
        message = failure_record(
            request_id=(cursor.last_request_id if invoke_count else None) or str(uuid.uuid4()),
            function_arn=mapping.function_arn,
            condition=condition,
            invoke_count=invoke_count,
            unhandled=cursor.last_failure_unhandled,
            shard_id=cursor.shard_id,
            stream_arn=stream.arn,
            records=[row[1] for row in rows],
        )
        entry = {
            "condition": condition,
            "records": len(rows),
            "first_sequence_number": str(rows[0][0]),
            "last_sequence_number": str(rows[-1][0]),
            "approximate_invoke_count": invoke_count,
            "destination": destination,
            "delivered": None,
        }
        cursor.discards.append(entry)
        del cursor.discards[:-100]
        if destination:
            event = {"Records": [{**row[1], "eventSourceARN": stream.arn} for row in rows]}
            self._outbox.append((destination, message, event, entry, mapping.uuid, cursor.shard_id))
            self._undelivered += 1
        self._skip_filtered(mapping, cursor)

    def _deliver(self) -> None:
        """Send the failure records the last pass produced (outside the backend's lock)."""
        while self._outbox:
            destination, message, event, entry, mapping_id, shard_id = self._outbox.pop(0)
            try:
                send_failure_record(
                    self._session(),
                    self.endpoint_url,
                    destination,
                    message,
                    event,
                    mapping_id,
                    shard_id,
                )
                entry["delivered"] = True
            except Exception as exc:  # recorded on the discard, never lost silently
                entry["delivered"] = False
                entry["delivery_error"] = f"{type(exc).__name__}: {exc}"
                self.loop_error = f"on-failure destination {destination}: {entry['delivery_error']}"
            finally:
                self._undelivered -= 1

    def _session(self) -> Any:
        import boto3

        if self._boto is None:
            self._boto = boto3.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name=self.region,
            )
        return self._boto

    # -- settle and state -------------------------------------------------------------------------

    def _behind(self) -> list[str]:
        """Why each enabled mapping is not caught up yet (empty when all are)."""
        reasons = []
        if self._undelivered:
            reasons.append(
                f"{self._undelivered} failure record(s) not yet sent to their destination"
            )
        with fidelity._LOCK:
            for _, store in self._stores():
                for mapping in store.mappings.values():
                    name = mapping.function_arn.rsplit(":", 1)[-1]
                    label = f"mapping {mapping.uuid} ({name} on {mapping.event_source_arn})"
                    if mapping.state in _TRANSITIONAL:
                        reasons.append(f"{label} is still {mapping.state}")
                        continue
                    if mapping.state != "Enabled":
                        continue
                    runner = self._runners.get(mapping.uuid)
                    stream_store = fidelity.store_for(
                        *self._account_region(mapping.event_source_arn)
                    )
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
        with fidelity._LOCK:
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


def _within_bytes(
    rows: list[tuple[int, dict[str, Any], str]], limit: int
) -> list[tuple[int, dict[str, Any], str]]:
    """The leading rows whose SizeBytes fit in ``limit`` (at least one)."""
    total = 0
    for index, (_, record, _) in enumerate(rows):
        total += record["dynamodb"]["SizeBytes"]
        if index and total > limit:
            return rows[:index]
    return rows


def _discard_rows(service: LocalLambdaService) -> list[dict[str, Any]]:
    rows = []
    with fidelity._LOCK:
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
