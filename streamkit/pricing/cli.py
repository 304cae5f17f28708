"""The cost estimate from the command line: ``python -m streamkit.pricing`` or ``streamkit price``.

Run with ``--help`` for the options; ``--prices`` prints the price table, ``--csv`` the line items
as CSV.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from streamkit.errors import PricingError

from .model import ARCHITECTURES, HOURS_PER_MONTH, format_price_table, regions
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


def _shards(text: str) -> int:
    """``--shards``: a whole number of shards, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid shard count {text!r}: a whole number >= 1, e.g. --shards 4"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid shard count {value}: at least 1")
    return value


def _build_parser(prog: str | None) -> argparse.ArgumentParser:
    name = prog or "python -m streamkit.pricing"
    parser = argparse.ArgumentParser(
        prog=name,
        description="Estimate what a DynamoDB stream and its consumers cost per month, with "
        "every price from a dated, sourced table (--prices shows it).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"""examples:
  {name} --writes-per-second 100 --item-bytes 2048 --shards 4 --poller 1
      100 writes/s of 2 KB items on 4 shards, one Lambda trigger and one poller polling every
      second (a KCL application), in us-east-1
  {name} --writes-per-second 100 --shards 4 --batching-window 1 --region eu-central-1
      the same trigger with a 1-second batching window, in Europe (Frankfurt)
  {name} --triggers 0 --poller 0.25 --region eu-west-1
      a poller alone, polling every 250 ms: stream reads only
  {name} --prices
      the price table: every figure with its region, date and whether AWS confirms it""",
    )
    w = parser.add_argument_group("workload")
    w.add_argument(
        "--writes-per-second",
        type=float,
        default=10.0,
        metavar="N",
        help="item-changing writes per second, all shards together (default: %(default)s)",
    )
    w.add_argument(
        "--item-bytes",
        type=float,
        default=1024.0,
        metavar="BYTES",
        help="average item size in bytes (default: %(default)s)",
    )
    w.add_argument(
        "--record-bytes",
        type=float,
        default=None,
        metavar="BYTES",
        help="average stream record size in bytes (default: the item size)",
    )
    w.add_argument(
        "--shards",
        type=_shards,
        default=1,
        metavar="N",
        help="open stream shards, a whole number >= 1 (about one per table partition; "
        "default: %(default)s)",
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
        "--batch-size",
        type=int,
        default=100,
        metavar="N",
        help="the triggers' BatchSize, 1 to 10,000 records (default: %(default)s)",
    )
    c.add_argument(
        "--batching-window",
        type=int,
        default=0,
        metavar="SECONDS",
        help="the triggers' MaximumBatchingWindowInSeconds, 0 to 300 (default: %(default)s)",
    )
    c.add_argument(
        "--memory",
        type=int,
        default=128,
        metavar="MB",
        help="the function's memory in MB, 128 to 10,240 (default: %(default)s)",
    )
    c.add_argument(
        "--duration-ms",
        type=float,
        default=100.0,
        metavar="MS",
        help="average invocation duration in milliseconds (default: %(default)s)",
    )
    c.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="x86_64",
        help="the function's instruction set: x86_64 or arm64 (default: %(default)s)",
    )
    c.add_argument(
        "--poller",
        type=float,
        action="append",
        default=[],
        metavar="SECONDS",
        help="add a polling consumer (a KCL application, an SDK loop) that polls each shard "
        "every SECONDS; repeat for more (default: none)",
    )
    c.add_argument(
        "--global-table",
        action="store_true",
        help="add global tables replication as a reader (its reads are free)",
    )
    p = parser.add_argument_group("pricing")
    p.add_argument(
        "--region",
        default="us-east-1",
        help=f"AWS region, one of {', '.join(regions())} (default: %(default)s)",
    )
    p.add_argument(
        "--hours",
        type=float,
        default=HOURS_PER_MONTH,
        metavar="HOURS",
        help="hours in the month: 730 as the AWS Pricing Calculator, 720 for 30 days "
        "(default: %(default)g)",
    )
    p.add_argument(
        "--no-free-tier",
        action="store_true",
        help="do not apply the free tiers (the account's other streams and functions use them)",
    )
    o = parser.add_argument_group("output")
    o.add_argument("--csv", action="store_true", help="print the line items as CSV, no text")
    o.add_argument(
        "--prices", action="store_true", help="print the price table (every figure) and exit"
    )
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
