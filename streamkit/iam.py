"""The execution role of a stream-triggered function: a role Lambda can assume, with one
least-privilege inline policy.

* :func:`lambda_trust_policy` and :func:`execution_role_policy`: the two policy documents (no AWS
  call), shown in the notebooks.
* :func:`create_execution_role`: the role, created or brought back to exactly these policies.
* :func:`retry_while_role_propagates`: a new role takes seconds to be usable by Lambda on AWS;
  :mod:`streamkit.functions` and :mod:`streamkit.triggers` retry their first call with it.

Only boto3 calls, through ``backend.client(...)``, so everything works the same on the embedded
backend and on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

from botocore.exceptions import ClientError

from . import waiting
from .backends import Backend
from .checks import check_destination, check_function_name
from .errors import InvalidParameterError
from .limits import QUEUE_ARN_PATTERN, ROLE_NAME_PATTERN, TOPIC_ARN_PATTERN
from .ownership import check_owned, role_tags
from .streams import STREAM_CONSUMER_ACTIONS, stream_iam_resource

__all__ = [
    "ROLE_PROPAGATION_DELAYS_S",
    "ExecutionRole",
    "create_execution_role",
    "execution_role_policy",
    "lambda_trust_policy",
    "retry_while_role_propagates",
]

T = TypeVar("T")

#: The one inline policy the kit puts on an execution role.
_POLICY_NAME = "streamkit-trigger"

#: How often to retry AWS errors caused by IAM's eventual consistency (a new role is not at once
#: visible to Lambda), and the pause before each retry, in seconds. About 75 s in all.
ROLE_PROPAGATION_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0, 10.0)


@dataclass(frozen=True)
class ExecutionRole:
    """An execution role made by :func:`create_execution_role`.

    Attributes
    ----------
    name : str
    arn : str
    trust_policy : dict
        Who may assume the role (the Lambda service).
    policy_document : dict
        The one inline policy: what the function may do.
    action : str
        ``"created"``, ``"updated"`` (an existing role was set to exactly these policies) or
        ``"unchanged"``.
    """

    name: str
    arn: str
    trust_policy: dict[str, Any]
    policy_document: dict[str, Any]
    action: str = "created"


def lambda_trust_policy() -> dict[str, Any]:
    """The trust policy that lets the Lambda service assume a role (``lambda.amazonaws.com``)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """Partition, region and account of an ARN."""
    parts = arn.split(":", 5)
    return parts[1], parts[3], parts[4]


