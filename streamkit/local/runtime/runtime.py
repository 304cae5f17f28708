"""The local Lambda function runtime: runs a deployed function's zip as AWS Lambda's Python and
Node.js runtimes do, without Docker, and ships its output to CloudWatch Logs.

One worker *process* (:mod:`.worker` on this kernel's Python; ``node_worker.cjs`` on Node.js for
``nodejs*.x``, see :mod:`.launchers`) is one execution environment. :meth:`FunctionRuntime.invoke`
reuses an idle environment of the function (warm start: module state survives) or starts one (cold
start: the zip, extracted once per ``CodeSha256``, is the working directory; the handler import is
the init phase, reported as ``Init Duration``). Concurrent invocations get their own environments.

What the caller gets back is an :class:`InvocationResult` with what ``Invoke`` would answer: the
payload, or Lambda's error object with ``FunctionError: Unhandled`` for an exception, a timeout
(``Sandbox.Timedout``; the environment is killed), a crash (``Runtime.ExitError``), an import error
or a response that is not JSON (``Runtime.*``). The function's failures never raise here.

Logs go to ``/aws/lambda/<name>``, one stream per environment (``YYYY/MM/DD/[$LATEST]<32 hex>``),
one ``PutLogEvents`` per invocation, before :meth:`~FunctionRuntime.invoke` returns: ``INIT_START``
on a cold start, ``START``, every line the function printed (one event per line), every ``logging``
record (one event each), ``END`` and ``REPORT`` with Lambda's fields.

Local differences: the code runs on this kernel's Python whatever the ``python3.x`` runtime says
(Node.js: see :mod:`.launchers`); memory is measured (``Max Memory Used``) but not capped; there is no
``/tmp`` quota, network isolation or CPU scaling with memory; logs use the text format only.
"""

from __future__ import annotations

import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
import uuid
import warnings
import weakref
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from ...errors import InvalidParameterError
from ...limits import LAMBDA_INIT_LIMIT_S
from ...packaging import code_sha256
from .. import state
from . import sandbox
from . import worker as _protocol
from .code import extract_package
from .invocation import (
    EXIT_MESSAGE,
    EXIT_TYPE,
    TIMEOUT_LOG,
    TIMEOUT_MESSAGE,
    TIMEOUT_TYPE,
    UNHANDLED,
    FunctionSpec,
    InvocationResult,
    LogShippingWarning,
    RuntimeClosedError,
    exit_status,
)
from .launchers import Launcher, launcher_for, missing_runtime_error
from .logs import LogShipper, iso, split_event

__all__ = ["FunctionRuntime"]

_WORKER_PATH = Path(_protocol.__file__).resolve()
_READ_CHUNK = 1 << 20


