"""The mapping and DynamoDB Streams APIs answer word for word as AWS does (issue 15).

Every message below is AWS's, with its source in docs/parity.md ("API answers, word for word");
the ones no source gives are marked UNCONFIRMED there and pinned here only by their error code.
Also here: the Streams API's iterators (AT_SEQUENCE_NUMBER at the shard's start, AT_TIMESTAMP,
look-up by bisection) and the on-failure record of a failed partial batch response.
"""

from __future__ import annotations

import itertools
import json
import math
import time

import pytest
from botocore.exceptions import ClientError
from helpers import read_all, stream_arn_of, zip_source

from streamkit import triggers
from streamkit.errors import FunctionNotFoundError
from streamkit.limits import SHARD_ITERATOR_TYPES
from streamkit.local import state as local_state
from streamkit.local.dynamodbstreams.models import Shard, StreamStore
from streamkit.local.esm.processor import failure_record

NOOP = "def handler(event, context):\n    return None\n"
_names = itertools.count(1)


@pytest.fixture
def function(aws):
    iam, lam = aws.client("iam"), aws.client("lambda")
    name = f"answers-fn-{next(_names)}"
    role = iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_source(NOOP)},
    )
    yield name
    # leave nothing behind: other modules list every mapping of the shared backend
    for mapping in lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]:
        uuid = mapping["UUID"]
        for _ in range(200):  # a mapping still Creating or Updating cannot be deleted yet
            try:
                lam.delete_event_source_mapping(UUID=uuid)
                break
            except lam.exceptions.ResourceInUseException:
                time.sleep(0.01)
    aws.settle(10)
    lam.delete_function(FunctionName=name)


@pytest.fixture
def stream(aws, make_table):
    return stream_arn_of(aws.client("dynamodb"), make_table("NEW_AND_OLD_IMAGES"))


def _refused(call, **kwargs):
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response


# -- the mapping API ---------------------------------------------------------------------------------


def test_empty_filter_criteria_is_left_out_of_every_answer(aws, function, stream):
    lam = aws.client("lambda")
    created = lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        FilterCriteria={"Filters": []},
    )
    assert "FilterCriteria" not in created
    assert "FilterCriteria" not in lam.get_event_source_mapping(UUID=created["UUID"])
    (listed,) = lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
    assert "FilterCriteria" not in listed


def test_listing_the_mappings_of_an_unknown_function_is_an_empty_list(aws, stream):
    lam = aws.client("lambda")
    assert (
        lam.list_event_source_mappings(FunctionName="no-such-function")["EventSourceMappings"] == []
    )
    assert (
        lam.list_event_source_mappings(FunctionName="no-such-function", EventSourceArn=stream)[
            "EventSourceMappings"
        ]
        == []
    )


def test_no_event_source_arn_is_an_unrecognized_event_source(aws, function):
    answer = _refused(
        aws.client("lambda").create_event_source_mapping,
        FunctionName=function,
        StartingPosition="LATEST",
    )
    assert answer["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "Unrecognized event source.",
    }
    assert answer["Type"] == "User"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_missing_starting_position_is_invalid_parameter_value_in_validation_words(
    aws, function, stream
):
    answer = _refused(
        aws.client("lambda").create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=stream,
    )
    assert answer["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "1 validation error detected: Value null at 'startingPosition' failed to "
        "satisfy constraint: Member must not be null.",
    }


def test_an_unknown_starting_position_lists_aws_enum_in_aws_order(aws, function, stream):
    answer = _refused(
        aws.client("lambda").create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="0",
    )
    assert answer["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value '0' at 'startingPosition' failed to "
        "satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, "
        "TRIM_HORIZON]",
    }
    assert "Type" not in answer  # request validation answers with a bare {"message": ...}


def test_at_timestamp_is_unsupported_for_a_dynamodb_stream(aws, function, stream):
    answer = _refused(
        aws.client("lambda").create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="AT_TIMESTAMP",
        StartingPositionTimestamp=1_700_000_000,
    )
    assert answer["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": f"Unsupported starting position for arn type: {stream}",
    }


