"""A workload and its consumers, priced together: :func:`estimate` and :func:`format_estimate`.

:class:`Workload` says what the table writes; :class:`LambdaTrigger`, :class:`Poller` and
:class:`GlobalTableReplica` are the stream's readers. :func:`estimate` prices them with the
functions of :mod:`streamkit.pricing.model` as one line item per consumer and charge, applying each
free tier once, and :func:`format_estimate` writes the result as text. pandas is imported only
when an estimate is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import numpy as np

from streamkit.errors import PricingError
from streamkit.limits import (
    ESM_BATCH_SIZE_RANGE,
    ESM_BATCHING_WINDOW_MAX_S,
    GET_RECORDS_MAX_BYTES,
    ITEM_MAX_BYTES,
    LAMBDA_MEMORY_MB_RANGE,
    LAMBDA_POLLS_PER_SECOND,
    LAMBDA_TIMEOUT_MAX_MS,
)

from .model import (
    _LAMBDA_DURATION,
    _LAMBDA_FREE_GBS,
    _LAMBDA_FREE_REQUESTS,
    _LAMBDA_REQUESTS,
    _SECONDS_PER_HOUR,
    _STREAM_FREE,
    _STREAM_READS,
    ARCHITECTURES,
    HOURS_PER_MONTH,
    PRICES_AS_OF,
    _allowance,
    _array,
    _billed_ms,
    _check_architecture,
    _check_bool,
    _check_region,
    _figures,
    _tiered,
    lambda_gb_seconds,
    lambda_invocations,
    polling_read_requests,
    price_label,
)

if TYPE_CHECKING:  # pragma: no cover - pandas is imported when an estimate is made
    import pandas as pd

    from .model import Result

__all__ = [
    "Workload",
    "LambdaTrigger",
    "Poller",
    "GlobalTableReplica",
    "Consumer",
    "estimate",
    "format_estimate",
]

# --------------------------------------------------------------------------------------------
# A workload and its consumers
# --------------------------------------------------------------------------------------------


def _scalar(name: str, value: object, **limits: Any) -> float:
    arr = _array(name, value, **limits)
    if arr.ndim:
        raise PricingError(f"Invalid {name} {value!r}: expected a single number.")
    return float(arr)


def _float(result: Result) -> float:
    """A cost-model function's result for scalar inputs, which is a float, typed as one."""
    return float(np.asarray(result))


@dataclass(frozen=True)
class Workload:
    """What the table writes: the input of :func:`estimate`.

    Parameters
    ----------
    writes_per_second : float
        Item-changing writes per second (each makes one stream record; a write that changes
        nothing makes none).
    item_bytes : float, default 1024
        Average item size in bytes (at most 400 KB).
    shards : float, default 1
        Open stream shards (about one per table partition; a time average may be fractional).
    record_bytes : float or None, default None
        Average stream record size in bytes; None takes ``item_bytes`` (one image). A
        NEW_AND_OLD_IMAGES stream of updates carries two images: pass about ``2 * item_bytes``.
    """

    writes_per_second: float
    item_bytes: float = 1024.0
    shards: float = 1.0
    record_bytes: float | None = None

    def __post_init__(self) -> None:
        _scalar("writes_per_second", self.writes_per_second)
        _scalar("item_bytes", self.item_bytes, maximum=ITEM_MAX_BYTES)
        shards = _scalar("shards", self.shards)
        if self.record_bytes is not None:
            _scalar("record_bytes", self.record_bytes, maximum=GET_RECORDS_MAX_BYTES)
        if shards == 0 and self.writes_per_second > 0:
            raise PricingError("Invalid shards 0 with writes_per_second > 0: use at least 1 shard.")

    @property
    def stream_record_bytes(self) -> float:
        """Average stream record size in bytes."""
        return float(self.item_bytes if self.record_bytes is None else self.record_bytes)


