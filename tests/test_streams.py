"""Stream helpers on the embedded backend: tables, enabling, describing and reading streams."""

from __future__ import annotations

import threading
import time

import pytest

from streamkit import streams, waiting
from streamkit.errors import (
    InvalidParameterError,
    StreamAlreadyEnabledError,
    StreamkitError,
    StreamNotFoundError,
    TableNotFoundError,
)
from streamkit.events import StreamViewType
from streamkit.streams import TableKey


@pytest.fixture
def users(aws, make_table):
    """A fresh Users-shaped table without a stream."""
    name = make_table(None, hash_key=("userId", "S"), range_key=("createdAt", "S"))
    return name


def _put(aws, table, user_id, **extra):
    aws.client("dynamodb").put_item(
        TableName=table,
        Item={"userId": {"S": user_id}, "createdAt": {"S": "2022-08-20"}, **extra},
    )


def test_create_users_table_is_idempotent(aws):
    arn = streams.create_users_table(aws, "UsersIdem")
    assert arn == "arn:aws:dynamodb:us-east-1:123456789012:table/UsersIdem"
    assert streams.create_users_table(aws, "UsersIdem") == arn
    table = aws.client("dynamodb").describe_table(TableName="UsersIdem")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "userId", "KeyType": "HASH"},
        {"AttributeName": "createdAt", "KeyType": "RANGE"},
    ]


def test_create_table_with_another_key_refuses(aws):
    streams.create_table(aws, "Clash", TableKey("id"))
    with pytest.raises(StreamkitError) as err:
        streams.create_users_table(aws, "Clash")
    assert "already exists with key" in str(err.value)


def test_table_key_types_are_checked():
    with pytest.raises(InvalidParameterError) as err:
        TableKey("id", "X")
    assert "S, N, B" in str(err.value)


def test_enable_same_type_returns_existing_arn(aws, users):
    first = streams.enable_stream(aws, users, "NEW_IMAGE")
    assert first.action == "enabled" and not first.arn_changed
    again = streams.enable_stream(aws, users, StreamViewType.NEW_IMAGE)
    assert again.action == "unchanged" and again.stream_arn == first.stream_arn
    assert "already enabled" in str(again)


def test_enable_other_type_refuses_unless_replace(aws, users):
    first = streams.enable_stream(aws, users, "NEW_IMAGE")
    with pytest.raises(StreamAlreadyEnabledError) as err:
        streams.enable_stream(aws, users, "KEYS_ONLY")
    assert err.value.current_view_type == "NEW_IMAGE" and "replace=True" in str(err.value)
    _put(aws, users, "u1")
    replaced = streams.enable_stream(aws, users, "KEYS_ONLY", replace=True)
    assert replaced.arn_changed and replaced.previous_stream_arn == first.stream_arn
    assert replaced.stream_arn != first.stream_arn
    assert "ARN changed" in str(replaced)
    assert len(streams.read_records(aws, first.stream_arn)) == 1  # old stream still readable
    assert streams.describe_stream(aws, users).view_type is StreamViewType.KEYS_ONLY


def test_unknown_view_type_lists_the_four(aws, users):
    with pytest.raises(InvalidParameterError) as err:
        streams.enable_stream(aws, users, "EVERYTHING")
    assert all(
        v in str(err.value) for v in ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    )


def test_missing_table_is_named(aws):
    with pytest.raises(TableNotFoundError) as err:
        streams.enable_stream(aws, "NoSuchTable", "KEYS_ONLY")
    assert "NoSuchTable" in str(err.value)
    with pytest.raises(TableNotFoundError):
        streams.read_records(aws, "NoSuchTable")


def test_table_without_stream(aws, users):
    with pytest.raises(StreamNotFoundError) as err:
        streams.describe_stream(aws, users)
    assert "enable_stream" in str(err.value)
    assert streams.disable_stream(aws, users) is None


def test_disable_returns_the_arn_and_table_stays_writable(aws, users):
    arn = streams.enable_stream(aws, users, "NEW_IMAGE").stream_arn
    assert streams.disable_stream(aws, users) == arn
    _put(aws, users, "after")
    description = streams.describe_stream(aws, arn)
    assert description.status == "DISABLED" and not description.shards[0].is_open


def test_describe_stream(aws, users):
    arn = streams.enable_stream(aws, users, "NEW_AND_OLD_IMAGES").stream_arn
    description = streams.describe_stream(aws, users)
    assert description.stream_arn == arn and description.status == "ENABLED"
    assert description.table_name == users
    assert len(description.shards) == 1 and description.shards[0].is_open
    frame = description.to_dataframe()
    assert list(frame.columns)[:2] == ["shard_id", "parent_shard_id"] and frame[
        "open"
    ].tolist() == [True]


