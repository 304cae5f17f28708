"""Every notebook runs twice in one kernel with the same checked outputs, and no error.

A learner runs a notebook again after a change, or twice by habit (Run All, then Run All again).
nbval runs each notebook once in a fresh kernel, so it cannot see what a second run meets: state
left in the kernel or the embedded backend by the first run (a warm function keeping its globals,
e-mails counted from the start of the kernel). Here each notebook is executed twice in one kernel;
the outputs of the cells nbval checks, sanitized as nbval sanitizes them, must be the same both
times, and no cell may show an error or write to stderr.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECKED = "nbval-check-output"


def sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The regex / replace pairs of notebooks/sanitize.cfg, in file order (as nbval reads them)."""
    pairs = []
    lines = (ROOT / "notebooks" / "sanitize.cfg").read_text().splitlines()
    for line, following in zip(lines, lines[1:], strict=False):
        if line.startswith("regex: ") and following.startswith("replace: "):
            pairs.append((re.compile(line[len("regex: ") :]), following[len("replace: ") :]))
    return pairs


def checked_outputs(cell: nbformat.NotebookNode, sanitize: list[tuple[re.Pattern[str], str]]):
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
            outputs[-1] = {**outputs[-1], "text": outputs[-1]["text"] + output["text"]}
        else:
            outputs.append(output)
    for output in outputs:
        if output["output_type"] == "stream":
            texts = [f"{output['name']}: {output['text']}"]
        elif output["output_type"] in ("execute_result", "display_data"):
            texts = [
                f"{mime}: {value if isinstance(value, str) else ''.join(value)}"
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


def problems(cell: nbformat.NotebookNode) -> list[str]:
    found = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "error":
            found.append(f"error {output['ename']}: {output['evalue']}")
        elif output["output_type"] == "stream" and output["name"] == "stderr":
            found.append(f"stderr: {output['text'][:300]}")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_a_notebook_runs_twice_in_one_kernel_with_the_same_checked_outputs(path, monkeypatch):
    monkeypatch.setenv("STREAMKIT_BACKEND", "local")
    sanitize = sanitizers()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    runs = []
    with client.setup_kernel():
        for _ in range(2):
            run = []
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code" or "nbval-skip" in cell.metadata.get("tags", []):
                    continue
                client.execute_cell(cell, index)
                assert not problems(cell), (path.name, index, problems(cell))
                if CHECKED in cell.metadata.get("tags", []):
                    run.append((index, checked_outputs(cell, sanitize)))
            runs.append(run)
    first, second = runs
    assert first, f"{path.name} has no checked cell"
    for (index, before), (_, after) in zip(first, second, strict=True):
        assert before == after, f"{path.name} cell {index} differs on the second run"


def _paragraphs_with_math(text: str) -> list[str]:
    """Paragraphs of markdown where two ``$`` outside code would be typeset as math by JupyterLab."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        prose = re.sub(r"`[^`]*`", "", paragraph)
        if prose.count("$") >= 2:
            found.append(paragraph)
    return found


@pytest.mark.parametrize(
    "path",
    [*NOTEBOOKS, ROOT / "apps" / "calculator.ipynb"],
    ids=[p.name for p in NOTEBOOKS] + ["calculator.ipynb"],
)
def test_no_markdown_would_render_prices_as_math(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            assert _paragraphs_with_math(cell.source) == [], path.name


def test_checked_cells_use_tags_not_comment_markers():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            assert "NBVAL_" not in cell.source, path.name
