"""The local Lambda function runtime: a function's zip run in worker processes as Lambda's Python
runtime runs it, its output in CloudWatch Logs of the embedded backend.

AWS wording pinned here, and where it was checked:
- handler resolution and ``Runtime.*`` errors, the error object, the ``[ERROR]`` entry, the log
  format, the root logger's level, ``context`` fields: aws/aws-lambda-python-runtime-interface-client
  (``awslambdaric/bootstrap.py``, ``lambda_context.py``, ``lambda_runtime_marshaller.py``);
- ``Sandbox.Timedout`` / "RequestId: <id> Error: Task timed out after 1.00 seconds" and
  ``REPORT ... Status: timeout``: localstack/lambda-runtime-init (AWS's runtime interface emulator)
  and payloads quoted from AWS in seek-oss/aws-codedeploy-hooks' changelog;
- ``Runtime.ExitError`` / "RequestId: <id> Error: Runtime exited with error: exit status 137":
  aws/aws-lambda-dotnet#480, awslabs/aws-lambda-cpp#30 ("signal: segmentation fault").
"""

from __future__ import annotations

import itertools
import re
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from helpers import function_spec, zip_files

from streamkit.errors import StreamkitError
from streamkit.local import state as local_state
from streamkit.local.runtime import (
    FunctionRuntime,
    FunctionSpec,
    InvocationResult,
    RuntimeClosedError,
    UnsupportedRuntimeError,
    code_sha256,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
_names = itertools.count(1)

COUNTER = """
import os
calls = 0

def handler(event, context):
    global calls
    calls += 1
    return {"calls": calls, "pid": os.getpid()}
"""

SLEEPY = """
import os, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return os.getpid()
"""


_zip = zip_files


def make_spec(
    files: str | dict[str, str],
    handler: str = "app.handler",
    *,
    name: str | None = None,
    timeout_s: float = 5.0,
    memory_mb: int = 128,
    environment: dict[str, str] | None = None,
    runtime: str = "python3.12",
) -> FunctionSpec:
    return function_spec(
        files,
        handler,
        runtime=runtime,
        file_name="app.py",
        name=name or f"rt-fn-{next(_names)}",
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        environment=environment,
        region=REGION,
        account_id=ACCOUNT,
    )


@pytest.fixture(scope="module")
def runtime(aws, tmp_path_factory):
    with FunctionRuntime(
        endpoint_url=aws.endpoint_url,
        region=aws.region,
        logs_client=aws.client("logs"),
        work_dir=tmp_path_factory.mktemp("lambda"),
    ) as runtime:
        yield runtime


def stream_messages(aws, result: InvocationResult, name: str) -> list[dict]:
    """The log events of the result's execution environment, read back from CloudWatch Logs."""
    return aws.client("logs").get_log_events(
        logGroupName=f"/aws/lambda/{name}",
        logStreamName=result.log_stream_name,
        startFromHead=True,
    )["events"]


def gone(pid: int) -> bool:
    """The process no longer exists, not even as a zombie: it was reaped."""
    return not psutil.pid_exists(pid)


# -- handler resolution ----------------------------------------------------------------------------


def test_handler_in_a_module_and_in_a_folder(runtime):
    flat = runtime.invoke(make_spec("def handler(e, c):\n    return e['x'] * 2\n"), {"x": 21})
    assert (flat.ok, flat.payload, flat.function_error) == (True, 42, None)
    nested = make_spec(
        {"pkg/sub/mod.py": "def run(e, c):\n    return __name__\n"}, handler="pkg/sub/mod.run"
    )
    assert runtime.invoke(nested, {}).payload == "pkg.sub.mod"


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        ({"app.py": ""}, "nope.handler", "Runtime.ImportModuleError",
         "Unable to import module 'nope': No module named 'nope'"),
        ({"app.py": "x = 1\n"}, "app.handler", "Runtime.HandlerNotFound",
         "Handler 'handler' missing on module 'app'"),
        ({"app.py": "import requests_not_installed\n"}, "app.handler", "Runtime.ImportModuleError",
         "Unable to import module 'app': No module named 'requests_not_installed'"),
        ({"app.py": "def handler(:\n"}, "app.handler", "Runtime.UserCodeSyntaxError", None),
        ({"app.py": ""}, "nodot", "Runtime.MalformedHandlerName", None),
    ],
    ids=["missing-module", "missing-function", "missing-dependency", "syntax", "malformed"],
)  # fmt: skip
def test_init_errors_have_lambdas_error_types(aws, runtime, files, handler, error_type, message):
    spec = make_spec(files, handler)
    result = runtime.invoke(spec, {})
    assert not result.ok and result.function_error == "Unhandled" and result.cold_start
    assert result.payload["errorType"] == error_type
    if message:
        assert result.payload == {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": "",
            "stackTrace": [],
        }
    logs = [e["message"] for e in stream_messages(aws, result, spec.name)]
    error_entry = next(m for m in logs if m.startswith("[ERROR]"))
    assert error_entry.startswith(f"[ERROR] {error_type}: {result.payload['errorMessage']}")
    assert any(m.startswith("INIT_REPORT Init Duration: ") and error_type in m for m in logs)
    assert logs[-1].endswith(f"\tStatus: error\tError Type: {error_type}")
    again = runtime.invoke(spec, {})  # a failed init is not kept: the next invoke starts afresh
    assert again.cold_start and again.payload["errorType"] == error_type


