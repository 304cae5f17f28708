"""The fidelity layer: DynamoDB Streams on the embedded backend, as AWS makes them.

This is the **only** module that touches moto's internals. It is tested on the moto range pinned in
``pyproject.toml`` (:data:`TESTED_MOTO`); :func:`install` refuses any other version, so an upgrade
that would silently break a rule fails loudly instead. Every rule below has a test in
``tests/test_fidelity.py`` that fails on plain moto.

What it changes (see ``docs/parity.md`` for the full table):

* **Records are made at the source.** Each write operation (PutItem, UpdateItem, DeleteItem,
  BatchWriteItem, TransactWriteItems, PartiQL) is wrapped: the item's state before and after the
  whole operation is compared, and one record is appended per changed item, none for a write that
  changes nothing (so an UpdateItem that creates an item gives one INSERT, not two). A rolled-back
  operation produces nothing. moto's own stream shard, and with it its habit of invoking Lambda
  functions inside the write and then clearing the stream, is never used.
* **Records look like AWS's**: ``eventVersion`` "1.1", the table's region, a 32-hex ``eventID``,
  ``ApproximateCreationDateTime`` in whole seconds, ``SizeBytes`` by :func:`streamkit.sizes.record_size`,
  images per view type, and a 21-digit ``SequenceNumber`` that is unique and increasing per account
  and region, never reused.
* **Streams have a life cycle**: enabling an enabled stream is a ``ValidationException``; disabling
  closes the stream, keeps its records readable for 24 hours and leaves the table writable;
  enabling again gives a new stream with a new millisecond label. A deleted table's stream is closed
  the same way.
* **The Streams API**: shard lineage (parent before child; :meth:`StreamStore.roll_shards` closes a
  shard and opens its child), paging in DescribeStream and ListStreams, GetRecords' 1,000-record and
  1 MB limits, shard iterators that expire after 15 minutes and hold no server memory (the iterator
  itself carries its position), ``ResourceNotFoundException`` for unknown streams and shards,
  ``TrimmedDataAccessException`` for records past the 24-hour retention.
"""

from __future__ import annotations

import base64
import bisect
import copy
import functools
import hashlib
import hmac
import json
import math
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import moto
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

from ..limits import (
    DESCRIBE_STREAM_MAX_SHARDS,
    GET_RECORDS_MAX_BYTES,
    GET_RECORDS_MAX_RECORDS,
    LIST_STREAMS_MAX_STREAMS,
    SHARD_ITERATOR_TTL_SECONDS,
    SHARD_ITERATOR_TYPES,
    STREAM_EVENT_SOURCE,
    STREAM_EVENT_VERSION,
    STREAM_RETENTION_SECONDS,
    STREAM_VIEW_TYPES,
)
from ..sizes import record_size

__all__ = ["TESTED_MOTO", "StreamStore", "install", "installed", "now", "store_for"]

#: moto versions this module is tested on (inclusive lower, exclusive upper bound).
TESTED_MOTO = ((5, 2, 1), (5, 3, 0))

_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_SEQUENCE_BASE = 10**20  # sequence numbers are 21 digits: 100000000000000000001, ...
_LOCK = threading.RLock()  # serialises writes and stream reads across moto's request threads
_CAPTURE = threading.local()
_INSTALLED = False


def now() -> float:
    """The clock of the embedded streams, in epoch seconds (tests replace it to travel in time)."""
    return time.time()


def _error(kind: str, message: str) -> JsonRESTError:
    return JsonRESTError(_ERROR_PREFIX + kind, message)


# --------------------------------------------------------------------------------------------------
# The stream store: one per moto DynamoDB backend (account and region), so moto's reset clears it.
# --------------------------------------------------------------------------------------------------


@dataclass
class Shard:
    """One shard of a stream: its records in sequence order."""

    shard_id: str
    parent_shard_id: str | None
    starting_sequence_number: int
    ending_sequence_number: int | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    encoded: list[str] = field(default_factory=list)  # each record as wire JSON, made once
    sequence_numbers: list[int] = field(default_factory=list)
    created_at: list[float] = field(default_factory=list)  # epoch seconds, per record
    trimmed_through: int = 0  # highest sequence number removed by retention

    @property
    def is_open(self) -> bool:
        return self.ending_sequence_number is None

    def describe(self) -> dict[str, Any]:
        rng: dict[str, str] = {"StartingSequenceNumber": str(self.starting_sequence_number)}
        if self.ending_sequence_number is not None:
            rng["EndingSequenceNumber"] = str(self.ending_sequence_number)
        shard: dict[str, Any] = {"ShardId": self.shard_id, "SequenceNumberRange": rng}
        if self.parent_shard_id:
            shard["ParentShardId"] = self.parent_shard_id
        return shard

    def trim(self, at: float) -> None:
        """Drop records older than the retention period."""
        cut = bisect.bisect_left(self.created_at, at - STREAM_RETENTION_SECONDS)
        if cut:
            self.trimmed_through = self.sequence_numbers[cut - 1]
            del self.records[:cut], self.encoded[:cut]
            del self.sequence_numbers[:cut], self.created_at[:cut]


@dataclass
class Stream:
    """A stream of one table: created by enabling, closed by disabling (never deleted)."""

    arn: str
    label: str
    table_name: str
    view_type: str
    key_schema: list[dict[str, str]]
    created: datetime
    shards: list[Shard] = field(default_factory=list)
    enabled: bool = True
    disabled_at: float | None = None

    @property
    def status(self) -> str:
        return "ENABLED" if self.enabled else "DISABLED"

    @property
    def open_shard(self) -> Shard | None:
        return next((s for s in reversed(self.shards) if s.is_open), None)

    def shard(self, shard_id: str) -> Shard:
        for shard in self.shards:
            if shard.shard_id == shard_id:
                return shard
        raise _error(
            "ResourceNotFoundException", "Requested resource not found: Shard does not exist"
        )


