"""Deploying functions, and the example functions in functions/.

``deploy_function`` on the embedded backend, plus botocore's Stubber for what only AWS does (a role
not yet usable by Lambda); the example functions called directly, and run by the local Lambda
service: at-least-once delivery makes a non-idempotent welcome e-mail go out twice; Powertools'
idempotency sends it once."""

from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError, UnStubbedResponseError
from botocore.stub import ANY
from helpers import (
    FUNCTIONS,
    STUB_PREFIX,
    STUB_TAGS,
    client_error,
    load_fixture,
    unique,
)
from helpers import function_source as _source

from streamkit import streams, triggers
from streamkit.backends import RUN_TAG
from streamkit.errors import InvalidParameterError, StreamkitError
from streamkit.functions import deploy_function
from streamkit.iam import create_execution_role
from streamkit.limits import LAMBDA_MEMORY_MB_RANGE
from streamkit.packaging import build_zip, code_sha256
from streamkit.streams import TableKey

_runs = itertools.count(1)

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users"
STREAM_ARN = TABLE_ARN + "/stream/2026-11-27T10:00:00.000"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fn-role"
#: The function "fn" as AWS gets it from the stubbed backend: with the prefix.
FN = STUB_PREFIX + "fn"


# -- deploying functions -------------------------------------------------------------------------------


def test_deploy_creates_then_leaves_unchanged_then_updates(kit, tmp_path):
    name = unique("deploy-")
    role = create_execution_role(kit, name, TABLE_ARN)
    folder = _source(tmp_path)
    created = deploy_function(kit, name, folder, role_arn=role.arn)
    assert (created.action, created.name) == ("created", kit.name(name))
    assert created.arn == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{kit.prefix}{name}"
    assert created.code_sha256 == code_sha256(build_zip(folder))
    lam, logs = kit.client("lambda"), kit.client("logs")
    assert lam.list_tags(Resource=created.arn)["Tags"] == {RUN_TAG: kit.run_id}
    # Its log group exists before the first invocation, tagged, so teardown deletes it too.
    (group,) = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{created.name}")[
        "logGroups"
    ]
    assert group["logGroupName"] == f"/aws/lambda/{created.name}"
    tags = logs.list_tags_for_resource(resourceArn=group["arn"].removesuffix(":*"))["tags"]
    assert tags == {RUN_TAG: kit.run_id}

    same = deploy_function(kit, name, folder, role_arn=role.arn)
    assert (same.action, same.code_sha256) == ("unchanged", created.code_sha256)

    (folder / "app.py").write_text("def handler(event, context):\n    return 1\n")
    changed = deploy_function(kit, name, folder, role_arn=role.arn)
    assert changed.action == "updated" and changed.code_sha256 != created.code_sha256

    bigger = deploy_function(
        kit, name, folder, role_arn=role.arn, memory_mb=256, environment={"SENDER": "a@b.c"}
    )
    assert (bigger.action, bigger.code_sha256) == ("updated", changed.code_sha256)
    config = lam.get_function_configuration(FunctionName=created.name)
    assert config["MemorySize"] == 256
    assert config["Environment"]["Variables"] == {"SENDER": "a@b.c"}
    again = deploy_function(
        kit, name, folder, role_arn=role.arn, memory_mb=256, environment={"SENDER": "a@b.c"}
    )
    assert again.action == "unchanged"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"memory_mb": LAMBDA_MEMORY_MB_RANGE[0] - 1}, "memory_mb"),
        ({"memory_mb": LAMBDA_MEMORY_MB_RANGE[1] + 1}, "memory_mb"),
        ({"memory_mb": 128.0}, "memory_mb"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": 901}, "timeout_s"),
        ({"timeout_s": True}, "timeout_s"),
        ({"handler": "app"}, "handler"),
        ({"handler": "app handler"}, "handler"),
        ({"handler": "missing.handler"}, "handler"),
        ({"handler": "app." + "h" * 128}, "handler"),
        ({"runtime": "python3.10"}, "runtime"),
        ({"runtime": "java21"}, "runtime"),
        ({"runtime": "nodejs22.x"}, "handler"),  # app.handler: no app.js (nor .mjs, .cjs) there
        ({"runtime": "nodejs22.x", "handler": "../index.handler"}, "handler"),
        ({"name": "f" * 65}, "name"),
        ({"name": "f" * (65 - len(STUB_PREFIX))}, "name"),  # too long with the prefix
        ({"name": "my function"}, "name"),
        ({"name": ""}, "name"),
        ({"role_arn": "fn-role"}, "role_arn"),
        ({"environment": {"AWS_REGION": "x"}}, "environment variable name"),
        ({"environment": {"1X": "x"}}, "environment variable name"),
        ({"environment": {"X": "x"}}, "environment variable name"),
        ({"environment": {"KEY": 1}}, "environment['KEY']"),
        ({"environment": {"KEY": "v" * 4094}}, "environment"),
        ({"environment": ["KEY"]}, "environment"),
        ({"description": "d" * 257}, "description"),
    ],
)
def test_deploy_arguments_are_validated_before_any_call(stubbed, tmp_path, kwargs, name):
    args = {"name": "fn", "role_arn": ROLE_ARN, **kwargs}
    with pytest.raises(InvalidParameterError) as err:
        deploy_function(stubbed, args.pop("name"), _source(tmp_path), **args)
    assert err.value.name == name


