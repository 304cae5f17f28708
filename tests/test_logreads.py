"""streamkit.logreads: a log group read back incrementally, per reader and log stream.

Against the embedded CloudWatch Logs: what a read returns equals a full read of the group, and
after the first read each read asks only for what is new (counted in ``Backend.api_calls``)."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from datetime import UTC, datetime

from helpers import LocalView

from streamkit import logreads
from streamkit.logs import events_from_logs, log_messages

_names = itertools.count(1)


def _invocations(logs, group, stream, first, count, at):
    """Log ``count`` invocations (START, EVENT, END) to one stream, from ``at`` (ms) on."""
    events = []
    for n in range(first, first + count):
        event = {"Records": [{"eventName": "INSERT", "n": n}]}
        events += [
            {"timestamp": at + 3 * (n - first), "message": f"START RequestId: r-{n} Version: 1"},
            {"timestamp": at + 3 * (n - first) + 1, "message": "EVENT " + json.dumps(event)},
            {"timestamp": at + 3 * (n - first) + 2, "message": f"END RequestId: r-{n}"},
        ]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def _group(aws, streams):
    name = f"reads-{next(_names)}"
    group = f"/aws/lambda/{name}"
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=group)
    for stream in streams:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    return name, group, logs


def _calls(reader, before):
    return {k: v for k, v in (Counter(reader.api_calls) - before).items() if k.startswith("logs:")}


def _full_read(aws, group):
    """The group's messages by one plain FilterLogEvents read (the truth)."""
    found = []
    for page in aws.client("logs").get_paginator("filter_log_events").paginate(logGroupName=group):
        found += [(e["timestamp"], e["message"]) for e in page["events"]]
    return sorted(found, key=lambda e: e[0])


def test_after_the_first_read_only_what_is_new_is_asked_for(aws):
    name, group, logs = _group(aws, ["s1", "s2"])
    now = int(time.time() * 1000) - 60_000
    _invocations(logs, group, "s1", 0, 50, now)
    _invocations(logs, group, "s2", 50, 50, now + 1)
    reader = LocalView(aws, "")

    before = Counter(reader.api_calls)
    events = events_from_logs(reader, name)
    assert [e.event["Records"][0]["n"] for e in events] == sorted(range(100), key=lambda n: n % 50)
    assert [e.request_id for e in events][:2] == ["r-0", "r-50"]
    assert _calls(reader, before) == {"logs:FilterLogEvents": 1}  # one read of the whole group

    # nothing new: the streams are listed, each asked from its last event on
    before = Counter(reader.api_calls)
    assert events_from_logs(reader, name) == events
    assert _calls(reader, before) == {"logs:DescribeLogStreams": 1, "logs:FilterLogEvents": 2}

    # an invocation more in s2, and a new stream: both are read, request ids carried on
    logs.create_log_stream(logGroupName=group, logStreamName="s3")
    _invocations(logs, group, "s2", 100, 1, now + 500)
    _invocations(logs, group, "s3", 101, 2, now + 600)
    again = events_from_logs(reader, name)
    assert len(again) == 103 and again[:100] == events
    assert [(e.request_id, e.log_stream) for e in again[100:]] == [
        ("r-100", "s2"),
        ("r-101", "s3"),
        ("r-102", "s3"),
    ]
    lines = log_messages(reader, name)  # the same cache, every line
    assert lines == [message for _, message in _full_read(aws, group)]
    logs.delete_log_group(logGroupName=group)


def test_since_reads_the_events_from_then_on(aws):
    name, group, logs = _group(aws, ["s1"])
    now = int(time.time() * 1000) - 60_000
    _invocations(logs, group, "s1", 0, 10, now)
    reader = LocalView(aws, "")
    since = datetime.fromtimestamp((now + 15) / 1000, UTC)
    assert [e.event["Records"][0]["n"] for e in events_from_logs(reader, name, since=since)] == [
        5,
        6,
        7,
        8,
        9,
    ]
    # asking for older events than the reader holds reads the group again
    assert len(events_from_logs(reader, name)) == 10
    assert len(events_from_logs(reader, name, since=since)) == 5
    logs.delete_log_group(logGroupName=group)


def test_a_deleted_group_or_stream_is_forgotten(aws):
    name, group, logs = _group(aws, ["s1", "s2"])
    now = int(time.time() * 1000) - 60_000
    _invocations(logs, group, "s1", 0, 3, now)
    _invocations(logs, group, "s2", 3, 3, now + 1)
    reader = LocalView(aws, "")
    assert len(events_from_logs(reader, name)) == 6
    logs.delete_log_stream(logGroupName=group, logStreamName="s2")
    assert [e.log_stream for e in events_from_logs(reader, name)] == ["s1"] * 3
    logs.delete_log_group(logGroupName=group)
    assert events_from_logs(reader, name) == []
    assert log_messages(reader, name) == []
    # the group again, with a stream of the same name: read anew
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    _invocations(logs, group, "s1", 10, 1, now + 100)
    assert [e.request_id for e in events_from_logs(reader, name)] == ["r-10"]
    logs.delete_log_group(logGroupName=group)


def test_an_event_late_within_its_stream_keeps_time_order():
    stream = logreads.StreamLog("s")
    assert stream.add("1", 10, "START RequestId: a Version: 1")
    assert stream.add("3", 30, "END RequestId: a")
    stream.derived["parsed"] = object()
    assert not stream.add("3", 30, "END RequestId: a")  # held already (same eventId)
    assert "parsed" in stream.derived
    assert stream.add("2", 20, "EVENT {}")  # late: inserted in place, what was derived dropped
    assert [ts for ts, _ in stream.events] == [10, 20, 30]
    assert stream.derived == {} and stream.last_ts == 30
