"""Request validation as AWS's front ends do it, driven by botocore's service model.

Before a JSON request (DynamoDB's JSON 1.0, Lambda's REST-JSON) reaches streamkit's handlers or
moto, :func:`check` walks its body against the operation's input shape in botocore's model, in the
two steps AWS's request layer (Coral) takes:

1. **Types** (deserialization). A value of the wrong JSON type is refused with
   ``SerializationException`` and Coral's wording, e.g. ``"STRING_VALUE cannot be converted to
   Integer"``, ``"Unexpected token received from parser"`` (a string for a boolean, so
   ``{"Enabled": "false"}`` is refused rather than read as true), ``"Start of structure or map
   found where not expected"``. Source of the wording: mhart/dynalite's ``assertType`` test helper,
   whose expectations were recorded against DynamoDB itself (its ``REMOTE`` test mode). Lambda's
   wording for these is UNCONFIRMED (docs/parity.md): the same Coral messages are used.
2. **Constraints** (validation). Every failure of ``required``, ``enum``, ``min``/``max`` (lengths
   and values) and ``pattern`` is listed in one ``ValidationException``: ``"2 validation errors
   detected: Value 'x' at 'tableName' failed to satisfy constraint: Member must satisfy regular
   expression pattern: [a-zA-Z0-9_.-]+; ..."``, with AWS's lowerCamel member paths
   (``keySchema.1.member.attributeName``).

Where the newest botocore model is not what the API enforces, :mod:`streamkit.limits` wins: a
function's ``Timeout`` (1-900 s; the model allows 5,400) and ``MemorySize`` (128-10,240 MB; the model
allows 32,768 for other compute types), DynamoDB table names given as names rather than ARNs
(3-255 of ``[a-zA-Z0-9_.-]``), and DynamoDB documents nested deeper than 32 levels (AWS's
``ValidationException``, :data:`~streamkit.limits.DYNAMODB_NESTING_ERROR`). A function's
``Runtime`` is left to :mod:`.lambda_functions` (AWS answers it with
``InvalidParameterValueException``), and the event source mapping operations' constraints to
:mod:`.esm.responses` (their types are still checked here).

Unknown members are ignored, as AWS ignores them. Bodies that are not JSON objects are left to the
handlers behind (which answer with the service's own parse error).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from ..limits import (
    DYNAMODB_MAX_NESTING,
    DYNAMODB_NESTING_ERROR,
    DYNAMODB_TABLE_NAME_LENGTH,
    DYNAMODB_TABLE_NAME_PATTERN,
    LAMBDA_MEMORY_MB_RANGE,
    LAMBDA_TIMEOUT_MAX_MS,
    LAMBDA_TIMEOUT_MIN_S,
)

__all__ = ["RequestError", "check", "lambda_operation", "remember", "service_model"]

Response = tuple[int, dict[str, str], str]

#: The DynamoDB target prefix (JSON 1.0 protocol).
_DYNAMODB_TARGET = "DynamoDB_20120810."
#: Lambda operations whose constraints :mod:`.esm.responses` checks itself (with AWS's wording).
_MAPPING_OPERATIONS = frozenset(
    {
        "CreateEventSourceMapping",
        "UpdateEventSourceMapping",
        "GetEventSourceMapping",
        "DeleteEventSourceMapping",
        "ListEventSourceMappings",
    }
)
#: Shapes whose model constraints are not what the API enforces, per service: replaced or skipped.
_OVERRIDES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("lambda", "Timeout"): {"min": LAMBDA_TIMEOUT_MIN_S, "max": LAMBDA_TIMEOUT_MAX_MS // 1000},
    ("lambda", "MemorySize"): {"min": LAMBDA_MEMORY_MB_RANGE[0], "max": LAMBDA_MEMORY_MB_RANGE[1]},
    ("lambda", "Runtime"): None,  # InvalidParameterValueException: lambda_functions.py
}
#: Java type names Coral's messages use for each model type.
_JAVA = {
    "string": "String",
    "integer": "Integer",
    "long": "Long",
    "boolean": "Boolean",
    "double": "Double",
    "float": "Float",
    "blob": "java.nio.ByteBuffer",
}
_STRUCT_OR_MAP = "Start of structure or map found where not expected"


class RequestError(Exception):
    """A request refused before any handler saw it: status, AWS's error code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self, service: str) -> Response:
        """The answer in the service's protocol (DynamoDB: JSON 1.0 with Coral's ``__type``;
        Lambda: REST-JSON with ``x-amzn-ErrorType``)."""
        if service == "dynamodb":
            namespace = (
                "com.amazon.coral.validate#"
                if self.code == "ValidationException"
                else "com.amazon.coral.service#"
                if self.code == "SerializationException"
                else "com.amazonaws.dynamodb.v20120810#"
            )
            key = "Message" if self.code == "SerializationException" else "message"
            fields = {"__type": namespace + self.code}
            if self.message:
                fields[key] = self.message
            body = json.dumps(fields)
            return self.status, {"Content-Type": "application/x-amz-json-1.0"}, body
        fields = (
            {"message": self.message}
            if self.code in ("ValidationException", "SerializationException")
            else {"Type": "User", "message": self.message}
        )
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": self.code}
        return self.status, headers, json.dumps(fields)


