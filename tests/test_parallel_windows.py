"""``ParallelizationFactor`` and ``TumblingWindowInSeconds`` on the local Lambda service.

AWS (AWS-FACTS §2.1, §2.2; Lambda Developer Guide, "Using AWS Lambda with Amazon DynamoDB" and
"Implementing stateful DynamoDB stream processing in Lambda"):

* ``ParallelizationFactor`` N (1-10): up to N batches of one shard are processed at once, "in-order
  processing at the partition-key level"; at most shards x N invocations of a mapping at a time.
* ``TumblingWindowInSeconds`` W (1-900): records are grouped into windows by the time they were
  written; each invocation gets the window, the ``state`` the last one returned, ``shardId``,
  ``eventSourceARN``, ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly``; an answer without
  ``state`` is a failed invocation; the state may be 1 MB per shard, more ends the window early; at
  the window's end a final invocation gets the final state; "upon successful invocation, your
  function checkpoints the sequence number"; a child shard starts its windows with a fresh state.
"""

from __future__ import annotations

import json
import math
import runpy
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from helpers import stream_arn_of
from test_fault_injection import _log_lines, _tagged

from streamkit import windows
from streamkit.errors import InvalidParameterError, SettleTimeoutError
from streamkit.local import state as local_state
from streamkit.local.esm import poller
from streamkit.local.esm.poller import lane_of
from streamkit.windows import window_of

pytestmark = pytest.mark.usefixtures("fast_polling")

ROOT = Path(__file__).resolve().parents[1]

#: Logs when each invocation ran and what it got; sleeps a little so batches overlap.
OVERLAP = """
import json
import time

def handler(event, context):
    began = time.monotonic_ns()
    time.sleep(0.15)
    records = [[r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["NewImage"]["v"]["N"]),
                r["dynamodb"]["SequenceNumber"]] for r in event["Records"]]
    print("BATCH " + json.dumps({"began": began, "ended": time.monotonic_ns(), "records": records}))
"""

#: Fails every batch holding the key "poison" (whole-batch failure), logs the others.
POISON = """
import json
import time

def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    if "poison" in keys:
        raise RuntimeError("poison record")
    records = [[r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"]]
               for r in event["Records"]]
    print("BATCH " + json.dumps({"t": time.monotonic_ns(), "records": records}))
"""

#: Counts records per window in its state and logs every event without its records.
COUNTER = """
import json

def handler(event, context):
    count = event["state"].get("count", 0) + len(event["Records"])
    seen = {k: v for k, v in event.items() if k != "Records"}
    seen["keys"] = list(event)
    seen["records"] = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    print("WINDOW " + json.dumps(seen))
    return {"state": {"count": count}}
"""


def _write(ddb: Any, table: str, keys: list[str], version: int = 0) -> None:
    for start in range(0, len(keys), 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": k}, "v": {"N": str(version)}}}}
                    for k in keys[start : start + 25]
                ]
            }
        )


def _mapping(aws: Any, function: str, arn: str, **settings: Any) -> str:
    return aws.client("lambda").create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", **settings
    )["UUID"]


def _lane(key: str, factor: int) -> int:
    return lane_of({"dynamodb": {"Keys": {"pk": {"S": key}}}}, "pk", factor)


def _no_checkpoint(row: Any) -> bool:
    """Whether a mapping_state() row has no checkpoint yet (None, or NaN in a column of them)."""
    value = row["checkpoint"].iloc[0]
    return value is None or value != value


def _logged(aws: Any, function: str, tag: str) -> list[dict[str, Any]]:
    """The function's log lines ``<tag> {json}``, parsed (none before its first invocation)."""
    try:
        return _tagged(_log_lines(aws, function), tag)
    except aws.client("logs").exceptions.ResourceNotFoundException:
        return []


def _state_row(aws: Any, uuid: str) -> Any:
    state = aws.mapping_state()
    return state[state["uuid"] == uuid]


# -- lanes ------------------------------------------------------------------------------------------


def test_lanes_are_stable_spread_keys_and_are_independent_of_shards():
    keys = [f"user-{i}" for i in range(3000)]
    assert all(_lane(k, 1) == 0 for k in keys[:50])
    lanes = [_lane(k, 3) for k in keys]
    assert lanes == [_lane(k, 3) for k in keys]  # stable
    counts = [lanes.count(i) for i in range(3)]
    assert min(counts) > 900  # about a third each
    # keys of one shard (hash % 4) spread over every lane: shard and lane use different bits
    from streamkit.local.dynamodbstreams.models import partition_hash

    shard_zero = [k for k in keys if partition_hash({"S": k}) % 4 == 0]
    assert {_lane(k, 3) for k in shard_zero} == {0, 1, 2}


