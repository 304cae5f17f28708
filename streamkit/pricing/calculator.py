"""The notebook's interactive calculator: :func:`calculator_widget`, controls in ipywidgets.

Every change reruns :func:`~streamkit.pricing.views.calculator_view`. The controls' ranges come
from :mod:`streamkit.limits`: AWS's limits where AWS sets the bound (batch size, batching window,
memory, item size), the calculator's own spans otherwise. ipywidgets and matplotlib are imported
when the calculator is made.
"""

from __future__ import annotations

import math
from typing import Any

from streamkit.errors import PricingError
from streamkit.limits import (
    CALCULATOR_DURATION_MS_RANGE,
    CALCULATOR_ITEM_BYTES_RANGE,
    CALCULATOR_POLL_INTERVAL_S_RANGE,
    CALCULATOR_READERS_RANGE,
    CALCULATOR_SHARDS_RANGE,
    CALCULATOR_WRITES_PER_SECOND_RANGE,
    ESM_BATCH_SIZE_RANGE,
    ESM_BATCHING_WINDOW_MAX_S,
    LAMBDA_MEMORY_MB_RANGE,
)

from .model import ARCHITECTURES, regions
from .views import calculator_view

__all__ = ["calculator_widget"]


def _decades(low: float, high: float, step: float) -> tuple[float, float]:
    """Exponents of ``low`` and ``high`` for a base-10 log slider, ``high`` rounded down to ``step``.

    So the slider never goes past ``high``: 409,600 bytes (10^5.61) gives 5.6 with steps of 0.1.
    """
    top = math.log10(high)
    return math.log10(low), round(math.floor(round(top / step, 9)) * step, 9)


def calculator_widget(**defaults: Any) -> Any:
    """Return an ipywidgets calculator that reruns :func:`calculator_view` on every change.

    Parameters
    ----------
    **defaults
        Starting values for :func:`calculator_view`'s parameters.

    Returns
    -------
    ipywidgets.VBox
        Controls and an output area. A :class:`PricingError` (say, a region without Lambda
        prices) is printed in the output area instead of raising.
    """
    import ipywidgets as widgets

    start: dict[str, Any] = dict(
        writes_per_second=100.0,
        item_bytes=1024.0,
        shards=4,
        triggers=1,
        pollers=1,
        poll_interval_s=1.0,
        batch_size=100,
        batching_window_s=0,
        memory_mb=128,
        duration_ms=100.0,
        architecture="x86_64",
        region="us-east-1",
    )
    unknown = sorted(set(defaults) - set(start))
    if unknown:
        raise PricingError(
            f"Unknown calculator setting(s) {', '.join(unknown)}: expected any of "
            f"{', '.join(start)}."
        )
    start.update(defaults)
    writes_lo, writes_hi = _decades(*CALCULATOR_WRITES_PER_SECOND_RANGE, step=0.1)
    item_lo, item_hi = _decades(*CALCULATOR_ITEM_BYTES_RANGE, step=0.1)
    interval_lo, interval_hi = _decades(*CALCULATOR_POLL_INTERVAL_S_RANGE, step=0.05)
    duration_lo, duration_hi = _decades(*CALCULATOR_DURATION_MS_RANGE, step=0.05)
    shards_lo, shards_hi = CALCULATOR_SHARDS_RANGE
    readers_lo, readers_hi = CALCULATOR_READERS_RANGE
    batch_lo, batch_hi = ESM_BATCH_SIZE_RANGE
    memory_lo, memory_hi = LAMBDA_MEMORY_MB_RANGE
    style = {"description_width": "150px"}
    controls = {
        "writes_per_second": widgets.FloatLogSlider(
            value=start["writes_per_second"],
            base=10,
            min=writes_lo,
            max=writes_hi,
            step=0.1,
            description="writes/s",
        ),
        "item_bytes": widgets.FloatLogSlider(
            value=start["item_bytes"],
            base=10,
            min=item_lo,
            max=item_hi,
            step=0.1,
            description="item bytes",
        ),
        "shards": widgets.IntSlider(
            value=start["shards"], min=shards_lo, max=shards_hi, description="shards"
        ),
        "triggers": widgets.IntSlider(
            value=start["triggers"], min=readers_lo, max=readers_hi, description="Lambda triggers"
        ),
        "pollers": widgets.IntSlider(
            value=start["pollers"], min=readers_lo, max=readers_hi, description="pollers"
        ),
        "poll_interval_s": widgets.FloatLogSlider(
            value=start["poll_interval_s"],
            base=10,
            min=interval_lo,
            max=interval_hi,
            step=0.05,
            description="poll interval (s)",
        ),
        "batch_size": widgets.IntSlider(
            value=start["batch_size"], min=batch_lo, max=batch_hi, description="batch size"
        ),
        "batching_window_s": widgets.IntSlider(
            value=start["batching_window_s"],
            min=0,
            max=ESM_BATCHING_WINDOW_MAX_S,
            description="batching window (s)",
        ),
        "memory_mb": widgets.IntSlider(
            value=start["memory_mb"],
            min=memory_lo,
            max=memory_hi,
            step=64,
            description="memory (MB)",
        ),
        "duration_ms": widgets.FloatLogSlider(
            value=start["duration_ms"],
            base=10,
            min=duration_lo,
            max=duration_hi,
            step=0.05,
            description="duration (ms)",
        ),
        "architecture": widgets.Dropdown(
            options=list(ARCHITECTURES), value=start["architecture"], description="architecture"
        ),
        "region": widgets.Dropdown(
            options=list(regions()), value=start["region"], description="region"
        ),
    }
    for control in controls.values():
        control.style = style

    def show(**kwargs: Any) -> None:
        import matplotlib.pyplot as plt

        try:
            calculator_view(**kwargs)
        except PricingError as exc:
            plt.close("all")
            print(f"Cannot estimate: {exc}")

    output = widgets.interactive_output(show, controls)
    names = list(controls)
    half = (len(names) + 1) // 2
    columns = widgets.HBox(
        [
            widgets.VBox([controls[n] for n in names[:half]]),
            widgets.VBox([controls[n] for n in names[half:]]),
        ]
    )
    box = widgets.VBox([columns, output])
    box.controls = controls  # for tests and for notebooks that set values from code
    return box
