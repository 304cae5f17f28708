"""Benchmark: price one million workload scenarios, vectorized against a plain Python loop.

A scenario is one table and two consumers: a polling consumer (its GetRecords calls, priced with
the free tier) and a Lambda trigger (invocations, requests and duration, priced with the free
tiers), that is ``stream_read_cost(polling_read_requests(...))`` +
``lambda_cost(lambda_invocations(...))``.
The loop restates the same model in plain Python (math module, one scenario at a time, with the
same input checks); it runs on a subset and is scaled to a million, which the output says.

Run: ``.venv/bin/python bench/bench_pricing.py [--scenarios N] [--loop-scenarios M]``.
Target: the vectorized run at least 50x faster than the loop, and under one second.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import streamkit.pricing as pricing

TARGET_RATIO = 50.0
TARGET_SECONDS = 1.0


def scenarios(n: int, seed: int = 20261127) -> dict[str, np.ndarray]:
    """Random but fixed scenarios covering idle to saturated streams."""
    rng = np.random.default_rng(seed)
    return {
        "shards": rng.integers(1, 65, n).astype(np.float64),
        "polls_per_second": rng.choice([0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 10.0], n),
        "records_per_second": rng.choice([0.0, 1.0], n) * rng.uniform(0, 50_000, n),
        "avg_record_bytes": rng.uniform(100, 400_000, n),
        "batch_size": rng.integers(1, 10_001, n).astype(np.float64),
        "batching_window_s": rng.choice([0.0, 1.0, 5.0, 30.0], n),
        "memory_mb": rng.choice([128.0, 256.0, 512.0, 1024.0, 2048.0], n),
        "duration_ms": rng.uniform(1, 2_000, n),
    }


def vectorized(s: dict[str, np.ndarray]) -> np.ndarray:
    """Monthly cost of every scenario with streamkit.pricing (NumPy, no Python loop)."""
    reads = pricing.polling_read_requests(
        s["shards"],
        s["polls_per_second"],
        records_per_second=s["records_per_second"],
        avg_record_bytes=s["avg_record_bytes"],
    )
    invocations = pricing.lambda_invocations(
        s["shards"],
        s["records_per_second"],
        batch_size=s["batch_size"],
        batching_window_s=s["batching_window_s"],
        avg_record_bytes=s["avg_record_bytes"],
    )
    lam = pricing.lambda_cost(invocations, memory_mb=s["memory_mb"], duration_ms=s["duration_ms"])
    return pricing.stream_read_cost(reads) + lam


def plain_loop(s: dict[str, np.ndarray], n: int) -> list[float]:
    """The same model, one scenario at a time, in plain Python."""
    table = pricing.price_table().set_index(["id", "region"])
    read_price = 0.02 / 100_000
    free_reads = 2_500_000.0
    request_price = 0.20 / 1_000_000
    free_requests = 1_000_000.0
    tiers = table.loc[("lambda.duration", "us-east-1")]
    tiers = tiers[tiers["architecture"] == "x86_64"]
    tier_list = [
        (float(lo), math.inf if hi != hi or hi is None else float(hi), float(v))
        for lo, hi, v in zip(tiers["tier_from"], tiers["tier_to"], tiers["value"], strict=True)
    ]
    gbs_price = tier_list[0][2]
    free_gbs = 400_000.0
    seconds = pricing.HOURS_PER_MONTH * 3600.0
    columns = [s[k][:n].tolist() for k in scenarios(0)]
    out = []
    for shards, polls, records, size, batch, window, memory, duration in zip(*columns, strict=True):
        for v in (shards, polls, records, size, batch, window, memory, duration):
            if not (v >= 0 and math.isfinite(v)):
                raise ValueError(v)
        if polls <= 0 or size > 1_048_576:
            raise ValueError((polls, size))
        per_call = min(1000.0, math.floor(1_048_576 / size)) if size else 1000.0
        reads = max(shards * polls, records / per_call) * seconds
        per_batch = min(batch, math.floor(6_291_456 / size)) if size else batch
        flush = 1.0 / window if window > 0 else 4.0
        invocations = min(records, max(shards * flush, records / per_batch)) * seconds
        billed_ms = max(1.0, math.ceil(duration - 1e-6))
        gbs = invocations * billed_ms / 1000.0 * memory / 1024.0
        cost = max(reads - free_reads, 0.0) * read_price
        cost += max(invocations - free_requests, 0.0) * request_price
        for lo, hi, price in tier_list:
            if gbs > lo:
                cost += (min(gbs, hi) - lo) * price
        cost -= min(gbs, free_gbs) * gbs_price
        out.append(cost)
    return out


def best_of(repeat: int, fn, *args) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=1_000_000)
    parser.add_argument("--loop-scenarios", type=int, default=100_000)
    args = parser.parse_args()
    n, m = args.scenarios, min(args.loop_scenarios, args.scenarios)

    s = scenarios(n)
    vectorized(scenarios(1000))  # warm up imports and the price table
    vec_s, vec = best_of(7, vectorized, s)
    loop_s, loop = best_of(3, plain_loop, s, m)
    np.testing.assert_allclose(vec[:m], loop, rtol=1e-9, atol=1e-9)
    loop_scaled = loop_s * n / m
    ratio = loop_scaled / vec_s

    print(f"scenarios:            {n:,} (poller reads + Lambda trigger, us-east-1, 730 h)")
    print(
        f"vectorized:           {vec_s:.3f} s for {n:,} ({vec_s / n * 1e9:,.0f} ns each, best of 7)"
    )
    print(
        f"plain Python loop:    {loop_s:.3f} s for {m:,} (best of 3), scaled x{n / m:g} -> "
        f"{loop_scaled:.2f} s for {n:,}"
    )
    print(f"speed-up:             {ratio:,.0f}x (target >= {TARGET_RATIO:g}x)")
    print(f"results agree:        yes (first {m:,} scenarios, rtol 1e-9)")
    met = ratio >= TARGET_RATIO and vec_s < TARGET_SECONDS
    print(f"target met:           {'yes' if met else 'NO'} (>= {TARGET_RATIO:g}x and < 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
