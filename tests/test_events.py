"""Typed records and DataFrames from every shape AWS hands records out in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from helpers import PACKAGED_FIXTURES, SHARED_FIXTURES, load_fixture

from streamkit.errors import InvalidParameterError, MalformedRecordError
from streamkit.events import (
    EventName,
    StreamRecord,
    StreamViewType,
    load_sample_event,
    parse_records,
    records_to_dataframe,
    sample_event_names,
)

RECORD_SAMPLES = [
    "seed-users-insert",
    "sam-dynamodb-update",
    "lambda-guide-sample",
    "api-getrecords-keys-only",
]


def test_packaged_samples_are_the_shared_aws_samples():
    if not SHARED_FIXTURES.is_dir():
        pytest.skip("../shared is not beside this checkout")
    shared = sorted(p.name for p in SHARED_FIXTURES.glob("*.json"))
    assert sorted(p.name for p in PACKAGED_FIXTURES.glob("*.json")) == shared
    for name in shared:
        assert json.loads((PACKAGED_FIXTURES / name).read_text()) == json.loads(
            (SHARED_FIXTURES / name).read_text()
        ), name


def test_sample_loader_lists_and_loads():
    names = sample_event_names()
    assert "seed-users-insert" in names and "lambda-on-failure-record" in names
    assert load_sample_event("seed-users-insert") == load_fixture("seed-users-insert")
    with pytest.raises(InvalidParameterError) as err:
        load_sample_event("nope")
    assert "seed-users-insert" in str(err.value)


@pytest.mark.parametrize("name", RECORD_SAMPLES)
def test_every_sample_parses(name):
    event = load_fixture(name)
    records = parse_records(event)
    assert len(records) == len(event["Records"])
    for record, raw in zip(records, event["Records"], strict=True):
        assert record.event_name.value == raw["eventName"]
        assert record.sequence_number == raw["dynamodb"]["SequenceNumber"]
        assert record.size_bytes == raw["dynamodb"]["SizeBytes"]
        assert record.event_version == raw["eventVersion"]  # "1.0" and "1.1" both accepted
        assert record.to_dict() == raw


def test_users_insert_fields():
    (record,) = parse_records(load_fixture("seed-users-insert"))
    assert record.event_name is EventName.INSERT
    assert record.stream_view_type is StreamViewType.NEW_IMAGE
    assert record.keys == {"createdAt": "2022-08-20", "userId": "user_2"}
    assert record.new_image["ttl"] == Decimal("1661166039")
    assert record.old_image is None
    assert record.approximate_creation_date_time == datetime(2022, 8, 21, 15, 36, 4, tzinfo=UTC)
    assert record.aws_region == "eu-central-1"
    assert record.event_source_arn.endswith("table/Users/stream/2022-08-21T15:34:25.720")
    assert record.changed_attributes == ["createdAt", "firstname", "lastname", "ttl", "userId"]
    assert not record.is_ttl_delete


def test_timestamps_in_all_three_shapes():
    api = parse_records(load_fixture("api-getrecords-keys-only"))[0]
    assert api.approximate_creation_date_time == datetime.fromtimestamp(1464806460, UTC)
    lam = parse_records(load_fixture("lambda-guide-sample"))[0]
    assert lam.approximate_creation_date_time is None  # AWS's sample omits it
    boto = dict(load_fixture("sam-dynamodb-update")["Records"][0])
    boto["dynamodb"] = {
        **boto["dynamodb"],
        "ApproximateCreationDateTime": datetime(2015, 4, 9, tzinfo=UTC),
    }
    assert StreamRecord.from_dict(boto).approximate_creation_date_time == datetime(
        2015, 4, 9, tzinfo=UTC
    )


def test_changed_attributes_of_a_modify():
    modify = parse_records(load_fixture("sam-dynamodb-update"))[1]
    assert modify.changed_attributes == ["Message"]
    keys_only = parse_records(load_fixture("api-getrecords-keys-only"))[1]
    assert keys_only.changed_attributes is None


def test_ttl_delete_is_recognised():
    raw = dict(load_fixture("sam-dynamodb-update")["Records"][2])
    raw["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert StreamRecord.from_dict(raw).is_ttl_delete
    assert not parse_records(load_fixture("sam-dynamodb-update"))[2].is_ttl_delete


def test_dataframe():
    frame = records_to_dataframe(load_fixture("sam-dynamodb-update"))
    assert list(frame["event_name"]) == ["INSERT", "MODIFY", "REMOVE"]
    assert list(frame["size_bytes"]) == [26, 59, 38]
    assert frame.loc[1, "old_image"] == {"Message": "New item!", "Id": Decimal("101")}
    assert frame["size_bytes"].dtype == "int64"
    empty = records_to_dataframe([])
    assert isinstance(empty, pd.DataFrame) and len(empty) == 0 and "event_name" in empty


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"Records": [{"eventName": "INSERT"}]}, "missing eventID"),
        (
            {
                "Records": [
                    {
                        "eventID": "1",
                        "eventName": "UPSERT",
                        "dynamodb": {"Keys": {}, "SequenceNumber": "1"},
                    }
                ]
            },
            "INSERT, MODIFY, REMOVE",
        ),
        (
            {"Records": [{"eventID": "1", "eventName": "INSERT", "dynamodb": {"Keys": {}}}]},
            "dynamodb.SequenceNumber",
        ),
        (
            {
                "Records": [
                    {
                        "eventID": "1",
                        "eventName": "INSERT",
                        "dynamodb": {"Keys": {}, "SequenceNumber": "1", "StreamViewType": "ALL"},
                    }
                ]
            },
            "KEYS_ONLY",
        ),
        (
            {
                "Records": [
                    {
                        "eventID": "1",
                        "eventName": "INSERT",
                        "dynamodb": {
                            "Keys": {},
                            "SequenceNumber": "1",
                            "ApproximateCreationDateTime": "soon",
                        },
                    }
                ]
            },
            "epoch seconds",
        ),
        ({"records": []}, "'Records'"),
        ("text", "Expected"),
        ([42], "mapping"),
    ],
)
def test_malformed_records_get_a_clear_error(bad, says):
    with pytest.raises(MalformedRecordError) as err:
        parse_records(bad)
    assert says in str(err.value)


def test_malformed_image_is_reported_on_use():
    raw = {
        "eventID": "1",
        "eventName": "INSERT",
        "dynamodb": {"Keys": {"k": {"Q": "1"}}, "SequenceNumber": "1"},
    }
    record = StreamRecord.from_dict(raw)
    with pytest.raises(MalformedRecordError):
        _ = record.keys


def test_view_type_parse_names_the_valid_ones():
    assert StreamViewType.parse("KEYS_ONLY") is StreamViewType.KEYS_ONLY
    with pytest.raises(InvalidParameterError) as err:
        StreamViewType.parse("ALL")
    for valid in ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        assert valid in str(err.value)
