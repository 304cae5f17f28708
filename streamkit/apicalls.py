"""Show the API: the AWS calls a cell made, as boto3 code, AWS CLI commands and CloudFormation.

The helpers (``streams.enable_stream``, ``iam.create_execution_role``, ``triggers.create_trigger``,
...) make ordinary AWS API calls through the backend's boto3 clients. While a
:meth:`Backend.show_calls() <streamkit.backends.Backend.show_calls>` block runs, the backend records
each call with its parameters (:class:`ApiCall`); at the end of the block a :class:`CallLog` shows
the calls that changed something in three forms a reader can carry into their own work:

* the **boto3** calls, as Python to paste;
* the equivalent **AWS CLI** commands (one per call, parameters in the CLI's spelling, structures
  as JSON, deployment packages as ``fileb://``);
* a **CloudFormation** template of the resources those calls made (``AWS::DynamoDB::Table`` with
  its ``StreamSpecification``, ``AWS::IAM::Role`` with its inline policies,
  ``AWS::Lambda::Function``, ``AWS::Lambda::EventSourceMapping``, ``AWS::SQS::Queue``,
  ``AWS::Logs::LogGroup``), resources referring to each other with ``!Ref`` / ``!GetAtt``; and,
  when a function and its trigger are both there, the same as an AWS SAM function with a
  ``DynamoDB`` event.

Reads (``Describe*``, ``Get*``, ``List*``) are recorded but shown only on request
(``reads=True``): the helpers make many while they wait. Nothing here calls AWS.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import keyword
import pprint
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiCall", "CallLog", "summarize_params"]

#: Operation name prefixes of calls that change something (shown by default).
CHANGING = (
    "Create",
    "Update",
    "Put",
    "Delete",
    "Tag",
    "Untag",
    "Attach",
    "Detach",
    "Add",
    "Remove",
    "Enable",
    "Disable",
    "Publish",
    "Send",
    "Verify",
    "Set",
    "Batch",
    "Transact",
)

#: boto3 service names whose AWS CLI command differs.
_CLI_SERVICE = {"s3": "s3api"}


@dataclass(frozen=True)
class Blob:
    """A binary parameter (a deployment package): its size and SHA-256, not its bytes."""

    size: int
    sha256: str

    def __repr__(self) -> str:  # as Python: the file the package was zipped into
        return "open('function.zip', 'rb').read()"


@dataclass(frozen=True)
class ApiCall:
    """One AWS API call as the caller made it.

    Attributes
    ----------
    service : str
        The boto3 service name (``"dynamodb"``, ``"lambda"``, ``"iam"``, ...).
    operation : str
        The API operation (``"UpdateTable"``, ``"CreateEventSourceMapping"``, ...).
    params : dict
        Its parameters, as passed to boto3; bytes are replaced by a :class:`Blob`.
    """

    service: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        """Whether the operation changes something (rather than reading)."""
        return self.operation.startswith(CHANGING)

    @property
    def method(self) -> str:
        """The boto3 method name, e.g. ``update_table``."""
        return _snake(self.operation)


def summarize_params(value: Any) -> Any:
    """A copy of call parameters to keep: bytes become a :class:`Blob` (size and SHA-256)."""
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return Blob(len(data), digest)
    if isinstance(value, dict):
        return {key: summarize_params(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [summarize_params(item) for item in value]
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _kebab(name: str) -> str:
    return _snake(name).replace("_", "-")


def _json_document(value: Any) -> Any:
    """A JSON policy document given as a string, parsed; anything else unchanged."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# -- boto3 ------------------------------------------------------------------------------------------


