"""Who may use the embedded backend: requests signed with this run's credentials, and nothing else.

Each :class:`~streamkit.local.server.LocalAWS` mints its own random credentials
(:func:`new_credentials`). Every request to its server must carry an AWS Signature Version 4
``Authorization`` header made with them, as AWS requires. :class:`RequestAuthenticator` recomputes
the signature with botocore's own signer (``SigV4Auth``, ``S3SigV4Auth`` for S3) over the headers
the client says it signed, and compares. A refusal uses the error AWS gives for the same fault, in
the protocol the service speaks (:func:`auth_error`):

=====================  ==================================  ===================================  ==============================
fault                  JSON services (DynamoDB, Lambda,    query services (IAM, STS, SNS, SES)  S3
                       Logs, SQS)
=====================  ==================================  ===================================  ==============================
no signature           MissingAuthenticationTokenException  MissingAuthenticationToken           AccessDenied
unknown access key     UnrecognizedClientException          InvalidClientTokenId                 InvalidAccessKeyId
wrong signature        InvalidSignatureException            SignatureDoesNotMatch                SignatureDoesNotMatch
=====================  ==================================  ===================================  ==============================

Messages are AWS's ("The security token included in the request is invalid.", "The request
signature we calculated does not match the signature you provided. ..."), as moto also words them.
Presigned URLs (signature in the query string) are not accepted: nothing in the kit makes them.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "AuthFailure",
    "Credentials",
    "RequestAuthenticator",
    "auth_error",
    "new_credentials",
]

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,\s]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\s*$"
)

#: AWS's messages for the three faults.
_MISSING = "Request is missing Authentication Token"
_INVALID_TOKEN = "The security token included in the request is invalid."
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_S3_BAD_KEY = "The AWS Access Key Id you provided does not exist in our records."
_S3_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "key and signing method."
)

#: Signing names of the services that speak the query (XML) protocol, and of S3 (REST-XML).
_QUERY_SERVICES = frozenset({"iam", "sts", "sns", "ses", "email", "cloudformation", "ec2"})


@dataclass(frozen=True)
class Credentials:
    """An access key pair (and session token) of one embedded backend run.

    Attributes
    ----------
    access_key_id, secret_access_key, session_token : str
    """

    access_key_id: str
    secret_access_key: str
    session_token: str

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"


def new_credentials() -> Credentials:
    """Fresh random credentials in AWS's shape (an ``ASIA...`` temporary key, 40-character secret).

    The key id starts with ``ASIA`` followed by 16 characters from AWS's alphabet
    (A-Z, 2-7), like the temporary credentials of an assumed role.
    """
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    key = "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    secret = secrets.token_urlsafe(30)[:40]
    token = secrets.token_urlsafe(96)
    return Credentials(key, secret, token)


class AuthFailure(Exception):
    """A request the embedded backend refuses to answer.

    Attributes
    ----------
    fault : str
        ``"missing"``, ``"unknown-key"`` or ``"signature"``.
    service : str
        The signing name the request claimed (``""`` when it carries none).
    """

    def __init__(self, fault: str, service: str):
        super().__init__(fault)
        self.fault = fault
        self.service = service


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = "HTTP_" + name.upper().replace("-", "_")
    if name.lower() == "content-type":
        key = "CONTENT_TYPE"
    elif name.lower() == "content-length":
        key = "CONTENT_LENGTH"
    value = environ.get(key)
    return None if value is None else str(value)


def _service_of(environ: dict[str, Any]) -> str:
    """The service a request is for, best effort, when it carries no signature."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith(("DynamoDB_", "DynamoDBStreams_")):
        return "dynamodb"
    if target.startswith("Logs_"):
        return "logs"
    if target.startswith("AmazonSQS"):
        return "sqs"
    path = environ.get("PATH_INFO", "")
    if path.startswith(("/2015-03-31/", "/2017-03-31/", "/2018-10-31/")):
        return "lambda"
    return "s3" if environ.get("REQUEST_METHOD") in ("PUT", "HEAD") else ""


