"""What the notebooks' sources say: no price typeset as math, checked cells tagged as such.

That every notebook runs twice in one kernel with the same checked outputs and no error is checked
by the browser test (``tests_browser/``, ``make test-browser``, run by CI after ``make test``): it
runs each notebook with Run All twice in JupyterLab and compares the saved outputs of both runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


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