@dataclass(frozen=True)
class LambdaTrigger:
    """A Lambda function subscribed to the stream by an event source mapping.

    Its ``GetRecords`` calls are free; it pays Lambda requests and duration.

    Parameters
    ----------
    name : str, default "lambda-trigger"
    batch_size : int, default 100
        ``BatchSize``, 1 to 10,000.
    batching_window_s : int, default 0
        ``MaximumBatchingWindowInSeconds``, 0 to 300.
    memory_mb : int, default 128
        Function memory, 128 to 10,240 MB.
    duration_ms : float, default 100
        Average duration of one invocation, in ms (rounded up to 1 ms).
    architecture : {"x86_64", "arm64"}, default "x86_64"
    """

    name: str = "lambda-trigger"
    batch_size: int = 100
    batching_window_s: int = 0
    memory_mb: int = 128
    duration_ms: float = 100.0
    architecture: str = "x86_64"

    def __post_init__(self) -> None:
        lo, hi = ESM_BATCH_SIZE_RANGE
        _scalar("batch_size", self.batch_size, minimum=lo, maximum=hi, integer=True)
        _scalar(
            "batching_window_s",
            self.batching_window_s,
            maximum=ESM_BATCHING_WINDOW_MAX_S,
            integer=True,
        )
        lo, hi = LAMBDA_MEMORY_MB_RANGE
        _scalar("memory_mb", self.memory_mb, minimum=lo, maximum=hi, integer=True)
        _scalar("duration_ms", self.duration_ms, maximum=LAMBDA_TIMEOUT_MAX_MS)
        _check_architecture(self.architecture)


@dataclass(frozen=True)
class Poller:
    """A consumer that calls ``GetRecords`` itself (KCL application, custom SDK poller): billed.

    Parameters
    ----------
    name : str, default "poller"
    poll_interval_s : float, default 1.0
        Seconds between polls of a shard that has nothing new, > 0. The KCL's
        ``idleTimeBetweenReadsInMillis`` defaults to 1000 ms.
    """

    name: str = "poller"
    poll_interval_s: float = 1.0

    def __post_init__(self) -> None:
        _scalar("poll_interval_s", self.poll_interval_s, strict=True)


@dataclass(frozen=True)
class GlobalTableReplica:
    """Global tables replication reading the stream: its ``GetRecords`` calls are free.

    Parameters
    ----------
    name : str, default "global-table-replication"
    """

    name: str = "global-table-replication"


Consumer: TypeAlias = LambdaTrigger | Poller | GlobalTableReplica

_ONE_TRIGGER: Final = (LambdaTrigger(),)

_COLUMNS: Final = [
    "consumer",
    "kind",
    "charge",
    "quantity",
    "unit",
    "unit_price_usd",
    "per",
    "cost_usd",
    "notes",
]


