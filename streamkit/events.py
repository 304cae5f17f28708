"""Stream records and Lambda events as typed objects and pandas DataFrames; AWS's sample events.

A record parses from every shape AWS hands it out in: a Lambda event's ``Records`` entry (timestamp
as epoch seconds), a ``GetRecords`` response parsed by boto3 (timestamp as ``datetime``) or as raw
JSON (timestamp as a string such as ``"1.46480646E9"``). Images are deserialized with boto3's
``TypeDeserializer`` (numbers as ``Decimal``, binary as ``Binary``, sets as ``set``).
``eventVersion`` is kept as an opaque string: AWS says never to rely on its value.

Pure model: no AWS calls, and pandas only inside the functions that build DataFrames. The events
a function received, read back from its logs, are in :mod:`streamkit.logs`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer

from .errors import InvalidParameterError, MalformedRecordError
from .limits import STREAM_VIEW_TYPES, TTL_USER_IDENTITY

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "EventName",
    "StreamViewType",
    "StreamRecord",
    "parse_records",
    "records_to_dataframe",
    "deserialize_image",
    "sample_event_names",
    "compare_records",
    "load_sample_event",
]

_DESERIALIZER = TypeDeserializer()


class StreamViewType(StrEnum):
    """What a stream record holds (AWS ``StreamViewType``)."""

    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"

    @classmethod
    def parse(cls, value: str | StreamViewType) -> StreamViewType:
        """The member for ``value``; an :class:`InvalidParameterError` naming the four otherwise."""
        try:
            return cls(value)
        except ValueError:
            raise InvalidParameterError("view_type", value, STREAM_VIEW_TYPES) from None


assert tuple(v.value for v in StreamViewType) == STREAM_VIEW_TYPES


class EventName(StrEnum):
    """The kind of change a record describes."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