@pytest.mark.parametrize(
    "kwargs",
    [
        {"memory_mb": LAMBDA_MEMORY_MB_RANGE[0]},
        {"memory_mb": LAMBDA_MEMORY_MB_RANGE[1]},
        {"timeout_s": 1},
        {"timeout_s": 900},
        {"name": "f" * (64 - len(STUB_PREFIX))},  # 64 with the prefix
        {"name": STUB_PREFIX + "f" * (64 - len(STUB_PREFIX))},  # the prefix is not added twice
        {"runtime": "python3.12"},
        {"runtime": "python3.13"},
        {"environment": {"KEY": "v" * 4093}},
        {"description": "d" * 256},
        {"handler": "pkg.util.X"},
    ],
)
def test_deploy_arguments_at_their_limits_reach_aws(stubbed, tmp_path, kwargs):
    args = {"name": "fn", "role_arn": ROLE_ARN, **kwargs}
    with pytest.raises(UnStubbedResponseError):  # validation passed: CreateFunction was called
        deploy_function(stubbed, args.pop("name"), _source(tmp_path), **args)


def _function_config(name: str = "fn") -> dict[str, Any]:
    return {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        "CodeSha256": "abc=",
        "State": "Active",
        "LastUpdateStatus": "Successful",
    }


NOT_ASSUMABLE = client_error(
    "InvalidParameterValueException",
    "The role defined for the function cannot be assumed by Lambda.",
)


def test_deploy_retries_while_a_new_role_is_not_yet_assumable(stubbed, tmp_path, capsys):
    lam = stubbed.stub("lambda")
    for _ in range(2):
        lam.add_client_error("create_function", **NOT_ASSUMABLE)
    lam.add_response(
        "create_function",
        _function_config(FN),
        {
            "FunctionName": FN,
            "Tags": STUB_TAGS,
            **{
                k: ANY
                for k in (
                    "Code",
                    "PackageType",
                    "Role",
                    "Handler",
                    "Runtime",
                    "Timeout",
                    "MemorySize",
                    "Description",
                    "Environment",
                )
            },
        },
    )
    lam.add_response("get_function", {"Configuration": _function_config(FN)}, {"FunctionName": FN})
    logs = stubbed.stub("logs")  # the log group is made, tagged, before Lambda makes one untagged
    logs.add_response(
        "create_log_group", {}, {"logGroupName": f"/aws/lambda/{FN}", "tags": STUB_TAGS}
    )
    deployed = deploy_function(stubbed, "fn", _source(tmp_path), role_arn=ROLE_ARN)
    assert (deployed.action, deployed.name) == ("created", FN)
    assert stubbed.slept == [1.0, 2.0]
    shown = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("[streamkit]")
    ]
    assert shown == [  # the wait is shown, not silent
        f"[streamkit] IAM is still propagating the new role {ROLE_ARN.rsplit('/', 1)[-1]}: "
        f"retrying CreateFunction in {delay:g} s (try {attempt} of 10)"
        for delay, attempt in ((1, 2), (2, 3))
    ]
    lam.assert_no_pending_responses()
    logs.assert_no_pending_responses()