def test_unsupported_runtime_is_a_clear_error(runtime):
    spec = make_spec("def handler(e, c):\n    return 1\n", runtime="java21")
    with pytest.raises(UnsupportedRuntimeError, match=r"python3\.x.*python3\.12") as caught:
        runtime.invoke(spec, {})
    assert isinstance(caught.value, StreamkitError) and caught.value.function_name == spec.name


# -- environment and context -----------------------------------------------------------------------

ENVIRONMENT = """
import os

def handler(event, context):
    return {k: v for k, v in os.environ.items() if k.startswith(("AWS", "LAMBDA", "_HANDLER", "MY_", "TZ"))}
"""


def test_environment_has_lambdas_variables_and_no_parent_credentials(runtime, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPARENTREALKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret")
    monkeypatch.setenv("AWS_PROFILE", "production")
    spec = make_spec(ENVIRONMENT, memory_mb=256, environment={"MY_SETTING": "on"})
    env = runtime.invoke(spec, {}).payload
    assert env["MY_SETTING"] == "on"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{spec.name}"
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] and env["TZ"] == ":UTC"
    assert env["AWS_ENDPOINT_URL"] == runtime.endpoint_url
    keys = local_state.credentials()  # the run's own keys, standing for the execution role's
    assert env["AWS_ACCESS_KEY_ID"] == keys.access_key_id
    assert env["AWS_SECRET_ACCESS_KEY"] == keys.secret_access_key
    assert env["AWS_SESSION_TOKEN"] == keys.session_token
    assert "AWS_PROFILE" not in env


CONTEXT = """
import os, sys, time

def handler(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.2)
    second = context.get_remaining_time_in_millis()
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": context.client_context,
        "remaining": [first, second],
        "cwd": os.getcwd(),
        "path0": sys.path[0],
    }
"""


def test_context_object(runtime):
    spec = make_spec(CONTEXT, timeout_s=3.0, memory_mb=512)
    result = runtime.invoke(spec, {})
    ctx = result.payload
    assert ctx["function_name"] == spec.name and ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == spec.arn
    assert ctx["memory_limit_in_mb"] == "512"  # a string on AWS too (read from the environment)
    assert ctx["aws_request_id"] == result.request_id
    assert ctx["log_group_name"] == f"/aws/lambda/{spec.name}"
    assert ctx["log_stream_name"] == result.log_stream_name
    assert ctx["identity"] == [None, None] and ctx["client_context"] is None
    first, second = ctx["remaining"]
    assert 2500 < first <= 3000 and 150 <= first - second <= 400
    assert ctx["cwd"] == ctx["path0"]  # the code folder: working directory, first on sys.path


# -- environments: warm, cold, concurrent ----------------------------------------------------------