def execution_role_policy(
    function_name: str,
    table_arn: str,
    *,
    on_failure_destination_arn: str | None = None,
    extra_statements: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The least-privilege policy of a stream-triggered function's execution role (no AWS call).

    Parameters
    ----------
    function_name : str
        The function; its log group is ``/aws/lambda/<function_name>``.
    table_arn : str
        The table's ARN or one of its stream ARNs; also gives the region and account.
    on_failure_destination_arn : str, optional
        An SQS queue, SNS topic or S3 bucket ARN that receives records of discarded batches.
    extra_statements : sequence of dict
        What the function's own code needs besides, appended as given, e.g. for
        ``functions/welcome_email``: ``{"Sid": "SendWelcomeEmails", "Effect": "Allow", "Action":
        ["ses:SendEmail"], "Resource": "arn:aws:ses:<region>:<account>:identity/*"}``.

    Returns
    -------
    dict
        A policy document allowing exactly: the four stream-reading actions on
        ``table/<T>/stream/*`` (every stream the table will ever have); creating the function's log
        group and writing its log streams; sending to the destination, if one is given; and the
        extra statements.
    """
    check_function_name("function_name", function_name)
    streams = stream_iam_resource(table_arn)  # raises InvalidParameterError for a bad ARN
    partition, region, account = _arn_parts(table_arn)
    log_group = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{function_name}:*"
    statements: list[dict[str, Any]] = [
        {
            # AWS's own least-privilege example scopes all four actions to table/<T>/stream/*
            # (AWS-FACTS §5); whether ListStreams honours resource-level scoping is UNCONFIRMED.
            "Sid": "ReadTheTablesStreams",
            "Effect": "Allow",
            "Action": list(STREAM_CONSUMER_ACTIONS),
            "Resource": streams,
        },
        {
            # The Lambda console's generated basic execution policy, narrowed to this function's
            # log group (the console grants CreateLogGroup on arn:aws:logs:<region>:<account>:*).
            "Sid": "CreateTheFunctionsLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup"],
            "Resource": log_group,
        },
        {
            # "log-group:<name>:*" covers the group's log streams, as in the console's policy.
            "Sid": "WriteTheFunctionsLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group,
        },
    ]
    if on_failure_destination_arn is not None:
        destination = check_destination(on_failure_destination_arn)
        if QUEUE_ARN_PATTERN.fullmatch(destination):
            actions, resources = ["sqs:SendMessage"], destination
        elif TOPIC_ARN_PATTERN.fullmatch(destination):
            actions, resources = ["sns:Publish"], destination
        else:
            # UNCONFIRMED for DynamoDB stream mappings (AWS-FACTS §2.4, §5): AWS documents S3
            # on-failure permissions only for Kafka sources, as s3:PutObject and s3:ListBucket
            # (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html).
            actions = ["s3:PutObject", "s3:ListBucket"]
            resources = [destination, destination + "/*"]
        statements.append(
            {
                "Sid": "SendRecordsOfDiscardedBatches",
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            }
        )
    statements.extend(_check_statements(extra_statements))
    return {"Version": "2012-10-17", "Statement": statements}


def _check_statements(extra: Any) -> list[dict[str, Any]]:
    valid = (
        'a list of IAM statements, each a dict with "Effect" ("Allow" or "Deny") and "Action" and '
        '"Resource" (a string or a list of strings)'
    )
    if isinstance(extra, str | bytes | Mapping) or not isinstance(extra, Iterable):
        raise InvalidParameterError("extra_statements", extra, valid)
    out = []
    for statement in extra:
        ok = isinstance(statement, Mapping) and statement.get("Effect") in ("Allow", "Deny")
        for key in ("Action", "Resource"):
            value = statement.get(key) if isinstance(statement, Mapping) else None
            ok = ok and (
                isinstance(value, str)
                or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
            )
        if not ok:
            raise InvalidParameterError("extra_statements", statement, valid)
        out.append(dict(statement))
    return out


def _as_document(value: Any) -> Any:
    """A policy document as IAM returns it (boto3 decodes it; some endpoints leave a string)."""
    if isinstance(value, str):
        try:
            return json.loads(unquote(value))
        except ValueError:
            return value
    return value


def create_execution_role(
    backend: Backend,
    function_name: str,
    table_arn: str,
    *,
    on_failure_destination_arn: str | None = None,
    role_name: str | None = None,
    extra_statements: Sequence[Mapping[str, Any]] = (),
) -> ExecutionRole:
    """Create (or bring up to date) the execution role of a stream-triggered function.

    Parameters
    ----------
    backend : Backend
    function_name : str
        The function the role is for (scopes its log permissions).
    table_arn : str
        The table's ARN or one of its stream ARNs.
    on_failure_destination_arn : str, optional
        SQS queue, SNS topic or S3 bucket ARN the trigger sends records of discarded batches to.
    role_name : str, optional
        Default ``<function_name>-role``. Both names get the backend's prefix.
    extra_statements : sequence of dict
        Statements the function's own code needs (see :func:`execution_role_policy`).

    Returns
    -------
    ExecutionRole
        ``action`` is ``"created"``, ``"updated"`` or ``"unchanged"``. An existing role of that
        name is set to exactly this trust policy and this one inline policy (other inline policies
        are deleted, managed policies detached). Only a role this call created is registered for
        :func:`streamkit.teardown.teardown`.

    Raises
    ------
    NotOwnedError
        If a role of that name exists without the kit's ``streamkit-run`` tag (it is left as it is).

    Notes
    -----
    On AWS a new role takes a few seconds to be usable by Lambda;
    :func:`streamkit.functions.deploy_function` retries for that. The embedded backend has it at
    once.
    """
    check_function_name("function_name", function_name)
    function_name = backend.name(function_name)
    policy = execution_role_policy(
        function_name,
        table_arn,
        on_failure_destination_arn=on_failure_destination_arn,
        extra_statements=extra_statements,
    )
    name = f"{function_name}-role" if role_name is None else role_name
    if isinstance(name, str) and name:
        name = backend.name(name)
    if not isinstance(name, str) or not ROLE_NAME_PATTERN.fullmatch(name):
        raise InvalidParameterError(
            "role_name",
            name,
            "1 to 64 letters, digits and +=,.@_- (pass role_name=... if the "
            "default <function_name>-role is too long)",
        )
    trust = lambda_trust_policy()
    iam = backend.client("iam")
    try:
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=f"Execution role of the Lambda function {function_name} (streamkit)",
            Tags=backend.tag_list,
        )["Role"]
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    else:
        iam.put_role_policy(
            RoleName=name, PolicyName=_POLICY_NAME, PolicyDocument=json.dumps(policy)
        )
        return ExecutionRole(name, role["Arn"], trust, policy, "created")

    role = iam.get_role(RoleName=name)["Role"]
    check_owned(backend, "IAM role", name, role_tags(backend, name))  # this run's, no other's
    changed = False
    if _as_document(role.get("AssumeRolePolicyDocument")) != trust:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
        changed = True
    inline = [
        policy_name
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
        for policy_name in page["PolicyNames"]
    ]
    for other in inline:
        if other != _POLICY_NAME:
            iam.delete_role_policy(RoleName=name, PolicyName=other)
            changed = True
    current = None
    if _POLICY_NAME in inline:
        current = _as_document(
            iam.get_role_policy(RoleName=name, PolicyName=_POLICY_NAME)["PolicyDocument"]
        )
    if current != policy:
        iam.put_role_policy(
            RoleName=name, PolicyName=_POLICY_NAME, PolicyDocument=json.dumps(policy)
        )
        changed = True
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for attached in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
            changed = True
    return ExecutionRole(name, role["Arn"], trust, policy, "updated" if changed else "unchanged")


def retry_while_role_propagates(
    backend: Backend,
    call: Callable[[], T],
    *,
    transient: Callable[[ClientError], bool],
    retrying: Callable[[int, Sequence[float]], str],
    give_up: Callable[[ClientError, int, Sequence[float]], Exception] | None = None,
) -> T:
    """``call()``, retried on AWS while IAM has not yet told Lambda about a new role or its policy.

    Not a :func:`~streamkit.waiting.poll_until`: the retries follow a fixed schedule of pauses
    (:data:`ROLE_PROPAGATION_DELAYS_S`), each announced before it starts, and giving up raises the
    last AWS error (or what ``give_up`` makes of it). The pauses go through
    :data:`streamkit.waiting._sleep`, the seam tests replace. The embedded backend's IAM is
    consistent: there ``call`` is tried once.

    Parameters
    ----------
    backend : Backend
    call : callable
        The AWS call (CreateFunction, CreateEventSourceMapping).
    transient : callable
        Whether an error is one that IAM's propagation explains (then it is retried).
    retrying : callable
        The progress line before a retry, from the attempt number (0, 1, ...) and the pauses.
    give_up : callable, optional
        The exception raised (from the last error) when the retries ran out; default: the last
        error itself.
    """
    delays = () if backend.is_local else ROLE_PROPAGATION_DELAYS_S
    for attempt in range(len(delays) + 1):
        try:
            return call()
        except ClientError as exc:
            if not transient(exc):
                raise
            if attempt == len(delays):
                if give_up is None:
                    raise
                raise give_up(exc, attempt, delays) from exc
            backend.progress(retrying(attempt, delays))
            waiting._sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover
