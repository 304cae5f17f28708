"""Shards and ParallelizationFactor (issue 15): trigger throughput, 4 shards x factor 3 against
1 x 1, measured in one run. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_parallel.py [--runs 3] [--records 2000] [--sleep-ms 20]

For each layout (shards x ParallelizationFactor: 1x1, 4x1, 1x3, 4x3) a fresh table gets a backlog
of ``--records`` records behind a disabled mapping (BatchSize 100) whose function is warm; the
mapping is enabled and ``settle()`` times the drain. Two functions: one that sleeps ``--sleep-ms``
per invocation (a handler waiting on I/O, such as sending the welcome e-mail) and a no-op (the
emulator's own cost, bound by this machine's cores). The layouts of a run are measured one after
the other, so their ratios share the machine's load; the summary is the median over ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from typing import Any

from bench_speed import _name, _set_enabled, _zip  # the same helpers (bench/ is on sys.path)

LAYOUTS = ((1, 1), (4, 1), (1, 3), (4, 3))
NOOP = "def handler(event, context):\n    return None\n"
SLEEPER = "import time\n\ndef handler(event, context):\n    time.sleep({seconds})\n"


def drain_rate(aws: Any, shards: int, factor: int, source: str, records: int) -> float:
    """Records a second through one mapping over a backlog of ``records`` records."""
    aws.set_shards(shards_per_stream=shards)
    ddb, lam = aws.client("dynamodb"), aws.client("lambda")
    table = _name("t")
    stream = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    function = _name("fn-")
    role = aws.client("iam").create_role(RoleName=f"r-{function}", AssumeRolePolicyDocument="{}")
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": _zip(source)},
    )
    uuid = lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        BatchSize=100,
        ParallelizationFactor=factor,
    )["UUID"]
    # warm: one record per lane of every shard, so every worker the drain uses is started
    for n in range(shards * factor * 8):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"warm-{n}"}})
    aws.settle(120)
    _set_enabled(aws, uuid, False)
    for start in range(0, records, 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "payload": {"S": "x" * 100}}}}
                    for n in range(start, min(start + 25, records))
                ]
            }
        )
    began = time.perf_counter()
    _set_enabled(aws, uuid, True)
    aws.settle(600)
    rate = records / (time.perf_counter() - began)
    lam.delete_event_source_mapping(UUID=uuid)
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs; the summary is their median")
    parser.add_argument("--records", type=int, default=2000, help="backlog per layout")
    parser.add_argument("--sleep-ms", type=float, default=20.0, help="the sleeping function's wait")
    args = parser.parse_args()
    from streamkit.local import LocalAWS

    functions = {
        f"sleep {args.sleep_ms:g} ms": SLEEPER.format(seconds=args.sleep_ms / 1000),
        "no-op": NOOP,
    }
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.2f}, {args.runs} run(s), {args.records} records, BatchSize 100"
    )
    runs: list[dict[str, float]] = []
    with LocalAWS() as aws:
        aws.prefix = ""
        aws.set_poll_interval(0.001)
        for number in range(1, args.runs + 1):
            figures: dict[str, float] = {}
            for label, source in functions.items():
                rates = {}
                for shards, factor in LAYOUTS:
                    rates[shards, factor] = drain_rate(aws, shards, factor, source, args.records)
                    figures[f"{label}: {shards}x{factor} records/s"] = rates[shards, factor]
                figures[f"{label}: 4x3 / 1x1"] = rates[4, 3] / rates[1, 1]
                figures[f"{label}: 4x1 / 1x1"] = rates[4, 1] / rates[1, 1]
            for key, value in figures.items():
                print(f"run {number}: {key}: {value:,.3g}")
            runs.append(figures)
    print("\nmedian over the runs (min .. max):")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(
            f"  {key}: {statistics.median(values):,.3g}  ({min(values):,.3g} .. {max(values):,.3g})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