def test_deploy_gives_up_on_a_role_after_ten_tries(stubbed, tmp_path):
    lam = stubbed.stub("lambda")
    for _ in range(10):
        lam.add_client_error("create_function", **NOT_ASSUMABLE)
    with pytest.raises(StreamkitError) as err:
        deploy_function(stubbed, "fn", _source(tmp_path), role_arn=ROLE_ARN)
    assert "10 tries" in str(err.value) and "lambda.amazonaws.com" in str(err.value)
    assert len(stubbed.slept) == 9 and sum(stubbed.slept) < 120
    assert stubbed.api_calls["lambda:CreateFunction"] == 10
    assert "logs:CreateLogGroup" not in stubbed.api_calls  # nothing else made for a failed deploy


def test_deploy_does_not_retry_other_invalid_parameters(stubbed, tmp_path):
    stubbed.stub("lambda").add_client_error(
        "create_function", **client_error("InvalidParameterValueException", "Unzipped size too big")
    )
    with pytest.raises(ClientError):
        deploy_function(stubbed, "fn", _source(tmp_path), role_arn=ROLE_ARN)
    assert stubbed.slept == []


def test_deploy_with_a_missing_role_fails_at_once_locally(kit, tmp_path):
    with pytest.raises(StreamkitError) as err:
        deploy_function(
            kit, unique("norole-"), _source(tmp_path), role_arn=f"arn:aws:iam::{ACCOUNT}:role/none"
        )
    assert "cannot assume the role" in str(err.value)


# -- the example functions ---------------------------------------------------------------------------


def _load(function: str) -> Any:
    path = FUNCTIONS / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{function}_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize("function", ["log_event", "welcome_email"])
def test_functions_use_only_what_the_lambda_runtime_has(function):
    tree = ast.parse((FUNCTIONS / function / "app.py").read_text())
    assert ast.get_docstring(tree)
    imported = {
        (alias.name if isinstance(node, ast.Import) else node.module).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"boto3", "botocore"}
    assert "streamkit" not in imported


def test_log_event_prints_one_line(capsys):
    app = _load("log_event")
    event = load_fixture("sam-dynamodb-update")
    assert app.handler(event, None) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("EVENT {")
    assert json.loads(lines[0][len("EVENT ") :]) == event


def _record(name: str, sequence: str, image: dict[str, Any] | None) -> dict[str, Any]:
    record = {
        "eventID": sequence.rjust(32, "0"),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"userId": {"S": "u"}, "createdAt": {"S": "2022-08-20"}},
            "SequenceNumber": sequence,
            "SizeBytes": 50,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": STREAM_ARN,
    }
    if image is not None:
        record["dynamodb"]["NewImage"] = image
    return record


def _user(user_id: str, firstname: str, email: str | None = None) -> dict[str, Any]:
    image = {
        "userId": {"S": user_id},
        "createdAt": {"S": "2022-08-20"},
        "firstname": {"S": firstname},
    }
    if email:
        image["email"] = {"S": email}
    return image


@pytest.fixture
def welcome(aws, monkeypatch):
    """The welcome_email module, its boto3 client pointed at the embedded SES."""
    for key, value in aws.cli_env().items():  # the embedded backend answers only its own keys
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SENDER", raising=False)
    return _load("welcome_email")


def _sent(aws) -> float:
    return aws.client("ses").get_send_quota()["SentLast24Hours"]


