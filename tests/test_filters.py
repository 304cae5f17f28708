"""Lambda event filtering (streamkit.filters) against AWS's sample records and hand-built TTL, set and
list records. Each case names the rule it pins; the rules and their sources are in the module."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from streamkit.errors import InvalidParameterError
from streamkit.events import EventName, load_sample_event
from streamkit.filters import (
    FilterPatternError,
    matches,
    matches_any,
    parse_pattern,
    validate_filter_criteria,
)
from streamkit.limits import ESM_MAX_FILTERS, TTL_USER_IDENTITY

AWS_TEXT = "Invalid filter pattern definition."

# -- Records ------------------------------------------------------------------------------------------

SAM = load_sample_event("sam-dynamodb-update")["Records"]
SAM_INSERT, SAM_MODIFY, SAM_REMOVE = SAM  # Id N "101"; Message S; ApproximateCreationDateTime int
SEED_INSERT = load_sample_event("seed-users-insert")["Records"][0]  # Users table, ttl N attribute


def _remove(user_identity: dict | None) -> dict:
    """A REMOVE of the seed user, as TTL (userIdentity set) or as a user's DeleteItem makes it."""
    record = copy.deepcopy(SEED_INSERT)
    record["eventID"] = "4b9d4f1c7e0a3c2d1b8f6e5a4c3b2a19"
    record["eventName"] = "REMOVE"
    ddb = record["dynamodb"]
    ddb["OldImage"] = ddb.pop("NewImage")
    ddb["StreamViewType"] = "OLD_IMAGE"
    ddb["ApproximateCreationDateTime"] = 1661166100.0  # Lambda events may carry a float
    ddb["SequenceNumber"] = "26163900000000026199463407"
    if user_identity is not None:
        record["userIdentity"] = dict(user_identity)
    return record


TTL_REMOVE = _remove(TTL_USER_IDENTITY)
USER_REMOVE = _remove(None)


def _with_image(**attributes: dict) -> dict:
    """The seed INSERT with extra NewImage attributes (sets, lists, maps, BOOL, NULL, empty S)."""
    record = copy.deepcopy(SEED_INSERT)
    record["dynamodb"]["NewImage"].update(attributes)
    return record


RICH = _with_image(
    tags={"SS": ["admin", "beta"]},
    scores={"NS": ["7", "42"]},
    Organizations={"L": [{"S": "Sales"}, {"S": "Marketing"}, {"S": "Support"}]},
    addresses={
        "L": [
            {"M": {"city": {"S": "Berlin"}, "zip": {"S": "10115"}}},
            {"M": {"city": {"S": "Paris"}, "zip": {"S": "75001"}}},
        ]
    },
    verified={"BOOL": True},
    middlename={"NULL": True},
    nickname={"S": ""},
)


def ok(pattern, record) -> bool:
    return matches(parse_pattern(pattern), record)


# -- Metadata, OR and AND (AWS-FACTS §7) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT"]}, [True, False, False]),
        ({"eventName": ["INSERT", "MODIFY"]}, [True, True, False]),  # values OR
        ({"eventName": ["INSERT"], "eventSource": ["aws:dynamodb"]}, [True, False, False]),  # AND
        ({"eventName": ["MODIFY"], "eventSource": ["aws:kinesis"]}, [False, False, False]),
        ({"awsRegion": ["us-east-1"], "eventName": ["REMOVE"]}, [False, False, True]),
        ({"eventName": ["insert"]}, [False, False, False]),  # exact, case-sensitive
        ({"noSuchField": ["x"]}, [False, False, False]),  # a named field must be there
    ],
)
def test_metadata_fields_or_within_and_across(pattern, expected):
    assert [ok(pattern, r) for r in SAM] == expected


def test_fields_outside_the_pattern_are_ignored():
    assert ok({"dynamodb": {"StreamViewType": ["NEW_AND_OLD_IMAGES"]}}, SAM_MODIFY)


# -- DynamoDB images: the type must be named; N is a string --------------------------------------------


def test_image_attribute_needs_its_dynamodb_type():
    assert ok({"dynamodb": {"NewImage": {"Message": {"S": ["New item!"]}}}}, SAM_INSERT)
    assert not ok({"dynamodb": {"NewImage": {"Message": ["New item!"]}}}, SAM_INSERT)


def test_keys_filter_from_the_lambda_guide():
    pattern = '{ "dynamodb" : { "Keys" : { "userId" : { "S" : [ "user_2" ] } } } }'
    assert ok(pattern, SEED_INSERT)
    assert ok(pattern, TTL_REMOVE)
    assert not ok(pattern, SAM_INSERT)


