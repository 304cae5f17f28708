"""Benchmark of the embedded backend's streams. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_streams.py [--samples 300] [--records 20000] [--polls 100000]

Figures:
- embedded backend start time, cold (fresh process, imports included) and the start alone;
- PutItem -> record visible in GetRecords latency (median, p99) for a consumer polling LATEST;
- GetRecords drain rate (records/s) reading a full shard 1,000 records per call;
- resident memory before and after N polls of an idle shard (iterators must not pile up).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import psutil

from streamkit.local import LocalAWS


def cold_start(runs: int) -> list[tuple[float, float]]:
    script = (
        "import time; t = time.perf_counter(); from streamkit.local import LocalAWS; "
        "a = LocalAWS().start(); print(time.perf_counter() - t, a.started_in); a.stop()"
    )
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        total, start = map(float, out.stdout.split())
        results.append((total, start))
    return results


def make_table(ddb, name: str) -> str:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def first_shard(streams, arn: str) -> str:
    return streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]


def visibility_latency(aws: LocalAWS, samples: int) -> list[float]:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    arn = make_table(ddb, "Latency")
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=first_shard(streams, arn), ShardIteratorType="LATEST"
    )["ShardIterator"]
    latencies = []
    for n in range(samples):
        began = time.perf_counter()
        ddb.put_item(TableName="Latency", Item={"pk": {"S": f"k{n}"}, "v": {"N": str(n)}})
        while True:
            response = streams.get_records(ShardIterator=iterator)
            iterator = response["NextShardIterator"]
            if response["Records"]:
                break
        latencies.append(time.perf_counter() - began)
    return latencies


def drain_rate(aws: LocalAWS, records: int) -> tuple[float, int]:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    arn = make_table(ddb, "Drain")
    for start in range(0, records, 25):
        ddb.batch_write_item(
            RequestItems={
                "Drain": [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "payload": {"S": "x" * 100}}}}
                    for n in range(start, min(start + 25, records))
                ]
            }
        )
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=first_shard(streams, arn), ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    read = calls = 0
    began = time.perf_counter()
    while read < records:
        response = streams.get_records(ShardIterator=iterator, Limit=1000)
        calls += 1
        read += len(response["Records"])
        iterator = response["NextShardIterator"]
    return read / (time.perf_counter() - began), calls


def memory_after_polls(aws: LocalAWS, polls: int) -> tuple[float, float, float]:
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    arn = make_table(ddb, "Idle")
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=first_shard(streams, arn), ShardIteratorType="LATEST"
    )["ShardIterator"]
    process = psutil.Process(os.getpid())
    for _ in range(1000):  # warm up caches before the first reading
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    before = process.memory_info().rss / 2**20
    began = time.perf_counter()
    for _ in range(polls):
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    elapsed = time.perf_counter() - began
    return before, process.memory_info().rss / 2**20, polls / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=300, help="latency samples (default 300)")
    parser.add_argument(
        "--records", type=int, default=20000, help="records to drain (default 20000)"
    )
    parser.add_argument(
        "--polls", type=int, default=100000, help="idle polls for memory (default 100000)"
    )
    parser.add_argument(
        "--cold-starts", type=int, default=3, help="fresh-process starts (default 3)"
    )
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    starts = cold_start(args.cold_starts)
    print(
        f"start, fresh process incl. imports: median {statistics.median(t for t, _ in starts):.2f} s; "
        f"LocalAWS.start() alone: median {statistics.median(s for _, s in starts):.2f} s "
        f"({args.cold_starts} runs)"
    )
    with LocalAWS() as aws:
        latencies = sorted(visibility_latency(aws, args.samples))
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"PutItem -> visible in GetRecords: median {statistics.median(latencies) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms ({args.samples} samples; includes the PutItem round trip)"
        )
        rate, calls = drain_rate(aws, args.records)
        print(f"GetRecords drain: {rate:,.0f} records/s ({args.records:,} records, {calls} calls)")
        before, after, poll_rate = memory_after_polls(aws, args.polls)
        print(
            f"memory: {before:.1f} MiB before, {after:.1f} MiB after {args.polls:,} idle polls "
            f"({after - before:+.1f} MiB; {poll_rate:,.0f} polls/s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