def test_welcome_email_sends_one_mail_per_new_user(aws, welcome, capsys):
    aws.client("ses").verify_email_identity(EmailAddress="welcome@example.com")
    before = _sent(aws)
    event = {
        "Records": [
            _record("INSERT", "100000000000000000001", _user("user_1", "Ada", "ada@example.org")),
            _record("MODIFY", "100000000000000000002", _user("user_1", "Ada Lovelace")),
            _record("INSERT", "100000000000000000003", _user("user_2", "Sandro")),
            _record("REMOVE", "100000000000000000004", None),
        ]
    }
    assert welcome.handler(event, None) == {"batchItemFailures": []}
    assert _sent(aws) == before + 2
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" (MessageId")[0] for line in out] == [
        "SENT welcome e-mail to ada@example.org for user user_1",
        "SENT welcome e-mail to user_2@example.com for user user_2",
    ]


def test_welcome_email_seed_event(aws, welcome):
    aws.client("ses").verify_email_identity(EmailAddress="welcome@example.com")
    assert welcome.handler(load_fixture("seed-users-insert"), None) == {"batchItemFailures": []}


def test_welcome_email_reports_the_first_failure_and_stops(aws, welcome, monkeypatch, capsys):
    monkeypatch.setenv("SENDER", "unverified@example.net")  # SES rejects an unverified sender
    before = _sent(aws)
    event = {
        "Records": [
            _record("MODIFY", "100000000000000000010", _user("user_1", "Ada")),
            _record("INSERT", "100000000000000000011", _user("user_3", "Grace")),
            _record("INSERT", "100000000000000000012", _user("user_4", "Alan")),
        ]
    }
    answer = welcome.handler(event, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "100000000000000000011"}]}
    assert _sent(aws) == before
    out = capsys.readouterr().out
    assert out.startswith("FAILED 100000000000000000011: MessageRejected")


def test_welcome_email_without_new_image_is_a_failure(aws, welcome, capsys):
    aws.client("ses").verify_email_identity(EmailAddress="welcome@example.com")
    event = {"Records": [_record("INSERT", "100000000000000000020", None)]}
    assert welcome.handler(event, None) == {
        "batchItemFailures": [{"itemIdentifier": "100000000000000000020"}]
    }
    assert "NEW_IMAGE" in capsys.readouterr().out


# -- at-least-once delivery, with and without idempotency -------------------------------------------


def _sent_to(aws, recipients):
    sent = aws.sent_emails()
    return sorted(sent[sent["to"].isin(recipients)]["to"])


@pytest.mark.usefixtures("fast_polling")
@pytest.mark.parametrize(
    ("folder", "times"), [("welcome_email", 2), ("welcome_email_idempotent", 1)]
)
def test_a_retried_batch_sends_twice_unless_idempotent(aws, folder, times):
    run = next(_runs)
    table = f"Users{run}"
    table_arn = streams.create_table(aws, table, streams.USERS_KEY_SCHEMA)
    stream_arn = streams.enable_stream(aws, table, "NEW_IMAGE").stream_arn
    idempotency = streams.create_table(aws, f"Idempotency{run}", TableKey("id"))
    aws.client("ses").verify_email_identity(EmailAddress="welcome@example.com")
    role = create_execution_role(aws, f"{folder}-{run}", table_arn)
    name = f"{folder}-{run}"
    deploy_function(
        aws,
        name,
        FUNCTIONS / folder,
        role_arn=role.arn,
        environment={
            "FAIL_ONCE_AFTER_SENDING": "1",
            "IDEMPOTENCY_TABLE": idempotency.rsplit("/", 1)[-1],
        },
    )
    triggers.create_trigger(
        aws,
        name,
        stream_arn,
        starting_position="LATEST",
        batch_size=10,
        maximum_batching_window_s=1,
        report_batch_item_failures=True,
    )
    recipients = [f"user{run}-{n}@example.com" for n in range(2)]
    ddb = aws.client("dynamodb")
    ddb.batch_write_item(
        RequestItems={
            table: [
                {
                    "PutRequest": {
                        "Item": {
                            "userId": {"S": f"u{run}-{n}"},
                            "createdAt": {"S": "2024-01-01"},
                            "firstname": {"S": f"User {n}"},
                            "email": {"S": recipient},
                        }
                    }
                }
                for n, recipient in enumerate(recipients)
            ]
        }
    )
    aws.settle(30)
    assert _sent_to(aws, recipients) == sorted(recipients * times)
