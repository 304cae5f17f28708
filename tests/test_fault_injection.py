"""Fault injection: many writes across many keys while the function randomly raises, times out
and crashes its worker. Afterwards every record of the stream was processed (at least once, in
order per key and per shard) or is in the on-failure destination: none lost, none out of order.

AWS's rules (AWS-FACTS §2.2–2.4): at-least-once delivery, in-order processing per shard, a failed
batch bisected (``BisectBatchOnFunctionError``, not counted as a retry) and retried
``MaximumRetryAttempts`` times, then discarded with a failure record (``DDBStreamBatchInfo``) sent
to the on-failure destination.

Run with ``pytest -s`` to see the figures (records, invocations, retries, duplicates, discards,
crashes, timeouts, wall time); every assertion message carries them too.
The test runs :data:`SMALL` (1,200 writes, every kind of fault); ``bench/bench_fault_injection.py``
runs :data:`FULL` (over 10,000 writes, the same faults) several times and prints its figures. Both
go through the same checks.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import zip_source


@dataclass(frozen=True)
class Scenario:
    """The writes, the mapping and the faults every invocation may meet (see FUNCTION)."""

    keys: int  # distinct partition keys
    rounds: int  # writes per key, versions v = 0 .. rounds - 1
    mapping_after: int  # requests written before the mapping is created: a backlog, then tailing
    roll_after: tuple[int, ...]  # requests after which the shard is rolled: parent, child, ...
    batch_size: int
    #: (key index, version) of the records the function always fails on: each must end up
    #: discarded (bisected down to itself, retried RETRIES times, sent to the destination)
    poison: frozenset[tuple[int, int]]
    #: (key index, version) -> the fault of the first invocation whose batch holds that record, so
    #: that each kind of fault happens in every run (on top of the random ones)
    first_time_faults: dict[tuple[int, int], str]

    @property
    def writes(self) -> int:
        return self.keys * self.rounds


PER_REQUEST = 25  # BatchWriteItem's maximum; the keys of one request are distinct
RETRIES = 2  # MaximumRetryAttempts
TIMEOUT_S = 1  # the function's timeout: what a timed-out invocation costs, about

#: Over 10,000 writes (bench/bench_fault_injection.py runs it, several times).
FULL = Scenario(
    keys=400,
    rounds=26,
    mapping_after=100,
    roll_after=(180, 300),
    batch_size=100,
    poison=frozenset({(7, 3), (88, 9), (160, 13), (251, 17), (333, 22)}),
    first_time_faults={
        (40, 2): "crash before",
        (120, 8): "timeout after",
        (210, 14): "crash after",
        (300, 20): "timeout before",
        (390, 24): "raise after",
    },
)
#: The same faults (every kind at least once, random ones at the same rates, poison records
#: bisected out and discarded, two shard roll-overs, a backlog then tailing) over 1,200 writes: the
#: test's scenario, a few seconds long.
SMALL = Scenario(
    keys=100,
    rounds=12,
    mapping_after=12,
    roll_after=(24, 36),
    batch_size=50,
    poison=frozenset({(7, 3), (81, 9)}),
    first_time_faults={
        (10, 1): "crash before",
        (30, 4): "timeout after",
        (50, 6): "crash after",
        (70, 8): "timeout before",
        (90, 10): "raise after",
    },
)
assert FULL.writes >= 10_000

# Each invocation draws its fate: raise, crash its worker (os._exit) or sleep past its timeout, half
# of the time before printing its batch (nothing done), half after it (duplicates to come).
# One line per invocation that got that far: PROCESSED {"t": CLOCK_MONOTONIC ns, "records":
# [[pk, v, SequenceNumber], ...]}; then COMMITTED when it returns successfully.
FUNCTION = """
import json
import os
import random
import time

RAISE, CRASH, TIMEOUT = 0.08, 0.03, 0.006
FIRST_TIME = {tuple(k): v for k, v in json.loads(os.environ["FIRST_TIME_FAULTS"])}


def fail(kind):
    print("FAULT " + kind)
    if kind == "raise":
        raise RuntimeError("injected fault")
    if kind == "crash":
        os._exit(1)
    time.sleep(10)  # killed at the function's timeout


