"""Shipping a function's output to CloudWatch Logs, as Lambda does.

Each execution environment writes to ``/aws/lambda/<name>``, stream
``YYYY/MM/DD/[$LATEST]<32 hex>``; each invocation's events (``INIT_START``, ``START``, every line
and ``logging`` record, ``END``, ``REPORT``) go in one ``PutLogEvents`` (more only past the API's
limits: 10,000 events, 1 MB). A shipping failure never fails the invocation: it is counted and
warned about (:class:`~.invocation.LogShippingWarning`), and the events stay in the result.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ...limits import (
    LOG_BATCH_MAX_BYTES,
    LOG_BATCH_MAX_EVENTS,
    LOG_EVENT_MAX_BYTES,
    LOG_EVENT_OVERHEAD_BYTES,
)
from .. import state

__all__ = ["LogShipper", "batches", "iso", "split_event"]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def split_event(text: str) -> Iterator[str]:
    """A message as CloudWatch log events: empty ones dropped, long ones cut at the size limit."""
    if not text:
        return
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= LOG_EVENT_MAX_BYTES:
        yield text
        return
    for start in range(0, len(data), LOG_EVENT_MAX_BYTES):
        yield data[start : start + LOG_EVENT_MAX_BYTES].decode("utf-8", "replace")


class LogShipper:
    """Writes log events to CloudWatch Logs, creating groups and streams as Lambda does.

    Parameters
    ----------
    endpoint_url : str
        Where the logs service is.
    region : str
        Region of the client made when ``client`` is None.
    client : botocore client, optional
        A CloudWatch Logs client; by default one is made for ``endpoint_url``.
    """

    def __init__(self, endpoint_url: str, region: str, client: Any | None = None):
        self.endpoint_url = endpoint_url
        self.region = region
        self._client = client
        self._lock = threading.Lock()
        self._log_groups: set[str] = set()
        self._streams: set[tuple[str, str]] = set()

    def client(self) -> Any:
        """The CloudWatch Logs client (made on first use)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    keys = state.credentials()
                    self._client = boto3.session.Session().client(
                        "logs",
                        endpoint_url=self.endpoint_url,
                        region_name=self.region,
                        aws_access_key_id=keys.access_key_id,
                        aws_secret_access_key=keys.secret_access_key,
                        aws_session_token=keys.session_token,
                        config=Config(
                            retries={"max_attempts": 2, "mode": "standard"},
                            connect_timeout=5,
                            read_timeout=30,
                        ),
                    )
        return self._client

    def _ensure_stream(self, client: Any, group: str, stream: str) -> None:
        if group not in self._log_groups:
            try:
                client.create_log_group(logGroupName=group)
            except client.exceptions.ResourceAlreadyExistsException:
                pass
            self._log_groups.add(group)
        try:
            client.create_log_stream(logGroupName=group, logStreamName=stream)
        except client.exceptions.ResourceAlreadyExistsException:
            pass
        self._streams.add((group, stream))

    def ship(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Write ``(timestamp ms, message)`` events to a stream (created if needed).

        Raises whatever the logs service raised; the caller decides what a failure means.
        """
        if not events:
            return
        client = self.client()
        if (group, stream) not in self._streams:
            self._ensure_stream(client, group, stream)
        for batch in batches(events):
            try:
                client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
            except client.exceptions.ResourceNotFoundException:  # deleted meanwhile
                self._log_groups.discard(group)
                self._ensure_stream(client, group, stream)
                client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


def batches(events: list[tuple[int, str]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for ts, message in events:
        cost = len(message.encode("utf-8", "surrogatepass")) + LOG_EVENT_OVERHEAD_BYTES
        if batch and (len(batch) >= LOG_BATCH_MAX_EVENTS or size + cost > LOG_BATCH_MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append({"timestamp": ts, "message": message})
        size += cost
    if batch:
        yield batch
