"""Everything the embedded backend touches inside moto, in one place, with the versions it is tested on.

moto answers every AWS API the embedded backend does not answer itself (the server's dispatcher
sends the DynamoDB Streams API and the Lambda mapping API to streamkit's own handlers). What is left
to change inside moto is here, and nowhere else:

* **The version gate.** :data:`TESTED_MOTO` is the range ``pyproject.toml`` allows; :func:`install`
  refuses any other moto, so an upgrade that would silently break a rule fails loudly instead.
  ``tests/test_moto_floor.py`` starts the backend on the lowest allowed moto.
* **Capture of writes** (patches): each write operation of ``DynamoDBBackend`` is bracketed by
  :class:`~.dynamodbstreams.capture.WriteCapture`, and moto's per-table stream hook
  (``Table.stream_shard``) is replaced by a sink that notes the items touched. After the operation
  succeeded, one record per changed item goes to the stream store. moto's own stream shard, and
  with it its habit of invoking Lambda functions inside the write and then clearing the stream, is
  never used.
* **Stream life cycle** (patches): CreateTable's and UpdateTable's ``StreamSpecification`` and
  DeleteTable go to the stream store.
* **Two caches** moto recomputes on every request (its service folders, each handler's methods).
* **Reading moto's state** for the rest of the emulator: functions (name, ARN, code), moto's own
  (non-stream) mappings, SES's sent messages, TTL expiry, and moto's reset.
* **Serving** moto's WSGI app, with a request handler that exists on every tested version.

``STREAMKIT_PLAIN_MOTO=1`` (a test switch, ``tests/test_plain_moto.py``) leaves moto unpatched and
the dispatcher off, to prove each fidelity test fails on moto as it is.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Callable
from typing import Any

import moto
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table

from ..limits import TTL_USER_IDENTITY
from . import state
from .dynamodbstreams.capture import WriteCapture, wire_json
from .dynamodbstreams.models import StreamsApiError, StreamStore, store_for

__all__ = [
    "TESTED_MOTO",
    "expire_ttl_items",
    "function_arn",
    "function_code",
    "install",
    "installed",
    "moto_has_mapping",
    "moto_mappings",
    "plain_moto",
    "request_handler_class",
    "reset_moto",
    "sent_emails",
    "wsgi_app",
]

#: moto versions the embedded backend is tested on (inclusive lower, exclusive upper bound): the
#: range ``pyproject.toml`` allows. The lower bound is tested by ``tests/test_moto_floor.py``.
TESTED_MOTO = ((5, 2, 1), (5, 3, 0))

_CAPTURE = WriteCapture()
_INSTALLED = False

# The write operations of DynamoDBBackend that make stream records (PutItem, UpdateItem,
# DeleteItem, TransactWriteItems, PartiQL; BatchWriteItem calls put_item / delete_item).
_WRITE_OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)


def plain_moto() -> bool:
    """Whether the test switch ``STREAMKIT_PLAIN_MOTO=1`` asks for moto as it is."""
    return os.environ.get("STREAMKIT_PLAIN_MOTO") == "1"


def moto_version() -> tuple[int, ...]:
    """The installed moto's version, e.g. ``(5, 2, 5)``."""
    return tuple(int(part) for part in moto.__version__.split(".")[:3] if part.isdigit())


# -- capture of writes ------------------------------------------------------------------------------


def _moto_error(exc: StreamsApiError) -> JsonRESTError:
    """A stream store error as moto's DynamoDB handler answers it (inside a DynamoDB request)."""
    if exc.code == "ValidationException":
        return MockValidationException(exc.message)
    return JsonRESTError("com.amazonaws.dynamodb.v20120810#" + exc.code, exc.message)


def _table_store(table: Table) -> StreamStore:
    return store_for(table.account_id, table.region_name)


def _attributes(item: Any) -> dict[str, Any] | None:
    """An item's attributes in wire DynamoDB JSON (moto keeps some binary values as raw bytes)."""
    return None if item is None else wire_json(item.to_json()["Attributes"])