def test_windows_are_aligned_on_the_epoch():
    assert window_of(1_700_000_059.0, 60) == (1_700_000_040.0, 1_700_000_100.0)
    assert window_of(1_700_000_040.0, 60) == (1_700_000_040.0, 1_700_000_100.0)
    assert window_of(7.0, 900) == (0.0, 900.0)


# -- ParallelizationFactor --------------------------------------------------------------------------


def test_parallelization_factor_runs_up_to_n_batches_of_one_shard_at_once_in_key_order(
    aws, ddb, deploy, make_table
):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(OVERLAP)
    keys = [f"k{i:02d}" for i in range(30)]
    for version in range(3):
        _write(ddb, table, keys, version)
    uuid = _mapping(aws, function, arn, BatchSize=5, ParallelizationFactor=3)
    aws.settle(60)
    batches = _tagged(_log_lines(aws, function), "BATCH")
    delivered = [r for b in batches for r in b["records"]]
    assert sorted(r[2] for r in delivered) == sorted({r[2] for r in delivered})  # once each
    assert len(delivered) == 90
    # every key's versions in order (by when each batch began)
    by_key: dict[str, list[int]] = defaultdict(list)
    for batch in sorted(batches, key=lambda b: b["began"]):
        for key, version, _ in batch["records"]:
            by_key[key].append(version)
    assert all(v == [0, 1, 2] for v in by_key.values())
    # each batch holds the keys of one lane only; lanes overlapped, never more than 3 at once
    assert all(len({_lane(r[0], 3) for r in b["records"]}) == 1 for b in batches)
    edges = sorted([(b["began"], 1) for b in batches] + [(b["ended"], -1) for b in batches])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    assert 2 <= peak <= 3
    row = _state_row(aws, uuid)
    assert len(row) == 1 and row["records"].sum() == 90
    assert row["checkpoint"].iloc[0] == max((r[2] for r in delivered), key=int)


def test_a_failing_batch_blocks_only_its_own_keys_and_the_checkpoint_waits_for_it(
    aws, ddb, deploy, make_table
):
    factor = 4
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(POISON)
    others = [f"u{i:02d}" for i in range(40)]
    blocked_lane = _lane("poison", factor)
    _write(ddb, table, ["poison"])
    _write(ddb, table, others)
    uuid = _mapping(
        aws,
        function,
        arn,
        BatchSize=10,
        ParallelizationFactor=factor,
        MaximumRetryAttempts=-1,
        BisectBatchOnFunctionError=True,
    )
    free = [k for k in others if _lane(k, factor) != blocked_lane]
    stuck = [k for k in others if _lane(k, factor) == blocked_lane]
    assert free and stuck

    def processed() -> set[str]:
        return {r[0] for b in _logged(aws, function, "BATCH") for r in b["records"]}

    deadline = time.monotonic() + 20
    while not set(free) <= processed() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(free) <= processed()  # the other lanes went on
    assert not processed() & set(stuck)  # the poison key's lane waits, in order
    row = _state_row(aws, uuid)
    assert row["errors"].iloc[0] >= 1
    assert _no_checkpoint(row)  # the first record (poison) is not done yet
    with pytest.raises(SettleTimeoutError, match="behind"):
        aws.settle(0.3)
    # an explicit, recorded discard lets the lane and the checkpoint move on
    aws.client("lambda").update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=0)
    aws.settle(30)
    assert processed() == set(others)  # bisected: only the poison record was discarded
    row = _state_row(aws, uuid)
    assert row["discarded"].iloc[0] == 1
    discards = aws.discarded_batches()
    assert (discards[discards["uuid"] == uuid]["condition"] == "RetryAttemptsExhausted").all()


def test_the_factor_can_change_while_records_wait(aws, ddb, deploy, make_table):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(OVERLAP)
    uuid = _mapping(aws, function, arn, BatchSize=4, Enabled=False)
    _write(ddb, table, [f"k{i}" for i in range(24)])
    lam = aws.client("lambda")
    for _ in range(200):
        if lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled":
            break
        time.sleep(0.01)
    lam.update_event_source_mapping(UUID=uuid, ParallelizationFactor=5, Enabled=True)
    aws.settle(60)
    batches = _tagged(_log_lines(aws, function), "BATCH")
    assert sorted(r[0] for b in batches for r in b["records"]) == sorted(f"k{i}" for i in range(24))
    assert all(len({_lane(r[0], 5) for r in b["records"]}) == 1 for b in batches)


