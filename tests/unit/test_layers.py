"""The package's layers point one way, and nothing below ``kafka/`` touches I/O libraries.

Layers, lowest first (``DESIGN.md``, "Layout"): a module may import from its own layer and
the layers below, never from above; the pure layers import neither faust, aiokafka nor
sqlite3. Imports inside functions count too (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "streamdrift"

# the top-level name under streamdrift -> its layer
LAYERS: dict[str, int] = {
    "__init__": 0,
    "records": 0,
    "codec": 1,
    "config": 1,
    "stats": 2,
    "detectors": 2,
    "alerts": 3,
    "drift": 4,
    "experiments": 4,
    "report": 4,
    "labels": 5,
    "engine": 6,
    "storage": 7,
    "kafka": 7,
    "metrics": 7,
    "client": 7,
    "service": 8,
    "devtools": 9,
    "cli": 10,
    "__main__": 11,
}
PURE_BELOW = 7  # layers below this one are pure: no broker, no Faust, no files of state
IO_LIBRARIES = {"faust", "mode", "aiokafka", "sqlite3"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" and len(rel.parts) > 1 else rel.parts
        out[".".join(parts)] = path
    return out


def _imports(path: Path) -> set[str]:
    """Every module name imported anywhere in the file (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


MODULES = _modules()


def test_every_top_level_name_has_a_layer() -> None:
    missing = {m.split(".")[0] for m in MODULES} - set(LAYERS)
    assert not missing, f"give these a layer in LAYERS (and DESIGN.md): {sorted(missing)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    upward = sorted(
        name
        for name in _imports(MODULES[module])
        if name.startswith("streamdrift.")
        and (target := name.removeprefix("streamdrift.")) in MODULES
        and _layer(target) > _layer(module)
    )
    assert not upward, f"{module} (layer {_layer(module)}) imports from above: {upward}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) < PURE_BELOW))
def test_pure_layers_do_no_io(module: str) -> None:
    used = sorted(n for n in _imports(MODULES[module]) if n.split(".")[0] in IO_LIBRARIES)
    assert not used, f"{module} is pure but imports {used}; inject it from kafka/ or service/"


def test_no_import_cycles_between_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for name in _imports(path):
            target = name.removeprefix("streamdrift.")
            # a package's __init__ re-exporting its modules makes no cycle
            if (
                name.startswith("streamdrift.")
                and target in MODULES
                and target != module
                and MODULES[target].name != "__init__.py"
            ):
                graph[module].add(target)
    seen: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in seen:
                visit(nxt, [*stack, nxt])
        seen[node] = 2

    for module in sorted(MODULES):
        if module not in seen:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)