# -- the model --------------------------------------------------------------------------------------


_MODELS: dict[str, Any] = {}


def remember(model: Any) -> None:
    """Use a ``botocore.model.ServiceModel`` a client has already loaded (no second load)."""
    _MODELS.setdefault(model.service_name, model)


def service_model(service: str) -> Any:
    """botocore's model of ``service`` (loaded once per process)."""
    model = _MODELS.get(service)
    if model is None:
        from botocore.loaders import Loader
        from botocore.model import ServiceModel

        model = ServiceModel(Loader().load_service_model(service, "service-2"), service)
        _MODELS.setdefault(service, model)
    return _MODELS[service]


@functools.cache
def _routes() -> list[tuple[str, re.Pattern[str], str, tuple[str, ...]]]:
    """Lambda's REST routes: (method, path regex, operation, URI label names), most specific first."""
    model = service_model("lambda")
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?", 1)[0]
        labels = tuple(re.findall(r"\{([^}+]+)\+?\}", uri))
        pattern = re.sub(
            r"\{([^}]+)\}",
            lambda m: "(.+)" if m[1].endswith("+") else "([^/]+)",
            re.escape(uri).replace(r"\{", "{").replace(r"\}", "}"),
        )
        routes.append((http["method"], re.compile(pattern + "/?"), name, labels))
    routes.sort(key=lambda r: -len(r[1].pattern.replace("([^/]+)", "").replace("(.+)", "")))
    return routes


