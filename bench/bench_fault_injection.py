"""Fault injection, repeated: the full scenario of tests/test_fault_injection.py (``FULL``: 10,400
writes over 400 keys while the function randomly raises, crashes its worker and times out; the test
itself runs ``SMALL``, the same faults over 1,200 writes), run several times on one embedded
backend; each run is checked (nothing lost, in order per key, counts add up) and its figures
printed, then a summary.

    .venv/bin/python bench/bench_fault_injection.py [--runs 3]
    .venv/bin/python bench/bench_fault_injection.py --shards 4 --parallelization-factor 3 \
        --rollover-s 2

With several shards or a ``ParallelizationFactor`` above 1, each run is checked per key and per
lineage instead (tests/test_shards.py's ``check_per_key``: nothing lost, each key's records first
processed in order, parents before children), and its figures are those of that check.

Figures per run: writes, stream records, shards, invocations, successful batches, retries (invocations
minus successful batches), failed invocations, records processed, duplicates (records processed more
than once), extra deliveries, discarded records and batches, poison records, raised, crashes,
timeouts, cold starts, seconds to write, to settle, in all.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_fault_injection import FULL, check, run_scenario  # noqa: E402
from test_shards import check_per_key  # noqa: E402

from streamkit.local import LocalAWS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shards", type=int, default=1, help="open shards per stream")
    parser.add_argument("--parallelization-factor", type=int, default=1, help="batches per shard")
    parser.add_argument(
        "--rollover-s", type=float, default=math.inf, help="seconds between automatic rollovers"
    )
    args = parser.parse_args()
    many = args.shards > 1 or args.parallelization_factor > 1 or args.rollover_s != math.inf
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPU(s), {args.runs} run(s), "
        f"{args.shards} shard(s) x ParallelizationFactor {args.parallelization_factor}, "
        f"rollover every {args.rollover_s:g} s"
    )
    results, failures = [], 0
    with LocalAWS(shards_per_stream=args.shards, shard_rollover_s=args.rollover_s) as aws:
        for number in range(1, args.runs + 1):
            run = run_scenario(
                aws, FULL, settle_timeout=300, parallelization_factor=args.parallelization_factor
            )
            try:
                if many:
                    figures = check_per_key(aws, run, factor=args.parallelization_factor)
                    figures["seconds to settle"] = round(run.settled_in, 1)
                    print(f"run {number}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
                    results.append(figures)
                else:
                    results.append(check(run))  # prints the figures
            except AssertionError as exc:
                failures += 1
                print(f"run {number}: FAILED: {exc}")
    if results:
        print("\nmedian over the passing runs:")
        for name in results[0]:
            values = [r[name] for r in results]
            print(f"  {name}: {statistics.median(values):g} (min {min(values)}, max {max(values)})")
    print(f"{len(results)} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
