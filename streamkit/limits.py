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
    "STREAM_SHARD_ROLLOVER_SECONDS",
    "LOCAL_SHARDS_PER_STREAM_RANGE",
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
    "ESM_STARTING_POSITION_ENUM",
    "ESM_BATCH_SIZE_DEFAULT",
    "ESM_PARALLELIZATION_RANGE",
    "ESM_RETRY_ATTEMPTS_RANGE",
    "ESM_RECORD_AGE_RANGE_S",
    "ESM_TUMBLING_WINDOW_RANGE_S",
    "ESM_WINDOW_STATE_MAX_BYTES",
    "ESM_MAX_FILTERS",
    "ESM_LATEST_FIRST_POLL_WAIT_S",
    "LOGS_ARRIVAL_TIMEOUT_S",
    "ESM_FUNCTION_RESPONSE_TYPES",
    "ESM_STATES",
    "ESM_STABLE_STATES",
    "ESM_TRANSITIONAL_STATES",
    "ESM_FILTER_PATTERN_MAX_CHARS",
    "PYTHON_RUNTIMES",
    "NODE_RUNTIMES",
    "NODE_HANDLER_PATTERN",
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
    "LOG_FILTER_MAX_STREAMS",
]

# As of 2026-11-27 for every value below.

#: Valid ``StreamViewType`` values. Source: DynamoDB API Reference, StreamSpecification
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html).
STREAM_VIEW_TYPES: Final = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")

