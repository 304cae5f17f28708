"""The example functions in functions/, run by the local Lambda service: at-least-once delivery
makes a non-idempotent welcome e-mail go out twice; Powertools' idempotency sends it once."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from streamkit import streams, triggers
from streamkit.streams import TableKey

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
_runs = itertools.count(1)


pytestmark = pytest.mark.usefixtures("fast_polling")


def _sent_to(aws, recipients):
    sent = aws.sent_emails()
    return sorted(sent[sent["to"].isin(recipients)]["to"])


@pytest.mark.parametrize(
    ("folder", "times"), [("welcome_email", 2), ("welcome_email_idempotent", 1)]
)
def test_a_retried_batch_sends_twice_unless_idempotent(aws, folder, times):
    run = next(_runs)
    table = f"Users{run}"
    table_arn = streams.create_table(aws, table, streams.USERS_KEY_SCHEMA)
    stream_arn = streams.enable_stream(aws, table, "NEW_IMAGE").stream_arn
    idempotency = streams.create_table(aws, f"Idempotency{run}", TableKey("id"))
    aws.client("ses").verify_email_identity(EmailAddress="welcome@example.com")
    role = triggers.create_execution_role(aws, f"{folder}-{run}", table_arn)
    name = f"{folder}-{run}"
    triggers.deploy_function(
        aws,
        name,
        FUNCTIONS / folder,
        role_arn=role.arn,
        environment={
            "FAIL_ONCE_AFTER_SENDING": "1",
            "IDEMPOTENCY_TABLE": idempotency.rsplit("/", 1)[-1],
        },
    )
    triggers.create_trigger(
        aws,
        name,
        stream_arn,
        starting_position="LATEST",
        batch_size=10,
        maximum_batching_window_s=1,
        report_batch_item_failures=True,
    )
    recipients = [f"user{run}-{n}@example.com" for n in range(2)]
    ddb = aws.client("dynamodb")
    ddb.batch_write_item(
        RequestItems={
            table: [
                {
                    "PutRequest": {
                        "Item": {
                            "userId": {"S": f"u{run}-{n}"},
                            "createdAt": {"S": "2024-01-01"},
                            "firstname": {"S": f"User {n}"},
                            "email": {"S": recipient},
                        }
                    }
                }
                for n, recipient in enumerate(recipients)
            ]
        }
    )
    aws.settle(30)
    assert _sent_to(aws, recipients) == sorted(recipients * times)
