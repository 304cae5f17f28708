"""Lambda event filtering for DynamoDB stream mappings: validate ``FilterCriteria`` patterns and match
them against stream records the way Lambda does.

Pure module (no AWS calls). Parse a pattern once with :func:`parse_pattern` (or a whole
``FilterCriteria`` with :func:`validate_filter_criteria`), then call :func:`matches` /
:func:`matches_any` for every record: the parsed pattern carries a compiled matcher.

Semantics (each rule's source is cited where it is implemented)
---------------------------------------------------------------
* A pattern is a JSON object. Its keys AND together, the values of one array OR together, nested
  objects descend into the record, and up to five patterns OR together. Lambda "supports the Amazon
  EventBridge rules and uses the same syntax as EventBridge" [LDG-FILTER].
* The record matched is the whole Lambda record: ``eventName``, ``eventSource``, ``dynamodb.*``,
  ``userIdentity``... (observed on real AWS, AWS-FACTS §7; AWS's TTL example filters ``userIdentity``
  [DDB-TTL]). Image attributes are DynamoDB JSON, so a pattern names the type:
  ``{"dynamodb": {"NewImage": {"k": {"S": ["v"]}}}}`` [LDG-DDB-FILTER]. ``N`` values are strings in the
  record, so ``numeric`` never matches them [LDG-DDB-FILTER]; ``ApproximateCreationDateTime`` and
  ``SizeBytes`` are JSON numbers and do.
* Matchers only ever see leaf values (strings, numbers, booleans, null). An object is an
  intermediate node: ``{"exists": true}`` never matches it and ``{"exists": false}`` always does, even
  when the key is present [LDG-FILTER, LDG-DDB-FILTER, EB-CONTENT, RULER]. An array is "crushed out":
  a matcher matches an array if it matches one of its elements, and a nested object pattern
  matches an array of objects if one element matches the whole object pattern [RULER].
* Matchers: ``"s"``, ``""``, numbers, ``true``/``false``, ``null`` (a JSON null, never a missing key);
  ``{"prefix": s}``, ``{"suffix": s}``, ``{"equals-ignore-case": s}``; ``{"anything-but": s | n |
  [s, ...] | [n, ...] | {"prefix": s}}``; ``{"numeric": ["=", n]}``, ``[">"|">=", n]``,
  ``["<"|"<=", n]``, ``[">"|">=", n, "<"|"<=", m]``; ``{"exists": true|false}``; and ``"$or": [{...},
  {...}]`` [LDG-FILTER table, EB-CONTENT, RULER].
* Refused as invalid, because Lambda's list of operators [LDG-FILTER] does not have them:
  ``wildcard``, ``cidr``, ``exactly``, ``anything-but`` with ``suffix``/``equals-ignore-case``/
  ``wildcard``, and ``prefix``/``suffix`` with ``equals-ignore-case``. EventBridge event buses accept
  them [EB-OPERATORS], but Lambda's engine need not be EventBridge's release: an AWS sample
  (aws-samples/serverless-patterns, lambda-esm-sqs-filters-sam, 2023) reports ``suffix``,
  ``equals-ignore-case`` and ``$or`` not working on SQS mappings (Lambda's docs list them now) and
  ``cidr`` working.
  Refusing loudly is safer than accepting a pattern real AWS may reject; ``_REFUSED`` is the one
  place to change.
* Not emulated: [RULER] reads the dotted key ``"a.b"`` as the nested ``a`` -> ``b`` (a quirk its
  README says not to rely on), and its exact-match values that look like IP addresses compare as
  addresses. Inside arrays of objects, ``{"exists": false}`` is checked per element.

Sources
-------
[LDG-FILTER]      https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
[LDG-DDB-FILTER]  https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
[LAMBDA-API]      https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html (Pattern: 0-4096 chars)
[DDB-TTL]         https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html
[EB-CONTENT]      https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
[EB-OPERATORS]    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
[RULER]           aws/event-ruler, the EventBridge matching library: README.md ("JSON Array Matching",
                  "Exists matching", numeric limits) and src/main/software/amazon/event/ruler/
                  JsonRuleCompiler.java (what is a syntax error).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, NoReturn

from .errors import InvalidParameterError
from .limits import ESM_MAX_FILTERS

__all__ = [
    "FilterPatternError",
    "parse_pattern",
    "validate_filter_criteria",
    "matches",
    "matches_any",
]

#: What AWS answers for a bad pattern (``InvalidParameterValueException``). Source: AWS-FACTS §7.
AWS_INVALID_PATTERN: Final = "Invalid filter pattern definition."

#: A ``Pattern`` is at most 4,096 characters. Source: [LAMBDA-API] ``Filter.Pattern``.
_PATTERN_MAX_CHARS: Final = 4096

#: Numeric matching works on numbers from -5.0e9 to +5.0e9 inclusive, compared to six digits after
#: the decimal point; an operand outside the range is a syntax error. Source: [RULER] README
#: ("Numeric matching"), ComparableNumber.java; [EB-CONTENT].
_NUMERIC_LIMIT: Final = 5.0e9

_SUPPORTED: Final = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists")

#: EventBridge operators Lambda does not list [LDG-FILTER]: refused rather than guessed (module docstring).
_REFUSED: Final = {
    "wildcard": "EventBridge event buses have it, but Lambda's list of operators does not",
    "cidr": "Lambda's list of operators does not have it",
    "exactly": "Lambda's list of operators does not have it; write the string itself",
}

#: Field names a "$or" branch may not use (they are operator names). Source: [RULER]
#: JsonRuleCompiler.parseObjectInsideOrRelationship, Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP.
_RESERVED_IN_OR: Final = frozenset(_SUPPORTED) | frozenset(_REFUSED)

_NUMERIC_OPERATORS: Final = ("=", "<", "<=", ">", ">=")

_RULE: Final = (
    'a JSON object whose values are objects or non-empty arrays of matchers, e.g. {"eventName": '
    '["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["open"]}}}}'
)


class FilterPatternError(InvalidParameterError):
    """A filter pattern (or ``FilterCriteria``) that Lambda would refuse.

    ``str(e)`` starts with AWS's own text, ``"Invalid filter pattern definition."``, and goes on with
    a hint saying what is wrong and where.

    Attributes
    ----------
    aws_message : str
        AWS's text, exactly.
    hint : str
        What is wrong, and how to fix it.
    value : object
        The pattern (or criteria) given.
    path : str or None
        Where in the pattern the problem is (``"dynamodb.NewImage.k.S"``), when it is inside one.
    index : int or None
        Which filter of a ``FilterCriteria`` (0-based), when known.
    """

    aws_message: str = AWS_INVALID_PATTERN

    def __init__(
        self, hint: str, value: object = None, *, path: str | None = None, index: int | None = None
    ):
        self.name = "filter pattern"
        self.value = value
        self.valid = (_RULE,)
        self.hint = hint
        self.path = path
        self.index = index
        # InvalidParameterError.__init__ builds its own message; AWS's text must come first here.
        super(InvalidParameterError, self).__init__(f"{AWS_INVALID_PATTERN} {hint}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.hint, self.value, self.path, self.index))


def _rebuild_error(
    hint: str, value: object, path: str | None, index: int | None
) -> FilterPatternError:
    return FilterPatternError(hint, value, path=path, index=index)


class _Invalid(Exception):
    """Raised while parsing; :func:`_parse` turns it into a :class:`FilterPatternError`."""

    def __init__(self, hint: str, path: tuple[str, ...] = ()):
        super().__init__(hint)
        self.hint = hint
        self.path = path


def _where(path: tuple[str, ...]) -> str:
    return f"At {'.'.join(path)}" if path else "At the top level"


# -- Parsing and validation --------------------------------------------------------------------------


class _ParsedPattern(dict):
    """A validated pattern: the plain JSON object, plus its compiled matcher. Read-only."""

    __slots__ = ("_node",)

    def __init__(self, data: dict[str, Any], node: Any):
        super().__init__(data)
        self._node = node

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(
            "A parsed filter pattern is read-only (its matcher is compiled): build a new dict and "
            "call parse_pattern() on it."
        )

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (parse_pattern, (dict(self),))


def parse_pattern(pattern: str | Mapping[str, Any]) -> dict[str, Any]:
    """Validate one filter pattern as Lambda does and compile it.

    Parameters
    ----------
    pattern : str or mapping
        The ``Pattern`` string of a ``FilterCriteria`` filter (JSON text, at most 4,096 characters),
        or the same pattern as a dict.

    Returns
    -------
    dict
        The pattern as a plain JSON object (a read-only dict that also carries the compiled
        matcher: pass it to :func:`matches`). A key written twice in the JSON text is merged as
        Lambda does: two objects are combined (AWS's "Boolean AND" example writes ``"dynamodb"``
        twice), and of two arrays the last one counts.

    Raises
    ------
    FilterPatternError
        ``str(e)`` starts with ``"Invalid filter pattern definition."`` (AWS's text) and names the
        problem: not JSON, not an object, a value that is not an object or a non-empty array, an
        unknown or malformed matcher, an empty object, more than 4,096 characters...
    """
    return _parse(pattern)


def validate_filter_criteria(criteria: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Validate a mapping's ``FilterCriteria`` and parse its patterns.

    Parameters
    ----------
    criteria : mapping or None
        ``{"Filters": [{"Pattern": "<JSON text>"}, ...]}`` as the Lambda API takes it. ``None``,
        ``{}`` and ``{"Filters": []}`` mean no filtering.

    Returns
    -------
    list of dict
        The parsed patterns, in order (see :func:`parse_pattern`); empty when there are none.

    Raises
    ------
    FilterPatternError
        More than ``ESM_MAX_FILTERS`` (5) filters, a filter that is not ``{"Pattern": str}``, or an
        invalid pattern (``e.index`` says which).
    """
    if criteria is None:
        return []
    if not isinstance(criteria, Mapping):
        raise FilterPatternError(
            f'FilterCriteria must be a mapping like {{"Filters": [{{"Pattern": "..."}}]}}, not '
            f"{type(criteria).__name__}.",
            criteria,
        )
    extra = sorted(str(k) for k in criteria if k != "Filters")
    if extra:
        raise FilterPatternError(
            f"FilterCriteria has one key, 'Filters'; {', '.join(map(repr, extra))} is not one.",
            criteria,
        )
    filters = criteria.get("Filters")
    if filters is None:
        return []
    if isinstance(filters, str | bytes | Mapping) or not isinstance(filters, Sequence):
        raise FilterPatternError(
            f'FilterCriteria["Filters"] must be a list of {{"Pattern": "..."}}, not '
            f"{type(filters).__name__}.",
            criteria,
        )
    if len(filters) > ESM_MAX_FILTERS:
        # AWS's own text for this case is not documented; it is rejected at create/update time
        # ("Lambda will return an error", [LDG-FILTER]).
        raise FilterPatternError(
            f"FilterCriteria has {len(filters)} filters; a mapping takes at most {ESM_MAX_FILTERS} "
            "(AWS's default quota, raisable to 10 on request). Filters are OR-ed: merge some, e.g. "
            'one {"eventName": ["INSERT", "MODIFY"]} instead of two.',
            criteria,
        )
    parsed: list[dict[str, Any]] = []
    for index, item in enumerate(filters):
        if not isinstance(item, Mapping) or any(k != "Pattern" for k in item):
            raise FilterPatternError(
                f'Filters[{index}] must be {{"Pattern": "<JSON text>"}}, not {item!r}.',
                criteria,
                index=index,
            )
        text = item.get("Pattern")
        if not isinstance(text, str):
            raise FilterPatternError(
                f"Filters[{index}].Pattern must be a JSON string (json.dumps(pattern)), not "
                f"{type(text).__name__}.",
                criteria,
                index=index,
            )
        parsed.append(_parse(text, index))
    return parsed


def _parse(pattern: Any, index: int | None = None) -> _ParsedPattern:
    if type(pattern) is _ParsedPattern:
        return pattern
    label = f"Filters[{index}].Pattern: " if index is not None else ""
    try:
        if isinstance(pattern, str):
            obj = _load_text(pattern)
        elif isinstance(pattern, Mapping):
            obj = _plain(pattern, ())
            text = json.dumps(obj, separators=(",", ":"))  # the form streamkit sends to AWS
            _check_length(text)
        else:
            raise _Invalid(
                f"A pattern is a JSON object: give a dict or a str holding one, not "
                f"{type(pattern).__name__}."
            )
        if type(obj) is not dict:
            raise _Invalid(
                f"A pattern must be a JSON object ({{...}}), not {_json_kind(obj)}, e.g. "
                '{"eventName": ["INSERT"]}.'
            )
        node = _compile_object(obj, (), False)
    except _Invalid as e:
        raise FilterPatternError(
            label + e.hint, pattern, path=".".join(e.path) or None, index=index
        ) from None
    except RecursionError:
        raise FilterPatternError(label + "The pattern is nested too deeply.", pattern) from None
    return _ParsedPattern(obj, node)


def _check_length(text: str) -> None:
    if len(text) > _PATTERN_MAX_CHARS:
        raise _Invalid(
            f"The pattern is {len(text):,} characters long; Lambda takes at most "
            f"{_PATTERN_MAX_CHARS:,}: split it into several filters (they are OR-ed)."
        )


def _load_text(text: str) -> Any:
    _check_length(text)
    try:
        return json.loads(text, object_pairs_hook=_merge_pairs, parse_constant=_no_constant)
    except ValueError as e:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise _Invalid(
            f"The pattern is not valid JSON ({e}): {shown!r}. Write a JSON object, e.g. "
            '{"eventName": ["INSERT"]}.'
        ) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _merge_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a key given twice is merged as the rule compiler merges it."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        out[key] = _merge_duplicate(key, out[key], value) if key in out else value
    return out


def _merge_duplicate(key: str, old: Any, new: Any) -> Any:
    # [RULER] JsonRuleCompiler streams the text: two objects under one key add their fields to the
    # same rule (AWS's "Boolean AND" example in [LDG-DDB-FILTER] relies on it), and a second array
    # for the same field replaces the first (rule.put). Two "$or" in one object are refused: a dict
    # cannot hold both.
    if key != "$or":
        if type(old) is dict and type(new) is dict:
            merged = dict(old)
            for k, v in new.items():
                merged[k] = _merge_duplicate(k, merged[k], v) if k in merged else v
            return merged
        if type(old) is list and type(new) is list:
            return new
    raise _Invalid(
        f'"{key}" is written twice in one object, in a way that cannot be combined: write it once'
        + (" (put every branch in one $or array)." if key == "$or" else ".")
    )


def _plain(value: Any, path: tuple[str, ...]) -> Any:
    """A copy of a pattern given as Python objects, made of plain JSON types (or ``_Invalid``)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # StrEnum members (EventName.INSERT) become their value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Invalid(f"{_where(path)}: {value!r} is not a JSON number.", path)
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Invalid(f"{_where(path)}: keys must be strings, not {key!r}.", path)
            out[str(key)] = _plain(item, (*path, str(key)))
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, path) for item in value]
    raise _Invalid(
        f"{_where(path)}: {type(value).__name__} is not a JSON type (use str, int, float, bool, "
        "None, dict or list).",
        path,
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "an array"
    return "an object"


# -- Compiling --------------------------------------------------------------------------------------
#
# A compiled object pattern ("node") is a tuple (leaves, objects, ors):
#   leaves:  ((key, test), ...)   test(value_or_MISSING) -> bool, value being the raw record value
#   objects: ((key, node), ...)   a nested object pattern
#   ors:     ((node, node, ...), ...)  each "$or": one of its branches must match the same object
# Leaves come first so the cheap tests fail fast.

_MISSING: Final = object()
_EMPTY: Final[dict[str, Any]] = {}
_EXISTS_TRUE: Final = object()
_EXISTS_FALSE: Final = object()


def _compile_object(obj: dict[str, Any], path: tuple[str, ...], in_or: bool) -> tuple:
    if not obj:
        # [RULER] JsonRuleCompiler: "Empty objects are not allowed".
        raise _Invalid(
            f"{_where(path)}: an empty object matches nothing and is not allowed; name a field, "
            'e.g. {"eventName": ["INSERT"]}.',
            path,
        )
    leaves = []
    objects = []
    ors = []
    for key, value in obj.items():
        if key == "$or":
            # [LDG-FILTER] "Or (multiple fields)"; [RULER]: an array of at least two objects.
            if (
                type(value) is not list
                or len(value) < 2
                or any(type(branch) is not dict for branch in value)
            ):
                raise _Invalid(
                    f'{_where(path)}: "$or" takes an array of at least two objects, e.g. "$or": '
                    '[{"eventName": ["INSERT"]}, {"dynamodb": {"Keys": {"pk": {"S": ["a"]}}}}].',
                    path,
                )
            ors.append(tuple(_compile_object(branch, path, True) for branch in value))
            continue
        sub = (*path, key)
        if in_or and key in _RESERVED_IN_OR:
            raise _Invalid(
                f'{_where(sub)}: "{key}" is an operator name and cannot be a field inside "$or"; '
                f'operators go inside arrays, e.g. "field": [{{"{key}": ...}}].',
                sub,
            )
        if type(value) is dict:
            objects.append((key, _compile_object(value, sub, in_or)))
        elif type(value) is list:
            leaves.append((key, _compile_leaf(value, sub)))
        else:
            # [RULER] JsonRuleCompiler: '"<field>" must be an object or an array'.
            raise _Invalid(
                f"{_where(sub)}: a value must be an array of matchers or an object, not "
                f'{_json_kind(value)}: write "{key}": [{json.dumps(value)}].',
                sub,
            )
    return (tuple(leaves), tuple(objects), tuple(ors))


def _compile_leaf(values: list[Any], path: tuple[str, ...]) -> Callable[[Any], bool]:
    if not values:
        # [RULER] JsonRuleCompiler: "Empty arrays are not allowed".
        raise _Invalid(
            f"{_where(path)}: an empty array matches nothing and is not allowed; give at least one "
            'value or matcher, e.g. ["INSERT"].',
            path,
        )
    strings: set[str] = set()
    others: set[str] = set()
    tests: list[Callable[[Any], bool]] = []
    exists_true = exists_false = False
    for value in values:
        kind = type(value)
        if kind is str:
            strings.add(value)
        elif value is None or kind is bool or kind is int or kind is float:
            others.add(_scalar_key(value))
        elif kind is dict:
            compiled = _compile_matcher(value, path)
            if compiled is _EXISTS_TRUE:
                exists_true = True
            elif compiled is _EXISTS_FALSE:
                exists_false = True
            else:
                tests.append(compiled)
        else:
            # [RULER] JsonRuleCompiler: "Match value must be String, number, true, false, or null".
            raise _Invalid(
                f"{_where(path)}: an array holds strings, numbers, true, false, null or matcher "
                f'objects such as {{"prefix": "x"}}, not {_json_kind(value)}.',
                path,
            )
    return _leaf_test(
        frozenset(strings), frozenset(others), tuple(tests), exists_true, exists_false
    )


def _scalar_key(value: Any) -> str:
    """The JSON text of a non-string leaf. Numbers compare by their text: [LDG-FILTER] "300, 300.0,
    and 3.0e2 are not considered equal" (so 300 and 300.0 differ; an exponent form given in a
    pattern is read as the number it denotes, a JSON text detail lost once parsed). [RULER]
    JsonRuleCompiler also adds a numeric-equals matcher for a number literal, which would make 300
    match 300.0: the documented behaviour is followed; use {"numeric": ["=", n]} to compare values."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is float:
        return repr(value)
    return str(value)


