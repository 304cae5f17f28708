"""The layout of the package: imports point down only, one room per concern, moto in one room.

Every ``import`` statement of every module in ``streamkit/`` counts, function-level ones too
(a lazy import is still a dependency). The layers are those of ``docs/architecture.md``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "streamkit"

#: Layer 0 and the pure model: no AWS calls, importable by everything, including the emulator.
GROUND = {"streamkit.errors", "streamkit.limits"}
MODEL = {
    "streamkit.events",
    "streamkit.sizes",
    "streamkit.filters",
    "streamkit.mapping_settings",
    "streamkit.packaging",
    "streamkit.shards",
    "streamkit.waiting",
    "streamkit.windows",
}
#: The only rooms that may know both the client helpers and the embedded backend.
ENTRY = {"streamkit", "streamkit.connection", "streamkit.__main__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, node: ast.ImportFrom) -> list[str]:
    """The streamkit modules an ``from ... import ...`` statement loads."""
    if node.level:
        base = importer.split(".")
        if not MODULES[importer].name == "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        if node.module:
            base += node.module.split(".")
        target = ".".join(base)
    else:
        target = node.module or ""
    if not target.startswith("streamkit"):
        return []
    found = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        found.append(sub if sub in MODULES else target)
    return found


def _imports(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text(), filename=str(MODULES[name]))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.update(_resolve(name, node))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("streamkit"))
    out.discard(name)
    return {m for m in out if m in MODULES}


GRAPH = {name: _imports(name) for name in MODULES}


def _external(name: str, top: str) -> bool:
    tree = ast.parse(MODULES[name].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == top for a in node.names):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] == top
        ):
            return True
    return False


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_the_package():
    assert {"streamkit.local.server", "streamkit.backends", "streamkit.errors"} <= set(MODULES)
    assert "streamkit.backends" in GRAPH["streamkit.local.server"]


def test_no_import_cycles():
    assert _cycles() == []


def test_ground_and_model_import_only_what_is_below_them():
    for name in sorted(GROUND | MODEL):
        allowed = GROUND if name in GROUND else GROUND | MODEL
        assert GRAPH[name] <= allowed, (name, GRAPH[name] - allowed)


def test_the_emulator_imports_no_user_facing_helper():
    allowed = GROUND | MODEL | {"streamkit.backends"}
    for name in sorted(n for n in MODULES if n.startswith("streamkit.local")):
        outside = {m for m in GRAPH[name] if not m.startswith("streamkit.local")}
        assert outside <= allowed, (name, outside - allowed)


def test_the_helpers_never_import_the_emulator():
    for name in sorted(MODULES):
        if name in ENTRY or name.startswith("streamkit.local"):
            continue
        assert not any(m.startswith("streamkit.local") for m in GRAPH[name]), name


def test_nothing_below_the_entry_imports_it():
    # The teardown command line (``streamkit teardown``) connects to a backend by name: it is an
    # entry point kept beside the teardown it runs, and imports ``connection`` inside ``main``.
    allowed = {"streamkit.teardown": {"streamkit.connection"}}
    for name in sorted(set(MODULES) - ENTRY):
        upward = (GRAPH[name] & ENTRY) - allowed.get(name, set())
        assert not upward, (name, upward)


def test_pricing_imports_only_the_ground_and_itself():
    for name in sorted(n for n in MODULES if n.startswith("streamkit.pricing")):
        outside = {m for m in GRAPH[name] if not m.startswith("streamkit.pricing")}
        assert outside <= GROUND, (name, outside)


def test_moto_is_touched_in_one_module():
    touching = sorted(name for name in MODULES if _external(name, "moto"))
    assert touching == ["streamkit.local.moto_compat"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_1000_lines(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= 1000, f"{MODULES[name].relative_to(ROOT)} has {lines} lines"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_what_it_is_for(name):
    tree = ast.parse(MODULES[name].read_text())
    assert ast.get_docstring(tree), f"{MODULES[name].relative_to(ROOT)} has no module docstring"
