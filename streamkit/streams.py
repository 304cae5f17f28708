"""Tables and their streams: create the example table, enable / disable / describe a stream, read its
records, and the IAM resource pattern a stream consumer needs.

Only boto3 calls, so every function works the same on the embedded backend and on AWS. Waits go
through :func:`streamkit.waiting.poll_until`; shards are read parents first
(:func:`streamkit.shards.lineage_order`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer

from .backends import Backend
from .errors import (
    InvalidParameterError,
    StreamAlreadyEnabledError,
    StreamkitError,
    StreamNotFoundError,
    TableNotFoundError,
    WaitTimeoutError,
)
from .events import StreamRecord, StreamViewType, parse_records, records_to_dataframe
from .limits import GET_RECORDS_MAX_RECORDS, SHARD_ITERATOR_TYPES
from .ownership import not_owned
from .shards import lineage_order
from .waiting import poll_until

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from types_boto3_dynamodb.type_defs import TableDescriptionTypeDef
    from types_boto3_dynamodbstreams.type_defs import StreamDescriptionTypeDef

__all__ = [
    "USERS_TABLE",
    "USERS_KEY_SCHEMA",
    "TableKey",
    "ShardInfo",
    "StreamDescription",
    "StreamChange",
    "RecordBatch",
    "create_table",
    "create_users_table",
    "delete_table",
    "enable_stream",
    "disable_stream",
    "describe_stream",
    "latest_stream_arn",
    "stream_iam_resource",
    "read_records",
    "stream_consumer_policy",
    "compare_view_types",
    "STREAM_CONSUMER_ACTIONS",
]

#: The IAM actions a stream consumer (a Lambda execution role) needs. Source: Lambda Developer
#: Guide, "Using AWS Lambda with Amazon DynamoDB" (execution role permissions); AWS-FACTS §5.
STREAM_CONSUMER_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)

#: The tutorial's example table: ``userId`` partition key, ``createdAt`` sort key (both strings),
#: as in AWS's ``seed-users-insert`` sample event.
USERS_TABLE = "Users"


@dataclass(frozen=True)
class TableKey:
    """A table's key: partition key name and type, optional sort key name and type (S, N or B)."""

    partition_key: str
    partition_type: str = "S"
    sort_key: str | None = None
    sort_type: str = "S"

    def __post_init__(self) -> None:
        for kind in (self.partition_type, self.sort_type):
            if kind not in ("S", "N", "B"):
                raise InvalidParameterError("key attribute type", kind, ("S", "N", "B"))
        # Key attribute names: 1 to 255 characters (DynamoDB API model, KeySchemaAttributeName).
        for label, name in (("partition_key", self.partition_key), ("sort_key", self.sort_key)):
            if name is None and label == "sort_key":
                continue
            if not isinstance(name, str) or not 1 <= len(name) <= 255:
                raise InvalidParameterError(label, name, "an attribute name of 1 to 255 characters")
        if self.sort_key == self.partition_key:
            raise InvalidParameterError(
                "sort_key", self.sort_key, "a name other than the partition key's, or None"
            )

    def key_schema(self) -> list[dict[str, str]]:
        """``KeySchema`` for CreateTable."""
        schema = [{"AttributeName": self.partition_key, "KeyType": "HASH"}]
        if self.sort_key:
            schema.append({"AttributeName": self.sort_key, "KeyType": "RANGE"})
        return schema

    def attribute_definitions(self) -> list[dict[str, str]]:
        """``AttributeDefinitions`` for CreateTable."""
        defs = [{"AttributeName": self.partition_key, "AttributeType": self.partition_type}]
        if self.sort_key:
            defs.append({"AttributeName": self.sort_key, "AttributeType": self.sort_type})
        return defs


USERS_KEY_SCHEMA = TableKey("userId", "S", "createdAt", "S")


