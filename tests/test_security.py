"""The embedded backend serves only the kernel that started it (SECURITY.md).

Each test is a reproducer of a way another local user or a web page could reach the server, and
pins the answer AWS itself would give.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from helpers import FUNCTIONS, LocalView, zip_source

import streamkit
import streamkit.pricing as pricing
import streamkit.teardown
from streamkit import polling, streams, triggers
from streamkit.backends import RUN_TAG
from streamkit.destinations import create_failure_destination, read_failure_records
from streamkit.errors import NotOwnedError, StreamkitError
from streamkit.functions import deploy_function
from streamkit.iam import create_execution_role
from streamkit.limits import (
    DYNAMODB_NESTING_ERROR,
    LAMBDA_REQUEST_MAX_BYTES,
    LAMBDA_UNZIP_ERROR,
    LAMBDA_UNZIPPED_MAX_BYTES,
    LAMBDA_UNZIPPED_SIZE_ERROR,
)
from streamkit.local import LocalAWS, moto_compat
from streamkit.local.auth import Credentials, new_credentials
from streamkit.local.runtime import FunctionRuntime, FunctionSpec, code_sha256, sandbox
from streamkit.local.runtime import code as code_module
from streamkit.local.runtime.code import PackageError
from streamkit.logs import events_from_logs, log_messages
from streamkit.teardown import main as teardown_main
from streamkit.teardown import teardown

NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})
_names = itertools.count(1)


def _client(aws, service, keys: Credentials | None = None, **extra):
    keys = keys or aws.credentials
    session = boto3.Session(
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        aws_session_token=keys.session_token,
        region_name=aws.region,
    )
    config = extra.pop("config", NO_RETRIES)
    return session.client(service, endpoint_url=aws.endpoint_url, config=config, **extra)


def _raw(aws, method, path, body=b"", headers=None):
    url = urlparse(aws.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _signed(aws, service: str, target: str, body: bytes) -> tuple[int, Any]:
    """A JSON request signed with the run's credentials and sent as it is (no serializer)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    keys = aws.credentials
    request = AWSRequest(
        method="POST",
        url=aws.endpoint_url + "/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
    )
    boto = BotoCredentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    SigV4Auth(boto, service, aws.region).add_auth(request)
    status, _, answer = _raw(aws, "POST", "/", body, dict(request.headers.items()))
    return status, json.loads(answer)


def test_each_run_mints_its_own_credentials(aws):
    keys = aws.credentials
    assert keys.access_key_id.startswith("ASIA") and len(keys.access_key_id) == 20
    assert len(keys.secret_access_key) == 40 and keys.secret_access_key != "testing"
    assert keys != new_credentials()
    assert keys.secret_access_key not in repr(keys)


def test_the_runs_own_credentials_work_and_cli_env_hands_them_out(aws):
    env = aws.cli_env()
    assert env["AWS_ENDPOINT_URL"] == aws.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"] == aws.credentials.access_key_id
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
        region_name=env["AWS_REGION"],
    )
    client = session.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"])
    assert isinstance(client.list_tables()["TableNames"], list)


@pytest.mark.parametrize(
    "service, call, code",
    [
        ("dynamodb", lambda c: c.list_tables(), "UnrecognizedClientException"),
        ("dynamodbstreams", lambda c: c.list_streams(), "UnrecognizedClientException"),
        ("lambda", lambda c: c.list_functions(), "UnrecognizedClientException"),
        ("logs", lambda c: c.describe_log_groups(), "UnrecognizedClientException"),
        ("sqs", lambda c: c.list_queues(), "UnrecognizedClientException"),
        ("iam", lambda c: c.list_roles(), "InvalidClientTokenId"),
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId"),
        ("sns", lambda c: c.list_topics(), "InvalidClientTokenId"),
        ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId"),
    ],
)
def test_requests_signed_with_another_key_are_refused(aws, service, call, code):
    with pytest.raises(ClientError) as err:
        call(_client(aws, service, new_credentials()))
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)


@pytest.mark.parametrize(
    "service, call, code",
    [
        ("dynamodb", lambda c: c.list_tables(), "InvalidSignatureException"),
        ("lambda", lambda c: c.list_functions(), "InvalidSignatureException"),
        ("iam", lambda c: c.list_roles(), "SignatureDoesNotMatch"),
        ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch"),
    ],
)
def test_a_right_key_with_a_wrong_secret_is_a_bad_signature(aws, service, call, code):
    forged = Credentials(aws.credentials.access_key_id, "x" * 40, aws.credentials.session_token)
    with pytest.raises(ClientError) as err:
        call(_client(aws, service, forged))
    assert err.value.response["Error"]["Code"] == code
    assert "signature we calculated does not match" in err.value.response["Error"]["Message"]


