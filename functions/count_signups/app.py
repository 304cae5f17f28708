"""Count new users per tumbling window: the trigger keeps the count between invocations.

With ``TumblingWindowInSeconds`` on the mapping, Lambda groups the shard's records into windows by
the time they were written, hands the function the ``state`` it returned last time (``{}`` at a
window's first invocation) and, once the window is over, invokes it one last time with
``isFinalInvokeForWindow`` set. This function adds the window's INSERT records (sign-ups) to its
state and, on that final invocation, logs the window's total as one line::

    WINDOW_TOTAL {"start":"2026-12-02T10:00:00Z","end":"2026-12-02T10:01:00Z","shardId":"...","signups":3,"terminatedEarly":false}

It always answers ``{"state": {...}}``: with a tumbling window, an answer without ``state`` is a
failed invocation. The state lives only for the window (and per shard): a dashboard would store
the total somewhere on the final invocation instead of printing it. Standard library only.
"""

import json

#: The prefix of the per-window log line (``streamkit.windows.window_totals`` reads it).
PREFIX = "WINDOW_TOTAL "


def handler(event, context):
    """Add this batch's sign-ups to the window's count; log the total on the final invocation.

    Parameters
    ----------
    event : dict
        ``{"Records": [...], "window": {"start", "end"}, "state": {...}, "shardId": ...,
        "eventSourceARN": ..., "isFinalInvokeForWindow": bool, "isWindowTerminatedEarly": bool}``.
    context : LambdaContext
        Not used.

    Returns
    -------
    dict
        ``{"state": {"signups": <count so far in this window>}}``.
    """
    signups = (event.get("state") or {}).get("signups", 0)
    signups += sum(1 for record in event["Records"] if record["eventName"] == "INSERT")
    if event.get("isFinalInvokeForWindow"):
        total = {
            "start": event["window"]["start"],
            "end": event["window"]["end"],
            "shardId": event["shardId"],
            "signups": signups,
            "terminatedEarly": event["isWindowTerminatedEarly"],
        }
        print(PREFIX + json.dumps(total, separators=(",", ":")))
    return {"state": {"signups": signups}}
