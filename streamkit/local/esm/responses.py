"""The Lambda event source mapping API of the embedded backend, for DynamoDB streams.

The server's dispatcher sends the mapping routes of the Lambda REST API here
(``/2015-03-31/event-source-mappings[/<UUID>]``, and ``ListTags`` on a mapping's ARN). Mappings
on DynamoDB streams are answered as AWS answers them, word for word: AWS's request validation
first (the Lambda API model's ranges and enums, ``ValidationException``), then the service's own
checks (``InvalidParameterValueException``), AWS's defaults from :mod:`streamkit.mapping_settings`
echoed, ``ResourceConflictException`` for a second mapping of a function and stream,
``ResourceInUseException`` while a mapping changes state; each message with its source in
``docs/parity.md`` ("API answers, word for word"). Mappings on other sources (SQS, Kinesis)
are left to moto: :func:`handle` returns ``None`` for them, and the dispatcher forwards the request.
moto's own stream mappings would invoke functions inside the write; these are run by the local
Lambda service (:mod:`.service`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

from ...filters import FilterPatternError, validate_filter_criteria
from ...limits import (
    ESM_FUNCTION_RESPONSE_TYPES,
    ESM_RECORD_AGE_RANGE_S,
    ESM_STARTING_POSITION_ENUM,
    ESM_STARTING_POSITIONS,
)
from ...mapping_settings import AWS_DEFAULTS, SETTINGS
from .. import moto_compat, state
from ..dynamodbstreams.models import StreamsApiError, store_for
from .models import (
    BUSY_STATES,
    LambdaApiError,
    Mapping,
    MappingState,
    invalid,
    mapping_store_for,
    mappings_changed,
    not_found,
    validation_error,
)

__all__ = ["MAPPINGS_PATH", "TAGS_PATH", "handle", "is_mapping_route"]

#: The Lambda REST paths answered here (botocore's Lambda model, ``requestUri``).
MAPPINGS_PATH = "/2015-03-31/event-source-mappings"
TAGS_PATH = "/2017-03-31/tags/"

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
#: The whole-number settings and their ranges in the Lambda API model (botocore 1.44.8,
#: ``lambda/2015-03-31/service-2.json``: ``min``/``max`` of each shape). A value outside is refused by
#: AWS's request validation, before the service looks at it (``ValidationException``).
_MODEL_RANGES: dict[str, tuple[int, int]] = {  # the one spec the kit's helpers check too
    s.api: s.model_range for s in SETTINGS if s.low is not None
}
_WHOLE_NUMBERS = tuple(_MODEL_RANGES)
#: The members AWS's request validation checks here, in the order of the API model.
_MODEL_ORDER = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "StartingPosition",
    "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
)

Response = tuple[int, dict[str, str], str]


def is_mapping_route(path: str) -> bool:
    """Whether a request path belongs to the mapping API (or to ListTags on a mapping)."""
    return (
        path.rstrip("/") == MAPPINGS_PATH
        or path.startswith(MAPPINGS_PATH + "/")
        or (path.startswith(TAGS_PATH) and ":event-source-mapping:" in unquote(path))
    )


def _is_dynamodb_stream(arn: Any) -> bool:
    return (
        isinstance(arn, str)
        and arn.startswith("arn:")
        and ":dynamodb:" in arn
        and "/stream/" in arn
    )


def _function_arn(account: str, region: str, name: str) -> str:
    """The ARN of the mapping's function; AWS's ``InvalidParameterValueException`` "Function does not
    exist" when there is none (an AWS answer quoted in hashicorp/terraform-provider-aws#17933;
    LocalStack's provider answers the same)."""
    arn = moto_compat.function_arn(account, region, name)
    if arn is None:
        raise invalid("Function does not exist")
    return arn


def _camel(api_name: str) -> str:
    """A member's name as AWS's request validation spells it (``BatchSize`` -> ``batchSize``)."""
    return api_name[:1].lower() + api_name[1:]


