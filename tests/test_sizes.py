"""SizeBytes: every AWS sample reproduces, and the item-size rules hold for every attribute type."""

from __future__ import annotations

import pytest
from helpers import load_fixture

from streamkit.errors import MalformedRecordError
from streamkit.sizes import attribute_value_size, item_size, number_size, record_size

SAMPLES_WITH_SIZE = [
    "seed-users-insert",
    "sam-dynamodb-update",
    "lambda-guide-sample",
    "api-getrecords-keys-only",
]


@pytest.mark.parametrize("name", SAMPLES_WITH_SIZE)
def test_every_aws_sample_record_reproduces_its_size_bytes(name):
    records = load_fixture(name)["Records"]
    assert records
    for record in records:
        body = record["dynamodb"]
        assert (
            record_size(body["Keys"], body.get("NewImage"), body.get("OldImage"))
            == body["SizeBytes"]
        )


def test_the_users_insert_is_104_bytes():
    body = load_fixture("seed-users-insert")["Records"][0]["dynamodb"]
    assert record_size(body["Keys"], body["NewImage"]) == 104


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("0", 1),
        ("-0.0", 1),
        ("1", 2),
        ("10", 2),
        ("99", 2),
        ("100", 2),  # 01|00 -> trailing zero pair trimmed
        ("101", 3),
        ("1661166039", 6),
        ("0.1", 2),
        ("0.01", 2),
        ("1.01", 3),
        ("100.1", 4),  # 01|00.10: alignment on the decimal point matters
        ("-1", 3),
        ("1E+125", 2),
        ("-1E-130", 3),
        ("12345678901234567890123456789012345678", 20),  # 38 digits: 19 base-100 + exponent
        ("-12345678901234567890123456789012345678", 21),  # ... + sign: the largest a number gets
    ],
)
def test_number_sizes(number, size):
    assert number_size(number) == size


def test_binary_counts_raw_bytes_not_base64():
    assert attribute_value_size({"B": b"\x00\x01\x02"}) == 3
    assert attribute_value_size({"B": "AAEC"}) == 3  # base64 text of the same bytes


def test_documents_and_sets():
    assert attribute_value_size({"M": {}}) == 3
    assert attribute_value_size({"L": []}) == 3
    assert attribute_value_size({"L": [{"S": "ab"}, {"NULL": True}]}) == 3 + (2 + 1) + (1 + 1)
    assert attribute_value_size({"M": {"k": {"BOOL": True}}}) == 3 + 1 + 1 + 1
    assert attribute_value_size({"SS": ["é", "x"]}) == 3
    assert attribute_value_size({"NS": ["1", "101"]}) == 2 + 3
    assert item_size({"naïve": {"S": ""}}) == 6
    assert item_size(None) == 0


@pytest.mark.parametrize(
    "bad",
    [{"X": "1"}, {"S": "a", "N": "1"}, "plain", {"N": "abc"}, {"N": "Infinity"}, {"B": 5}],
)
def test_malformed_values_get_a_clear_error(bad):
    with pytest.raises(MalformedRecordError) as err:
        attribute_value_size(bad)
    assert "N" in str(err.value) or "number" in str(err.value) or "binary" in str(err.value)
