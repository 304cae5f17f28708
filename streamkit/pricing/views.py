"""The drawing behind the interactive calculator: :func:`calculator_view` and :func:`render`.

:func:`calculator_view` estimates a workload and draws it on a :class:`matplotlib.figure.Figure`
(no pyplot state). :func:`render` does the same and turns the result into what the calculator's
widgets show (an HTML summary and table, a PNG chart), all under one lock: ipykernel 7 runs widget
callbacks on more than one thread, and matplotlib's text and math parsers are not thread-safe, so
every drawing in this module is serialized. matplotlib is imported when called.
"""

from __future__ import annotations

import html
import io
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from streamkit.limits import CALCULATOR_POLL_INTERVAL_S_RANGE

from .model import HOURS_PER_MONTH, polling_read_requests, price_label, stream_read_cost
from .workload import Consumer, LambdaTrigger, Poller, Workload, estimate

if TYPE_CHECKING:  # pragma: no cover - imported when called
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["DRAW_LOCK", "calculator_view", "estimate_html", "render"]

#: Held while anything in this module draws or renders a figure (one drawing at a time).
DRAW_LOCK = threading.RLock()


def calculator_view(
    writes_per_second: float = 100.0,
    item_bytes: float = 1024.0,
    shards: float = 4,
    triggers: int = 1,
    pollers: int = 1,
    poll_interval_s: float = 1.0,
    batch_size: int = 100,
    batching_window_s: int = 0,
    memory_mb: int = 128,
    duration_ms: float = 100.0,
    architecture: str = "x86_64",
    region: str = "us-east-1",
    hours: float = HOURS_PER_MONTH,
    free_tier: bool = True,
) -> tuple[pd.DataFrame, Figure]:
    """Estimate a workload and draw what it costs.

    The function the notebook's interactive calculator calls on every change. Left: monthly cost
    per consumer. Right: total monthly cost against the pollers' poll interval (0.1 to 10 s), the
    current interval marked. Both titled with region and price date.

    Parameters
    ----------
    writes_per_second, item_bytes, shards
        As in :class:`Workload`.
    triggers : int, default 1
        Lambda triggers (0 to 2) sharing the settings below.
    pollers : int, default 1
        Polling consumers (0 to 2) with ``poll_interval_s``.
    poll_interval_s : float, default 1.0
        Seconds between polls of an idle shard.
    batch_size, batching_window_s, memory_mb, duration_ms, architecture
        As in :class:`LambdaTrigger`.
    region, hours, free_tier
        As in :func:`estimate`.

    Returns
    -------
    (pandas.DataFrame, matplotlib.figure.Figure)
        The estimate and the figure (a ``Figure`` object, not pyplot's: nothing to close).
    """
    from matplotlib.figure import Figure

    workload = Workload(writes_per_second, item_bytes, shards)
    lam: dict[str, Any] = dict(
        batch_size=batch_size,
        batching_window_s=batching_window_s,
        memory_mb=memory_mb,
        duration_ms=duration_ms,
        architecture=architecture,
    )

    def consumers_for(interval: float) -> list[Consumer]:
        out: list[Consumer] = [LambdaTrigger(f"lambda-{i + 1}", **lam) for i in range(triggers)]
        out += [Poller(f"poller-{i + 1}", interval) for i in range(pollers)]
        return out

    result = estimate(
        workload, consumers_for(poll_interval_s), region=region, hours=hours, free_tier=free_tier
    )
    with DRAW_LOCK:
        fig = Figure(figsize=(11, 3.8))
        # fixed margins: constrained layout would triple the time a change takes to show
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.14, top=0.83, wspace=0.28)
        left, right = fig.subplots(1, 2)
        _draw(
            fig,
            left,
            right,
            result,
            workload,
            shards,
            writes_per_second,
            pollers,
            poll_interval_s,
            hours,
            region,
            free_tier,
        )
    return result, fig