# -- tumbling windows -------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The emulator's clock, at the start of a 60-second window, moved by ``clock.advance(s)``."""

    class Clock:
        def __init__(self) -> None:
            self.value = math.floor(time.time() / 60) * 60 + 1.0
            self.lock = threading.Lock()

        def __call__(self) -> float:
            with self.lock:
                return self.value

        def advance(self, seconds: float) -> None:
            with self.lock:
                self.value += seconds

    fake = Clock()
    monkeypatch.setattr(local_state, "now", fake)
    return fake


def _windows(aws: Any, function: str) -> list[dict[str, Any]]:
    return _logged(aws, function, "WINDOW")


def test_a_tumbling_window_carries_state_and_ends_with_a_final_invocation(
    aws, ddb, deploy, make_table, clock
):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNTER)
    uuid = _mapping(aws, function, arn, BatchSize=2, TumblingWindowInSeconds=60)
    start = clock()  # 1 s into a window
    _write(ddb, table, ["a", "b", "c", "d", "e"])  # 5 records: batches of 2, 2, 1
    clock.advance(60)  # the next window
    _write(ddb, table, ["f", "g"])
    clock.advance(60)  # both windows are over
    aws.settle(30)
    events = _windows(aws, function)
    shard = aws.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"][
        "Shards"
    ][0]["ShardId"]

    def iso(epoch: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))

    first = {"start": iso(start - 1), "end": iso(start + 59)}
    second = {"start": iso(start + 59), "end": iso(start + 119)}
    assert [(e["window"], len(e["records"]), e["isFinalInvokeForWindow"]) for e in events] == [
        (first, 2, False),
        (first, 2, False),
        (first, 1, False),
        (first, 0, True),
        (second, 2, False),
        (second, 0, True),
    ]
    assert [e["state"] for e in events] == [
        {},
        {"count": 2},
        {"count": 4},
        {"count": 5},  # the final state of the first window
        {},  # a new window starts fresh
        {"count": 2},
    ]
    for event in events:
        assert event["keys"] == [
            "Records",
            "window",
            "state",
            "shardId",
            "eventSourceARN",
            "isFinalInvokeForWindow",
            "isWindowTerminatedEarly",
        ]
        assert event["shardId"] == shard and event["eventSourceARN"] == arn
        assert event["isWindowTerminatedEarly"] is False
    row = _state_row(aws, uuid)
    assert row["records"].iloc[0] == 7 and row["errors"].iloc[0] == 0
    assert row["checkpoint"].iloc[0] == events[-2]["records"][-1]


def test_window_records_are_checkpointed_by_the_final_invocation(
    aws, ddb, deploy, make_table, clock
):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNTER)
    uuid = _mapping(aws, function, arn, TumblingWindowInSeconds=60)
    _write(ddb, table, ["a", "b", "c"])
    deadline = time.monotonic() + 10
    while len(_windows(aws, function)) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    assert _no_checkpoint(_state_row(aws, uuid))  # the window is still open
    with pytest.raises(SettleTimeoutError, match="final invocation of the tumbling window"):
        aws.settle(0.3)
    clock.advance(60)
    aws.settle(10)
    events = _windows(aws, function)
    assert events[-1]["isFinalInvokeForWindow"] and events[-1]["state"] == {"count": 3}
    assert _state_row(aws, uuid)["checkpoint"].iloc[0] == events[0]["records"][-1]


