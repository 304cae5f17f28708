"""What a function received and wrote, read back from its CloudWatch Logs.

The example functions print each event they receive: the Python ones as one line ``EVENT {json}``,
the Node.js one (the seed's) with ``console.info("EVENT\\n" + JSON.stringify(event, null, 2))``,
which Lambda's Node.js runtime logs as ``<time>\\t<request id>\\tINFO\\tEVENT\\n{pretty json}``, one
log event. :func:`events_from_logs` reads both back as :class:`ReceivedEvent` objects (with the
invocation's request id) and :func:`events_to_dataframe` tabulates their records.
:func:`log_messages` returns a function's log lines as they are.

Works on every backend: locally the logs are there as soon as the trigger settled; on AWS they
arrive seconds later, so a read given ``expect=`` waits for them (bounded, through
:func:`streamkit.waiting.poll_until`, with progress), treating throttled reads as "not yet".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import logreads, waiting
from .aws_errors import error_code
from .errors import InvalidParameterError, WaitTimeoutError
from .events import StreamRecord, parse_records, records_to_dataframe
from .limits import LOGS_ARRIVAL_TIMEOUT_S
from .waiting import poll_until

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "EVENT_LOG_MARKER",
    "ReceivedEvent",
    "events_from_logs",
    "events_to_dataframe",
    "log_messages",
]

#: What the example functions print before the event's JSON (``EVENT {...}``), one log line.
EVENT_LOG_MARKER = "EVENT"

#: The prefix Lambda's runtimes put before a logged message: Node.js's ``console`` methods
#: (``2019-06-07T19:11:20.562Z\\t<request id>\\tINFO\\t``; Lambda Developer Guide, "Log and monitor
#: Node.js Lambda functions") and Python's ``logging`` (``[INFO]\\t<time>Z\\t<request id>\\t``;
#: aws/aws-lambda-python-runtime-interface-client, ``bootstrap.py``). Group 1 or 2: the request id.
_RUNTIME_PREFIX = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t([^\t\n]*)\t(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\t"
    r"|\[[A-Z]+\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t([^\t\n]*)\t"
)


@dataclass(frozen=True)
class ReceivedEvent:
    """One event a Lambda function received, as it logged it."""

    request_id: str | None
    """The invocation's request id (from the ``START RequestId:`` line before it)."""
    logged_at: datetime
    """When the function logged it (CloudWatch Logs timestamp, UTC)."""
    log_stream: str
    """The log stream (one per execution environment)."""
    event: dict[str, Any] = field(repr=False)
    """The event, as the function received it."""

    @cached_property
    def records(self) -> list[StreamRecord]:
        """The event's stream records."""
        return parse_records(self.event)


def _log_group(backend: Any, function_name: str) -> str:
    """``/aws/lambda/<name>``, for a function name (with the backend's prefix) or ARN."""
    if not isinstance(function_name, str) or not function_name:
        raise InvalidParameterError("function_name", function_name, "a Lambda function name")
    return f"/aws/lambda/{backend.name(function_name.rsplit(':', 1)[-1])}"


#: Error codes that mean "not now" when reading logs: CloudWatch Logs throttled the account's
#: reads. Compared as strings: TooManyRequestsException is not in CloudWatch Logs' model.
_LOGS_THROTTLED = ("ThrottlingException", "TooManyRequestsException", "LimitExceededException")


def _since_ms(since: datetime | None) -> int | None:
    return None if since is None else int(since.timestamp() * 1000)


def _read_log_events(
    backend: Any, group: str, since: datetime | None
) -> list[tuple[str, int, str]]:
    """(log stream, timestamp ms, message) of every event of a log group, in time order.

    Read incrementally (:mod:`streamkit.logreads`: only what is new since this backend's last
    read of the group). A missing log group reads as empty (the log group does not exist yet:
    Lambda or the function has not written yet). Throttling is left to botocore's retries; if they
    run out, the ``ClientError`` is raised for :func:`_wait_for_logs` to retry later.
    """
    since_ms = _since_ms(since)
    log = logreads.read_group(backend, group, since_ms)
    with log.lock:
        key = ("messages", since_ms)
        messages = log.derived.get(key)
        if messages is None:
            messages = [
                (stream.name, timestamp, message)
                for stream in log.streams.values()
                for timestamp, message in stream.events
                if since_ms is None or timestamp >= since_ms
            ]
            messages.sort(key=lambda m: m[1])
            log.derived[key] = messages
        return list(messages)


