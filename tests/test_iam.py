"""Execution roles: the least-privilege policy (no AWS call), and the role created, kept and brought
back to exactly that policy; what the kit owns is told by its ``streamkit-run`` tag."""

from __future__ import annotations

import json

import pytest
from helpers import STUB_PREFIX, unique

from streamkit.backends import RUN_TAG
from streamkit.errors import InvalidParameterError
from streamkit.iam import create_execution_role, execution_role_policy

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users"
STREAM_ARN = TABLE_ARN + "/stream/2026-11-27T10:00:00.000"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:failures"
BUCKET_ARN = "arn:aws:s3:::streamkit-failures"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fn-role"
#: The function "fn" as AWS gets it from the stubbed backend: with the prefix.
FN = STUB_PREFIX + "fn"


# -- the execution role ------------------------------------------------------------------------------


def test_policy_allows_exactly_the_needed_actions_on_exact_resources():
    policy = execution_role_policy("fn", STREAM_ARN)
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
    assert execution_role_policy("fn", TABLE_ARN) == policy  # table or stream ARN


@pytest.mark.parametrize(
    ("destination", "actions", "resource"),
    [
        (QUEUE_ARN, ["sqs:SendMessage"], QUEUE_ARN),
        (TOPIC_ARN, ["sns:Publish"], TOPIC_ARN),
        (BUCKET_ARN, ["s3:PutObject", "s3:ListBucket"], [BUCKET_ARN, BUCKET_ARN + "/*"]),
    ],
)
def test_policy_grants_the_destination_only_when_given(destination, actions, resource):
    policy = execution_role_policy("fn", TABLE_ARN, on_failure_destination_arn=destination)
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
        execution_role_policy(args.pop("function_name"), args.pop("table_arn"), **args)
    assert err.value.name == name


def test_policy_appends_extra_statements_as_given():
    ses = {
        "Sid": "SendWelcomeEmails",
        "Effect": "Allow",
        "Action": ["ses:SendEmail"],
        "Resource": f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/*",
    }
    policy = execution_role_policy("fn", TABLE_ARN, extra_statements=[ses])
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
        execution_role_policy("fn", TABLE_ARN, extra_statements=bad)
    assert err.value.name == "extra_statements"


def _inline(iam, role):
    return iam.list_role_policies(RoleName=role)["PolicyNames"]


def _role_tags(iam, role):
    return {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}


def test_create_execution_role_is_idempotent_and_resets_drift(kit):
    iam = kit.client("iam")
    name = unique("fn-")
    first = create_execution_role(kit, name, STREAM_ARN)
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
    assert stored["PolicyDocument"] == execution_role_policy(kit.name(name), STREAM_ARN)

    again = create_execution_role(kit, name, STREAM_ARN)
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
    with_queue = create_execution_role(kit, name, STREAM_ARN, on_failure_destination_arn=QUEUE_ARN)
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
        create_execution_role(stubbed, "f" * 50, TABLE_ARN)
    assert err.value.name == "role_name" and "role_name=" in str(err.value)
    # the function name itself is too long once the prefix is added (10 + 55 > 64)
    with pytest.raises(InvalidParameterError) as err:
        create_execution_role(stubbed, "f" * 55, TABLE_ARN)
    assert err.value.name == "function_name"
    with pytest.raises(InvalidParameterError):
        create_execution_role(stubbed, "fn", TABLE_ARN, role_name="a b")
