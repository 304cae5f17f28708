"""The ``streamkit`` command: ``streamkit COMMAND [options]`` (or ``python -m streamkit``).

Each command lives in its own module, which has a ``main(argv, *, prog) -> int``; this file only
picks the module. Add a command by adding a line to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

#: Command name -> (module with a ``main(argv, *, prog)``, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "price": ("streamkit.pricing", "estimate what a stream and its consumers cost per month"),
    "teardown": (
        "streamkit.teardown",
        "delete what streamkit runs left behind (by prefix and tag)",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run a streamkit command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The command's exit status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="streamkit",
        description="Learn, test and price DynamoDB Streams triggers for AWS Lambda.",
        epilog="Commands: "
        + "; ".join(f"{name}: {text}" for name, (_, text) in COMMANDS.items())
        + ". Run 'streamkit COMMAND --help' for a command's options.",
    )
    parser.add_argument("command", choices=sorted(COMMANDS), help="what to do")
    # Only the command name is parsed here; everything after it belongs to the command.
    ns = parser.parse_args(args[:1])
    module = importlib.import_module(COMMANDS[ns.command][0])
    return int(module.main(args[1:], prog=f"streamkit {ns.command}"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