class RequestAuthenticator:
    """Checks that requests are signed with one set of credentials.

    Parameters
    ----------
    credentials : Credentials
        The only credentials the server accepts.
    """

    def __init__(self, credentials: Credentials):
        from botocore.credentials import Credentials as BotoCredentials

        self.credentials = credentials
        self._boto = BotoCredentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token
        )

    def check(self, environ: dict[str, Any], body: bytes) -> None:
        """Return if the request is signed with this run's credentials; raise otherwise.

        Raises
        ------
        AuthFailure
            With the fault and the service, for :func:`auth_error`.
        """
        authorization = _header(environ, "Authorization")
        if not authorization:
            raise AuthFailure("missing", _service_of(environ))
        match = _AUTHORIZATION.match(authorization)
        if match is None:
            raise AuthFailure("signature", _service_of(environ))
        service = match["service"]
        if not secrets.compare_digest(match["key"], self.credentials.access_key_id):
            raise AuthFailure("unknown-key", service)
        token = _header(environ, "X-Amz-Security-Token")
        if token is not None and not secrets.compare_digest(token, self.credentials.session_token):
            raise AuthFailure("unknown-key", service)
        expected = self._signature(environ, body, match["region"], service, match["signed"])
        if expected is None or not secrets.compare_digest(expected, match["signature"]):
            raise AuthFailure("signature", service)

    def _signature(
        self, environ: dict[str, Any], body: bytes, region: str, service: str, signed: str
    ) -> str | None:
        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest

        headers: dict[str, str] = {}
        for name in signed.split(";"):
            value = _header(environ, name)
            if value is None:
                return None  # a header said to be signed is not there
            headers[name] = value
        amz_date = headers.get("x-amz-date")
        if amz_date is None:
            return None
        query = environ.get("QUERY_STRING", "")
        path = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not path:
            from urllib.parse import quote

            path = quote(environ.get("PATH_INFO", ""), safe="/~") + (f"?{query}" if query else "")
        host = headers.get("host", environ.get("HTTP_HOST", ""))
        request = AWSRequest(
            method=environ.get("REQUEST_METHOD", "GET"),
            url=f"http://{host}{path}",
            data=body,
            headers=headers,
        )
        request.context["timestamp"] = amz_date
        signer_class = S3SigV4Auth if service == "s3" else SigV4Auth
        signer = signer_class(self._boto, service, region)
        canonical = signer.canonical_request(request)
        return str(signer.signature(signer.string_to_sign(request, canonical), request))


def auth_error(failure: AuthFailure) -> tuple[int, dict[str, str], str]:
    """The answer AWS gives for ``failure``, in the protocol of its service."""
    fault, service = failure.fault, failure.service
    if service == "s3":
        code, message = {
            "missing": ("AccessDenied", "Access Denied"),
            "unknown-key": ("InvalidAccessKeyId", _S3_BAD_KEY),
            "signature": ("SignatureDoesNotMatch", _S3_BAD_SIGNATURE),
        }[fault]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        )
        return 403, {"Content-Type": "application/xml"}, body
    if service in _QUERY_SERVICES:
        code, message = {
            "missing": ("MissingAuthenticationToken", _MISSING),
            "unknown-key": ("InvalidClientTokenId", _INVALID_TOKEN),
            "signature": ("SignatureDoesNotMatch", _BAD_SIGNATURE),
        }[fault]
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        )
        return 403, {"Content-Type": "text/xml"}, body
    code, message = {
        "missing": ("MissingAuthenticationTokenException", _MISSING),
        "unknown-key": ("UnrecognizedClientException", _INVALID_TOKEN),
        "signature": ("InvalidSignatureException", _BAD_SIGNATURE),
    }[fault]
    # DynamoDB answers these with HTTP 400; the other JSON services with 403.
    status = 400 if service == "dynamodb" else 403
    payload = {"__type": code, "message": message}
    if service == "lambda":  # Lambda's REST front words the missing token as API Gateway does
        if fault == "missing":
            message = "Missing Authentication Token"
        payload = {"Type": "User", "Message": message, "message": message}
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
    return status, headers, json.dumps(payload)