class StreamStore:
    """Every stream of one account and region, with its records."""

    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self.streams: dict[str, Stream] = {}  # by ARN, in creation order
        self._sequence = 0
        seed = os.environ.get("STREAMKIT_LOCAL_SEED")
        self._random = random.Random(seed if seed is not None else os.urandom(16))
        self._secret = os.urandom(16)

    # -- identifiers ------------------------------------------------------------------------------

    def next_sequence_number(self) -> int:
        self._sequence += 1
        return _SEQUENCE_BASE + self._sequence

    def _new_shard(self, parent: str | None) -> Shard:
        created_ms = int(now() * 1000)
        shard_id = f"shardId-{created_ms:020d}-{self._random.getrandbits(32):08x}"
        # A shard's starting number is its own: records get later ones, a child shard later still.
        return Shard(shard_id, parent, self.next_sequence_number())

    def _event_id(self) -> str:
        return f"{self._random.getrandbits(128):032x}"

    # -- life cycle -------------------------------------------------------------------------------

    def streams_of(self, table_name: str) -> list[Stream]:
        return [s for s in self.streams.values() if s.table_name == table_name]

    def enabled_stream(self, table_name: str) -> Stream | None:
        return next((s for s in self.streams_of(table_name) if s.enabled), None)

    def enable(self, table: Table, view_type: str) -> Stream:
        if view_type not in STREAM_VIEW_TYPES:
            raise MockValidationException(
                f"1 validation error detected: Value '{view_type}' at "
                "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [" + ", ".join(STREAM_VIEW_TYPES) + "]"
            )
        if self.enabled_stream(table.name) is not None:
            raise MockValidationException(
                f"Table already has an enabled stream: TableName: {table.name}"
            )
        created = datetime.fromtimestamp(math.floor(now() * 1000) / 1000, UTC)
        previous = [s.created for s in self.streams_of(table.name)]
        if previous and created <= max(previous):  # labels of one table are distinct
            created = datetime.fromtimestamp(max(previous).timestamp() + 0.001, UTC)
        label = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}"
        stream = Stream(
            arn=f"{table.table_arn}/stream/{label}",
            label=label,
            table_name=table.name,
            view_type=view_type,
            key_schema=copy.deepcopy(table.schema),
            created=created,
        )
        stream.shards.append(self._new_shard(None))
        self.streams[stream.arn] = stream
        table.latest_stream_label = label
        table.stream_specification = {"StreamEnabled": True, "StreamViewType": view_type}
        table.stream_shard = _RecordSink(self, table)
        return stream

    def disable(self, table: Table) -> Stream:
        stream = self.enabled_stream(table.name)
        if stream is None:
            raise MockValidationException(
                f"Table has no stream to disable: TableName: {table.name}"
            )
        self._close(stream)
        table.stream_specification = {"StreamEnabled": False}
        table.stream_shard = None
        return stream

    def _close(self, stream: Stream) -> None:
        stream.enabled = False
        stream.disabled_at = now()
        shard = stream.open_shard
        if shard is not None:
            shard.ending_sequence_number = (
                shard.sequence_numbers[-1]
                if shard.sequence_numbers
                else shard.starting_sequence_number
            )

    def table_deleted(self, table_name: str) -> None:
        stream = self.enabled_stream(table_name)
        if stream is not None:
            self._close(stream)

    def roll_shards(self, table_name: str) -> Shard:
        """Close the open shard of a table's stream and open its child, as AWS does every few hours.

        Returns the new shard. Local-only: AWS decides when shards roll over.
        """
        stream = self.enabled_stream(table_name)
        if stream is None:
            raise MockValidationException(f"Table has no enabled stream: TableName: {table_name}")
        parent = stream.open_shard
        assert parent is not None
        parent.ending_sequence_number = (
            parent.sequence_numbers[-1]
            if parent.sequence_numbers
            else parent.starting_sequence_number
        )
        child = self._new_shard(parent.shard_id)
        stream.shards.append(child)
        return child

    # -- records ----------------------------------------------------------------------------------

    def append(
        self,
        table: Table,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        user_identity: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Append the record for one item changing from ``old`` to ``new`` (DynamoDB JSON).

        Returns the record, or ``None`` when nothing changed (AWS writes no record then).
        """
        if _same_item(old, new):
            return None
        stream = self.enabled_stream(table.name)
        if stream is None:
            return None
        shard = stream.open_shard
        assert shard is not None
        source = old if old is not None else new
        assert source is not None
        keys = {name: copy.deepcopy(source[name]) for name in table.table_key_attrs}
        event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        new_image = new if stream.view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None
        old_image = old if stream.view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None
        created = now()
        sequence_number = self.next_sequence_number()
        body: dict[str, Any] = {"ApproximateCreationDateTime": math.floor(created), "Keys": keys}
        if new_image is not None:
            body["NewImage"] = copy.deepcopy(new_image)
        if old_image is not None:
            body["OldImage"] = copy.deepcopy(old_image)
        body["SequenceNumber"] = str(sequence_number)
        body["SizeBytes"] = record_size(keys, body.get("NewImage"), body.get("OldImage"))
        body["StreamViewType"] = stream.view_type
        record: dict[str, Any] = {
            "eventID": self._event_id(),
            "eventName": event_name,
            "eventVersion": STREAM_EVENT_VERSION,
            "eventSource": STREAM_EVENT_SOURCE,
            "awsRegion": self.region,
            "dynamodb": body,
        }
        if user_identity is not None:
            record["userIdentity"] = dict(user_identity)
        shard.records.append(record)  # as Lambda events carry it
        wire = record
        if user_identity is not None:  # the Streams API names the fields as its Identity shape
            wire = {
                **record,
                "userIdentity": {
                    "PrincipalId": user_identity["principalId"],
                    "Type": user_identity["type"],
                },
            }
        shard.encoded.append(json.dumps(wire, separators=(",", ":")))
        shard.sequence_numbers.append(sequence_number)
        shard.created_at.append(created)
        return record

    # -- in-process reading, for the local Lambda service ------------------------------------------

    def next_sequence(self) -> int:
        """The sequence number the next record will get (LATEST starts here)."""
        return _SEQUENCE_BASE + self._sequence + 1

    def read_shard(
        self, shard: Shard, position: int, limit: int
    ) -> list[tuple[int, dict[str, Any], str]]:
        """Up to ``limit`` retained records from ``position`` on, as (sequence, record, wire JSON).

        Records past retention are trimmed first; compare ``position`` with
        ``shard.trimmed_through`` to know whether some expired unread.
        """
        shard.trim(now())
        start = bisect.bisect_left(shard.sequence_numbers, position)
        end = min(start + limit, len(shard.records))
        return list(
            zip(
                shard.sequence_numbers[start:end],
                shard.records[start:end],
                shard.encoded[start:end],
                strict=True,
            )
        )

    # -- the Streams API --------------------------------------------------------------------------

    def stream(self, arn: str) -> Stream:
        stream = self.streams.get(arn)
        if stream is None or self._expired(stream):
            raise _error(
                "ResourceNotFoundException",
                f"Requested resource not found: Stream: {arn} not found",
            )
        return stream

    def _expired(self, stream: Stream) -> bool:
        return (
            stream.disabled_at is not None and now() - stream.disabled_at > STREAM_RETENTION_SECONDS
        )

    def describe_stream(
        self, arn: str, limit: int | None = None, exclusive_start_shard_id: str | None = None
    ) -> dict[str, Any]:
        limit = _check_limit("limit", limit, DESCRIBE_STREAM_MAX_SHARDS)
        stream = self.stream(arn)
        shards = stream.shards
        if exclusive_start_shard_id is not None:
            ids = [s.shard_id for s in shards]
            start = (
                ids.index(exclusive_start_shard_id) + 1 if exclusive_start_shard_id in ids else 0
            )
            shards = shards[start:]
        page = shards[:limit]
        description: dict[str, Any] = {
            "StreamArn": stream.arn,
            "StreamLabel": stream.label,
            "StreamStatus": stream.status,
            "StreamViewType": stream.view_type,
            "CreationRequestDateTime": stream.created.timestamp(),
            "TableName": stream.table_name,
            "KeySchema": stream.key_schema,
            "Shards": [s.describe() for s in page],
        }
        if len(shards) > limit:
            description["LastEvaluatedShardId"] = page[-1].shard_id
        return description

    def list_streams(
        self,
        table_name: str | None = None,
        limit: int | None = None,
        exclusive_start_stream_arn: str | None = None,
    ) -> tuple[list[dict[str, str]], str | None]:
        limit = _check_limit("limit", limit, LIST_STREAMS_MAX_STREAMS)
        streams = [
            s
            for s in self.streams.values()
            if (table_name is None or s.table_name == table_name) and not self._expired(s)
        ]
        if exclusive_start_stream_arn is not None:
            arns = [s.arn for s in streams]
            if exclusive_start_stream_arn in arns:
                streams = streams[arns.index(exclusive_start_stream_arn) + 1 :]
        page = streams[:limit]
        last = page[-1].arn if len(streams) > limit else None
        return (
            [{"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label} for s in page],
            last,
        )

    def get_shard_iterator(
        self, arn: str, shard_id: str, iterator_type: str, sequence_number: str | None
    ) -> str:
        if iterator_type not in SHARD_ITERATOR_TYPES:
            raise MockValidationException(
                f"1 validation error detected: Value '{iterator_type}' at 'shardIteratorType' failed "
                "to satisfy constraint: Member must satisfy enum value set: ["
                + ", ".join(SHARD_ITERATOR_TYPES)
                + "]"
            )
        stream = self.stream(arn)
        shard = stream.shard(shard_id)
        shard.trim(now())
        if iterator_type == "TRIM_HORIZON":
            return self._iterator(stream, shard, shard.starting_sequence_number, horizon=True)
        if iterator_type == "LATEST":
            if shard.is_open:
                position = _SEQUENCE_BASE + self._sequence + 1
            else:
                position = shard.ending_sequence_number + 1  # type: ignore[operator]
            return self._iterator(stream, shard, position)
        if sequence_number is None:
            raise MockValidationException(
                f"Must specify SequenceNumber for ShardIteratorType {iterator_type}"
            )
        number = _parse_sequence_number(sequence_number)
        if number not in shard.sequence_numbers:
            if number <= shard.trimmed_through:
                raise _error(
                    "TrimmedDataAccessException",
                    "The data you are trying to access has been trimmed.",
                )
            raise MockValidationException(
                f"Invalid SequenceNumber for ShardIteratorType {iterator_type}: {sequence_number} "
                f"is not in shard {shard_id}"
            )
        position = number if iterator_type == "AT_SEQUENCE_NUMBER" else number + 1
        return self._iterator(stream, shard, position)

    def _iterator(self, stream: Stream, shard: Shard, position: int, horizon: bool = False) -> str:
        payload = f"{shard.shard_id}|{position}|{int(now() * 1000)}|{'H' if horizon else 'P'}"
        mac = hmac.new(self._secret, (stream.arn + payload).encode(), hashlib.sha256).hexdigest()[
            :16
        ]
        token = base64.urlsafe_b64encode(f"{payload}|{mac}".encode()).decode()
        return f"{stream.arn}|1|{token}"

    def _open_iterator(self, iterator: str) -> tuple[Stream, Shard, int, float, bool]:
        try:
            arn, version, token = iterator.rsplit("|", 2)
            shard_id, position, issued_ms, kind, mac = (
                base64.urlsafe_b64decode(token.encode()).decode().split("|")
            )
            payload = f"{shard_id}|{position}|{issued_ms}|{kind}"
            expected = hmac.new(self._secret, (arn + payload).encode(), hashlib.sha256).hexdigest()[
                :16
            ]
            if version != "1" or not hmac.compare_digest(mac, expected):
                raise ValueError(iterator)
            issued = int(issued_ms) / 1000
            parsed = (int(position), kind == "H")
        except (ValueError, UnicodeDecodeError):
            raise MockValidationException("Invalid ShardIterator") from None
        stream = self.stream(arn)
        return stream, stream.shard(shard_id), parsed[0], issued, parsed[1]

    def get_records(self, iterator: str, limit: int | None) -> tuple[list[str], str | None]:
        """One GetRecords call: the records as wire JSON, and the next iterator (``None`` at the end
        of a closed shard)."""
        limit = _check_limit("limit", limit, GET_RECORDS_MAX_RECORDS)
        stream, shard, position, issued, horizon = self._open_iterator(iterator)
        at = now()
        if at - issued > SHARD_ITERATOR_TTL_SECONDS:
            raise _error(
                "ExpiredIteratorException", "The provided iterator exceeds the maximum age allowed."
            )
        shard.trim(at)
        if position <= shard.trimmed_through:
            if not horizon:
                raise _error(
                    "TrimmedDataAccessException",
                    "The data you are trying to access has been trimmed.",
                )
            position = shard.trimmed_through + 1
        start = bisect.bisect_left(shard.sequence_numbers, position)
        end = start
        size = 0
        for record in shard.records[start : start + limit]:
            size += record["dynamodb"]["SizeBytes"]
            if end > start and size > GET_RECORDS_MAX_BYTES:
                break
            end += 1
        if end > start:
            position = shard.sequence_numbers[end - 1] + 1
        next_iterator = None
        if shard.is_open or end < len(shard.sequence_numbers):  # a closed shard read to its end
            # has no next iterator; a next iterator points at a position, so a reader that falls
            # behind retention gets TrimmedDataAccessException instead of silently skipping
            next_iterator = self._iterator(stream, shard, position)
        return shard.encoded[start:end], next_iterator


def _check_limit(name: str, value: Any, maximum: int) -> int:
    if value is None:
        return maximum
    if not isinstance(value, int) or not 1 <= value <= maximum:
        raise MockValidationException(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: "
            f"Member must have value between 1 and {maximum}"
        )
    return value


def _parse_sequence_number(value: Any) -> int:
    text = str(value)
    if not text.isdigit() or not 21 <= len(text) <= 40:
        raise MockValidationException(
            f"1 validation error detected: Value '{text}' at 'sequenceNumber' failed to satisfy "
            "constraint: Member must have length between 21 and 40 and contain digits only"
        )
    return int(text)


def _canonical_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item (or map payload) in a form where equal items compare equal: name -> typed value."""
    return {name: _canonical_value(value) for name, value in item.items()}


def _canonical_value(value: Any) -> Any:
    """A typed value ``{kind: payload}`` compared as DynamoDB does (sets unordered, numbers by
    value), recursing by structure: never by guessing from a key's name."""
    if not isinstance(value, dict) or len(value) != 1:
        return repr(value)
    ((kind, inner),) = value.items()
    if kind == "N":
        return ("N", _number(inner))
    if kind == "NS":
        return ("NS", frozenset(_number(n) for n in inner))
    if kind in ("SS", "BS"):
        return (kind, frozenset(inner))
    if kind == "M" and isinstance(inner, dict):
        return ("M", _canonical_item(inner))
    if kind == "L" and isinstance(inner, list):
        return ("L", [_canonical_value(v) for v in inner])
    return (kind, inner)


def _number(text: Any) -> Decimal | str:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return str(text)


def _same_item(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return _canonical_item(old) == _canonical_item(new)


# --------------------------------------------------------------------------------------------------
# Hooks into moto.
# --------------------------------------------------------------------------------------------------


def store_for(account_id: str, region: str) -> StreamStore:
    """The stream store of an account and region (created with, and reset with, moto's backend)."""
    backend = dynamodb_backends[account_id][region]
    store = getattr(backend, "_streamkit_streams", None)
    if store is None:
        store = StreamStore(account_id, region)
        backend._streamkit_streams = store  # type: ignore[attr-defined]
    return store


def _table_store(table: Table) -> StreamStore:
    return store_for(table.account_id, table.region_name)


def _attributes(item: Any) -> dict[str, Any] | None:
    """An item's attributes in wire DynamoDB JSON (moto keeps some binary values as raw bytes)."""
    return None if item is None else _wire_json(item.to_json()["Attributes"])


def _wire_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _wire_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire_json(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value


class _RecordSink:
    """Stands where moto keeps a table's ``stream_shard``: moto's write paths call ``add``."""

    def __init__(self, store: StreamStore, table: Table):
        self.store = store
        self.table = table

    def __deepcopy__(self, memo: dict[int, Any]) -> _RecordSink:
        # moto deep-copies tables around TransactWriteItems (to roll back): never copy the store,
        # or a restored table would write its records into a detached copy.
        return _RecordSink(self.store, copy.deepcopy(self.table, memo))

    def add(self, old: Any, new: Any) -> None:
        item = old if old is not None else new
        key = (
            self.table.name,
            json.dumps(item.hash_key.to_json(), sort_keys=True),
            json.dumps(
                item.range_key.to_json() if item.range_key is not None else None, sort_keys=True
            ),
        )
        touched = getattr(_CAPTURE, "touched", None)
        if touched is None:  # a write path we do not wrap: emit at once
            self.store.append(self.table, _attributes(old), _attributes(new))
        elif key not in touched:  # first touch in this operation: remember the state before it
            touched[key] = (self.table, item.hash_key, item.range_key, _attributes(old))


def _capturing(method: Any) -> Any:
    """Wrap a write operation so that it emits one record per changed item, after it succeeds."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            if getattr(_CAPTURE, "touched", None) is not None:  # nested: the outer call emits
                return method(*args, **kwargs)
            _CAPTURE.touched = {}
            try:
                result = method(*args, **kwargs)
                touched = _CAPTURE.touched
            finally:
                _CAPTURE.touched = None
            for table, hash_key, range_key, before in touched.values():
                if table.stream_shard is None:
                    continue
                after = _attributes(table.get_item(hash_key, range_key))
                _table_store(table).append(table, before, after)
            return result

    return wrapper


_WRITE_OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)


def expire_ttl_items(
    account_id: str, region: str, table_name: str | None = None, *, at: float | None = None
) -> int:
    """Delete expired items as DynamoDB's TTL process does; returns how many were deleted.

    An item expires when its TTL attribute is a number of epoch seconds before ``at`` (items
    without it, or with a non-number, never expire). Each deletion gives a REMOVE record carrying
    the service's ``userIdentity``. Source: DynamoDB Developer Guide, "DynamoDB Streams and Time
    to Live" (AWS-FACTS §1.2).
    """
    from ..limits import TTL_USER_IDENTITY

    backend = dynamodb_backends[account_id][region]
    moment = now() if at is None else at
    deleted = 0
    with _LOCK:
        for table in list(backend.tables.values()):
            if table_name is not None and table.name != table_name:
                continue
            spec = getattr(table, "ttl", None) or {}
            attribute = spec.get("AttributeName")
            if spec.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or not attribute:
                continue
            expired = []
            for item in table.all_items():
                value = item.attrs.get(attribute)
                if value is None or value.type != "N":
                    continue
                try:
                    expires = float(value.value)
                except ValueError:
                    continue
                if expires < moment:
                    expired.append(item)
            _CAPTURE.touched = {}  # the sink notes what changed; the records are made below
            try:
                for item in expired:
                    table.delete_item(item.hash_key, item.range_key)
            finally:
                touched, _CAPTURE.touched = _CAPTURE.touched, None
            for owner, _, _, before in touched.values():
                if owner.stream_shard is not None:
                    _table_store(owner).append(
                        owner, before, None, user_identity=dict(TTL_USER_IDENTITY)
                    )
            deleted += len(expired)
    return deleted


def _set_stream_specification(self: Table, streams: dict[str, Any] | None) -> None:
    """Replaces ``Table.set_stream_specification`` (CreateTable's StreamSpecification)."""
    with _LOCK:
        self.stream_specification = {"StreamEnabled": False}
        self.stream_shard = None
        if streams and streams.get("StreamEnabled"):
            _table_store(self).enable(self, streams.get("StreamViewType", ""))


def _update_table_streams(self: DynamoDBBackend, table: Table, spec: dict[str, Any]) -> None:
    """Replaces ``DynamoDBBackend.update_table_streams`` (UpdateTable's StreamSpecification)."""
    with _LOCK:
        store = _table_store(table)
        if spec.get("StreamEnabled"):
            store.enable(table, spec.get("StreamViewType", ""))
        else:
            store.disable(table)


def _delete_table(original: Any) -> Any:
    @functools.wraps(original)
    def delete_table(self: DynamoDBBackend, name: str) -> Table:
        with _LOCK:
            table = original(self, name)
            store_for(self.account_id, self.region_name).table_deleted(table.name)
            return table

    return delete_table


# The Streams API, answered from the store.


def _streams_store(backend: DynamoDBStreamsBackend) -> StreamStore:
    return store_for(backend.account_id, backend.region_name)


# The handlers answer with JSON they build themselves: moto's model-driven serializer costs about
# half a millisecond per record, ~200 times what the store takes to find them. Timestamps go out as
# epoch seconds, as on AWS's wire.


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def _handler_describe_stream(self: DynamoDBStreamsHandler) -> str:
    with _LOCK:
        description = _streams_store(self.backend).describe_stream(
            self._get_param("StreamArn"),
            self._get_param("Limit"),
            self._get_param("ExclusiveStartShardId"),
        )
    return _json({"StreamDescription": description})


def _handler_list_streams(self: DynamoDBStreamsHandler) -> str:
    with _LOCK:
        streams, last = _streams_store(self.backend).list_streams(
            self._get_param("TableName"),
            self._get_param("Limit"),
            self._get_param("ExclusiveStartStreamArn"),
        )
    result: dict[str, Any] = {"Streams": streams}
    if last is not None:
        result["LastEvaluatedStreamArn"] = last
    return _json(result)


def _handler_get_shard_iterator(self: DynamoDBStreamsHandler) -> str:
    with _LOCK:
        iterator = _streams_store(self.backend).get_shard_iterator(
            self._get_param("StreamArn"),
            self._get_param("ShardId"),
            self._get_param("ShardIteratorType"),
            self._get_param("SequenceNumber"),
        )
    return _json({"ShardIterator": iterator})


def _handler_get_records(self: DynamoDBStreamsHandler) -> str:
    with _LOCK:
        records, next_iterator = _streams_store(self.backend).get_records(
            self._get_param("ShardIterator"), self._get_param("Limit")
        )
    body = '{"Records":[' + ",".join(records) + "]"
    if next_iterator is not None:
        body += ',"NextShardIterator":' + json.dumps(next_iterator)
    return body + "}"


def _backend_list_streams(
    self: DynamoDBStreamsBackend, table_name: str | None = None
) -> list[dict[str, str]]:
    """Replaces the backend method moto's Lambda uses to find a mapping's stream."""
    streams, _ = _streams_store(self).list_streams(table_name, LIST_STREAMS_MAX_STREAMS)
    return streams


def _moto_version() -> tuple[int, ...]:
    return tuple(int(part) for part in moto.__version__.split(".")[:3] if part.isdigit())


def installed() -> bool:
    """Whether the fidelity layer is active in this process."""
    return _INSTALLED


def install() -> None:
    """Activate the fidelity layer in this process (idempotent).

    Raises
    ------
    RuntimeError
        If the installed moto is outside :data:`TESTED_MOTO`.
    """
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        if os.environ.get("STREAMKIT_PLAIN_MOTO") == "1":
            # Test switch only: run on moto as it is, to prove each fidelity test fails there.
            _INSTALLED = True
            return
        low, high = TESTED_MOTO
        version = _moto_version()
        if not low <= version < high:
            raise RuntimeError(
                f"streamkit's fidelity layer is tested on moto >= {'.'.join(map(str, low))}, < "
                f"{'.'.join(map(str, high))}; moto {moto.__version__} is installed. Install a "
                "tested version (pip install -e .) rather than run with unverified stream records."
            )
        for name in _WRITE_OPERATIONS:
            setattr(DynamoDBBackend, name, _capturing(getattr(DynamoDBBackend, name)))
        DynamoDBBackend.update_table_streams = _update_table_streams  # type: ignore[method-assign]
        DynamoDBBackend.delete_table = _delete_table(DynamoDBBackend.delete_table)  # type: ignore[method-assign]
        Table.set_stream_specification = _set_stream_specification  # type: ignore[method-assign]
        DynamoDBStreamsBackend.list_streams = _backend_list_streams  # type: ignore[method-assign]
        DynamoDBStreamsHandler.describe_stream = _handler_describe_stream  # type: ignore[method-assign]
        DynamoDBStreamsHandler.list_streams = _handler_list_streams  # type: ignore[method-assign]
        DynamoDBStreamsHandler.get_shard_iterator = _handler_get_shard_iterator  # type: ignore[method-assign]
        DynamoDBStreamsHandler.get_records = _handler_get_records  # type: ignore[method-assign]
        _install_lambda_api()
        _speed_up_moto()
        _INSTALLED = True


# --------------------------------------------------------------------------------------------------
# Event source mappings for DynamoDB streams: the Lambda API answered as AWS answers it. moto's own
# mappings would invoke functions inside the write; these are run by streamkit's local Lambda
# service (streamkit/local/lambda_service.py), which moves them through their states.
# --------------------------------------------------------------------------------------------------

#: Mapping settings the local Lambda service does not run yet, with the default that is accepted.
#: Anything else is refused at creation: never accepted and silently ignored.
NOT_YET_RUN: dict[str, Any] = {
    "ParallelizationFactor": 1,
    "TumblingWindowInSeconds": 0,
}

_MAPPING_KEYS = (
    "StartingPosition",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "FilterCriteria",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
)


class LambdaApiError(Exception):
    """An error as the Lambda REST API returns it."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message

    def response(self) -> tuple[int, dict[str, Any], str]:
        body = json.dumps({"Type": "User", "Message": self.message, "message": self.message})
        return self.status, {"status": self.status, "x-amzn-errortype": self.kind}, body


def _invalid(message: str) -> LambdaApiError:
    return LambdaApiError(400, "InvalidParameterValueException", message)


@dataclass
class Mapping:
    """One event source mapping on a DynamoDB stream, with the state Lambda reports for it."""

    uuid: str
    arn: str
    function_arn: str
    event_source_arn: str
    settings: dict[str, Any]
    enabled: bool
    state: str = "Creating"
    state_transition_reason: str = "User action"
    last_processing_result: str = "No records processed"
    last_modified: float = field(default_factory=lambda: now())
    # kept with the mapping (backend state), so a restarted local Lambda service resumes from them
    checkpoints: dict[str, int] = field(default_factory=dict)  # shard id -> last sequence done
    tags: dict[str, str] = field(default_factory=dict)  # CreateEventSourceMapping's Tags

    @property
    def filters(self) -> list[dict[str, Any]]:
        """The parsed filter patterns (none: every record)."""
        from ..filters import validate_filter_criteria

        criteria = self.settings.get("FilterCriteria") or None
        key = json.dumps(criteria, sort_keys=True)
        if self._filters_key != key:
            self._filters, self._filters_key = validate_filter_criteria(criteria), key
        return self._filters

    _filters: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _filters_key: str | None = field(default=None, repr=False)
    enabled_at_sequence: int | None = None  # where LATEST starts

    def response(self) -> dict[str, Any]:
        s = self.settings
        body: dict[str, Any] = {
            "UUID": self.uuid,
            "StartingPosition": s["StartingPosition"],
            "BatchSize": s["BatchSize"],
            "MaximumBatchingWindowInSeconds": s["MaximumBatchingWindowInSeconds"],
            "ParallelizationFactor": s["ParallelizationFactor"],
            "EventSourceArn": self.event_source_arn,
        }
        if s.get("FilterCriteria"):
            body["FilterCriteria"] = s["FilterCriteria"]
        body.update(
            {
                "FunctionArn": self.function_arn,
                "LastModified": self.last_modified,
                "LastProcessingResult": self.last_processing_result,
                "State": self.state,
                "StateTransitionReason": self.state_transition_reason,
                "DestinationConfig": s["DestinationConfig"],
                "MaximumRecordAgeInSeconds": s["MaximumRecordAgeInSeconds"],
                "BisectBatchOnFunctionError": s["BisectBatchOnFunctionError"],
                "MaximumRetryAttempts": s["MaximumRetryAttempts"],
                "TumblingWindowInSeconds": s["TumblingWindowInSeconds"],
                "FunctionResponseTypes": s["FunctionResponseTypes"],
                "EventSourceMappingArn": self.arn,
            }
        )
        return body


class MappingStore:
    """Every DynamoDB-stream mapping of one account and region."""

    def __init__(self) -> None:
        self.mappings: dict[str, Mapping] = {}


_BUSY_STATES = ("Creating", "Enabling", "Updating", "Disabling", "Deleting")


def mapping_store_for(account_id: str, region: str) -> MappingStore:
    """The mapping store of an account and region (reset with moto's Lambda backend)."""
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[account_id][region]
    store = getattr(backend, "_streamkit_mappings", None)
    if store is None:
        store = MappingStore()
        backend._streamkit_mappings = store  # type: ignore[attr-defined]
    return store


def _is_dynamodb_stream(arn: Any) -> bool:
    return (
        isinstance(arn, str)
        and arn.startswith("arn:")
        and ":dynamodb:" in arn
        and "/stream/" in arn
    )


def _function_arn(response: Any, name: str) -> str:
    from moto.awslambda.exceptions import UnknownFunctionException

    try:
        return str(response.backend.get_function(name).function_arn)
    except UnknownFunctionException:
        if name.startswith("arn:"):
            arn = name
        else:
            arn = f"arn:aws:lambda:{response.region}:{response.current_account}:function:{name}"
        raise LambdaApiError(
            404, "ResourceNotFoundException", f"Function not found: {arn}"
        ) from None


def _int_in(name: str, value: Any, low: int, high: int, extra: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(
            f"{name} {value!r} is not valid: it must be a whole number between {low} and {high}"
            f"{extra}."
        )
    return value


def _validate_settings(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Settings of a create (``current`` None) or update, checked and with AWS's defaults."""
    from ..limits import (
        ESM_BATCH_SIZE_DEFAULT,
        ESM_BATCH_SIZE_RANGE,
        ESM_BATCHING_WINDOW_MAX_S,
        ESM_FUNCTION_RESPONSE_TYPES,
        ESM_PARALLELIZATION_RANGE,
        ESM_RECORD_AGE_RANGE_S,
        ESM_RETRY_ATTEMPTS_RANGE,
        ESM_STARTING_POSITIONS,
        ESM_TUMBLING_WINDOW_RANGE_S,
    )

    settings = (
        dict(current)
        if current
        else {
            "BatchSize": ESM_BATCH_SIZE_DEFAULT,
            "MaximumBatchingWindowInSeconds": 0,
            "ParallelizationFactor": 1,
            "FilterCriteria": None,
            "DestinationConfig": {"OnFailure": {}},
            "MaximumRecordAgeInSeconds": -1,
            "BisectBatchOnFunctionError": False,
            "MaximumRetryAttempts": -1,
            "TumblingWindowInSeconds": 0,
            "FunctionResponseTypes": [],
        }
    )
    if current is None:
        position = body.get("StartingPosition")
        if position not in ESM_STARTING_POSITIONS:
            raise _invalid(
                f"StartingPosition {position!r} is not valid for a DynamoDB stream: it is required "
                f"and must be one of {', '.join(ESM_STARTING_POSITIONS)}."
            )
        settings["StartingPosition"] = position
    for key in _MAPPING_KEYS:
        if key in body and key != "StartingPosition":
            settings[key] = body[key]
    settings["BatchSize"] = _int_in("BatchSize", settings["BatchSize"], *ESM_BATCH_SIZE_RANGE)
    _int_in(
        "MaximumBatchingWindowInSeconds",
        settings["MaximumBatchingWindowInSeconds"],
        0,
        ESM_BATCHING_WINDOW_MAX_S,
    )
    _int_in("ParallelizationFactor", settings["ParallelizationFactor"], *ESM_PARALLELIZATION_RANGE)
    _int_in("MaximumRetryAttempts", settings["MaximumRetryAttempts"], *ESM_RETRY_ATTEMPTS_RANGE)
    _int_in(
        "TumblingWindowInSeconds", settings["TumblingWindowInSeconds"], *ESM_TUMBLING_WINDOW_RANGE_S
    )
    age = settings["MaximumRecordAgeInSeconds"]
    if age != -1:
        _int_in(
            "MaximumRecordAgeInSeconds", age, *ESM_RECORD_AGE_RANGE_S, extra=", or -1 (forever)"
        )
    types = settings["FunctionResponseTypes"]
    if not isinstance(types, list) or any(t not in ESM_FUNCTION_RESPONSE_TYPES for t in types):
        raise _invalid(
            f"FunctionResponseTypes {types!r} is not valid: use [] or {list(ESM_FUNCTION_RESPONSE_TYPES)}."
        )
    config = settings["DestinationConfig"] or {}
    if config.get("OnSuccess"):
        raise _invalid(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    destination = (config.get("OnFailure") or {}).get("Destination")
    if destination is not None:
        parts = str(destination).split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] not in ("sqs", "sns", "s3"):
            raise _invalid(
                f"The destination ARN {destination} is not valid: an on-failure destination is "
                "an Amazon SQS queue, Amazon SNS topic or Amazon S3 bucket ARN."
            )
    settings["DestinationConfig"] = {"OnFailure": dict(config.get("OnFailure") or {})}
    from ..filters import FilterPatternError, validate_filter_criteria

    try:
        validate_filter_criteria(settings["FilterCriteria"] or None)
    except FilterPatternError as exc:
        raise _invalid(exc.aws_message) from None
    return settings


def _not_yet_run(settings: dict[str, Any]) -> None:
    for key, default in NOT_YET_RUN.items():
        value = settings.get(key)
        if value != default and not (default is None and not value):
            raise _invalid(
                f"streamkit's embedded backend does not run {key} yet (it is accepted by AWS, but "
                f"the local Lambda service would ignore it, and it never ignores a setting). Leave it "
                f"at {json.dumps(default)} locally, or use real AWS. See docs/parity.md."
            )


def _lambda_create(original: Any) -> Any:
    @functools.wraps(original)
    def create_event_source_mapping(self: Any) -> Any:
        body = self.json_body
        if not _is_dynamodb_stream(body.get("EventSourceArn")):
            return original(self)
        try:
            with _LOCK:
                function_arn = _function_arn(self, body.get("FunctionName", ""))
                arn = body["EventSourceArn"]
                try:
                    store_for(self.current_account, self.region).stream(arn)
                except JsonRESTError:
                    raise _invalid(f"Stream not found: {arn}") from None
                settings = _validate_settings(body, None)
                _not_yet_run(settings)
                mappings = mapping_store_for(self.current_account, self.region)
                for other in mappings.mappings.values():
                    if other.event_source_arn == arn and other.function_arn == function_arn:
                        name = function_arn.rsplit(":", 1)[-1]
                        raise LambdaApiError(
                            409,
                            "ResourceConflictException",
                            f'The event source arn (" {arn} ") and function (" {name} ") provided '
                            "mapping already exists. Please update or delete the existing mapping "
                            f"with UUID {other.uuid}",
                        )
                mapping_id = str(uuid.uuid4())
                mapping = Mapping(
                    uuid=mapping_id,
                    arn=f"arn:aws:lambda:{self.region}:{self.current_account}:event-source-mapping:{mapping_id}",
                    function_arn=function_arn,
                    event_source_arn=arn,
                    settings=settings,
                    enabled=bool(body.get("Enabled", True)),
                    tags=_tags(body.get("Tags")),
                )
                mappings.mappings[mapping_id] = mapping
                body = json.dumps(mapping.response())  # as created: State "Creating"
            _mappings_changed()
            return 202, {"status": 202}, body
        except LambdaApiError as exc:
            return exc.response()

    return create_event_source_mapping


def _tags(value: Any) -> dict[str, str]:
    """CreateEventSourceMapping's ``Tags``: a map of strings (AWS's rule), or none."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _invalid("Tags must be a map of string keys to string values.")
    return dict(value)


def _lambda_list_tags(original: Any) -> Any:
    """ListTags also answers for our mappings' ARNs (moto knows only functions' tags)."""

    @functools.wraps(original)
    def list_tags(self: Any) -> Any:
        from urllib.parse import unquote

        arn = unquote(self.path.rsplit("/", 1)[-1])
        if ":event-source-mapping:" not in arn:
            return original(self)
        with _LOCK:
            mapping = mapping_store_for(self.current_account, self.region).mappings.get(
                arn.rsplit(":", 1)[-1]
            )
            if mapping is None or mapping.arn != arn:
                return LambdaApiError(
                    404, "ResourceNotFoundException", "The resource you requested does not exist."
                ).response()
            return 200, {"status": 200}, json.dumps({"Tags": mapping.tags})

    return list_tags


def _mapping_or_404(self: Any) -> Mapping | None:
    """Our mapping for the request's UUID; None if it is moto's (another kind of source).

    Raises LambdaApiError 404 when neither we nor moto know the UUID (moto would answer an update
    or a delete of an unknown mapping with an empty success)."""
    uuid = self.path.split("/")[-1]
    mapping = mapping_store_for(self.current_account, self.region).mappings.get(uuid)
    if mapping is None and self.backend.get_event_source_mapping(uuid) is None:
        raise LambdaApiError(
            404, "ResourceNotFoundException", "The resource you requested does not exist."
        )
    return mapping


#: Called with no argument after every change made through the mapping API (the local Lambda
#: service registers its wake-up here, so a change is seen at once, not at the next poll).
MAPPING_LISTENERS: list[Any] = []


def _mappings_changed() -> None:
    for listener in list(MAPPING_LISTENERS):
        listener()


def _in_use(mapping: Mapping, doing: str) -> LambdaApiError:
    return LambdaApiError(
        400,
        "ResourceInUseException",
        f"Cannot {doing} the event source mapping because it is in use (state {mapping.state}). "
        "Try again once it is Enabled or Disabled.",
    )


def _lambda_get(original: Any) -> Any:
    @functools.wraps(original)
    def get_event_source_mapping(self: Any) -> Any:
        with _LOCK:
            try:
                mapping = _mapping_or_404(self)
            except LambdaApiError as exc:
                return exc.response()
            if mapping is None:
                return original(self)
            return 200, {}, json.dumps(mapping.response())

    return get_event_source_mapping


def _lambda_update(original: Any) -> Any:
    @functools.wraps(original)
    def update_event_source_mapping(self: Any) -> Any:
        with _LOCK:
            try:
                mapping = _mapping_or_404(self)
                if mapping is None:
                    return original(self)
                body = self.json_body
                if mapping.state in _BUSY_STATES:
                    raise _in_use(mapping, "update")
                settings = _validate_settings(body, mapping.settings)
                _not_yet_run(settings)
                if "FunctionName" in body:
                    mapping.function_arn = _function_arn(self, body["FunctionName"])
                mapping.settings = settings
                if "Enabled" in body and bool(body["Enabled"]) != mapping.enabled:
                    mapping.enabled = bool(body["Enabled"])
                    mapping.state = "Enabling" if mapping.enabled else "Disabling"
                else:
                    mapping.state = "Updating"
                mapping.state_transition_reason = "User action"
                mapping.last_modified = now()
                response = json.dumps(mapping.response())  # before the service moves it on
            except LambdaApiError as exc:
                return exc.response()
        _mappings_changed()
        return 202, {"status": 202}, response

    return update_event_source_mapping


def _lambda_delete(original: Any) -> Any:
    @functools.wraps(original)
    def delete_event_source_mapping(self: Any) -> Any:
        with _LOCK:
            try:
                mapping = _mapping_or_404(self)
                if mapping is None:
                    return original(self)
                if mapping.state in _BUSY_STATES:
                    raise _in_use(mapping, "delete")
            except LambdaApiError as exc:
                return exc.response()
            mapping.state = "Deleting"
            mapping.state_transition_reason = "User action"
            response = json.dumps(mapping.response())
        _mappings_changed()
        return 202, {"status": 202}, response

    return delete_event_source_mapping


def _lambda_list(original: Any) -> Any:
    @functools.wraps(original)
    def list_event_source_mappings(self: Any) -> Any:
        source = self.querystring.get("EventSourceArn", [None])[0]
        name = self.querystring.get("FunctionName", [None])[0]
        with _LOCK:
            theirs = json.loads(original(self))["EventSourceMappings"]
            function_arn = None
            if name:
                try:
                    function_arn = _function_arn(self, name)
                except LambdaApiError as exc:
                    return exc.response()
            ours = [
                m.response()
                for m in mapping_store_for(self.current_account, self.region).mappings.values()
                if (source is None or m.event_source_arn == source)
                and (function_arn is None or m.function_arn == function_arn)
            ]
        return json.dumps({"EventSourceMappings": ours + theirs})

    return list_event_source_mappings


def function_code(account_id: str, region: str, function_arn: str) -> dict[str, Any] | None:
    """What the local runtime needs to run a function: its configuration and zip (None if gone)."""
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.awslambda.models import lambda_backends

    try:
        fn = lambda_backends[account_id][region].get_function(function_arn)
    except UnknownFunctionException:
        return None
    return {
        "name": fn.function_name,
        "arn": fn.function_arn,
        "handler": fn.handler,
        "runtime": fn.run_time,
        "timeout_s": float(fn.timeout),
        "memory_mb": int(fn.memory_size),
        "environment": dict(fn.environment_vars or {}),
        "code": fn.code_bytes,
        "code_sha256": fn.code_sha_256,
    }


def sent_emails(account_id: str, region: str) -> list[dict[str, Any]]:
    """E-mails sent through SES on the embedded backend, oldest first (local only)."""
    from moto.ses.models import ses_backends

    messages = []
    for message in ses_backends[account_id][region].sent_messages:
        messages.append(
            {
                "id": getattr(message, "id", None),
                "source": getattr(message, "source", None),
                "destinations": getattr(message, "destinations", None),
                "subject": getattr(message, "subject", None),
                "body": getattr(message, "body", None),
            }
        )
    return messages


def _speed_up_moto() -> None:
    """Cache two things moto recomputes on every request (about 2 ms of a 6 ms idle GetRecords):
    the list of its service folders (read from disk) and each handler class's method names."""
    import moto.backends
    import moto.core.responses

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    moto.core.responses.method_names_from_class = functools.lru_cache(maxsize=None)(  # type: ignore[assignment]
        moto.core.responses.method_names_from_class
    )


def _install_lambda_api() -> None:
    from moto.awslambda.responses import LambdaResponse

    LambdaResponse.create_event_source_mapping = _lambda_create(
        LambdaResponse.create_event_source_mapping
    )  # type: ignore[method-assign]
    LambdaResponse.get_event_source_mapping = _lambda_get(LambdaResponse.get_event_source_mapping)  # type: ignore[method-assign]
    LambdaResponse.list_tags = _lambda_list_tags(LambdaResponse.list_tags)  # type: ignore[method-assign]
    LambdaResponse.update_event_source_mapping = _lambda_update(
        LambdaResponse.update_event_source_mapping
    )  # type: ignore[method-assign]
    LambdaResponse.delete_event_source_mapping = _lambda_delete(
        LambdaResponse.delete_event_source_mapping
    )  # type: ignore[method-assign]
    LambdaResponse.list_event_source_mappings = _lambda_list(
        LambdaResponse.list_event_source_mappings
    )  # type: ignore[method-assign]
