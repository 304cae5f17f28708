"""The cost model: the price table and the vectorized functions that price stream reads and Lambda.

Prices come from ``streamkit/data/prices.json`` (:func:`price_table`). The functions here take
numbers, arrays or pandas Series and return the same shape (see :mod:`streamkit.pricing` for the
model, units and conventions); :mod:`streamkit.pricing.workload` puts them together into a whole
estimate. Nothing here calls AWS or draws; pandas is imported only to make a DataFrame or a Series.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeGuard

import numpy as np

from streamkit.errors import PricingError
from streamkit.limits import (
    ESM_BATCH_SIZE_RANGE,
    ESM_BATCHING_WINDOW_MAX_S,
    GET_RECORDS_MAX_BYTES,
    GET_RECORDS_MAX_RECORDS,
    ITEM_MAX_BYTES,
    LAMBDA_MEMORY_MB_RANGE,
    LAMBDA_PAYLOAD_MAX_BYTES,
    LAMBDA_POLLS_PER_SECOND,
    LAMBDA_TIMEOUT_MAX_MS,
)

if TYPE_CHECKING:  # pragma: no cover - pandas is imported where a DataFrame or Series is made
    import pandas as pd

__all__ = [
    "HOURS_PER_MONTH",
    "ARCHITECTURES",
    "PRICES_AS_OF",
    "price_table",
    "format_price_table",
    "regions",
    "price_label",
    "stream_read_cost",
    "polling_read_requests",
    "lambda_invocations",
    "lambda_gb_seconds",
    "lambda_request_cost",
    "lambda_duration_cost",
    "lambda_cost",
    "kinesis_cdc_cost",
]

#: Hours in a billing month: 365 days x 24 h / 12 = 730, the month the AWS Pricing Calculator uses
#: (https://calculator.aws/). Every function takes ``hours=`` to use another month. Unit: hours.
HOURS_PER_MONTH: Final = 730.0

#: Lambda instruction set architectures, as the Lambda API names them. Source: Lambda pricing
#: (https://aws.amazon.com/lambda/pricing/), AWS-FACTS 4.3.
ARCHITECTURES: Final = ("x86_64", "arm64")


_SECONDS_PER_HOUR: Final = 3600.0
_MB_PER_GB: Final = 1024.0
_KB: Final = 1024.0

_STREAM_READS: Final = "streams.read_request_units"
_STREAM_FREE: Final = "streams.free_read_request_units"
_LAMBDA_REQUESTS: Final = "lambda.requests"
_LAMBDA_FREE_REQUESTS: Final = "lambda.free_requests"
_LAMBDA_DURATION: Final = "lambda.duration"
_LAMBDA_FREE_GBS: Final = "lambda.free_gb_seconds"
_KINESIS_CDC: Final = "kinesis.cdc_units"

Numeric: TypeAlias = "float | int | np.ndarray | pd.Series | Sequence[float]"
Result: TypeAlias = "float | np.ndarray | pd.Series"


# --------------------------------------------------------------------------------------------
# The price table
# --------------------------------------------------------------------------------------------


@functools.cache
def _prices() -> dict[str, Any]:
    text = resources.files("streamkit").joinpath("data/prices.json").read_text(encoding="utf-8")
    table = json.loads(text)
    for figure in table["figures"]:
        figure.setdefault("architecture", None)
    return table


#: The price table's date (ISO 8601): every figure in it was checked against its source on this
#: day or later (each figure's own ``as_of`` says when).
PRICES_AS_OF: Final[str] = _prices()["as_of"]


def price_table() -> pd.DataFrame:
    """Return the price table, one row per figure.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``region``, ``architecture``, ``tier_from``, ``tier_to`` (GB-seconds per
        month, Lambda duration only), ``value`` (USD, or a count for free tiers), ``per`` (how many
        units ``value`` is for), ``unit``, ``source`` (URL), ``source_date``, ``as_of``,
        ``confirmed`` and ``notes``. Region ``"any"`` marks an allowance that is the same
        everywhere (counted per account and region).
    """
    columns = [
        "id",
        "region",
        "architecture",
        "tier_from",
        "tier_to",
        "value",
        "per",
        "unit",
        "source",
        "source_date",
        "as_of",
        "confirmed",
        "notes",
    ]
    import pandas as pd

    return pd.DataFrame(_prices()["figures"], columns=columns)


def format_price_table(columns: Sequence[str] | None = None) -> str:
    """Return the price table as text, values written out in full (no exponents).

    Parameters
    ----------
    columns : sequence of str, optional
        Columns of :func:`price_table` to show; default id, region, architecture, tier_from,
        value, per, as_of, confirmed.

    Returns
    -------
    str
        One line per figure; missing values shown as ``-``.
    """
    import pandas as pd

    columns = list(
        columns
        or ["id", "region", "architecture", "tier_from", "value", "per", "as_of", "confirmed"]
    )
    table = price_table()
    unknown = sorted(set(columns) - set(table.columns))
    if unknown:
        raise PricingError(
            f"Unknown column(s) {', '.join(unknown)}: expected any of {', '.join(table.columns)}."
        )
    shown = table[columns].astype(object).where(table[columns].notna(), "-")
    if "value" in columns:
        shown["value"] = [np.format_float_positional(v, trim="-") for v in table["value"]]
    for col in ("per", "tier_from", "tier_to"):
        if col in columns:
            shown[col] = [("-" if pd.isna(v) else f"{v:,.0f}") for v in table[col]]
    return shown.to_string(index=False)


def _figures(figure_id: str, region: str, architecture: str | None = None) -> list[dict[str, Any]]:
    """The figures with this id for ``region`` (or ``"any"``), sorted by tier; [] if none."""
    found = [
        f
        for f in _prices()["figures"]
        if f["id"] == figure_id
        and f["region"] in (region, "any")
        and (architecture is None or f["architecture"] == architecture)
    ]
    exact = [f for f in found if f["region"] == region]
    return sorted(exact or found, key=lambda f: f["tier_from"] or 0)


def regions(figure: str = _STREAM_READS) -> tuple[str, ...]:
    """Return the regions the price table has a price for.

    Parameters
    ----------
    figure : str, default "streams.read_request_units"
        A figure id from :func:`price_table`: ``"streams.read_request_units"``,
        ``"lambda.requests"``, ``"lambda.duration"`` or ``"kinesis.cdc_units"``.

    Returns
    -------
    tuple of str
        Region codes, sorted. Some prices are UNCONFIRMED: see ``price_table()["confirmed"]``.
    """
    ids = sorted({f["id"] for f in _prices()["figures"]})
    if figure not in ids:
        raise PricingError(f"Unknown price figure {figure!r}: expected one of {', '.join(ids)}.")
    return tuple(sorted({f["region"] for f in _prices()["figures"] if f["id"] == figure} - {"any"}))


def _check_region(region: object, figure: str, what: str) -> str:
    valid = regions(figure)
    if not isinstance(region, str) or region not in valid:
        hint = ""
        if figure.startswith("lambda."):
            hint = (
                " To price the stream reads alone, leave the Lambda triggers out (no "
                "LambdaTrigger in estimate(), triggers=0 in the calculator, --triggers 0 on the "
                "command line)."
            )
        raise PricingError(
            f"No {what} price for region {region!r}: "
            f"the price table has one for {', '.join(valid)}.{hint}"
        )
    return region


def _check_architecture(architecture: object) -> str:
    if architecture not in ARCHITECTURES:
        raise PricingError(
            f"Invalid architecture {architecture!r}: expected one of {', '.join(ARCHITECTURES)}."
        )
    return str(architecture)


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise PricingError(f"Invalid {name} {value!r}: expected True or False.")
    return bool(value)


def _unit_price(figure_id: str, region: str, architecture: str | None = None) -> float:
    """USD per single unit of the (first tier of the) figure."""
    figure = _figures(figure_id, region, architecture)[0]
    return figure["value"] / figure["per"]


def _allowance(figure_id: str, region: str) -> float:
    return float(_figures(figure_id, region)[0]["value"])


def _confirmed(region: str, *figure_ids: str) -> bool:
    return all(f["confirmed"] for fid in figure_ids for f in _figures(fid, region))


def price_label(region: str = "us-east-1") -> str:
    """Return the label every figure and estimate carries: region and price date.

    Parameters
    ----------
    region : str, default "us-east-1"
        A region from :func:`regions`.

    Returns
    -------
    str
        For example ``"us-east-1, prices as of 2026-11-27"``; ``", UNCONFIRMED stream price"``
        is appended where the region's stream read price is not confirmed.
    """
    _check_region(region, _STREAM_READS, "DynamoDB Streams read")
    label = f"{region}, prices as of {PRICES_AS_OF}"
    if not _confirmed(region, _STREAM_READS):
        label += ", UNCONFIRMED stream price"
    return label


# --------------------------------------------------------------------------------------------
# Input checking and result shaping
# --------------------------------------------------------------------------------------------


def _is_series(value: object) -> TypeGuard[pd.Series]:
    """Whether ``value`` is a pandas Series, without importing pandas (a Series means it is)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.Series)


