"""AWS limits and defaults that streamkit relies on, each with its source, unit and as-of date.

Keep every such number here (prices live in ``streamkit/data/prices.json``, read by
:mod:`streamkit.pricing`). Source tags refer to ``AWS-FACTS.md``; the URLs are the live pages.
Values marked UNCONFIRMED or INFERRED are AWS behaviour no AWS-owned page states outright: they are
kept in one place so they are easy to correct.
"""

from __future__ import annotations

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
