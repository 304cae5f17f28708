"""The local Lambda function runtime: a deployed function's code run as AWS Lambda runs it.

:mod:`.runtime` (:class:`FunctionRuntime`: execution environments as worker processes, warm reuse,
timeouts), :mod:`.worker` (the program each Python environment runs, and the pipe protocol),
``node_worker.cjs`` (its Node.js counterpart), :mod:`.launchers` (which program, by runtime),
:mod:`.invocation` (what an invocation is and how it fails), :mod:`.logs` (CloudWatch Logs).
"""

from ...packaging import code_sha256
from .invocation import (
    FunctionSpec,
    InvocationResult,
    LogShippingWarning,
    RuntimeClosedError,
    UnsupportedRuntimeError,
)
from .runtime import FunctionRuntime

__all__ = [
    "FunctionRuntime",
    "FunctionSpec",
    "InvocationResult",
    "LogShippingWarning",
    "RuntimeClosedError",
    "UnsupportedRuntimeError",
    "code_sha256",
]
