"""Streams with several shards: ``LocalAWS(shards_per_stream=...)``, automatic rollover on
``shard_rollover_s``, keys that keep their lineage, and every reader (the local Lambda service,
``streams.read_records``, ``polling.poll_stream``) taking parents before children.

AWS (AWS-FACTS §1.3): one open shard per table partition, each its own ordered sequence; shards
roll over (parent closes, child opens) about every 4 hours (``STREAM_SHARD_ROLLOVER_SECONDS``,
INFERRED); "always process a parent shard before a child shard"; records of one item are in order.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from typing import Any

import pytest
from helpers import read_all, stream_arn_of
from test_fault_injection import SMALL, _log_lines, _stream_records, _tagged, run_scenario

from streamkit import polling, streams
from streamkit.errors import InvalidParameterError
from streamkit.limits import STREAM_SHARD_ROLLOVER_SECONDS
from streamkit.local import LocalAWS
from streamkit.local import state as local_state
from streamkit.local.dynamodbstreams.models import partition_hash, store_for
from streamkit.local.esm.poller import lane_of

pytestmark = pytest.mark.usefixtures("fast_polling")

#: Logs each batch it is given: ``BATCH {"t": monotonic ns, "records": [[pk, SequenceNumber]]}``.
RECORDER = """
import json
import time

def handler(event, context):
    records = [[r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"]]
               for r in event["Records"]]
    print("BATCH " + json.dumps({"t": time.monotonic_ns(), "records": records}))
"""

#: Fails one invocation in four (before doing anything), logs the others like RECORDER.
FLAKY = """
import json
import random
import time

def handler(event, context):
    if random.random() < 0.25:
        raise RuntimeError("flaky")
    records = [[r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"]]
               for r in event["Records"]]
    print("BATCH " + json.dumps({"t": time.monotonic_ns(), "records": records}))
"""


@pytest.fixture
def shards(aws):
    """``shards(n, rollover_s)`` sets the backend's shard settings for this test only."""
    before = (aws.shards_per_stream, aws.shard_rollover_s)

    def configure(n: int = 4, rollover_s: float = math.inf) -> None:
        aws.set_shards(shards_per_stream=n, shard_rollover_s=rollover_s)

    yield configure
    aws.set_shards(shards_per_stream=before[0], shard_rollover_s=before[1])


def _describe(aws: Any, arn: str) -> list[dict[str, Any]]:
    return aws.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"][
        "Shards"
    ]


def _put_rounds(ddb: Any, table: str, keys: int, rounds: range, pause: float = 0.0) -> None:
    for version in rounds:
        for start in range(0, keys, 25):
            ddb.batch_write_item(
                RequestItems={
                    table: [
                        {
                            "PutRequest": {
                                "Item": {"pk": {"S": f"k{i:03d}"}, "v": {"N": str(version)}}
                            }
                        }
                        for i in range(start, min(keys, start + 25))
                    ]
                }
            )
        if pause:
            time.sleep(pause)


def _shard_of_each_record(aws: Any, arn: str) -> list[tuple[str, dict[str, Any]]]:
    """(shard id, record) for every record, through the plain Streams API, parents first."""
    return _stream_records(aws, arn)


def _lineage(shards: list[dict[str, Any]]) -> dict[str, str | None]:
    return {s["ShardId"]: s.get("ParentShardId") for s in shards}


def _descends(parent_of: dict[str, str | None], shard: str, ancestor: str) -> bool:
    while shard is not None:
        if shard == ancestor:
            return True
        shard = parent_of.get(shard)  # type: ignore[assignment]
    return False


def _check_lineage_order(
    parent_of: dict[str, str | None], shard_of: dict[str, str], rank: dict[str, int]
) -> None:
    """Every record of a parent shard was first processed before any record of its child."""
    by_shard: dict[str, list[int]] = defaultdict(list)
    for sequence, position in rank.items():
        by_shard[shard_of[sequence]].append(position)
    for child, parent in parent_of.items():
        if parent in by_shard and child in by_shard:
            assert max(by_shard[parent]) < min(by_shard[child]), f"{child} began before {parent}"


# -- the store --------------------------------------------------------------------------------------


def test_streams_start_with_the_configured_number_of_open_shards(aws, ddb, make_table, shards):
    shards(4)
    table = make_table("KEYS_ONLY")
    described = _describe(aws, stream_arn_of(ddb, table))
    assert len(described) == 4
    assert all("ParentShardId" not in s for s in described)
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in described)
    assert len({s["ShardId"] for s in described}) == 4
    assert streams.describe_stream(aws, table).to_dataframe()["open"].sum() == 4