def test_an_answer_without_state_is_a_failed_invocation(aws, ddb, deploy, make_table, clock):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy("def handler(event, context):\n    return {'count': 1}\n")
    uuid = _mapping(aws, function, arn, TumblingWindowInSeconds=60, MaximumRetryAttempts=1)
    _write(ddb, table, ["a"])
    deadline = time.monotonic() + 20
    while _state_row(aws, uuid)["discarded"].iloc[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    row = _state_row(aws, uuid)
    assert row["errors"].iloc[0] == 2 and row["discarded"].iloc[0] == 1
    assert 'no "state"' in row["last_error"].iloc[0]
    # the window's final invocation needs a state too: it fails, and is retried, for as long as
    # the function answers without one (AWS: processing is suspended until it succeeds)
    clock.advance(60)
    with pytest.raises(SettleTimeoutError, match="final invocation of the tumbling window"):
        aws.settle(1)
    assert _state_row(aws, uuid)["errors"].iloc[0] >= 3


def test_a_state_over_1_mb_ends_the_window_early(aws, ddb, deploy, make_table, clock):
    big = """
import json

def handler(event, context):
    seen = {k: v for k, v in event.items() if k not in ("Records", "state")}
    seen["records"] = len(event["Records"])
    seen["state_bytes"] = len(json.dumps(event["state"]))
    print("WINDOW " + json.dumps(seen))
    if event["Records"] and event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"] == "big":
        return {"state": {"blob": "x" * (1024 * 1024)}}
    return {"state": {"n": len(event["Records"])}}
"""
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(big)
    _mapping(aws, function, arn, TumblingWindowInSeconds=60, BatchSize=1)
    _write(ddb, table, ["big"])
    _write(ddb, table, ["small"])
    clock.advance(60)
    aws.settle(20)
    events = _windows(aws, function)
    flags = [
        (e["records"], e["isFinalInvokeForWindow"], e["isWindowTerminatedEarly"]) for e in events
    ]
    assert flags == [(1, False, False), (0, True, True), (1, False, False), (0, True, False)]
    assert events[1]["state_bytes"] > 1024 * 1024  # the final invocation got the big state
    assert events[2]["state_bytes"] == 2  # then the same window went on with a fresh state
    assert events[0]["window"] == events[2]["window"] == events[3]["window"]


def test_partial_batch_responses_and_retries_inside_a_window(aws, ddb, deploy, make_table, clock):
    source = """
import json
import os

def handler(event, context):
    marker = os.path.join(os.environ["DIR"], "failed")
    records = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    print("WINDOW " + json.dumps({"records": records, "state": event["state"],
                                  "final": event["isFinalInvokeForWindow"]}))
    count = event["state"].get("count", 0)
    if len(records) == 3 and not os.path.exists(marker):
        open(marker, "w").close()
        return {"state": {"count": count + 1}, "batchItemFailures": [{"itemIdentifier": records[1]}]}
    return {"state": {"count": count + len(records)}}
"""
    import tempfile

    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    directory = tempfile.mkdtemp()
    lam = aws.client("lambda")
    function = deploy(source.replace('os.environ["DIR"]', repr(directory)))
    _mapping(
        aws,
        function,
        arn,
        TumblingWindowInSeconds=60,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BatchSize=3,
        Enabled=False,
    )
    _write(ddb, table, ["a", "b", "c"])
    (mapping,) = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    for _ in range(200):
        if lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled":
            break
        time.sleep(0.01)
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    clock.advance(60)
    aws.settle(20)
    events = _windows(aws, function)
    first, retry, final = events
    assert len(first["records"]) == 3 and first["state"] == {}
    assert retry["records"] == first["records"][1:]  # from the reported record on
    assert retry["state"] == {"count": 1}  # the state of the partly failed invocation is kept
    assert final["final"] and final["state"] == {"count": 3}


def test_parallel_lanes_keep_windows_of_their_own(aws, ddb, deploy, make_table, clock):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNTER)
    keys = [f"k{i:02d}" for i in range(20)]
    _mapping(aws, function, arn, TumblingWindowInSeconds=60, ParallelizationFactor=2)
    _write(ddb, table, keys)
    clock.advance(60)
    aws.settle(20)
    finals = [e for e in _windows(aws, function) if e["isFinalInvokeForWindow"]]
    per_lane = defaultdict(int)
    for key in keys:
        per_lane[_lane(key, 2)] += 1
    assert sorted(e["state"]["count"] for e in finals) == sorted(per_lane.values())


def test_a_closed_shard_ends_its_windows_and_its_child_starts_fresh(
    aws, ddb, deploy, make_table, clock
):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNTER)
    _mapping(aws, function, arn, TumblingWindowInSeconds=60)
    _write(ddb, table, ["a", "b"])
    aws.roll_shards(table)
    _write(ddb, table, ["c"])
    clock.advance(60)
    aws.settle(20)
    events = _windows(aws, function)
    assert [(len(e["records"]), e["isFinalInvokeForWindow"]) for e in events] == [
        (2, False),
        (0, True),  # the parent ended: its window closed before the child began
        (1, False),
        (0, True),
    ]
    assert events[0]["shardId"] == events[1]["shardId"] != events[2]["shardId"]
    assert events[2]["state"] == {} and events[3]["state"] == {"count": 1}
    assert events[0]["window"] == events[2]["window"]  # same window, a fresh state per shard


