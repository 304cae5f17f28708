"""LocalAWS: start, stop, loopback only, one per process, settle."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from urllib.parse import urlparse

import pytest

from streamkit.errors import BackendError, InvalidParameterError
from streamkit.local import LocalAWS
from streamkit.local.server import port_is_free


def test_running_backend_answers_on_loopback(aws):
    url = urlparse(aws.endpoint_url)
    assert url.hostname == "127.0.0.1" and url.port
    assert aws.client("dynamodb").list_tables()["TableNames"] is not None
    assert aws.session.region_name == aws.region == "us-east-1"
    assert aws.is_local and aws.kind == "local"


def test_start_twice_is_harmless(aws):
    url = aws.endpoint_url
    assert aws.start() is aws and aws.endpoint_url == url


def test_second_instance_says_why_not(aws):
    with pytest.raises(BackendError) as err:
        LocalAWS().start()
    assert "already runs" in str(err.value) and "reset()" in str(err.value)
    assert LocalAWS.shared() is aws
    with pytest.raises(BackendError) as err:
        LocalAWS.shared("eu-west-1")
    assert "us-east-1" in str(err.value)


def test_settle_returns_and_checks_timeout(aws):
    aws.settle()
    with pytest.raises(InvalidParameterError):
        aws.settle(-1)


def test_bad_region():
    with pytest.raises(InvalidParameterError):
        LocalAWS(region="")


def test_lifecycle_in_a_fresh_process():
    """Stop frees the port; the context manager starts and stops; nothing listens elsewhere."""
    script = textwrap.dedent(
        """
        import socket, psutil, os
        from streamkit.local import LocalAWS
        from streamkit.local.server import port_is_free
        with LocalAWS(region="eu-central-1") as aws:
            port = int(aws.endpoint_url.rsplit(":", 1)[1])
            assert not port_is_free(port)
            listening = [c.laddr for c in psutil.Process(os.getpid()).net_connections("inet")
                         if c.status == psutil.CONN_LISTEN]
            assert listening and all(a.ip == "127.0.0.1" for a in listening), listening
            tables = aws.client("dynamodb").list_tables()["TableNames"]
            assert tables == []
        assert port_is_free(port), "port still taken after stop"
        assert aws.endpoint_url is None
        aws.stop()  # stopping twice is harmless
        again = LocalAWS().start()  # a new one may start once the first stopped
        again.stop()
        print("ok")
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"
    assert completed.stderr == ""  # no request logs


def test_client_when_stopped_is_refused():
    with pytest.raises(BackendError) as err:
        LocalAWS().client("dynamodb")
    assert "start()" in str(err.value)


def test_port_probe():
    assert port_is_free(1) in (True, False)
