"""Warm execution environments end when their function is deleted or changed, as on AWS.

A warm environment keeps the module's globals between invocations. AWS discards a function's
environments when the function is deleted, or when its code or configuration changes, so a
function deleted and deployed again (notebook 04 run twice in one kernel) starts cold, with fresh
globals. These tests count invocations in a module global and read the count back from the logs.
"""

from __future__ import annotations

from helpers import stream_arn_of, zip_source

from streamkit import logs

COUNTING = """
calls = 0

def handler(event, context):
    global calls
    calls += 1
    print(f"CALLS {calls}")
"""


def _calls(aws, ddb, table, function, key):
    ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    aws.settle()
    return logs.log_messages(aws, function, prefix="CALLS")[-1]


def test_a_deleted_and_recreated_function_starts_cold(aws, ddb, make_table, deploy, fast_polling):
    table = make_table("KEYS_ONLY")
    function = deploy(COUNTING)
    lam = aws.client("lambda")
    config = lam.get_function_configuration(FunctionName=function)
    lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream_arn_of(ddb, table),
        StartingPosition="LATEST",
        BatchSize=1,
    )
    assert _calls(aws, ddb, table, function, "a") == "CALLS 1"
    assert _calls(aws, ddb, table, function, "b") == "CALLS 2"  # warm: the global survived
    runtime = aws.lambda_service.runtime
    alive = runtime.stats().set_index("function")["workers_alive"]
    assert alive[function] == 1

    lam.delete_function(FunctionName=function)
    alive = runtime.stats().set_index("function")["workers_alive"]
    assert alive[function] == 0  # retired at once, not when the name is next invoked

    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=config["Role"],
        Handler="app.handler",
        Code={"ZipFile": zip_source(COUNTING)},
    )
    assert _calls(aws, ddb, table, function, "c") == "CALLS 1"  # same code, new function: cold
    _clean_up(aws, ddb, table, function)


def test_a_configuration_change_starts_new_environments(aws, ddb, make_table, deploy, fast_polling):
    table = make_table("KEYS_ONLY")
    function = deploy(COUNTING)
    lam = aws.client("lambda")
    lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream_arn_of(ddb, table),
        StartingPosition="LATEST",
        BatchSize=1,
    )
    assert _calls(aws, ddb, table, function, "a") == "CALLS 1"
    assert _calls(aws, ddb, table, function, "b") == "CALLS 2"
    other_role = aws.client("iam").create_role(
        RoleName=f"{function}-other", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lam.update_function_configuration(FunctionName=function, Role=other_role)
    assert _calls(aws, ddb, table, function, "c") == "CALLS 1"
    lam.update_function_configuration(FunctionName=function, Timeout=20)
    assert _calls(aws, ddb, table, function, "d") == "CALLS 1"
    lam.update_function_code(FunctionName=function, ZipFile=zip_source(COUNTING + "\n# v2\n"))
    assert _calls(aws, ddb, table, function, "e") == "CALLS 1"
    assert _calls(aws, ddb, table, function, "f") == "CALLS 2"
    _clean_up(aws, ddb, table, function)


def _clean_up(aws, ddb, table, function):
    lam = aws.client("lambda")
    for mapping in lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    lam.delete_function(FunctionName=function)
    ddb.delete_table(TableName=table)