def _shown(value: Any) -> str:
    """A value as AWS's request validation quotes it: ``'10001'``, ``'[a, b]'``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, list):
        return "'[" + ", ".join(str(v) for v in value) + "]'"
    return f"'{value}'"


def _constraint(value: Any, member: str, constraint: str) -> str:
    return f"Value {_shown(value)} at '{_camel(member)}' failed to satisfy constraint: {constraint}"


def _model_errors(body: dict[str, Any], *, creating: bool) -> list[str]:
    """What AWS's request validation refuses, in the model's member order: a required member left
    out, a number out of its range, a value outside its enum (botocore's Lambda model gives the
    constraints; AWS's wording, e.g. "Value '0' at 'startingPosition' failed to satisfy
    constraint: ...", is in the answers recorded by LocalStack, docs/parity.md)."""
    errors: list[str] = []
    if creating and body.get("FunctionName") is None:
        errors.append(_constraint(None, "FunctionName", "Member must not be null"))
    for key in _MODEL_ORDER:
        value = body.get(key)
        if key == "StartingPosition":
            if creating and value is not None and value not in ESM_STARTING_POSITION_ENUM:
                allowed = ", ".join(ESM_STARTING_POSITION_ENUM)
                errors.append(
                    _constraint(value, key, f"Member must satisfy enum value set: [{allowed}]")
                )
        elif key == "FunctionResponseTypes":
            if not isinstance(value, list):
                continue
            if len(value) > 1:
                errors.append(
                    _constraint(value, key, "Member must have length less than or equal to 1")
                )
            elif any(t not in ESM_FUNCTION_RESPONSE_TYPES for t in value):
                allowed = ", ".join(ESM_FUNCTION_RESPONSE_TYPES)
                errors.append(
                    _constraint(
                        value,
                        key,
                        "Member must satisfy constraint: [Member must satisfy enum value set: "
                        f"[{allowed}]]",
                    )
                )
        elif isinstance(value, int) and not isinstance(value, bool):
            low, high = _MODEL_RANGES[key]
            if value < low:
                errors.append(
                    _constraint(
                        value, key, f"Member must have value greater than or equal to {low}"
                    )
                )
            elif value > high:
                errors.append(
                    _constraint(value, key, f"Member must have value less than or equal to {high}")
                )
    return errors


def _validate_settings(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Settings of a create (``current`` None) or update, checked as AWS checks them and with
    AWS's defaults. Each message and its source: docs/parity.md, "API answers, word for word"."""
    creating = current is None
    errors = _model_errors(body, creating=creating)
    if errors:
        raise validation_error(errors)
    config = body.get("DestinationConfig") or {}
    if not isinstance(config, dict) or config.get("OnSuccess"):
        raise invalid(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    settings = dict(current) if current else json.loads(json.dumps(AWS_DEFAULTS))
    if creating:
        position = body.get("StartingPosition")
        if position is None:  # AWS answers this one as InvalidParameterValueException
            raise invalid(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
                "constraint: Member must not be null."
            )
        if position not in ESM_STARTING_POSITIONS:  # AT_TIMESTAMP: not for DynamoDB streams
            raise invalid(f"Unsupported starting position for arn type: {body['EventSourceArn']}")
        if body.get("StartingPositionTimestamp") is not None:
            raise invalid("Timestamp only valid with StartingPosition AT_TIMESTAMP")
        settings["StartingPosition"] = position
    for key in _MAPPING_KEYS:
        if key in body and key != "StartingPosition":
            settings[key] = body[key]
    for key in _WHOLE_NUMBERS:
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{key} must be a whole number, not {json.dumps(value)}.")
    age = settings["MaximumRecordAgeInSeconds"]
    low, high = ESM_RECORD_AGE_RANGE_S
    if age != -1 and not low <= age <= high:
        raise invalid(
            f"MaximumRecordAgeInSeconds must be either -1 (forever) or between {low} and {high} "
            "(inclusive)"
        )
    types = settings["FunctionResponseTypes"]
    if not isinstance(types, list):
        raise invalid(f"FunctionResponseTypes must be a list, not {json.dumps(types)}.")
    destination = (config.get("OnFailure") or {}).get("Destination")
    if destination is not None:
        parts = str(destination).split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] not in ("sqs", "sns", "s3"):
            raise invalid(
                f"The destination ARN {destination} is not valid: an on-failure destination is "
                "an Amazon SQS queue, Amazon SNS topic or Amazon S3 bucket ARN."
            )
    if "DestinationConfig" in body or creating:
        settings["DestinationConfig"] = {"OnFailure": dict(config.get("OnFailure") or {})}
    try:
        validate_filter_criteria(settings["FilterCriteria"] or None)
    except FilterPatternError as exc:
        raise invalid(exc.aws_message) from None
    return settings


def _tags(value: Any) -> dict[str, str]:
    """CreateEventSourceMapping's ``Tags``: a map of strings (AWS's rule), or none."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise invalid("Tags must be a map of string keys to string values.")
    return dict(value)


def _in_use(mapping: Mapping, doing: str) -> LambdaApiError:
    return LambdaApiError(
        400,
        "ResourceInUseException",
        f"Cannot {doing} the event source mapping because it is in use (state {mapping.state}). "
        "Try again once it is Enabled or Disabled.",
    )


def _ok(status: int, body: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def _create(body: dict[str, Any], account: str, region: str) -> Response:
    settings = _validate_settings(body, None)
    tags = _tags(body.get("Tags"))
    function_arn = _function_arn(account, region, body["FunctionName"])
    arn = body["EventSourceArn"]
    try:
        store_for(account, region).stream(arn)
    except StreamsApiError:
        raise invalid(f"Stream not found: {arn}") from None
    mappings = mapping_store_for(account, region)
    for other in mappings.mappings.values():
        if other.event_source_arn == arn and other.function_arn == function_arn:
            raise LambdaApiError(
                409,
                "ResourceConflictException",
                f'The event source arn (" {arn} ") and function (" {other.function_name} ") '
                "provided mapping already exists. Please update or delete the existing mapping "
                f"with UUID {other.uuid}",
            )
    mapping_id = str(uuid.uuid4())
    mapping = Mapping(
        uuid=mapping_id,
        arn=f"arn:aws:lambda:{region}:{account}:event-source-mapping:{mapping_id}",
        function_arn=function_arn,
        event_source_arn=arn,
        settings=settings,
        enabled=bool(body.get("Enabled", True)),
        tags=tags,
    )
    mappings.mappings[mapping_id] = mapping
    return _ok(202, mapping.response())  # as created: State "Creating"


def _update(mapping: Mapping, body: dict[str, Any], account: str, region: str) -> Response:
    errors = _model_errors(body, creating=False)
    if errors:
        raise validation_error(errors)
    if mapping.state in BUSY_STATES:
        raise _in_use(mapping, "update")
    settings = _validate_settings(body, mapping.settings)
    if "FunctionName" in body:
        mapping.function_arn = _function_arn(account, region, body["FunctionName"])
    mapping.settings = settings
    if "Enabled" in body and bool(body["Enabled"]) != mapping.enabled:
        mapping.enabled = bool(body["Enabled"])
        mapping.state = MappingState.ENABLING if mapping.enabled else MappingState.DISABLING
    else:
        mapping.state = MappingState.UPDATING
    mapping.state_transition_reason = "User action"
    mapping.last_modified = state.now()
    return _ok(202, mapping.response())  # before the service moves it on


def _delete(mapping: Mapping) -> Response:
    if mapping.state in BUSY_STATES:
        raise _in_use(mapping, "delete")
    mapping.state = MappingState.DELETING
    mapping.state_transition_reason = "User action"
    return _ok(202, mapping.response())


def _list(query: dict[str, list[str]], account: str, region: str) -> Response:
    source = query.get("EventSourceArn", [None])[0]
    name = query.get("FunctionName", [None])[0]
    function_arn = moto_compat.function_arn(account, region, name) if name else None
    if name and function_arn is None:  # AWS answers an unknown function with an empty list
        return _ok(200, {"EventSourceMappings": []})
    theirs = moto_compat.moto_mappings(account, region, source, name)
    ours = [
        m.response()
        for m in mapping_store_for(account, region).mappings.values()
        if (source is None or m.event_source_arn == source)
        and (function_arn is None or m.function_arn == function_arn)
    ]
    return _ok(200, {"EventSourceMappings": ours + theirs})


def _list_tags(arn: str, account: str, region: str) -> Response:
    mapping = mapping_store_for(account, region).mappings.get(arn.rsplit(":", 1)[-1])
    if mapping is None or mapping.arn != arn:
        raise not_found()
    return _ok(200, {"Tags": mapping.tags})


def handle(
    method: str, path: str, query: dict[str, list[str]], body: bytes, account: str, region: str
) -> Response | None:
    """Answer one request of the mapping API, or ``None`` to leave it to moto (another source).

    Parameters
    ----------
    method, path : str
        The HTTP method and path (a :func:`is_mapping_route` path).
    query : dict
        The query string, as lists of values.
    body : bytes
        The JSON request body (empty for GET and DELETE).
    account, region : str
        Whose mappings (from the request's credentials and signing region).
    """
    changed = False
    try:
        with state.LOCK:
            if path.startswith(TAGS_PATH):
                if method != "GET":  # TagResource / UntagResource on a mapping: not emulated
                    return None
                return _list_tags(unquote(path[len(TAGS_PATH) :]), account, region)
            if path.rstrip("/") == MAPPINGS_PATH:
                if method == "GET":
                    return _list(query, account, region)
                params = _json_body(body)
                if method != "POST":
                    return None
                if "EventSourceArn" not in params and "SelfManagedEventSource" not in params:
                    raise invalid("Unrecognized event source.")
                if not _is_dynamodb_stream(params.get("EventSourceArn")):
                    return None
                changed = True
                return _create(params, account, region)
            mapping_id = path.rstrip("/").rsplit("/", 1)[-1]
            mapping = mapping_store_for(account, region).mappings.get(mapping_id)
            if mapping is None:
                if moto_compat.moto_has_mapping(account, region, mapping_id):
                    return None
                raise not_found()  # moto would answer an update or delete with an empty success
            if method == "GET":
                return _ok(200, mapping.response())
            if method == "PUT":
                changed = True
                return _update(mapping, _json_body(body), account, region)
            if method == "DELETE":
                changed = True
                return _delete(mapping)
            return None
    except LambdaApiError as exc:
        changed = False
        return exc.response()
    finally:
        if changed:
            mappings_changed()


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise invalid("Could not parse request body into json.") from None
    if not isinstance(params, dict):
        raise invalid("Could not parse request body into json.")
    return params
