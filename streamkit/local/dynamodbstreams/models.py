"""The stream store: every DynamoDB stream of the embedded backend, with its shards and records.

No moto here: the store is fed by :mod:`.capture` (wired to moto's write paths by
:mod:`streamkit.local.moto_compat`) and read by :mod:`.responses` (the DynamoDB Streams API) and by
the local Lambda service. What it models, as AWS does (``docs/parity.md`` has the full table):

* **Records look like AWS's**: ``eventVersion`` "1.1", the table's region, a 32-hex ``eventID``,
  ``ApproximateCreationDateTime`` in whole seconds, ``SizeBytes`` by
  :func:`streamkit.sizes.record_size`, images per view type, and a 21-digit ``SequenceNumber``
  that is unique and increasing per account and region, never reused.
* **Streams have a life cycle**: enabling an enabled stream is a ``ValidationException``;
  disabling closes the stream and keeps its records readable for 24 hours; enabling again gives a
  new stream with a new millisecond label. A deleted table's stream is closed the same way.
* **Shards**: a stream starts with :data:`SHARD_SETTINGS` ``.per_stream`` open shards, each its own
  ordered sequence; an item's records go to one shard, chosen by a stable hash of its partition key
  value. Open shards roll over (each closes and opens one child, which takes its parent's keys)
  when :data:`SHARD_SETTINGS` ``.rollover_s`` has passed, checked at the stream's next write or
  read (no background thread), or at once with :meth:`StreamStore.roll_shards`.
* **The Streams API**: shard lineage (parents listed before their children, with
  ``ParentShardId``), paging in DescribeStream and ListStreams, GetRecords' 1,000-record
  and 1 MB limits, shard iterators that expire after 15 minutes and hold no server memory (the
  iterator itself carries its position, signed), ``ResourceNotFoundException`` for unknown streams
  and shards, ``TrimmedDataAccessException`` for records past the 24-hour retention.

Stores are kept per account and region (:func:`store_for`) and forgotten by :func:`reset_stores`.
Callers hold :data:`streamkit.local.state.LOCK` around every call.
"""

from __future__ import annotations

import base64
import bisect
import copy
import hashlib
import hmac
import json
import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...limits import (
    DESCRIBE_STREAM_MAX_SHARDS,
    GET_RECORDS_MAX_BYTES,
    GET_RECORDS_MAX_RECORDS,
    LIST_STREAMS_MAX_STREAMS,
    LOCAL_SHARDS_PER_STREAM_RANGE,
    SHARD_ITERATOR_TTL_SECONDS,
    SHARD_ITERATOR_TYPES,
    STREAM_EVENT_SOURCE,
    STREAM_EVENT_VERSION,
    STREAM_RETENTION_SECONDS,
    STREAM_SHARD_ROLLOVER_SECONDS,
    STREAM_VIEW_TYPES,
)
from ...sizes import record_size
from .. import state
from ..number_rules import NumberError, canonical_number
from .capture import same_item

__all__ = [
    "SHARD_SETTINGS",
    "STREAM_LISTENERS",
    "Shard",
    "ShardSettings",
    "Stream",
    "StreamStore",
    "StreamsApiError",
    "reset_stores",
    "store_for",
]

_SEQUENCE_BASE = 10**20  # sequence numbers are 21 digits: 100000000000000000001, ...

#: Called with a stream's ARN after a record was appended to it or its shards changed (rolled over,
#: closed), under the backend's lock: the local Lambda service registers its wake-up here, so it
#: reacts to writes without polling idle shards. A listener must be quick and must not block.
STREAM_LISTENERS: list[Callable[[str], None]] = []


def _changed(stream_arn: str) -> None:
    for listener in list(STREAM_LISTENERS):
        listener(stream_arn)