def deserialize_image(image: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A DynamoDB-JSON item (``{"n": {"N": "1"}}``) as Python values (``{"n": Decimal("1")}``).

    Parameters
    ----------
    image : mapping or None
        ``Keys``, ``NewImage`` or ``OldImage`` of a record.
    """
    if image is None:
        return None
    if not isinstance(image, Mapping):
        raise MalformedRecordError(
            f"An image must be a mapping of attribute values, not {image!r}."
        )
    try:
        return {name: _DESERIALIZER.deserialize(value) for name, value in image.items()}
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        raise MalformedRecordError(f"Not DynamoDB JSON: {dict(image)!r} ({exc}).") from exc


def _identity(value: Any) -> dict[str, str] | None:
    """``userIdentity`` as Lambda events spell it (``type``, ``principalId``); the Streams API
    spells the same fields ``Type`` and ``PrincipalId``."""
    if not value:
        return None
    if not isinstance(value, Mapping):
        raise MalformedRecordError(f"userIdentity must be a mapping, not {value!r}.")
    return {
        "type": str(value.get("type", value.get("Type", ""))),
        "principalId": str(value.get("principalId", value.get("PrincipalId", ""))),
    }


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError):
        raise MalformedRecordError(
            f"ApproximateCreationDateTime {value!r} is neither a datetime nor epoch seconds."
        ) from None


@dataclass(frozen=True)
class StreamRecord:
    """One DynamoDB stream record, as read from the Streams API or received by a Lambda function.

    The raw DynamoDB-JSON images are kept (``raw``) and deserialized on first use.
    """

    event_id: str
    """``eventID``: unique id of the record."""
    event_name: EventName
    """``eventName``: INSERT, MODIFY or REMOVE."""
    event_version: str
    """``eventVersion``: the record format's version (opaque)."""
    event_source: str
    """``eventSource``: ``aws:dynamodb``."""
    aws_region: str
    """``awsRegion``: the stream's region."""
    sequence_number: str
    """``dynamodb.SequenceNumber``: order within the shard (compare as integers)."""
    size_bytes: int
    """``dynamodb.SizeBytes``: size of the record, in bytes."""
    stream_view_type: StreamViewType | None
    """``dynamodb.StreamViewType``."""
    approximate_creation_date_time: datetime | None
    """``dynamodb.ApproximateCreationDateTime``, whole seconds, UTC; ``None`` where AWS omits it."""
    event_source_arn: str | None
    """``eventSourceARN``: the stream ARN (Lambda events only)."""
    user_identity: dict[str, str] | None
    """``userIdentity``: present for TTL deletions."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The record exactly as given."""

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> StreamRecord:
        """Parse one record (a Lambda event's ``Records`` entry or a GetRecords record).

        Raises
        ------
        MalformedRecordError
            Naming the missing or invalid field.
        """
        if not isinstance(record, Mapping):
            raise MalformedRecordError(
                f"A stream record must be a mapping, not {type(record).__name__}."
            )
        missing = [k for k in ("eventID", "eventName", "dynamodb") if k not in record]
        body = record.get("dynamodb")
        if not missing and isinstance(body, Mapping):
            missing = [f"dynamodb.{k}" for k in ("Keys", "SequenceNumber") if k not in body]
        if missing or not isinstance(body, Mapping):
            raise MalformedRecordError(
                "Not a DynamoDB stream record: missing "
                + (", ".join(missing) or "dynamodb")
                + ". A record has eventID, eventName, eventSource, awsRegion and dynamodb "
                "{Keys, SequenceNumber, SizeBytes, StreamViewType, NewImage/OldImage}."
            )
        try:
            name = EventName(record["eventName"])
        except ValueError:
            raise MalformedRecordError(
                f"eventName {record['eventName']!r} is not one of INSERT, MODIFY, REMOVE."
            ) from None
        view = body.get("StreamViewType")
        try:
            view_type = StreamViewType(view) if view is not None else None
        except ValueError:
            raise MalformedRecordError(
                f"StreamViewType {view!r} is not one of {', '.join(STREAM_VIEW_TYPES)}."
            ) from None
        for image in ("Keys", "NewImage", "OldImage"):
            if image in body and not isinstance(body[image], Mapping):
                raise MalformedRecordError(
                    f"dynamodb.{image} must be a mapping of attribute values."
                )
        return cls(
            event_id=str(record["eventID"]),
            event_name=name,
            event_version=str(record.get("eventVersion", "")),
            event_source=str(record.get("eventSource", "")),
            aws_region=str(record.get("awsRegion", "")),
            sequence_number=str(body["SequenceNumber"]),
            size_bytes=int(body.get("SizeBytes", 0)),
            stream_view_type=view_type,
            approximate_creation_date_time=_timestamp(body.get("ApproximateCreationDateTime")),
            event_source_arn=record.get("eventSourceARN"),
            user_identity=_identity(record.get("userIdentity")),
            raw=record,
        )

    # -- images -----------------------------------------------------------------------------------

    @property
    def keys_raw(self) -> Mapping[str, Any]:
        """``Keys`` in DynamoDB JSON."""
        return self.raw["dynamodb"]["Keys"]

    @property
    def new_image_raw(self) -> Mapping[str, Any] | None:
        """``NewImage`` in DynamoDB JSON, ``None`` when absent."""
        return self.raw["dynamodb"].get("NewImage")

    @property
    def old_image_raw(self) -> Mapping[str, Any] | None:
        """``OldImage`` in DynamoDB JSON, ``None`` when absent."""
        return self.raw["dynamodb"].get("OldImage")

    @cached_property
    def keys(self) -> dict[str, Any]:
        """The item's key attributes as Python values."""
        keys = deserialize_image(self.keys_raw)
        assert keys is not None
        return keys

    @cached_property
    def new_image(self) -> dict[str, Any] | None:
        """The item after the change as Python values (``Decimal`` numbers), ``None`` when absent."""
        return deserialize_image(self.new_image_raw)

    @cached_property
    def old_image(self) -> dict[str, Any] | None:
        """The item before the change as Python values, ``None`` when absent."""
        return deserialize_image(self.old_image_raw)

    @property
    def changed_attributes(self) -> list[str] | None:
        """Names of the attributes the change added, altered or removed, sorted.

        All of the new image's for an INSERT, all of the old image's for a REMOVE; ``None`` when the
        record lacks the image(s) needed to tell (KEYS_ONLY, or a MODIFY without both images).
        """
        new, old = self.new_image_raw, self.old_image_raw
        if self.event_name is EventName.INSERT:
            return sorted(new) if new is not None else None
        if self.event_name is EventName.REMOVE:
            return sorted(old) if old is not None else None
        if new is None or old is None:
            return None
        return sorted(n for n in set(new) | set(old) if new.get(n) != old.get(n))

    @property
    def is_ttl_delete(self) -> bool:
        """Whether DynamoDB's TTL process (not a user) deleted the item."""
        return self.event_name is EventName.REMOVE and self.user_identity == TTL_USER_IDENTITY

    def to_dict(self) -> dict[str, Any]:
        """The record as given (a plain ``dict``)."""
        return json.loads(json.dumps(self.raw, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def parse_records(source: Any) -> list[StreamRecord]:
    """Stream records from a Lambda event, a GetRecords response, or a list of records.

    Parameters
    ----------
    source : mapping or iterable
        ``{"Records": [...]}`` (a Lambda event or a GetRecords response), a list of record dicts,
        or :class:`StreamRecord` objects (returned as they are).

    Returns
    -------
    list of StreamRecord

    Raises
    ------
    MalformedRecordError
        If ``source`` is none of these, or a record is malformed.
    """
    if isinstance(source, Mapping):
        if "Records" not in source:
            raise MalformedRecordError(
                "Expected a Lambda event or GetRecords response with a 'Records' list; got keys "
                + ", ".join(map(repr, source))
                + "."
            )
        source = source["Records"]
    if isinstance(source, str | bytes) or not isinstance(source, Iterable):
        raise MalformedRecordError(
            "Expected {'Records': [...]}, a list of records or StreamRecord objects, not "
            f"{type(source).__name__}."
        )
    return [r if isinstance(r, StreamRecord) else StreamRecord.from_dict(r) for r in source]


#: Columns of :func:`records_to_dataframe`, in order.
DATAFRAME_COLUMNS = (
    "event_name",
    "keys",
    "new_image",
    "old_image",
    "changed",
    "size_bytes",
    "sequence_number",
    "approximate_creation_date_time",
    "stream_view_type",
    "user_identity",
    "event_id",
)


def records_to_dataframe(records: Any) -> pd.DataFrame:
    """A table with one row per record: what happened, to which item, and the images.

    Parameters
    ----------
    records : iterable
        Anything :func:`parse_records` accepts.

    Returns
    -------
    pandas.DataFrame
        Columns: ``event_name``, ``keys``, ``new_image``, ``old_image`` (Python values, ``Decimal``
        numbers), ``changed`` (attribute names), ``size_bytes`` (bytes), ``sequence_number``,
        ``approximate_creation_date_time`` (UTC), ``stream_view_type``, ``user_identity``, ``event_id``.
    """
    import pandas as pd

    rows = [
        {
            "event_name": r.event_name.value,
            "keys": r.keys,
            "new_image": r.new_image,
            "old_image": r.old_image,
            "changed": r.changed_attributes,
            "size_bytes": r.size_bytes,
            "sequence_number": r.sequence_number,
            "approximate_creation_date_time": r.approximate_creation_date_time,
            "stream_view_type": r.stream_view_type.value if r.stream_view_type else None,
            "user_identity": r.user_identity,
            "event_id": r.event_id,
        }
        for r in parse_records(records)
    ]
    frame = pd.DataFrame(rows, columns=list(DATAFRAME_COLUMNS))
    frame["size_bytes"] = frame["size_bytes"].astype("int64")
    return frame


# -- AWS's sample events -------------------------------------------------------------------------

_SAMPLES = "data/aws-events"


def sample_event_names() -> list[str]:
    """Names of the AWS sample events shipped with streamkit (see ``load_sample_event``)."""
    folder = resources.files("streamkit").joinpath(_SAMPLES)
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


def load_sample_event(name: str) -> dict[str, Any]:
    """One of AWS's published sample events or responses, verbatim.

    Parameters
    ----------
    name : str
        One of :func:`sample_event_names` (``"seed-users-insert"``, ``"sam-dynamodb-update"``, ...).
    """
    names = sample_event_names()
    if name not in names:
        raise InvalidParameterError("sample event", name, names)
    text = resources.files("streamkit").joinpath(f"{_SAMPLES}/{name}.json").read_text("utf-8")
    return json.loads(text)


#: Record fields whose value differs between any two writes by nature (ids, order, time, place).
VARIES_BY_NATURE = frozenset(
    {
        "eventID",
        "awsRegion",
        "eventSourceARN",
        "dynamodb.ApproximateCreationDateTime",
        "dynamodb.SequenceNumber",
    }
)


#: Fields Lambda adds to a record in the events it sends (GetRecords records lack them).
_ADDED_BY_LAMBDA = frozenset({"eventSourceARN"})


def _flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in record.items():
        if name == "dynamodb" and isinstance(value, Mapping):
            for inner, inner_value in value.items():
                flat[f"dynamodb.{inner}"] = inner_value
        else:
            flat[name] = value
    return flat


def compare_records(ours: Any, theirs: Any) -> pd.DataFrame:
    """Field-by-field comparison of two records (say, ours and AWS's for the same write).

    Parameters
    ----------
    ours, theirs : StreamRecord or mapping
        The two records.

    Returns
    -------
    pandas.DataFrame
        One row per field present in either (``dynamodb.*`` fields flattened), columns ``ours``,
        ``aws`` and ``match``: ``"same"``, ``"differs"``, ``"missing"``, ``"varies by nature"`` for
        fields that differ between any two writes (ids, sequence numbers, timestamps, region, ARN),
        or ``"added by Lambda"`` (``eventSourceARN``, absent from GetRecords records).
    """
    import pandas as pd

    left = _flatten(ours.to_dict() if isinstance(ours, StreamRecord) else ours)
    right = _flatten(theirs.to_dict() if isinstance(theirs, StreamRecord) else theirs)
    rows = []
    for name in list(left) + [n for n in right if n not in left]:
        if name in _ADDED_BY_LAMBDA and name not in left:
            verdict = "added by Lambda"
        elif name not in left or name not in right:
            verdict = "missing"
        elif left[name] == right[name]:
            verdict = "same"
        elif name in VARIES_BY_NATURE:
            verdict = "varies by nature"
        else:
            verdict = "differs"
        rows.append(
            {
                "field": name,
                "ours": json.dumps(left.get(name), default=_json_default) if name in left else "",
                "aws": json.dumps(right.get(name), default=_json_default) if name in right else "",
                "match": verdict,
            }
        )
    return pd.DataFrame(rows, columns=["field", "ours", "aws", "match"]).set_index("field")