def test_unsigned_requests_are_refused_as_aws_refuses_them(aws):
    status, _, body = _raw(
        aws,
        "POST",
        "/",
        b"{}",
        {
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert status == 400
    assert json.loads(body)["__type"] == "MissingAuthenticationTokenException"
    status, _, body = _raw(aws, "GET", "/2015-03-31/functions/")
    assert status == 403 and b"Missing Authentication Token" in body


def test_a_tampered_body_breaks_the_signature(aws):
    client = _client(aws, "dynamodb")

    def tamper(request, **_):
        request.body = b'{"Limit": 1}'

    client.meta.events.register("before-send.dynamodb.ListTables", tamper)
    with pytest.raises(ClientError) as err:
        client.list_tables()
    assert err.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_moto_api_routes_are_not_served(aws):
    for path in ("/moto-api/reset", "/moto-api/data.json", "/moto-api/recorder/upload-recording"):
        status, _, body = _raw(aws, "POST", path, b"x", {"Content-Type": "text/plain"})
        assert status == 404, path
        assert b"UnknownOperationException" in body
    assert isinstance(aws.client("dynamodb").list_tables()["TableNames"], list)  # state intact


def test_no_cors_for_a_web_page(aws):
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    status, response, _ = _raw(aws, "OPTIONS", "/", headers=headers)
    assert status == 403
    assert not any(k.lower().startswith("access-control-") for k in response)
    # a signed request with an Origin gets no CORS headers back either
    client = _client(aws, "sqs")
    seen = {}
    client.meta.events.register(
        "before-send.sqs.ListQueues",
        lambda request, **_: request.headers.__setitem__("Origin", "http://evil.example"),
    )
    client.meta.events.register(
        "after-call.sqs.ListQueues",
        lambda http_response, **_: seen.update(http_response.headers),
    )
    client.list_queues()
    assert not any(k.lower().startswith("access-control-") for k in seen)


def test_a_foreign_host_header_is_refused(aws):
    """DNS rebinding: a page at evil.example resolved to 127.0.0.1 sends Host: evil.example."""
    status, _, body = _raw(aws, "GET", "/2015-03-31/functions/", headers={"Host": "evil.example"})
    assert status == 403 and b"AccessDeniedException" in body


@pytest.mark.parametrize(
    "service, operation, call",
    [
        ("dynamodb", "PutItem", lambda c: c.put_item(TableName="t", Item={"a": {"S": "b"}})),
        (
            "lambda",
            "CreateFunction",
            lambda c: c.create_function(
                FunctionName="f", Role="arn:aws:iam::123456789012:role/r", Code={"ZipFile": b"x"}
            ),
        ),
        ("sqs", "CreateQueue", lambda c: c.create_queue(QueueName="q")),
        ("logs", "CreateLogGroup", lambda c: c.create_log_group(logGroupName="g")),
    ],
)
def test_malformed_requests_get_aws_errors_not_html(aws, capfd, service, operation, call):
    client = _client(aws, service)

    def garble(request, **_):
        request.data = b"{not json"

    client.meta.events.register(f"before-sign.*.{operation}", garble)
    with pytest.raises(ClientError) as err:
        call(client)
    error = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "SerializationException"
    assert "<html" not in error.get("Message", "").lower()
    assert "Traceback" not in capfd.readouterr().err  # nothing lands in the kernel's stderr


# == handlers see nothing of the user's ============================================================

ENV_DUMP = """
import json, os, tempfile
def handler(event, context):
    return {
        "env": dict(os.environ),
        "home": os.path.expanduser("~"),
        "credentials": os.path.expanduser("~/.aws/credentials"),
        "tmp": tempfile.gettempdir(),
    }
"""

#: What AWS's runtime sets (and the function's own variables), plus what the interpreter may need.
LAMBDA_VARIABLES = {
    "_HANDLER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
    "LANG",
    "PATH",
    "HOME",
    "TMPDIR",
    "LD_LIBRARY_PATH",
    "PYTHONHOME",
    "PYTHONPATH",
    "LC_CTYPE",  # Python's own C-locale coercion (PEP 538) when LANG's locale is not installed
}


def _spec(source: str, name: str, **extra: Any) -> FunctionSpec:
    code = zip_source(source)
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler="app.handler",
        runtime="python3.12",
        timeout_s=extra.pop("timeout_s", 10.0),
        memory_mb=128,
        environment=extra.pop("environment", {}),
        code=code,
        code_sha256=code_sha256(code),
        region="us-east-1",
        account_id="123456789012",
    )


def test_handlers_see_only_lambdas_variables_not_the_kernels(aws, monkeypatch, tmp_path):
    user_home = tmp_path / "user"
    (user_home / ".aws").mkdir(parents=True)
    (user_home / ".aws" / "credentials").write_text("[default]\naws_secret_access_key = mine\n")
    monkeypatch.setenv("HOME", str(user_home))
    for name, value in {
        "GITHUB_TOKEN": "ghp_kernel_secret",
        "JUPYTER_TOKEN": "jupyter_kernel_secret",
        "SSH_AUTH_SOCK": "/tmp/ssh-production/agent.1",
        "HTTPS_PROXY": "http://proxy.internal:3128",
    }.items():
        monkeypatch.setenv(name, value)
    with FunctionRuntime(endpoint_url=aws.endpoint_url, region=aws.region) as runtime:
        spec = _spec(ENV_DUMP, "env-dump", environment={"MY_SETTING": "on"})
        result = runtime.invoke(spec, {})
        scratch = runtime._scratch
        assert result.ok, result.payload
        env = result.payload["env"]
        assert set(env) <= LAMBDA_VARIABLES | {"MY_SETTING"}, set(env) - LAMBDA_VARIABLES
        assert not any("kernel_secret" in v or "production" in v for v in env.values())
        assert env["MY_SETTING"] == "on" and env["TZ"] == ":UTC"
        assert env["AWS_ACCESS_KEY_ID"] == aws.credentials.access_key_id  # the role's, the run's
        home = Path(result.payload["home"])
        assert home != user_home and scratch in home.parents
        assert Path(result.payload["credentials"]) != user_home / ".aws" / "credentials"
        assert not Path(result.payload["credentials"]).exists()
        tmp = Path(result.payload["tmp"])
        assert tmp == scratch / "tmp" / "env-dump"  # a /tmp per function, the run's own
    assert not scratch.exists()  # removed when the runtime closes


FORKER = """
import subprocess
def handler(event, context):
    child = subprocess.Popen(["sleep", "300"])
    return child.pid
"""


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is gone too
    except FileNotFoundError:
        return True


def test_closing_kills_each_workers_process_group_and_removes_its_scratch(aws):
    runtime = FunctionRuntime(endpoint_url=aws.endpoint_url, region=aws.region)
    result = runtime.invoke(_spec(FORKER, "forker"), {})
    assert result.ok, result.payload
    child = int(result.payload)
    assert not _dead(child)
    scratch = runtime._scratch
    runtime.close()  # what LocalAWS.stop() does, through the local Lambda service
    deadline = time.monotonic() + 10
    while not _dead(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _dead(child), "the function's own child outlived the runtime"
    assert not scratch.exists()


def test_what_a_killed_kernel_left_is_swept_and_nothing_else(tmp_path, monkeypatch):
    # A temporary folder of this test's own, for the kernel and for this process: every other
    # process that starts a function runtime (other test workers, their kernels) sweeps the
    # system's, and would remove what the killed kernel left before this test's sweep looks.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    script = (
        "import sys, time; from streamkit.local.runtime.sandbox import new_root; "
        "print(new_root(), flush=True); time.sleep(300)"
    )
    kernel = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert kernel.stdout is not None
    left = Path(kernel.stdout.readline().strip())
    assert left.name.startswith(f"streamkit-lambda-{kernel.pid}-") and left.is_dir()
    mine = sandbox.new_root()  # a live owner's (this process)
    legacy = Path(tempfile.mkdtemp(prefix="streamkit-lambda-"))  # no owner recorded: never swept
    try:
        assert left not in sandbox.sweep()  # its owner still runs
        kernel.kill()  # SIGKILL: no atexit handler runs
        kernel.wait()
        assert left in sandbox.sweep()
        assert not left.exists() and mine.exists() and legacy.exists()
    finally:
        kernel.kill()
        shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
        shutil.rmtree(legacy, ignore_errors=True)


# == AWS's limits on deployment packages ============================================================


def _zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bomb(size: int = LAMBDA_UNZIPPED_MAX_BYTES) -> bytes:
    """A zip of a few hundred KB holding ``size`` bytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as entry:
            chunk = bytes(1 << 22)
            for _ in range(size // len(chunk)):
                entry.write(chunk)
            entry.write(bytes(size % len(chunk)))
    return buffer.getvalue()


def _lying(declared: int) -> bytes:
    """A zip whose central directory says its one file has ``declared`` bytes (it has 4,000)."""
    data = bytearray(_zip({"app.py": "x" * 4000}))
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = declared.to_bytes(4, "little")
    return bytes(data)


@pytest.fixture(scope="module")
def role(aws):
    iam = aws.client("iam")
    return iam.create_role(
        RoleName="security-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]


def _raw_lambda(aws):
    return _client(
        aws, "lambda", config=Config(parameter_validation=False, retries=NO_RETRIES.retries)
    )


def test_a_request_over_50_mb_is_refused_before_it_is_read(aws):
    url = urlparse(aws.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.putrequest("POST", "/2015-03-31/functions")
        conn.putheader("Content-Length", str(LAMBDA_REQUEST_MAX_BYTES))
        conn.putheader("Content-Type", "application/json")
        conn.endheaders()  # no body sent: the answer comes before it would be read
        response = conn.getresponse()
        assert response.status == 413
        assert response.getheader("x-amzn-ErrorType") == "RequestEntityTooLargeException"
        body = json.loads(response.read())
        assert body["message"] == (
            "Request must be smaller than 69905067 bytes for the CreateFunction operation"
        )
    finally:
        conn.close()


@pytest.mark.parametrize(
    "package, message",
    [
        pytest.param(b"this is not a zip", LAMBDA_UNZIP_ERROR, id="not-a-zip"),
        pytest.param(_zip({"x": "1", "x/y": "2"}), LAMBDA_UNZIP_ERROR, id="x-and-x/y"),
        pytest.param(_lying(4), LAMBDA_UNZIP_ERROR, id="size-lie-small"),
        pytest.param(_lying(300_000_000), LAMBDA_UNZIPPED_SIZE_ERROR, id="declares-300MB"),
        pytest.param(_bomb(), LAMBDA_UNZIPPED_SIZE_ERROR, id="bomb-262144000"),
    ],
)
def test_packages_lambda_cannot_take_are_refused_at_upload(aws, role, package, message):
    lam = _raw_lambda(aws)
    name = f"sec-pkg-{next(_names)}"
    with pytest.raises(ClientError) as err:
        lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
            Code={"ZipFile": package},
        )  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == message
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": zip_source("def handler(e, c):\n    return 1\n")},
    )  # fmt: skip
    with pytest.raises(ClientError) as err:
        lam.update_function_code(FunctionName=name, ZipFile=package)
    assert err.value.response["Error"]["Message"] == message
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSize"] < 1000  # unchanged


def test_extraction_stops_at_the_limit_and_leaves_nothing(tmp_path, monkeypatch):
    with pytest.raises(PackageError) as err:
        code_module.extract_package(_bomb(), "x", tmp_path)
    assert err.value.aws_message == LAMBDA_UNZIPPED_SIZE_ERROR
    # A package whose sizes were not checked first (or lied): the running count stops it.
    monkeypatch.setattr(code_module, "LAMBDA_UNZIPPED_MAX_BYTES", 10_000)
    monkeypatch.setattr(
        code_module,
        "inspect_package",
        lambda code, verify=True: zipfile.ZipFile(io.BytesIO(code)).infolist(),
    )
    package = _zip({f"f{n}.txt": "y" * 3000 for n in range(8)})
    with pytest.raises(PackageError) as err:
        code_module.extract_package(package, "y", tmp_path)
    assert err.value.aws_message == LAMBDA_UNZIPPED_SIZE_ERROR
    assert list(tmp_path.iterdir()) == []  # no .extract-* folder, no half-extracted package


@pytest.mark.parametrize(
    "change, code, message",
    [
        ({"Timeout": 901}, "ValidationException", "Value '901' at 'timeout' failed to satisfy "
         "constraint: Member must have value less than or equal to 900"),
        ({"Timeout": 0}, "ValidationException", "Member must have value greater than or equal to 1"),
        ({"MemorySize": 10241}, "ValidationException", "less than or equal to 10240"),
        ({"MemorySize": 127}, "ValidationException", "greater than or equal to 128"),
        ({"Runtime": "python2.7"}, "InvalidParameterValueException",
         "The runtime parameter of python2.7 is no longer supported for creating or updating AWS "
         "Lambda functions. We recommend you use the new runtime (python3.14) while creating or "
         "updating functions."),
        ({"Runtime": "python3.11"}, "InvalidParameterValueException", "python3.11 is no longer"),
        ({"Runtime": "nodejs20.x"}, "InvalidParameterValueException", "(nodejs24.x)"),
        ({"Runtime": "cobol85"}, "InvalidParameterValueException",
         "Value cobol85 at 'runtime' failed to satisfy constraint: Member must satisfy enum value "
         "set: ["),
        ({"FunctionName": "f" * 65}, "ValidationException",
         "Member must have length less than or equal to 64"),
        ({"FunctionName": "has space"}, "ValidationException",
         "at 'functionName' failed to satisfy constraint: Member must satisfy regular expression"),
    ],
)  # fmt: skip
def test_function_settings_outside_awss_limits_are_refused(aws, role, change, code, message):
    args = {
        "FunctionName": f"sec-fn-{next(_names)}",
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "app.handler",
        "Code": {"ZipFile": zip_source("def handler(e, c):\n    return 1\n")},
        **change,
    }
    with pytest.raises(ClientError) as err:
        _raw_lambda(aws).create_function(**args)
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message in err.value.response["Error"]["Message"]


def _discard_after_one_retry(aws, make_table, function: str) -> None:
    ddb, lam = aws.client("dynamodb"), aws.client("lambda")
    table = make_table("KEYS_ONLY")
    stream = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "first"}})
    uuid = lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
    )["UUID"]
    aws.settle(20)  # it would never settle if the shard stayed blocked
    state = aws.mapping_state()
    row = state[state["uuid"] == uuid].iloc[0]
    assert (row["discarded"], row["errors"]) == (1, 2)  # first try + 1 retry, then discarded
    assert "Runtime.InvalidEntrypoint" in str(row["last_error"])


@pytest.mark.usefixtures("fast_polling")
def test_a_runtime_the_kit_cannot_run_is_an_invocation_error(aws, role, make_table):
    name = f"sec-java-{next(_names)}"
    aws.client("lambda").create_function(  # AWS takes it: java21 is a supported runtime
        FunctionName=name, Runtime="java21", Role=role, Handler="x.Handler::handle",
        Code={"ZipFile": _zip({"x.class": b"\xca\xfe\xba\xbe"})},
    )  # fmt: skip
    _discard_after_one_retry(aws, make_table, name)


@pytest.mark.usefixtures("fast_polling")
def test_a_package_that_breaks_before_the_handler_is_an_invocation_error(
    aws, role, make_table, monkeypatch
):
    name = f"sec-broken-{next(_names)}"
    aws.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": zip_source("def handler(e, c):\n    return 1\n")},
    )  # fmt: skip
    real = moto_compat.function_code

    def damaged(account, region, arn):  # as if it had been stored before the upload checks
        code = real(account, region, arn)
        if code and code["name"] == name:
            code = {**code, "code": _zip({"x": "1", "x/y": "2"}), "code_sha256": "broken"}
        return code

    monkeypatch.setattr(moto_compat, "function_code", damaged)
    _discard_after_one_retry(aws, make_table, name)
    root = aws.lambda_service.runtime._root
    assert not list(root.rglob(".extract-*"))  # no staging folder per retry


# == AWS's validation of writes and of the mapping API ===============================================


def _raw_mapping(aws, role, make_table, body_change: dict[str, Any]):
    lam = aws.client("lambda")
    name = f"sec-esm-{next(_names)}"
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": zip_source("def handler(e, c):\n    return 1\n")},
    )  # fmt: skip
    table = make_table("KEYS_ONLY")
    stream = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    client = _client(aws, "lambda")

    def rewrite(request, **_):
        request.data = json.dumps({**json.loads(request.data), **body_change}).encode()

    client.meta.events.register("before-sign.lambda.CreateEventSourceMapping", rewrite)
    with pytest.raises(ClientError) as err:
        client.create_event_source_mapping(
            FunctionName=name, EventSourceArn=stream, StartingPosition="LATEST"
        )
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []
    return err.value.response


def test_a_string_false_is_not_a_boolean(aws, role, make_table):
    response = _raw_mapping(aws, role, make_table, {"Enabled": "false"})
    assert response["Error"]["Code"] == "SerializationException"
    assert response["Error"]["Message"] == "Unexpected token received from parser"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_string_number_is_not_a_number(aws, role, make_table):
    response = _raw_mapping(aws, role, make_table, {"BatchSize": "10"})
    assert response["Error"]["Code"] == "SerializationException"
    assert response["Error"]["Message"] == "STRING_VALUE cannot be converted to Integer"


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(levels - 1):
        value = {"M": {"n": value}}
    return value


def test_documents_nest_32_levels_and_no_deeper(aws, make_table):
    ddb = aws.client("dynamodb")
    table = make_table(None)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "doc": _nested(32)})
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "doc": _nested(33)})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == DYNAMODB_NESTING_ERROR
    # deeper than any stack: botocore cannot even serialize it, so it is sent by hand
    deep = '{"S": "leaf"}'
    for _ in range(5000):
        deep = '{"M": {"n": ' + deep + "}}"
    body = f'{{"TableName": "{table}", "Item": {{"pk": {{"S": "c"}}, "doc": {deep}}}}}'
    status, answer = _signed(aws, "dynamodb", "DynamoDB_20120810.PutItem", body.encode())
    assert status == 400
    assert answer["__type"].endswith("#ValidationException")
    assert answer["message"] == DYNAMODB_NESTING_ERROR
    with pytest.raises(ClientError) as err:
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET doc = :deep",
            ExpressionAttributeValues={":deep": _nested(33)},
        )
    assert err.value.response["Error"]["Message"] == DYNAMODB_NESTING_ERROR


def test_numbers_beyond_38_digits_are_refused(aws, make_table):
    ddb = aws.client("dynamodb")
    table = make_table(None)
    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "n": {"N": "1" * 39}})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "38 significant digits" in err.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "name, constraint",
    [
        ("a" * 256, "Member must have length less than or equal to 255"),
        ("ab", "Member must have length greater than or equal to 3"),
        ("bad name!", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
        ("tab\tle", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
    ],
)
def test_table_names_follow_dynamodbs_rules(aws, name, constraint):
    ddb = _client(aws, "dynamodb", config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as err:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    message = err.value.response["Error"]["Message"]
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert message.startswith("1 validation error detected: Value ")
    assert f"at 'tableName' failed to satisfy constraint: {constraint}" in message
    assert name not in aws.client("dynamodb").list_tables()["TableNames"]


# == ownership by value ================================================================================

_owners = itertools.count(1)


@pytest.fixture
def two_runs(aws):
    """Two runs of the kit with the same prefix (two kernels of two users, say)."""
    prefix = f"own{next(_owners)}-"
    first = LocalView(aws, prefix, run_id=f"20261201-10000{next(_owners) % 10}-aaaa")
    second = LocalView(aws, prefix, run_id=f"20261201-20000{next(_owners) % 10}-bbbb")
    yield first, second
    teardown(first)
    teardown(second)


def test_another_runs_role_and_function_are_not_taken_over(two_runs):
    first, second = two_runs
    table = streams.create_users_table(first, "Users")
    role = create_execution_role(first, "fn", table)
    function = deploy_function(first, "fn", FUNCTIONS / "log_event", role_arn=role.arn)
    with pytest.raises(NotOwnedError) as err:
        create_execution_role(second, "fn", table, extra_statements=[ALLOW_ALL])
    assert err.value.run == first.run_id and first.run_id in str(err.value)
    iam = first.client("iam")
    policy = iam.get_role_policy(RoleName=role.name, PolicyName="streamkit-trigger")
    assert policy["PolicyDocument"] == role.policy_document  # not rewritten
    with pytest.raises(NotOwnedError) as err:
        deploy_function(second, "fn", FUNCTIONS / "validate_user", role_arn=role.arn)
    assert err.value.run == first.run_id
    current = first.client("lambda").get_function_configuration(FunctionName=function.name)
    assert current["CodeSha256"] == function.code_sha256  # not replaced
    with pytest.raises(NotOwnedError):
        streams.create_users_table(second, "Users")
    for kind in ("sqs", "sns", "s3"):
        create_failure_destination(first, kind, "failures")
        with pytest.raises(NotOwnedError) as err:
            create_failure_destination(second, kind, "failures")
        assert err.value.run == first.run_id


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def test_all_runs_deletes_only_kit_run_ids_and_lists_the_runs(aws, capsys):
    prefix = f"forge{next(_owners)}-"
    sqs = aws.client("sqs")
    forged = sqs.create_queue(QueueName=f"{prefix}forged", tags={RUN_TAG: "x; rm -rf"})["QueueUrl"]
    real = LocalView(aws, prefix, run_id="20261201-080000-cafe")
    create_failure_destination(real, "sqs", "real")
    assert teardown_main(["--backend", aws.endpoint_url, "--prefix", prefix, "--all-runs"]) == 0
    out = capsys.readouterr().out
    assert "Runs found: 20261201-080000-cafe, x; rm -rf" in out
    assert f"{prefix}forged" in out and "kept: not a streamkit run id" in out
    assert (
        teardown_main(["--backend", aws.endpoint_url, "--prefix", prefix, "--all-runs", "--yes"])
        == 0
    )
    left = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    assert left == [forged]
    sqs.delete_queue(QueueUrl=forged)


def test_a_resource_recreated_while_teardown_runs_is_kept(aws, monkeypatch):
    run = LocalView(aws, f"swap{next(_owners)}-", run_id="20261201-090000-beef")
    queue = create_failure_destination(run, "sqs", "swapped")
    real = streamkit.teardown._discover
    sqs = aws.client("sqs")

    def swap(backend):  # between the listing and the deletion, someone re-creates it untagged
        found = real(backend)
        sqs.delete_queue(QueueUrl=queue.url)
        sqs.create_queue(QueueName=queue.name)
        return found

    monkeypatch.setattr(streamkit.teardown, "_discover", swap)
    report = teardown(run)
    row = report[report["name"] == queue.name].iloc[0]
    assert row["action"] == "kept: changed since it was listed"
    assert sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue.name)["QueueUrl"])


# == bad timeouts ======================================================================================


NO_UUID = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0])
def test_every_wait_refuses_nan_infinite_and_negative_timeouts(aws, value):
    calls = [
        ("timeout", lambda: aws.settle(value)),
        ("timeout", lambda: aws.lambda_service.settle(value)),
        ("timeout_s", lambda: streams.read_records(aws, "arn:x", timeout_s=value)),
        ("timeout_s", lambda: events_from_logs(aws, "fn", expect=1, timeout_s=value)),
        ("timeout_s", lambda: log_messages(aws, "fn", expect=1, timeout_s=value)),
        ("timeout_s", lambda: read_failure_records(aws, "http://q/x", timeout_s=value)),
        ("timeout_s", lambda: triggers.delete_trigger(aws, NO_UUID, timeout_s=value)),
        ("timeout_s", lambda: triggers.enable_trigger(aws, NO_UUID, timeout_s=value)),
    ]
    for name, call in calls:
        began = time.monotonic()
        with pytest.raises(ValueError) as err:
            call()
        assert isinstance(err.value, StreamkitError)
        assert name in str(err.value), (name, str(err.value))
        assert time.monotonic() - began < 5


# == the bad-input tally =================================================================================
# Every case is an input AWS (or the kit's own rules) refuses. Each must end in a named 4xx error or a
# StreamkitError: accepted, a 5xx, any other exception or a hang (30 s) counts as bad.

KEY = streams.TableKey("id")


class World:
    """What the cases work on: a run of the kit with a table, stream, role, function, queue and
    trigger, plus raw clients that skip botocore's own checks (to reach the endpoint)."""

    def __init__(self, aws: Any):
        self.aws = aws
        self.kit = LocalView(aws, "tally-", run_id="20261201-120000-7a11")
        self.table_arn = streams.create_table(self.kit, "Tally", KEY, view_type="NEW_IMAGE")
        self.table = self.table_arn.rsplit("/", 1)[-1]
        self.stream = streams.latest_stream_arn(self.kit, "Tally")
        self.role = create_execution_role(self.kit, "fn", self.table_arn)
        self.function = deploy_function(
            self.kit, "fn", FUNCTIONS / "log_event", role_arn=self.role.arn
        )
        self.queue = create_failure_destination(self.kit, "sqs", "tally-q")
        self.trigger = triggers.create_trigger(self.kit, "fn", self.stream)
        raw = Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})
        self.ddb = _client(aws, "dynamodb", config=raw)
        self.lam = _client(aws, "lambda", config=raw)
        self.sqs = _client(aws, "sqs", config=raw)
        self.logs = _client(aws, "logs", config=raw)

    def create_function(self, **change: Any) -> Any:
        args = {
            "FunctionName": f"tally-raw-{next(_names)}",
            "Runtime": "python3.12",
            "Role": self.role.arn,
            "Handler": "app.handler",
            "Code": {"ZipFile": zip_source("def handler(e, c):\n    return 1\n")},
            **change,
        }
        return self.lam.create_function(**args)

    def create_table(self, **change: Any) -> Any:
        args = {
            "TableName": f"tally-raw-{next(_names)}",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            **change,
        }
        return self.ddb.create_table(**args)

    def put(self, **item: Any) -> Any:
        return self.ddb.put_item(TableName=self.table, Item={"id": {"S": "k"}, **item})

    def mapping(self, **change: Any) -> Any:
        client = _client(self.aws, "lambda")

        def rewrite(request: Any, **_: Any) -> None:
            request.data = json.dumps({**json.loads(request.data), **change}).encode()

        client.meta.events.register("before-sign.lambda.CreateEventSourceMapping", rewrite)
        return client.create_event_source_mapping(
            FunctionName=self.function.name, EventSourceArn=self.stream, StartingPosition="LATEST"
        )