def test_settings_are_checked():
    for bad in (0, -1, 1.5, True, 101, "4"):
        with pytest.raises(InvalidParameterError):
            LocalAWS(shards_per_stream=bad)
    for bad in (0, -5, math.nan, "1", False):
        with pytest.raises(InvalidParameterError):
            LocalAWS(shard_rollover_s=bad)
    fresh = LocalAWS(shards_per_stream=3, shard_rollover_s=math.inf)
    assert (fresh.shards_per_stream, fresh.shard_rollover_s) == (3, math.inf)
    assert LocalAWS().shard_rollover_s == STREAM_SHARD_ROLLOVER_SECONDS == 4 * 3600


def test_the_partition_hash_is_stable_and_canonical():
    assert partition_hash({"S": "u1"}) == partition_hash({"S": "u1"})
    assert partition_hash({"N": "1.50"}) == partition_hash({"N": "1.5"})
    assert partition_hash({"S": "1"}) != partition_hash({"N": "1"})
    # the same in every process: a fixed value, not Python's salted hash()
    assert partition_hash({"S": "u1"}) == int.from_bytes(
        __import__("hashlib").sha256(b"S:u1").digest()[:8], "big"
    )


def test_a_key_always_lands_in_one_lineage_across_rollovers(aws, ddb, make_table, shards):
    shards(4)
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    _put_rounds(ddb, table, keys=60, rounds=range(2))
    aws.roll_shards(table)
    _put_rounds(ddb, table, keys=60, rounds=range(2, 4))
    aws.roll_shards(table)
    _put_rounds(ddb, table, keys=60, rounds=range(4, 6))
    described = _describe(aws, arn)
    parent_of = _lineage(described)
    assert len(described) == 12
    shards_of: dict[str, list[str]] = defaultdict(list)
    used = set()
    for shard, record in _shard_of_each_record(aws, arn):
        shards_of[record["dynamodb"]["Keys"]["pk"]["S"]].append(shard)
        used.add(shard)
    assert len(shards_of) == 60 and len(used) == 12  # every shard got keys
    for key, seen in shards_of.items():
        assert len(seen) == 6
        # one shard per generation, each the child of the one before: the key kept its lineage
        for earlier, later in itertools.pairwise(seen):
            assert _descends(parent_of, later, earlier), (key, seen)
        assert len(set(seen)) == 3, (key, seen)


def test_per_key_order_in_get_records_across_all_shards(aws, ddb, make_table, shards):
    shards(4)
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    _put_rounds(ddb, table, keys=40, rounds=range(3))
    aws.roll_shards(table)
    _put_rounds(ddb, table, keys=40, rounds=range(3, 5))
    for records in (
        read_all(aws.client("dynamodbstreams"), arn),  # the plain API, DescribeStream's order
        [r.raw for r in streams.read_records(aws, table)],  # the helper, lineage order
    ):
        assert len(records) == 200
        versions: dict[str, list[int]] = defaultdict(list)
        for record in records:
            image = record["dynamodb"]["NewImage"]
            versions[image["pk"]["S"]].append(int(image["v"]["N"]))
        assert all(v == list(range(5)) for v in versions.values())
        sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        assert len(set(sequences)) == 200  # unique across shards


