"""PartiQL write statements as DynamoDB runs them, turned into plain item operations.

moto reads PartiQL with ``py-partiql-parser``, which knows only quoted values: ``UPDATE t SET
n=1 WHERE pk='a'`` (an unquoted number) fails inside it with an ``AssertionError``, as do lists,
maps, sets, ``true``/``null``, paths (``m.k``, ``l[0]``), arithmetic and most conditions. AWS
accepts all of them. This module parses ``INSERT``, ``UPDATE`` and ``DELETE`` itself and turns each
into the item operation DynamoDB performs for it (:class:`WritePlan`): a ``PutItem`` that must not
find the key (else ``DuplicateItemException``), an ``UpdateItem`` whose item must exist (else
``ConditionalCheckFailedException``), a ``DeleteItem``; every extra ``WHERE`` condition becomes a
condition expression. :mod:`streamkit.local.moto_compat` runs the plan with moto's own item
operations, so stream records, conditions and number rules are those of ordinary writes. ``SELECT``
is left to moto (:func:`plan` returns ``None``).

Refusals use AWS's ``ValidationException`` texts where a source gives them: the messages of
DynamoDB Local (AWS's own local DynamoDB; class ``ddb.partiql.shared.exceptions.
ValidationExceptionMessages``), e.g. "Statement wasn't well formed, can't be processed: ...",
"Where clause does not contain a mandatory equality on all key attributes", "Number of parameters
in request and statement don't match.". What follows "can't be processed: " is AWS's parser's own
detail, known for two cases only ("Expected data manipulation", "Unexpected token after
expression"); the other details are streamkit's (UNCONFIRMED, docs/parity.md).

Pure: no moto.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PartiQLError", "ReadPlan", "WritePlan", "plan", "spaced", "statement_table"]

_MALFORMED = "Statement wasn't well formed, can't be processed: "

_TOKEN = re.compile(
    r"""\s+
    |(?P<string>'(?:[^']|'')*')
    |(?P<qident>"(?:[^"]|"")*")
    |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct><<|>>|<=|>=|<>|!=|[=<>,.\[\]{}():+\-*?;])
    """,
    re.VERBOSE,
)
_COMPARISONS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_RETURNING = {
    ("ALL", "OLD"): "ALL_OLD",
    ("MODIFIED", "OLD"): "UPDATED_OLD",
    ("ALL", "NEW"): "ALL_NEW",
    ("MODIFIED", "NEW"): "UPDATED_NEW",
}


class PartiQLError(Exception):
    """A statement DynamoDB refuses: AWS's error ``code`` and ``message``."""

    def __init__(self, message: str, code: str = "ValidationException"):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class WritePlan:
    """The item operation a write statement stands for.

    ``kind`` is ``INSERT``, ``UPDATE`` or ``DELETE``; ``item`` (INSERT) and ``key`` are DynamoDB
    JSON; ``update_expression``, ``condition_expression``, ``names`` and ``values`` are those of the
    equivalent ``UpdateItem``/``DeleteItem``/``PutItem``; ``return_values`` is the ``RETURNING``
    clause as a ``ReturnValues`` value (``ALL_OLD``, ...), or ``None``; ``touched`` are the top-level
    attributes an UPDATE changes (for ``UPDATED_OLD``/``UPDATED_NEW``).
    """

    kind: str
    table: str
    key: dict[str, Any] = field(default_factory=dict)
    item: dict[str, Any] | None = None
    update_expression: str | None = None
    condition_expression: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    return_values: str | None = None
    touched: list[str] = field(default_factory=list)


@dataclass
class ReadPlan:
    """A ``SELECT`` as a scan: ``filter_expression`` (with ``names``/``values``) from its WHERE,
    ``projection`` its attribute names (``None``: ``*``), ``index`` the index read, if any."""

    table: str
    index: str | None = None
    filter_expression: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    projection: list[str] | None = None


