"""`aws.show_calls()`: the calls a helper made, as boto3 code, AWS CLI commands and CloudFormation."""

from __future__ import annotations

import ast

import yaml
from helpers import stream_arn_of

from streamkit import apicalls
from streamkit.apicalls import ApiCall, Blob, CallLog


def _loader():
    class Loader(yaml.SafeLoader):
        pass

    for tag in ("!Ref", "!GetAtt", "!Sub"):
        Loader.add_constructor(
            tag, lambda loader, node, tag=tag: {tag: loader.construct_scalar(node)}
        )
    return Loader


def test_a_block_records_the_calls_made_inside_it_and_shows_the_changing_ones(aws, make_table):
    table = make_table(None)
    with aws.show_calls(display=False) as log:
        aws.client("dynamodb").describe_table(TableName=table)
        aws.client("dynamodb").update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    aws.client("dynamodb").describe_table(TableName=table)  # after the block: not recorded
    assert [(c.service, c.operation) for c in log.all_calls] == [
        ("dynamodb", "DescribeTable"),
        ("dynamodb", "UpdateTable"),
    ]
    assert [c.operation for c in log.calls] == ["UpdateTable"]  # reads hidden by default
    code = log.boto3()
    ast.parse(code)  # valid Python
    assert "dynamodb.update_table(" in code and "'StreamViewType': 'NEW_IMAGE'" in code
    assert log.cli() == (
        f"aws dynamodb update-table \\\n    --table-name {table} \\\n"
        """    --stream-specification '{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}'"""
    )
    template = yaml.load(log.cloudformation(), Loader=_loader())
    (resource,) = template["Resources"].values()
    assert resource == {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {"TableName": table, "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}},
    }
    html = log._repr_html_()
    assert "UpdateTable" in html and "<pre" in html and str(log).startswith("## boto3")
    aws.client("dynamodb").delete_table(TableName=table)  # the session's tables stay few


def test_a_trigger_becomes_a_template_whose_resources_refer_to_each_other(aws, make_table):
    table = make_table("NEW_AND_OLD_IMAGES")
    stream = stream_arn_of(aws.client("dynamodb"), table)
    calls = [
        ApiCall("iam", "CreateRole", {"RoleName": "fn-role", "AssumeRolePolicyDocument": "{}"}),
        ApiCall(
            "lambda",
            "CreateFunction",
            {
                "FunctionName": "fn",
                "Role": "arn:aws:iam::123456789012:role/fn-role",
                "Handler": "app.handler",
                "Runtime": "python3.12",
                "Code": {"ZipFile": apicalls.summarize_params(b"PK\x03\x04zip")},
            },
        ),
        ApiCall(
            "lambda",
            "CreateEventSourceMapping",
            {
                "FunctionName": "fn",
                "EventSourceArn": stream,
                "StartingPosition": "LATEST",
                "BisectBatchOnFunctionError": True,
            },
        ),
    ]
    log = CallLog(calls)
    template = yaml.load(log.cloudformation(), Loader=_loader())["Resources"]
    assert template["FnFunction"]["Properties"]["Role"] == {"!GetAtt": "FnRole.Arn"}
    assert template["FnTrigger"]["Properties"]["FunctionName"] == {"!Ref": "FnFunction"}
    assert template["FnTrigger"]["Properties"]["BisectBatchOnFunctionError"] is True
    sam = yaml.load(log.sam(), Loader=_loader())
    function = sam["Resources"]["FnFunction"]
    assert function["Type"] == "AWS::Serverless::Function"
    assert function["Properties"]["Events"]["Stream1"]["Type"] == "DynamoDB"
    assert function["Properties"]["Events"]["Stream1"]["Properties"]["Stream"] == stream
    cli = log.cli()
    assert "--zip-file fileb://function.zip" in cli and "--bisect-batch-on-function-error" in cli
    code = log.boto3()
    ast.parse(code)
    assert 'lambda_ = boto3.client("lambda")' in code and "CodeSha256" in code


def test_blobs_are_kept_as_size_and_hash():
    blob = apicalls.summarize_params({"Code": {"ZipFile": b"abc"}})["Code"]["ZipFile"]
    assert isinstance(blob, Blob) and blob.size == 3 and len(blob.sha256) == 44
