"""A trigger's life on a time axis: writes, polls, invocations, retries, splits, discards.

:func:`trigger_timeline` tabulates what happened to a function's triggers, one row per event;
:func:`plot_timeline` draws it, one panel per shard; :func:`invocation_summary` is the short,
deterministic table of invocations the notebooks check.

Where the events come from:

* **embedded backend**: the local Lambda service's own record (``backend.trigger_journal()``):
  every write as the stream received it, every poll, every invocation with the records it carried
  and how it ended, bisect splits, discards and checkpoints, per shard;
* **AWS** (or another endpoint): what the function's logs and the on-failure destination say.
  ``START`` / ``REPORT`` lines give each invocation's start and duration, an ``[ERROR]`` line or a
  timeout marks it failed, ``EVENT`` lines (functions that log their event) give the records it
  carried, and failure records read from an SQS destination give the discards. Polls, splits and
  checkpoints are not visible on AWS, and invocations are not tied to a shard (one panel).

Times are seconds from the first event shown. matplotlib is imported when drawing, and the figure
is a :class:`matplotlib.figure.Figure` (no pyplot state: safe from any thread).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import InvalidParameterError
from .logs import _log_group, _read_log_events

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["KINDS", "invocation_summary", "plot_timeline", "trigger_timeline"]

#: The kinds of event, in the order of the panels' lanes (top to bottom).
KINDS = ("write", "poll", "invoke", "split", "discard", "checkpoint")
_LANES = {"write": 5, "poll": 4, "invoke": 3, "split": 2, "discard": 2, "checkpoint": 1}
_LANE_LABELS = {5: "writes", 4: "polls", 3: "invocations", 2: "splits / discards", 1: "checkpoint"}
_COLUMNS = [
    "t",
    "end",
    "shard",
    "kind",
    "first_sequence",
    "last_sequence",
    "records",
    "ok",
    "attempt",
    "detail",
]
_REPORT = re.compile(r"REPORT RequestId: (\S+)\s+Duration: ([\d.]+) ms")


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=_COLUMNS)
    for column in ("records", "attempt"):  # sequence numbers (21 digits) stay Python ints
        frame[column] = frame[column].astype("Int64")
    return frame


def trigger_timeline(
    backend: Any,
    function_name: str,
    *,
    since: float | datetime | None = None,
    trigger: str | None = None,
    failure_records: Iterable[dict[str, Any]] = (),
) -> pd.DataFrame:
    """What a function's triggers did, one row per event, oldest first.

    Parameters
    ----------
    backend : Backend
    function_name : str
        The function (name without or with the prefix, or its ARN).
    since : float or datetime, optional
        Only events at or after this time (epoch seconds or an aware datetime): a notebook takes
        ``time.time()`` before a step to draw that step alone.
    trigger : str, optional
        Only this trigger's events (its UUID), when the function has had several (embedded
        backend; on AWS the logs do not say which trigger invoked).
    failure_records : iterable of dict, optional
        On AWS: failure records read from the on-failure destination
        (:func:`streamkit.destinations.read_failure_records`), drawn as discards. Ignored on the
        embedded backend, which records its discards itself.

    Returns
    -------
    pandas.DataFrame
        ``t`` (seconds from the first event), ``end`` (invocations), ``shard`` (``shard 1``,
        ``shard 2``, ... in order of appearance; ``all shards`` on AWS), ``kind`` (one of
        :data:`KINDS`), ``first_sequence``, ``last_sequence``, ``records``, ``ok``, ``attempt``
        (local only: 1 for a batch's first invocation, 2 for its first retry, ...), ``detail``
        (the error, the split sizes or the discard's condition).
    """
    if isinstance(since, datetime):
        since = since.timestamp()
    if since is not None and (isinstance(since, bool) or not isinstance(since, int | float)):
        raise InvalidParameterError("since", since, "epoch seconds or an aware datetime")
    if backend.is_local:
        events = backend.trigger_journal(function_name)
        if trigger is not None:
            events = events[events["uuid"] == trigger]
        rows = events.to_dict("records")
    else:
        rows = _from_logs(backend, function_name, list(failure_records))
    if since is not None:
        rows = [row for row in rows if row["time"] >= since]
    if not rows:
        return _frame([])
    origin = min(row["time"] for row in rows)
    shards: dict[Any, str] = {}
    out = []
    for row in sorted(rows, key=lambda r: r["time"]):
        shard = row.get("shard_id")
        label = (
            "all shards" if shard is None else shards.setdefault(shard, f"shard {len(shards) + 1}")
        )
        end = row.get("end")
        out.append(
            {
                "t": round(row["time"] - origin, 6),
                "end": None if end is None or end != end else round(end - origin, 6),
                "shard": label,
                "kind": row["kind"],
                "first_sequence": _int_or_none(row.get("first_sequence")),
                "last_sequence": _int_or_none(row.get("last_sequence")),
                "records": _int_or_none(row.get("records")),
                "ok": row.get("ok"),
                "attempt": _int_or_none(row.get("attempt")),
                "detail": row.get("detail"),
            }
        )
    return _frame(out)


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or value != value else int(value)
    except (TypeError, ValueError):
        return None


def _from_logs(
    backend: Any, function_name: str, failures: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Invocations from the function's log lines; discards from failure records."""
    group = _log_group(backend, function_name)
    invocations: dict[str, dict[str, Any]] = {}
    current: dict[str, str] = {}  # log stream -> the request id it runs
    for stream, timestamp, message in _read_log_events(backend, group, None):
        text = message.strip()
        if text.startswith("START RequestId: "):
            request = text.split()[2]
            current[stream] = request
            invocations[request] = {
                "time": timestamp / 1000,
                "kind": "invoke",
                "ok": True,
                "records": None,
                "shard_id": None,
            }
            continue
        request = current.get(stream)
        row = invocations.get(request) if request else None
        if row is None:
            continue
        report = _REPORT.match(text)
        if report:
            row["end"] = row["time"] + float(report.group(2)) / 1000
        elif text.startswith("[ERROR]") or "Task timed out after" in text:
            row["ok"] = False
            row["detail"] = text.splitlines()[0].removeprefix("[ERROR]").strip()[:200]
        elif text.startswith("EVENT "):
            try:
                import json

                records = json.loads(text[len("EVENT ") :]).get("Records", [])
            except ValueError:
                continue
            sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
            if sequences:
                row.update(
                    records=len(sequences),
                    first_sequence=min(sequences),
                    last_sequence=max(sequences),
                )
    rows = list(invocations.values())
    for failure in failures:
        info = failure.get("DDBStreamBatchInfo") or {}
        stamp = failure.get("timestamp")
        when = (
            datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
            if stamp
            else None
        )
        if when is None:
            continue
        rows.append(
            {
                "time": when,
                "kind": "discard",
                "shard_id": None,
                "first_sequence": info.get("startSequenceNumber"),
                "last_sequence": info.get("endSequenceNumber"),
                "records": info.get("batchSize"),
                "detail": (failure.get("requestContext") or {}).get("condition"),
            }
        )
    return rows


def invocation_summary(timeline: pd.DataFrame) -> pd.DataFrame:
    """The invocations of a timeline and what came of them, without times (stable across runs).

    Parameters
    ----------
    timeline : pandas.DataFrame
        From :func:`trigger_timeline`.

    Returns
    -------
    pandas.DataFrame
        One row per invocation, in order: ``invocation`` (1, 2, ...), ``shard``, ``records``,
        ``records_from`` / ``records_to`` (positions of its first and last record among the
        records written in the timeline, 1-based: sequence numbers themselves change from run to
        run), ``attempt``, ``result`` (``ok`` or the error), and ``then``: what the service did
        next for that shard (split, discard, checkpoint), local only.
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    writes = [
        int(v)
        for v in timeline.loc[timeline["kind"] == "write", "first_sequence"]
        if v == v and v is not None
    ]
    position = {sequence: n for n, sequence in enumerate(sorted(writes), start=1)}
    frame = timeline.reset_index(drop=True)
    for index, row in frame[frame["kind"] == "invoke"].iterrows():
        following: list[str] = []
        for _, later in frame.iloc[int(str(index)) + 1 :].iterrows():
            if later["kind"] in ("invoke", "write", "poll"):
                if later["kind"] == "invoke" and later["shard"] == row["shard"]:
                    break
                continue
            if later["shard"] != row["shard"]:
                continue
            if later["kind"] == "split":
                following.append(f"split {later['detail']}")
            elif later["kind"] == "discard":
                following.append(f"discard {later['records']} ({later['detail']})")
            elif later["kind"] == "checkpoint" and "checkpoint" not in following:
                following.append("checkpoint")
        first, last = row["first_sequence"], row["last_sequence"]
        rows.append(
            {
                "invocation": len(rows) + 1,
                "shard": row["shard"],
                "records": row["records"],
                "records_from": position.get(first),
                "records_to": position.get(last),
                "attempt": row["attempt"],
                "result": "ok" if row["ok"] else (row["detail"] or "error"),
                "then": ", ".join(following),
            }
        )
    columns = ["invocation", "shard", "records", "records_from", "records_to", "attempt"]
    summary = pd.DataFrame(rows, columns=[*columns, "result", "then"])
    for column in columns[2:]:
        summary[column] = summary[column].astype("Int64")
    return summary.set_index("invocation")


def plot_timeline(
    backend: Any,
    function_name: str,
    *,
    since: float | datetime | None = None,
    trigger: str | None = None,
    failure_records: Iterable[dict[str, Any]] = (),
    polls: bool = True,
    title: str | None = None,
) -> Figure:
    """Draw a function's trigger timeline: one panel per shard, one lane per kind of event.

    Writes are dots at the moment the stream received them; polls are ticks (the empty ones
    too); each invocation is a bar from its start to its end, green if it succeeded, red if it
    failed, labelled with its record count (and ``retry n``); a split is a diamond, a discard a
    cross, a checkpoint move a triangle.

    Parameters
    ----------
    backend, function_name, since, trigger, failure_records
        As in :func:`trigger_timeline`.
    polls : bool, default True
        Draw the polls (an idle shard is polled about 4 times a second).
    title : str, optional
        Default: ``"<function>: trigger timeline"``.

    Returns
    -------
    matplotlib.figure.Figure
        Jupyter shows it when it is a cell's value; ``fig.savefig(...)`` writes it to a file.
    """
    from matplotlib.figure import Figure

    timeline = trigger_timeline(
        backend, function_name, since=since, trigger=trigger, failure_records=failure_records
    )
    shards = list(dict.fromkeys(timeline["shard"])) or ["all shards"]
    fig = Figure(figsize=(10, 1.1 + 2.1 * len(shards)), layout="constrained")
    axes = fig.subplots(len(shards), 1, sharex=True, squeeze=False)[:, 0]
    span = float(max(timeline["end"].max() if timeline["end"].notna().any() else 0, 0))
    span = max(span, float(timeline["t"].max()) if len(timeline) else 0.0, 0.05)
    for ax, shard in zip(axes, shards, strict=True):
        events = timeline[timeline["shard"] == shard]
        _draw_shard(ax, events, polls=polls, span=span)
        ax.set_title(shard, loc="left", fontsize=9)
    axes[-1].set_xlabel("seconds from the first event")
    fig.suptitle(title or f"{backend.name(function_name)}: trigger timeline", fontsize=11)
    return fig


def _draw_shard(ax: Any, events: pd.DataFrame, *, polls: bool, span: float) -> None:
    import pandas as pd

    lane = _LANES
    writes = events[events["kind"] == "write"]
    ax.scatter(writes["t"], [lane["write"]] * len(writes), s=14, color="tab:blue", zorder=3)
    if polls:
        polled = events[events["kind"] == "poll"]
        found = polled["records"].fillna(0).astype(int) > 0
        ax.scatter(
            polled["t"][~found],
            [lane["poll"]] * int((~found).sum()),
            marker="|",
            s=40,
            color="lightgrey",
        )
        ax.scatter(
            polled["t"][found],
            [lane["poll"]] * int(found.sum()),
            marker="|",
            s=80,
            color="tab:blue",
        )
    for _, row in events[events["kind"] == "invoke"].iterrows():
        end = row["t"] if pd.isna(row["end"]) else row["end"]
        width = max(float(end) - float(row["t"]), span / 400)
        color = "tab:green" if not pd.isna(row["ok"]) and bool(row["ok"]) else "tab:red"
        ax.barh(lane["invoke"], width, left=row["t"], height=0.6, color=color, alpha=0.85)
        records = row["records"]
        label = "" if pd.isna(records) else f"{int(records)}"
        attempt = row["attempt"]
        if not pd.isna(attempt) and int(attempt) > 1:
            label += f" (retry {int(attempt) - 1})"
        if label:
            ax.annotate(
                label, (row["t"], lane["invoke"] + 0.38), fontsize=7, ha="left", va="bottom"
            )
    splits = events[events["kind"] == "split"]
    ax.scatter(
        splits["t"],
        [lane["split"]] * len(splits),
        marker="D",
        s=30,
        color="tab:orange",
        zorder=3,
        label="split",
    )
    discards = events[events["kind"] == "discard"]
    ax.scatter(
        discards["t"],
        [lane["discard"]] * len(discards),
        marker="X",
        s=60,
        color="tab:red",
        zorder=3,
    )
    for _, row in discards.iterrows():
        ax.annotate(
            f"discard {row['records']}",
            (row["t"], lane["discard"] - 0.45),
            fontsize=7,
            ha="center",
            va="top",
            color="tab:red",
        )
    checkpoints = events[events["kind"] == "checkpoint"]
    ax.scatter(
        checkpoints["t"],
        [lane["checkpoint"]] * len(checkpoints),
        marker="^",
        s=30,
        color="tab:purple",
        zorder=3,
    )
    ax.set_yticks(list(_LANE_LABELS), [_LANE_LABELS[n] for n in _LANE_LABELS], fontsize=8)
    ax.set_ylim(0.3, 5.7)
    ax.set_xlim(-span * 0.02, span * 1.04)
    ax.grid(axis="x", color="0.92")
