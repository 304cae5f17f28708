"""Teardown: it deletes exactly what the kit created (by prefix and ``streamkit-run`` tag), in
dependency order, tolerates what is already gone, tries everything and reports what failed; and the
``streamkit teardown`` command for leftovers of earlier runs, deleted only with --yes."""

from __future__ import annotations

import itertools
import json

import pytest
from botocore.exceptions import ClientError
from helpers import FUNCTIONS, LocalView, assert_in_dependency_order
from helpers import function_source as _source

import streamkit
import streamkit.teardown
from streamkit import streams, triggers
from streamkit.__main__ import main as streamkit_main
from streamkit.destinations import create_failure_destination
from streamkit.errors import InvalidParameterError, StreamkitError, TriggerTimeoutError
from streamkit.functions import deploy_function
from streamkit.iam import create_execution_role, lambda_trust_policy
from streamkit.teardown import main, teardown

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users"


# -- teardown ------------------------------------------------------------------------------------------


def test_teardown_deletes_exactly_what_the_kit_created(kit, aws):
    ddb, iam, lam, logs = (kit.client(s) for s in ("dynamodb", "iam", "lambda", "logs"))
    table = streams.create_users_table(kit, "Users").rsplit("/", 1)[-1]
    assert table == f"{kit.prefix}Users"
    stream = streams.enable_stream(kit, table, "NEW_IMAGE").stream_arn
    role = create_execution_role(kit, "fn", stream)
    function = deploy_function(kit, "fn", FUNCTIONS / "log_event", role_arn=role.arn)
    trigger = triggers.create_trigger(kit, "fn", stream)
    queue = create_failure_destination(kit, "sqs", "tq")
    topic = create_failure_destination(kit, "sns", "tt")
    bucket = create_failure_destination(kit, "s3", "tb")
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
        RoleName=foreign_role, AssumeRolePolicyDocument=json.dumps(lambda_trust_policy())
    )
    # Made by streamkit, in another run (same prefix): kept unless all_runs=True.
    other = LocalView(aws, kit.prefix, run_id="another-run")
    other_queue = create_failure_destination(other, "sqs", "other")

    planned = teardown(kit, dry_run=True)
    lam.get_function(FunctionName=function.name)  # a dry run deletes nothing
    done = teardown(kit)
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
    assert set(teardown(kit)["action"]) == {
        "kept: not created by streamkit",
        "kept: another run",
    }
    assert sorted(teardown(other).values.tolist()) == [
        ["queue", other_queue.name, "another-run", "deleted"],
        ["role", foreign_role, "", "kept: not created by streamkit"],
        ["table", foreign_table, "", "kept: not created by streamkit"],
    ]
    ddb.delete_table(TableName=foreign_table)
    iam.delete_role(RoleName=foreign_role)
    assert teardown(kit).empty


def test_teardown_tolerates_what_is_already_gone(kit, tmp_path, monkeypatch):
    role = create_execution_role(kit, "gone", TABLE_ARN)
    function = deploy_function(kit, "gone", _source(tmp_path), role_arn=role.arn)
    kit.client("lambda").delete_function(FunctionName=function.name)  # by hand, before teardown
    queue = create_failure_destination(kit, "sqs", "gone")
    discover = streamkit.teardown._discover

    def discover_then_lose_the_queue(backend):
        found = discover(backend)
        kit.client("sqs").delete_queue(QueueUrl=queue.url)  # e.g. another teardown meanwhile
        return found

    monkeypatch.setattr(streamkit.teardown, "_discover", discover_then_lose_the_queue)
    done = teardown(kit)
    assert done.values.tolist() == [
        # the function is not listed any more; its log group and role are still found
        ["log-group", f"/aws/lambda/{function.name}", kit.run_id, "deleted"],
        ["role", role.name, kit.run_id, "deleted"],
        ["queue", queue.name, kit.run_id, "already gone"],
    ]
    monkeypatch.undo()
    assert teardown(kit).empty


