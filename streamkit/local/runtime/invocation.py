"""What one invocation of the local runtime is: the function it runs, what it answers, how it fails.

:class:`FunctionSpec` is what the runtime needs of a deployed function (from the Lambda API's
state); :class:`InvocationResult` is what ``Invoke`` would answer. The error types and messages
below are AWS's (with their sources): a timeout (``Sandbox.Timedout``), a crashed environment
(``Runtime.ExitError``), an unsupported runtime.
"""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidParameterError, StreamkitError

__all__ = [
    "FunctionSpec",
    "InvocationResult",
    "LogShippingWarning",
    "RuntimeClosedError",
    "UnsupportedRuntimeError",
    "exit_status",
]

#: A timed-out invocation: errorType, errorMessage (as Invoke returns it) and the log line, e.g.
#: {"errorMessage": "RequestId: <id> Error: Task timed out after 1.00 seconds", "errorType":
#: "Sandbox.Timedout"} and "2024-06-25T19:22:58.186Z <id> Task timed out after 30.27 seconds";
#: REPORT then ends with "Status: timeout". Sources: Lambda Developer Guide, "Troubleshoot invocation
#: issues" (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html, names
#: Sandbox.Timedout); AWS's runtime interface emulator as forked by LocalStack
#: (localstack/lambda-runtime-init, custom_interop.go) for the message and Status; AWS payloads quoted
#: in seek-oss/aws-codedeploy-hooks' changelog and praetorian-inc/chariot-ui#166.
TIMEOUT_TYPE = "Sandbox.Timedout"
TIMEOUT_MESSAGE = "RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds"
TIMEOUT_LOG = "{timestamp} {request_id} Task timed out after {seconds:.2f} seconds"
#: An environment whose process died: {"errorType": "Runtime.ExitError", "errorMessage": "RequestId:
#: <id> Error: Runtime exited with error: exit status 137"} ("signal: segmentation fault" for a
#: signal); the log shows the message then "Runtime.ExitError". Sources: aws/aws-lambda-dotnet#480,
#: awslabs/aws-lambda-cpp#30, cargo-lambda/cargo-lambda#572 (UNCONFIRMED on an AWS-owned page).
EXIT_TYPE = "Runtime.ExitError"
EXIT_MESSAGE = "RequestId: {request_id} Error: Runtime exited with error: {status}"
#: The X-Amz-Function-Error value of every failed invocation (Lambda API Reference, Invoke).
UNHANDLED = "Unhandled"

PYTHON_RUNTIME = re.compile(r"python3\.\d+")

# Go's names for signals, as Lambda prints them in "Runtime exited with error: signal: <name>".
_SIGNAL_NAMES = {
    "SIGABRT": "aborted",
    "SIGALRM": "alarm clock",
    "SIGBUS": "bus error",
    "SIGFPE": "floating point exception",
    "SIGHUP": "hangup",
    "SIGILL": "illegal instruction",
    "SIGINT": "interrupt",
    "SIGKILL": "killed",
    "SIGPIPE": "broken pipe",
    "SIGQUIT": "quit",
    "SIGSEGV": "segmentation fault",
    "SIGSYS": "bad system call",
    "SIGTERM": "terminated",
    "SIGTRAP": "trace/breakpoint trap",
    "SIGUSR1": "user defined signal 1",
    "SIGUSR2": "user defined signal 2",
    "SIGXCPU": "CPU time limit exceeded",
}


class UnsupportedRuntimeError(InvalidParameterError):
    """The function's runtime cannot run locally: only Python 3 (``python3.x``) and Node.js
    (``nodejs<major>.x``) runtimes can.

    Attributes
    ----------
    function_name : str
        The function.
    """

    def __init__(self, runtime: object, function_name: str):
        super().__init__("runtime", runtime, "a python3.x or nodejs<major>.x runtime")
        self.function_name = function_name
        here = ".".join(map(str, sys.version_info[:3]))
        self.args = (
            f"Function {function_name!r} has runtime {runtime!r}, which cannot run locally: the "
            "local Lambda runs Python functions, on this kernel's Python "
            f"({here}), and Node.js functions. Use a python3.x runtime (python3.10, python3.11, "
            "python3.12, python3.13, ...) or a Node.js one (nodejs20.x, nodejs22.x, nodejs24.x), "
            "or run this function on AWS.",
        )


