"""What is the kit's: the ``streamkit-run`` tag on what it creates, read back from each service.

Everything the helpers create carries the tag :data:`~streamkit.backends.RUN_TAG` (its value is the
run id); a resource with the kit's name but without the tag is someone else's, and the helpers
neither adopt it (:class:`~streamkit.errors.NotOwnedError`) nor delete it
(:func:`streamkit.teardown.teardown`). Each service hands tags out in its own shape; these readers
return them as one ``dict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .aws_errors import error_code
from .backends import RUN_TAG, Backend

__all__ = ["as_tag_dict", "bucket_tags", "has_run_tag", "role_tags", "topic_tags"]


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
