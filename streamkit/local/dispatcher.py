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

Before any of that, the dispatcher guards the server (``SECURITY.md``): the ``Host`` must be the
loopback address and port the server bound (no DNS rebinding from a web page); every request must
be signed with this run's credentials (:mod:`.auth`); moto's own ``/moto-api`` (reset, state dump,
recorder) is not served; no CORS headers go out unless an origin was allowed explicitly; and a
request moto cannot handle gets an AWS-style 400, never an HTML page or a traceback. A
CreateFunction or UpdateFunctionCode request too large for Lambda is refused before it is read;
DynamoDB and Lambda requests are validated as AWS validates them (:mod:`.validation`) and
function uploads checked as Lambda checks them (:mod:`.lambda_functions`) before anything acts.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Collection, Iterable
from typing import Any
from urllib.parse import parse_qs

from . import lambda_functions, state, validation
from .auth import AuthFailure, RequestAuthenticator, auth_error
from .dynamodbstreams import responses as streams_api
from .esm import responses as esm_api

__all__ = ["Dispatcher", "signing_region"]

_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_DEFAULT_REGION = "us-east-1"
_SERVICE = re.compile(r"Credential=[^/,\s]+/\d{8}/[a-z0-9-]+/lambda/")  # signed for Lambda
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


def _respond(
    start_response: StartResponse, answer: tuple[int, dict[str, str], str]
) -> Iterable[bytes]:
    status, headers, body = answer
    data = body.encode("utf-8")
    headers = {**headers, "Content-Length": str(len(data))}
    start_response(f"{status} {_REASONS.get(status, 'Unknown')}", list(headers.items()))
    return [data]


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    body = json.dumps({"__type": code, "message": message})
    return status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}, body


def _unprocessable(what: str) -> tuple[int, dict[str, str], str]:
    """A request moto could not handle (malformed, or a form moto does not parse): a 400 in AWS's
    JSON error shape, never Flask's HTML error page."""
    return _error(400, "SerializationException", f"The request could not be processed ({what}).")


class Dispatcher:
    """Route each request to streamkit's handlers or to moto's WSGI app, after guarding it.

    Parameters
    ----------
    moto_app : callable
        moto's WSGI application (:func:`streamkit.local.moto_compat.wsgi_app`).
    enabled : bool
        ``False`` sends everything to moto (the plain-moto test switch).
    authenticator : RequestAuthenticator, optional
        Checks each request's signature; ``None`` accepts any (tests of the dispatcher alone).
    hosts : collection of str, optional
        The ``Host`` values accepted (``127.0.0.1:<port>``, ``localhost:<port>``); empty: any.
    allowed_origins : collection of str
        Web origins that may call the server from a page (CORS); none by default.
    """

    def __init__(
        self,
        moto_app: Callable[..., Iterable[bytes]],
        *,
        enabled: bool = True,
        authenticator: RequestAuthenticator | None = None,
        hosts: Collection[str] = (),
        allowed_origins: Collection[str] = (),
    ):
        self.moto_app = moto_app
        self.enabled = enabled
        self.authenticator = authenticator
        self.hosts = frozenset(hosts)
        self.allowed_origins = frozenset(allowed_origins)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.hosts and environ.get("HTTP_HOST", "") not in self.hosts:
            return _respond(
                start_response,
                _error(403, "AccessDeniedException", "This endpoint answers only its own address."),
            )
        path = environ.get("PATH_INFO", "")
        if path == "/moto-api" or path.startswith("/moto-api/"):
            return _respond(start_response, _error(404, "UnknownOperationException", "Not found."))
        if environ.get("REQUEST_METHOD") == "OPTIONS":  # a browser's CORS preflight
            origin = environ.get("HTTP_ORIGIN", "")
            if origin not in self.allowed_origins:
                return _respond(
                    start_response,
                    _error(403, "AccessDeniedException", "Cross-origin requests are not allowed."),
                )
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        too_large = lambda_functions.request_too_large(
            environ.get("REQUEST_METHOD", ""), path, length
        )
        if too_large is not None:  # refused before 70 MB are read into memory
            return _respond(start_response, too_large.response("lambda"))
        body = _read_body(environ)
        if self.authenticator is not None:
            try:
                self.authenticator.check(environ, body)
            except AuthFailure as failure:
                return _respond(start_response, auth_error(failure))
        if self.enabled:
            answer = self._validate(environ, body) or self._ours(environ, body)
            if answer is not None:
                return _respond(start_response, answer)
        return self._moto(environ, start_response)

    def _validate(
        self, environ: dict[str, Any], body: bytes
    ) -> tuple[int, dict[str, str], str] | None:
        """AWS's request validation (:mod:`.validation`) and Lambda's own checks of functions
        (:mod:`.lambda_functions`): the error to answer, or None to go on."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_20120810."):
            error = validation.check("dynamodb", target.split(".", 1)[1], body)
            return error.response("dynamodb") if error else None
        if _SERVICE.search(environ.get("HTTP_AUTHORIZATION", "")) is None:
            return None
        found = validation.lambda_operation(
            environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        )
        if found is None:
            return None
        operation, labels = found
        error = validation.check("lambda", operation, body, labels) or lambda_functions.check(
            operation, labels, body, state.ACCOUNT_ID, signing_region(environ)
        )
        return error.response("lambda") if error else None

    def _moto(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN", "")
        keep_cors = bool(origin) and origin in self.allowed_origins
        seen: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            if not keep_cors:
                headers = [h for h in headers if not h[0].lower().startswith("access-control-")]
            seen[:] = [status, headers]
            return lambda data: None  # the legacy write() callable; moto returns its body

        try:
            body = b"".join(self.moto_app(environ, capture))
        except Exception as exc:  # moto failed on input it does not expect
            return _respond(start_response, _unprocessable(type(exc).__name__))
        status, headers = seen
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if status.startswith("500") and "html" in content_type:  # Flask's error page
            return _respond(start_response, _unprocessable("an internal error"))
        start_response(status, headers)
        return [body]

    def _ours(self, environ: dict[str, Any], body: bytes) -> tuple[int, dict[str, str], str] | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(streams_api.TARGET_PREFIX):
            operation = target[len(streams_api.TARGET_PREFIX) :]
            return streams_api.handle(operation, body, state.ACCOUNT_ID, signing_region(environ))
        path = environ.get("PATH_INFO", "")
        if esm_api.is_mapping_route(path):
            return esm_api.handle(
                environ.get("REQUEST_METHOD", "GET"),
                path,
                parse_qs(environ.get("QUERY_STRING", "")),
                body,
                state.ACCOUNT_ID,
                signing_region(environ),
            )
        return None
