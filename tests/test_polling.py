"""streamkit.polling.demo_seconds: how long a notebook's real-time demo runs (the polling consumer
itself is tested with the streams, in tests/test_streams.py)."""

from __future__ import annotations

import math

import pytest

from streamkit import polling
from streamkit.errors import InvalidParameterError


def test_a_demo_runs_its_default_unless_the_environment_shortens_it(monkeypatch):
    monkeypatch.delenv(polling.DEMO_SECONDS_ENV, raising=False)
    assert polling.demo_seconds(5) == 5.0
    monkeypatch.setenv(polling.DEMO_SECONDS_ENV, "1")
    assert polling.demo_seconds(5) == 1.0
    monkeypatch.setenv(polling.DEMO_SECONDS_ENV, "0.5")
    assert polling.demo_seconds(5) == 0.5
    monkeypatch.setenv(polling.DEMO_SECONDS_ENV, "30")  # never longer than the demo asks
    assert polling.demo_seconds(5) == 5.0
    monkeypatch.setenv(polling.DEMO_SECONDS_ENV, " ")
    assert polling.demo_seconds(5) == 5.0


def test_the_test_suite_shortens_the_demos():
    assert polling.demo_seconds(5) == 0.5  # conftest.py sets STREAMKIT_DEMO_SECONDS=0.5


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "five"])
def test_a_bad_setting_says_what_is_wanted(monkeypatch, value):
    monkeypatch.setenv(polling.DEMO_SECONDS_ENV, value)
    with pytest.raises(InvalidParameterError, match="STREAMKIT_DEMO_SECONDS"):
        polling.demo_seconds(5)


@pytest.mark.parametrize("default", [0, -1, math.nan, True, "5"])
def test_a_bad_default_is_refused(default):
    with pytest.raises(InvalidParameterError):
        polling.demo_seconds(default)