def test_warm_invocations_reuse_module_state(runtime):
    spec = make_spec(COUNTER)
    results = [runtime.invoke(spec, {}) for _ in range(3)]
    assert [r.payload["calls"] for r in results] == [1, 2, 3]
    assert len({r.payload["pid"] for r in results}) == 1
    assert [r.cold_start for r in results] == [True, False, False]
    assert results[0].init_duration_ms is not None and results[0].init_duration_ms > 0
    assert results[1].init_duration_ms is None
    for r in results:
        assert r.billed_duration_ms == max(1, -(-(r.duration_ms + (r.init_duration_ms or 0)) // 1))
        assert 5 <= r.max_memory_used_mb < 500
        assert r.log_stream_name == results[0].log_stream_name


def test_new_code_starts_a_new_environment(runtime):
    spec = make_spec(COUNTER)
    old = runtime.invoke(spec, {})
    runtime.invoke(spec, {})
    code = _zip({"app.py": COUNTER + "\n# v2\n"})
    updated = FunctionSpec(**{**spec.__dict__, "code": code, "code_sha256": code_sha256(code)})
    new = runtime.invoke(updated, {})
    assert new.cold_start and new.payload["calls"] == 1
    assert new.payload["pid"] != old.payload["pid"] and gone(old.payload["pid"])
    assert new.log_stream_name != old.log_stream_name


def test_concurrent_invocations_get_their_own_environments(runtime):
    spec = make_spec(SLEEPY)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: runtime.invoke(spec, {"sleep": 0.4}), range(3)))
    assert all(r.ok for r in results)
    assert len({r.payload for r in results}) == 3
    row = runtime.stats().set_index("function").loc[spec.name]
    assert (row.workers_alive, row.cold_starts, row.invocations) == (3, 3, 3)
    warm = runtime.invoke(spec, {})
    assert not warm.cold_start and warm.payload in {r.payload for r in results}


# -- failures --------------------------------------------------------------------------------------


def test_timeout_kills_the_environment_then_recovers(aws, runtime):
    spec = make_spec(SLEEPY, timeout_s=0.5)
    warm = runtime.invoke(spec, {})
    began = time.monotonic()
    result = runtime.invoke(spec, {"sleep": 5})
    assert time.monotonic() - began < 2.0
    assert not result.ok and result.function_error == "Unhandled"
    assert result.payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 0.50 seconds",
    }
    assert result.duration_ms == 500.0 and gone(warm.payload)
    logs = [e["message"] for e in stream_messages(aws, result, spec.name)]
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {result.request_id} "
        r"Task timed out after 0\.50 seconds",
        logs[-3],
    )
    assert logs[-2] == f"END RequestId: {result.request_id}"
    assert logs[-1].endswith("\tStatus: timeout")
    after = runtime.invoke(spec, {})
    assert after.ok and after.cold_start and after.payload != warm.payload
    row = runtime.stats().set_index("function").loc[spec.name]
    assert (row.timeouts, row.errors, row.cold_starts) == (1, 1, 2)


@pytest.mark.parametrize(
    ("crash", "status"),
    [
        ("os._exit(3)", "exit status 3"),
        ("sys.exit(4)", "exit status 4"),
        ("import ctypes; ctypes.string_at(0)", "signal: segmentation fault"),
    ],
    ids=["os._exit", "sys.exit", "segfault"],
)
def test_crash_is_a_function_error_then_recovers(runtime, crash, status):
    source = f"import os, sys\n\ndef handler(event, context):\n    if event.get('crash'):\n        {crash}\n    return os.getpid()\n"
    spec = make_spec(source)
    before = runtime.invoke(spec, {}).payload
    result = runtime.invoke(spec, {"crash": True})
    assert not result.ok and result.function_error == "Unhandled"
    assert result.payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: {status}",
    }
    assert result.logs[-3] == result.payload["errorMessage"] + "\nRuntime.ExitError"
    assert result.logs[-1].endswith("\tStatus: error\tError Type: Runtime.ExitError")
    assert gone(before)
    after = runtime.invoke(spec, {})
    assert after.ok and after.cold_start and after.payload != before


RAISES = """
def handler(event, context):
    helper(event)

def helper(event):
    raise ValueError(f"bad record {event['id']}")
"""


def test_exception_gives_lambdas_error_object_and_error_log_entry(aws, runtime):
    spec = make_spec(RAISES)
    result = runtime.invoke(spec, {"id": 7})
    assert not result.ok and result.function_error == "Unhandled"
    error = result.payload
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorMessage"] == "bad record 7" and error["errorType"] == "ValueError"
    assert error["requestId"] == result.request_id
    assert len(error["stackTrace"]) == 2  # the function's frames only, not the runtime's
    assert error["stackTrace"][0].startswith('  File "') and "app.py" in error["stackTrace"][0]
    assert "in helper" in error["stackTrace"][1] and "raise ValueError" in error["stackTrace"][1]
    logs = [e["message"] for e in stream_messages(aws, result, spec.name)]
    entry = next(m for m in logs if m.startswith("[ERROR]"))  # one event, several lines
    lines = entry.split("\n")
    assert lines[:2] == ["[ERROR] ValueError: bad record 7", "Traceback (most recent call last):"]
    assert lines[2].startswith('\u00a0\u00a0File "') and len(lines) == 6
    assert runtime.invoke(spec, {"id": 8}).cold_start is False  # an exception keeps the environment


