"""The local Lambda service end to end: a function deployed with the Lambda API, a mapping created
with the Lambda API, writes to the table, ``settle()``, and the events read back from the logs."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from helpers import load_fixture, read_all, stream_arn_of

from streamkit.errors import SettleTimeoutError
from streamkit.logs import events_from_logs

LOG_EVENT = """
import json

def handler(event, context):
    print("EVENT " + json.dumps(event))
"""


def fails_first(times: int) -> str:
    """A handler that logs each event and raises on its first ``times`` invocations."""
    return f"""
import json
calls = 0

def handler(event, context):
    global calls
    calls += 1
    print("EVENT " + json.dumps(event))
    if calls <= {times}:
        raise RuntimeError("failing call " + str(calls))
"""


FAIL_FIRST_TIME = fails_first(1)

ALWAYS_FAIL = """
def handler(event, context):
    raise ValueError("poison")
"""

pytestmark = pytest.mark.usefixtures("fast_polling")


def _mapping(aws, function, stream, **settings):
    lam = aws.client("lambda")
    args = {"FunctionName": function, "EventSourceArn": stream, "StartingPosition": "TRIM_HORIZON"}
    uuid = lam.create_event_source_mapping(**{**args, **settings})["UUID"]
    aws.settle(10)
    return uuid


def _records_received(aws, function):
    return [[r.raw for r in e.records] for e in events_from_logs(aws, function)]


def test_events_are_what_aws_sends(aws, deploy, make_table):
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

    sample = load_fixture("sam-dynamodb-update")["Records"]
    ddb = aws.client("dynamodb")
    table = make_table("NEW_AND_OLD_IMAGES", hash_key=("Id", "N"))
    stream = stream_arn_of(ddb, table)
    function = deploy(LOG_EVENT)
    _mapping(aws, function, stream)
    ddb.put_item(TableName=table, Item=sample[0]["dynamodb"]["NewImage"])
    ddb.put_item(TableName=table, Item=sample[1]["dynamodb"]["NewImage"])
    ddb.delete_item(TableName=table, Key=sample[2]["dynamodb"]["Keys"])
    aws.settle(10)
    received = [r for batch in _records_received(aws, function) for r in batch]
    assert [r["eventName"] for r in received] == ["INSERT", "MODIFY", "REMOVE"]
    from_stream = read_all(aws.client("dynamodbstreams"), stream)
    for ours, aws_sample, raw in zip(received, sample, from_stream, strict=True):
        # the order of fields Lambda uses (AWS-FACTS §7)
        assert list(ours) == list(aws_sample)
        assert list(ours["dynamodb"]) == [
            k
            for k in (
                "ApproximateCreationDateTime",
                "Keys",
                "NewImage",
                "OldImage",
                "SequenceNumber",
                "SizeBytes",
                "StreamViewType",
            )
            if k in aws_sample["dynamodb"]
        ]
        for field in ("Keys", "NewImage", "OldImage", "SizeBytes", "StreamViewType"):
            assert ours["dynamodb"].get(field) == aws_sample["dynamodb"].get(field), field
        for field in ("eventName", "eventVersion", "eventSource"):
            assert ours[field] == aws_sample[field]
        assert isinstance(ours["dynamodb"]["ApproximateCreationDateTime"], int)
        assert ours["eventSourceARN"] == stream and ours["awsRegion"] == aws.region
        assert ours["eventID"] == raw["eventID"]
        assert ours["dynamodb"]["SequenceNumber"] == raw["dynamodb"]["SequenceNumber"]
    parsed = parse(event={"Records": received}, model=DynamoDBStreamModel)
    assert [r.eventName for r in parsed.Records] == ["INSERT", "MODIFY", "REMOVE"]


def test_latest_sees_only_later_writes_and_batch_size_holds(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    function = deploy(LOG_EVENT)
    _mapping(
        aws,
        function,
        stream,
        StartingPosition="LATEST",
        BatchSize=3,
        MaximumBatchingWindowInSeconds=1,
    )
    for n in range(7):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"after-{n}"}})
    aws.settle(10)
    batches = _records_received(aws, function)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for batch in batches for r in batch]
    assert keys == [f"after-{n}" for n in range(7)]
    assert max(len(b) for b in batches) <= 3 and len(batches) >= 3


def test_disabled_mapping_waits_then_resumes_and_deleted_stops(aws, deploy, make_table):
    ddb, lam = aws.client("dynamodb"), aws.client("lambda")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    function = deploy(LOG_EVENT)
    uuid = _mapping(aws, function, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "one"}})
    aws.settle(10)
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    aws.settle(10)
    ddb.put_item(TableName=table, Item={"pk": {"S": "two"}})
    aws.settle(10)  # a disabled mapping is not waited for
    assert len(_records_received(aws, function)) == 1
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    aws.settle(10)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for b in _records_received(aws, function) for r in b]
    assert keys == ["one", "two"]
    lam.delete_event_source_mapping(UUID=uuid)
    aws.settle(10)
    ddb.put_item(TableName=table, Item={"pk": {"S": "three"}})
    aws.settle(10)
    assert len(_records_received(aws, function)) == 2
    with pytest.raises(ClientError):
        lam.get_event_source_mapping(UUID=uuid)


def test_a_failed_batch_is_delivered_again_identical(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("NEW_IMAGE")
    stream = stream_arn_of(ddb, table)
    function = deploy(FAIL_FIRST_TIME)
    _mapping(aws, function, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    aws.settle(10)
    batches = _records_received(aws, function)
    assert len(batches) == 2 and batches[0] == batches[1]
    state = aws.mapping_state()
    row = state[state["function"] == function].iloc[0]
    assert (row["invocations"], row["errors"], row["records"]) == (2, 1, 1)
    assert row["last_processing_result"] == "OK"


def test_a_failing_function_blocks_its_shard_and_settle_says_why(aws, deploy, make_table):
    ddb, lam = aws.client("dynamodb"), aws.client("lambda")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    function = deploy(ALWAYS_FAIL)
    uuid = _mapping(aws, function, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "poison"}})
    with pytest.raises(SettleTimeoutError) as err:
        aws.settle(1.0)
    message = str(err.value)
    assert uuid in message and "1 record(s) behind" in message and "ValueError: poison" in message
    assert (
        lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"]
        == "PROBLEM: Function call failed"
    )
    lam.delete_event_source_mapping(UUID=uuid)
    aws.settle(10)


def test_two_mappings_on_one_stream_are_independent(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    first, second = deploy(LOG_EVENT), deploy(LOG_EVENT)
    _mapping(aws, first, stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    aws.settle(10)
    _mapping(aws, second, stream, StartingPosition="TRIM_HORIZON")
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})
    aws.settle(10)
    for function in (first, second):
        keys = [
            r["dynamodb"]["Keys"]["pk"]["S"] for b in _records_received(aws, function) for r in b
        ]
        assert keys == ["a", "b"]


def test_parent_shard_before_child(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "parent"}})
    aws.roll_shards(table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "child"}})
    function = deploy(LOG_EVENT)
    _mapping(aws, function, stream)
    aws.settle(10)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for b in _records_received(aws, function) for r in b]
    assert keys == ["parent", "child"]


def test_payload_stays_under_6_mb(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("NEW_AND_OLD_IMAGES")
    stream = stream_arn_of(ddb, table)
    big = "x" * 300_000
    for n in range(12):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}, "blob": {"S": big}})
    for n in range(12):  # MODIFY records carry both images: ~600 KB each
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{n}"}, "blob": {"S": big + "y"}})
    function = deploy(
        "import json\n"
        "def handler(event, context):\n"
        "    print('RECORDS', len(event['Records']), len(json.dumps(event)))\n"
    )
    _mapping(aws, function, stream, BatchSize=100)
    aws.settle(30)
    logs = aws.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
    batches = [e["message"].split()[1:] for e in logs if e["message"].startswith("RECORDS")]
    counts, sizes = [int(n) for n, _ in batches], [int(b) for _, b in batches]
    assert sum(counts) == 24 and len(batches) >= 2  # ~10.8 MB of records: two payloads at least
    assert max(sizes) <= 6 * 1024 * 1024 < sum(sizes)


# -- partial batch responses (ReportBatchItemFailures), AWS-FACTS §2.3 ------------------------------


@pytest.mark.parametrize(
    ("payload", "verdict"),
    [
        (None, None),
        ({}, None),
        ({"batchItemFailures": None}, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": [{"itemIdentifier": "200"}]}, 200),
        ({"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]}, 200),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, -1),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, -1),
        ({"batchItemFailures": [{"itemIdentifer": "200"}]}, -1),  # a bad key name
        ({"batchItemFailures": [{"itemIdentifier": "999"}]}, -1),  # not in the batch
        ({"batchItemFailures": "200"}, -1),
    ],
)
def test_partial_batch_response_matrix(payload, verdict):
    from streamkit.local.esm.processor import partial_batch_verdict

    assert partial_batch_verdict(payload, [100, 200, 300]) == verdict


REPORT_SECOND_ONCE = """
import json
failed = False

