"""Reading AWS's error codes where botocore's modeled exceptions cannot say it.

Where one client's error is caught, the helpers catch that client's modeled exception
(``except lam.exceptions.ResourceNotFoundException``). This module is for the rest, compared as
strings in one place:

* errors of *any* service, as teardown meets them deleting one resource after another
  (:func:`is_gone`);
* codes a service's model does not list (S3's ``NoSuchTagSet`` and the bare ``404`` of a HEAD-like
  answer, CloudWatch Logs' ``TooManyRequestsException``);
* SQS's query-compatible codes (``AWS.SimpleQueueService.NonExistentQueue``), which botocore maps to
  the modeled exception only when the answer also carries the JSON protocol's code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # pragma: no cover
    from botocore.exceptions import ClientError

__all__ = ["GONE_CODES", "error_code", "error_message", "is_gone"]

#: Error codes that mean "no such resource", whichever service answered.
GONE_CODES: Final = (
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchBucket",
    "NotFound",
    "NotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
)


def error_code(exc: ClientError) -> str:
    """The ``Error.Code`` of an AWS error (``""`` if it has none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    """The ``Error.Message`` of an AWS error (``""`` if it has none)."""
    return str(exc.response.get("Error", {}).get("Message", ""))


def is_gone(exc: ClientError) -> bool:
    """Whether an AWS error says the resource does not exist (any service; see :data:`GONE_CODES`)."""
    return error_code(exc) in GONE_CODES