def _raw_answer(status: int, body: bytes) -> None:
    """A raw HTTP answer as the tally judges it: a 4xx naming an AWS error code is clean."""
    text = body.decode("utf-8", "replace")
    named = any(word in text for word in ("__type", "<Code>", "Message", "message"))
    if not (400 <= status < 500 and named):
        raise AssertionError(f"raw answer {status}: {text[:200]}")
    raise _Refused(f"{status}")


class _Refused(Exception):
    """A raw request refused with a named 4xx (clean)."""


def _http(aws: Any, method: str, path: str, body: bytes = b"", **headers: str) -> None:
    status, _, answer = _raw(aws, method, path, body, headers)
    _raw_answer(status, answer)


def _signed_answer(world: World, target: str, body: bytes) -> None:
    status, answer = _signed(world.aws, "dynamodb", target, body)
    _raw_answer(status, json.dumps(answer).encode())


NAN, INF = math.nan, math.inf
ROLE = "arn:aws:iam::123456789012:role/tally-fn-role"
BOGUS_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/none/stream/2026-01-01T00:00:00.000"

CASES: dict[str, Any] = {
    # -- streams ----------------------------------------------------------------------------------
    "create_table empty name": lambda w: streams.create_table(w.kit, "", KEY),
    "create_table None name": lambda w: streams.create_table(w.kit, None, KEY),
    "create_table bad characters": lambda w: streams.create_table(w.kit, "bad name!", KEY),
    "create_table 300 chars": lambda w: streams.create_table(w.kit, "x" * 300, KEY),
    "create_table not a key": lambda w: streams.create_table(w.kit, "Other", "id"),
    "create_table bad view type": lambda w: streams.create_table(w.kit, "V", KEY, view_type="ALL"),
    "TableKey empty": lambda w: streams.TableKey(""),
    "TableKey type X": lambda w: streams.TableKey("id", "X"),
    "TableKey sort type BOOL": lambda w: streams.TableKey("id", "S", "at", "BOOL"),
    "enable_stream bad view": lambda w: streams.enable_stream(w.kit, "Tally", "EVERYTHING"),
    "enable_stream None view": lambda w: streams.enable_stream(w.kit, "Tally", None),
    "enable_stream replace str": lambda w: streams.enable_stream(w.kit, "Tally", replace="yes"),
    "enable_stream missing table": lambda w: streams.enable_stream(w.kit, "NoSuchTable"),
    "disable_stream empty": lambda w: streams.disable_stream(w.kit, ""),
    "disable_stream missing": lambda w: streams.disable_stream(w.kit, "NoSuchTable"),
    "describe_stream bogus arn": lambda w: streams.describe_stream(w.kit, BOGUS_STREAM),
    "describe_stream int": lambda w: streams.describe_stream(w.kit, 42),
    "latest_stream_arn missing": lambda w: streams.latest_stream_arn(w.kit, "NoSuchTable"),
    "read_records bad position": lambda w: streams.read_records(w.kit, w.stream, position="X"),
    "read_records limit 0": lambda w: streams.read_records(w.kit, w.stream, limit=0),
    "read_records limit -1": lambda w: streams.read_records(w.kit, w.stream, limit=-1),
    "read_records limit float": lambda w: streams.read_records(w.kit, w.stream, limit=1.5),
    "read_records polls -1": lambda w: streams.read_records(w.kit, w.stream, max_empty_polls=-1),
    "read_records expect -1": lambda w: streams.read_records(w.kit, w.stream, expect=-1),
    "read_records timeout nan": lambda w: streams.read_records(w.kit, w.stream, timeout_s=NAN),
    "read_records timeout inf": lambda w: streams.read_records(
        w.kit, w.stream, expect=5, timeout_s=INF
    ),
    "read_records timeout -1": lambda w: streams.read_records(w.kit, w.stream, timeout_s=-1),
    "read_records timeout str": lambda w: streams.read_records(w.kit, w.stream, timeout_s="1"),
    "read_records AT_SEQUENCE_NUMBER none": lambda w: streams.read_records(
        w.kit, w.stream, position="AT_SEQUENCE_NUMBER"
    ),
    "read_records sequence abc": lambda w: streams.read_records(
        w.kit, w.stream, position="AT_SEQUENCE_NUMBER", sequence_number="abc"
    ),
    "read_records bogus stream": lambda w: streams.read_records(w.kit, BOGUS_STREAM),
    "stream_iam_resource not arn": lambda w: streams.stream_iam_resource("not an arn"),
    "stream_consumer_policy s3": lambda w: streams.stream_consumer_policy("arn:aws:s3:::b"),
    # -- triggers ---------------------------------------------------------------------------------
    **{
        f"create_trigger {key}={value!r}": (
            lambda w, key=key, value=value: triggers.create_trigger(
                w.kit, "fn", w.stream, **{key: value}
            )
        )
        for key, value in [
            ("batch_size", 0),
            ("batch_size", 10001),
            ("batch_size", 1.5),
            ("batch_size", "10"),
            ("batch_size", True),
            ("starting_position", "AT_TIMESTAMP"),
            ("starting_position", "NOW"),
            ("maximum_batching_window_s", 301),
            ("maximum_batching_window_s", -1),
            ("parallelization_factor", 0),
            ("parallelization_factor", 11),
            ("maximum_retry_attempts", -2),
            ("maximum_retry_attempts", 10001),
            ("maximum_record_age_s", 59),
            ("maximum_record_age_s", 604801),
            ("on_failure_destination_arn", "arn:aws:lambda:us-east-1:123456789012:function:x"),
            ("on_failure_destination_arn", "nope"),
            ("filter_patterns", ["{not json"]),
            ("filter_patterns", [{"eventName": "INSERT"}]),
            ("filter_patterns", ['{"eventName": ["INSERT"]}'] * 6),
            ("filter_patterns", "eventName"),
            ("tumbling_window_s", 901),
            ("enabled", "yes"),
            ("wait", "no"),
            ("timeout_s", NAN),
            ("timeout_s", INF),
            ("timeout_s", -1),
            ("timeout_s", 0),
        ]
    },
    "create_trigger missing function": lambda w: triggers.create_trigger(w.kit, "nofn", w.stream),
    "create_trigger bogus stream": lambda w: triggers.create_trigger(w.kit, "fn", BOGUS_STREAM),
    "create_trigger not a stream": lambda w: triggers.create_trigger(w.kit, "fn", w.table_arn),
    "update_trigger not a uuid": lambda w: triggers.update_trigger(w.kit, "", batch_size=5),
    "update_trigger missing": lambda w: triggers.update_trigger(w.kit, NO_UUID, batch_size=5),
    "update_trigger batch 0": lambda w: triggers.update_trigger(
        w.kit, w.trigger.uuid, batch_size=0
    ),
    "update_trigger retries -5": lambda w: triggers.update_trigger(
        w.kit, w.trigger.uuid, maximum_retry_attempts=-5
    ),
    "update_trigger enabled str": lambda w: triggers.update_trigger(
        w.kit, w.trigger.uuid, enabled="false"
    ),
    "update_trigger timeout nan": lambda w: triggers.update_trigger(
        w.kit, w.trigger.uuid, batch_size=5, timeout_s=NAN
    ),
    "describe_trigger missing": lambda w: triggers.describe_trigger(w.kit, NO_UUID),
    "describe_trigger int": lambda w: triggers.describe_trigger(w.kit, 7),
    "delete_trigger timeout -1": lambda w: triggers.delete_trigger(w.kit, NO_UUID, timeout_s=-1),
    "delete_trigger wait str": lambda w: triggers.delete_trigger(w.kit, NO_UUID, wait="yes"),
    "enable_trigger missing": lambda w: triggers.enable_trigger(w.kit, NO_UUID, timeout_s=1),
    "list_triggers function int": lambda w: triggers.list_triggers(w.kit, function_name=123),
    "list_triggers stream bogus": lambda w: triggers.list_triggers(w.kit, stream_arn="nope"),
    # -- functions --------------------------------------------------------------------------------
    **{
        f"deploy_function {key}={str(value)[:20]!r}": (
            lambda w, key=key, value=value: deploy_function(
                w.kit,
                **{
                    "name": "fn2",
                    "source_dir": FUNCTIONS / "log_event",
                    "role_arn": w.role.arn,
                    key: value,
                },
            )
        )
        for key, value in [
            ("name", ""),
            ("name", "bad name"),
            ("name", "x" * 65),
            ("name", None),
            ("source_dir", "/no/such/folder"),
            ("role_arn", "not-an-arn"),
            ("role_arn", "arn:aws:iam::123:role/x"),
            ("runtime", "python2.7"),
            ("runtime", "python3.11"),
            ("runtime", "nodejs20.x"),
            ("runtime", "java21"),
            ("runtime", ""),
            ("handler", "nodot"),
            ("handler", "missing.handler"),
            ("handler", "h" * 129 + ".x"),
            ("timeout_s", 0),
            ("timeout_s", 901),
            ("timeout_s", 1.5),
            ("timeout_s", NAN),
            ("timeout_s", True),
            ("memory_mb", 127),
            ("memory_mb", 10241),
            ("memory_mb", "128"),
            ("environment", {"1BAD": "v"}),
            ("environment", {"AWS_REGION": "x"}),
            ("environment", {"KEY": 1}),
            ("environment", {"KEY": "v" * 5000}),
            ("environment", ["KEY=v"]),
            ("description", "d" * 257),
            ("description", 5),
        ]
    },
    # -- iam --------------------------------------------------------------------------------------
    "create_execution_role empty function": lambda w: create_execution_role(w.kit, "", w.table_arn),
    "create_execution_role bad function": lambda w: create_execution_role(
        w.kit, "bad name", w.table_arn
    ),
    "create_execution_role not an arn": lambda w: create_execution_role(w.kit, "fn", "table"),
    "create_execution_role lambda destination": lambda w: create_execution_role(
        w.kit,
        "fn",
        w.table_arn,
        on_failure_destination_arn="arn:aws:lambda:us-east-1:123456789012:function:x",
    ),
    "create_execution_role long role": lambda w: create_execution_role(
        w.kit, "fn", w.table_arn, role_name="r" * 65
    ),
    "create_execution_role role slash": lambda w: create_execution_role(
        w.kit, "fn", w.table_arn, role_name="bad/name"
    ),
    "create_execution_role statements str": lambda w: create_execution_role(
        w.kit, "fn", w.table_arn, extra_statements="s"
    ),
    "create_execution_role effect maybe": lambda w: create_execution_role(
        w.kit, "fn", w.table_arn, extra_statements=[{"Effect": "Maybe", "Action": "*"}]
    ),
    "create_execution_role empty actions": lambda w: create_execution_role(
        w.kit,
        "fn",
        w.table_arn,
        extra_statements=[{"Effect": "Allow", "Action": [], "Resource": "*"}],
    ),
    "create_execution_role other run": lambda w: create_execution_role(
        LocalView(w.aws, "tally-", run_id="20261201-120000-0bad"), "fn", w.table_arn
    ),
    # -- destinations -----------------------------------------------------------------------------
    "destination kind ftp": lambda w: create_failure_destination(w.kit, "ftp", "q"),
    "destination name upper": lambda w: create_failure_destination(w.kit, "sqs", "Bad_Name"),
    "destination name empty": lambda w: create_failure_destination(w.kit, "sqs", ""),
    "destination name 70": lambda w: create_failure_destination(w.kit, "sns", "x" * 70),
    "destination s3 upper": lambda w: create_failure_destination(w.kit, "s3", "UPPER"),
    "destination name None": lambda w: create_failure_destination(w.kit, "sqs", None),
    "destination other run": lambda w: create_failure_destination(
        LocalView(w.aws, "tally-", run_id="20261201-120000-0bad"), "sqs", "tally-q"
    ),
    "read_failure_records not a url": lambda w: read_failure_records(w.kit, "not-a-url"),
    "read_failure_records expect 0": lambda w: read_failure_records(w.kit, w.queue.url, expect=0),
    "read_failure_records expect -1": lambda w: read_failure_records(w.kit, w.queue.url, expect=-1),
    "read_failure_records timeout nan": lambda w: read_failure_records(
        w.kit, w.queue.url, timeout_s=NAN
    ),
    "read_failure_records timeout inf": lambda w: read_failure_records(
        w.kit, w.queue.url, timeout_s=INF
    ),
    "read_failure_records none arrive": lambda w: read_failure_records(
        w.kit, w.queue.url, timeout_s=0.2
    ),
    # -- logs -------------------------------------------------------------------------------------
    "events_from_logs expect -1": lambda w: events_from_logs(w.kit, "fn", expect=-1),
    "events_from_logs timeout nan": lambda w: events_from_logs(
        w.kit, "fn", expect=1, timeout_s=NAN
    ),
    "events_from_logs timeout inf": lambda w: events_from_logs(
        w.kit, "fn", expect=9, timeout_s=INF
    ),
    "events_from_logs timeout -1": lambda w: events_from_logs(w.kit, "fn", expect=1, timeout_s=-1),
    "events_from_logs since str": lambda w: events_from_logs(w.kit, "fn", since="yesterday"),
    "events_from_logs function ''": lambda w: events_from_logs(w.kit, ""),
    "events_from_logs none arrive": lambda w: events_from_logs(
        w.kit, "fn", expect=50, timeout_s=0.2
    ),
    "log_messages expect -1": lambda w: log_messages(w.kit, "fn", expect=-1),
    "log_messages timeout nan": lambda w: log_messages(w.kit, "fn", expect=1, timeout_s=NAN),
    "log_messages function None": lambda w: log_messages(w.kit, None),
    "log_messages prefix int": lambda w: log_messages(w.kit, "fn", prefix=5),
    # -- pricing ----------------------------------------------------------------------------------
    "stream_read_cost -1": lambda w: pricing.stream_read_cost(-1),
    "stream_read_cost nan": lambda w: pricing.stream_read_cost(NAN),
    "stream_read_cost inf": lambda w: pricing.stream_read_cost(INF),
    "stream_read_cost region": lambda w: pricing.stream_read_cost(1, region="mars-1"),
    "polling_read_requests shards -1": lambda w: pricing.polling_read_requests(-1, 1),
    "polling_read_requests rate -1": lambda w: pricing.polling_read_requests(1, -1),
    "polling_read_requests rate nan": lambda w: pricing.polling_read_requests(1, NAN),
    "lambda_invocations records -5": lambda w: pricing.lambda_invocations(1, -5),
    "lambda_invocations batch 0": lambda w: pricing.lambda_invocations(1, 5, batch_size=0),
    "lambda_gb_seconds memory 64": lambda w: pricing.lambda_gb_seconds(1, memory_mb=64),
    "lambda_gb_seconds duration -1": lambda w: pricing.lambda_gb_seconds(1, duration_ms=-1),
    "lambda_cost architecture": lambda w: pricing.lambda_cost(1, architecture="sparc"),
    "kinesis_cdc_cost -1": lambda w: pricing.kinesis_cdc_cost(-1, 10),
    "Workload writes -1": lambda w: pricing.Workload(-1),
    "Workload item 500 KB": lambda w: pricing.Workload(1, item_bytes=500 * 1024),
    "LambdaTrigger memory 100": lambda w: pricing.LambdaTrigger(memory_mb=100),
    "LambdaTrigger batch 0": lambda w: pricing.LambdaTrigger(batch_size=0),
    "Poller interval 0": lambda w: pricing.Poller(poll_interval_s=0),
    "estimate region": lambda w: pricing.estimate(pricing.Workload(1), region="mars-1"),
    "estimate hours -1": lambda w: pricing.estimate(pricing.Workload(1), hours=-1),
    # -- connect and LocalAWS -----------------------------------------------------------------------
    "connect ftp": lambda w: streamkit.connect("ftp://x"),
    "connect nowhere": lambda w: streamkit.connect("nowhere"),
    "connect prefix upper": lambda w: streamkit.connect(w.aws.endpoint_url, prefix="UPPER"),
    "connect prefix long": lambda w: streamkit.connect(w.aws.endpoint_url, prefix="x" * 30),
    "connect run_id": lambda w: streamkit.connect(w.aws.endpoint_url, run_id="bad id!"),
    "connect region empty": lambda w: streamkit.connect("local", region=""),
    "connect other region": lambda w: streamkit.connect("local", region="eu-west-1"),
    "LocalAWS region empty": lambda w: LocalAWS(region=""),
    "LocalAWS poll 0": lambda w: LocalAWS(poll_interval_s=0),
    "LocalAWS poll nan": lambda w: LocalAWS(poll_interval_s=NAN),
    "LocalAWS second start": lambda w: LocalAWS().start(),
    "settle nan": lambda w: w.aws.settle(NAN),
    "settle inf": lambda w: w.aws.settle(INF),
    "settle -1": lambda w: w.aws.settle(-1),
    "settle str": lambda w: w.aws.settle("1"),
    "lambda_service.settle inf": lambda w: w.aws.lambda_service.settle(INF),
    "set_poll_interval -1": lambda w: w.aws.set_poll_interval(-1),
    "set_poll_interval nan": lambda w: w.aws.set_poll_interval(NAN),
    "roll_shards missing": lambda w: w.aws.roll_shards("NoSuchTable"),
    "trigger_journal int": lambda w: w.aws.trigger_journal(123),
    "poll_stream rate 0": lambda w: polling.poll_stream(
        w.kit, w.stream, polls_per_second=0, seconds=1
    ),
    "poll_stream seconds nan": lambda w: polling.poll_stream(
        w.kit, w.stream, polls_per_second=1, seconds=NAN
    ),
    "poll_stream seconds inf": lambda w: polling.poll_stream(
        w.kit, w.stream, polls_per_second=1, seconds=INF
    ),
    "poll_stream position": lambda w: polling.poll_stream(
        w.kit, w.stream, polls_per_second=1, seconds=1, position="AT_TIMESTAMP"
    ),
    # -- the raw endpoint: DynamoDB -----------------------------------------------------------------
    "ddb table 256": lambda w: w.create_table(TableName="a" * 256),
    "ddb table 2": lambda w: w.create_table(TableName="ab"),
    "ddb table empty": lambda w: w.create_table(TableName=""),
    "ddb table bad chars": lambda w: w.create_table(TableName="bad name!"),
    "ddb key type X": lambda w: w.create_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "X"}]
    ),
    "ddb key role MIDDLE": lambda w: w.create_table(
        KeySchema=[{"AttributeName": "pk", "KeyType": "MIDDLE"}]
    ),
    "ddb key name empty": lambda w: w.create_table(
        KeySchema=[{"AttributeName": "", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "", "AttributeType": "S"}],
    ),
    "ddb key name 256": lambda w: w.create_table(
        KeySchema=[{"AttributeName": "k" * 256, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k" * 256, "AttributeType": "S"}],
    ),
    "ddb billing FREE": lambda w: w.create_table(BillingMode="FREE"),
    "ddb view ALL": lambda w: w.create_table(
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "ALL"}
    ),
    "ddb stream enabled str": lambda w: w.create_table(
        StreamSpecification={"StreamEnabled": "true", "StreamViewType": "KEYS_ONLY"}
    ),
    "ddb key schema empty": lambda w: w.create_table(KeySchema=[]),
    "ddb key schema missing": lambda w: w.ddb.create_table(TableName="tally-nokey"),
    "ddb put 39 digits": lambda w: w.put(n={"N": "1" * 39}),
    "ddb put number text": lambda w: w.put(n={"N": "abc"}),
    "ddb put 1E126": lambda w: w.put(n={"N": "1E126"}),
    "ddb put 1E-131": lambda w: w.put(n={"N": "1E-131"}),
    "ddb put number int": lambda w: w.put(n={"N": 5}),
    "ddb put nested 33": lambda w: w.put(doc=_nested(33)),
    "ddb put nested 40 lists": lambda w: w.put(
        doc=json.loads('{"L": [' * 39 + '{"S": "x"}' + "]}" * 39)
    ),
    "ddb put bool str": lambda w: w.put(b={"BOOL": "true"}),
    "ddb put null false": lambda w: w.put(x={"NULL": False}),
    "ddb put empty set": lambda w: w.put(s={"SS": []}),
    "ddb put no key": lambda w: w.ddb.put_item(TableName=w.table, Item={"other": {"S": "x"}}),
    "ddb put key wrong type": lambda w: w.ddb.put_item(TableName=w.table, Item={"id": {"N": "1"}}),
    "ddb put item 400 KB": lambda w: w.put(big={"S": "x" * 410_000}),
    "ddb put table bad chars": lambda w: w.ddb.put_item(
        TableName="bad name!", Item={"id": {"S": "k"}}
    ),
    "ddb put missing table": lambda w: w.ddb.put_item(
        TableName="tally-none", Item={"id": {"S": "k"}}
    ),
    "ddb get consistent str": lambda w: w.ddb.get_item(
        TableName=w.table, Key={"id": {"S": "k"}}, ConsistentRead="true"
    ),
    "ddb scan limit str": lambda w: w.ddb.scan(TableName=w.table, Limit="10"),
    "ddb scan limit 0": lambda w: w.ddb.scan(TableName=w.table, Limit=0),
    "ddb scan segments 0": lambda w: w.ddb.scan(TableName=w.table, Segment=0, TotalSegments=0),
    "ddb scan select": lambda w: w.ddb.scan(TableName=w.table, Select="EVERYTHING"),
    "ddb query no condition": lambda w: w.ddb.query(TableName=w.table),
    "ddb update bad expression": lambda w: w.ddb.update_item(
        TableName=w.table, Key={"id": {"S": "k"}}, UpdateExpression="SET = 1"
    ),
    "ddb body list": lambda w: _signed_answer(w, "DynamoDB_20120810.ListTables", b"[]"),
    "ddb body not json": lambda w: _signed_answer(w, "DynamoDB_20120810.ListTables", b"{nope"),
    "ddb unknown operation": lambda w: _signed_answer(w, "DynamoDB_20120810.DropEverything", b"{}"),
    "ddb batch 26 puts": lambda w: w.ddb.batch_write_item(
        RequestItems={w.table: [{"PutRequest": {"Item": {"id": {"S": str(n)}}}} for n in range(26)]}
    ),
    # -- the raw endpoint: Lambda -------------------------------------------------------------------
    "lambda timeout 901": lambda w: w.create_function(Timeout=901),
    "lambda timeout 0": lambda w: w.create_function(Timeout=0),
    "lambda timeout str": lambda w: w.create_function(Timeout="30"),
    "lambda memory 127": lambda w: w.create_function(MemorySize=127),
    "lambda memory 10241": lambda w: w.create_function(MemorySize=10241),
    "lambda memory 32768": lambda w: w.create_function(MemorySize=32768),
    "lambda runtime python2.7": lambda w: w.create_function(Runtime="python2.7"),
    "lambda runtime python3.9": lambda w: w.create_function(Runtime="python3.9"),
    "lambda runtime python3.11": lambda w: w.create_function(Runtime="python3.11"),
    "lambda runtime nodejs20.x": lambda w: w.create_function(Runtime="nodejs20.x"),
    "lambda runtime cobol": lambda w: w.create_function(Runtime="cobol85"),
    "lambda name 65": lambda w: w.create_function(FunctionName="f" * 65),
    "lambda name space": lambda w: w.create_function(FunctionName="has space"),
    "lambda name empty": lambda w: w.create_function(FunctionName=""),
    "lambda handler space": lambda w: w.create_function(Handler="app handler"),
    "lambda role not arn": lambda w: w.create_function(Role="not-an-arn"),
    "lambda description 257": lambda w: w.create_function(Description="d" * 257),
    "lambda zip not zip": lambda w: w.create_function(Code={"ZipFile": b"not a zip"}),
    "lambda zip conflict": lambda w: w.create_function(
        Code={"ZipFile": _zip({"x": "1", "x/y": "2"})}
    ),
    "lambda zip size lie": lambda w: w.create_function(Code={"ZipFile": _lying(300_000_000)}),
    "lambda zip bad base64": lambda w: w.create_function(Code={"ZipFile": "not base64!"}),
    "lambda update code not zip": lambda w: w.lam.update_function_code(
        FunctionName=w.function.name, ZipFile=b"nope"
    ),
    "lambda update timeout 901": lambda w: w.lam.update_function_configuration(
        FunctionName=w.function.name, Timeout=901
    ),
    "lambda update memory 99999": lambda w: w.lam.update_function_configuration(
        FunctionName=w.function.name, MemorySize=99999
    ),
    "lambda update runtime 2.7": lambda w: w.lam.update_function_configuration(
        FunctionName=w.function.name, Runtime="python2.7"
    ),
    "lambda esm Enabled 'false'": lambda w: w.mapping(Enabled="false"),
    "lambda esm BatchSize '10'": lambda w: w.mapping(BatchSize="10"),
    "lambda esm BatchSize 0": lambda w: w.mapping(BatchSize=0),
    "lambda esm BatchSize 10001": lambda w: w.mapping(BatchSize=10001),
    "lambda esm position NOW": lambda w: w.mapping(StartingPosition="NOW"),
    "lambda esm retries -2": lambda w: w.mapping(MaximumRetryAttempts=-2),
    "lambda esm response types": lambda w: w.mapping(FunctionResponseTypes=["Nope"]),
    "lambda esm bisect list": lambda w: w.mapping(BisectBatchOnFunctionError=[True]),
    "lambda esm duplicate": lambda w: w.mapping(),
    "lambda esm OnSuccess": lambda w: w.mapping(
        DestinationConfig={"OnSuccess": {"Destination": w.queue.arn}}
    ),
    # -- the raw endpoint: HTTP itself --------------------------------------------------------------
    "http unsigned": lambda w: _http(
        w.aws, "POST", "/", b"{}", **{"X-Amz-Target": "DynamoDB_20120810.ListTables"}
    ),
    "http moto-api reset": lambda w: _http(w.aws, "POST", "/moto-api/reset"),
    "http moto-api data": lambda w: _http(w.aws, "GET", "/moto-api/data.json"),
    "http foreign host": lambda w: _http(w.aws, "GET", "/", Host="evil.example"),
    "http cors preflight": lambda w: _http(w.aws, "OPTIONS", "/", Origin="http://evil.example"),
    "http 70 MB upload": lambda w: _big_upload(w.aws),
    "http garbage auth": lambda w: _http(w.aws, "GET", "/", Authorization="AWS4-HMAC-SHA256 x"),
}


