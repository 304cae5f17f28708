"""Errors raised by streamkit.

Every error streamkit raises on purpose derives from :class:`StreamkitError`, so a notebook or a test
can catch them all with one ``except``. Messages always name the valid alternatives; useful state is
kept on the exception (boto3's style).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "StreamkitError",
    "InvalidParameterError",
    "BackendError",
    "CredentialsMissingError",
    "TableNotFoundError",
    "StreamNotFoundError",
    "StreamAlreadyEnabledError",
    "MalformedRecordError",
    "WaitTimeoutError",
    "SettleTimeoutError",
    "PricingError",
    "TriggerExistsError",
    "TriggerNotFoundError",
    "TriggerTimeoutError",
    "FunctionNotFoundError",
    "LocalOnlyError",
    "NotOwnedError",
    "TeardownError",
]


class StreamkitError(Exception):
    """Base class of every error streamkit raises."""


class InvalidParameterError(StreamkitError, ValueError):
    """A parameter has a value streamkit (or AWS) does not accept.

    Attributes
    ----------
    name : str
        The parameter's name.
    value : object
        The value that was given.
    valid : tuple of str
        The valid values (or a description of the valid range), as shown in the message.
    """

    def __init__(self, name: str, value: object, valid: Iterable[object] | str):
        self.name = name
        self.value = value
        if isinstance(valid, str):
            self.valid: tuple[str, ...] = (valid,)
            shown = valid
        else:
            self.valid = tuple(str(v) for v in valid)
            shown = "one of " + ", ".join(self.valid)
        super().__init__(f"Invalid {name} {value!r}: expected {shown}.")


class BackendError(StreamkitError):
    """The backend could not be started, reached or chosen."""


class CredentialsMissingError(BackendError):
    """Real AWS was asked for, but no credentials were found."""


class TableNotFoundError(StreamkitError, LookupError):
    """The table does not exist (in this account and region)."""

    def __init__(self, table_name: str, region: str | None = None):
        self.table_name = table_name
        self.region = region
        where = f" in {region}" if region else ""
        super().__init__(f"Table {table_name!r} does not exist{where}. Create it first.")


class StreamNotFoundError(StreamkitError, LookupError):
    """A table has no stream, or a stream ARN does not exist."""


class StreamAlreadyEnabledError(StreamkitError):
    """A stream with a different view type is already enabled on the table.

    Attributes
    ----------
    table_name : str
    current_view_type : str
    requested_view_type : str
    stream_arn : str
    """

    def __init__(self, table_name: str, current: str, requested: str, stream_arn: str):
        self.table_name = table_name
        self.current_view_type = current
        self.requested_view_type = requested
        self.stream_arn = stream_arn
        super().__init__(
            f"Table {table_name!r} already has a {current} stream ({stream_arn}); a stream's view type "
            f"cannot be changed in place. Pass replace=True to disable it and enable a new "
            f"{requested} stream (the stream ARN changes), or keep view_type={current!r}."
        )


class MalformedRecordError(StreamkitError, ValueError):
    """A stream record or Lambda event does not have the shape AWS gives it."""


class WaitTimeoutError(StreamkitError, TimeoutError):
    """Something waited for (a table, a stream, logs, records, a trigger) did not happen in time.

    Every wait in streamkit goes through :func:`streamkit.waiting.poll_until`, which raises this
    (or a subclass) with a message naming what it waited for and what it saw last.
    """


class SettleTimeoutError(WaitTimeoutError):
    """``settle()`` ran out of time before every consumer caught up."""


class PricingError(StreamkitError, ValueError):
    """Input to the cost model is out of range (negative, NaN, unknown region...)."""


class TriggerExistsError(StreamkitError):
    """A mapping for this function and stream exists with other settings.

    Attributes
    ----------
    uuid : str
        The existing mapping.
    differences : dict
        ``{setting: (existing, requested)}``.
    """

    def __init__(self, uuid: str, function: str, stream_arn: str, differences: dict[str, Any]):
        self.uuid = uuid
        self.differences = differences
        shown = "; ".join(
            f"{k}: {old!r} there, {new!r} asked" for k, (old, new) in differences.items()
        )
        if "starting_position" in differences:
            how = (
                "the starting position of a mapping cannot be changed: delete_trigger(backend, "
                f"{uuid!r}) and create it again"
            )
        else:
            how = f"change it with update_trigger(backend, {uuid!r}, ...)"
        super().__init__(
            f"A trigger from {stream_arn} to {function} already exists (UUID {uuid}) with other "
            f"settings ({shown}). A stream and function pair has one mapping: {how}."
        )


class TriggerNotFoundError(StreamkitError, LookupError):
    """No mapping has this UUID."""

    def __init__(self, uuid: str):
        self.uuid = uuid
        super().__init__(
            f"No trigger (event source mapping) with UUID {uuid!r}: list them with "
            "list_triggers(backend)."
        )


class TriggerTimeoutError(WaitTimeoutError):
    """A mapping did not reach the state waited for in time.

    Attributes
    ----------
    uuid : str
    state : str or None
        The last state seen (``None``: still there while waiting for its deletion).
    reason : str or None
        The last ``StateTransitionReason`` seen.
    """

    def __init__(
        self, uuid: str, wanted: str, state: str | None, reason: str | None, timeout: float
    ):
        self.uuid = uuid
        self.state = state
        self.reason = reason
        super().__init__(
            f"Trigger {uuid} is still {state!r} (StateTransitionReason: {reason!r}) after "
            f"{timeout:g} s, waiting for {wanted}. AWS can take minutes to change a mapping's "
            "state: wait longer (timeout_s=...) or check it with describe_trigger."
        )


class FunctionNotFoundError(StreamkitError, LookupError):
    """The function of a trigger does not exist."""

    def __init__(self, function: str):
        self.function_name = function
        super().__init__(
            f"Function {function!r} does not exist: deploy it first with "
            "deploy_function(backend, name, source_dir, role_arn=...)."
        )


class LocalOnlyError(StreamkitError):
    """A step that exists only on the embedded backend was called on another backend."""

    def __init__(self, what: str, instead: str):
        self.what = what
        super().__init__(
            f"{what} exists only on the embedded backend (streamkit.connect('local')); on AWS, "
            f"look at {instead} instead."
        )


class NotOwnedError(StreamkitError):
    """A resource with the kit's name exists but is not this run's: it has no run tag (streamkit
    did not create it), or the tag names another run.

    streamkit never changes or deletes what this run did not create.

    Attributes
    ----------
    kind, resource_name : str
    run : str or None
        The run its tag names (None: no tag).
    """

    def __init__(
        self, kind: str, name: str, tag_key: str, run: str | None = None, this_run: str = ""
    ):
        self.kind = kind
        self.resource_name = name
        self.run = run
        if run:
            super().__init__(
                f"The {kind} {name!r} belongs to another streamkit run: its {tag_key!r} tag is "
                f"{run!r}, this run is {this_run!r}. streamkit will not change or delete it from "
                f"this run. Delete that run's resources (streamkit teardown --run {run} --yes), "
                f"continue that run (streamkit.connect(..., run_id={run!r})), or connect with "
                "another prefix (streamkit.connect(..., prefix='...'))."
            )
            return
        super().__init__(
            f"The {kind} {name!r} exists but has no {tag_key!r} tag, so streamkit did not create "
            "it and will not change or delete it. Delete or rename it yourself, or connect with "
            "another prefix (streamkit.connect(..., prefix='...'))."
        )


class TeardownError(StreamkitError):
    """Teardown could not delete everything; it tried every resource before raising.

    Attributes
    ----------
    report : pandas.DataFrame
        One row per resource found, as :func:`streamkit.teardown.teardown` returns it, with what
        happened to each (the failed ones included).
    failures : list of str
        The names of the resources that could not be deleted.
    """

    def __init__(self, failures: list[str], report: Any):
        self.failures = list(failures)
        self.report = report
        super().__init__(
            f"teardown could not delete {len(self.failures)} resource(s): "
            f"{', '.join(self.failures)}; see error.report, fix the cause (often a missing "
            "permission) and run it again."
        )