@dataclass
class ShardSettings:
    """How the embedded backend shards its streams (set by ``LocalAWS``).

    Attributes
    ----------
    per_stream : int
        Open shards a stream starts with (read when a stream is enabled).
    rollover_s : float
        Seconds an open shard stays open before it rolls over (read at each check, so a change
        applies to streams that are already open); ``math.inf``: only on request.
    """

    per_stream: int = 1
    rollover_s: float = float(STREAM_SHARD_ROLLOVER_SECONDS)

    def update(self, per_stream: int | None = None, rollover_s: float | None = None) -> None:
        """Check and set either setting (``None`` keeps it).

        Raises
        ------
        ValueError
            For a shard count outside :data:`~streamkit.limits.LOCAL_SHARDS_PER_STREAM_RANGE` or
            a rollover period that is not a positive number of seconds.
        """
        low, high = LOCAL_SHARDS_PER_STREAM_RANGE
        if per_stream is not None:
            if (
                isinstance(per_stream, bool)
                or not isinstance(per_stream, int)
                or not low <= per_stream <= high
            ):
                raise ValueError(f"shards_per_stream must be a whole number in [{low}, {high}]")
        if rollover_s is not None:
            if (
                isinstance(rollover_s, bool)
                or not isinstance(rollover_s, int | float)
                or not rollover_s > 0  # NaN fails too
            ):
                raise ValueError("shard_rollover_s must be a number of seconds > 0 (or math.inf)")
        if per_stream is not None:
            self.per_stream = per_stream
        if rollover_s is not None:
            self.rollover_s = float(rollover_s)


#: The shard settings of the embedded backend (one per process, as moto's state is).
SHARD_SETTINGS = ShardSettings()


