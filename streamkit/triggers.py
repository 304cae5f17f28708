"""Triggers: the execution role, the function, the event source mapping, and tearing them down.

A DynamoDB stream *trigger* is an AWS Lambda event source mapping: the Lambda service polls the
stream's shards and invokes a function with batches of records. This module holds every AWS call
sequence that sets one up, changes it and removes it:

* :func:`create_execution_role` (and the pure :func:`execution_role_policy`): a role Lambda can
  assume, with one least-privilege inline policy.
* :func:`build_zip` and :func:`deploy_function`: a deterministic deployment package from a source
  folder, created or updated idempotently.
* :func:`create_trigger`, :func:`update_trigger`, :func:`enable_trigger`, :func:`disable_trigger`,
  :func:`delete_trigger`, :func:`describe_trigger`, :func:`list_triggers`: the mapping itself,
  validated against AWS's ranges before any call, with :func:`mapping_parameters` as the reference
  table the notebooks print.
* :func:`teardown`: delete exactly what the kit created through a backend, in dependency order.

Only boto3 calls, through ``backend.client(...)``, so everything works the same on the embedded
backend and on AWS. Where AWS is eventually consistent (a new role, a mapping's state) the waits are
bounded and their messages say what was seen.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd
from botocore.exceptions import ClientError, WaiterError

from .backends import RUN_TAG, Backend
from .errors import (
    FunctionNotFoundError,
    InvalidParameterError,
    NotOwnedError,
    StreamkitError,
    StreamNotFoundError,
    TriggerExistsError,
    TriggerNotFoundError,
    TriggerTimeoutError,
)
from .filters import FilterPatternError, parse_pattern
from .limits import (
    ESM_BATCH_SIZE_DEFAULT,
    ESM_BATCH_SIZE_RANGE,
    ESM_BATCHING_WINDOW_MAX_S,
    ESM_FUNCTION_RESPONSE_TYPES,
    ESM_LATEST_FIRST_POLL_WAIT_S,
    ESM_MAX_FILTERS,
    ESM_PARALLELIZATION_RANGE,
    ESM_RECORD_AGE_RANGE_S,
    ESM_RETRY_ATTEMPTS_RANGE,
    ESM_STARTING_POSITIONS,
    ESM_TUMBLING_WINDOW_RANGE_S,
    LAMBDA_MEMORY_MB_RANGE,
    LAMBDA_TIMEOUT_MAX_MS,
)
from .streams import STREAM_CONSUMER_ACTIONS, stream_iam_resource

__all__ = [
    "ExecutionRole",
    "DeployedFunction",
    "Trigger",
    "PYTHON_RUNTIMES",
    "lambda_trust_policy",
    "execution_role_policy",
    "create_execution_role",
    "build_zip",
    "code_sha256",
    "deploy_function",
    "create_trigger",
    "update_trigger",
    "enable_trigger",
    "disable_trigger",
    "delete_trigger",
    "describe_trigger",
    "list_triggers",
    "mapping_parameters",
    "FailureDestination",
    "create_failure_destination",
    "read_failure_records",
    "teardown",
]

# -- constants this module needs (candidates for limits.py / errors.py) -----------------------------

#: Lambda runtimes :func:`deploy_function` accepts: the Python runtimes AWS supports (as of
#: 2026-11-27, https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html) that are not older
#: than the Python the kit itself needs (3.11): the embedded backend runs functions with the kit's
#: interpreter, so older runtimes could not be reproduced faithfully. (Candidate for limits.py.)
PYTHON_RUNTIMES = ("python3.11", "python3.12", "python3.13")

#: Smallest function timeout, in seconds. Source: CreateFunction API Reference, ``Timeout`` (min 1).
_TIMEOUT_MIN_S = 1

#: Function names: 1 to 64 letters, digits, hyphens and underscores. Source: CreateFunction API
#: Reference, ``FunctionName`` ("If you specify only the function name, it is limited to 64
#: characters in length").
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: Function ARNs (as ``FunctionName`` also accepts them), optionally qualified.
_FUNCTION_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?"
)

#: IAM role names: 1 to 64 of ``\w+=,.@-``. Source: IAM API Reference, CreateRole ``RoleName``.
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")

#: A Python handler: ``module.function`` where module may be dotted or a path (``src/app.handler``).
_HANDLER = re.compile(r"[A-Za-z_]\w*(?:[./][A-Za-z_]\w*)*\.[A-Za-z_]\w*")

#: Handler strings are at most 128 characters. Source: CreateFunction API Reference, ``Handler``.
_HANDLER_MAX_CHARS = 128

#: Function descriptions are at most 256 characters. Source: CreateFunction API Reference.
_DESCRIPTION_MAX_CHARS = 256

#: Environment variable names: a letter, then letters, digits or underscores (at least two
#: characters). Source: Lambda API Reference, ``Environment.Variables`` key pattern.
_ENV_NAME = re.compile(r"[a-zA-Z]\w+")

#: All environment variables of a function together: 4 KB, in bytes. Source: Lambda quotas
#: (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
_ENV_MAX_BYTES = 4 * 1024

#: Variables the Lambda runtime defines and a function may not set. Source: Lambda Developer Guide,
#: "Defined runtime environment variables" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
_RESERVED_ENV = frozenset(
    {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

#: A filter ``Pattern`` is at most 4,096 characters. Source: Lambda API Reference, ``Filter.Pattern``.
_PATTERN_MAX_CHARS = 4096

#: A DynamoDB stream ARN: ``arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label>``.
_STREAM_ARN = re.compile(r"arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[\w.-]+/stream/\S+")

#: On-failure destinations of a stream mapping: an SQS queue, an SNS topic or an S3 bucket.
#: Source: Lambda API Reference, ``OnFailure``; AWS-FACTS §2.1.
_QUEUE_ARN = re.compile(r"arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(\.fifo)?")
_TOPIC_ARN = re.compile(r"arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?")
_BUCKET_ARN = re.compile(r"arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_DESTINATION_KINDS = (
    "an SQS queue ARN, an SNS topic ARN or an S3 bucket ARN (arn:aws:s3:::<bucket>)"
)

#: The one inline policy the kit puts on an execution role.
_POLICY_NAME = "streamkit-trigger"

#: Mapping states (AWS-FACTS §2.1). A mapping settles in one of the two stable ones.
_STABLE_STATES = ("Enabled", "Disabled")
_ENABLED_STATES = ("Enabled", "Enabling")
_DISABLED_STATES = ("Disabled", "Disabling")

#: How often to retry AWS errors caused by IAM's eventual consistency (a new role is not at once
#: visible to Lambda), and the pause before each retry, in seconds. About 75 s in all.
_PROPAGATION_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0, 10.0)

# Seams for tests (no sleeping, a controllable clock). Always call them through the module.
_sleep = time.sleep
_clock = time.monotonic


# -- the mapping parameters: one table, used by validation, responses and the notebook -------------


@dataclass(frozen=True)
class _Parameter:
    api: str
    argument: str
    default: Any  # AWS's default, as the kit represents it; _REQUIRED if there is none
    valid: str
    meaning: str


_REQUIRED = object()

_PARAMETERS: tuple[_Parameter, ...] = (
    _Parameter(
        "EventSourceArn",
        "stream_arn",
        _REQUIRED,
        "a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label>)",
        "The stream to read. A stream's ARN changes when it is re-enabled: a mapping then needs "
        "creating again.",
    ),
    _Parameter(
        "FunctionName",
        "function_name",
        _REQUIRED,
        "a function name (1-64 letters, digits, - and _) or ARN",
        "The function invoked with each batch.",
    ),
    _Parameter(
        "StartingPosition",
        "starting_position",
        _REQUIRED,
        " or ".join(ESM_STARTING_POSITIONS),
        "Where reading starts: TRIM_HORIZON = oldest retained record (up to 24 h back), LATEST = "
        "records written after the mapping starts polling. Cannot be changed later.",
    ),
    _Parameter(
        "BatchSize",
        "batch_size",
        ESM_BATCH_SIZE_DEFAULT,
        f"{ESM_BATCH_SIZE_RANGE[0]} to {ESM_BATCH_SIZE_RANGE[1]:,} records",
        "Most records in one invocation (fewer if the 6 MB payload limit comes first).",
    ),
    _Parameter(
        "MaximumBatchingWindowInSeconds",
        "maximum_batching_window_s",
        0,
        f"0 to {ESM_BATCHING_WINDOW_MAX_S} whole seconds",
        "How long to gather records before invoking; 0 invokes as soon as records are read.",
    ),
    _Parameter(
        "ParallelizationFactor",
        "parallelization_factor",
        1,
        f"{ESM_PARALLELIZATION_RANGE[0]} to {ESM_PARALLELIZATION_RANGE[1]} batches",
        "Concurrent batches per shard (order is kept per partition key).",
    ),
    _Parameter(
        "MaximumRetryAttempts",
        "maximum_retry_attempts",
        -1,
        f"-1 (until the record expires) or 0 to {ESM_RETRY_ATTEMPTS_RANGE[1]:,}",
        "Retries of a failed batch; with -1 a bad record can block its shard for 24 h.",
    ),
    _Parameter(
        "MaximumRecordAgeInSeconds",
        "maximum_record_age_s",
        -1,
        f"-1 (forever) or {ESM_RECORD_AGE_RANGE_S[0]} to {ESM_RECORD_AGE_RANGE_S[1]:,} seconds",
        "Records older than this are discarded (sent to the on-failure destination) unprocessed.",
    ),
    _Parameter(
        "BisectBatchOnFunctionError",
        "bisect_batch_on_function_error",
        False,
        "true or false",
        "Split a failed batch in two and retry the halves (does not count as a retry).",
    ),
    _Parameter(
        "DestinationConfig.OnFailure.Destination",
        "on_failure_destination_arn",
        None,
        _DESTINATION_KINDS,
        "Where a record of each discarded batch goes (SQS/SNS: metadata only; S3: the records too).",
    ),
    _Parameter(
        "FunctionResponseTypes",
        "report_batch_item_failures",
        False,
        f"[] or {list(ESM_FUNCTION_RESPONSE_TYPES)} (report_batch_item_failures=True)",
        'Let the function answer {"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]} '
        "so only the failed records and those after them are retried.",
    ),
    _Parameter(
        "FilterCriteria",
        "filter_patterns",
        (),
        f"up to {ESM_MAX_FILTERS} patterns, each a JSON object (EventBridge pattern syntax)",
        "Only records matching at least one pattern invoke the function; others are skipped.",
    ),
    _Parameter(
        "TumblingWindowInSeconds",
        "tumbling_window_s",
        0,
        f"{ESM_TUMBLING_WINDOW_RANGE_S[0]} to {ESM_TUMBLING_WINDOW_RANGE_S[1]} seconds (0 = none)",
        "Aggregate state across invocations over windows of this length.",
    ),
    _Parameter(
        "Enabled",
        "enabled",
        True,
        "true or false",
        "False pauses the mapping; enabling it again resumes where it stopped.",
    ),
)
_BY_ARGUMENT = {p.argument: p for p in _PARAMETERS}


def mapping_parameters() -> pd.DataFrame:
    """The event source mapping parameters for a DynamoDB stream, as a table for the notebook.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``parameter`` (API name), ``argument`` (the keyword of
        :func:`create_trigger`), ``aws_default``, ``valid_values`` and ``meaning``. Sources:
        Lambda API Reference, CreateEventSourceMapping; AWS-FACTS §2.1.
    """

    def shown(value: Any) -> str:
        if value is _REQUIRED:
            return "(required)"
        if value is None or value == ():
            return "none"
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return pd.DataFrame(
        [
            {
                "parameter": p.api,
                "argument": p.argument,
                "aws_default": shown(p.default),
                "valid_values": p.valid,
                "meaning": p.meaning,
            }
            for p in _PARAMETERS
        ],
        columns=["parameter", "argument", "aws_default", "valid_values", "meaning"],
    )


# -- small helpers ------------------------------------------------------------------------------------


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def _poll_delay(backend: Backend) -> float:
    """Seconds between state polls: the embedded backend answers at once, AWS takes seconds."""
    return 0.25 if backend.is_local else 2.0


def _waiter_delay(backend: Backend) -> int:
    return 1 if backend.is_local else 5


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(name: str, value: Any, low: int, high: int, valid: str | None = None) -> int:
    if not _is_int(value) or not low <= value <= high:
        raise InvalidParameterError(name, value, valid or f"a whole number from {low} to {high:,}")
    return int(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError(name, value, (True, False))
    return value


def _check_function_name(name: str, value: Any, *, arn_ok: bool = False) -> str:
    if isinstance(value, str) and (
        _FUNCTION_NAME.fullmatch(value) or (arn_ok and _FUNCTION_ARN.fullmatch(value))
    ):
        return value
    valid = "a function name of 1 to 64 letters, digits, hyphens and underscores"
    raise InvalidParameterError(name, value, valid + (", or a function ARN" if arn_ok else ""))


def _check_stream_arn(value: Any) -> str:
    if not isinstance(value, str) or not _STREAM_ARN.fullmatch(value):
        raise InvalidParameterError(
            "stream_arn",
            value,
            "a DynamoDB stream ARN, arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label> "
            "(streams.latest_stream_arn(backend, table) gives it)",
        )
    return value


def _check_destination(value: Any) -> str:
    if isinstance(value, str) and (
        _QUEUE_ARN.fullmatch(value) or _TOPIC_ARN.fullmatch(value) or _BUCKET_ARN.fullmatch(value)
    ):
        return value
    raise InvalidParameterError("on_failure_destination_arn", value, _DESTINATION_KINDS)


def _function_of(function_arn: str) -> str:
    """The function name in a function ARN (or the name itself)."""
    parts = function_arn.split(":")
    return parts[6] if len(parts) >= 7 and parts[5] == "function" else function_arn


# -- 1. the execution role ---------------------------------------------------------------------------


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
    _check_function_name("function_name", function_name)
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
        destination = _check_destination(on_failure_destination_arn)
        if _QUEUE_ARN.fullmatch(destination):
            actions, resources = ["sqs:SendMessage"], destination
        elif _TOPIC_ARN.fullmatch(destination):
            actions, resources = ["sns:Publish"], destination
        else:
            # UNCONFIRMED for DynamoDB stream mappings (AWS-FACTS §2.4, §5): AWS documents S3
            # on-failure permissions only for Kafka sources, as s3:PutObject and s3:ListBucket
            # (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html).
            actions = ["s3:PutObject", "s3:ListBucket"]
            resources = [destination, destination + "/*"]  # type: ignore[assignment]
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
        :func:`teardown`.

    Raises
    ------
    NotOwnedError
        If a role of that name exists without the kit's ``streamkit-run`` tag (it is left as it is).

    Notes
    -----
    On AWS a new role takes a few seconds to be usable by Lambda; :func:`deploy_function` retries
    for that. The embedded backend has it at once.
    """
    _check_function_name("function_name", function_name)
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
    if not isinstance(name, str) or not _ROLE_NAME.fullmatch(name):
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
    except ClientError as exc:
        if _code(exc) != "EntityAlreadyExists":
            raise
    else:
        iam.put_role_policy(
            RoleName=name, PolicyName=_POLICY_NAME, PolicyDocument=json.dumps(policy)
        )
        return ExecutionRole(name, role["Arn"], trust, policy, "created")

    role = iam.get_role(RoleName=name)["Role"]
    if not _has_run_tag(_role_tags(backend, name)):
        raise NotOwnedError("IAM role", name, RUN_TAG)
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


