"""What a notebook's saved outputs say about a run: nbval's checked outputs, errors and stderr.

The browser test runs every notebook twice in one kernel (Run All, then Run All again) and saves it
after each run. A second run meets what the first left in the kernel and the embedded backend (a
warm function keeping its globals, e-mails counted from the start of the kernel), which nbval, one
run in a fresh kernel, never sees. So the outputs of the cells nbval checks, sanitized as nbval
sanitizes them (``notebooks/sanitize.cfg``), must be the same after both runs, and no cell may
show an error or write to stderr.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The tag of the cells nbval compares under ``--nbval-lax``.
CHECKED = "nbval-check-output"


def sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The regex / replace pairs of notebooks/sanitize.cfg, in file order (as nbval reads them)."""
    pairs = []
    lines = (ROOT / "notebooks" / "sanitize.cfg").read_text().splitlines()
    for line, following in zip(lines, lines[1:], strict=False):
        if line.startswith("regex: ") and following.startswith("replace: "):
            pairs.append((re.compile(line[len("regex: ") :]), following[len("replace: ") :]))
    return pairs


def checked_outputs(cell: dict[str, Any], sanitize: list[tuple[re.Pattern[str], str]]) -> list[str]:
    """What nbval compares of a cell's outputs: text streams and every non-image mime type."""
    shown = []
    outputs: list = []
    for output in cell.get("outputs", []):  # consecutive stream outputs as one, as nbval does
        if (
            output["output_type"] == "stream"
            and outputs
            and outputs[-1]["output_type"] == "stream"
            and outputs[-1]["name"] == output["name"]
        ):
            outputs[-1] = {
                **outputs[-1],
                "text": _text(outputs[-1]["text"]) + _text(output["text"]),
            }
        else:
            outputs.append(output)
    for output in outputs:
        if output["output_type"] == "stream":
            texts = [f"{output['name']}: {_text(output['text'])}"]
        elif output["output_type"] in ("execute_result", "display_data"):
            texts = [
                f"{mime}: {_text(value)}"
                for mime, value in sorted(output["data"].items())
                if not mime.startswith("image/") and "widget-view" not in mime
            ]
        else:
            texts = [f"error: {output.get('ename')}: {output.get('evalue')}"]
        for text in texts:
            for pattern, replacement in sanitize:
                text = pattern.sub(replacement, text)
            shown.append(text)
    return shown


def problems(cell: dict[str, Any]) -> list[str]:
    """The errors and stderr a cell shows."""
    found = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "error":
            found.append(f"error {output['ename']}: {output['evalue']}")
        elif output["output_type"] == "stream" and output["name"] == "stderr":
            found.append(f"stderr: {_text(output['text'])[:300]}")
    return found


def checked_run(notebook: dict[str, Any]) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """A saved notebook (nbformat 4 JSON): the checked outputs of each checked code cell, by cell
    index, and the problems of every code cell."""
    sanitize = sanitizers()
    checked, found = [], []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        found += [f"cell {index}: {problem}" for problem in problems(cell)]
        if CHECKED in cell.get("metadata", {}).get("tags", []):
            checked.append((index, checked_outputs(cell, sanitize)))
    return checked, found


def _text(value: str | list[str]) -> str:
    """A multiline string of a notebook file: a string, or a list of lines."""
    return value if isinstance(value, str) else "".join(value)
