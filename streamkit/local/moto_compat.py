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
* **DynamoDB's number rules and PartiQL** (patches): every number moto's DynamoDB is given is
  stored in DynamoDB's form (:mod:`.number_rules`, at ``DynamoType`` construction); PartiQL writes
  and plain SELECTs are parsed by :mod:`.partiql` and run with moto's item operations.
* **Two caches** moto recomputes on every request (its service folders, each handler's methods).
* **Reading moto's state** for the rest of the emulator: functions (name, ARN, code), moto's own
  (non-stream) mappings, SES's sent messages, TTL expiry, and moto's reset; and **writing function
  logs** into moto's CloudWatch Logs in this process (:func:`logs_client`).
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
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from ..limits import TTL_USER_IDENTITY
from . import state
from .dynamodbstreams.capture import WriteCapture, wire_json
from .dynamodbstreams.models import StreamsApiError, StreamStore, store_for
from .number_rules import NumberError, canonical_number
from .partiql import PartiQLError, ReadPlan, WritePlan, spaced, statement_table
from .partiql import plan as partiql_plan

__all__ = [
    "FUNCTION_DELETED_LISTENERS",
    "TESTED_MOTO",
    "expire_ttl_items",
    "function_arn",
    "function_code",
    "install",
    "installed",
    "logs_client",
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
    # Duck-typed stand-in for moto's StreamShard (its write paths only call add()).
    table.stream_shard = _RecordSink(_table_store(table), table)  # type: ignore[assignment]


def _set_stream_specification(self: Table, streams: dict[str, Any] | None) -> None:
    """Replaces ``Table.set_stream_specification`` (CreateTable's StreamSpecification)."""
    with state.LOCK:
        self.stream_specification = {"StreamEnabled": False}
        self.stream_shard = None
        if streams and streams.get("StreamEnabled"):
            _enable_stream(self, streams.get("StreamViewType", ""))


def _update_table_streams(
    self: DynamoDBBackend, table: Table, stream_specification: dict[str, Any]
) -> None:
    """Replaces ``DynamoDBBackend.update_table_streams`` (UpdateTable's StreamSpecification)."""
    with state.LOCK:
        if stream_specification.get("StreamEnabled"):
            _enable_stream(table, stream_specification.get("StreamViewType", ""))
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


# -- DynamoDB's number rules and PartiQL --------------------------------------------------------------

_DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"


def _canonical_numbers(original: Callable[..., None]) -> Callable[..., None]:
    """``DynamoType.__init__``, then the number in DynamoDB's stored form (``1.50`` -> ``1.5``): the
    one place every number moto's DynamoDB is given passes through (items, keys, expression values,
    update arithmetic), so images, GetItem, conditions and SizeBytes all see what AWS stores.
    Numbers DynamoDB refuses get AWS's ValidationException (:mod:`.number_rules`)."""

    @functools.wraps(original)
    def __init__(self: DynamoType, type_as_dict: Any) -> None:
        original(self, type_as_dict)
        try:
            if self.type == "N" and isinstance(self.value, str):
                self.value = canonical_number(self.value)
            elif self.type == "NS" and isinstance(self.value, list):
                values = [canonical_number(v) if isinstance(v, str) else v for v in self.value]
                if len(set(values)) < len(values):  # equal by value: 1 and 1.0
                    raise NumberError("Input collection contains duplicates")
                self.value = values
        except NumberError as exc:
            raise MockValidationException(exc.message) from None

    return __init__


def _run_write(backend: DynamoDBBackend, plan: WritePlan) -> list[dict[str, Any]]:
    """A PartiQL write as the item operation DynamoDB performs for it (:mod:`.partiql`)."""
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    names, values = plan.names or None, plan.values or None
    if plan.kind == "INSERT":
        assert plan.item is not None
        hash_key = backend.get_table(plan.table).hash_key_attr
        try:
            backend.put_item(
                plan.table,
                plan.item,
                condition_expression="attribute_not_exists(#k)",
                expression_attribute_names={"#k": hash_key},
            )
        except ConditionalCheckFailed:
            raise JsonRESTError(
                _DYNAMODB_ERROR + "DuplicateItemException", "Duplicate primary key exists in table"
            ) from None
        return []
    before = backend.get_item(plan.table, plan.key)
    old = before.to_json()["Attributes"] if before is not None else None
    if plan.kind == "DELETE":
        backend.delete_item(
            plan.table,
            plan.key,
            expression_attribute_names=names,
            expression_attribute_values=values,
            condition_expression=plan.condition_expression,
        )
        return [old] if plan.return_values and old is not None else []
    after = backend.update_item(
        plan.table,
        plan.key,
        plan.update_expression or "",
        plan.names,
        plan.values,
        condition_expression=plan.condition_expression,
    ).to_json()["Attributes"]
    chosen = {"ALL_OLD": old, "ALL_NEW": after, "UPDATED_OLD": old, "UPDATED_NEW": after}.get(
        plan.return_values or ""
    )
    if chosen is None:
        return []
    if plan.return_values in ("UPDATED_OLD", "UPDATED_NEW"):
        chosen = {k: v for k, v in chosen.items() if k in plan.touched}
    return [chosen]


def _run_read(backend: DynamoDBBackend, plan: ReadPlan) -> list[dict[str, Any]]:
    """A PartiQL SELECT as a scan with its WHERE as the filter (moto's own reader misses items
    that hold a map, among others)."""
    items, _, _ = backend.scan(
        plan.table,
        {},
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        plan.filter_expression,
        plan.names,
        plan.values,
        plan.index,  # type: ignore[arg-type]
        False,
        None,
        (None, None),
    )
    found = [item.to_json()["Attributes"] for item in items]
    if plan.projection is not None:
        found = [{k: v for k, v in item.items() if k in plan.projection} for item in found]
    return found


def _partiql_error(exc: PartiQLError) -> JsonRESTError:
    if exc.code == "ValidationException":
        return MockValidationException(exc.message)
    return JsonRESTError(_DYNAMODB_ERROR + exc.code, exc.message)


def _execute_statement(original: Callable[..., Any]) -> Callable[..., Any]:
    """ExecuteStatement: INSERT, UPDATE and DELETE parsed by :mod:`.partiql` and run as item
    operations; SELECT left to moto's reader, whose parser failures become AWS's
    ValidationException instead of an internal error."""

    @functools.wraps(original)
    def execute_statement(
        self: DynamoDBBackend, statement: str, parameters: list[dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        def key_names(table: str) -> list[str]:
            return list(self.get_table(table).table_key_attrs)

        try:
            plan = partiql_plan(statement, parameters or [], key_names)
        except PartiQLError as exc:
            raise _partiql_error(exc) from None
        if isinstance(plan, ReadPlan):
            return _run_read(self, plan)
        if plan is not None:
            return _run_write(self, plan)
        try:
            return original(self, statement=spaced(statement), parameters=parameters or [])
        except JsonRESTError:
            raise
        except Exception as exc:  # py-partiql-parser's AssertionError and the like: not AWS's
            raise MockValidationException(  # answer, so say so rather than pass it off as one
                f"streamkit's embedded backend cannot run this SELECT (moto's PartiQL reader "
                f"failed with {type(exc).__name__}); AWS may accept it. See docs/parity.md."
            ) from None

    return execute_statement


#: BatchExecuteStatement's error codes for the exceptions a statement can raise (the API model's
#: ``BatchStatementErrorCodeEnum``).
_BATCH_CODES = {
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ResourceNotFoundException": "ResourceNotFound",
    "ValidationException": "ValidationError",
}


def _batch_execute_statement(
    self: DynamoDBBackend, statements: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Replaces ``DynamoDBBackend.batch_execute_statement``: each statement through
    :func:`_execute_statement`, its failure answered in that statement's ``Error``."""
    responses: list[dict[str, Any]] = []
    for statement in statements:
        text = statement.get("Statement", "")
        try:
            items = self.execute_statement(
                statement=text, parameters=statement.get("Parameters", [])
            )
        except JsonRESTError as exc:
            code = exc.error_type.rsplit("#", 1)[-1]
            message = getattr(exc, "message", None) or json.loads(exc.description)["message"]
            responses.append({"Error": {"Code": _BATCH_CODES.get(code, code), "Message": message}})
            continue
        response: dict[str, Any] = {"TableName": statement_table(text)}
        if items:
            response["Item"] = items[0]
        responses.append(response)
    return responses


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
        # created at (a re-created function is a new one) and the settings not listed above
        "revision": json.dumps(
            [fn.last_modified, fn.role, fn.architectures, fn.ephemeral_storage, fn.layers],
            default=str,
        ),
    }


#: Called with a function's ARN after moto deleted the function: the local runtime stops its
#: execution environments then, as AWS discards them (registered by the running backend).
FUNCTION_DELETED_LISTENERS: list[Callable[[str], None]] = []


def _delete_function(original: Callable[..., Any]) -> Callable[..., Any]:
    """DeleteFunction, then tell the listeners which function is gone (unqualified ARN)."""

    @functools.wraps(original)
    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        try:
            arn = self.get_function(function_name).function_arn.split(":function:")[0]
            arn += ":function:" + self.get_function(function_name).function_name
        except Exception:  # unknown: moto's own call answers with AWS's error
            arn = None
        original(self, function_name, qualifier)
        if arn is not None and qualifier is None:
            for listener in list(FUNCTION_DELETED_LISTENERS):
                listener(arn)

    return delete_function


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


class _InProcessLogs:
    """The three CloudWatch Logs calls the function runtime's log shipper makes
    (``CreateLogGroup``, ``CreateLogStream``, ``PutLogEvents``), answered by moto's logs backend in
    this process: the same moto code an HTTP request reaches, without the round trip (about 6 ms a
    call, most of an invocation's cost). Same keyword arguments and exceptions as a boto3 client.
    """

    class exceptions:  # noqa: N801  (mirrors a boto3 client's ``exceptions``)
        from moto.logs.exceptions import (
            ResourceAlreadyExistsException,
            ResourceNotFoundException,
        )

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def _backend(self) -> Any:
        from moto.logs.models import logs_backends

        return logs_backends[self.account_id][self.region]

    def create_log_group(self, *, logGroupName: str) -> None:  # noqa: N803  (boto3's names)
        self._backend().create_log_group(logGroupName, None)

    def create_log_stream(self, *, logGroupName: str, logStreamName: str) -> None:  # noqa: N803
        self._backend().create_log_stream(logGroupName, logStreamName)

    def put_log_events(
        self,
        *,
        logGroupName: str,  # noqa: N803
        logStreamName: str,  # noqa: N803
        logEvents: list[dict[str, Any]],  # noqa: N803
    ) -> None:
        self._backend().put_log_events(logGroupName, logStreamName, logEvents)


def logs_client(account_id: str, region: str) -> Any:
    """A CloudWatch Logs writer for the function runtime that writes straight into moto's logs
    backend (see :class:`_InProcessLogs`); in plain-moto mode, ``None`` (the runtime then ships
    over HTTP, as to any endpoint)."""
    if plain_moto():
        return None
    return _InProcessLogs(account_id, region)


def reset_moto() -> None:
    """Forget every resource moto holds (tables, functions, queues, ...)."""
    from moto.core.base_backend import BackendDict  # noqa: F401  (loads moto's backends)
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
    return handler


# -- installing ---------------------------------------------------------------------------------------


def _speed_up_moto() -> None:
    """Cache two things moto recomputes on every request (about 2 ms of a 6 ms idle GetRecords):
    the list of its service folders (read from disk) and each handler class's method names."""
    import moto.backends
    import moto.core.responses

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules
    moto.core.responses.method_names_from_class = functools.lru_cache(maxsize=None)(
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
        DynamoType.__init__ = _canonical_numbers(DynamoType.__init__)  # type: ignore[method-assign]
        DynamoDBBackend.execute_statement = _execute_statement(DynamoDBBackend.execute_statement)  # type: ignore[method-assign]
        DynamoDBBackend.batch_execute_statement = _batch_execute_statement  # type: ignore[method-assign]
        for name in _WRITE_OPERATIONS:
            setattr(DynamoDBBackend, name, _capturing(getattr(DynamoDBBackend, name)))
        DynamoDBBackend.update_table_streams = _update_table_streams  # type: ignore[method-assign]
        DynamoDBBackend.delete_table = _delete_table(DynamoDBBackend.delete_table)  # type: ignore[method-assign]
        Table.set_stream_specification = _set_stream_specification  # type: ignore[method-assign]
        from moto.awslambda.models import LambdaBackend

        LambdaBackend.delete_function = _delete_function(LambdaBackend.delete_function)  # type: ignore[method-assign]
        _speed_up_moto()
        _INSTALLED = True
