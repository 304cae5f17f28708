"""What Lambda checks when a function is created or its code or configuration changes, that moto
does not: the embedded backend's dispatcher asks :func:`check` before moto sees the request.

* **The request's size** (:func:`request_too_large`, before the body is read): a CreateFunction or
  UpdateFunctionCode request of :data:`~streamkit.limits.LAMBDA_REQUEST_MAX_BYTES` or more (a zip
  of about 50 MB, base64-encoded) gets HTTP 413 ``RequestEntityTooLargeException``.
* **The package** (``Code.ZipFile``, ``ZipFile``): not a zip, a zip that cannot be unzipped
  (``x`` beside ``x/y``, encrypted or damaged entries) or more than 262,144,000 bytes unzipped gets
  ``InvalidParameterValueException`` (:func:`~.runtime.code.inspect_package`), so nothing broken is
  ever stored and later extracted.
* **The runtime**: a value outside the Lambda API's list gets AWS's ``InvalidParameterValueException``
  "Value <runtime> at 'runtime' failed to satisfy constraint: Member must satisfy enum value set:
  [...] or be a valid ARN" (the wording AWS answered, as quoted in public reports and LocalStack's
  provider; the list's order is the API model's, UNCONFIRMED); a runtime past its "block function
  create" date (or, for updates, "block function update") gets AWS's deprecation message
  (:data:`~streamkit.limits.LAMBDA_RUNTIME_DEPRECATED`, dates in
  :data:`~streamkit.limits.LAMBDA_RUNTIME_LIFECYCLE`).
* **The name**: a function *name* (not an ARN) longer than 64 characters gets a
  ``ValidationException`` in the request validation's words (wording UNCONFIRMED).

``Timeout`` (1-900) and ``MemorySize`` (128-10,240) and the other constraints of the API model are
checked before this, by :mod:`.validation`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, date, datetime
from typing import Any

from ..limits import (
    LAMBDA_FUNCTION_NAME_MAX_CHARS,
    LAMBDA_REQUEST_MAX_BYTES,
    LAMBDA_REQUEST_TOO_LARGE,
    LAMBDA_RUNTIME_DEPRECATED,
    LAMBDA_RUNTIME_LIFECYCLE,
    LAMBDA_RUNTIMES_RETIRED,
)
from . import moto_compat
from .runtime.code import PackageError, inspect_package
from .validation import RequestError, service_model

__all__ = ["blocked", "check", "request_too_large", "today"]

#: The operations that upload code, with the method and path of each.
_UPLOADS = {
    ("POST", re.compile(r"/2015-03-31/functions/?")): "CreateFunction",
    ("PUT", re.compile(r"/2015-03-31/functions/[^/]+/code/?")): "UpdateFunctionCode",
}


def today() -> date:
    """The date runtime deprecation is judged by (UTC; tests replace it)."""
    return datetime.now(UTC).date()


def request_too_large(method: str, path: str, content_length: int) -> RequestError | None:
    """AWS's 413 for an upload request of 69,905,067 bytes or more, before its body is read."""
    if content_length < LAMBDA_REQUEST_MAX_BYTES:
        return None
    for (verb, pattern), operation in _UPLOADS.items():
        if verb == method and pattern.fullmatch(path):
            return RequestError(
                413,
                "RequestEntityTooLargeException",
                LAMBDA_REQUEST_TOO_LARGE.format(operation=operation),
            )
    return None


def _family(runtime: str) -> str:
    match = re.match(r"[a-z]+", runtime)
    return match[0] if match else runtime


def _version(runtime: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", runtime))


def blocked(runtime: str, *, updating: bool) -> bool:
    """Whether AWS refuses ``runtime`` today for a create (or, ``updating``, an update)."""
    if runtime in LAMBDA_RUNTIMES_RETIRED:
        return True
    dates = LAMBDA_RUNTIME_LIFECYCLE.get(runtime)
    if dates is None:
        return False
    return today() >= date.fromisoformat(dates[2] if updating else dates[1])


def _newest(runtime: str) -> str:
    """The newest runtime of the same language that is not blocked (what AWS's message names)."""
    family = _family(runtime)
    known = [r for r in LAMBDA_RUNTIME_LIFECYCLE if _family(r) == family] or [
        r for r in _runtimes() if _family(r) == family and "." in r
    ]
    usable = [r for r in known if not blocked(r, updating=False)] or [runtime]
    return max(usable, key=_version)


def _runtimes() -> list[str]:
    return list(service_model("lambda").shape_for("Runtime").enum)


def _runtime_error(runtime: Any, *, updating: bool) -> RequestError | None:
    if runtime is None:
        return None
    enum = _runtimes()
    if runtime not in enum:
        return RequestError(
            400,
            "InvalidParameterValueException",
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{', '.join(enum)}] or be a valid ARN",
        )
    if blocked(runtime, updating=updating):
        return RequestError(
            400,
            "InvalidParameterValueException",
            LAMBDA_RUNTIME_DEPRECATED.format(runtime=runtime, newest=_newest(runtime)),
        )
    return None


def _package_error(encoded: Any) -> RequestError | None:
    if not isinstance(encoded, str):
        return None  # no ZipFile (S3 or an image): moto answers
    try:
        code = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None  # the request validation refused it already
    try:
        inspect_package(code)
    except PackageError as exc:
        return RequestError(400, "InvalidParameterValueException", exc.aws_message)
    return None


def _name_error(name: Any) -> RequestError | None:
    if isinstance(name, str) and ":" not in name and len(name) > LAMBDA_FUNCTION_NAME_MAX_CHARS:
        return RequestError(
            400,
            "ValidationException",
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            f"constraint: Member must have length less than or equal to "
            f"{LAMBDA_FUNCTION_NAME_MAX_CHARS}",
        )
    return None


def check(
    operation: str, labels: dict[str, str], body: bytes, account: str, region: str
) -> RequestError | None:
    """The error Lambda answers for a CreateFunction, UpdateFunctionCode or
    UpdateFunctionConfiguration request (after the request validation), or None."""
    if operation not in ("CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"):
        return None
    try:
        params = json.loads(body) if body.strip() else {}
    except ValueError:
        return None
    if not isinstance(params, dict):
        return None
    if operation == "CreateFunction":
        return (
            _name_error(params.get("FunctionName"))
            or _runtime_error(params.get("Runtime"), updating=False)
            or _package_error((params.get("Code") or {}).get("ZipFile"))
        )
    name = labels.get("FunctionName", "")
    runtime = params.get("Runtime")
    if runtime is None:
        current = moto_compat.function_code(account, region, name)
        runtime = current["runtime"] if current else None  # unknown: moto answers 404
    return _runtime_error(runtime, updating=True) or (
        _package_error(params.get("ZipFile")) if operation == "UpdateFunctionCode" else None
    )
