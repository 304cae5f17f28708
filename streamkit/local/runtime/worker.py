"""The code that runs inside one local Lambda execution environment (a worker process).

:class:`streamkit.local.runtime.FunctionRuntime` starts this file with the kit's own Python
(``python .../worker.py <request fd> <response fd>``), with the function's code folder as working
directory and the Lambda environment variables set. It then behaves as AWS Lambda's Python runtime
(``awslambdaric``'s ``bootstrap.py``) does:

* **Init**: imports the handler (``module.function`` or ``folder/module.function``), with the code
  folder first on ``sys.path``; failures are reported with Lambda's error types
  (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ...), then the process exits 1.
* **Invoke**, in a loop: reads one event, calls ``handler(event, context)``, marshals the result to
  JSON (``Decimal`` allowed, as Lambda's marshaller does) and answers; an exception becomes Lambda's
  error object and an ``[ERROR]`` log entry.
* **Logs**: ``sys.stdout`` and ``sys.stderr`` are unbuffered and shipped line by line (one log event
  per line, as Lambda does with stdout); the root logger gets Lambda's handler and format
  (``[LEVEL]\\t<time>Z\\t<request id>\\t<message>``), one log event per record, multi-line included.

Protocol (all integers big-endian). Requests, parent to worker: ``u32 length`` then ``header JSON``,
``\\n``, ``event JSON``. Frames, worker to parent, on the response pipe only (so nothing the function
prints can corrupt them): ``kind (1 byte)``, ``u64 timestamp (µs since the epoch)``, ``u32 length``,
payload. Kinds: :data:`STDOUT`, :data:`STDERR` (raw text chunks), :data:`LOG` (one log event),
:data:`READY`, :data:`INIT_ERROR`, :data:`DONE`. Bytes written to file descriptors 1 and 2 directly
(C extensions, child processes) reach the parent through a second pipe.

This module imports nothing from streamkit (the worker must start fast and stay small); the parent
imports it only for the protocol constants.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import math
import os
import struct
import sys
import threading
import time
import traceback

TYPE_CHECKING = False  # typing is not imported at run time: it would cost every cold start ~5 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "FRAME",
    "REQUEST",
    "STDOUT",
    "STDERR",
    "LOG",
    "READY",
    "INIT_ERROR",
    "DONE",
    "CognitoIdentity",
    "LambdaContext",
    "main",
]

#: Frame header, worker to parent: kind, timestamp in microseconds since the epoch, payload length.
FRAME = struct.Struct(">cQI")
#: Request header, parent to worker: payload length.
REQUEST = struct.Struct(">I")

STDOUT = b"o"
STDERR = b"e"
LOG = b"l"
READY = b"r"
INIT_ERROR = b"i"
DONE = b"d"

# Lambda's error types, as awslambdaric's FaultException names them.
_MARSHAL_ERROR = "Runtime.MarshalError"
_UNMARSHAL_ERROR = "Runtime.UnmarshalError"
_USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
_HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
_IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
_BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
_MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"

# What awslambdaric logs (as a WARNING) before an init error's [ERROR] entry.
_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. For "
    "functions using managed runtimes, runtime updates can be triggered by a function change, or "
    "can be applied automatically. To determine if the runtime has been updated, check the runtime "
    "version in the INIT_START log entry. If this error correlates with a change in the runtime "
    "version, you may be able to mitigate this error by temporarily rolling back to the previous "
    "runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)
_ERROR_LOG_INDENT = "\u00a0"  # awslambdaric indents stack trace lines with NO-BREAK SPACE

_request_id: str | None = None


class _Fault(Exception):
    """A runtime-level error with one of Lambda's ``Runtime.*`` error types."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class _Channel:
    """The response pipe: frames written whole, whatever thread writes them."""

    def __init__(self, fd: int):
        self.fd = fd
        self._lock = threading.Lock()

    def send(self, kind: bytes, payload: bytes) -> None:
        data = memoryview(FRAME.pack(kind, time.time_ns() // 1000, len(payload)) + payload)
        with self._lock:
            while data:
                data = data[os.write(self.fd, data) :]


class _FrameWriter(io.RawIOBase):
    """The binary side of ``sys.stdout``/``sys.stderr``: every write is sent at once (Lambda's
    runtime makes both unbuffered). ``fileno()`` is the real descriptor, for code that needs one."""

    def __init__(self, channel: _Channel, kind: bytes, fd: int):
        super().__init__()
        self._channel = channel
        self._kind = kind
        self._fd = fd

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        if data:
            self._channel.send(self._kind, data)
        return len(data)

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False


def _text_stream(channel: _Channel, kind: bytes, fd: int) -> io.TextIOWrapper:
    return io.TextIOWrapper(
        _FrameWriter(channel, kind, fd),  # type: ignore[arg-type]
        encoding="utf-8",
        errors="backslashreplace",
        write_through=True,
    )


# -- logging, as awslambdaric sets it up (text format) ---------------------------------------------


class _LambdaLoggerHandler(logging.Handler):
    def __init__(self, channel: _Channel):
        super().__init__()
        self.channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.channel.send(LOG, message.encode("utf-8", "backslashreplace"))


class _LambdaLoggerFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id or ""
        record.tenant_id = None
        return True


def _setup_logging(channel: _Channel) -> None:
    logging.Formatter.converter = time.gmtime
    handler = _LambdaLoggerHandler(channel)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_LambdaLoggerFilter())
    root = logging.getLogger()
    # Lambda sets a level only when AWS_LAMBDA_LOG_LEVEL is given (advanced logging controls);
    # otherwise the root logger keeps Python's default, WARNING.
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    level = {None: "", "TRACE": "DEBUG"}.get(level, level or "").upper()
    if level in logging.getLevelNamesMapping():
        root.setLevel(level)
    root.addHandler(handler)


def _log_error(channel: _Channel, error: dict[str, Any]) -> None:
    """Lambda's ``[ERROR] <type>: <message>`` entry with the stack trace, as one log event."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(_ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    channel.send(LOG, "\n".join(lines).encode("utf-8", "backslashreplace"))


# -- handler, errors, marshalling ------------------------------------------------------------------


def _get_handler(handler: str) -> Any:
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise _Fault(_MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {e}") from None
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise _Fault(
                _BUILT_IN_MODULE_CONFLICT,
                f"Cannot use built-in module {modname} as a handler module",
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise _Fault(_IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {e}") from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        raise _Fault(
            _USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{modname}': {e}", trace
        ) from None
    try:
        return getattr(module, fname)
    except AttributeError:
        raise _Fault(
            _HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'"
        ) from None


def _make_error(
    message: str, error_type: str, stack: list[str] | None, request_id: str | None = None
) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack or [],
    }


def _fault_result(exc: BaseException, request_id: str | None = None) -> dict[str, Any]:
    """An exception from user code as Lambda reports it: the runtime's own frames left out."""
    frames = traceback.extract_tb(exc.__traceback__)
    for i, frame in enumerate(frames):
        if frame.filename != __file__:
            frames = frames[i:]
            break
    return _make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def _json_default(obj: Any) -> Any:
    # Lambda's marshaller writes a Decimal as its exact text (simplejson RawJSON); the standard
    # library cannot, so integers stay integers and everything else becomes a float (the same
    # value once parsed, to float precision).
    decimal = sys.modules.get("decimal")  # a Decimal can only come from an imported decimal
    if decimal is not None and isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return math.nan
        text = str(obj)
        return int(obj) if text.lstrip("-").isdigit() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _marshal(result: Any) -> tuple[bytes, bool]:
    """(body, is_json). Bytes go out as they are (``application/unknown``), as on Lambda."""
    if isinstance(result, bytes):
        return result, False
    try:
        ensure_ascii = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
        text = json.dumps(result, default=_json_default, ensure_ascii=ensure_ascii)
    except Exception as e:
        raise _Fault(_MARSHAL_ERROR, f"Unable to marshal response: {e}") from None
    return text.encode("utf-8", "surrogatepass"), True


# -- the context object ----------------------------------------------------------------------------


class CognitoIdentity:
    """``context.identity``: always present, its fields None unless invoked by a mobile SDK."""

    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self) -> None:
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class LambdaContext:
    """The context object passed to the handler, with the attributes Lambda's Python runtime sets.

    As on AWS, ``memory_limit_in_mb`` is the string of ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``.
    """

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.client_context = None
        self.identity = CognitoIdentity()
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out (0 once it has)."""
        delta = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def w3c(self) -> dict[str, str]:
        """The W3C trace context (empty locally)."""
        return {}

    def log(self, msg: Any) -> None:
        """Write ``msg`` to the function's log as one event."""
        for handler in logging.getLogger().handlers:
            if isinstance(handler, _LambdaLoggerHandler):
                handler.channel.send(LOG, str(msg).encode("utf-8", "backslashreplace"))
                return
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )


