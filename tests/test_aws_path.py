"""Running the walkthrough on real AWS safely (issue 6), without real AWS.

* The AWS code path (kind "endpoint": progress shown, AWS's waits) against the embedded backend with
  its local Lambda service off, so mappings stay "Creating" as they can for minutes on AWS.
* A full walkthrough on the embedded backend, then teardown among look-alikes: untagged resources with
  the same prefix and another run's resources are never deleted by mistake.
* Ownership: the helpers refuse to adopt an untagged resource that has the kit's name.
* botocore's Stubber for what only AWS does (IAM propagation, slow mappings, the first poll of a
  LATEST mapping, late and throttled logs), and a ``before-send`` hook for control-plane throttling
  (botocore's retries, which Stubber would skip).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from helpers import (
    STUB_PREFIX,
    STUB_TAGS,
    TEARDOWN_ORDER,
    LocalView,
    assert_in_dependency_order,
    client_error,
    inventory,
    zip_source,
)

import streamkit
from streamkit import streams, triggers, waiting
from streamkit.backends import RUN_TAG, RemoteBackend
from streamkit.destinations import create_failure_destination
from streamkit.errors import NotOwnedError, StreamkitError, TriggerTimeoutError
from streamkit.functions import deploy_function
from streamkit.iam import create_execution_role, lambda_trust_policy
from streamkit.limits import ESM_LATEST_FIRST_POLL_WAIT_S, STREAM_ARN_PATTERN
from streamkit.logs import events_from_logs, log_messages
from streamkit.teardown import teardown

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{STUB_PREFIX}Users"
STREAM_ARN = TABLE_ARN + "/stream/2026-11-27T10:00:00.000"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{STUB_PREFIX}fn-role"
FN = STUB_PREFIX + "fn"
FN_GROUP = f"/aws/lambda/{FN}"
OTHER_RUN = "20261127-090000-0a0b"  # another run, in the format new_run_id makes


_runs = itertools.count(1)


def unique_prefix(word: str) -> str:
    """A prefix no other test (or earlier run of this one in the session) uses."""
    return f"{word}{next(_runs)}-"


def progress_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("[streamkit]")]


def rows(report: Any) -> set[tuple[str, str, str, str]]:
    return {tuple(row) for row in report[["kind", "name", "run", "action"]].values.tolist()}


@pytest.fixture
def short_sleeps(monkeypatch):
    """The kit's waits pause at most 20 ms (their timeouts still run on the real clock)."""
    real = time.sleep
    monkeypatch.setattr(waiting, "_sleep", lambda seconds: real(min(seconds, 0.02)))


# -- a. the AWS code path against an endpoint, mappings stuck in Creating -------------------------------


@pytest.fixture
def lambda_service_off(aws):
    """The embedded backend with its local Lambda service stopped: mappings stay "Creating" and no
    function runs. Call the returned function to start it again; it is started again in any case
    when the test ends, whatever happened."""
    aws.lambda_service.close()  # idempotent; restart_lambda_service closes it (again) first
    try:
        yield aws.restart_lambda_service
    finally:
        aws.restart_lambda_service()


def test_the_aws_path_on_an_endpoint_where_mappings_stay_creating(
    aws, lambda_service_off, short_sleeps, capsys
):
    prefix = unique_prefix("ep")
    remote = streamkit.connect(aws.endpoint_url, prefix=prefix)
    try:
        _aws_path(aws, remote, prefix, lambda_service_off, capsys)
    finally:  # whatever failed: the Lambda service on again, and nothing left behind
        lambda_service_off()
        teardown(remote, all_runs=True)


