"""Speed where learners and test suites wait (issue 14). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_speed.py [--runs 3] [--only settle_write ...] [--plain-moto]

Each figure of the issue's target table, measured on the embedded backend through its public
API (boto3 over HTTP, ``settle()``, ``events_from_logs``), as a learner or a test waits for it.
Every figure is the median of many samples within a run, and the summary gives the median over
``--runs`` runs (the machine is shared: single runs are noisy). Ratios are taken within one run.

Figures:

- ``settle_write``: ``settle()`` right after one ``PutItem`` on a table with a mapping (no-op
  function, warm), at the fastest poll setting (0.001 s); also at AWS's rate (0.25 s), where the
  wait is the modelled poll delay (uniform over 0-250 ms, as AWS's 4 polls a second give: writes
  land at random points of the poll cycle); and the write and the settle together;
- ``settle_idle``: ``settle()`` on a backend with no mapping, and with 50 caught-up mappings;
- ``invocations``: BatchSize 1, no-op function, warm: a backlog of N records, invocations a second;
- ``batch100``: BatchSize 100, no-op function, warm: records a second through the trigger, divided
  by the raw drain rate of the same number of records (boto3 GetRecords, 1,000 a call) measured
  just before in the same run;
- ``idle``: PutItem p50 with 50 idle mappings (on other tables) divided by PutItem p50 with none,
  and the CPU the process uses while idle (``time.process_time`` over a window) with 0, 10 and 50
  mappings, at the fastest poll setting; the PutItem ratio also at AWS's rate;
- ``iterator``: GetShardIterator AT_SEQUENCE_NUMBER p50 on a shard of 50,000 records divided by
  the same on a shard of 1,000 records (the last record's number: the worst case of a scan; the
  calls alternate between the two, so both see the same load);
- ``logs``: ``events_from_logs`` over a log group of 20,000 events (5,000 invocations of a
  function that logs its event: START, EVENT, END, REPORT, over 8 log streams), the first read,
  and a read again after one more invocation was logged;
- ``latency``: write -> handler start p50 and p99, at the fastest setting and at AWS's rate;
- ``import``: ``import streamkit`` in a fresh interpreter, and ``connect("local")`` after it.

``--plain-moto`` measures the figures that exist on plain moto (PutItem, GetShardIterator, log
reads) with ``STREAMKIT_PLAIN_MOTO=1``, for the README's comparison.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from typing import Any

NOOP = "def handler(event, context):\n    return None\n"
STAMP = """
import time

def handler(event, context):
    started = time.time()
    for record in event["Records"]:
        print("AT", record["dynamodb"]["Keys"]["pk"]["S"], started)