#: Words that are keywords here, never a bare attribute name (quote them: "value").
_RESERVED = frozenset(
    "SELECT INSERT UPDATE DELETE SET REMOVE WHERE AND OR NOT FROM INTO VALUE VALUES RETURNING "
    "BETWEEN IN IS MISSING NULL TRUE FALSE ORDER BY".split()
)


@dataclass
class _Token:
    kind: str  # string, qident, number, ident, punct, end
    text: str
    at: int

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


def _tokens(statement: str) -> list[_Token]:
    out: list[_Token] = []
    at = 0
    while at < len(statement):
        match = _TOKEN.match(statement, at)
        if match is None:
            raise PartiQLError(_MALFORMED + f"Unexpected character {statement[at]!r}")
        kind = match.lastgroup
        if kind is not None:
            out.append(_Token(kind, match.group(), at))
        at = match.end()
    out.append(_Token("end", "", len(statement)))
    return out


@dataclass
class _Path:
    """A document path: its attribute name and the rest (``.k``, ``[0]``)."""

    parts: list[str | int]

    @property
    def name(self) -> str:
        return str(self.parts[0])


@dataclass
class _Comparison:
    text: str  # in condition-expression syntax, with placeholders
    key_equality: tuple[str, dict[str, Any]] | None = None  # (attribute, value) for `attr = v`


