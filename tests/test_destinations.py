"""On-failure destinations: failure records read off an SQS destination, once, waited for."""

from __future__ import annotations

import json

import pytest

from streamkit.destinations import create_failure_destination, read_failure_records
from streamkit.errors import InvalidParameterError, StreamkitError


def test_failure_records_are_read_once_and_waited_for(kit):
    queue = create_failure_destination(kit, "sqs", "records")
    sqs = kit.client("sqs")
    for n in (1, 2):
        sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps({"n": n}))
    assert sorted(r["n"] for r in read_failure_records(kit, queue.url, expect=2)) == [1, 2]
    # deleted as read: an unread message would come back after its visibility timeout
    assert sqs.receive_message(QueueUrl=queue.url, VisibilityTimeout=0).get("Messages") is None
    with pytest.raises(StreamkitError) as err:
        read_failure_records(kit, queue.url, timeout_s=0.2)
    assert "0 failure record(s) arrived" in str(err.value) and "not the 1 expected" in str(
        err.value
    )


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"queue_url": "arn:aws:sqs:us-east-1:123456789012:q"}, "queue URL"),
        ({"expect": 0}, ">= 1"),
        ({"timeout_s": -1}, "seconds > 0"),
    ],
)
def test_failure_records_bad_input(kit, kwargs, says):
    args = {"queue_url": "http://127.0.0.1:1/123456789012/q"} | kwargs
    with pytest.raises(InvalidParameterError) as err:
        read_failure_records(kit, **args)
    assert says in str(err.value)