def test_n_values_are_strings_exact_match_uses_the_string():
    assert ok({"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}}, SAM_INSERT)
    assert not ok({"dynamodb": {"Keys": {"Id": {"N": [101]}}}}, SAM_INSERT)


def test_numeric_never_matches_an_n_attribute():
    for operator in ("=", ">", ">=", "<", "<="):
        pattern = {"dynamodb": {"NewImage": {"ttl": {"N": [{"numeric": [operator, 1661166039]}]}}}}
        assert not ok(pattern, SEED_INSERT), operator


def test_anything_but_does_match_an_n_attribute():
    pattern = {"dynamodb": {"NewImage": {"ttl": {"N": [{"anything-but": ["0"]}]}}}}
    assert ok(pattern, SEED_INSERT)
    pattern = {"dynamodb": {"NewImage": {"ttl": {"N": [{"anything-but": ["1661166039"]}]}}}}
    assert not ok(pattern, SEED_INSERT)


@pytest.mark.parametrize(
    ("numeric", "insert", "ttl_remove"),  # ApproximateCreationDateTime 1661096164 / 1661166100.0
    [
        ([">", 0], True, True),
        ([">=", 1661096164], True, True),
        ([">", 1661096164], False, True),
        (["<", 1661166100], True, False),
        (["<=", 1661166100], True, True),
        (["=", 1661096164], True, False),
        (["=", 1661166100], False, True),  # numeric "=" compares numbers: 1661166100 == .0
        ([">", 1661096164, "<", 1661166100], False, False),
        ([">=", 1661096164, "<=", 1661166100], True, True),
        ([">", 1661000000, "<=", 1661100000], True, False),
    ],
)
def test_numeric_matches_approximate_creation_date_time(numeric, insert, ttl_remove):
    pattern = {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": numeric}]}}
    assert ok(pattern, SEED_INSERT) is insert
    assert ok(pattern, TTL_REMOVE) is ttl_remove


def test_numeric_precision_is_six_decimal_places():
    record = {"dynamodb": {"ApproximateCreationDateTime": 1.0000002}}
    assert ok(
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": ["=", 1.0000001]}]}}, record
    )
    assert not ok(
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": ["=", 1.000002]}]}}, record
    )


def test_numeric_ignores_booleans_and_numbers_out_of_range():
    pattern = {"a": [{"numeric": [">", 0]}]}
    assert not ok(pattern, {"a": True})
    assert not ok(pattern, {"a": 6e9})
    assert ok(pattern, {"a": 5e9})


# -- Exact values, null, empty string, numbers by their text ------------------------------------------


def test_exact_numbers_compare_by_their_json_text():
    assert ok({"dynamodb": {"SizeBytes": [26]}}, SAM_INSERT)
    assert not ok({"dynamodb": {"SizeBytes": ["26"]}}, SAM_INSERT)
    assert not ok({"dynamodb": {"SizeBytes": [26.0]}}, SAM_INSERT)  # "300 and 300.0 not equal"


def test_booleans_are_not_numbers():
    assert ok({"dynamodb": {"NewImage": {"verified": {"BOOL": [True]}}}}, RICH)
    assert not ok({"dynamodb": {"NewImage": {"verified": {"BOOL": [1]}}}}, RICH)
    assert ok({"dynamodb": {"NewImage": {"middlename": {"NULL": [True]}}}}, RICH)


def test_null_matches_a_json_null_but_not_a_missing_key():
    record = {"eventName": "INSERT", "userIdentity": None}
    assert ok({"userIdentity": [None]}, record)
    assert not ok({"userIdentity": [None]}, SEED_INSERT)  # no userIdentity at all
    assert not ok({"eventName": [None]}, record)


def test_empty_string_matches_an_empty_string_only():
    assert ok({"dynamodb": {"NewImage": {"nickname": {"S": [""]}}}}, RICH)
    assert not ok({"dynamodb": {"NewImage": {"firstname": {"S": [""]}}}}, RICH)
    assert not ok({"dynamodb": {"NewImage": {"absent": {"S": [""]}}}}, RICH)


# -- String matchers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        ({"prefix": "San"}, True),
        ({"prefix": "san"}, False),
        ({"prefix": ""}, True),
        ({"suffix": "dro"}, True),
        ({"suffix": "DRO"}, False),
        ({"equals-ignore-case": "sANDRO"}, True),
        ({"equals-ignore-case": "Sand"}, False),
    ],
)
def test_prefix_suffix_and_equals_ignore_case(matcher, expected):
    assert ok({"dynamodb": {"NewImage": {"firstname": {"S": [matcher]}}}}, SEED_INSERT) is expected


def test_string_matchers_ignore_numbers():
    assert not ok({"dynamodb": {"SizeBytes": [{"prefix": "1"}]}}, SEED_INSERT)  # SizeBytes 104
    assert not ok({"dynamodb": {"SizeBytes": [{"suffix": "4"}]}}, SEED_INSERT)


def test_matchers_in_one_array_or_together():
    pattern = {
        "dynamodb": {"NewImage": {"Message": {"S": [{"prefix": "New"}, "This item has changed"]}}}
    }
    assert [ok(pattern, r) for r in SAM] == [True, True, False]


# -- anything-but ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anything_but", "expected"),
    [
        ("INSERT", [False, True, True]),
        (["INSERT", "MODIFY"], [False, False, True]),
        ({"prefix": "INS"}, [False, True, True]),
        ({"prefix": "R"}, [True, True, False]),
    ],
)
def test_anything_but_on_strings(anything_but, expected):
    assert [ok({"eventName": [{"anything-but": anything_but}]}, r) for r in SAM] == expected


