"""The trigger timeline: the local Lambda service's journal, its table and its picture."""

from __future__ import annotations

import pytest
from helpers import stream_arn_of

from streamkit import diagram, display, timeline
from streamkit.errors import InvalidParameterError

FAILS_ON_BOB = """
def handler(event, context):
    for record in event["Records"]:
        if record["dynamodb"]["Keys"]["pk"]["S"] == "bob":
            raise ValueError("bob")
"""


def test_a_poison_record_is_bisected_retried_and_discarded_on_the_timeline(
    aws, ddb, make_table, deploy, fast_polling
):
    table = make_table("KEYS_ONLY")
    function = deploy(FAILS_ON_BOB)
    for key in ("ada", "bob", "cleo"):
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    mapping = aws.client("lambda").create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream_arn_of(ddb, table),
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=1,
        BisectBatchOnFunctionError=True,
    )
    aws.settle()
    events = timeline.trigger_timeline(aws, function, trigger=mapping["UUID"])
    assert list(events.loc[events["kind"] == "write", "records"]) == [1, 1, 1]
    summary = timeline.invocation_summary(events)
    assert list(summary["records"]) == [3, 1, 2, 1, 1, 1]
    assert summary["result"].iloc[0].startswith("ValueError: bob")
    assert summary["then"].iloc[0] == "split 1 + 2"
    assert "discard 1 (RetryAttemptsExhausted)" in summary["then"].iloc[4]
    assert list(summary["attempt"].iloc[3:5]) == [1, 2]
    fig = timeline.plot_timeline(aws, function, trigger=mapping["UUID"])
    assert len(fig.axes) == 1 and fig.axes[0].get_title(loc="left") == "shard 1"
    aws.client("lambda").delete_event_source_mapping(UUID=mapping["UUID"])
    ddb.delete_table(TableName=table)


def test_the_journal_is_local_only(stubbed):
    from streamkit.errors import LocalOnlyError

    with pytest.raises(LocalOnlyError):
        stubbed.trigger_journal("fn")


def test_the_diagram_and_its_checks():
    fig = diagram.plot_trigger_diagram(shards=3)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"shard 1", "shard 3", "event source mapping", "on-failure destination"} <= texts
    with pytest.raises(InvalidParameterError):
        diagram.plot_trigger_diagram(shards=0)


def test_tables_show_html_and_keep_their_text_form():
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    shown = display.table(frame, formats={"a": "{:,.1f}"})
    assert repr(shown) == frame.to_string(index=False, formatters={"a": "{:,.1f}".format})
    html = shown._repr_html_()
    assert html == display.table(frame, formats={"a": "{:,.1f}"})._repr_html_()  # no random ids
    images = display.compare_images({"k": 1, "name": "Ada"}, {"k": 1, "name": "Ada L."})
    assert list(images.frame["changed"]) == [False, True] and "#fff3c4" in images._repr_html_()
