"""Shard lineage: a parent shard is processed before its children.

AWS: "always process a parent shard before a child shard" (DynamoDB Developer Guide, "DynamoDB
Streams: reading and processing a stream"; AWS-FACTS §1.3). The stream readers of the helpers
(:mod:`streamkit.streams`, :mod:`streamkit.polling`) and the emulator's local Lambda service
order shards with these two functions, on any objects with ``shard_id`` and ``parent_shard_id``
attributes (a parent that is not in the list, trimmed away or never seen, counts as done).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol, TypeVar

__all__ = ["HasLineage", "can_start", "lineage_order"]


class HasLineage(Protocol):
    """A shard as far as lineage goes."""

    @property
    def shard_id(self) -> str: ...

    @property
    def parent_shard_id(self) -> str | None: ...


S = TypeVar("S", bound=HasLineage)


def can_start(shard: HasLineage, known: Collection[str], finished: Collection[str]) -> bool:
    """Whether a reader may start ``shard``: its parent is unknown or finished.

    Parameters
    ----------
    shard
        The shard to start.
    known : collection of str
        Ids of the stream's shards now.
    finished : collection of str
        Ids of the shards the reader has read to their end.
    """
    parent = shard.parent_shard_id
    return parent is None or parent not in known or parent in finished


def lineage_order(shards: Sequence[S]) -> list[S]:
    """The shards with every parent before its children (ties keep the input order).

    A cycle cannot happen on AWS; if the input had one, the input order is kept rather than loop.
    """
    known = {s.shard_id for s in shards}
    done: set[str] = set()
    ordered: list[S] = []
    pending: Iterable[S] = list(shards)
    while pending:
        ready = [s for s in pending if can_start(s, known, done)]
        if not ready:
            ready = list(pending)[:1]
        for shard in ready:
            ordered.append(shard)
            done.add(shard.shard_id)
        pending = [s for s in pending if s.shard_id not in done]
    return ordered
