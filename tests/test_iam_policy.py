"""docs/iam/streamkit-user-policy.json covers every AWS call the walkthrough makes (issue 6).

Each kit resource has the name prefix ``streamkit-``, so the policy is scoped to it wherever AWS
allows resource-level permissions. The coverage test takes every ``service:Operation`` the notebooks
called (``Backend.api_calls``) when run top to bottom against the embedded backend, maps each to
the IAM actions it needs and checks that the policy allows them. Under ``make test`` the calls are
those of the nbval run (each notebook's kernel reports them after its last cell: ``conftest.py``);
run without the notebooks, the test runs them itself, against the embedded backend reached through
its URL (as it would reach real AWS).

Actions, resource types and condition keys: the Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
(list_amazondynamodb, list_awslambda, list_awsidentityandaccessmanagementiam,
list_amazoncloudwatchlogs, list_amazonsqs, list_amazonsns, list_amazons3).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers import inventory

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "docs" / "iam" / "streamkit-user-policy.json"
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
PREFIX = "streamkit-"
MARKER = "STREAMKIT-API-CALLS "

# -- boto3 call -> IAM actions ------------------------------------------------------------------------

#: The IAM service prefix of each boto3 service the kit uses (the Streams API is dynamodb:).
SERVICE_PREFIX = {
    "dynamodb": "dynamodb",
    "dynamodbstreams": "dynamodb",
    "iam": "iam",
    "lambda": "lambda",
    "logs": "logs",
    "s3": "s3",
    "ses": "ses",
    "sns": "sns",
    "sqs": "sqs",
    "sts": "sts",
}


def _same_name(*calls: str) -> dict[str, tuple[str, ...]]:
    """Calls whose one IAM action is ``<service prefix>:<Operation>``."""
    return {call: (f"{SERVICE_PREFIX[call.split(':')[0]]}:{call.split(':')[1]}",) for call in calls}


#: Every ``service:Operation`` the kit and the notebooks make, with the IAM actions it needs.
#: A call missing here fails the coverage test: add it (and the permission to the policy).
IAM_ACTIONS: dict[str, tuple[str, ...]] = {
    **_same_name(
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:DeleteTable",
        "dynamodb:DescribeTable",
        "dynamodb:ListTables",
        "dynamodb:ListTagsOfResource",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:UpdateTable",
        "dynamodb:UpdateTimeToLive",
        "dynamodbstreams:DescribeStream",
        "dynamodbstreams:GetRecords",
        "dynamodbstreams:GetShardIterator",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:ListRoleTags",
        "iam:ListRoles",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "lambda:DeleteEventSourceMapping",
        "lambda:DeleteFunction",
        "lambda:GetEventSourceMapping",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:ListEventSourceMappings",
        "lambda:ListFunctions",
        "lambda:ListTags",
        "lambda:UpdateEventSourceMapping",
        "lambda:UpdateFunctionCode",
        "logs:DeleteLogGroup",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:FilterLogEvents",
        "logs:ListTagsForResource",
        "s3:DeleteBucket",
        "s3:GetBucketTagging",
        "s3:PutBucketTagging",
        "sns:DeleteTopic",
        "sns:ListTagsForResource",
        "sns:ListTopics",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueueTags",
        "sqs:ListQueues",
        "sqs:DeleteMessage",
        "sqs:ReceiveMessage",
    ),
    # Tag on create: creating with Tags also needs the service's tagging action.
    "dynamodb:CreateTable": ("dynamodb:CreateTable", "dynamodb:TagResource"),
    "iam:CreateRole": ("iam:CreateRole", "iam:TagRole"),
    "lambda:CreateEventSourceMapping": ("lambda:CreateEventSourceMapping", "lambda:TagResource"),
    # logs:TagResource is what AWS documents now; TagLogGroup is the deprecated action it replaces.
    "logs:CreateLogGroup": ("logs:CreateLogGroup", "logs:TagResource", "logs:TagLogGroup"),
    "sns:CreateTopic": ("sns:CreateTopic", "sns:TagResource"),
    "sqs:CreateQueue": ("sqs:CreateQueue", "sqs:TagQueue"),
    # Giving a function its execution role is passing the role to Lambda.
    "lambda:CreateFunction": ("lambda:CreateFunction", "lambda:TagResource", "iam:PassRole"),
    "lambda:UpdateFunctionConfiguration": ("lambda:UpdateFunctionConfiguration", "iam:PassRole"),
    # S3 operations whose IAM action has another name.
    "s3:CreateBucket": ("s3:CreateBucket",),
    "s3:DeleteObjects": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "s3:HeadBucket": ("s3:ListBucket",),
    "s3:ListBuckets": ("s3:ListAllMyBuckets",),
    "s3:ListObjectVersions": ("s3:ListBucketVersions",),
    # "No permissions are required to perform this operation" (STS API reference).
    "sts:GetCallerIdentity": (),
}

#: Calls the notebooks make on the embedded backend and other emulators but never on real AWS, so
#: the policy leaves them out: SES sends only between verified addresses in its sandbox, so the
#: e-mail steps run only when ``SENDS_EMAIL = aws.kind != "aws"``.
NOT_ON_AWS = frozenset({"ses:VerifyEmailIdentity"})

#: Actions AWS authorizes only on ``"Resource": "*"`` (no resource type in the Service
#: Authorization Reference); CreateEventSourceMapping is scoped by its lambda:FunctionArn condition.
ONLY_ON_ALL_RESOURCES = frozenset(
    {
        "dynamodb:ListStreams",
        "dynamodb:ListTables",
        "iam:ListRoles",
        "lambda:CreateEventSourceMapping",
        "lambda:ListEventSourceMappings",
        "lambda:ListFunctions",
        "logs:DescribeLogGroups",
        "s3:ListAllMyBuckets",
        "sns:ListTopics",
        "sqs:ListQueues",
    }
)


def iam_actions_for(call: str) -> tuple[str, ...]:
    """The IAM actions a ``service:Operation`` call needs; fails the test for an unknown call."""
    if call not in IAM_ACTIONS:
        pytest.fail(
            f"the kit made the call {call!r}, which tests/test_iam_policy.py does not know: add it "
            "to IAM_ACTIONS with the IAM action(s) it needs (Service Authorization Reference), "
            "and grant them in docs/iam/streamkit-user-policy.json"
        )
    return IAM_ACTIONS[call]


# -- a tiny policy evaluator ---------------------------------------------------------------------------


def load_policy() -> dict[str, Any]:
    return json.loads(POLICY_PATH.read_text())


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str) -> bool:
    """IAM wildcard matching of an action: ``*`` any run, ``?`` one character, no case."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.IGNORECASE) is not None


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return _as_list(policy["Statement"])