#: Valid ``ShardIteratorType`` values, in the API model's order. ``AT_TIMESTAMP`` (with the request's
#: ``Timestamp``, epoch seconds with millisecond precision) points at the first record whose
#: ``ApproximateCreationDateTime`` is at or after it. Source: the DynamoDB Streams API model in
#: botocore 1.44.8, ``dynamodbstreams/2012-08-10/service-2.json`` (``ShardIteratorType`` enum and
#: ``GetShardIteratorInput.Timestamp``); API Reference, GetShardIterator
#: (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html).
SHARD_ITERATOR_TYPES: Final = (
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "AT_TIMESTAMP",
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

#: How long a stream shard stays open before it closes and a child shard takes its keys (a
#: "rollover"), in seconds: about 4 hours. INFERRED: no AWS page states a number. AWS's own
#: DescribeStream example (botocore ``dynamodbstreams/2012-08-10/examples-1.json``) chains shards
#: whose ids embed creation times 4.0 h, 4.4 h and 4.5 h apart; third parties report ~4 h
#: (opensearch-project/data-prepper#5208, estuary/connectors#3418). AWS-FACTS §1.3.
STREAM_SHARD_ROLLOVER_SECONDS: Final = 4 * 60 * 60

#: Open shards a stream of the embedded backend may start with (``LocalAWS(shards_per_stream=)``).
#: Not an AWS limit (AWS opens one shard per table partition, with no documented maximum): the
#: span streamkit accepts, up to one DescribeStream page of open shards. Source: streamkit itself,
#: as of 2026-11-27. Unit: shards.
LOCAL_SHARDS_PER_STREAM_RANGE: Final = (1, DESCRIBE_STREAM_MAX_SHARDS)

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

#: Every ``StartingPosition`` the Lambda API knows, in the order AWS lists them when it refuses
#: another value ("Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]").
#: Source: AWS's answer recorded 2025-02-17 in localstack/localstack,
#: ``tests/aws/services/lambda_/event_source_mapping/test_api.snapshot.json``.
ESM_STARTING_POSITION_ENUM: Final = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")

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

#: Largest tumbling-window ``state`` a function may return, in bytes (its JSON): "Your state can be a
#: maximum of 1 MB per shard. If it exceeds that size, Lambda terminates the window early." Source:
#: Lambda Developer Guide, "Implementing stateful DynamoDB stream processing in Lambda"
#: (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html), as of 2026-12.
#: 1 MB read as 1,048,576 bytes (INFERRED: the page does not say which megabyte).
ESM_WINDOW_STATE_MAX_BYTES: Final = 1024 * 1024

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

#: The Node.js runtimes the kit deploys and runs locally: nodejs20.x, nodejs22.x and the newest Node
#: runtime AWS lists, nodejs24.x (GA in Lambda on 2025-11-25). Source: Lambda Developer Guide,
#: "Lambda runtimes" (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html), as of
#: 2026-12-02. nodejs20.x is deprecated (Node.js 20 reached its end of life on 2026-04-30): AWS still
#: runs existing functions on it, but refuses to create them (see :data:`LAMBDA_RUNTIME_LIFECYCLE`
#: for the dates); it stays here so such functions run locally too. Locally they run on a node >= 20
#: (see :mod:`streamkit.local.runtime.launchers`).
NODE_RUNTIMES: Final = ("nodejs20.x", "nodejs22.x", "nodejs24.x")

#: A Node.js handler: ``[folder/]module.function[.nested]``, the module a file without its extension
#: (``index.handler`` for ``index.js`` or ``index.mjs``). Source: Lambda Developer Guide, "Define
#: Lambda function handler in Node.js"; the runtime splits the base name at its first dot
#: (aws/aws-lambda-nodejs-runtime-interface-client, ``UserFunction.js``) and refuses ``..``.
NODE_HANDLER_PATTERN: Final = re.compile(
    r"(?:[\w.-]+/)*[\w-]+\.[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*"
)

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

#: FilterLogEvents names at most 100 log streams a call (``logStreamNames``: "Maximum number of 100
#: items"). Source: CloudWatch Logs API Reference, FilterLogEvents
#: (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html).
LOG_FILTER_MAX_STREAMS: Final = 100

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

# -- Deployment packages, runtimes and request validation (the embedded backend enforces these) ----

__all__ += [
    "LAMBDA_ZIPPED_MAX_BYTES",
    "LAMBDA_REQUEST_MAX_BYTES",
    "LAMBDA_REQUEST_TOO_LARGE",
    "LAMBDA_UNZIPPED_MAX_BYTES",
    "LAMBDA_UNZIPPED_SIZE_ERROR",
    "LAMBDA_UNZIP_ERROR",
    "LAMBDA_FUNCTION_NAME_MAX_CHARS",
    "LAMBDA_RUNTIME_LIFECYCLE",
    "LAMBDA_RUNTIMES_RETIRED",
    "LAMBDA_RUNTIME_DEPRECATED",
    "DYNAMODB_TABLE_NAME_PATTERN",
    "DYNAMODB_TABLE_NAME_LENGTH",
    "DYNAMODB_MAX_NESTING",
    "DYNAMODB_NESTING_ERROR",
]

#: A deployment package uploaded directly (``ZipFile``) is at most 50 MB zipped. Source: Lambda
#: quotas, "Deployment package (.zip file archive) size: 50 MB (zipped, when uploaded through the
#: Lambda API or SDKs)" (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
#: Unit: bytes (MiB).
LAMBDA_ZIPPED_MAX_BYTES: Final = 50 * 1024 * 1024

#: What Lambda measures for that quota: the request, whose JSON body carries the zip in base64
#: (4/3 of 50 MiB, rounded up). A request of this size or more is refused with HTTP 413
#: ``RequestEntityTooLargeException`` and :data:`LAMBDA_REQUEST_TOO_LARGE`. Source: AWS's answers
#: quoted in many public reports, e.g. "Request must be smaller than 69905067 bytes for the
#: UpdateFunctionCode operation" (aws-samples and terraform users; no AWS page words it). Unit: bytes.
LAMBDA_REQUEST_MAX_BYTES: Final = 69_905_067
LAMBDA_REQUEST_TOO_LARGE: Final = (
    "Request must be smaller than 69905067 bytes for the {operation} operation"
)

#: A package is at most 250 MB unzipped (262,144,000 bytes), refused at upload with
#: ``InvalidParameterValueException`` and :data:`LAMBDA_UNZIPPED_SIZE_ERROR`. Sources: Lambda quotas
#: (URL above, "250 MB (unzipped)"); the wording is AWS's answer as quoted in public reports and in
#: LocalStack's Lambda provider (``localstack/services/lambda_/provider.py``). Unit: bytes.
LAMBDA_UNZIPPED_MAX_BYTES: Final = 262_144_000
LAMBDA_UNZIPPED_SIZE_ERROR: Final = "Unzipped size must be smaller than 262144000 bytes"

#: AWS's ``InvalidParameterValueException`` for a package that is not a zip archive or cannot be
#: unzipped. Source: AWS's answer as quoted in public reports and tests (e.g. terraform users,
#: LocalStack's Lambda provider).
LAMBDA_UNZIP_ERROR: Final = (
    "Could not unzip uploaded file. Please check your file, then try to upload again."
)

#: A function *name* (not an ARN) is at most 64 characters. Source: CreateFunction API Reference,
#: ``FunctionName`` ("If you specify only the function name, it is limited to 64 characters").
LAMBDA_FUNCTION_NAME_MAX_CHARS: Final = 64

#: Runtimes with a published end of support, as ``runtime: (deprecation, block function create,
#: block function update)`` ISO dates: past the second date CreateFunction refuses the runtime, past
#: the third so do UpdateFunctionCode and UpdateFunctionConfiguration. Sources: Lambda Developer
#: Guide, "Building Lambda functions with Python" and "... with Node.js", their runtime tables
#: (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html,
#: https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html), as of 2026-12-02. Other
#: languages' runtimes are not listed here: only those the kit's notebooks and tests use.
LAMBDA_RUNTIME_LIFECYCLE: Final = {
    "python3.9": ("2025-12-15", "2026-01-15", "2026-02-15"),
    "python3.10": ("2026-06-30", "2026-07-31", "2026-08-31"),
    "python3.11": ("2026-06-30", "2026-07-31", "2026-08-31"),
    "python3.12": ("2028-10-31", "2028-11-30", "2029-01-10"),
    "python3.13": ("2029-06-30", "2029-07-31", "2029-08-31"),
    # python3.14 (GA 2025-11-18) is not yet in the copy of the Python page read: its dates are
    # endoflife.date's record of AWS's table (https://endoflife.date/aws-lambda), UNCONFIRMED.
    "python3.14": ("2029-06-30", "2029-07-31", "2029-08-31"),
    "nodejs20.x": ("2026-04-30", "2026-08-31", "2026-09-30"),
    "nodejs22.x": ("2027-04-30", "2027-06-01", "2027-07-01"),
    "nodejs24.x": ("2028-04-30", "2028-06-01", "2028-07-01"),
}

#: Runtimes of the Lambda API model whose deprecation completed years ago (neither create nor
#: update): Lambda Developer Guide, "Runtime deprecation" and its "Deprecated runtimes" table
#: (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).
LAMBDA_RUNTIMES_RETIRED: Final = frozenset(
    {
        "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x",
        "nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x", "python2.7", "python3.6",
        "python3.7", "python3.8", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
        "dotnetcore3.1", "dotnet6", "go1.x", "ruby2.5", "ruby2.7", "provided",
    }
)  # fmt: skip

#: AWS's ``InvalidParameterValueException`` for a runtime past its block date; ``{newest}`` is the
#: newest runtime of the same language. Source: AWS's answers quoted in public reports, e.g. "The
#: runtime parameter of nodejs12.x is no longer supported for creating or updating AWS Lambda
#: functions. We recommend you use the new runtime (nodejs18.x) while creating or updating
#: functions." (pgarbe/cdk-ecr-sync#715, awslabs/aws-cloudfront-extensions#369, 2023).
LAMBDA_RUNTIME_DEPRECATED: Final = (
    "The runtime parameter of {runtime} is no longer supported for creating or updating AWS "
    "Lambda functions. We recommend you use the new runtime ({newest}) while creating or "
    "updating functions."
)

#: Table names: 3 to 255 characters of ``[a-zA-Z0-9_.-]``. Source: DynamoDB API model (botocore
#: ``dynamodb/2012-08-10/service-2.json``, shape ``TableName``) and Developer Guide, "Supported data
#: types and naming rules".
DYNAMODB_TABLE_NAME_PATTERN: Final = "[a-zA-Z0-9_.-]+"
DYNAMODB_TABLE_NAME_LENGTH: Final = (3, 255)

#: Documents nest at most 32 levels deep (the attribute itself is level 1). Source: DynamoDB
#: Developer Guide, "Supported data types and naming rules" ("DynamoDB supports nested attributes up
#: to 32 levels deep"); the boundary and :data:`DYNAMODB_NESTING_ERROR` (``ValidationException``)
#: as answered by DynamoDB (eu-west-2, 2026-06) in a public conformance suite.
DYNAMODB_MAX_NESTING: Final = 32
DYNAMODB_NESTING_ERROR: Final = (
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
    "beyond supported limit"
)
