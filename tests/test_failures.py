"""When things go wrong, as AWS does it: retry limits, bisecting, record age, on-failure
destinations (SQS, SNS, S3), restarts of the local Lambda service, and TTL deletions.
The reference for every number and message: AWS-FACTS §2.1–2.4 and §7."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from helpers import load_fixture, read_all, stream_arn_of

from streamkit.events import parse_records
from streamkit.local import state as local_state
from streamkit.logs import events_from_logs

ALWAYS_FAIL = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
    raise ValueError("poison")
"""

FAIL_ON_BAD = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
    if any(r["dynamodb"]["Keys"]["pk"]["S"] == "bad" for r in event["Records"]):
        raise ValueError("a bad record in this batch")
"""

LOG_EVENT = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
"""

pytestmark = pytest.mark.usefixtures("fast_polling")
_names = itertools.count(1)


@pytest.fixture
def queue(aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"failures-{next(_names)}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _messages(aws, url, expected, timeout=5.0):
    sqs, found = aws.client("sqs"), []
    deadline = time.monotonic() + timeout
    while len(found) < expected and time.monotonic() < deadline:
        found += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
    return [json.loads(m["Body"]) for m in found]


def _mapping(aws, function, stream, **settings):
    uuid = aws.client("lambda").create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", **settings
    )["UUID"]
    return uuid


def _keys_received(aws, function):
    return [[r.keys["pk"] for r in parse_records(e.event)] for e in events_from_logs(aws, function)]