@dataclass(frozen=True)
class ShardInfo:
    """One shard of a stream."""

    shard_id: str
    parent_shard_id: str | None
    starting_sequence_number: str
    ending_sequence_number: str | None

    @property
    def is_open(self) -> bool:
        """An open shard still receives records; a closed one has an ending sequence number."""
        return self.ending_sequence_number is None


@dataclass(frozen=True)
class StreamDescription:
    """What DescribeStream says of a stream (every page of shards)."""

    stream_arn: str
    stream_label: str
    status: str
    view_type: StreamViewType
    table_name: str
    created: datetime
    shards: tuple[ShardInfo, ...]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per shard: id, parent, sequence range, open or closed."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "shard_id": s.shard_id,
                    "parent_shard_id": s.parent_shard_id,
                    "starting_sequence_number": s.starting_sequence_number,
                    "ending_sequence_number": s.ending_sequence_number,
                    "open": s.is_open,
                }
                for s in self.shards
            ],
            columns=[
                "shard_id",
                "parent_shard_id",
                "starting_sequence_number",
                "ending_sequence_number",
                "open",
            ],
        )


@dataclass(frozen=True)
class StreamChange:
    """What :func:`enable_stream` did."""

    table_name: str
    stream_arn: str
    view_type: StreamViewType
    action: str
    """``"enabled"``, ``"unchanged"`` (already enabled with this view type) or ``"replaced"``."""
    previous_stream_arn: str | None = None
    """The stream that was disabled, when ``action == "replaced"``."""

    @property
    def arn_changed(self) -> bool:
        """Whether consumers must switch to a new stream ARN (true after a replacement)."""
        return self.action == "replaced"

    def __str__(self) -> str:
        if self.action == "unchanged":
            return f"{self.table_name}: {self.view_type.value} stream already enabled: {self.stream_arn}"
        if self.action == "replaced":
            return (
                f"{self.table_name}: replaced the stream; the ARN changed from "
                f"{self.previous_stream_arn} to {self.stream_arn} ({self.view_type.value}). Triggers "
                "on the old ARN receive nothing more: create them again for the new one."
            )
        return f"{self.table_name}: enabled a {self.view_type.value} stream: {self.stream_arn}"


@dataclass
class RecordBatch(Sequence[StreamRecord]):
    """Records read from a stream, with what it took to read them.

    Attributes
    ----------
    records : list of StreamRecord
        In shard order (parents before children), then sequence order.
    get_records_calls : int
        GetRecords requests made (each is one billable stream read request unit for a consumer
        other than Lambda or global tables).
    shards_read : list of str
        The shards read, in order.
    """

    records: list[StreamRecord] = field(default_factory=list)
    get_records_calls: int = 0
    shards_read: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: Any) -> Any:
        return self.records[index]

    def __iter__(self) -> Iterator[StreamRecord]:
        return iter(self.records)

    def to_dataframe(self) -> pd.DataFrame:
        """The records as a table (see :func:`streamkit.events.records_to_dataframe`)."""
        return records_to_dataframe(self.records)

    @property
    def last_sequence_number(self) -> str | None:
        """Sequence number of the last record read, to resume with ``AFTER_SEQUENCE_NUMBER``."""
        return self.records[-1].sequence_number if self.records else None


# -- helpers ---------------------------------------------------------------------------------------


def _table_name(backend: Backend, table_name: Any) -> str:
    """The AWS name of a kit table: checked, with the backend's prefix."""
    _check_name("table_name", table_name)
    return backend.name(table_name)


def _describe_table(backend: Backend, table_name: str) -> TableDescriptionTypeDef:
    table_name = _table_name(backend, table_name)
    ddb = backend.client("dynamodb")
    try:
        return ddb.describe_table(TableName=table_name)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        raise TableNotFoundError(table_name, backend.region) from None


