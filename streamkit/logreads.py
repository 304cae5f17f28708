"""Reading a log group back incrementally: each reader keeps its place in every log stream.

A function's logs are read again and again (a wait for ``expect`` events reads every 50 ms
locally, every second on AWS; a notebook reads after each step). Reading the whole group each time
costs what the group holds: seconds for tens of thousands of events. :func:`read_group` keeps,
per backend and log group, every event read so far, stream by stream, and asks CloudWatch Logs
only for what is new:

* the first read is one ``FilterLogEvents`` over the group (paged), as a one-off read would be;
* later reads list the streams (``DescribeLogStreams``) and ask each known stream for its events
  from its last timestamp on (``FilterLogEvents`` with ``logStreamNames`` and ``startTime``; the
  events already held are recognised by ``eventId``), and each new stream for all of its events.

This misses nothing because the events of one log stream arrive in time order: one execution
environment writes them, one invocation after another (Lambda Developer Guide, "Using CloudWatch
Logs with Lambda": one log stream per instance of the function). Events may arrive late across
streams, which is why positions are kept per stream, not per group. On AWS a margin
(:data:`LATE_MARGIN_MS`) is read again in each stream, in case delivery within a stream is
slightly out of order. A stream that disappeared, or was re-created, is dropped (and read anew);
a deleted group reads as empty.

The cache lives as long as the backend object (a weak reference): a new backend, or a new
kernel, starts from a full read.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from .limits import LOG_FILTER_MAX_STREAMS

__all__ = ["LATE_MARGIN_MS", "GroupLog", "StreamLog", "read_group"]

#: How far back (ms) each stream is read again on backends other than the embedded one, in case
#: its events arrive slightly out of order; 0 on the embedded backend, which writes them in order.
LATE_MARGIN_MS = 2_000


@dataclass
class StreamLog:
    """What a reader holds of one log stream."""

    name: str
    created: int | None = None  # creationTime (ms), once DescribeLogStreams said it
    events: list[tuple[int, str]] = field(default_factory=list)  # (timestamp ms, message)
    last_ts: int = -1
    ids: dict[str, int] = field(default_factory=dict)  # eventId -> timestamp, of recent events
    derived: dict[Any, Any] = field(default_factory=dict)  # what readers computed from events

    def add(self, event_id: str, timestamp: int, message: str) -> bool:
        """Keep an event unless it is held already; whether it was new."""
        if event_id in self.ids:
            return False
        self.ids[event_id] = timestamp
        if timestamp >= self.last_ts:
            self.events.append((timestamp, message))
            self.last_ts = timestamp
        else:  # late within the stream: keep time order, and what was derived is out of date
            at = bisect.bisect_right(self.events, timestamp, key=lambda event: event[0])
            self.events.insert(at, (timestamp, message))
            self.derived.clear()
        return True

    def forget_ids_before(self, timestamp: int) -> None:
        """Drop the ids of events older than ``timestamp`` (they are never read again)."""
        if len(self.ids) > 64:
            self.ids = {i: ts for i, ts in self.ids.items() if ts >= timestamp}


@dataclass
class GroupLog:
    """What a reader holds of one log group: its streams, from ``start_ms`` on."""

    group: str
    start_ms: int | None = None  # events older than this were not read (None: all)
    streams: dict[str, StreamLog] = field(default_factory=dict)
    version: int = 0  # grows whenever events arrive or streams go
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    derived: dict[Any, Any] = field(default_factory=dict)  # per version, what readers computed

    def reset(self, start_ms: int | None) -> None:
        self.start_ms = start_ms
        self.streams.clear()
        self.changed()

    def changed(self) -> None:
        self.version += 1
        self.derived.clear()


_CACHE: weakref.WeakKeyDictionary[Any, dict[str, GroupLog]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _group_log(backend: Any, group: str) -> GroupLog:
    with _CACHE_LOCK:
        groups = _CACHE.setdefault(backend, {})
        log = groups.get(group)
        if log is None:
            log = groups[group] = GroupLog(group)
        return log


def read_group(backend: Any, group: str, since_ms: int | None) -> GroupLog:
    """The log group's events, read incrementally; call with the returned object's ``lock`` free.

    Parameters
    ----------
    backend : Backend
        Its ``logs`` client makes the calls.
    group : str
        The log group.
    since_ms : int, optional
        Only events at or after this time (ms) are needed (the cache may hold older ones).

    Returns
    -------
    GroupLog
        The group as read now. Hold ``lock`` while reading its streams.

    Raises
    ------
    botocore.exceptions.ClientError
        What the logs service answered, except a missing group (read as empty). The events read
        before the error are kept; the next read goes on from there.
    """
    log = _group_log(backend, group)
    margin = 0 if backend.is_local else LATE_MARGIN_MS
    with log.lock:
        if log.start_ms is not None and (since_ms is None or since_ms < log.start_ms):
            log.reset(since_ms)  # older events are asked for than were read: read anew
        if not log.streams:
            log.start_ms = since_ms
            _read_everything(backend.client("logs"), log)
        else:
            _read_what_is_new(backend.client("logs"), log, margin)
    return log


def _keep(log: GroupLog, events: list[dict[str, Any]]) -> None:
    changed = False
    for event in events:
        name = event["logStreamName"]
        stream = log.streams.get(name)
        if stream is None:
            stream = log.streams[name] = StreamLog(name)
        # eventId is always there on AWS (the model leaves it optional): else time and text
        event_id = event.get("eventId") or f"{event['timestamp']}:{event['message']}"
        changed |= stream.add(event_id, event["timestamp"], event["message"])
    if changed:
        log.changed()


def _read_everything(logs: Any, log: GroupLog) -> None:
    args: dict[str, Any] = {"logGroupName": log.group}
    if log.start_ms is not None:
        args["startTime"] = log.start_ms
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**args):
            _keep(log, page["events"])
    except logs.exceptions.ResourceNotFoundException:
        log.reset(log.start_ms)


def _read_what_is_new(logs: Any, log: GroupLog, margin: int) -> None:
    listed: dict[str, int | None] = {}
    try:
        for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=log.group):
            for stream in page["logStreams"]:
                listed[stream["logStreamName"]] = stream.get("creationTime")
    except logs.exceptions.ResourceNotFoundException:  # the group was deleted
        log.reset(log.start_ms)
        return
    for name, stream in list(log.streams.items()):
        created = listed.get(name, -1)
        if name not in listed or (stream.created is not None and created != stream.created):
            del log.streams[name]  # deleted, or deleted and created again: read anew
            log.changed()
        elif stream.created is None:
            stream.created = created
    for name, stream in list(log.streams.items()):
        start = max(stream.last_ts - margin, log.start_ms or 0)
        if not _read_streams(logs, log, [name], start):
            del log.streams[name]
            log.changed()
            continue
        stream.forget_ids_before(stream.last_ts - margin)
    new = [name for name in listed if name not in log.streams]
    for at in range(0, len(new), LOG_FILTER_MAX_STREAMS):
        _read_streams(logs, log, new[at : at + LOG_FILTER_MAX_STREAMS], log.start_ms)
    for name in new:
        if name in log.streams:
            log.streams[name].created = listed[name]


def _read_streams(logs: Any, log: GroupLog, names: list[str], start: int | None) -> bool:
    """Read the named streams from ``start`` (ms) on; False if one of them is gone."""
    args: dict[str, Any] = {"logGroupName": log.group, "logStreamNames": names}
    if start is not None:
        args["startTime"] = start
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**args):
            _keep(log, page["events"])
    except logs.exceptions.ResourceNotFoundException:
        return False
    return True
