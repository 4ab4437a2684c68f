"""The import contract of design.md as an AST graph check (no third-party tool).

Every ``import`` in a package tree counts, including imports inside functions and under
``TYPE_CHECKING``: a lazy import is still an arrow. ``check(root)`` returns the broken rules as
one-line messages; ``tests/test_architecture.py`` runs it on ``src/mdaread`` and on planted
violations.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ADAPTERS = frozenset({"export", "storage", "pacs", "segmentation", "registration", "io"})
"""Packages that wrap one outside world each (files, SimpleITK, the database, …): independent."""

# Top → bottom. A module may import its own package and any package in a LOWER layer; packages
# in one layer (a frozenset of several) are independent of each other.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"__main__"}),
    frozenset({"cli"}),
    frozenset({"commands"}),
    frozenset({"app"}),        # builds the services and starts the GUI: the UI's entry point
    frozenset({"ui"}),
    frozenset({"workflow"}),
    frozenset({"sample"}),     # the synthetic trial writes its DICOM through io
    ADAPTERS,
    frozenset({"criteria"}),
    frozenset({"geometry"}),
    frozenset({"model", "jsonfile"}),
    frozenset({"errors"}),
)

NOT_THROUGH: dict[str, frozenset[str]] = {"ui": ADAPTERS | {"sample"}}
"""Lower packages a package must reach through another layer: the UI observes workflow objects
and never drives an adapter itself."""

SHARED_LIBRARIES = frozenset({"numpy", "scipy"})
"""The numeric base every package may import."""

OWNERS: dict[str, frozenset[str]] = {
    "PyQt6": frozenset({"ui"}),
    "pyqtgraph": frozenset({"ui"}),
    "SimpleITK": frozenset({"registration"}),
    "sqlite3": frozenset({"storage"}),
    "psycopg": frozenset({"storage"}),
    # io reads DICOM; export writes SR/SEG through highdicom, whose API is pydicom's Dataset,
    # Code and UID (generate_uid); pacs: pynetdicom speaks pydicom Datasets
    "pydicom": frozenset({"io", "export", "pacs"}),
    "nibabel": frozenset({"io"}),
    "skimage": frozenset({"segmentation"}),
    "highdicom": frozenset({"export"}),
    "openpyxl": frozenset({"export"}),
    "matplotlib": frozenset({"export"}),
    "dicomweb_client": frozenset({"pacs"}),
    "pynetdicom": frozenset({"pacs"}),
    "requests": frozenset({"pacs"}),  # the HTTP session under dicomweb-client
}
"""Library (top-level import name) → the only packages that may import it. A library that is
in neither this table nor SHARED_LIBRARIES nor the standard library breaks the contract: add
its owner here (and pin it in pyproject.toml)."""

@dataclass(frozen=True)
class Arrow:
    """One import: module ``source`` (dotted, inside the root) imports ``target`` (dotted)."""

    source: str
    target: str
    line: int


def package_of(module: str, root_name: str) -> str:
    """The top-level package (or top module) of a dotted module name under ``root_name``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == root_name else root_name


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file for every ``.py`` under the package directory ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def arrows(root: Path) -> list[Arrow]:
    """Every import in the tree, resolved to the most specific module it names."""
    known = modules(root)
    found = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(node, name, path, known):
                found.append(Arrow(name, target, getattr(node, "lineno", 0)))
    return found


def _targets(node: ast.AST, name: str, path: Path, known: dict[str, Path]) -> Iterable[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = name.split(".")
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[:len(base) - (node.level - 1)]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one
    return [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]


def _layer(package: str) -> int | None:
    for index, members in enumerate(LAYERS):
        if package in members:
            return index
    return None


def check(root: Path) -> list[str]:
    """The broken rules for the package at ``root`` (empty when the contract holds)."""
    root_name = root.name
    graph = arrows(root)
    problems = _layer_problems(graph, root_name) + _library_problems(graph, root_name)
    problems += [f"module cycle: {' → '.join(cycle)}" for cycle in module_cycles(graph)]
    return list(dict.fromkeys(problems))  # one line per import statement


def _layer_problems(graph: list[Arrow], root_name: str) -> list[str]:
    problems = []
    for arrow in graph:
        if arrow.target.split(".")[0] != root_name:
            continue
        source = package_of(arrow.source, root_name)
        target = package_of(arrow.target, root_name)
        if source == target or target == root_name:
            continue
        where = f"{arrow.source} (line {arrow.line}) imports {arrow.target}"
        upper, lower = _layer(source), _layer(target)
        if upper is None or lower is None:
            missing = source if upper is None else target
            problems.append(f"{where}: package {missing!r} has no layer in the contract")
        elif upper == lower:
            problems.append(f"{where}: {source} and {target} must stay independent")
        elif upper > lower:
            problems.append(f"{where}: {source} sits below {target}")
        elif target in NOT_THROUGH.get(source, ()):
            problems.append(f"{where}: {source} must not import {target} (go through workflow)")
    return problems


def _library_problems(graph: list[Arrow], root_name: str) -> list[str]:
    problems = []
    for arrow in graph:
        library = arrow.target.split(".")[0]
        package = package_of(arrow.source, root_name)
        where = f"{arrow.source} (line {arrow.line}) imports {library}"
        if library in OWNERS:  # first: sqlite3 is in the standard library yet has an owner
            if package not in OWNERS[library]:
                owners = ", ".join(sorted(OWNERS[library]))
                problems.append(f"{where}: only {owners} may import it")
        elif library not in (root_name, "__future__", *SHARED_LIBRARIES) \
                and library not in sys.stdlib_module_names:
            problems.append(f"{where}: the library has no owner package in the contract")
    return problems


def module_cycles(graph: list[Arrow]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted.

    A package's ``__init__`` re-exporting a submodule that imports a sibling through the
    package is not a cycle here: ``from pkg import sub`` resolves to ``pkg.sub``.
    """
    names = {a.source for a in graph}
    edges: dict[str, set[str]] = {}
    for a in graph:
        if a.target in names and a.target != a.source:
            edges.setdefault(a.source, set()).add(a.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(names):
        if node not in index:
            visit(node)
    return cycles


def package_graph(root: Path) -> dict[str, set[str]]:
    """Package → the packages it imports (for docs/architecture.md)."""
    root_name = root.name
    found: dict[str, set[str]] = {}
    for arrow in arrows(root):
        if arrow.target.split(".")[0] != root_name:
            continue
        source, target = package_of(arrow.source, root_name), package_of(arrow.target, root_name)
        if source != target and target != root_name:
            found.setdefault(source, set()).add(target)
    return found


if __name__ == "__main__":  # python tests/import_contract.py: the package graph, then the verdict
    src = Path(__file__).resolve().parents[1] / "src" / "mdaread"
    for pkg, targets in sorted(package_graph(src).items()):
        print(f"{pkg} → {', '.join(sorted(targets))}")
    print("\n".join(check(src)) or "contract holds")
