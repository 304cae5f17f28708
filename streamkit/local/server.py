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
from ..errors import BackendError, InvalidParameterError
from . import moto_compat, state
from .dispatcher import Dispatcher
from .dynamodbstreams.models import reset_stores
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
    network is needed; the credentials are fake and nothing listens beyond loopback.

    Parameters
    ----------
    region : str
        Region of the clients and sessions it hands out (the server answers every region).

    Examples
    --------
    >>> with LocalAWS() as aws:  # doctest: +SKIP
    ...     aws.client("dynamodb").list_tables()["TableNames"]
    []
    """

    kind = "local"

    def __init__(self, region: str = "us-east-1", *, poll_interval_s: float = 0.25):
        if not isinstance(region, str) or not region:
            raise InvalidParameterError("region", region, "an AWS region name such as 'us-east-1'")
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
            region_name=region,
        )
        super().__init__(region, None, session)
        self.account_id = ACCOUNT_ID
        self._server: Any = None
        self._lambda: LocalLambdaService | None = None  # the local Lambda service, while running
        self._poll_interval_s = LocalLambdaService.check_interval(poll_interval_s)
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
            server = _QuietServer()
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
            # The first request loads moto's URL maps: pay that here, not in the first cell.
            self.client("dynamodb").list_tables(Limit=1)
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

    # -- contract shared with other backends ------------------------------------------------------

    def client(self, service_name: str) -> Any:
        if self._server is None:
            raise BackendError("LocalAWS is not running: call start() or use it in a with block.")
        return super().client(service_name)

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

    def roll_shards(self, table_name: str) -> str:
        """Close the open shard of a table's stream and open a child shard; returns its id.

        Local only: on AWS shards roll over by themselves (about every four hours).
        """
        return moto_compat.roll_shards(self.account_id, self.region, table_name)

    def __repr__(self) -> str:
        state = self.endpoint_url if self.running else "stopped"
        return f"<LocalAWS region={self.region!r} {state}>"


class _QuietServer:
    """The dispatcher in front of moto's WSGI app, served by werkzeug on loopback, in a daemon
    thread, without request logs (they would land in notebook output)."""

    def __init__(self) -> None:
        from werkzeug.serving import make_server

        base = moto_compat.request_handler_class()

        class QuietHandler(base):  # type: ignore[misc, valid-type]
            def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
                pass

        app = Dispatcher(moto_compat.wsgi_app(), enabled=not moto_compat.plain_moto())
        self._wsgi = make_server(_HOST, 0, app, threaded=True, request_handler=QuietHandler)
        self.port: int = self._wsgi.server_address[1]
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
