"""What happens to a batch once the function answered: checkpoint, retry, bisect or discard.

The pure rules first: :func:`partial_batch_verdict` reads a function's ``batchItemFailures`` with
AWS's success/failure matrix; :func:`failure_record` builds the message Lambda sends to an
on-failure destination and :func:`send_failure_record` delivers it (SQS, SNS, S3). Then
:class:`Processing`, part of the local Lambda service: a succeeded batch moves the shard's
checkpoint; a failed one is retried exactly as it was, split at the reported record or bisected,
until ``MaximumRetryAttempts`` discards it on record (checkpoint past it, failure record sent).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...errors import InvalidParameterError
from ...limits import ESM_WINDOW_STATE_MAX_BYTES
from .. import state
from ..dynamodbstreams.models import Stream, store_for
from . import journal
from .models import Mapping, MappingStore
from .poller import Completion, Cursor, Lane, Runner, account_region

__all__ = [
    "MissingWindowState",
    "PartialFailure",
    "Processing",
    "describe_failure",
    "failure_record",
    "partial_batch_verdict",
    "send_failure_record",
]

_REPORT = "ReportBatchItemFailures"
_RETRY_BACKOFF_S = (0.1, 5.0)  # first and longest pause before a failed batch is retried


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


def describe_failure(result: Any) -> tuple[str, str]:
    """(what went wrong, LastProcessingResult) of a failed invocation."""
    if isinstance(result, PartialFailure | MissingWindowState):
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


def init_failure(error: Exception) -> Any:
    """An environment that cannot even start (a runtime it cannot run, a package it cannot unzip)
    as the invocation error AWS reports for an environment whose program cannot start
    (``Runtime.InvalidEntrypoint``, see :mod:`..runtime.launchers`): a function error, so it uses
    the mapping's retries and on-failure destination and never blocks the shard for longer."""
    from ..runtime.invocation import UNHANDLED, InvocationResult

    request_id = str(uuid.uuid4())
    payload = {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {request_id} Error: {error}",
    }
    return InvocationResult(request_id, False, payload, UNHANDLED, 0.0, 1, None, True, 0)


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
    response["functionError"] = "Unhandled" if unhandled else None  # null: partial batch response
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(state.now(), milliseconds=True),
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
        now = datetime.fromtimestamp(state.now(), UTC)
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


def _backoff(failures_in_a_row: int) -> float:
    """When (``time.monotonic()``) a failed batch is retried: exponential, from 0.1 s to 5 s."""
    low, high = _RETRY_BACKOFF_S
    return time.monotonic() + min(high, low * 2 ** min(failures_in_a_row - 1, 16))


class MissingWindowState(Exception):
    """With a tumbling window, the function's answer had no ``state`` (a failed invocation)."""

    def __init__(self) -> None:
        super().__init__(
            'the function\'s answer has no "state": with a tumbling window Lambda counts that as '
            'a failed invocation (return {"state": {...}})'
        )


class PartialFailure(Exception):
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


