"""Event source mappings on DynamoDB streams, as the embedded Lambda service keeps them.

A :class:`Mapping` holds what the Lambda API reports (settings with AWS's defaults, state, last
processing result) and what the local Lambda service needs to resume after a restart (each shard's
checkpoint, where LATEST started). Mappings are created and changed through the Lambda API
(:mod:`.responses`) and moved through their states by the service (:mod:`.service`).
Stores are kept per account and region (:func:`mapping_store_for`); callers hold
:data:`streamkit.local.state.LOCK`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ...filters import validate_filter_criteria
from .. import state as _state

__all__ = [
    "BUSY_STATES",
    "MAPPING_LISTENERS",
    "LambdaApiError",
    "Mapping",
    "MappingState",
    "MappingStore",
    "mapping_store_for",
    "mapping_stores",
    "mappings_changed",
    "reset_mapping_stores",
    "validation_error",
]


class MappingState(StrEnum):
    """The ``State`` of an event source mapping (Lambda API Reference,
    EventSourceMappingConfiguration)."""

    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


#: States in which a mapping cannot be updated or deleted (AWS answers ResourceInUseException).
BUSY_STATES = frozenset(
    {
        MappingState.CREATING,
        MappingState.ENABLING,
        MappingState.UPDATING,
        MappingState.DISABLING,
        MappingState.DELETING,
    }
)


class LambdaApiError(Exception):
    """An error as the Lambda REST API returns it: status, ``x-amzn-ErrorType`` and message."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message

    def response(self) -> tuple[int, dict[str, str], str]:
        # The body keys of AWS's answers recorded by LocalStack: request validation answers with
        # {"message"} alone, ResourceNotFoundException with {"Type", "Message"}, the others with
        # {"Type", "message"}.
        if self.kind == "ValidationException":
            fields: dict[str, str] = {"message": self.message}
        elif self.kind == "ResourceNotFoundException":
            fields = {"Type": "User", "Message": self.message}
        else:
            fields = {"Type": "User", "message": self.message}
        body = json.dumps(fields)
        return (
            self.status,
            {"Content-Type": "application/json", "x-amzn-ErrorType": self.kind},
            body,
        )


def invalid(message: str) -> LambdaApiError:
    """AWS's ``InvalidParameterValueException`` (HTTP 400) with ``message``."""
    return LambdaApiError(400, "InvalidParameterValueException", message)


def validation_error(errors: list[str]) -> LambdaApiError:
    """AWS's request validation answer (``ValidationException``, HTTP 400): "1 validation error
    detected: Value ... at '...' failed to satisfy constraint: ...", the errors joined by "; "."""
    count = len(errors)
    head = f"{count} validation error{'s' if count > 1 else ''} detected: "
    return LambdaApiError(400, "ValidationException", head + "; ".join(errors))


def not_found(message: str = "The resource you requested does not exist.") -> LambdaApiError:
    """AWS's ``ResourceNotFoundException`` (HTTP 404)."""
    return LambdaApiError(404, "ResourceNotFoundException", message)


@dataclass
class Mapping:
    """One event source mapping on a DynamoDB stream, with the state Lambda reports for it."""

    uuid: str
    arn: str
    function_arn: str
    event_source_arn: str
    settings: dict[str, Any]
    enabled: bool
    state: MappingState = MappingState.CREATING
    state_transition_reason: str = "User action"
    last_processing_result: str = "No records processed"
    last_modified: float = field(default_factory=lambda: _state.now())
    # kept with the mapping (backend state), so a restarted local Lambda service resumes from them
    checkpoints: dict[str, int] = field(default_factory=dict)  # shard id -> last sequence done
    tags: dict[str, str] = field(default_factory=dict)  # CreateEventSourceMapping's Tags
    enabled_at_sequence: int | None = None  # where LATEST starts
    _filters: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _filters_key: str | None = field(default=None, repr=False)

    @property
    def function_name(self) -> str:
        """The function's name (the last part of its ARN)."""
        return self.function_arn.rsplit(":", 1)[-1]

    @property
    def filters(self) -> list[dict[str, Any]]:
        """The parsed filter patterns (none: every record)."""
        criteria = self.settings.get("FilterCriteria") or None
        key = json.dumps(criteria, sort_keys=True)
        if self._filters_key != key:
            self._filters, self._filters_key = validate_filter_criteria(criteria), key
        return self._filters

    def response(self) -> dict[str, Any]:
        """The mapping as the Lambda API answers with it (AWS's field order)."""
        s = self.settings
        body: dict[str, Any] = {
            "UUID": self.uuid,
            "StartingPosition": s["StartingPosition"],
            "BatchSize": s["BatchSize"],
            "MaximumBatchingWindowInSeconds": s["MaximumBatchingWindowInSeconds"],
            "ParallelizationFactor": s["ParallelizationFactor"],
            "EventSourceArn": self.event_source_arn,
        }
        if (s.get("FilterCriteria") or {}).get("Filters"):  # AWS leaves out {"Filters": []}
            body["FilterCriteria"] = s["FilterCriteria"]
        body.update(
            {
                "FunctionArn": self.function_arn,
                "LastModified": self.last_modified,
                "LastProcessingResult": self.last_processing_result,
                "State": str(self.state),
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
    """Every DynamoDB-stream mapping of one account and region, by UUID."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.mappings: dict[str, Mapping] = {}


_STORES: dict[tuple[str, str], MappingStore] = {}


def mapping_store_for(account_id: str, region: str) -> MappingStore:
    """The mapping store of an account and region (created on first use)."""
    key = (account_id, region)
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = MappingStore(account_id, region)
    return store


def mapping_stores(account_id: str) -> list[MappingStore]:
    """Every mapping store of an account, one per region used."""
    return [store for (account, _), store in list(_STORES.items()) if account == account_id]


def reset_mapping_stores() -> None:
    """Forget every mapping (with the backend's reset)."""
    _STORES.clear()


#: Called with no argument after every change made through the mapping API (the local Lambda
#: service registers its wake-up here, so a change is seen at once, not at the next poll).
MAPPING_LISTENERS: list[Any] = []


def mappings_changed() -> None:
    """Tell every listener that a mapping was created, changed or deleted."""
    for listener in list(MAPPING_LISTENERS):
        listener()