def allowing(policy: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The Allow statements whose Action matches ``action`` (resources and conditions aside)."""
    return [
        s
        for s in statements(policy)
        if s.get("Effect") == "Allow"
        and any(_matches(pattern, action) for pattern in _as_list(s.get("Action", [])))
    ]


def allows(policy: dict[str, Any], action: str) -> bool:
    """Whether some statement of the policy allows ``action``."""
    return bool(allowing(policy, action))


def _is_list_or_read(action: str) -> bool:
    """List*, Describe* and Get* actions: they change nothing."""
    name = action.split(":", 1)[1]
    return name.startswith(("List", "Describe", "Get"))


def _condition_values(statement: dict[str, Any]) -> list[str]:
    return [
        str(value)
        for keys in statement.get("Condition", {}).values()
        for values in keys.values()
        for value in _as_list(values)
    ]


def test_the_evaluator_matches_actions_as_iam_does():
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": ["logs:Describe*", "s3:Get?ucketTagging"]},
            {"Effect": "Deny", "Action": "sqs:*"},
        ]
    }
    assert allows(policy, "logs:DescribeLogGroups")
    assert allows(policy, "LOGS:describeloggroups")  # action names ignore case
    assert allows(policy, "s3:GetBucketTagging")
    assert not allows(policy, "logs:FilterLogEvents")
    assert not allows(policy, "s3:GetObjectTagging")
    assert not allows(policy, "sqs:ListQueues")  # a Deny statement allows nothing
    assert not allows(policy, "xlogs:DescribeLogGroups")


# -- the policy file on its own -------------------------------------------------------------------------


def test_the_policy_file_is_a_valid_identity_policy():
    policy = load_policy()
    assert set(policy) == {"Version", "Statement"}
    assert policy["Version"] == "2012-10-17"
    sids = [s.get("Sid") for s in statements(policy)]
    assert all(sids), "every statement has a Sid"
    assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids), sids
    assert len(sids) == len(set(sids)), "Sids are unique"
    for statement in statements(policy):
        assert statement["Effect"] == "Allow", statement["Sid"]
        assert "NotAction" not in statement and "NotResource" not in statement, statement["Sid"]
        actions = _as_list(statement["Action"])
        assert "*" not in actions, statement["Sid"]
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", a) for a in actions), statement["Sid"]
        assert "Resource" in statement, statement["Sid"]


def test_every_change_is_scoped_to_the_kit_prefix():
    """Only actions AWS authorizes on "*" alone get "*"; everything that changes something is
    scoped to ``streamkit-`` names, by resource or (event source mappings) by condition."""
    for statement in statements(load_policy()):
        sid, actions = statement["Sid"], _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        if "*" in resources:
            assert resources == ["*"], sid
            assert set(actions) <= ONLY_ON_ALL_RESOURCES, (
                f"{sid}: {sorted(set(actions) - ONLY_ON_ALL_RESOURCES)} can be scoped to a "
                "resource, so it does not belong to a statement on all resources"
            )
            for action in actions:
                assert _is_list_or_read(action) or any(
                    PREFIX in v for v in _condition_values(statement)
                ), f"{sid}: {action} on all resources needs a condition naming {PREFIX}*"
            continue
        if all(_is_list_or_read(a) for a in actions):
            continue
        if sid == "LambdaTagTriggersWithTheRunTagOnly":
            # Mappings have no name to scope by, and TagResource has no lambda:FunctionArn
            # condition: what is limited is the tag key (streamkit-run), pinned here.
            assert actions == ["lambda:TagResource"], sid
            assert statement["Condition"] == {
                "ForAllValues:StringEquals": {"aws:TagKeys": ["streamkit-run"]}
            }, sid
            continue
        for resource in resources:
            assert PREFIX in resource or any(PREFIX in v for v in _condition_values(statement)), (
                f"{sid}: {resource} is not scoped to the kit's {PREFIX} names"
            )


def test_roles_are_passed_to_lambda_only():
    (passing,) = allowing(load_policy(), "iam:PassRole")
    assert _as_list(passing["Action"]) == ["iam:PassRole"]
    assert passing["Resource"] == f"arn:aws:iam::*:role/{PREFIX}*"
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_event_source_mappings_are_changed_only_for_kit_functions():
    policy = load_policy()
    for action in (
        "lambda:CreateEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
    ):
        (statement,) = allowing(policy, action)
        assert statement["Condition"] == {
            "ArnLike": {"lambda:FunctionArn": f"arn:aws:lambda:*:*:function:{PREFIX}*"}
        }, action


def test_the_policy_grants_only_what_some_kit_call_needs():
    needed = {action for actions in IAM_ACTIONS.values() for action in actions}
    granted = {a for s in statements(load_policy()) for a in _as_list(s["Action"])}
    assert granted <= needed, f"granted but needed by no call in IAM_ACTIONS: {granted - needed}"


def test_the_walkthrough_does_not_need_ses_permissions():
    """The notebooks verify an SES sender on the embedded backend only (on AWS the reader does)."""
    assert not any(a.startswith("ses:") for s in statements(load_policy()) for a in s["Action"])


def _ses_calls_guarded(source: str) -> tuple[int, int]:
    """(calls of ``aws.client("ses")``, those inside ``if SENDS_EMAIL:``) in a cell's code."""
    tree = ast.parse(source)
    found = guarded = 0

    def visit(node: ast.AST, inside: bool) -> None:
        nonlocal found, guarded
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "client"
            and [getattr(a, "value", None) for a in node.args] == ["ses"]
        ):
            found += 1
            guarded += inside
        for name, child in ast.iter_fields(node):
            children = child if isinstance(child, list) else [child]
            for item in children:
                if isinstance(item, ast.AST):
                    in_body = (
                        isinstance(node, ast.If)
                        and name == "body"
                        and isinstance(node.test, ast.Name)
                        and node.test.id == "SENDS_EMAIL"
                    )
                    visit(item, inside or in_body)

    visit(tree, False)
    return found, guarded


