"""The settings of an event source mapping on a DynamoDB stream: one spec for the kit and its emulator.

Each setting has its API name, the keyword :func:`streamkit.triggers.create_trigger` takes for it,
AWS's default, its valid values and what it means. Both sides validate through this module:

* the helpers (:mod:`streamkit.triggers`) with :func:`check_argument`, which raises
  :class:`~streamkit.errors.InvalidParameterError` naming the keyword and its valid values;
* the embedded backend's mapping API (:mod:`streamkit.local.esm.responses`) takes
  :data:`AWS_DEFAULTS` and each setting's :attr:`Setting.model_range` from here, and refuses
  settings in AWS's own words (``docs/parity.md``, "API answers, word for word").

Pure model: no AWS calls, pandas only inside :func:`mapping_parameters`. Sources: Lambda API
Reference, CreateEventSourceMapping; AWS-FACTS §2.1; the limits themselves live in
:mod:`streamkit.limits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .errors import InvalidParameterError
from .limits import (
    BUCKET_ARN_PATTERN,
    DESTINATION_KINDS,
    ESM_BATCH_SIZE_DEFAULT,
    ESM_BATCH_SIZE_RANGE,
    ESM_BATCHING_WINDOW_MAX_S,
    ESM_FUNCTION_RESPONSE_TYPES,
    ESM_MAX_FILTERS,
    ESM_PARALLELIZATION_RANGE,
    ESM_RECORD_AGE_RANGE_S,
    ESM_RETRY_ATTEMPTS_RANGE,
    ESM_STARTING_POSITIONS,
    ESM_TUMBLING_WINDOW_RANGE_S,
    QUEUE_ARN_PATTERN,
    TOPIC_ARN_PATTERN,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "AWS_DEFAULTS",
    "REQUIRED",
    "SETTINGS",
    "Setting",
    "by_api",
    "by_argument",
    "check_argument",
    "is_destination_arn",
    "mapping_parameters",
]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a setting that has none (it must be given).
REQUIRED: Final = _Required()


@dataclass(frozen=True)
class Setting:
    """One mapping setting.

    Attributes
    ----------
    api : str
        Its name in the Lambda API (``DestinationConfig.OnFailure.Destination`` for nested ones).
    argument : str
        The keyword :func:`~streamkit.triggers.create_trigger` takes for it.
    default : object
        AWS's default, as the kit represents it; :data:`REQUIRED` if there is none.
    valid : str
        Its valid values, as the parameter table shows them.
    meaning : str
        What it does, in one or two sentences.
    expected : str
        Its valid values as an error names them (defaults to ``valid``).
    low, high : int or None
        The range of a whole-number setting (inclusive).
    forever : bool
        Whether -1 is valid besides the range (``MaximumRecordAgeInSeconds``).
    """

    api: str
    argument: str
    default: Any
    valid: str
    meaning: str
    expected: str = ""
    low: int | None = None
    high: int | None = None
    forever: bool = False

    @property
    def model_range(self) -> tuple[int, int]:
        """The range AWS's request validation checks first (-1 counts where it is valid); a value
        inside it but outside :attr:`low`..:attr:`high` is refused by the service afterwards."""
        assert self.low is not None and self.high is not None
        return (-1 if self.forever else self.low, self.high)

    def in_range(self, value: Any) -> bool:
        """Whether ``value`` is a whole number this setting accepts (booleans are not numbers)."""
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        assert self.low is not None and self.high is not None
        return self.low <= value <= self.high or (self.forever and value == -1)


_B_LOW, _B_HIGH = ESM_BATCH_SIZE_RANGE
_P_LOW, _P_HIGH = ESM_PARALLELIZATION_RANGE
_R_LOW, _R_HIGH = ESM_RETRY_ATTEMPTS_RANGE
_A_LOW, _A_HIGH = ESM_RECORD_AGE_RANGE_S
_T_LOW, _T_HIGH = ESM_TUMBLING_WINDOW_RANGE_S

#: Every setting of a DynamoDB stream mapping, in the order the parameter table shows them.
SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        "EventSourceArn",
        "stream_arn",
        REQUIRED,
        "a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label>)",
        "The stream to read. A stream's ARN changes when it is re-enabled: a mapping then needs "
        "creating again.",
    ),
    Setting(
        "FunctionName",
        "function_name",
        REQUIRED,
        "a function name (1-64 letters, digits, - and _) or ARN",
        "The function invoked with each batch.",
    ),
    Setting(
        "StartingPosition",
        "starting_position",
        REQUIRED,
        " or ".join(ESM_STARTING_POSITIONS),
        "Where reading starts: TRIM_HORIZON = oldest retained record (up to 24 h back), LATEST = "
        "records written after the mapping starts polling. Cannot be changed later.",
        expected=" or ".join(ESM_STARTING_POSITIONS)
        + " (AT_TIMESTAMP is not for DynamoDB streams)",
    ),
    Setting(
        "BatchSize",
        "batch_size",
        ESM_BATCH_SIZE_DEFAULT,
        f"{_B_LOW} to {_B_HIGH:,} records",
        "Most records in one invocation (fewer if the 6 MB payload limit comes first).",
        expected=f"a whole number of records from {_B_LOW} to {_B_HIGH:,}",
        low=_B_LOW,
        high=_B_HIGH,
    ),
    Setting(
        "MaximumBatchingWindowInSeconds",
        "maximum_batching_window_s",
        0,
        f"0 to {ESM_BATCHING_WINDOW_MAX_S} whole seconds",
        "How long to gather records before invoking; 0 invokes as soon as records are read.",
        expected=f"whole seconds from 0 to {ESM_BATCHING_WINDOW_MAX_S}",
        low=0,
        high=ESM_BATCHING_WINDOW_MAX_S,
    ),
    Setting(
        "ParallelizationFactor",
        "parallelization_factor",
        1,
        f"{_P_LOW} to {_P_HIGH} batches",
        "Concurrent batches per shard (order is kept per partition key).",
        expected=f"a whole number from {_P_LOW} to {_P_HIGH}",
        low=_P_LOW,
        high=_P_HIGH,
    ),
    Setting(
        "MaximumRetryAttempts",
        "maximum_retry_attempts",
        -1,
        f"-1 (until the record expires) or 0 to {_R_HIGH:,}",
        "Retries of a failed batch; with -1 a bad record can block its shard for 24 h.",
        expected=f"-1 (retry until the record expires) or 0 to {_R_HIGH:,}",
        low=_R_LOW,
        high=_R_HIGH,
    ),
    Setting(
        "MaximumRecordAgeInSeconds",
        "maximum_record_age_s",
        -1,
        f"-1 (forever) or {_A_LOW} to {_A_HIGH:,} seconds",
        "Records older than this are discarded (sent to the on-failure destination) unprocessed.",
        expected=f"-1 (forever) or whole seconds from {_A_LOW} to {_A_HIGH:,}",
        low=_A_LOW,
        high=_A_HIGH,
        forever=True,
    ),
    Setting(
        "BisectBatchOnFunctionError",
        "bisect_batch_on_function_error",
        False,
        "true or false",
        "Split a failed batch in two and retry the halves (does not count as a retry).",
    ),
    Setting(
        "DestinationConfig.OnFailure.Destination",
        "on_failure_destination_arn",
        None,
        DESTINATION_KINDS,
        "Where a record of each discarded batch goes (SQS/SNS: metadata only; S3: the records too).",
    ),
    Setting(
        "FunctionResponseTypes",
        "report_batch_item_failures",
        False,
        f"[] or {list(ESM_FUNCTION_RESPONSE_TYPES)} (report_batch_item_failures=True)",
        'Let the function answer {"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]} '
        "so only the failed records and those after them are retried.",
    ),
    Setting(
        "FilterCriteria",
        "filter_patterns",
        (),
        f"up to {ESM_MAX_FILTERS} patterns, each a JSON object (EventBridge pattern syntax)",
        "Only records matching at least one pattern invoke the function; others are skipped.",
    ),
    Setting(
        "TumblingWindowInSeconds",
        "tumbling_window_s",
        0,
        f"{_T_LOW} to {_T_HIGH} seconds (0 = none)",
        "Aggregate state across invocations over windows of this length.",
        expected=f"whole seconds from {_T_LOW} to {_T_HIGH} (0 = no window)",
        low=_T_LOW,
        high=_T_HIGH,
    ),
    Setting(
        "Enabled",
        "enabled",
        True,
        "true or false",
        "False pauses the mapping; enabling it again resumes where it stopped.",
    ),
)

_BY_ARGUMENT: Final = {s.argument: s for s in SETTINGS}
_BY_API: Final = {s.api: s for s in SETTINGS}

#: What the Lambda API answers for a setting a DynamoDB stream mapping was created without (AWS
#: echoes every default; AWS-FACTS §2.1). Keys are API names.
AWS_DEFAULTS: Final[dict[str, Any]] = {
    "BatchSize": ESM_BATCH_SIZE_DEFAULT,
    "MaximumBatchingWindowInSeconds": 0,
    "ParallelizationFactor": 1,
    "FilterCriteria": None,
    "DestinationConfig": {"OnFailure": {}},
    "MaximumRecordAgeInSeconds": -1,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": -1,
    "TumblingWindowInSeconds": 0,
    "FunctionResponseTypes": [],
}


def by_argument(argument: str) -> Setting:
    """The setting a :func:`~streamkit.triggers.create_trigger` keyword stands for."""
    try:
        return _BY_ARGUMENT[argument]
    except KeyError:
        raise InvalidParameterError("setting", argument, sorted(_BY_ARGUMENT)) from None


def by_api(api: str) -> Setting:
    """The setting of an API name (``BatchSize``, ...)."""
    try:
        return _BY_API[api]
    except KeyError:
        raise InvalidParameterError("setting", api, sorted(_BY_API)) from None


def check_argument(argument: str, value: Any) -> Any:
    """``value`` if the whole-number or true/false setting ``argument`` accepts it.

    Raises
    ------
    InvalidParameterError
        Naming the keyword and its valid values.
    """
    setting = by_argument(argument)
    if setting.low is not None:
        if not setting.in_range(value):
            raise InvalidParameterError(argument, value, setting.expected or setting.valid)
        return int(value)
    if setting.default is True or setting.default is False:
        if not isinstance(value, bool):
            raise InvalidParameterError(argument, value, (True, False))
        return value
    raise InvalidParameterError("setting", argument, "a whole-number or true/false setting")


def is_destination_arn(value: Any) -> bool:
    """Whether ``value`` is an ARN an on-failure destination of a stream mapping can have: an SQS
    queue, an SNS topic or an S3 bucket (Lambda API Reference, ``OnFailure``)."""
    return isinstance(value, str) and any(
        p.fullmatch(value) for p in (QUEUE_ARN_PATTERN, TOPIC_ARN_PATTERN, BUCKET_ARN_PATTERN)
    )


def mapping_parameters() -> pd.DataFrame:
    """The event source mapping parameters for a DynamoDB stream, as a table for the notebook.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``parameter`` (API name), ``argument`` (the keyword of
        :func:`~streamkit.triggers.create_trigger`), ``aws_default``, ``valid_values`` and
        ``meaning``. Sources: Lambda API Reference, CreateEventSourceMapping; AWS-FACTS §2.1.
    """
    import pandas as pd

    def shown(value: Any) -> str:
        if value is REQUIRED:
            return "(required)"
        if value is None or value == ():
            return "none"
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return pd.DataFrame(
        [
            {
                "parameter": s.api,
                "argument": s.argument,
                "aws_default": shown(s.default),
                "valid_values": s.valid,
                "meaning": s.meaning,
            }
            for s in SETTINGS
        ],
        columns=["parameter", "argument", "aws_default", "valid_values", "meaning"],
    )