def test_the_checkpoint_only_covers_records_every_lane_is_done_with(aws, ddb, deploy, make_table):
    """Each checkpoint the journal shows was, when it moved, past records whose batches had all
    ended, on every lane; and it ends at the last record."""
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(OVERLAP)
    uuid = _mapping(aws, function, arn, BatchSize=3, ParallelizationFactor=4)
    _write(ddb, table, [f"k{i:02d}" for i in range(24)])
    aws.settle(60)
    journal = aws.trigger_journal()
    journal = journal[journal["uuid"] == uuid]
    ended = {  # the invocation that processed each record -> when it ended (emulator clock)
        int(row.last_sequence): row.end
        for row in journal[(journal["kind"] == "invoke") & journal["ok"].astype(bool)].itertuples()
    }
    done_at: dict[int, float] = {}
    for batch in _tagged(_log_lines(aws, function), "BATCH"):
        last = int(batch["records"][-1][2])
        for _, _, sequence in batch["records"]:
            done_at[int(sequence)] = ended[last]
    assert len(done_at) == 24
    checkpoints = journal[journal["kind"] == "checkpoint"]
    moved = [(int(row.first_sequence), row.time) for row in checkpoints.itertuples()]
    assert moved and [c for c, _ in moved] == sorted(c for c, _ in moved)
    for checkpoint, at in moved:
        assert all(done_at[s] <= at for s in done_at if s <= checkpoint), checkpoint
    assert moved[-1][0] == max(done_at)


# -- streamkit.windows and functions/count_signups ---------------------------------------------------


def test_sleep_until_next_window_wakes_just_after_it_starts():
    now = [1_700_000_055.3]
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    start = windows.sleep_until_next_window(60, clock=lambda: now[0], sleep=sleep)
    assert start == 1_700_000_100.0 and now[0] == pytest.approx(1_700_000_100.05)
    assert windows.window_of(now[0], 60) == (1_700_000_100.0, 1_700_000_160.0)
    for bad in (0, 901, 1.5, True, "60"):
        with pytest.raises(InvalidParameterError, match="from 1 to 900"):
            windows.sleep_until_next_window(bad, clock=lambda: now[0], sleep=sleep)
    with pytest.raises(InvalidParameterError, match="margin_s"):
        windows.sleep_until_next_window(1, margin_s=0.5, clock=lambda: now[0], sleep=sleep)


def test_window_totals_reads_the_logged_lines_oldest_window_first():
    lines = [
        'WINDOW_TOTAL {"start":"2026-12-02T10:01:00Z","end":"2026-12-02T10:02:00Z","signups":2}',
        "START RequestId: 1 Version: $LATEST",
        'WINDOW_TOTAL {"start":"2026-12-02T10:00:00Z","end":"2026-12-02T10:01:00Z","signups":3}',
    ]
    totals = windows.window_totals(lines)
    assert list(totals.columns) == ["start", "end", "seconds", "signups"]
    assert totals["signups"].tolist() == [3, 2] and totals["seconds"].tolist() == [60, 60]
    assert str(totals["start"].iloc[0]) == "2026-12-02 10:00:00+00:00"
    assert windows.window_totals([]).empty


def test_count_signups_counts_inserts_and_reports_on_the_final_invocation(capsys):
    from helpers import load_fixture

    handler = runpy.run_path(str(ROOT / "functions" / "count_signups" / "app.py"))["handler"]
    sample = load_fixture("lambda-guide-sample")  # AWS's example: an INSERT and a MODIFY
    window = {"start": "2020-07-30T17:00:00Z", "end": "2020-07-30T17:05:00Z"}
    base = {
        "window": window,
        "shardId": "shard123456789",
        "eventSourceARN": "stream-ARN",
        "isWindowTerminatedEarly": False,
    }
    first = handler({**sample, **base, "state": {}, "isFinalInvokeForWindow": False}, None)
    assert first == {"state": {"signups": 1}} and capsys.readouterr().out == ""
    final = handler(
        {"Records": [], **base, "state": first["state"], "isFinalInvokeForWindow": True}, None
    )
    assert final == {"state": {"signups": 1}}
    (line,) = capsys.readouterr().out.splitlines()
    totals = windows.window_totals([line])
    assert totals[["seconds", "signups", "shardId"]].values.tolist() == [[300, 1, "shard123456789"]]