def test_describe_stream_lists_parents_before_children(aws, ddb, make_table, shards):
    shards(4)
    table = make_table("KEYS_ONLY")
    arn = stream_arn_of(ddb, table)
    first = aws.roll_shards(table)
    second = aws.roll_shards(table)
    described = _describe(aws, arn)
    ids = [s["ShardId"] for s in described]
    assert len(ids) == 12 and ids[-1] == second and first in ids[4:8]
    for index, shard in enumerate(described):
        parent = shard.get("ParentShardId")
        if index < 4:
            assert parent is None
        else:
            assert parent in ids[:index]  # listed before
    parents = [s["ParentShardId"] for s in described[4:]]
    assert len(set(parents)) == 8  # each parent has one child
    open_ = [s for s in described if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    assert [s["ShardId"] for s in open_] == ids[8:]
    # a closed shard's range ends before its child's starts
    start = {
        s["ShardId"]: int(s["SequenceNumberRange"]["StartingSequenceNumber"]) for s in described
    }
    for shard in described[:8]:
        end = int(shard["SequenceNumberRange"]["EndingSequenceNumber"])
        children = [s for s in described if s.get("ParentShardId") == shard["ShardId"]]
        assert all(start[c["ShardId"]] > end for c in children)


def test_shards_roll_over_on_the_clock_at_the_next_write_or_read(
    aws, ddb, make_table, shards, monkeypatch
):
    shards(2, rollover_s=3600)
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    _put_rounds(ddb, table, keys=10, rounds=range(1))
    opened = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: opened + 3599)
    assert len(_describe(aws, arn)) == 2  # not yet due
    monkeypatch.setattr(local_state, "now", lambda: opened + 3601)
    _put_rounds(ddb, table, keys=10, rounds=range(1, 2))  # the write rolls them over first
    described = _describe(aws, arn)
    assert len(described) == 4 and [s.get("ParentShardId") for s in described[2:]] == [
        s["ShardId"] for s in described[:2]
    ]
    # a read rolls over too: DescribeStream 2 hours later (shard_rollover_s changed meanwhile)
    aws.set_shards(shard_rollover_s=1800)
    monkeypatch.setattr(local_state, "now", lambda: opened + 3601 + 1800)
    assert len(_describe(aws, arn)) == 6
    # the records of each key followed their lineage, in order
    parent_of = _lineage(_describe(aws, arn))
    by_key: dict[str, list[str]] = defaultdict(list)
    for shard, record in _shard_of_each_record(aws, arn):
        by_key[record["dynamodb"]["Keys"]["pk"]["S"]].append(shard)
    assert all(_descends(parent_of, b, a) and a != b for a, b in by_key.values())


def test_a_rollover_while_a_reader_is_on_the_shard(aws, ddb, make_table, shards, monkeypatch):
    """GetRecords on a shard that rolled over meanwhile reads its records, then ends (no next
    iterator), and the child holds what came after."""
    shards(1, rollover_s=60)
    table = make_table("KEYS_ONLY")
    arn = stream_arn_of(ddb, table)
    client = aws.client("dynamodbstreams")
    (shard,) = _describe(aws, arn)
    iterator = client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    opened = local_state.now()
    monkeypatch.setattr(local_state, "now", lambda: opened + 61)
    page = client.get_records(ShardIterator=iterator)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["before"]
    assert "NextShardIterator" not in page
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    assert [r.keys["pk"] for r in streams.read_records(aws, table)] == ["before", "after"]


# -- the helpers that read shards -------------------------------------------------------------------


def test_read_records_takes_parents_before_children_in_every_lineage(aws, ddb, make_table, shards):
    shards(4)
    table = make_table("NEW_IMAGE")
    _put_rounds(ddb, table, keys=30, rounds=range(2))
    aws.roll_shards(table)
    _put_rounds(ddb, table, keys=30, rounds=range(2, 4))
    batch = streams.read_records(aws, table)
    assert len(batch) == 120 and len(batch.shards_read) == 8
    parent_of = _lineage(_describe(aws, stream_arn_of(ddb, table)))
    position = {shard: i for i, shard in enumerate(batch.shards_read)}
    for child, parent in parent_of.items():
        if parent is not None:
            assert position[parent] < position[child]