"""
FAST, AWS_RATE = 0.001, 0.25

_names = itertools.count(1)


def _name(tag: str) -> str:
    return f"{tag}{next(_names)}-{os.getpid()}"


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _function(aws: Any, source: str = NOOP) -> str:
    name = _name("fn-")
    role = aws.client("iam").create_role(RoleName=f"r-{name}", AssumeRolePolicyDocument="{}")
    aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": _zip(source)},
    )
    return name


def _table(aws: Any, stream: bool = True) -> tuple[str, str | None]:
    name = _name("t")
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    table = aws.client("dynamodb").create_table(**args)["TableDescription"]
    return name, table.get("LatestStreamArn")


def _fill(aws: Any, table: str, records: int) -> None:
    ddb = aws.client("dynamodb")
    for start in range(0, records, 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "payload": {"S": "x" * 100}}}}
                    for n in range(start, min(start + 25, records))
                ]
            }
        )


def _mapping(aws: Any, function: str, stream: str, **settings: Any) -> str:
    settings.setdefault("StartingPosition", "LATEST")
    return aws.client("lambda").create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, **settings
    )["UUID"]


def _set_enabled(aws: Any, uuid: str, enabled: bool) -> None:
    lam = aws.client("lambda")
    lam.update_event_source_mapping(UUID=uuid, Enabled=enabled)
    wanted = "Enabled" if enabled else "Disabled"
    deadline = time.monotonic() + 30
    while lam.get_event_source_mapping(UUID=uuid)["State"] != wanted:
        if time.monotonic() > deadline:
            raise TimeoutError(f"mapping {uuid} not {wanted}")
        time.sleep(0.001)


def _warm_backlog(aws: Any, records: int, batch_size: int) -> tuple[str, str, str]:
    """A table of ``records`` records waiting behind a disabled mapping whose function is warm."""
    table, stream = _table(aws)
    function = _function(aws)
    uuid = _mapping(aws, function, stream, BatchSize=batch_size)
    aws.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "warm-up"}})
    aws.settle(60)  # the function's worker is started (cold start done) and stays warm
    _set_enabled(aws, uuid, False)
    _fill(aws, table, records)
    return table, function, uuid


def _clear_mappings(aws: Any) -> None:
    """Delete every mapping (a backend without mappings, as after a reset) and wait until gone."""
    lam = aws.client("lambda")
    for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    deadline = time.monotonic() + 60
    while lam.list_event_source_mappings()["EventSourceMappings"]:
        if time.monotonic() > deadline:
            raise TimeoutError("mappings not deleted")
        time.sleep(0.01)


def _drain(aws: Any, uuid: str, records: int) -> float:
    """Enable the mapping and time until ``settle()`` says its backlog is done; records/s."""
    began = time.perf_counter()
    _set_enabled(aws, uuid, True)
    aws.settle(600)
    return records / (time.perf_counter() - began)


# -- the figures --------------------------------------------------------------------------------


def settle_write(aws: Any, samples: int = 40) -> dict[str, float]:
    figures = {}
    table, stream = _table(aws)
    function = _function(aws)
    _mapping(aws, function, stream, BatchSize=100)
    ddb = aws.client("dynamodb")
    jitter = random.Random(11)
    for label, interval, count in (("fast", FAST, samples), ("aws_rate", AWS_RATE, samples // 2)):
        aws.set_poll_interval(interval)
        ddb.put_item(TableName=table, Item={"pk": {"S": "warm-up"}})
        aws.settle(60)
        waits, totals = [], []
        for n in range(count):
            # writes land anywhere in the poll cycle (and at least 0-10 ms after the last one)
            time.sleep(jitter.uniform(0, max(interval, 0.01)))
            began = time.perf_counter()
            ddb.put_item(TableName=table, Item={"pk": {"S": f"{label}-{n}"}})
            written = time.perf_counter()
            aws.settle(30)
            waits.append(time.perf_counter() - written)
            totals.append(time.perf_counter() - began)
        figures[f"settle after one write, {label} setting, ms"] = _median_ms(waits)
        figures[f"PutItem + settle, {label} setting, ms"] = _median_ms(totals)
    aws.set_poll_interval(AWS_RATE)
    return figures


def settle_idle(aws: Any, samples: int = 40) -> dict[str, float]:
    _clear_mappings(aws)
    aws.set_poll_interval(AWS_RATE)
    waits = []
    for _ in range(samples):
        began = time.perf_counter()
        aws.settle(30)
        waits.append(time.perf_counter() - began)
    figures = {"settle idle, no mapping, ms": _median_ms(waits)}
    function = _function(aws)
    for _ in range(50):
        _mapping(aws, function, _table(aws)[1])
    aws.settle(60)
    waits = []
    for _ in range(samples // 2):
        began = time.perf_counter()
        aws.settle(30)
        waits.append(time.perf_counter() - began)
    figures["settle idle, 50 caught-up mappings, ms"] = _median_ms(waits)
    _clear_mappings(aws)
    return figures


def invocations(aws: Any, records: int = 1500) -> dict[str, float]:
    aws.set_poll_interval(FAST)
    _, _, uuid = _warm_backlog(aws, records, batch_size=1)
    rate = _drain(aws, uuid, records)
    aws.set_poll_interval(AWS_RATE)
    return {"BatchSize 1 no-op invocations/s": rate}


def batch100(aws: Any, records: int = 20000) -> dict[str, float]:
    aws.set_poll_interval(AWS_RATE)
    table, stream = _table(aws)
    _fill(aws, table, records)
    client = aws.client("dynamodbstreams")
    shard = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(
        StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    read, began = 0, time.perf_counter()
    while read < records:
        page = client.get_records(ShardIterator=iterator, Limit=1000)
        read += len(page["Records"])
        iterator = page["NextShardIterator"]
    raw = records / (time.perf_counter() - began)
    _, _, uuid = _warm_backlog(aws, records, batch_size=100)
    rate = _drain(aws, uuid, records)
    return {
        "raw GetRecords drain, records/s": raw,
        "BatchSize 100 trigger, records/s": rate,
        "BatchSize 100 throughput / raw drain": rate / raw,
    }


def _put_p50(aws: Any, table: str, samples: int) -> float:
    ddb = aws.client("dynamodb")
    times = []
    for n in range(samples):
        began = time.perf_counter()
        ddb.put_item(TableName=table, Item={"pk": {"S": f"w{n}"}, "v": {"N": str(n)}})
        times.append(time.perf_counter() - began)
    return _median_ms(times)


def _cpu_percent(window_s: float) -> float:
    wall, cpu = time.perf_counter(), time.process_time()
    time.sleep(window_s)
    return 100 * (time.process_time() - cpu) / (time.perf_counter() - wall)


def idle(aws: Any, samples: int = 300, window_s: float = 5.0) -> dict[str, float]:
    _clear_mappings(aws)
    aws.set_poll_interval(FAST)
    writes, _ = _table(aws)
    figures: dict[str, float] = {}
    function = _function(aws)
    for count in (0, 10, 50):
        while len(aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]) < count:
            _mapping(aws, function, _table(aws)[1])
        aws.settle(60)
        time.sleep(0.5)
        figures[f"idle CPU, {count} mappings, fast setting, %"] = _cpu_percent(window_s)
        if count in (0, 50):
            for label, interval in (("fast", FAST), ("aws_rate", AWS_RATE)):
                aws.set_poll_interval(interval)
                figures[f"PutItem p50, {count} idle mappings, {label} setting, ms"] = _put_p50(
                    aws, writes, samples
                )
            aws.set_poll_interval(FAST)
    for label in ("fast", "aws_rate"):
        figures[f"PutItem p50 50 mappings / none, {label} setting"] = (
            figures[f"PutItem p50, 50 idle mappings, {label} setting, ms"]
            / figures[f"PutItem p50, 0 idle mappings, {label} setting, ms"]
        )
    aws.set_poll_interval(AWS_RATE)
    _clear_mappings(aws)
    return figures


def _last_sequence(aws: Any, stream: str) -> tuple[str, str]:
    """(shard id, the last record's sequence number) of a one-shard stream."""
    client = aws.client("dynamodbstreams")
    shard = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(
        StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    last = ""
    while iterator:
        page = client.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        last = page["Records"][-1]["dynamodb"]["SequenceNumber"]
        iterator = page.get("NextShardIterator")
    return shard, last


_ITERATOR_TABLES: dict[int, str] = {}


def iterator(aws: Any, small: int = 1000, large: int = 50000, samples: int = 400) -> dict:
    client = aws.client("dynamodbstreams")
    targets = {}
    for size in (small, large):
        stream = _ITERATOR_TABLES.get(size)
        if stream is not None:
            try:
                client.describe_stream(StreamArn=stream)
            except client.exceptions.ResourceNotFoundException:
                stream = None  # the backend was reset since
        if stream is None:  # filled once per process while it lasts: 50,000 writes take a while
            table, stream = _table(aws)
            _fill(aws, table, size)
            _ITERATOR_TABLES[size] = stream
        targets[size] = (stream, *_last_sequence(aws, stream))
    times: dict[int, list[float]] = {small: [], large: []}
    for _ in range(samples):  # alternately, so that both see the same load on the machine
        for size, (stream, shard, last) in targets.items():
            began = time.perf_counter()
            client.get_shard_iterator(
                StreamArn=stream,
                ShardId=shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=last,
            )
            times[size].append(time.perf_counter() - began)
    figures = {
        f"GetShardIterator by number p50, {size} records, ms": _median_ms(times[size])
        for size in (small, large)
    }
    figures[f"GetShardIterator by number {large} / {small} records"] = (
        figures[f"GetShardIterator by number p50, {large} records, ms"]
        / figures[f"GetShardIterator by number p50, {small} records, ms"]
    )
    return figures


def _put_invocations(logs: Any, group: str, streams: list[str], first: int, count: int) -> int:
    """Log ``count`` invocations as Lambda and the example functions do; the next timestamp."""
    now = int(time.time() * 1000) - 3_600_000 + first * 3
    per_stream: dict[str, list[dict[str, Any]]] = {s: [] for s in streams}
    for n in range(first, first + count):
        request = f"00000000-0000-4000-8000-{n:012d}"
        event = {"Records": [{"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": str(n)}}}}]}
        lines = [
            f"START RequestId: {request} Version: $LATEST",
            "EVENT " + json.dumps(event),
            f"END RequestId: {request}",
            f"REPORT RequestId: {request}\tDuration: 1.00 ms\tBilled Duration: 1 ms",
        ]
        per_stream[streams[n % len(streams)]].extend(
            {"timestamp": now + i, "message": line} for i, line in enumerate(lines)
        )
        now += 3
    for stream, events in per_stream.items():
        for start in range(0, len(events), 5000):
            logs.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events[start : start + 5000]
            )
    return now