def test_anything_but_on_numbers():
    assert [ok({"dynamodb": {"SizeBytes": [{"anything-but": 26}]}}, r) for r in SAM] == [
        False,
        True,
        True,
    ]
    assert [ok({"dynamodb": {"SizeBytes": [{"anything-but": [26, 59]}]}}, r) for r in SAM] == [
        False,
        False,
        True,
    ]


def test_anything_but_needs_the_field():
    assert not ok({"userIdentity": {"type": [{"anything-but": "Service"}]}}, USER_REMOVE)
    assert not ok({"userIdentity": {"type": [{"anything-but": "Service"}]}}, TTL_REMOVE)


# -- exists: leaf values only -------------------------------------------------------------------------


def test_exists_on_a_typed_attribute():
    present = {"dynamodb": {"NewImage": {"ttl": {"N": [{"exists": True}]}}}}
    absent = {"dynamodb": {"NewImage": {"ttl": {"N": [{"exists": False}]}}}}
    assert ok(present, SEED_INSERT) and not ok(absent, SEED_INSERT)
    assert not ok(present, SAM_INSERT) and ok(absent, SAM_INSERT)


def test_exists_false_on_an_attribute_name_matches_records_whose_image_lacks_it():
    pattern = {"dynamodb": {"NewImage": {"ttl": [{"exists": False}]}}}
    assert ok(pattern, SAM_INSERT)  # no ttl attribute
    assert ok(pattern, SAM_REMOVE)  # no NewImage at all


def test_exists_sees_leaves_only_so_an_attribute_name_is_an_intermediate_node():
    # "Exists matching only works on leaf nodes": exists: true on the attribute name never
    # matches, and exists: false also matches a record that has it (EventBridge's own example).
    assert not ok({"dynamodb": {"NewImage": {"ttl": [{"exists": True}]}}}, SEED_INSERT)
    assert ok({"dynamodb": {"NewImage": {"ttl": [{"exists": False}]}}}, SEED_INSERT)


def test_exists_through_a_list_the_lambda_guide_example():
    wrong = '{ "dynamodb" : { "NewImage" : { "Organizations" : [ { "exists": true } ] } } }'
    right = '{ "dynamodb" : { "NewImage" : {"Organizations": {"L": {"S": [ {"exists": true } ] } } } } }'
    assert not ok(wrong, RICH)
    assert ok(right, RICH)
    assert not ok(right, SEED_INSERT)


# -- Arrays in the record -------------------------------------------------------------------------------


def test_a_matcher_matches_an_array_when_one_element_does():
    assert ok({"dynamodb": {"NewImage": {"tags": {"SS": ["beta"]}}}}, RICH)
    assert not ok({"dynamodb": {"NewImage": {"tags": {"SS": ["gamma"]}}}}, RICH)
    assert ok({"dynamodb": {"NewImage": {"Organizations": {"L": {"S": ["Support"]}}}}}, RICH)
    assert ok({"dynamodb": {"NewImage": {"tags": {"SS": [{"anything-but": "admin"}]}}}}, RICH)
    assert not ok({"dynamodb": {"NewImage": {"scores": {"NS": [{"numeric": [">", 10]}]}}}}, RICH)


