"""Nothing committed holds credentials or a real account id: every ARN names the embedded backend's
account (123456789012) or the placeholder in AWS's own published samples (111122223333), and no
string looks like an AWS access key id."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: moto's account (the embedded backend) and the placeholder account of AWS's documentation samples
#: kept verbatim in streamkit/data/aws-events/.
ALLOWED_ACCOUNTS = {"123456789012", "111122223333"}
ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12})")
ACCOUNT_FIELD = re.compile(
    r"""["']?(?:Account|AccountId|account_id|OwnerId)["']?\s*[:=]\s*["'](\d{12})["']"""
)
ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[A-Z0-9]{16}\b")
SECRET_KEY = re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?(?!testing\b)[A-Za-z0-9/+]{40}")


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.splitlines() if (ROOT / name).is_file()]


def test_no_real_account_ids_or_keys_are_committed():
    problems = []
    files = _tracked_files()
    assert files
    for path in files:
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError:
            continue
        for pattern in (ARN_ACCOUNT, ACCOUNT_FIELD):
            for match in pattern.finditer(text):
                if match.group(1) not in ALLOWED_ACCOUNTS:
                    problems.append(f"{path.relative_to(ROOT)}: account id {match.group(1)}")
        for pattern in (ACCESS_KEY, SECRET_KEY):
            for match in pattern.finditer(text):
                problems.append(
                    f"{path.relative_to(ROOT)}: credential-like {match.group(0)[:8]}..."
                )
    assert problems == []


FOREIGN = "2109876" + "54321"  # built at run time so that this file passes its own scan


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"arn:aws:iam::{FOREIGN}:role/x", True),
        (f'"AccountId": "{FOREIGN}"', True),
        ("AKIA" + "ABCDEFGHIJKLMNOP", True),
        ("arn:aws:iam::123456789012:role/x", False),
        ("arn:aws:dynamodb:us-west-2:111122223333:table/T", False),
    ],
)
def test_the_scan_finds_what_it_should(text, found):
    hits = [m.group(1) for p in (ARN_ACCOUNT, ACCOUNT_FIELD) for m in p.finditer(text)]
    hits = [h for h in hits if h not in ALLOWED_ACCOUNTS] + ACCESS_KEY.findall(text)
    assert bool(hits) == found