def _aws_path(aws: Any, remote: Any, prefix: str, restart: Any, capsys: Any) -> None:
    assert (remote.kind, remote.is_local, remote.show_progress) == ("endpoint", False, True)
    assert f"endpoint {aws.endpoint_url}" in remote.describe()
    assert "********9012" in remote.describe() and ACCOUNT not in remote.describe()

    table_arn = streams.create_users_table(remote, "Users")
    assert table_arn.endswith(f":table/{prefix}Users")
    stream = streams.enable_stream(remote, "Users", "NEW_AND_OLD_IMAGES").stream_arn
    queue = create_failure_destination(remote, "sqs", "failures")
    topic = create_failure_destination(remote, "sns", "alerts")
    bucket = create_failure_destination(remote, "s3", "discarded")
    role = create_execution_role(remote, "fn", table_arn, on_failure_destination_arn=queue.arn)
    function = deploy_function(remote, "fn", FUNCTIONS / "log_event", role_arn=role.arn)
    other = deploy_function(remote, "fn2", FUNCTIONS / "log_event", role_arn=role.arn)
    capsys.readouterr()

    with pytest.raises(TriggerTimeoutError) as err:
        triggers.create_trigger(
            remote, "fn", stream, on_failure_destination_arn=queue.arn, timeout_s=0.3
        )
    assert err.value.state == "Creating"
    assert "still 'Creating'" in str(err.value) and "waiting for Enabled" in str(err.value)
    assert "timeout_s=" in str(err.value)  # what to do about it
    shown = progress_lines(capsys)
    assert shown == [
        f"[streamkit] trigger {err.value.uuid} is Creating; waiting until it is Enabled "
        "(at most 0.3 s)"
    ]

    # Without waiting: made, and reported as it is; asked again, nothing is duplicated.
    started = triggers.create_trigger(remote, "fn2", stream, wait=False)
    assert (started.action, started.state, started.enabled) == ("created", "Creating", None)
    again = triggers.create_trigger(
        remote, "fn", stream, on_failure_destination_arn=queue.arn, wait=False
    )
    assert (again.uuid, again.action) == (err.value.uuid, "unchanged")
    assert {t.uuid for t in triggers.list_triggers(remote, stream_arn=stream)} == {
        err.value.uuid,
        started.uuid,
    }

    remote.client("dynamodb").put_item(
        TableName=f"{prefix}Users",
        Item={"userId": {"S": "user_1"}, "createdAt": {"S": "2026-11-27"}},
    )
    with pytest.raises(StreamkitError) as late:
        events_from_logs(remote, "fn", expect=1, timeout_s=0.3)
    message = str(late.value)
    assert f"/aws/lambda/{prefix}fn holds 0 events, not the 1 expected, after 0.3 s" in message
    assert "last_processing_result" in message
    assert progress_lines(capsys) == [
        f"[streamkit] /aws/lambda/{prefix}fn: 0 of 1 events so far; logs arrive late on AWS, "
        "waiting (at most 0.3 s)"
    ]

    # AWS finishes creating them in the end; only then can they be deleted.
    restart()
    ours = {
        ("event-source-mapping", err.value.uuid),
        ("event-source-mapping", started.uuid),
        ("function", function.name),
        ("function", other.name),
        ("log-group", f"/aws/lambda/{function.name}"),
        ("log-group", f"/aws/lambda/{other.name}"),
        ("role", role.name),
        ("queue", queue.name),
        ("topic", topic.name),
        ("bucket", bucket.name),
        ("table", f"{prefix}Users"),
    }
    assert inventory(remote, prefix) == ours
    report = teardown(remote)
    assert_in_dependency_order(report)
    assert rows(report) == {(kind, name, remote.run_id, "deleted") for kind, name in ours}
    assert inventory(remote, prefix) == set()
    assert teardown(remote).empty


# -- b. a full walkthrough, then teardown among look-alikes ---------------------------------------------


def _put_user(backend: Any, table: str, user_id: str, firstname: str | None) -> None:
    item = {"userId": {"S": user_id}, "createdAt": {"S": "2026-11-27"}}
    if firstname is not None:
        item["firstname"] = {"S": firstname}
    backend.client("dynamodb").put_item(TableName=backend.name(table), Item=item)


