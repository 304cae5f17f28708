"""What is the kit's: the ``streamkit-run`` tag on what it creates, read back from each service.

Everything the helpers create carries the tag :data:`~streamkit.backends.RUN_TAG` (its value is the
run id). A resource is this run's only when its tag has *this* run's value (:func:`check_owned`):
one without the tag is someone else's, one with another run's value is that run's, and the helpers
neither adopt it (:class:`~streamkit.errors.NotOwnedError`, naming the run) nor delete it
(:func:`streamkit.teardown.teardown`). Each service hands tags out in its own shape; these readers
return them as one ``dict``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .aws_errors import error_code
from .backends import RUN_TAG, Backend
from .errors import NotOwnedError

__all__ = [
    "KIT_RUN_ID",
    "as_tag_dict",
    "bucket_tags",
    "check_owned",
    "has_run_tag",
    "is_kit_run_id",
    "not_owned",
    "role_tags",
    "run_of",
    "topic_tags",
]


def as_tag_dict(tags: Any) -> dict[str, str]:
    """Tags as a dict, from a dict or a ``[{"Key"|"key": ..., "Value"|"value": ...}]`` list."""
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {
        str(tag.get("Key", tag.get("key"))): str(tag.get("Value", tag.get("value")))
        for tag in tags or []
    }


def has_run_tag(tags: Any) -> bool:
    """Whether tags (in any shape :func:`as_tag_dict` reads) carry the kit's run tag."""
    return RUN_TAG in as_tag_dict(tags)


def run_of(tags: Any) -> str:
    """The run a resource's tags name (``""``: no run tag)."""
    return as_tag_dict(tags).get(RUN_TAG, "")


def not_owned(backend: Backend, kind: str, name: str, tags: Any) -> NotOwnedError | None:
    """None if the tags name this backend's run; otherwise the error to raise, naming whose it is
    (``run`` is the other run, or None when there is no run tag at all)."""
    run = run_of(tags)
    if run == backend.run_id:
        return None
    return NotOwnedError(kind, name, RUN_TAG, run=run or None, this_run=backend.run_id)


def check_owned(backend: Backend, kind: str, name: str, tags: Any) -> None:
    """Return if the tags name this backend's run; otherwise raise :func:`not_owned`'s error.

    Raises
    ------
    NotOwnedError
    """
    refusal = not_owned(backend, kind, name, tags)
    if refusal is not None:
        raise refusal


#: The run ids :func:`streamkit.backends.new_run_id` makes: ``YYYYMMDD-HHMMSS-xxxx``.
KIT_RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")


def is_kit_run_id(value: object) -> bool:
    """Whether ``value`` has the shape of a run id the kit makes (``20261127-150312-3fa9``)."""
    return isinstance(value, str) and KIT_RUN_ID.fullmatch(value) is not None


def role_tags(backend: Backend, name: str) -> dict[str, str]:
    """An IAM role's tags (every page)."""
    iam = backend.client("iam")
    return as_tag_dict(
        [
            tag
            for page in iam.get_paginator("list_role_tags").paginate(RoleName=name)
            for tag in page["Tags"]
        ]
    )


def topic_tags(backend: Backend, arn: str) -> dict[str, str]:
    """An SNS topic's tags."""
    return as_tag_dict(backend.client("sns").list_tags_for_resource(ResourceArn=arn)["Tags"])


def bucket_tags(backend: Backend, bucket: str) -> dict[str, str]:
    """A bucket's tags (none if it has no tag set; ClientError if there is no such bucket)."""
    try:
        tag_set = backend.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchTagSet":  # not in S3's model: no modeled exception
            raise
        tag_set = []
    return as_tag_dict(tag_set)