def _check_name(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(name, value, "a non-empty string")


def _wait_table_active(backend: Backend, table_name: str) -> None:
    """Poll DescribeTable until the table is ACTIVE (as boto3's ``table_exists`` waiter does: every
    second locally, every 5 s on AWS, 120 looks at the most; a table not yet listed is not yet
    there)."""
    delay = 1 if backend.is_local else 5
    client = backend.client("dynamodb")
    status = client.describe_table(TableName=table_name)["Table"]["TableStatus"]
    if status == "ACTIVE":
        return
    backend.progress(f"table {table_name} is {status}; waiting until it is ACTIVE")

    def active() -> bool | None:
        nonlocal status
        try:
            status = client.describe_table(TableName=table_name)["Table"]["TableStatus"]
        except client.exceptions.ResourceNotFoundException:
            return None
        return True if status == "ACTIVE" else None

    poll_until(
        active,
        timeout_s=120 * delay,
        interval_s=delay,
        what=f"table {table_name} to become ACTIVE",
        error=lambda _: WaitTimeoutError(
            f"Table {table_name} is still {status} after {120 * delay} s (waiting for ACTIVE)."
        ),
    )


def _wait_stream_status(
    backend: Backend, stream_arn: str, status: str, timeout: float = 120.0
) -> None:
    """Poll DescribeStream until the stream reaches ``status`` (AWS goes through ENABLING and
    DISABLING; the embedded backend is there at once)."""
    shown: str | None = None
    current: str | None = None

    def reached() -> bool | None:
        nonlocal shown, current
        current = _describe_stream_page(backend, stream_arn)["StreamStatus"]
        if current == status:
            return True
        if current != shown:
            backend.progress(f"stream is {current}; waiting until it is {status}")
            shown = current
        return None

    poll_until(
        reached,
        timeout_s=timeout,
        interval_s=1.0,
        what=f"stream {stream_arn} to be {status}",
        error=lambda _: WaitTimeoutError(
            f"Stream {stream_arn} is still {current} after {timeout:.0f} s (waiting for {status})."
        ),
        timeout_name="timeout",
    )


# -- tables ----------------------------------------------------------------------------------------


def create_table(
    backend: Backend,
    table_name: str,
    key: TableKey,
    *,
    view_type: str | StreamViewType | None = None,
) -> str:
    """Create an on-demand table (idempotent) and wait until it is ACTIVE.

    Parameters
    ----------
    backend : Backend
    table_name : str
        The table's name without the backend's prefix (``"Users"`` makes ``streamkit-Users``).
    key : TableKey
        Partition and optional sort key.
    view_type : str, optional
        Enable a stream at creation with this view type (one of KEYS_ONLY, NEW_IMAGE, OLD_IMAGE,
        NEW_AND_OLD_IMAGES). Ignored if the table already exists: use :func:`enable_stream`.

    Returns
    -------
    str
        The table's ARN.

    Raises
    ------
    StreamkitError
        If a table of that name exists with a different key.
    NotOwnedError
        If a table of that name exists without the kit's ``streamkit-run`` tag.
    """
    table_name = _table_name(backend, table_name)
    if not isinstance(key, TableKey):
        raise InvalidParameterError("key", key, "a TableKey, e.g. TableKey('userId')")
    args: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": key.key_schema(),
        "AttributeDefinitions": key.attribute_definitions(),
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": backend.tag_list,
    }
    if view_type is not None:
        args["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": StreamViewType.parse(view_type).value,
        }
    ddb = backend.client("dynamodb")
    try:
        ddb.create_table(**args)
    except ddb.exceptions.ResourceInUseException:
        existing = _describe_table(backend, table_name)
        tags = backend.client("dynamodb").list_tags_of_resource(ResourceArn=existing["TableArn"])
        refusal = not_owned(backend, "table", table_name, tags.get("Tags", []))
        if refusal is not None:
            raise refusal from None
        if existing["KeySchema"] != key.key_schema():
            raise StreamkitError(
                f"Table {table_name!r} already exists with key {existing['KeySchema']}, not "
                f"{key.key_schema()}: delete it or choose another name."
            ) from None
    _wait_table_active(backend, table_name)
    return str(_describe_table(backend, table_name)["TableArn"])