def test_a_timestamp_needs_at_timestamp(aws, function, stream):
    answer = _refused(
        aws.client("lambda").create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        StartingPositionTimestamp=1_700_000_000,
    )
    assert answer["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "Timestamp only valid with StartingPosition AT_TIMESTAMP",
    }


def test_several_model_violations_are_answered_together(aws, function, stream):
    answer = _refused(
        aws.client("lambda").create_event_source_mapping,
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        BatchSize=10_001,
        TumblingWindowInSeconds=901,
        FunctionResponseTypes=["Everything"],
    )
    assert answer["Error"]["Code"] == "ValidationException"
    assert answer["Error"]["Message"] == (
        "3 validation errors detected: "
        "Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less "
        "than or equal to 10000; "
        "Value '901' at 'tumblingWindowInSeconds' failed to satisfy constraint: Member must have "
        "value less than or equal to 900; "
        "Value '[Everything]' at 'functionResponseTypes' failed to satisfy constraint: Member must "
        "satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]"
    )


def test_update_is_validated_as_create_is(aws, function, stream):
    lam = aws.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST"
    )["UUID"]
    answer = _refused(
        lam.update_event_source_mapping, UUID=uuid, MaximumBatchingWindowInSeconds=301
    )
    assert answer["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' "
        "failed to satisfy constraint: Member must have value less than or equal to 300",
    }
    deadline = time.monotonic() + 5
    while lam.get_event_source_mapping(UUID=uuid)["State"] != "Enabled":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    answer = _refused(lam.update_event_source_mapping, UUID=uuid, FunctionName="no-such-function")
    assert answer["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": "Function does not exist",
    }


@pytest.mark.parametrize("operation", ["get", "update", "delete"])
def test_an_unknown_uuid_is_not_found(aws, operation):
    lam = aws.client("lambda")
    uuid = "00000000-0000-0000-0000-000000000000"
    call = {
        "get": lambda: lam.get_event_source_mapping(UUID=uuid),
        "update": lambda: lam.update_event_source_mapping(UUID=uuid, BatchSize=5),
        "delete": lambda: lam.delete_event_source_mapping(UUID=uuid),
    }[operation]
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "The resource you requested does not exist.",
    }
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_failed_partial_batch_response_has_a_null_function_error(
    aws, deploy, make_table, fast_polling
):
    ddb, sqs = aws.client("dynamodb"), aws.client("sqs")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    url = sqs.create_queue(QueueName=f"answers-{next(_names)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    function = deploy(
        "def handler(event, context):\n"
        "    return {'batchItemFailures': [{'itemIdentifier': r['dynamodb']['SequenceNumber']}\n"
        "            for r in event['Records']]}\n"
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    aws.client("lambda").create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=0,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.settle(20)
    deadline, messages = time.monotonic() + 5, []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])
    (message,) = [json.loads(m["Body"]) for m in messages]
    # AWS keeps the key with a null value (LocalStack's AWS-validated snapshots, AWS-FACTS §2.4)
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": None,
    }
    assert list(message["responseContext"]) == ["statusCode", "executedVersion", "functionError"]


def test_failure_record_keys_function_error_either_way():
    records = [{"dynamodb": {"SequenceNumber": "1" * 21, "ApproximateCreationDateTime": 0}}]
    common = {
        "request_id": "r",
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "condition": "RetryAttemptsExhausted",
        "invoke_count": 1,
        "shard_id": "shardId-1",
        "stream_arn": "arn",
        "records": records,
    }
    assert failure_record(**common, unhandled=True)["responseContext"]["functionError"] == (
        "Unhandled"
    )
    assert failure_record(**common, unhandled=False)["responseContext"]["functionError"] is None


# -- the Streams API ---------------------------------------------------------------------------------


def _shard(streams_client, arn):
    return streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]


