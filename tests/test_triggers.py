"""Triggers: execution roles, deploying functions, event source mappings, teardown, and the example
functions; on the embedded backend, plus botocore's Stubber for what only AWS does (a role not yet
usable, a mapping still Creating, waits that time out). What the kit owns is told by its name prefix
and its ``streamkit-run`` tag, so the tests check the tags, and what teardown finds and deletes."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import io
import itertools
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, UnStubbedResponseError
from botocore.stub import ANY, Stubber

from conftest import (
    AWS_MAPPING_DEFAULTS,
    STUB_PREFIX,
    STUB_TAGS,
    LocalView,
    StubbedAWS,
    assert_in_dependency_order,
    client_error,
    load_fixture,
    stream_arn_of,
)
from streamkit import streams, triggers
from streamkit.backends import RUN_TAG
from streamkit.errors import InvalidParameterError, StreamkitError, StreamNotFoundError
from streamkit.limits import (
    ESM_BATCH_SIZE_RANGE,
    ESM_BATCHING_WINDOW_MAX_S,
    ESM_LATEST_FIRST_POLL_WAIT_S,
    ESM_MAX_FILTERS,
    ESM_PARALLELIZATION_RANGE,
    ESM_RECORD_AGE_RANGE_S,
    ESM_RETRY_ATTEMPTS_RANGE,
    ESM_TUMBLING_WINDOW_RANGE_S,
    LAMBDA_MEMORY_MB_RANGE,
)

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users"
STREAM_ARN = TABLE_ARN + "/stream/2026-11-27T10:00:00.000"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:failures"
BUCKET_ARN = "arn:aws:s3:::streamkit-failures"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fn-role"
#: The function "fn" as AWS gets it from the stubbed backend: with the prefix.
FN = STUB_PREFIX + "fn"

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


@pytest.fixture
def kit(aws):
    view = LocalView(aws, unique("k") + "-")
    yield view
    triggers.teardown(view)


@pytest.fixture(scope="module")
def module_kit(aws):
    view = LocalView(aws, "trg-")
    yield view
    triggers.teardown(view)


@pytest.fixture(scope="module")
def function(module_kit):
    """A deployed log_event function (with its role) shared by the mapping tests."""
    name = unique("log-")
    role = triggers.create_execution_role(module_kit, name, TABLE_ARN)
    deployed = triggers.deploy_function(
        module_kit, name, FUNCTIONS / "log_event", role_arn=role.arn
    )
    return deployed


@pytest.fixture
def stream(aws, make_table):
    """A fresh stream (a new table), so each test has its own function-and-stream pair."""
    return stream_arn_of(aws.client("dynamodb"), make_table("NEW_AND_OLD_IMAGES"))


# -- the execution role ------------------------------------------------------------------------------


def test_policy_allows_exactly_the_needed_actions_on_exact_resources():
    policy = triggers.execution_role_policy("fn", STREAM_ARN)
    assert policy["Version"] == "2012-10-17"
    got = {s["Sid"]: (s["Effect"], sorted(s["Action"]), s["Resource"]) for s in policy["Statement"]}
    log_group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:*"
    assert got == {
        "ReadTheTablesStreams": (
            "Allow",
            [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users/stream/*",
        ),
        "CreateTheFunctionsLogGroup": ("Allow", ["logs:CreateLogGroup"], log_group),
        "WriteTheFunctionsLogStreams": (
            "Allow",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            log_group,
        ),
    }
    assert triggers.execution_role_policy("fn", TABLE_ARN) == policy  # table or stream ARN


@pytest.mark.parametrize(
    ("destination", "actions", "resource"),
    [
        (QUEUE_ARN, ["sqs:SendMessage"], QUEUE_ARN),
        (TOPIC_ARN, ["sns:Publish"], TOPIC_ARN),
        (BUCKET_ARN, ["s3:PutObject", "s3:ListBucket"], [BUCKET_ARN, BUCKET_ARN + "/*"]),
    ],
)
def test_policy_grants_the_destination_only_when_given(destination, actions, resource):
    policy = triggers.execution_role_policy("fn", TABLE_ARN, on_failure_destination_arn=destination)
    assert len(policy["Statement"]) == 4
    last = policy["Statement"][-1]
    assert (last["Action"], last["Resource"]) == (actions, resource)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"table_arn": "Users"}, "ARN"),
        ({"table_arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"}, "ARN"),
        ({"function_name": "has space"}, "function_name"),
        ({"function_name": "f" * 65}, "function_name"),
        (
            {"on_failure_destination_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"},
            "on_failure_destination_arn",
        ),
        ({"on_failure_destination_arn": "failures"}, "on_failure_destination_arn"),
    ],
)
def test_policy_arguments_are_validated(kwargs, name):
    args = {"function_name": "fn", "table_arn": TABLE_ARN, **kwargs}
    with pytest.raises(InvalidParameterError) as err:
        triggers.execution_role_policy(args.pop("function_name"), args.pop("table_arn"), **args)
    assert err.value.name == name


def test_policy_appends_extra_statements_as_given():
    ses = {
        "Sid": "SendWelcomeEmails",
        "Effect": "Allow",
        "Action": ["ses:SendEmail"],
        "Resource": f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/*",
    }
    policy = triggers.execution_role_policy("fn", TABLE_ARN, extra_statements=[ses])
    assert len(policy["Statement"]) == 4 and policy["Statement"][-1] == ses


@pytest.mark.parametrize(
    "bad",
    [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},  # not a list of them
        [{"Effect": "Allow"}],
        [{"Effect": "Maybe", "Action": "x:y", "Resource": "*"}],
        [{"Effect": "Allow", "Action": [], "Resource": "*"}],
        ["statement"],
    ],
)
def test_extra_statements_are_validated(bad):
    with pytest.raises(InvalidParameterError) as err:
        triggers.execution_role_policy("fn", TABLE_ARN, extra_statements=bad)
    assert err.value.name == "extra_statements"


def _inline(iam, role):
    return iam.list_role_policies(RoleName=role)["PolicyNames"]


def _role_tags(iam, role):
    return {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}


def test_create_execution_role_is_idempotent_and_resets_drift(kit):
    iam = kit.client("iam")
    name = unique("fn-")
    first = triggers.create_execution_role(kit, name, STREAM_ARN)
    assert (first.name, first.action) == (f"{kit.prefix}{name}-role", "created")
    assert first.arn == f"arn:aws:iam::{ACCOUNT}:role/{kit.prefix}{name}-role"
    assert _role_tags(iam, first.name) == {RUN_TAG: kit.run_id}  # what teardown deletes by
    role = iam.get_role(RoleName=first.name)["Role"]
    assert role["AssumeRolePolicyDocument"] == first.trust_policy
    assert first.trust_policy["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert _inline(iam, first.name) == ["streamkit-trigger"]
    stored = iam.get_role_policy(RoleName=first.name, PolicyName="streamkit-trigger")
    # scoped to the log group of the function's AWS name, prefix included
    assert stored["PolicyDocument"] == triggers.execution_role_policy(kit.name(name), STREAM_ARN)

    again = triggers.create_execution_role(kit, name, STREAM_ARN)
    assert (again.action, again.arn) == ("unchanged", first.arn)

    # Drift: another inline policy, a managed policy, a different trust policy.
    iam.put_role_policy(
        RoleName=first.name,
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    managed = iam.create_policy(
        PolicyName=unique("managed-"),
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=first.name, PolicyArn=managed)
    with_queue = triggers.create_execution_role(
        kit, name, STREAM_ARN, on_failure_destination_arn=QUEUE_ARN
    )
    assert with_queue.action == "updated"
    assert _inline(iam, first.name) == ["streamkit-trigger"]
    assert iam.list_attached_role_policies(RoleName=first.name)["AttachedPolicies"] == []
    stored = iam.get_role_policy(RoleName=first.name, PolicyName="streamkit-trigger")
    assert stored["PolicyDocument"] == with_queue.policy_document
    assert with_queue.policy_document["Statement"][-1]["Action"] == ["sqs:SendMessage"]
    assert _role_tags(iam, first.name) == {RUN_TAG: kit.run_id}  # updating keeps it the kit's
    iam.delete_policy(PolicyArn=managed)


def test_role_name_is_validated_before_any_call(stubbed):
    # 10 (prefix) + 50 + 5 ("-role") = 65 characters: one too many for a role name
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_execution_role(stubbed, "f" * 50, TABLE_ARN)
    assert err.value.name == "role_name" and "role_name=" in str(err.value)
    # the function name itself is too long once the prefix is added (10 + 55 > 64)
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_execution_role(stubbed, "f" * 55, TABLE_ARN)
    assert err.value.name == "function_name"
    with pytest.raises(InvalidParameterError):
        triggers.create_execution_role(stubbed, "fn", TABLE_ARN, role_name="a b")


# -- building and deploying functions -------------------------------------------------------------------


def _source(tmp_path: Path, body: str = "def handler(event, context):\n    return None\n") -> Path:
    folder = tmp_path / "src"
    (folder / "pkg" / "__pycache__").mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(body)
    (folder / "pkg" / "util.py").write_text("X = 1\n")
    (folder / "pkg" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\0junk")
    (folder / "stale.pyc").write_bytes(b"\0junk")
    (folder / ".DS_Store").write_bytes(b"junk")
    return folder


def test_build_zip_is_deterministic_and_clean(tmp_path):
    folder = _source(tmp_path)
    first = triggers.build_zip(folder)
    (folder / "app.py").touch()  # a new mtime must not change the package
    (folder / "pkg" / "util.py").chmod(0o755)  # nor the permissions
    assert triggers.build_zip(str(folder)) == first
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert archive.namelist() == ["app.py", "pkg/util.py"]
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
    assert archive.read("app.py") == (folder / "app.py").read_bytes()


@pytest.mark.parametrize("bad", [None, 42, "/no/such/folder"])
def test_build_zip_needs_a_folder(bad):
    with pytest.raises(InvalidParameterError):
        triggers.build_zip(bad)


def test_build_zip_refuses_an_empty_folder(tmp_path):
    with pytest.raises(InvalidParameterError) as err:
        triggers.build_zip(tmp_path)
    assert "at least one file" in str(err.value)


def test_deploy_creates_then_leaves_unchanged_then_updates(kit, tmp_path):
    name = unique("deploy-")
    role = triggers.create_execution_role(kit, name, TABLE_ARN)
    folder = _source(tmp_path)
    created = triggers.deploy_function(kit, name, folder, role_arn=role.arn)
    assert (created.action, created.name) == ("created", kit.name(name))
    assert created.arn == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{kit.prefix}{name}"
    assert created.code_sha256 == triggers.code_sha256(triggers.build_zip(folder))
    lam, logs = kit.client("lambda"), kit.client("logs")
    assert lam.list_tags(Resource=created.arn)["Tags"] == {RUN_TAG: kit.run_id}
    # Its log group exists before the first invocation, tagged, so teardown deletes it too.
    (group,) = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{created.name}")[
        "logGroups"
    ]
    assert group["logGroupName"] == f"/aws/lambda/{created.name}"
    tags = logs.list_tags_for_resource(resourceArn=group["arn"].removesuffix(":*"))["tags"]
    assert tags == {RUN_TAG: kit.run_id}

    same = triggers.deploy_function(kit, name, folder, role_arn=role.arn)
    assert (same.action, same.code_sha256) == ("unchanged", created.code_sha256)

    (folder / "app.py").write_text("def handler(event, context):\n    return 1\n")
    changed = triggers.deploy_function(kit, name, folder, role_arn=role.arn)
    assert changed.action == "updated" and changed.code_sha256 != created.code_sha256

    bigger = triggers.deploy_function(
        kit, name, folder, role_arn=role.arn, memory_mb=256, environment={"SENDER": "a@b.c"}
    )
    assert (bigger.action, bigger.code_sha256) == ("updated", changed.code_sha256)
    config = lam.get_function_configuration(FunctionName=created.name)
    assert config["MemorySize"] == 256
    assert config["Environment"]["Variables"] == {"SENDER": "a@b.c"}
    again = triggers.deploy_function(
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
        ({"runtime": "nodejs20.x"}, "runtime"),
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
        triggers.deploy_function(stubbed, args.pop("name"), _source(tmp_path), **args)
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
        {"runtime": "python3.11"},
        {"runtime": "python3.13"},
        {"environment": {"KEY": "v" * 4093}},
        {"description": "d" * 256},
        {"handler": "pkg.util.X"},
    ],
)
def test_deploy_arguments_at_their_limits_reach_aws(stubbed, tmp_path, kwargs):
    args = {"name": "fn", "role_arn": ROLE_ARN, **kwargs}
    with pytest.raises(UnStubbedResponseError):  # validation passed: CreateFunction was called
        triggers.deploy_function(stubbed, args.pop("name"), _source(tmp_path), **args)


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
    deployed = triggers.deploy_function(stubbed, "fn", _source(tmp_path), role_arn=ROLE_ARN)
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
        triggers.deploy_function(stubbed, "fn", _source(tmp_path), role_arn=ROLE_ARN)
    assert "10 tries" in str(err.value) and "lambda.amazonaws.com" in str(err.value)
    assert len(stubbed.slept) == 9 and sum(stubbed.slept) < 120
    assert stubbed.api_calls["lambda:CreateFunction"] == 10
    assert "logs:CreateLogGroup" not in stubbed.api_calls  # nothing else made for a failed deploy


def test_deploy_does_not_retry_other_invalid_parameters(stubbed, tmp_path):
    stubbed.stub("lambda").add_client_error(
        "create_function", **client_error("InvalidParameterValueException", "Unzipped size too big")
    )
    with pytest.raises(ClientError):
        triggers.deploy_function(stubbed, "fn", _source(tmp_path), role_arn=ROLE_ARN)
    assert stubbed.slept == []


def test_deploy_with_a_missing_role_fails_at_once_locally(kit, tmp_path):
    with pytest.raises(StreamkitError) as err:
        triggers.deploy_function(
            kit, unique("norole-"), _source(tmp_path), role_arn=f"arn:aws:iam::{ACCOUNT}:role/none"
        )
    assert "cannot assume the role" in str(err.value)


# -- event source mappings: parameters, validation -------------------------------------------------------


def test_mapping_parameters_table():
    table = triggers.mapping_parameters()
    assert list(table.columns) == [
        "parameter",
        "argument",
        "aws_default",
        "valid_values",
        "meaning",
    ]
    assert table["parameter"].is_unique and len(table) == 14
    by_api = table.set_index("parameter")
    assert by_api.loc["BatchSize", "aws_default"] == "100"
    assert by_api.loc["MaximumRetryAttempts", "aws_default"] == "-1"
    assert by_api.loc["MaximumRecordAgeInSeconds", "valid_values"].startswith(
        "-1 (forever) or 60 to 604,800"
    )
    assert by_api.loc["StartingPosition", "aws_default"] == "(required)"
    assert by_api.loc["FilterCriteria", "valid_values"].startswith(f"up to {ESM_MAX_FILTERS}")
    # The signature's defaults are AWS's (StartingPosition has none: the kit picks LATEST).
    signature = inspect.signature(triggers.create_trigger).parameters
    for argument, default in zip(table["argument"], table["aws_default"], strict=True):
        if argument in ("stream_arn", "function_name", "starting_position"):
            continue
        value = signature[argument].default
        shown = "none" if value in (None, ()) else str(value).lower()
        assert shown == default.lower(), argument


BOUNDS = [
    # (argument, API name, valid value at a limit, value just beyond it)
    ("batch_size", "BatchSize", ESM_BATCH_SIZE_RANGE[0], ESM_BATCH_SIZE_RANGE[0] - 1),
    ("batch_size", "BatchSize", ESM_BATCH_SIZE_RANGE[1], ESM_BATCH_SIZE_RANGE[1] + 1),
    ("maximum_batching_window_s", "MaximumBatchingWindowInSeconds", 1, -1),
    (
        "maximum_batching_window_s",
        "MaximumBatchingWindowInSeconds",
        ESM_BATCHING_WINDOW_MAX_S,
        ESM_BATCHING_WINDOW_MAX_S + 1,
    ),
    ("parallelization_factor", "ParallelizationFactor", 2, ESM_PARALLELIZATION_RANGE[0] - 1),
    (
        "parallelization_factor",
        "ParallelizationFactor",
        ESM_PARALLELIZATION_RANGE[1],
        ESM_PARALLELIZATION_RANGE[1] + 1,
    ),
    ("maximum_retry_attempts", "MaximumRetryAttempts", 0, ESM_RETRY_ATTEMPTS_RANGE[0] - 1),
    (
        "maximum_retry_attempts",
        "MaximumRetryAttempts",
        ESM_RETRY_ATTEMPTS_RANGE[1],
        ESM_RETRY_ATTEMPTS_RANGE[1] + 1,
    ),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", ESM_RECORD_AGE_RANGE_S[0], 59),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", ESM_RECORD_AGE_RANGE_S[1], 604_801),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", 60, 0),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", 60, -2),
    ("tumbling_window_s", "TumblingWindowInSeconds", 1, ESM_TUMBLING_WINDOW_RANGE_S[0] - 1),
    (
        "tumbling_window_s",
        "TumblingWindowInSeconds",
        ESM_TUMBLING_WINDOW_RANGE_S[1],
        ESM_TUMBLING_WINDOW_RANGE_S[1] + 1,
    ),
    ("starting_position", "StartingPosition", "TRIM_HORIZON", "AT_TIMESTAMP"),
    ("bisect_batch_on_function_error", "BisectBatchOnFunctionError", True, 1),
    ("enabled", "Enabled", False, "no"),
]


def _mapping_response(**overrides: Any) -> dict[str, Any]:
    """A CreateEventSourceMapping answer as AWS gives it (AWS-FACTS §7)."""
    return {
        "UUID": "a1b2c3d4-0000-4000-8000-000000000001",
        "StartingPosition": "LATEST",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "EventSourceArn": STREAM_ARN,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn",
        "LastProcessingResult": "No records processed",
        "State": "Creating",
        "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {}},
        "FunctionResponseTypes": [],
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": False,
        "MaximumRetryAttempts": -1,
        "TumblingWindowInSeconds": 0,
        **overrides,
    }


def _expect_create(
    stubbed: StubbedAWS,
    params: dict[str, Any],
    response: dict[str, Any],
    starting_position: str = "LATEST",
) -> Stubber:
    lam = stubbed.stub("lambda")
    lam.add_response(
        "list_event_source_mappings",
        {"EventSourceMappings": []},
        {"FunctionName": FN, "EventSourceArn": STREAM_ARN},
    )
    lam.add_response(
        "create_event_source_mapping",
        response,
        {
            "FunctionName": FN,
            "EventSourceArn": STREAM_ARN,
            "StartingPosition": starting_position,
            **params,
            "Tags": STUB_TAGS,  # the mapping is the kit's, of this run
        },
    )
    return lam


@pytest.mark.parametrize(("argument", "api", "at_limit", "beyond"), BOUNDS)
def test_mapping_setting_beyond_its_limit_is_refused_before_any_call(
    stubbed, argument, api, at_limit, beyond
):
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN, **{argument: beyond})
    assert err.value.name == argument
    assert "expected" in str(err.value)  # the message names the valid values
    assert stubbed.stubbers == {}  # no client was even made


@pytest.mark.parametrize(("argument", "api", "at_limit", "beyond"), BOUNDS)
def test_mapping_setting_at_its_limit_is_sent(stubbed, argument, api, at_limit, beyond):
    if argument == "starting_position":
        lam = _expect_create(stubbed, {}, _mapping_response(StartingPosition=at_limit), at_limit)
    elif argument == "enabled":
        lam = _expect_create(stubbed, {api: at_limit}, _mapping_response(State="Disabled"))
    else:
        lam = _expect_create(stubbed, {api: at_limit}, _mapping_response(**{api: at_limit}))
    trigger = triggers.create_trigger(stubbed, "fn", STREAM_ARN, wait=False, **{argument: at_limit})
    assert trigger.action == "created"
    if argument != "enabled":
        assert trigger.settings()[argument] == at_limit
    lam.assert_no_pending_responses()


def test_every_other_setting_is_sent_under_its_api_name(stubbed):
    params = {
        "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]},
    }
    _expect_create(stubbed, params, _mapping_response(**params))
    trigger = triggers.create_trigger(
        stubbed,
        "fn",
        STREAM_ARN,
        on_failure_destination_arn=QUEUE_ARN,
        report_batch_item_failures=True,
        filter_patterns=[{"eventName": ["INSERT"]}],
        wait=False,
    )
    assert trigger.on_failure_destination_arn == QUEUE_ARN
    assert trigger.report_batch_item_failures is True
    assert trigger.filter_patterns == ('{"eventName":["INSERT"]}',)


@pytest.mark.parametrize(
    ("patterns", "name", "rule"),
    [
        (["single-string"], "filter_patterns[0]", "JSON object"),
        (['{"eventName": ["INSERT"]'], "filter_patterns[0]", "JSON object"),
        (["[1, 2]"], "filter_patterns[0]", "JSON object"),
        ([{"eventName": "INSERT"}], "filter_patterns[0]", "every value is an object or a list"),
        ([{}], "filter_patterns[0]", "JSON object"),
        ([{"a": ["x"]}, 3], "filter_patterns[1]", "JSON object"),
        ([{"a": ["x" * 4096]}], "filter_patterns[0]", "4096 characters"),
        ([{"eventName": ["INSERT"]}] * (ESM_MAX_FILTERS + 1), "filter_patterns", "at most 5"),
        ('{"eventName": ["INSERT"]}', "filter_patterns", "a list"),
    ],
)
def test_filter_patterns_are_validated(stubbed, patterns, name, rule):
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN, filter_patterns=patterns)
    assert err.value.name == name and rule in str(err.value)


def test_five_filter_patterns_are_accepted_and_strings_kept(stubbed):
    patterns = ['{"eventName": ["INSERT"]}'] + [
        {"dynamodb": {"Keys": {"k": {"S": [str(i)]}}}} for i in range(4)
    ]
    stored = [patterns[0]] + [json.dumps(p, separators=(",", ":")) for p in patterns[1:]]
    params = {"FilterCriteria": {"Filters": [{"Pattern": p} for p in stored]}}
    _expect_create(stubbed, params, _mapping_response(**params))
    trigger = triggers.create_trigger(
        stubbed, "fn", STREAM_ARN, filter_patterns=patterns, wait=False
    )
    assert trigger.filter_patterns == tuple(stored)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"stream_arn": TABLE_ARN}, "stream_arn"),
        ({"stream_arn": "Users"}, "stream_arn"),
        ({"stream_arn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"}, "stream_arn"),
        ({"function_name": "no such"}, "function_name"),
        ({"on_failure_destination_arn": "queue"}, "on_failure_destination_arn"),
        (
            {"on_failure_destination_arn": f"arn:aws:kafka:us-east-1:{ACCOUNT}:x"},
            "on_failure_destination_arn",
        ),
        ({"report_batch_item_failures": "yes"}, "report_batch_item_failures"),
        ({"batch_size": 10.0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"wait": 1}, "wait"),
    ],
)
def test_other_mapping_arguments_are_validated(stubbed, kwargs, name):
    args = {"function_name": "fn", "stream_arn": STREAM_ARN, **kwargs}
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_trigger(stubbed, args.pop("function_name"), args.pop("stream_arn"), **args)
    assert err.value.name == name
    assert stubbed.stubbers == {}


def test_trigger_from_an_aws_response():
    trigger = triggers.Trigger.from_response(_mapping_response(State="Enabled"))
    assert trigger.function_name == "fn" and trigger.enabled is True
    assert trigger.settings() == {
        "starting_position": "LATEST",
        "batch_size": 100,
        "maximum_batching_window_s": 0,
        "parallelization_factor": 1,
        "maximum_retry_attempts": -1,
        "maximum_record_age_s": -1,
        "bisect_batch_on_function_error": False,
        "on_failure_destination_arn": None,
        "report_batch_item_failures": False,
        "filter_patterns": (),
        "tumbling_window_s": 0,
        "enabled": True,
    }
    assert triggers.Trigger.from_response(_mapping_response(State="Creating")).enabled is None
    assert trigger.to_series()["state"] == "Enabled"


# -- event source mappings: waiting (Stubber) ------------------------------------------------------------


def test_create_waits_while_the_mapping_is_creating(stubbed):
    lam = _expect_create(stubbed, {}, _mapping_response())
    uuid = _mapping_response()["UUID"]
    lam.add_response("get_event_source_mapping", _mapping_response(), {"UUID": uuid})
    lam.add_response("get_event_source_mapping", _mapping_response(State="Enabled"), {"UUID": uuid})
    trigger = triggers.create_trigger(stubbed, "fn", STREAM_ARN)
    assert (trigger.state, trigger.action) == ("Enabled", "created")
    # one poll pause while Creating, then (LATEST, on AWS) the wait for Lambda's first poll
    assert stubbed.slept[0] == 2.0
    assert sum(stubbed.slept[1:]) == ESM_LATEST_FIRST_POLL_WAIT_S
    lam.assert_no_pending_responses()


def test_create_disabled_waits_for_disabled(stubbed):
    lam = _expect_create(stubbed, {"Enabled": False}, _mapping_response())
    uuid = _mapping_response()["UUID"]
    lam.add_response(
        "get_event_source_mapping", _mapping_response(State="Disabled"), {"UUID": uuid}
    )
    assert triggers.create_trigger(stubbed, "fn", STREAM_ARN, enabled=False).state == "Disabled"


def test_waiting_times_out_naming_state_and_reason(stubbed):
    lam = _expect_create(stubbed, {}, _mapping_response())
    for _ in range(10):
        lam.add_response("get_event_source_mapping", _mapping_response(), {"UUID": ANY})
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN, timeout_s=5)
    assert isinstance(err.value, TimeoutError)
    assert "'Creating'" in str(err.value) and "User action" in str(err.value)
    assert "after 5 s" in str(err.value)
    assert sum(stubbed.slept) == pytest.approx(5.0)


def test_waiting_stops_at_a_problem(stubbed):
    lam = _expect_create(stubbed, {}, _mapping_response())
    problem = "PROBLEM: Function call failed"
    lam.add_response(
        "get_event_source_mapping",
        _mapping_response(State="Disabled", StateTransitionReason=problem),
        {"UUID": ANY},
    )
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN)
    assert problem in str(err.value) and "enable_trigger" in str(err.value)


def test_aws_conflict_is_judged_like_a_listed_duplicate(stubbed):
    uuid = "a1b2c3d4-0000-4000-8000-000000000002"
    lam = stubbed.stub("lambda")
    conflict = client_error(
        "ResourceConflictException",
        f'The event source arn (" {STREAM_ARN} ") and function (" fn ") provided mapping already '
        f"exists. Please update or delete the existing mapping with UUID {uuid}",
        409,
    )
    for batch_size in (100, 10):
        lam.add_response("list_event_source_mappings", {"EventSourceMappings": []}, None)
        lam.add_client_error("create_event_source_mapping", **conflict)
        lam.add_response(
            "get_event_source_mapping",
            _mapping_response(UUID=uuid, State="Enabled"),
            {"UUID": uuid},
        )
        if batch_size == 100:
            same = triggers.create_trigger(stubbed, "fn", STREAM_ARN)
            assert (same.uuid, same.action) == (uuid, "unchanged")
        else:
            with pytest.raises(StreamkitError) as err:
                triggers.create_trigger(stubbed, "fn", STREAM_ARN, batch_size=10)
            assert "update_trigger" in str(err.value) and uuid in str(err.value)
    assert stubbed.slept == []  # an existing Enabled mapping: no first-poll wait
    lam.assert_no_pending_responses()


def test_delete_waits_until_the_mapping_is_gone(stubbed):
    uuid = _mapping_response()["UUID"]
    lam = stubbed.stub("lambda")
    lam.add_client_error(
        "delete_event_source_mapping", **client_error("ResourceInUseException", "busy")
    )
    lam.add_response(
        "delete_event_source_mapping", _mapping_response(State="Deleting"), {"UUID": uuid}
    )
    lam.add_response(
        "get_event_source_mapping", _mapping_response(State="Deleting"), {"UUID": uuid}
    )
    lam.add_client_error(
        "get_event_source_mapping", **client_error("ResourceNotFoundException", "gone", 404)
    )
    assert triggers.delete_trigger(stubbed, uuid) is True
    assert len(stubbed.slept) == 2
    lam.assert_no_pending_responses()


# -- event source mappings on the embedded backend ---------------------------------------------------


def test_create_describe_list_a_trigger(module_kit, function, stream):
    trigger = triggers.create_trigger(module_kit, function.name, stream, batch_size=10)
    assert trigger.action == "created" and trigger.state == "Enabled"
    assert (trigger.function_arn, trigger.event_source_arn) == (function.arn, stream)
    assert (trigger.batch_size, trigger.starting_position) == (10, "LATEST")
    lam = module_kit.client("lambda")
    arn = lam.get_event_source_mapping(UUID=trigger.uuid)["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {RUN_TAG: module_kit.run_id}
    # teardown finds it (through its function) as this run's
    planned = triggers.teardown(module_kit, dry_run=True).set_index("name")
    assert tuple(planned.loc[trigger.uuid, ["kind", "run", "action"]]) == (
        "event-source-mapping",
        module_kit.run_id,
        "would delete",
    )
    described = triggers.describe_trigger(module_kit, trigger.uuid)
    assert described == trigger  # same fields; `action` is not compared
    assert described.action is None
    assert [t.uuid for t in triggers.list_triggers(module_kit, stream_arn=stream)] == [trigger.uuid]
    assert trigger.uuid in {t.uuid for t in triggers.list_triggers(module_kit, function.name)}
    assert triggers.delete_trigger(module_kit, trigger.uuid) is True


def test_mapping_responses_echo_aws_defaults(module_kit, function, stream):
    trigger = triggers.create_trigger(module_kit, function.name, stream, wait=False)
    try:
        raw = module_kit.client("lambda").get_event_source_mapping(UUID=trigger.uuid)
        for key, value in {
            **AWS_MAPPING_DEFAULTS,
            "StateTransitionReason": "User action",
        }.items():
            assert raw.get(key) == value, key
    finally:
        triggers.delete_trigger(module_kit, trigger.uuid)


def test_same_trigger_twice_is_not_duplicated(module_kit, function, stream):
    settings = {"batch_size": 50, "maximum_batching_window_s": 1}
    calls = module_kit.api_calls["lambda:CreateEventSourceMapping"]
    first = triggers.create_trigger(module_kit, function.name, stream, **settings)
    again = triggers.create_trigger(module_kit, function.name, stream, **settings)
    assert (again.uuid, again.action) == (first.uuid, "unchanged")
    assert [t.uuid for t in triggers.list_triggers(module_kit, function.name, stream)] == [
        first.uuid
    ]
    assert module_kit.api_calls["lambda:CreateEventSourceMapping"] == calls + 1


def test_equal_filter_patterns_written_differently_are_the_same(stubbed):
    listed = _mapping_response(
        State="Enabled",
        FilterCriteria={"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]},
    )
    stubbed.stub("lambda").add_response(
        "list_event_source_mappings", {"EventSourceMappings": [listed]}, None
    )
    same = triggers.create_trigger(
        stubbed, "fn", STREAM_ARN, filter_patterns=['{ "eventName" : [ "INSERT" ] }']
    )
    assert (same.uuid, same.action) == (listed["UUID"], "unchanged")
    stubbed.stub("lambda").add_response(
        "list_event_source_mappings", {"EventSourceMappings": [listed]}, None
    )
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(
            stubbed, "fn", STREAM_ARN, filter_patterns=[{"eventName": ["MODIFY"]}]
        )
    assert set(err.value.differences) == {"filter_patterns"}


def test_same_pair_with_other_settings_points_at_update_trigger(module_kit, function, stream):
    first = triggers.create_trigger(module_kit, function.name, stream)
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(module_kit, function.name, stream, batch_size=10, enabled=False)
    assert err.value.uuid == first.uuid
    assert set(err.value.differences) == {"batch_size", "enabled"}
    assert f"update_trigger(backend, {first.uuid!r}" in str(err.value)
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(module_kit, function.name, stream, starting_position="TRIM_HORIZON")
    assert "delete_trigger" in str(err.value)
    assert len(triggers.list_triggers(module_kit, stream_arn=stream)) == 1


def test_update_disable_enable_delete_round_trip(module_kit, function, stream):
    trigger = triggers.create_trigger(
        module_kit, function.name, stream, starting_position="TRIM_HORIZON"
    )
    updated = triggers.update_trigger(
        module_kit, trigger.uuid, batch_size=25, maximum_batching_window_s=2
    )
    assert updated.action == "updated" and updated.state == "Enabled"
    now = triggers.describe_trigger(module_kit, trigger.uuid)
    assert (now.batch_size, now.maximum_batching_window_s) == (25, 2)
    assert now.starting_position == "TRIM_HORIZON"  # kept: it cannot be changed

    assert triggers.disable_trigger(module_kit, trigger.uuid).state == "Disabled"
    assert triggers.describe_trigger(module_kit, trigger.uuid).enabled is False
    assert triggers.enable_trigger(module_kit, trigger.uuid).state == "Enabled"

    assert triggers.delete_trigger(module_kit, trigger.uuid) is True
    with pytest.raises(LookupError):
        triggers.describe_trigger(module_kit, trigger.uuid)
    assert triggers.delete_trigger(module_kit, trigger.uuid) is False
    assert triggers.list_triggers(module_kit, stream_arn=stream) == []


def test_update_and_remove_failure_handling_settings(module_kit, function, stream):
    queue_arn = triggers.create_failure_destination(module_kit, "sqs", unique("failures-")).arn
    trigger = triggers.create_trigger(module_kit, function.name, stream)
    try:
        triggers.update_trigger(
            module_kit,
            trigger.uuid,
            maximum_retry_attempts=2,
            maximum_record_age_s=3600,
            bisect_batch_on_function_error=True,
            on_failure_destination_arn=queue_arn,
            report_batch_item_failures=True,
            filter_patterns=[{"eventName": ["INSERT", "MODIFY"]}],
        )
        now = triggers.describe_trigger(module_kit, trigger.uuid)
        assert (now.maximum_retry_attempts, now.maximum_record_age_s) == (2, 3600)
        assert now.bisect_batch_on_function_error and now.report_batch_item_failures
        assert now.on_failure_destination_arn == queue_arn
        assert [json.loads(p) for p in now.filter_patterns] == [{"eventName": ["INSERT", "MODIFY"]}]

        removed = triggers.update_trigger(
            module_kit, trigger.uuid, on_failure_destination_arn="", filter_patterns=[]
        )
        assert removed.on_failure_destination_arn is None and removed.filter_patterns == ()
    finally:
        triggers.delete_trigger(module_kit, trigger.uuid)


def test_update_waits_while_the_mapping_is_busy(stubbed):
    uuid = _mapping_response()["UUID"]
    lam = stubbed.stub("lambda")
    lam.add_client_error(
        "update_event_source_mapping",
        **client_error("ResourceInUseException", "Cannot update: state Creating", 409),
    )
    lam.add_response(
        "update_event_source_mapping",
        _mapping_response(State="Updating", BatchSize=5),
        {"UUID": uuid, "BatchSize": 5},
    )
    lam.add_response(
        "get_event_source_mapping", _mapping_response(State="Enabled", BatchSize=5), {"UUID": uuid}
    )
    updated = triggers.update_trigger(stubbed, uuid, batch_size=5)
    assert (updated.state, updated.batch_size, updated.action) == ("Enabled", 5, "updated")
    assert len(stubbed.slept) == 1
    lam.assert_no_pending_responses()


def test_removing_destination_and_filters_sends_empty_objects(stubbed):
    uuid = _mapping_response()["UUID"]
    lam = stubbed.stub("lambda")
    lam.add_response(
        "update_event_source_mapping",
        _mapping_response(State="Enabled"),
        {"UUID": uuid, "DestinationConfig": {"OnFailure": {}}, "FilterCriteria": {}},
    )
    removed = triggers.update_trigger(
        stubbed, uuid, on_failure_destination_arn="", filter_patterns=[]
    )
    assert removed.on_failure_destination_arn is None and removed.filter_patterns == ()
    lam.assert_no_pending_responses()


def test_update_needs_a_valid_setting(stubbed):
    with pytest.raises(InvalidParameterError) as err:
        triggers.update_trigger(stubbed, "some-uuid")
    assert "at least one setting" in str(err.value)
    with pytest.raises(InvalidParameterError) as err:
        triggers.update_trigger(stubbed, "some-uuid", batch_size=0)
    assert err.value.name == "batch_size"
    with pytest.raises(InvalidParameterError) as err:
        triggers.update_trigger(stubbed, "some-uuid", on_failure_destination_arn="nope")
    assert err.value.name == "on_failure_destination_arn"
    assert stubbed.stubbers == {}


def test_unknown_trigger_function_and_stream(module_kit, function, stream):
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(triggers.TriggerNotFoundError) as err:
        triggers.update_trigger(module_kit, missing, batch_size=5)
    assert "list_triggers" in str(err.value)
    with pytest.raises(triggers.TriggerNotFoundError):
        triggers.describe_trigger(module_kit, missing)
    assert triggers.delete_trigger(module_kit, missing) is False
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(module_kit, unique("nofn-"), stream)
    assert "deploy_function" in str(err.value)


def test_a_stream_that_does_not_exist(module_kit, function):
    missing = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/nope/stream/2020-01-01T00:00:00.000"
    with pytest.raises(StreamNotFoundError):
        triggers.create_trigger(module_kit, function.name, missing)


# -- teardown ------------------------------------------------------------------------------------------


def test_teardown_deletes_exactly_what_the_kit_created(kit, aws):
    ddb, iam, lam, logs = (kit.client(s) for s in ("dynamodb", "iam", "lambda", "logs"))
    table = streams.create_users_table(kit, "Users").rsplit("/", 1)[-1]
    assert table == f"{kit.prefix}Users"
    stream = streams.enable_stream(kit, table, "NEW_IMAGE").stream_arn
    role = triggers.create_execution_role(kit, "fn", stream)
    function = triggers.deploy_function(kit, "fn", FUNCTIONS / "log_event", role_arn=role.arn)
    trigger = triggers.create_trigger(kit, "fn", stream)
    queue = triggers.create_failure_destination(kit, "sqs", "tq")
    topic = triggers.create_failure_destination(kit, "sns", "tt")
    bucket = triggers.create_failure_destination(kit, "s3", "tb")
    kit.client("s3").put_object(Bucket=bucket.name, Key="failure.json", Body=b"{}")  # emptied first

    # With the kit's prefix but made with boto3 directly (no tag): teardown must leave them alone.
    foreign_table = f"{kit.prefix}Foreign"
    ddb.create_table(
        TableName=foreign_table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    foreign_role = f"{kit.prefix}foreign-role"
    iam.create_role(
        RoleName=foreign_role, AssumeRolePolicyDocument=json.dumps(triggers.lambda_trust_policy())
    )
    # Made by streamkit, in another run (same prefix): kept unless all_runs=True.
    other = LocalView(aws, kit.prefix, run_id="another-run")
    other_queue = triggers.create_failure_destination(other, "sqs", "other")

    planned = triggers.teardown(kit, dry_run=True)
    lam.get_function(FunctionName=function.name)  # a dry run deletes nothing
    done = triggers.teardown(kit)
    # Kinds come in dependency order (within a kind, in the order the service lists them).
    assert_in_dependency_order(done)
    assert sorted(done.values.tolist()) == sorted(
        [
            ["event-source-mapping", trigger.uuid, kit.run_id, "deleted"],
            ["function", function.name, kit.run_id, "deleted"],
            ["log-group", f"/aws/lambda/{function.name}", kit.run_id, "deleted"],
            ["role", foreign_role, "", "kept: not created by streamkit"],
            ["role", role.name, kit.run_id, "deleted"],
            ["queue", other_queue.name, "another-run", "kept: another run"],
            ["queue", queue.name, kit.run_id, "deleted"],
            ["topic", topic.name, kit.run_id, "deleted"],
            ["bucket", bucket.name, kit.run_id, "deleted"],
            ["table", foreign_table, "", "kept: not created by streamkit"],
            ["table", table, kit.run_id, "deleted"],
        ]
    )
    assert planned[["kind", "name", "run"]].equals(done[["kind", "name", "run"]])
    assert list(planned["action"]) == [
        "would delete" if a == "deleted" else a for a in done["action"]
    ]
    for call in (
        lambda: lam.get_function(FunctionName=function.name),
        lambda: iam.get_role(RoleName=role.name),
        lambda: ddb.describe_table(TableName=table),
        lambda: lam.get_event_source_mapping(UUID=trigger.uuid),
        lambda: kit.client("sqs").get_queue_url(QueueName=queue.name),
        lambda: kit.client("s3").head_bucket(Bucket=bucket.name),
    ):
        with pytest.raises(ClientError):
            call()
    assert (
        logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{kit.prefix}")["logGroups"] == []
    )
    ddb.describe_table(TableName=foreign_table)  # still there
    iam.get_role(RoleName=foreign_role)
    assert set(triggers.teardown(kit)["action"]) == {
        "kept: not created by streamkit",
        "kept: another run",
    }
    assert sorted(triggers.teardown(other).values.tolist()) == [
        ["queue", other_queue.name, "another-run", "deleted"],
        ["role", foreign_role, "", "kept: not created by streamkit"],
        ["table", foreign_table, "", "kept: not created by streamkit"],
    ]
    ddb.delete_table(TableName=foreign_table)
    iam.delete_role(RoleName=foreign_role)
    assert triggers.teardown(kit).empty


def test_teardown_tolerates_what_is_already_gone(kit, tmp_path, monkeypatch):
    role = triggers.create_execution_role(kit, "gone", TABLE_ARN)
    function = triggers.deploy_function(kit, "gone", _source(tmp_path), role_arn=role.arn)
    kit.client("lambda").delete_function(FunctionName=function.name)  # by hand, before teardown
    queue = triggers.create_failure_destination(kit, "sqs", "gone")
    discover = triggers._discover

    def discover_then_lose_the_queue(backend):
        found = discover(backend)
        kit.client("sqs").delete_queue(QueueUrl=queue.url)  # e.g. another teardown meanwhile
        return found

    monkeypatch.setattr(triggers, "_discover", discover_then_lose_the_queue)
    done = triggers.teardown(kit)
    assert done.values.tolist() == [
        # the function is not listed any more; its log group and role are still found
        ["log-group", f"/aws/lambda/{function.name}", kit.run_id, "deleted"],
        ["role", role.name, kit.run_id, "deleted"],
        ["queue", queue.name, kit.run_id, "already gone"],
    ]
    monkeypatch.undo()
    assert triggers.teardown(kit).empty


def test_teardown_finds_a_trigger_whose_function_was_deleted_by_hand(kit, tmp_path):
    """AWS keeps a mapping when its function is deleted: teardown still finds it by its own tag,
    and leaves a look-alike mapping without the tag alone."""
    table_arn = streams.create_users_table(kit, "Orphans")
    stream = streams.enable_stream(kit, "Orphans", "NEW_IMAGE").stream_arn
    role = triggers.create_execution_role(kit, "orphan", table_arn)
    function = triggers.deploy_function(kit, "orphan", _source(tmp_path), role_arn=role.arn)
    trigger = triggers.create_trigger(kit, "orphan", stream)
    lam = kit.client("lambda")
    streams.create_users_table(kit, "OrphansToo")
    untagged = lam.create_event_source_mapping(  # on the kit's function, but without the tag
        FunctionName=function.name,
        EventSourceArn=streams.enable_stream(kit, "OrphansToo", "NEW_IMAGE").stream_arn,
        StartingPosition="LATEST",
    )["UUID"]
    lam.delete_function(FunctionName=function.name)  # by hand: both mappings stay
    done = triggers.teardown(kit)
    rows = {(kind, name): action for kind, name, _, action in done.values.tolist()}
    assert rows[("event-source-mapping", trigger.uuid)] == "deleted"
    assert rows[("event-source-mapping", untagged)] == "kept: not created by streamkit"
    with pytest.raises(ClientError):
        lam.get_event_source_mapping(UUID=trigger.uuid)
    assert lam.get_event_source_mapping(UUID=untagged)["UUID"] == untagged
    lam.delete_event_source_mapping(UUID=untagged)


def test_teardown_leaves_out_what_vanishes_while_it_lists(kit, monkeypatch):
    """Listings on AWS are eventually consistent, and two teardowns can overlap: a resource gone
    before its tags are read is left out, not a traceback."""
    vanishing = triggers.create_failure_destination(kit, "sqs", "vanishing")
    staying = triggers.create_failure_destination(kit, "sqs", "staying")
    sqs = kit.client("sqs")
    read_tags = sqs.list_queue_tags

    def list_queue_tags(QueueUrl):  # noqa: N803 (boto3's parameter name)
        if QueueUrl == vanishing.url:
            sqs.delete_queue(QueueUrl=QueueUrl)  # someone else got there first
        return read_tags(QueueUrl=QueueUrl)

    monkeypatch.setattr(sqs, "list_queue_tags", list_queue_tags)
    assert triggers.teardown(kit).values.tolist() == [
        ["queue", staying.name, kit.run_id, "deleted"]
    ]


def test_teardown_tries_everything_then_reports_what_failed(kit, monkeypatch):
    role = triggers.create_execution_role(kit, "stuck", TABLE_ARN)
    queue = triggers.create_failure_destination(kit, "sqs", "after-the-role")

    def refuse(backend, name):
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not allowed: iam:DeleteRole"}},
            "DeleteRole",
        )

    monkeypatch.setattr(triggers, "_delete_role_and_policies", refuse)
    with pytest.raises(StreamkitError) as err:
        triggers.teardown(kit)
    assert role.name in str(err.value) and "error.report" in str(err.value)
    assert err.value.report.values.tolist() == [
        ["role", role.name, kit.run_id, "failed: AccessDenied: not allowed: iam:DeleteRole"],
        ["queue", queue.name, kit.run_id, "deleted"],  # tried after the failure all the same
    ]
    monkeypatch.undo()
    assert triggers.teardown(kit).values.tolist() == [["role", role.name, kit.run_id, "deleted"]]


def test_teardown_keeps_a_function_whose_trigger_could_not_be_deleted(kit, monkeypatch):
    table_arn = streams.create_users_table(kit, "Users")
    stream = streams.enable_stream(kit, "Users", "NEW_IMAGE").stream_arn
    role = triggers.create_execution_role(kit, "fn", table_arn)
    function = triggers.deploy_function(kit, "fn", FUNCTIONS / "log_event", role_arn=role.arn)
    trigger = triggers.create_trigger(kit, "fn", stream)

    def still_deleting(backend, uuid, **_):  # AWS took longer than the wait allows
        raise triggers.TriggerTimeoutError(uuid, "its deletion", "Deleting", "User action", 120)

    monkeypatch.setattr(triggers, "delete_trigger", still_deleting)
    with pytest.raises(StreamkitError) as err:
        triggers.teardown(kit)
    report = err.value.report.set_index("name")["action"]
    assert report[trigger.uuid].startswith("failed: TriggerTimeoutError: Trigger ")
    assert "'Deleting'" in report[trigger.uuid]
    # Deleting the function would hide the mapping from the next teardown: it is kept.
    assert report[function.name] == "failed: its trigger could not be deleted"
    assert report[role.name] == "deleted"  # the rest is tried all the same
    assert report[f"{kit.prefix}Users"] == "deleted"
    kit.client("lambda").get_function(FunctionName=function.name)

    monkeypatch.undo()
    again = triggers.teardown(kit)  # found again through its function, and deleted
    assert again[["kind", "name", "action"]].values.tolist() == [
        ["event-source-mapping", trigger.uuid, "deleted"],
        ["function", function.name, "deleted"],
    ]


def test_teardown_arguments_are_validated(kit):
    with pytest.raises(InvalidParameterError):
        triggers.teardown(kit, dry_run="yes")
    with pytest.raises(InvalidParameterError):
        triggers.teardown(kit, all_runs=1)


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
    for key, value in {
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": aws.region,
        "AWS_REGION": aws.region,
    }.items():
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


def test_a_write_reaches_the_function_end_to_end(aws, module_kit, function, make_table):
    table = make_table("NEW_IMAGE")
    stream = stream_arn_of(aws.client("dynamodb"), table)
    trigger = triggers.create_trigger(
        module_kit, function.name, stream, starting_position="TRIM_HORIZON"
    )
    try:
        aws.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "user_1"}})
        aws.settle(timeout=20)
        logs = aws.client("logs")
        group = f"/aws/lambda/{function.name}"
        messages = [
            event["message"]
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group)
            for event in page["events"]
            if event["message"].startswith("EVENT ")
        ]
        events = [json.loads(m[len("EVENT ") :]) for m in messages]
        records = [r for e in events for r in e["Records"] if r["eventSourceARN"] == stream]
        assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": {"S": "user_1"}}]
    finally:
        triggers.delete_trigger(module_kit, trigger.uuid)


def test_failure_records_are_read_once_and_waited_for(kit):
    queue = triggers.create_failure_destination(kit, "sqs", "records")
    sqs = kit.client("sqs")
    for n in (1, 2):
        sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps({"n": n}))
    assert sorted(r["n"] for r in triggers.read_failure_records(kit, queue.url, expect=2)) == [1, 2]
    # deleted as read: an unread message would come back after its visibility timeout
    assert sqs.receive_message(QueueUrl=queue.url, VisibilityTimeout=0).get("Messages") is None
    with pytest.raises(StreamkitError) as err:
        triggers.read_failure_records(kit, queue.url, timeout_s=0.2)
    assert "0 failure record(s) arrived" in str(err.value) and "not the 1 expected" in str(
        err.value
    )


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"queue_url": "arn:aws:sqs:us-east-1:123456789012:q"}, "queue URL"),
        ({"expect": 0}, ">= 1"),
        ({"timeout_s": -1}, "seconds > 0"),
    ],
)
def test_failure_records_bad_input(kit, kwargs, says):
    args = {"queue_url": "http://127.0.0.1:1/123456789012/q"} | kwargs
    with pytest.raises(InvalidParameterError) as err:
        triggers.read_failure_records(kit, **args)
    assert says in str(err.value)
