"""Send each new user's welcome e-mail exactly once, although Lambda delivers records at least once.

The same job as ``functions/welcome_email``, made idempotent with Powertools for AWS Lambda:

* the **batch processor** (``BatchProcessor`` with ``EventType.DynamoDBStreams``) handles one record
  at a time and answers Lambda with a partial batch response (``batchItemFailures``) for the records
  that raised, so a failure retries only from that record (the trigger needs
  ``FunctionResponseTypes=["ReportBatchItemFailures"]``);
* the **idempotency utility** (``idempotent_function``) remembers, in a DynamoDB table named by the
  ``IDEMPOTENCY_TABLE`` environment variable (partition key ``id``, a string), that the e-mail of a
  given ``userId`` was sent, and returns the stored result instead of sending it again when the same
  record comes back in a retried batch.

``FAIL_ONCE_AFTER_SENDING=1`` (for the tutorial) makes the first invocation of each execution
environment raise *after* it has sent its e-mails, as a crash or a timeout at the worst moment would:
Lambda then delivers the whole batch again. Without idempotency every e-mail of that batch would go
out twice.

Needs: Powertools for AWS Lambda (Python) v3 in the deployment package or as a Lambda layer on AWS
(the embedded backend runs functions with the kit's own environment, which has it), ``ses:SendEmail``
and ``dynamodb:GetItem/PutItem/UpdateItem/DeleteItem`` on the idempotency table in the execution role.
"""

import os

import boto3
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

DEFAULT_SENDER = "welcome@example.com"

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
persistence = DynamoDBPersistenceLayer(
    table_name=os.environ.get("IDEMPOTENCY_TABLE", "Idempotency")
)
config = IdempotencyConfig(event_key_jmespath="userId", expires_after_seconds=24 * 3600)
_ses = None
_failed_once = False


def _ses_client():
    global _ses
    if _ses is None:
        _ses = boto3.client("ses")
    return _ses


@idempotent_function(data_keyword_argument="user", persistence_store=persistence, config=config)
def send_welcome(user):
    """Send one user's welcome e-mail; the idempotency key is the ``userId``."""
    recipient = user.get("email") or f"{user['userId']}@example.com"
    response = _ses_client().send_email(
        Source=os.environ.get("SENDER", DEFAULT_SENDER),
        Destination={"ToAddresses": [recipient]},
        Message={
            "Subject": {"Data": f"Welcome, {user['firstname']}!", "Charset": "UTF-8"},
            "Body": {
                "Text": {
                    "Data": f"Hello {user['firstname']},\n\nwelcome aboard! "
                    f"Your user id is {user['userId']}.\n",
                    "Charset": "UTF-8",
                }
            },
        },
    )
    print(f"SENT welcome e-mail to {recipient} (MessageId {response['MessageId']})")
    return {"recipient": recipient, "messageId": response["MessageId"]}


def record_handler(record):
    """One stream record: only INSERTs of users get an e-mail."""
    if record.event_name != DynamoDBRecordEventName.INSERT:
        return None
    image = record.dynamodb.new_image  # Powertools deserializes DynamoDB JSON
    user = {
        "userId": str(image["userId"]),
        "firstname": str(image["firstname"]),
        "email": str(image["email"]) if image.get("email") else None,
    }
    return send_welcome(user=user)


def handler(event, context):
    """Process the batch record by record; answer with a partial batch response."""
    global _failed_once
    config.register_lambda_context(context)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    if os.environ.get("FAIL_ONCE_AFTER_SENDING") == "1" and not _failed_once:
        _failed_once = True
        raise RuntimeError("simulated crash after the e-mails were sent")
    return response