def test_teardown_finds_a_trigger_whose_function_was_deleted_by_hand(kit, tmp_path):
    """AWS keeps a mapping when its function is deleted: teardown still finds it by its own tag,
    and leaves a look-alike mapping without the tag alone."""
    table_arn = streams.create_users_table(kit, "Orphans")
    stream = streams.enable_stream(kit, "Orphans", "NEW_IMAGE").stream_arn
    role = create_execution_role(kit, "orphan", table_arn)
    function = deploy_function(kit, "orphan", _source(tmp_path), role_arn=role.arn)
    trigger = triggers.create_trigger(kit, "orphan", stream)
    lam = kit.client("lambda")
    streams.create_users_table(kit, "OrphansToo")
    untagged = lam.create_event_source_mapping(  # on the kit's function, but without the tag
        FunctionName=function.name,
        EventSourceArn=streams.enable_stream(kit, "OrphansToo", "NEW_IMAGE").stream_arn,
        StartingPosition="LATEST",
    )["UUID"]
    lam.delete_function(FunctionName=function.name)  # by hand: both mappings stay
    done = teardown(kit)
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
    vanishing = create_failure_destination(kit, "sqs", "vanishing")
    staying = create_failure_destination(kit, "sqs", "staying")
    sqs = kit.client("sqs")
    read_tags = sqs.list_queue_tags

    def list_queue_tags(QueueUrl):  # noqa: N803 (boto3's parameter name)
        if QueueUrl == vanishing.url:
            sqs.delete_queue(QueueUrl=QueueUrl)  # someone else got there first
        return read_tags(QueueUrl=QueueUrl)

    monkeypatch.setattr(sqs, "list_queue_tags", list_queue_tags)
    assert teardown(kit).values.tolist() == [["queue", staying.name, kit.run_id, "deleted"]]


def test_teardown_tries_everything_then_reports_what_failed(kit, monkeypatch):
    role = create_execution_role(kit, "stuck", TABLE_ARN)
    queue = create_failure_destination(kit, "sqs", "after-the-role")

    def refuse(backend, name):
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not allowed: iam:DeleteRole"}},
            "DeleteRole",
        )

    monkeypatch.setattr(streamkit.teardown, "_delete_role_and_policies", refuse)
    with pytest.raises(StreamkitError) as err:
        teardown(kit)
    assert role.name in str(err.value) and "error.report" in str(err.value)
    assert err.value.report.values.tolist() == [
        ["role", role.name, kit.run_id, "failed: AccessDenied: not allowed: iam:DeleteRole"],
        ["queue", queue.name, kit.run_id, "deleted"],  # tried after the failure all the same
    ]
    monkeypatch.undo()
    assert teardown(kit).values.tolist() == [["role", role.name, kit.run_id, "deleted"]]


def test_teardown_keeps_a_function_whose_trigger_could_not_be_deleted(kit, monkeypatch):
    table_arn = streams.create_users_table(kit, "Users")
    stream = streams.enable_stream(kit, "Users", "NEW_IMAGE").stream_arn
    role = create_execution_role(kit, "fn", table_arn)
    function = deploy_function(kit, "fn", FUNCTIONS / "log_event", role_arn=role.arn)
    trigger = triggers.create_trigger(kit, "fn", stream)

    def still_deleting(backend, uuid, **_):  # AWS took longer than the wait allows
        raise TriggerTimeoutError(uuid, "its deletion", "Deleting", "User action", 120)

    monkeypatch.setattr(streamkit.teardown, "delete_trigger", still_deleting)
    with pytest.raises(StreamkitError) as err:
        teardown(kit)
    report = err.value.report.set_index("name")["action"]
    assert report[trigger.uuid].startswith("failed: TriggerTimeoutError: Trigger ")
    assert "'Deleting'" in report[trigger.uuid]
    # Deleting the function would hide the mapping from the next teardown: it is kept.
    assert report[function.name] == "failed: its trigger could not be deleted"
    assert report[role.name] == "deleted"  # the rest is tried all the same
    assert report[f"{kit.prefix}Users"] == "deleted"
    kit.client("lambda").get_function(FunctionName=function.name)

    monkeypatch.undo()
    again = teardown(kit)  # found again through its function, and deleted
    assert again[["kind", "name", "action"]].values.tolist() == [
        ["event-source-mapping", trigger.uuid, "deleted"],
        ["function", function.name, "deleted"],
    ]