# -- the loop --------------------------------------------------------------------------------------


def _peak_rss_kb() -> int:
    """Peak resident memory of this process, KiB (VmHWM: starts afresh at exec, unlike ru_maxrss,
    which Linux carries over from the parent)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _watch_parent(parent: int) -> None:
    """Exit if the process that started us is gone (a handler stuck in a loop would outlive it)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _invoke(channel: _Channel, handler: Any, header: dict[str, Any], event_body: bytes) -> None:
    global _request_id
    request_id = header["id"]
    _request_id = request_id
    error: dict[str, Any] | None = None
    body = b""
    is_json = True
    try:
        context = LambdaContext(request_id, header["deadline_ms"], header["arn"])
        try:
            event = json.loads(event_body)
        except Exception as e:
            raise _Fault(_UNMARSHAL_ERROR, f"Unable to unmarshal input: {e}") from None
        body, is_json = _marshal(handler(event, context))
    except _Fault as fault:
        error = _make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:
        error = _fault_result(exc, request_id)
    if error is not None:
        _log_error(channel, error)
        body = json.dumps(error).encode()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    meta = {"ok": error is None, "json": is_json, "peak_kb": _peak_rss_kb()}
    channel.send(DONE, json.dumps(meta).encode() + b"\n" + body)


def main(argv: list[str] | None = None) -> None:
    """Run one execution environment: init, then invocations until the request pipe closes."""
    argv = sys.argv if argv is None else argv
    if len(argv) != 3:
        sys.exit(
            "This is a local Lambda execution environment: streamkit.local.runtime.FunctionRuntime "
            "starts it as `python worker.py <request fd> <response fd>`."
        )
    request_fd, response_fd = int(argv[1]), int(argv[2])
    for fd in (request_fd, response_fd):
        os.set_inheritable(fd, False)  # child processes of the function must not hold them
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path[0] = task_root  # the code folder replaces this file's folder, first on sys.path
    sys.argv = [argv[0]]

    channel = _Channel(response_fd)
    sys.stdout = _text_stream(channel, STDOUT, 1)
    sys.stderr = _text_stream(channel, STDERR, 2)
    threading.Thread(
        target=_watch_parent, args=(os.getppid(),), name="lambda-parent-watch", daemon=True
    ).start()

    began = time.perf_counter()
    try:
        _setup_logging(channel)
        handler = _get_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        if isinstance(exc, _Fault):
            error = _make_error(exc.message, exc.error_type, exc.trace)
        else:
            error = _fault_result(exc)
        logging.warning(_UNHANDLED_WARNING)
        _log_error(channel, error)
        meta = {"init_ms": (time.perf_counter() - began) * 1000, "peak_kb": _peak_rss_kb()}
        channel.send(INIT_ERROR, json.dumps(meta).encode() + b"\n" + json.dumps(error).encode())
        sys.exit(1)
    meta = {"init_ms": (time.perf_counter() - began) * 1000, "peak_kb": _peak_rss_kb()}
    channel.send(READY, json.dumps(meta).encode())

    while True:
        size = _read_exact(request_fd, REQUEST.size)
        if size is None:
            return
        payload = _read_exact(request_fd, REQUEST.unpack(size)[0])
        if payload is None:
            return
        header, _, event_body = payload.partition(b"\n")
        _invoke(channel, handler, json.loads(header), event_body)


if __name__ == "__main__":
    main()
