"""Event source mappings on DynamoDB streams through the ordinary Lambda API, answered as AWS does
(AWS-FACTS §2.1 and §7), and moved through their states by the local Lambda service."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from helpers import AWS_MAPPING_DEFAULTS, stream_arn_of, zip_source

NOOP = "def handler(event, context):\n    return None\n"


_functions = iter(range(1, 10_000))


@pytest.fixture
def function(aws):
    iam, lam = aws.client("iam"), aws.client("lambda")
    name = f"mapping-fn-{next(_functions)}"
    try:
        role = iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument="{}")["Role"][
            "Arn"
        ]
    except ClientError:
        role = iam.get_role(RoleName=f"role-{name}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_source(NOOP)},
    )
    return name


@pytest.fixture
def stream(aws, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    return stream_arn_of(aws.client("dynamodb"), table)


def _wait_state(lam, uuid, state, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        current = lam.get_event_source_mapping(UUID=uuid)
        if current["State"] == state or time.monotonic() > deadline:
            return current
        time.sleep(0.01)


def test_create_echoes_every_default(aws, function, stream):
    lam = aws.client("lambda")
    created = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST"
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert created["StateTransitionReason"] == "User action"
    assert created["LastProcessingResult"] == "No records processed"
    expected = {
        **AWS_MAPPING_DEFAULTS,
        "StartingPosition": "LATEST",
        "EventSourceArn": stream,
    }
    assert {k: created[k] for k in expected} == expected
    assert created["FunctionArn"].endswith(f":function:{function}")
    assert created["EventSourceMappingArn"].endswith(f":event-source-mapping:{created['UUID']}")
    assert _wait_state(lam, created["UUID"], "Enabled")["State"] == "Enabled"
    listed = lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [created["UUID"]]
    assert (
        lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"][0]["UUID"]
        == (created["UUID"])
    )


def test_duplicate_mapping_is_a_conflict(aws, function, stream):
    lam = aws.client("lambda")
    first = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST"
    )
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON"
        )
    assert err.value.response["Error"]["Code"] == "ResourceConflictException"
    assert err.value.response["Error"]["Message"] == (
        f'The event source arn (" {stream} ") and function (" {function} ") provided mapping already '
        f"exists. Please update or delete the existing mapping with UUID {first['UUID']}"
    )


def test_missing_stream_and_function(aws, function, stream):
    lam = aws.client("lambda")
    gone = stream.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(
            FunctionName=function, EventSourceArn=gone, StartingPosition="LATEST"
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == f"Stream not found: {gone}"
    with pytest.raises(ClientError) as err:
        lam.create_event_source_mapping(
            FunctionName="nope", EventSourceArn=stream, StartingPosition="LATEST"
        )
    # AWS's answer (quoted in hashicorp/terraform-provider-aws#17933): not a 404
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert err.value.response["Error"]["Message"] == "Function does not exist"


def _over(value, member, high):
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have value less than or equal to {high}"
    )


@pytest.mark.parametrize(
    ("settings", "code", "says"),
    [
        ({"BatchSize": 10_001}, "ValidationException", _over(10_001, "batchSize", 10_000)),
        (
            {"MaximumBatchingWindowInSeconds": 301},
            "ValidationException",
            _over(301, "maximumBatchingWindowInSeconds", 300),
        ),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": "single-string"}]}},
            "InvalidParameterValueException",
            "Invalid filter pattern definition.",
        ),
        (
            {"FilterCriteria": {"Filters": [{"Pattern": "{not json"}]}},
            "InvalidParameterValueException",
            "Invalid filter pattern definition.",
        ),
        (
            {
                "DestinationConfig": {
                    "OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}
                }
            },
            "InvalidParameterValueException",
            "Unsupported DestinationConfig parameter for given event source mapping type.",
        ),
        (
            {"MaximumRecordAgeInSeconds": 59},
            "InvalidParameterValueException",
            "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 "
            "(inclusive)",
        ),
        (
            {"MaximumRetryAttempts": 10_001},
            "ValidationException",
            _over(10_001, "maximumRetryAttempts", 10_000),
        ),
        (
            {"ParallelizationFactor": 11},
            "ValidationException",
            _over(11, "parallelizationFactor", 10),
        ),
        (
            {"TumblingWindowInSeconds": 901},
            "ValidationException",
            _over(901, "tumblingWindowInSeconds", 900),
        ),
    ],
)
def test_invalid_settings_are_refused_like_aws(aws, function, stream, settings, code, says):
    args = {
        "FunctionName": function,
        "EventSourceArn": stream,
        "StartingPosition": "LATEST",
        **settings,
    }
    with pytest.raises(ClientError) as err:
        aws.client("lambda").create_event_source_mapping(**args)
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["Error"]["Message"] == says
    assert (
        aws.client("lambda").list_event_source_mappings(EventSourceArn=stream)[
            "EventSourceMappings"
        ]
        == []
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"ParallelizationFactor": 2},
        {"ParallelizationFactor": 10},
        {"TumblingWindowInSeconds": 30},
        {"TumblingWindowInSeconds": 900, "ParallelizationFactor": 3},
    ],
)
def test_parallelization_and_tumbling_windows_are_accepted_and_echoed(
    aws, function, stream, settings
):
    lam = aws.client("lambda")
    created = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST", **settings
    )
    for key, value in settings.items():
        assert created[key] == value
        assert lam.get_event_source_mapping(UUID=created["UUID"])[key] == value


def test_update_disable_enable_delete(aws, function, stream):
    lam = aws.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=10
    )["UUID"]
    _wait_state(lam, uuid, "Enabled")
    updated = lam.update_event_source_mapping(
        UUID=uuid, BatchSize=50, MaximumBatchingWindowInSeconds=2
    )
    assert updated["State"] == "Updating" and updated["BatchSize"] == 50
    assert _wait_state(lam, uuid, "Enabled")["MaximumBatchingWindowInSeconds"] == 2
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == "Disabling"
    assert _wait_state(lam, uuid, "Disabled")["State"] == "Disabled"
    assert lam.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == "Enabling"
    assert _wait_state(lam, uuid, "Enabled")["State"] == "Enabled"
    with pytest.raises(ClientError) as err:
        lam.update_event_source_mapping(UUID=uuid, MaximumRecordAgeInSeconds=59)
    assert err.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert lam.delete_event_source_mapping(UUID=uuid)["State"] == "Deleting"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            lam.get_event_source_mapping(UUID=uuid)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        time.sleep(0.01)
    else:
        pytest.fail("mapping still there after delete")


def test_created_disabled_stays_disabled(aws, function, stream):
    lam = aws.client("lambda")
    uuid = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="LATEST", Enabled=False
    )["UUID"]
    assert _wait_state(lam, uuid, "Disabled")["State"] == "Disabled"


def test_tags_given_at_creation_are_listed_by_the_mappings_arn(aws, function, stream):
    lam = aws.client("lambda")
    created = lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        Tags={"streamkit-run": "20261127-150000-abcd", "team": "data"},
    )
    arn = created["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {
        "streamkit-run": "20261127-150000-abcd",
        "team": "data",
    }
    function_arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    assert lam.list_tags(Resource=function_arn)["Tags"] == {}  # functions still answered by moto
    lam.delete_event_source_mapping(UUID=created["UUID"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # deletion completes within one loop of the service
        try:
            lam.get_event_source_mapping(UUID=created["UUID"])
        except ClientError:
            break
        time.sleep(0.01)
    with pytest.raises(ClientError) as err:
        lam.list_tags(Resource=arn)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