def handler(event, context):
    global failed
    print("EVENT " + json.dumps(event))
    records = event["Records"]
    if not failed and len(records) >= 2:
        failed = True
        return {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    return {"batchItemFailures": []}
"""


def test_reported_failure_retries_from_that_record(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    for key in ("a", "b", "c"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    function = deploy(REPORT_SECOND_ONCE)
    _mapping(aws, function, stream, FunctionResponseTypes=["ReportBatchItemFailures"])
    aws.settle(10)
    batches = [
        [r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in _records_received(aws, function)
    ]
    assert batches == [["a", "b", "c"], ["b", "c"]]


def test_response_is_ignored_without_the_flag(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    for key in ("a", "b", "c"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    function = deploy(REPORT_SECOND_ONCE)
    _mapping(aws, function, stream)
    aws.settle(10)
    batches = [
        [r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in _records_received(aws, function)
    ]
    assert batches == [["a", "b", "c"]]


def test_grandchild_shard_waits_for_parent_and_grandparent(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    for key in ("first", "second", "third"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
        aws.roll_shards(table)
    function = deploy(LOG_EVENT)
    _mapping(aws, function, stream)
    aws.settle(10)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for b in _records_received(aws, function) for r in b]
    assert keys == ["first", "second", "third"]


FAIL_TWICE = fails_first(2)


def test_a_retried_batch_does_not_grow(aws, deploy, make_table):
    ddb = aws.client("dynamodb")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    function = deploy(FAIL_TWICE)
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    lam = aws.client("lambda")
    lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON"
    )
    deadline = time.monotonic() + 5
    while not events_from_logs(aws, function) and time.monotonic() < deadline:
        time.sleep(0.01)
    ddb.put_item(TableName=table, Item={"pk": {"S": "second"}})  # arrives while a retry waits
    aws.settle(10)
    batches = [
        [r["dynamodb"]["Keys"]["pk"]["S"] for r in b] for b in _records_received(aws, function)
    ]
    assert batches[:3] == [["first"], ["first"], ["first"]]  # the failed batch, exactly, twice more
    assert [k for b in batches[3:] for k in b] == ["second"]


def test_unknown_mapping_is_not_found(aws):
    lam = aws.client("lambda")
    for call in (lam.update_event_source_mapping, lam.delete_event_source_mapping):
        kwargs = {"UUID": "00000000-0000-4000-8000-000000000000"}
        if call == lam.update_event_source_mapping:
            kwargs["BatchSize"] = 10
        with pytest.raises(ClientError) as err:
            call(**kwargs)
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_bad_poll_interval_is_refused_before_anything_starts():
    from streamkit.errors import InvalidParameterError
    from streamkit.local import LocalAWS

    with pytest.raises(InvalidParameterError):
        LocalAWS(poll_interval_s=0)


def test_an_idle_service_sleeps_until_a_write_wakes_it(aws, deploy, make_table):
    """No polling of idle shards, even at the fastest setting: with every mapping caught up, the
    loop makes no pass until something happens; a write wakes it, and its record is processed."""
    ddb = aws.client("dynamodb")
    function = deploy(LOG_EVENT)
    tables = [make_table("KEYS_ONLY") for _ in range(3)]
    for table in tables:
        _mapping(aws, function, stream_arn_of(ddb, table))
    aws.set_poll_interval(0.001)
    aws.settle(10)
    service = aws.lambda_service
    before = service.passes
    time.sleep(0.3)  # a loop polling every 1 ms would make about 300 passes
    # (mappings left failing by other tests may wake it for their retries: a few passes at most)
    assert service.passes - before <= 10
    ddb.put_item(TableName=tables[1], Item={"pk": {"S": "wake"}})
    aws.settle(10)
    assert service.passes > before
    received = events_from_logs(aws, function, expect=1)
    assert [r.records[0].keys for r in received] == [{"pk": "wake"}]