@pytest.mark.parametrize("position", ["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])
def test_read_records_from_a_sequence_number_across_shards(aws, ddb, make_table, shards, position):
    shards(4)
    table = make_table("NEW_IMAGE")
    _put_rounds(ddb, table, keys=20, rounds=range(2))
    aws.roll_shards(table)
    _put_rounds(ddb, table, keys=20, rounds=range(2, 4))
    everything = streams.read_records(aws, table)
    numbers = sorted(int(r.sequence_number) for r in everything)
    pivot = numbers[30]  # a record of a closed parent shard, written in the middle of round 1
    batch = streams.read_records(aws, table, position=position, sequence_number=str(pivot))
    got = sorted(int(r.sequence_number) for r in batch)
    first = 30 if position == "AT_SEQUENCE_NUMBER" else 31
    assert got == numbers[first:]  # exactly the records from it on, in every shard


def test_poll_stream_reads_every_lineage_through_rollovers(aws, ddb, make_table, shards):
    shards(4)
    table = make_table("NEW_IMAGE")
    _put_rounds(ddb, table, keys=20, rounds=range(1))
    aws.roll_shards(table)
    _put_rounds(ddb, table, keys=20, rounds=range(1, 2))
    seen = []
    report = polling.poll_stream(
        aws,
        table,
        polls_per_second=50,
        seconds=0.6,
        position="TRIM_HORIZON",
        on_records=seen.extend,
    )
    assert report.records == len(seen) == 40 and report.shards == 8
    versions: dict[str, list[int]] = defaultdict(list)
    for record in seen:
        versions[record.keys["pk"]].append(int(record.new_image["v"]))
    assert all(v == [0, 1] for v in versions.values())


def test_an_idle_poller_pays_for_every_open_shard(aws, make_table, shards):
    """The pricing model's "shards" figure is the stream's real count: 4 open shards, 4 x the
    calls of one."""
    from streamkit import pricing

    shards(4)
    table = make_table("KEYS_ONLY")
    assert sum(s.is_open for s in streams.describe_stream(aws, table).shards) == 4
    report = polling.poll_stream(aws, table, polls_per_second=10, seconds=1)
    assert report.shards == 4 and report.records == 0
    modeled = pricing.polling_read_requests(report.shards, 10, hours=report.seconds / 3600)
    assert modeled == pytest.approx(40)
    assert abs(report.get_records_calls - modeled) <= 4


# -- the local Lambda service -----------------------------------------------------------------------


def _mapping(aws: Any, function: str, arn: str, **settings: Any) -> str:
    return aws.client("lambda").create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        **settings,
    )["UUID"]


def _processed(aws: Any, function: str) -> list[dict[str, Any]]:
    return sorted(_tagged(_log_lines(aws, function), "BATCH"), key=lambda b: b["t"])


def test_a_trigger_processes_every_record_of_4_shards_exactly_once(
    aws, ddb, deploy, make_table, shards
):
    shards(4)
    table = make_table("KEYS_ONLY")
    arn = stream_arn_of(ddb, table)
    function = deploy(RECORDER)
    _put_rounds(ddb, table, keys=50, rounds=range(4))
    uuid = _mapping(aws, function, arn, BatchSize=10)
    aws.settle(30)
    truth = {r["dynamodb"]["SequenceNumber"] for r in read_all(aws.client("dynamodbstreams"), arn)}
    delivered = [r[1] for b in _processed(aws, function) for r in b["records"]]
    assert len(truth) == 200 and sorted(delivered) == sorted(truth)  # each exactly once
    state = aws.mapping_state()
    rows = state[state["uuid"] == uuid]
    assert len(rows) == 4 and rows["records"].sum() == 200 and (rows["records"] > 0).all()
    aws.client("lambda").delete_event_source_mapping(UUID=uuid)


def test_automatic_rollover_children_start_when_parents_are_drained(
    aws, ddb, deploy, make_table, shards
):
    shards(4, rollover_s=0.3)
    table = make_table("KEYS_ONLY")
    arn = stream_arn_of(ddb, table)
    function = deploy(RECORDER)
    uuid = _mapping(aws, function, arn, BatchSize=7)
    _put_rounds(ddb, table, keys=24, rounds=range(5), pause=0.35)  # a rollover between rounds
    aws.settle(30)
    truth = _stream_records(aws, arn)
    shard_of = {r["dynamodb"]["SequenceNumber"]: s for s, r in truth}
    parent_of = _lineage(_describe(aws, arn))
    assert len(truth) == 120 and len(parent_of) >= 4 * 5
    rank: dict[str, int] = {}
    for record in (r for b in _processed(aws, function) for r in b["records"]):
        rank.setdefault(record[1], len(rank))
    assert set(rank) == set(shard_of)
    _check_lineage_order(parent_of, shard_of, rank)
    state = aws.mapping_state()
    assert len(state[state["uuid"] == uuid]) == len(parent_of)  # a row per shard read
    aws.client("lambda").delete_event_source_mapping(UUID=uuid)


def test_a_flaky_function_with_retries_over_4_shards_and_rollovers(
    aws, ddb, deploy, make_table, shards
):
    """Fault injection, lighter than tests/test_fault_injection.py: a function that fails one
    invocation in four, retried (MaximumRetryAttempts -1, bisecting), 4 shards rolled over by the
    clock and by hand while 100 keys are written 8 times: nothing lost, order kept per key and per
    shard, every parent before its child."""
    shards(4, rollover_s=0.5)
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(FLAKY)
    _put_rounds(ddb, table, keys=100, rounds=range(2))
    uuid = _mapping(aws, function, arn, BatchSize=20, BisectBatchOnFunctionError=True)
    for rounds in (range(2, 4), range(4, 6), range(6, 8)):
        _put_rounds(ddb, table, keys=100, rounds=rounds, pause=0.3)
        aws.roll_shards(table)
    aws.settle(60)
    truth = _stream_records(aws, arn)
    assert len(truth) == 800
    shard_of = {r["dynamodb"]["SequenceNumber"]: s for s, r in truth}
    index_in_shard: dict[str, int] = {}
    per_shard: dict[str, list[str]] = defaultdict(list)
    version = {}
    for shard, record in truth:
        sequence = record["dynamodb"]["SequenceNumber"]
        index_in_shard[sequence] = len(per_shard[shard])
        per_shard[shard].append(sequence)
        image = record["dynamodb"]["NewImage"]
        version[sequence] = (image["pk"]["S"], int(image["v"]["N"]))
    batches = _processed(aws, function)
    rank: dict[str, int] = {}
    for batch in batches:
        sequences = [r[1] for r in batch["records"]]
        shard, first = shard_of[sequences[0]], index_in_shard[sequences[0]]
        assert sequences == per_shard[shard][first : first + len(sequences)]  # a run of one shard
        for sequence in sequences:
            rank.setdefault(sequence, len(rank))
    assert set(rank) == set(shard_of), f"lost: {sorted(set(shard_of) - set(rank))[:10]}"
    by_key: dict[str, list[int]] = defaultdict(list)
    for sequence in sorted(rank, key=rank.__getitem__):
        key, v = version[sequence]
        by_key[key].append(v)
    assert all(v == list(range(8)) for v in by_key.values())  # first processing in order per key
    _check_lineage_order(_lineage(_describe(aws, arn)), shard_of, rank)
    rows = aws.mapping_state()
    rows = rows[rows["uuid"] == uuid]
    assert rows["errors"].sum() > 0 and rows["discarded"].sum() == 0
    assert rows["records"].sum() == 800
    aws.client("lambda").delete_event_source_mapping(UUID=uuid)


def check_per_key(aws: Any, run: Any, factor: int = 1) -> dict[str, int]:
    """The checks of a fault-injection run on many shards and lanes (``factor``: the mapping's
    ParallelizationFactor), where tests/test_fault_injection.py's own ``check`` (one lineage, one
    batch at a time) does not apply: nothing lost (every record first processed, or in a batch
    a failure record names), each key's records first processed in order, every parent shard
    before its children. Returns the figures."""
    shard_of = {r["dynamodb"]["SequenceNumber"]: s for s, r in run.truth}
    record_of = {r["dynamodb"]["SequenceNumber"]: r for _, r in run.truth}
    key_version = {
        sequence: (r["dynamodb"]["NewImage"]["pk"]["S"], int(r["dynamodb"]["NewImage"]["v"]["N"]))
        for sequence, r in record_of.items()
    }
    assert len(run.truth) == run.scenario.writes
    processed = sorted(_tagged(run.lines, "PROCESSED"), key=lambda b: b["t"])
    rank: dict[str, int] = {}
    for record in (r for b in processed for r in b["records"]):
        rank.setdefault(record[2], len(rank))
    by_shard: dict[str, list[str]] = defaultdict(list)
    for shard, record in run.truth:
        by_shard[shard].append(record["dynamodb"]["SequenceNumber"])
    discarded = set()
    for message in run.messages:  # a failure record names its batch's first and last record:
        info = message["DDBStreamBatchInfo"]  # with lanes, the batch is those of the first's lane
        records = by_shard[info["shardId"]]
        first = records.index(info["startSequenceNumber"])
        last = records.index(info["endSequenceNumber"])
        lane = lane_of(record_of[records[first]], "pk", factor)
        in_lane = [
            s for s in records[first : last + 1] if lane_of(record_of[s], "pk", factor) == lane
        ]
        assert len(in_lane) == info["batchSize"], info
        discarded.update(in_lane)
    lost = set(shard_of) - set(rank) - discarded
    assert not lost, f"{len(lost)} lost"
    per_key: dict[str, list[int]] = defaultdict(list)
    for sequence in sorted(rank, key=rank.__getitem__):
        key, version = key_version[sequence]
        per_key[key].append(version)
    assert all(a < b for v in per_key.values() for a, b in itertools.pairwise(v))
    a_shard = next(iter(shard_of.values()))
    (arn,) = [  # the run's stream: the one holding these shards
        s.arn
        for s in store_for(aws.account_id, aws.region).streams.values()
        if any(shard.shard_id == a_shard for shard in s.shards)
    ]
    _check_lineage_order(_lineage(_describe(aws, arn)), shard_of, rank)
    return {
        "records": len(shard_of),
        "shards": len(set(shard_of.values())),
        "processed": len(rank),
        "discarded": len(discarded),
        "keys in order": len(per_key),
        "lost": len(lost),
    }


@pytest.mark.slow
def test_fault_injection_scenario_with_4_shards_and_parallelization_factor_3(aws, shards):
    """tests/test_fault_injection.py's SMALL scenario (raises, crashes, timeouts, poison records,
    bisecting, an on-failure queue, two rollovers) on 4 shards that also roll over on a 1 s clock,
    each shard processed by 3 concurrent batches (``ParallelizationFactor`` 3), checked per key
    and per lineage (:func:`check_per_key`)."""
    shards(4, rollover_s=1.0)
    run = run_scenario(aws, SMALL, settle_timeout=120, parallelization_factor=3)
    figures = check_per_key(aws, run, factor=3)
    assert figures["shards"] >= 12 and figures["discarded"] >= len(SMALL.poison)
    assert figures["keys in order"] == SMALL.keys


@pytest.mark.slow
def test_throughput_with_4_shards_against_1(aws, ddb, deploy, make_table, shards):
    """Records per second through a trigger (a backlog of 2,000 records, BatchSize 100, a
    function that sleeps 20 ms per invocation) with 1 shard, then 4, in one run."""
    slow = "import time\n\ndef handler(event, context):\n    time.sleep(0.02)\n"
    rates = {}
    for count in (1, 4):
        shards(count)
        table = make_table("KEYS_ONLY")
        function = deploy(slow)
        _put_rounds(ddb, table, keys=500, rounds=range(4))
        began = time.monotonic()
        uuid = _mapping(aws, function, stream_arn_of(ddb, table), BatchSize=100)
        aws.settle(120)
        rates[count] = 2000 / (time.monotonic() - began)
        aws.client("lambda").delete_event_source_mapping(UUID=uuid)
    ratio = rates[4] / rates[1]
    print(
        f"\nthroughput: 1 shard {rates[1]:.0f} rec/s, 4 shards {rates[4]:.0f} rec/s, x{ratio:.2f}"
    )
    assert ratio > 1.2
