"""Helpers the tests share (fixtures stay in conftest.py): AWS's sample events, plain-boto3 readers,
deployment packages, stubbed and viewed backends, and the checks of what teardown found."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from streamkit.backends import RUN_TAG, Backend

ROOT = Path(__file__).resolve().parents[1]
#: AWS's real sample events, as shared with the team (the package ships a copy).
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures" / "aws-events"
PACKAGED_FIXTURES = ROOT / "streamkit" / "data" / "aws-events"
#: The example Lambda functions.
FUNCTIONS = ROOT / "functions"

_unique = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test of the session uses: ``prefix`` and a number."""
    return f"{prefix}{next(_unique)}"


def load_fixture(name: str) -> dict[str, Any]:
    """An AWS sample event: from ../shared when present, else the packaged copy."""
    folder = SHARED_FIXTURES if SHARED_FIXTURES.is_dir() else PACKAGED_FIXTURES
    return json.loads((folder / f"{name}.json").read_text())


def read_all(streams_client: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every record of a stream through the plain Streams API (no streamkit helper involved)."""
    records: list[dict[str, Any]] = []
    shards = streams_client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams_client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = streams_client.get_records(ShardIterator=iterator)
            records.extend(response["Records"])
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    return records


def function_source(
    tmp_path: Path, body: str = "def handler(event, context):\n    return None\n"
) -> Path:
    """A function's source folder: ``app.py`` (``body``), a package, and what a deployment package
    leaves out (``__pycache__``, ``*.pyc``, ``.DS_Store``)."""
    folder = tmp_path / "src"
    (folder / "pkg" / "__pycache__").mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(body)
    (folder / "pkg" / "util.py").write_text("X = 1\n")
    (folder / "pkg" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\0junk")
    (folder / "stale.pyc").write_bytes(b"\0junk")
    (folder / ".DS_Store").write_bytes(b"junk")
    return folder


def stream_arn_of(client: Any, table: str) -> str:
    return client.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def zip_files(files: dict[str, str]) -> bytes:
    """A Lambda deployment package holding these files (name -> text)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, source)
    return buffer.getvalue()


def zip_source(source: str, name: str = "app.py") -> bytes:
    """A Lambda deployment package holding one Python file."""
    return zip_files({name: source})


_spec_names = itertools.count(1)


def function_spec(
    files: str | dict[str, str],
    handler: str,
    *,
    runtime: str,
    file_name: str,
    name: str | None = None,
    timeout_s: float = 5.0,
    memory_mb: int = 128,
    environment: dict[str, str] | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
) -> Any:
    """A ``FunctionSpec`` for the local runtime, straight from source (``files``: one file's text,
    stored as ``file_name``, or name -> text), named ``fn-<n>`` unless ``name`` is given."""
    from streamkit.local.runtime import FunctionSpec, code_sha256

    if isinstance(files, str):
        files = {file_name: files}
    name = name or f"fn-{next(_spec_names)}"
    code = zip_files(files)
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:{region}:{account_id}:function:{name}",
        handler=handler,
        runtime=runtime,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        environment=environment or {},
        code=code,
        code_sha256=code_sha256(code),
        region=region,
        account_id=account_id,
    )


# -- backends for what only AWS does, and views of the embedded one ---------------------------------

#: The prefix and run id of :class:`StubbedAWS` (kind "aws" always has a prefix).
STUB_PREFIX = "streamkit-"
STUB_RUN = "20261127-150312-3fa9"
STUB_TAGS = {RUN_TAG: STUB_RUN}
STUB_ACCOUNT = "123456789012"


class LocalView(Backend):
    """The session's embedded backend with a prefix and run id of its own, so teardown tests find
    and delete only what they made (other test modules make resources on the shared backend)."""

    kind = "local"

    def __init__(self, aws: Backend, prefix: str, run_id: str | None = None):
        super().__init__(aws.region, aws.endpoint_url, aws.session, prefix=prefix, run_id=run_id)
        self.account_id = aws.account_id


