"""The interactive calculator: :func:`calculator_widget`, controls in ipywidgets.

Every change recomputes the estimate with :func:`~streamkit.pricing.views.render` and puts the
result into three widgets: a summary line, an HTML table of the line items and the chart (PNG).
Widget values are set, nothing is printed or captured in an output area, so the calculator shows the
same thing whichever thread the kernel runs a callback on (ipykernel 7 uses more than one). The
callback is serialized, reads every control's current value, and draws on its own
:class:`~matplotlib.figure.Figure`.

Controls keep their values typed and exact: sizes, rates, intervals, durations and batch sizes are
chosen from series of whole, readable values (``SelectionSlider``; a starting value that is not in
a series is added to it), so no slider snaps a value to a float it then sends back. Readouts are
plain numbers with thousands separators and units. Each control is at least 300 px wide.

The controls' ranges come from :mod:`streamkit.limits`: AWS's limits where AWS sets the bound
(batch size, batching window, memory, item size), the calculator's own spans otherwise.
ipywidgets and matplotlib are imported when the calculator is made.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
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
from .views import estimate_html, render

__all__ = ["DEFAULTS", "calculator_widget", "number_label", "series"]

#: The calculator's starting values (any of them can be given to :func:`calculator_widget`).
DEFAULTS: dict[str, Any] = dict(
    writes_per_second=100.0,
    item_bytes=1024,
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

#: Item sizes offered (bytes): round decimal sizes and the binary ones items often have, up to
#: DynamoDB's 400 KB item limit.
_ITEM_SIZES = (
    10,
    50,
    100,
    256,
    512,
    1024,
    2048,
    4096,
    8192,
    16384,
    32768,
    65536,
    131072,
    262144,
    409600,
)

#: The narrowest a control may be; its label takes _LABEL_WIDTH of it, its readout about 90 px.
_CONTROL_MIN_WIDTH = "560px"
_LABEL_WIDTH = "160px"


def series(low: float, high: float, steps: tuple[float, ...] = (1, 2, 5)) -> list[float]:
    """The values ``steps x 10^k`` from ``low`` to ``high`` (both included), e.g. 1, 2, 5, 10, ...

    Parameters
    ----------
    low, high : float
        The ends of the range, > 0.
    steps : tuple of float
        The mantissas used in each decade.

    Returns
    -------
    list of float
        Sorted, with ``low`` and ``high`` themselves.
    """
    import math

    if not 0 < low <= high:
        raise PricingError(f"Invalid series {low!r} to {high!r}: expected 0 < low <= high.")
    values = {float(low), float(high)}
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for step in steps:
            value = round(step * 10.0**exponent, 10)
            if low <= value <= high:
                values.add(value)
    return sorted(values)


def number_label(value: float, unit: str = "") -> str:
    """A readout: a plain number with thousands separators (no exponent), and its unit.

    Examples
    --------
    >>> number_label(10000, "records"), number_label(0.25, "s"), number_label(2048, "B")
    ('10,000 records', '0.25 s', '2,048 B')
    """
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"
    if "e" in text:  # a tiny or huge value that :g wrote with an exponent
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def _options(
    values: Sequence[float], start: float, unit: str, cast: type = float
) -> list[tuple[str, Any]]:
    chosen = sorted({cast(v) for v in values} | {cast(start)})
    return [(number_label(v, unit), v) for v in chosen]


def calculator_widget(**defaults: Any) -> Any:
    """Return the calculator: controls, a summary line, the estimate table and a chart.

    Parameters
    ----------
    **defaults
        Starting values, by name: any of :data:`DEFAULTS` (the parameters of
        :func:`~streamkit.pricing.views.calculator_view`).

    Returns
    -------
    ipywidgets.VBox
        With ``.controls`` (name -> widget), ``.summary``, ``.table`` (HTML widgets), ``.chart``
        (Image widget) and ``.recompute()`` (what every change calls; thread-safe, returns the
        estimate, or None when it cannot be made). A :class:`PricingError` (say, a value out of
        range) is shown in the summary instead of raising.

    Raises
    ------
    PricingError
        An unknown setting name.
    """
    import ipywidgets as widgets

    unknown = sorted(set(defaults) - set(DEFAULTS))
    if unknown:
        raise PricingError(
            f"Unknown calculator setting(s) {', '.join(unknown)}: expected any of "
            f"{', '.join(DEFAULTS)}."
        )
    start = {**DEFAULTS, **defaults}
    layout = {"width": "100%", "min_width": _CONTROL_MIN_WIDTH}
    style = {"description_width": _LABEL_WIDTH}
    readers_lo, readers_hi = CALCULATOR_READERS_RANGE
    batch_lo, batch_hi = ESM_BATCH_SIZE_RANGE
    memory_lo, memory_hi = LAMBDA_MEMORY_MB_RANGE
    memory_sizes = [
        m
        for m in (128, 256, 512, 1024, 1536, 2048, 3008, 4096, 6144, 8192, 10240)
        if memory_lo <= m <= memory_hi
    ]

    def choice(
        name: str, label: str, values: Sequence[float], unit: str, cast: type = float
    ) -> Any:
        return widgets.SelectionSlider(
            options=_options(values, start[name], unit, cast),
            value=cast(start[name]),
            description=label,
            continuous_update=False,
            layout=layout,
            style=style,
        )

    def whole(name: str, label: str, low: int, high: int, unit: str) -> Any:
        return widgets.IntSlider(
            value=int(start[name]),
            min=low,
            max=high,
            description=label,
            readout_format=",d",
            continuous_update=False,
            layout=layout,
            style=style,
            tooltip=unit,
        )

    controls: dict[str, Any] = {
        "writes_per_second": choice(
            "writes_per_second",
            "writes per second",
            series(*CALCULATOR_WRITES_PER_SECOND_RANGE),
            "/s",
        ),
        "item_bytes": choice(
            "item_bytes",
            "item size",
            [
                b
                for b in _ITEM_SIZES
                if CALCULATOR_ITEM_BYTES_RANGE[0] <= b <= CALCULATOR_ITEM_BYTES_RANGE[1]
            ],
            "B",
            int,
        ),
        "shards": whole("shards", "shards", *CALCULATOR_SHARDS_RANGE, "shards"),
        "triggers": whole("triggers", "Lambda triggers", readers_lo, readers_hi, "triggers"),
        "pollers": whole("pollers", "pollers (KCL, SDK)", readers_lo, readers_hi, "pollers"),
        "poll_interval_s": choice(
            "poll_interval_s",
            "poll interval",
            series(*CALCULATOR_POLL_INTERVAL_S_RANGE, (1, 2, 2.5, 5)),
            "s",
        ),
        "batch_size": choice(
            "batch_size", "batch size", series(batch_lo, batch_hi), "records", int
        ),
        "batching_window_s": whole(
            "batching_window_s", "batching window (s)", 0, ESM_BATCHING_WINDOW_MAX_S, "seconds"
        ),
        "memory_mb": choice("memory_mb", "function memory", memory_sizes, "MB", int),
        "duration_ms": choice(
            "duration_ms", "duration per call", series(*CALCULATOR_DURATION_MS_RANGE), "ms"
        ),
        "architecture": widgets.Dropdown(
            options=list(ARCHITECTURES),
            value=start["architecture"],
            description="architecture",
            layout=layout,
            style=style,
        ),
        "region": widgets.Dropdown(
            options=list(regions()),
            value=start["region"],
            description="region",
            layout=layout,
            style=style,
        ),
    }
    summary = widgets.HTML()
    table = widgets.HTML()
    chart = widgets.Image(format="png", layout={"width": "100%", "max_width": "900px"})
    guard = threading.Lock()
    state: dict[str, Any] = {"pending": False, "drawing": False, "result": None}

    def draw() -> Any:
        settings = {name: control.value for name, control in controls.items()}
        try:
            result, line, png = render(**settings)
        except PricingError as exc:
            summary.value = f"<b>Cannot estimate:</b> {exc}"
            table.value = ""
            return None
        summary.value = line
        table.value = estimate_html(result)
        chart.value = png
        return result

    def recompute(*_: Any) -> Any:
        """Show the estimate for the controls' values. One thread draws at a time; a call that
        comes while another draws leaves it to that one, which draws again with the values as
        they are then (so the last change is always shown)."""
        with guard:
            state["pending"] = True
            if state["drawing"]:
                return state["result"]
            state["drawing"] = True
        try:
            while True:
                with guard:
                    if not state["pending"]:
                        state["drawing"] = False
                        return state["result"]
                    state["pending"] = False
                state["result"] = draw()
        except BaseException:
            with guard:
                state["drawing"] = False
            raise

    for control in controls.values():
        control.observe(recompute, names="value")
    grid = widgets.GridBox(
        list(controls.values()),
        layout=widgets.Layout(
            grid_template_columns=f"repeat(auto-fill, minmax({_CONTROL_MIN_WIDTH}, 1fr))",
            grid_gap="2px 24px",
            width="100%",
        ),
    )
    box = widgets.VBox([grid, summary, chart, table])
    box.controls = controls  # for tests and for notebooks that set values from code
    box.summary, box.table, box.chart = summary, table, chart
    box.recompute = recompute
    recompute()
    return box
