"""The drawing behind the notebook's interactive calculator: :func:`calculator_view`.

It estimates a workload, prints the estimate and draws it with matplotlib (imported when called).
The figure is made with pyplot so that Jupyter shows it, in a cell or in the widget of
:mod:`streamkit.pricing.calculator`, as it shows any pyplot figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from streamkit.limits import CALCULATOR_POLL_INTERVAL_S_RANGE

from .model import HOURS_PER_MONTH, polling_read_requests, price_label, stream_read_cost
from .workload import Consumer, LambdaTrigger, Poller, Workload, estimate, format_estimate

if TYPE_CHECKING:  # pragma: no cover - imported when called
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["calculator_view"]


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
    """Estimate a workload, print the line items and draw what it costs.

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
        The estimate and the figure (drawn with pyplot; close it when done outside Jupyter).
    """
    import matplotlib.pyplot as plt

    workload = Workload(writes_per_second, item_bytes, shards)
    lam = dict(
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
    print(format_estimate(result))

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    per_consumer = result.groupby("consumer", sort=False)["cost_usd"].sum()
    values = per_consumer.to_numpy()
    colors = np.where(values < 0, "tab:green", "tab:blue")
    left.barh(per_consumer.index.astype(str), values, color=colors)
    left.invert_yaxis()
    left.set_xlabel("USD per month (free tier as its own line)")
    left.set_title(f"Cost by consumer: ${result['cost_usd'].sum():,.2f} in total", fontsize=10)

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
    fig.tight_layout()
    return result, fig
