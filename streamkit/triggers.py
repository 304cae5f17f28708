"""Triggers: the event source mapping from a DynamoDB stream to a function, and its settings.

A DynamoDB stream *trigger* is an AWS Lambda event source mapping: the Lambda service polls the
stream's shards and invokes a function with batches of records. This module holds every AWS call
sequence that sets one up, changes it and removes it: :func:`create_trigger`,
:func:`update_trigger`, :func:`enable_trigger`, :func:`disable_trigger`, :func:`delete_trigger`,
:func:`describe_trigger`, :func:`list_triggers`. Every setting is validated against AWS's ranges
before any call, through the one spec of mapping settings (:mod:`streamkit.mapping_settings`);
:func:`mapping_parameters` is that spec as the reference table the notebooks print.

The function and its role come first (:mod:`streamkit.iam`, :mod:`streamkit.functions`); an
on-failure destination from :mod:`streamkit.destinations`; :mod:`streamkit.teardown` deletes it
all. Only boto3 calls, through ``backend.client(...)``, so everything works the same on the
embedded backend and on AWS. Where AWS is eventually consistent (a new role, a mapping's state)
the waits are bounded (:func:`streamkit.waiting.poll_until`) and their messages say what was seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import waiting
from .aws_errors import error_message
from .backends import Backend
from .checks import check_destination, check_function_name, check_wait, function_of
from .errors import (
    FunctionNotFoundError,
    InvalidParameterError,
    StreamkitError,
    StreamNotFoundError,
    TriggerExistsError,
    TriggerNotFoundError,
    TriggerTimeoutError,
)
from .filters import FilterPatternError, parse_pattern
from .iam import retry_while_role_propagates
from .limits import (
    ESM_BATCH_SIZE_DEFAULT,
    ESM_FILTER_PATTERN_MAX_CHARS,
    ESM_FUNCTION_RESPONSE_TYPES,
    ESM_LATEST_FIRST_POLL_WAIT_S,
    ESM_MAX_FILTERS,
    ESM_STABLE_STATES,
    ESM_STARTING_POSITIONS,
    STREAM_ARN_PATTERN,
)
from .mapping_settings import SETTINGS, by_argument, check_argument, mapping_parameters
from .waiting import poll_until

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from types_boto3_lambda.type_defs import (
        EventSourceMappingConfigurationResponseTypeDef,
        EventSourceMappingConfigurationTypeDef,
    )

__all__ = [
    "Trigger",
    "create_trigger",
    "update_trigger",
    "enable_trigger",
    "disable_trigger",
    "delete_trigger",
    "describe_trigger",
    "list_triggers",
    "mapping_parameters",
]

#: A mapping that is Enabled or on its way there, Disabled or on its way there (AWS-FACTS §2.1).
_ENABLED_STATES = ("Enabled", "Enabling")
_DISABLED_STATES = ("Disabled", "Disabling")

#: Seconds between progress lines during the first-poll wait.
_FIRST_POLL_PROGRESS_S = 15.0


def _poll_delay(backend: Backend) -> float | Callable[[int], float]:
    """Seconds between state polls: AWS takes seconds (every 2 s); the embedded backend's Lambda
    service moves a mapping on within milliseconds, so it is asked again after 5 ms, then less
    and less often (at most every 0.25 s)."""
    if backend.is_local:
        return lambda attempt: min(0.25, 0.005 * 2**attempt)
    return 2.0


def _check_stream_arn(value: Any) -> str:
    if not isinstance(value, str) or not STREAM_ARN_PATTERN.fullmatch(value):
        raise InvalidParameterError(
            "stream_arn",
            value,
            "a DynamoDB stream ARN, arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label> "
            "(streams.latest_stream_arn(backend, table) gives it)",
        )
    return value


@dataclass(frozen=True)
class Trigger:
    """An event source mapping from a DynamoDB stream to a function, and its settings.

    Settings AWS leaves out of a response take AWS's documented default (see
    :func:`mapping_parameters`). Times are in seconds.
    """

    uuid: str
    function_arn: str
    event_source_arn: str
    state: str
    state_transition_reason: str | None = None
    last_processing_result: str | None = None
    starting_position: str | None = None
    batch_size: int = ESM_BATCH_SIZE_DEFAULT
    maximum_batching_window_s: int = 0
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1
    maximum_record_age_s: int = -1
    bisect_batch_on_function_error: bool = False
    on_failure_destination_arn: str | None = None
    report_batch_item_failures: bool = False
    filter_patterns: tuple[str, ...] = ()
    tumbling_window_s: int = 0
    action: str | None = field(default=None, compare=False)
    """What the call that returned it did: ``"created"``, ``"unchanged"``, ``"updated"``."""

    @classmethod
    def from_response(cls, response: Mapping[str, Any], action: str | None = None) -> Trigger:
        """A Trigger from a Create/Get/Update/ListEventSourceMapping(s) response item."""

        def setting(api: str, argument: str) -> Any:
            value = response.get(api)
            return by_argument(argument).default if value is None else value

        destination = ((response.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        filters = (response.get("FilterCriteria") or {}).get("Filters") or []
        return cls(
            uuid=response["UUID"],
            function_arn=response.get("FunctionArn", ""),
            event_source_arn=response.get("EventSourceArn", ""),
            state=response.get("State", ""),
            state_transition_reason=response.get("StateTransitionReason"),
            last_processing_result=response.get("LastProcessingResult"),
            starting_position=response.get("StartingPosition"),
            batch_size=setting("BatchSize", "batch_size"),
            maximum_batching_window_s=setting(
                "MaximumBatchingWindowInSeconds", "maximum_batching_window_s"
            ),
            parallelization_factor=setting("ParallelizationFactor", "parallelization_factor"),
            maximum_retry_attempts=setting("MaximumRetryAttempts", "maximum_retry_attempts"),
            maximum_record_age_s=setting("MaximumRecordAgeInSeconds", "maximum_record_age_s"),
            bisect_batch_on_function_error=setting(
                "BisectBatchOnFunctionError", "bisect_batch_on_function_error"
            ),
            on_failure_destination_arn=destination or None,
            report_batch_item_failures="ReportBatchItemFailures"
            in (response.get("FunctionResponseTypes") or []),
            filter_patterns=tuple(f.get("Pattern", "") for f in filters),
            tumbling_window_s=setting("TumblingWindowInSeconds", "tumbling_window_s"),
            action=action,
        )

    @property
    def function_name(self) -> str:
        """The function's name (the last part of its ARN)."""
        return function_of(self.function_arn)

    @property
    def enabled(self) -> bool | None:
        """``True`` when Enabled or Enabling, ``False`` when Disabled or Disabling, else ``None``."""
        if self.state in _ENABLED_STATES:
            return True
        if self.state in _DISABLED_STATES:
            return False
        return None

    def settings(self) -> dict[str, Any]:
        """The settings, keyed by :func:`create_trigger`'s keyword names."""
        return {
            "starting_position": self.starting_position,
            "batch_size": self.batch_size,
            "maximum_batching_window_s": self.maximum_batching_window_s,
            "parallelization_factor": self.parallelization_factor,
            "maximum_retry_attempts": self.maximum_retry_attempts,
            "maximum_record_age_s": self.maximum_record_age_s,
            "bisect_batch_on_function_error": self.bisect_batch_on_function_error,
            "on_failure_destination_arn": self.on_failure_destination_arn,
            "report_batch_item_failures": self.report_batch_item_failures,
            "filter_patterns": self.filter_patterns,
            "tumbling_window_s": self.tumbling_window_s,
            "enabled": self.enabled,
        }

    def to_series(self) -> pd.Series:
        """The trigger as one column: identity, state and settings."""
        import pandas as pd

        return pd.Series(
            {
                "uuid": self.uuid,
                "function": self.function_name,
                "stream": self.event_source_arn,
                "state": self.state,
                "state_transition_reason": self.state_transition_reason,
                **{k: v for k, v in self.settings().items() if k != "enabled"},
            },
            name=self.uuid,
        )