def _draw(
    fig: Any,
    left: Any,
    right: Any,
    result: pd.DataFrame,
    workload: Workload,
    shards: float,
    writes_per_second: float,
    pollers: int,
    poll_interval_s: float,
    hours: float,
    region: str,
    free_tier: bool,
) -> None:
    per_consumer = result.groupby("consumer", sort=False)["cost_usd"].sum()
    values = per_consumer.to_numpy()
    colors = np.where(values < 0, "tab:green", "tab:blue")
    left.barh(per_consumer.index.astype(str), values, color=colors)
    left.invert_yaxis()
    left.set_xlabel("USD per month (free tier as its own line)")
    left.set_title(f"Cost by consumer: USD {result['cost_usd'].sum():,.2f} in total", fontsize=10)

    intervals = np.geomspace(*CALCULATOR_POLL_INTERVAL_S_RANGE, 60)
    reads = polling_read_requests(
        shards,
        1.0 / intervals,
        hours=hours,
        records_per_second=writes_per_second,
        avg_record_bytes=workload.stream_record_bytes,
    )
    fixed = float(result.loc[result["kind"] == "lambda trigger", "cost_usd"].sum())
    fixed += float(
        result.loc[
            (result["kind"] == "free tier") & (result["charge"] != "stream reads"), "cost_usd"
        ].sum()
    )
    totals = fixed + stream_read_cost(
        pollers * np.asarray(reads), region=region, free_tier=free_tier
    )
    right.plot(intervals, totals, color="tab:orange")
    right.axvline(poll_interval_s, color="grey", linestyle=":")
    right.plot([poll_interval_s], [result["cost_usd"].sum()], "o", color="tab:orange")
    right.set_xscale("log")
    right.set_xlabel("poll interval of the pollers (s)")
    right.set_ylabel("USD per month")
    right.set_title(f"Total against poll interval ({pollers} poller(s))", fontsize=10)
    fig.suptitle(f"DynamoDB Streams workload: {price_label(region)}", fontsize=11)


def estimate_html(result: pd.DataFrame) -> str:
    """An estimate as an HTML table: line items, the total and the assumptions (no ``$`` signs:
    a page that typesets math would take two of them for a formula)."""
    import pandas as pd

    shown = result[["consumer", "charge", "quantity", "unit", "cost_usd"]].copy()
    free = (result["kind"].isin(["lambda trigger", "global table replication"])) & (
        result["unit_price_usd"] == 0
    )
    shown.insert(
        4,
        "price (USD)",
        [
            "free" if is_free else f"{np.format_float_positional(v, trim='-')} per {per:,.0f}"
            for v, per, is_free in zip(result["unit_price_usd"], result["per"], free, strict=True)
        ],
    )
    shown = shown.rename(columns={"cost_usd": "USD per month"})
    total = pd.DataFrame([{"consumer": "total", "USD per month": result["cost_usd"].sum()}])
    shown = pd.concat([shown.astype(object), total.astype(object)], ignore_index=True)
    shown = shown.astype(object).where(shown.notna(), "")
    styler = (
        shown.style.set_uuid("estimate")
        .hide(axis="index")
        .format({"quantity": lambda q: q if q == "" else f"{q:,.0f}", "USD per month": "{:,.4f}"})
        .set_properties(subset=["quantity", "USD per month"], **{"text-align": "right"})
        .set_properties(subset=pd.IndexSlice[len(shown) - 1, :], **{"font-weight": "bold"})
    )
    assumptions = "".join(f"<li>{html.escape(a)}</li>" for a in result.attrs.get("assumptions", []))
    return str(styler.to_html()) + (
        f"<details><summary>Assumptions</summary><ul>{assumptions}</ul></details>"
        if assumptions
        else ""
    )


def render(**settings: Any) -> tuple[pd.DataFrame, str, bytes]:
    """Estimate, draw and render in one step, under :data:`DRAW_LOCK` (safe from any thread).

    Parameters
    ----------
    **settings
        :func:`calculator_view`'s parameters.

    Returns
    -------
    (pandas.DataFrame, str, bytes)
        The estimate, a one-line HTML summary (the total per month, region and price date, and
        UNCONFIRMED where a price is), and the chart as PNG.

    Raises
    ------
    PricingError
        As :func:`calculator_view` (a region without a price, a value out of range).
    """
    with DRAW_LOCK:
        result, fig = calculator_view(**settings)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
    total = float(result["cost_usd"].sum())
    label = price_label(settings.get("region", "us-east-1"))
    summary = (
        f"<b style='font-size: 1.3em'>Total: USD {total:,.2f} per month</b> "
        f"<span style='color: #555'>({html.escape(label)}; "
        f"{settings.get('hours', HOURS_PER_MONTH):g} hours per month)</span>"
    )
    return result, summary, buffer.getvalue()