def _describe_range(minimum: float, strict: bool, maximum: float | None, integer: bool) -> str:
    kind = "a whole number" if integer else "a finite number"
    low = f"> {minimum:g}" if strict else f">= {minimum:g}"
    high = f" and <= {maximum:g}" if maximum is not None else ""
    return f"{kind} {low}{high}"


def _array(
    name: str,
    value: object,
    *,
    minimum: float = 0.0,
    strict: bool = False,
    maximum: float | None = None,
    integer: bool = False,
) -> np.ndarray:
    """``value`` as a float64 array, checked to be finite and within range (vectorized checks)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PricingError(
            f"Invalid {name} {value!r}: expected a number, an array of numbers or a pandas Series."
        ) from exc
    if arr.size == 0:
        return arr
    # Two reductions instead of element-wise masks: NaN makes min() NaN, which fails the test.
    lo, hi = arr.min(), arr.max()
    ok = (lo > minimum if strict else lo >= minimum) and hi < np.inf
    if ok and maximum is not None:
        ok = hi <= maximum
    if ok and integer:
        ok = bool(np.all(arr == np.floor(arr)))
    if not ok:
        bad = ~np.isfinite(arr) | (arr <= minimum if strict else arr < minimum)
        if maximum is not None:
            bad |= arr > maximum
        if integer:
            bad |= arr != np.floor(arr)
        flat = int(np.flatnonzero(bad.ravel())[0])
        shown = arr.ravel()[flat]
        where = ""
        if arr.ndim:
            series = _is_series(value)
            label = value.index[flat] if _is_series(value) else flat
            where = f" (at {'index' if series else 'position'} {label!r})"
        expected = _describe_range(minimum, strict, maximum, integer)
        raise PricingError(f"Invalid {name} {float(shown)!r}{where}: expected {expected}.")
    return arr


def _broadcast_check(**arrays: np.ndarray) -> None:
    try:
        np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{v.shape}" for k, v in arrays.items())
        raise PricingError(f"Array arguments have shapes that do not broadcast: {shapes}.") from exc


def _shape(result: np.ndarray | float, inputs: Iterable[Numeric], name: str) -> Result:
    """Return a float, an ndarray or a Series, following the inputs."""
    inputs = list(inputs)
    series = [v for v in inputs if _is_series(v)]
    if series:
        import pandas as pd

        index = series[0].index
        if any(not s.index.equals(index) for s in series[1:]):
            raise PricingError("pandas Series arguments must share one index; align them first.")
        try:
            values = np.broadcast_to(result, (len(index),))
        except ValueError as exc:
            raise PricingError(
                f"The result has shape {np.shape(result)}, which does not fit a Series of "
                f"length {len(index)}."
            ) from exc
        return pd.Series(values.copy(), index=index, name=name)
    if all(np.ndim(v) == 0 for v in inputs):
        return float(np.asarray(result))
    return np.asarray(result)


def _no_records_without_shards(shards: np.ndarray, records: np.ndarray) -> None:
    if shards.size and shards.min() == 0 and np.any((shards == 0) & (records > 0)):
        raise PricingError(
            "Invalid shards 0 with records_per_second > 0: records need at least one shard."
        )


# --------------------------------------------------------------------------------------------
# DynamoDB Streams reads
# --------------------------------------------------------------------------------------------


def stream_read_cost(
    read_requests: Numeric, *, region: str = "us-east-1", free_tier: bool = True
) -> Result:
    """Return what DynamoDB Streams read request units cost in a month, in USD.

    ``cost = max(0, read_requests - 2,500,000) x price per 100,000 / 100,000``, where 2,500,000 is
    the monthly free tier (per account and region) and the price is $0.02 per 100,000 in us-east-1
    and us-east-2 (see :func:`price_table` for other regions and their status).

    Parameters
    ----------
    read_requests : float, array-like or pandas.Series
        Billable-kind ``GetRecords`` calls in the month, in stream read request units (one unit per
        call, empty or not). Count only calls by consumers that pay: Lambda triggers' and global
        tables' calls are free and must not be included. Fractional counts (expected values, as
        :func:`polling_read_requests` returns) are priced as they are.
    region : str, default "us-east-1"
        AWS region; one of :func:`regions`.
    free_tier : bool, default True
        Subtract the monthly free tier. Pass False when the account's other streams already use it.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Cost in USD per month, unrounded, shaped like ``read_requests``.

    Raises
    ------
    PricingError
        Negative, NaN or infinite counts; a region with no price.

    Examples
    --------
    >>> stream_read_cost(2_600_000)  # 100,000 units past the free tier
    0.02
    """
    _check_region(region, _STREAM_READS, "DynamoDB Streams read")
    free_tier = _check_bool("free_tier", free_tier)
    requests = _array("read_requests", read_requests)
    figure = _figures(_STREAM_READS, region)[0]
    free = _allowance(_STREAM_FREE, region) if free_tier else 0.0
    cost = np.maximum(requests - free, 0.0) * figure["value"] / figure["per"]
    return _shape(cost, [read_requests], "stream_read_cost_usd")


def polling_read_requests(
    shards: Numeric,
    polls_per_second: Numeric,
    *,
    hours: Numeric = HOURS_PER_MONTH,
    records_per_second: Numeric = 0.0,
    avg_record_bytes: Numeric = 0.0,
) -> Result:
    """Return the ``GetRecords`` calls a polling consumer makes in ``hours``.

    Model (per shard): the consumer polls at least ``polls_per_second`` times per second, even when
    the shard is idle (every poll is a billed call, empty or not). When one call cannot carry the
    records that arrived since the last poll, the consumer calls again at once until it has caught
    up. One call returns at most ``P = min(1,000, floor(1 MiB / avg_record_bytes))`` whole records
    (1,000 records or 1 MB, whichever comes first; a record never straddles two calls). So::

        calls per shard per second = max(polls_per_second, records_per_shard_per_second / P)
        calls = shards x that x 3600 x hours
              = max(shards x polls_per_second, records_per_second / P) x 3600 x hours

    with records spread evenly over the shards.

    Continuous, not rounded up per poll, and why: over a month the records arrive at random times,
    not in whole pages per poll, so the number of full-page calls is (records / P) and the other
    calls are the polls themselves. The formula is exact for an idle or lightly loaded stream (one
    call per poll) and for a consumer that is always behind (full pages back to back). In between
    it is a lower bound: a consumer that sleeps one poll interval after each partial page makes at
    most one extra call per poll cycle (the last, partial page), so the true count lies between
    this value and this value + ``shards x polls_per_second x 3600 x hours``. Uneven shards (a hot
    partition) only add calls, so this is also a lower bound for them.

    The result is an expected count, fit to compare with a measured one: for a run of
    ``run_seconds`` pass ``hours=run_seconds / 3600``.

    Parameters
    ----------
    shards : float, array-like or pandas.Series
        Shards the consumer reads (open ones; about one per table partition). May be a time
        average. 0 is allowed only with no records.
    polls_per_second : float, array-like or pandas.Series
        Polls per shard per second when the shard has nothing new, > 0. A KCL worker with
        ``idleTimeBetweenReadsInMillis = 1000`` (the default) polls once per second:
        ``1000 / idle_ms``.
    hours : float, array-like or pandas.Series, default 730
        Length of the period, in hours.
    records_per_second : float, array-like or pandas.Series, default 0
        Stream records written per second, all shards together (one per item-changing write).
    avg_record_bytes : float, array-like or pandas.Series, default 0
        Average stream record size in bytes, at most 1 MiB (1,048,576). 0 means small enough that
        only the 1,000-record limit matters.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``GetRecords`` calls (stream read request units) in the period, broadcast over the inputs.

    Raises
    ------
    PricingError
        Negative, NaN or infinite values; ``polls_per_second <= 0``; records larger than 1 MiB;
        records with no shards.

    Examples
    --------
    One idle shard polled once per second, for a 730-hour month:

    >>> polling_read_requests(1, 1.0)
    2628000.0
    """
    s = _array("shards", shards)
    p = _array("polls_per_second", polls_per_second, strict=True)
    h = _array("hours", hours)
    r = _array("records_per_second", records_per_second)
    b = _array("avg_record_bytes", avg_record_bytes, maximum=GET_RECORDS_MAX_BYTES)
    _broadcast_check(
        shards=s, polls_per_second=p, hours=h, records_per_second=r, avg_record_bytes=b
    )
    _no_records_without_shards(s, r)
    with np.errstate(divide="ignore", over="ignore"):
        per_call = np.minimum(float(GET_RECORDS_MAX_RECORDS), np.floor(GET_RECORDS_MAX_BYTES / b))
    calls_per_second = np.maximum(s * p, r / per_call)
    calls = calls_per_second * (h * _SECONDS_PER_HOUR)
    inputs = [shards, polls_per_second, hours, records_per_second, avg_record_bytes]
    return _shape(calls, inputs, "read_requests")


# --------------------------------------------------------------------------------------------
# Lambda
# --------------------------------------------------------------------------------------------


def lambda_invocations(
    shards: Numeric,
    records_per_second: Numeric,
    *,
    batch_size: Numeric = 100,
    batching_window_s: Numeric = 0,
    hours: Numeric = HOURS_PER_MONTH,
    avg_record_bytes: Numeric = 0.0,
) -> Result:
    """Return how many times a DynamoDB trigger invokes its function in ``hours``.

    Model (per shard, as the event source mapping works shard by shard): a batch is sent when
    ``C`` records are buffered, or when the batching window elapses, or, with no window, at each
    poll (Lambda polls each shard about 4 times per second). ``C = min(batch_size,
    floor(6 MiB / avg_record_bytes))`` because the invocation payload is limited to 6 MB. A batch
    never holds less than one record, and an empty poll invokes nothing. With ``f`` the flush rate
    (``1 / batching_window_s``, or 4 per second with no window)::

        invocations per shard per second = min(r, max(f, r / C))   (r: records per shard per s)
        invocations = min(R, max(shards x f, R / C)) x 3600 x hours   (R: records_per_second)

    Three regimes: a trickle (fewer records than flushes: one record per invocation), the window or
    poll rate (``f`` invocations per shard per second), and full batches (``records / C``).

    Assumptions: records spread evenly over shards; ParallelizationFactor 1; no event filtering
    (filtered records are not delivered); no retries (each retried batch is one more invocation);
    each invocation finishes well within a flush interval. A slow function makes fewer, larger
    batches (the next window starts when the invocation ends), so for slow functions this is an
    upper bound. The records in one flush interval are taken at their average (continuous, no
    rounding up); near the edges between regimes real, bursty traffic gives somewhat different
    counts (fewer at the trickle edge, where some flush intervals get no record at all).

    Parameters
    ----------
    shards : float, array-like or pandas.Series
        Open shards of the stream. 0 is allowed only with no records.
    records_per_second : float, array-like or pandas.Series
        Stream records per second, all shards together.
    batch_size : int, array-like or pandas.Series, default 100
        The mapping's ``BatchSize``, a whole number from 1 to 10,000.
    batching_window_s : int, array-like or pandas.Series, default 0
        The mapping's ``MaximumBatchingWindowInSeconds``, whole seconds from 0 to 300.
    hours : float, array-like or pandas.Series, default 730
        Length of the period, in hours.
    avg_record_bytes : float, array-like or pandas.Series, default 0
        Average record size in the event, in bytes (at most 1 MiB); 0 ignores the 6 MB payload
        limit. The JSON event is larger than the stream record, so treat the limit as approximate.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Invocations (= Lambda requests) in the period.

    Examples
    --------
    One shard, 1,000 records per second, batches of 100: 10 invocations per second.

    >>> lambda_invocations(1, 1000, hours=1)
    36000.0
    """
    s = _array("shards", shards)
    r = _array("records_per_second", records_per_second)
    c = _array(
        "batch_size",
        batch_size,
        minimum=ESM_BATCH_SIZE_RANGE[0],
        maximum=ESM_BATCH_SIZE_RANGE[1],
        integer=True,
    )
    w = _array(
        "batching_window_s", batching_window_s, maximum=ESM_BATCHING_WINDOW_MAX_S, integer=True
    )
    h = _array("hours", hours)
    b = _array("avg_record_bytes", avg_record_bytes, maximum=GET_RECORDS_MAX_BYTES)
    _broadcast_check(
        shards=s,
        records_per_second=r,
        batch_size=c,
        batching_window_s=w,
        hours=h,
        avg_record_bytes=b,
    )
    _no_records_without_shards(s, r)
    with np.errstate(divide="ignore", over="ignore"):
        # Flush interval: the window, or the poll interval (1/4 s) when there is no window.
        flush_per_second = 1.0 / np.maximum(w, 1.0 / LAMBDA_POLLS_PER_SECOND)
        per_batch = np.minimum(c, np.floor(LAMBDA_PAYLOAD_MAX_BYTES / b))
    per_second = np.minimum(r, np.maximum(s * flush_per_second, r / per_batch))
    invocations = per_second * (h * _SECONDS_PER_HOUR)
    inputs = [shards, records_per_second, batch_size, batching_window_s, hours, avg_record_bytes]
    return _shape(invocations, inputs, "invocations")


def _billed_ms(d: np.ndarray | np.float64) -> np.ndarray:
    """Milliseconds billed: rounded up, at least 1; within 1 ns of a whole ms counts as that ms
    (so float noise such as 100.00000000000001 bills as 100 ms)."""
    billed = np.subtract(d, 1e-6, out=np.empty_like(d))
    np.ceil(billed, out=billed)
    return np.maximum(billed, 1.0, out=billed)


def lambda_gb_seconds(
    invocations: Numeric, *, memory_mb: Numeric = 128, duration_ms: Numeric = 100.0
) -> Result:
    """Return the GB-seconds Lambda bills for ``invocations``.

    ``GB-s = invocations x ceil(duration_ms) / 1000 x memory_mb / 1024``: duration is rounded up to
    the next 1 ms (at least 1 ms) as AWS bills it, and GB are 1024 MB.

    Parameters
    ----------
    invocations : float, array-like or pandas.Series
        Invocations (requests) in the month.
    memory_mb : int, array-like or pandas.Series, default 128
        Configured memory, whole MB from 128 to 10,240.
    duration_ms : float, array-like or pandas.Series, default 100
        Average duration per invocation, in ms (at most 900,000). It is rounded up as given; AWS
        rounds each invocation, so pass the average *billed* duration when you have it.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        GB-seconds.
    """
    n = _array("invocations", invocations)
    lo, hi = LAMBDA_MEMORY_MB_RANGE
    m = _array("memory_mb", memory_mb, minimum=lo, maximum=hi, integer=True)
    d = _array("duration_ms", duration_ms, maximum=LAMBDA_TIMEOUT_MAX_MS)
    _broadcast_check(invocations=n, memory_mb=m, duration_ms=d)
    return _shape(_gb_seconds(n, m, d), [invocations, memory_mb, duration_ms], "gb_seconds")


def _gb_seconds(n: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    return n * (_billed_ms(d) / 1000.0) * (m / _MB_PER_GB)


def lambda_request_cost(
    requests: Numeric, *, region: str = "us-east-1", free_tier: bool = True
) -> Result:
    """Return what Lambda requests cost in a month, in USD.

    ``cost = max(0, requests - 1,000,000) x $0.20 / 1,000,000`` (us-east-1), the free tier being
    1,000,000 requests per month for both architectures together.

    Parameters
    ----------
    requests : float, array-like or pandas.Series
        Requests (invocations) in the month, all functions of the account together.
    region : str, default "us-east-1"
        One of ``regions("lambda.requests")``.
    free_tier : bool, default True
        Subtract the monthly free tier.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        USD per month, unrounded.
    """
    _check_region(region, _LAMBDA_REQUESTS, "Lambda request")
    free_tier = _check_bool("free_tier", free_tier)
    n = _array("requests", requests)
    return _shape(_request_cost(n, region, free_tier), [requests], "lambda_request_cost_usd")


def _request_cost(n: np.ndarray, region: str, free_tier: bool) -> np.ndarray:
    free = _allowance(_LAMBDA_FREE_REQUESTS, region) if free_tier else 0.0
    figure = _figures(_LAMBDA_REQUESTS, region)[0]
    return np.maximum(n - free, 0.0) * figure["value"] / figure["per"]


def _tiered(gbs: np.ndarray | np.float64, region: str, architecture: str) -> np.ndarray:
    """Duration cost of ``gbs`` GB-seconds through the architecture's price tiers, in USD.

    One pass per price tier that any value reaches (a loop over the 3 tiers, not over rows).
    """
    x = np.asarray(gbs, dtype=np.float64)
    top = x.max() if x.size else 0.0
    cost = np.zeros_like(x)
    part = np.empty_like(x)  # reused for each tier; in place to spare allocations
    for tier in _figures(_LAMBDA_DURATION, region, architecture):
        lower = float(tier["tier_from"])
        if lower > 0 and top <= lower:
            break
        upper = np.inf if tier["tier_to"] is None else float(tier["tier_to"])
        np.minimum(x, upper, out=part)
        if lower:
            part -= lower
            np.maximum(part, 0.0, out=part)
        part *= tier["value"] / tier["per"]
        cost += part
    return cost


def lambda_duration_cost(
    gb_seconds: Numeric,
    *,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    free_tier: bool = True,
) -> Result:
    """Return what Lambda duration costs in a month, in USD, through the price tiers.

    Tiers apply to the month's GB-seconds of one architecture in one region (x86_64: first 6
    billion GB-s at $0.0000166667, next 9 billion at $0.000015, then $0.0000133334; arm64: 7.5 /
    11.25 billion at $0.0000133334 / $0.0000120001, then $0.0000106667; only tier 1 of each is
    confirmed). The free tier (400,000 GB-s, both architectures together) takes the first
    GB-seconds, i.e. is worth ``min(gb_seconds, 400,000)`` x the tier-1 price.

    Parameters
    ----------
    gb_seconds : float, array-like or pandas.Series
        GB-seconds in the month for this architecture (see :func:`lambda_gb_seconds`).
    architecture : {"x86_64", "arm64"}, default "x86_64"
    region : str, default "us-east-1"
        One of ``regions("lambda.duration")``.
    free_tier : bool, default True
        Subtract the monthly free tier.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        USD per month, unrounded.
    """
    _check_region(region, _LAMBDA_DURATION, "Lambda duration")
    architecture = _check_architecture(architecture)
    free_tier = _check_bool("free_tier", free_tier)
    g = _array("gb_seconds", gb_seconds)
    cost = _duration_cost(g, region, architecture, free_tier)
    return _shape(cost, [gb_seconds], "lambda_duration_cost_usd")


def _duration_cost(g: np.ndarray, region: str, architecture: str, free_tier: bool) -> np.ndarray:
    cost = _tiered(g, region, architecture)
    if free_tier:
        free = _allowance(_LAMBDA_FREE_GBS, region)
        cost -= np.minimum(g, free) * _unit_price(_LAMBDA_DURATION, region, architecture)
    return cost


def lambda_cost(
    invocations: Numeric,
    *,
    memory_mb: Numeric = 128,
    duration_ms: Numeric = 100.0,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    free_tier: bool = True,
) -> Result:
    """Return what one function's invocations cost in a month (requests + duration), in USD.

    The free tiers go to this function alone; for several functions sharing them use
    :func:`estimate`.

    Parameters
    ----------
    invocations : float, array-like or pandas.Series
        Invocations in the month (see :func:`lambda_invocations`).
    memory_mb : int, array-like or pandas.Series, default 128
        Configured memory in MB (128 to 10,240).
    duration_ms : float, array-like or pandas.Series, default 100
        Average duration in ms, rounded up to 1 ms.
    architecture : {"x86_64", "arm64"}, default "x86_64"
    region : str, default "us-east-1"
    free_tier : bool, default True

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        USD per month, unrounded.

    Examples
    --------
    AWS's example (512 MB, 3 million 1-second invocations): $0.40 of requests and 1,100,000
    billable GB-s. AWS prints $18.74 using the rate rounded to $0.00001667; at the Price List
    rate it is:

    >>> round(lambda_cost(3_000_000, memory_mb=512, duration_ms=1000), 4)
    18.7334
    """
    _check_region(region, _LAMBDA_DURATION, "Lambda")
    architecture = _check_architecture(architecture)
    free_tier = _check_bool("free_tier", free_tier)
    n = _array("invocations", invocations)
    lo, hi = LAMBDA_MEMORY_MB_RANGE
    m = _array("memory_mb", memory_mb, minimum=lo, maximum=hi, integer=True)
    d = _array("duration_ms", duration_ms, maximum=LAMBDA_TIMEOUT_MAX_MS)
    _broadcast_check(invocations=n, memory_mb=m, duration_ms=d)
    gbs = _gb_seconds(n, m, d)
    total = _request_cost(n, region, free_tier) + _duration_cost(
        gbs, region, architecture, free_tier
    )
    return _shape(total, [invocations, memory_mb, duration_ms], "lambda_cost_usd")


def kinesis_cdc_cost(
    writes_per_second: Numeric,
    item_bytes: Numeric,
    *,
    hours: Numeric = HOURS_PER_MONTH,
    region: str = "us-east-1",
) -> Result:
    """Return the change data capture charge of Kinesis Data Streams for DynamoDB, in USD.

    For comparison with DynamoDB Streams: each write is ``max(1, ceil(item_bytes / 1 KB))`` change
    data capture units (the larger of the before and after images, rounded up like write units),
    at $0.10 per million units, with no free tier. The Kinesis data stream's own charges (shards,
    data, consumers) come on top and are not modeled.

    Parameters
    ----------
    writes_per_second : float, array-like or pandas.Series
        Item-changing writes per second.
    item_bytes : float, array-like or pandas.Series
        Size of the larger of the item's before and after images, in bytes (at most 400 KB).
    hours : float, array-like or pandas.Series, default 730
    region : str, default "us-east-1"
        One of ``regions("kinesis.cdc_units")``.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        USD per month, unrounded.
    """
    _check_region(region, _KINESIS_CDC, "Kinesis Data Streams change data capture")
    w = _array("writes_per_second", writes_per_second)
    size = _array("item_bytes", item_bytes, maximum=ITEM_MAX_BYTES)
    h = _array("hours", hours)
    _broadcast_check(writes_per_second=w, item_bytes=size, hours=h)
    units = w * (h * _SECONDS_PER_HOUR) * np.maximum(1.0, np.ceil(np.round(size / _KB, 9)))
    figure = _figures(_KINESIS_CDC, region)[0]
    cost = units * figure["value"] / figure["per"]
    return _shape(cost, [writes_per_second, item_bytes, hours], "kinesis_cdc_cost_usd")
