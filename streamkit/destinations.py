"""On-failure destinations: where a trigger sends a record of each batch it gives up on.

* :func:`create_failure_destination`: an SQS queue, SNS topic or S3 bucket, idempotently, with the
  kit's name prefix and run tag (so :func:`streamkit.teardown.teardown` deletes it).
* :func:`read_failure_records`: the failure records on an SQS destination, read and deleted,
  waiting (bounded, through :func:`streamkit.waiting.poll_until`) until they are there.

Only boto3 calls, through ``backend.client(...)``, so everything works the same on the embedded
backend and on AWS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from . import waiting
from .aws_errors import error_code, is_gone
from .backends import Backend
from .checks import check_int, check_wait
from .errors import InvalidParameterError, WaitTimeoutError
from .limits import LOGS_ARRIVAL_TIMEOUT_S
from .ownership import bucket_tags, check_owned, topic_tags
from .waiting import poll_until

__all__ = ["FailureDestination", "create_failure_destination", "read_failure_records"]


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

#: SQS refuses a queue name for 60 s after a queue of that name was deleted (a run right after a
#: teardown): retried this long. Source: SQS API Reference, CreateQueue, "QueueDeletedRecently"
#: (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html).
_QUEUE_NAME_REUSE_WAIT_S = 70.0


def create_failure_destination(backend: Backend, kind: str, name: str) -> FailureDestination:
    """Create (idempotently) an SQS queue, SNS topic or S3 bucket for records of discarded batches.

    It gets the backend's name prefix and the kit's ``streamkit-run`` tag, so
    :func:`streamkit.teardown.teardown` deletes it.

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
            # Not sqs.exceptions.QueueDoesNotExist: AWS's query-compatible code
            # (AWS.SimpleQueueService.NonExistentQueue) is mapped to it only when the answer
            # also carries the JSON protocol's code.
            if not is_gone(exc):
                raise
            url = _create_queue(backend, name)
        else:
            check_owned(
                backend, "SQS queue", name, sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            )
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
        check_owned(backend, "SNS topic", name, topic_tags(backend, existing))
        return FailureDestination(kind, name, existing)
    s3 = backend.client("s3")
    try:
        tags = bucket_tags(backend, name)
    except ClientError as exc:
        if not (is_gone(exc) or error_code(exc) == "404"):  # a bare 404 is not in S3's model
            raise
        args: dict[str, Any] = {"Bucket": name}
        if backend.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": backend.region}
        s3.create_bucket(**args)
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": backend.tag_list})
    else:
        check_owned(backend, "S3 bucket", name, tags)
    return FailureDestination(kind, name, f"arn:aws:s3:::{name}")


def _topic_arn(backend: Backend, name: str) -> str | None:
    """A topic's ARN from its name, if it exists."""
    for page in backend.client("sns").get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return str(topic["TopicArn"])
    return None


def _create_queue(backend: Backend, name: str) -> str:
    """CreateQueue with the kit's tags, waiting (with progress) while SQS still holds the name."""
    sqs = backend.client("sqs")
    refused: list[ClientError] = []

    def create() -> str | None:
        try:
            return str(sqs.create_queue(QueueName=name, tags=backend.tags)["QueueUrl"])
        except ClientError as exc:
            # A query-compatible code (AWS.SimpleQueueService.QueueDeletedRecently): see above.
            if "QueueDeletedRecently" not in error_code(exc):
                raise
            refused[:] = [exc]
            return None

    def pause(_attempt: int) -> float:  # asked only when another try follows: say so first
        backend.progress(
            f"SQS still holds the name {name} of a queue deleted less than 60 s ago; "
            "trying again in 10 s"
        )
        return 10.0

    return poll_until(
        create,
        timeout_s=_QUEUE_NAME_REUSE_WAIT_S,
        interval_s=pause,
        what=f"SQS to release the queue name {name}",
        error=lambda _: refused[-1],  # still refused at the deadline: AWS's answer, as it is
    )


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
    WaitTimeoutError
        (a ``StreamkitError``) when fewer than ``expect`` arrived in ``timeout_s``, saying how many
        did.
    """
    if not isinstance(queue_url, str) or not queue_url.startswith(("http://", "https://")):
        raise InvalidParameterError("queue_url", queue_url, "an SQS queue URL (destination.url)")
    check_int("expect", expect, 1, 10_000, "a whole number of records >= 1")
    if timeout_s is None:
        timeout_s = 5.0 if backend.is_local else LOGS_ARRIVAL_TIMEOUT_S
    check_wait(True, timeout_s)
    limit: float = timeout_s
    sqs = backend.client("sqs")
    records: list[dict[str, Any]] = []
    began = waiting._clock()

    def receive() -> list[dict[str, Any]] | None:
        waited = waiting._clock() - began
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            # on AWS, SQS's long polling does the waiting
            WaitTimeSeconds=0 if backend.is_local else int(min(20, max(limit - waited, 0))),
        )
        for message in response.get("Messages", []):
            records.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return records if len(records) >= expect else None

    def pause(_attempt: int) -> float:  # asked only when another read follows: say so first
        backend.progress(
            f"{len(records)} of {expect} failure record(s) on the queue so far; waiting"
        )
        return 0.05 if backend.is_local else 0.0

    return poll_until(
        receive,
        timeout_s=limit,
        interval_s=pause,
        what=f"{expect} failure record(s) on {queue_url}",
        error=lambda _: WaitTimeoutError(
            f"{len(records)} failure record(s) arrived on {queue_url}, not the {expect} "
            f"expected, within {limit:g} s. Did the trigger give up on a batch yet "
            "(describe_trigger(...).last_processing_result)?"
        ),
    )
