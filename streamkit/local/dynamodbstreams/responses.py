"""The DynamoDB Streams API of the embedded backend, answered from the stream store.

The server's dispatcher sends every request whose ``X-Amz-Target`` is
``DynamoDBStreams_20120810.<Operation>`` here; moto's own Streams handler is never used. Answers
are JSON built here (moto's model-driven serializer costs about half a millisecond per record,
~200 times what the store takes to find them), timestamps as epoch seconds, as on AWS's wire.
Errors are HTTP 400 with AWS's ``__type`` and ``message``.
"""

from __future__ import annotations

import json
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


def _describe_stream(account: str, region: str, params: dict[str, Any]) -> str:
    description = store_for(account, region).describe_stream(
        params.get("StreamArn"), params.get("Limit"), params.get("ExclusiveStartShardId")
    )
    return _json({"StreamDescription": description})


def _list_streams(account: str, region: str, params: dict[str, Any]) -> str:
    streams, last = store_for(account, region).list_streams(
        params.get("TableName"), params.get("Limit"), params.get("ExclusiveStartStreamArn")
    )
    result: dict[str, Any] = {"Streams": streams}
    if last is not None:
        result["LastEvaluatedStreamArn"] = last
    return _json(result)


def _get_shard_iterator(account: str, region: str, params: dict[str, Any]) -> str:
    iterator = store_for(account, region).get_shard_iterator(
        params.get("StreamArn"),
        params.get("ShardId"),
        params.get("ShardIteratorType"),
        params.get("SequenceNumber"),
    )
    return _json({"ShardIterator": iterator})


def _get_records(account: str, region: str, params: dict[str, Any]) -> str:
    records, next_iterator = store_for(account, region).get_records(
        params.get("ShardIterator"), params.get("Limit")
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