def logs(aws: Any, invocations: int = 5000, streams: int = 8) -> dict[str, float]:
    from streamkit.logs import events_from_logs

    function = _name("logread-")
    group = f"/aws/lambda/{function}"
    client = aws.client("logs")
    client.create_log_group(logGroupName=group)
    names = [f"2025/01/01/[$LATEST]{n:032x}" for n in range(streams)]
    for stream in names:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    _put_invocations(client, group, names, 0, invocations)
    began = time.perf_counter()
    found = events_from_logs(aws, function)
    first = time.perf_counter() - began
    assert len(found) == invocations, len(found)
    _put_invocations(client, group, names, invocations, 1)
    began = time.perf_counter()
    found = events_from_logs(aws, function)
    again = time.perf_counter() - began
    assert len(found) == invocations + 1, len(found)
    return {
        f"events_from_logs, {invocations * 4} events, first read, ms": first * 1000,
        f"events_from_logs, {invocations * 4 + 4} events, read again, ms": again * 1000,
    }


def latency(aws: Any, samples: int = 40) -> dict[str, float]:
    figures = {}
    for label, interval in (("fast", FAST), ("aws_rate", AWS_RATE)):
        aws.set_poll_interval(interval)
        table, stream = _table(aws)
        function = _function(aws, STAMP)
        _mapping(aws, function, stream)
        ddb = aws.client("dynamodb")
        ddb.put_item(TableName=table, Item={"pk": {"S": "warm-up"}})
        aws.settle(60)
        written = {}
        jitter = random.Random(7)
        for n in range(samples):
            time.sleep(jitter.uniform(0, interval))  # writes land anywhere in the poll cycle
            key = f"{label}-{n}"
            written[key] = time.time()
            ddb.put_item(TableName=table, Item={"pk": {"S": key}})
            aws.settle(30)
        started = {}
        for page in (
            aws.client("logs")
            .get_paginator("filter_log_events")
            .paginate(logGroupName=f"/aws/lambda/{function}")
        ):
            for event in page["events"]:
                parts = event["message"].split()
                if parts and parts[0] == "AT":
                    started[parts[1]] = float(parts[2])
        values = [started[k] - written[k] for k in written if k in started]
        figures[f"write -> handler p50, {label} setting, ms"] = _median_ms(values)
        figures[f"write -> handler p99, {label} setting, ms"] = _p99(values) * 1000
    aws.set_poll_interval(AWS_RATE)
    return figures


