"""Triggers: event source mappings on the embedded backend, plus botocore's Stubber for what only AWS
does (a mapping still Creating, waits that time out): settings checked against AWS's ranges before
any call, created once per function-and-stream pair, changed in place, paused, deleted; and a write
reaching the function end to end."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from botocore.stub import ANY, Stubber
from helpers import (
    AWS_MAPPING_DEFAULTS,
    FUNCTIONS,
    STUB_PREFIX,
    STUB_TAGS,
    LocalView,
    StubbedAWS,
    client_error,
    stream_arn_of,
    unique,
)

from streamkit import triggers
from streamkit.backends import RUN_TAG
from streamkit.destinations import create_failure_destination
from streamkit.errors import InvalidParameterError, StreamkitError, StreamNotFoundError
from streamkit.functions import deploy_function
from streamkit.iam import create_execution_role
from streamkit.limits import (
    ESM_BATCH_SIZE_RANGE,
    ESM_BATCHING_WINDOW_MAX_S,
    ESM_LATEST_FIRST_POLL_WAIT_S,
    ESM_MAX_FILTERS,
    ESM_PARALLELIZATION_RANGE,
    ESM_RECORD_AGE_RANGE_S,
    ESM_RETRY_ATTEMPTS_RANGE,
    ESM_TUMBLING_WINDOW_RANGE_S,
)
from streamkit.teardown import teardown

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users"
STREAM_ARN = TABLE_ARN + "/stream/2026-11-27T10:00:00.000"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:failures"
#: The function "fn" as AWS gets it from the stubbed backend: with the prefix.
FN = STUB_PREFIX + "fn"


@pytest.fixture(scope="module")
def module_kit(aws):
    view = LocalView(aws, "trg-")
    yield view
    teardown(view)


@pytest.fixture(scope="module")
def function(module_kit):
    """A deployed log_event function (with its role) shared by the mapping tests."""
    name = unique("log-")
    role = create_execution_role(module_kit, name, TABLE_ARN)
    deployed = deploy_function(module_kit, name, FUNCTIONS / "log_event", role_arn=role.arn)
    return deployed


@pytest.fixture
def stream(aws, make_table):
    """A fresh stream (a new table), so each test has its own function-and-stream pair."""
    return stream_arn_of(aws.client("dynamodb"), make_table("NEW_AND_OLD_IMAGES"))


# -- event source mappings: parameters, validation -------------------------------------------------------


def test_mapping_parameters_table():
    table = triggers.mapping_parameters()
    assert list(table.columns) == [
        "parameter",
        "argument",
        "aws_default",
        "valid_values",
        "meaning",
    ]
    assert table["parameter"].is_unique and len(table) == 14
    by_api = table.set_index("parameter")
    assert by_api.loc["BatchSize", "aws_default"] == "100"
    assert by_api.loc["MaximumRetryAttempts", "aws_default"] == "-1"
    assert by_api.loc["MaximumRecordAgeInSeconds", "valid_values"].startswith(
        "-1 (forever) or 60 to 604,800"
    )
    assert by_api.loc["StartingPosition", "aws_default"] == "(required)"
    assert by_api.loc["FilterCriteria", "valid_values"].startswith(f"up to {ESM_MAX_FILTERS}")
    # The signature's defaults are AWS's (StartingPosition has none: the kit picks LATEST).
    signature = inspect.signature(triggers.create_trigger).parameters
    for argument, default in zip(table["argument"], table["aws_default"], strict=True):
        if argument in ("stream_arn", "function_name", "starting_position"):
            continue
        value = signature[argument].default
        shown = "none" if value in (None, ()) else str(value).lower()
        assert shown == default.lower(), argument


BOUNDS = [
    # (argument, API name, valid value at a limit, value just beyond it)
    ("batch_size", "BatchSize", ESM_BATCH_SIZE_RANGE[0], ESM_BATCH_SIZE_RANGE[0] - 1),
    ("batch_size", "BatchSize", ESM_BATCH_SIZE_RANGE[1], ESM_BATCH_SIZE_RANGE[1] + 1),
    ("maximum_batching_window_s", "MaximumBatchingWindowInSeconds", 1, -1),
    (
        "maximum_batching_window_s",
        "MaximumBatchingWindowInSeconds",
        ESM_BATCHING_WINDOW_MAX_S,
        ESM_BATCHING_WINDOW_MAX_S + 1,
    ),
    ("parallelization_factor", "ParallelizationFactor", 2, ESM_PARALLELIZATION_RANGE[0] - 1),
    (
        "parallelization_factor",
        "ParallelizationFactor",
        ESM_PARALLELIZATION_RANGE[1],
        ESM_PARALLELIZATION_RANGE[1] + 1,
    ),
    ("maximum_retry_attempts", "MaximumRetryAttempts", 0, ESM_RETRY_ATTEMPTS_RANGE[0] - 1),
    (
        "maximum_retry_attempts",
        "MaximumRetryAttempts",
        ESM_RETRY_ATTEMPTS_RANGE[1],
        ESM_RETRY_ATTEMPTS_RANGE[1] + 1,
    ),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", ESM_RECORD_AGE_RANGE_S[0], 59),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", ESM_RECORD_AGE_RANGE_S[1], 604_801),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", 60, 0),
    ("maximum_record_age_s", "MaximumRecordAgeInSeconds", 60, -2),
    ("tumbling_window_s", "TumblingWindowInSeconds", 1, ESM_TUMBLING_WINDOW_RANGE_S[0] - 1),
    (
        "tumbling_window_s",
        "TumblingWindowInSeconds",
        ESM_TUMBLING_WINDOW_RANGE_S[1],
        ESM_TUMBLING_WINDOW_RANGE_S[1] + 1,
    ),
    ("starting_position", "StartingPosition", "TRIM_HORIZON", "AT_TIMESTAMP"),
    ("bisect_batch_on_function_error", "BisectBatchOnFunctionError", True, 1),
    ("enabled", "Enabled", False, "no"),
]


def _mapping_response(**overrides: Any) -> dict[str, Any]:
    """A CreateEventSourceMapping answer as AWS gives it (AWS-FACTS §7)."""
    return {
        "UUID": "a1b2c3d4-0000-4000-8000-000000000001",
        "StartingPosition": "LATEST",
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "ParallelizationFactor": 1,
        "EventSourceArn": STREAM_ARN,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn",
        "LastProcessingResult": "No records processed",
        "State": "Creating",
        "StateTransitionReason": "User action",
        "DestinationConfig": {"OnFailure": {}},
        "FunctionResponseTypes": [],
        "MaximumRecordAgeInSeconds": -1,
        "BisectBatchOnFunctionError": False,
        "MaximumRetryAttempts": -1,
        "TumblingWindowInSeconds": 0,
        **overrides,
    }


def _expect_create(
    stubbed: StubbedAWS,
    params: dict[str, Any],
    response: dict[str, Any],
    starting_position: str = "LATEST",
) -> Stubber:
    lam = stubbed.stub("lambda")
    lam.add_response(
        "list_event_source_mappings",
        {"EventSourceMappings": []},
        {"FunctionName": FN, "EventSourceArn": STREAM_ARN},
    )
    lam.add_response(
        "create_event_source_mapping",
        response,
        {
            "FunctionName": FN,
            "EventSourceArn": STREAM_ARN,
            "StartingPosition": starting_position,
            **params,
            "Tags": STUB_TAGS,  # the mapping is the kit's, of this run
        },
    )
    return lam


@pytest.mark.parametrize(("argument", "api", "at_limit", "beyond"), BOUNDS)
def test_mapping_setting_beyond_its_limit_is_refused_before_any_call(
    stubbed, argument, api, at_limit, beyond
):
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN, **{argument: beyond})
    assert err.value.name == argument
    assert "expected" in str(err.value)  # the message names the valid values
    assert stubbed.stubbers == {}  # no client was even made


@pytest.mark.parametrize(("argument", "api", "at_limit", "beyond"), BOUNDS)
def test_mapping_setting_at_its_limit_is_sent(stubbed, argument, api, at_limit, beyond):
    if argument == "starting_position":
        lam = _expect_create(stubbed, {}, _mapping_response(StartingPosition=at_limit), at_limit)
    elif argument == "enabled":
        lam = _expect_create(stubbed, {api: at_limit}, _mapping_response(State="Disabled"))
    else:
        lam = _expect_create(stubbed, {api: at_limit}, _mapping_response(**{api: at_limit}))
    trigger = triggers.create_trigger(stubbed, "fn", STREAM_ARN, wait=False, **{argument: at_limit})
    assert trigger.action == "created"
    if argument != "enabled":
        assert trigger.settings()[argument] == at_limit
    lam.assert_no_pending_responses()


def test_every_other_setting_is_sent_under_its_api_name(stubbed):
    params = {
        "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]},
    }
    _expect_create(stubbed, params, _mapping_response(**params))
    trigger = triggers.create_trigger(
        stubbed,
        "fn",
        STREAM_ARN,
        on_failure_destination_arn=QUEUE_ARN,
        report_batch_item_failures=True,
        filter_patterns=[{"eventName": ["INSERT"]}],
        wait=False,
    )
    assert trigger.on_failure_destination_arn == QUEUE_ARN
    assert trigger.report_batch_item_failures is True
    assert trigger.filter_patterns == ('{"eventName":["INSERT"]}',)


@pytest.mark.parametrize(
    ("patterns", "name", "rule"),
    [
        (["single-string"], "filter_patterns[0]", "JSON object"),
        (['{"eventName": ["INSERT"]'], "filter_patterns[0]", "JSON object"),
        (["[1, 2]"], "filter_patterns[0]", "JSON object"),
        ([{"eventName": "INSERT"}], "filter_patterns[0]", "every value is an object or a list"),
        ([{}], "filter_patterns[0]", "JSON object"),
        ([{"a": ["x"]}, 3], "filter_patterns[1]", "JSON object"),
        ([{"a": ["x" * 4096]}], "filter_patterns[0]", "4096 characters"),
        ([{"eventName": ["INSERT"]}] * (ESM_MAX_FILTERS + 1), "filter_patterns", "at most 5"),
        ('{"eventName": ["INSERT"]}', "filter_patterns", "a list"),
    ],
)
def test_filter_patterns_are_validated(stubbed, patterns, name, rule):
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN, filter_patterns=patterns)
    assert err.value.name == name and rule in str(err.value)


def test_five_filter_patterns_are_accepted_and_strings_kept(stubbed):
    patterns = ['{"eventName": ["INSERT"]}'] + [
        {"dynamodb": {"Keys": {"k": {"S": [str(i)]}}}} for i in range(4)
    ]
    stored = [patterns[0]] + [json.dumps(p, separators=(",", ":")) for p in patterns[1:]]
    params = {"FilterCriteria": {"Filters": [{"Pattern": p} for p in stored]}}
    _expect_create(stubbed, params, _mapping_response(**params))
    trigger = triggers.create_trigger(
        stubbed, "fn", STREAM_ARN, filter_patterns=patterns, wait=False
    )
    assert trigger.filter_patterns == tuple(stored)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"stream_arn": TABLE_ARN}, "stream_arn"),
        ({"stream_arn": "Users"}, "stream_arn"),
        ({"stream_arn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"}, "stream_arn"),
        ({"function_name": "no such"}, "function_name"),
        ({"on_failure_destination_arn": "queue"}, "on_failure_destination_arn"),
        (
            {"on_failure_destination_arn": f"arn:aws:kafka:us-east-1:{ACCOUNT}:x"},
            "on_failure_destination_arn",
        ),
        ({"report_batch_item_failures": "yes"}, "report_batch_item_failures"),
        ({"batch_size": 10.0}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"wait": 1}, "wait"),
    ],
)
def test_other_mapping_arguments_are_validated(stubbed, kwargs, name):
    args = {"function_name": "fn", "stream_arn": STREAM_ARN, **kwargs}
    with pytest.raises(InvalidParameterError) as err:
        triggers.create_trigger(stubbed, args.pop("function_name"), args.pop("stream_arn"), **args)
    assert err.value.name == name
    assert stubbed.stubbers == {}


def test_trigger_from_an_aws_response():
    trigger = triggers.Trigger.from_response(_mapping_response(State="Enabled"))
    assert trigger.function_name == "fn" and trigger.enabled is True
    assert trigger.settings() == {
        "starting_position": "LATEST",
        "batch_size": 100,
        "maximum_batching_window_s": 0,
        "parallelization_factor": 1,
        "maximum_retry_attempts": -1,
        "maximum_record_age_s": -1,
        "bisect_batch_on_function_error": False,
        "on_failure_destination_arn": None,
        "report_batch_item_failures": False,
        "filter_patterns": (),
        "tumbling_window_s": 0,
        "enabled": True,
    }
    assert triggers.Trigger.from_response(_mapping_response(State="Creating")).enabled is None
    assert trigger.to_series()["state"] == "Enabled"


# -- event source mappings: waiting (Stubber) ------------------------------------------------------------


def test_create_waits_while_the_mapping_is_creating(stubbed):
    lam = _expect_create(stubbed, {}, _mapping_response())
    uuid = _mapping_response()["UUID"]
    lam.add_response("get_event_source_mapping", _mapping_response(), {"UUID": uuid})
    lam.add_response("get_event_source_mapping", _mapping_response(State="Enabled"), {"UUID": uuid})
    trigger = triggers.create_trigger(stubbed, "fn", STREAM_ARN)
    assert (trigger.state, trigger.action) == ("Enabled", "created")
    # one poll pause while Creating, then (LATEST, on AWS) the wait for Lambda's first poll
    assert stubbed.slept[0] == 2.0
    assert sum(stubbed.slept[1:]) == ESM_LATEST_FIRST_POLL_WAIT_S
    lam.assert_no_pending_responses()


def test_create_disabled_waits_for_disabled(stubbed):
    lam = _expect_create(stubbed, {"Enabled": False}, _mapping_response())
    uuid = _mapping_response()["UUID"]
    lam.add_response(
        "get_event_source_mapping", _mapping_response(State="Disabled"), {"UUID": uuid}
    )
    assert triggers.create_trigger(stubbed, "fn", STREAM_ARN, enabled=False).state == "Disabled"


def test_waiting_times_out_naming_state_and_reason(stubbed):
    lam = _expect_create(stubbed, {}, _mapping_response())
    for _ in range(10):
        lam.add_response("get_event_source_mapping", _mapping_response(), {"UUID": ANY})
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN, timeout_s=5)
    assert isinstance(err.value, TimeoutError)
    assert "'Creating'" in str(err.value) and "User action" in str(err.value)
    assert "after 5 s" in str(err.value)
    assert sum(stubbed.slept) == pytest.approx(5.0)


def test_waiting_stops_at_a_problem(stubbed):
    lam = _expect_create(stubbed, {}, _mapping_response())
    problem = "PROBLEM: Function call failed"
    lam.add_response(
        "get_event_source_mapping",
        _mapping_response(State="Disabled", StateTransitionReason=problem),
        {"UUID": ANY},
    )
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(stubbed, "fn", STREAM_ARN)
    assert problem in str(err.value) and "enable_trigger" in str(err.value)


def test_aws_conflict_is_judged_like_a_listed_duplicate(stubbed):
    uuid = "a1b2c3d4-0000-4000-8000-000000000002"
    lam = stubbed.stub("lambda")
    conflict = client_error(
        "ResourceConflictException",
        f'The event source arn (" {STREAM_ARN} ") and function (" fn ") provided mapping already '
        f"exists. Please update or delete the existing mapping with UUID {uuid}",
        409,
    )
    for batch_size in (100, 10):
        lam.add_response("list_event_source_mappings", {"EventSourceMappings": []}, None)
        lam.add_client_error("create_event_source_mapping", **conflict)
        lam.add_response(
            "get_event_source_mapping",
            _mapping_response(UUID=uuid, State="Enabled"),
            {"UUID": uuid},
        )
        if batch_size == 100:
            same = triggers.create_trigger(stubbed, "fn", STREAM_ARN)
            assert (same.uuid, same.action) == (uuid, "unchanged")
        else:
            with pytest.raises(StreamkitError) as err:
                triggers.create_trigger(stubbed, "fn", STREAM_ARN, batch_size=10)
            assert "update_trigger" in str(err.value) and uuid in str(err.value)
    assert stubbed.slept == []  # an existing Enabled mapping: no first-poll wait
    lam.assert_no_pending_responses()


def test_delete_waits_until_the_mapping_is_gone(stubbed):
    uuid = _mapping_response()["UUID"]
    lam = stubbed.stub("lambda")
    lam.add_client_error(
        "delete_event_source_mapping", **client_error("ResourceInUseException", "busy")
    )
    lam.add_response(
        "delete_event_source_mapping", _mapping_response(State="Deleting"), {"UUID": uuid}
    )
    lam.add_response(
        "get_event_source_mapping", _mapping_response(State="Deleting"), {"UUID": uuid}
    )
    lam.add_client_error(
        "get_event_source_mapping", **client_error("ResourceNotFoundException", "gone", 404)
    )
    assert triggers.delete_trigger(stubbed, uuid) is True
    assert len(stubbed.slept) == 2
    lam.assert_no_pending_responses()


# -- event source mappings on the embedded backend ---------------------------------------------------


def test_create_describe_list_a_trigger(module_kit, function, stream):
    trigger = triggers.create_trigger(module_kit, function.name, stream, batch_size=10)
    assert trigger.action == "created" and trigger.state == "Enabled"
    assert (trigger.function_arn, trigger.event_source_arn) == (function.arn, stream)
    assert (trigger.batch_size, trigger.starting_position) == (10, "LATEST")
    lam = module_kit.client("lambda")
    arn = lam.get_event_source_mapping(UUID=trigger.uuid)["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {RUN_TAG: module_kit.run_id}
    # teardown finds it (through its function) as this run's
    planned = teardown(module_kit, dry_run=True).set_index("name")
    assert tuple(planned.loc[trigger.uuid, ["kind", "run", "action"]]) == (
        "event-source-mapping",
        module_kit.run_id,
        "would delete",
    )
    described = triggers.describe_trigger(module_kit, trigger.uuid)
    assert described == trigger  # same fields; `action` is not compared
    assert described.action is None
    assert [t.uuid for t in triggers.list_triggers(module_kit, stream_arn=stream)] == [trigger.uuid]
    assert trigger.uuid in {t.uuid for t in triggers.list_triggers(module_kit, function.name)}
    assert triggers.delete_trigger(module_kit, trigger.uuid) is True


def test_mapping_responses_echo_aws_defaults(module_kit, function, stream):
    trigger = triggers.create_trigger(module_kit, function.name, stream, wait=False)
    try:
        raw = module_kit.client("lambda").get_event_source_mapping(UUID=trigger.uuid)
        for key, value in {
            **AWS_MAPPING_DEFAULTS,
            "StateTransitionReason": "User action",
        }.items():
            assert raw.get(key) == value, key
    finally:
        triggers.delete_trigger(module_kit, trigger.uuid)


def test_same_trigger_twice_is_not_duplicated(module_kit, function, stream):
    settings = {"batch_size": 50, "maximum_batching_window_s": 1}
    calls = module_kit.api_calls["lambda:CreateEventSourceMapping"]
    first = triggers.create_trigger(module_kit, function.name, stream, **settings)
    again = triggers.create_trigger(module_kit, function.name, stream, **settings)
    assert (again.uuid, again.action) == (first.uuid, "unchanged")
    assert [t.uuid for t in triggers.list_triggers(module_kit, function.name, stream)] == [
        first.uuid
    ]
    assert module_kit.api_calls["lambda:CreateEventSourceMapping"] == calls + 1


def test_equal_filter_patterns_written_differently_are_the_same(stubbed):
    listed = _mapping_response(
        State="Enabled",
        FilterCriteria={"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]},
    )
    stubbed.stub("lambda").add_response(
        "list_event_source_mappings", {"EventSourceMappings": [listed]}, None
    )
    same = triggers.create_trigger(
        stubbed, "fn", STREAM_ARN, filter_patterns=['{ "eventName" : [ "INSERT" ] }']
    )
    assert (same.uuid, same.action) == (listed["UUID"], "unchanged")
    stubbed.stub("lambda").add_response(
        "list_event_source_mappings", {"EventSourceMappings": [listed]}, None
    )
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(
            stubbed, "fn", STREAM_ARN, filter_patterns=[{"eventName": ["MODIFY"]}]
        )
    assert set(err.value.differences) == {"filter_patterns"}


def test_same_pair_with_other_settings_points_at_update_trigger(module_kit, function, stream):
    first = triggers.create_trigger(module_kit, function.name, stream)
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(module_kit, function.name, stream, batch_size=10, enabled=False)
    assert err.value.uuid == first.uuid
    assert set(err.value.differences) == {"batch_size", "enabled"}
    assert f"update_trigger(backend, {first.uuid!r}" in str(err.value)
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(module_kit, function.name, stream, starting_position="TRIM_HORIZON")
    assert "delete_trigger" in str(err.value)
    assert len(triggers.list_triggers(module_kit, stream_arn=stream)) == 1


def test_update_disable_enable_delete_round_trip(module_kit, function, stream):
    trigger = triggers.create_trigger(
        module_kit, function.name, stream, starting_position="TRIM_HORIZON"
    )
    updated = triggers.update_trigger(
        module_kit, trigger.uuid, batch_size=25, maximum_batching_window_s=2
    )
    assert updated.action == "updated" and updated.state == "Enabled"
    now = triggers.describe_trigger(module_kit, trigger.uuid)
    assert (now.batch_size, now.maximum_batching_window_s) == (25, 2)
    assert now.starting_position == "TRIM_HORIZON"  # kept: it cannot be changed

    assert triggers.disable_trigger(module_kit, trigger.uuid).state == "Disabled"
    assert triggers.describe_trigger(module_kit, trigger.uuid).enabled is False
    assert triggers.enable_trigger(module_kit, trigger.uuid).state == "Enabled"

    assert triggers.delete_trigger(module_kit, trigger.uuid) is True
    with pytest.raises(LookupError):
        triggers.describe_trigger(module_kit, trigger.uuid)
    assert triggers.delete_trigger(module_kit, trigger.uuid) is False
    assert triggers.list_triggers(module_kit, stream_arn=stream) == []


def test_update_and_remove_failure_handling_settings(module_kit, function, stream):
    queue_arn = create_failure_destination(module_kit, "sqs", unique("failures-")).arn
    trigger = triggers.create_trigger(module_kit, function.name, stream)
    try:
        triggers.update_trigger(
            module_kit,
            trigger.uuid,
            maximum_retry_attempts=2,
            maximum_record_age_s=3600,
            bisect_batch_on_function_error=True,
            on_failure_destination_arn=queue_arn,
            report_batch_item_failures=True,
            filter_patterns=[{"eventName": ["INSERT", "MODIFY"]}],
        )
        now = triggers.describe_trigger(module_kit, trigger.uuid)
        assert (now.maximum_retry_attempts, now.maximum_record_age_s) == (2, 3600)
        assert now.bisect_batch_on_function_error and now.report_batch_item_failures
        assert now.on_failure_destination_arn == queue_arn
        assert [json.loads(p) for p in now.filter_patterns] == [{"eventName": ["INSERT", "MODIFY"]}]

        removed = triggers.update_trigger(
            module_kit, trigger.uuid, on_failure_destination_arn="", filter_patterns=[]
        )
        assert removed.on_failure_destination_arn is None and removed.filter_patterns == ()
    finally:
        triggers.delete_trigger(module_kit, trigger.uuid)


def test_update_waits_while_the_mapping_is_busy(stubbed):
    uuid = _mapping_response()["UUID"]
    lam = stubbed.stub("lambda")
    lam.add_client_error(
        "update_event_source_mapping",
        **client_error("ResourceInUseException", "Cannot update: state Creating", 409),
    )
    lam.add_response(
        "update_event_source_mapping",
        _mapping_response(State="Updating", BatchSize=5),
        {"UUID": uuid, "BatchSize": 5},
    )
    lam.add_response(
        "get_event_source_mapping", _mapping_response(State="Enabled", BatchSize=5), {"UUID": uuid}
    )
    updated = triggers.update_trigger(stubbed, uuid, batch_size=5)
    assert (updated.state, updated.batch_size, updated.action) == ("Enabled", 5, "updated")
    assert len(stubbed.slept) == 1
    lam.assert_no_pending_responses()


def test_removing_destination_and_filters_sends_empty_objects(stubbed):
    uuid = _mapping_response()["UUID"]
    lam = stubbed.stub("lambda")
    lam.add_response(
        "update_event_source_mapping",
        _mapping_response(State="Enabled"),
        {"UUID": uuid, "DestinationConfig": {"OnFailure": {}}, "FilterCriteria": {}},
    )
    removed = triggers.update_trigger(
        stubbed, uuid, on_failure_destination_arn="", filter_patterns=[]
    )
    assert removed.on_failure_destination_arn is None and removed.filter_patterns == ()
    lam.assert_no_pending_responses()


def test_update_needs_a_valid_setting(stubbed):
    with pytest.raises(InvalidParameterError) as err:
        triggers.update_trigger(stubbed, "some-uuid")
    assert "at least one setting" in str(err.value)
    with pytest.raises(InvalidParameterError) as err:
        triggers.update_trigger(stubbed, "some-uuid", batch_size=0)
    assert err.value.name == "batch_size"
    with pytest.raises(InvalidParameterError) as err:
        triggers.update_trigger(stubbed, "some-uuid", on_failure_destination_arn="nope")
    assert err.value.name == "on_failure_destination_arn"
    assert stubbed.stubbers == {}


def test_unknown_trigger_function_and_stream(module_kit, function, stream):
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(triggers.TriggerNotFoundError) as err:
        triggers.update_trigger(module_kit, missing, batch_size=5)
    assert "list_triggers" in str(err.value)
    with pytest.raises(triggers.TriggerNotFoundError):
        triggers.describe_trigger(module_kit, missing)
    assert triggers.delete_trigger(module_kit, missing) is False
    with pytest.raises(StreamkitError) as err:
        triggers.create_trigger(module_kit, unique("nofn-"), stream)
    assert "deploy_function" in str(err.value)


def test_a_stream_that_does_not_exist(module_kit, function):
    missing = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/nope/stream/2020-01-01T00:00:00.000"
    with pytest.raises(StreamNotFoundError):
        triggers.create_trigger(module_kit, function.name, missing)


def test_a_write_reaches_the_function_end_to_end(aws, module_kit, function, make_table):
    table = make_table("NEW_IMAGE")
    stream = stream_arn_of(aws.client("dynamodb"), table)
    trigger = triggers.create_trigger(
        module_kit, function.name, stream, starting_position="TRIM_HORIZON"
    )
    try:
        aws.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "user_1"}})
        aws.settle(timeout=20)
        logs = aws.client("logs")
        group = f"/aws/lambda/{function.name}"
        messages = [
            event["message"]
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group)
            for event in page["events"]
            if event["message"].startswith("EVENT ")
        ]
        events = [json.loads(m[len("EVENT ") :]) for m in messages]
        records = [r for e in events for r in e["Records"] if r["eventSourceARN"] == stream]
        assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": {"S": "user_1"}}]
    finally:
        triggers.delete_trigger(module_kit, trigger.uuid)
