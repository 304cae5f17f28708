"""Benchmark of the local Lambda service. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_lambda_service.py [--samples 100] [--records 20000] [--memory-records 100000]

Figures:
- write -> handler-start latency (median, p99) at AWS's polling rate (4/s) and at the fastest the
  service allows;
- sustained records/s through a no-op handler (BatchSize 1,000), as a ratio to the raw GetRecords
  drain rate (boto3 over HTTP, 1,000 records a call) measured in the same run;
- resident memory of the process before and after the service processed N records.
Worker cold start and warm invoke times: bench/bench_runtime.py.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import time
import zipfile

import psutil

from streamkit.local import LocalAWS

TIMESTAMP = """
import time

def handler(event, context):
    started = time.time()
    for record in event["Records"]:
        print("AT", record["dynamodb"]["Keys"]["pk"]["S"], started)
"""
NOOP = "def handler(event, context):\n    return None\n"


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _function(aws: LocalAWS, name: str, source: str) -> None:
    iam, lam = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip(source)},
    )


def _table(aws: LocalAWS, name: str) -> str:
    ddb = aws.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def _fill(aws: LocalAWS, table: str, records: int, prefix: str = "k") -> None:
    ddb = aws.client("dynamodb")
    for start in range(0, records, 25):
        ddb.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {"pk": {"S": f"{prefix}{n}"}, "payload": {"S": "x" * 100}}
                        }
                    }
                    for n in range(start, min(start + 25, records))
                ]
            }
        )


def latency(aws: LocalAWS, interval: float, samples: int, tag: str) -> list[float]:
    aws.set_poll_interval(interval)
    stream = _table(aws, f"Latency{tag}")
    _function(aws, f"latency-{tag}", TIMESTAMP)
    aws.client("lambda").create_event_source_mapping(
        FunctionName=f"latency-{tag}", EventSourceArn=stream, StartingPosition="LATEST"
    )
    aws.settle(30)
    ddb = aws.client("dynamodb")
    written = {}
    jitter = random.Random(7)
    for n in range(samples):
        time.sleep(
            jitter.uniform(0, interval)
        )  # writes land anywhere in the poll cycle, not just after it
        key = f"{tag}-{n}"
        written[key] = time.time()
        ddb.put_item(TableName=f"Latency{tag}", Item={"pk": {"S": key}})
        aws.settle(30)  # one write at a time: latency, not queueing
    started = {}
    logs = aws.client("logs")
    for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/latency-{tag}"
    ):
        for event in page["events"]:
            parts = event["message"].split()
            if parts and parts[0] == "AT":
                started[parts[1]] = float(parts[2])
    return sorted(started[k] - written[k] for k in written if k in started)


def raw_drain_rate(aws: LocalAWS, records: int) -> float:
    stream = _table(aws, "RawDrain")
    _fill(aws, "RawDrain", records)
    client = aws.client("dynamodbstreams")
    shard = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client.get_shard_iterator(
        StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    read = 0
    began = time.perf_counter()
    while read < records:
        response = client.get_records(ShardIterator=iterator, Limit=1000)
        read += len(response["Records"])
        iterator = response["NextShardIterator"]
    return read / (time.perf_counter() - began)


def prepare(aws: LocalAWS, records: int, tag: str) -> str:
    stream = _table(aws, f"Through{tag}")
    _fill(aws, f"Through{tag}", records)
    _function(aws, f"noop-{tag}", NOOP)
    return stream


def service_rate(aws: LocalAWS, stream: str, records: int, tag: str) -> tuple[float, int]:
    lam = aws.client("lambda")
    began = time.perf_counter()
    lam.create_event_source_mapping(
        FunctionName=f"noop-{tag}",
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1000,
    )
    aws.settle(600)
    elapsed = time.perf_counter() - began
    state = aws.mapping_state()
    invocations = int(state[state["function"] == f"noop-{tag}"]["invocations"].sum())
    return records / elapsed, invocations


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--samples", type=int, default=100, help="latency samples per setting (default 100)"
    )
    parser.add_argument(
        "--records", type=int, default=20000, help="records for the throughput run (default 20000)"
    )
    parser.add_argument(
        "--memory-records",
        type=int,
        default=100000,
        help="records for the memory run (default 100000)",
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    process = psutil.Process(os.getpid())
    with LocalAWS() as aws:
        for tag, interval in (("aws", 0.25), ("fast", 0.001)):
            values = latency(aws, interval, args.samples, tag)
            p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
            print(
                f"write -> handler start, polling every {interval * 1000:g} ms: median "
                f"{statistics.median(values) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms ({len(values)} writes)"
            )
        aws.set_poll_interval(0.25)
        raw = raw_drain_rate(aws, args.records)
        stream = prepare(aws, args.records, "rate")
        rate, invocations = service_rate(aws, stream, args.records, "rate")
        print(
            f"throughput, no-op handler, BatchSize 1000: {rate:,.0f} records/s ({invocations} invocations) "
            f"vs raw GetRecords drain {raw:,.0f} records/s: ratio {rate / raw:.2f}"
        )
        stream = prepare(aws, args.memory_records, "memory")  # the stream holds these records
        before = process.memory_info().rss / 2**20
        rate, invocations = service_rate(aws, stream, args.memory_records, "memory")
        after = process.memory_info().rss / 2**20
        print(
            f"memory of the service: {before:.0f} MiB with {args.memory_records:,} records waiting, "
            f"{after:.0f} MiB after processing them ({after - before:+.0f} MiB; {rate:,.0f} records/s, "
            f"{invocations} invocations)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
