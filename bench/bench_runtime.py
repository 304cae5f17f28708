"""Benchmark of the local Lambda function runtime. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_runtime.py [--cold 10] [--warm 200] [--soak 10000]

Figures, for a no-op Python handler (and, last, Node.js's beside Python's):
- cold start (new execution environment: process start, handler import, first invocation), and
  the ``Init Duration`` it reports (the handler import alone);
- warm invocation time, median and p99: the runtime alone (logs discarded), then with the log
  events shipped to the embedded CloudWatch Logs (one PutLogEvents per invocation);
- resident memory of this (parent) process before and after N warm invocations, logs discarded
  (so the figure is the runtime's, not the embedded backend storing N x 4 log events);
- Node.js beside Python: cold start, Init Duration and warm invocation of a no-op ``nodejs22.x``
  handler and of the same ``python3.12`` one, logs discarded (skipped without a Node.js 20+).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
import zipfile
from typing import Any

import psutil

from streamkit.local import LocalAWS
from streamkit.local.runtime import FunctionRuntime, FunctionSpec, code_sha256
from streamkit.local.runtime.launchers import find_node

NOOP = "def handler(event, context):\n    return None\n"
NODE_NOOP = "exports.handler = async (event) => null;\n"


class _DiscardLogs:
    """A CloudWatch Logs client that drops everything (to time the runtime alone)."""

    class exceptions:  # noqa: N801  (mirrors botocore's client.exceptions)
        class ResourceAlreadyExistsException(Exception):
            pass

        class ResourceNotFoundException(Exception):
            pass

    def create_log_group(self, **_: Any) -> None:
        pass

    def create_log_stream(self, **_: Any) -> None:
        pass

    def put_log_events(self, **_: Any) -> None:
        pass


def spec(name: str, source: str = NOOP, runtime: str = "python3.12") -> FunctionSpec:
    node = runtime.startswith("nodejs")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js" if node else "app.py", source)
    code = buffer.getvalue()
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler="index.handler" if node else "app.handler",
        runtime=runtime,
        timeout_s=30.0,
        memory_mb=128,
        environment={},
        code=code,
        code_sha256=code_sha256(code),
        region="us-east-1",
        account_id="123456789012",
    )


def timed(runtime: FunctionRuntime, fn: FunctionSpec, n: int) -> list[float]:
    times = []
    for _ in range(n):
        began = time.perf_counter()
        result = runtime.invoke(fn, {"Records": []})
        times.append((time.perf_counter() - began) * 1000)
        assert result.ok, result.payload
    return times


def compare_runtimes(aws: LocalAWS, cold_n: int, warm_n: int) -> None:
    """Cold start, Init Duration and warm invoke of a no-op handler, Node.js beside Python."""
    node = find_node(22)
    if node is None:
        print("Node.js vs Python: skipped (no Node.js 20+; pip install 'streamkit[node]')")
        return
    print(f"Node.js vs Python, no-op handler, logs discarded (node {node[1]} at {node[0]}):")
    for runtime, source in (("python3.12", NOOP), ("nodejs22.x", NODE_NOOP)):
        with FunctionRuntime(
            endpoint_url=aws.endpoint_url, region=aws.region, logs_client=_DiscardLogs()
        ) as rt:
            rt.invoke(spec(f"{runtime}-warmup", source, runtime), {})
            cold, init = [], []
            for i in range(cold_n):
                comment = "//" if runtime.startswith("nodejs") else "#"
                fn = spec(f"{runtime}-cold-{i}", source + f"{comment} {i}\n", runtime)
                began = time.perf_counter()
                result = rt.invoke(fn, {})
                cold.append((time.perf_counter() - began) * 1000)
                assert result.cold_start and result.ok, result.payload
                init.append(result.init_duration_ms or 0.0)
            fn = spec(f"{runtime}-warm", source, runtime)
            timed(rt, fn, 20)
            warm = timed(rt, fn, warm_n)
        print(
            f"  {runtime:<11} cold start median {statistics.median(cold):6.1f} ms "
            f"(max {max(cold):6.1f}), Init Duration median {statistics.median(init):6.2f} ms; "
            f"warm invoke median {statistics.median(warm):.3f} ms, p99 {p(warm, 0.99):.3f} ms"
        )


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=10, help="cold starts to time")
    parser.add_argument("--warm", type=int, default=200, help="warm invocations to time")
    parser.add_argument("--soak", type=int, default=10_000, help="invocations for the memory check")
    args = parser.parse_args()

    print(f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} CPU(s)")
    me = psutil.Process()
    with LocalAWS() as aws:
        # -- cold starts: a new function (new code) each time --------------------------------------
        with FunctionRuntime(endpoint_url=aws.endpoint_url, region=aws.region) as runtime:
            runtime.invoke(spec("warmup"), {})  # logs client, log group: not part of a cold start
            cold, init = [], []
            for i in range(args.cold):
                fn = spec(f"cold-{i}", NOOP + f"# {i}\n")
                began = time.perf_counter()
                result = runtime.invoke(fn, {})
                cold.append((time.perf_counter() - began) * 1000)
                assert result.cold_start and result.ok
                init.append(result.init_duration_ms or 0.0)
        with FunctionRuntime(
            endpoint_url=aws.endpoint_url, region=aws.region, logs_client=_DiscardLogs()
        ) as runtime:
            alone_cold = []
            for i in range(args.cold):
                fn = spec(f"cold-alone-{i}", NOOP + f"# alone {i}\n")
                began = time.perf_counter()
                assert runtime.invoke(fn, {}).cold_start
                alone_cold.append((time.perf_counter() - began) * 1000)
        print(
            f"cold start, {args.cold} environments: runtime alone median "
            f"{statistics.median(alone_cold):.1f} ms (max {max(alone_cold):.1f}); with logs shipped "
            f"(CreateLogStream + PutLogEvents) median {statistics.median(cold):.1f} ms "
            f"(max {max(cold):.1f}); Init Duration (handler import) median "
            f"{statistics.median(init):.2f} ms"
        )

        # -- warm invocations ----------------------------------------------------------------------
        fn = spec("warm")
        with FunctionRuntime(
            endpoint_url=aws.endpoint_url, region=aws.region, logs_client=_DiscardLogs()
        ) as runtime:
            timed(runtime, fn, 20)
            alone = timed(runtime, fn, args.warm)
        with FunctionRuntime(endpoint_url=aws.endpoint_url, region=aws.region) as runtime:
            timed(runtime, fn, 20)
            shipped = timed(runtime, fn, args.warm)
            reported = [runtime.invoke(fn, {}).duration_ms for _ in range(50)]
        print(
            f"warm invoke, runtime alone (logs discarded), {args.warm} calls: median "
            f"{statistics.median(alone):.3f} ms, p99 {p(alone, 0.99):.3f} ms"
        )
        print(
            f"warm invoke, logs shipped to embedded CloudWatch Logs, {args.warm} calls: median "
            f"{statistics.median(shipped):.3f} ms, p99 {p(shipped, 0.99):.3f} ms "
            f"(REPORT Duration median {statistics.median(reported):.3f} ms)"
        )

        # -- parent memory over many invocations ---------------------------------------------------
        with FunctionRuntime(
            endpoint_url=aws.endpoint_url, region=aws.region, logs_client=_DiscardLogs()
        ) as runtime:
            timed(runtime, fn, 200)
            before = me.memory_info().rss
            began = time.perf_counter()
            timed(runtime, fn, args.soak)
            elapsed = time.perf_counter() - began
            after = me.memory_info().rss
            children = len(me.children(recursive=True))
        print(
            f"parent RSS over {args.soak} warm invocations: {before / 2**20:.1f} MiB -> "
            f"{after / 2**20:.1f} MiB ({(after - before) / 2**20:+.1f} MiB), "
            f"{args.soak / elapsed:.0f} invocations/s"
        )
        left = len(me.children(recursive=True))
        print(f"worker processes: {children} during the soak, {left} after close()")

        compare_runtimes(aws, args.cold, args.warm)
    sys.exit(0)


if __name__ == "__main__":
    main()
