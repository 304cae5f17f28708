"""Events and lines read back from a function's CloudWatch Logs (the embedded backend; the AWS
path, late and throttled logs, is in test_aws_path.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from helpers import load_fixture

from streamkit.errors import InvalidParameterError

# -- events read back from a function's logs ------------------------------------------------------


def test_logged_events_are_parsed_with_their_request_ids():
    from streamkit.logs import _parse_logged_events

    sample = load_fixture("sam-dynamodb-update")
    lines = [
        ("s1", 1000, "START RequestId: r-1 Version: $LATEST"),
        ("s1", 1001, "EVENT " + json.dumps(sample)),
        ("s1", 1002, "END RequestId: r-1"),
        ("s2", 1500, "START RequestId: r-2 Version: $LATEST"),
        ("s1", 1600, "EVENT is not json"),
        ("s2", 1700, "EVENT\n" + json.dumps({"Records": sample["Records"][:1]}, indent=2)),
        ("s2", 1800, "[INFO]\t2024-01-01T00:00:00.000Z\tr-2\tsomething else"),
    ]
    events = _parse_logged_events(lines, "EVENT")
    assert [e.request_id for e in events] == ["r-1", "r-2"]
    assert [len(e.records) for e in events] == [3, 1]
    assert events[0].logged_at == datetime(1970, 1, 1, 0, 0, 1, 1000, tzinfo=UTC)  # 1001 ms


def test_node_and_logging_prefixed_events_are_parsed():
    """Node.js's console.info("EVENT\\n" + JSON.stringify(event, null, 2)) as Lambda logs it, and an
    event logged with Python's logging, are read back with the request id on their line."""
    from streamkit.logs import _parse_logged_events

    sample = load_fixture("seed-users-insert")
    pretty = json.dumps(sample, indent=2)
    lines = [
        ("s1", 1000, "START RequestId: r-1 Version: $LATEST"),
        ("s1", 1001, f"2024-01-01T00:00:00.001Z\tr-1\tINFO\tEVENT\n{pretty}\n"),
        ("s1", 1002, "2024-01-01T00:00:00.002Z\tr-1\tINFO\tnot an event"),
        ("s1", 1003, "2024-01-01T00:00:00.003Z\tr-1\tINFO\tEVENT\n{truncated"),
        ("s2", 1100, "2024-01-01T00:00:00.100Z\tundefined\tWARN\tEVENT " + json.dumps(sample)),
        ("s3", 1200, "[INFO]\t2024-01-01T00:00:01.200Z\tr-3\tEVENT " + json.dumps(sample)),
    ]
    events = _parse_logged_events(lines, "EVENT")
    assert [e.request_id for e in events] == ["r-1", None, "r-3"]
    assert all(e.event == sample for e in events)
    (record,) = events[0].records
    assert record.size_bytes == 104


def test_events_to_dataframe_numbers_invocations():
    from streamkit.logs import ReceivedEvent, events_to_dataframe

    sample = load_fixture("sam-dynamodb-update")
    at = datetime(2024, 1, 1, tzinfo=UTC)
    events = [
        ReceivedEvent("r-1", at, "s", sample),
        ReceivedEvent("r-2", at, "s", {"Records": sample["Records"][:1]}),
    ]
    frame = events_to_dataframe(events)
    assert frame["invocation"].tolist() == [1, 1, 1, 2]
    assert frame["batch_size"].tolist() == [3, 3, 3, 1]
    assert frame["event_name"].tolist() == ["INSERT", "MODIFY", "REMOVE", "INSERT"]
    assert list(events_to_dataframe([]).columns[:3]) == ["invocation", "batch_size", "request_id"]


def test_events_from_logs_bad_input(aws):
    from streamkit.logs import events_from_logs

    with pytest.raises(InvalidParameterError):
        events_from_logs(aws, "")
    with pytest.raises(InvalidParameterError):
        events_from_logs(aws, "fn", expect=-1)
    assert events_from_logs(aws, "never-deployed") == []
