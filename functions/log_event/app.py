"""Log every event a DynamoDB stream trigger delivers, as one line, and do nothing else.

The simplest trigger function: it shows what Lambda hands your code. Each invocation prints one
line, ``EVENT `` followed by the whole event as compact JSON, so you can find it in the function's
log group (``/aws/lambda/<function>``) and parse it back::

    EVENT {"Records":[{"eventID":"...","eventName":"INSERT",...,"eventSourceARN":"arn:aws:..."}]}

It returns ``None``: a function that returns without raising has processed the whole batch, and
Lambda moves on to the next records of the shard. Standard library only, so it runs unchanged on
the Lambda Python runtime and on streamkit's embedded backend.
"""

import json

#: The prefix of the log line (what readers search the logs for).
PREFIX = "EVENT "


def handler(event, context):
    """Print the event as one ``EVENT <compact JSON>`` line; return None (the batch succeeded).

    Parameters
    ----------
    event : dict
        ``{"Records": [...]}``: one batch of stream records.
    context : LambdaContext
        Not used.
    """
    # default=str: an event from a test harness may hold values JSON cannot encode (Decimal).
    print(PREFIX + json.dumps(event, separators=(",", ":"), default=str))