def test_teardown_arguments_are_validated(kit):
    with pytest.raises(InvalidParameterError):
        teardown(kit, dry_run="yes")
    with pytest.raises(InvalidParameterError):
        teardown(kit, all_runs=1)


# -- the streamkit teardown command ----------------------------------------------------------------

_prefixes = (f"cli{n}-" for n in itertools.count(1))


@pytest.fixture
def leftovers(aws):
    """Two earlier runs' tables, plus an untagged table with the same prefix."""
    prefix = next(_prefixes)
    runs = [
        streamkit.connect(aws.endpoint_url, prefix=prefix, run_id=f"20261127-150000-000{n}")
        for n in range(2)
    ]
    for number, run in enumerate(runs):
        streams.create_users_table(run, f"Users{number}")
    aws.client("dynamodb").create_table(
        TableName=f"{prefix}NotOurs",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return aws.endpoint_url, prefix, [run.run_id for run in runs]


def tables(aws, prefix):
    pages = aws.client("dynamodb").get_paginator("list_tables").paginate()
    return sorted(t for page in pages for t in page["TableNames"] if t.startswith(prefix))


def test_without_yes_it_only_shows(aws, leftovers, capsys):
    url, prefix, run_ids = leftovers
    assert main(["--backend", url, "--prefix", prefix, "--all-runs"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.strip().startswith("table ")]
    assert sorted(line.split()[1] for line in rows if line.endswith("would delete")) == [
        f"{prefix}Users0",
        f"{prefix}Users1",
    ]
    assert any(line.endswith("kept: not created by streamkit") for line in rows)
    assert "2 resource(s) would be deleted: run again with --yes" in out
    assert tables(aws, prefix) == [f"{prefix}NotOurs", f"{prefix}Users0", f"{prefix}Users1"]


def test_one_run_with_yes(aws, leftovers, capsys):
    url, prefix, run_ids = leftovers
    assert main(["--backend", url, "--prefix", prefix, "--run", run_ids[0], "--yes"]) == 0
    out = capsys.readouterr().out
    assert "deleted" in out and "kept: another run" in out
    assert tables(aws, prefix) == [f"{prefix}NotOurs", f"{prefix}Users1"]


def test_all_runs_with_yes_never_deletes_the_untagged(aws, leftovers, capsys):
    url, prefix, _ = leftovers
    assert (
        streamkit_main(["teardown", "--backend", url, "--prefix", prefix, "--all-runs", "--yes"])
        == 0
    )
    assert tables(aws, prefix) == [f"{prefix}NotOurs"]
    capsys.readouterr()
    assert main(["--backend", url, "--prefix", prefix, "--all-runs", "--yes"]) == 0
    assert "would delete" not in capsys.readouterr().out
    assert tables(aws, prefix) == [f"{prefix}NotOurs"]


def test_nothing_found(aws, capsys):
    assert main(["--backend", aws.endpoint_url, "--prefix", "nothing-here-", "--all-runs"]) == 0
    assert "Nothing named nothing-here-* was found." in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["--all-runs"],  # no backend: real AWS is never the default
        ["--backend", "aws"],  # neither --run nor --all-runs
        ["--backend", "aws", "--run", "x", "--all-runs"],
    ],
)
def test_refuses_incomplete_commands(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2


def test_errors_are_reported_not_raised(aws, capsys):
    assert main(["--backend", aws.endpoint_url, "--prefix", "Bad_", "--all-runs"]) == 1
    assert "error: Invalid prefix" in capsys.readouterr().out
