"""Shared fixtures: one embedded backend for the whole session, a fresh table per test."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from streamkit.local import LocalAWS

ROOT = Path(__file__).resolve().parents[1]
#: AWS's real sample events, as shared with the team (the package ships a copy).
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures" / "aws-events"
PACKAGED_FIXTURES = ROOT / "streamkit" / "data" / "aws-events"

_names = itertools.count(1)


def load_fixture(name: str) -> dict[str, Any]:
    """An AWS sample event: from ../shared when present, else the packaged copy."""
    folder = SHARED_FIXTURES if SHARED_FIXTURES.is_dir() else PACKAGED_FIXTURES
    return json.loads((folder / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def aws():
    backend = LocalAWS().start()
    yield backend
    backend.stop()


@pytest.fixture
def ddb(aws):
    return aws.client("dynamodb")


@pytest.fixture
def streams_client(aws):
    return aws.client("dynamodbstreams")


@pytest.fixture
def make_table(aws):
    """Create a uniquely named table with a stream: ``make_table(view_type, hash=..., range=...)``."""

    def make(
        view_type: str | None = "NEW_AND_OLD_IMAGES",
        hash_key: tuple[str, str] = ("pk", "S"),
        range_key: tuple[str, str] | None = None,
        client: Any = None,
    ) -> str:
        name = f"t{next(_names)}"
        keys = [hash_key] + ([range_key] if range_key else [])
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [
                {"AttributeName": k, "KeyType": kt}
                for (k, _), kt in zip(keys, ("HASH", "RANGE")[: len(keys)], strict=True)
            ],
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in keys],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if view_type:
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
        (client or aws.client("dynamodb")).create_table(**args)
        return name

    return make


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


def stream_arn_of(client: Any, table: str) -> str:
    return client.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def zip_source(source: str, name: str = "app.py") -> bytes:
    """A Lambda deployment package holding one Python file."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


@pytest.fixture
def fast_polling(aws):
    """The local Lambda service polls every 10 ms during the test (AWS's 250 ms after it)."""
    aws.set_poll_interval(0.01)
    yield
    aws.set_poll_interval(0.25)


@pytest.fixture
def deploy(aws):
    """Deploy a function from Python source with the plain Lambda API: ``deploy(source)`` -> name."""
    iam, lam = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName=f"test-role-{next(_names)}", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]

    def deploy(source: str, timeout: int = 30) -> str:
        name = f"test-fn-{next(_names)}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": zip_source(source)},
            Timeout=timeout,
        )
        return name

    return deploy