def _leaf_test(
    strings: frozenset[str],
    others: frozenset[str],
    tests: tuple[Callable[[Any], bool], ...],
    exists_true: bool,
    exists_false: bool,
) -> Callable[[Any], bool]:
    # [LDG-FILTER]/[EB-CONTENT]/[RULER]: matchers see leaf values only. An object is an
    # intermediate node (exists: false matches it, nothing else does); an array matches when one
    # of its leaf elements does; a missing key only matches exists: false ([null] needs a null).
    if not others and not tests and not exists_true and not exists_false:
        # The common case: exact strings only.
        def match_strings(value: Any) -> bool:
            kind = type(value)
            if kind is str:
                return value in strings
            if kind is list or kind is tuple:
                return any(isinstance(x, str) and x in strings for x in _leaves(value))
            return isinstance(value, str) and value in strings

        return match_strings

    def scalar_ok(value: Any) -> bool:
        if isinstance(value, str):
            if value in strings:
                return True
        elif others and _scalar_key(value) in others:
            return True
        for test in tests:
            if test(value):
                return True
        return False

    def match(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return exists_true or scalar_ok(value)
        if value is _MISSING or kind is dict:
            return exists_false
        if kind is list or kind is tuple:
            leaves = _leaves(value)
            if not leaves:
                return exists_false
            return exists_true or any(scalar_ok(x) for x in leaves)
        if isinstance(value, Mapping):
            return exists_false
        return exists_true or scalar_ok(value)

    return match


def _leaves(values: Sequence[Any]) -> list[Any]:
    """The leaf values of an array, nested arrays flattened, objects left out ([RULER] "the array
    structure is crushed out")."""
    out = []
    for value in values:
        kind = type(value)
        if kind is list or kind is tuple:
            out.extend(_leaves(value))
        elif kind is not dict and not isinstance(value, Mapping):
            out.append(value)
    return out


def _objects(values: Sequence[Any]) -> list[Mapping[str, Any]]:
    """The objects of an array, nested arrays flattened."""
    out: list[Mapping[str, Any]] = []
    for value in values:
        kind = type(value)
        if kind is list or kind is tuple:
            out.extend(_objects(value))
        elif kind is dict or isinstance(value, Mapping):
            out.append(value)
    return out


def _is_json_number(value: Any) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _compile_matcher(matcher: dict[str, Any], path: tuple[str, ...]) -> Any:
    if len(matcher) != 1:
        # [RULER] JsonRuleCompiler: "Only one key allowed in match expression".
        raise _Invalid(
            f'{_where(path)}: a matcher object has exactly one key, e.g. {{"prefix": "us-"}}; '
            f"got {json.dumps(matcher)}. Put several matchers side by side in the array (OR).",
            path,
        )
    ((op, arg),) = matcher.items()
    if op in ("prefix", "suffix", "equals-ignore-case"):
        if type(arg) is not str:
            raise _Invalid(
                f'{_where(path)}: "{op}" takes a string, e.g. {{"{op}": "abc"}}, not '
                f"{_json_kind(arg)}"
                + (
                    " (the ignore-case forms are not in Lambda's operator list)."
                    if type(arg) is dict
                    else "."
                ),
                path,
            )
        # [LDG-FILTER] "Begins with", "Ends with", "Equals (ignore case)"; all three only match
        # string values [RULER README].
        if op == "prefix":
            return lambda value: isinstance(value, str) and value.startswith(arg)
        if op == "suffix":
            return lambda value: isinstance(value, str) and value.endswith(arg)
        lowered = arg.lower()
        return lambda value: isinstance(value, str) and value.lower() == lowered
    if op == "anything-but":
        return _compile_anything_but(arg, path)
    if op == "numeric":
        return _compile_numeric(arg, path)
    if op == "exists":
        # [LDG-FILTER] "Exists" / "Does not exist"; [RULER]: "must be either true or false".
        if type(arg) is not bool:
            raise _Invalid(
                f'{_where(path)}: "exists" takes true or false, not {_json_kind(arg)}.', path
            )
        return _EXISTS_TRUE if arg else _EXISTS_FALSE
    if op in _REFUSED:
        raise _Invalid(
            f'{_where(path)}: "{op}" is refused: {_REFUSED[op]}. Lambda lists: '
            f"{', '.join(_SUPPORTED)}.",
            path,
        )
    raise _Invalid(
        f'{_where(path)}: unknown matcher "{op}"; Lambda\'s are {", ".join(_SUPPORTED)}.', path
    )


def _compile_anything_but(arg: Any, path: tuple[str, ...]) -> Callable[[Any], bool]:
    # [EB-CONTENT] "Anything-but matching": a string, a number, a list of only strings or only
    # numbers, or {"prefix": s}. [RULER] JsonRuleCompiler: an empty list, a mixed list, null or
    # booleans inside, and an empty prefix are syntax errors. It matches every leaf value (of any
    # type) except the ones excluded; numbers are compared to six decimal places.
    if type(arg) is str:
        arg = [arg]
    elif _is_json_number(arg):
        arg = [arg]
    if type(arg) is list:
        if arg and all(type(x) is str for x in arg):
            excluded = frozenset(arg)
            return lambda value: not (isinstance(value, str) and value in excluded)
        if arg and all(_is_json_number(x) for x in arg):
            excluded_numbers = frozenset(_quantize(x, path) for x in arg)

            def not_these_numbers(value: Any) -> bool:
                number = _number(value)
                return number is None or _quantize_value(number) not in excluded_numbers

            return not_these_numbers
        raise _Invalid(
            f'{_where(path)}: "anything-but" takes a non-empty list of only strings or only '
            f"numbers, got {json.dumps(arg)}.",
            path,
        )
    if type(arg) is dict:
        if len(arg) == 1 and "prefix" in arg:
            prefix = arg["prefix"]
            if type(prefix) is not str or not prefix:
                raise _Invalid(
                    f'{_where(path)}: {{"anything-but": {{"prefix": ...}}}} takes a non-empty '
                    "string.",
                    path,
                )
            return lambda value: not (isinstance(value, str) and value.startswith(prefix))
        raise _Invalid(
            f'{_where(path)}: "anything-but" with {json.dumps(arg)} is refused; Lambda documents '
            'only a value, a list of values, and (as EventBridge) {"prefix": "..."}.',
            path,
        )
    raise _Invalid(
        f'{_where(path)}: "anything-but" takes a string, a number, a list of them, or '
        f'{{"prefix": "..."}}, not {_json_kind(arg)}.',
        path,
    )


def _compile_numeric(arg: Any, path: tuple[str, ...]) -> Callable[[Any], bool]:
    # [LDG-FILTER] "Numeric (equals)", "Numeric (range)". Grammar from [RULER] JsonRuleCompiler
    # processNumericMatchExpression: ["=", n] | [">"|">=", n] | ["<"|"<=", n] |
    # [">"|">=", n, "<"|"<=", m] with n < m ("Bottom must be less than top").
    shape = (
        f'{_where(path)}: "numeric" takes ["=", n], [">", n], [">=", n], ["<", n], ["<=", n] or a '
        f'range [">" or ">=", low, "<" or "<=", high]; got {json.dumps(arg)}'
    )
    if type(arg) is not list or len(arg) not in (2, 4):
        raise _Invalid(shape + ".", path)
    for i in range(0, len(arg), 2):
        if arg[i] not in _NUMERIC_OPERATORS:
            raise _Invalid(f"{shape}: {json.dumps(arg[i])} is not an operator.", path)
        if not _is_json_number(arg[i + 1]):
            raise _Invalid(f"{shape}: {json.dumps(arg[i + 1])} is not a number.", path)
    low = high = None
    low_open = high_open = False
    op, operand = arg[0], _quantize(arg[1], path)
    if op == "=":
        low = high = operand
    elif op in (">", ">="):
        low, low_open = operand, op == ">"
    else:
        high, high_open = operand, op == "<"
    if len(arg) == 4:
        if op not in (">", ">=") or arg[2] not in ("<", "<="):
            raise _Invalid(shape + ": a range is a lower bound then an upper bound.", path)
        if not arg[1] < arg[3]:
            raise _Invalid(shape + ": the lower bound must be less than the upper bound.", path)
        high, high_open = _quantize(arg[3], path), arg[2] == "<"

    def in_range(value: Any) -> bool:
        number = _number(value)
        if number is None:
            return False
        q = _quantize_value(number)
        if low is not None and (q < low or (low_open and q == low)):
            return False
        return not (high is not None and (q > high or (high_open and q == high)))

    return in_range


def _number(value: Any) -> float | None:
    """A record value as a float when numeric matching applies to it: a JSON number (never a
    boolean, never a string such as a DynamoDB ``N``) within +-5e9 [RULER, EB-CONTENT]."""
    kind = type(value)
    if kind is int or kind is float or kind is Decimal:
        number = float(value)
        if -_NUMERIC_LIMIT <= number <= _NUMERIC_LIMIT:
            return number
    return None


def _quantize_value(number: float) -> int:
    # [RULER] ComparableNumber.generate: (long) (1e6 * (5e9 + f)), i.e. six decimal places.
    return int(1e6 * (_NUMERIC_LIMIT + number))


def _quantize(operand: float, path: tuple[str, ...]) -> int:
    if not -_NUMERIC_LIMIT <= operand <= _NUMERIC_LIMIT:
        raise _Invalid(
            f"{_where(path)}: numeric matching works from -5e9 to 5e9; {operand!r} is out of range.",
            path,
        )
    return _quantize_value(float(operand))


# -- Matching ---------------------------------------------------------------------------------------


def _match_node(node: tuple, value: Any) -> bool:
    kind = type(value)
    if kind is not dict:
        if kind is list or kind is tuple:
            # [RULER] "JSON Array Matching": an object pattern matches an array of objects when one
            # element matches all of it (array-consistent matching).
            objects = _objects(value)
            if objects:
                return any(_match_node(node, item) for item in objects)
            value = _EMPTY
        elif not isinstance(value, Mapping):
            value = _EMPTY  # missing, or a leaf: nothing below it exists
    leaves, objects_, ors = node
    get = value.get
    for key, test in leaves:
        if not test(get(key, _MISSING)):
            return False
    for key, child in objects_:
        if not _match_node(child, get(key, _MISSING)):
            return False
    for branches in ors:
        for branch in branches:
            if _match_node(branch, value):
                break
        else:
            return False
    return True


def matches(pattern: Mapping[str, Any] | str, record: Mapping[str, Any]) -> bool:
    """Whether Lambda would deliver ``record`` under one filter pattern.

    Parameters
    ----------
    pattern : mapping or str
        A pattern returned by :func:`parse_pattern` (fast: compiled once). A plain dict or JSON
        string also works, but is validated and compiled on every call.
    record : mapping
        One record as Lambda puts it in the event's ``Records`` (``eventID``, ``eventName``,
        ``eventSource``, ``awsRegion``, ``dynamodb`` with DynamoDB-JSON images and a numeric
        ``ApproximateCreationDateTime``, ``eventSourceARN``, ``userIdentity`` for TTL deletes).

    Returns
    -------
    bool

    Raises
    ------
    FilterPatternError
        The pattern is invalid (only when it was not parsed beforehand).
    """
    node = pattern._node if type(pattern) is _ParsedPattern else _parse(pattern)._node
    if type(record) is not dict and not isinstance(record, Mapping):
        raise InvalidParameterError(
            "record", record, "one Lambda event record (a dict), e.g. event['Records'][0]"
        )
    return _match_node(node, record)


def matches_any(patterns: Sequence[Mapping[str, Any] | str], record: Mapping[str, Any]) -> bool:
    """Whether Lambda would deliver ``record`` under a mapping's filters: any pattern matching is
    enough ("Your filters are logically ORed together", [LDG-FILTER]); no patterns means no filtering
    and every record is delivered.

    Parameters
    ----------
    patterns : sequence of mapping or str
        Parsed patterns, e.g. from :func:`validate_filter_criteria`.
    record : mapping
        One Lambda event record (see :func:`matches`).

    Returns
    -------
    bool
    """
    if type(record) is not dict and not isinstance(record, Mapping):
        raise InvalidParameterError(
            "record", record, "one Lambda event record (a dict), e.g. event['Records'][0]"
        )
    seen = False
    for pattern in patterns:
        seen = True
        node = pattern._node if type(pattern) is _ParsedPattern else _parse(pattern)._node
        if _match_node(node, record):
            return True
    return not seen