def test_fields_of_an_object_pattern_must_match_in_the_same_array_element():
    def address(city: str, zip_code: str) -> dict:
        return {
            "dynamodb": {
                "NewImage": {
                    "addresses": {"L": {"M": {"city": {"S": [city]}, "zip": {"S": [zip_code]}}}}
                }
            }
        }

    assert ok(address("Paris", "75001"), RICH)
    assert not ok(address("Paris", "10115"), RICH)


# -- TTL deletions (DynamoDB Developer Guide example) ---------------------------------------------------


def test_ttl_deletions_only():
    pattern = '{"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}'
    parsed = parse_pattern(pattern)
    assert [matches(parsed, r) for r in (TTL_REMOVE, USER_REMOVE, SEED_INSERT, *SAM)] == [
        True,
        False,
        False,
        False,
        False,
        False,
    ]


# -- $or, duplicate keys ------------------------------------------------------------------------------


def test_or_across_fields():
    pattern = {
        "$or": [
            {"userIdentity": {"type": ["Service"]}},
            {"dynamodb": {"Keys": {"Id": {"N": ["101"]}}}, "eventName": ["MODIFY"]},
        ]
    }
    assert [ok(pattern, r) for r in (TTL_REMOVE, USER_REMOVE, *SAM)] == [
        True,
        False,
        False,
        True,
        False,
    ]


def test_nested_or_next_to_and():
    pattern = {
        "eventName": ["REMOVE"],
        "dynamodb": {
            "$or": [
                {"OldImage": {"Message": {"S": [{"prefix": "This"}]}}},
                {"OldImage": {"lastname": {"S": ["Volpicella"]}}},
            ]
        },
    }
    assert [ok(pattern, r) for r in (SAM_REMOVE, USER_REMOVE, SAM_MODIFY, SEED_INSERT)] == [
        True,
        True,
        False,
        False,
    ]


def test_a_key_written_twice_combines_like_the_aws_boolean_and_example():
    text = (
        '{ "dynamodb" : { "NewImage" : { "Message" : { "S" : [ "This item has changed" ] } } } , '
        '"dynamodb" : { "OldImage" : { "Message" : { "S" : [ "New item!" ] } } } }'
    )
    parsed = parse_pattern(text)
    assert set(parsed["dynamodb"]) == {"NewImage", "OldImage"}
    assert [matches(parsed, r) for r in SAM] == [False, True, False]


def test_an_array_written_twice_keeps_the_last():
    assert parse_pattern('{"eventName": ["INSERT"], "eventName": ["REMOVE"]}') == {
        "eventName": ["REMOVE"]
    }


# -- Several filters: OR --------------------------------------------------------------------------------


def test_matches_any_ors_filters_and_no_filter_passes_everything():
    patterns = validate_filter_criteria(
        {
            "Filters": [
                {"Pattern": json.dumps({"eventName": ["INSERT"]})},
                {"Pattern": json.dumps({"userIdentity": {"type": ["Service"]}})},
            ]
        }
    )
    records = [*SAM, TTL_REMOVE, USER_REMOVE]
    assert [matches_any(patterns, r) for r in records] == [True, False, False, True, False]
    assert all(matches_any([], r) for r in records)
    assert all(matches_any(validate_filter_criteria(None), r) for r in records)


@pytest.mark.parametrize("criteria", [None, {}, {"Filters": []}, {"Filters": None}])
def test_no_criteria_means_no_filters(criteria):
    assert validate_filter_criteria(criteria) == []


def test_up_to_five_filters():
    five = {"Filters": [{"Pattern": json.dumps({"eventName": [n]})} for n in "ABCDE"]}
    assert len(validate_filter_criteria(five)) == ESM_MAX_FILTERS == 5
    six = {"Filters": five["Filters"] + [{"Pattern": '{"eventName": ["F"]}'}]}
    with pytest.raises(FilterPatternError, match="has 6 filters; a mapping takes at most 5"):
        validate_filter_criteria(six)


# -- Invalid patterns -------------------------------------------------------------------------------