class RuntimeClosedError(StreamkitError):
    """:meth:`FunctionRuntime.invoke` was called after :meth:`FunctionRuntime.close`."""


class LogShippingWarning(UserWarning):
    """A function's log events could not be written to CloudWatch Logs (the invocation itself
    went ahead and its result is returned)."""


@dataclass(frozen=True)
class FunctionSpec:
    """A deployed function, as the runtime needs it (what ``GetFunction`` describes).

    Attributes
    ----------
    name : str
        Function name.
    arn : str
        ``arn:aws:lambda:<region>:<account>:function:<name>``.
    handler : str
        ``module.function`` or ``folder/module.function``.
    runtime : str
        Lambda runtime identifier: ``python3.x`` (run on this kernel's Python) or
        ``nodejs<major>.x`` (run on a Node.js found on this machine, see :mod:`.launchers`).
    timeout_s : float
        Function timeout, seconds.
    memory_mb : int
        Memory size, MB (reported, not enforced).
    environment : Mapping[str, str]
        The function's environment variables.
    code : bytes
        The deployment package (zip).
    code_sha256 : str
        Its ``CodeSha256`` (base64 SHA-256); a new value means new code, so new environments.
        Empty: computed from ``code``.
    region, account_id : str
        Where the function lives.
    version : str
        ``$LATEST`` or a published version number.
    revision : str
        What identifies this deployment of the function beyond its code and the settings above
        (its creation time and the rest of its configuration): a new value, as after a delete and
        re-create, means new execution environments, as on AWS. Empty: not known.
    """

    name: str
    arn: str
    handler: str
    runtime: str
    timeout_s: float
    memory_mb: int
    environment: Mapping[str, str]
    code: bytes
    code_sha256: str
    region: str
    account_id: str
    version: str = "$LATEST"
    revision: str = ""


@dataclass(frozen=True)
class InvocationResult:
    """What one invocation returned, as ``Invoke`` reports it, plus its ``REPORT`` figures.

    Attributes
    ----------
    request_id : str
        The ``aws_request_id`` (a UUID4).
    ok : bool
        False on a function error (exception, timeout, crash, init or marshalling error).
    payload : Any
        The JSON-decoded return value (``bytes`` if the handler returned bytes); on error, Lambda's
        error object (``errorMessage``, ``errorType``, and from the runtime ``requestId`` and
        ``stackTrace``).
    function_error : str or None
        ``"Unhandled"`` on error (the ``X-Amz-Function-Error`` header), else None.
    duration_ms : float
        Invocation duration, milliseconds (the timeout on a timeout).
    billed_duration_ms : int
        Billed duration, milliseconds: duration plus init duration, rounded up (Lambda bills the
        INIT phase of on-demand ZIP functions since 2025-08-01).
    init_duration_ms : float or None
        Init duration (handler import), milliseconds, on a cold start only.
    cold_start : bool
        Whether a new execution environment was started for this invocation.
    max_memory_used_mb : int
        Peak resident memory of the environment so far, MiB, rounded up.
    log_stream_name : str
        The environment's log stream in ``/aws/lambda/<name>``.
    logs : tuple of str
        The log events shipped for this invocation, in order (``INIT_START`` ... ``REPORT``).
    """

    request_id: str
    ok: bool
    payload: Any
    function_error: str | None
    duration_ms: float
    billed_duration_ms: int
    init_duration_ms: float | None
    cold_start: bool
    max_memory_used_mb: int
    log_stream_name: str = ""
    logs: tuple[str, ...] = ()


# -- one execution environment ---------------------------------------------------------------------


def exit_status(returncode: int | None) -> str:
    """The process status as Lambda (a Go program) words it."""
    if returncode is None:
        return "exit status unknown"
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = ""
    return "signal: " + _SIGNAL_NAMES.get(name, f"signal {-returncode}")