def lambda_operation(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The Lambda operation of a REST request and its URI labels (unquoted), or None."""
    for verb, pattern, name, labels in _routes():
        if verb == method:
            match = pattern.fullmatch(path)
            if match:
                return name, {k: unquote(v) for k, v in zip(labels, match.groups(), strict=True)}
    return None


# -- checking ---------------------------------------------------------------------------------------


def check(
    service: str, operation: str, body: bytes, labels: dict[str, str] | None = None
) -> RequestError | None:
    """The error AWS's request layer would answer for this request, or None.

    Parameters
    ----------
    service : str
        ``"dynamodb"`` or ``"lambda"``.
    operation : str
        The operation name (``PutItem``, ``CreateFunction``).
    body : bytes
        The JSON body (empty: no members).
    labels : dict, optional
        URI labels of a REST request (``{"FunctionName": "f"}``).
    """
    model = service_model(service)
    try:
        shape = model.operation_model(operation).input_shape
    except Exception:  # an operation the model does not know: the handler answers it
        return None
    if shape is None:
        return None
    if shape.serialization.get("payload"):  # Invoke: the body is the function's, not the API's
        params: Any = {}
    else:
        if service == "dynamodb" and not body.strip():  # DynamoDB wants a JSON object, even {}
            return RequestError(400, "SerializationException", "")
        try:
            params = json.loads(body) if body.strip() else {}
        except RecursionError:  # nested beyond what any document may be
            if service == "dynamodb":
                return RequestError(400, "ValidationException", DYNAMODB_NESTING_ERROR)
            return RequestError(400, "SerializationException", "Request nesting is too deep")
        except ValueError:  # DynamoDB: a bare SerializationException (no message), as it answers
            return (
                RequestError(400, "SerializationException", "") if service == "dynamodb" else None
            )
        if isinstance(params, list):
            return RequestError(
                400, "SerializationException", "Start of list found where not expected"
            )
        if not isinstance(params, dict):
            return None
    for name, value in (labels or {}).items():
        params = {**params, name: value}
    walker = _Walker(service, operation not in _MAPPING_OPERATIONS)
    try:
        walker.structure(shape, params, "")
    except _Serialization as exc:
        return RequestError(400, "SerializationException", str(exc))
    if walker.errors:
        count = len(walker.errors)
        head = f"{count} validation error{'s' if count > 1 else ''} detected: "
        return RequestError(400, "ValidationException", head + "; ".join(walker.errors))
    if walker.too_deep:
        return RequestError(400, "ValidationException", DYNAMODB_NESTING_ERROR)
    return None


class _Serialization(Exception):
    """A value of the wrong JSON type (Coral's deserialization error)."""


def _token(value: Any) -> str:
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    return "STRING_VALUE"


def _shown(value: Any) -> str:
    """A value as Coral quotes it in a constraint failure."""
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, list):
        return "'[" + ", ".join(str(v) for v in value) + "]'"
    return f"'{value}'"


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return re.compile(text)
        except re.error:  # Java-only syntax (\p{...}): not checked
            return None


class _Walker:
    """One walk of a request against its input shape."""

    def __init__(self, service: str, constraints: bool):
        self.service = service
        self.constraints = constraints
        self.errors: list[str] = []
        self.too_deep = False
        self.inside_document = False  # within a DynamoDB item (its depth is already checked)
        java = service_model(service).api_version.replace("-", "")
        self.namespace = f"com.amazonaws.{service}.v{java}."

    # -- types ----------------------------------------------------------------------------------

    def value(self, shape: Any, value: Any, path: str) -> None:
        kind = shape.type_name
        if value is None:
            return
        handler: Callable[[Any, Any, str], None] = getattr(self, kind, self.scalar)
        handler(shape, value, path)

    def scalar(self, shape: Any, value: Any, path: str) -> None:
        kind = shape.type_name
        if isinstance(value, dict):
            raise _Serialization(_STRUCT_OR_MAP)
        if isinstance(value, list):
            java = _JAVA.get(kind, "String")
            prefix = "" if "." in java else "java.lang."
            raise _Serialization(f"Unrecognized collection type class {prefix}{java}")
        if kind == "string":
            if not isinstance(value, str):
                raise _Serialization(f"{_token(value)} cannot be converted to String")
        elif kind in ("integer", "long", "double", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _Serialization(f"{_token(value)} cannot be converted to {_JAVA[kind]}")
        elif kind == "boolean":
            if isinstance(value, str):
                raise _Serialization("Unexpected token received from parser")
            if not isinstance(value, bool):
                raise _Serialization(f"{_token(value)} cannot be converted to Boolean")
        elif kind == "blob":
            if not isinstance(value, str):
                raise _Serialization("only base-64-encoded strings are convertible to bytes")
            if len(value) % 4:
                raise _Serialization(
                    f"Base64 encoded length is expected a multiple of 4 bytes but found: "
                    f"{len(value)}"
                )
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise _Serialization("Invalid last non-pad Base64 character dectected") from None
        if self.constraints:
            self.scalar_constraints(shape, value, path)

    def structure(self, shape: Any, value: Any, path: str) -> None:
        if isinstance(value, list):
            raise _Serialization(f"Unrecognized collection type class {self.namespace}{shape.name}")
        if not isinstance(value, dict):
            raise _Serialization("Unexpected field type")
        members = shape.members
        if self.constraints:
            for name in shape.required_members:
                if value.get(name) is None:
                    self.errors.append(
                        f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                        "Member must not be null"
                    )
        for name, member in members.items():
            if name in value:
                self.value(member, value[name], _join(path, name))

    def list(self, shape: Any, value: Any, path: str) -> None:
        if isinstance(value, dict):
            raise _Serialization(_STRUCT_OR_MAP)
        if not isinstance(value, list):
            raise _Serialization("Unexpected field type")
        if self.constraints:
            self.length(shape, value, path)
        for i, item in enumerate(value, 1):
            self.value(shape.member, item, f"{path}.{i}.member")

    def map(self, shape: Any, value: Any, path: str) -> None:
        if isinstance(value, list):
            inner = shape.value
            target = (
                f"{self.namespace}{inner.name}"
                if inner.type_name == "structure"
                else f"java.lang.{_JAVA.get(inner.type_name, 'String')}"
            )
            raise _Serialization(
                f"Unrecognized collection type java.util.Map<java.lang.String, {target}>"
            )
        if not isinstance(value, dict):
            raise _Serialization("Unexpected field type")
        # Coral words constraint failures inside maps otherwise: only their types are checked.
        if checking := self.constraints:
            self.map_value_lengths(shape, value, path)
        self.constraints = False
        top = shape.value.name == "AttributeValue" and not self.inside_document
        self.inside_document = self.inside_document or top
        try:
            for item in value.values():
                if top and self.service == "dynamodb" and _depth(item) > DYNAMODB_MAX_NESTING:
                    self.too_deep = True  # never walked: it may be nested beyond any stack
                    continue
                self.value(shape.value, item, path)
        finally:
            self.constraints = checking
            if top:
                self.inside_document = False

    # -- constraints ----------------------------------------------------------------------------

    def limits(self, shape: Any) -> dict[str, Any] | None:
        key = (self.service, shape.name)
        if key in _OVERRIDES:
            override = _OVERRIDES[key]
            return None if override is None else {**shape.metadata, **override}
        return shape.metadata

    def map_value_lengths(self, shape: Any, value: dict[str, Any], path: str) -> None:
        """A map whose values are lists of bounded length (BatchWriteItem's RequestItems: 1 to 25
        requests per table), in Coral's "Map value must satisfy constraint" form. How Coral
        renders the map's value in the message is UNCONFIRMED (docs/parity.md)."""
        inner = shape.value
        if inner.type_name != "list":
            return
        meta = inner.metadata
        bounds = []
        if "max" in meta:
            bounds.append(f"Member must have length less than or equal to {meta['max']}")
        if "min" in meta:
            bounds.append(f"Member must have length greater than or equal to {meta['min']}")
        for key, item in value.items():
            if not isinstance(item, list):
                continue
            if len(item) > meta.get("max", len(item)) or len(item) < meta.get("min", 0):
                self.errors.append(
                    f"Value '{{{key}=[{len(item)} items]}}' at '{path}' failed to satisfy "
                    f"constraint: Map value must satisfy constraint: [{', '.join(bounds)}]"
                )

    def fail(self, value: Any, path: str, constraint: str) -> None:
        self.errors.append(
            f"Value {_shown(value)} at '{path}' failed to satisfy constraint: {constraint}"
        )

    def length(self, shape: Any, value: Any, path: str) -> None:
        meta = self.limits(shape)
        if meta is None:
            return
        if "min" in meta and len(value) < meta["min"]:
            self.fail(
                value, path, f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and len(value) > meta["max"]:
            self.fail(value, path, f"Member must have length less than or equal to {meta['max']}")

    def scalar_constraints(self, shape: Any, value: Any, path: str) -> None:
        meta = self.limits(shape)
        if meta is None:
            return
        kind = shape.type_name
        if kind == "string":
            if (
                self.service == "dynamodb"
                and shape.name == "TableArn"
                and not value.startswith("arn:")
            ):  # a table *name*: the name's rules, as before ARNs were accepted
                low, high = DYNAMODB_TABLE_NAME_LENGTH
                meta = {"min": low, "max": high, "pattern": DYNAMODB_TABLE_NAME_PATTERN}
            enum = shape.enum
            if enum and value not in enum:
                self.fail(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
                return
            pattern = meta.get("pattern")
            compiled = _pattern(pattern) if pattern else None
            if compiled is not None and not compiled.fullmatch(value):
                self.fail(value, path, f"Member must satisfy regular expression pattern: {pattern}")
            self.length(shape if meta is shape.metadata else _Meta(meta), value, path)
        elif kind in ("integer", "long", "double", "float"):
            if "min" in meta and value < meta["min"]:
                self.fail(
                    value, path, f"Member must have value greater than or equal to {meta['min']}"
                )
            if "max" in meta and value > meta["max"]:
                self.fail(
                    value, path, f"Member must have value less than or equal to {meta['max']}"
                )


class _Meta:
    """Constraints standing in for a shape's (an override)."""

    def __init__(self, metadata: dict[str, Any]):
        self.metadata = metadata
        self.name = ""


def _join(path: str, name: str) -> str:
    camel = name[:1].lower() + name[1:]
    return f"{path}.{camel}" if path else camel


def _depth(value: Any) -> int:
    """Levels of a DynamoDB attribute value: 1 for a scalar, 1 + its deepest element for M and L."""
    depth, level, stack = 0, 1, [(value, 1)]
    while stack:
        item, level = stack.pop()
        depth = max(depth, level)
        if isinstance(item, dict):
            if isinstance(item.get("M"), dict):
                stack.extend((v, level + 1) for v in item["M"].values())
            if isinstance(item.get("L"), list):
                stack.extend((v, level + 1) for v in item["L"])
        if depth > DYNAMODB_MAX_NESTING:
            break
    return depth