def create_users_table(backend: Backend, table_name: str = USERS_TABLE) -> str:
    """Create the tutorial's ``Users`` table (``userId`` + ``createdAt``), idempotently.

    Returns
    -------
    str
        The table's ARN.
    """
    return create_table(backend, table_name, USERS_KEY_SCHEMA)


def delete_table(backend: Backend, table_name: str) -> bool:
    """Delete a table and wait until it is gone. Returns ``False`` if it did not exist.

    It deletes whatever table has the (prefixed) name; :func:`streamkit.teardown.teardown` is the
    one that checks the kit's tag first.
    """
    table_name = _table_name(backend, table_name)
    client = backend.client("dynamodb")
    try:
        client.delete_table(TableName=table_name)
    except client.exceptions.ResourceNotFoundException:
        return False
    if not backend.is_local:
        backend.progress(f"deleting table {table_name}; waiting until it is gone")
    client.get_waiter("table_not_exists").wait(
        TableName=table_name,
        WaiterConfig={"Delay": 1 if backend.is_local else 5, "MaxAttempts": 120},
    )
    return True


# -- streams ---------------------------------------------------------------------------------------


def _current_stream(table: Mapping[str, Any]) -> tuple[str, str] | None:
    spec = table.get("StreamSpecification") or {}
    if spec.get("StreamEnabled") and table.get("LatestStreamArn"):
        return str(table["LatestStreamArn"]), str(spec["StreamViewType"])
    return None


def enable_stream(
    backend: Backend,
    table_name: str,
    view_type: str | StreamViewType = StreamViewType.NEW_AND_OLD_IMAGES,
    *,
    replace: bool = False,
) -> StreamChange:
    """Enable a stream on a table and wait until it is ENABLED.

    Parameters
    ----------
    backend : Backend
    table_name : str
    view_type : str or StreamViewType
        What each record holds: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES.
    replace : bool
        If the table has a stream with another view type: ``False`` (default) raises
        :class:`StreamAlreadyEnabledError`; ``True`` disables it and enables a new one, whose ARN
        differs (the old stream stays readable for 24 hours).

    Returns
    -------
    StreamChange
        The stream ARN and whether it was enabled, already there, or replaced.
    """
    table_name = _table_name(backend, table_name)
    wanted = StreamViewType.parse(view_type)
    if not isinstance(replace, bool):
        raise InvalidParameterError("replace", replace, "True or False")
    table = _describe_table(backend, table_name)
    current = _current_stream(table)
    previous = None
    if current is not None:
        arn, current_type = current
        if current_type == wanted.value:
            return StreamChange(table_name, arn, wanted, "unchanged")
        if not replace:
            raise StreamAlreadyEnabledError(table_name, current_type, wanted.value, arn)
        disable_stream(backend, table_name)
        previous = arn
    backend.client("dynamodb").update_table(
        TableName=table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": wanted.value},
    )
    _wait_table_active(backend, table_name)
    arn = latest_stream_arn(backend, table_name)
    _wait_stream_status(backend, arn, "ENABLED")
    return StreamChange(table_name, arn, wanted, "replaced" if previous else "enabled", previous)


def disable_stream(backend: Backend, table_name: str) -> str | None:
    """Disable a table's stream; its records stay readable for 24 hours and the table stays writable.

    Returns
    -------
    str or None
        The ARN of the stream disabled, ``None`` if none was enabled.
    """
    table_name = _table_name(backend, table_name)
    table = _describe_table(backend, table_name)
    current = _current_stream(table)
    if current is None:
        return None
    backend.client("dynamodb").update_table(
        TableName=table_name, StreamSpecification={"StreamEnabled": False}
    )
    _wait_table_active(backend, table_name)
    _wait_stream_status(backend, current[0], "DISABLED")
    return current[0]


