"""``connect()``: the backend every helper takes, by name.

The one module that knows every backend: the embedded local AWS (:mod:`streamkit.local`, started
on first use), real AWS (only when asked for by name, and only with credentials STS accepts), or an
endpoint you run. Everything else takes the :class:`~streamkit.backends.Backend` this returns and
never needs to know which it is.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlparse

import boto3

from .backends import (
    DEFAULT_PREFIX,
    HOW_TO_PROVIDE_CREDENTIALS,
    Backend,
    RemoteBackend,
    check_caller,
    new_run_id,
)
from .errors import CredentialsMissingError, InvalidParameterError

__all__ = ["connect"]

# One run per process and backend: connecting again (re-running a notebook's first cell after an
# error) continues the same run, so its teardown still finds what was created before.
_RUNS: dict[tuple[str, str | None, str | None, str], str] = {}
_RUNS_LOCK = threading.Lock()


def _run_of(where: str, region: str | None, profile: str | None, prefix: str) -> str:
    with _RUNS_LOCK:
        return _RUNS.setdefault((where, region, profile, prefix), new_run_id())


def _connect_aws(
    region: str | None, profile: str | None, prefix: str | None, run_id: str | None
) -> RemoteBackend:
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except Exception as exc:  # botocore's ProfileNotFound and friends
        raise CredentialsMissingError(f"Cannot use AWS profile {profile!r}: {exc}") from exc
    if session.get_credentials() is None:
        raise CredentialsMissingError(
            f"No AWS credentials found, so streamkit will not use real AWS. "
            f"{HOW_TO_PROVIDE_CREDENTIALS}"
        )
    if session.region_name is None:
        raise CredentialsMissingError(
            "No AWS region configured: pass region=... or set AWS_REGION / AWS_DEFAULT_REGION."
        )
    prefix = DEFAULT_PREFIX if prefix is None else prefix
    backend = RemoteBackend(
        "aws",
        session.region_name,
        None,
        session,
        prefix=prefix,
        run_id=run_id or _run_of("aws", session.region_name, profile, prefix),
    )
    check_caller(backend)
    return backend


def _embedded_at(url: str) -> Any:
    """The embedded backend of this process if it runs at ``url`` (else None)."""
    import sys

    if "streamkit.local.server" not in sys.modules:  # never start it just to look
        return None
    from .local.server import LocalAWS

    running = LocalAWS.running_instance()
    if running is not None and running.endpoint_url == url.rstrip("/"):
        return running
    return None


def _connect_endpoint(
    url: str, region: str | None, prefix: str | None, run_id: str | None
) -> RemoteBackend:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidParameterError("backend", url, _VALID_BACKENDS)
    session = boto3.Session(region_name=region or "us-east-1")
    running = _embedded_at(url)
    if running is not None:  # this process's embedded backend answers only its own credentials
        keys = running.credentials
        session = boto3.Session(
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            region_name=region or running.region,
        )
    elif session.get_credentials() is None:  # emulators accept any key; use obvious fake ones
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=region or "us-east-1",
        )
    prefix = DEFAULT_PREFIX if prefix is None else prefix
    return RemoteBackend(
        "endpoint",
        session.region_name,
        url,
        session,
        prefix=prefix,
        run_id=run_id or _run_of(url, session.region_name, None, prefix),
    )


_VALID_BACKENDS = ("local", "aws", "an http(s):// endpoint URL")


def connect(
    backend: str = "local",
    *,
    region: str | None = None,
    profile: str | None = None,
    prefix: str | None = None,
    run_id: str | None = None,
) -> Backend:
    """The backend the helpers talk to.

    Nothing here reads the environment: the notebooks pass
    ``os.environ.get("STREAMKIT_BACKEND", "local")`` themselves, so the switch to real AWS is
    always visible where it is made.

    Parameters
    ----------
    backend : str
        ``"local"`` (default): start, or reuse, the embedded local AWS in this process.
        ``"aws"``: real AWS through the standard credential chain; used only when asked for. The
        credentials are checked with STS before this returns.
        ``"http://..."`` / ``"https://..."``: an endpoint you run (DynamoDB Local, LocalStack).
    region : str, optional
        AWS region. Defaults to us-east-1 locally, the configured region on AWS.
    profile : str, optional
        AWS named profile (``"aws"`` only).
    prefix : str, optional
        Name prefix of everything the kit creates (default ``"streamkit-"``).
    run_id : str, optional
        Value of the ``streamkit-run`` tag on everything created. Default: this process's run for
        this backend, region and prefix, made of the UTC time and 4 random hex digits when first
        connected; connecting again continues it. Pass an earlier run's id to tear it down.

    Returns
    -------
    Backend

    Raises
    ------
    InvalidParameterError
        For any other ``backend`` value, or a prefix that is not valid.
    CredentialsMissingError
        For ``"aws"`` without credentials or region, or with credentials STS refuses.
    """
    if not isinstance(backend, str):
        raise InvalidParameterError("backend", backend, _VALID_BACKENDS)
    if region is not None and (not isinstance(region, str) or not region.strip()):
        raise InvalidParameterError("region", region, "an AWS region name such as 'us-east-1'")
    backend = backend.strip()
    if backend == "local":
        # Imported on first use, not with this module: the emulator (moto and all) loads only for
        # a notebook that asks for it, and `import streamkit` stays light.
        from .local import LocalAWS

        local = LocalAWS.shared(region or "us-east-1")
        if prefix is not None:
            local.prefix = prefix
        if run_id is not None:
            local.run_id = run_id
        return local
    if backend == "aws":
        return _connect_aws(region, profile, prefix, run_id)
    if backend.startswith(("http://", "https://")):
        return _connect_endpoint(backend, region, prefix, run_id)
    raise InvalidParameterError("backend", backend, _VALID_BACKENDS)