class _Worker:
    """A worker process and the parent's end of its pipes."""

    def __init__(
        self,
        function: str,
        key: tuple[str, str],
        fingerprint: tuple[Any, ...],
        log_group: str,
        log_stream: str,
    ):
        self.function = function
        self.key = key
        self.fingerprint = fingerprint
        self.log_group = log_group
        self.log_stream = log_stream
        self.proc: subprocess.Popen[bytes] | None = None
        self.request_fd = -1
        self.response_fd = -1
        self.raw_fd = -1
        self.pidfd: int | None = None
        self.selector = selectors.DefaultSelector()
        self.buffer = bytearray()
        self.partial: dict[bytes, tuple[int, bytes]] = {}
        self.events: list[tuple[int, str]] = []  # (timestamp ms, message) not shipped yet
        self.exited = False
        self.response_eof = False
        self.peak_kb = 0
        self.init_ms: float | None = None  # set until the first invocation reports it
        self.outgoing: memoryview | None = None  # request bytes not written yet
        self.init_failed = False
        self.retired = False
        self.launcher: Launcher | None = None  # how its process is started

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else -1

    def alive(self) -> bool:
        return self.proc is not None and not self.exited and self.proc.poll() is None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _peak_rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class FunctionRuntime:
    """Runs Lambda functions' code locally, one worker process per execution environment.

    Parameters
    ----------
    endpoint_url : str
        The AWS endpoint the functions' SDK calls go to (``AWS_ENDPOINT_URL`` in the worker), and
        where logs are shipped unless ``logs_client`` is given.
    region : str
        Region of the logs client created when ``logs_client`` is None.
    logs_client : botocore client, optional
        A CloudWatch Logs client; by default one is made for ``endpoint_url`` with fake
        credentials.
    work_dir : str or Path, optional
        Where extracted code is cached (``<work_dir>/code/<sha>``); kept after :meth:`close`.
        Default: a temporary folder removed by :meth:`close`.

    Examples
    --------
    >>> with LocalAWS() as aws, FunctionRuntime(endpoint_url=aws.endpoint_url,
    ...                                         region=aws.region) as runtime:  # doctest: +SKIP
    ...     result = runtime.invoke(spec, {"Records": []})
    ...     result.ok, result.payload
    (True, None)
    """

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        logs_client: Any | None = None,
        work_dir: str | Path | None = None,
    ):
        if not isinstance(endpoint_url, str) or not endpoint_url.startswith(
            ("http://", "https://")
        ):
            raise InvalidParameterError("endpoint_url", endpoint_url, "an http(s):// URL")
        if not isinstance(region, str) or not region:
            raise InvalidParameterError("region", region, "an AWS region name such as 'us-east-1'")
        self.endpoint_url = endpoint_url
        self.region = region
        self._shipper = LogShipper(endpoint_url, region, logs_client)
        self._lock = threading.Lock()
        self._code_lock = threading.Lock()
        self._closed = False
        self._idle: dict[tuple[str, str], list[_Worker]] = {}
        self._busy: set[_Worker] = set()
        self._current: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._stats: dict[str, dict[str, int]] = {}
        self._code_dirs: dict[str, Path] = {}
        sandbox.sweep()  # the scratch roots of kernels that were killed
        if work_dir is None:
            self._root = self._scratch = sandbox.new_root()
            self._own_root = True
        else:
            self._root = Path(work_dir)
            self._root.mkdir(parents=True, exist_ok=True)
            self._own_root = False
            self._scratch = sandbox.new_root()  # the functions' HOME and /tmp: the run's own
        self._finalizer = weakref.finalize(  # also at exit (weakref.finalize's atexit hook)
            self, FunctionRuntime._shutdown, self._lock, self._idle, self._busy, self._scratch
        )

    # -- public API -------------------------------------------------------------------------------

    def invoke(self, spec: FunctionSpec, event: Any) -> InvocationResult:
        """Invoke the function synchronously (``RequestResponse``); thread-safe.

        Parameters
        ----------
        spec : FunctionSpec
            The function.
        event : Any
            The event: a JSON-serialisable object, or ``bytes`` already holding JSON. Its size is
            the caller's to check (6 MB for synchronous invocations).

        Returns
        -------
        InvocationResult
            Never raises for the function's own failures: they are error results.

        Raises
        ------
        UnsupportedRuntimeError
            The runtime is neither ``python3.x`` nor ``nodejs<major>.x``.
        InvalidParameterError
            The event is not JSON-serialisable, or the code is not a zip archive.
        RuntimeClosedError
            After :meth:`close`.
        """
        launcher = launcher_for(spec.runtime, spec.name, spec.memory_mb)
        if not isinstance(spec.timeout_s, int | float) or not 0 < spec.timeout_s < math.inf:
            raise InvalidParameterError("timeout_s", spec.timeout_s, "a number of seconds > 0")
        if isinstance(event, bytes | bytearray | memoryview):
            payload = bytes(event)
        else:
            try:
                payload = json.dumps(event, separators=(",", ":")).encode()
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    "event", type(event).__name__, f"a JSON-serialisable value ({exc})"
                ) from None
        sha = spec.code_sha256 or code_sha256(spec.code)
        key = (spec.arn, spec.version)
        fingerprint = (
            sha,
            spec.handler,
            spec.runtime,
            float(spec.timeout_s),
            int(spec.memory_mb),
            tuple(sorted((str(k), str(v)) for k, v in spec.environment.items())),
            spec.region,
            spec.account_id,
            spec.revision,  # a deleted and re-created function gets new environments
        )
        code_dir = self._code_dir(sha, spec.code)
        request_id = str(uuid.uuid4())

        worker, stale = self._acquire(spec, key, fingerprint)
        for old in stale:
            self._retire(old)
        if worker is None:
            worker = _Worker(
                spec.name,
                key,
                fingerprint,
                f"/aws/lambda/{spec.name}",
                f"{datetime.now(UTC):%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}",
            )
            worker.launcher = launcher
            with self._lock:
                if self._closed:
                    raise RuntimeClosedError(
                        "This FunctionRuntime is closed; create a new one to invoke functions."
                    )
                self._busy.add(worker)
                self._count(spec.name, "cold_starts")
            cold = True
        else:
            cold = False
        healthy = False
        try:
            if cold:
                result, healthy = self._cold_invoke(worker, spec, code_dir, request_id, payload)
            else:
                result, healthy = self._warm_invoke(worker, spec, request_id, payload, None)
            # shipped before the environment is free again: its next invocation's events follow
            self._ship(worker, result)
            self._tally(worker, result)
        finally:
            self._release(worker, healthy)
        return result

    def stats(self) -> Any:
        """Per function: ``workers_alive``, ``busy``, ``cold_starts``, ``invocations``, ``errors``
        (every failed invocation), of which ``timeouts``, ``crashes`` and ``init_errors``, and
        ``log_failures``. A pandas DataFrame, one row per function."""
        import pandas as pd

        columns = [
            "function",
            "workers_alive",
            "busy",
            "cold_starts",
            "invocations",
            "errors",
            "timeouts",
            "crashes",
            "init_errors",
            "log_failures",
        ]
        with self._lock:
            alive: dict[str, int] = {}
            busy: dict[str, int] = {}
            for workers in self._idle.values():
                for w in workers:
                    alive[w.function] = alive.get(w.function, 0) + 1
            for w in self._busy:
                alive[w.function] = alive.get(w.function, 0) + 1
                busy[w.function] = busy.get(w.function, 0) + 1
            rows = [
                {
                    "function": name,
                    "workers_alive": alive.get(name, 0),
                    "busy": busy.get(name, 0),
                    **{c: counts.get(c, 0) for c in columns[3:]},
                }
                for name, counts in sorted(self._stats.items())
            ]
        return pd.DataFrame(rows, columns=columns)

    def retire_function(self, arn: str) -> None:
        """End a deleted function's environments, as AWS does: idle ones now, busy ones when done."""
        with self._lock:
            keys = [key for key in set(self._idle) | set(self._current) if key[0] == arn]
            idle = [w for key in keys for w in self._idle.pop(key, [])]
            for key in keys:  # busy ones no longer match, so they are retired when released
                self._current.pop(key, None)
        for worker in idle:
            self._retire(worker)

    def worker_pids(self) -> list[int]:
        """Process ids of the live execution environments (idle and busy)."""
        with self._lock:
            workers = [w for ws in self._idle.values() for w in ws] + list(self._busy)
        return sorted(w.pid for w in workers if w.proc is not None)

    def close(self) -> None:
        """Stop every execution environment and reap its process (idempotent).

        An invocation still running gets a ``Runtime.ExitError`` result."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = [w for ws in self._idle.values() for w in ws]
            self._idle.clear()
            busy = list(self._busy)
        for w in idle:
            self._retire(w)
        for w in busy:  # the invoking thread closes their pipes; here they are only stopped
            _kill(w)
        self._finalizer.detach()
        shutil.rmtree(self._scratch, ignore_errors=True)  # the work_dir's code cache is kept

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> FunctionRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self.worker_pids())} environment(s)"
        return f"<FunctionRuntime {self.endpoint_url} {state}>"

    # -- pool -------------------------------------------------------------------------------------

    @staticmethod
    def _shutdown(
        lock: threading.Lock,
        idle: dict[Any, list[_Worker]],
        busy: set[_Worker],
        root: Path | None,
    ) -> None:
        """At exit, or when the runtime is garbage-collected unclosed: kill every worker."""
        with lock:
            workers = [w for ws in idle.values() for w in ws] + list(busy)
            idle.clear()
        for w in workers:
            _kill(w)
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def _acquire(
        self, spec: FunctionSpec, key: tuple[str, str], fingerprint: tuple[Any, ...]
    ) -> tuple[_Worker | None, list[_Worker]]:
        with self._lock:
            if self._closed:
                raise RuntimeClosedError(
                    "This FunctionRuntime is closed; create a new one to invoke functions."
                )
            self._stats.setdefault(spec.name, {})
            self._current[key] = fingerprint
            stale: list[_Worker] = []
            fresh: list[_Worker] = []
            for w in self._idle.get(key, []):
                (fresh if w.fingerprint == fingerprint and w.alive() else stale).append(w)
            worker = fresh.pop() if fresh else None
            self._idle[key] = fresh
            if worker is not None:
                self._busy.add(worker)
        return worker, stale

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._lock:
            self._busy.discard(worker)
            if (
                healthy
                and not self._closed
                and self._current.get(worker.key) == worker.fingerprint
                and worker.alive()
            ):
                self._idle.setdefault(worker.key, []).append(worker)
                return
        self._retire(worker)

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            if worker.retired:
                return
            worker.retired = True
        _kill(worker)
        try:
            worker.selector.close()
        except Exception:
            pass
        for fd in (worker.request_fd, worker.response_fd, worker.raw_fd, worker.pidfd):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        worker.request_fd = worker.response_fd = worker.raw_fd = -1
        worker.pidfd = None

    def _count(self, function: str, what: str, n: int = 1) -> None:
        counts = self._stats.setdefault(function, {})
        counts[what] = counts.get(what, 0) + n

    def _tally(self, worker: _Worker, result: InvocationResult) -> None:
        with self._lock:
            self._count(worker.function, "invocations")
            if result.ok:
                return
            self._count(worker.function, "errors")
            kind = result.payload.get("errorType") if isinstance(result.payload, dict) else None
            if worker.init_failed:
                self._count(worker.function, "init_errors")
            if kind == TIMEOUT_TYPE:
                self._count(worker.function, "timeouts")
            elif kind == EXIT_TYPE:
                self._count(worker.function, "crashes")

    # -- code -------------------------------------------------------------------------------------

    def _code_dir(self, sha: str, code: bytes) -> Path:
        known = self._code_dirs.get(sha)
        if known is not None:
            return known
        with self._code_lock:
            known = self._code_dirs.get(sha)
            if known is None:
                known = self._code_dirs[sha] = extract_package(code, sha, self._root / "code")
            return known

    # -- starting an environment ------------------------------------------------------------------

    def _environment(self, spec: FunctionSpec, code_dir: Path, log_stream: str) -> dict[str, str]:
        keys = state.credentials()
        # An allow-list: nothing of the kernel's environment but what the interpreter needs
        # (sandbox.py); HOME and TMPDIR are the run's scratch folders, not the user's.
        home, tmp = sandbox.scratch(self._scratch, spec.name)
        env = sandbox.base_environment(home=home, tmp=tmp, endpoint_url=self.endpoint_url)
        env.update({str(k): str(v) for k, v in spec.environment.items()})
        env.update(
            {  # Lambda's reserved variables: the function's own configuration cannot change them
                "_HANDLER": spec.handler,
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(int(spec.memory_mb)),
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
                # the run's own credentials stand for the execution role's
                "AWS_ACCESS_KEY_ID": keys.access_key_id,
                "AWS_SECRET_ACCESS_KEY": keys.secret_access_key,
                "AWS_SESSION_TOKEN": keys.session_token,
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(_WORKER_PATH.parent),
            }
        )
        return env

    def _spawn(self, worker: _Worker, spec: FunctionSpec, code_dir: Path) -> None:
        launcher = worker.launcher
        assert launcher is not None and launcher.argv is not None
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        raw_r, raw_w = os.pipe()
        try:
            worker.proc = subprocess.Popen(
                [*launcher.argv, str(request_r), str(response_w)],
                cwd=code_dir,
                env=self._environment(spec, code_dir, worker.log_stream),
                stdin=subprocess.DEVNULL,
                stdout=raw_w,
                stderr=raw_w,
                pass_fds=(request_r, response_w),
                start_new_session=True,  # Ctrl-C in the kernel does not reach it; killed as a group
            )
        except BaseException:
            for fd in (request_w, response_r, raw_r):
                os.close(fd)
            raise
        finally:
            for fd in (request_r, response_w, raw_w):
                os.close(fd)
        worker.request_fd, worker.response_fd, worker.raw_fd = request_w, response_r, raw_r
        for fd in (request_w, response_r, raw_r):
            os.set_blocking(fd, False)
        worker.selector.register(response_r, selectors.EVENT_READ, "response")
        worker.selector.register(raw_r, selectors.EVENT_READ, "raw")
        try:
            worker.pidfd = os.pidfd_open(worker.proc.pid)
            worker.selector.register(worker.pidfd, selectors.EVENT_READ, "exit")
        except (AttributeError, OSError):
            worker.pidfd = None  # no pidfd (macOS, old kernels): the wait loop polls instead

    def _cold_invoke(
        self, worker: _Worker, spec: FunctionSpec, code_dir: Path, request_id: str, payload: bytes
    ) -> tuple[InvocationResult, bool]:
        started_ms = _now_ms()
        began = time.monotonic()
        launcher = worker.launcher
        assert launcher is not None
        worker.events.append(
            (
                started_ms,
                f"INIT_START Runtime Version: {launcher.runtime_version}\tRuntime Version ARN: "
                f"arn:aws:lambda:{spec.region}::runtime:{launcher.runtime_version_arn}",
            )
        )
        if launcher.argv is None:  # e.g. no Node.js on this machine: the program cannot start
            error = missing_runtime_error(launcher, request_id)
            return self._init_failed(worker, spec, request_id, began, "entrypoint", error), False
        self._spawn(worker, spec, code_dir)
        # The init phase may take LAMBDA_INIT_LIMIT_S; past that, init continues under the function
        # timeout, as when Lambda retries init in the invoke phase.
        deadline = began + LAMBDA_INIT_LIMIT_S + spec.timeout_s
        control = None
        while control is None:
            frames = self._pump(worker, deadline - time.monotonic())
            control = next(
                (f for f in frames if f[0] in (_protocol.READY, _protocol.INIT_ERROR)), None
            )
            if control is None and (worker.exited or worker.response_eof):
                return self._init_failed(worker, spec, request_id, began, "crash", None), False
            if control is None and time.monotonic() >= deadline:
                return self._init_failed(worker, spec, request_id, began, "timeout", None), False
        kind, _, body = control
        meta_raw, _, error_raw = body.partition(b"\n")
        meta = json.loads(meta_raw)
        worker.init_ms = float(meta["init_ms"])
        worker.peak_kb = max(worker.peak_kb, int(meta.get("peak_kb", 0)))
        if kind == _protocol.INIT_ERROR:
            error = json.loads(error_raw)
            return self._init_failed(worker, spec, request_id, began, "error", error), False
        late = time.monotonic() - began > LAMBDA_INIT_LIMIT_S
        return self._warm_invoke(
            worker,
            spec,
            request_id,
            payload,
            began + LAMBDA_INIT_LIMIT_S + spec.timeout_s if late else None,
        )

    def _init_failed(
        self,
        worker: _Worker,
        spec: FunctionSpec,
        request_id: str,
        began: float,
        how: str,
        error: dict[str, Any] | None,
    ) -> InvocationResult:
        """The environment could not be initialised: the invocation fails with the init error."""
        worker.init_failed = True
        elapsed_ms = (time.monotonic() - began) * 1000
        init_ms = worker.init_ms if worker.init_ms is not None else elapsed_ms
        duration_ms = 0.0
        if how == "timeout":  # init had its 10 s, then the invocation its whole timeout
            init_ms, duration_ms = LAMBDA_INIT_LIMIT_S * 1000, spec.timeout_s * 1000
            worker.peak_kb = max(worker.peak_kb, _peak_rss_kb(worker.pid))
        _kill(worker)
        self._drain(worker)
        status = ""
        if how in ("error", "entrypoint"):
            assert error is not None
            status = f"\tStatus: error\tError Type: {error['errorType']}"
        elif how == "crash":
            error = {
                "errorType": EXIT_TYPE,
                "errorMessage": EXIT_MESSAGE.format(
                    request_id=request_id,
                    status=exit_status(worker.proc.returncode if worker.proc else None),
                ),
            }
            status = f"\tStatus: error\tError Type: {EXIT_TYPE}"
        else:
            error = {
                "errorType": TIMEOUT_TYPE,
                "errorMessage": TIMEOUT_MESSAGE.format(
                    request_id=request_id, seconds=spec.timeout_s
                ),
            }
            status = "\tStatus: timeout"
        now = _now_ms()
        worker.events.append(
            (now, f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init{status}")
        )
        worker.events.append((now, f"START RequestId: {request_id} Version: {spec.version}"))
        if how in ("crash", "entrypoint"):
            worker.events.append((now, f"{error['errorMessage']}\n{error['errorType']}"))
        elif how == "timeout":
            worker.events.append(
                (
                    now,
                    TIMEOUT_LOG.format(
                        timestamp=iso(now), request_id=request_id, seconds=spec.timeout_s
                    ),
                )
            )
        worker.init_ms = None
        return self._finish(worker, spec, request_id, error, duration_ms, init_ms, True, status)

    # -- one invocation ---------------------------------------------------------------------------

    def _warm_invoke(
        self,
        worker: _Worker,
        spec: FunctionSpec,
        request_id: str,
        payload: bytes,
        deadline: float | None,
    ) -> tuple[InvocationResult, bool]:
        cold = worker.init_ms is not None
        init_ms, worker.init_ms = worker.init_ms, None
        start_ms = _now_ms()
        worker.events.append((start_ms, f"START RequestId: {request_id} Version: {spec.version}"))
        header = json.dumps(
            {
                "id": request_id,
                "deadline_ms": start_ms + int(spec.timeout_s * 1000)
                if deadline is None
                else start_ms + int((deadline - time.monotonic()) * 1000),
                "arn": spec.arn,
            }
        ).encode()
        message = _protocol.REQUEST.pack(len(header) + 1 + len(payload)) + header + b"\n" + payload
        sent = time.perf_counter()
        if deadline is None:
            deadline = time.monotonic() + spec.timeout_s
        outcome = self._exchange(worker, memoryview(message), deadline)
        duration_ms = (time.perf_counter() - sent) * 1000

        if outcome is None:  # timed out: the environment is killed, the next invoke cold-starts
            worker.peak_kb = max(worker.peak_kb, _peak_rss_kb(worker.pid))
            _kill(worker)
            self._drain(worker)
            now = max(_now_ms(), start_ms)
            worker.events.append(
                (
                    now,
                    TIMEOUT_LOG.format(
                        timestamp=iso(now), request_id=request_id, seconds=spec.timeout_s
                    ),
                )
            )
            error = {
                "errorType": TIMEOUT_TYPE,
                "errorMessage": TIMEOUT_MESSAGE.format(
                    request_id=request_id, seconds=spec.timeout_s
                ),
            }
            duration_ms = spec.timeout_s * 1000
            return (
                self._finish(
                    worker, spec, request_id, error, duration_ms, init_ms, cold, "\tStatus: timeout"
                ),
                False,
            )
        if outcome is False:  # the process died
            self._drain(worker)
            _kill(worker)
            error = {
                "errorType": EXIT_TYPE,
                "errorMessage": EXIT_MESSAGE.format(
                    request_id=request_id,
                    status=exit_status(worker.proc.returncode if worker.proc else None),
                ),
            }
            worker.events.append((_now_ms(), f"{error['errorMessage']}\n{EXIT_TYPE}"))
            status = f"\tStatus: error\tError Type: {EXIT_TYPE}"
            return (
                self._finish(worker, spec, request_id, error, duration_ms, init_ms, cold, status),
                False,
            )

        meta_raw, _, body = outcome.partition(b"\n")
        meta = json.loads(meta_raw)
        worker.peak_kb = max(worker.peak_kb, int(meta.get("peak_kb", 0)))
        self._drain_raw(worker)
        self._flush_partial(worker)
        if meta["ok"]:
            if meta.get("json", True):
                value: Any = json.loads(body)
            else:
                value = body
            return self._finish(
                worker, spec, request_id, value, duration_ms, init_ms, cold, None, ok=True
            ), True
        return (
            self._finish(
                worker, spec, request_id, json.loads(body), duration_ms, init_ms, cold, ""
            ),
            not meta.get("exiting", False),  # a Node.js environment ending on an uncaught error
        )

    def _exchange(
        self, worker: _Worker, message: memoryview, deadline: float
    ) -> bytes | Literal[False] | None:
        """Send the request and wait for the answer: its DONE payload, False if the process died,
        None at the deadline."""
        worker.outgoing = message
        try:
            self._write_request(worker)
            if worker.outgoing is not None:
                worker.selector.register(worker.request_fd, selectors.EVENT_WRITE, "request")
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                for kind, _, body in self._pump(worker, remaining):
                    if kind == _protocol.DONE:
                        return body
                if worker.exited or worker.response_eof:
                    return False
        except OSError:  # broken pipe: the process is gone
            return False
        finally:
            if worker.outgoing is not None:
                worker.outgoing = None
                try:
                    worker.selector.unregister(worker.request_fd)
                except (KeyError, ValueError):
                    pass

    @staticmethod
    def _write_request(worker: _Worker) -> None:
        data = worker.outgoing
        assert data is not None
        try:
            data = data[os.write(worker.request_fd, data) :]
        except BlockingIOError:
            pass
        if not data:
            worker.outgoing = None
            if worker.request_fd in worker.selector.get_map():
                worker.selector.unregister(worker.request_fd)
        else:
            worker.outgoing = data

    def _pump(self, worker: _Worker, timeout: float) -> list[tuple[bytes, int, bytes]]:
        """Wait up to ``timeout`` s for the worker; its output becomes log events. Returns the
        control frames read."""
        if worker.pidfd is None:  # no exit notification: poll
            timeout = min(timeout, 0.05)
            if worker.proc is not None and worker.proc.poll() is not None:
                worker.exited = True
        control: list[tuple[bytes, int, bytes]] = []
        for key, _ in worker.selector.select(max(timeout, 0)):
            tag = key.data
            if tag == "response":
                self._read_response(worker, control)
            elif tag == "raw":
                self._read_raw(worker)
            elif tag == "exit":
                worker.exited = True
                worker.selector.unregister(key.fd)
                self._read_response(worker, control)  # whatever it wrote before exiting
            elif tag == "request" and worker.outgoing is not None:
                self._write_request(worker)
        return control

    def _read_response(self, worker: _Worker, control: list[tuple[bytes, int, bytes]]) -> None:
        while not worker.response_eof:
            try:
                data = os.read(worker.response_fd, _READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                worker.response_eof = True
                try:
                    worker.selector.unregister(worker.response_fd)
                except (KeyError, ValueError):
                    pass
                break
            worker.buffer += data
            self._parse(worker, control)
            if len(data) < _READ_CHUNK:
                break

    def _parse(self, worker: _Worker, control: list[tuple[bytes, int, bytes]]) -> None:
        buf = worker.buffer
        header = _protocol.FRAME
        pos = 0
        while len(buf) - pos >= header.size:
            kind, ts_us, size = header.unpack_from(buf, pos)
            end = pos + header.size + size
            if end > len(buf):
                break
            body = bytes(buf[pos + header.size : end])
            pos = end
            ts = ts_us // 1000
            if kind in (_protocol.STDOUT, _protocol.STDERR):
                self._lines(worker, kind, ts, body)
            elif kind == _protocol.LOG:
                text = body.decode("utf-8", "replace")
                worker.events.extend((ts, m) for m in split_event(text.removesuffix("\n")))
            else:
                control.append((kind, ts, body))
        del buf[:pos]

    def _lines(self, worker: _Worker, stream: bytes, ts: int, data: bytes) -> None:
        """Output text to log events: one per line, as Lambda splits stdout and stderr."""
        first_ts, partial = worker.partial.pop(stream, (ts, b""))
        if partial:
            data = partial + data
        if b"\n" not in data:
            worker.partial[stream] = (first_ts, data)
            return
        *lines, rest = data.split(b"\n")
        for i, line in enumerate(lines):
            if line.endswith(b"\r"):
                line = line[:-1]
            text = line.decode("utf-8", "replace")
            worker.events.extend((first_ts if i == 0 else ts, m) for m in split_event(text))
        if rest:
            worker.partial[stream] = (ts, rest)

    def _read_raw(self, worker: _Worker) -> None:
        while True:
            try:
                data = os.read(worker.raw_fd, _READ_CHUNK)
            except (BlockingIOError, OSError):
                return
            if not data:
                try:
                    worker.selector.unregister(worker.raw_fd)
                except (KeyError, ValueError):
                    pass
                return
            self._lines(worker, b"raw", _now_ms(), data)
            if len(data) < _READ_CHUNK:
                return

    def _drain_raw(self, worker: _Worker) -> None:
        if worker.raw_fd >= 0 and worker.raw_fd in worker.selector.get_map():
            self._read_raw(worker)

    def _drain(self, worker: _Worker) -> None:
        """After the process ended: whatever it wrote before, as log events."""
        if worker.response_fd >= 0:
            self._read_response(worker, [])
        self._drain_raw(worker)
        self._flush_partial(worker)

    def _flush_partial(self, worker: _Worker) -> None:
        for ts, rest in worker.partial.values():
            if rest.endswith(b"\r"):
                rest = rest[:-1]
            worker.events.extend((ts, m) for m in split_event(rest.decode("utf-8", "replace")))
        worker.partial.clear()

    def _finish(
        self,
        worker: _Worker,
        spec: FunctionSpec,
        request_id: str,
        payload: Any,
        duration_ms: float,
        init_ms: float | None,
        cold: bool,
        status: str | None,
        ok: bool = False,
    ) -> InvocationResult:
        """END and REPORT, and the result."""
        billed = max(1, math.ceil(duration_ms + (init_ms or 0.0)))
        memory = math.ceil(worker.peak_kb / 1024)
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: "
            f"{billed} ms\tMemory Size: {int(spec.memory_mb)} MB\tMax Memory Used: {memory} MB"
        )
        if cold and init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        report += status or ""
        last = max((ts for ts, _ in worker.events), default=0)
        end = max(_now_ms(), last)
        worker.events.append((end, f"END RequestId: {request_id}"))
        worker.events.append((end, report))
        worker.events.sort(key=lambda event: event[0])  # stable: same-ms events keep their order
        return InvocationResult(
            request_id=request_id,
            ok=ok,
            payload=payload,
            function_error=None if ok else UNHANDLED,
            duration_ms=duration_ms,
            billed_duration_ms=billed,
            init_duration_ms=init_ms if cold else None,
            cold_start=cold,
            max_memory_used_mb=memory,
            log_stream_name=worker.log_stream,
            logs=tuple(message for _, message in worker.events),
        )

    # -- logs -------------------------------------------------------------------------------------

    def _ship(self, worker: _Worker, result: InvocationResult) -> None:
        """One PutLogEvents with this invocation's events (more only past the API's limits)."""
        events, worker.events = worker.events, []
        if not events:
            return
        try:
            self._shipper.ship(worker.log_group, worker.log_stream, events)
        except Exception as exc:
            with self._lock:
                self._count(worker.function, "log_failures")
            warnings.warn(
                LogShippingWarning(
                    f"{len(events)} log event(s) of {worker.function} (request "
                    f"{result.request_id}) could not be written to {worker.log_group}: {exc}. "
                    "They are still in the result's .logs."
                ),
                stacklevel=3,
            )


def _kill(worker: _Worker) -> None:
    """Kill the worker's process group (the function's own children too) and reap the worker."""
    proc = worker.proc
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                proc.kill()
            except ProcessLookupError:
                pass
    else:  # exited by itself: its children may live on in its process group
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    worker.exited = True
