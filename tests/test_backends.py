"""streamkit.connect: local by default, AWS only by name and with credentials, any endpoint."""

from __future__ import annotations

import pytest

import streamkit
from streamkit.backends import RemoteBackend
from streamkit.errors import CredentialsMissingError, InvalidParameterError


def test_default_is_the_embedded_backend(aws):
    assert streamkit.connect() is aws
    assert streamkit.connect("local") is aws


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_aws_without_credentials_refuses_and_says_how(no_aws_credentials):
    with pytest.raises(CredentialsMissingError) as err:
        streamkit.connect("aws", region="us-east-1")
    message = str(err.value)
    assert "aws configure" in message and "AWS_PROFILE" in message and 'connect("local")' in message


def test_aws_with_credentials_makes_no_call(no_aws_credentials, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-real-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    backend = streamkit.connect("aws", region="eu-west-1")
    assert isinstance(backend, RemoteBackend)
    assert backend.kind == "aws" and backend.endpoint_url is None and backend.region == "eu-west-1"
    assert not backend.is_local


def test_aws_without_region(no_aws_credentials, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-real-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(CredentialsMissingError) as err:
        streamkit.connect("aws")
    assert "region" in str(err.value)


def test_endpoint_url_works_against_the_embedded_server(aws):
    """Any http(s) endpoint (here: the embedded server seen as a remote one)."""
    remote = streamkit.connect(aws.endpoint_url, region="us-east-1")
    assert remote.kind == "endpoint" and remote.endpoint_url == aws.endpoint_url
    assert isinstance(remote.client("dynamodb").list_tables()["TableNames"], list)
    remote.settle()


@pytest.mark.parametrize("bad", ["prod", "ftp://x", "http://", 42, ""])
def test_unknown_backend_names_the_valid_ones(bad):
    with pytest.raises(InvalidParameterError) as err:
        streamkit.connect(bad)
    assert "local" in str(err.value) and "aws" in str(err.value)
