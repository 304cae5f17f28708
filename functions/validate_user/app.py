"""Check every new or changed user and process the valid ones: a function that meets a poison record.

A user item must have a ``firstname``. The function prints ``PROCESSED <userId>`` for each valid
INSERT or MODIFY record, in order, and meets an invalid one (a *poison record*) in one of two ways:

* by default it raises ``ValueError``: the whole batch fails, and Lambda retries it, the same
  records again, until it succeeds, the records expire, or the mapping's retry limits give up;
* with ``PARTIAL_BATCH=1`` it stops at the poison record and answers
  ``{"batchItemFailures": [{"itemIdentifier": <its SequenceNumber>}]}``: with
  ``FunctionResponseTypes=["ReportBatchItemFailures"]`` on the mapping, Lambda checkpoints the
  records before it and retries from the poison record only. (Without that setting Lambda ignores
  the answer and the batch counts as a success: the poison record, and what follows it, would be
  skipped.)

Standard library only.
"""

import os


def handler(event, context):
    """Validate and process a batch of stream records, in order."""
    partial = os.environ.get("PARTIAL_BATCH") == "1"
    for record in event["Records"]:
        if record["eventName"] not in ("INSERT", "MODIFY"):
            continue
        image = record["dynamodb"].get("NewImage", {})
        user_id = image.get("userId", {}).get("S", "?")
        if "firstname" not in image:
            problem = f"user {user_id} has no firstname"
            if partial:
                print(f"FAILED {user_id}: {problem}")
                return {
                    "batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]
                }
            raise ValueError(problem)
        print(f"PROCESSED {user_id}")
    return {"batchItemFailures": []}
