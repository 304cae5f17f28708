"""Running the embedded local AWS: one server in this process, on loopback.

The server answers with :class:`~.dispatcher.Dispatcher`: streamkit's own DynamoDB Streams and
mapping APIs in front of moto (patched by :mod:`.moto_compat`), and the local Lambda service
(:mod:`.esm.service`) runs the mappings.

moto keeps its state in module-level backends, so one process holds one embedded AWS: a second
:class:`LocalAWS` can be started only after the first is stopped (``LocalAWS.shared`` hands out the
running one). Use :meth:`LocalAWS.reset` to start from an empty account instead.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import boto3

from ..backends import Backend
from ..errors import BackendError, InvalidParameterError, StreamNotFoundError
from ..limits import LOCAL_SHARDS_PER_STREAM_RANGE, STREAM_SHARD_ROLLOVER_SECONDS
from . import moto_compat, state, validation
from .auth import RequestAuthenticator, new_credentials
from .dispatcher import Dispatcher
from .dynamodbstreams.models import (
    SHARD_SETTINGS,
    ShardSettings,
    StreamsApiError,
    reset_stores,
    store_for,
)
from .esm import journal
from .esm.models import reset_mapping_stores
from .esm.service import LocalLambdaService
from .state import ACCOUNT_ID

__all__ = ["LocalAWS", "ACCOUNT_ID", "port_is_free"]

_HOST = "127.0.0.1"
_RUNNING: LocalAWS | None = None
_RUNNING_LOCK = threading.Lock()


class LocalAWS(Backend):
    """The embedded local AWS: moto's server on ``127.0.0.1`` and a free port, in this process.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. No account, Docker or
    network is needed and nothing listens beyond loopback. Each instance mints its own random
    credentials (:attr:`credentials`): its server answers only requests signed with them, so other
    users and web pages on the same machine cannot use it (``SECURITY.md``). Its own clients,
    sessions, the local Lambda service and the functions it runs get them;
    :meth:`cli_env` gives them to the AWS CLI or another SDK.

    Parameters
    ----------
    region : str
        Region of the clients and sessions it hands out (the server answers every region).
    poll_interval_s : float
        Seconds between polls of an idle shard by the local Lambda service (AWS: 0.25).
    shards_per_stream : int
        Open shards each stream starts with (default 1; AWS opens one per table partition). An
        item's records all go to one shard, chosen by a stable hash of its partition key.
    shard_rollover_s : float
        Seconds a shard stays open before it rolls over to a child shard (default: AWS's
        ``STREAM_SHARD_ROLLOVER_SECONDS``, about 4 hours, INFERRED); small values show rollovers
        in tests and notebooks; ``math.inf`` rolls over only on :meth:`roll_shards`.

    Examples
    --------
    >>> with LocalAWS() as aws:  # doctest: +SKIP
    ...     aws.client("dynamodb").list_tables()["TableNames"]
    []
    """

    kind = "local"

    def __init__(
        self,
        region: str = "us-east-1",
        *,
        poll_interval_s: float = 0.25,
        shards_per_stream: int = 1,
        shard_rollover_s: float = STREAM_SHARD_ROLLOVER_SECONDS,
    ):
        if not isinstance(region, str) or not region:
            raise InvalidParameterError("region", region, "an AWS region name such as 'us-east-1'")
        #: This run's credentials: the only ones its server accepts.
        self.credentials = new_credentials()
        session = boto3.Session(
            aws_access_key_id=self.credentials.access_key_id,
            aws_secret_access_key=self.credentials.secret_access_key,
            aws_session_token=self.credentials.session_token,
            region_name=region,
        )
        super().__init__(region, None, session)
        self.account_id = ACCOUNT_ID
        self._server: Any = None
        self._lambda: LocalLambdaService | None = None  # the local Lambda service, while running
        self._poll_interval_s = LocalLambdaService.check_interval(poll_interval_s)
        self._shards = ShardSettings()
        self._set_shards(shards_per_stream, shard_rollover_s)
        self.started_in: float | None = None  # seconds the last start took

    # -- life cycle -------------------------------------------------------------------------------

    @classmethod
    def shared(cls, region: str = "us-east-1") -> LocalAWS:
        """The running embedded backend, started if none runs (what ``connect("local")`` returns)."""
        with _RUNNING_LOCK:
            running = _RUNNING
        if running is not None:
            if running.region != region:
                raise BackendError(
                    f"The embedded backend already runs with region {running.region!r}; stop it "
                    f"first to use {region!r}, or create clients for another region with "
                    f"backend.session.client(..., region_name={region!r}, "
                    "endpoint_url=backend.endpoint_url)."
                )
            return running
        return cls(region).start()

    @staticmethod
    def running_instance() -> LocalAWS | None:
        """The embedded backend running in this process, if any."""
        with _RUNNING_LOCK:
            return _RUNNING

    @property
    def running(self) -> bool:
        """Whether this instance's server is up."""
        return self._server is not None

    def start(self) -> LocalAWS:
        """Start the server (harmless if already started). Returns ``self``.

        Raises
        ------
        BackendError
            If another ``LocalAWS`` runs in this process.
        """
        global _RUNNING
        with _RUNNING_LOCK:
            if self._server is not None:
                return self
            if _RUNNING is not None:
                raise BackendError(
                    "Another LocalAWS already runs in this process (at "
                    f"{_RUNNING.endpoint_url}); moto keeps one state per process, so two embedded "
                    "backends would share their tables. Reuse it (streamkit.connect('local') or "
                    "LocalAWS.shared()), call reset() on it for a clean account, or stop() it first."
                )
            began = time.perf_counter()
            moto_compat.install()
            SHARD_SETTINGS.update(self._shards.per_stream, self._shards.rollover_s)
            state.set_credentials(self.credentials)
            server = _QuietServer(RequestAuthenticator(self.credentials))
            self._server = server
            self.endpoint_url = f"http://{_HOST}:{server.port}"
            self._clients.clear()
            _RUNNING = self
        try:
            self._lambda = LocalLambdaService(
                self.account_id,
                self.endpoint_url,
                self.region,
                poll_interval_s=self._poll_interval_s,
            )
            moto_compat.FUNCTION_DELETED_LISTENERS.append(self._function_deleted)
            # The first request loads moto's URL maps: pay that here, not in the first cell. The
            # request validation uses the model this client loaded rather than load it again.
            ddb = self.client("dynamodb")
            validation.remember(ddb.meta.service_model)
            ddb.list_tables(Limit=1)
        except BaseException:
            self.stop()  # nothing half-started: the port is freed and another start may try
            raise
        self.started_in = time.perf_counter() - began
        return self

    def stop(self) -> None:
        """Stop the server and free its port (harmless if not started). State is kept by moto
        until :meth:`reset` or the process ends."""
        global _RUNNING
        with _RUNNING_LOCK:
            server, self._server = self._server, None
            if server is None:
                return
            if _RUNNING is self:
                _RUNNING = None
        if self._function_deleted in moto_compat.FUNCTION_DELETED_LISTENERS:
            moto_compat.FUNCTION_DELETED_LISTENERS.remove(self._function_deleted)
        if self._lambda is not None:
            self._lambda.close()
            self._lambda = None
        server.shutdown()
        self._clients.clear()
        self.endpoint_url = None

    def reset(self) -> None:
        """Forget every resource in the embedded account (tables, streams, functions, ...)."""
        with state.LOCK:
            moto_compat.reset_moto()
            reset_stores()
            reset_mapping_stores()
            journal.reset()
            if self._lambda is not None:
                self._lambda.reset()

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def cli_env(self) -> dict[str, str]:
        """Environment variables that point the AWS CLI or another SDK at this backend.

        Returns
        -------
        dict of str
            ``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``AWS_DEFAULT_REGION`` and this run's
            ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, e.g. for
            ``env $(...) aws dynamodb list-tables`` in a terminal of the same user.
        """
        if self.endpoint_url is None:
            raise BackendError("LocalAWS is not running: call start() or use it in a with block.")
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.credentials.secret_access_key,
            "AWS_SESSION_TOKEN": self.credentials.session_token,
        }

    # -- contract shared with other backends ------------------------------------------------------

    def _check_available(self) -> None:
        if self._server is None:
            raise BackendError("LocalAWS is not running: call start() or use it in a with block.")

    @property
    def lambda_service(self) -> LocalLambdaService:
        """The local Lambda service that runs event source mappings (while running)."""
        if self._lambda is None:
            raise BackendError("LocalAWS is not running: call start() or use it in a with block.")
        return self._lambda

    def settle(self, timeout: float = 30.0) -> None:
        """Return once every enabled trigger has processed every record of its stream.

        Parameters
        ----------
        timeout : float
            Seconds to wait at the most.

        Raises
        ------
        SettleTimeoutError
            Naming each mapping that is behind, by how many records, and its last error.
        """
        self.lambda_service.settle(timeout)

    def mapping_state(self) -> Any:
        """One row per event source mapping and shard: state, checkpoint, last processing result,
        batches, records, invocations, errors, iterator age (local only)."""
        return self.lambda_service.state()

    def _function_deleted(self, arn: str) -> None:
        """A deleted function's execution environments end, as on AWS (a function re-created
        under the same name starts cold, with fresh module state)."""
        service = self._lambda
        runtime = getattr(service, "_runtime", None) if service is not None else None
        if runtime is not None:
            runtime.retire_function(arn)

    def restart_lambda_service(self) -> None:
        """Stop the local Lambda service (its workers too) and start a new one on the same backend
        state: mappings resume from the checkpoints they keep (local only)."""
        old = self.lambda_service
        old.close()
        assert self.endpoint_url is not None
        self._lambda = LocalLambdaService(
            self.account_id, self.endpoint_url, self.region, poll_interval_s=self._poll_interval_s
        )

    def expire_ttl(self, table_name: str | None = None, *, at: float | None = None) -> int:
        """Delete the items whose time-to-live has passed, now, as DynamoDB's TTL process does
        (within 48 hours on AWS): each gives a REMOVE record whose ``userIdentity`` is
        ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`` (local only).

        Parameters
        ----------
        table_name : str, optional
            Only this table (default: every table with TTL enabled).
        at : float, optional
            The time to expire against, in epoch seconds (default: now).

        Returns
        -------
        int
            Items deleted.
        """
        return moto_compat.expire_ttl_items(self.account_id, self.region, table_name, at=at)

    def trigger_journal(self, function_name: str | None = None) -> Any:
        """What the local Lambda service did, step by step, for the trigger timeline (local only).

        Parameters
        ----------
        function_name : str, optional
            Only the mappings of this function (a name, with or without the prefix, or an ARN).

        Returns
        -------
        pandas.DataFrame
            One row per event, oldest first: ``time`` (epoch seconds), ``end``, ``uuid``,
            ``function``, ``shard_id``, ``kind`` (write, poll, invoke, split, discard,
            checkpoint), ``first_sequence``, ``last_sequence``, ``records``, ``ok``, ``attempt``,
            ``detail`` (see :mod:`streamkit.local.esm.journal`).
        """
        arn = None
        if function_name is not None:
            arn = self.name(function_name)
            if not arn.startswith("arn:"):
                arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{arn}"
        return journal.events(arn)

    def discarded_batches(self) -> Any:
        """Batches the local Lambda service gave up on (retries exhausted, records too old), with
        where their failure records went (local only; on AWS read the on-failure destination)."""
        return self.lambda_service.discards()

    def set_poll_interval(self, seconds: float) -> None:
        """Seconds between polls of an idle shard: 0.25 is AWS's rate (4 a second); as low as
        0.001 for fast tests (local only)."""
        self.lambda_service.set_poll_interval(seconds)  # checks it first
        self._poll_interval_s = seconds

    def sent_emails(self) -> Any:
        """The e-mails functions sent through SES, as a DataFrame (local only: on AWS they are
        delivered)."""
        import pandas as pd

        rows = [
            {
                "id": m["id"],
                "source": m["source"],
                "to": ", ".join((m["destinations"] or {}).get("ToAddresses", [])),
                "subject": m["subject"],
                "body": m["body"],
            }
            for m in moto_compat.sent_emails(self.account_id, self.region)
        ]
        return pd.DataFrame(rows, columns=["id", "source", "to", "subject", "body"])

    # -- local-only steps -------------------------------------------------------------------------

    def _set_shards(self, shards_per_stream: int | None, shard_rollover_s: float | None) -> None:
        low, high = LOCAL_SHARDS_PER_STREAM_RANGE
        if shards_per_stream is not None and (
            isinstance(shards_per_stream, bool)
            or not isinstance(shards_per_stream, int)
            or not low <= shards_per_stream <= high
        ):
            raise InvalidParameterError(
                "shards_per_stream", shards_per_stream, f"a whole number in [{low}, {high}]"
            )
        if shard_rollover_s is not None and (
            isinstance(shard_rollover_s, bool)
            or not isinstance(shard_rollover_s, int | float)
            or not shard_rollover_s > 0  # NaN too
        ):
            raise InvalidParameterError(
                "shard_rollover_s", shard_rollover_s, "a number of seconds > 0, or math.inf"
            )
        self._shards.update(shards_per_stream, shard_rollover_s)
        if self.running:  # the store reads them at each enable and at each rollover check
            SHARD_SETTINGS.update(self._shards.per_stream, self._shards.rollover_s)

    def set_shards(
        self, *, shards_per_stream: int | None = None, shard_rollover_s: float | None = None
    ) -> None:
        """Change how streams are sharded (local only; ``None`` keeps a setting).

        Parameters
        ----------
        shards_per_stream : int, optional
            Open shards of each stream enabled from now on.
        shard_rollover_s : float, optional
            Seconds a shard stays open before it rolls over; applies to open streams too (a
            shard already open longer rolls over at its stream's next write or read).
        """
        self._set_shards(shards_per_stream, shard_rollover_s)

    @property
    def shards_per_stream(self) -> int:
        """Open shards each new stream starts with."""
        return self._shards.per_stream

    @property
    def shard_rollover_s(self) -> float:
        """Seconds a shard stays open before it rolls over."""
        return self._shards.rollover_s

    def roll_shards(self, table_name: str) -> str:
        """Roll every open shard of a table's stream over now: each closes and opens one child
        shard, which takes its parent's keys. Returns the newest child's id (all of them:
        ``streams.describe_stream``).

        Local only: on AWS shards roll over by themselves (about every four hours; here every
        ``shard_rollover_s``).
        """
        if not isinstance(table_name, str) or not table_name:
            raise InvalidParameterError("table_name", table_name, "the name of a table")
        with state.LOCK:
            try:
                return store_for(self.account_id, self.region).roll_shards(table_name).shard_id
            except StreamsApiError as exc:  # no such table, or no enabled stream on it
                raise StreamNotFoundError(f"{exc.message} (roll_shards({table_name!r}))") from None

    def __repr__(self) -> str:
        state = self.endpoint_url if self.running else "stopped"
        return f"<LocalAWS region={self.region!r} {state}>"


class _QuietServer:
    """The dispatcher in front of moto's WSGI app, served by werkzeug on loopback, in a daemon
    thread, without request logs (they would land in notebook output)."""

    def __init__(self, authenticator: RequestAuthenticator) -> None:
        from werkzeug.serving import make_server

        base = moto_compat.request_handler_class()

        class QuietHandler(base):  # type: ignore[misc, valid-type]
            def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
                pass

        app = Dispatcher(
            moto_compat.wsgi_app(),
            enabled=not moto_compat.plain_moto(),
            authenticator=authenticator,
        )
        self._wsgi = make_server(_HOST, 0, app, threaded=True, request_handler=QuietHandler)
        self.port: int = self._wsgi.server_address[1]
        # Only the address it bound: a page that rebinds a DNS name to 127.0.0.1 is refused.
        app.hosts = frozenset({f"{_HOST}:{self.port}", f"localhost:{self.port}"})
        self._thread = threading.Thread(
            target=self._wsgi.serve_forever, name=f"streamkit-local-aws-{self.port}", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        self._wsgi.shutdown()
        self._wsgi.server_close()
        self._thread.join(timeout=10)


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``127.0.0.1:port`` (used by tests after ``stop``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((_HOST, port)) != 0