def import_time(samples: int = 7) -> dict[str, float]:
    code = (
        "import time; t = time.perf_counter(); import streamkit; a = time.perf_counter() - t; "
        "c = streamkit.connect('local'); b = time.perf_counter() - t - a; "
        "import sys; print(a, b, int('pandas' in sys.modules))"
    )
    imports, connects, pandas = [], [], []
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        imports.append(float(out[0]))
        connects.append(float(out[1]))
        pandas.append(int(out[2]))
    return {
        "import streamkit, ms": _median_ms(imports),
        "connect('local') after it, ms": _median_ms(connects),
        "pandas loaded by import + connect('local') (1 = yes)": max(pandas),
    }


FIGURES: dict[str, Callable[..., dict[str, float]]] = {
    "settle_write": settle_write,
    "settle_idle": settle_idle,
    "invocations": invocations,
    "batch100": batch100,
    "idle": idle,
    "iterator": iterator,
    "logs": logs,
    "latency": latency,
}
PLAIN_MOTO = ("iterator", "logs", "plain_put")


def plain_put(aws: Any, samples: int = 300) -> dict[str, float]:
    writes, _ = _table(aws)
    return {"PutItem p50, no mapping, ms": _put_p50(aws, writes, samples)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs; the summary is their median")
    parser.add_argument("--only", nargs="*", help=f"figures to run: {', '.join(FIGURES)}, import")
    parser.add_argument("--plain-moto", action="store_true", help="moto as it is (comparison)")
    parser.add_argument("--json", help="also write the summary to this file")
    args = parser.parse_args()
    if args.plain_moto:
        os.environ["STREAMKIT_PLAIN_MOTO"] = "1"
    from streamkit.local import LocalAWS

    chosen = args.only or [*FIGURES, "import"]
    if args.plain_moto:
        chosen = [c for c in (args.only or PLAIN_MOTO) if c in PLAIN_MOTO]
    load = os.getloadavg()[0]
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"load {load:.2f}, {args.runs} run(s){', plain moto' if args.plain_moto else ''}"
    )
    runs: list[dict[str, float]] = []
    with LocalAWS() as aws:
        aws.prefix = ""
        for number in range(1, args.runs + 1):
            figures: dict[str, float] = {}
            for name in chosen:
                if name == "import":
                    figures.update(import_time())
                    continue
                function = plain_put if name == "plain_put" else FIGURES[name]
                try:
                    figures.update(function(aws))
                except Exception as exc:  # a figure that cannot be measured says so
                    print(f"run {number}: {name}: {type(exc).__name__}: {exc}")
            for key, value in figures.items():
                print(f"run {number}: {key}: {value:,.3g}")
            runs.append(figures)
    print("\nmedian over the runs (min .. max):")
    summary = {}
    for key in runs[0]:
        values = [r[key] for r in runs if key in r]
        summary[key] = statistics.median(values)
        print(f"  {key}: {summary[key]:,.3g}  ({min(values):,.3g} .. {max(values):,.3g})")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"runs": runs, "median": summary}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