INVALID = [
    ("single-string", "not valid JSON"),
    ('[{"eventName": ["INSERT"=123}]', "not valid JSON"),
    ('{"eventName": ["INSERT"]} trailing', "not valid JSON"),
    ('{"a": [NaN]}', "not valid JSON"),
    ('"INSERT"', "must be a JSON object"),
    ('["INSERT"]', "must be a JSON object"),
    ("null", "must be a JSON object"),
    ('{"eventName": "INSERT"}', 'write "eventName": ["INSERT"]'),
    ('{"dynamodb": {"SizeBytes": 26}}', "array of matchers or an object"),
    ('{"eventName": []}', "empty array"),
    ("{}", "empty object"),
    ('{"dynamodb": {}}', "empty object"),
    ('{"eventName": [["INSERT"]]}', "an array holds strings"),
    ('{"eventName": [{}]}', "exactly one key"),
    ('{"eventName": [{"prefix": "I", "suffix": "T"}]}', "exactly one key"),
    ('{"eventName": [{"contains": "NS"}]}', 'unknown matcher "contains"'),
    ('{"eventName": [{"wildcard": "IN*"}]}', '"wildcard" is refused'),
    ('{"ip": [{"cidr": "10.0.0.0/24"}]}', '"cidr" is refused'),
    ('{"eventName": [{"exactly": "INSERT"}]}', '"exactly" is refused'),
    ('{"eventName": [{"prefix": 1}]}', '"prefix" takes a string'),
    ('{"eventName": [{"prefix": {"equals-ignore-case": "ins"}}]}', "ignore-case forms"),
    ('{"eventName": [{"suffix": null}]}', '"suffix" takes a string'),
    ('{"eventName": [{"equals-ignore-case": ["insert"]}]}', '"equals-ignore-case" takes'),
    ('{"a": [{"exists": "true"}]}', '"exists" takes true or false'),
    ('{"a": [{"exists": 1}]}', '"exists" takes true or false'),
    ('{"a": [{"numeric": [">", 0, "<="]}]}', "numeric"),  # odd arity
    ('{"a": [{"numeric": [">"]}]}', "numeric"),
    ('{"a": [{"numeric": []}]}', "numeric"),
    ('{"a": [{"numeric": [">", 0, "<", 5, "<", 9]}]}', "numeric"),
    ('{"a": [{"numeric": [">", "0"]}]}', "is not a number"),
    ('{"a": [{"numeric": [">", true]}]}', "is not a number"),
    ('{"a": [{"numeric": ["!=", 0]}]}', "is not an operator"),
    ('{"a": [{"numeric": ["=", 1, "<", 2]}]}', "lower bound then an upper bound"),
    ('{"a": [{"numeric": ["<", 9, ">", 1]}]}', "lower bound then an upper bound"),
    ('{"a": [{"numeric": [">", 5, "<", 5]}]}', "less than the upper bound"),
    ('{"a": [{"numeric": [">", 6e9]}]}', "from -5e9 to 5e9"),
    ('{"a": [{"numeric": 5}]}', "numeric"),
    ('{"a": [{"anything-but": []}]}', "non-empty list"),
    ('{"a": [{"anything-but": ["x", 1]}]}', "only strings or only"),
    ('{"a": [{"anything-but": [null]}]}', "only strings or only"),
    ('{"a": [{"anything-but": true}]}', '"anything-but" takes'),
    ('{"a": [{"anything-but": {"prefix": ""}}]}', "non-empty string"),
    ('{"a": [{"anything-but": {"suffix": ".png"}}]}', "is refused"),
    ('{"a": [{"anything-but": {"equals-ignore-case": "x"}}]}', "is refused"),
    ('{"a": [{"anything-but": {"wildcard": "*x"}}]}', "is refused"),
    ('{"a": [{"anything-but": 6e9}]}', "from -5e9 to 5e9"),
    ('{"$or": [{"a": ["x"]}]}', "at least two objects"),
    ('{"$or": {"a": ["x"]}}', "at least two objects"),
    ('{"$or": [{"a": ["x"]}, ["b"]]}', "at least two objects"),
    ('{"$or": [{"a": ["x"]}, {"prefix": ["b"]}]}', "operator name"),
    ('{"$or": [{"a": ["x"]}, {"b": ["y"]}], "$or": [{"c": ["x"]}, {"d": ["y"]}]}', "written twice"),
    ('{"a": ["x"], "a": {"b": ["y"]}}', "written twice"),
]


@pytest.mark.parametrize(("pattern", "hint"), INVALID, ids=[p for p, _ in INVALID])
def test_invalid_patterns(pattern, hint):
    with pytest.raises(FilterPatternError) as caught:
        parse_pattern(pattern)
    error = caught.value
    assert str(error).startswith(AWS_TEXT + " ")
    assert error.aws_message == AWS_TEXT
    assert hint in error.hint
    assert error.value == pattern
    assert isinstance(error, InvalidParameterError) and isinstance(error, ValueError)


