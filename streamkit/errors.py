"""Errors raised by streamkit.

Every error streamkit raises on purpose derives from :class:`StreamkitError`, so a notebook or a test
can catch them all with one ``except``. Messages always name the valid alternatives; useful state is
kept on the exception (boto3's style).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "StreamkitError",
    "InvalidParameterError",
    "BackendError",
    "CredentialsMissingError",
    "TableNotFoundError",
    "StreamNotFoundError",
    "StreamAlreadyEnabledError",
    "MalformedRecordError",
    "SettleTimeoutError",
    "PricingError",
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


class SettleTimeoutError(StreamkitError, TimeoutError):
    """``settle()`` ran out of time before every consumer caught up."""


class PricingError(StreamkitError, ValueError):
    """Input to the cost model is out of range (negative, NaN, unknown region...)."""