def _big_upload(aws: Any) -> None:
    url = urlparse(aws.endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.putrequest("PUT", "/2015-03-31/functions/tally-fn/code")
        conn.putheader("Content-Length", str(70_000_000))
        conn.endheaders()
        response = conn.getresponse()
        _raw_answer(response.status, response.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def world(aws):
    built = World(aws)
    yield built
    teardown(built.kit)


TALLY: dict[str, str] = {}


def _judge(call: Any) -> tuple[str, str]:
    """("clean" | "bad", what happened), with at most 30 s for the call."""
    outcome: list[tuple[str, str]] = []

    def run() -> None:
        try:
            call()
        except _Refused as exc:
            outcome.append(("clean", f"raw {exc}"))
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = exc.response.get("Error", {}).get("Code", "")
            clean = 400 <= status < 500 and bool(code) and not code.isdigit()
            outcome.append(("clean" if clean else "bad", f"{status} {code}"))
        except StreamkitError as exc:
            outcome.append(("clean", type(exc).__name__))
        except BaseException as exc:  # noqa: BLE001  (anything else is what the tally is for)
            outcome.append(("bad", f"{type(exc).__name__}: {exc}"[:300]))
        else:
            outcome.append(("bad", "accepted"))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    return outcome[0] if outcome else ("bad", "hang (30 s)")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused(world, case):
    verdict, detail = _judge(lambda: CASES[case](world))
    TALLY[case] = verdict
    assert verdict == "clean", f"{case}: {detail}"


def test_bad_input_tally(capsys):
    """The summary: tried / clean / bad over every case (run after the cases, in file order)."""
    if len(TALLY) < len(CASES):
        pytest.skip("only part of the cases ran")
    tried = len(TALLY)
    clean = sum(v == "clean" for v in TALLY.values())
    with capsys.disabled():
        print(f"\nbad-input tally: tried {tried}, clean {clean}, bad {tried - clean}")
    assert tried >= 150
    assert clean == tried


LIFECYCLE_SCRIPT = """
import json, os, sys, time, zipfile, io
from streamkit.local import LocalAWS
source = "import subprocess\\ndef handler(e, c):\\n    return subprocess.Popen(['sleep', '300']).pid\\n"
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as z:
    z.writestr("app.py", source)
aws = LocalAWS().start()
lam = aws.client("lambda")
role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
lam.create_function(FunctionName="forker", Runtime="python3.12", Role=role,
                    Handler="app.handler", Code={"ZipFile": buffer.getvalue()})
ddb = aws.client("dynamodb")
ddb.create_table(TableName="forks", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST",
                 StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
stream = ddb.describe_table(TableName="forks")["Table"]["LatestStreamArn"]
lam.create_event_source_mapping(FunctionName="forker", EventSourceArn=stream,
                                StartingPosition="TRIM_HORIZON")
ddb.put_item(TableName="forks", Item={"pk": {"S": "a"}})
aws.settle(30)
runtime = aws.lambda_service.runtime
print(json.dumps({"scratch": str(runtime._scratch), "workers": runtime.worker_pids()}), flush=True)
if sys.argv[1] == "stop":
    aws.stop()
    print("stopped", flush=True)
"""


@pytest.mark.parametrize("how", ["stop", "exit"])
def test_a_stopped_or_exiting_kernel_leaves_no_worker_and_no_folder(how):
    """LocalAWS.stop(), or the kernel exiting without it: the workers' process groups are killed
    (the function's own children with them) and the run's scratch folders removed."""
    done = subprocess.run(
        [sys.executable, "-c", LIFECYCLE_SCRIPT, how],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.splitlines()[0])
    assert state["workers"], "the function never ran"
    deadline = time.monotonic() + 10
    while any(not _dead(pid) for pid in state["workers"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_dead(pid) for pid in state["workers"])
    assert not Path(state["scratch"]).exists()
    # the child the function started (in the worker's process group) is gone too
    leftovers = subprocess.run(["pgrep", "-f", "sleep 300"], capture_output=True, text=True)
    assert not [
        pid
        for pid in leftovers.stdout.split()
        if Path(f"/proc/{pid}/stat").exists()
        and not _dead(int(pid))
        and _started_by(int(pid), state)
    ]


def _started_by(pid: int, state: dict[str, Any]) -> bool:
    """Whether a process belonged to one of the run's workers' process groups."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            pgid = int(stat.read().rsplit(")", 1)[1].split()[2])
    except (OSError, ValueError, IndexError):
        return False
    return pgid in state["workers"]