def _append(table: Table, before: Any, after: Any, user_identity: Any = None) -> None:
    _table_store(table).append(
        table.name, list(table.table_key_attrs), before, after, user_identity=user_identity
    )


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
        noted = _CAPTURE.touch(key, (self.table, item.hash_key, item.range_key, _attributes(old)))
        if not noted:  # a write path we do not wrap: emit at once
            _append(self.table, _attributes(old), _attributes(new))


def _capturing(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a write operation so that it emits one record per changed item, after it succeeds."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with state.LOCK, _CAPTURE.operation() as touched:
            result = method(*args, **kwargs)
            if touched is None:  # nested: the outer call emits
                return result
            for table, hash_key, range_key, before in touched.values():
                if table.stream_shard is None:
                    continue
                _append(table, before, _attributes(table.get_item(hash_key, range_key)))
            return result

    return wrapper


def _enable_stream(table: Table, view_type: str) -> None:
    try:
        stream = _table_store(table).enable(table.name, table.table_arn, table.schema, view_type)
    except StreamsApiError as exc:
        raise _moto_error(exc) from None
    table.latest_stream_label = stream.label
    table.stream_specification = {"StreamEnabled": True, "StreamViewType": view_type}
    table.stream_shard = _RecordSink(_table_store(table), table)


def _set_stream_specification(self: Table, streams: dict[str, Any] | None) -> None:
    """Replaces ``Table.set_stream_specification`` (CreateTable's StreamSpecification)."""
    with state.LOCK:
        self.stream_specification = {"StreamEnabled": False}
        self.stream_shard = None
        if streams and streams.get("StreamEnabled"):
            _enable_stream(self, streams.get("StreamViewType", ""))


def _update_table_streams(self: DynamoDBBackend, table: Table, spec: dict[str, Any]) -> None:
    """Replaces ``DynamoDBBackend.update_table_streams`` (UpdateTable's StreamSpecification)."""
    with state.LOCK:
        if spec.get("StreamEnabled"):
            _enable_stream(table, spec.get("StreamViewType", ""))
            return
        try:
            _table_store(table).disable(table.name)
        except StreamsApiError as exc:
            raise _moto_error(exc) from None
        table.stream_specification = {"StreamEnabled": False}
        table.stream_shard = None


def _delete_table(original: Callable[..., Table]) -> Callable[..., Table]:
    @functools.wraps(original)
    def delete_table(self: DynamoDBBackend, name: str) -> Table:
        with state.LOCK:
            table = original(self, name)
            store_for(self.account_id, self.region_name).table_deleted(table.name)
            return table

    return delete_table


def roll_shards(account_id: str, region: str, table_name: str) -> str:
    """Close the open shard of a table's stream and open its child; the child's id."""
    with state.LOCK:
        try:
            return store_for(account_id, region).roll_shards(table_name).shard_id
        except StreamsApiError as exc:
            raise _moto_error(exc) from None


def expire_ttl_items(
    account_id: str, region: str, table_name: str | None = None, *, at: float | None = None
) -> int:
    """Delete expired items as DynamoDB's TTL process does; returns how many were deleted.

    An item expires when its TTL attribute is a number of epoch seconds before ``at`` (items
    without it, or with a non-number, never expire). Each deletion gives a REMOVE record carrying
    the service's ``userIdentity``. Source: DynamoDB Developer Guide, "DynamoDB Streams and Time
    to Live" (AWS-FACTS §1.2).
    """
    backend = dynamodb_backends[account_id][region]
    moment = state.now() if at is None else at
    deleted = 0
    with state.LOCK:
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
            with _CAPTURE.operation() as touched:  # the sink notes what changed
                assert touched is not None
                for item in expired:
                    table.delete_item(item.hash_key, item.range_key)
                for owner, _, _, before in touched.values():
                    if owner.stream_shard is not None:
                        _append(owner, before, None, user_identity=dict(TTL_USER_IDENTITY))
            deleted += len(expired)
    return deleted


# -- reading moto's state -----------------------------------------------------------------------------


def function_arn(account_id: str, region: str, name: str) -> str | None:
    """The ARN of a function by name or ARN, or ``None`` if moto does not know it."""
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.awslambda.models import lambda_backends

    try:
        return str(lambda_backends[account_id][region].get_function(name).function_arn)
    except UnknownFunctionException:
        return None


def function_code(account_id: str, region: str, arn: str) -> dict[str, Any] | None:
    """What the local runtime needs to run a function: its configuration and zip (None if gone)."""
    from moto.awslambda.exceptions import UnknownFunctionException
    from moto.awslambda.models import lambda_backends

    try:
        fn = lambda_backends[account_id][region].get_function(arn)
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


def moto_mappings(
    account_id: str, region: str, source: str | None, function_name: str | None
) -> list[dict[str, Any]]:
    """moto's own event source mappings (other sources than DynamoDB streams), as answered."""
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[account_id][region]
    return [
        esm.get_configuration()
        for esm in backend.list_event_source_mappings(source, function_name)  # type: ignore[arg-type]
    ]


def moto_has_mapping(account_id: str, region: str, uuid: str) -> bool:
    """Whether moto holds a mapping (of another source) with this UUID."""
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account_id][region].get_event_source_mapping(uuid) is not None