def _read(streams_client, iterator):
    return [
        r["dynamodb"]["Keys"]["pk"]["S"]
        for r in streams_client.get_records(ShardIterator=iterator)["Records"]
    ]


def test_the_model_has_at_timestamp():
    assert SHARD_ITERATOR_TYPES[-1] == "AT_TIMESTAMP"


@pytest.mark.parametrize("kind", ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])
def test_the_shards_own_starting_sequence_number_reads_from_its_first_record(
    ddb, streams_client, make_table, kind
):
    table = make_table("KEYS_ONLY")
    for key in ("a", "b"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    arn = stream_arn_of(ddb, table)
    shard = _shard(streams_client, arn)
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn,
        ShardId=shard["ShardId"],
        ShardIteratorType=kind,
        SequenceNumber=shard["SequenceNumberRange"]["StartingSequenceNumber"],
    )["ShardIterator"]
    assert _read(streams_client, iterator) == ["a", "b"]


def test_at_timestamp_reads_from_the_first_record_at_or_after_it(
    ddb, streams_client, make_table, monkeypatch
):
    table = make_table("KEYS_ONLY")
    start = math.floor(local_state.now()) - 100
    for offset, key in ((0.2, "a"), (10.5, "b"), (20.0, "c")):
        monkeypatch.setattr(local_state, "now", lambda at=start + offset: at)
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    monkeypatch.setattr(local_state, "now", lambda: start + 30)
    arn = stream_arn_of(ddb, table)
    shard_id = _shard(streams_client, arn)["ShardId"]

    def at(timestamp):
        return streams_client.get_shard_iterator(
            StreamArn=arn, ShardId=shard_id, ShardIteratorType="AT_TIMESTAMP", Timestamp=timestamp
        )["ShardIterator"]

    # ApproximateCreationDateTime is whole seconds: b is at start + 10
    assert _read(streams_client, at(start + 10)) == ["b", "c"]
    assert _read(streams_client, at(start + 10.5)) == ["c"]
    assert _read(streams_client, at(start - 5000)) == ["a", "b", "c"]  # before all: the horizon
    assert _read(streams_client, at(start + 25)) == []
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}})  # an iterator past the end waits there
    assert _read(streams_client, at(start + 25)) == ["d"]
    with pytest.raises(ClientError) as err:  # the future: botocore's model says ValidationException
        at(start + 3600)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_iterator_arguments_that_do_not_go_together_are_refused(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    arn = stream_arn_of(ddb, table)
    shard = _shard(streams_client, arn)
    start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
    cases = [
        {"ShardIteratorType": "TRIM_HORIZON", "SequenceNumber": start},
        {"ShardIteratorType": "LATEST", "SequenceNumber": start},
        {"ShardIteratorType": "AT_SEQUENCE_NUMBER"},
        {"ShardIteratorType": "AT_TIMESTAMP"},
        {"ShardIteratorType": "LATEST", "Timestamp": 1_700_000_000},
        {"ShardIteratorType": "bulle"},
    ]
    for case in cases:
        with pytest.raises(ClientError) as err:
            streams_client.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **case)
        assert err.value.response["Error"]["Code"] == "ValidationException", case


