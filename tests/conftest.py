"""Shared fixtures: one embedded backend for the whole session, a fresh table per test.

Helper functions and classes the tests import live in helpers.py."""

from __future__ import annotations

import itertools
import time
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from helpers import LocalView, StubbedAWS, unique, zip_source

from streamkit import waiting
from streamkit.local import LocalAWS
from streamkit.teardown import teardown

_names = itertools.count(1)

# Every boto3 session of the test process reads botocore's service models through one loader, which
# keeps what it parsed: as one session does for all its clients. The tests make many sessions (each
# LocalAWS, connect() to an endpoint, a client with other keys), and each would parse the same JSON
# models again (~0.1 s a client). Only where the files are read from changes, not what they say.
_LOADERS: dict[str | None, botocore.loaders.Loader] = {}


def _one_loader_per_path(search_path_string: str | None = None) -> botocore.loaders.Loader:
    if search_path_string not in _LOADERS:
        _LOADERS[search_path_string] = botocore.loaders.create_loader(search_path_string)
    return _LOADERS[search_path_string]


botocore.session.create_loader = _one_loader_per_path  # what each new session calls


@pytest.fixture(scope="session")
def aws():
    backend = LocalAWS().start()
    backend.prefix = ""  # the tests name their own resources; prefixes are tested on their own
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
        name = f"t{next(_names):02d}"  # DynamoDB names have 3 characters at least
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
        deployed.append(name)
        return name

    deployed: list[str] = []
    yield deploy
    # Leave nothing behind: some tests list every mapping of the shared backend.
    for name in deployed:
        try:
            mappings = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        except lam.exceptions.ResourceNotFoundException:
            continue
        for mapping in mappings:
            for _ in range(500):  # a mapping still Creating or Updating cannot be deleted yet
                try:
                    lam.delete_event_source_mapping(UUID=mapping["UUID"])
                    break
                except lam.exceptions.ResourceInUseException:
                    time.sleep(0.01)
                except lam.exceptions.ResourceNotFoundException:
                    break


@pytest.fixture
def stubbed(monkeypatch):
    """A stubbed AWS backend, no real sleeping, and a clock that moves only when code sleeps."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(waiting, "_sleep", sleep)
    monkeypatch.setattr(waiting, "_clock", lambda: now[0])
    backend = StubbedAWS()
    backend.slept = slept  # type: ignore[attr-defined]
    return backend


@pytest.fixture
def kit(aws):
    """The embedded backend seen with a prefix and run of its own; what the test made is torn down."""
    view = LocalView(aws, unique("k") + "-")
    yield view
    teardown(view)