def _check_filter_patterns(patterns: Any) -> tuple[str, ...]:
    if isinstance(patterns, str | bytes | Mapping) or not isinstance(patterns, Iterable):
        raise InvalidParameterError(
            "filter_patterns", patterns, f"a list of at most {ESM_MAX_FILTERS} patterns"
        )
    patterns = list(patterns)
    if len(patterns) > ESM_MAX_FILTERS:
        raise InvalidParameterError(
            "filter_patterns",
            f"{len(patterns)} patterns",
            f"at most {ESM_MAX_FILTERS} patterns per trigger (AWS's default quota; they are OR-ed)",
        )
    rule = (
        "a JSON object (a dict, or a string holding one) in EventBridge pattern syntax, whose "
        'every value is an object or a list, e.g. {"eventName": ["INSERT"]}; AWS answers '
        '"Invalid filter pattern definition." otherwise'
    )
    stored = []
    for index, pattern in enumerate(patterns):
        name = f"filter_patterns[{index}]"
        if isinstance(pattern, str):
            try:
                parsed = json.loads(pattern)
            except ValueError:
                raise InvalidParameterError(name, pattern, rule) from None
            text = pattern
        elif isinstance(pattern, Mapping):
            parsed = pattern
            try:
                text = json.dumps(pattern, separators=(",", ":"))
            except (TypeError, ValueError):
                raise InvalidParameterError(name, pattern, rule) from None
        else:
            raise InvalidParameterError(name, pattern, rule)
        if len(text) > ESM_FILTER_PATTERN_MAX_CHARS:
            raise InvalidParameterError(
                name,
                f"{len(text)} characters",
                f"at most {ESM_FILTER_PATTERN_MAX_CHARS} characters of JSON",
            )
        if not isinstance(parsed, dict):
            raise InvalidParameterError(name, pattern, rule)
        try:
            parse_pattern(parsed)  # the same rules the embedded backend applies
        except FilterPatternError as exc:
            raise InvalidParameterError(name, pattern, f"{rule} ({exc.hint})") from None
        stored.append(text)
    return tuple(stored)