def test_stream_api_refusals(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    arn = stream_arn_of(ddb, table)
    shard_id = _shard(streams_client, arn)["ShardId"]
    gone = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    cases = [
        (
            lambda: streams_client.describe_stream(StreamArn=gone),
            "ResourceNotFoundException",
            f"Requested resource not found: Stream: {gone} not found",
        ),
        (
            lambda: streams_client.get_shard_iterator(
                StreamArn=arn,
                ShardId="shardId-00000000000000000000-00000000",
                ShardIteratorType="LATEST",
            ),
            "ResourceNotFoundException",
            "Requested resource not found: Shard does not exist",
        ),
        (  # not a stream ARN at all: a ValidationException on AWS (wording UNCONFIRMED)
            lambda: streams_client.describe_stream(StreamArn="x" * 52),
            "ValidationException",
            None,
        ),
        (
            lambda: streams_client.get_records(ShardIterator="s" * 56, Limit=1000),
            "ValidationException",
            None,
        ),
        (
            lambda: streams_client.get_records(
                ShardIterator=streams_client.get_shard_iterator(
                    StreamArn=arn, ShardId=shard_id, ShardIteratorType="LATEST"
                )["ShardIterator"],
                Limit=1001,
            ),
            "ValidationException",
            None,
        ),
    ]
    for call, code, message in cases:
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == code
        if message is not None:
            assert err.value.response["Error"]["Message"] == message


def test_an_unknown_exclusive_start_shard_id_lists_no_shards(ddb, streams_client, make_table):
    table = make_table("KEYS_ONLY")
    arn = stream_arn_of(ddb, table)
    description = streams_client.describe_stream(StreamArn=arn, ExclusiveStartShardId="z" * 40)[
        "StreamDescription"
    ]
    assert description["Shards"] == []


def test_the_model_messages_for_expiry_and_trimming(ddb, streams_client, make_table, monkeypatch):
    table = make_table("KEYS_ONLY")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    arn = stream_arn_of(ddb, table)
    shard = _shard(streams_client, arn)
    (record,) = read_all(streams_client, arn)
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    now = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: now + 15 * 60 + 1)
    answer = _refused(streams_client.get_records, ShardIterator=iterator)
    assert answer["Error"] == {
        "Code": "ExpiredIteratorException",
        "Message": "The provided iterator exceeds the maximum age allowed.",
    }
    monkeypatch.setattr(local_state, "now", lambda: now + 24 * 3600 + 5)
    answer = _refused(
        streams_client.get_shard_iterator,
        StreamArn=arn,
        ShardId=shard["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=record["dynamodb"]["SequenceNumber"],
    )
    assert answer["Error"] == {
        "Code": "TrimmedDataAccessException",
        "Message": "The data you are trying to access has been trimmed.",
    }


class _CountingList(list):
    """A list that counts how many of its elements are looked at (bisect reads one at a time)."""

    reads = 0

    def __getitem__(self, index):
        type(self).reads += 1
        return super().__getitem__(index)

    def __iter__(self):
        raise AssertionError("a scan: the look-up must bisect")

    def __contains__(self, value):
        raise AssertionError("a scan: the look-up must bisect")


@pytest.mark.parametrize("size", [1_000, 100_000])
def test_look_up_by_sequence_number_costs_the_same_at_1k_and_100k(size, monkeypatch):
    store = StreamStore("123456789012", "us-east-1")
    stream = store.enable(
        "t",
        "arn:aws:dynamodb:us-east-1:123456789012:table/t",
        [{"AttributeName": "pk"}],
        "KEYS_ONLY",
    )
    shard: Shard = stream.shards[0]
    base = shard.starting_sequence_number
    numbers = _CountingList(base + 1 + 2 * n for n in range(size))  # every other number
    shard.sequence_numbers = numbers
    shard.created_at = [local_state.now()] * size
    shard.records = [{}] * size
    shard.encoded = [""] * size
    _CountingList.reads = 0
    target = str(base + 1 + 2 * (size // 2))
    store.get_shard_iterator(stream.arn, shard.shard_id, "AT_SEQUENCE_NUMBER", target)
    assert _CountingList.reads <= 2 * math.ceil(math.log2(size)) + 2  # about log2(n), not n
    with pytest.raises(Exception, match="Invalid SequenceNumber|not in shard"):
        store.get_shard_iterator(stream.arn, shard.shard_id, "AT_SEQUENCE_NUMBER", str(base + 2))


def test_the_kits_helpers_read_aws_words_for_a_missing_function(aws, stream):
    with pytest.raises(FunctionNotFoundError):
        triggers.create_trigger(aws, "no-such-function", stream, timeout_s=5)
    assert triggers.list_triggers(aws, function_name="no-such-function") == []
