"""The cost estimate from the command line: ``python -m streamkit.pricing`` or ``streamkit price``.

Run with ``--help`` for the options; ``--prices`` prints the price table, ``--csv`` the line items
as CSV.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from streamkit.errors import PricingError

from .model import ARCHITECTURES, HOURS_PER_MONTH, format_price_table
from .workload import (
    Consumer,
    GlobalTableReplica,
    LambdaTrigger,
    Poller,
    Workload,
    estimate,
    format_estimate,
)

__all__ = ["main"]


def _build_parser(prog: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or "python -m streamkit.pricing",
        description="Estimate what a DynamoDB stream and its consumers cost per month.",
        epilog="Example: --writes-per-second 100 --shards 4 --poller 1 --poller 0.25 "
        "(one Lambda trigger, two pollers).",
    )
    w = parser.add_argument_group("workload")
    w.add_argument(
        "--writes-per-second",
        type=float,
        default=10.0,
        metavar="N",
        help="item-changing writes per second (default: %(default)s)",
    )
    w.add_argument(
        "--item-bytes",
        type=float,
        default=1024.0,
        metavar="BYTES",
        help="average item size (default: %(default)s)",
    )
    w.add_argument(
        "--record-bytes",
        type=float,
        default=None,
        metavar="BYTES",
        help="average stream record size (default: the item size)",
    )
    w.add_argument(
        "--shards",
        type=float,
        default=1.0,
        metavar="N",
        help="open stream shards (default: %(default)s)",
    )
    c = parser.add_argument_group("consumers")
    c.add_argument(
        "--triggers",
        type=int,
        default=1,
        metavar="N",
        help="Lambda triggers with the settings below (default: %(default)s)",
    )
    c.add_argument(
        "--batch-size", type=int, default=100, metavar="N", help="BatchSize (default: %(default)s)"
    )
    c.add_argument(
        "--batching-window",
        type=int,
        default=0,
        metavar="SECONDS",
        help="MaximumBatchingWindowInSeconds (default: %(default)s)",
    )
    c.add_argument(
        "--memory",
        type=int,
        default=128,
        metavar="MB",
        help="function memory (default: %(default)s)",
    )
    c.add_argument(
        "--duration-ms",
        type=float,
        default=100.0,
        metavar="MS",
        help="average invocation duration (default: %(default)s)",
    )
    c.add_argument("--architecture", choices=ARCHITECTURES, default="x86_64")
    c.add_argument(
        "--poller",
        type=float,
        action="append",
        default=[],
        metavar="SECONDS",
        help="add a polling consumer with this poll interval (repeatable)",
    )
    c.add_argument(
        "--global-table", action="store_true", help="add global tables replication as a reader"
    )
    p = parser.add_argument_group("pricing")
    p.add_argument("--region", default="us-east-1", help="AWS region (default: %(default)s)")
    p.add_argument(
        "--hours",
        type=float,
        default=HOURS_PER_MONTH,
        help="hours per month (default: %(default)g)",
    )
    p.add_argument("--no-free-tier", action="store_true", help="do not apply the free tiers")
    o = parser.add_argument_group("output")
    o.add_argument("--csv", action="store_true", help="print the line items as CSV")
    o.add_argument("--prices", action="store_true", help="print the price table and exit")
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the cost estimate from the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    prog : str, optional
        Program name shown in help (``streamkit price`` when called through ``streamkit``).

    Returns
    -------
    int
        0 on success, 2 on a :class:`PricingError` (printed to stderr).
    """
    args = _build_parser(prog).parse_args(argv)
    if args.prices:
        print(format_price_table())
        return 0
    try:
        if not 0 <= args.triggers <= 10:
            raise PricingError(f"Invalid --triggers {args.triggers}: expected 0 to 10.")
        workload = Workload(args.writes_per_second, args.item_bytes, args.shards, args.record_bytes)
        consumers: list[Consumer] = []
        for i in range(args.triggers):
            name = "lambda-trigger" if args.triggers == 1 else f"lambda-trigger-{i + 1}"
            consumers.append(
                LambdaTrigger(
                    name,
                    args.batch_size,
                    args.batching_window,
                    args.memory,
                    args.duration_ms,
                    args.architecture,
                )
            )
        for i, interval in enumerate(args.poller):
            consumers.append(Poller(f"poller-{i + 1} ({interval:g} s)", interval))
        if args.global_table:
            consumers.append(GlobalTableReplica())
        result = estimate(
            workload,
            consumers,
            region=args.region,
            hours=args.hours,
            free_tier=not args.no_free_tier,
        )
    except PricingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.csv:
        print(result.to_csv(index=False), end="")
    else:
        print(format_estimate(result))
    return 0