def test_the_error_names_where_the_problem_is():
    with pytest.raises(FilterPatternError) as caught:
        parse_pattern({"dynamodb": {"NewImage": {"k": {"S": [{"prefix": 3}]}}}})
    assert caught.value.path == "dynamodb.NewImage.k.S"
    assert "At dynamodb.NewImage.k.S:" in str(caught.value)


def test_pattern_length_limit_is_4096_characters():
    def text(length: int) -> str:
        base = '{"eventName": [""]}'
        return base.replace('""', '"' + "x" * (length - len(base)) + '"')

    assert parse_pattern(text(4096))
    with pytest.raises(FilterPatternError, match="4,097 characters long"):
        parse_pattern(text(4097))
    with pytest.raises(FilterPatternError, match="characters long"):
        parse_pattern({"eventName": ["x" * 4100]})


@pytest.mark.parametrize(
    ("criteria", "hint"),
    [
        ("{}", "FilterCriteria must be a mapping"),
        ({"Filter": []}, "FilterCriteria has one key"),
        ({"Filters": '{"a": ["b"]}'}, "must be a list"),
        ({"Filters": [{"Pattern": {"eventName": ["INSERT"]}}]}, "must be a JSON string"),
        ({"Filters": [{}]}, "must be a JSON string"),
        ({"Filters": [{"Pattern": "{}", "Extra": 1}]}, 'must be {"Pattern"'),
        ({"Filters": ['{"a": ["b"]}']}, 'must be {"Pattern"'),
        ({"Filters": [{"Pattern": '{"a": ["b"]}'}, {"Pattern": "single-string"}]}, "Filters[1]"),
        ({"Filters": [{"Pattern": ""}]}, "not valid JSON"),
    ],
)
def test_invalid_filter_criteria(criteria, hint):
    with pytest.raises(FilterPatternError) as caught:
        validate_filter_criteria(criteria)
    assert str(caught.value).startswith(AWS_TEXT)
    assert hint in caught.value.hint


def test_a_bad_pattern_in_criteria_says_which_filter():
    criteria = {"Filters": [{"Pattern": '{"a": ["b"]}'}, {"Pattern": '{"a": "b"}'}]}
    with pytest.raises(FilterPatternError) as caught:
        validate_filter_criteria(criteria)
    assert caught.value.index == 1
    assert caught.value.hint.startswith("Filters[1].Pattern: At a:")


@pytest.mark.parametrize(
    "pattern",
    [{"a": [float("nan")]}, {"a": [{1, 2}]}, {1: ["x"]}, {"a": [b"x"]}, 42],
    ids=["nan", "set", "int key", "bytes", "not a mapping"],
)
def test_python_patterns_must_be_json(pattern):
    with pytest.raises(FilterPatternError):
        parse_pattern(pattern)


# -- The parsed pattern --------------------------------------------------------------------------------


def test_parsed_pattern_is_plain_json_read_only_and_picklable():
    parsed = parse_pattern({"eventName": (EventName.INSERT, EventName.MODIFY)})
    assert parsed == {"eventName": ["INSERT", "MODIFY"]}
    assert type(parsed["eventName"][0]) is str
    assert json.loads(json.dumps(parsed)) == parsed
    assert parse_pattern(parsed) is parsed
    with pytest.raises(TypeError, match="read-only"):
        parsed["eventName"] = ["REMOVE"]
    with pytest.raises(TypeError, match="read-only"):
        parsed.update(a=["b"])
    for clone in (pickle.loads(pickle.dumps(parsed)), copy.deepcopy(parsed)):
        assert clone == parsed
        assert [matches(clone, r) for r in SAM] == [True, True, False]


def test_matches_also_takes_unparsed_patterns_and_checks_them():
    assert matches({"eventName": ["REMOVE"]}, SAM_REMOVE)
    assert matches('{"eventName": ["REMOVE"]}', SAM_REMOVE)
    with pytest.raises(FilterPatternError):
        matches({"eventName": "REMOVE"}, SAM_REMOVE)
    with pytest.raises(InvalidParameterError, match="record"):
        matches({"eventName": ["REMOVE"]}, None)


def test_error_pickles():
    try:
        parse_pattern('{"a": "b"}')
    except FilterPatternError as e:
        clone = pickle.loads(pickle.dumps(e))
        assert str(clone) == str(e) and clone.path == "a" and clone.value == '{"a": "b"}'
