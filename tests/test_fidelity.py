"""The fidelity layer: stream records on the embedded backend are the records AWS produces.

Tests marked ``fidelity_rule`` each pin one way plain moto differs from AWS; ``test_plain_moto.py``
runs them with the fidelity layer switched off and checks that every one of them fails there.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC

import boto3
import pytest
from botocore.exceptions import ClientError
from helpers import load_fixture, read_all, stream_arn_of

from streamkit.local import state as local_state
from streamkit.local.dynamodbstreams.models import store_for
from streamkit.sizes import record_size

rule = pytest.mark.fidelity_rule


def _code(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return exc_info.value.response["Error"]["Code"]


def _records(ddb, streams_client, table):
    return read_all(streams_client, stream_arn_of(ddb, table))


def _put_user(ddb, table, user_id="user_2", **extra):
    item = {"userId": {"S": user_id}, "createdAt": {"S": "2022-08-20"}, **extra}
    ddb.put_item(TableName=table, Item=item)
    return item


USERS_KEY = {"hash_key": ("userId", "S"), "range_key": ("createdAt", "S")}


# -- record fields ---------------------------------------------------------------------------------


@rule
def test_event_version_is_1_1(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    (record,) = _records(ddb, streams_client, table)
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"


@rule
def test_aws_region_is_the_tables_region(aws, make_table):
    session = aws.session
    ddb = session.client("dynamodb", region_name="eu-central-1", endpoint_url=aws.endpoint_url)
    streams = session.client(
        "dynamodbstreams", region_name="eu-central-1", endpoint_url=aws.endpoint_url
    )
    table = make_table("KEYS_ONLY", client=ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    arn = stream_arn_of(ddb, table)
    assert arn.startswith("arn:aws:dynamodb:eu-central-1:123456789012:table/")
    (record,) = read_all(streams, arn)
    assert record["awsRegion"] == "eu-central-1"


@rule
def test_event_id_is_32_hex_and_timestamp_whole_seconds(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    for n in range(20):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    records = _records(ddb, streams_client, table)
    assert len(records) == 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["eventID"]) for r in records)
    assert len({r["eventID"] for r in records}) == 20
    for record in records:
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert created.microsecond == 0
        assert created.tzinfo is not None and created.astimezone(UTC).year >= 2024


@rule
def test_sequence_numbers_unique_increasing_never_reused(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    for n in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    first_arn = stream_arn_of(ddb, table)
    first = read_all(streams_client, first_arn)
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    ddb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    for n in range(5):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"j{n}"}})
    second = read_all(streams_client, stream_arn_of(ddb, table))
    numbers = [r["dynamodb"]["SequenceNumber"] for r in first + second]
    assert len(numbers) == 10
    assert all(n.isdigit() and 21 <= len(n) <= 40 for n in numbers)
    as_ints = [int(n) for n in numbers]
    assert as_ints == sorted(as_ints) and len(set(as_ints)) == 10


# -- SizeBytes -------------------------------------------------------------------------------------


@rule
def test_size_bytes_of_the_users_insert_is_104(ddb, streams_client, make_table):
    expected = load_fixture("seed-users-insert")["Records"][0]["dynamodb"]
    table = make_table("NEW_IMAGE", **USERS_KEY)
    ddb.put_item(TableName=table, Item=expected["NewImage"])
    (record,) = _records(ddb, streams_client, table)
    assert record["dynamodb"]["SizeBytes"] == expected["SizeBytes"] == 104
    assert record["dynamodb"]["NewImage"] == expected["NewImage"]
    assert record["dynamodb"]["Keys"] == expected["Keys"]


@rule
def test_size_bytes_of_sam_insert_modify_remove(ddb, streams_client, make_table):
    sample = load_fixture("sam-dynamodb-update")["Records"]
    table = make_table("NEW_AND_OLD_IMAGES", hash_key=("Id", "N"))
    ddb.put_item(TableName=table, Item=sample[0]["dynamodb"]["NewImage"])
    ddb.put_item(TableName=table, Item=sample[1]["dynamodb"]["NewImage"])
    ddb.delete_item(TableName=table, Key=sample[2]["dynamodb"]["Keys"])
    records = _records(ddb, streams_client, table)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for ours, theirs in zip(records, sample, strict=True):
        for field in ("Keys", "NewImage", "OldImage", "SizeBytes", "StreamViewType"):
            assert ours["dynamodb"].get(field) == theirs["dynamodb"].get(field), field


@rule
def test_size_bytes_of_keys_only_records(ddb, streams_client, make_table):
    sample = load_fixture("api-getrecords-keys-only")["Records"]
    table = make_table("KEYS_ONLY", hash_key=("ForumName", "S"), range_key=("Subject", "S"))
    ddb.put_item(TableName=table, Item=sample[0]["dynamodb"]["Keys"])
    (record,) = _records(ddb, streams_client, table)
    assert record["dynamodb"]["SizeBytes"] == sample[0]["dynamodb"]["SizeBytes"] == 41
    assert set(record["dynamodb"]) == {
        "ApproximateCreationDateTime",
        "Keys",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }


@rule
def test_size_bytes_for_every_attribute_type(ddb, streams_client, make_table):
    item = {
        "pk": {"S": "naïve ☃"},
        "n": {"N": "-12345.678"},
        "zero": {"N": "0"},
        "b": {"B": b"\x00\x01\x02"},
        "ss": {"SS": ["a", "bc"]},
        "ns": {"NS": ["1", "100.5"]},
        "bs": {"BS": [b"x", b"yz"]},
        "m": {"M": {"inner": {"S": "v"}, "l": {"L": [{"N": "1"}, {"BOOL": True}]}}},
        "l": {"L": []},
        "null": {"NULL": True},
        "bool": {"BOOL": False},
    }
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item=item)
    (record,) = _records(ddb, streams_client, table)
    body = record["dynamodb"]
    assert body["SizeBytes"] == record_size(
        body["Keys"], body.get("NewImage"), body.get("OldImage")
    )
    # by hand: name + value bytes (see streamkit.sizes for the rules)
    by_hand = {
        "pk": 2 + 10,  # "naïve ☃" is 10 bytes of UTF-8
        "n": 1 + 7,  # -12345.678 = 01|23|45.67|80: 5 base-100 digits + exponent + sign
        "zero": 4 + 1,
        "b": 1 + 3,
        "ss": 2 + 1 + 2,
        "ns": 2 + 2 + 4,  # 1 -> 1 digit + exponent; 100.5 = 01|00.50 -> 3 digits + exponent
        "bs": 2 + 1 + 2,
        "m": 1 + 3 + (5 + 1 + 1) + (1 + (3 + (2 + 1) + (1 + 1)) + 1),
        "l": 1 + 3,
        "null": 4 + 1,
        "bool": 4 + 1,
    }
    by_hand = sum(by_hand.values())
    assert body["SizeBytes"] == (2 + 10) + by_hand  # Keys + NewImage


# -- which writes make which records ---------------------------------------------------------------


def test_images_per_view_type(ddb, streams_client, make_table):
    expected = {
        "KEYS_ONLY": [{"Keys"}, {"Keys"}, {"Keys"}],
        "NEW_IMAGE": [{"Keys", "NewImage"}, {"Keys", "NewImage"}, {"Keys"}],
        "OLD_IMAGE": [{"Keys"}, {"Keys", "OldImage"}, {"Keys", "OldImage"}],
        "NEW_AND_OLD_IMAGES": [
            {"Keys", "NewImage"},
            {"Keys", "NewImage", "OldImage"},
            {"Keys", "OldImage"},
        ],
    }
    for view_type, shapes in expected.items():
        table = make_table(view_type)
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
        ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
        records = _records(ddb, streams_client, table)
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
        images = [
            {k for k in r["dynamodb"] if k in ("Keys", "NewImage", "OldImage")} for r in records
        ]
        assert images == shapes, view_type
        assert all(r["dynamodb"]["StreamViewType"] == view_type for r in records)


@rule
def test_no_record_for_a_put_or_update_that_changes_nothing(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    item = {"pk": {"S": "a"}, "tags": {"SS": ["x", "y"]}, "n": {"N": "1.50"}}
    ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item={**item, "tags": {"SS": ["y", "x"]}, "n": {"N": "1.5"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1.5"}},
    )
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    records = _records(ddb, streams_client, table)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}


@rule
def test_update_item_creating_an_item_gives_one_insert(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "new"}},
        UpdateExpression="SET greeting = :g",
        ExpressionAttributeValues={":g": {"S": "hello"}},
    )
    (record,) = _records(ddb, streams_client, table)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "new"}, "greeting": {"S": "hello"}}
    assert "OldImage" not in record["dynamodb"]


def test_no_record_for_deleting_an_absent_item(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.delete_item(TableName=table, Key={"pk": {"S": "ghost"}})
    assert _records(ddb, streams_client, table) == []


def test_failed_conditional_write_gives_no_record(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError):
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "a"}, "v": {"N": "1"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert [r["eventName"] for r in _records(ddb, streams_client, table)] == ["INSERT"]


@rule
def test_batch_write_records_one_per_changed_item(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "same"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}})
    ddb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"pk": {"S": "new"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "same"}, "v": {"N": "1"}}}},  # no change
                {"DeleteRequest": {"Key": {"pk": {"S": "gone"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "never-there"}}}},
            ]
        }
    )
    names = [
        (r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"])
        for r in _records(ddb, streams_client, table)
    ]
    assert names == [("INSERT", "same"), ("INSERT", "gone"), ("INSERT", "new"), ("REMOVE", "gone")]


@rule
def test_transact_write_items_records(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "p"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "u"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "old"}}}},
        ]
    )
    records = _records(ddb, streams_client, table)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "old"),
        ("INSERT", "p"),
        ("INSERT", "u"),
        ("REMOVE", "old"),
    ]
    # a cancelled transaction writes nothing, so it records nothing
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "q"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "absent"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert len(_records(ddb, streams_client, table)) == 4


@rule
def test_partiql_writes_records_and_no_op_update_does_not(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'a', 'v': 1}}")
    update = f"UPDATE \"{table}\" SET v = ? WHERE pk = 'a'"
    ddb.execute_statement(Statement=update, Parameters=[{"N": "1"}])  # no change
    ddb.execute_statement(Statement=update, Parameters=[{"N": "2"}])
    ddb.execute_statement(Statement=f"DELETE FROM \"{table}\" WHERE pk = 'a'")
    records = _records(ddb, streams_client, table)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}


# -- stream life cycle -----------------------------------------------------------------------------


@rule
def test_enabling_an_enabled_stream_is_a_validation_exception(ddb, make_table):
    table = make_table("NEW_IMAGE")
    with pytest.raises(ClientError) as err:
        ddb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )
    assert _code(err) == "ValidationException"
    assert err.value.response["Error"]["Message"] == (
        f"Table already has an enabled stream: TableName: {table}"
    )


@rule
def test_disabling_keeps_the_table_writable_and_old_records_readable(
    ddb, streams_client, make_table
):
    table = make_table("NEW_IMAGE")
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    old_arn = stream_arn_of(ddb, table)
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=table, Item={"pk": {"S": "while-disabled"}})  # plain moto: HTTP 500
    description = streams_client.describe_stream(StreamArn=old_arn)["StreamDescription"]
    assert description["StreamStatus"] == "DISABLED"
    (shard,) = description["Shards"]
    assert "EndingSequenceNumber" in shard["SequenceNumberRange"]  # closed
    records = read_all(streams_client, old_arn)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["before"]
    # a closed shard read to its end gives no next iterator
    iterator = streams_client.get_shard_iterator(
        StreamArn=old_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    response = streams_client.get_records(ShardIterator=iterator)
    assert len(response["Records"]) == 1 and "NextShardIterator" not in response


@rule
def test_enabling_again_gives_a_new_stream_with_a_millisecond_label(
    ddb, streams_client, make_table
):
    table = make_table("NEW_IMAGE")
    ddb.put_item(TableName=table, Item={"pk": {"S": "one"}})
    old_arn = stream_arn_of(ddb, table)
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    ddb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "two"}})
    described = ddb.describe_table(TableName=table)["Table"]
    new_arn = described["LatestStreamArn"]
    assert new_arn != old_arn
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", described["LatestStreamLabel"])
    assert new_arn.endswith("/stream/" + described["LatestStreamLabel"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams_client, old_arn)] == ["one"]
    new_records = read_all(streams_client, new_arn)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in new_records] == ["two"]
    assert new_records[0]["dynamodb"]["StreamViewType"] == "KEYS_ONLY"
    arns = {s["StreamArn"] for s in streams_client.list_streams(TableName=table)["Streams"]}
    assert arns == {old_arn, new_arn}


@rule
def test_deleted_tables_stream_stays_readable(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    arn = stream_arn_of(ddb, table)
    ddb.delete_table(TableName=table)
    assert streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] == (
        "DISABLED"
    )
    assert len(read_all(streams_client, arn)) == 1


# -- the Streams API -------------------------------------------------------------------------------


@rule
def test_unknown_shard_is_resource_not_found(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    with pytest.raises(ClientError) as err:
        streams_client.get_shard_iterator(
            StreamArn=stream_arn_of(ddb, table),
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="TRIM_HORIZON",
        )
    assert _code(err) == "ResourceNotFoundException"


@rule
def test_unknown_stream_is_resource_not_found(streams_client):
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Nope/stream/2022-08-21T15:34:25.720"
    with pytest.raises(ClientError) as err:
        streams_client.describe_stream(StreamArn=arn)
    assert _code(err) == "ResourceNotFoundException"
    assert arn in err.value.response["Error"]["Message"]


@rule
def test_shard_iterators_expire_after_15_minutes(ddb, streams_client, make_table, monkeypatch):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    arn = stream_arn_of(ddb, table)
    shard = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    issued = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: issued + 14 * 60)
    assert len(streams_client.get_records(ShardIterator=iterator)["Records"]) == 1
    monkeypatch.setattr(local_state, "now", lambda: issued + 15 * 60 + 1)
    with pytest.raises(ClientError) as err:
        streams_client.get_records(ShardIterator=iterator)
    assert _code(err) == "ExpiredIteratorException"


@rule
def test_polling_does_not_pile_up_iterators(aws, ddb, streams_client, make_table):
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    table = make_table("KEYS_ONLY")
    arn = stream_arn_of(ddb, table)
    shard = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    kept = dynamodbstreams_backends[aws.account_id][aws.region].shard_iterators
    before = len(kept)
    for _ in range(300):
        iterator = streams_client.get_records(ShardIterator=iterator)["NextShardIterator"]
    assert len(kept) == before


@rule
def test_records_older_than_24_hours_are_trimmed(ddb, streams_client, make_table, monkeypatch):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    arn = stream_arn_of(ddb, table)
    (old,) = read_all(streams_client, arn)
    written = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: written + 24 * 3600 + 5)
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams_client, arn)] == ["new"]
    shard = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    with pytest.raises(ClientError) as err:
        streams_client.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard["ShardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=old["dynamodb"]["SequenceNumber"],
        )
    assert _code(err) == "TrimmedDataAccessException"


def test_get_records_pages_at_1000_records(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    for start in range(0, 1100, 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{n:05d}"}}}}
                    for n in range(start, start + 25)
                ]
            }
        )
    arn = stream_arn_of(ddb, table)
    shard = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    first = streams_client.get_records(ShardIterator=iterator)
    second = streams_client.get_records(ShardIterator=first["NextShardIterator"])
    assert (len(first["Records"]), len(second["Records"])) == (1000, 100)
    last = int(first["Records"][-1]["dynamodb"]["SequenceNumber"])
    assert int(second["Records"][0]["dynamodb"]["SequenceNumber"]) > last


@rule
def test_shard_lineage_parent_then_child(aws, ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "in-parent"}})
    child_id = aws.roll_shards(table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "in-child"}})
    shards = streams_client.describe_stream(StreamArn=stream_arn_of(ddb, table))[
        "StreamDescription"
    ]["Shards"]
    assert [s["ShardId"] for s in shards][-1] == child_id
    assert shards[1]["ParentShardId"] == shards[0]["ShardId"]
    assert "EndingSequenceNumber" in shards[0]["SequenceNumberRange"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in _records(ddb, streams_client, table)]
    assert keys == ["in-parent", "in-child"]


@rule
def test_motos_own_lambda_invocation_never_runs(aws, ddb, streams_client, make_table):
    """moto invokes mapped functions inside the write (needing Docker) and then clears the stream."""
    import io
    import zipfile

    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    iam = aws.client("iam")
    role = iam.create_role(
        RoleName=f"role-{table}",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}',
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    lam = aws.client("lambda")
    lam.create_function(
        FunctionName=f"fn-{table}",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    lam.create_event_source_mapping(
        FunctionName=f"fn-{table}", EventSourceArn=arn, StartingPosition="TRIM_HORIZON"
    )
    for n in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}})
    assert len(read_all(streams_client, arn)) == 3


def test_concurrent_writers_get_distinct_ordered_sequence_numbers(aws, make_table, streams_client):
    table = make_table("KEYS_ONLY")
    ddb = aws.client("dynamodb")

    def writer(prefix: str) -> None:
        keys = aws.credentials  # a session of its own per thread, with the run's credentials
        client = boto3.session.Session(
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            region_name=aws.region,
        ).client("dynamodb", endpoint_url=aws.endpoint_url)
        for n in range(25):
            client.put_item(TableName=table, Item={"pk": {"S": f"{prefix}{n}"}})

    threads = [threading.Thread(target=writer, args=(p,)) for p in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = read_all(streams_client, stream_arn_of(ddb, table))
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert len(records) == 100 and numbers == sorted(set(numbers))


def test_maps_with_a_field_named_like_a_type_are_compared_by_structure(
    ddb, streams_client, make_table
):
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "m": {"M": {"SS": {"S": "one"}}}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "m": {"M": {"SS": {"S": "two"}}}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "m": {"M": {"N": {"S": "x"}}}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "m": {"M": {"N": {"S": "x"}}}})  # no-op
    names = [r["eventName"] for r in _records(ddb, streams_client, table)]
    assert names == ["INSERT", "MODIFY", "INSERT"]


def test_cancelled_transactions_keep_tables_writing_to_the_one_store(
    aws, ddb, streams_client, make_table
):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "absent"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    from moto.dynamodb.models import dynamodb_backends

    moto_table = dynamodb_backends[aws.account_id][aws.region].get_table(table)
    assert moto_table.stream_shard.store is store_for(aws.account_id, aws.region)
    ddb.put_item(TableName=table, Item={"pk": {"S": "c"}})
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in _records(ddb, streams_client, table)]
    assert keys == ["a", "c"]