class _Parser:
    def __init__(self, statement: str, parameters: Sequence[dict[str, Any]]):
        self.tokens = _tokens(statement)
        self.at = 0
        self.parameters = list(parameters)
        self.used = 0
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    # -- tokens ---------------------------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.token
        if (token.kind == "punct" and token.text == text) or token.word == text:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            shown = self.token.text or "end of statement"
            raise PartiQLError(_MALFORMED + f"Expected {text}, found {shown}")

    def end(self) -> None:
        self.accept(";")
        if self.token.kind != "end":
            raise PartiQLError(_MALFORMED + "Unexpected token after expression")
        if self.used != len(self.parameters):
            raise PartiQLError("Number of parameters in request and statement don't match.")

    # -- names, values, placeholders ---------------------------------------------------------------

    def identifier(self) -> str:
        token = self.take()
        if token.kind == "ident" and token.word not in _RESERVED:
            return token.text
        if token.kind == "qident":
            return token.text[1:-1].replace('""', '"')
        raise PartiQLError(_MALFORMED + f"Expected identifier, found {token.text or 'end'}")

    def table(self) -> str:
        name = self.identifier()
        if self.token.kind == "punct" and self.token.text == ".":
            raise PartiQLError("This operation is not supported on an index")
        return name

    def name_placeholder(self, name: str) -> str:
        for placeholder, known in self.names.items():
            if known == name:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = name
        return placeholder

    def value_placeholder(self, value: dict[str, Any]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def path(self) -> _Path:
        parts: list[str | int] = [self.identifier()]
        while True:
            if self.accept("."):
                parts.append(self.identifier())
            elif self.token.kind == "punct" and self.token.text == "[":
                self.take()
                token = self.take()
                if token.kind != "number" or not token.text.isdigit():
                    raise PartiQLError(_MALFORMED + "Expected a list index")
                parts.append(int(token.text))
                self.expect("]")
            else:
                return _Path(parts)

    def path_text(self, path: _Path) -> str:
        text = self.name_placeholder(path.name)
        for part in path.parts[1:]:
            text += f"[{part}]" if isinstance(part, int) else "." + self.name_placeholder(part)
        return text

    def starts_value(self) -> bool:
        token = self.token
        return (
            token.kind in ("string", "number")
            or (token.kind == "punct" and token.text in ("[", "{", "<<", "?", "-", "+"))
            or token.word in ("TRUE", "FALSE", "NULL")
        )

    def value(self) -> dict[str, Any]:
        """A literal or ``?`` as DynamoDB JSON."""
        token = self.take()
        if token.kind == "string":
            return {"S": token.text[1:-1].replace("''", "'")}
        if token.kind == "number":
            return {"N": token.text}
        if token.kind == "punct" and token.text in ("-", "+"):
            number = self.take()
            if number.kind != "number":
                raise PartiQLError(_MALFORMED + "Expected a number")
            return {"N": ("-" if token.text == "-" else "") + number.text}
        if token.word in ("TRUE", "FALSE"):
            return {"BOOL": token.word == "TRUE"}
        if token.word == "NULL":
            return {"NULL": True}
        if token.kind == "punct" and token.text == "?":
            if self.used >= len(self.parameters):
                raise PartiQLError("Number of parameters in request and statement don't match.")
            self.used += 1
            return dict(self.parameters[self.used - 1])
        if token.kind == "punct" and token.text == "[":
            items: list[dict[str, Any]] = []
            if not self.accept("]"):
                items.append(self.value())
                while self.accept(","):
                    items.append(self.value())
                self.expect("]")
            return {"L": items}
        if token.kind == "punct" and token.text == "{":
            entries: dict[str, Any] = {}
            if not self.accept("}"):
                while True:
                    key = self.take()
                    if key.kind != "string":
                        raise PartiQLError(_MALFORMED + "Expected a string key in a map")
                    name = key.text[1:-1].replace("''", "'")
                    if name in entries:
                        raise PartiQLError(f"Duplicate keys in tuple. Key: {name} under {name}")
                    self.expect(":")
                    entries[name] = self.value()
                    if not self.accept(","):
                        break
                self.expect("}")
            return {"M": entries}
        if token.kind == "punct" and token.text == "<<":
            members: list[dict[str, Any]] = []
            if not self.accept(">>"):
                members.append(self.value())
                while self.accept(","):
                    members.append(self.value())
                self.expect(">>")
            if not members:
                raise PartiQLError("Empty bags are not supported")
            kinds = {next(iter(m)) for m in members}
            if kinds == {"S"}:
                return {"SS": [m["S"] for m in members]}
            if kinds == {"N"}:
                return {"NS": [m["N"] for m in members]}
            raise PartiQLError(
                "Unsupported data type in Bag. DynamoDB only supports either numbers or strings "
                "in bags"
            )
        raise PartiQLError(_MALFORMED + f"Expected a value, found {token.text or 'end'}")

    def operand(self) -> str:
        """A path, a value or ``size(path)``, in expression syntax."""
        if self.starts_value():
            return self.value_placeholder(self.value())
        if self.token.word == "SIZE" and self.tokens[self.at + 1].text == "(":
            self.take()
            self.expect("(")
            inner = self.path_text(self.path())
            self.expect(")")
            return f"size({inner})"
        return self.path_text(self.path())

    # -- conditions ---------------------------------------------------------------------------

    def condition(self) -> list[_Comparison]:
        """A WHERE condition, as its top-level ``AND`` terms."""
        terms = [self.disjunction()]
        while self.accept("AND"):
            terms.append(self.disjunction())
        return terms

    def disjunction(self) -> _Comparison:
        first = self.negation()
        if self.token.word != "OR":
            return first
        texts = [first.text]
        while self.accept("OR"):
            texts.append(self.negation().text)
        return _Comparison("(" + " OR ".join(texts) + ")")

    def negation(self) -> _Comparison:
        if self.accept("NOT"):
            return _Comparison(f"(NOT {self.negation().text})")
        if self.accept("("):
            terms = self.condition()
            self.expect(")")
            if len(terms) == 1:
                return terms[0]
            return _Comparison("(" + " AND ".join(t.text for t in terms) + ")")
        return self.comparison()

    def comparison(self) -> _Comparison:
        word = self.token.word
        if (
            word in ("BEGINS_WITH", "CONTAINS", "ATTRIBUTE_TYPE")
            and self.tokens[self.at + 1].text == "("
        ):
            self.take()
            self.expect("(")
            target = self.path_text(self.path())
            self.expect(",")
            argument = self.operand()
            self.expect(")")
            return _Comparison(f"{word.lower()}({target}, {argument})")
        left_path = None
        if not self.starts_value() and self.token.word != "SIZE":
            left_path = self.path()
            left = self.path_text(left_path)
        else:
            left = self.operand()
        token = self.token
        if token.kind == "punct" and token.text in _COMPARISONS:
            self.take()
            value_start = self.starts_value()
            right_value = self.value() if value_start else None
            right = (
                self.value_placeholder(right_value) if right_value is not None else self.operand()
            )
            text = f"{left} {_COMPARISONS[token.text]} {right}"
            key = None
            if (
                token.text == "="
                and right_value is not None
                and left_path is not None
                and len(left_path.parts) == 1
            ):
                key = (left_path.name, right_value)
            return _Comparison(text, key)
        if self.accept("BETWEEN"):
            low = self.operand()
            self.expect("AND")
            high = self.operand()
            return _Comparison(f"{left} BETWEEN {low} AND {high}")
        if self.accept("IN"):
            closing = "]" if self.accept("[") else ")" if self.accept("(") else None
            if closing is None:
                raise PartiQLError(
                    "IN operator must have a left hand argument of type Variable Reference and "
                    "right hand argument of type Seq with at least one member"
                )
            members = [self.operand()]
            while self.accept(","):
                members.append(self.operand())
            self.expect(closing)
            return _Comparison(f"{left} IN ({', '.join(members)})")
        if self.accept("IS"):
            negated = self.accept("NOT")
            if self.accept("MISSING"):
                function = "attribute_exists" if negated else "attribute_not_exists"
                return _Comparison(f"{function}({left})")
            if self.accept("NULL"):
                null = self.value_placeholder({"S": "NULL"})
                text = f"attribute_type({left}, {null})"
                return _Comparison(f"(NOT {text})" if negated else text)
            raise PartiQLError(_MALFORMED + "Expected MISSING or NULL after IS")
        raise PartiQLError(
            _MALFORMED + f"Expected a comparison, found {self.token.text or 'end of statement'}"
        )


def spaced(statement: str) -> str:
    """``statement`` with a space either side of each comparison (``pk='a'`` -> ``pk = 'a'``):
    moto's SELECT reader finds a WHERE comparison only between spaces; DynamoDB needs none."""
    try:
        tokens = _tokens(statement)
    except PartiQLError:
        return statement
    out, done = [], 0
    for token in tokens:
        out.append(statement[done : token.at])
        done = token.at + len(token.text)
        if token.kind == "punct" and token.text in _COMPARISONS:
            before = "" if statement[token.at - 1 : token.at].isspace() else " "
            after = "" if statement[done : done + 1].isspace() else " "
            out.append(before + token.text + after)
        else:
            out.append(token.text)
    return "".join(out)


def statement_table(statement: str) -> str | None:
    """The table a statement names (``None`` when it cannot be told)."""
    try:
        tokens = _tokens(statement)
    except PartiQLError:
        return None
    words = [t.word for t in tokens]
    for at, word in enumerate(words):
        if word in ("FROM", "INTO", "UPDATE") and at + 1 < len(tokens):
            following = tokens[at + 1]
            if following.kind == "ident":
                return following.text
            if following.kind == "qident":
                return following.text[1:-1].replace('""', '"')
    return None


def plan(
    statement: str,
    parameters: Sequence[dict[str, Any]],
    key_names: Callable[[str], list[str]],
) -> WritePlan | ReadPlan | None:
    """The item operation of a statement: a :class:`WritePlan`, a :class:`ReadPlan` for a plain
    ``SELECT``, ``None`` for a ``SELECT`` form left to moto (nested projections, ``ORDER BY``).

    Parameters
    ----------
    statement : str
        The PartiQL statement.
    parameters : sequence of dict
        The request's ``Parameters`` (DynamoDB JSON), one per ``?``, in order.
    key_names : callable
        A table's key attribute names (hash first); raises for an unknown table.

    Raises
    ------
    PartiQLError
        With AWS's code and message, for a statement DynamoDB refuses.
    """
    parser = _Parser(statement, parameters)
    verb = parser.token.word
    if verb == "SELECT":
        return _select(parser)
    if verb == "INSERT":
        return _insert(parser)
    if verb == "UPDATE":
        return _update(parser, key_names)
    if verb == "DELETE":
        return _delete(parser, key_names)
    raise PartiQLError(_MALFORMED + "Expected data manipulation")


def _select(parser: _Parser) -> ReadPlan | None:
    parser.take()
    projection: list[str] | None = None
    if not parser.accept("*"):
        projection = []
        while True:
            path = parser.path()
            if len(path.parts) > 1:
                return None  # a nested projection: moto's reader
            projection.append(path.name)
            if not parser.accept(","):
                break
    parser.expect("FROM")
    table = parser.identifier()
    index = parser.identifier() if parser.accept(".") else None
    condition = None
    if parser.accept("WHERE"):
        condition = " AND ".join(term.text for term in parser.condition())
    if parser.token.word == "ORDER":
        return None  # ordering: moto's reader
    parser.end()
    return ReadPlan(
        table,
        index,
        condition,
        _used(parser.names, condition),
        _used(parser.values, condition),
        projection,
    )


def _insert(parser: _Parser) -> WritePlan:
    parser.take()
    parser.expect("INTO")
    table = parser.table()
    if parser.token.word == "VALUES":
        raise PartiQLError(
            "Unsupported operation: Inserting multiple items in a single statement is not "
            'supported, use "INSERT INTO tableName VALUE item" instead'
        )
    parser.expect("VALUE")
    item = parser.value()
    if "M" not in item:
        raise PartiQLError(
            "Unsupported format in item expression. Please use struct format {...} to express "
            "item values for insert statement."
        )
    if parser.token.word == "RETURNING":
        raise PartiQLError("RETURNING is not supported in INSERT")
    parser.end()
    return WritePlan("INSERT", table, item=item["M"])


def _returning(parser: _Parser, *, delete: bool) -> str | None:
    if not parser.accept("RETURNING"):
        return None
    first, second = parser.take().word, parser.take().word
    parser.expect("*")
    found = _RETURNING.get((first, second))
    if found is None or (delete and found != "ALL_OLD"):
        if delete:
            raise PartiQLError(
                f"Invalid returning clause: RETURNING {first} {second}. Only RETURNING ALL OLD * "
                "is allowed in DELETE statements."
            )
        raise PartiQLError(
            "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
        )
    return found


def _key_and_rest(
    parser: _Parser, terms: list[_Comparison], keys: list[str]
) -> tuple[dict[str, Any], list[str]]:
    key: dict[str, Any] = {}
    rest: list[str] = []
    for term in terms:
        if term.key_equality is not None and term.key_equality[0] in keys:
            name, value = term.key_equality
            if name in key:
                raise PartiQLError(
                    f"Multiple conditions on same key {name}. Only single item "
                    "Update/Insert/Delete are supported"
                )
            key[name] = value
        else:
            rest.append(term.text)
    if set(key) != set(keys):
        raise PartiQLError(
            "Where clause does not contain a mandatory equality on all key attributes"
        )
    return key, rest


def _used(placeholders: dict[str, Any], *expressions: str | None) -> dict[str, Any]:
    """The placeholders the expressions use (AWS refuses unused ones)."""
    text = " ".join(e for e in expressions if e)
    return {k: v for k, v in placeholders.items() if re.search(re.escape(k) + r"(?![0-9])", text)}


def _update(parser: _Parser, key_names: Callable[[str], list[str]]) -> WritePlan:
    parser.take()
    table = parser.table()
    keys = key_names(table)
    sets: list[str] = []
    removes: list[str] = []
    adds: list[str] = []
    deletes: list[str] = []
    touched: list[str] = []
    while True:
        word = parser.token.word
        if word == "SET":
            parser.take()
            while True:
                target = parser.path()
                touched.append(target.name)
                target_text = parser.path_text(target)
                parser.expect("=")
                function = parser.token.word
                if (
                    function in ("SET_ADD", "SET_DELETE")
                    and parser.tokens[parser.at + 1].text == "("
                ):
                    parser.take()
                    parser.expect("(")
                    first = parser.path_text(parser.path())
                    if first != target_text:
                        raise PartiQLError(
                            f"The first argument to {function} must equal the assignment value"
                        )
                    parser.expect(",")
                    members = parser.value()
                    if next(iter(members)) not in ("SS", "NS", "BS"):
                        raise PartiQLError(
                            f"The second argument to {function} must be a value with type SET"
                        )
                    parser.expect(")")
                    action = adds if function == "SET_ADD" else deletes
                    action.append(f"{target_text} {parser.value_placeholder(members)}")
                elif (
                    function in ("LIST_APPEND", "IF_NOT_EXISTS")
                    and parser.tokens[parser.at + 1].text == "("
                ):
                    parser.take()
                    parser.expect("(")
                    first = parser.operand()
                    parser.expect(",")
                    second = parser.operand()
                    parser.expect(")")
                    sets.append(f"{target_text} = {function.lower()}({first}, {second})")
                else:
                    left = parser.operand()
                    if parser.token.kind == "punct" and parser.token.text in ("+", "-"):
                        sign = parser.take().text
                        sets.append(f"{target_text} = {left} {sign} {parser.operand()}")
                    else:
                        sets.append(f"{target_text} = {left}")
                if not parser.accept(","):
                    break
        elif word == "REMOVE":
            parser.take()
            while True:
                target = parser.path()
                touched.append(target.name)
                removes.append(parser.path_text(target))
                if not parser.accept(","):
                    break
        elif word == "WHERE":
            break
        else:
            if parser.token.kind == "ident":
                raise PartiQLError(
                    "Only SET and REMOVE are supported in update expressions at this time"
                )
            raise PartiQLError(_MALFORMED + f"Expected SET, REMOVE or WHERE, found {word or 'end'}")
    if not (sets or removes or adds or deletes):
        raise PartiQLError(_MALFORMED + "Expected SET or REMOVE")
    parser.expect("WHERE")
    key, rest = _key_and_rest(parser, parser.condition(), keys)
    returning = _returning(parser, delete=False)
    parser.end()
    clauses = []
    for action, parts in (("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes)):
        if parts:
            clauses.append(f"{action} " + ", ".join(parts))
    exists = f"attribute_exists({parser.name_placeholder(keys[0])})"  # UPDATE needs the item
    update_expression = " ".join(clauses)
    condition = " AND ".join([exists, *rest])
    return WritePlan(
        "UPDATE",
        table,
        key=key,
        update_expression=update_expression,
        condition_expression=condition,
        names=_used(parser.names, update_expression, condition),
        values=_used(parser.values, update_expression, condition),
        return_values=returning,
        touched=list(dict.fromkeys(touched)),
    )


def _delete(parser: _Parser, key_names: Callable[[str], list[str]]) -> WritePlan:
    parser.take()
    parser.expect("FROM")
    table = parser.table()
    keys = key_names(table)
    parser.expect("WHERE")
    key, rest = _key_and_rest(parser, parser.condition(), keys)
    returning = _returning(parser, delete=True)
    parser.end()
    condition = " AND ".join(rest) or None
    return WritePlan(
        "DELETE",
        table,
        key=key,
        condition_expression=condition,
        names=_used(parser.names, condition),
        values=_used(parser.values, condition),
        return_values=returning,
    )