def test_return_value_must_be_json(runtime):
    spec = make_spec(
        "from decimal import Decimal\n\ndef handler(event, context):\n"
        "    if event.get('set'):\n        return {1, 2}\n"
        "    return {'n': Decimal('10'), 'x': Decimal('1.5'), 's': 'é'}\n"
    )
    assert runtime.invoke(spec, {}).payload == {"n": 10, "x": 1.5, "s": "é"}
    bad = runtime.invoke(spec, {"set": True})
    assert bad.payload == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": bad.request_id,
        "stackTrace": [],
    }


# -- logs ------------------------------------------------------------------------------------------

CHATTY = """
import logging, os, sys

def handler(event, context):
    print("first line\\nsecond line")
    print("no", end="")
    print("newline yet")
    print("kept \\r together")
    sys.stderr.write("to stderr\\n")
    logging.getLogger().warning("a warning\\nwith two lines")
    logging.getLogger("app").info("info is below the default level")
    sys.stdout.write('\\x00d{"ok": false}\\n')  # looks like a protocol frame: just text
    os.write(1, b"straight to fd 1\\n")
    return "done"
"""


def test_logs_reach_cloudwatch_in_order_with_lambdas_lines(aws, runtime):
    spec = make_spec(CHATTY, memory_mb=128)
    before = int(time.time() * 1000) - 1
    result = runtime.invoke(spec, {})
    assert result.payload == "done"
    events = stream_messages(aws, result, spec.name)
    messages = [e["message"] for e in events]
    assert messages == list(result.logs)
    rid = result.request_id
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", result.log_stream_name)
    assert messages[0].startswith("INIT_START Runtime Version: python:3.12")
    assert messages[1] == f"START RequestId: {rid} Version: $LATEST"
    assert messages[2:6] == ["first line", "second line", "nonewline yet", "kept \r together"]
    assert messages[6] == "to stderr"
    assert re.fullmatch(
        rf"\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\ta warning\nwith two lines",
        messages[7],
    )
    assert messages[8] == '\x00d{"ok": false}'
    assert "straight to fd 1" in messages
    assert not any("info is below" in m for m in messages)
    assert messages[-2] == f"END RequestId: {rid}"
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms",
        messages[-1],
    )
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps) and before <= stamps[0] and stamps[-1] <= time.time() * 1000 + 1

    warm = runtime.invoke(spec, {})  # same stream, no INIT_START, no Init Duration
    assert warm.log_stream_name == result.log_stream_name
    assert warm.logs[0].startswith("START") and "Init Duration" not in warm.logs[-1]
    assert len(stream_messages(aws, result, spec.name)) == len(messages) + len(warm.logs)


def test_log_level_from_advanced_logging_controls(runtime):
    source = "import logging\n\ndef handler(e, c):\n    logging.getLogger().info('shown')\n"
    quiet = runtime.invoke(make_spec(source), {})
    loud = runtime.invoke(make_spec(source, environment={"AWS_LAMBDA_LOG_LEVEL": "INFO"}), {})
    assert not any("shown" in m for m in quiet.logs)
    assert any(m.startswith("[INFO]\t") and m.endswith("\tshown") for m in loud.logs)


def test_huge_output_does_not_break_the_protocol(runtime):
    source = (
        "import sys\n\ndef handler(e, c):\n    print('x' * 300_000)\n"
        "    sys.stdout.buffer.write(bytes(range(256)) + b'\\n')\n    return 'ok'\n"
    )
    result = runtime.invoke(make_spec(source), {})
    assert result.payload == "ok"
    long_events = [m for m in result.logs if set(m) == {"x"}]
    assert sum(map(len, long_events)) == 300_000 and len(long_events) == 2  # cut at 256 KB


BOTO3 = """
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName=event["table"],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb.describe_table(TableName=event["table"])["Table"]["TableName"]
"""


