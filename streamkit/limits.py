"""AWS limits and defaults that streamkit relies on, each with its source, unit and as-of date.

Keep every such number here (prices live in ``streamkit/data/prices.json``, read by
:mod:`streamkit.pricing`). Source tags refer to ``AWS-FACTS.md``; the URLs are the live pages.
Values marked UNCONFIRMED or INFERRED are AWS behaviour no AWS-owned page states outright: they are
kept in one place so they are easy to correct.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "STREAM_VIEW_TYPES",
    "SHARD_ITERATOR_TYPES",
    "STREAM_RETENTION_SECONDS",
    "SHARD_ITERATOR_TTL_SECONDS",
    "GET_RECORDS_MAX_RECORDS",
    "GET_RECORDS_MAX_BYTES",
    "DESCRIBE_STREAM_MAX_SHARDS",
    "LIST_STREAMS_MAX_STREAMS",
    "SEQUENCE_NUMBER_MIN_DIGITS",
    "STREAM_EVENT_VERSION",
    "STREAM_EVENT_SOURCE",
    "TTL_USER_IDENTITY",
    "ITEM_MAX_BYTES",
    "NUMBER_MAX_BYTES",
    "LAMBDA_POLLS_PER_SECOND",
    "LAMBDA_PAYLOAD_MAX_BYTES",
    "LAMBDA_MEMORY_MB_RANGE",
    "LAMBDA_TIMEOUT_MAX_MS",
    "ESM_BATCH_SIZE_RANGE",
    "ESM_BATCHING_WINDOW_MAX_S",
    "ESM_STARTING_POSITIONS",
    "ESM_BATCH_SIZE_DEFAULT",
    "ESM_PARALLELIZATION_RANGE",
    "ESM_RETRY_ATTEMPTS_RANGE",
    "ESM_RECORD_AGE_RANGE_S",
    "ESM_TUMBLING_WINDOW_RANGE_S",
    "ESM_MAX_FILTERS",
    "ESM_LATEST_FIRST_POLL_WAIT_S",
    "LOGS_ARRIVAL_TIMEOUT_S",
    "ESM_FUNCTION_RESPONSE_TYPES",
    "ESM_STATES",
    "ESM_STABLE_STATES",
    "ESM_TRANSITIONAL_STATES",
    "ESM_FILTER_PATTERN_MAX_CHARS",
    "PYTHON_RUNTIMES",
    "LAMBDA_TIMEOUT_MIN_S",
    "FUNCTION_NAME_PATTERN",
    "FUNCTION_ARN_PATTERN",
    "ROLE_NAME_PATTERN",
    "HANDLER_PATTERN",
    "HANDLER_MAX_CHARS",
    "DESCRIPTION_MAX_CHARS",
    "ENV_NAME_PATTERN",
    "ENV_MAX_BYTES",
    "RESERVED_ENV",
    "STREAM_ARN_PATTERN",
    "QUEUE_ARN_PATTERN",
    "TOPIC_ARN_PATTERN",
    "BUCKET_ARN_PATTERN",
    "DESTINATION_KINDS",
    "LAMBDA_INIT_LIMIT_S",
    "LOG_BATCH_MAX_EVENTS",
    "LOG_BATCH_MAX_BYTES",
    "LOG_EVENT_OVERHEAD_BYTES",
    "LOG_EVENT_MAX_BYTES",
]

# As of 2026-11-27 for every value below.

#: Valid ``StreamViewType`` values. Source: DynamoDB API Reference, StreamSpecification
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html).
STREAM_VIEW_TYPES: Final = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")

#: Valid ``ShardIteratorType`` values (no AT_TIMESTAMP for DynamoDB Streams). Source: DynamoDB Streams
#: API Reference, GetShardIterator
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html).
SHARD_ITERATOR_TYPES: Final = (
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
)

#: Stream records are kept 24 hours, in seconds. Source: DynamoDB Developer Guide, "Change data
#: capture for DynamoDB Streams" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html).
STREAM_RETENTION_SECONDS: Final = 24 * 60 * 60

#: "A shard iterator expires 15 minutes after it is returned", in seconds. Source: GetShardIterator
#: API Reference (URL above).
SHARD_ITERATOR_TTL_SECONDS: Final = 15 * 60

#: GetRecords returns at most 1,000 records (and ``Limit`` may not exceed it). Source: GetRecords API
#: Reference (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html).
GET_RECORDS_MAX_RECORDS: Final = 1000

#: GetRecords returns at most 1 MB, in bytes. Source: GetRecords API Reference (URL above).
GET_RECORDS_MAX_BYTES: Final = 1024 * 1024

#: DescribeStream returns at most 100 shards per call. Source: DescribeStream API Reference
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_DescribeStream.html).
DESCRIBE_STREAM_MAX_SHARDS: Final = 100

#: ListStreams returns at most 100 streams per call. Source: ListStreams API Reference
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_ListStreams.html).
LIST_STREAMS_MAX_STREAMS: Final = 100

#: A SequenceNumber is 21 to 40 digits. Source: SequenceNumberRange API Reference
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_SequenceNumberRange.html).
SEQUENCE_NUMBER_MIN_DIGITS: Final = 21

#: The ``eventVersion`` current AWS records carry (Lambda tutorial, SAM template; older samples say
#: "1.0": never check it when parsing). Source: AWS-FACTS §1.2, §7.
STREAM_EVENT_VERSION: Final = "1.1"

#: The ``eventSource`` of every DynamoDB stream record. Source: Record API Reference.
STREAM_EVENT_SOURCE: Final = "aws:dynamodb"

#: ``userIdentity`` of a REMOVE made by the TTL process. Source: DynamoDB Developer Guide,
#: "DynamoDB Streams and Time to Live"
#: (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html).
TTL_USER_IDENTITY: Final = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

#: Maximum item size, in bytes (400 KB). Source: DynamoDB Developer Guide, "Quotas"
#: (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
ITEM_MAX_BYTES: Final = 400 * 1024

#: Largest size a number attribute value can take, in bytes (38 significant digits: 19 base-100
#: digits, one exponent byte, one sign byte). INFERRED from "up to 38 significant digits" and the
#: item-size rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
NUMBER_MAX_BYTES: Final = 21

# -- Lambda and event source mappings ---------------------------------------------------------------

#: "Lambda polls shards in your DynamoDB stream for records at a base rate of 4 times per second."
#: Source: Lambda Developer Guide, "Using AWS Lambda with Amazon DynamoDB"
#: (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), AWS-FACTS §2.2.
#: Unit: polls per second per shard.
LAMBDA_POLLS_PER_SECOND: Final = 4.0

#: A batch is sent at the latest when its payload reaches the synchronous invocation limit.
#: Source: Lambda quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
#: Unit: bytes (6 MiB).
LAMBDA_PAYLOAD_MAX_BYTES: Final = 6 * 1024 * 1024

#: Function memory, in MB (1 MB steps). Source: Lambda quotas (URL above).
LAMBDA_MEMORY_MB_RANGE: Final = (128, 10240)

#: Longest function timeout, in milliseconds (15 minutes). Source: Lambda quotas (URL above).
LAMBDA_TIMEOUT_MAX_MS: Final = 900_000

#: ``BatchSize`` range for DynamoDB stream mappings, in records. Source: Lambda API Reference,
#: CreateEventSourceMapping
#: (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html), AWS-FACTS §2.1.
ESM_BATCH_SIZE_RANGE: Final = (1, 10_000)

#: Largest ``MaximumBatchingWindowInSeconds``, in whole seconds. Source: same API Reference page.
ESM_BATCHING_WINDOW_MAX_S: Final = 300

#: ``StartingPosition`` values a DynamoDB stream mapping accepts (no AT_TIMESTAMP). Source: Lambda
#: Developer Guide, "Polling and stream starting positions"
#: (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html), AWS-FACTS §2.1.
ESM_STARTING_POSITIONS: Final = ("TRIM_HORIZON", "LATEST")

#: ``BatchSize`` when none is given, in records. Source: CreateEventSourceMapping API Reference.
ESM_BATCH_SIZE_DEFAULT: Final = 100

#: ``ParallelizationFactor`` range: concurrent batches per shard. Source: same API Reference page.
ESM_PARALLELIZATION_RANGE: Final = (1, 10)

#: ``MaximumRetryAttempts`` range; -1 retries until the record expires (the default). Source: same.
ESM_RETRY_ATTEMPTS_RANGE: Final = (-1, 10_000)

#: ``MaximumRecordAgeInSeconds``: -1 (forever, the default) or 60 to 604,800 seconds. Source: the
#: service's own message, "-1 (forever) or between 60 and 604800 (inclusive)", AWS-FACTS §2.1.
ESM_RECORD_AGE_RANGE_S: Final = (60, 604_800)

#: ``TumblingWindowInSeconds`` range (0 = no window), in seconds. Source: same API Reference page.
ESM_TUMBLING_WINDOW_RANGE_S: Final = (0, 900)

#: Filters per mapping (default quota; AWS can raise it to 10). Source: Lambda Developer Guide,
#: "Lambda event filtering" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
ESM_MAX_FILTERS: Final = 5

#: The one ``FunctionResponseTypes`` value. Source: CreateEventSourceMapping API Reference.
ESM_FUNCTION_RESPONSE_TYPES: Final = ("ReportBatchItemFailures",)

#: Seconds the kit waits, on real AWS, after a LATEST mapping is Enabled and before the notebook
#: writes, so that Lambda's first poll comes first. AWS gives no signal for it: "During event source
#: mapping creation, it may take several minutes to start polling events from the stream ... if you
#: specify LATEST as the starting position ... the event source mapping could miss events"
#: (Lambda Developer Guide, https://docs.aws.amazon.com/lambda/latest/dg/msk-starting-positions.html,
#: read 2026-11-27; the page is about Kafka, the DynamoDB wording is UNCONFIRMED, AWS-FACTS §6 #9).
#: The value is INFERRED: long enough in practice, not a guarantee. The embedded backend polls from
#: the moment a mapping is Enabled, so it never waits.
ESM_LATEST_FIRST_POLL_WAIT_S: Final = 60.0

#: Seconds the notebooks wait on real AWS for a function's log events to arrive in CloudWatch Logs
#: (delivery usually takes seconds; INFERRED, no AWS page gives a bound). Locally they are there
#: when ``settle()`` returns.
LOGS_ARRIVAL_TIMEOUT_S: Final = 120.0

#: Mapping states. Source: Lambda API Reference, EventSourceMappingConfiguration ``State``;
#: AWS-FACTS §2.1. A mapping settles in one of the two stable ones; the others are transitional.
ESM_STATES: Final = (
    "Creating",
    "Enabling",
    "Enabled",
    "Disabling",
    "Disabled",
    "Updating",
    "Deleting",
)
ESM_STABLE_STATES: Final = ("Enabled", "Disabled")
ESM_TRANSITIONAL_STATES: Final = ("Creating", "Enabling", "Updating", "Disabling", "Deleting")

#: A filter ``Pattern`` is at most 4,096 characters. Source: Lambda API Reference, ``Filter.Pattern``
#: (https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html).
ESM_FILTER_PATTERN_MAX_CHARS: Final = 4096

# -- Functions ----------------------------------------------------------------------------------------

#: Lambda runtimes the kit deploys and runs locally: the Python runtimes AWS supports (as of
#: 2026-11-27, https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html) that are not older
#: than the Python the kit itself needs (3.11): the embedded backend runs functions with the kit's
#: interpreter, so older runtimes could not be reproduced faithfully.
PYTHON_RUNTIMES: Final = ("python3.11", "python3.12", "python3.13")

#: Smallest function timeout, in seconds. Source: CreateFunction API Reference, ``Timeout`` (min 1).
LAMBDA_TIMEOUT_MIN_S: Final = 1

#: Function names: 1 to 64 letters, digits, hyphens and underscores. Source: CreateFunction API
#: Reference, ``FunctionName`` ("If you specify only the function name, it is limited to 64
#: characters in length").
FUNCTION_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: Function ARNs (as ``FunctionName`` also accepts them), optionally qualified. Source: same page.
FUNCTION_ARN_PATTERN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?"
)

#: IAM role names: 1 to 64 of ``\w+=,.@-``. Source: IAM API Reference, CreateRole ``RoleName``.
ROLE_NAME_PATTERN: Final = re.compile(r"[\w+=,.@-]{1,64}")

#: A Python handler: ``module.function`` where module may be dotted or a path (``src/app.handler``).
#: Source: Lambda Developer Guide, "Define Lambda function handler in Python".
HANDLER_PATTERN: Final = re.compile(r"[A-Za-z_]\w*(?:[./][A-Za-z_]\w*)*\.[A-Za-z_]\w*")

#: Handler strings are at most 128 characters. Source: CreateFunction API Reference, ``Handler``.
HANDLER_MAX_CHARS: Final = 128

#: Function descriptions are at most 256 characters. Source: CreateFunction API Reference.
DESCRIPTION_MAX_CHARS: Final = 256

#: Environment variable names: a letter, then letters, digits or underscores (at least two
#: characters). Source: Lambda API Reference, ``Environment.Variables`` key pattern.
ENV_NAME_PATTERN: Final = re.compile(r"[a-zA-Z]\w+")

#: All environment variables of a function together: 4 KB, in bytes. Source: Lambda quotas
#: (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
ENV_MAX_BYTES: Final = 4 * 1024

#: Variables the Lambda runtime defines and a function may not set. Source: Lambda Developer Guide,
#: "Defined runtime environment variables" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
RESERVED_ENV: Final = frozenset(
    {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

#: The Init phase may take 10 s; past that Lambda retries init in the invoke phase, under the
#: function timeout. Source: Lambda Developer Guide, "Understanding the Lambda execution environment
#: lifecycle" (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). Unit: s.
LAMBDA_INIT_LIMIT_S: Final = 10.0

# -- ARNs -----------------------------------------------------------------------------------------------

#: A DynamoDB stream ARN: ``arn:aws:dynamodb:<region>:<account>:table/<T>/stream/<label>``.
#: Source: DynamoDB Developer Guide, "Change data capture for DynamoDB Streams".
STREAM_ARN_PATTERN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[\w.-]+/stream/\S+"
)

#: On-failure destinations of a stream mapping: an SQS queue, an SNS topic or an S3 bucket.
#: Source: Lambda API Reference, ``OnFailure``; AWS-FACTS §2.1.
QUEUE_ARN_PATTERN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(\.fifo)?"
)
TOPIC_ARN_PATTERN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?"
)
BUCKET_ARN_PATTERN: Final = re.compile(r"arn:aws[a-zA-Z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
DESTINATION_KINDS: Final = (
    "an SQS queue ARN, an SNS topic ARN or an S3 bucket ARN (arn:aws:s3:::<bucket>)"
)

# -- CloudWatch Logs ------------------------------------------------------------------------------------

#: PutLogEvents: at most 10,000 events and 1,048,576 bytes a call, each event counted as its UTF-8
#: size plus 26 bytes, each at most 256 KB. Source: CloudWatch Logs API Reference, PutLogEvents
#: (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
LOG_BATCH_MAX_EVENTS: Final = 10_000
LOG_BATCH_MAX_BYTES: Final = 1_048_576
LOG_EVENT_OVERHEAD_BYTES: Final = 26
LOG_EVENT_MAX_BYTES: Final = 256 * 1024 - LOG_EVENT_OVERHEAD_BYTES

# -- Pricing calculator: the ranges of its controls ---------------------------------------------
# Not AWS limits: the spans streamkit's interactive calculator (streamkit/pricing/calculator.py)
# offers, chosen to run from an idle table to a busy one. Source: streamkit itself (the values the
# calculator has used since it was written); as of 2026-11-27. Where AWS sets a bound the
# calculator takes the AWS limit above instead: ESM_BATCH_SIZE_RANGE, ESM_BATCHING_WINDOW_MAX_S,
# LAMBDA_MEMORY_MB_RANGE and ITEM_MAX_BYTES.

__all__ += [
    "CALCULATOR_WRITES_PER_SECOND_RANGE",
    "CALCULATOR_ITEM_BYTES_RANGE",
    "CALCULATOR_SHARDS_RANGE",
    "CALCULATOR_READERS_RANGE",
    "CALCULATOR_POLL_INTERVAL_S_RANGE",
    "CALCULATOR_DURATION_MS_RANGE",
]

#: Item-changing writes per second, on a log scale. Unit: writes per second.
CALCULATOR_WRITES_PER_SECOND_RANGE: Final = (0.1, 100_000.0)

#: Average item size, on a log scale, up to the item size limit (the slider stops at the last of
#: its 0.1-decade steps below it, about 398 KB). Unit: bytes.
CALCULATOR_ITEM_BYTES_RANGE: Final = (10.0, ITEM_MAX_BYTES)

#: Open stream shards. Unit: shards.
CALCULATOR_SHARDS_RANGE: Final = (1, 64)

#: Lambda triggers, and polling consumers, each: at most 2, as AWS advises no more than two readers
#: per shard ("No more than two processes at most should be reading from the same streams shard at
#: the same time", DynamoDB Developer Guide, "Change data capture for DynamoDB Streams",
#: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html). Unit: consumers.
CALCULATOR_READERS_RANGE: Final = (0, 2)

#: The pollers' poll interval, on a log scale (also the span of the calculator's cost curve).
#: Unit: seconds.
CALCULATOR_POLL_INTERVAL_S_RANGE: Final = (0.1, 10.0)

#: Average Lambda invocation duration, on a log scale (AWS allows up to LAMBDA_TIMEOUT_MAX_MS).
#: Unit: milliseconds.
CALCULATOR_DURATION_MS_RANGE: Final = (1.0, 10_000.0)

# -- End of the pricing calculator's ranges ------------------------------------------------------