def _fmt_count(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def estimate(
    workload: Workload,
    consumers: Sequence[Consumer] = _ONE_TRIGGER,
    *,
    region: str = "us-east-1",
    hours: float = HOURS_PER_MONTH,
    free_tier: bool = True,
) -> pd.DataFrame:
    """Return the monthly cost of a stream and its consumers, as line items.

    One line per consumer and charge: ``stream reads`` (billed for pollers, free for Lambda
    triggers and global tables replication), ``Lambda requests`` and ``Lambda duration`` (per
    trigger). Then one ``free tier`` credit line per charge, applied once for the whole estimate
    (one account and region): the stream free tier to all pollers' calls together, the Lambda free
    tiers to all triggers together (the GB-second allowance split between architectures in
    proportion to their use), each credit priced at the first-tier rate. Lambda duration tiers
    apply to each architecture's total, shared out in proportion to use.

    How the quantities are modeled is in :func:`polling_read_requests` and
    :func:`lambda_invocations`; each line's ``notes`` says what went into it, and
    ``result.attrs["assumptions"]`` lists the assumptions behind the whole estimate.

    Parameters
    ----------
    workload : Workload
        Write rate, item and record size, shards.
    consumers : sequence of LambdaTrigger, Poller or GlobalTableReplica, default one LambdaTrigger
        The stream's readers, with distinct names.
    region : str, default "us-east-1"
        One of :func:`regions`; with a Lambda trigger, also one of ``regions("lambda.duration")``.
    hours : float, default 730
        Length of the month, in hours.
    free_tier : bool, default True
        Apply the free tiers (pass False if other workloads of the account already use them).

    Returns
    -------
    pandas.DataFrame
        Columns ``consumer``, ``kind``, ``charge``, ``quantity``, ``unit``, ``unit_price_usd``
        (first tier), ``per`` (units the price is for), ``cost_usd`` (unrounded) and ``notes``.
        ``cost_usd.sum()`` is the monthly total. ``attrs`` holds ``region``, ``hours``,
        ``prices_as_of``, ``free_tier``, ``confirmed`` (all prices used are confirmed),
        ``label`` and ``assumptions`` (list of str).

    Raises
    ------
    PricingError
        Unknown region, a region without Lambda prices when there is a trigger, duplicate
        consumer names, an object that is not a consumer, a bad ``hours``.
    """
    import pandas as pd

    if not isinstance(workload, Workload):
        raise PricingError(f"Invalid workload {workload!r}: expected a streamkit.pricing.Workload.")
    _check_region(region, _STREAM_READS, "DynamoDB Streams read")
    hours = _scalar("hours", hours)
    free_tier = _check_bool("free_tier", free_tier)
    consumers = tuple(consumers)
    for c in consumers:
        if not isinstance(c, LambdaTrigger | Poller | GlobalTableReplica):
            raise PricingError(
                f"Invalid consumer {c!r}: expected LambdaTrigger, Poller or GlobalTableReplica."
            )
    names = [c.name for c in consumers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PricingError(f"Consumer names must be distinct; repeated: {', '.join(duplicates)}.")
    triggers = [c for c in consumers if isinstance(c, LambdaTrigger)]
    if triggers:
        _check_region(region, _LAMBDA_DURATION, "Lambda")

    rate = float(workload.writes_per_second)
    shards = float(workload.shards)
    size = workload.stream_record_bytes
    seconds = hours * _SECONDS_PER_HOUR
    stream_fig = _figures(_STREAM_READS, region)[0]
    # Empty without triggers: no row then uses it.
    request_fig = _figures(_LAMBDA_REQUESTS, region)[0] if triggers else {}
    priced = [stream_fig] + ([request_fig] if request_fig else [])  # to tell if all confirmed
    rows: list[dict[str, Any]] = []

    def row(
        consumer: str,
        kind: str,
        charge: str,
        quantity: float,
        unit: str,
        figure: dict[str, Any],
        notes: str,
        cost: float | None = None,
        free: bool = False,
    ) -> None:
        price = 0.0 if free else figure["value"]
        if cost is None:
            cost = 0.0 if free else quantity * figure["value"] / figure["per"]
        values = [consumer, kind, charge, quantity, unit, price, figure["per"], cost, notes]
        rows.append(dict(zip(_COLUMNS, values, strict=True)))

    reads_unit, poll_rate = "read request units", LAMBDA_POLLS_PER_SECOND
    lambda_use: list[tuple[LambdaTrigger, float, float]] = []  # (trigger, requests, GB-s)
    poller_reads = 0.0
    for c in consumers:
        if isinstance(c, LambdaTrigger):
            reads = _float(
                polling_read_requests(
                    shards, poll_rate, hours=hours, records_per_second=rate, avg_record_bytes=size
                )
            )
            row(
                c.name,
                "lambda trigger",
                "stream reads",
                reads,
                reads_unit,
                stream_fig,
                f"Lambda polls each of {shards:g} shards ~{poll_rate:g}x/s; its GetRecords "
                "calls are not billed",
                free=True,
            )
            n = _float(
                lambda_invocations(
                    shards,
                    rate,
                    batch_size=c.batch_size,
                    batching_window_s=c.batching_window_s,
                    hours=hours,
                    avg_record_bytes=size,
                )
            )
            flush = (
                f"the {c.batching_window_s:g} s window"
                if c.batching_window_s
                else f"each poll (~{poll_rate:g}/s per shard)"
            )
            row(
                c.name,
                "lambda trigger",
                "Lambda requests",
                n,
                "requests",
                request_fig,
                f"{n / seconds if seconds else 0.0:,.4g} invocations/s: a batch of up to "
                f"{c.batch_size:g} records at {flush}; one request per batch",
            )
            lambda_use.append(
                (
                    c,
                    n,
                    _float(lambda_gb_seconds(n, memory_mb=c.memory_mb, duration_ms=c.duration_ms)),
                )
            )
        elif isinstance(c, Poller):
            reads = _float(
                polling_read_requests(
                    shards,
                    1.0 / c.poll_interval_s,
                    hours=hours,
                    records_per_second=rate,
                    avg_record_bytes=size,
                )
            )
            poller_reads += reads
            row(
                c.name,
                "poller",
                "stream reads",
                reads,
                reads_unit,
                stream_fig,
                f"{shards:g} shards polled every {c.poll_interval_s:g} s, empty polls included, "
                "plus a call per full page (1,000 records / 1 MB)",
            )
        else:
            row(
                c.name,
                "global table replication",
                "stream reads",
                float("nan"),
                reads_unit,
                stream_fig,
                "replication's GetRecords calls are not billed (count not modeled)",
                free=True,
            )

    # Lambda duration: price tiers per architecture, shared out in proportion to GB-seconds.
    gbs_by_arch = {
        a: sum(g for c, _, g in lambda_use if c.architecture == a) for a in ARCHITECTURES
    }
    for c, _, g in lambda_use:
        total = gbs_by_arch[c.architecture]
        tiers = _figures(_LAMBDA_DURATION, region, c.architecture)
        priced += [t for t in tiers if total > t["tier_from"]] + tiers[:1]
        cost = (
            float(_tiered(np.float64(total), region, c.architecture)) * g / total if total else 0.0
        )
        billed = float(_billed_ms(np.float64(c.duration_ms)))
        note = f"{c.memory_mb:g} MB x {billed:g} ms billed per invocation, {c.architecture}"
        if total > tiers[0]["tier_to"]:
            note += "; past the first price tier (tiered rates)"
        row(c.name, "lambda trigger", "Lambda duration", g, "GB-seconds", tiers[0], note, cost=cost)
    # Per consumer: stream reads, requests, duration.
    order = {name: i for i, name in enumerate(names)}
    charges = {"stream reads": 0, "Lambda requests": 1, "Lambda duration": 2}
    rows.sort(key=lambda r: (order[r["consumer"]], charges[r["charge"]]))

    # Free tiers, once for the whole estimate (0.0 - x keeps an unused allowance at +0.0).
    if free_tier and any(isinstance(c, Poller) for c in consumers):
        allowance = _allowance(_STREAM_FREE, region)
        row(
            "free tier",
            "free tier",
            "stream reads",
            0.0 - min(poller_reads, allowance),
            reads_unit,
            stream_fig,
            f"first {allowance:,.0f} stream read request units per month, per account and region",
        )
    if free_tier and lambda_use:
        allowance = _allowance(_LAMBDA_FREE_REQUESTS, region)
        requests = sum(n for _, n, _ in lambda_use)
        row(
            "free tier",
            "free tier",
            "Lambda requests",
            0.0 - min(requests, allowance),
            "requests",
            request_fig,
            f"first {allowance:,.0f} requests per month, all functions",
        )
        allowance = _allowance(_LAMBDA_FREE_GBS, region)
        total_gbs = sum(gbs_by_arch.values())
        for arch in sorted({c.architecture for c, _, _ in lambda_use}, key=ARCHITECTURES.index):
            share = min(total_gbs, allowance) * gbs_by_arch[arch] / total_gbs if total_gbs else 0.0
            row(
                "free tier",
                "free tier",
                "Lambda duration",
                0.0 - share,
                "GB-seconds",
                _figures(_LAMBDA_DURATION, region, arch)[0],
                f"first {allowance:,.0f} GB-seconds per month, both architectures ({arch} share)",
            )

    df = pd.DataFrame(rows, columns=_COLUMNS).astype({"quantity": float, "cost_usd": float})
    confirmed = all(f["confirmed"] for f in priced)
    assumptions = [
        f"a month of {hours:g} hours; prices for {region} as of {PRICES_AS_OF}"
        + ("" if confirmed else " (some UNCONFIRMED: see price_table())"),
        f"{rate:g} stream records/s (one per item-changing write), {size:g} bytes each, "
        f"spread evenly over {shards:g} shards",
        "pollers call GetRecords on every shard at their poll rate, empty or not, and again at "
        "once after a full page (1,000 records or 1 MB): a lower bound, at most one call per "
        "poll cycle more in practice",
        "Lambda: one invocation per batch; batches are sent per shard at the batching window, or "
        "each poll with no window, or when full; no filtering, no retries, "
        "ParallelizationFactor 1, invocations shorter than the flush interval",
        "Lambda duration billed as the average duration rounded up to 1 ms",
    ]
    if free_tier:
        assumptions.append(
            "free tiers applied once, to this estimate alone (per account and region; whether the "
            "Lambda free tier is per region is UNCONFIRMED)"
        )
    if len(consumers) > 2:
        assumptions.append(
            f"WARNING: {len(consumers)} readers per shard; AWS advises at most 2 (with global "
            "tables, replication plus one) or GetRecords calls get throttled"
        )
    df.attrs.update(
        region=region,
        hours=hours,
        prices_as_of=PRICES_AS_OF,
        free_tier=free_tier,
        confirmed=confirmed,
        label=price_label(region),
        assumptions=assumptions,
    )
    return df


def _fmt_price(value: float, per: float, kind: str) -> str:
    if kind in ("lambda trigger", "global table replication") and value == 0:
        return "free"
    shown = f"{value:.2f}" if value >= 0.01 else np.format_float_positional(value, trim="-")
    return f"${shown} / {per:,.0f}"


def format_estimate(result: pd.DataFrame) -> str:
    """Return an :func:`estimate` as a readable text table with its total and assumptions.

    Parameters
    ----------
    result : pandas.DataFrame
        What :func:`estimate` returned.

    Returns
    -------
    str
        A title naming region, month length and price date; the line items (quantities with
        thousands separators, costs in USD to 4 decimals); the total to the cent; the assumptions.
    """
    import pandas as pd

    attrs = result.attrs
    hours = attrs.get("hours", HOURS_PER_MONTH)
    lines = [f"Monthly cost estimate (USD): {attrs.get('label', '')}, {hours:g} hours per month"]
    if result.empty:
        lines.append("(no consumers: an idle stream costs nothing)")
    else:
        shown = pd.DataFrame(
            {
                "consumer": result["consumer"],
                "charge": result["charge"],
                "quantity": [("n/a" if np.isnan(q) else _fmt_count(q)) for q in result["quantity"]],
                "unit": result["unit"],
                "price": [
                    _fmt_price(v, p, k)
                    for v, p, k in zip(
                        result["unit_price_usd"], result["per"], result["kind"], strict=True
                    )
                ],
                "cost_usd": [f"{c:,.4f}" for c in result["cost_usd"]],
            }
        )
        lines.append(shown.to_string(index=False))
    total = float(result["cost_usd"].sum()) if not result.empty else 0.0
    lines.append(f"Total: ${total:,.2f} per month (unrounded {total:.6f})")
    if attrs.get("assumptions"):
        lines.append("Assumptions:")
        lines.extend(f"  - {a}" for a in attrs["assumptions"])
    return "\n".join(lines)
