"""``streamkit teardown``: leftovers of earlier runs, found by prefix and tag, deleted only with --yes."""

from __future__ import annotations

import itertools

import pytest

import streamkit
from streamkit import streams
from streamkit.__main__ import main as streamkit_main
from streamkit.cleanup import main

_prefixes = (f"cli{n}-" for n in itertools.count(1))


@pytest.fixture
def leftovers(aws):
    """Two earlier runs' tables, plus an untagged table with the same prefix."""
    prefix = next(_prefixes)
    runs = [
        streamkit.connect(aws.endpoint_url, prefix=prefix, run_id=f"20261127-150000-000{n}")
        for n in range(2)
    ]
    for number, run in enumerate(runs):
        streams.create_users_table(run, f"Users{number}")
    aws.client("dynamodb").create_table(
        TableName=f"{prefix}NotOurs",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return aws.endpoint_url, prefix, [run.run_id for run in runs]


def tables(aws, prefix):
    return sorted(
        t for t in aws.client("dynamodb").list_tables()["TableNames"] if t.startswith(prefix)
    )


def test_without_yes_it_only_shows(aws, leftovers, capsys):
    url, prefix, run_ids = leftovers
    assert main(["--backend", url, "--prefix", prefix, "--all-runs"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.strip().startswith("table ")]
    assert sorted(line.split()[1] for line in rows if line.endswith("would delete")) == [
        f"{prefix}Users0",
        f"{prefix}Users1",
    ]
    assert any(line.endswith("kept: not created by streamkit") for line in rows)
    assert "2 resource(s) would be deleted: run again with --yes" in out
    assert tables(aws, prefix) == [f"{prefix}NotOurs", f"{prefix}Users0", f"{prefix}Users1"]


def test_one_run_with_yes(aws, leftovers, capsys):
    url, prefix, run_ids = leftovers
    assert main(["--backend", url, "--prefix", prefix, "--run", run_ids[0], "--yes"]) == 0
    out = capsys.readouterr().out
    assert "deleted" in out and "kept: another run" in out
    assert tables(aws, prefix) == [f"{prefix}NotOurs", f"{prefix}Users1"]


def test_all_runs_with_yes_never_deletes_the_untagged(aws, leftovers, capsys):
    url, prefix, _ = leftovers
    assert (
        streamkit_main(["teardown", "--backend", url, "--prefix", prefix, "--all-runs", "--yes"])
        == 0
    )
    assert tables(aws, prefix) == [f"{prefix}NotOurs"]
    capsys.readouterr()
    assert main(["--backend", url, "--prefix", prefix, "--all-runs", "--yes"]) == 0
    assert "would delete" not in capsys.readouterr().out
    assert tables(aws, prefix) == [f"{prefix}NotOurs"]


def test_nothing_found(aws, capsys):
    assert main(["--backend", aws.endpoint_url, "--prefix", "nothing-here-", "--all-runs"]) == 0
    assert "Nothing named nothing-here-* was found." in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["--all-runs"],  # no backend: real AWS is never the default
        ["--backend", "aws"],  # neither --run nor --all-runs
        ["--backend", "aws", "--run", "x", "--all-runs"],
    ],
)
def test_refuses_incomplete_commands(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2


def test_errors_are_reported_not_raised(aws, capsys):
    assert main(["--backend", aws.endpoint_url, "--prefix", "Bad_", "--all-runs"]) == 1
    assert "error: Invalid prefix" in capsys.readouterr().out