def test_the_notebooks_call_ses_only_off_aws():
    """What NOT_ON_AWS says: every SES call sits under ``if SENDS_EMAIL:``, which is false on AWS."""
    ses_calls = 0
    for path in NOTEBOOKS:
        cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        calls = [_ses_calls_guarded(source) for source in cells if "ses" in source]
        found = sum(f for f, _ in calls)
        assert sum(g for _, g in calls) == found, f"{path.name}: an SES call outside SENDS_EMAIL"
        if found:
            assert any(
                re.search(r'^SENDS_EMAIL = aws\.kind != "aws"', source, flags=re.MULTILINE)
                for source in cells
            ), path.name
        ses_calls += found
    assert ses_calls, "no SES call found: update NOT_ON_AWS and this test"


def test_every_known_call_maps_to_actions_of_its_service_or_passrole():
    for call, actions in IAM_ACTIONS.items():
        service = SERVICE_PREFIX[call.split(":")[0]]
        for action in actions:
            assert action.startswith(f"{service}:") or action == "iam:PassRole", call


# -- the walkthrough ------------------------------------------------------------------------------------

_REPORT_CELL = f"""\
import json as _json
print({MARKER!r} + _json.dumps(
    {{"kind": aws.kind, "endpoint_url": aws.endpoint_url, "calls": dict(aws.api_calls)}}
))
"""