def _patterns_equal(a: Sequence[str], b: Sequence[str]) -> bool:
    def canonical(patterns: Sequence[str]) -> list[str]:
        out = []
        for p in patterns:
            try:
                out.append(json.dumps(json.loads(p), sort_keys=True))
            except ValueError:
                out.append(p)
        return sorted(out)

    return canonical(a) == canonical(b)


def _check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Validate the keyword settings given (None = not given); return them normalised."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if value is None and key != "on_failure_destination_arn":
            continue
        if key == "starting_position":
            if value not in ESM_STARTING_POSITIONS:
                raise InvalidParameterError(key, value, by_argument(key).expected)
            out[key] = value
        elif key == "on_failure_destination_arn":
            out[key] = None if value is None else check_destination(value)
        elif key == "filter_patterns":
            out[key] = _check_filter_patterns(value)
        else:  # the whole-number and true/false settings, checked by their spec
            out[key] = check_argument(key, value)
    return out


def _to_request(settings: Mapping[str, Any], *, removing: bool = False) -> dict[str, Any]:
    """API keyword arguments for the settings given. ``removing``: an empty destination / filter
    list means "remove" (UpdateEventSourceMapping ignores an omitted one)."""
    request: dict[str, Any] = {}
    names = {
        "starting_position": "StartingPosition",
        "batch_size": "BatchSize",
        "maximum_batching_window_s": "MaximumBatchingWindowInSeconds",
        "parallelization_factor": "ParallelizationFactor",
        "maximum_retry_attempts": "MaximumRetryAttempts",
        "maximum_record_age_s": "MaximumRecordAgeInSeconds",
        "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
        "tumbling_window_s": "TumblingWindowInSeconds",
        "enabled": "Enabled",
    }
    for key, value in settings.items():
        if key in names:
            request[names[key]] = value
        elif key == "on_failure_destination_arn":
            if value:
                request["DestinationConfig"] = {"OnFailure": {"Destination": value}}
            elif removing:
                request["DestinationConfig"] = {"OnFailure": {}}
        elif key == "report_batch_item_failures":
            request["FunctionResponseTypes"] = list(ESM_FUNCTION_RESPONSE_TYPES) if value else []
        elif key == "filter_patterns":
            if value:
                request["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in value]}
            elif removing:
                request["FilterCriteria"] = {}  # as Terraform does: AWS ignores an omitted one
    return request


def _differences(existing: Trigger, wanted: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    have = existing.settings()
    diff = {}
    for key, value in wanted.items():
        old = have[key]
        if key == "enabled" and old is None:  # still Creating / Updating: cannot tell yet
            continue
        if key == "filter_patterns":
            if not _patterns_equal(old, value):
                diff[key] = (old, value)
        elif old != value:
            diff[key] = (old, value)
    return diff


def _get_mapping(backend: Backend, uuid: str) -> EventSourceMappingConfigurationResponseTypeDef:
    lam = backend.client("lambda")
    try:
        return lam.get_event_source_mapping(UUID=uuid)
    except lam.exceptions.ResourceNotFoundException:
        raise TriggerNotFoundError(uuid) from None


def _wait_state(
    backend: Backend, uuid: str, wanted: Sequence[str], timeout_s: float
) -> EventSourceMappingConfigurationResponseTypeDef:
    """Poll GetEventSourceMapping until its State is one of ``wanted``; bounded by ``timeout_s``."""
    shown = None
    last: Mapping[str, Any] = {}

    def probe() -> EventSourceMappingConfigurationResponseTypeDef | None:
        nonlocal shown, last
        response = last = _get_mapping(backend, uuid)
        state, reason = response.get("State"), response.get("StateTransitionReason")
        if state in wanted:
            return response
        if state != shown:
            backend.progress(
                f"trigger {uuid} is {state}; waiting until it is {' or '.join(wanted)} "
                f"(at most {timeout_s:g} s)"
            )
            shown = state
        if state in ESM_STABLE_STATES and str(reason or "").startswith("PROBLEM"):
            raise StreamkitError(
                f"Trigger {uuid} is {state}, not {' or '.join(wanted)}: {reason} (fix the cause, "
                f"then enable_trigger(backend, {uuid!r}))."
            )
        return None

    return poll_until(
        probe,
        timeout_s=timeout_s,
        interval_s=_poll_delay(backend),
        what=f"trigger {uuid} to be {' or '.join(wanted)}",
        error=lambda _: TriggerTimeoutError(
            uuid,
            " or ".join(wanted),
            last.get("State"),
            last.get("StateTransitionReason"),
            timeout_s,
        ),
    )


def _existing_for(
    backend: Backend, function_name: str, stream_arn: str
) -> list[EventSourceMappingConfigurationTypeDef]:
    lam = backend.client("lambda")
    try:
        return [
            mapping
            for page in lam.get_paginator("list_event_source_mappings").paginate(
                FunctionName=function_name, EventSourceArn=stream_arn
            )
            for mapping in page["EventSourceMappings"]
        ]
    except lam.exceptions.ResourceNotFoundException:
        raise FunctionNotFoundError(function_name) from None


def _create_mapping(
    backend: Backend, request: dict[str, Any]
) -> EventSourceMappingConfigurationResponseTypeDef:
    """CreateEventSourceMapping, retried (AWS only) while a new role's permissions propagate.

    The messages retried are those the Terraform AWS provider retries for the same reason
    (hashicorp/terraform-provider-aws, internal/service/lambda/event_source_mapping.go).
    """
    client = backend.client("lambda")

    def propagating(exc: ClientError) -> bool:
        return isinstance(exc, client.exceptions.InvalidParameterValueException) and any(
            text in error_message(exc)
            for text in (
                "cannot be assumed by Lambda",
                "execution role does not have permissions",
                "ensure the role can perform",
            )
        )

    return retry_while_role_propagates(
        backend,
        lambda: client.create_event_source_mapping(**request),
        transient=propagating,
        retrying=lambda attempt, delays: (
            f"the execution role's permissions are still propagating: retrying "
            f"CreateEventSourceMapping in {delays[attempt]:g} s"
        ),
    )


def create_trigger(
    backend: Backend,
    function_name: str,
    stream_arn: str,
    *,
    starting_position: str = "LATEST",
    batch_size: int = 100,
    maximum_batching_window_s: int = 0,
    parallelization_factor: int = 1,
    maximum_retry_attempts: int = -1,
    maximum_record_age_s: int = -1,
    bisect_batch_on_function_error: bool = False,
    on_failure_destination_arn: str | None = None,
    report_batch_item_failures: bool = False,
    filter_patterns: Sequence[str | Mapping[str, Any]] = (),
    tumbling_window_s: int = 0,
    enabled: bool = True,
    wait: bool = True,
    timeout_s: float = 120,
) -> Trigger:
    """Create the event source mapping that invokes a function with a DynamoDB stream's records.

    Every setting is checked against AWS's ranges before any call (see :func:`mapping_parameters`);
    the defaults are AWS's, except ``starting_position``, which AWS requires.

    Parameters
    ----------
    backend : Backend
    function_name : str
        The function's name or ARN.
    stream_arn : str
        The stream's ARN (``streams.latest_stream_arn(backend, table)``).
    starting_position : str
        ``"LATEST"`` (records written after polling starts) or ``"TRIM_HORIZON"`` (oldest retained).
    batch_size : int
        Records per invocation, 1 to 10,000.
    maximum_batching_window_s : int
        Seconds to gather records before invoking, 0 to 300.
    parallelization_factor : int
        Concurrent batches per shard, 1 to 10; each partition key's records stay in order, and a
        failing batch holds up only the keys of its own batches.
    maximum_retry_attempts : int
        -1 (until the record expires) or 0 to 10,000.
    maximum_record_age_s : int
        -1 (forever) or 60 to 604,800 seconds.
    bisect_batch_on_function_error : bool
        Split a failed batch in two and retry each half.
    on_failure_destination_arn : str, optional
        SQS queue, SNS topic or S3 bucket ARN for records of discarded batches.
    report_batch_item_failures : bool
        Honour the function's ``{"batchItemFailures": [...]}`` (partial batch response).
    filter_patterns : sequence of dict or str
        At most 5 patterns, each a JSON object (dict or JSON string); stored as JSON strings.
    tumbling_window_s : int
        0 (none) or 1 to 900 seconds: the function gets a ``state`` it returns from invocation to
        invocation within a window, and a final invocation per window
        (``isFinalInvokeForWindow``); it must answer ``{"state": ...}`` (:mod:`streamkit.windows`).
    enabled : bool
        ``False`` creates it paused.
    wait : bool
        Wait until it is Enabled (or Disabled when ``enabled=False``).
    timeout_s : float
        Longest wait, in seconds.

    Returns
    -------
    Trigger
        ``action`` is ``"created"``, or ``"unchanged"`` if a mapping from this stream to this
        function already had these settings (none is duplicated). A created one is registered for
        :func:`streamkit.teardown.teardown`.

    Raises
    ------
    InvalidParameterError
        Before any AWS call, naming the valid values.
    StreamkitError
        If a mapping from this stream to this function exists with other settings (AWS allows one
        per pair; use :func:`update_trigger`), if the function does not exist, or if waiting times
        out (the message names the state and its reason).
    StreamNotFoundError
        If the stream does not exist.
    """
    check_function_name("function_name", function_name, arn_ok=True)
    function_name = backend.name(function_name)
    _check_stream_arn(stream_arn)
    wanted = _check_settings(
        {
            "starting_position": starting_position,
            "batch_size": batch_size,
            "maximum_batching_window_s": maximum_batching_window_s,
            "parallelization_factor": parallelization_factor,
            "maximum_retry_attempts": maximum_retry_attempts,
            "maximum_record_age_s": maximum_record_age_s,
            "bisect_batch_on_function_error": bisect_batch_on_function_error,
            "on_failure_destination_arn": on_failure_destination_arn,
            "report_batch_item_failures": report_batch_item_failures,
            "filter_patterns": filter_patterns,
            "tumbling_window_s": tumbling_window_s,
            "enabled": enabled,
        }
    )
    check_wait(wait, timeout_s)
    target = ("Enabled",) if enabled else ("Disabled",)

    def existing(response: Mapping[str, Any]) -> Trigger:
        if wait and response.get("State") not in ESM_STABLE_STATES:  # settle it before comparing
            response = _wait_state(backend, response["UUID"], ESM_STABLE_STATES, timeout_s)
        trigger = Trigger.from_response(response, "unchanged")
        diff = _differences(trigger, wanted)
        if diff:
            raise TriggerExistsError(trigger.uuid, function_name, stream_arn, diff)
        return trigger

    for mapping in _existing_for(backend, function_name, stream_arn):
        return existing(mapping)

    # Send what differs from AWS's defaults (and the required StartingPosition), as the CLI does.
    changed = {
        key: value
        for key, value in wanted.items()
        if key == "starting_position" or value != by_argument(key).default
    }
    request = {
        "FunctionName": function_name,
        "EventSourceArn": stream_arn,
        **_to_request(changed),
        "Tags": backend.tags,
    }
    lam = backend.client("lambda")
    try:
        response = _create_mapping(backend, request)
    except lam.exceptions.ResourceConflictException as exc:
        message = error_message(exc)
        found = re.search(r"UUID\s+([0-9a-fA-F-]{36})", message)
        if found:  # made meanwhile by someone else: judge it like one found by the listing
            return existing(_get_mapping(backend, found.group(1)))
        raise StreamkitError(
            f"A trigger from {stream_arn} to {function_name} already exists ({message}); "
            "find it with list_triggers and change it with update_trigger."
        ) from exc
    except lam.exceptions.ResourceNotFoundException as exc:
        raise FunctionNotFoundError(function_name) from exc
    except lam.exceptions.InvalidParameterValueException as exc:
        if error_message(exc) == "Function does not exist":  # AWS's answer for a missing function
            raise FunctionNotFoundError(function_name) from exc
        if "Stream not found" not in error_message(exc):
            raise
        raise StreamNotFoundError(
            f"Stream {stream_arn} does not exist (or its table was deleted): get the current one "
            "with streams.latest_stream_arn(backend, table)."
        ) from exc
    uuid = response["UUID"]
    if wait and response.get("State") not in target:
        response = _wait_state(backend, uuid, target, timeout_s)
    if wait and enabled and starting_position == "LATEST" and backend.kind == "aws":
        _wait_for_first_poll(backend, uuid)
    return Trigger.from_response(response, "created")


def _wait_for_first_poll(backend: Backend, uuid: str) -> None:
    """Give a new LATEST mapping time to start polling before the caller writes (AWS only).

    AWS says polling may start minutes after a mapping is created and that a LATEST mapping may
    miss what is written before; it gives no signal when polling starts. So the kit waits a fixed,
    bounded time (:data:`ESM_LATEST_FIRST_POLL_WAIT_S`), showing it, and the notebooks' reads of
    the logs wait for what they expect. The embedded backend polls from the moment of Enabled.
    """
    total = remaining = ESM_LATEST_FIRST_POLL_WAIT_S
    backend.progress(
        f"trigger {uuid} is Enabled; giving Lambda {remaining:g} s to start polling the stream "
        "(a LATEST trigger misses writes made before its first poll; TRIM_HORIZON misses none)"
    )

    # A countdown rather than a probe: nothing tells when Lambda first polls. The pauses count
    # the seconds down (a line every _FIRST_POLL_PROGRESS_S); the wait ends when they are spent.
    def done() -> bool | None:
        if remaining <= 0:
            return True
        if remaining < total:
            backend.progress(f"  {remaining:g} s to go")
        return None

    def pause(_attempt: int) -> float:
        nonlocal remaining
        step = min(_FIRST_POLL_PROGRESS_S, remaining)
        remaining -= step
        return step

    poll_until(
        done,
        timeout_s=total + _FIRST_POLL_PROGRESS_S,  # never reached: the countdown ends first
        interval_s=pause,
        what=f"Lambda's first poll of trigger {uuid}",
    )


def update_trigger(
    backend: Backend,
    uuid: str,
    *,
    function_name: str | None = None,
    batch_size: int | None = None,
    maximum_batching_window_s: int | None = None,
    parallelization_factor: int | None = None,
    maximum_retry_attempts: int | None = None,
    maximum_record_age_s: int | None = None,
    bisect_batch_on_function_error: bool | None = None,
    on_failure_destination_arn: str | None = None,
    report_batch_item_failures: bool | None = None,
    filter_patterns: Sequence[str | Mapping[str, Any]] | None = None,
    tumbling_window_s: int | None = None,
    enabled: bool | None = None,
    wait: bool = True,
    timeout_s: float = 120,
) -> Trigger:
    """Change a trigger's settings in place (it keeps its position in the stream).

    Only the settings given are changed; ``None`` leaves one as it is. The stream and the starting
    position cannot be changed (delete the trigger and create another). Ranges are those of
    :func:`create_trigger`.

    Parameters
    ----------
    backend : Backend
    uuid : str
        The trigger (``Trigger.uuid``).
    function_name : str, optional
        Invoke another function from now on.
    on_failure_destination_arn : str, optional
        A new destination; ``""`` removes it.
    filter_patterns : sequence, optional
        New patterns; ``[]`` removes every filter.
    enabled : bool, optional
        Pause (``False``) or resume (``True``).
    wait : bool
        Wait until the update is applied (state Enabled or Disabled again).
    timeout_s : float
        Longest wait, in seconds.
    batch_size, maximum_batching_window_s, parallelization_factor, maximum_retry_attempts, maximum_record_age_s, bisect_batch_on_function_error, report_batch_item_failures, tumbling_window_s
        As in :func:`create_trigger`.

    Returns
    -------
    Trigger
        With ``action="updated"``.
    """
    if not isinstance(uuid, str) or not uuid:
        raise InvalidParameterError("uuid", uuid, "a trigger's UUID (Trigger.uuid)")
    given = {
        "batch_size": batch_size,
        "maximum_batching_window_s": maximum_batching_window_s,
        "parallelization_factor": parallelization_factor,
        "maximum_retry_attempts": maximum_retry_attempts,
        "maximum_record_age_s": maximum_record_age_s,
        "bisect_batch_on_function_error": bisect_batch_on_function_error,
        "report_batch_item_failures": report_batch_item_failures,
        "filter_patterns": filter_patterns,
        "tumbling_window_s": tumbling_window_s,
        "enabled": enabled,
    }
    settings = _check_settings({k: v for k, v in given.items() if v is not None})
    if on_failure_destination_arn is not None:
        settings["on_failure_destination_arn"] = (
            check_destination(on_failure_destination_arn) if on_failure_destination_arn else None
        )
    request = _to_request(settings, removing=True)
    if function_name is not None:
        request["FunctionName"] = check_function_name("function_name", function_name, arn_ok=True)
    if not request:
        raise InvalidParameterError(
            "settings",
            "none",
            "at least one setting to change: "
            + ", ".join(["function_name"] + [s.argument for s in SETTINGS[3:]]),
        )
    check_wait(wait, timeout_s)
    client = backend.client("lambda")
    busy: list[ClientError] = []

    def update() -> EventSourceMappingConfigurationResponseTypeDef | None:
        try:
            return client.update_event_source_mapping(UUID=uuid, **request)
        except client.exceptions.ResourceNotFoundException as exc:
            if "Function" in error_message(exc) and function_name is not None:
                raise FunctionNotFoundError(function_name) from exc
            raise TriggerNotFoundError(uuid) from exc
        except client.exceptions.InvalidParameterValueException as exc:
            if error_message(exc) == "Function does not exist" and function_name is not None:
                raise FunctionNotFoundError(function_name) from exc
            raise
        except client.exceptions.ResourceInUseException as exc:
            # A mapping that is being created or changed takes no update yet: wait for it.
            busy[:] = [exc]
            return None

    response = poll_until(
        update,
        timeout_s=timeout_s,
        interval_s=_poll_delay(backend),
        what=f"trigger {uuid} to take an update",
        error=lambda _: busy[-1],  # still busy at the deadline: AWS's answer, as it is
    )
    if "UUID" not in response:  # an endpoint that answers an unknown UUID with an empty body
        response = _get_mapping(backend, uuid)
    if wait:
        target: Sequence[str] = ESM_STABLE_STATES
        if enabled is not None:
            target = ("Enabled",) if enabled else ("Disabled",)
        if response.get("State") not in target:
            response = _wait_state(backend, uuid, target, timeout_s)
    return Trigger.from_response(response, "updated")


def enable_trigger(backend: Backend, uuid: str, *, timeout_s: float = 120) -> Trigger:
    """Resume a paused trigger and wait until it is Enabled (it resumes where it stopped)."""
    return update_trigger(backend, uuid, enabled=True, timeout_s=timeout_s)


def disable_trigger(backend: Backend, uuid: str, *, timeout_s: float = 120) -> Trigger:
    """Pause a trigger and wait until it is Disabled (records wait in the stream, up to 24 h)."""
    return update_trigger(backend, uuid, enabled=False, timeout_s=timeout_s)


def describe_trigger(backend: Backend, uuid: str) -> Trigger:
    """A trigger's current state and settings.

    Raises
    ------
    StreamkitError
        (a ``LookupError``) if no mapping has this UUID.
    """
    if not isinstance(uuid, str) or not uuid:
        raise InvalidParameterError("uuid", uuid, "a trigger's UUID (Trigger.uuid)")
    return Trigger.from_response(_get_mapping(backend, uuid))


def delete_trigger(
    backend: Backend, uuid: str, *, wait: bool = True, timeout_s: float = 120
) -> bool:
    """Delete a trigger (its function and stream stay).

    Parameters
    ----------
    backend : Backend
    uuid : str
    wait : bool
        Wait until AWS no longer knows it (GetEventSourceMapping answers ResourceNotFoundException).
    timeout_s : float
        Longest wait, in seconds.

    Returns
    -------
    bool
        ``False`` if it did not exist.
    """
    if not isinstance(uuid, str) or not uuid:
        raise InvalidParameterError("uuid", uuid, "a trigger's UUID (Trigger.uuid)")
    check_wait(wait, timeout_s)
    client = backend.client("lambda")
    began = waiting._clock()
    busy: list[ClientError] = []

    def delete() -> bool | None:
        try:
            response = client.delete_event_source_mapping(UUID=uuid)
            if "UUID" not in response:  # an endpoint that answers an unknown UUID with nothing
                _get_mapping(backend, uuid)
        except (TriggerNotFoundError, client.exceptions.ResourceNotFoundException):
            return False
        except client.exceptions.ResourceInUseException as exc:
            # A mapping that is being created or updated cannot be deleted yet.
            busy[:] = [exc]
            return None
        return True

    existed = poll_until(
        delete,
        timeout_s=timeout_s,
        interval_s=_poll_delay(backend),
        what=f"trigger {uuid} to take its deletion",
        error=lambda _: busy[-1],  # still busy at the deadline: AWS's answer, as it is
    )
    if not existed:
        return False
    if wait:
        last: Mapping[str, Any] = {}

        def gone() -> bool | None:
            nonlocal last
            try:
                last = client.get_event_source_mapping(UUID=uuid)
            except client.exceptions.ResourceNotFoundException:
                return True
            return None

        poll_until(
            gone,
            # one timeout for both waits, as the docstring says
            timeout_s=max(0.0, timeout_s - (waiting._clock() - began)),
            interval_s=_poll_delay(backend),
            what=f"trigger {uuid} to be deleted",
            error=lambda _: TriggerTimeoutError(
                uuid,
                "its deletion",
                last.get("State"),
                last.get("StateTransitionReason"),
                timeout_s,
            ),
        )
    return True


def list_triggers(
    backend: Backend, function_name: str | None = None, stream_arn: str | None = None
) -> list[Trigger]:
    """The DynamoDB stream triggers, optionally of one function and/or one stream.

    Mappings of other event sources (SQS, Kinesis...) are left out.
    """
    args: dict[str, Any] = {}
    if function_name is not None:
        check_function_name("function_name", function_name, arn_ok=True)
        args["FunctionName"] = function_name = backend.name(function_name)
    if stream_arn is not None:
        args["EventSourceArn"] = _check_stream_arn(stream_arn)
    lam = backend.client("lambda")
    try:
        pages = lam.get_paginator("list_event_source_mappings").paginate(**args)
        return [
            Trigger.from_response(mapping)
            for page in pages
            for mapping in page["EventSourceMappings"]
            if STREAM_ARN_PATTERN.fullmatch(mapping.get("EventSourceArn", ""))
        ]
    except lam.exceptions.ResourceNotFoundException:
        if function_name is None:
            raise
        raise FunctionNotFoundError(function_name) from None
