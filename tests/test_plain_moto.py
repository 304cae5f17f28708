"""Every fidelity rule test fails on plain moto: proof that each one tests something moto gets wrong.

Runs ``tests/test_fidelity.py -m fidelity_rule`` in a subprocess with ``STREAMKIT_PLAIN_MOTO=1``,
which leaves moto unpatched, and reads the JUnit report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_fidelity_rule_fails_on_plain_moto(tmp_path):
    report = tmp_path / "plain-moto.xml"
    env = {**os.environ, "STREAMKIT_PLAIN_MOTO": "1"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(ROOT / "tests" / "test_fidelity.py"),
            "-m",
            "fidelity_rule",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:nbval",  # no notebooks here; nbval's imports (nbformat, jsonschema) take ~2 s
            f"--junitxml={report}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), completed.stdout[-2000:] + completed.stderr[-2000:]
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = {
        case.get("name"): "failed"
        if case.find("failure") is not None or case.find("error") is not None
        else "skipped"
        if case.find("skipped") is not None
        else "passed"
        for case in cases
    }
    assert len(outcomes) >= 20, outcomes
    not_failing = sorted(name for name, outcome in outcomes.items() if outcome != "failed")
    assert not_failing == [], f"these pass on plain moto, so they prove nothing: {not_failing}"