def _look_alikes(backend: Any, prefix: str) -> set[tuple[str, str]]:
    """Resources with the kit's prefix made with plain boto3 calls: no run tag."""
    p = prefix
    ddb, iam, lam, logs = (backend.client(s) for s in ("dynamodb", "iam", "lambda", "logs"))
    ddb.create_table(
        TableName=f"{p}Mine",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    role_arn = iam.create_role(
        RoleName=f"{p}mine-role",
        AssumeRolePolicyDocument=json.dumps(lambda_trust_policy()),
        Tags=[{"Key": "team", "Value": "data"}],  # tagged, but not by streamkit
    )["Role"]["Arn"]
    lam.create_function(
        FunctionName=f"{p}mine",
        Runtime="python3.12",
        Role=role_arn,
        Handler="app.handler",
        Code={"ZipFile": zip_source("def handler(event, context):\n    return None\n")},
    )
    backend.client("sqs").create_queue(QueueName=f"{p}mine")
    backend.client("sns").create_topic(Name=f"{p}mine")
    backend.client("s3").create_bucket(Bucket=f"{p}mine")
    logs.create_log_group(logGroupName=f"/aws/lambda/{p}mine")
    return {
        ("table", f"{p}Mine"),
        ("role", f"{p}mine-role"),
        ("function", f"{p}mine"),
        ("queue", f"{p}mine"),
        ("topic", f"{p}mine"),
        ("bucket", f"{p}mine"),
        ("log-group", f"/aws/lambda/{p}mine"),
    }


def _delete_look_alikes(backend: Any, prefix: str) -> None:
    p = prefix
    calls = [
        lambda: backend.client("lambda").delete_function(FunctionName=f"{p}mine"),
        lambda: backend.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{p}mine"),
        lambda: backend.client("iam").delete_role(RoleName=f"{p}mine-role"),
        lambda: backend.client("sqs").delete_queue(
            QueueUrl=backend.client("sqs").get_queue_url(QueueName=f"{p}mine")["QueueUrl"]
        ),
        lambda: backend.client("sns").delete_topic(
            TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:{p}mine"
        ),
        lambda: backend.client("s3").delete_bucket(Bucket=f"{p}mine"),
        lambda: backend.client("dynamodb").delete_table(TableName=f"{p}Mine"),
    ]
    for call in calls:
        try:
            call()
        except ClientError:
            pass


def test_a_full_walkthrough_then_teardown_deletes_exactly_this_run(aws, fast_polling):
    prefix = unique_prefix("walk")
    kit = LocalView(aws, prefix)
    try:
        _walkthrough_then_teardown(aws, kit, prefix)
    finally:  # whatever failed: leave nothing behind for later tests
        teardown(kit, all_runs=True)
        _delete_look_alikes(kit, prefix)
    assert inventory(kit, prefix) == set()


def _walkthrough_then_teardown(aws: Any, kit: Any, prefix: str) -> None:
    # 01: a table with a stream; 04: a second table with one, and an Idempotency table.
    users_arn = streams.create_users_table(kit, "Users")
    users = streams.enable_stream(kit, "Users", "NEW_AND_OLD_IMAGES").stream_arn
    streams.create_users_table(kit, "Signups")
    signups = streams.enable_stream(kit, "Signups", "NEW_IMAGE").stream_arn
    streams.create_table(kit, "Idempotency", streams.TableKey("id"))
    queue = create_failure_destination(kit, "sqs", "log-failures")
    topic = create_failure_destination(kit, "sns", "validate-failures")
    bucket = create_failure_destination(kit, "s3", "signup-failures")

    # 02: two functions with their roles, three triggers, one destination of each kind.
    log_role = create_execution_role(kit, "log", users_arn, on_failure_destination_arn=queue.arn)
    log = deploy_function(kit, "log", FUNCTIONS / "log_event", role_arn=log_role.arn)
    validate_role = create_execution_role(
        kit,
        "validate",
        users_arn,
        on_failure_destination_arn=topic.arn,
        extra_statements=[
            {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": f"{bucket.arn}/*"}
        ],
    )
    validate = deploy_function(
        kit, "validate", FUNCTIONS / "validate_user", role_arn=validate_role.arn
    )
    t_log = triggers.create_trigger(
        kit, "log", users, starting_position="TRIM_HORIZON", on_failure_destination_arn=queue.arn
    )
    t_validate = triggers.create_trigger(
        kit,
        "validate",
        users,
        starting_position="TRIM_HORIZON",
        maximum_retry_attempts=0,
        on_failure_destination_arn=topic.arn,
    )
    t_signups = triggers.create_trigger(
        kit,
        "validate",
        signups,
        starting_position="TRIM_HORIZON",
        maximum_retry_attempts=0,
        on_failure_destination_arn=bucket.arn,
    )

    # 03: writes, read back from the logs.
    for number, name in enumerate(["Ada", "Grace", "Alan"], start=1):
        _put_user(kit, "Users", f"user_{number}", name)
    _put_user(kit, "Signups", "poison", None)  # no firstname: discarded, its batch goes to S3
    aws.settle(timeout=30)
    received = events_from_logs(kit, "log", expect=1)
    keys = [r.keys["userId"] for e in received for r in e.records]
    assert keys == ["user_1", "user_2", "user_3"]
    assert log_messages(kit, "validate", prefix="PROCESSED", expect=3) == [
        "PROCESSED user_1",
        "PROCESSED user_2",
        "PROCESSED user_3",
    ]
    discarded = kit.client("s3").list_objects_v2(Bucket=bucket.name).get("Contents", [])
    assert len(discarded) == 1  # teardown has to empty the bucket before deleting it

    run = kit.run_id
    lam = kit.client("lambda")
    for trigger in (t_log, t_validate, t_signups):  # every mapping carries the run's tag
        arn = lam.get_event_source_mapping(UUID=trigger.uuid)["EventSourceMappingArn"]
        assert lam.list_tags(Resource=arn)["Tags"] == {RUN_TAG: run}
    this_run = {
        ("event-source-mapping", t_log.uuid),
        ("event-source-mapping", t_validate.uuid),
        ("event-source-mapping", t_signups.uuid),
        ("function", log.name),
        ("function", validate.name),
        ("log-group", f"/aws/lambda/{log.name}"),
        ("log-group", f"/aws/lambda/{validate.name}"),
        ("role", log_role.name),
        ("role", validate_role.name),
        ("queue", queue.name),
        ("topic", topic.name),
        ("bucket", bucket.name),
        ("table", f"{prefix}Users"),
        ("table", f"{prefix}Signups"),
        ("table", f"{prefix}Idempotency"),
    }

    # Look-alikes: untagged, with the same prefix; and what another run of the kit made.
    untagged = _look_alikes(kit, prefix)
    other = LocalView(aws, prefix, run_id=OTHER_RUN)  # kit-format run id: --all-runs takes it
    other_role = create_execution_role(other, "old", users_arn)
    old = deploy_function(other, "old", FUNCTIONS / "log_event", role_arn=other_role.arn)
    other_queue = create_failure_destination(other, "sqs", "old")
    streams.create_table(other, "Old", streams.TableKey("pk"))
    other_run = {
        ("function", old.name),
        ("log-group", f"/aws/lambda/{old.name}"),
        ("role", other_role.name),
        ("queue", other_queue.name),
        ("table", f"{prefix}Old"),
    }
    assert inventory(kit, prefix) == this_run | untagged | other_run

    planned = teardown(kit, dry_run=True)
    assert inventory(kit, prefix) == this_run | untagged | other_run  # nothing deleted
    assert_in_dependency_order(planned)
    assert rows(planned) == (
        {(kind, name, run, "would delete") for kind, name in this_run}
        | {(kind, name, "", "kept: not created by streamkit") for kind, name in untagged}
        | {(kind, name, OTHER_RUN, "kept: another run") for kind, name in other_run}
    )

    done = teardown(kit)
    assert_in_dependency_order(done)
    deleted = done[done["action"] == "deleted"]
    assert set(zip(deleted["kind"], deleted["name"], strict=True)) == this_run
    assert list(dict.fromkeys(deleted["kind"])) == TEARDOWN_ORDER  # mappings first, tables last
    assert rows(done) == (
        {(kind, name, run, "deleted") for kind, name in this_run}
        | {(kind, name, "", "kept: not created by streamkit") for kind, name in untagged}
        | {(kind, name, OTHER_RUN, "kept: another run") for kind, name in other_run}
    )
    assert inventory(kit, prefix) == untagged | other_run
    assert kit.client("s3").list_objects_v2(Bucket=f"{prefix}mine").get("KeyCount", 0) == 0

    everything = teardown(kit, all_runs=True)
    assert rows(everything) == (
        {(kind, name, OTHER_RUN, "deleted") for kind, name in other_run}
        | {(kind, name, "", "kept: not created by streamkit") for kind, name in untagged}
    )
    assert inventory(kit, prefix) == untagged  # never the untagged ones
    _delete_look_alikes(kit, prefix)


# -- c. the helpers never adopt an untagged resource with the kit's name ------------------------------


def test_helpers_refuse_untagged_resources_with_the_kits_names(aws, tmp_path):
    prefix = unique_prefix("own")
    kit = LocalView(aws, prefix)
    untagged = _look_alikes(kit, prefix)
    before = inventory(kit, prefix)
    ddb, iam, lam = (kit.client(s) for s in ("dynamodb", "iam", "lambda"))
    table_arn = ddb.describe_table(TableName=f"{prefix}Mine")["Table"]["TableArn"]
    role_arn = iam.get_role(RoleName=f"{prefix}mine-role")["Role"]["Arn"]
    function = lam.get_function_configuration(FunctionName=f"{prefix}mine")
    try:
        refusals = [
            ("table", lambda: streams.create_table(kit, "Mine", streams.TableKey("pk"))),
            ("IAM role", lambda: create_execution_role(kit, "mine", table_arn)),
            (
                "Lambda function",
                lambda: deploy_function(kit, "mine", FUNCTIONS / "log_event", role_arn=role_arn),
            ),
            ("SQS queue", lambda: create_failure_destination(kit, "sqs", "mine")),
            ("SNS topic", lambda: create_failure_destination(kit, "sns", "mine")),
            ("S3 bucket", lambda: create_failure_destination(kit, "s3", "mine")),
        ]
        for kind, call in refusals:
            with pytest.raises(NotOwnedError) as err:
                call()
            assert err.value.kind == kind
            assert err.value.resource_name.startswith(prefix)
            assert "will not change or delete it" in str(err.value)
            assert "prefix=" in str(err.value)  # the way out

        # Untouched: nothing made, no tag added, no policy put, no code or configuration changed.
        assert inventory(kit, prefix) == before == untagged
        assert ddb.list_tags_of_resource(ResourceArn=table_arn)["Tags"] == []
        assert iam.list_role_tags(RoleName=f"{prefix}mine-role")["Tags"] == [
            {"Key": "team", "Value": "data"}
        ]
        assert iam.list_role_policies(RoleName=f"{prefix}mine-role")["PolicyNames"] == []
        now = lam.get_function_configuration(FunctionName=f"{prefix}mine")
        assert (now["CodeSha256"], now["Handler"], now["Role"]) == (
            function["CodeSha256"],
            function["Handler"],
            function["Role"],
        )
        assert lam.list_tags(Resource=function["FunctionArn"])["Tags"] == {}
        queue_url = kit.client("sqs").get_queue_url(QueueName=f"{prefix}mine")["QueueUrl"]
        assert kit.client("sqs").list_queue_tags(QueueUrl=queue_url).get("Tags", {}) == {}
        topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:{prefix}mine"
        assert kit.client("sns").list_tags_for_resource(ResourceArn=topic_arn)["Tags"] == []
        with pytest.raises(ClientError) as no_tags:
            kit.client("s3").get_bucket_tagging(Bucket=f"{prefix}mine")
        assert no_tags.value.response["Error"]["Code"] == "NoSuchTagSet"
        assert set(teardown(kit)["action"]) == {"kept: not created by streamkit"}

        # A new function whose log group already exists untagged (its old events would pass for
        # the new function's): refused, and the function just created is removed again.
        kit.client("logs").create_log_group(logGroupName=f"/aws/lambda/{prefix}fresh")
        with pytest.raises(NotOwnedError) as err:
            deploy_function(kit, "fresh", FUNCTIONS / "log_event", role_arn=role_arn)
        assert err.value.kind == "log group"
        with pytest.raises(ClientError):
            lam.get_function_configuration(FunctionName=f"{prefix}fresh")
        kit.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{prefix}fresh")
    finally:
        _delete_look_alikes(kit, prefix)


# -- d. what only AWS does: botocore's Stubber ----------------------------------------------------------


def _mapping(**overrides: Any) -> dict[str, Any]:
    return {
        "UUID": "a1b2c3d4-0000-4000-8000-000000000001",
        "StartingPosition": "LATEST",
        "BatchSize": 100,
        "EventSourceArn": STREAM_ARN,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FN}",
        "State": "Creating",
        "StateTransitionReason": "User action",
        **overrides,
    }


def _expect_create(stubbed: Any, starting_position: str, states: list[str]) -> Any:
    lam = stubbed.stub("lambda")
    lam.add_response(
        "list_event_source_mappings",
        {"EventSourceMappings": []},
        {"FunctionName": FN, "EventSourceArn": STREAM_ARN},
    )
    lam.add_response(
        "create_event_source_mapping",
        _mapping(StartingPosition=starting_position),
        {
            "FunctionName": FN,
            "EventSourceArn": STREAM_ARN,
            "StartingPosition": starting_position,
            "Tags": STUB_TAGS,
        },
    )
    for state in states:
        lam.add_response(
            "get_event_source_mapping",
            _mapping(StartingPosition=starting_position, State=state),
            {"UUID": _mapping()["UUID"]},
        )
    return lam


def test_a_mapping_still_creating_is_waited_for_with_one_line_per_state(stubbed, capsys):
    uuid = _mapping()["UUID"]
    lam = _expect_create(
        stubbed, "TRIM_HORIZON", ["Creating", "Creating", "Enabling", "Enabling", "Enabled"]
    )
    trigger = triggers.create_trigger(stubbed, "fn", STREAM_ARN, starting_position="TRIM_HORIZON")
    assert (trigger.state, trigger.action) == ("Enabled", "created")
    assert stubbed.slept == [2.0] * 4  # AWS's pace: one look every 2 s
    assert progress_lines(capsys) == [
        f"[streamkit] trigger {uuid} is Creating; waiting until it is Enabled (at most 120 s)",
        f"[streamkit] trigger {uuid} is Enabling; waiting until it is Enabled (at most 120 s)",
    ]
    lam.assert_no_pending_responses()


def test_a_latest_mapping_gets_time_for_its_first_poll_on_aws(stubbed, capsys):
    uuid = _mapping()["UUID"]
    lam = _expect_create(stubbed, "LATEST", ["Enabled"])
    trigger = triggers.create_trigger(stubbed, "fn", STREAM_ARN)
    assert trigger.state == "Enabled"
    assert stubbed.slept == [15.0] * 4  # ESM_LATEST_FIRST_POLL_WAIT_S, with a line every 15 s
    assert sum(stubbed.slept) == ESM_LATEST_FIRST_POLL_WAIT_S
    shown = progress_lines(capsys)
    assert shown[0].startswith(
        f"[streamkit] trigger {uuid} is Enabled; giving Lambda {ESM_LATEST_FIRST_POLL_WAIT_S:g} s "
        "to start polling the stream"
    )
    assert "TRIM_HORIZON misses none" in shown[0]  # the alternative
    assert shown[1:] == [
        "[streamkit]   45 s to go",
        "[streamkit]   30 s to go",
        "[streamkit]   15 s to go",
    ]
    lam.assert_no_pending_responses()


@pytest.mark.parametrize(("starting_position", "wait"), [("TRIM_HORIZON", True), ("LATEST", False)])
def test_no_first_poll_wait_when_nothing_can_be_missed_or_not_waiting(
    stubbed, capsys, starting_position, wait
):
    lam = _expect_create(stubbed, starting_position, ["Enabled"] if wait else [])
    triggers.create_trigger(
        stubbed, "fn", STREAM_ARN, starting_position=starting_position, wait=wait
    )
    assert sum(stubbed.slept) <= 2.0  # at most one look at the state
    assert not any("first" in line or "to go" in line for line in progress_lines(capsys))
    lam.assert_no_pending_responses()


def test_the_embedded_backend_never_waits_for_a_first_poll(aws, monkeypatch):
    kit = LocalView(aws, unique_prefix("poll"))
    slept: list[float] = []
    monkeypatch.setattr(waiting, "_sleep", slept.append)
    arn = streams.create_users_table(kit, "Users")
    stream = streams.enable_stream(kit, "Users", "NEW_IMAGE").stream_arn
    role = create_execution_role(kit, "fn", arn)
    deploy_function(kit, "fn", FUNCTIONS / "log_event", role_arn=role.arn)
    try:
        began = time.monotonic()
        assert triggers.create_trigger(kit, "fn", stream).state == "Enabled"
        assert sum(slept) < ESM_LATEST_FIRST_POLL_WAIT_S and time.monotonic() - began < 10
    finally:
        teardown(kit)


# -- d. logs: late, throttled, never there --------------------------------------------------------------

_STREAM = "2026/11/27/[$LATEST]0123456789abcdef"
_EVENT = {"Records": [{"eventID": "1", "eventName": "INSERT", "dynamodb": {"Keys": {}}}]}
_LOGGED = [
    {"logStreamName": _STREAM, "timestamp": 1764237600000, "message": "START RequestId: r-1\n"},
    {
        "logStreamName": _STREAM,
        "timestamp": 1764237600001,
        "message": "EVENT " + json.dumps(_EVENT) + "\n",
    },
    {"logStreamName": _STREAM, "timestamp": 1764237600002, "message": "END RequestId: r-1\n"},
]


@pytest.fixture
def log_sleeps(monkeypatch):
    """The kit's pauses (``streamkit.waiting._sleep``) of this thread recorded and skipped; other
    threads (the embedded backend's) sleep as usual."""
    real = time.sleep
    slept: list[float] = []
    main = threading.current_thread()

    def sleep(seconds: float) -> None:
        if threading.current_thread() is main:
            slept.append(seconds)
        else:
            real(seconds)

    monkeypatch.setattr(waiting, "_sleep", sleep)
    return slept


def test_late_logs_are_waited_for_with_progress(stubbed, log_sleeps, capsys):
    logs = stubbed.stub("logs")
    logs.add_response("filter_log_events", {"events": []}, {"logGroupName": FN_GROUP})
    logs.add_response("filter_log_events", {"events": _LOGGED}, {"logGroupName": FN_GROUP})
    received = events_from_logs(stubbed, "fn", expect=1)
    assert [(e.request_id, e.event) for e in received] == [("r-1", _EVENT)]
    assert log_sleeps == [1.0]  # AWS's pace: one read a second
    assert progress_lines(capsys) == [
        f"[streamkit] {FN_GROUP}: 0 of 1 events so far; logs arrive late on AWS, waiting "
        "(at most 120 s)"
    ]
    logs.assert_no_pending_responses()


def test_a_missing_log_group_reads_as_not_yet(stubbed, log_sleeps):
    logs = stubbed.stub("logs")
    logs.add_client_error(
        "filter_log_events",
        **client_error("ResourceNotFoundException", "The specified log group does not exist."),
    )
    logs.add_response("filter_log_events", {"events": _LOGGED}, {"logGroupName": FN_GROUP})
    assert log_messages(stubbed, "fn", prefix="EVENT", expect=1) == ["EVENT " + json.dumps(_EVENT)]
    logs.assert_no_pending_responses()


def test_throttled_log_reads_are_tried_again_later(stubbed, log_sleeps):
    logs = stubbed.stub("logs")
    logs.add_client_error(
        "filter_log_events", **client_error("ThrottlingException", "Rate exceeded")
    )
    logs.add_response("filter_log_events", {"events": _LOGGED}, {"logGroupName": FN_GROUP})
    assert len(events_from_logs(stubbed, "fn", expect=1)) == 1
    assert log_sleeps == [2.0]  # slower after a throttled read
    logs.assert_no_pending_responses()


def test_throttling_is_an_error_when_nothing_is_waited_for(stubbed):
    logs = stubbed.stub("logs")
    logs.add_client_error(
        "filter_log_events", **client_error("ThrottlingException", "Rate exceeded")
    )
    with pytest.raises(ClientError):
        events_from_logs(stubbed, "fn")  # no expect: one read, its error as it is


class _Body:
    """The raw body of a fake HTTP response (what AWSResponse reads)."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def _throttled(status: int, body: dict[str, Any] | str, content_type: str) -> AWSResponse:
    raw = body if isinstance(body, str) else json.dumps(body)
    return AWSResponse(
        "https://example.invalid/", status, {"Content-Type": content_type}, _Body(raw.encode())
    )


@pytest.fixture
def aws_kind(aws, monkeypatch):
    """A kind-"aws" backend (AWS's retry settings, progress on) whose calls reach the embedded
    backend; botocore's backoff between retries is recorded instead of slept."""
    session = aws.session  # the embedded backend answers only its own credentials
    backend = RemoteBackend(
        "aws", "us-east-1", aws.endpoint_url, session, prefix=unique_prefix("t")
    )
    backend.account_id = ACCOUNT  # no STS call
    delays: list[float] = []
    main = threading.current_thread()

    def no_backoff(self: Any, context: Any) -> float:
        if threading.current_thread() is main:  # not the embedded backend's own clients
            delays.append(context.attempt_number)
        return 0.0

    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", no_backoff)
    backend.backoffs = delays  # type: ignore[attr-defined]
    yield backend
    teardown(backend)


def _stream_mappings(backend: Any) -> set[str]:
    """The UUIDs of every DynamoDB stream mapping of ``backend``."""
    pages = backend.client("lambda").get_paginator("list_event_source_mappings").paginate()
    return {
        mapping["UUID"]
        for page in pages
        for mapping in page["EventSourceMappings"]
        if STREAM_ARN_PATTERN.fullmatch(mapping.get("EventSourceArn", ""))
    }


def _throttle_twice(client: Any, event: str, response: AWSResponse) -> list[str]:
    """Answer the first two sends of ``event`` with ``response``; then let calls through."""
    sent: list[str] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        sent.append(request.url)
        return response if len(sent) <= 2 else None

    client.meta.events.register(event, before_send)
    return sent


@pytest.mark.parametrize(
    ("service", "event", "status", "body", "content_type"),
    [
        (
            "lambda",
            "before-send.lambda.ListEventSourceMappings",
            429,
            {"Type": "User", "message": "Rate exceeded", "__type": "TooManyRequestsException"},
            "application/json",
        ),
        (
            "iam",
            "before-send.iam.CreateRole",
            400,
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate "
            "exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
            "text/xml",
        ),
        (
            "logs",
            "before-send.cloudwatch-logs.FilterLogEvents",
            400,
            {"__type": "ThrottlingException", "message": "Rate exceeded"},
            "application/x-amz-json-1.1",
        ),
    ],
)
def test_throttled_control_plane_calls_are_retried_by_botocore(
    aws, aws_kind, service, event, status, body, content_type
):
    sent = _throttle_twice(aws_kind.client(service), event, _throttled(status, body, content_type))
    if service == "lambda":
        # every stream mapping of the shared backend (other tests' too, some perhaps still being
        # deleted), as a client that is not throttled sees it before and after
        before = _stream_mappings(aws)
        listed = {t.uuid for t in triggers.list_triggers(aws_kind)}
        assert _stream_mappings(aws) <= listed <= before
        operation = "lambda:ListEventSourceMappings"
    elif service == "iam":
        role = create_execution_role(aws_kind, "fn", TABLE_ARN)
        assert role.action == "created"  # the throttled tries made nothing: no duplicate either
        iam = aws_kind.client("iam")
        assert iam.list_role_tags(RoleName=role.name)["Tags"] == aws_kind.tag_list
        operation = "iam:CreateRole"
    else:
        assert log_messages(aws_kind, "fn") == []  # (no log group: nothing yet)
        operation = "logs:FilterLogEvents"
    assert len(sent) == 3  # two throttled sends, then the one that went through
    assert aws_kind.backoffs == [1, 2]  # botocore backed off before each retry
    assert aws_kind.api_calls[operation] == 1  # one call for the kit, whatever the retries


def test_log_reads_throttled_until_the_timeout_say_so(aws_kind, log_sleeps):
    """Every try throttled: botocore's retries run out, then the kit's own reads do."""
    logs = aws_kind.client("logs")
    throttled = _throttled(
        400,
        {"__type": "ThrottlingException", "message": "Rate exceeded"},
        "application/x-amz-json-1.1",
    )
    logs.meta.events.register("before-send.cloudwatch-logs.FilterLogEvents", lambda **_: throttled)
    with pytest.raises(StreamkitError) as err:
        events_from_logs(aws_kind, "fn", expect=2, timeout_s=0.05)
    message = str(err.value)
    group = f"/aws/lambda/{aws_kind.prefix}fn"
    assert f"{group} holds 0 events, not the 2 expected, after 0.05 s of waiting" in message
    throttled_reads = re.search(r"\((\d+) reads throttled\)", message)
    assert throttled_reads and int(throttled_reads.group(1)) >= 1
    # each read was first retried by botocore, as often as AWS's retry settings allow (8 tries)
    assert aws_kind.backoffs[:7] == [1, 2, 3, 4, 5, 6, 7]


def test_logs_that_never_arrive_time_out_naming_group_and_counts(aws, capsys):
    remote = streamkit.connect(aws.endpoint_url, prefix=unique_prefix("late"))
    group = f"/aws/lambda/{remote.prefix}fn"
    logs = remote.client("logs")
    logs.create_log_group(logGroupName=group, tags=remote.tags)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "PROCESSED user_1"}],
    )
    try:
        with pytest.raises(StreamkitError) as err:
            log_messages(remote, "fn", prefix="PROCESSED", expect=2, timeout_s=0.2)
        message = str(err.value)
        assert f"{group} holds 1 lines, not the 2 expected, after 0.2 s of waiting" in message
        assert "'PROCESSED'" in message
        with pytest.raises(StreamkitError) as err:
            events_from_logs(remote, "fn", expect=1, timeout_s=0.2)
        assert f"{group} holds 0 events, not the 1 expected" in str(err.value)
        assert len(progress_lines(capsys)) == 2  # one line per wait (each shorter than 10 s)
    finally:
        assert rows(teardown(remote)) == {("log-group", group, remote.run_id, "deleted")}


def test_a_queue_name_sqs_still_holds_is_waited_for(stubbed, capsys):
    """Right after a teardown SQS refuses the name for 60 s (QueueDeletedRecently): wait it out."""
    name, url = f"{STUB_PREFIX}failures", f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/x"
    sqs = stubbed.stub("sqs")
    sqs.add_client_error(
        "get_queue_url", **client_error("AWS.SimpleQueueService.NonExistentQueue", "no queue")
    )
    for _ in range(2):
        sqs.add_client_error(
            "create_queue",
            **client_error(
                "AWS.SimpleQueueService.QueueDeletedRecently",
                "You must wait 60 seconds after deleting a queue before you can create another "
                "with the same name.",
            ),
        )
    sqs.add_response("create_queue", {"QueueUrl": url}, {"QueueName": name, "tags": STUB_TAGS})
    sqs.add_response(
        "get_queue_attributes",
        {"Attributes": {"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"}},
        {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
    )
    destination = create_failure_destination(stubbed, "sqs", "failures")
    assert (destination.name, destination.url) == (name, url)
    assert stubbed.slept == [10.0, 10.0]
    lines = progress_lines(capsys)
    assert len(lines) == 2 and all("deleted less than 60 s ago" in line for line in lines)
    sqs.assert_no_pending_responses()
