"""Choosing where the kit's AWS calls go: the embedded local AWS, real AWS, or another endpoint.

Every helper in streamkit takes a :class:`Backend` as its first argument and only ever calls AWS
through ``backend.client(...)``, so the same notebook code runs on every backend. Real AWS is used
only when asked for by name; nothing ever falls back to it.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from .errors import CredentialsMissingError, InvalidParameterError

__all__ = ["Backend", "RemoteBackend", "connect", "BACKEND_KINDS"]

#: What :func:`connect` accepts besides an ``http(s)://`` URL.
BACKEND_KINDS = ("local", "aws")

_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"})


class Backend:
    """Where AWS calls go: a boto3 session, a region and, unless real AWS, an endpoint URL.

    Attributes
    ----------
    kind : str
        ``"local"`` (embedded), ``"aws"`` (real AWS) or ``"endpoint"`` (another emulator).
    region : str
        The AWS region clients are made for.
    endpoint_url : str or None
        Where requests go; ``None`` for real AWS.
    session : boto3.Session
        The session clients are made from.
    """

    kind: str = "endpoint"

    def __init__(self, region: str, endpoint_url: str | None, session: boto3.Session):
        self.region = region
        self.endpoint_url = endpoint_url
        self.session = session
        self._clients: dict[str, BaseClient] = {}
        self._clients_lock = threading.Lock()
        self._created: list[tuple[str, str]] = []

    @property
    def created(self) -> list[tuple[str, str]]:
        """What the kit created through this backend, oldest first, as ``(kind, identifier)``.

        Kinds: ``"table"``, ``"role"``, ``"function"``, ``"event-source-mapping"``, ``"log-group"``,
        ``"queue"``, ``"topic"``, ``"bucket"``. Teardown deletes exactly these, newest first.
        """
        return list(self._created)

    def register(self, kind: str, identifier: str) -> None:
        """Record that the kit created a resource (once; re-registering is harmless)."""
        if (kind, identifier) not in self._created:
            self._created.append((kind, identifier))

    def forget(self, kind: str, identifier: str) -> None:
        """Drop a resource from :attr:`created` (after it was deleted)."""
        if (kind, identifier) in self._created:
            self._created.remove((kind, identifier))

    @property
    def is_local(self) -> bool:
        """Whether this is the embedded backend (where local-only steps such as shard rollover exist)."""
        return self.kind == "local"

    def client(self, service_name: str) -> Any:
        """A boto3 client for ``service_name`` bound to this backend (cached; clients are thread-safe).

        Parameters
        ----------
        service_name : str
            A boto3 service name, e.g. ``"dynamodb"``, ``"dynamodbstreams"``, ``"lambda"``.
        """
        with self._clients_lock:
            client = self._clients.get(service_name)
            if client is None:
                client = self.session.client(
                    service_name, endpoint_url=self.endpoint_url, config=_CLIENT_CONFIG
                )
                self._clients[service_name] = client
            return client

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every trigger has caught up. Remote backends are never waited for here.

        Parameters
        ----------
        timeout : float
            Seconds to wait at the most.
        """

    def __repr__(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"<{type(self).__name__} kind={self.kind!r} region={self.region!r} at {where}>"


class RemoteBackend(Backend):
    """Real AWS (``kind="aws"``) or an endpoint you run yourself (DynamoDB Local, LocalStack)."""

    def __init__(self, kind: str, region: str, endpoint_url: str | None, session: boto3.Session):
        super().__init__(region, endpoint_url, session)
        self.kind = kind


def _connect_aws(region: str | None, profile: str | None) -> RemoteBackend:
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except Exception as exc:  # botocore's ProfileNotFound and friends
        raise CredentialsMissingError(f"Cannot use AWS profile {profile!r}: {exc}") from exc
    if session.get_credentials() is None:
        raise CredentialsMissingError(
            "No AWS credentials found, so streamkit will not use real AWS. Provide them the standard "
            "way: `aws configure` (or `aws sso login --profile NAME` and AWS_PROFILE=NAME), or the "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables. Or keep working "
            'offline with streamkit.connect("local").'
        )
    if session.region_name is None:
        raise CredentialsMissingError(
            "No AWS region configured: pass region=... or set AWS_REGION / AWS_DEFAULT_REGION."
        )
    return RemoteBackend("aws", session.region_name, None, session)


def _connect_endpoint(url: str, region: str | None) -> RemoteBackend:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidParameterError("backend", url, ("local", "aws", "an http(s):// endpoint URL"))
    session = boto3.Session(region_name=region or "us-east-1")
    if session.get_credentials() is None:  # emulators accept any key; use obvious fake ones
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=region or "us-east-1",
        )
    return RemoteBackend("endpoint", session.region_name, url, session)


def connect(
    backend: str = "local", *, region: str | None = None, profile: str | None = None
) -> Backend:
    """The backend the helpers talk to.

    Parameters
    ----------
    backend : str
        ``"local"`` (default): start, or reuse, the embedded local AWS in this process.
        ``"aws"``: real AWS through the standard credential chain; used only when asked for.
        ``"http://..."`` / ``"https://..."``: an endpoint you run (DynamoDB Local, LocalStack).
    region : str, optional
        AWS region. Defaults to us-east-1 locally, the configured region on AWS.
    profile : str, optional
        AWS named profile (``"aws"`` only).

    Returns
    -------
    Backend

    Raises
    ------
    InvalidParameterError
        For any other ``backend`` value.
    CredentialsMissingError
        For ``"aws"`` without credentials or region.
    """
    if not isinstance(backend, str):
        raise InvalidParameterError(
            "backend", backend, ("local", "aws", "an http(s):// endpoint URL")
        )
    if backend == "local":
        from .local import LocalAWS

        return LocalAWS.shared(region or "us-east-1")
    if backend == "aws":
        return _connect_aws(region, profile)
    if backend.startswith(("http://", "https://")):
        return _connect_endpoint(backend, region)
    raise InvalidParameterError("backend", backend, ("local", "aws", "an http(s):// endpoint URL"))
