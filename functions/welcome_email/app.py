"""Send a welcome e-mail for each new user written to the Users table: a trigger with partial
batch responses.

For each ``INSERT`` record of the batch (``MODIFY`` and ``REMOVE`` are ignored) the function reads
the new item (``userId``, ``firstname``, optional ``email``) and sends one e-mail through Amazon SES:

* From: the ``SENDER`` environment variable (default ``welcome@example.com``; SES must have it
  verified).
* To: the item's ``email``, else ``<userId>@example.com``.
* Subject: ``Welcome, <firstname>!``

It logs one ``SENT`` line per e-mail and one ``FAILED`` line per failure.

**Partial batch response.** A failure is never swallowed. When a record cannot be sent, the function
stops and answers::

    {"batchItemFailures": [{"itemIdentifier": "<SequenceNumber of that record>"}]}

Lambda then checkpoints just before that record and retries it and every record after it (it
retries from the lowest sequence number reported), while the records before it count as done. The
function stops at the first failure because every later record would be retried anyway: carrying
on would send those e-mails twice. A batch with no failure answers ``{"batchItemFailures": []}``.

This needs ``FunctionResponseTypes=["ReportBatchItemFailures"]`` on the trigger
(``create_trigger(..., report_batch_item_failures=True)``); without it Lambda ignores the answer
and treats the batch as a success, so failed e-mails would be lost. Lambda delivers each record at
least once, so a retried e-mail can still arrive twice: a real system would remember which
``eventID`` it has sent.

``FAIL_ONCE_AFTER_SENDING=1`` (for the tutorial) makes the first invocation of each execution
environment raise after sending, so Lambda delivers the batch again and its e-mails go out twice:
at-least-once delivery made visible (``functions/welcome_email_idempotent`` fixes it).

Needs: a stream view type with new images (``NEW_IMAGE`` or ``NEW_AND_OLD_IMAGES``) and
``ses:SendEmail`` in the execution role, e.g. ``create_execution_role(...,
extra_statements=[{"Effect": "Allow", "Action": ["ses:SendEmail"], "Resource":
"arn:aws:ses:<region>:<account>:identity/*"}])``. Only the standard library and boto3, as the
Lambda Python runtime provides.
"""

import os

import boto3
from boto3.dynamodb.types import TypeDeserializer

DEFAULT_SENDER = "welcome@example.com"

_deserializer = TypeDeserializer()
_ses = None  # created on first use and reused by later invocations of the same environment


def _ses_client():
    global _ses
    if _ses is None:
        _ses = boto3.client("ses")
    return _ses


def new_user(record):
    """The new item of an INSERT record as Python values (DynamoDB JSON deserialized)."""
    image = record["dynamodb"].get("NewImage")
    if image is None:
        raise ValueError(
            "the record has no NewImage: the stream's view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES"
        )
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def send_welcome(user, sender):
    """Send the welcome e-mail of one user; return (recipient, SES MessageId)."""
    user_id = str(user["userId"])
    firstname = str(user["firstname"])
    recipient = str(user.get("email") or f"{user_id}@example.com")
    response = _ses_client().send_email(
        Source=sender,
        Destination={"ToAddresses": [recipient]},
        Message={
            "Subject": {"Data": f"Welcome, {firstname}!", "Charset": "UTF-8"},
            "Body": {
                "Text": {
                    "Data": f"Hello {firstname},\n\nwelcome aboard! Your user id is {user_id}.\n",
                    "Charset": "UTF-8",
                }
            },
        },
    )
    return recipient, response["MessageId"]


_failed_once = False


def handler(event, context):
    """Send one welcome e-mail per INSERT record; report the first failure as a partial batch response.

    Parameters
    ----------
    event : dict
        ``{"Records": [...]}``: one batch of DynamoDB stream records, in shard order.
    context : LambdaContext
        Not used.

    Returns
    -------
    dict
        ``{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]}``, empty when every e-mail
        was sent.
    """
    sender = os.environ.get("SENDER", DEFAULT_SENDER)
    for record in event.get("Records", []):
        sequence_number = record["dynamodb"]["SequenceNumber"]
        if record.get("eventName") != "INSERT":
            continue  # only new users get a welcome e-mail
        try:
            user = new_user(record)
            recipient, message_id = send_welcome(user, sender)
        except Exception as error:  # reported to Lambda below, never swallowed
            print(f"FAILED {sequence_number}: {type(error).__name__}: {error}")
            return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
        print(
            f"SENT welcome e-mail to {recipient} for user {user['userId']} (MessageId {message_id})"
        )
    global _failed_once
    if os.environ.get("FAIL_ONCE_AFTER_SENDING") == "1" and not _failed_once:
        # for the tutorial: a crash at the worst moment, after the e-mails went out
        _failed_once = True
        raise RuntimeError("simulated crash after the e-mails were sent")
    return {"batchItemFailures": []}
