"""The lowest moto ``pyproject.toml`` allows really runs the embedded backend.

The range in ``pyproject.toml`` is a promise: anyone whose environment already has the lowest
allowed moto must be able to start the backend, stream a record and run a trigger. This test
installs exactly that moto (``pip install --no-deps --target``, from the package index, as CI has
it) into a scratch folder put first on ``PYTHONPATH``, and runs a smoke script in a subprocess
with this environment's other packages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from streamkit.local.moto_compat import TESTED_MOTO

ROOT = Path(__file__).resolve().parents[1]

SMOKE = r"""
import io, json, sys, zipfile
import moto
from streamkit.local import LocalAWS

print("moto", moto.__version__)
with LocalAWS() as aws:
    aws.set_poll_interval(0.01)
    ddb, lam = aws.client("dynamodb"), aws.client("lambda")
    ddb.create_table(
        TableName="Users",
        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "userId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    stream_arn = ddb.describe_table(TableName="Users")["Table"]["LatestStreamArn"]
    role = aws.client("iam").create_role(
        RoleName="r",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    print('GOT', len(event['Records']))\n")
    lam.create_function(
        FunctionName="fn", Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": package.getvalue()},
    )
    lam.create_event_source_mapping(
        FunctionName="fn", EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )
    ddb.put_item(TableName="Users", Item={"userId": {"S": "u1"}, "name": {"S": "Ana"}})
    aws.settle(30)
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    (record,) = streams.get_records(ShardIterator=iterator)["Records"]
    print("record", record["eventName"], record["eventVersion"], record["dynamodb"]["SizeBytes"])
    state = aws.mapping_state()
    print("invoked", int(state["records"].sum()), int(state["errors"].sum()))
"""


def _floor() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (moto,) = [d for d in deps if d.startswith("moto")]
    match = re.search(r">=([\d.]+)", moto)
    assert match, moto
    return match.group(1)


def test_the_floor_is_the_tested_range():
    assert _floor() == ".".join(map(str, TESTED_MOTO[0]))


@pytest.mark.slow
def test_the_lowest_allowed_moto_runs_the_backend(tmp_path):
    floor = _floor()
    target = tmp_path / "moto-floor"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
        # no bytecode for the ~2,000 modules of moto: the smoke run compiles the few it imports
        + ["--no-compile", f"moto=={floor}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, (
        f"could not install moto=={floor} from the package index (CI reaches PyPI): "
        + install.stderr[-2000:]
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run(
        [sys.executable, "-c", SMOKE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0] == f"moto {floor}"
    assert "record INSERT 1.1 " in run.stdout
    assert "invoked 1 0" in run.stdout
