"""Capturing writes: one stream record per item a write operation really changed.

AWS writes a stream record per item an operation changes, with the item's state before and after
the whole operation, and none for a write that changes nothing. moto's own stream hook fires once
per internal step (an UpdateItem that creates an item fires twice; a no-op PutItem fires a MODIFY),
so records are made here instead, at the source:

* :meth:`WriteCapture.operation` brackets one write operation (PutItem, UpdateItem, DeleteItem,
  BatchWriteItem, TransactWriteItems, PartiQL) on the current thread; nested calls join the outer
  one;
* :meth:`WriteCapture.touch` notes the first state seen of each item the operation touches;
* after the operation succeeded, the caller compares each touched item's state before and after
  with :func:`same_item` and appends one record per changed item. A rolled-back operation raises
  and appends nothing.

No moto here: :mod:`streamkit.local.moto_compat` wires moto's write paths to this.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["WriteCapture", "same_item", "wire_json"]


class WriteCapture:
    """The items touched by the write operation under way on each thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def operation(self) -> Iterator[dict[Hashable, Any] | None]:
        """Bracket one write operation; yields the dict of touched items (key -> first state),
        or ``None`` inside an operation already under way (the outer one emits)."""
        if getattr(self._local, "touched", None) is not None:
            yield None
            return
        self._local.touched = {}
        try:
            yield self._local.touched
        finally:
            self._local.touched = None

    def touch(self, key: Hashable, first_state: Any) -> bool:
        """Note an item the current operation changes; its first state is kept.

        Returns ``False`` when no operation is under way (the caller emits the record at once).
        """
        touched = getattr(self._local, "touched", None)
        if touched is None:
            return False
        touched.setdefault(key, first_state)
        return True


def same_item(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Whether two item states (DynamoDB JSON, or ``None`` for no item) are the same item as
    DynamoDB compares them: sets unordered, numbers by value."""
    if old is None or new is None:
        return old is None and new is None
    return _canonical_item(old) == _canonical_item(new)


def _canonical_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item (or map payload) in a form where equal items compare equal: name -> typed value."""
    return {name: _canonical_value(value) for name, value in item.items()}


def _canonical_value(value: Any) -> Any:
    """A typed value ``{kind: payload}`` compared as DynamoDB does (sets unordered, numbers by
    value), recursing by structure: never by guessing from a key's name."""
    if not isinstance(value, dict) or len(value) != 1:
        return repr(value)
    ((kind, inner),) = value.items()
    if kind == "N":
        return ("N", _number(inner))
    if kind == "NS":
        return ("NS", frozenset(_number(n) for n in inner))
    if kind in ("SS", "BS"):
        return (kind, frozenset(inner))
    if kind == "M" and isinstance(inner, dict):
        return ("M", _canonical_item(inner))
    if kind == "L" and isinstance(inner, list):
        return ("L", [_canonical_value(v) for v in inner])
    return (kind, inner)


def _number(text: Any) -> Decimal | str:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return str(text)


def wire_json(value: Any) -> Any:
    """DynamoDB JSON as it goes on the wire: binary values (kept as raw bytes by moto) in base64."""
    if isinstance(value, dict):
        return {k: wire_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire_json(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value