def _python_value(value: Any, indent: int) -> str:
    document = _json_document(value)
    if document is not value:
        text = pprint.pformat(document, width=96 - indent, sort_dicts=False)
        text = f"json.dumps({text})"
    elif isinstance(value, Blob):
        return f'open("function.zip", "rb").read()  # {value.size:,} bytes'
    else:
        text = pprint.pformat(value, width=96 - indent, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def _client_name(service: str) -> str:
    """The variable a client is kept in: the service name (``lambda_``: a Python keyword)."""
    name = _snake(service)
    return name + "_" if keyword.iskeyword(name) else name


def _boto3(calls: list[ApiCall]) -> str:
    services = list(dict.fromkeys(call.service for call in calls))
    uses_json = any(_json_document(v) is not v for call in calls for v in call.params.values())
    lines = (["import json", ""] if uses_json else []) + ["import boto3", ""]
    lines += [f'{_client_name(s)} = boto3.client("{s}")' for s in services]
    for call in calls:
        lines.append("")
        if not call.params:
            lines.append(f"{_client_name(call.service)}.{call.method}()")
            continue
        lines.append(f"{_client_name(call.service)}.{call.method}(")
        for name, value in call.params.items():
            text = f"    {name}={_python_value(value, 4)},"
            if isinstance(value, dict) and any(isinstance(v, Blob) for v in value.values()):
                blob = next(v for v in value.values() if isinstance(v, Blob))
                text += f"  # the zip: {blob.size:,} bytes, CodeSha256 {blob.sha256}"
            lines.append(text)
        lines.append(")")
    return "\n".join(lines)


# -- AWS CLI ----------------------------------------------------------------------------------------


def _cli_value(value: Any) -> str:
    if isinstance(value, Blob):
        return "fileb://function.zip"
    if isinstance(value, str):
        return shlex.quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return shlex.quote(json.dumps(value, separators=(",", ":"), default=repr))


def _cli(calls: list[ApiCall]) -> str:
    commands = []
    for call in calls:
        words = [f"aws {_CLI_SERVICE.get(call.service, call.service)} {_kebab(call.operation)}"]
        for name, value in call.params.items():
            if (
                name == "Code"
                and isinstance(value, dict)
                and isinstance(value.get("ZipFile"), Blob)
            ):
                words.append("--zip-file fileb://function.zip")  # the CLI's shorthand
                continue
            if isinstance(value, bool):  # the CLI spells booleans as a flag and its --no- form
                words.append(f"--{'' if value else 'no-'}{_kebab(name)}")
            else:
                words.append(f"--{_kebab(name)} {_cli_value(value)}")
        commands.append(" \\\n    ".join(words))
    return "\n\n".join(commands)


# -- CloudFormation and SAM -------------------------------------------------------------------------


class _Intrinsic:
    """``!Ref X`` or ``!GetAtt X.Attr`` in the YAML written."""

    def __init__(self, tag: str, value: str):
        self.tag, self.value = tag, value


def _logical_id(name: str, prefix: str, suffix: str) -> str:
    short = name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    if prefix and short.startswith(prefix):
        short = short[len(prefix) :]
    for ending in ("-role", "_role"):
        short = short.removesuffix(ending)
    words = re.split(r"[^A-Za-z0-9]+", short)
    camel = "".join(word[:1].upper() + word[1:] for word in words if word)
    return (camel or "Resource") + suffix


def _tags_list(params: dict[str, Any]) -> list[dict[str, str]] | None:
    tags = params.get("Tags")
    if isinstance(tags, dict):
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    return tags


def _template(calls: list[ApiCall], prefix: str) -> tuple[dict[str, Any], list[str]]:
    """CloudFormation resources for what the calls made, and notes on what has no resource."""
    resources: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    by_name: dict[tuple[str, str], str] = {}  # (kind, physical name or ARN) -> logical id

    def add(kind: str, name: str, suffix: str, cfn_type: str) -> dict[str, Any]:
        logical = by_name.get((kind, name)) or _logical_id(name, prefix, suffix)
        by_name[(kind, name)] = logical
        resource = resources.setdefault(logical, {"Type": cfn_type, "Properties": {}})
        return resource["Properties"]

    for call in calls:
        p = call.params
        key = (call.service, call.operation)
        if key == ("dynamodb", "CreateTable"):
            props = add("table", p["TableName"], "Table", "AWS::DynamoDB::Table")
            for name in (
                "TableName",
                "KeySchema",
                "AttributeDefinitions",
                "BillingMode",
                "ProvisionedThroughput",
                "GlobalSecondaryIndexes",
            ):
                if name in p:
                    props[name] = p[name]
            spec = p.get("StreamSpecification") or {}
            if spec.get("StreamEnabled"):
                props["StreamSpecification"] = {"StreamViewType": spec["StreamViewType"]}
            if p.get("Tags"):
                props["Tags"] = p["Tags"]
        elif key == ("dynamodb", "UpdateTable") and "StreamSpecification" in p:
            props = add("table", p["TableName"], "Table", "AWS::DynamoDB::Table")
            props.setdefault("TableName", p["TableName"])
            spec = p["StreamSpecification"]
            if spec.get("StreamEnabled"):
                props["StreamSpecification"] = {"StreamViewType": spec["StreamViewType"]}
            else:
                props.pop("StreamSpecification", None)
        elif key == ("iam", "CreateRole"):
            props = add("role", p["RoleName"], "Role", "AWS::IAM::Role")
            props["RoleName"] = p["RoleName"]
            props["AssumeRolePolicyDocument"] = _json_document(p["AssumeRolePolicyDocument"])
            if p.get("Description"):
                props["Description"] = p["Description"]
            if p.get("Tags"):
                props["Tags"] = p["Tags"]
        elif key == ("iam", "PutRolePolicy"):
            props = add("role", p["RoleName"], "Role", "AWS::IAM::Role")
            props.setdefault("RoleName", p["RoleName"])
            policies = [x for x in props.get("Policies", []) if x["PolicyName"] != p["PolicyName"]]
            policies.append(
                {
                    "PolicyName": p["PolicyName"],
                    "PolicyDocument": _json_document(p["PolicyDocument"]),
                }
            )
            props["Policies"] = policies
        elif key == ("iam", "AttachRolePolicy"):
            props = add("role", p["RoleName"], "Role", "AWS::IAM::Role")
            props.setdefault("ManagedPolicyArns", []).append(p["PolicyArn"])
        elif key in (("lambda", "CreateFunction"), ("lambda", "UpdateFunctionConfiguration")):
            props = add("function", p["FunctionName"], "Function", "AWS::Lambda::Function")
            props.setdefault("FunctionName", p["FunctionName"])
            for name in (
                "Description",
                "Runtime",
                "Handler",
                "Role",
                "Timeout",
                "MemorySize",
                "Environment",
                "Architectures",
                "Layers",
            ):
                if p.get(name) and p.get(name) != {"Variables": {}}:
                    props[name] = p[name]
            if "Code" in p:
                props["Code"] = {"S3Bucket": "<your-bucket>", "S3Key": "function.zip"}
            if p.get("Tags"):
                props["Tags"] = _tags_list(p)
        elif key == ("lambda", "UpdateFunctionCode"):
            props = add("function", p["FunctionName"], "Function", "AWS::Lambda::Function")
            props["Code"] = {"S3Bucket": "<your-bucket>", "S3Key": "function.zip"}
        elif key in (
            ("lambda", "CreateEventSourceMapping"),
            ("lambda", "UpdateEventSourceMapping"),
        ):
            name = p.get("FunctionName") or p.get("UUID", "Trigger")
            props = add(
                "mapping", p.get("UUID") or name, "Trigger", "AWS::Lambda::EventSourceMapping"
            )
            for param, value in p.items():
                if param == "UUID":
                    continue
                if param == "FunctionResponseTypes" and not value:
                    continue
                props[param] = value
            if p.get("Tags"):
                props["Tags"] = _tags_list(p)
        elif key == ("sqs", "CreateQueue"):
            props = add("queue", p["QueueName"], "Queue", "AWS::SQS::Queue")
            props["QueueName"] = p["QueueName"]
            if p.get("tags"):
                props["Tags"] = [{"Key": k, "Value": v} for k, v in p["tags"].items()]
        elif key == ("logs", "CreateLogGroup"):
            props = add("log", p["logGroupName"], "LogGroup", "AWS::Logs::LogGroup")
            props["LogGroupName"] = p["logGroupName"]
            if p.get("tags"):
                props["Tags"] = [{"Key": k, "Value": v} for k, v in p["tags"].items()]
        elif key == ("logs", "PutRetentionPolicy"):
            props = add("log", p["logGroupName"], "LogGroup", "AWS::Logs::LogGroup")
            props["RetentionInDays"] = p["retentionInDays"]
        elif call.operation.startswith(("Tag", "Untag")):
            continue  # tags are part of the resources above
        elif call.operation.startswith(("Delete", "Remove", "Detach")):
            notes.append(
                f"{call.operation}: deleting a resource means removing it from the template"
            )
        else:
            notes.append(f"{call.operation}: a runtime call, not a resource")
    _link(resources)
    return resources, list(dict.fromkeys(notes))


def _link(resources: dict[str, dict[str, Any]]) -> None:
    """Replace names and ARNs of resources in the template by ``!Ref`` / ``!GetAtt``."""
    tables = {
        r["Properties"].get("TableName"): lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    roles = {
        r["Properties"].get("RoleName"): lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::IAM::Role"
    }
    functions = {
        r["Properties"].get("FunctionName"): lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
    }
    queues = {
        r["Properties"].get("QueueName"): lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::SQS::Queue"
    }
    for resource in resources.values():
        props = resource["Properties"]
        role = props.get("Role")
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(role, str):
            name = role.rsplit("/", 1)[-1]
            if name in roles:
                props["Role"] = _Intrinsic("!GetAtt", f"{roles[name]}.Arn")
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            source = props.get("EventSourceArn")
            if isinstance(source, str) and "/stream/" in source:
                table = source.split(":table/", 1)[-1].split("/stream/", 1)[0]
                if table in tables:
                    props["EventSourceArn"] = _Intrinsic("!GetAtt", f"{tables[table]}.StreamArn")
            function = props.get("FunctionName")
            if isinstance(function, str) and function.rsplit(":", 1)[-1] in functions:
                props["FunctionName"] = _Intrinsic("!Ref", functions[function.rsplit(":", 1)[-1]])
            on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
            destination = on_failure.get("Destination")
            if isinstance(destination, str) and destination.rsplit(":", 1)[-1] in queues:
                on_failure["Destination"] = _Intrinsic(
                    "!GetAtt", f"{queues[destination.rsplit(':', 1)[-1]]}.Arn"
                )
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"].get("Statement", []):
                    resource_arn = statement.get("Resource")
                    if isinstance(resource_arn, str) and ":table/" in resource_arn:
                        table = resource_arn.split(":table/", 1)[1].split("/", 1)[0]
                        if table in tables and resource_arn.endswith("/stream/*"):
                            statement["Resource"] = _Intrinsic(
                                "!Sub", "${" + tables[table] + ".Arn}/stream/*"
                            )


#: The properties of a SAM ``DynamoDB`` event (AWS SAM's ``DynamoDB`` event source type).
_SAM_STREAM_PROPERTIES = (
    "StartingPosition",
    "StartingPositionTimestamp",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "DestinationConfig",
    "FunctionResponseTypes",
    "FilterCriteria",
    "TumblingWindowInSeconds",
    "Enabled",
)


def _sam(resources: dict[str, dict[str, Any]], prefix: str) -> dict[str, dict[str, Any]] | None:
    """The function and its trigger as one ``AWS::Serverless::Function`` (SAM), if both are there."""
    functions = {lid: r for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    mappings = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    if not functions or not mappings:
        return None
    out: dict[str, dict[str, Any]] = {}
    for lid, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            continue
        if resource["Type"] == "AWS::Lambda::Function":
            props = dict(resource["Properties"])
            props.pop("Code", None)
            short = str(props.get("FunctionName", "function"))
            if prefix and short.startswith(prefix):
                short = short[len(prefix) :]
            props = {"CodeUri": f"functions/{short}/", **props}
            events: dict[str, Any] = {}
            for mapping in mappings:
                target = mapping["Properties"].get("FunctionName")
                if isinstance(target, _Intrinsic) and target.value == lid:
                    stream = {
                        k: v
                        for k, v in mapping["Properties"].items()
                        if k in _SAM_STREAM_PROPERTIES
                    }
                    stream = {"Stream": mapping["Properties"].get("EventSourceArn"), **stream}
                    events[f"Stream{len(events) + 1}"] = {"Type": "DynamoDB", "Properties": stream}
            if events:
                props["Events"] = events
            out[lid] = {"Type": "AWS::Serverless::Function", "Properties": props}
        else:
            out[lid] = resource
    return out


def _yaml(document: dict[str, Any]) -> str:
    import yaml  # type: ignore[import-untyped,unused-ignore]

    class Dumper(yaml.SafeDumper):
        pass

    def intrinsic(dumper: yaml.SafeDumper, value: _Intrinsic) -> Any:
        return dumper.represent_scalar(value.tag, value.value)

    def blob(dumper: yaml.SafeDumper, value: Blob) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", repr(value))

    Dumper.add_representer(_Intrinsic, intrinsic)
    Dumper.add_representer(Blob, blob)
    return yaml.dump(document, Dumper=Dumper, sort_keys=False, width=100, default_flow_style=False)


# -- the log ----------------------------------------------------------------------------------------


class CallLog:
    """The calls a ``show_calls()`` block made, shown as boto3, AWS CLI and CloudFormation.

    Jupyter shows it as HTML (highlighted code); ``str()`` and its text form give the same as
    plain text. Filled in when the block ends.

    Parameters
    ----------
    calls : iterable of ApiCall
        Every call made, in order.
    reads : bool, default False
        Show the calls that only read too.
    prefix : str, default ""
        The backend's name prefix, left out of CloudFormation logical ids.
    """

    def __init__(self, calls: Iterable[ApiCall] = (), *, reads: bool = False, prefix: str = ""):
        self.all_calls: list[ApiCall] = list(calls)
        self.reads = reads
        self.prefix = prefix

    @property
    def calls(self) -> list[ApiCall]:
        """The calls shown: those that change something (every call with ``reads=True``)."""
        return [c for c in self.all_calls if self.reads or c.changes]

    def boto3(self) -> str:
        """The calls as Python code using boto3."""
        return _boto3(self.calls)

    def cli(self) -> str:
        """The calls as AWS CLI commands."""
        return _cli(self.calls)

    def cloudformation(self) -> str:
        """The resources the calls made, as a CloudFormation template (YAML); '' if none."""
        resources, notes = _template(self.calls, self.prefix)
        if not resources:
            return ""
        text = _yaml({"Resources": resources})
        return text + "".join(f"# {note}\n" for note in notes)

    def sam(self) -> str:
        """The same as an AWS SAM template when a function and its trigger were made; '' if not."""
        resources, _ = _template(self.calls, self.prefix)
        sam = _sam(resources, self.prefix)
        if sam is None:
            return ""
        return _yaml({"Transform": "AWS::Serverless-2016-10-31", "Resources": sam})

    def _sections(self) -> list[tuple[str, str, str]]:
        sections = [("boto3", "python", self.boto3()), ("AWS CLI", "bash", self.cli())]
        if self.cloudformation():
            sections.append(("CloudFormation", "yaml", self.cloudformation()))
        if self.sam():
            sections.append(("AWS SAM", "yaml", self.sam()))
        return sections

    def __str__(self) -> str:
        if not self.calls:
            return "No AWS call changed anything."
        return "\n\n".join(f"## {title}\n{text.rstrip()}" for title, _, text in self._sections())

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        if not self.calls:
            return "<p>No AWS call changed anything.</p>"
        operations = ", ".join(dict.fromkeys(f"{c.service}:{c.operation}" for c in self.calls))
        parts = [f"<p><b>AWS calls made</b>: {html.escape(operations)}</p>"]
        for title, language, text in self._sections():
            parts.append(
                f"<details open><summary><b>{html.escape(title)}</b></summary>"
                f"{_highlight(text, language)}</details>"
            )
        return "\n".join(parts)


def _highlight(code: str, language: str) -> str:
    """Code as HTML with inline colours (no stylesheet needed); plain ``<pre>`` without Pygments."""
    try:
        from pygments import highlight  # type: ignore[import-untyped,unused-ignore]
        from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped,unused-ignore]
        from pygments.lexers import get_lexer_by_name  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - Pygments comes with IPython
        return f"<pre>{html.escape(code)}</pre>"
    formatter = HtmlFormatter(noclasses=True, nobackground=True)
    return highlight(code, get_lexer_by_name(language), formatter)