def first_time(key):  # whether this is the first invocation that saw the record (any process)
    marker = os.path.join(os.environ["FAULT_DIR"], "%s-%d" % key)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def handler(event, context):
    records, poison, fault, when = [], [], None, None
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        sequence = record["dynamodb"]["SequenceNumber"]
        key = (image["pk"]["S"], int(image["v"]["N"]))
        records.append([key[0], key[1], sequence])
        if "poison" in image:
            poison.append(sequence)
        if key in FIRST_TIME and fault is None and first_time(key):
            fault, when = FIRST_TIME[key].split()
    if poison:
        print("POISON " + json.dumps(poison))
        raise ValueError("poison record(s): " + " ".join(poison))
    if fault is None:
        draw = random.random()
        if draw < RAISE:
            fault = "raise"
        elif draw < RAISE + CRASH:
            fault = "crash"
        elif draw < RAISE + CRASH + TIMEOUT:
            fault = "timeout"
        when = random.choice(["before", "after"])
    if fault and when == "before":
        fail(fault)
    print("PROCESSED " + json.dumps({"t": time.monotonic_ns(), "records": records}))
    if fault:
        fail(fault)
    print("COMMITTED " + json.dumps({"n": len(records), "first": records[0][2]}))
"""

_names = itertools.count(1)


def _key(index: int) -> str:
    return f"key-{index:04d}"


def _requests(scenario: Scenario) -> list[list[dict[str, Any]]]:
    """The writes as BatchWriteItem requests: round after round, 25 distinct keys a request."""
    requests = []
    for version in range(scenario.rounds):
        for start in range(0, scenario.keys, PER_REQUEST):
            items = []
            for index in range(start, min(scenario.keys, start + PER_REQUEST)):
                item = {"pk": {"S": _key(index)}, "v": {"N": str(version)}, "pad": {"S": "x" * 40}}
                if (index, version) in scenario.poison:
                    item["poison"] = {"BOOL": True}
                items.append({"PutRequest": {"Item": item}})
            requests.append(items)
    return requests


def _stream_records(aws: Any, stream: str) -> list[tuple[str, dict[str, Any]]]:
    """Every record of the stream, shard by shard (parents first), through the plain Streams API:
    the truth. (shard id, record) pairs."""
    client = aws.client("dynamodbstreams")
    shards = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"]
    parent = {s["ShardId"]: s.get("ParentShardId") for s in shards}
    ordered: list[str] = []
    while len(ordered) < len(parent):
        ordered += [
            s
            for s in parent
            if s not in ordered and (parent[s] not in parent or parent[s] in ordered)
        ]
    records = []
    for shard in ordered:
        iterator = client.get_shard_iterator(
            StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=1000)
            records.extend((shard, r) for r in page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return records


def _log_lines(aws: Any, function: str) -> list[str]:
    """Every log event of the function (all its execution environments), in time order."""
    logs, events = aws.client("logs"), []
    for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{function}"
    ):
        events.extend((e["timestamp"], e["message"]) for e in page["events"])
    events.sort(key=lambda e: e[0])
    return [message.rstrip("\n") for _, message in events]


def _tagged(lines: list[str], tag: str) -> list[Any]:
    """The JSON after ``TAG `` on the lines that start with it (whitespace tolerated)."""
    found = []
    for line in lines:
        text = line.strip()
        if text.startswith(tag + " "):
            found.append(json.loads(text[len(tag) + 1 :]))
    return found


def _queue_messages(aws: Any, url: str, expected: int, timeout: float = 10.0) -> list[dict]:
    """Every message of the queue (at least ``expected``, waiting up to ``timeout`` seconds)."""
    sqs, found, empty = aws.client("sqs"), {}, 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (len(found) < expected or empty < 2):
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=600
        ).get("Messages", [])
        for message in batch:
            found[message["MessageId"]] = json.loads(message["Body"])
        empty = 0 if batch else empty + 1
    return list(found.values())


@dataclass
class Run:
    """What one run of the scenario produced: the truth, the logs, the destination, the state."""

    scenario: Scenario = FULL
    written: int = 0
    truth: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    state: Any = None  # mapping_state() rows of the mapping
    discards: Any = None  # discarded_batches() rows of the mapping
    stats: Any = None  # the runtime's stats() row of the function
    wrote_in: float = 0.0
    settled_in: float = 0.0
    began: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)


def run_scenario(
    aws: Any,
    scenario: Scenario = FULL,
    settle_timeout: float = 75.0,
    parallelization_factor: int = 1,
) -> Run:
    """Create a table, a faulty function, an SQS on-failure destination and a mapping (with
    ``parallelization_factor`` concurrent batches per shard); write the records; wait for the
    trigger to settle; collect everything the checks need."""
    run = Run(scenario=scenario, began=time.monotonic())
    ddb, lam, sqs = aws.client("dynamodb"), aws.client("lambda"), aws.client("sqs")
    n = next(_names)
    table = f"faults-{n}-{time.time_ns()}"
    stream = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    role = aws.client("iam").create_role(RoleName=f"{table}-role", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    function = f"{table}-fn"
    fault_dir = tempfile.mkdtemp(prefix="streamkit-faults-")
    first_time = [[[_key(i), v], kind] for (i, v), kind in scenario.first_time_faults.items()]
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_source(FUNCTION)},
        Timeout=TIMEOUT_S,
        Environment={
            "Variables": {"FAULT_DIR": fault_dir, "FIRST_TIME_FAULTS": json.dumps(first_time)}
        },
    )
    url = sqs.create_queue(QueueName=f"{table}-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    uuid = None
    aws.set_poll_interval(0.01)
    try:
        requests = _requests(scenario)
        for number, items in enumerate(requests, start=1):
            left = ddb.batch_write_item(RequestItems={table: items}).get("UnprocessedItems")
            assert not left, f"request {number}: unprocessed items {left}"
            run.written += len(items)
            if number == scenario.mapping_after:
                uuid = lam.create_event_source_mapping(
                    FunctionName=function,
                    EventSourceArn=stream,
                    StartingPosition="TRIM_HORIZON",
                    BatchSize=scenario.batch_size,
                    MaximumRetryAttempts=RETRIES,
                    BisectBatchOnFunctionError=True,
                    DestinationConfig={"OnFailure": {"Destination": queue_arn}},
                    ParallelizationFactor=parallelization_factor,
                )["UUID"]
            if number in scenario.roll_after:
                aws.roll_shards(table)
        run.wrote_in = time.monotonic() - run.began
        aws.settle(timeout=settle_timeout)
        run.settled_in = time.monotonic() - run.began
        state = aws.mapping_state()
        run.state = state[state["uuid"] == uuid]
        discards = aws.discarded_batches()
        run.discards = discards[discards["uuid"] == uuid]
        stats = aws.lambda_service.runtime.stats()
        run.stats = stats[stats["function"] == function]
    finally:
        aws.set_poll_interval(0.25)
        if uuid is not None:
            lam.delete_event_source_mapping(UUID=uuid)
        shutil.rmtree(fault_dir, ignore_errors=True)
    run.truth = _stream_records(aws, stream)
    run.lines = _log_lines(aws, function)
    run.messages = _queue_messages(aws, url, expected=len(run.discards))
    return run


def check(run: Run) -> dict[str, Any]:
    """Assert that nothing was lost, nothing is out of order and the counts add up; returns the
    figures (also printed, and part of every assertion message)."""
    # the truth, indexed
    shard_of: dict[str, str] = {}
    index_of: dict[str, int] = {}  # sequence number -> its index in its shard
    shard_records: dict[str, list[str]] = defaultdict(list)  # parents first
    key_version: dict[str, tuple[str, int]] = {}
    for shard, record in run.truth:
        sequence = record["dynamodb"]["SequenceNumber"]
        shard_of[sequence], index_of[sequence] = shard, len(shard_records[shard])
        shard_records[shard].append(sequence)
        image = record["dynamodb"]["NewImage"]
        key_version[sequence] = (image["pk"]["S"], int(image["v"]["N"]))
    scenario = run.scenario
    poison = {
        s for s, (k, v) in key_version.items() if (int(k.split("-")[1]), v) in scenario.poison
    }

    # what the function did, from its logs
    processed = sorted(_tagged(run.lines, "PROCESSED"), key=lambda b: b["t"])
    committed = _tagged(run.lines, "COMMITTED")
    poisoned = _tagged(run.lines, "POISON")
    faults = Counter(t for t in (line.strip() for line in run.lines) if t.startswith("FAULT "))
    raised, crashed, timed = faults["FAULT raise"], faults["FAULT crash"], faults["FAULT timeout"]
    reports = sum(1 for line in run.lines if line.startswith("REPORT RequestId:"))
    timeouts = sum(1 for line in run.lines if "Task timed out after" in line)
    crashes = sum(1 for line in run.lines if "Runtime exited with error" in line)
    deliveries = Counter(r[2] for b in processed for r in b["records"])
    first_seen: dict[str, int] = {}  # sequence number -> rank of its first processing
    for rank, record in enumerate(r for b in processed for r in b["records"]):
        first_seen.setdefault(record[2], rank)

    # the on-failure destination
    discarded: Counter[str] = Counter()
    for message in run.messages:
        info = message["DDBStreamBatchInfo"]
        start, end = info["startSequenceNumber"], info["endSequenceNumber"]
        assert shard_of.get(start) == shard_of.get(end) == info["shardId"], message
        covered = shard_records[info["shardId"]][index_of[start] : index_of[end] + 1]
        assert len(covered) == info["batchSize"], message
        discarded.update(covered)

    state = run.state
    invocations, batches = int(state["invocations"].sum()), int(state["batches"].sum())
    figures = run.figures
    figures.update(
        {
            "writes": run.written,
            "stream records": len(run.truth),
            "shards": len(shard_records),
            "invocations": invocations,
            "successful batches": batches,
            "retries": invocations - batches,
            "failed invocations": int(state["errors"].sum()),
            "records processed": len(deliveries),
            "duplicates": sum(1 for n in deliveries.values() if n > 1),
            "extra deliveries": sum(n - 1 for n in deliveries.values()),
            "discarded records": sum(discarded.values()),
            "discarded batches": len(run.messages),
            "poison records": len(poison),
            "raised": raised + len(poisoned),
            "crashes": crashes,
            "timeouts": timeouts,
            "cold starts": int(run.stats["cold_starts"].sum()),
            "write s": round(run.wrote_in, 1),
            "settled at s": round(run.settled_in, 1),
            "wall s": round(time.monotonic() - run.began, 1),
        }
    )
    report = "fault injection: " + ", ".join(f"{k}={v}" for k, v in figures.items())
    print("\n" + report)

    # nothing lost, nothing made up
    records = set(index_of)
    # one stream record per write
    assert run.written == len(run.truth) == scenario.writes, report
    assert len(poison) == len(scenario.poison), report
    lost = records - set(deliveries) - set(discarded)
    assert not lost, f"{len(lost)} record(s) lost: {sorted(lost)[:20]}; {report}"
    assert set(deliveries) <= records and set(discarded) <= records, report
    assert max(discarded.values(), default=1) == 1, f"a record discarded twice; {report}"
    assert poison <= set(discarded), f"poison kept: {poison - set(discarded)}; {report}"
    assert not poison & set(deliveries), report

    # in order: each batch a contiguous run of one shard; first processing in shard order, hence
    # in version order per key; a child shard after its parent
    for batch in processed:
        sequences = [r[2] for r in batch["records"]]
        shard, first = shard_of[sequences[0]], index_of[sequences[0]]
        assert sequences == shard_records[shard][first : first + len(sequences)], (
            f"a batch that is not a run of consecutive records of one shard: {sequences}; {report}"
        )
    by_rank = sorted(first_seen, key=first_seen.__getitem__)
    per_shard: dict[str, list[int]] = defaultdict(list)
    per_key: dict[str, list[int]] = defaultdict(list)
    for sequence in by_rank:
        per_shard[shard_of[sequence]].append(index_of[sequence])
        key, version = key_version[sequence]
        per_key[key].append(version)
    for shard, indexes in per_shard.items():
        wrong = [(a, b) for a, b in itertools.pairwise(indexes) if a >= b]
        assert not wrong, f"{shard}: records first processed out of order {wrong[:5]}; {report}"
    wrong_keys = {k: v for k, v in per_key.items() if any(a >= b for a, b in itertools.pairwise(v))}
    assert not wrong_keys, f"out of order per key: {dict(list(wrong_keys.items())[:5])}; {report}"
    shards = list(shard_records)
    for parent, child in itertools.pairwise(shards):
        parent_done = max(
            (first_seen[s] for s in shard_records[parent] if s in first_seen), default=-1
        )
        child_began = min(
            (first_seen[s] for s in shard_records[child] if s in first_seen), default=1 << 62
        )
        assert parent_done < child_began, f"{child} began before {parent} ended; {report}"

    # the counts add up: successful batches and discards cover every record once
    assert int(state["records"].sum()) + int(state["discarded"].sum()) == len(records), report
    assert int(state["discarded"].sum()) == sum(discarded.values()), report
    assert len(committed) == batches, report
    assert sum(c["n"] for c in committed) == int(state["records"].sum()), report
    assert invocations == reports == int(run.stats["invocations"].sum()), (
        f"invocations: service {invocations}, REPORT lines {reports}, runtime "
        f"{int(run.stats['invocations'].sum())}; {report}"
    )
    failed = raised + crashed + timed + len(poisoned)
    assert int(state["errors"].sum()) == failed == invocations - batches, report
    assert crashes == crashed == int(run.stats["crashes"].sum()) >= 2, report
    assert timeouts == timed == int(run.stats["timeouts"].sum()) >= 2, report
    # the service's own list of discards is what the destination received
    assert len(run.discards) == len(run.messages), report
    assert run.discards["delivered"].all(), report
    ranges = [
        (
            m["DDBStreamBatchInfo"]["startSequenceNumber"],
            m["DDBStreamBatchInfo"]["endSequenceNumber"],
        )
        for m in run.messages
    ]
    assert sorted(ranges) == sorted(
        zip(
            run.discards["first_sequence_number"], run.discards["last_sequence_number"], strict=True
        )
    ), report
    for message in run.messages:
        assert message["requestContext"]["condition"] == "RetryAttemptsExhausted", message
        assert message["requestContext"]["approximateInvokeCount"] == RETRIES + 1, message
    return figures


@pytest.mark.slow
def test_faults_lose_nothing_and_keep_order_per_key(aws):
    check(run_scenario(aws, SMALL))
