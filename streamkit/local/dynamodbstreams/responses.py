"""The DynamoDB Streams API of the embedded backend, answered from the stream store.

The server's dispatcher sends every request whose ``X-Amz-Target`` is
``DynamoDBStreams_20120810.<Operation>`` here; moto's own Streams handler is never used. Answers
are JSON built here (moto's model-driven serializer costs about half a millisecond per record,
~200 times what the store takes to find them), timestamps as epoch seconds, as on AWS's wire.
Errors are HTTP 400 with AWS's ``__type`` and ``message``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import state
from .models import StreamsApiError, store_for

__all__ = ["OPERATIONS", "TARGET_PREFIX", "error_response", "handle"]

#: The ``X-Amz-Target`` prefix of the DynamoDB Streams API (botocore's ``targetPrefix``).
TARGET_PREFIX = "DynamoDBStreams_20120810."
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_CONTENT_TYPE = "application/x-amz-json-1.0"

Response = tuple[int, dict[str, str], str]


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def error_response(code: str, message: str, status: int = 400) -> Response:
    """An error as DynamoDB Streams answers it."""
    body = _json({"__type": _ERROR_PREFIX + code, "message": message})
    return status, {"Content-Type": _CONTENT_TYPE}, body


def _required(params: dict[str, Any], member: str) -> Any:
    """A required member of the request, refused as AWS's request validation does when missing
    (boto3 checks this before sending; a hand-made request may leave one out)."""
    value = params.get(member)
    if value is None:
        raise StreamsApiError(
            "ValidationException",
            f"1 validation error detected: Value null at '{member[0].lower() + member[1:]}' failed "
            "to satisfy constraint: Member must not be null",
        )
    return value


#: String members and their lengths in the API model (botocore 1.44.8,
#: ``dynamodbstreams/2012-08-10``), checked as AWS's request validation does.
_LENGTHS = {
    "StreamArn": (37, 1024),
    "ExclusiveStartStreamArn": (37, 1024),
    "ShardId": (28, 65),
    "ExclusiveStartShardId": (28, 65),
    "TableName": (3, 255),
    "ShardIterator": (1, 2048),
}
_STREAM_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[a-zA-Z0-9_.-]+/stream/[0-9T:.-]+"
)


def _checked(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` once its string members are within the model's lengths (AWS's wording: "Member
    must have length less than or equal to 1024") and its stream ARNs are stream ARNs (a
    ValidationException on AWS: ScyllaDB's test_streams.py, run against DynamoDB; that message's
    wording is UNCONFIRMED)."""
    for name, (low, high) in _LENGTHS.items():
        value = params.get(name)
        if not isinstance(value, str) or low <= len(value) <= high:
            continue
        bound = (
            f"greater than or equal to {low}"
            if len(value) < low
            else f"less than or equal to {high}"
        )
        raise StreamsApiError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{name[0].lower() + name[1:]}' "
            f"failed to satisfy constraint: Member must have length {bound}",
        )
    for name in ("StreamArn", "ExclusiveStartStreamArn"):
        value = params.get(name)
        if isinstance(value, str) and not _STREAM_ARN.fullmatch(value):
            raise StreamsApiError("ValidationException", f"Invalid {name}: {value}")
    return params


def _describe_stream(account: str, region: str, params: dict[str, Any]) -> str:
    params = _checked(params)
    description = store_for(account, region).describe_stream(
        _required(params, "StreamArn"), params.get("Limit"), params.get("ExclusiveStartShardId")
    )
    return _json({"StreamDescription": description})


def _list_streams(account: str, region: str, params: dict[str, Any]) -> str:
    params = _checked(params)
    streams, last = store_for(account, region).list_streams(
        params.get("TableName"), params.get("Limit"), params.get("ExclusiveStartStreamArn")
    )
    result: dict[str, Any] = {"Streams": streams}
    if last is not None:
        result["LastEvaluatedStreamArn"] = last
    return _json(result)


def _get_shard_iterator(account: str, region: str, params: dict[str, Any]) -> str:
    params = _checked(params)
    iterator = store_for(account, region).get_shard_iterator(
        _required(params, "StreamArn"),
        _required(params, "ShardId"),
        _required(params, "ShardIteratorType"),
        params.get("SequenceNumber"),
        params.get("Timestamp"),
    )
    return _json({"ShardIterator": iterator})


def _get_records(account: str, region: str, params: dict[str, Any]) -> str:
    params = _checked(params)
    records, next_iterator = store_for(account, region).get_records(
        _required(params, "ShardIterator"), params.get("Limit")
    )
    body = '{"Records":[' + ",".join(records) + "]"
    if next_iterator is not None:
        body += ',"NextShardIterator":' + json.dumps(next_iterator)
    return body + "}"


#: The operations of the DynamoDB Streams API (all four of botocore's model).
OPERATIONS = {
    "DescribeStream": _describe_stream,
    "ListStreams": _list_streams,
    "GetShardIterator": _get_shard_iterator,
    "GetRecords": _get_records,
}


def handle(operation: str, body: bytes, account: str, region: str) -> Response:
    """Answer one Streams API request.

    Parameters
    ----------
    operation : str
        What follows :data:`TARGET_PREFIX` in ``X-Amz-Target``.
    body : bytes
        The JSON request body.
    account, region : str
        Whose streams (from the request's credentials and signing region).
    """
    handler = OPERATIONS.get(operation)
    if handler is None:
        return error_response(
            "UnknownOperationException", f"Unknown operation {operation!r} for DynamoDB Streams."
        )
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return error_response(
            "SerializationException", "Start of structure or map found where not expected."
        )
    if not isinstance(params, dict):
        return error_response(
            "SerializationException", "Start of structure or map found where not expected."
        )
    try:
        with state.LOCK:
            answer = handler(account, region, params)
    except StreamsApiError as exc:
        return error_response(exc.code, exc.message)
    return 200, {"Content-Type": _CONTENT_TYPE}, answer
