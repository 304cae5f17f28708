"""Teardown: delete exactly what the kit created, in dependency order, and the ``streamkit teardown``
command for what earlier runs left behind.

:func:`teardown` lists every service the kit uses for names with the backend's prefix, reads each
resource's ``streamkit-run`` tag, and deletes what this run (or, on request, any run) created:
event source mappings, functions, log groups, roles, queues, topics, buckets, tables, in that
order. It lists rather than remembers, so it also works after a kernel restart.

The command (``streamkit teardown``, :func:`main`): a notebook's last cell tears down what that run
created. When a kernel died before it, or a notebook was stopped half-way, the command finds the
leftovers the same way (the name prefix, then the tag) and deletes them. It only shows what it
would delete unless ``--yes`` is given, and it never touches anything without the tag.

Examples
--------
.. code-block:: console

    $ streamkit teardown --backend aws --all-runs          # what would go, for every run
    $ streamkit teardown --backend aws --all-runs --yes    # delete it
    $ streamkit teardown --backend aws --run 20261127-150312-3fa9 --yes
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from .aws_errors import error_code, error_message, is_gone
from .backends import DEFAULT_PREFIX, RUN_TAG, Backend
from .checks import check_bool, function_of
from .errors import StreamkitError, TeardownError
from .functions import function_log_group
from .ownership import as_tag_dict, bucket_tags, is_kit_run_id, role_tags, topic_tags
from .streams import delete_table
from .triggers import delete_trigger

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef

__all__ = ["main", "teardown"]


def _delete_role_and_policies(backend: Backend, name: str) -> None:
    iam = backend.client("iam")
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy_name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for attached in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def _empty_and_delete_bucket(backend: Backend, bucket: str) -> None:
    s3 = backend.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects: list[ObjectIdentifierTypeDef] = [
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
    read_tags: Callable[[], Any] | None = None  # its tags now (read again right before deleting)


def _discover(backend: Backend) -> list[_Found]:
    """Every resource whose name has the backend's prefix, in teardown order, with its tags.

    Event source mappings have no name: those whose function has the prefix are listed (also when
    the function is gone), each with its own tags. A resource that disappears between the listing
    and the reading of its tags (another teardown, AWS's eventually consistent lists) is left out.
    """
    prefix = backend.prefix
    found: list[_Found] = []

    # Called with no arguments. `...`: mypy infers no type for a lambda with a default argument
    # (`lambda arn=arn: ...`) against `Callable[[], ...]` (python/mypy#15459).
    def add(
        kind: str,
        name: str,
        read_tags: Callable[..., Any],
        delete: Callable[..., object],
        function: str | None = None,
    ) -> None:
        try:
            tags = as_tag_dict(read_tags())
        except ClientError as exc:
            # Any service's "no such resource" (one check for all of them), or S3's bare 404.
            if is_gone(exc) or error_code(exc) == "404":
                return
            raise
        found.append(_Found(kind, name, tags, delete, function, read_tags))

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
            function = function_of(mapping.get("FunctionArn", ""))
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
        logGroupNamePrefix=function_log_group(prefix)
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
                    lambda name=name: role_tags(backend, name),
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
                    lambda arn=arn: topic_tags(backend, arn),
                    lambda arn=arn: sns.delete_topic(TopicArn=arn),
                )

    for bucket in backend.client("s3").list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if name.startswith(prefix):
            add(
                "bucket",
                name,
                lambda name=name: bucket_tags(backend, name),
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
    # Within a kind, by name: the report reads the same whatever order a service lists in.
    rank = {kind: i for i, kind in enumerate(dict.fromkeys(f.kind for f in found))}
    found.sort(key=lambda f: (rank[f.kind], f.name))
    return found


def teardown(backend: Backend, *, dry_run: bool = False, all_runs: bool = False) -> pd.DataFrame:
    """Delete what the kit created in this run, and nothing else; report every decision.

    It lists every service the kit uses (Lambda functions and their event source mappings, log
    groups ``/aws/lambda/<prefix>*``, IAM roles, SQS queues, SNS topics, S3 buckets, DynamoDB
    tables) for names with the backend's prefix, and deletes those whose ``streamkit-run`` tag is
    this backend's run id, in dependency order: mappings (waiting until they are gone), functions,
    log groups, roles (inline policies first), queues, topics, buckets (emptied first), tables.
    A resource without the tag is never deleted, whatever its name, nor one whose tag names
    another run. Each resource's tag is read again right before it is deleted: one deleted and
    re-created meanwhile without the tag (or with another run's) is kept. Because it lists rather
    than remembers, it also works after a kernel restart: ``connect(..., run_id=<earlier run>)``,
    or ``all_runs=True`` for every run.

    Parameters
    ----------
    backend : Backend
    dry_run : bool
        Only report what would be deleted.
    all_runs : bool
        Delete what any streamkit run created (with this prefix), not only this run: resources
        whose tag is a run id of the kit's format (``YYYYMMDD-HHMMSS-xxxx``, as
        :func:`~streamkit.backends.new_run_id` makes them); any other value is not one the kit
        wrote, and is kept.

    Returns
    -------
    pandas.DataFrame
        One row per resource found: ``kind``, ``name`` (a mapping's UUID), ``run`` (its tag, or
        ``""``) and ``action``: ``"deleted"``, ``"already gone"``, ``"would delete"``,
        ``"kept: not created by streamkit"`` (no tag), ``"kept: another run"``, ``"kept: not a
        streamkit run id"`` (``all_runs`` and a tag value the kit never writes) or ``"kept:
        changed since it was listed"`` (its tag changed before it could be deleted).

    Raises
    ------
    TeardownError
        (a ``StreamkitError``) if some deletions failed (after trying all of them);
        ``error.report`` holds the frame, with ``"failed: <error>"`` in their rows. A function
        whose trigger could not be deleted is kept (``"failed: its trigger could not be
        deleted"``), so that running teardown again still finds the trigger through it.
    """
    import pandas as pd

    check_bool("dry_run", dry_run)
    check_bool("all_runs", all_runs)
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
        elif all_runs and not is_kit_run_id(run):
            action = "kept: not a streamkit run id"  # a tag streamkit never writes: forged
        elif dry_run:
            action = "would delete"
        elif item.kind == "function" and item.name in blocked:
            action = "failed: its trigger could not be deleted"
            failures.append(item.name)
        else:
            try:
                now = _tags_now(item)
                if now is None:
                    action = "already gone"
                elif now.get(RUN_TAG, "") != run:  # re-created meanwhile, not (or not so) tagged
                    action = "kept: changed since it was listed"
                else:
                    action = "deleted" if _deleted(item.delete) else "already gone"
            except ClientError as exc:
                action = f"failed: {error_code(exc)}: {error_message(exc)}"
            except (StreamkitError, WaiterError) as exc:  # a wait for the deletion timed out
                action = f"failed: {type(exc).__name__}: {exc}"
            if action.startswith("failed"):
                failures.append(item.name)
                if item.function is not None:
                    blocked.add(item.function)
        rows.append({"kind": item.kind, "name": item.name, "run": run, "action": action})
    report = pd.DataFrame(rows, columns=["kind", "name", "run", "action"])
    if failures:
        raise TeardownError(failures, report)
    return report


def _tags_now(item: _Found) -> dict[str, str] | None:
    """The resource's tags read again, right before it is deleted; None if it is gone."""
    if item.read_tags is None:
        return item.tags
    try:
        return as_tag_dict(item.read_tags())
    except ClientError as exc:
        if is_gone(exc) or error_code(exc) == "404":
            return None
        raise


def _deleted(delete: Callable[[], object]) -> bool:
    """Run one deletion; ``False`` if the resource was already gone."""
    try:
        result = delete()
    except ClientError as exc:
        if is_gone(exc):  # whichever service answered: one check for all of them
            return False
        raise
    return result is not False


# -- the command ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, prog: str = "streamkit teardown") -> int:
    """Run the command; 0 when everything asked for is gone (or would be), 1 on an error.

    Parameters
    ----------
    argv : sequence of str, optional
        The command's arguments (without the program and command names).
    prog : str
        Program name shown in ``--help``.
    """
    # The command connects, as the entry point it is: the one import of this module that points
    # up (connection knows both backends, and so the emulator).
    from .connection import connect

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Delete what streamkit runs created (found by name prefix and run tag). "
        "Without --yes it only shows what it would delete.",
    )
    parser.add_argument(
        "--backend",
        required=True,
        help='"aws" (your account, through the standard credential chain) or an http(s):// '
        "endpoint; there is no default, so real AWS is only ever used when named",
    )
    parser.add_argument("--region", help="AWS region (default: the configured one)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help=f"name prefix (default {DEFAULT_PREFIX!r})"
    )
    runs = parser.add_mutually_exclusive_group(required=True)
    runs.add_argument("--run", metavar="RUN_ID", help="the run to delete (printed by describe())")
    runs.add_argument("--all-runs", action="store_true", help="every streamkit run's resources")
    parser.add_argument("--yes", action="store_true", help="delete (default: only show)")
    args = parser.parse_args(argv)
    try:
        backend = connect(
            args.backend,
            region=args.region,
            profile=args.profile if args.backend == "aws" else None,
            prefix=args.prefix,
            run_id=args.run,
        )
        print(backend.describe())
        report = teardown(backend, dry_run=not args.yes, all_runs=args.all_runs)
    except (StreamkitError, BotoCoreError, ClientError) as exc:
        print(f"error: {exc}")
        partial = getattr(exc, "report", None)
        if partial is not None:
            print(partial.to_string(index=False))
        return 1
    if report.empty:
        print(f"Nothing named {backend.prefix}* was found.")
        return 0
    runs = sorted({run for run in report["run"] if run})
    print(f"Runs found: {', '.join(runs) if runs else 'none'}")
    print(report.to_string(index=False))
    pending = int((report["action"] == "would delete").sum())
    if pending:
        print(f"{pending} resource(s) would be deleted: run again with --yes to delete them.")
    return 0