class StubbedAWS(Backend):
    """A real-AWS-kind backend whose clients are botocore Stubbers: every call must be expected."""

    kind = "aws"

    _session: boto3.Session | None = None  # shared: loading service models once keeps tests fast

    def __init__(self) -> None:
        if StubbedAWS._session is None:
            StubbedAWS._session = boto3.Session(
                aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
            )
        super().__init__(
            "us-east-1", None, StubbedAWS._session, prefix=STUB_PREFIX, run_id=STUB_RUN
        )
        self.account_id = STUB_ACCOUNT  # no STS call
        self.stubbers: dict[str, Stubber] = {}

    def client(self, service_name: str) -> Any:
        client = super().client(service_name)
        if service_name not in self.stubbers:
            self.stubbers[service_name] = Stubber(client)
            self.stubbers[service_name].activate()
        return client

    def stub(self, service_name: str) -> Stubber:
        self.client(service_name)
        return self.stubbers[service_name]


def client_error(code: str, message: str, status: int = 400) -> dict[str, Any]:
    """Keyword arguments of ``Stubber.add_client_error`` for an AWS error."""
    return {"service_error_code": code, "service_message": message, "http_status_code": status}


def inventory(backend: Any, prefix: str) -> set[tuple[str, str]]:
    """Every resource whose name starts with ``prefix``, listed service by service with plain
    boto3 calls (no streamkit helper), as ``(kind, name)``; mappings by the function they invoke."""
    lam, logs, iam = (backend.client(s) for s in ("lambda", "logs", "iam"))
    sqs, sns, s3, ddb = (backend.client(s) for s in ("sqs", "sns", "s3", "dynamodb"))
    found: set[tuple[str, str]] = set()
    for page in lam.get_paginator("list_functions").paginate():
        found |= {("function", f["FunctionName"]) for f in page["Functions"]}
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        found |= {
            ("event-source-mapping", m["UUID"])
            for m in page["EventSourceMappings"]
            if m["FunctionArn"].rsplit(":", 1)[-1].startswith(prefix)
        }
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=f"/aws/lambda/{prefix}"
    ):
        found |= {("log-group", g["logGroupName"]) for g in page["logGroups"]}
    for page in iam.get_paginator("list_roles").paginate():
        found |= {("role", r["RoleName"]) for r in page["Roles"]}
    for url in sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        found.add(("queue", url.rsplit("/", 1)[-1]))
    for page in sns.get_paginator("list_topics").paginate():
        found |= {("topic", t["TopicArn"].rsplit(":", 1)[-1]) for t in page["Topics"]}
    found |= {("bucket", b["Name"]) for b in s3.list_buckets().get("Buckets", [])}
    for page in ddb.get_paginator("list_tables").paginate():
        found |= {("table", name) for name in page["TableNames"]}
    return {
        (kind, name)
        for kind, name in found
        if kind == "event-source-mapping"
        or name.startswith(prefix)
        or name.startswith(f"/aws/lambda/{prefix}")
    }


#: The order teardown deletes in: what depends on something comes before it.
TEARDOWN_ORDER = [
    "event-source-mapping",
    "function",
    "log-group",
    "role",
    "queue",
    "topic",
    "bucket",
    "table",
]


def assert_in_dependency_order(report: Any) -> None:
    """A teardown report's rows come in :data:`TEARDOWN_ORDER`."""
    kinds = report["kind"].tolist()
    assert kinds == sorted(kinds, key=TEARDOWN_ORDER.index), kinds


#: What AWS echoes for a DynamoDB stream mapping created with nothing but its required parameters
#: (AWS-FACTS §7, recorded against AWS).
AWS_MAPPING_DEFAULTS = {
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "ParallelizationFactor": 1,
    "BisectBatchOnFunctionError": False,
    "MaximumRecordAgeInSeconds": -1,
    "MaximumRetryAttempts": -1,
    "TumblingWindowInSeconds": 0,
    "FunctionResponseTypes": [],
    "DestinationConfig": {"OnFailure": {}},
}
