"""Fault injection, repeated: the full scenario of tests/test_fault_injection.py (``FULL``: 10,400
writes over 400 keys while the function randomly raises, crashes its worker and times out; the test
itself runs ``SMALL``, the same faults over 1,200 writes), run several times on one embedded
backend; each run is checked (nothing lost, in order per key, counts add up) and its figures
printed, then a summary.

    .venv/bin/python bench/bench_fault_injection.py [--runs 3]

Figures per run: writes, stream records, shards, invocations, successful batches, retries (invocations
minus successful batches), failed invocations, records processed, duplicates (records processed more
than once), extra deliveries, discarded records and batches, poison records, raised, crashes,
timeouts, cold starts, seconds to write, to settle, in all.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_fault_injection import FULL, check, run_scenario  # noqa: E402

from streamkit.local import LocalAWS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPU(s), {args.runs} run(s)")
    results, failures = [], 0
    with LocalAWS() as aws:
        for number in range(1, args.runs + 1):
            run = run_scenario(aws, FULL)
            try:
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