def _received_events(
    backend: Any, group: str, since: datetime | None, marker: str
) -> list[ReceivedEvent]:
    """The events logged after ``marker`` in a log group, in time order: each stream's new log
    events are parsed once (their request ids carried on from the stream's earlier lines)."""
    since_ms = _since_ms(since)
    log = logreads.read_group(backend, group, since_ms)
    with log.lock:
        key = ("events", marker, since_ms)
        found = log.derived.get(key)
        if found is None:
            timed: list[tuple[int, ReceivedEvent]] = []
            for stream in log.streams.values():
                parsed = stream.derived.setdefault(("events", marker), [0, {}, []])
                position, request_ids, events = parsed
                if position < len(stream.events):
                    new = [(stream.name, ts, message) for ts, message in stream.events[position:]]
                    events.extend(
                        (round(e.logged_at.timestamp() * 1000), e)
                        for e in _parse_logged_events(new, marker, request_ids)
                    )
                    parsed[0] = len(stream.events)
                timed.extend(e for e in events if since_ms is None or e[0] >= since_ms)
            timed.sort(key=lambda e: e[0])
            found = log.derived[key] = [e for _, e in timed]
        return list(found)


def _wait_for_logs(
    backend: Any,
    group: str,
    read: Callable[[], Any],
    expect: int | None,
    timeout_s: float | None,
    what: str,
    hint: str,
    count: Callable[[Any], int] = len,
) -> list[Any]:
    """Call ``read()`` until ``count`` of it is at least ``expect`` or ``timeout_s`` has passed.

    Logs on AWS arrive seconds after the function wrote them, so this polls (every second on
    AWS, showing progress; every 50 ms locally), and treats throttling as "try again later".
    """
    if expect is not None and (
        isinstance(expect, bool) or not isinstance(expect, int) or expect < 0
    ):
        raise InvalidParameterError("expect", expect, f"a whole number of {what} >= 0, or None")
    if timeout_s is None:
        timeout_s = 5.0 if backend.is_local else LOGS_ARRIVAL_TIMEOUT_S
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s < 0:
        raise InvalidParameterError("timeout_s", timeout_s, "a number of seconds >= 0")
    limit: float = timeout_s
    began = waiting._clock()
    pause = 0.05 if backend.is_local else 1.0
    shown: float | None = None  # when progress was last shown: at once, then every 10 s
    found: list[Any] = []
    throttled = 0

    def probe() -> list[Any] | None:
        nonlocal found, throttled
        try:
            found = read()
        except ClientError as exc:
            if error_code(exc) not in _LOGS_THROTTLED or expect is None:
                raise
            throttled += 1
        return found if expect is None or count(found) >= expect else None

    def interval(_attempt: int) -> float:  # asked only when another read follows: say so first
        nonlocal shown
        waited = waiting._clock() - began
        if shown is None or waited - shown >= 10:
            backend.progress(
                f"{group}: {count(found)} of {expect} {what} so far; logs arrive late on AWS, "
                f"waiting (at most {limit:g} s)"
            )
            shown = waited
        return pause * (2 if throttled else 1)

    return poll_until(
        probe,
        timeout_s=limit,
        interval_s=interval,
        what=f"{expect} {what} in {group}",
        error=lambda _: WaitTimeoutError(
            f"{group} holds {count(found)} {what}, not the {expect} expected, after "
            f"{limit:g} s of waiting"
            + (f" ({throttled} reads throttled)" if throttled else "")
            + f". {hint}"
        ),
    )


def _parse_logged_events(
    messages: Iterable[tuple[str, int, str]],
    marker: str,
    request_ids: dict[str, str] | None = None,
) -> list[ReceivedEvent]:
    """(log stream, timestamp ms, message) in time order -> the events logged after ``marker``.

    ``request_ids`` (log stream -> the request id of its last ``START`` line) carries a parse on
    from where an earlier one stopped; it is updated.
    """
    if request_ids is None:
        request_ids = {}
    found: list[ReceivedEvent] = []
    for stream, timestamp, message in messages:
        text = message.strip()
        if text.startswith("START RequestId: "):
            request_ids[stream] = text.split()[2]
            continue
        prefix = _RUNTIME_PREFIX.match(text)
        logged_id = None
        if prefix is not None:
            logged_id = prefix.group(1) or prefix.group(2)
            if logged_id == "undefined":  # Node.js's request id outside an invocation
                logged_id = None
            text = text[prefix.end() :]
        if not text.startswith(marker):
            continue
        body = text[len(marker) :].strip()
        try:
            event = json.loads(body)
        except ValueError:
            continue  # a line that merely starts with the marker
        if not isinstance(event, dict):
            continue
        found.append(
            ReceivedEvent(
                request_id=logged_id or request_ids.get(stream),
                logged_at=datetime.fromtimestamp(timestamp / 1000, UTC),
                log_stream=stream,
                event=event,
            )
        )
    return found