def partition_hash(value: dict[str, Any]) -> int:
    """A stable 64-bit hash of a partition key value in DynamoDB JSON (``{"S": "u1"}``).

    The value is taken in its canonical form (numbers as DynamoDB stores them, so ``1.50`` and
    ``1.5`` are one key), and the hash is the same in every process and run (no ``hash()`` salt).
    """
    ((kind, raw),) = value.items()
    if kind == "N":
        try:
            raw = canonical_number(str(raw))
        except NumberError:  # not reachable: numbers are refused or canonical before they get here
            pass
    elif isinstance(raw, bytes | bytearray):
        raw = base64.b64encode(raw).decode()
    digest = hashlib.sha256(f"{kind}:{raw}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class StreamsApiError(Exception):
    """An error as the DynamoDB Streams (or DynamoDB) API answers it: HTTP 400, ``__type`` and
    ``message``.

    Attributes
    ----------
    code : str
        AWS's error code, e.g. ``ResourceNotFoundException``.
    message : str
        AWS's message.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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
    stream_arn: str = ""  # the stream it belongs to

    def close(self) -> None:
        """Close the shard after its last record (or at its start, when it holds none)."""
        if self.ending_sequence_number is None:
            self.ending_sequence_number = (
                self.sequence_numbers[-1]
                if self.sequence_numbers
                else self.starting_sequence_number
            )

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
    shards: list[Shard] = field(default_factory=list)  # every parent before its children
    enabled: bool = True
    disabled_at: float | None = None
    #: the newest shard of each lineage; a key's records go to ``lanes[hash % len(lanes)]``
    lanes: list[Shard] = field(default_factory=list)
    opened_at: float = 0.0  # when the open shards opened (the rollover clock)

    @property
    def status(self) -> str:
        return "ENABLED" if self.enabled else "DISABLED"

    @property
    def open_shards(self) -> list[Shard]:
        """The open shards, one per lineage (none once the stream is closed)."""
        return [s for s in self.lanes if s.is_open]

    def hash_key(self) -> str:
        """The name of the table's partition (HASH) key."""
        return next(k["AttributeName"] for k in self.key_schema if k["KeyType"] == "HASH")

    def shard_for(self, keys: dict[str, Any]) -> Shard:
        """The shard that takes the record of an item with these keys (DynamoDB JSON)."""
        return self.lanes[partition_hash(keys[self.hash_key()]) % len(self.lanes)]

    def shard(self, shard_id: str) -> Shard:
        for shard in self.shards:
            if shard.shard_id == shard_id:
                return shard
        raise StreamsApiError(
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

    def _new_shard(self, parent: str | None, stream_arn: str = "") -> Shard:
        created_ms = int(state.now() * 1000)
        shard_id = f"shardId-{created_ms:020d}-{self._random.getrandbits(32):08x}"
        # A shard's starting number is its own: records get later ones, a child shard later still.
        return Shard(shard_id, parent, self.next_sequence_number(), stream_arn=stream_arn)

    def _event_id(self) -> str:
        return f"{self._random.getrandbits(128):032x}"

    # -- life cycle -------------------------------------------------------------------------------

    def streams_of(self, table_name: str) -> list[Stream]:
        return [s for s in self.streams.values() if s.table_name == table_name]

    def enabled_stream(self, table_name: str) -> Stream | None:
        return next((s for s in self.streams_of(table_name) if s.enabled), None)

    def enable(
        self, table_name: str, table_arn: str, key_schema: list[dict[str, str]], view_type: str
    ) -> Stream:
        """Enable a stream on a table: a new stream with a new millisecond label."""
        if view_type not in STREAM_VIEW_TYPES:
            raise StreamsApiError(
                "ValidationException",
                f"1 validation error detected: Value '{view_type}' at "
                "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [" + ", ".join(STREAM_VIEW_TYPES) + "]",
            )
        if self.enabled_stream(table_name) is not None:
            raise StreamsApiError(
                "ValidationException",
                f"Table already has an enabled stream: TableName: {table_name}",
            )
        created = datetime.fromtimestamp(math.floor(state.now() * 1000) / 1000, UTC)
        previous = [s.created for s in self.streams_of(table_name)]
        if previous and created <= max(previous):  # labels of one table are distinct
            created = datetime.fromtimestamp(max(previous).timestamp() + 0.001, UTC)
        label = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}"
        stream = Stream(
            arn=f"{table_arn}/stream/{label}",
            label=label,
            table_name=table_name,
            view_type=view_type,
            key_schema=copy.deepcopy(key_schema),
            created=created,
        )
        stream.lanes = [self._new_shard(None, stream.arn) for _ in range(SHARD_SETTINGS.per_stream)]
        stream.shards.extend(stream.lanes)
        stream.opened_at = state.now()
        self.streams[stream.arn] = stream
        return stream

    def disable(self, table_name: str) -> Stream:
        """Disable a table's stream: it closes, its records stay readable for 24 hours."""
        stream = self.enabled_stream(table_name)
        if stream is None:
            raise StreamsApiError(
                "ValidationException", f"Table has no stream to disable: TableName: {table_name}"
            )
        self._close(stream)
        return stream

    def _close(self, stream: Stream) -> None:
        stream.enabled = False
        stream.disabled_at = state.now()
        for shard in stream.open_shards:
            shard.close()
        _changed(stream.arn)

    def table_deleted(self, table_name: str) -> None:
        stream = self.enabled_stream(table_name)
        if stream is not None:
            self._close(stream)

    def roll_shards(self, table_name: str) -> Shard:
        """Roll every open shard of a table's stream over now, as AWS does every few hours: each
        closes and opens one child, which takes its parent's keys.

        Returns the newest child (every child: ``stream.lanes``). Local-only: AWS decides when
        shards roll over (:meth:`_roll_if_due` does it on :data:`SHARD_SETTINGS`' clock).
        """
        stream = self.enabled_stream(table_name)
        if stream is None:
            raise StreamsApiError(
                "ValidationException", f"Table has no enabled stream: TableName: {table_name}"
            )
        self._roll(stream)
        return stream.lanes[-1]

    def _roll(self, stream: Stream) -> None:
        for parent in stream.lanes:
            parent.close()
        # children after every parent: DescribeStream lists parents first
        stream.lanes = [self._new_shard(p.shard_id, stream.arn) for p in stream.lanes]
        stream.shards.extend(stream.lanes)
        stream.opened_at = state.now()
        _changed(stream.arn)

    def _roll_if_due(self, stream: Stream) -> None:
        """Roll the stream's open shards over if they have been open ``rollover_s`` seconds.

        Checked at each write and read of the stream. A stream left alone for several periods
        rolls over once, when next used: the empty shards AWS would have opened meanwhile are not
        made (``docs/parity.md``).
        """
        if stream.enabled and state.now() - stream.opened_at >= SHARD_SETTINGS.rollover_s:
            self._roll(stream)

    # -- records ----------------------------------------------------------------------------------

    def append(
        self,
        table_name: str,
        key_attributes: list[str],
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        user_identity: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Append the record for one item changing from ``old`` to ``new`` (DynamoDB JSON).

        Returns the record, or ``None`` when nothing changed (AWS writes no record then).
        """
        if same_item(old, new):
            return None
        stream = self.enabled_stream(table_name)
        if stream is None:
            return None
        self._roll_if_due(stream)
        source = old if old is not None else new
        assert source is not None
        keys = {name: copy.deepcopy(source[name]) for name in key_attributes}
        shard = stream.shard_for(keys)  # the same shard (lineage) for every record of a key
        event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        new_image = new if stream.view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None
        old_image = old if stream.view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None
        created = state.now()
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
        _changed(stream.arn)
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
        ``shard.trimmed_through`` to know whether some expired unread. A rollover that fell due
        happens first (it may close ``shard``: compare ``shard.is_open`` after the call).
        """
        stream = self.streams.get(shard.stream_arn)
        if stream is not None:
            self._roll_if_due(stream)
        shard.trim(state.now())
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
            raise StreamsApiError(
                "ResourceNotFoundException",
                f"Requested resource not found: Stream: {arn} not found",
            )
        self._roll_if_due(stream)
        return stream

    def _expired(self, stream: Stream) -> bool:
        return (
            stream.disabled_at is not None
            and state.now() - stream.disabled_at > STREAM_RETENTION_SECONDS
        )

    def describe_stream(
        self, arn: str, limit: int | None = None, exclusive_start_shard_id: str | None = None
    ) -> dict[str, Any]:
        limit = _check_limit("limit", limit, DESCRIBE_STREAM_MAX_SHARDS)
        stream = self.stream(arn)
        shards = stream.shards
        if exclusive_start_shard_id is not None:
            ids = [s.shard_id for s in shards]
            start = (  # an unknown shard id: no shards (AWS; ScyllaDB's tests against DynamoDB)
                ids.index(exclusive_start_shard_id) + 1
                if exclusive_start_shard_id in ids
                else len(ids)
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
        self,
        arn: str,
        shard_id: str,
        iterator_type: str,
        sequence_number: str | None,
        timestamp: float | None = None,
    ) -> str:
        """A shard iterator (``timestamp``: epoch seconds, for ``AT_TIMESTAMP`` only)."""
        if iterator_type not in SHARD_ITERATOR_TYPES:
            raise StreamsApiError(
                "ValidationException",
                f"1 validation error detected: Value '{iterator_type}' at 'shardIteratorType' failed "
                "to satisfy constraint: Member must satisfy enum value set: ["
                + ", ".join(SHARD_ITERATOR_TYPES)
                + "]",
            )
        _check_iterator_arguments(iterator_type, sequence_number, timestamp)
        stream = self.stream(arn)
        shard = stream.shard(shard_id)
        shard.trim(state.now())
        if iterator_type == "AT_TIMESTAMP":
            return self._at_timestamp(stream, shard, timestamp)  # type: ignore[arg-type]
        if iterator_type == "TRIM_HORIZON":
            return self._iterator(stream, shard, shard.starting_sequence_number, horizon=True)
        if iterator_type == "LATEST":
            if shard.is_open:
                position = _SEQUENCE_BASE + self._sequence + 1
            else:
                position = shard.ending_sequence_number + 1  # type: ignore[operator]
            return self._iterator(stream, shard, position)
        if sequence_number is None:
            raise StreamsApiError(
                "ValidationException",
                f"Must specify SequenceNumber for ShardIteratorType {iterator_type}",
            )
        number = _parse_sequence_number(sequence_number)
        if number == shard.starting_sequence_number and number > shard.trimmed_through:
            # the shard's own start (DescribeStream's StartingSequenceNumber): AWS reads from the
            # shard's first record, AT and AFTER alike (ScyllaDB's test_streams.py, against AWS)
            return self._iterator(stream, shard, number + 1)
        at = bisect.bisect_left(shard.sequence_numbers, number)  # sorted: no scan
        if at == len(shard.sequence_numbers) or shard.sequence_numbers[at] != number:
            if number <= shard.trimmed_through:
                raise StreamsApiError(
                    "TrimmedDataAccessException",
                    "The data you are trying to access has been trimmed.",
                )
            raise StreamsApiError(
                "ValidationException",
                f"Invalid SequenceNumber for ShardIteratorType {iterator_type}: {sequence_number} "
                f"is not in shard {shard_id}",
            )
        position = number if iterator_type == "AT_SEQUENCE_NUMBER" else number + 1
        return self._iterator(stream, shard, position)

    def _at_timestamp(self, stream: Stream, shard: Shard, timestamp: float) -> str:
        """``AT_TIMESTAMP``: the first record whose ``ApproximateCreationDateTime`` (whole seconds)
        is at or after ``timestamp``; the oldest retained one when ``timestamp`` is older than the
        trim horizon; a future ``timestamp`` is a ``ValidationException`` (botocore's model)."""
        if timestamp > state.now():
            raise StreamsApiError(
                "ValidationException",
                f"The specified Timestamp {timestamp} is in the future.",  # wording UNCONFIRMED
            )
        # floor(created) >= timestamp  <=>  created >= ceil(timestamp): bisect, no scan
        at = bisect.bisect_left(shard.created_at, math.ceil(timestamp))
        if at == 0:
            return self._iterator(stream, shard, shard.starting_sequence_number, horizon=True)
        if at < len(shard.sequence_numbers):
            return self._iterator(stream, shard, shard.sequence_numbers[at])
        if shard.is_open:
            return self._iterator(stream, shard, self.next_sequence())
        return self._iterator(stream, shard, shard.ending_sequence_number + 1)  # type: ignore[operator]

    def _iterator(self, stream: Stream, shard: Shard, position: int, horizon: bool = False) -> str:
        payload = f"{shard.shard_id}|{position}|{int(state.now() * 1000)}|{'H' if horizon else 'P'}"
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
            raise StreamsApiError("ValidationException", "Invalid ShardIterator") from None
        stream = self.stream(arn)
        return stream, stream.shard(shard_id), parsed[0], issued, parsed[1]

    def get_records(self, iterator: str, limit: int | None) -> tuple[list[str], str | None]:
        """One GetRecords call: the records as wire JSON, and the next iterator (``None`` at the end
        of a closed shard)."""
        limit = _check_limit("limit", limit, GET_RECORDS_MAX_RECORDS)
        stream, shard, position, issued, horizon = self._open_iterator(iterator)
        at = state.now()
        if at - issued > SHARD_ITERATOR_TTL_SECONDS:
            raise StreamsApiError(
                "ExpiredIteratorException", "The provided iterator exceeds the maximum age allowed."
            )
        shard.trim(at)
        if position <= shard.trimmed_through:
            if not horizon:
                raise StreamsApiError(
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
    if isinstance(value, bool) or not isinstance(value, int):
        raise StreamsApiError("SerializationException", f"{name} must be a number, not {value!r}")
    if not 1 <= value <= maximum:
        # the model's minimum (1) in AWS's request-validation wording; above the maximum AWS also
        # answers ValidationException (ScyllaDB's tests against DynamoDB), wording UNCONFIRMED
        bound = "greater than or equal to 1" if value < 1 else f"less than or equal to {maximum}"
        raise StreamsApiError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: "
            f"Member must have value {bound}",
        )
    return value


def _check_iterator_arguments(
    iterator_type: str, sequence_number: str | None, timestamp: float | None
) -> None:
    """A SequenceNumber goes with AT/AFTER_SEQUENCE_NUMBER only, a Timestamp with AT_TIMESTAMP only
    (AWS refuses the others with a ValidationException: ScyllaDB's test_streams.py, run against
    DynamoDB; the message wording is UNCONFIRMED)."""
    by_sequence = iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
    if sequence_number is None and by_sequence:
        raise StreamsApiError(
            "ValidationException",
            f"Must specify SequenceNumber for ShardIteratorType {iterator_type}",
        )
    if sequence_number is not None and not by_sequence:
        raise StreamsApiError(
            "ValidationException",
            f"SequenceNumber is not valid for ShardIteratorType {iterator_type}",
        )
    if iterator_type == "AT_TIMESTAMP":
        if timestamp is None:
            raise StreamsApiError(
                "ValidationException", "Must specify Timestamp for ShardIteratorType AT_TIMESTAMP"
            )
        if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
            raise StreamsApiError(
                "SerializationException", f"Timestamp must be a number, not {timestamp!r}"
            )
    elif timestamp is not None:
        raise StreamsApiError(
            "ValidationException", f"Timestamp is not valid for ShardIteratorType {iterator_type}"
        )


def _parse_sequence_number(value: Any) -> int:
    text = str(value)
    if not 21 <= len(text) <= 40:  # the model's length, in AWS's request-validation wording
        bound = "greater than or equal to 21" if len(text) < 21 else "less than or equal to 40"
        raise StreamsApiError(
            "ValidationException",
            f"1 validation error detected: Value '{text}' at 'sequenceNumber' failed to satisfy "
            f"constraint: Member must have length {bound}",
        )
    if not text.isdigit():  # ValidationException on AWS; wording UNCONFIRMED
        raise StreamsApiError("ValidationException", f"Invalid SequenceNumber: {text}")
    return int(text)


_STORES: dict[tuple[str, str], StreamStore] = {}


def store_for(account_id: str, region: str) -> StreamStore:
    """The stream store of an account and region (created on first use)."""
    key = (account_id, region)
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = StreamStore(account_id, region)
    return store


def reset_stores() -> None:
    """Forget every stream (with the backend's reset)."""
    _STORES.clear()