def test_boto3_inside_the_function_reaches_the_embedded_backend(aws, runtime):
    table = f"made-by-lambda-{next(_names)}"
    result = runtime.invoke(make_spec(BOTO3, timeout_s=30), {"table": table})
    assert result.ok, result.payload
    assert result.payload == table  # (not ListTables: its first page holds 100 of the session's)
    assert aws.client("dynamodb").describe_table(TableName=table)["Table"]["TableName"] == table


# -- life cycle ------------------------------------------------------------------------------------


def test_close_reaps_every_worker(aws, tmp_path):
    runtime = FunctionRuntime(endpoint_url=aws.endpoint_url, region=aws.region, work_dir=tmp_path)
    a, b = make_spec(SLEEPY), make_spec(COUNTER)
    with ThreadPoolExecutor(2) as pool:
        pids = set(pool.map(lambda _: runtime.invoke(a, {"sleep": 0.2}).payload, range(2)))
    pids.add(runtime.invoke(b, {}).payload["pid"])
    assert len(pids) == 3 and set(runtime.worker_pids()) == pids
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    assert pids <= children
    runtime.close()
    runtime.close()  # idempotent
    assert all(gone(pid) for pid in pids)
    assert not pids & {p.pid for p in psutil.Process().children(recursive=True)}
    assert runtime.worker_pids() == []
    with pytest.raises(RuntimeClosedError):
        runtime.invoke(a, {})


def test_close_during_an_invocation_returns_an_exit_error(aws, tmp_path):
    runtime = FunctionRuntime(endpoint_url=aws.endpoint_url, region=aws.region, work_dir=tmp_path)
    spec = make_spec(SLEEPY)
    pid = runtime.invoke(spec, {}).payload
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(runtime.invoke, spec, {"sleep": 5})
        time.sleep(0.3)
        runtime.close()
        result = running.result(timeout=5)
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert result.payload["errorMessage"].endswith("Runtime exited with error: signal: killed")
    assert gone(pid)


def test_crash_during_init(runtime):
    result = runtime.invoke(make_spec("import os\nprint('loading')\nos._exit(2)\n"), {})
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert result.payload["errorMessage"].endswith("exit status 2")
    assert "loading" in result.logs
    assert any(m.startswith("INIT_REPORT") and "Runtime.ExitError" in m for m in result.logs)


ORPHAN = """
import io, os, sys, threading, time, zipfile
from streamkit.local.runtime import FunctionRuntime, FunctionSpec, code_sha256

class Discard:
    class exceptions:
        ResourceAlreadyExistsException = ResourceNotFoundException = KeyError
    def __getattr__(self, name):
        return lambda **kwargs: None

buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as archive:
    archive.writestr("app.py", "import os, time\\ndef handler(e, c):\\n    time.sleep(e)\\n    return os.getpid()\\n")
code = buffer.getvalue()
spec = FunctionSpec("orphan", "arn:aws:lambda:us-east-1:123456789012:function:orphan", "app.handler",
                    "python3.12", 60.0, 128, {}, code, code_sha256(code), "us-east-1", "123456789012")
runtime = FunctionRuntime(endpoint_url="http://127.0.0.1:9", region="us-east-1", logs_client=Discard())
print(runtime.invoke(spec, 0).payload, flush=True)
if sys.argv[1] == "killed":  # one environment busy for a minute, one idle, then the kernel dies
    threading.Thread(target=runtime.invoke, args=(spec, 60), daemon=True).start()
    time.sleep(0.3)
    print(runtime.invoke(spec, 0).payload, *runtime.worker_pids(), flush=True)
    os._exit(0)
"""


@pytest.mark.parametrize("how", ["exit", "killed"])
def test_workers_do_not_outlive_their_kernel(tmp_path, how):
    """At exit the runtime kills its workers; a killed kernel's workers notice and exit."""
    import subprocess
    import sys

    script = tmp_path / "kernel.py"
    script.write_text(ORPHAN)
    out = subprocess.run(
        [sys.executable, str(script), how], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    pids = {int(p) for p in out.stdout.split()}
    assert len(pids) == (2 if how == "killed" else 1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(stopped(pid) for pid in pids):
        time.sleep(0.1)
    assert all(stopped(pid) for pid in pids)


def stopped(pid: int) -> bool:
    """Not running (an orphan's zombie is for the container's init to reap, not us)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