def test_describe_stream_pages_through_shards(aws, users):
    streams.enable_stream(aws, users, "KEYS_ONLY")
    for _ in range(120):  # more than one DescribeStream page (100 shards)
        aws.roll_shards(users)
    description = streams.describe_stream(aws, users)
    assert len(description.shards) == 121
    assert sum(s.is_open for s in description.shards) == 1


def test_stream_iam_resource():
    arn = "arn:aws:dynamodb:eu-central-1:123456789012:table/Users/stream/2022-08-21T15:34:25.720"
    assert (
        streams.stream_iam_resource(arn)
        == "arn:aws:dynamodb:eu-central-1:123456789012:table/Users/stream/*"
    )
    assert streams.stream_iam_resource("arn:aws:dynamodb:us-east-1:123456789012:table/T") == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/*"
    )
    with pytest.raises(InvalidParameterError):
        streams.stream_iam_resource("arn:aws:s3:::bucket")


def test_read_records_positions(aws, users):
    streams.enable_stream(aws, users, "NEW_AND_OLD_IMAGES")
    for n in range(5):
        _put(aws, users, f"u{n}")
    everything = streams.read_records(aws, users)
    assert [r.keys["userId"] for r in everything] == [f"u{n}" for n in range(5)]
    assert everything.get_records_calls == 2  # one with the records, one empty to see the end
    third = everything[2].sequence_number
    at = streams.read_records(aws, users, position="AT_SEQUENCE_NUMBER", sequence_number=third)
    assert [r.keys["userId"] for r in at] == ["u2", "u3", "u4"]
    after = streams.read_records(
        aws, users, position="AFTER_SEQUENCE_NUMBER", sequence_number=third
    )
    assert [r.keys["userId"] for r in after] == ["u3", "u4"]
    assert len(streams.read_records(aws, users, position="LATEST")) == 0
    limited = streams.read_records(aws, users, limit=2)
    assert len(limited) == 2 and limited.last_sequence_number == everything[1].sequence_number


def test_read_records_pages_and_counts_calls(aws, users):
    streams.enable_stream(aws, users, "KEYS_ONLY")
    ddb = aws.client("dynamodb")
    for start in range(0, 2050, 25):
        ddb.batch_write_item(
            RequestItems={
                users: [
                    {"PutRequest": {"Item": {"userId": {"S": f"u{n}"}, "createdAt": {"S": "d"}}}}
                    for n in range(start, min(start + 25, 2050))
                ]
            }
        )
    batch = streams.read_records(aws, users)
    assert len(batch) == 2050
    assert batch.get_records_calls == 4  # 1000 + 1000 + 50 + one empty poll
    numbers = [int(r.sequence_number) for r in batch]
    assert numbers == sorted(numbers)


def test_read_records_parent_before_child(aws, users):
    streams.enable_stream(aws, users, "KEYS_ONLY")
    _put(aws, users, "first")
    aws.roll_shards(users)
    _put(aws, users, "second")
    aws.roll_shards(users)
    _put(aws, users, "third")
    batch = streams.read_records(aws, users)
    assert [r.keys["userId"] for r in batch] == ["first", "second", "third"]
    assert len(batch.shards_read) == 3
    second = batch[1].sequence_number
    after = streams.read_records(
        aws, users, position="AFTER_SEQUENCE_NUMBER", sequence_number=second
    )
    assert [r.keys["userId"] for r in after] == ["third"]
    frame = batch.to_dataframe()
    assert frame["event_name"].tolist() == ["INSERT"] * 3


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"position": "OLDEST"}, "TRIM_HORIZON"),
        ({"position": "AT_SEQUENCE_NUMBER"}, "sequence number"),
        ({"sequence_number": "123456789012345678901"}, "sequence number"),
        ({"position": "AT_SEQUENCE_NUMBER", "sequence_number": "abc"}, "digits"),
        ({"limit": 0}, ">= 1"),
        ({"max_empty_polls": 0}, ">= 1"),
        ({"expect": -1}, ">= 0"),
        ({"expect": 1, "timeout_s": -1}, "seconds >= 0"),
    ],
)
def test_read_records_bad_input(aws, users, kwargs, says):
    streams.enable_stream(aws, users, "KEYS_ONLY")
    with pytest.raises(InvalidParameterError) as err:
        streams.read_records(aws, users, **kwargs)
    assert says in str(err.value)


def test_read_records_waits_for_what_it_expects(aws, users, monkeypatch):
    """On AWS a record can reach the stream after the read starts: ``expect`` reads again."""
    streams.enable_stream(aws, users, "KEYS_ONLY")
    reads = []
    real_sleep = time.sleep

    caller = threading.get_ident()

    def sleep(seconds):  # the record "arrives" during the first pause between reads
        if threading.get_ident() != caller:  # the embedded backend's own threads sleep as usual
            return real_sleep(seconds)
        reads.append(seconds)
        if len(reads) == 1:
            _put(aws, users, "late")
        real_sleep(0)

    monkeypatch.setattr(waiting, "_sleep", sleep)
    batch = streams.read_records(aws, users, expect=1, timeout_s=30)
    assert [r.keys["userId"] for r in batch] == ["late"]
    assert reads == [1.0]
    assert batch.get_records_calls == 1 + 2  # the empty first read, then the record and the end


def test_read_records_says_how_many_arrived_when_time_is_up(aws, users):
    streams.enable_stream(aws, users, "KEYS_ONLY")
    _put(aws, users, "only")
    with pytest.raises(StreamkitError) as err:
        streams.read_records(aws, users, expect=2, timeout_s=0)
    assert "Only 1 of 2 records arrived" in str(err.value)


def test_bad_stream_arn(aws):
    with pytest.raises(InvalidParameterError):
        streams.read_records(aws, "arn:aws:s3:::bucket")
    with pytest.raises(StreamNotFoundError):
        streams.describe_stream(
            aws, "arn:aws:dynamodb:us-east-1:123456789012:table/Gone/stream/2022-08-21T15:34:25.720"
        )


# -- a polling consumer, measured against the cost model -------------------------------------------


def test_idle_poller_calls_match_the_model(aws, users):
    from streamkit import polling, pricing

    streams.enable_stream(aws, users, "KEYS_ONLY")
    report = polling.poll_stream(aws, users, polls_per_second=10, seconds=2)
    modeled = pricing.polling_read_requests(report.shards, 10, hours=report.seconds / 3600)
    assert modeled == pytest.approx(20)
    assert report.records == 0
    assert abs(report.get_records_calls - modeled) <= 1  # 20 polls, one per 100 ms


def test_busy_poller_reads_every_record_and_matches_the_model(aws, users):
    from streamkit import polling, pricing

    streams.enable_stream(aws, users, "KEYS_ONLY")
    seen = []
    with polling.background_writes(aws, users, per_second=50) as writer:
        report = polling.poll_stream(
            aws, users, polls_per_second=5, seconds=2, on_records=seen.extend
        )
    assert report.records == len(seen) > 0 and writer.written >= report.records
    modeled = pricing.polling_read_requests(
        1, 5, hours=report.seconds / 3600, records_per_second=report.records_per_second
    )
    assert abs(report.get_records_calls - modeled) <= 1


def test_backlog_is_read_in_full_pages_back_to_back(aws, users):
    from streamkit import polling

    streams.enable_stream(aws, users, "KEYS_ONLY")
    ddb = aws.client("dynamodb")
    for start in range(0, 2500, 25):
        ddb.batch_write_item(
            RequestItems={
                users: [
                    {"PutRequest": {"Item": {"userId": {"S": f"u{n}"}, "createdAt": {"S": "d"}}}}
                    for n in range(start, start + 25)
                ]
            }
        )
    report = polling.poll_stream(aws, users, polls_per_second=1, seconds=1, position="TRIM_HORIZON")
    assert report.records == 2500
    assert report.get_records_calls == 3  # 1000 + 1000 without waiting, then 500 ends the poll


def test_poller_bad_input(aws, users):
    from streamkit import polling

    with pytest.raises(InvalidParameterError):
        polling.poll_stream(aws, users, polls_per_second=0, seconds=1)
    with pytest.raises(InvalidParameterError):
        polling.poll_stream(aws, users, polls_per_second=1, seconds=-1)
    with pytest.raises(InvalidParameterError):
        polling.poll_stream(
            aws, users, polls_per_second=1, seconds=1, position="AT_SEQUENCE_NUMBER"
        )
    with pytest.raises(InvalidParameterError):
        with polling.background_writes(aws, users, per_second=0):
            pass


def test_poller_from_trim_horizon_reads_closed_parents_then_children(aws, users):
    from streamkit import polling

    streams.enable_stream(aws, users, "KEYS_ONLY")
    _put(aws, users, "parent")
    aws.roll_shards(users)
    _put(aws, users, "child")
    seen = []
    report = polling.poll_stream(
        aws,
        users,
        polls_per_second=20,
        seconds=0.5,
        position="TRIM_HORIZON",
        on_records=seen.extend,
    )
    assert [r.keys["userId"] for r in seen] == ["parent", "child"]
    assert report.shards == 2