def sent_emails(account_id: str, region: str) -> list[dict[str, Any]]:
    """E-mails sent through SES on the embedded backend, oldest first (local only)."""
    from moto.ses.models import ses_backends

    return [
        {
            "id": getattr(message, "id", None),
            "source": getattr(message, "source", None),
            "destinations": getattr(message, "destinations", None),
            "subject": getattr(message, "subject", None),
            "body": getattr(message, "body", None),
        }
        for message in ses_backends[account_id][region].sent_messages
    ]


def reset_moto() -> None:
    """Forget every resource moto holds (tables, functions, queues, ...)."""
    from moto.core.base_backend import BackendDict  # noqa: F401  (loads moto's backends)
    from moto.core.models import base_decorator  # noqa: F401
    from moto.moto_api._internal import moto_api_backend

    moto_api_backend.reset()


# -- serving ------------------------------------------------------------------------------------------


def wsgi_app() -> Any:
    """moto's WSGI application: every service, dispatched by host and headers."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def request_handler_class() -> type:
    """The werkzeug request handler to serve moto with: moto's own where it has one (5.2.5 and
    newer keep S3 metadata headers with underscores), werkzeug's on older versions."""
    from moto.moto_server import werkzeug_app

    handler = getattr(werkzeug_app, "MotoRequestHandler", None)
    if handler is None:
        from werkzeug.serving import WSGIRequestHandler

        handler = WSGIRequestHandler
    return handler  # type: ignore[no-any-return]


# -- installing ---------------------------------------------------------------------------------------


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


def installed() -> bool:
    """Whether the patches are active in this process."""
    return _INSTALLED


def install() -> None:
    """Patch moto for the embedded backend in this process (idempotent).

    Raises
    ------
    RuntimeError
        If the installed moto is outside :data:`TESTED_MOTO`.
    """
    global _INSTALLED
    with state.LOCK:
        if _INSTALLED:
            return
        if plain_moto():
            _INSTALLED = True
            return
        low, high = TESTED_MOTO
        version = moto_version()
        if not low <= version < high:
            raise RuntimeError(
                f"streamkit's embedded backend is tested on moto >= {'.'.join(map(str, low))}, < "
                f"{'.'.join(map(str, high))}; moto {moto.__version__} is installed. Install a "
                "tested version (pip install -e .) rather than run with unverified stream records."
            )
        for name in _WRITE_OPERATIONS:
            setattr(DynamoDBBackend, name, _capturing(getattr(DynamoDBBackend, name)))
        DynamoDBBackend.update_table_streams = _update_table_streams  # type: ignore[method-assign]
        DynamoDBBackend.delete_table = _delete_table(DynamoDBBackend.delete_table)  # type: ignore[method-assign]
        Table.set_stream_specification = _set_stream_specification  # type: ignore[method-assign]
        _speed_up_moto()
        _INSTALLED = True
