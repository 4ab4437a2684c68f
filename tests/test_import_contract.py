"""The import contract fails on each kind of forbidden arrow, planted in a tiny fake package."""

from __future__ import annotations

from pathlib import Path

import pytest

from import_contract import arrows, check, module_cycles

FAKE = "mdaread"  # the checker keys packages by the root folder's name


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / FAKE
    for rel, text in {"__init__.py": "", "model/__init__.py": "", "io/__init__.py": "",
                      "storage/__init__.py": "", "ui/__init__.py": "",
                      "workflow/__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_clean_fake_package_passes(tmp_path: Path) -> None:
    root = _plant(tmp_path, {
        "workflow/read.py": "from mdaread.storage import x\nfrom mdaread.model import y\n",
        "ui/view.py": "import PyQt6\nfrom mdaread.workflow import read\n",
        "io/dicom.py": "import pydicom\nimport numpy\nimport json\n",
    })
    assert check(root) == []


@pytest.mark.parametrize(("files", "expected"), [
    ({"model/bad.py": "from mdaread.workflow import read\n"}, "model sits below workflow"),
    ({"io/bad.py": "def f():\n    from mdaread.storage import repo\n"},
     "io and storage must stay independent"),
    ({"storage/bad.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from ..io import scan\n"}, "storage and io must stay independent"),
    ({"workflow/bad.py": "import sqlite3\n"}, "only storage may import it"),
    ({"io/bad.py": "import SimpleITK as sitk\n"}, "only registration may import it"),
    ({"io/bad.py": "import some_new_library\n"}, "has no owner package"),
    ({"newpkg/__init__.py": "from mdaread.model import x\n"}, "'newpkg' has no layer"),
])
def test_each_forbidden_arrow_is_reported(tmp_path: Path, files: dict[str, str],
                                          expected: str) -> None:
    problems = check(_plant(tmp_path, files))
    assert any(expected in p for p in problems), problems


def test_ui_straight_to_storage_is_forbidden(tmp_path: Path) -> None:
    # ui sits above the adapters yet reaches them only through workflow (design.md)
    problems = check(_plant(tmp_path, {"ui/bad.py": "from mdaread.storage import repo\n"}))
    assert any("ui must not import storage" in p for p in problems), problems


def test_a_module_cycle_is_reported(tmp_path: Path) -> None:
    root = _plant(tmp_path, {
        "ui/a.py": "from mdaread.ui import b\n",
        "ui/b.py": "def f():\n    from mdaread.ui.a import x\n",
    })
    assert module_cycles(arrows(root)) == [["mdaread.ui.a", "mdaread.ui.b"]]
    assert any(p.startswith("module cycle: mdaread.ui.a → mdaread.ui.b") for p in check(root))


def test_a_package_reexporting_its_submodules_is_not_a_cycle(tmp_path: Path) -> None:
    root = _plant(tmp_path, {
        "io/__init__.py": "from mdaread.io.scan import scan\n",
        "io/scan.py": "from mdaread.io import load\n",
        "io/load.py": "X = 1\n",
    })
    assert check(root) == []