def latest_stream_arn(backend: Backend, table_name: str) -> str:
    """The ARN of the table's latest stream (enabled or not).

    Raises
    ------
    StreamNotFoundError
        If the table never had a stream.
    """
    table_name = _table_name(backend, table_name)
    table = _describe_table(backend, table_name)
    arn = table.get("LatestStreamArn")
    if not arn:
        raise StreamNotFoundError(
            f"Table {table_name!r} has no stream: enable one with enable_stream(backend, "
            f"{table_name!r}, view_type) (view types: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, "
            "NEW_AND_OLD_IMAGES)."
        )
    return str(arn)


def _stream_arn(backend: Backend, table_or_arn: str) -> str:
    _check_name("stream", table_or_arn)
    if table_or_arn.startswith("arn:"):
        if ":table/" not in table_or_arn or "/stream/" not in table_or_arn:
            raise InvalidParameterError(
                "stream ARN",
                table_or_arn,
                "arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>, or a table name",
            )
        return table_or_arn
    return latest_stream_arn(backend, table_or_arn)


def _describe_stream_page(
    backend: Backend, stream_arn: str, exclusive_start_shard_id: str | None = None
) -> StreamDescriptionTypeDef:
    args: dict[str, Any] = {"StreamArn": stream_arn}
    if exclusive_start_shard_id:
        args["ExclusiveStartShardId"] = exclusive_start_shard_id
    streams = backend.client("dynamodbstreams")
    try:
        return streams.describe_stream(**args)["StreamDescription"]
    except streams.exceptions.ResourceNotFoundException:
        raise StreamNotFoundError(
            f"Stream {stream_arn} does not exist (or is older than 24 hours)."
        ) from None


def describe_stream(backend: Backend, table_or_arn: str) -> StreamDescription:
    """Describe a stream, every page of shards included.

    Parameters
    ----------
    backend : Backend
    table_or_arn : str
        A stream ARN, or a table name (its latest stream).
    """
    arn = _stream_arn(backend, table_or_arn)
    page = _describe_stream_page(backend, arn)
    first = page
    shards = list(page["Shards"])
    while page.get("LastEvaluatedShardId"):
        page = _describe_stream_page(backend, arn, page["LastEvaluatedShardId"])
        shards.extend(page["Shards"])
    return StreamDescription(
        stream_arn=first["StreamArn"],
        stream_label=first["StreamLabel"],
        status=first["StreamStatus"],
        view_type=StreamViewType(first["StreamViewType"]),
        table_name=first["TableName"],
        created=first["CreationRequestDateTime"],
        shards=tuple(
            ShardInfo(
                s["ShardId"],
                s.get("ParentShardId"),
                s["SequenceNumberRange"]["StartingSequenceNumber"],
                s["SequenceNumberRange"].get("EndingSequenceNumber"),
            )
            for s in shards
        ),
    )


def stream_iam_resource(arn: str) -> str:
    """The IAM resource that covers every stream of a table, now and after re-enabling.

    A stream's ARN changes each time it is enabled, so policies name ``table/<T>/stream/*``.

    Parameters
    ----------
    arn : str
        The table's ARN or any of its stream ARNs.

    Returns
    -------
    str
        ``arn:aws:dynamodb:<region>:<account>:table/<T>/stream/*``

    Examples
    --------
    >>> stream_iam_resource("arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/2022-08-21T15:34:25.720")
    'arn:aws:dynamodb:us-east-1:123456789012:table/Users/stream/*'
    """
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if (
        len(parts) != 6
        or parts[0] != "arn"
        or parts[2] != "dynamodb"
        or not parts[5].startswith("table/")
    ):
        raise InvalidParameterError(
            "ARN",
            arn,
            "a table ARN (arn:aws:dynamodb:<region>:<account>:table/<T>) or a stream ARN",
        )
    table = parts[5].split("/")[1]
    return ":".join(parts[:5]) + f":table/{table}/stream/*"