def _report(notebook: Any) -> dict[str, Any]:
    """What the appended cell printed: the backend's kind and URL, and its API calls."""
    for output in notebook.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                return dict(json.loads(line[len(MARKER) :]))
    raise AssertionError("the appended cell printed no API calls")


def _teardown_everything_with_the_prefix(aws: Any) -> None:
    """Delete what the notebooks left (any run), so later tests see the backend as before."""
    from streamkit.teardown import teardown

    saved = aws.prefix
    aws.prefix = PREFIX
    try:
        teardown(aws, all_runs=True)
    finally:
        aws.prefix = saved


def test_the_policy_allows_every_call_of_the_walkthrough(
    aws, fast_polling, monkeypatch, walkthrough_reports
):
    """Every call notebooks/ 01..05 make, run top to bottom in kernels against the embedded backend
    (the triggers really fire there), is allowed by the policy.

    When this session runs the notebooks under nbval, their kernels report the calls they made
    (``conftest.py``): the notebooks are not run a second time. Otherwise (``make test-unit``, or
    this file alone) they run here, reaching the embedded backend by its URL."""
    assert NOTEBOOKS, "no notebooks found"
    reports = walkthrough_reports([path.name for path in NOTEBOOKS])
    if reports is None:
        calls, left = _run_the_walkthrough(aws, monkeypatch)
    else:
        calls, left = Counter(), set()
        for report in reports:
            assert "error" not in report, f"{report['notebook']}: {report['error']}"
            # under nbval, the notebook took the embedded backend from STREAMKIT_BACKEND=local
            assert report["kind"] == "local", report["notebook"]
            calls.update(report["calls"])
            left |= {(report["notebook"], *item) for item in report["left"]}
    assert left == set(), f"the walkthrough's teardown cells left {sorted(left)}"
    for expected in (
        "dynamodb:CreateTable",
        "dynamodbstreams:GetRecords",
        "iam:CreateRole",
        "lambda:CreateEventSourceMapping",
        "lambda:CreateFunction",
        "logs:FilterLogEvents",
    ):
        assert calls[expected] > 0, f"the walkthrough never called {expected}: {sorted(calls)}"

    print("API calls of the walkthrough:", json.dumps(dict(sorted(calls.items())), indent=1))
    _assert_policy_allows(calls)


