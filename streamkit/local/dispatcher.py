"""The embedded backend's WSGI application: streamkit's own APIs in front of moto.

Like LocalStack's providers in front of moto, every request is looked at once and sent to one
handler:

* ``X-Amz-Target: DynamoDBStreams_20120810.*`` — the whole DynamoDB Streams API — to
  :mod:`.dynamodbstreams.responses`, answered from the stream store;
* the Lambda event source mapping routes (``/2015-03-31/event-source-mappings...``, ``ListTags``
  on a mapping ARN) to :mod:`.esm.responses`, which answers mappings on DynamoDB streams and leaves
  the others (SQS, Kinesis) to moto;
* everything else to moto.

The account is the embedded backend's one account; the region is the request's signing region
(``Credential=<key>/<date>/<region>/<service>/aws4_request``), as AWS and moto take it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from . import state
from .dynamodbstreams import responses as streams_api
from .esm import responses as esm_api

__all__ = ["Dispatcher", "signing_region"]

_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_DEFAULT_REGION = "us-east-1"
_REASONS = {
    200: "OK",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
}

StartResponse = Callable[..., Any]


def signing_region(environ: dict[str, Any]) -> str:
    """The region a request was signed for (us-east-1 when it carries none)."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else _DEFAULT_REGION


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once; ``wsgi.input`` is replaced so moto can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class Dispatcher:
    """Route each request to streamkit's handlers or to moto's WSGI app.

    Parameters
    ----------
    moto_app : callable
        moto's WSGI application (:func:`streamkit.local.moto_compat.wsgi_app`).
    enabled : bool
        ``False`` sends everything to moto (the plain-moto test switch).
    """

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], *, enabled: bool = True):
        self.moto_app = moto_app
        self.enabled = enabled

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.enabled:
            answer = self._ours(environ)
            if answer is not None:
                status, headers, body = answer
                data = body.encode("utf-8")
                headers = {**headers, "Content-Length": str(len(data))}
                start_response(f"{status} {_REASONS.get(status, 'Unknown')}", list(headers.items()))
                return [data]
        return self.moto_app(environ, start_response)

    def _ours(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], str] | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(streams_api.TARGET_PREFIX):
            operation = target[len(streams_api.TARGET_PREFIX) :]
            return streams_api.handle(
                operation, _read_body(environ), state.ACCOUNT_ID, signing_region(environ)
            )
        path = environ.get("PATH_INFO", "")
        if esm_api.is_mapping_route(path):
            return esm_api.handle(
                environ.get("REQUEST_METHOD", "GET"),
                path,
                parse_qs(environ.get("QUERY_STRING", "")),
                _read_body(environ),
                state.ACCOUNT_ID,
                signing_region(environ),
            )
        return None