# -- 2. deploying a function ----------------------------------------------------------------------------

#: What :func:`build_zip` leaves out.
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_FILES = frozenset({".DS_Store"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
_ZIP_FILE_MODE = 0o100644  # a regular file, rw-r--r--


def _package_files(source: Path) -> list[Path]:
    files = []
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if any(part in _SKIPPED_DIRS for part in relative.parts):
            continue
        if not path.is_file() or path.name in _SKIPPED_FILES or path.suffix in _SKIPPED_SUFFIXES:
            continue
        files.append(path)
    return sorted(files, key=lambda p: p.relative_to(source).as_posix())


def _source_dir(source_dir: str | Path) -> Path:
    try:
        source = Path(source_dir)
    except TypeError:
        raise InvalidParameterError("source_dir", source_dir, "a folder holding the code") from None
    if not source.is_dir():
        raise InvalidParameterError("source_dir", str(source_dir), "an existing folder")
    return source


def build_zip(source_dir: str | Path) -> bytes:
    """A deployment package of a folder, byte-for-byte the same every time for the same files.

    Entries are sorted by path, dated 1980-01-01 00:00, with permissions rw-r--r--;
    ``__pycache__`` folders, ``*.pyc`` / ``*.pyo`` and ``.DS_Store`` are left out. So the package's
    SHA-256 (what Lambda reports as ``CodeSha256``) changes only when the code does.

    Parameters
    ----------
    source_dir : str or pathlib.Path
        The folder; its files go to the root of the zip (``app.py`` → ``app.py``).

    Returns
    -------
    bytes
        The zip file.
    """
    source = _source_dir(source_dir)
    files = _package_files(source)
    if not files:
        raise InvalidParameterError(
            "source_dir", str(source_dir), "a folder with at least one file"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_ZIP_DATE)
            info.create_system = 3  # Unix, so the permissions below are read on every platform
            info.external_attr = _ZIP_FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def code_sha256(package: bytes) -> str:
    """A package's ``CodeSha256`` as Lambda reports it: base64 of the SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")


@dataclass(frozen=True)
class DeployedFunction:
    """What :func:`deploy_function` did.

    Attributes
    ----------
    name : str
    arn : str
    code_sha256 : str
        Base64 SHA-256 of the deployed package.
    action : str
        ``"created"``, ``"updated"`` (code or configuration changed) or ``"unchanged"``.
    """

    name: str
    arn: str
    code_sha256: str
    action: str


def _check_environment(environment: Any) -> dict[str, str]:
    if environment is None:
        return {}
    if not isinstance(environment, Mapping):
        raise InvalidParameterError("environment", environment, "a dict of str to str, or None")
    size = 0
    for key, value in environment.items():
        if not isinstance(key, str) or not _ENV_NAME.fullmatch(key):
            raise InvalidParameterError(
                "environment variable name",
                key,
                "a letter followed by at least one letter, digit or underscore",
            )
        if key in _RESERVED_ENV:
            raise InvalidParameterError(
                "environment variable name",
                key,
                "a name Lambda does not define itself (not one of "
                + ", ".join(sorted(_RESERVED_ENV))
                + ")",
            )
        if not isinstance(value, str):
            raise InvalidParameterError(f"environment[{key!r}]", value, "a string")
        size += len(key.encode()) + len(value.encode())
    if size > _ENV_MAX_BYTES:
        raise InvalidParameterError(
            "environment", f"{size} bytes", f"at most {_ENV_MAX_BYTES} bytes of names and values"
        )
    return dict(environment)


def _check_handler(handler: Any, source: Path) -> str:
    if (
        not isinstance(handler, str)
        or len(handler) > _HANDLER_MAX_CHARS
        or not _HANDLER.fullmatch(handler)
    ):
        raise InvalidParameterError(
            "handler", handler, "module.function, e.g. 'app.handler' (app.py, def handler)"
        )
    module = handler.rsplit(".", 1)[0]
    candidates = {module.replace(".", "/") + ".py", module + ".py"}
    if not any((source / c).is_file() for c in candidates):
        raise InvalidParameterError(
            "handler",
            handler,
            f"a module.function whose module is a file in {source} (no {sorted(candidates)[0]} there)",
        )
    return handler


def _create_function(backend: Backend, args: dict[str, Any]) -> dict[str, Any]:
    """CreateFunction, retried while IAM has not yet told Lambda about a new role (AWS only)."""
    client = backend.client("lambda")
    delays = () if backend.is_local else _PROPAGATION_DELAYS_S  # the embedded IAM is consistent
    for attempt in range(len(delays) + 1):
        try:
            return client.create_function(**args)
        except ClientError as exc:
            if _code(exc) != "InvalidParameterValueException" or (
                "cannot be assumed by Lambda" not in _message(exc)
            ):
                raise
            if attempt == len(delays):
                raise StreamkitError(
                    f"Lambda cannot assume the role {args['Role']} ({_message(exc)!r}, "
                    f"{attempt + 1} tries over {sum(delays):g} s). Check that it exists and "
                    "trusts lambda.amazonaws.com (create_execution_role does both)."
                ) from exc
            backend.progress(
                f"IAM is still propagating the new role {args['Role'].rsplit('/', 1)[-1]}: "
                f"retrying CreateFunction in {delays[attempt]:g} s (try {attempt + 2} of "
                f"{len(delays) + 1})"
            )
            _sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover


def deploy_function(
    backend: Backend,
    name: str,
    source_dir: str | Path,
    *,
    role_arn: str,
    handler: str = "app.handler",
    runtime: str = "python3.12",
    timeout_s: int = 30,
    memory_mb: int = 128,
    environment: Mapping[str, str] | None = None,
    description: str = "",
) -> DeployedFunction:
    """Create a function from a source folder, or bring an existing one up to date.

    Parameters
    ----------
    backend : Backend
    name : str
        1 to 64 letters, digits, hyphens and underscores; the backend's prefix is added.
    source_dir : str or pathlib.Path
        The function's code (see :func:`build_zip`).
    role_arn : str
        Its execution role (:func:`create_execution_role`).
    handler : str
        ``module.function``; the module must be a file in ``source_dir``.
    runtime : str
        One of :data:`PYTHON_RUNTIMES`.
    timeout_s : int
        Seconds an invocation may run, 1 to 900.
    memory_mb : int
        Memory in MB, 128 to 10,240.
    environment : dict, optional
        Environment variables (at most 4 KB in all).
    description : str
        At most 256 characters.

    Returns
    -------
    DeployedFunction
        ``action`` is ``"created"``; for an existing function ``"updated"`` (its code is uploaded
        only if its SHA-256 differs; its configuration is updated only if it differs) or
        ``"unchanged"``. A created function, and its log group ``/aws/lambda/<name>`` (created
        beforehand so that it carries the tag), carry the kit's ``streamkit-run`` tag.

    Raises
    ------
    InvalidParameterError
        Before any AWS call, for any out-of-range argument.
    NotOwnedError
        If a function of that name exists without the kit's tag (it is left as it is).
    StreamkitError
        If Lambda still cannot assume the role after about 75 s of retries (AWS only).
    """
    _check_function_name("name", name)
    name = backend.name(name)
    _check_function_name("name", name)  # still at most 64 characters with the prefix
    source = _source_dir(source_dir)
    if not isinstance(role_arn, str) or not re.fullmatch(
        r"arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]+", role_arn
    ):
        raise InvalidParameterError(
            "role_arn", role_arn, "an IAM role ARN, arn:aws:iam::<account>:role/<name>"
        )
    _check_handler(handler, source)
    if runtime not in PYTHON_RUNTIMES:
        raise InvalidParameterError("runtime", runtime, PYTHON_RUNTIMES)
    _check_int(
        "timeout_s",
        timeout_s,
        _TIMEOUT_MIN_S,
        LAMBDA_TIMEOUT_MAX_MS // 1000,
        f"a whole number of seconds from {_TIMEOUT_MIN_S} to {LAMBDA_TIMEOUT_MAX_MS // 1000}",
    )
    low, high = LAMBDA_MEMORY_MB_RANGE
    _check_int("memory_mb", memory_mb, low, high, f"a whole number of MB from {low} to {high:,}")
    variables = _check_environment(environment)
    if not isinstance(description, str) or len(description) > _DESCRIPTION_MAX_CHARS:
        raise InvalidParameterError(
            "description", description, "a string of at most 256 characters"
        )

    package = build_zip(source)
    sha = code_sha256(package)
    config = {
        "Role": role_arn,
        "Handler": handler,
        "Runtime": runtime,
        "Timeout": timeout_s,
        "MemorySize": memory_mb,
        "Description": description,
        "Environment": {"Variables": variables},
    }
    client = backend.client("lambda")
    waiter_config = {"Delay": _waiter_delay(backend), "MaxAttempts": 60}
    try:
        created = _create_function(
            backend,
            {
                "FunctionName": name,
                "Code": {"ZipFile": package},
                "PackageType": "Zip",
                "Tags": backend.tags,
                **config,
            },
        )
    except ClientError as exc:
        if _code(exc) != "ResourceConflictException":
            raise
    else:
        try:
            _create_log_group(backend, _function_log_group(name))
        except NotOwnedError:
            client.delete_function(FunctionName=name)  # nothing half-created
            raise
        if created.get("State", "Active") != "Active":
            backend.progress(f"function {name} is {created['State']}; waiting until it is Active")
        client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
        return DeployedFunction(name, created["FunctionArn"], created["CodeSha256"], "created")

    # It exists: if it is the kit's, wait until it takes updates, then change only what differs.
    arn = client.get_function_configuration(FunctionName=name)["FunctionArn"]
    if not _has_run_tag(client.list_tags(Resource=arn).get("Tags", {})):
        raise NotOwnedError("Lambda function", name, RUN_TAG)
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
    current = client.get_function_configuration(FunctionName=name)
    action = "unchanged"
    if current.get("CodeSha256") != sha:
        client.update_function_code(FunctionName=name, ZipFile=package)
        client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
        action = "updated"
    existing = {
        "Role": current.get("Role"),
        "Handler": current.get("Handler"),
        "Runtime": current.get("Runtime"),
        "Timeout": current.get("Timeout"),
        "MemorySize": current.get("MemorySize"),
        "Description": current.get("Description") or "",
        "Environment": {"Variables": (current.get("Environment") or {}).get("Variables") or {}},
    }
    if existing != config:
        client.update_function_configuration(FunctionName=name, **config)
        client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
        action = "updated"
    final = client.get_function_configuration(FunctionName=name)
    return DeployedFunction(name, final["FunctionArn"], final["CodeSha256"], action)


# -- 3. event source mappings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """An event source mapping from a DynamoDB stream to a function, and its settings.

    Settings AWS leaves out of a response take AWS's documented default (see
    :func:`mapping_parameters`). Times are in seconds.
    """

    uuid: str
    function_arn: str
    event_source_arn: str
    state: str
    state_transition_reason: str | None = None
    last_processing_result: str | None = None
    starting_position: str | None = None
    batch_size: int = ESM_BATCH_SIZE_DEFAULT
    maximum_batching_window_s: int = 0
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1
    maximum_record_age_s: int = -1
    bisect_batch_on_function_error: bool = False
    on_failure_destination_arn: str | None = None
    report_batch_item_failures: bool = False
    filter_patterns: tuple[str, ...] = ()
    tumbling_window_s: int = 0
    action: str | None = field(default=None, compare=False)
    """What the call that returned it did: ``"created"``, ``"unchanged"``, ``"updated"``."""

    @classmethod
    def from_response(cls, response: Mapping[str, Any], action: str | None = None) -> Trigger:
        """A Trigger from a Create/Get/Update/ListEventSourceMapping(s) response item."""

        def setting(api: str, argument: str) -> Any:
            value = response.get(api)
            return _BY_ARGUMENT[argument].default if value is None else value

        destination = ((response.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        filters = (response.get("FilterCriteria") or {}).get("Filters") or []
        return cls(
            uuid=response["UUID"],
            function_arn=response.get("FunctionArn", ""),
            event_source_arn=response.get("EventSourceArn", ""),
            state=response.get("State", ""),
            state_transition_reason=response.get("StateTransitionReason"),
            last_processing_result=response.get("LastProcessingResult"),
            starting_position=response.get("StartingPosition"),
            batch_size=setting("BatchSize", "batch_size"),
            maximum_batching_window_s=setting(
                "MaximumBatchingWindowInSeconds", "maximum_batching_window_s"
            ),
            parallelization_factor=setting("ParallelizationFactor", "parallelization_factor"),
            maximum_retry_attempts=setting("MaximumRetryAttempts", "maximum_retry_attempts"),
            maximum_record_age_s=setting("MaximumRecordAgeInSeconds", "maximum_record_age_s"),
            bisect_batch_on_function_error=setting(
                "BisectBatchOnFunctionError", "bisect_batch_on_function_error"
            ),
            on_failure_destination_arn=destination or None,
            report_batch_item_failures="ReportBatchItemFailures"
            in (response.get("FunctionResponseTypes") or []),
            filter_patterns=tuple(f.get("Pattern", "") for f in filters),
            tumbling_window_s=setting("TumblingWindowInSeconds", "tumbling_window_s"),
            action=action,
        )

    @property
    def function_name(self) -> str:
        """The function's name (the last part of its ARN)."""
        return _function_of(self.function_arn)

    @property
    def enabled(self) -> bool | None:
        """``True`` when Enabled or Enabling, ``False`` when Disabled or Disabling, else ``None``."""
        if self.state in _ENABLED_STATES:
            return True
        if self.state in _DISABLED_STATES:
            return False
        return None

    def settings(self) -> dict[str, Any]:
        """The settings, keyed by :func:`create_trigger`'s keyword names."""
        return {
            "starting_position": self.starting_position,
            "batch_size": self.batch_size,
            "maximum_batching_window_s": self.maximum_batching_window_s,
            "parallelization_factor": self.parallelization_factor,
            "maximum_retry_attempts": self.maximum_retry_attempts,
            "maximum_record_age_s": self.maximum_record_age_s,
            "bisect_batch_on_function_error": self.bisect_batch_on_function_error,
            "on_failure_destination_arn": self.on_failure_destination_arn,
            "report_batch_item_failures": self.report_batch_item_failures,
            "filter_patterns": self.filter_patterns,
            "tumbling_window_s": self.tumbling_window_s,
            "enabled": self.enabled,
        }

    def to_series(self) -> pd.Series:
        """The trigger as one column: identity, state and settings."""
        return pd.Series(
            {
                "uuid": self.uuid,
                "function": self.function_name,
                "stream": self.event_source_arn,
                "state": self.state,
                "state_transition_reason": self.state_transition_reason,
                **{k: v for k, v in self.settings().items() if k != "enabled"},
            },
            name=self.uuid,
        )


def _check_filter_patterns(patterns: Any) -> tuple[str, ...]:
    if isinstance(patterns, str | bytes | Mapping) or not isinstance(patterns, Iterable):
        raise InvalidParameterError(
            "filter_patterns", patterns, f"a list of at most {ESM_MAX_FILTERS} patterns"
        )
    patterns = list(patterns)
    if len(patterns) > ESM_MAX_FILTERS:
        raise InvalidParameterError(
            "filter_patterns",
            f"{len(patterns)} patterns",
            f"at most {ESM_MAX_FILTERS} patterns per trigger (AWS's default quota; they are OR-ed)",
        )
    rule = (
        "a JSON object (a dict, or a string holding one) in EventBridge pattern syntax, whose "
        'every value is an object or a list, e.g. {"eventName": ["INSERT"]}; AWS answers '
        '"Invalid filter pattern definition." otherwise'
    )
    stored = []
    for index, pattern in enumerate(patterns):
        name = f"filter_patterns[{index}]"
        if isinstance(pattern, str):
            try:
                parsed = json.loads(pattern)
            except ValueError:
                raise InvalidParameterError(name, pattern, rule) from None
            text = pattern
        elif isinstance(pattern, Mapping):
            parsed = pattern
            try:
                text = json.dumps(pattern, separators=(",", ":"))
            except (TypeError, ValueError):
                raise InvalidParameterError(name, pattern, rule) from None
        else:
            raise InvalidParameterError(name, pattern, rule)
        if len(text) > _PATTERN_MAX_CHARS:
            raise InvalidParameterError(
                name, f"{len(text)} characters", f"at most {_PATTERN_MAX_CHARS} characters of JSON"
            )
        if not isinstance(parsed, dict):
            raise InvalidParameterError(name, pattern, rule)
        try:
            parse_pattern(parsed)  # the same rules the embedded backend applies
        except FilterPatternError as exc:
            raise InvalidParameterError(name, pattern, f"{rule} ({exc.hint})") from None
        stored.append(text)
    return tuple(stored)


def _patterns_equal(a: Sequence[str], b: Sequence[str]) -> bool:
    def canonical(patterns: Sequence[str]) -> list[str]:
        out = []
        for p in patterns:
            try:
                out.append(json.dumps(json.loads(p), sort_keys=True))
            except ValueError:
                out.append(p)
        return sorted(out)

    return canonical(a) == canonical(b)


def _check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Validate the keyword settings given (None = not given); return them normalised."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if value is None and key != "on_failure_destination_arn":
            continue
        if key == "starting_position":
            if value not in ESM_STARTING_POSITIONS:
                raise InvalidParameterError(
                    "starting_position",
                    value,
                    " or ".join(ESM_STARTING_POSITIONS)
                    + " (AT_TIMESTAMP is not for DynamoDB streams)",
                )
            out[key] = value
        elif key == "batch_size":
            low, high = ESM_BATCH_SIZE_RANGE
            out[key] = _check_int(
                key, value, low, high, f"a whole number of records from {low} to {high:,}"
            )
        elif key == "maximum_batching_window_s":
            out[key] = _check_int(
                key,
                value,
                0,
                ESM_BATCHING_WINDOW_MAX_S,
                f"whole seconds from 0 to {ESM_BATCHING_WINDOW_MAX_S}",
            )
        elif key == "parallelization_factor":
            low, high = ESM_PARALLELIZATION_RANGE
            out[key] = _check_int(key, value, low, high, f"a whole number from {low} to {high}")
        elif key == "maximum_retry_attempts":
            low, high = ESM_RETRY_ATTEMPTS_RANGE
            out[key] = _check_int(
                key, value, low, high, f"-1 (retry until the record expires) or 0 to {high:,}"
            )
        elif key == "maximum_record_age_s":
            low, high = ESM_RECORD_AGE_RANGE_S
            valid = f"-1 (forever) or whole seconds from {low} to {high:,}"
            if not _is_int(value) or not (value == -1 or low <= value <= high):
                raise InvalidParameterError(key, value, valid)
            out[key] = value
        elif key == "tumbling_window_s":
            low, high = ESM_TUMBLING_WINDOW_RANGE_S
            out[key] = _check_int(
                key, value, low, high, f"whole seconds from {low} to {high} (0 = no window)"
            )
        elif key in ("bisect_batch_on_function_error", "report_batch_item_failures", "enabled"):
            out[key] = _check_bool(key, value)
        elif key == "on_failure_destination_arn":
            out[key] = None if value is None else _check_destination(value)
        elif key == "filter_patterns":
            out[key] = _check_filter_patterns(value)
        else:  # pragma: no cover - the callers pass only the keys above
            raise InvalidParameterError("setting", key, sorted(_BY_ARGUMENT))
    return out


def _to_request(settings: Mapping[str, Any], *, removing: bool = False) -> dict[str, Any]:
    """API keyword arguments for the settings given. ``removing``: an empty destination / filter
    list means "remove" (UpdateEventSourceMapping ignores an omitted one)."""
    request: dict[str, Any] = {}
    names = {
        "starting_position": "StartingPosition",
        "batch_size": "BatchSize",
        "maximum_batching_window_s": "MaximumBatchingWindowInSeconds",
        "parallelization_factor": "ParallelizationFactor",
        "maximum_retry_attempts": "MaximumRetryAttempts",
        "maximum_record_age_s": "MaximumRecordAgeInSeconds",
        "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
        "tumbling_window_s": "TumblingWindowInSeconds",
        "enabled": "Enabled",
    }
    for key, value in settings.items():
        if key in names:
            request[names[key]] = value
        elif key == "on_failure_destination_arn":
            if value:
                request["DestinationConfig"] = {"OnFailure": {"Destination": value}}
            elif removing:
                request["DestinationConfig"] = {"OnFailure": {}}
        elif key == "report_batch_item_failures":
            request["FunctionResponseTypes"] = list(ESM_FUNCTION_RESPONSE_TYPES) if value else []
        elif key == "filter_patterns":
            if value:
                request["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in value]}
            elif removing:
                request["FilterCriteria"] = {}  # as Terraform does: AWS ignores an omitted one
    return request


def _differences(existing: Trigger, wanted: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    have = existing.settings()
    diff = {}
    for key, value in wanted.items():
        old = have[key]
        if key == "enabled" and old is None:  # still Creating / Updating: cannot tell yet
            continue
        if key == "filter_patterns":
            if not _patterns_equal(old, value):
                diff[key] = (old, value)
        elif old != value:
            diff[key] = (old, value)
    return diff


def _get_mapping(backend: Backend, uuid: str) -> dict[str, Any]:
    try:
        return backend.client("lambda").get_event_source_mapping(UUID=uuid)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            raise TriggerNotFoundError(uuid) from None
        raise


def _wait_state(
    backend: Backend, uuid: str, wanted: Sequence[str], timeout_s: float
) -> dict[str, Any]:
    """Poll GetEventSourceMapping until its State is one of ``wanted``; bounded by ``timeout_s``."""
    began = _clock()
    shown = None
    while True:
        response = _get_mapping(backend, uuid)
        state, reason = response.get("State"), response.get("StateTransitionReason")
        if state in wanted:
            return response
        if state != shown:
            backend.progress(
                f"trigger {uuid} is {state}; waiting until it is {' or '.join(wanted)} "
                f"(at most {timeout_s:g} s)"
            )
            shown = state
        if state in _STABLE_STATES and str(reason or "").startswith("PROBLEM"):
            raise StreamkitError(
                f"Trigger {uuid} is {state}, not {' or '.join(wanted)}: {reason} (fix the cause, "
                f"then enable_trigger(backend, {uuid!r}))."
            )
        waited = _clock() - began
        if waited >= timeout_s:
            raise TriggerTimeoutError(uuid, " or ".join(wanted), state, reason, timeout_s)
        _sleep(min(_poll_delay(backend), timeout_s - waited))


def _check_wait(wait: Any, timeout_s: Any) -> None:
    _check_bool("wait", wait)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or not timeout_s > 0:
        raise InvalidParameterError("timeout_s", timeout_s, "a number of seconds > 0")


def _existing_for(backend: Backend, function_name: str, stream_arn: str) -> list[dict[str, Any]]:
    try:
        return [
            mapping
            for page in backend.client("lambda")
            .get_paginator("list_event_source_mappings")
            .paginate(FunctionName=function_name, EventSourceArn=stream_arn)
            for mapping in page["EventSourceMappings"]
        ]
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            raise FunctionNotFoundError(function_name) from None
        raise


def _create_mapping(backend: Backend, request: dict[str, Any]) -> dict[str, Any]:
    """CreateEventSourceMapping, retried (AWS only) while a new role's permissions propagate.

    The messages retried are those the Terraform AWS provider retries for the same reason
    (hashicorp/terraform-provider-aws, internal/service/lambda/event_source_mapping.go).
    """
    client = backend.client("lambda")
    delays = () if backend.is_local else _PROPAGATION_DELAYS_S
    for attempt in range(len(delays) + 1):
        try:
            return client.create_event_source_mapping(**request)
        except ClientError as exc:
            transient = _code(exc) == "InvalidParameterValueException" and any(
                text in _message(exc)
                for text in (
                    "cannot be assumed by Lambda",
                    "execution role does not have permissions",
                    "ensure the role can perform",
                )
            )
            if not transient or attempt == len(delays):
                raise
            backend.progress(
                f"the execution role's permissions are still propagating: retrying "
                f"CreateEventSourceMapping in {delays[attempt]:g} s"
            )
            _sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover


def create_trigger(
    backend: Backend,
    function_name: str,
    stream_arn: str,
    *,
    starting_position: str = "LATEST",
    batch_size: int = 100,
    maximum_batching_window_s: int = 0,
    parallelization_factor: int = 1,
    maximum_retry_attempts: int = -1,
    maximum_record_age_s: int = -1,
    bisect_batch_on_function_error: bool = False,
    on_failure_destination_arn: str | None = None,
    report_batch_item_failures: bool = False,
    filter_patterns: Sequence[str | Mapping[str, Any]] = (),
    tumbling_window_s: int = 0,
    enabled: bool = True,
    wait: bool = True,
    timeout_s: float = 120,
) -> Trigger:
    """Create the event source mapping that invokes a function with a DynamoDB stream's records.

    Every setting is checked against AWS's ranges before any call (see :func:`mapping_parameters`);
    the defaults are AWS's, except ``starting_position``, which AWS requires.

    Parameters
    ----------
    backend : Backend
    function_name : str
        The function's name or ARN.
    stream_arn : str
        The stream's ARN (``streams.latest_stream_arn(backend, table)``).
    starting_position : str
        ``"LATEST"`` (records written after polling starts) or ``"TRIM_HORIZON"`` (oldest retained).
    batch_size : int
        Records per invocation, 1 to 10,000.
    maximum_batching_window_s : int
        Seconds to gather records before invoking, 0 to 300.
    parallelization_factor : int
        Concurrent batches per shard, 1 to 10.
    maximum_retry_attempts : int
        -1 (until the record expires) or 0 to 10,000.
    maximum_record_age_s : int
        -1 (forever) or 60 to 604,800 seconds.
    bisect_batch_on_function_error : bool
        Split a failed batch in two and retry each half.
    on_failure_destination_arn : str, optional
        SQS queue, SNS topic or S3 bucket ARN for records of discarded batches.
    report_batch_item_failures : bool
        Honour the function's ``{"batchItemFailures": [...]}`` (partial batch response).
    filter_patterns : sequence of dict or str
        At most 5 patterns, each a JSON object (dict or JSON string); stored as JSON strings.
    tumbling_window_s : int
        0 (none) to 900 seconds.
    enabled : bool
        ``False`` creates it paused.
    wait : bool
        Wait until it is Enabled (or Disabled when ``enabled=False``).
    timeout_s : float
        Longest wait, in seconds.

    Returns
    -------
    Trigger
        ``action`` is ``"created"``, or ``"unchanged"`` if a mapping from this stream to this
        function already had these settings (none is duplicated). A created one is registered for
        :func:`teardown`.

    Raises
    ------
    InvalidParameterError
        Before any AWS call, naming the valid values.
    StreamkitError
        If a mapping from this stream to this function exists with other settings (AWS allows one
        per pair; use :func:`update_trigger`), if the function does not exist, or if waiting times
        out (the message names the state and its reason).
    StreamNotFoundError
        If the stream does not exist.
    """
    _check_function_name("function_name", function_name, arn_ok=True)
    function_name = backend.name(function_name)
    _check_stream_arn(stream_arn)
    wanted = _check_settings(
        {
            "starting_position": starting_position,
            "batch_size": batch_size,
            "maximum_batching_window_s": maximum_batching_window_s,
            "parallelization_factor": parallelization_factor,
            "maximum_retry_attempts": maximum_retry_attempts,
            "maximum_record_age_s": maximum_record_age_s,
            "bisect_batch_on_function_error": bisect_batch_on_function_error,
            "on_failure_destination_arn": on_failure_destination_arn,
            "report_batch_item_failures": report_batch_item_failures,
            "filter_patterns": filter_patterns,
            "tumbling_window_s": tumbling_window_s,
            "enabled": enabled,
        }
    )
    _check_wait(wait, timeout_s)
    target = ("Enabled",) if enabled else ("Disabled",)

    def existing(response: Mapping[str, Any]) -> Trigger:
        if wait and response.get("State") not in _STABLE_STATES:  # settle it before comparing
            response = _wait_state(backend, response["UUID"], _STABLE_STATES, timeout_s)
        trigger = Trigger.from_response(response, "unchanged")
        diff = _differences(trigger, wanted)
        if diff:
            raise TriggerExistsError(trigger.uuid, function_name, stream_arn, diff)
        return trigger

    for mapping in _existing_for(backend, function_name, stream_arn):
        return existing(mapping)

    # Send what differs from AWS's defaults (and the required StartingPosition), as the CLI does.
    changed = {
        key: value
        for key, value in wanted.items()
        if key == "starting_position" or value != _BY_ARGUMENT[key].default
    }
    request = {
        "FunctionName": function_name,
        "EventSourceArn": stream_arn,
        **_to_request(changed),
        "Tags": backend.tags,
    }
    try:
        response = _create_mapping(backend, request)
    except ClientError as exc:
        code, message = _code(exc), _message(exc)
        if code == "ResourceConflictException":
            found = re.search(r"UUID\s+([0-9a-fA-F-]{36})", message)
            if found:  # made meanwhile by someone else: judge it like one found by the listing
                return existing(_get_mapping(backend, found.group(1)))
            raise StreamkitError(
                f"A trigger from {stream_arn} to {function_name} already exists ({message}); "
                "find it with list_triggers and change it with update_trigger."
            ) from exc
        if code == "ResourceNotFoundException":
            raise FunctionNotFoundError(function_name) from exc
        if code == "InvalidParameterValueException" and "Stream not found" in message:
            raise StreamNotFoundError(
                f"Stream {stream_arn} does not exist (or its table was deleted): get the current one "
                "with streams.latest_stream_arn(backend, table)."
            ) from exc
        raise
    uuid = response["UUID"]
    if wait and response.get("State") not in target:
        response = _wait_state(backend, uuid, target, timeout_s)
    if wait and enabled and starting_position == "LATEST" and backend.kind == "aws":
        _wait_for_first_poll(backend, uuid)
    return Trigger.from_response(response, "created")


def _wait_for_first_poll(backend: Backend, uuid: str) -> None:
    """Give a new LATEST mapping time to start polling before the caller writes (AWS only).

    AWS says polling may start minutes after a mapping is created and that a LATEST mapping may
    miss what is written before; it gives no signal when polling starts. So the kit waits a fixed,
    bounded time (:data:`ESM_LATEST_FIRST_POLL_WAIT_S`), showing it, and the notebooks' reads of
    the logs wait for what they expect. The embedded backend polls from the moment of Enabled.
    """
    remaining = ESM_LATEST_FIRST_POLL_WAIT_S
    backend.progress(
        f"trigger {uuid} is Enabled; giving Lambda {remaining:g} s to start polling the stream "
        "(a LATEST trigger misses writes made before its first poll; TRIM_HORIZON misses none)"
    )
    while remaining > 0:
        step = min(_FIRST_POLL_PROGRESS_S, remaining)
        _sleep(step)
        remaining -= step
        if remaining > 0:
            backend.progress(f"  {remaining:g} s to go")


def update_trigger(
    backend: Backend,
    uuid: str,
    *,
    function_name: str | None = None,
    batch_size: int | None = None,
    maximum_batching_window_s: int | None = None,
    parallelization_factor: int | None = None,
    maximum_retry_attempts: int | None = None,
    maximum_record_age_s: int | None = None,
    bisect_batch_on_function_error: bool | None = None,
    on_failure_destination_arn: str | None = None,
    report_batch_item_failures: bool | None = None,
    filter_patterns: Sequence[str | Mapping[str, Any]] | None = None,
    tumbling_window_s: int | None = None,
    enabled: bool | None = None,
    wait: bool = True,
    timeout_s: float = 120,
) -> Trigger:
    """Change a trigger's settings in place (it keeps its position in the stream).

    Only the settings given are changed; ``None`` leaves one as it is. The stream and the starting
    position cannot be changed (delete the trigger and create another). Ranges are those of
    :func:`create_trigger`.

    Parameters
    ----------
    backend : Backend
    uuid : str
        The trigger (``Trigger.uuid``).
    function_name : str, optional
        Invoke another function from now on.
    on_failure_destination_arn : str, optional
        A new destination; ``""`` removes it.
    filter_patterns : sequence, optional
        New patterns; ``[]`` removes every filter.
    enabled : bool, optional
        Pause (``False``) or resume (``True``).
    wait : bool
        Wait until the update is applied (state Enabled or Disabled again).
    timeout_s : float
        Longest wait, in seconds.
    batch_size, maximum_batching_window_s, parallelization_factor, maximum_retry_attempts, maximum_record_age_s, bisect_batch_on_function_error, report_batch_item_failures, tumbling_window_s
        As in :func:`create_trigger`.

    Returns
    -------
    Trigger
        With ``action="updated"``.
    """
    if not isinstance(uuid, str) or not uuid:
        raise InvalidParameterError("uuid", uuid, "a trigger's UUID (Trigger.uuid)")
    given = {
        "batch_size": batch_size,
        "maximum_batching_window_s": maximum_batching_window_s,
        "parallelization_factor": parallelization_factor,
        "maximum_retry_attempts": maximum_retry_attempts,
        "maximum_record_age_s": maximum_record_age_s,
        "bisect_batch_on_function_error": bisect_batch_on_function_error,
        "report_batch_item_failures": report_batch_item_failures,
        "filter_patterns": filter_patterns,
        "tumbling_window_s": tumbling_window_s,
        "enabled": enabled,
    }
    settings = _check_settings({k: v for k, v in given.items() if v is not None})
    if on_failure_destination_arn is not None:
        settings["on_failure_destination_arn"] = (
            _check_destination(on_failure_destination_arn) if on_failure_destination_arn else None
        )
    request = _to_request(settings, removing=True)
    if function_name is not None:
        request["FunctionName"] = _check_function_name("function_name", function_name, arn_ok=True)
    if not request:
        raise InvalidParameterError(
            "settings",
            "none",
            "at least one setting to change: "
            + ", ".join(["function_name"] + [p.argument for p in _PARAMETERS[3:]]),
        )
    _check_wait(wait, timeout_s)
    client = backend.client("lambda")
    began = _clock()
    while True:
        try:
            response = client.update_event_source_mapping(UUID=uuid, **request)
            break
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                if "Function" in _message(exc) and function_name is not None:
                    raise FunctionNotFoundError(function_name) from exc
                raise TriggerNotFoundError(uuid) from exc
            # A mapping that is being created or changed takes no update yet: wait for it.
            if _code(exc) != "ResourceInUseException" or _clock() - began >= timeout_s:
                raise
            _sleep(_poll_delay(backend))
    if "UUID" not in response:  # an endpoint that answers an unknown UUID with an empty body
        response = _get_mapping(backend, uuid)
    if wait:
        target: Sequence[str] = _STABLE_STATES
        if enabled is not None:
            target = ("Enabled",) if enabled else ("Disabled",)
        if response.get("State") not in target:
            response = _wait_state(backend, uuid, target, timeout_s)
    return Trigger.from_response(response, "updated")


def enable_trigger(backend: Backend, uuid: str, *, timeout_s: float = 120) -> Trigger:
    """Resume a paused trigger and wait until it is Enabled (it resumes where it stopped)."""
    return update_trigger(backend, uuid, enabled=True, timeout_s=timeout_s)


def disable_trigger(backend: Backend, uuid: str, *, timeout_s: float = 120) -> Trigger:
    """Pause a trigger and wait until it is Disabled (records wait in the stream, up to 24 h)."""
    return update_trigger(backend, uuid, enabled=False, timeout_s=timeout_s)


def describe_trigger(backend: Backend, uuid: str) -> Trigger:
    """A trigger's current state and settings.

    Raises
    ------
    StreamkitError
        (a ``LookupError``) if no mapping has this UUID.
    """
    if not isinstance(uuid, str) or not uuid:
        raise InvalidParameterError("uuid", uuid, "a trigger's UUID (Trigger.uuid)")
    return Trigger.from_response(_get_mapping(backend, uuid))


#: Seconds between progress lines during the first-poll wait.
_FIRST_POLL_PROGRESS_S = 15.0


def delete_trigger(
    backend: Backend, uuid: str, *, wait: bool = True, timeout_s: float = 120
) -> bool:
    """Delete a trigger (its function and stream stay).

    Parameters
    ----------
    backend : Backend
    uuid : str
    wait : bool
        Wait until AWS no longer knows it (GetEventSourceMapping answers ResourceNotFoundException).
    timeout_s : float
        Longest wait, in seconds.

    Returns
    -------
    bool
        ``False`` if it did not exist.
    """
    if not isinstance(uuid, str) or not uuid:
        raise InvalidParameterError("uuid", uuid, "a trigger's UUID (Trigger.uuid)")
    _check_wait(wait, timeout_s)
    client = backend.client("lambda")
    began = _clock()
    while True:
        try:
            response = client.delete_event_source_mapping(UUID=uuid)
            if "UUID" not in response:  # an endpoint that answers an unknown UUID with nothing
                _get_mapping(backend, uuid)
            break
        except TriggerNotFoundError:
            return False
        except ClientError as exc:
            if _code(exc) == "ResourceNotFoundException":
                return False
            # A mapping that is being created or updated cannot be deleted yet.
            if _code(exc) != "ResourceInUseException" or _clock() - began >= timeout_s:
                raise
            _sleep(_poll_delay(backend))
    if wait:
        while True:
            try:
                response = client.get_event_source_mapping(UUID=uuid)
            except ClientError as exc:
                if _code(exc) == "ResourceNotFoundException":
                    break
                raise
            waited = _clock() - began
            if waited >= timeout_s:
                raise TriggerTimeoutError(
                    uuid,
                    "its deletion",
                    response.get("State"),
                    response.get("StateTransitionReason"),
                    timeout_s,
                )
            _sleep(min(_poll_delay(backend), timeout_s - waited))
    return True


def list_triggers(
    backend: Backend, function_name: str | None = None, stream_arn: str | None = None
) -> list[Trigger]:
    """The DynamoDB stream triggers, optionally of one function and/or one stream.

    Mappings of other event sources (SQS, Kinesis...) are left out.
    """
    args: dict[str, str] = {}
    if function_name is not None:
        _check_function_name("function_name", function_name, arn_ok=True)
        args["FunctionName"] = function_name = backend.name(function_name)
    if stream_arn is not None:
        args["EventSourceArn"] = _check_stream_arn(stream_arn)
    try:
        pages = (
            backend.client("lambda").get_paginator("list_event_source_mappings").paginate(**args)
        )
        return [
            Trigger.from_response(mapping)
            for page in pages
            for mapping in page["EventSourceMappings"]
            if _STREAM_ARN.fullmatch(mapping.get("EventSourceArn", ""))
        ]
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException" and function_name is not None:
            raise FunctionNotFoundError(function_name) from None
        raise


# -- 4. failure destinations -------------------------------------------------------------------------


@dataclass(frozen=True)
class FailureDestination:
    """An on-failure destination made by :func:`create_failure_destination`.

    Attributes
    ----------
    kind : str
        ``"sqs"``, ``"sns"`` or ``"s3"``.
    name : str
        Its AWS name, with the backend's prefix.
    arn : str
        What ``on_failure_destination_arn`` takes.
    url : str or None
        The queue URL (SQS only), for ReceiveMessage.
    """

    kind: str
    name: str
    arn: str
    url: str | None = None


_DESTINATION_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def create_failure_destination(backend: Backend, kind: str, name: str) -> FailureDestination:
    """Create (idempotently) an SQS queue, SNS topic or S3 bucket for records of discarded batches.

    It gets the backend's name prefix and the kit's ``streamkit-run`` tag, so :func:`teardown`
    deletes it.

    Parameters
    ----------
    backend : Backend
    kind : str
        ``"sqs"``, ``"sns"`` or ``"s3"``.
    name : str
        1 to 63 lowercase letters, digits and hyphens (valid for all three; an S3 bucket name must
        also be unique across AWS).

    Returns
    -------
    FailureDestination

    Raises
    ------
    InvalidParameterError
        Before any call, for another kind or a name that is not valid.
    NotOwnedError
        If one of that name exists without the kit's tag.
    """
    if kind not in ("sqs", "sns", "s3"):
        raise InvalidParameterError("kind", kind, ("sqs", "sns", "s3"))
    if not isinstance(name, str) or not _DESTINATION_NAME.fullmatch(backend.name(name)):
        raise InvalidParameterError(
            "name", name, "1 to 63 lowercase letters, digits and hyphens, prefix included"
        )
    name = backend.name(name)
    if kind == "sqs":
        sqs = backend.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            if not _gone(exc):
                raise
            url = _create_queue(backend, name)
        else:
            if not _has_run_tag(sqs.list_queue_tags(QueueUrl=url).get("Tags", {})):
                raise NotOwnedError("SQS queue", name, RUN_TAG)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return FailureDestination(kind, name, arn, url)
    if kind == "sns":
        sns = backend.client("sns")
        existing = _topic_arn(backend, name)
        if existing is None:
            return FailureDestination(
                kind, name, sns.create_topic(Name=name, Tags=backend.tag_list)["TopicArn"]
            )
        if not _has_run_tag(_topic_tags(backend, existing)):
            raise NotOwnedError("SNS topic", name, RUN_TAG)
        return FailureDestination(kind, name, existing)
    s3 = backend.client("s3")
    try:
        tags = _bucket_tags(backend, name)
    except ClientError as exc:
        if not (_gone(exc) or _code(exc) == "404"):
            raise
        args: dict[str, Any] = {"Bucket": name}
        if backend.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": backend.region}
        s3.create_bucket(**args)
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": backend.tag_list})
    else:
        if not _has_run_tag(tags):
            raise NotOwnedError("S3 bucket", name, RUN_TAG)
    return FailureDestination(kind, name, f"arn:aws:s3:::{name}")


def read_failure_records(
    backend: Backend,
    queue_url: str,
    *,
    expect: int = 1,
    timeout_s: float | None = None,
) -> list[dict[str, Any]]:
    """Take the failure records of discarded batches off an SQS on-failure destination.

    Each message is read, parsed and deleted, so that the next call sees only newer ones (an
    unread message would come back after its visibility timeout). Waits, with progress on AWS,
    until ``expect`` records are there: Lambda sends them after its retries, and SQS delivers them
    seconds later.

    Parameters
    ----------
    backend : Backend
    queue_url : str
        The queue's URL (:attr:`FailureDestination.url`).
    expect : int
        How many records to wait for (at least 1).
    timeout_s : float, optional
        Longest wait, in seconds: default 5 on the embedded backend, 120 elsewhere.

    Returns
    -------
    list of dict
        The failure records (``requestContext``, ``responseContext``, ``DDBStreamBatchInfo``, ...),
        oldest first as SQS hands them out; at least ``expect`` of them.

    Raises
    ------
    StreamkitError
        When fewer than ``expect`` arrived in ``timeout_s``, saying how many did.
    """
    from .limits import LOGS_ARRIVAL_TIMEOUT_S

    if not isinstance(queue_url, str) or not queue_url.startswith(("http://", "https://")):
        raise InvalidParameterError("queue_url", queue_url, "an SQS queue URL (destination.url)")
    _check_int("expect", expect, 1, 10_000, "a whole number of records >= 1")
    if timeout_s is None:
        timeout_s = 5.0 if backend.is_local else LOGS_ARRIVAL_TIMEOUT_S
    _check_wait(True, timeout_s)
    sqs = backend.client("sqs")
    records: list[dict[str, Any]] = []
    began = _clock()
    while True:
        waited = _clock() - began
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0 if backend.is_local else int(min(20, max(timeout_s - waited, 0))),
        )
        for message in response.get("Messages", []):
            records.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(records) >= expect:
            return records
        waited = _clock() - began
        if waited >= timeout_s:
            raise StreamkitError(
                f"{len(records)} failure record(s) arrived on {queue_url}, not the {expect} "
                f"expected, within {timeout_s:g} s. Did the trigger give up on a batch yet "
                "(describe_trigger(...).last_processing_result)?"
            )
        backend.progress(
            f"{len(records)} of {expect} failure record(s) on the queue so far; waiting"
        )
        if backend.is_local:
            _sleep(min(0.05, timeout_s - waited))


#: SQS refuses a queue name for 60 s after a queue of that name was deleted (a run right after a
#: teardown): retried this long. Source: SQS API Reference, CreateQueue, "QueueDeletedRecently"
#: (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html).
_QUEUE_NAME_REUSE_WAIT_S = 70.0


def _create_queue(backend: Backend, name: str) -> str:
    """CreateQueue with the kit's tags, waiting (with progress) while SQS still holds the name."""
    sqs = backend.client("sqs")
    began = _clock()
    while True:
        try:
            return str(sqs.create_queue(QueueName=name, tags=backend.tags)["QueueUrl"])
        except ClientError as exc:
            if "QueueDeletedRecently" not in _code(exc):
                raise
            waited = _clock() - began
            if waited >= _QUEUE_NAME_REUSE_WAIT_S:
                raise
            backend.progress(
                f"SQS still holds the name {name} of a queue deleted less than 60 s ago; "
                "trying again in 10 s"
            )
            _sleep(min(10.0, _QUEUE_NAME_REUSE_WAIT_S - waited))


# -- 5. teardown ---------------------------------------------------------------------------------------


def _gone(exc: ClientError) -> bool:
    return _code(exc) in (
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NoSuchBucket",
        "NotFound",
        "NotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    )


def _as_tag_dict(tags: Any) -> dict[str, str]:
    """Tags as a dict, from a dict or a ``[{"Key"|"key": ..., "Value"|"value": ...}]`` list."""
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {
        str(tag.get("Key", tag.get("key"))): str(tag.get("Value", tag.get("value")))
        for tag in tags or []
    }


def _has_run_tag(tags: Any) -> bool:
    return RUN_TAG in _as_tag_dict(tags)


def _role_tags(backend: Backend, name: str) -> dict[str, str]:
    iam = backend.client("iam")
    return _as_tag_dict(
        [
            tag
            for page in iam.get_paginator("list_role_tags").paginate(RoleName=name)
            for tag in page["Tags"]
        ]
    )


def _topic_tags(backend: Backend, arn: str) -> dict[str, str]:
    return _as_tag_dict(backend.client("sns").list_tags_for_resource(ResourceArn=arn)["Tags"])


def _bucket_tags(backend: Backend, bucket: str) -> dict[str, str]:
    """A bucket's tags (none if it has no tag set; ClientError if there is no such bucket)."""
    try:
        tag_set = backend.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError as exc:
        if _code(exc) != "NoSuchTagSet":
            raise
        tag_set = []
    return _as_tag_dict(tag_set)


def _function_log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def _create_log_group(backend: Backend, name: str) -> None:
    """Create a function's log group with the kit's tag before Lambda makes one without it.

    Raises
    ------
    NotOwnedError
        If the group exists without the kit's tag (its old events would pass for the new
        function's).
    """
    logs = backend.client("logs")
    try:
        logs.create_log_group(logGroupName=name, tags=backend.tags)
    except ClientError as exc:
        if _code(exc) != "ResourceAlreadyExistsException":
            raise
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    arn = group["arn"].removesuffix(":*")
                    tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
                    if not _has_run_tag(tags):
                        raise NotOwnedError("log group", name, RUN_TAG) from None


def _delete_role_and_policies(backend: Backend, name: str) -> None:
    iam = backend.client("iam")
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy_name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for attached in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def _topic_arn(backend: Backend, name: str) -> str | None:
    """A topic's ARN from its name, if it exists."""
    for page in backend.client("sns").get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return str(topic["TopicArn"])
    return None


def _empty_and_delete_bucket(backend: Backend, bucket: str) -> None:
    s3 = backend.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects = [
            {"Key": o["Key"], "VersionId": o["VersionId"]}
            for o in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    s3.delete_bucket(Bucket=bucket)


@dataclass(frozen=True)
class _Found:
    """A resource with the kit's prefix found by :func:`_discover`, with its tags."""

    kind: str
    name: str
    tags: dict[str, str]
    delete: Callable[[], object]
    function: str | None = None  # a mapping's function


def _discover(backend: Backend) -> list[_Found]:
    """Every resource whose name has the backend's prefix, in teardown order, with its tags.

    Event source mappings have no name: those whose function has the prefix are listed (also when
    the function is gone), each with its own tags. A resource that disappears between the listing
    and the reading of its tags (another teardown, AWS's eventually consistent lists) is left out.
    """
    from .streams import delete_table

    prefix = backend.prefix
    found: list[_Found] = []

    def add(
        kind: str,
        name: str,
        read_tags: Callable[[], Any],
        delete: Callable[[], object],
        function: str | None = None,
    ) -> None:
        try:
            tags = _as_tag_dict(read_tags())
        except ClientError as exc:
            if _gone(exc) or _code(exc) == "404":
                return
            raise
        found.append(_Found(kind, name, tags, delete, function))

    lam = backend.client("lambda")
    functions = [
        function
        for page in lam.get_paginator("list_functions").paginate()
        for function in page["Functions"]
        if function["FunctionName"].startswith(prefix)
    ]
    # Every mapping of a function with the prefix, whether the function still exists or not (AWS
    # keeps a mapping when its function is deleted), judged by its own tags.
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        for mapping in page["EventSourceMappings"]:
            function = _function_of(mapping.get("FunctionArn", ""))
            arn = mapping.get("EventSourceMappingArn")
            if function.startswith(prefix):
                add(
                    "event-source-mapping",
                    mapping["UUID"],
                    lambda arn=arn: lam.list_tags(Resource=arn)["Tags"] if arn else {},
                    lambda uuid=mapping["UUID"]: delete_trigger(backend, uuid, wait=True),
                    function,
                )
    for f in functions:
        add(
            "function",
            f["FunctionName"],
            lambda arn=f["FunctionArn"]: lam.list_tags(Resource=arn)["Tags"],
            lambda name=f["FunctionName"]: lam.delete_function(FunctionName=name),
        )

    logs = backend.client("logs")
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=_function_log_group(prefix)
    ):
        for group in page["logGroups"]:
            arn = group["arn"].removesuffix(":*")  # DescribeLogGroups adds ":*"; tags want none
            add(
                "log-group",
                group["logGroupName"],
                lambda arn=arn: logs.list_tags_for_resource(resourceArn=arn)["tags"],
                lambda name=group["logGroupName"]: logs.delete_log_group(logGroupName=name),
            )

    for page in backend.client("iam").get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            name = role["RoleName"]
            if name.startswith(prefix):
                add(
                    "role",
                    name,
                    lambda name=name: _role_tags(backend, name),
                    lambda name=name: _delete_role_and_policies(backend, name),
                )

    sqs = backend.client("sqs")
    for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix):
        for url in page.get("QueueUrls", []):
            add(
                "queue",
                url.rsplit("/", 1)[-1],
                lambda url=url: sqs.list_queue_tags(QueueUrl=url).get("Tags", {}),
                lambda url=url: sqs.delete_queue(QueueUrl=url),
            )

    sns = backend.client("sns")
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            arn = topic["TopicArn"]
            if arn.rsplit(":", 1)[-1].startswith(prefix):
                add(
                    "topic",
                    arn.rsplit(":", 1)[-1],
                    lambda arn=arn: _topic_tags(backend, arn),
                    lambda arn=arn: sns.delete_topic(TopicArn=arn),
                )

    for bucket in backend.client("s3").list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if name.startswith(prefix):
            add(
                "bucket",
                name,
                lambda name=name: _bucket_tags(backend, name),
                lambda name=name: _empty_and_delete_bucket(backend, name),
            )

    ddb = backend.client("dynamodb")
    for page in ddb.get_paginator("list_tables").paginate():
        for name in page["TableNames"]:
            if name.startswith(prefix):
                add(
                    "table",
                    name,
                    lambda name=name: ddb.list_tags_of_resource(
                        ResourceArn=ddb.describe_table(TableName=name)["Table"]["TableArn"]
                    ).get("Tags", []),
                    lambda name=name: delete_table(backend, name),
                )
    return found


def teardown(backend: Backend, *, dry_run: bool = False, all_runs: bool = False) -> pd.DataFrame:
    """Delete what the kit created in this run, and nothing else; report every decision.

    It lists every service the kit uses (Lambda functions and their event source mappings, log
    groups ``/aws/lambda/<prefix>*``, IAM roles, SQS queues, SNS topics, S3 buckets, DynamoDB
    tables) for names with the backend's prefix, and deletes those whose ``streamkit-run`` tag is
    this backend's run id, in dependency order: mappings (waiting until they are gone), functions,
    log groups, roles (inline policies first), queues, topics, buckets (emptied first), tables.
    A resource without the tag is never deleted, whatever its name. Because it lists rather than
    remembers, it also works after a kernel restart: ``connect(..., run_id=<earlier run>)``, or
    ``all_runs=True`` for every run.

    Parameters
    ----------
    backend : Backend
    dry_run : bool
        Only report what would be deleted.
    all_runs : bool
        Delete what any streamkit run created (with this prefix), not only this run.

    Returns
    -------
    pandas.DataFrame
        One row per resource found: ``kind``, ``name`` (a mapping's UUID), ``run`` (its tag, or
        ``""``) and ``action``: ``"deleted"``, ``"already gone"``, ``"would delete"``,
        ``"kept: not created by streamkit"`` (no tag) or ``"kept: another run"``.

    Raises
    ------
    StreamkitError
        If some deletions failed (after trying all of them); ``error.report`` holds the frame,
        with ``"failed: <error>"`` in their rows. A function whose trigger could not be deleted
        is kept (``"failed: its trigger could not be deleted"``), so that running teardown again
        still finds the trigger through it.
    """
    _check_bool("dry_run", dry_run)
    _check_bool("all_runs", all_runs)
    rows: list[dict[str, str]] = []
    failures = []
    # A function whose mapping could not be deleted is kept: deleting it would leave the mapping
    # behind where the next teardown cannot find it (it finds mappings through their functions).
    blocked: set[str] = set()
    for item in _discover(backend):
        run = item.tags.get(RUN_TAG, "")
        if not run:
            action = "kept: not created by streamkit"
        elif not all_runs and run != backend.run_id:
            action = "kept: another run"
        elif dry_run:
            action = "would delete"
        elif item.kind == "function" and item.name in blocked:
            action = "failed: its trigger could not be deleted"
            failures.append(item.name)
        else:
            try:
                done = _deleted(item.delete)
            except ClientError as exc:
                action = f"failed: {_code(exc)}: {_message(exc)}"
            except (StreamkitError, WaiterError) as exc:  # a wait for the deletion timed out
                action = f"failed: {type(exc).__name__}: {exc}"
            else:
                action = "deleted" if done else "already gone"
            if action.startswith("failed"):
                failures.append(item.name)
                if item.function is not None:
                    blocked.add(item.function)
        rows.append({"kind": item.kind, "name": item.name, "run": run, "action": action})
    report = pd.DataFrame(rows, columns=["kind", "name", "run", "action"])
    if failures:
        error = StreamkitError(
            f"teardown could not delete {len(failures)} resource(s): {', '.join(failures)}; "
            "see error.report, fix the cause (often a missing permission) and run it again."
        )
        error.report = report  # type: ignore[attr-defined]
        raise error
    return report


def _deleted(delete: Callable[[], object]) -> bool:
    """Run one deletion; ``False`` if the resource was already gone."""
    try:
        result = delete()
    except ClientError as exc:
        if _gone(exc):
            return False
        raise
    return result is not False
