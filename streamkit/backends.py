"""Choosing where the kit's AWS calls go: the embedded local AWS, real AWS, or another endpoint.

Every helper in streamkit takes a :class:`Backend` as its first argument and only ever calls AWS
through ``backend.client(...)``, so the same notebook code runs on every backend. Real AWS is used
only when asked for by name; nothing ever falls back to it.

A backend also says *what is the kit's*: every name the helpers create or look up gets the backend's
:attr:`Backend.prefix` (``streamkit-`` by default), and everything they create carries the tag
``streamkit-run = <run id>``. :func:`streamkit.teardown.teardown` deletes only what carries the tag.

Which backend a notebook gets is decided by :func:`streamkit.connect`, in
:mod:`streamkit.connection`: the one module that knows the embedded backend too. This module never
imports it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from .errors import (
    BackendError,
    CredentialsMissingError,
    InvalidParameterError,
    LocalOnlyError,
)
from .waiting import check_timeout

if TYPE_CHECKING:  # the client types come from types-boto3, a dev dependency only
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient
    from types_boto3_iam import IAMClient
    from types_boto3_lambda import LambdaClient
    from types_boto3_logs import CloudWatchLogsClient
    from types_boto3_s3 import S3Client
    from types_boto3_ses import SESClient
    from types_boto3_sns import SNSClient
    from types_boto3_sqs import SQSClient
    from types_boto3_sts import STSClient

__all__ = [
    "BACKEND_KINDS",
    "DEFAULT_PREFIX",
    "HOW_TO_PROVIDE_CREDENTIALS",
    "RUN_TAG",
    "Backend",
    "RemoteBackend",
    "check_caller",
    "mask_account",
    "new_run_id",
]

#: What :func:`streamkit.connect` accepts besides an ``http(s)://`` URL.
BACKEND_KINDS = ("local", "aws")
#: The name prefix of everything the kit creates, unless ``connect(prefix=...)`` says otherwise.
DEFAULT_PREFIX = "streamkit-"
#: The tag key on everything the kit creates; its value is the run id.
RUN_TAG = "streamkit-run"

# Lowercase so that it also makes valid S3 bucket names; at most 20 characters to leave room for
# the name itself in the shortest name limit (64 characters for roles and functions).
_PREFIX = re.compile(r"[a-z][a-z0-9-]{0,19}")
_VALID_PREFIX = (
    "1 to 20 lowercase letters, digits or '-', starting with a letter (e.g. 'streamkit-')"
)
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"})
# Real AWS throttles control-plane calls (IAM, Lambda, CloudWatch Logs) under bursts: back off
# more patiently there (botocore's standard mode: exponential backoff with jitter, 20 s cap).
_AWS_CLIENT_CONFIG = Config(retries={"max_attempts": 8, "mode": "standard"})


class Tag(TypedDict):
    """One tag as DynamoDB, IAM, SNS and S3 take it (see :attr:`Backend.tag_list`)."""

    Key: str
    Value: str


def mask_account(account_id: str) -> str:
    """An account id with all but its last four digits hidden: ``********9012``."""
    return "*" * max(len(account_id) - 4, 0) + account_id[-4:]


def new_run_id() -> str:
    """A run id: the UTC start time and four random hex digits, e.g. ``20261127-150312-3fa9``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


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
    prefix : str
        The name prefix of everything the kit creates or looks up (``""``: none, for tests and
        emulators only; real AWS always has one).
    run_id : str
        The value of the :data:`RUN_TAG` tag on everything created through this backend.
    show_progress : bool
        Whether slow waits (role propagation, a mapping being created, logs arriving) print what
        they wait for. On by default everywhere but the embedded backend, where nothing is slow.
    api_calls : collections.Counter
        Every AWS API call made through :meth:`client`, as ``"service:Operation"``, e.g.
        ``"lambda:CreateEventSourceMapping"`` (what ``docs/iam/streamkit-user-policy.json`` must allow).
    """

    kind: str = "endpoint"

    def __init__(
        self,
        region: str,
        endpoint_url: str | None,
        session: boto3.Session,
        *,
        prefix: str = DEFAULT_PREFIX,
        run_id: str | None = None,
    ):
        self.region = region
        self.endpoint_url = endpoint_url
        self.session = session
        self._clients: dict[str, BaseClient] = {}
        self._clients_lock = threading.Lock()
        self.prefix = prefix
        self.run_id = run_id if run_id is not None else new_run_id()
        self.show_progress = not self.is_local
        self.api_calls: Counter[str] = Counter()
        self._recorders: list[list[Any]] = []  # the call lists of the show_calls() blocks running
        self._account_id: str | None = None

    # -- what is the kit's -------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        """The name prefix of everything the kit creates or looks up through this backend."""
        return self._prefix

    @prefix.setter
    def prefix(self, value: str) -> None:
        if not isinstance(value, str) or not (value == "" or _PREFIX.fullmatch(value)):
            raise InvalidParameterError("prefix", value, _VALID_PREFIX + ", or '' for none")
        if value == "" and self.kind == "aws":
            raise InvalidParameterError("prefix", value, _VALID_PREFIX + " (real AWS needs one)")
        self._prefix = value

    @property
    def run_id(self) -> str:
        """The run id: the value of the ``streamkit-run`` tag on what this backend creates."""
        return self._run_id

    @run_id.setter
    def run_id(self, value: str) -> None:
        if not isinstance(value, str) or not _RUN_ID.fullmatch(value):
            raise InvalidParameterError(
                "run_id", value, "1 to 64 letters, digits, '_', '.' or '-', starting alphanumeric"
            )
        self._run_id = value

    def name(self, name: str) -> str:
        """The AWS name of a kit resource: ``name`` with the prefix (unchanged if it has it already).

        ARNs and URLs are returned unchanged.

        Examples
        --------
        >>> from streamkit.backends import RemoteBackend
        >>> backend = RemoteBackend("endpoint", "us-east-1", "http://127.0.0.1:1", None)
        >>> backend.name("Users"), backend.name("streamkit-Users")
        ('streamkit-Users', 'streamkit-Users')
        """
        if not isinstance(name, str) or not name:
            raise InvalidParameterError("name", name, "a non-empty name")
        if name.startswith((self.prefix, "arn:", "http://", "https://")):
            return name
        return self.prefix + name

    @property
    def tags(self) -> dict[str, str]:
        """The tags everything created through this backend carries: ``{"streamkit-run": run_id}``."""
        return {RUN_TAG: self.run_id}

    @property
    def tag_list(self) -> list[Tag]:
        """:attr:`tags` as DynamoDB, IAM and SNS take them: ``[{"Key": ..., "Value": ...}]``."""
        return [{"Key": key, "Value": value} for key, value in self.tags.items()]

    # -- where we are ------------------------------------------------------------------------------

    @property
    def account_id(self) -> str:
        """The account the credentials belong to (STS ``GetCallerIdentity``, asked once)."""
        if self._account_id is None:
            self._account_id = str(self.client("sts").get_caller_identity()["Account"])
        return self._account_id

    @account_id.setter
    def account_id(self, value: str) -> None:
        self._account_id = value

    def describe(self) -> str:
        """One line saying where the kit's calls go: kind, masked account, region, prefix, run.

        Notebooks print it before their first change, so a user sees which account they are about
        to change. The account id is masked (``********9012``) so that output can be shared.
        """
        where = {"aws": "real AWS", "local": "embedded local AWS"}.get(
            self.kind, f"endpoint {self.endpoint_url}"
        )
        return (
            f"backend: {where} | account {mask_account(self.account_id)} | region {self.region} | "
            f"names {self.prefix}* | run {self.run_id}"
        )

    @property
    def is_local(self) -> bool:
        """Whether this is the embedded backend (where local-only steps such as shard rollover exist)."""
        return self.kind == "local"

    def progress(self, message: str) -> None:
        """Report a slow wait (printed when :attr:`show_progress` is on)."""
        if self.show_progress:
            print(f"[streamkit] {message}", file=sys.stdout, flush=True)

    # Typed clients for the services the kit calls (types-boto3); any other service gives Any.
    @overload
    def client(self, service_name: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service_name: Literal["dynamodbstreams"]) -> DynamoDBStreamsClient: ...
    @overload
    def client(self, service_name: Literal["iam"]) -> IAMClient: ...
    @overload
    def client(self, service_name: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def client(self, service_name: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def client(self, service_name: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service_name: Literal["ses"]) -> SESClient: ...
    @overload
    def client(self, service_name: Literal["sns"]) -> SNSClient: ...
    @overload
    def client(self, service_name: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service_name: Literal["sts"]) -> STSClient: ...
    @overload
    def client(self, service_name: str) -> Any: ...

    def client(self, service_name: str) -> Any:
        """A boto3 client for ``service_name`` bound to this backend (cached; clients are thread-safe).

        Parameters
        ----------
        service_name : str
            A boto3 service name, e.g. ``"dynamodb"``, ``"dynamodbstreams"``, ``"lambda"``.
        """
        self._check_available()
        with self._clients_lock:
            client = self._clients.get(service_name)
            if client is None:
                config = _AWS_CLIENT_CONFIG if self.kind == "aws" else _CLIENT_CONFIG
                # The stubs list each service name as a Literal; boto3 takes any name.
                client = self.session.client(  # type: ignore[call-overload]
                    service_name, endpoint_url=self.endpoint_url, config=config
                )
                self._count_calls(client)
                self._clients[service_name] = client
            return client

    def _check_available(self) -> None:
        """Raise if no client can be made now (the embedded backend does before it is started)."""

    def _count_calls(self, client: BaseClient) -> None:
        """Count each API call of ``client`` in :attr:`api_calls` (once per call, not per retry)."""
        service = client.meta.service_model.service_name
        calls = self.api_calls

        def count(model: Any, **_: Any) -> None:
            calls[f"{service}:{model.name}"] += 1

        client.meta.events.register_first("before-call.*.*", count)
        recorders = self._recorders

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            if recorders:  # only while a show_calls() block runs
                from .apicalls import ApiCall, summarize_params

                call = ApiCall(service, model.name, summarize_params(params))
                for calls_made in list(recorders):
                    calls_made.append(call)

        client.meta.events.register("before-parameter-build", record)

    @contextlib.contextmanager
    def show_calls(self, *, reads: bool = False, display: bool = True) -> Iterator[Any]:
        """Record the AWS calls made in a ``with`` block, and show them when it ends.

        What a helper such as ``streams.enable_stream`` or ``triggers.create_trigger`` did, as
        boto3 code, AWS CLI commands and a CloudFormation (and SAM) template of the resources it
        made: the same steps, to carry into your own code or infrastructure as code.

        Parameters
        ----------
        reads : bool, default False
            Show the calls that only read (``Describe*``, ``Get*``, ``List*``) too.
        display : bool, default True
            Show the calls when the block ends (in Jupyter as HTML; elsewhere printed). False:
            only fill in the log the block gives.

        Yields
        ------
        streamkit.apicalls.CallLog
            Filled in when the block ends: ``.calls``, ``.boto3()``, ``.cli()``,
            ``.cloudformation()``, ``.sam()``.

        Examples
        --------
        >>> with aws.show_calls():  # doctest: +SKIP
        ...     streams.enable_stream(aws, "Users", "NEW_IMAGE")
        """
        from .apicalls import CallLog

        log = CallLog(reads=reads, prefix=self.prefix)
        self._recorders.append(log.all_calls)
        try:
            yield log
        finally:
            self._recorders[:] = [r for r in self._recorders if r is not log.all_calls]
        if display:
            try:
                from IPython import get_ipython
                from IPython.display import display as show
            except ImportError:  # pragma: no cover - plain Python
                print(log)
                return
            if get_ipython() is None:
                print(log)
            else:
                show(log)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every trigger has caught up. Remote backends are never waited for here.

        Parameters
        ----------
        timeout : float
            Seconds to wait at the most.
        """
        check_timeout("timeout", timeout)  # refused here too, as on the embedded backend

    # The embedded backend's views of the local Lambda service. On AWS these do not exist: the
    # notebooks check ``is_local`` and say what to look at instead.

    def mapping_state(self) -> Any:
        """Per-mapping, per-shard state of the local Lambda service (embedded backend only)."""
        raise LocalOnlyError("mapping_state()", "describe_trigger() and the IteratorAge metric")

    def trigger_journal(self, function_name: str | None = None) -> Any:
        """The local Lambda service's record of each poll, batch and checkpoint (embedded backend
        only; :func:`streamkit.timeline.trigger_timeline` reads the logs on AWS)."""
        raise LocalOnlyError("trigger_journal()", "streamkit.timeline.trigger_timeline()")

    def discarded_batches(self) -> Any:
        """Batches the local Lambda service gave up on (embedded backend only)."""
        raise LocalOnlyError("discarded_batches()", "the on-failure destination's messages")

    def sent_emails(self) -> Any:
        """E-mails sent through the embedded SES (embedded backend only)."""
        raise LocalOnlyError("sent_emails()", "the recipients' inboxes")

    def expire_ttl(self, table_name: str | None = None, *, at: float | None = None) -> int:
        """Delete expired TTL items now (embedded backend only)."""
        raise LocalOnlyError("expire_ttl()", "DynamoDB's own TTL process (within about 48 hours)")

    def __repr__(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"<{type(self).__name__} kind={self.kind!r} region={self.region!r} at {where}>"


class RemoteBackend(Backend):
    """Real AWS (``kind="aws"``) or an endpoint you run yourself (DynamoDB Local, LocalStack)."""

    def __init__(
        self,
        kind: str,
        region: str,
        endpoint_url: str | None,
        session: boto3.Session,
        *,
        prefix: str = DEFAULT_PREFIX,
        run_id: str | None = None,
    ):
        self.kind = kind
        super().__init__(region, endpoint_url, session, prefix=prefix, run_id=run_id)


HOW_TO_PROVIDE_CREDENTIALS = (
    "Provide them the standard way: `aws configure` (or `aws sso login --profile NAME` and "
    "AWS_PROFILE=NAME), or the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables. Or "
    'keep working offline with streamkit.connect("local").'
)


def check_caller(backend: Backend) -> str:
    """Ask STS who the credentials belong to (``GetCallerIdentity``); the account id.

    Called by :func:`streamkit.connect` for real AWS before anything else, so that missing, expired or
    invalid credentials stop the walkthrough before its first change.

    Raises
    ------
    CredentialsMissingError
        When STS refuses the credentials, with the way to provide valid ones.
    BackendError
        When AWS cannot be reached at all.
    """
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        return backend.account_id
    except EndpointConnectionError as exc:
        raise BackendError(
            f"Cannot reach AWS ({exc}). Check the network and the region {backend.region!r}; "
            'or keep working offline with streamkit.connect("local").'
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise CredentialsMissingError(
            f"AWS refused the credentials ({error.get('Code')}: {error.get('Message')}), so "
            f"streamkit will not use real AWS. {HOW_TO_PROVIDE_CREDENTIALS}"
        ) from exc
    except BotoCoreError as exc:  # NoCredentialsError, an expired SSO token, a broken profile
        raise CredentialsMissingError(
            f"No usable AWS credentials ({exc}), so streamkit will not use real AWS. "
            f"{HOW_TO_PROVIDE_CREDENTIALS}"
        ) from exc