def stream_consumer_policy(arn: str) -> dict[str, Any]:
    """The least-privilege IAM policy document for reading a table's streams.

    Parameters
    ----------
    arn : str
        The table's ARN or any of its stream ARNs.

    Returns
    -------
    dict
        A policy allowing exactly :data:`STREAM_CONSUMER_ACTIONS` on ``table/<T>/stream/*``.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheTablesStreams",
                "Effect": "Allow",
                "Action": list(STREAM_CONSUMER_ACTIONS),
                "Resource": stream_iam_resource(arn),
            }
        ],
    }


# -- reading records -------------------------------------------------------------------------------


def _in_shard(shard: ShardInfo, number: int) -> bool:
    if number < int(shard.starting_sequence_number):
        return False
    return shard.is_open or number <= int(shard.ending_sequence_number)  # type: ignore[arg-type]


def _ancestors(shard: ShardInfo, shards: Sequence[ShardInfo]) -> set[str]:
    """Ids of the shard's parent, its parent's parent, ... that are in ``shards``."""
    by_id = {s.shard_id: s for s in shards}
    found: set[str] = set()
    parent = shard.parent_shard_id
    while parent in by_id and parent not in found:
        found.add(parent)
        parent = by_id[parent].parent_shard_id
    return found


def _shard_holding(
    streams: Any, stream_arn: str, shards: Sequence[ShardInfo], position: str, number: int
) -> ShardInfo | None:
    """The shard that holds sequence number ``number``.

    Shards of one lineage have disjoint sequence ranges, but parallel shards (one per partition)
    overlap: when several ranges contain ``number``, each is asked (GetShardIterator refuses a
    number that is not in the shard with a ``ValidationException``).
    """
    candidates = [s for s in shards if _in_shard(s, number)]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    from botocore.exceptions import ClientError

    from .aws_errors import error_code

    for shard in candidates:
        try:
            streams.get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=shard.shard_id,
                ShardIteratorType=position,
                SequenceNumber=str(number),
            )
        except ClientError as exc:
            if error_code(exc) != "ValidationException":
                raise
            continue
        return shard
    return None


def read_records(
    backend: Backend,
    stream: str,
    *,
    position: str = "TRIM_HORIZON",
    sequence_number: str | None = None,
    limit: int | None = None,
    max_empty_polls: int = 1,
    expect: int | None = None,
    timeout_s: float = 30.0,
) -> RecordBatch:
    """Read a stream's records, every shard in parent-before-child order, paging GetRecords.

    Parameters
    ----------
    backend : Backend
    stream : str
        A stream ARN, or a table name (its latest stream).
    position : str
        Where to start: ``TRIM_HORIZON`` (oldest retained record), ``LATEST`` (only records
        written after this call: returns none by itself), ``AT_SEQUENCE_NUMBER`` or
        ``AFTER_SEQUENCE_NUMBER`` (with ``sequence_number``; the shard holding it is found and
        read from there, its child shards whole, and the other shards of the stream from their
        first record with a later sequence number).
    sequence_number : str, optional
        For the two ``*_SEQUENCE_NUMBER`` positions.
    limit : int, optional
        Stop after this many records (each GetRecords asks for at most 1,000).
    max_empty_polls : int
        An open shard is read until this many GetRecords calls in a row return nothing (on AWS an
        empty answer can come before more records; raise it there to read further).
    expect : int, optional
        Read again (once a second, showing progress) until at least this many records are there:
        on AWS a write can take a moment to reach the stream, and a GetRecords call may come back
        empty before it. Locally records are there at once.
    timeout_s : float
        Longest wait for ``expect`` records, in seconds.

    Returns
    -------
    RecordBatch
        The records, and the number of GetRecords calls made (all reads together).

    Raises
    ------
    WaitTimeoutError
        (a ``StreamkitError``) when fewer than ``expect`` records arrived within ``timeout_s``.
    """
    if expect is not None and (
        isinstance(expect, bool) or not isinstance(expect, int) or expect < 0
    ):
        raise InvalidParameterError("expect", expect, "a whole number of records >= 0, or None")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s < 0:
        raise InvalidParameterError("timeout_s", timeout_s, "a number of seconds >= 0")
    calls = 0
    batch = RecordBatch()

    def read() -> RecordBatch | None:
        nonlocal calls, batch
        batch = _read_once(backend, stream, position, sequence_number, limit, max_empty_polls)
        calls += batch.get_records_calls
        batch.get_records_calls = calls
        return batch if expect is None or len(batch) >= expect else None

    def pause(_attempt: int) -> float:  # asked only when another read follows: say so first
        backend.progress(f"{len(batch)} of {expect} records on the stream so far; reading again")
        return 1.0

    return poll_until(
        read,
        timeout_s=timeout_s,
        interval_s=pause,
        what=f"{expect} records on the stream of {stream}",
        error=lambda _: WaitTimeoutError(
            f"Only {len(batch)} of {expect} records arrived on the stream of {stream} within "
            f"{timeout_s:g} s ({calls} GetRecords calls)."
        ),
    )


def _read_once(
    backend: Backend,
    stream: str,
    position: str,
    sequence_number: str | None,
    limit: int | None,
    max_empty_polls: int,
) -> RecordBatch:
    positions = tuple(p for p in SHARD_ITERATOR_TYPES if p != "AT_TIMESTAMP")  # needs a Timestamp
    if position not in positions:
        raise InvalidParameterError("position", position, positions)
    at_sequence = position in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
    if at_sequence != (sequence_number is not None):
        raise InvalidParameterError(
            "sequence_number",
            sequence_number,
            "a sequence number with AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER, and none otherwise",
        )
    if sequence_number is not None and not str(sequence_number).isdigit():
        raise InvalidParameterError("sequence_number", sequence_number, "a string of digits")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise InvalidParameterError("limit", limit, "a whole number of records >= 1, or None")
    if not isinstance(max_empty_polls, int) or max_empty_polls < 1:
        raise InvalidParameterError("max_empty_polls", max_empty_polls, "a whole number >= 1")

    description = describe_stream(backend, stream)
    shards = lineage_order(description.shards)
    streams = backend.client("dynamodbstreams")
    # (shard, how to start it, the sequence number its records must pass: other lineages' shards)
    plan: list[tuple[ShardInfo, dict[str, Any], int | None]] = []
    if at_sequence:
        number = int(sequence_number)  # type: ignore[arg-type]
        holder = _shard_holding(streams, description.stream_arn, shards, position, number)
        if holder is None:
            raise InvalidParameterError(
                "sequence_number",
                sequence_number,
                f"a sequence number within one of the {len(shards)} shards of {description.stream_arn}",
            )
        ancestors = _ancestors(holder, shards)
        # the record's own shard from it on; its descendants whole; the other lineages' shards
        # from the first record written after it (sequence numbers grow with time: INFERRED)
        threshold = number - 1 if position == "AT_SEQUENCE_NUMBER" else number
        for s in shards:
            if s is holder:
                plan.append(
                    (s, {"ShardIteratorType": position, "SequenceNumber": str(number)}, None)
                )
            elif s.shard_id not in ancestors and (
                s.is_open or int(s.ending_sequence_number) > threshold  # type: ignore[arg-type]
            ):
                plan.append((s, {"ShardIteratorType": "TRIM_HORIZON"}, threshold))
    elif position == "LATEST":
        plan = [(s, {"ShardIteratorType": "LATEST"}, None) for s in shards if s.is_open]
    else:
        plan = [(s, {"ShardIteratorType": "TRIM_HORIZON"}, None) for s in shards]

    batch = RecordBatch()
    for shard, how, after in plan:
        if limit is not None and len(batch) >= limit:
            break
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=description.stream_arn, ShardId=shard.shard_id, **how
        )["ShardIterator"]
        batch.shards_read.append(shard.shard_id)
        empty = 0
        while iterator:
            wanted = GET_RECORDS_MAX_RECORDS
            if limit is not None:
                wanted = min(wanted, limit - len(batch))
                if wanted <= 0:
                    break
            response = streams.get_records(ShardIterator=iterator, Limit=wanted)
            batch.get_records_calls += 1
            kept = response["Records"]
            if after is not None:
                kept = [r for r in kept if int(r["dynamodb"]["SequenceNumber"]) > after]
            batch.records.extend(parse_records(kept))
            iterator = response.get("NextShardIterator")
            if response["Records"]:
                empty = 0
            elif shard.is_open:
                empty += 1
                if empty >= max_empty_polls:
                    break
    return batch


def _read_new_records(
    backend: Backend, table_name: str, after: str | None, *, expected: int, timeout_s: float = 30.0
) -> RecordBatch:
    """Records written after sequence number ``after`` (all if None), reading until ``expected``
    arrived: on AWS a GetRecords call may come back empty although records are on their way."""
    if after:
        return read_records(
            backend,
            table_name,
            position="AFTER_SEQUENCE_NUMBER",
            sequence_number=after,
            expect=expected,
            timeout_s=timeout_s,
        )
    return read_records(backend, table_name, expect=expected, timeout_s=timeout_s)


def compare_view_types(
    backend: Backend,
    *,
    table_prefix: str = "ViewTypes",
    item: dict[str, Any] | None = None,
    change: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Make the same INSERT, MODIFY and REMOVE under each view type and tabulate what records hold.

    Creates one table per view type (``<table_prefix>-<VIEW_TYPE>``, key ``userId`` + ``createdAt``;
    re-used and emptied of records' effect by reading from the end), writes ``item``, updates it with
    ``change``, deletes it, and reads the three records back.

    Parameters
    ----------
    backend : Backend
    table_prefix : str
        Prefix of the four table names.
    item : dict, optional
        The item to insert, as Python values (default: a user with names).
    change : dict, optional
        Attributes to set for the MODIFY (default: a new first name).

    Returns
    -------
    pandas.DataFrame
        Index: INSERT, MODIFY, REMOVE; one column per view type; each cell lists what the record
        carries (``Keys``, ``NewImage``, ``OldImage``) and its size in bytes.
    """
    import pandas as pd

    item = item or {
        "userId": "user_2",
        "createdAt": "2022-08-20",
        "firstname": "Sandro",
        "lastname": "Volpicella",
    }
    change = change or {"firstname": "Alessandro"}
    if not {"userId", "createdAt"} <= set(item) or not change:
        raise InvalidParameterError(
            "item/change",
            (item, change),
            "an item with userId and createdAt, and a non-empty change",
        )
    serializer = TypeSerializer()

    def as_ddb(values: dict[str, Any]) -> dict[str, Any]:
        return {name: serializer.serialize(value) for name, value in values.items()}

    columns: dict[str, list[str]] = {}
    for view_type in StreamViewType:
        table_name = backend.name(f"{table_prefix}-{view_type.value}")
        create_table(backend, table_name, USERS_KEY_SCHEMA)
        enable_stream(backend, table_name, view_type, replace=True)
        start = read_records(backend, table_name, position="TRIM_HORIZON")
        client = backend.client("dynamodb")
        client.put_item(TableName=table_name, Item=as_ddb(item))
        client.put_item(TableName=table_name, Item=as_ddb({**item, **change}))
        client.delete_item(
            TableName=table_name,
            Key=as_ddb({"userId": item["userId"], "createdAt": item["createdAt"]}),
        )
        batch = _read_new_records(backend, table_name, start.last_sequence_number, expected=3)
        columns[view_type.value] = [
            ", ".join(
                part for part in ("Keys", "NewImage", "OldImage") if part in record.raw["dynamodb"]
            )
            + f" ({record.size_bytes} B)"
            for record in batch
        ]
    return pd.DataFrame(columns, index=pd.Index(["INSERT", "MODIFY", "REMOVE"], name="eventName"))
