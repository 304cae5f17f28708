"""Measure what one full walkthrough (notebooks 01-05) uses, and price it with the kit's model.

Runs every notebook top to bottom in a Jupyter kernel against the embedded backend, seen as a remote
endpoint (``STREAMKIT_BACKEND=<its URL>``: the notebooks take their non-local branches, as on AWS),
while this process runs the local Lambda service. It counts:

* the AWS API calls each notebook made (``Backend.api_calls``), among them the stream reads billed
  to a non-Lambda consumer (``dynamodbstreams:GetRecords``) and the DynamoDB writes;
* every Lambda invocation and its billed duration (the local runtime's own figures; AWS's cold
  starts are longer, so the GB-seconds are also shown at 10x);

then prices the month with :mod:`streamkit.pricing` (stream reads, Lambda requests, Lambda
duration; free tiers on and off). What it does not price (a few cents at most, and also inside the
AWS Free Tier for a new account): DynamoDB on-demand writes and reads, CloudWatch Logs ingestion,
SQS/SNS requests. The README's "Run it on AWS" section quotes this output.

Run: ``.venv/bin/python bench/bench_walkthrough.py`` (about a minute).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import streamkit.pricing as pricing
from streamkit.local import LocalAWS
from streamkit.local.runtime import FunctionRuntime

ROOT = Path(__file__).resolve().parents[1]
MARKER = "STREAMKIT_API_CALLS "
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")


def main() -> None:
    invocations: list[tuple[int, int]] = []  # (billed ms, memory MB)
    original = FunctionRuntime.invoke

    def counting(self, spec, event):  # type: ignore[no-untyped-def]
        result = original(self, spec, event)
        invocations.append((result.billed_duration_ms, spec.memory_mb))
        return result

    FunctionRuntime.invoke = counting  # type: ignore[method-assign]
    calls: Counter[str] = Counter()
    with LocalAWS() as aws:
        aws.set_poll_interval(0.05)
        os.environ["STREAMKIT_BACKEND"] = aws.endpoint_url
        for key, value in aws.cli_env().items():  # kernels sign with the run's own credentials
            if key != "AWS_ENDPOINT_URL":
                os.environ[key] = value
        for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            nb.cells.append(
                nbformat.v4.new_code_cell(
                    f"import json; print({MARKER!r} + json.dumps(dict(aws.api_calls)))"
                )
            )
            began = time.perf_counter()
            NotebookClient(
                nb,
                timeout=600,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
            text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
            mine = Counter(json.loads(text.split(MARKER, 1)[1]))
            calls.update(mine)
            print(
                f"{path.name}: {sum(mine.values())} API calls, {time.perf_counter() - began:.1f} s"
            )

    reads = calls["dynamodbstreams:GetRecords"]
    writes = sum(calls[f"dynamodb:{op}"] for op in WRITES)
    requests = len(invocations)
    gb_s = sum(ms / 1000 * mb / 1024 for ms, mb in invocations)
    print()
    print(f"API calls: {sum(calls.values())} ({len(calls)} distinct operations)")
    print(f"non-Lambda stream reads (GetRecords): {reads}")
    print(f"DynamoDB write calls: {writes}")
    print(
        f"Lambda invocations: {requests}, billed {gb_s:.3f} GB-s (x10 for AWS cold starts: {10 * gb_s:.2f})"
    )
    print()
    for free in (True, False):
        cost = (
            pricing.stream_read_cost(reads, free_tier=free)
            + pricing.lambda_request_cost(requests, free_tier=free)
            + pricing.lambda_duration_cost(10 * gb_s, free_tier=free)
        )
        label = "with the free tiers" if free else "without any free tier"
        print(f"priced in us-east-1 {label}: ${float(cost):.6f}")


if __name__ == "__main__":
    main()