class Processing:
    """The processing half of the local Lambda service (see :mod:`.service`)."""

    endpoint_url: str
    region: str
    loop_error: str | None
    _outbox: list[tuple[Any, ...]]
    _undelivered: int
    _boto: Any

    if TYPE_CHECKING:  # provided by the other half of the service

        @property
        def runtime(self) -> Any:
            raise NotImplementedError

        def _stores(self) -> list[tuple[str, MappingStore]]:
            raise NotImplementedError

    def _invoke(self, code: dict[str, Any], runner: Runner, event: dict[str, Any]) -> Any:
        from ..runtime.runtime import FunctionSpec

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
            revision=code.get("revision", ""),
            region=runner.region,
            account_id=runner.account_id,
        )
        try:
            return self.runtime.invoke(spec, event)
        except InvalidParameterError as exc:  # a runtime or package it cannot start
            return init_failure(exc)

    def _finish(self, done: Completion) -> None:
        cursor, lane = done.cursor, done.lane
        result: Any = done.result
        with state.LOCK:
            store = None
            for _, mappings in self._stores():
                if done.runner.uuid in mappings.mappings:
                    store = mappings
            mapping = store.mappings.get(done.runner.uuid) if store else None
            batch = lane.in_flight or []
            final = lane.final_in_flight
            journal.invoked(done, batch, final)  # for the trigger timeline
            lane.in_flight = None
            lane.final_in_flight = False
            cursor.invocations += 1
            ok = getattr(result, "ok", False)
            lane.last_request_id = getattr(result, "request_id", None) or lane.last_request_id
            settings = mapping.settings if mapping is not None else {}
            # sent with a window's fields (the setting may have changed while it ran)
            windowed = lane.window is not None
            state_answered = None
            if ok and windowed:  # "If the response does not contain a state property, Lambda
                # considers this a failed invocation."
                payload = result.payload
                if not isinstance(payload, dict) or "state" not in payload:
                    ok, result = False, MissingWindowState()
                else:
                    state_answered = payload["state"]
            if final:
                self._finish_window(mapping, cursor, lane, ok, result)
                return
            processed = len(batch) if ok else 0  # records of the batch that are done
            verdict = None
            if ok and mapping is not None and _REPORT in settings["FunctionResponseTypes"]:
                verdict = partial_batch_verdict(result.payload, [row[0] for row in batch])
                if verdict is not None:  # retry from the lowest failed record (all on -1)
                    processed = sum(1 for row in batch if row[0] < verdict) if verdict >= 0 else 0
                    ok, result = False, PartialFailure(verdict, processed)
            if windowed and state_answered is not None and (verdict is None or verdict >= 0):
                # kept with the records it accounts for: not after a whole-batch failure, whose
                # records come again
                lane.window_state = state_answered
                size = len(json.dumps(state_answered, separators=(",", ":")))
                lane.window_early = size > ESM_WINDOW_STATE_MAX_BYTES
            rest = lane.segments[1:] if lane.segments else []
            if processed:
                cursor.records += processed
                done_rows = [row[0] for row in batch[:processed]]
                if windowed:  # checkpointed once the window's final invocation succeeds
                    lane.window_records.extend(done_rows)
                else:
                    self._settle(mapping, cursor, done_rows)
                del lane.buffer[:processed]
                lane.first_buffered_at = lane.buffer[0][3] if lane.buffer else None
            if ok:
                lane.segments = rest
                lane.attempts = 0
                cursor.batches += 1
                lane.failures_in_a_row = 0
                lane.retry_at = 0.0
                # IteratorAge: how old the batch's last record was when processing finished
                newest = batch[-1][1]["dynamodb"]["ApproximateCreationDateTime"]
                cursor.iterator_age_ms = max(0.0, (state.now() - newest) * 1000)
                if mapping is not None:
                    mapping.last_processing_result = "OK"
                return
            cursor.errors += 1
            lane.failures_in_a_row += 1
            failed = len(batch) - processed
            reached_function = not isinstance(result, BaseException) or isinstance(
                result, PartialFailure | MissingWindowState
            )
            lane.retry_at = _backoff(lane.failures_in_a_row)
            cursor.last_error, problem = describe_failure(result)
            if mapping is not None:
                mapping.last_processing_result = problem
            if not reached_function:
                # AWS: errors before the function runs (function missing, service trouble) are
                # retried until the records expire or pass their maximum age; they use no retries
                lane.segments = [failed, *rest]
                return
            lane.attempts += 1
            lane.last_failure_unhandled = not isinstance(
                result, PartialFailure | MissingWindowState
            )
            if isinstance(result, PartialFailure) and verdict is not None and verdict >= 0:
                lane.segments = [failed, *rest]  # split at the reported record
            elif settings.get("BisectBatchOnFunctionError") and failed > 1:
                half = failed // 2  # splitting does not count towards the retry quota
                lane.segments = [half, failed - half, *rest]
                journal.split(mapping, cursor, [half, failed - half])
                lane.attempts = 0
            else:
                lane.segments = [failed, *rest]
            if mapping is not None:
                retries = int(settings.get("MaximumRetryAttempts", -1))
                if retries >= 0 and lane.attempts > retries:
                    stream = store_for(*account_region(mapping.event_source_arn)).streams.get(
                        mapping.event_source_arn
                    )
                    if stream is not None:
                        self._discard(
                            mapping,
                            stream,
                            cursor,
                            lane,
                            lane.segments[0],
                            "RetryAttemptsExhausted",
                        )
                        lane.retry_at = 0.0

    def _finish_window(
        self, mapping: Mapping | None, cursor: Cursor, lane: Lane, ok: bool, result: Any
    ) -> None:
        """A tumbling window's final invocation ended. On success the window's records are
        checkpointed and its state dropped (a later record of the same window, after an early end,
        opens it again with a fresh state); a failure is retried after a backoff, holding up the
        lane: AWS "suspends further processing until a successful invocation"."""
        if ok:
            self._settle(mapping, cursor, lane.window_records)
            lane.window_records = []
            lane.window = None
            lane.window_state = {}
            lane.window_early = False
            lane.final_failed = False
            lane.failures_in_a_row = 0
            lane.attempts = 0
            lane.retry_at = 0.0
            if mapping is not None:
                mapping.last_processing_result = "OK"
            return
        cursor.errors += 1
        lane.failures_in_a_row += 1
        lane.attempts += 1  # never discarded: a final invocation holds no records
        lane.final_failed = True
        lane.retry_at = _backoff(lane.failures_in_a_row)
        cursor.last_error, problem = describe_failure(result)
        if mapping is not None:
            mapping.last_processing_result = problem

    def _checkpoint(self, mapping: Mapping | None, cursor: Cursor, sequence: int) -> None:
        """Move a shard's checkpoint (kept on the mapping, so a restarted service resumes there)."""
        journal.checkpoint(mapping, cursor, sequence)
        cursor.checkpoint = sequence
        if mapping is not None:
            mapping.checkpoints[cursor.shard_id] = sequence

    def _settle(self, mapping: Mapping | None, cursor: Cursor, sequences: list[int]) -> None:
        """Records are done (processed, or discarded on record): the checkpoint moves over them
        once every record read before them is done too."""
        cursor.settled.update(sequences)
        self._advance(mapping, cursor)

    def _advance(self, mapping: Mapping | None, cursor: Cursor) -> None:
        """Move the checkpoint over the leading records that are done (on every lane)."""
        unsettled, settled = cursor.unsettled, cursor.settled
        last = None
        while unsettled and unsettled[0] in settled:
            last = unsettled.popleft()
            settled.discard(last)
        if last is not None and (cursor.checkpoint is None or last > cursor.checkpoint):
            self._checkpoint(mapping, cursor, last)

    def _discard(
        self,
        mapping: Mapping,
        stream: Stream,
        cursor: Cursor,
        lane: Lane,
        count: int,
        condition: str,
    ) -> None:
        """Give up on a lane's first ``count`` buffered records, on record: checkpoint past them
        (once records before them are done), keep an entry in the mapping's state and send AWS's
        failure record to the on-failure destination."""
        rows = lane.buffer[:count]
        if not rows:
            return
        journal.discard(mapping, cursor, rows, condition)
        invoke_count = lane.attempts
        del lane.buffer[:count]
        self._settle(mapping, cursor, [row[0] for row in rows])
        lane.first_buffered_at = lane.buffer[0][3] if lane.buffer else None
        left = count
        while left and lane.segments:  # the discarded records leave the failed batches too
            taken = min(left, lane.segments[0])
            lane.segments[0] -= taken
            left -= taken
            if lane.segments[0] == 0:
                lane.segments.pop(0)
                lane.attempts = 0
        cursor.discarded += len(rows)
        lane.failures_in_a_row = 0  # the lane moves on
        destination = (
            (mapping.settings.get("DestinationConfig") or {}).get("OnFailure") or {}
        ).get("Destination")
        message = failure_record(
            request_id=(lane.last_request_id if invoke_count else None) or str(uuid.uuid4()),
            function_arn=mapping.function_arn,
            condition=condition,
            invoke_count=invoke_count,
            unhandled=lane.last_failure_unhandled,
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
                aws_access_key_id=state.credentials().access_key_id,
                aws_secret_access_key=state.credentials().secret_access_key,
                aws_session_token=state.credentials().session_token,
                region_name=self.region,
            )
        return self._boto
