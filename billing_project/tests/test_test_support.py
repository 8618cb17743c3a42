"""Shared test support lives in conftest.py files, ``*/tests/helpers.py`` and ``billing_project.core.testing``:
a test module never imports another test module (pytest would collect its tests twice over, and a
change to one file's tests would break another's)."""

import ast
from pathlib import Path

from django.conf import settings


def _imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_no_test_module_imports_another():
    root = Path(settings.BASE_DIR)
    found = []
    for path in sorted(root.rglob("test_*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] == ".venv":
            continue
        for module in _imported_modules(ast.parse(path.read_text(), filename=str(relative))):
            if module.rsplit(".", 1)[-1].startswith("test_"):
                found.append(f"{relative}: imports {module}")
    assert not found, "move what is shared into a helpers module or a conftest.py:\n" + "\n".join(found)