def test_a_held_checkpoint_bounds_how_far_the_other_lanes_read(
    aws, ddb, deploy, make_table, monkeypatch
):
    monkeypatch.setattr(poller, "MAX_READ_PAST_CHECKPOINT", 30)
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(POISON)
    _write(ddb, table, ["poison"])
    others = [f"u{i:03d}" for i in range(120)]
    _write(ddb, table, others)
    uuid = _mapping(
        aws,
        function,
        arn,
        BatchSize=5,
        ParallelizationFactor=4,
        BisectBatchOnFunctionError=True,
    )
    with pytest.raises(SettleTimeoutError):
        aws.settle(1.5)
    processed = {r[0] for b in _logged(aws, function, "BATCH") for r in b["records"]}
    assert 0 < len(processed) < 30  # read no further than 30 records past the held checkpoint
    aws.client("lambda").update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=0)
    aws.settle(30)
    processed = {r[0] for b in _logged(aws, function, "BATCH") for r in b["records"]}
    assert processed == set(others)


def test_turning_the_window_off_checkpoints_what_the_open_window_processed(
    aws, ddb, deploy, make_table, clock
):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNTER)
    uuid = _mapping(aws, function, arn, TumblingWindowInSeconds=900)
    _write(ddb, table, ["a", "b"])
    deadline = time.monotonic() + 10
    while not _windows(aws, function) and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(SettleTimeoutError, match="tumbling window"):
        aws.settle(0.3)
    aws.client("lambda").update_event_source_mapping(UUID=uuid, TumblingWindowInSeconds=0)
    aws.settle(10)  # no final invocation: the records the window processed are checkpointed
    events = _windows(aws, function)
    assert len(events) == 1 and not events[0]["isFinalInvokeForWindow"]
    assert _state_row(aws, uuid)["checkpoint"].iloc[0] == events[0]["records"][-1]


# -- found in review: windows that could not end, settings changed mid-flight ----------------------

#: Counts records in its state; raises on the key "bad"; logs every event without its records.
COUNT_OR_FAIL = COUNTER.replace(
    '    return {"state": {"count": count}}',
    '    if any(r["dynamodb"]["Keys"]["pk"]["S"] == "bad" for r in event["Records"]):\n'
    '        raise RuntimeError("bad")\n'
    '    return {"state": {"count": count}}',
)


def _lanes(aws: Any, uuid: str) -> list[Any]:
    return [lane for c in aws.lambda_service._runners[uuid].cursors.values() for lane in c.lanes]


def test_a_window_larger_than_the_read_bound_still_ends(
    aws, ddb, deploy, make_table, clock, monkeypatch
):
    """The window's processed records hold the checkpoint; once the read bound is reached and its
    end has passed, the window ends (and reading resumes) instead of waiting for ever."""
    monkeypatch.setattr(poller, "MAX_READ_PAST_CHECKPOINT", 10)
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNTER)
    uuid = _mapping(aws, function, arn, BatchSize=5, TumblingWindowInSeconds=60)
    _write(ddb, table, [f"k{i:02d}" for i in range(25)])
    clock.advance(120)
    passes = aws.lambda_service.passes
    aws.settle(20)
    assert aws.lambda_service.passes - passes < 2000  # no busy loop while it waited
    events = _windows(aws, function)
    assert sum(len(e["records"]) for e in events) == 25
    finals = [e for e in events if e["isFinalInvokeForWindow"]]
    assert sum(e["state"]["count"] for e in finals) == 25  # every record in some final state
    assert len({json.dumps(e["window"]) for e in events}) == 1  # one window, ended more than once
    assert _state_row(aws, uuid)["records"].iloc[0] == 25


