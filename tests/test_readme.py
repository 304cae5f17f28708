"""The README's Python snippets run as written, in order, from a directory other than the repository.

A reader copies them into a Python session wherever they happen to be; a snippet that needs a name
defined nowhere before it, or a path that only works from the repository's root, fails them there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_the_readme_has_python_snippets():
    assert len(python_snippets()) >= 3


@pytest.mark.slow
def test_the_readme_snippets_run_in_order_from_another_directory(tmp_path):
    program = "\n\n".join(python_snippets())
    env = {**os.environ, "STREAMKIT_BACKEND": "local", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Total: $11.91 per month" in done.stdout  # the pricing snippet's estimate
    assert "INSERT" in done.stdout  # the trigger snippet's event read back from the logs
