"""Numbers are stored as DynamoDB stores them (issue 15): normalised on write, in GetItem answers,
stream images, keys, conditions and SizeBytes alike, and refused with AWS's messages when they
break DynamoDB's rules (38 significant digits, 1E-130 to 9.99...E+125). Sources: the DynamoDB
Developer Guide's data types page and mhart/dynalite's tests (streamkit.local.number_rules)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from helpers import read_all, stream_arn_of

from streamkit.local.number_rules import NumberError, canonical_number
from streamkit.sizes import record_size

WRITTEN = {"a": "1.50", "b": "00042", "c": "1.0", "d": "-0", "e": "1.5E2", "f": "-.50e-1"}
STORED = {"a": "1.5", "b": "42", "c": "1", "d": "0", "e": "150", "f": "-0.05"}


@pytest.mark.parametrize(("written", "stored"), [(WRITTEN[k], STORED[k]) for k in WRITTEN])
def test_canonical_form(written, stored):
    assert canonical_number(written) == stored


def test_limits_of_the_canonical_form():
    assert canonical_number("1" * 38) == "1" * 38
    assert canonical_number("1" + "0" * 60) == "1" + "0" * 60  # one significant digit
    assert canonical_number("1e125") == "1" + "0" * 125
    assert canonical_number("1e-130") == "0." + "0" * 129 + "1"
    assert canonical_number("-9.9999999999999999999999999999999999999E+125").startswith("-9999")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        (
            "-1.23456789012345678901234567890123456789",
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            "1e126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "-1e126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        ("b", "The parameter cannot be converted to a numeric value: b"),
        ("", "The parameter cannot be converted to a numeric value"),
    ],
)
def test_numbers_dynamodb_refuses(text, message):
    with pytest.raises(NumberError) as err:
        canonical_number(text)
    assert err.value.message == message


def test_images_get_item_and_size_bytes_hold_the_stored_form(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    item = {"pk": {"S": "k"}, **{name: {"N": value} for name, value in WRITTEN.items()}}
    ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]
    assert {name: got[name]["N"] for name in STORED} == STORED
    (record,) = read_all(streams_client, stream_arn_of(ddb, table))
    image = record["dynamodb"]["NewImage"]
    assert {name: image[name]["N"] for name in STORED} == STORED
    assert record["dynamodb"]["SizeBytes"] == record_size(record["dynamodb"]["Keys"], image, None)


def test_writing_the_same_number_differently_changes_nothing(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": "1.50"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": "1.5"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": "15E-1"}})
    assert [r["eventName"] for r in read_all(streams_client, stream_arn_of(ddb, table))] == [
        "INSERT"
    ]


def test_number_keys_are_one_item_by_value(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY", hash_key=("id", "N"))
    ddb.put_item(TableName=table, Item={"id": {"N": "1.0"}})
    assert ddb.get_item(TableName=table, Key={"id": {"N": "1"}})["Item"] == {"id": {"N": "1"}}
    ddb.put_item(TableName=table, Item={"id": {"N": "001"}, "x": {"S": "y"}})
    assert ddb.scan(TableName=table)["Count"] == 1
    records = read_all(streams_client, stream_arn_of(ddb, table))
    assert [r["dynamodb"]["Keys"] for r in records] == [{"id": {"N": "1"}}] * 2


def test_conditions_and_update_arithmetic_use_the_stored_form(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": "1.50"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "k"}},
        UpdateExpression="SET n = n + :x",
        ConditionExpression="n = :was",
        ExpressionAttributeValues={":x": {"N": "1.500"}, ":was": {"N": "1.5"}},
    )
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]
    assert item["n"] == {"N": "3"}
    modify = read_all(streams_client, stream_arn_of(ddb, table))[-1]["dynamodb"]
    assert (modify["OldImage"]["n"], modify["NewImage"]["n"]) == ({"N": "1.5"}, {"N": "3"})


def test_number_sets_are_normalised_and_duplicates_by_value_refused(ddb, make_table):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "ns": {"NS": ["1.0", "2.50"]}})
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]
    assert sorted(item["ns"]["NS"]) == ["1", "2.5"]
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "ns": {"NS": ["1", "1.0"]}})
    assert err.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Input collection contains duplicates",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        (
            "1e126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
    ],
)
def test_out_of_range_numbers_get_aws_validation_exception(
    ddb, streams_client, make_table, value, message
):
    table = make_table("KEYS_ONLY")
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": value}})
    assert err.value.response["Error"] == {"Code": "ValidationException", "Message": message}
    with pytest.raises(ClientError) as err:
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": "k"}},
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": value}},
        )
    assert err.value.response["Error"] == {"Code": "ValidationException", "Message": message}
    assert read_all(streams_client, stream_arn_of(ddb, table)) == []  # nothing was written
