"""streamkit.connect: local by default, AWS only by name and with credentials, any endpoint."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

import streamkit
from streamkit.backends import RemoteBackend, mask_account
from streamkit.errors import (
    BackendError,
    CredentialsMissingError,
    InvalidParameterError,
    LocalOnlyError,
)


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


def _stub_sts(monkeypatch, *responses):
    """Make every STS client of a RemoteBackend answer ``responses`` in turn (via Stubber)."""
    original = RemoteBackend.client
    stubbers = []

    def client(self, service_name):
        made = original(self, service_name)
        if service_name == "sts" and not stubbers:
            stubber = Stubber(made)
            for response in responses:
                if isinstance(response, dict):
                    stubber.add_response("get_caller_identity", response)
                else:
                    stubber.add_client_error("get_caller_identity", *response)
            stubber.activate()
            stubbers.append(stubber)
        return made

    monkeypatch.setattr(RemoteBackend, "client", client)
    return stubbers


CALLER = {
    "UserId": "AIDAEXAMPLE",
    "Account": "111122223333",
    "Arn": "arn:aws:iam::111122223333:user/dev",
}


def test_aws_checks_the_credentials_and_shows_the_account_masked(no_aws_credentials, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-real-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    stubbers = _stub_sts(monkeypatch, CALLER)
    backend = streamkit.connect("aws", region="eu-west-1")
    stubbers[0].assert_no_pending_responses()  # asked STS once, before returning
    assert isinstance(backend, RemoteBackend)
    assert backend.kind == "aws" and backend.endpoint_url is None and backend.region == "eu-west-1"
    assert not backend.is_local and backend.show_progress
    assert backend.account_id == "111122223333"
    line = backend.describe()
    assert "real AWS" in line and "********3333" in line and "111122223333" not in line
    assert "eu-west-1" in line and "streamkit-*" in line and backend.run_id in line
    assert backend.api_calls == {"sts:GetCallerIdentity": 1}


@pytest.mark.parametrize(
    "code", ["ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied"]
)
def test_aws_refuses_credentials_sts_rejects_and_says_how(no_aws_credentials, monkeypatch, code):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-real-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    _stub_sts(monkeypatch, (code, "The security token included in the request is invalid.", 403))
    with pytest.raises(CredentialsMissingError) as err:
        streamkit.connect("aws", region="eu-west-1")
    message = str(err.value)
    assert code in message and "aws configure" in message and 'connect("local")' in message


def test_aws_unreachable_is_a_backend_error(no_aws_credentials, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-real-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")

    def unreachable(self):
        raise EndpointConnectionError(endpoint_url="https://sts.eu-west-1.amazonaws.com/")

    monkeypatch.setattr(RemoteBackend, "account_id", property(unreachable))
    with pytest.raises(BackendError) as err:
        streamkit.connect("aws", region="eu-west-1")
    assert not isinstance(err.value, CredentialsMissingError)
    assert "Cannot reach AWS" in str(err.value) and "eu-west-1" in str(err.value)


def test_real_aws_always_has_a_prefix(no_aws_credentials, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-a-real-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    _stub_sts(monkeypatch, CALLER)  # never real STS, whatever the order of the checks
    with pytest.raises(InvalidParameterError) as err:
        streamkit.connect("aws", region="eu-west-1", prefix="")
    assert "real AWS needs one" in str(err.value)


@pytest.mark.parametrize("bad", ["Streamkit-", "-x", "a" * 21, "kit_", 7])
def test_prefixes_must_suit_every_resource_name(aws, bad):
    with pytest.raises(InvalidParameterError) as err:
        streamkit.connect(aws.endpoint_url, prefix=bad)
    assert "lowercase letters, digits or '-'" in str(err.value)


def test_names_get_the_prefix_once(aws):
    remote = streamkit.connect(aws.endpoint_url, prefix="kit-")
    assert remote.name("Users") == "kit-Users" and remote.name("kit-Users") == "kit-Users"
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Users"
    assert remote.name(arn) == arn
    assert remote.tags == {"streamkit-run": remote.run_id}
    assert remote.tag_list == [{"Key": "streamkit-run", "Value": remote.run_id}]


def test_connecting_again_continues_the_run_and_run_ids_can_be_given(aws):
    """Re-running a notebook's connect cell must not orphan what the run created before."""
    first, again = (streamkit.connect(aws.endpoint_url, prefix="runs-") for _ in range(2))
    assert first is not again and first.run_id == again.run_id
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", first.run_id)
    assert streamkit.connect(aws.endpoint_url, prefix="other-").run_id != first.run_id
    assert streamkit.connect(aws.endpoint_url, run_id=first.run_id).run_id == first.run_id
    with pytest.raises(InvalidParameterError):
        streamkit.connect(aws.endpoint_url, run_id="no spaces")


def test_mask_account():
    assert mask_account("123456789012") == "********9012"


def test_local_only_steps_say_so_elsewhere(aws):
    remote = streamkit.connect(aws.endpoint_url)
    for step in (
        remote.mapping_state,
        remote.discarded_batches,
        remote.sent_emails,
        remote.expire_ttl,
    ):
        with pytest.raises(LocalOnlyError) as err:
            step()
        assert "only on the embedded backend" in str(err.value) and "instead" in str(err.value)


def test_every_api_call_is_counted_once(aws):
    remote = streamkit.connect(aws.endpoint_url)
    remote.client("dynamodb").list_tables()
    remote.client("dynamodbstreams").list_streams()
    remote.client("dynamodb").list_tables()
    assert remote.api_calls == {"dynamodb:ListTables": 2, "dynamodbstreams:ListStreams": 1}


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
