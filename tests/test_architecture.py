"""The house rules of design.md: a Qt-free core, each third-party library in one package, and the
import contract (layers, independent adapters, no module cycles) of tests/import_contract.py."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from import_contract import OWNERS, check

SRC = Path(__file__).resolve().parents[1] / "src" / "mdaread"

# library (top-level import name) → the only packages that may import it: import_contract.OWNERS


def _core_modules() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if "ui" in parts or parts[-1] in {"__main__", "app"}:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_core_imports_without_qt() -> None:
    modules = _core_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PyQt6', 'pyqtgraph', 'PySide')))\n"
        "print(','.join(qt))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False,
        cwd=SRC.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core loaded Qt: {result.stdout}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_lives_in_one_package(library: str) -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        package = path.relative_to(SRC).parts[0]
        if package == "app.py":  # app.py builds the services and starts the GUI: part of the UI
            package = "ui"
        if library in _imports(path) and package not in OWNERS[library]:
            offenders.append(str(path.relative_to(SRC)))
    assert not offenders, f"{library} imported outside {OWNERS[library]}: {offenders}"


def test_import_contract_holds() -> None:
    problems = check(SRC)
    assert not problems, "import contract broken:\n" + "\n".join(problems)