def events_from_logs(
    backend: Any,
    function_name: str,
    *,
    since: datetime | None = None,
    expect: int | None = None,
    expect_records: int | None = None,
    timeout_s: float | None = None,
    marker: str = EVENT_LOG_MARKER,
) -> list[ReceivedEvent]:
    """The events a function logged, read from its CloudWatch Logs.

    An event is a log event whose message is ``EVENT`` then the event's JSON: one line
    (``EVENT {json}``, as the Python examples print it) or pretty-printed on the next lines (the
    Node.js seed's ``EVENT\\n{json}``), also after the prefix a runtime's logger adds
    (``<time>\\t<request id>\\tINFO\\t`` for ``console.info``).

    Works on every backend: locally the logs are there as soon as the trigger settled; on AWS they
    arrive seconds later, so pass ``expect`` and the call waits, with progress, until that many
    events are there.

    Parameters
    ----------
    backend : Backend
    function_name : str
        The function (its log group is ``/aws/lambda/<prefix><name>``).
    since : datetime, optional
        Only events logged at or after this time.
    expect : int, optional
        Wait until at least this many events (invocations) are there, up to ``timeout_s``.
    expect_records : int, optional
        Wait until the events hold at least this many records in all (instead of ``expect``:
        how records are split into invocations may vary).
    timeout_s : float, optional
        Longest wait for ``expect`` events, in seconds. Default 5 on the embedded backend,
        :data:`~streamkit.limits.LOGS_ARRIVAL_TIMEOUT_S` (120) elsewhere.
    marker : str
        The text the function prints before the event's JSON.

    Returns
    -------
    list of ReceivedEvent
        In the order they were logged.

    Raises
    ------
    WaitTimeoutError
        (a ``StreamkitError``) when fewer than ``expect`` events arrived in ``timeout_s``, saying
        how many did.
    """
    group = _log_group(backend, function_name)
    if since is not None and not isinstance(since, datetime):
        raise InvalidParameterError("since", since, "a datetime (timezone-aware), or None")
    if not isinstance(marker, str) or not marker:
        raise InvalidParameterError(
            "marker", marker, "the text the function prints before its event"
        )
    if expect is not None and expect_records is not None:
        raise InvalidParameterError(
            "expect_records", expect_records, "None when expect is given (one or the other)"
        )
    by_records = expect_records is not None
    return _wait_for_logs(
        backend,
        group,
        lambda: _received_events(backend, group, since, marker),
        expect_records if by_records else expect,
        timeout_s,
        "records" if by_records else "events",
        f"Did the trigger run (describe_trigger(...).last_processing_result), and does the "
        f"function print '{marker} <json>'?",
        count=(lambda found: sum(len(e.records) for e in found)) if by_records else len,
    )


def log_messages(
    backend: Any,
    function_name: str,
    *,
    prefix: str = "",
    expect: int | None = None,
    timeout_s: float | None = None,
) -> list[str]:
    """What a function wrote to its logs, oldest first, one line per log event.

    Parameters
    ----------
    backend : Backend
    function_name : str
    prefix : str
        Only lines starting with this text (e.g. ``"PROCESSED"``); ``""`` for every line,
        Lambda's ``START`` / ``END`` / ``REPORT`` lines included.
    expect : int, optional
        Wait until at least this many such lines are there (logs arrive late on AWS).
    timeout_s : float, optional
        Longest wait for ``expect`` lines, as in :func:`events_from_logs`.
    """
    group = _log_group(backend, function_name)
    if not isinstance(prefix, str):
        raise InvalidParameterError("prefix", prefix, "a string ('' for every line)")

    def read() -> list[str]:
        lines = (message.rstrip("\n") for _, _, message in _read_log_events(backend, group, None))
        return [line for line in lines if line.startswith(prefix)]

    return _wait_for_logs(
        backend, group, read, expect, timeout_s, "lines", f"Lines wanted start with {prefix!r}."
    )


def events_to_dataframe(events: Iterable[ReceivedEvent]) -> pd.DataFrame:
    """One row per record received: which invocation brought it, then the record's columns.

    Returns
    -------
    pandas.DataFrame
        ``invocation`` (1, 2, ... in the order logged), ``batch_size`` (records in that invocation),
        ``request_id``, then the columns of :func:`streamkit.events.records_to_dataframe`.
    """
    import pandas as pd

    frames = []
    for number, received in enumerate(events, start=1):
        frame = records_to_dataframe(received.records)
        frame.insert(0, "request_id", received.request_id)
        frame.insert(0, "batch_size", len(frame))
        frame.insert(0, "invocation", number)
        frames.append(frame)
    if not frames:
        empty = records_to_dataframe([])
        for column in ("request_id", "batch_size", "invocation"):
            empty.insert(0, column, pd.Series(dtype="object"))
        return empty
    return pd.concat(frames, ignore_index=True)
