"""PartiQL as DynamoDB runs it (issue 15): the statement forms AWS accepts are run, and each gives
the stream record an ordinary write would (INSERT, MODIFY, REMOVE, or none when nothing changed);
statements AWS refuses get its ValidationException; nothing is ever an internal error.

moto's own reader (py-partiql-parser) fails on most of these forms with an AssertionError; see
streamkit.local.partiql for the sources of the messages."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from helpers import read_all, stream_arn_of

MALFORMED = "Statement wasn't well formed, can't be processed: "


@pytest.fixture
def table(ddb, make_table):
    name = make_table("NEW_AND_OLD_IMAGES")
    ddb.put_item(
        TableName=name,
        Item={
            "pk": {"S": "a"},
            "n": {"N": "1"},
            "l": {"L": [{"N": "1"}]},
            "m": {"M": {"k": {"S": "v"}}},
            "tags": {"SS": ["x"]},
            "gone": {"S": "soon"},
        },
    )
    return name


def _records(ddb, streams_client, table):
    return read_all(streams_client, stream_arn_of(ddb, table))[1:]  # after the fixture's INSERT


def _run(ddb, statement, parameters=None):
    args = {"Statement": statement}
    if parameters is not None:
        args["Parameters"] = parameters
    return ddb.execute_statement(**args)


UPDATES = [
    ("UPDATE {t} SET n=2 WHERE pk='a'", {"n": {"N": "2"}}),
    ('UPDATE "{t}" SET "n" = 2.50 WHERE "pk" = \'a\'', {"n": {"N": "2.5"}}),
    ("UPDATE {t} SET n=-7 WHERE pk='a'", {"n": {"N": "-7"}}),
    ("UPDATE {t} SET n = n + 1 WHERE pk = 'a'", {"n": {"N": "2"}}),
    ("UPDATE {t} SET s='it''s' WHERE pk='a'", {"s": {"S": "it's"}}),
    ("UPDATE {t} SET b=true, z=null WHERE pk='a'", {"b": {"BOOL": True}, "z": {"NULL": True}}),
    (
        "UPDATE {t} SET l=[1,'x',[2]] WHERE pk='a'",
        {"l": {"L": [{"N": "1"}, {"S": "x"}, {"L": [{"N": "2"}]}]}},
    ),
    (
        "UPDATE {t} SET m={'k': 1, 'j': {'deep': 'yes'}} WHERE pk='a'",
        {"m": {"M": {"k": {"N": "1"}, "j": {"M": {"deep": {"S": "yes"}}}}}},
    ),
    ("UPDATE {t} SET m.k = 'w' WHERE pk='a'", {"m": {"M": {"k": {"S": "w"}}}}),
    ("UPDATE {t} SET l[0] = 9 WHERE pk='a'", {"l": {"L": [{"N": "9"}]}}),
    ("UPDATE {t} SET l = list_append(l, [2]) WHERE pk='a'", {"l": {"L": [{"N": "1"}, {"N": "2"}]}}),
    ("UPDATE {t} SET tags = set_add(tags, <<'y'>>) WHERE pk='a'", {"tags": {"SS": ["x", "y"]}}),
    ("UPDATE {t} SET ns = <<1, 2.0>> WHERE pk='a'", {"ns": {"NS": ["1", "2"]}}),
    ("UPDATE {t} REMOVE gone WHERE pk='a'", {"gone": None}),
    (
        "UPDATE {t} SET n=3 SET q='x' REMOVE gone WHERE pk='a' AND n = 1",
        {"n": {"N": "3"}, "q": {"S": "x"}, "gone": None},
    ),
    ("UPDATE {t} SET n=? WHERE pk=?", {"n": {"N": "8"}}),
]


@pytest.mark.parametrize(("statement", "changed"), UPDATES)
def test_update_forms_give_one_modify_record(ddb, streams_client, table, statement, changed):
    parameters = [{"N": "8"}, {"S": "a"}] if "?" in statement else None
    assert _run(ddb, statement.replace("{t}", table), parameters)["Items"] == []
    (record,) = _records(ddb, streams_client, table)
    assert record["eventName"] == "MODIFY"
    new = record["dynamodb"]["NewImage"]
    for name, value in changed.items():
        if value is None:
            assert name not in new
        elif "SS" in value or "NS" in value:
            kind = next(iter(value))
            assert sorted(new[name][kind]) == sorted(value[kind])
        else:
            assert new[name] == value
    assert record["dynamodb"]["OldImage"]["n"] == {"N": "1"}


def test_insert_gives_an_insert_record_with_every_type(ddb, streams_client, table):
    _run(
        ddb,
        f"INSERT INTO \"{table}\" VALUE {{'pk': 'b', 'n': 1.50, 'l': [1, 'x'], "
        "'m': {'k': -0}, 'ok': false, 'none': null, 'ss': <<'p', 'q'>>}",
    )
    (record,) = _records(ddb, streams_client, table)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {
        "pk": {"S": "b"},
        "n": {"N": "1.5"},
        "l": {"L": [{"N": "1"}, {"S": "x"}]},
        "m": {"M": {"k": {"N": "0"}}},
        "ok": {"BOOL": False},
        "none": {"NULL": True},
        "ss": {"SS": ["p", "q"]},
    }


def test_insert_of_an_existing_key_is_a_duplicate_item(ddb, streams_client, table):
    with pytest.raises(ClientError) as err:
        _run(ddb, f"INSERT INTO {table} VALUE {{'pk': 'a'}}")
    assert err.value.response["Error"] == {
        "Code": "DuplicateItemException",
        "Message": "Duplicate primary key exists in table",
    }
    assert _records(ddb, streams_client, table) == []


def test_delete_gives_a_remove_record_and_deleting_nothing_none(ddb, streams_client, table):
    _run(ddb, f"DELETE FROM {table} WHERE pk='nobody'")
    assert _records(ddb, streams_client, table) == []
    old = _run(ddb, f"DELETE FROM {table} WHERE pk = 'a' RETURNING ALL OLD *")["Items"]
    assert old[0]["pk"] == {"S": "a"}
    (record,) = _records(ddb, streams_client, table)
    assert record["eventName"] == "REMOVE"
    assert record["dynamodb"]["OldImage"]["n"] == {"N": "1"}


def test_updates_that_cannot_apply_record_nothing(ddb, streams_client, table):
    for statement in (
        f"UPDATE {table} SET n=2 WHERE pk='nobody'",  # UPDATE needs an existing item
        f"UPDATE {table} SET n=2 WHERE pk='a' AND n = 5",  # a condition that does not hold
    ):
        with pytest.raises(ClientError) as err:
            _run(ddb, statement)
        assert err.value.response["Error"] == {
            "Code": "ConditionalCheckFailedException",
            "Message": "The conditional request failed",
        }
    _run(ddb, f"UPDATE {table} SET n=1 WHERE pk='a'")  # the same value: nothing changes
    assert _records(ddb, streams_client, table) == []


def test_returning_and_select(ddb, table):
    (new,) = _run(ddb, f"UPDATE {table} SET n = 5 WHERE pk = 'a' RETURNING ALL NEW *")["Items"]
    assert new["n"] == {"N": "5"} and new["pk"] == {"S": "a"}
    (old,) = _run(ddb, f"UPDATE {table} SET n = 6 WHERE pk = 'a' RETURNING MODIFIED OLD *")["Items"]
    assert old == {"n": {"N": "5"}}
    (item,) = _run(ddb, f"SELECT * FROM {table} WHERE pk='a'")["Items"]
    assert item["n"] == {"N": "6"}


def test_composite_keys_with_an_unquoted_number(ddb, streams_client, make_table):
    table = make_table("NEW_AND_OLD_IMAGES", range_key=("sk", "N"))
    _run(ddb, f"INSERT INTO {table} VALUE {{'pk': 'a', 'sk': 1.0, 'v': 'x'}}")
    _run(ddb, f"UPDATE {table} SET v='y' WHERE pk='a' AND sk=1")
    with pytest.raises(ClientError) as err:
        _run(ddb, f"UPDATE {table} SET v='z' WHERE pk='a'")
    assert err.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Where clause does not contain a mandatory equality on all key attributes",
    }
    records = read_all(streams_client, stream_arn_of(ddb, table))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[1]["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}


@pytest.mark.parametrize(
    ("statement", "parameters", "message"),
    [
        ("UPDAT {t} SET n=1", None, MALFORMED + "Expected data manipulation"),
        (
            "UPDATE {t} SET n=1 WHERE pk='a' garbage",
            None,
            MALFORMED + "Unexpected token after expression",
        ),
        (
            "UPDATE {t} SET n=? WHERE pk='a'",
            None,
            "Number of parameters in request and statement don't match.",
        ),
        (
            "UPDATE {t} SET n=1 WHERE pk=?",
            [{"S": "a"}, {"S": "b"}],
            "Number of parameters in request and statement don't match.",
        ),
        (
            "UPDATE {t} ADD n 1 WHERE pk='a'",
            None,
            "Only SET and REMOVE are supported in update expressions at this time",
        ),
        (
            "INSERT INTO {t} VALUES {'pk': 'z'}",
            None,
            "Unsupported operation: Inserting "
            'multiple items in a single statement is not supported, use "INSERT INTO tableName '
            'VALUE item" instead',
        ),
        ("UPDATE {t} SET s = <<>> WHERE pk='a'", None, "Empty bags are not supported"),
        (
            "UPDATE {t} SET n=1e126 WHERE pk='a'",
            None,
            "Number overflow. Attempting to store a "
            "number with magnitude larger than supported range",
        ),
    ],
)
def test_statements_aws_refuses_get_its_validation_exception(
    ddb, streams_client, table, statement, parameters, message
):
    with pytest.raises(ClientError) as err:
        _run(ddb, statement.replace("{t}", table), parameters)
    assert err.value.response["Error"] == {"Code": "ValidationException", "Message": message}
    assert _records(ddb, streams_client, table) == []


def test_other_malformed_statements_are_validation_exceptions_not_internal_errors(ddb, table):
    for statement in (f"UPDATE {table} SET", f"UPDATE {table} SET n= WHERE pk='a'", "'"):
        with pytest.raises(ClientError) as err:
            _run(ddb, statement)
        assert err.value.response["Error"]["Code"] == "ValidationException", statement
        assert err.value.response["Error"]["Message"].startswith(MALFORMED), statement


def test_an_unknown_table_is_not_found(ddb):
    with pytest.raises(ClientError) as err:
        _run(ddb, "UPDATE nosuchtable SET n=1 WHERE pk='a'")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_batch_and_transaction_take_the_same_forms(ddb, streams_client, table):
    answer = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"UPDATE {table} SET n=10 WHERE pk='a'"},
            {"Statement": f"INSERT INTO {table} VALUE {{'pk': 'a'}}"},
            {"Statement": f"INSERT INTO {table} VALUE {{'pk': 'c', 'n': 3}}"},
        ]
    )["Responses"]
    assert answer[0] == {"TableName": table}
    assert answer[1]["Error"] == {
        "Code": "DuplicateItem",
        "Message": "Duplicate primary key exists in table",
    }
    assert answer[2] == {"TableName": table}
    ddb.execute_transaction(
        TransactStatements=[{"Statement": f"UPDATE {table} SET n=11 WHERE pk='c'"}]
    )
    events = [
        (r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"])
        for r in _records(ddb, streams_client, table)
    ]
    assert events == [("MODIFY", "a"), ("INSERT", "c"), ("MODIFY", "c")]
