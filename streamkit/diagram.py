"""The picture of a DynamoDB stream trigger: table → stream → shards → mapping → function → logs.

:func:`plot_trigger_diagram` draws the parts a trigger is made of and what flows between them,
with the names of the API calls that make each part, so that a reader can place every later step
of the walkthrough. A :class:`matplotlib.figure.Figure` (no pyplot state); matplotlib is imported
when drawing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InvalidParameterError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_trigger_diagram"]

# (x, y, width, height, title, detail, colour) of each box, in axes units (0..120 x 0..46).
_BOXES = {
    "table": (1, 20, 15, 12, "DynamoDB table", "PutItem / UpdateItem /\nDeleteItem", "#d6e9f8"),
    "stream": (25, 13, 20, 25, "stream", "UpdateTable(Stream-\nSpecification); 24 h", "#d6e9f8"),
    "mapping": (
        54,
        20,
        21,
        12,
        "event source mapping",
        "CreateEventSourceMapping\npolls 4×/s, batches",
        "#fde8c8",
    ),
    "function": (84, 20, 16, 12, "Lambda function", "CreateFunction\n+ execution role", "#fde8c8"),
    "logs": (104, 34, 15, 9, "CloudWatch Logs", "/aws/lambda/<fn>", "#e4f2dd"),
    "failure": (
        54,
        1,
        21,
        10,
        "on-failure destination",
        "SQS / SNS / S3: a record\nof each discarded batch",
        "#f8d7d7",
    ),
}


def plot_trigger_diagram(shards: int = 2) -> Figure:
    """Draw a DynamoDB stream trigger: its parts, what flows between them, and the calls that make them.

    Parameters
    ----------
    shards : int, default 2
        How many shards to draw in the stream (1 to 4); a stream has about one per partition.

    Returns
    -------
    matplotlib.figure.Figure
        Jupyter shows it when it is a cell's value.
    """
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= 4:
        raise InvalidParameterError("shards", shards, "a whole number from 1 to 4")
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig = Figure(figsize=(12, 4.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlim(0, 120)
    ax.set_ylim(0, 46)
    ax.axis("off")

    def box(key: str) -> tuple[float, float, float, float]:
        x, y, w, h, title, detail, colour = _BOXES[key]
        ax.add_patch(
            FancyBboxPatch(
                (x, y),
                w,
                h,
                boxstyle="round,pad=0.4,rounding_size=1.2",
                facecolor=colour,
                edgecolor="0.35",
                linewidth=1,
            )
        )
        ax.text(
            x + w / 2, y + h - 1.6, title, ha="center", va="top", fontsize=9.5, fontweight="bold"
        )
        if key != "stream":
            ax.text(
                x + w / 2, y + 1.4, detail, ha="center", va="bottom", fontsize=7.5, color="0.25"
            )
        return x, y, w, h

    def arrow(
        start: tuple[float, float],
        end: tuple[float, float],
        label: str = "",
        offset: tuple[float, float] = (0, 1.2),
        style: str = "-|>",
        colour: str = "0.2",
        dashed: bool = False,
    ) -> None:
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle=style,
                mutation_scale=12,
                color=colour,
                linewidth=1.3,
                linestyle="--" if dashed else "-",
            )
        )
        if label:
            mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
            ax.text(*mid, label, ha="center", va="bottom", fontsize=7.5, color=colour)

    tx, ty, tw, th = box("table")
    sx, sy, sw, sh = box("stream")
    ax.text(
        sx + sw / 2,
        sy + 1.2,
        _BOXES["stream"][5],
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="0.25",
    )
    lane = (sh - 11) / shards
    for n in range(shards):  # shards, each an ordered run of records
        y = sy + sh - 4.2 - (n + 1) * lane + 0.6
        ax.add_patch(
            FancyBboxPatch(
                (sx + 1.5, y),
                sw - 3,
                lane - 1.2,
                boxstyle="round,pad=0.2",
                facecolor="white",
                edgecolor="0.5",
                linewidth=0.8,
            )
        )
        for k in range(5):
            ax.add_patch(
                FancyBboxPatch(
                    (sx + 2.4 + k * 2.2, y + 0.5),
                    1.5,
                    lane - 2.2,
                    boxstyle="square,pad=0",
                    facecolor="#7fb3df",
                    edgecolor="none",
                )
            )
        ax.text(
            sx + sw - 2.2,
            y + (lane - 1.2) / 2,
            f"shard {n + 1}",
            ha="right",
            va="center",
            fontsize=7,
        )
    mx, my, mw, mh = box("mapping")
    fx, fy, fw, fh = box("function")
    lx, ly, lw, lh = box("logs")
    dx, dy, dw, dh = box("failure")
    mid_t = ty + th / 2
    arrow((tx + tw + 0.6, mid_t), (sx - 0.6, mid_t), "a record\nper change", (0, 0.8))
    arrow((sx + sw + 0.6, mid_t), (mx - 0.6, mid_t), "GetRecords\n(free)", (0, 0.8))
    arrow((mx + mw + 0.6, mid_t + 2), (fx - 0.6, mid_t + 2), "invoke\n(sync)", (0, 0.8))
    arrow((fx - 0.6, mid_t - 2.5), (mx + mw + 0.6, mid_t - 2.5), "", colour="tab:red", dashed=True)
    ax.text(
        (mx + mw + fx) / 2,
        my - 1.2,
        "error or\nbatchItem-\nFailures",
        ha="center",
        va="top",
        fontsize=7.5,
        color="tab:red",
    )
    arrow((fx + fw * 0.75, fy + fh + 0.6), (lx - 0.6, ly + lh / 2), "", colour="tab:green")
    ax.text(
        fx + fw * 0.55,
        fy + fh + 4.5,
        "START, prints,\nREPORT",
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="tab:green",
    )
    arrow((mx + mw / 2, my - 0.6), (dx + dw / 2, dy + dh + 0.6), "", colour="tab:red")
    ax.text(
        mx + mw / 2 - 1,
        (my + dy + dh) / 2,
        "retries used up,\nrecord too old",
        ha="right",
        va="center",
        fontsize=7.5,
        color="tab:red",
    )
    ax.text(
        mx + mw / 2,
        my + mh + 1.6,
        "retry · bisect · checkpoint per shard",
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="0.3",
        style="italic",
    )
    ax.text(
        60,
        45.5,
        "A DynamoDB stream trigger: the parts and what flows between them",
        ha="center",
        va="top",
        fontsize=11,
    )
    return fig
