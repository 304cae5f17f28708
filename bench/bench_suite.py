"""The test suite's wall time (issue 14). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_suite.py [--runs 1] [--only suite notebooks]

Runs, from the repository's root, the two commands whose wait the README's Performance table gives:

- ``suite``: ``make test``, what CI runs (the unit tests and the five notebooks under nbval, in
  parallel: ``-n auto --dist loadfile``);
- ``notebooks``: ``make test-notebooks``, the five notebooks alone with the same flags;

each ``--runs`` times (default 1: ``make bench`` runs this file too, and one run of both takes
about 2.5 minutes on the 2-core development box). For each run it prints the wall time, the load
average before it, pytest's summary line and the 10 slowest tests (pytest's ``--durations=10``);
then the median wall time per command. The machine is shared, so single runs move by ±10 % or
more. A run that fails is reported with its exit code and its figures still count.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"suite": "test", "notebooks": "test-notebooks"}
SLOWEST = 10
_DURATION = re.compile(r"^\s*(\d+\.\d+)s (call|setup|teardown)\s+(\S.*)$")
_SUMMARY = re.compile(r"^=* ?(\d+ (passed|failed|error).*) in [\d.]+s")


def run(target: str) -> tuple[float, int, str, list[str]]:
    """``make <target>`` with pytest's durations: wall seconds, exit code, summary, slowest tests."""
    flags = f"-p no:cacheprovider --durations={SLOWEST}"
    began = time.monotonic()
    done = subprocess.run(
        ["make", "-s", target, f"PYTEST_FLAGS={flags}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - began
    lines = done.stdout.splitlines()
    summary = next((m.group(1) for m in map(_SUMMARY.match, reversed(lines)) if m), "no summary")
    slowest = [line.strip() for line in lines if _DURATION.match(line)][:SLOWEST]
    if done.returncode != 0 and summary == "no summary":
        summary = (done.stderr or done.stdout)[-500:]
    return wall, done.returncode, summary, slowest


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of each command")
    parser.add_argument("--only", nargs="*", choices=list(COMMANDS), help="commands to run")
    args = parser.parse_args()
    chosen = args.only or list(COMMANDS)
    print(
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"{args.runs} run(s) of {', '.join(f'make {COMMANDS[c]}' for c in chosen)}"
    )
    walls: dict[str, list[float]] = {name: [] for name in chosen}
    for number in range(1, args.runs + 1):
        for name in chosen:
            load = os.getloadavg()[0]
            wall, code, summary, slowest = run(COMMANDS[name])
            walls[name].append(wall)
            status = "" if code == 0 else f", exit code {code}"
            print(f"\nrun {number}: make {COMMANDS[name]}: {wall:.1f} s (load {load:.2f}{status})")
            print(f"  {summary}")
            print(f"  {len(slowest)} slowest:")
            for line in slowest:
                print(f"    {line}")
    print("\nmedian wall time over the runs (min .. max):")
    for name, values in walls.items():
        print(
            f"  make {COMMANDS[name]}: {statistics.median(values):.1f} s "
            f"({min(values):.1f} .. {max(values):.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
