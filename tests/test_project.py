"""House rules that keep the kit installable and the notebooks honest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_environment_yml_installs_the_project_through_pip():
    """pyproject.toml is the one dependency list; environment.yml only installs the project."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    deps = env["dependencies"]
    conda_names = sorted(re.split(r"[<>=]", d)[0] for d in deps if isinstance(d, str))
    assert conda_names == ["pip", "python"], (
        "add dependencies to pyproject.toml, not environment.yml"
    )
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert python.removeprefix("python") == project["requires-python"]
    (pip,) = [d["pip"] for d in deps if isinstance(d, dict)]
    extras = set(project["optional-dependencies"])
    assert len(pip) == 1 and pip[0].startswith("-e .[")
    assert set(pip[0][len("-e .[") : -1].split(",")) <= extras


def test_moto_is_pinned_to_the_tested_range():
    from streamkit.local.moto_compat import TESTED_MOTO

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (moto,) = [d for d in deps if d.startswith("moto")]
    low, high = (".".join(map(str, v)) for v in TESTED_MOTO)
    assert moto.endswith(f">={low},<{high.rsplit('.', 1)[0]}"), moto


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_from_a_clean_run(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        assert "sys.path" not in cell.source, "install the package; never patch sys.path"
        assert "import *" not in cell.source
        for output in cell.outputs:
            assert output.output_type != "error", cell.source
            assert output.get("name") != "stderr", f"stderr in output of: {cell.source[:60]}"
    checked = [c for c in code if "nbval-check-output" in c.metadata.get("tags", [])]
    assert len(checked) >= len(code) // 2, "tag every deterministic result cell nbval-check-output"


def test_notebook_numbers_are_unique():
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert len(numbers) == len(set(numbers))


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert path.name in readme, f"{path.name} is missing from the README's notebook table"