def _shape(value):
    """The keys (recursively) and JSON types of a message, to compare with AWS's example."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    return type(value).__name__


@pytest.mark.parametrize("retries", [1, 3])
def test_retries_exhausted_send_aws_failure_record_and_unblock_the_shard(
    aws, deploy, make_table, queue, retries
):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    url, queue_arn = queue
    function = deploy(FAIL_ON_BAD)
    ddb.put_item(TableName=table, Item={"pk": {"S": "bad"}})
    uuid = _mapping(
        aws,
        function,
        stream,
        MaximumRetryAttempts=retries,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.settle(20)
    ddb.put_item(TableName=table, Item={"pk": {"S": "good"}})
    aws.settle(20)
    assert _keys_received(aws, function) == [["bad"]] * (retries + 1) + [["good"]]
    (message,) = _messages(aws, url, 1)
    sample = load_fixture("lambda-on-failure-record")
    assert _shape(message) == _shape(sample)  # same fields, same order, same types
    assert list(message) == list(sample)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == retries + 1
    assert message["requestContext"]["functionArn"].endswith(f":function:{function}")
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    info = message["DDBStreamBatchInfo"]
    (record,) = read_all(aws.client("dynamodbstreams"), stream)[:1]
    assert (
        info["startSequenceNumber"]
        == info["endSequenceNumber"]
        == record["dynamodb"]["SequenceNumber"]
    )
    assert info["batchSize"] == 1 and info["streamArn"] == stream
    assert info["shardId"].startswith("shardId-")
    state = aws.mapping_state()
    row = state[state["uuid"] == uuid].iloc[0]
    assert (row["discarded"], row["records"]) == (1, 1)
    discards = aws.discarded_batches()
    entry = discards[discards["uuid"] == uuid].iloc[0]
    assert entry["condition"] == "RetryAttemptsExhausted" and bool(entry["delivered"])


def test_bisecting_isolates_the_bad_record_without_using_retries(aws, deploy, make_table, queue):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    url, queue_arn = queue
    for key in ("a", "b", "bad", "c"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    function = deploy(FAIL_ON_BAD)
    _mapping(
        aws,
        function,
        stream,
        MaximumRetryAttempts=0,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    aws.settle(20)
    batches = _keys_received(aws, function)
    assert batches[0] == ["a", "b", "bad", "c"]  # fails, bisected (no retry used)
    assert batches[1:] == [["a", "b"], ["bad", "c"], ["bad"], ["c"]]  # halves, then halves again
    (message,) = _messages(aws, url, 1)
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1
    assert message["requestContext"]["approximateInvokeCount"] == 1


def test_default_settings_retry_until_the_record_expires(aws, deploy, make_table, monkeypatch):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    function = deploy(ALWAYS_FAIL)
    ddb.put_item(TableName=table, Item={"pk": {"S": "poison"}})
    uuid = _mapping(aws, function, stream)
    time.sleep(0.5)
    state = aws.mapping_state()
    row = state[state["uuid"] == uuid].iloc[0]
    assert row["errors"] >= 2 and row["records"] == 0 and row["discarded"] == 0  # blocked
    start = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: start + 24 * 3600 + 60)  # past retention
    aws.settle(20)
    state = aws.mapping_state()
    assert state[state["uuid"] == uuid].iloc[0]["discarded"] == 1


def test_maximum_record_age_discards_old_records(aws, deploy, make_table, queue, monkeypatch):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    url, queue_arn = queue
    function = deploy(ALWAYS_FAIL)
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    _mapping(
        aws,
        function,
        stream,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    time.sleep(0.3)
    start = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: start + 61)
    aws.settle(20)
    (message,) = _messages(aws, url, 1)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"


def test_sns_and_s3_destinations(aws, deploy, make_table):
    ddb, sns, sqs, s3 = (aws.client(n) for n in ("dynamodb", "sns", "sqs", "s3"))
    topic = sns.create_topic(Name=f"failures-{next(_names)}")["TopicArn"]
    url = sqs.create_queue(QueueName=f"sub-{next(_names)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    bucket = f"failures-{next(_names)}"
    s3.create_bucket(Bucket=bucket)
    for destination in (topic, f"arn:aws:s3:::{bucket}"):
        table = make_table("KEYS_ONLY")
        stream = stream_arn_of(ddb, table)
        function = deploy(ALWAYS_FAIL)
        ddb.put_item(TableName=table, Item={"pk": {"S": "poison"}})
        uuid = _mapping(
            aws,
            function,
            stream,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": destination}},
        )
        aws.settle(20)
    (envelope,) = _messages(aws, url, 1)
    assert (
        json.loads(envelope["Message"])["requestContext"]["condition"] == "RetryAttemptsExhausted"
    )
    (obj,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert obj["Key"].startswith(f"aws/lambda/{uuid}/shardId-")
    stored = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
    assert stored["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stored["payload"]["Records"]] == ["poison"]


def test_a_failing_shard_blocks_only_itself(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    bad_table, good_table = make_table("KEYS_ONLY"), make_table("KEYS_ONLY")
    failing, working = deploy(ALWAYS_FAIL), deploy(LOG_EVENT)
    bad = _mapping(aws, failing, stream_arn_of(ddb, bad_table))
    _mapping(aws, working, stream_arn_of(ddb, good_table))
    ddb.put_item(TableName=bad_table, Item={"pk": {"S": "poison"}})
    for key in ("x", "y"):
        ddb.put_item(TableName=good_table, Item={"pk": {"S": key}})
    deadline = time.monotonic() + 5
    while [k for b in _keys_received(aws, working) for k in b] != ["x", "y"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    aws.client("lambda").delete_event_source_mapping(UUID=bad)
    aws.settle(10)


def test_restarted_service_resumes_from_checkpoints(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    function = deploy(LOG_EVENT)
    _mapping(aws, function, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    aws.settle(10)
    aws.restart_lambda_service()
    aws.set_poll_interval(0.01)
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    aws.settle(10)
    assert [k for b in _keys_received(aws, function) for k in b] == ["before", "after"]


def test_ttl_expiry_removes_items_as_the_service(aws, make_table, streams_client):
    ddb = aws.client("dynamodb")
    table = make_table("NEW_AND_OLD_IMAGES")
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    now = int(time.time())
    ddb.put_item(TableName=table, Item={"pk": {"S": "expired"}, "ttl": {"N": str(now - 10)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "fresh"}, "ttl": {"N": str(now + 3600)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "forever"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "forever"}})  # a user's delete
    assert aws.expire_ttl(table) == 1
    raw = read_all(streams_client, stream_arn_of(ddb, table))
    assert raw[-1]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    records = parse_records(raw)  # GetRecords spells the Identity shape's fields in capitals
    removes = [r for r in records if r.event_name.value == "REMOVE"]
    assert [(r.keys["pk"], r.is_ttl_delete) for r in removes] == [
        ("forever", False),
        ("expired", True),
    ]
    assert removes[1].user_identity == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert removes[1].old_image["pk"] == "expired"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "expired"}})


def test_filters_skip_records_without_invoking(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("NEW_AND_OLD_IMAGES")
    stream = stream_arn_of(ddb, table)
    function = deploy(LOG_EVENT)
    pattern = json.dumps(
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["user"]}}}}
    )
    uuid = _mapping(aws, function, stream, FilterCriteria={"Filters": [{"Pattern": pattern}]})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "kind": {"S": "user"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "kind": {"S": "user"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "kind": {"S": "robot"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    aws.settle(10)  # filtered-out records are checkpointed past, so the mapping catches up
    assert _keys_received(aws, function) == [["a"]]
    state = aws.mapping_state()
    row = state[state["uuid"] == uuid].iloc[0]
    assert (row["records"], row["filtered_out"], row["invocations"]) == (1, 3, 1)


def test_ttl_only_filter_sees_only_service_deletions(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    function = deploy(LOG_EVENT)
    pattern = {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
    _mapping(aws, function, stream, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    ddb.put_item(
        TableName=table, Item={"pk": {"S": "old"}, "ttl": {"N": str(int(time.time()) - 60)}}
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "mine"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "mine"}})
    assert aws.expire_ttl(table) == 1
    aws.settle(10)
    (received,) = events_from_logs(aws, function)
    (record,) = received.records
    assert record.keys == {"pk": "old"} and record.is_ttl_delete


def test_records_expire_even_when_the_batch_is_full(aws, deploy, make_table, monkeypatch):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    function = deploy(ALWAYS_FAIL)
    ddb.put_item(TableName=table, Item={"pk": {"S": "poison"}})
    uuid = _mapping(aws, function, stream_arn_of(ddb, table), BatchSize=1)
    time.sleep(0.3)
    start = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: start + 24 * 3600 + 60)
    aws.settle(20)
    state = aws.mapping_state()
    assert state[state["uuid"] == uuid].iloc[0]["discarded"] == 1


def test_a_discard_then_filtered_records_on_a_closed_shard_settle(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("NEW_IMAGE")
    stream = stream_arn_of(ddb, table)
    function = deploy(ALWAYS_FAIL)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})  # MODIFY: filtered out
    aws.roll_shards(table)
    pattern = json.dumps({"eventName": ["INSERT"]})
    _mapping(
        aws,
        function,
        stream,
        MaximumRetryAttempts=0,
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )
    aws.settle(10)  # the discarded INSERT and the filtered MODIFY are both behind the checkpoint


def test_a_filtered_backlog_is_skipped_quickly(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    function = deploy(LOG_EVENT)
    for start in range(0, 500, 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}}}}
                    for n in range(start, start + 25)
                ]
            }
        )
    pattern = json.dumps({"eventName": ["REMOVE"]})
    aws.set_poll_interval(0.25)  # AWS's rate: 500 skipped records must not take 500 polls
    began = time.monotonic()
    _mapping(
        aws,
        function,
        stream_arn_of(ddb, table),
        BatchSize=1,
        FilterCriteria={"Filters": [{"Pattern": pattern}]},
    )
    aws.settle(10)
    assert time.monotonic() - began < 5
    assert events_from_logs(aws, function) == []
