"""The ``streamkit teardown`` command: delete what earlier streamkit runs left behind.

A notebook's last cell tears down what that run created. When a kernel died before it, or a
notebook was stopped half-way, this finds the leftovers the same way
(:func:`streamkit.triggers.teardown`: the name prefix, then the ``streamkit-run`` tag) and deletes
them. It only shows what it would delete unless ``--yes`` is given, and it never touches anything
without the tag.

Examples
--------
.. code-block:: console

    $ streamkit teardown --backend aws --all-runs          # what would go, for every run
    $ streamkit teardown --backend aws --all-runs --yes    # delete it
    $ streamkit teardown --backend aws --run 20261127-150312-3fa9 --yes
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from .backends import DEFAULT_PREFIX, connect
from .errors import StreamkitError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *, prog: str = "streamkit teardown") -> int:
    """Run the command; 0 when everything asked for is gone (or would be), 1 on an error.

    Parameters
    ----------
    argv : sequence of str, optional
        The command's arguments (without the program and command names).
    prog : str
        Program name shown in ``--help``.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Delete what streamkit runs created (found by name prefix and run tag). "
        "Without --yes it only shows what it would delete.",
    )
    parser.add_argument(
        "--backend",
        required=True,
        help='"aws" (your account, through the standard credential chain) or an http(s):// '
        "endpoint; there is no default, so real AWS is only ever used when named",
    )
    parser.add_argument("--region", help="AWS region (default: the configured one)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help=f"name prefix (default {DEFAULT_PREFIX!r})"
    )
    runs = parser.add_mutually_exclusive_group(required=True)
    runs.add_argument("--run", metavar="RUN_ID", help="the run to delete (printed by describe())")
    runs.add_argument("--all-runs", action="store_true", help="every streamkit run's resources")
    parser.add_argument("--yes", action="store_true", help="delete (default: only show)")
    args = parser.parse_args(argv)
    try:
        backend = connect(
            args.backend,
            region=args.region,
            profile=args.profile if args.backend == "aws" else None,
            prefix=args.prefix,
            run_id=args.run,
        )
        print(backend.describe())
        from .triggers import teardown

        report = teardown(backend, dry_run=not args.yes, all_runs=args.all_runs)
    except (StreamkitError, BotoCoreError, ClientError) as exc:
        print(f"error: {exc}")
        report = getattr(exc, "report", None)
        if report is not None:
            print(report.to_string(index=False))
        return 1
    if report.empty:
        print(f"Nothing named {backend.prefix}* was found.")
        return 0
    print(report.to_string(index=False))
    pending = int((report["action"] == "would delete").sum())
    if pending:
        print(f"{pending} resource(s) would be deleted: run again with --yes to delete them.")
    return 0
