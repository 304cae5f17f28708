"""Deploying a function: a deterministic package from a source folder, created or updated
idempotently, with its log group made beforehand so that it carries the kit's tag.

:func:`deploy_function` checks every argument against Lambda's limits before any call, creates the
function (retrying on AWS while a new execution role is not yet usable) or changes only what
differs in an existing one. The package itself is built by :mod:`streamkit.packaging`.

Only boto3 calls, through ``backend.client(...)``, so everything works the same on the embedded
backend and on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .aws_errors import error_message
from .backends import Backend
from .checks import check_function_name, check_int
from .errors import InvalidParameterError, NotOwnedError, StreamkitError
from .iam import retry_while_role_propagates
from .limits import (
    DESCRIPTION_MAX_CHARS,
    ENV_MAX_BYTES,
    ENV_NAME_PATTERN,
    HANDLER_MAX_CHARS,
    HANDLER_PATTERN,
    LAMBDA_MEMORY_MB_RANGE,
    LAMBDA_RUNTIME_LIFECYCLE,
    LAMBDA_TIMEOUT_MAX_MS,
    LAMBDA_TIMEOUT_MIN_S,
    NODE_HANDLER_PATTERN,
    NODE_RUNTIMES,
    PYTHON_RUNTIMES,
    RESERVED_ENV,
)
from .ownership import check_owned, not_owned
from .packaging import build_zip, code_sha256, source_dir_of

if TYPE_CHECKING:  # pragma: no cover
    from types_boto3_lambda.type_defs import (
        FunctionConfigurationResponseTypeDef,
        WaiterConfigTypeDef,
    )

__all__ = [
    "NODE_RUNTIMES",
    "PYTHON_RUNTIMES",
    "DeployedFunction",
    "deploy_function",
    "example",
    "function_log_group",
]

#: The kit's example functions: ``functions/`` beside the ``streamkit`` package in the repository.
EXAMPLES = Path(__file__).resolve().parents[1] / "functions"


def example(name: str) -> Path:
    """The folder of one of the kit's example functions, from any working directory.

    Parameters
    ----------
    name : str
        ``"log_event"``, ``"welcome_email"``, ``"welcome_email_idempotent"``, ``"validate_user"``
        (the folders of ``functions/`` in the repository).

    Returns
    -------
    pathlib.Path
        The folder, for :func:`deploy_function`.

    Raises
    ------
    InvalidParameterError
        No such example (or the kit is installed without the repository's ``functions/``).
    """
    folder = EXAMPLES / str(name)
    if not (isinstance(name, str) and name and folder.is_dir()):
        known = (
            sorted(p.name for p in EXAMPLES.glob("*") if p.is_dir()) if EXAMPLES.is_dir() else []
        )
        raise InvalidParameterError(
            "name",
            name,
            f"one of {', '.join(known)}"
            if known
            else "an example of the repository's functions/ folder (install the kit from a clone: pip "
            "install -e .)",
        )
    return folder


@dataclass(frozen=True)
class DeployedFunction:
    """What :func:`deploy_function` did.

    Attributes
    ----------
    name : str
    arn : str
    code_sha256 : str
        Base64 SHA-256 of the deployed package.
    action : str
        ``"created"``, ``"updated"`` (code or configuration changed) or ``"unchanged"``.
    """

    name: str
    arn: str
    code_sha256: str
    action: str


def function_log_group(function_name: str) -> str:
    """The log group Lambda writes a function's logs to: ``/aws/lambda/<function_name>``."""
    return f"/aws/lambda/{function_name}"


def _waiter_delay(backend: Backend) -> int:
    return 1 if backend.is_local else 5


def _blocked(runtime: str) -> bool:
    """Whether AWS refuses to create functions with ``runtime`` today (its "block function
    create" date, :data:`~streamkit.limits.LAMBDA_RUNTIME_LIFECYCLE`, has passed)."""
    dates = LAMBDA_RUNTIME_LIFECYCLE.get(runtime)
    return dates is not None and datetime.now(UTC).date() >= date.fromisoformat(dates[1])


def _check_environment(environment: Any) -> dict[str, str]:
    if environment is None:
        return {}
    if not isinstance(environment, Mapping):
        raise InvalidParameterError("environment", environment, "a dict of str to str, or None")
    size = 0
    for key, value in environment.items():
        if not isinstance(key, str) or not ENV_NAME_PATTERN.fullmatch(key):
            raise InvalidParameterError(
                "environment variable name",
                key,
                "a letter followed by at least one letter, digit or underscore",
            )
        if key in RESERVED_ENV:
            raise InvalidParameterError(
                "environment variable name",
                key,
                "a name Lambda does not define itself (not one of "
                + ", ".join(sorted(RESERVED_ENV))
                + ")",
            )
        if not isinstance(value, str):
            raise InvalidParameterError(f"environment[{key!r}]", value, "a string")
        size += len(key.encode()) + len(value.encode())
    if size > ENV_MAX_BYTES:
        raise InvalidParameterError(
            "environment", f"{size} bytes", f"at most {ENV_MAX_BYTES} bytes of names and values"
        )
    return dict(environment)


def _check_handler(handler: Any, source: Path, runtime: str) -> str:
    if runtime in NODE_RUNTIMES:
        return _check_node_handler(handler, source)
    if (
        not isinstance(handler, str)
        or len(handler) > HANDLER_MAX_CHARS
        or not HANDLER_PATTERN.fullmatch(handler)
    ):
        raise InvalidParameterError(
            "handler", handler, "module.function, e.g. 'app.handler' (app.py, def handler)"
        )
    module = handler.rsplit(".", 1)[0]
    candidates = {module.replace(".", "/") + ".py", module + ".py"}
    if not any((source / c).is_file() for c in candidates):
        raise InvalidParameterError(
            "handler",
            handler,
            f"a module.function whose module is a file in {source} (no {sorted(candidates)[0]} there)",
        )
    return handler


def _check_node_handler(handler: Any, source: Path) -> str:
    """A Node.js handler: ``[folder/]module.function``, the module ``module``, ``module.js``,
    ``module.mjs`` or ``module.cjs`` in ``source`` (the files Lambda's Node.js runtime tries)."""
    if (
        not isinstance(handler, str)
        or len(handler) > HANDLER_MAX_CHARS
        or ".." in handler
        or not NODE_HANDLER_PATTERN.fullmatch(handler)
    ):
        raise InvalidParameterError(
            "handler", handler, "module.function, e.g. 'index.handler' (index.js, exports.handler)"
        )
    folder, _, name = handler.rpartition("/")
    module = (f"{folder}/" if folder else "") + name.split(".", 1)[0]
    candidates = [module + suffix for suffix in ("", ".js", ".mjs", ".cjs")]
    if not any((source / c).is_file() for c in candidates):
        raise InvalidParameterError(
            "handler",
            handler,
            f"a module.function whose module is a file in {source} (no {candidates[1]} there)",
        )
    return handler


def _create_function(
    backend: Backend, args: dict[str, Any]
) -> FunctionConfigurationResponseTypeDef:
    """CreateFunction, retried while IAM has not yet told Lambda about a new role (AWS only)."""
    client = backend.client("lambda")

    def not_yet_assumable(exc: ClientError) -> bool:
        return isinstance(
            exc, client.exceptions.InvalidParameterValueException
        ) and "cannot be assumed by Lambda" in error_message(exc)

    def retrying(attempt: int, delays: Sequence[float]) -> str:
        return (
            f"IAM is still propagating the new role {args['Role'].rsplit('/', 1)[-1]}: "
            f"retrying CreateFunction in {delays[attempt]:g} s (try {attempt + 2} of "
            f"{len(delays) + 1})"
        )

    def give_up(exc: ClientError, attempt: int, delays: Sequence[float]) -> Exception:
        return StreamkitError(
            f"Lambda cannot assume the role {args['Role']} ({error_message(exc)!r}, "
            f"{attempt + 1} tries over {sum(delays):g} s). Check that it exists and "
            "trusts lambda.amazonaws.com (create_execution_role does both)."
        )

    return retry_while_role_propagates(
        backend,
        lambda: client.create_function(**args),
        transient=not_yet_assumable,
        retrying=retrying,
        give_up=give_up,
    )


def _create_log_group(backend: Backend, name: str) -> None:
    """Create a function's log group with the kit's tag before Lambda makes one without it.

    Raises
    ------
    NotOwnedError
        If the group exists without the kit's tag (its old events would pass for the new
        function's).
    """
    logs = backend.client("logs")
    try:
        logs.create_log_group(logGroupName=name, tags=backend.tags)
    except logs.exceptions.ResourceAlreadyExistsException:
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    arn = group["arn"].removesuffix(":*")
                    tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
                    refusal = not_owned(backend, "log group", name, tags)
                    if refusal is not None:
                        raise refusal from None


def deploy_function(
    backend: Backend,
    name: str,
    source_dir: str | Path,
    *,
    role_arn: str,
    handler: str = "app.handler",
    runtime: str = "python3.12",
    timeout_s: int = 30,
    memory_mb: int = 128,
    environment: Mapping[str, str] | None = None,
    description: str = "",
) -> DeployedFunction:
    """Create a function from a source folder, or bring an existing one up to date.

    Parameters
    ----------
    backend : Backend
    name : str
        1 to 64 letters, digits, hyphens and underscores; the backend's prefix is added.
    source_dir : str or pathlib.Path
        The function's code (see :func:`streamkit.packaging.build_zip`).
    role_arn : str
        Its execution role (:func:`streamkit.iam.create_execution_role`).
    handler : str
        ``module.function``; the module must be a file in ``source_dir`` (``app.handler`` for
        ``app.py``; for Node.js, ``index.handler`` for ``index.js`` or ``index.mjs``).
    runtime : str
        One of :data:`PYTHON_RUNTIMES` or :data:`NODE_RUNTIMES` that AWS still lets functions be
        created with (``python3.11`` and ``nodejs20.x`` are past their "block function create"
        dates, :data:`~streamkit.limits.LAMBDA_RUNTIME_LIFECYCLE`).
    timeout_s : int
        Seconds an invocation may run, 1 to 900.
    memory_mb : int
        Memory in MB, 128 to 10,240.
    environment : dict, optional
        Environment variables (at most 4 KB in all).
    description : str
        At most 256 characters.

    Returns
    -------
    DeployedFunction
        ``action`` is ``"created"``; for an existing function ``"updated"`` (its code is uploaded
        only if its SHA-256 differs; its configuration is updated only if it differs) or
        ``"unchanged"``. A created function, and its log group ``/aws/lambda/<name>`` (created
        beforehand so that it carries the tag), carry the kit's ``streamkit-run`` tag.

    Raises
    ------
    InvalidParameterError
        Before any AWS call, for any out-of-range argument.
    NotOwnedError
        If a function of that name exists without the kit's tag (it is left as it is).
    StreamkitError
        If Lambda still cannot assume the role after about 75 s of retries (AWS only).
    """
    check_function_name("name", name)
    name = backend.name(name)
    check_function_name("name", name)  # still at most 64 characters with the prefix
    source = source_dir_of(source_dir)
    if not isinstance(role_arn, str) or not re.fullmatch(
        r"arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]+", role_arn
    ):
        raise InvalidParameterError(
            "role_arn", role_arn, "an IAM role ARN, arn:aws:iam::<account>:role/<name>"
        )
    if runtime not in PYTHON_RUNTIMES + NODE_RUNTIMES or _blocked(runtime):
        usable = [r for r in PYTHON_RUNTIMES + NODE_RUNTIMES if not _blocked(r)]
        raise InvalidParameterError(
            "runtime",
            runtime,
            f"one of {', '.join(usable)} (AWS blocks creating functions "
            "with a runtime past its deprecation schedule)",
        )
    _check_handler(handler, source, runtime)
    check_int(
        "timeout_s",
        timeout_s,
        LAMBDA_TIMEOUT_MIN_S,
        LAMBDA_TIMEOUT_MAX_MS // 1000,
        f"a whole number of seconds from {LAMBDA_TIMEOUT_MIN_S} to {LAMBDA_TIMEOUT_MAX_MS // 1000}",
    )
    low, high = LAMBDA_MEMORY_MB_RANGE
    check_int("memory_mb", memory_mb, low, high, f"a whole number of MB from {low} to {high:,}")
    variables = _check_environment(environment)
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX_CHARS:
        raise InvalidParameterError(
            "description", description, "a string of at most 256 characters"
        )

    package = build_zip(source)
    sha = code_sha256(package)
    config: dict[str, Any] = {
        "Role": role_arn,
        "Handler": handler,
        "Runtime": runtime,
        "Timeout": timeout_s,
        "MemorySize": memory_mb,
        "Description": description,
        "Environment": {"Variables": variables},
    }
    client = backend.client("lambda")
    waiter_config: WaiterConfigTypeDef = {"Delay": _waiter_delay(backend), "MaxAttempts": 60}
    try:
        created = _create_function(
            backend,
            {
                "FunctionName": name,
                "Code": {"ZipFile": package},
                "PackageType": "Zip",
                "Tags": backend.tags,
                **config,
            },
        )
    except client.exceptions.ResourceConflictException:
        pass
    else:
        try:
            _create_log_group(backend, function_log_group(name))
        except NotOwnedError:
            client.delete_function(FunctionName=name)  # nothing half-created
            raise
        if created.get("State", "Active") != "Active":
            backend.progress(f"function {name} is {created['State']}; waiting until it is Active")
        client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
        return DeployedFunction(name, created["FunctionArn"], created["CodeSha256"], "created")

    # It exists: if it is the kit's, wait until it takes updates, then change only what differs.
    arn = client.get_function_configuration(FunctionName=name)["FunctionArn"]
    check_owned(backend, "Lambda function", name, client.list_tags(Resource=arn).get("Tags", {}))
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
    current = client.get_function_configuration(FunctionName=name)
    action = "unchanged"
    if current.get("CodeSha256") != sha:
        client.update_function_code(FunctionName=name, ZipFile=package)
        client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
        action = "updated"
    existing = {
        "Role": current.get("Role"),
        "Handler": current.get("Handler"),
        "Runtime": current.get("Runtime"),
        "Timeout": current.get("Timeout"),
        "MemorySize": current.get("MemorySize"),
        "Description": current.get("Description") or "",
        "Environment": {"Variables": (current.get("Environment") or {}).get("Variables") or {}},
    }
    if existing != config:
        client.update_function_configuration(FunctionName=name, **config)
        client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=waiter_config)
        action = "updated"
    final = client.get_function_configuration(FunctionName=name)
    return DeployedFunction(name, final["FunctionArn"], final["CodeSha256"], action)