def _run_the_walkthrough(aws: Any, monkeypatch: Any) -> tuple[Counter[str], set[Any]]:
    """Run every notebook in a kernel against the embedded backend's URL: the calls they made,
    and what their teardown cells left behind."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("STREAMKIT_BACKEND", aws.endpoint_url)
    for key, value in aws.cli_env().items():  # the kernels sign with the run's own credentials
        if key != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(key, value)
    calls: Counter[str] = Counter()
    errors: dict[str, str] = {}
    try:
        for path in NOTEBOOKS:
            notebook = nbformat.read(path, as_version=4)
            notebook.cells.append(nbformat.v4.new_code_cell(_REPORT_CELL))
            client = NotebookClient(
                notebook,
                timeout=600,
                kernel_name="python3",
                resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
            )
            try:
                client.execute()
            except CellExecutionError as exc:
                errors[path.name] = str(exc)
                continue
            report = _report(notebook)
            # The notebook took the backend from STREAMKIT_BACKEND, as it would take "aws".
            assert (report["kind"], report["endpoint_url"]) == ("endpoint", aws.endpoint_url), (
                path.name
            )
            calls.update(report["calls"])
        # Each notebook ends with teardown: the whole walkthrough leaves nothing behind.
        left = inventory(aws, PREFIX)
    finally:
        _teardown_everything_with_the_prefix(aws)

    assert not errors, "\n\n".join(f"{name} failed:\n{error}" for name, error in errors.items())
    return calls, left


def _assert_policy_allows(calls: Counter[str]) -> None:
    """Every call is known (IAM_ACTIONS or NOT_ON_AWS) and the policy allows its IAM actions."""
    unknown = sorted(call for call in calls if call not in IAM_ACTIONS and call not in NOT_ON_AWS)
    assert not unknown, (
        f"the kit made the calls {unknown}, which tests/test_iam_policy.py does not know: add "
        "each to IAM_ACTIONS with the IAM action(s) it needs (Service Authorization Reference), "
        "and grant them in docs/iam/streamkit-user-policy.json"
    )
    policy = load_policy()
    missing = {
        call: [action for action in iam_actions_for(call) if not allows(policy, action)]
        for call in sorted(calls)
        if call not in NOT_ON_AWS
    }
    missing = {call: actions for call, actions in missing.items() if actions}
    assert not missing, f"the policy does not allow: {missing}"


def test_the_policy_allows_the_kit_calls_the_walkthrough_skips(aws, tmp_path):
    """What the kit does beyond the notebooks: SNS and S3 on-failure destinations (and emptying a
    bucket at teardown), redeploying changed code, and bringing a changed role back in line."""
    import streamkit
    from streamkit.destinations import create_failure_destination
    from streamkit.functions import deploy_function
    from streamkit.iam import create_execution_role
    from streamkit.teardown import teardown

    kit = streamkit.connect(aws.endpoint_url)  # as the notebooks reach a backend by its URL
    iam = aws.client("iam")  # the "someone else" who changes things behind the kit's back
    table_arn = f"arn:aws:dynamodb:{kit.region}:{kit.account_id}:table/{PREFIX}PolicyExtras"
    source = tmp_path / "policy_extras"
    source.mkdir()
    managed_arn = None
    try:
        create_failure_destination(kit, "sns", "policy-extras")
        bucket = create_failure_destination(kit, "s3", "policy-extras")
        aws.client("s3").put_object(Bucket=bucket.name, Key="failure.json", Body=b"{}")

        role = create_execution_role(kit, "policy_extras", table_arn)
        other_trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        list_buckets = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
        }
        iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=json.dumps(other_trust))
        iam.put_role_policy(
            RoleName=role.name,
            PolicyName="added-by-hand",
            PolicyDocument=json.dumps(list_buckets),
        )
        managed_arn = iam.create_policy(
            PolicyName=f"policy-extras-{kit.run_id}", PolicyDocument=json.dumps(list_buckets)
        )["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=role.name, PolicyArn=managed_arn)
        assert create_execution_role(kit, "policy_extras", table_arn).action == "updated"

        (source / "app.py").write_text("def handler(event, context):\n    return 1\n")
        deploy_function(kit, "policy_extras", source, role_arn=role.arn)
        (source / "app.py").write_text("def handler(event, context):\n    return 2\n")
        redeployed = deploy_function(kit, "policy_extras", source, role_arn=role.arn)
        assert redeployed.action == "updated"
    finally:
        report = teardown(kit)
        if managed_arn is not None:
            iam.delete_policy(PolicyArn=managed_arn)
    assert set(report["action"]) == {"deleted"}, report.to_string()

    calls = kit.api_calls
    print("API calls beyond the walkthrough:", json.dumps(dict(sorted(calls.items())), indent=1))
    for expected in (
        "iam:DetachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "lambda:UpdateFunctionCode",
        "s3:CreateBucket",
        "s3:DeleteObjects",
        "s3:ListObjectVersions",
        "sns:CreateTopic",
        "sns:DeleteTopic",
    ):
        assert calls[expected] > 0, f"the kit never called {expected}: {sorted(calls)}"
    _assert_policy_allows(calls)