def test_a_failing_lane_that_fills_the_buffer_does_not_hold_windows_open(
    aws, ddb, deploy, make_table, clock, monkeypatch
):
    """A lane whose batch keeps failing fills the shard's read buffer (a memory bound, 8 records
    here): reading stops, and the other lane's window, whose end has passed, ends with what it
    got instead of waiting for records it cannot read; once the failure is discarded, the rest
    follows."""
    monkeypatch.setattr(poller, "_buffer_cap", lambda lanes, batch_size: 8)
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNT_OR_FAIL)
    _write(ddb, table, ["bad"])
    others = [f"u{i:02d}" for i in range(40)]
    _write(ddb, table, others)
    uuid = _mapping(
        aws,
        function,
        arn,
        BatchSize=5,
        ParallelizationFactor=2,
        TumblingWindowInSeconds=60,
        BisectBatchOnFunctionError=True,
    )
    clock.advance(120)
    passes = aws.lambda_service.passes

    def finals() -> list[dict[str, Any]]:
        return [e for e in _windows(aws, function) if e["isFinalInvokeForWindow"]]

    deadline = time.monotonic() + 10
    while not finals() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert finals() and aws.lambda_service.passes - passes < 3000  # ended, and no busy loop
    aws.client("lambda").update_event_source_mapping(UUID=uuid, MaximumRetryAttempts=0)
    aws.settle(20)
    assert sum(e["state"]["count"] for e in finals()) == len(others)


def test_a_window_turned_on_while_a_batch_runs_leaves_no_record_behind(
    aws, ddb, deploy, make_table
):
    slow = (
        "import time\n\ndef handler(event, context):\n"
        "    time.sleep(0.5)\n    return {'state': {}}\n"
    )
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(slow)
    uuid = _mapping(aws, function, arn, BatchSize=10)
    _write(ddb, table, ["a", "b", "c"])
    deadline = time.monotonic() + 10
    while not any(lane.in_flight for lane in _lanes(aws, uuid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    aws.client("lambda").update_event_source_mapping(UUID=uuid, TumblingWindowInSeconds=1)
    aws.settle(10)
    row = _state_row(aws, uuid)
    assert row["records"].iloc[0] == 3 and row["errors"].iloc[0] == 0
    assert not _no_checkpoint(row)


def test_a_new_factor_applies_before_the_backlog_is_drained(aws, ddb, deploy, make_table):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(OVERLAP)
    _write(ddb, table, [f"k{i:03d}" for i in range(400)])
    uuid = _mapping(aws, function, arn, BatchSize=10, ParallelizationFactor=2)
    time.sleep(0.5)
    aws.client("lambda").update_event_source_mapping(UUID=uuid, ParallelizationFactor=6)
    deadline = time.monotonic() + 10
    while len(_lanes(aws, uuid)) != 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_lanes(aws, uuid)) == 6
    assert sum(len(lane.buffer) for lane in _lanes(aws, uuid)) > 0  # records still waited
    aws.settle(60)
    assert _state_row(aws, uuid)["records"].iloc[0] == 400


def test_settle_waits_for_a_window_whose_records_were_all_discarded(
    aws, ddb, deploy, make_table, clock
):
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(COUNT_OR_FAIL)
    _mapping(aws, function, arn, TumblingWindowInSeconds=60, MaximumRetryAttempts=0)
    _write(ddb, table, ["bad"])
    with pytest.raises(SettleTimeoutError, match="final invocation of the tumbling window"):
        aws.settle(1)
    clock.advance(60)
    aws.settle(10)
    events = _windows(aws, function)
    assert [e["isFinalInvokeForWindow"] for e in events] == [False, True]


def test_a_whole_batch_failure_through_batch_item_failures_keeps_the_old_state(
    aws, ddb, deploy, make_table, clock, tmp_path
):
    source = f"""
import json
import os

def handler(event, context):
    marker = {str(tmp_path / "failed")!r}
    count = event["state"].get("count", 0) + len(event["Records"])
    print("WINDOW " + json.dumps({{"state": event["state"], "records": len(event["Records"]),
                                  "isFinalInvokeForWindow": event["isFinalInvokeForWindow"]}}))
    if event["Records"] and not os.path.exists(marker):
        open(marker, "w").close()
        return {{"state": {{"count": count}}, "batchItemFailures": [{{"itemIdentifier": ""}}]}}
    return {{"state": {{"count": count}}}}
"""
    table = make_table("NEW_IMAGE")
    arn = stream_arn_of(ddb, table)
    function = deploy(source)
    _mapping(
        aws,
        function,
        arn,
        TumblingWindowInSeconds=60,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    _write(ddb, table, ["a", "b"])
    clock.advance(60)
    aws.settle(20)
    first, retry, final = _windows(aws, function)
    assert first["records"] == retry["records"] == 2
    assert retry["state"] == {}  # the failed invocation's state was not kept
    assert final["state"] == {"count": 2}  # so the records are counted once
